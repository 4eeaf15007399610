/*
 * cmd_review.c - `imr review`: drafts the Final Determination Letter for a case file with
 * the guideline engine (imr_review) and writes it as text, HTML, PDF or the record as JSON.
 * A reviewer profile and an attestation turn the draft into a final determination;
 * --explain shows the engine's trace (stderr, or "explain" inside the JSON).
 */
#include "cli.h"
#include "../json_read.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROFILE_BYTES (1u * 1024 * 1024)

static void usage_text(void)
{
    printf("usage: imr review [--json] [--explain] [--format text|html|pdf] [-o OUT]\n"
           "                  [--reviewer PROFILE.json]\n"
           "                  [--attest --reviewer-id ID --statement TEXT] CASE.json\n"
           "Drafts the determination of every disputed item of a case file (docs/case-file.md)\n"
           "from the guideline knowledge base (rules/guidelines, docs/rules.md) and writes the\n"
           "letter (text by default). The letter stays a DRAFT unless a reviewer profile and an\n"
           "attestation are given.\n"
           "  --json              print the determination record (docs/record.md)\n"
           "  --explain           print the decision trace to stderr (with --json: as \"explain\")\n"
           "  --format F          text, html or pdf\n"
           "  -o OUT              write to OUT (atomically) instead of standard output\n"
           "  --reviewer FILE     reviewer profile: the record's \"reviewer\" object plus\n"
           "                      \"reviewer_id\" (docs/engine.md)\n"
           "  --attest            the reviewer attests the determination (needs --reviewer,\n"
           "                      --reviewer-id and --statement)\n");
}

/* Read a reviewer profile: {"credentials_text": ..., "credentials_style": ..., "specialties":
 * [...], "subspecialties": [...], "licensure": [...], "board_certified": ..., "reviewer_id": ...} */
static int read_profile(const char *path, imr_arena *a, imr_reviewer_profile *p, imr_error *err)
{
    imr_buf buf = IMR_BUF_INIT;
    int st = imr_read_file(path, MAX_PROFILE_BYTES, &buf, err);
    if (st)
        return st;
    json_t *root = jr_load(buf.data ? buf.data : "", buf.len, path, err);
    imr_buf_free(&buf);
    if (!root)
        return IMR_EX_DATAERR;
    st = IMR_OK;
    if (!json_is_object(root)) {
        st = imr_error_set(err, IMR_EX_DATAERR, path, 0, "$: expected an object, found %s",
                           jr_type_name(root));
    } else {
        jreader rd = {.a = a, .err = err, .where = path};
        memset(p, 0, sizeof *p);
        jr_reviewer(&rd, root, "$", &p->reviewer);
        p->reviewer_id = jr_str(&rd, root, "reviewer_id", "$");
        if (!rd.failed && !p->reviewer.credentials_text)
            jr_fail(&rd, "$.credentials_text", "%s", "required: the credentials the letter states");
        if (!rd.failed && !p->reviewer_id)
            jr_fail(&rd, "$.reviewer_id", "%s", "required: the reviewer's internal id");
        if (rd.failed)
            st = err->status ? err->status : IMR_EX_DATAERR;
    }
    json_decref(root);
    return st;
}

/* The record as JSON with the trace inside as "explain": one string per line. */
static int json_with_explain(const imr_record *r, const imr_buf *trace, imr_buf *out, imr_error *err)
{
    imr_buf rec = IMR_BUF_INIT;
    int st = imr_record_to_json(r, IMR_JSON_PRETTY, &rec, err);
    if (st) {
        imr_buf_free(&rec);
        return st;
    }
    json_error_t je;
    json_t *root = json_loadb(rec.data, rec.len, 0, &je);
    imr_buf_free(&rec);
    if (!root)
        return imr_error_set(err, IMR_EX_SOFTWARE, NULL, 0, "record JSON did not read back: %s", je.text);
    json_t *lines = json_array();
    const char *s = trace->data ? trace->data : "";
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        json_array_append_new(lines, json_stringn(s, n));
        s += n + (nl ? 1 : 0);
    }
    json_object_set_new(root, "explain", lines);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        return imr_error_set(err, IMR_EX_SOFTWARE, NULL, 0, "could not write JSON");
    imr_buf_puts(out, text);
    imr_buf_putc(out, '\n');
    free(text);
    return IMR_OK;
}

static void now_iso(char out[32])
{
    time_t t = time(NULL);
    struct tm tmv;
    gmtime_r(&t, &tmv);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tmv);
}

int cmd_review(int argc, char **argv)
{
    int as_json = 0, explain = 0, attest = 0;
    imr_format fmt = IMR_FORMAT_TEXT;
    const char *outpath = NULL, *casepath = NULL, *profile_path = NULL;
    const char *reviewer_id = NULL, *statement = NULL;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--json"))
            as_json = 1;
        else if (!strcmp(o, "--explain"))
            explain = 1;
        else if (!strcmp(o, "--attest"))
            attest = 1;
        else if (!strcmp(o, "--format") || !strcmp(o, "-f") || !strncmp(o, "--format=", 9)) {
            const char *v = o[8] == '=' ? o + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || imr_format_from_name(v, &fmt) || fmt == IMR_FORMAT_JSON)
                return cli_usage("review: --format takes text, html or pdf");
        } else if (!strcmp(o, "-o") || !strcmp(o, "--reviewer") || !strcmp(o, "--reviewer-id") ||
                   !strcmp(o, "--statement")) {
            if (i + 1 >= argc)
                return cli_usage("review: %s needs a value", o);
            const char *v = argv[++i];
            if (!strcmp(o, "-o"))
                outpath = v;
            else if (!strcmp(o, "--reviewer"))
                profile_path = v;
            else if (!strcmp(o, "--reviewer-id"))
                reviewer_id = v;
            else
                statement = v;
        } else if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            usage_text();
            return IMR_OK;
        } else if (o[0] == '-' && o[1])
            return cli_usage("review: unknown option '%s' (see imr review --help)", o);
        else if (casepath)
            return cli_usage("review: one case file at a time");
        else
            casepath = o;
    }
    if (!casepath)
        return cli_usage("review: which case file? (imr review CASE.json; '-' reads standard input)");
    if (as_json && fmt != IMR_FORMAT_TEXT)
        return cli_usage("review: --json and --format exclude each other");
    if (attest && (!profile_path || !reviewer_id || !statement))
        return cli_usage("review: --attest needs --reviewer PROFILE.json, --reviewer-id ID and "
                         "--statement TEXT");
    if (!attest && (reviewer_id || statement))
        return cli_usage("review: --reviewer-id and --statement go with --attest");
    if (fmt == IMR_FORMAT_PDF && !outpath && isatty(STDOUT_FILENO))
        return cli_usage("review: PDF output goes to a file (-o OUT.pdf) or a pipe, not a terminal");

    imr_error err = {0};
    imr_arena *a = imr_arena_new();
    imr_buf in = IMR_BUF_INIT, out = IMR_BUF_INIT, trace = IMR_BUF_INIT;
    imr_kb *kb = NULL;
    const char *name = strcmp(casepath, "-") ? casepath : "<stdin>";
    imr_case *c = NULL;
    imr_record *r = NULL;
    imr_reviewer_profile profile;
    imr_attestation at = {0};
    char signed_at[32];
    int st = imr_read_file(casepath, IMR_MAX_JSON_BYTES, &in, &err);
    if (!st)
        st = imr_case_from_json(in.data ? in.data : "", in.len, name, a, &c, &err);
    if (!st && profile_path)
        st = read_profile(profile_path, a, &profile, &err);
    if (!st)
        st = imr_kb_load(NULL, &kb, &err);
    const imr_lexicon *lx = NULL;
    if (!st && !(lx = imr_default_lexicon(&err)))
        st = err.status ? err.status : IMR_EX_SOFTWARE;
    if (!st) {
        imr_review_options opt = {0};
        opt.reviewer = profile_path ? &profile : NULL;
        if (attest) {
            now_iso(signed_at);
            at.reviewer_id = reviewer_id;
            at.statement = statement;
            at.signed_at = signed_at;
            opt.attestation = &at;
        }
        opt.explain = explain ? &trace : NULL;
        st = imr_review(c, kb, lx, &opt, a, &r, &err);
    }
    if (!st) {
        if (as_json && explain)
            st = json_with_explain(r, &trace, &out, &err);
        else if (as_json)
            st = imr_record_to_json(r, IMR_JSON_PRETTY, &out, &err);
        else
            st = imr_render(r, fmt, &out, &err);
        if (!st && as_json && (!out.len || out.data[out.len - 1] != '\n'))
            imr_buf_putc(&out, '\n');
    }
    if (!st && explain && !as_json)
        fputs(trace.data ? trace.data : "", stderr);
    if (!st)
        st = cli_write(outpath, &out);
    else
        cli_fail(&err);
    imr_kb_free(kb);
    imr_arena_free(a);
    imr_buf_free(&in);
    imr_buf_free(&out);
    imr_buf_free(&trace);
    return st;
}
