/*
 * cmd_render.c - `imr render [--format text|html|pdf] [-o OUT] [RECORD.json]`: the inverse
 * of parse. Reads one record (pretty JSON) or several (JSON Lines, as `imr parse` prints
 * for several letters); several records are only allowed for text, separated by form feeds.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int isatty_stdout(void)
{
    return isatty(STDOUT_FILENO);
}

/* Split `s` into top-level JSON values: returns the end offset of the value starting at or
 * after `*pos`, or 0 at the end. Strings and escapes are honoured. */
static size_t next_value(const char *s, size_t len, size_t *pos, int *line)
{
    size_t i = *pos;
    while (i < len && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) {
        if (s[i] == '\n')
            (*line)++;
        i++;
    }
    *pos = i;
    if (i >= len)
        return 0;
    int depth = 0, in_str = 0;
    for (; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"')
            in_str = 1;
        else if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']') {
            if (--depth <= 0)
                return i + 1;
        } else if (depth == 0 && c == '\n')
            return i;
    }
    return len;
}

int cmd_render(int argc, char **argv)
{
    imr_format fmt = IMR_FORMAT_TEXT;
    const char *outpath = NULL, *inpath = NULL;
    int width = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--format") || !strcmp(argv[i], "-f")) {
            if (i + 1 >= argc || imr_format_from_name(argv[i + 1], &fmt) || fmt == IMR_FORMAT_JSON)
                return cli_usage("render: --format takes text, html or pdf");
            i++;
        } else if (!strncmp(argv[i], "--format=", 9)) {
            if (imr_format_from_name(argv[i] + 9, &fmt) || fmt == IMR_FORMAT_JSON)
                return cli_usage("render: --format takes text, html or pdf");
        } else if (!strcmp(argv[i], "-o")) {
            if (i + 1 >= argc)
                return cli_usage("render: -o needs a file name");
            outpath = argv[++i];
        } else if (!strcmp(argv[i], "--width")) {
            if (i + 1 >= argc || sscanf(argv[i + 1], "%d", &width) != 1 || width < 40 || width > 400)
                return cli_usage("render: --width takes a number of columns from 40 to 400");
            i++;
        } else if (!strcmp(argv[i], "--help")) {
            printf("usage: imr render [--format text|html|pdf] [--width N] [-o OUT] [RECORD.json]\n"
                   "Writes a determination record (standard input when no file) as a letter.\n"
                   "Several records (JSON Lines) are accepted for text output. With -o the file is\n"
                   "written atomically: on any error no output file is left behind.\n");
            return IMR_OK;
        } else if (argv[i][0] == '-' && argv[i][1])
            return cli_usage("render: unknown option '%s' (see imr render --help)", argv[i]);
        else if (inpath)
            return cli_usage("render: one input file at a time");
        else
            inpath = argv[i];
    }
    if (fmt == IMR_FORMAT_PDF && !outpath && isatty_stdout())
        return cli_usage("render: PDF output goes to a file (-o OUT.pdf) or a pipe, not a terminal");
    imr_error err = {0};
    imr_buf in = IMR_BUF_INIT, out = IMR_BUF_INIT;
    const char *name = inpath && strcmp(inpath, "-") ? inpath : "<stdin>";
    int st = imr_read_file(inpath, IMR_MAX_JSON_BYTES, &in, &err);
    imr_arena *a = imr_arena_new();
    size_t pos = 0, end;
    int line = 1, count = 0;
    while (st == IMR_OK && (end = next_value(in.data, in.len, &pos, &line)) != 0) {
        imr_record *r = NULL;
        char where[300];
        snprintf(where, sizeof where, "%s", name);
        st = imr_record_from_json(in.data + pos, end - pos, where, a, &r, &err);
        if (st) {
            if (err.line > 0)
                err.line += line - 1;
            else
                err.line = line;
            break;
        }
        if (count > 0 && fmt != IMR_FORMAT_TEXT) {
            st = imr_error_set(&err, IMR_EX_USAGE, name, line,
                               "several records: HTML and PDF take one record at a time");
            break;
        }
        if (count > 0)
            imr_buf_puts(&out, "\f\n");
        st = fmt == IMR_FORMAT_TEXT ? imr_render_text(r, width, &out, &err) : imr_render(r, fmt, &out, &err);
        for (size_t k = pos; k < end; k++)
            if (in.data[k] == '\n')
                line++;
        pos = end;
        count++;
        imr_arena_reset(a);
    }
    if (st == IMR_OK && count == 0)
        st = imr_error_set(&err, IMR_EX_DATAERR, name, 0, "no record found: expected a JSON object");
    if (st == IMR_OK)
        st = cli_write(outpath, &out);
    else
        cli_fail(&err);
    imr_arena_free(a);
    imr_buf_free(&in);
    imr_buf_free(&out);
    return st;
}
