/*
 * main.c - the imr command: dispatches to one subcommand per file (cmd_*.c). The same file
 * is built twice: into `imr-serve`, the complete command, and with IMR_CLI_LITE into `imr`,
 * which links neither the service nor the PDF stack and execs imr-serve for them (lite.c).
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

#ifdef IMR_CLI_LITE
int cli_exec_full(char **argv); /* lite.c */

/* 1 when `render` or `review` is asked for PDF output (--format pdf, -f pdf, --format=pdf). */
static int wants_pdf_output(int argc, char **argv)
{
    imr_format fmt;
    for (int i = 2; i < argc; i++) {
        const char *v = NULL;
        if ((!strcmp(argv[i], "--format") || !strcmp(argv[i], "-f")) && i + 1 < argc)
            v = argv[++i];
        else if (!strncmp(argv[i], "--format=", 9))
            v = argv[i] + 9;
        else if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--width") ||
                 !strcmp(argv[i], "--reviewer") || !strcmp(argv[i], "--reviewer-id") ||
                 !strcmp(argv[i], "--statement"))
            i++; /* an option's value, not an option */
        if (v && !imr_format_from_name(v, &fmt) && fmt == IMR_FORMAT_PDF)
            return 1;
    }
    return 0;
}
#else
/* `imr-serve pdf-text NAME`: the PDF on standard input, its text on standard output; on
 * failure the error's line and message (two lines) instead, and its status. The helper
 * the light `imr` runs to read a PDF (lite.c). */
static int pdf_text_helper(int argc, char **argv)
{
    const char *name = argc > 2 ? argv[2] : "<stdin>";
    imr_error err = {0};
    imr_buf in = IMR_BUF_INIT, text = IMR_BUF_INIT;
    int st = imr_read_file(NULL, IMR_MAX_PDF_BYTES, &in, &err);
    if (!st)
        st = imr_pdf_text(in.data ? in.data : "", in.len, name, &text, &err);
    if (st)
        printf("%d\n%s", err.line, err.message);
    else if (text.len)
        fwrite(text.data, 1, text.len, stdout);
    imr_buf_free(&in);
    imr_buf_free(&text);
    if (fflush(stdout) != 0 && !st)
        st = IMR_EX_IOERR;
    return st ? (err.status ? err.status : st) : IMR_OK;
}
#endif

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
#ifdef IMR_CLI_LITE
    if (!strcmp(argv[1], "serve") ||
        ((!strcmp(argv[1], "render") || !strcmp(argv[1], "review")) && wants_pdf_output(argc, argv)))
        return cli_exec_full(argv);
#else
    if (!strcmp(argv[1], "pdf-text"))
        return pdf_text_helper(argc, argv);
#endif
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        if (!strcmp(argv[1], COMMANDS[i].name))
            return COMMANDS[i].run(argc - 1, argv + 1);
    fprintf(stderr, "imr: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return IMR_EX_USAGE;
}
