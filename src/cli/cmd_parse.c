/*
 * cmd_parse.c - `imr parse [--compact] [FILE...]`: Final Determination Letters (text, or PDF
 * through poppler) into determination records. One file: pretty JSON; several: JSON Lines.
 * Files are handled one at a time in a reused arena, so memory does not grow with the corpus.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int parse_one(const char *path, int compact, imr_arena *a, imr_buf *in, imr_buf *text,
                     imr_buf *out)
{
    imr_error err = {0};
    const char *name = path && strcmp(path, "-") ? path : "<stdin>";
    int st = imr_read_file(path, IMR_MAX_PDF_BYTES, in, &err);
    if (st)
        return cli_fail(&err);
    const char *src = in->data;
    size_t len = in->len;
    if (imr_is_pdf(in->data, in->len)) {
        imr_buf_reset(text);
        if ((st = imr_pdf_text(in->data, in->len, name, text, &err)))
            return cli_fail(&err);
        src = text->data;
        len = text->len;
    } else if (len > IMR_MAX_LETTER_BYTES) {
        imr_error_set(&err, IMR_EX_DATAERR, name, 0,
                      "file is %zu bytes, more than the %u bytes allowed for a letter", len,
                      IMR_MAX_LETTER_BYTES);
        return cli_fail(&err);
    }
    imr_record *r = NULL;
    if ((st = imr_letter_parse(src, len, name, a, &r, &err)))
        return cli_fail(&err);
    if ((st = imr_record_to_json(r, compact ? IMR_JSON_COMPACT : IMR_JSON_PRETTY, out, &err)))
        return cli_fail(&err);
    imr_buf_putc(out, '\n');
    return IMR_OK;
}

int cmd_parse(int argc, char **argv)
{
    int compact = 0, first = 1;
    const char *outpath = NULL;
    for (; first < argc && argv[first][0] == '-' && argv[first][1]; first++) {
        if (!strcmp(argv[first], "--compact"))
            compact = 1;
        else if (!strcmp(argv[first], "-o") && first + 1 < argc)
            outpath = argv[++first];
        else if (!strcmp(argv[first], "--")) {
            first++;
            break;
        } else if (!strcmp(argv[first], "--help")) {
            printf("usage: imr parse [--compact] [-o OUT] [FILE...]\n"
                   "Reads Final Determination Letters (text or PDF; standard input when no FILE)\n"
                   "and prints each as a determination record: pretty JSON for one letter, JSON\n"
                   "Lines for several. A letter that cannot be read is reported with its file and\n"
                   "line; the others are still printed, and the exit status is 65.\n");
            return IMR_OK;
        } else
            return cli_usage("parse: unknown option '%s' (see imr parse --help)", argv[first]);
    }
    int nfiles = argc - first;
    if (nfiles > 1)
        compact = 1;
    imr_arena *a = imr_arena_new();
    imr_buf in = IMR_BUF_INIT, text = IMR_BUF_INIT, out = IMR_BUF_INIT;
    int worst = IMR_OK;
    /* With -o the whole output is written at once (atomically); otherwise records are
     * written in blocks of about 64 KB (each one as soon as it is ready on a terminal). */
    int eager = isatty(STDOUT_FILENO);
    for (int i = 0; i < (nfiles ? nfiles : 1); i++) {
        const char *path = nfiles ? argv[first + i] : NULL;
        size_t before = out.len;
        int st = parse_one(path, compact, a, &in, &text, &out);
        if (st) {
            out.len = before;
            if (out.data)
                out.data[before] = '\0';
            if (worst == IMR_OK || st != IMR_EX_DATAERR)
                worst = st;
        }
        imr_arena_reset(a);
        int last = i + 1 >= (nfiles ? nfiles : 1);
        if (!outpath && out.len && (eager || last || out.len >= 65536)) {
            if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
                fprintf(stderr, "imr: <stdout>: write error\n");
                worst = IMR_EX_IOERR;
                break;
            }
            imr_buf_reset(&out);
        }
    }
    if (outpath && worst == IMR_OK)
        worst = cli_write(outpath, &out);
    imr_buf_free(&in);
    imr_buf_free(&text);
    imr_buf_free(&out);
    imr_arena_free(a);
    return worst;
}
