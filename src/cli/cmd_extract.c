/*
 * cmd_extract.c - `imr extract [--json] [--compact] [-o OUT] [FILE]`: the clinical facts
 * of a text (standard input when no FILE), each with its evidence span and assertion.
 * Without --json, one line per fact: "[start,end) assertion type name=... value=... "text"".
 */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Largest text `imr extract` reads: clinical summaries and records are small. */
#define IMR_MAX_TEXT_BYTES (16u * 1024 * 1024)

static void field(imr_buf *b, const char *key, const char *v)
{
    if (v)
        imr_buf_printf(b, " %s=%s", key, v);
}

static void quoted(imr_buf *b, const char *s)
{
    imr_buf_putc(b, '"');
    for (; s && *s; s++) {
        if (*s == '\n' || *s == '\r' || *s == '\t')
            imr_buf_putc(b, ' ');
        else {
            if (*s == '"' || *s == '\\')
                imr_buf_putc(b, '\\');
            imr_buf_putc(b, *s);
        }
    }
    imr_buf_putc(b, '"');
}

static void facts_text(const imr_facts *f, imr_buf *out)
{
    for (size_t i = 0; i < f->n; i++) {
        const imr_fact *x = &f->v[i];
        imr_buf_printf(out, "[%zu,%zu) %s %s", x->evidence.start, x->evidence.end,
                       imr_assertion_name(x->assertion), x->type);
        field(out, "name", x->name);
        if (x->value != x->evidence.text) /* a value "as written" is the quoted text */
            field(out, "value", x->value);
        field(out, "qualifier", x->qualifier);
        field(out, "date", x->date);
        field(out, "duration", x->duration);
        field(out, "attributed_to", x->attributed_to);
        if (isfinite(x->score2))
            imr_buf_printf(out, " score=%g score2=%g", x->score, x->score2);
        imr_buf_putc(out, ' ');
        quoted(out, x->evidence.text);
        imr_buf_putc(out, '\n');
    }
}

int cmd_extract(int argc, char **argv)
{
    int json = 0, compact = 0, first = 1;
    const char *outpath = NULL;
    for (; first < argc && argv[first][0] == '-' && argv[first][1]; first++) {
        if (!strcmp(argv[first], "--json"))
            json = 1;
        else if (!strcmp(argv[first], "--compact"))
            json = compact = 1;
        else if (!strcmp(argv[first], "-o") && first + 1 < argc)
            outpath = argv[++first];
        else if (!strcmp(argv[first], "--")) {
            first++;
            break;
        } else if (!strcmp(argv[first], "--help")) {
            printf("usage: imr extract [--json] [--compact] [-o OUT] [FILE]\n"
                   "Lists the clinical facts found in a text (standard input when no FILE): age,\n"
                   "sex, date of injury, body parts, diagnoses, medications, pain scores,\n"
                   "improvements, treatments, drug screens and more (docs/facts.md), each with\n"
                   "its byte span and whether it is affirmed, negated, hypothetical, historical or\n"
                   "about someone else. --json prints {\"facts\": [...]}; --compact on one line.\n");
            return IMR_OK;
        } else
            return cli_usage("extract: unknown option '%s' (see imr extract --help)", argv[first]);
    }
    if (argc - first > 1)
        return cli_usage("extract: one FILE at most (see imr extract --help)");
    const char *path = first < argc ? argv[first] : NULL;
    const char *name = path && strcmp(path, "-") ? path : "<stdin>";
    imr_error err = {0};
    imr_buf in = IMR_BUF_INIT, out = IMR_BUF_INIT;
    imr_arena *a = imr_arena_new();
    imr_facts facts = {0};
    int st = imr_read_file(path, IMR_MAX_TEXT_BYTES, &in, &err);
    size_t bad;
    if (!st && !imr_utf8_valid(in.data ? in.data : "", in.len, &bad))
        st = imr_error_set(&err, IMR_EX_DATAERR, name, imr_line_of(in.data, bad),
                           "invalid UTF-8 at byte %zu", bad);
    const imr_lexicon *lx = NULL;
    if (!st && !(lx = imr_default_lexicon(&err)))
        st = err.status ? err.status : IMR_EX_SOFTWARE;
    if (!st)
        st = imr_extract(in.data ? in.data : "", in.len, name, lx, a, &facts, &err);
    if (!st) {
        if (json) {
            st = imr_facts_to_json(&facts, compact ? IMR_JSON_COMPACT : IMR_JSON_PRETTY, &out, &err);
            imr_buf_putc(&out, '\n');
        } else
            facts_text(&facts, &out);
    }
    if (st)
        st = cli_fail(&err);
    else
        st = cli_write(outpath, &out);
    imr_buf_free(&in);
    imr_buf_free(&out);
    imr_arena_free(a);
    return st;
}
