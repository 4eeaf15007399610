/*
 * cmd_request.c - `imr request [--json] [TEXT...]`: disputed-item requests ("Norco 10/325mg
 * #120") into normalized treatments. Each TEXT is one request; with no TEXT, every non-blank
 * line of standard input is one. Prints "field: value" lines per request, or with --json the
 * treatment as JSON (pretty for one request, JSON Lines for several).
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void put_field(imr_buf *out, const char *name, const char *value)
{
    if (value)
        imr_buf_printf(out, "  %-11s %s\n", name, value);
}

static void put_number(imr_buf *out, const char *name, int value)
{
    if (value >= 0)
        imr_buf_printf(out, "  %-11s %d\n", name, value);
}

/* The readable form: the request, then the fields that were read, one per line. */
static void put_text(imr_buf *out, const char *request, const imr_treatment *t)
{
    imr_buf_printf(out, "%s\n", request);
    put_field(out, "kind:", imr_treatment_kind_name(t->kind));
    put_field(out, "name:", t->name);
    if (t->generics.n) {
        imr_buf_printf(out, "  %-11s ", "generics:");
        for (size_t i = 0; i < t->generics.n; i++)
            imr_buf_printf(out, "%s%s", i ? ", " : "", t->generics.v[i]);
        imr_buf_putc(out, '\n');
    }
    put_field(out, "class:", t->drug_class);
    put_field(out, "strength:", t->strength);
    put_field(out, "dose form:", t->dose_form);
    put_number(out, "quantity:", t->quantity);
    put_number(out, "refills:", t->refills);
    put_field(out, "frequency:", t->frequency);
    put_number(out, "visits:", t->visits);
    put_field(out, "duration:", t->duration);
    put_field(out, "body part:", t->body_part);
    put_field(out, "laterality:", t->laterality);
    put_field(out, "procedure:", t->procedure);
    put_field(out, "levels:", t->levels);
    if (t->mme_factor > 0)
        imr_buf_printf(out, "  %-11s %g\n", "MME factor:", t->mme_factor);
}

typedef struct request_run {
    const imr_lexicon *lx;
    int json, several;
    size_t done;
    imr_arena *a;
    imr_buf out;
    int worst;
} request_run;

static void note(request_run *r, int status)
{
    if (r->worst == IMR_OK || (status != IMR_EX_DATAERR && r->worst == IMR_EX_DATAERR))
        r->worst = status;
}

/* One request: checked, parsed, printed into r->out. `where`/`line` name it in errors. */
static void run_one(request_run *r, const char *text, size_t len, const char *where, int line)
{
    imr_error err = {0};
    size_t bad = 0;
    if (memchr(text, '\0', len)) {
        imr_error_set(&err, IMR_EX_DATAERR, where, line, "NUL byte in the request");
        note(r, cli_fail(&err));
        return;
    }
    if (!imr_utf8_valid(text, len, &bad)) {
        imr_error_set(&err, IMR_EX_DATAERR, where, line, "invalid UTF-8 at byte %zu of the request",
                      bad);
        note(r, cli_fail(&err));
        return;
    }
    char *request = imr_arena_strndup(r->a, text, len);
    imr_treatment t;
    imr_request_parse(request, r->lx, r->a, &t);
    if (r->json) {
        int st = imr_treatment_to_json(&t, r->several ? IMR_JSON_COMPACT : IMR_JSON_PRETTY,
                                       &r->out, &err);
        if (st) {
            note(r, cli_fail(&err));
            return;
        }
        imr_buf_putc(&r->out, '\n');
    } else {
        if (r->done)
            imr_buf_putc(&r->out, '\n');
        put_text(&r->out, request, &t);
    }
    r->done++;
}

static int flush(request_run *r)
{
    if (r->out.len && (fwrite(r->out.data, 1, r->out.len, stdout) != r->out.len || fflush(stdout))) {
        fprintf(stderr, "imr: <stdout>: write error\n");
        return IMR_EX_IOERR;
    }
    imr_buf_reset(&r->out);
    imr_arena_reset(r->a);
    return IMR_OK;
}

/* Standard input: one request per non-blank line. */
static int run_stdin(request_run *r)
{
    imr_error err = {0};
    imr_buf in = IMR_BUF_INIT;
    int st = imr_read_file(NULL, IMR_MAX_LETTER_BYTES, &in, &err);
    if (st) {
        imr_buf_free(&in);
        return cli_fail(&err);
    }
    const char *p = in.data ? in.data : "", *end = p + in.len;
    size_t lines = 0;
    for (const char *q = p; q < end; q++)
        lines += *q == '\n';
    r->several = lines > 1 || (lines == 1 && end > p && end[-1] != '\n');
    int line = 0;
    while (p < end && st == IMR_OK) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        line++;
        const char *b = p;
        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        const char *f = e;
        while (f > b && (f[-1] == '\r' || f[-1] == ' ' || f[-1] == '\t'))
            f--;
        if (f > b) {
            run_one(r, b, (size_t)(f - b), "<stdin>", line);
            st = flush(r);
        }
        p = nl ? nl + 1 : end;
    }
    imr_buf_free(&in);
    return st;
}

int cmd_request(int argc, char **argv)
{
    request_run r = {0};
    int first = 1;
    for (; first < argc && argv[first][0] == '-' && argv[first][1]; first++) {
        if (!strcmp(argv[first], "--json"))
            r.json = 1;
        else if (!strcmp(argv[first], "--")) {
            first++;
            break;
        } else if (!strcmp(argv[first], "--help")) {
            printf("usage: imr request [--json] [TEXT...]\n"
                   "Reads disputed-item requests (\"Norco 10/325mg #120\", \"Physical therapy 2x6\n"
                   "lumbar spine\") and prints each as a normalized treatment: kind, name, generics,\n"
                   "drug class, strength, quantity, refills, frequency, visits, body part, ...\n"
                   "Each TEXT is one request; with none, each non-blank line of standard input is.\n"
                   "--json prints the treatment as JSON (JSON Lines for several requests).\n"
                   "Drug names and request words come from the rules folder ($IMR_RULES).\n");
            return IMR_OK;
        } else
            return cli_usage("request: unknown option '%s' (see imr request --help)", argv[first]);
    }
    imr_error err = {0};
    r.lx = imr_default_lexicon(&err);
    if (!r.lx)
        return cli_fail(&err);
    r.a = imr_arena_new();
    int st = IMR_OK;
    if (first >= argc)
        st = run_stdin(&r);
    else {
        r.several = argc - first > 1;
        for (int i = first; i < argc && st == IMR_OK; i++) {
            char where[32];
            snprintf(where, sizeof where, "argument %d", i - first + 1);
            run_one(&r, argv[i], strlen(argv[i]), where, 0);
            st = flush(&r);
        }
    }
    imr_buf_free(&r.out);
    imr_arena_free(r.a);
    return st != IMR_OK ? st : r.worst;
}
