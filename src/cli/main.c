/*
 * main.c - the imr command: dispatches to one subcommand per file (cmd_*.c).
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *help;
} COMMANDS[] = {
    {"parse", cmd_parse, "read Final Determination Letters (text or PDF) into records (JSON)"},
    {"render", cmd_render, "write a record (JSON) as a letter: text, HTML or PDF"},
    {"request", cmd_request, "normalize disputed-item requests (\"Norco 10/325mg #120\")"},
    {"extract", cmd_extract, "list the clinical facts found in a text, with evidence offsets"},
    {"review", cmd_review, "draft the determination for a case file"},
    {"serve", cmd_serve, "run the IMR service: REST API, OpenAPI and the web workbench"},
};

static void usage(FILE *fp)
{
    fprintf(fp, "usage: imr COMMAND [OPTIONS] [FILE...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        fprintf(fp, "  %-8s %s\n", COMMANDS[i].name, COMMANDS[i].help);
    fprintf(fp, "\n'imr COMMAND --help' describes a command. Exit codes: 0 ok, 64 usage, "
                "65 bad input data,\n66 missing input, 70 internal error, 74 I/O error.\n");
}

int cli_fail(const imr_error *err)
{
    imr_error_print(err, stderr);
    return err->status ? err->status : IMR_EX_SOFTWARE;
}

int cli_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("imr: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return IMR_EX_USAGE;
}

int cli_write(const char *path, const imr_buf *out)
{
    imr_error err = {0};
    if (imr_write_file_atomic(path, out->data ? out->data : "", out->len, &err) != IMR_OK)
        return cli_fail(&err);
    return IMR_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return IMR_EX_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return IMR_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("imr %s\n", IMR_VERSION);
        return IMR_OK;
    }
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        if (!strcmp(argv[1], COMMANDS[i].name))
            return COMMANDS[i].run(argc - 1, argv + 1);
    fprintf(stderr, "imr: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return IMR_EX_USAGE;
}
