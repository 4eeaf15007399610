/*
 * facts_json.c - clinical facts as JSON: {"facts": [{"type", "name", "value", "qualifier",
 * "date", "duration", "attributed_to", "score", "score2", "assertion", "start", "end",
 * "text"}]}, every key present, null when absent (docs/facts.md).
 */
#include "imr.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }
static json_t *num_or_null(double x) { return isfinite(x) ? json_real(x) : json_null(); }

/* A number without a fraction prints as an integer ("score": 6, not 6.0). */
static json_t *score_json(double x)
{
    if (isfinite(x) && x == floor(x) && fabs(x) < 1e15)
        return json_integer((json_int_t)x);
    return num_or_null(x);
}

static int set(json_t *o, const char *key, json_t *v, size_t i, imr_error *err)
{
    if (!v)
        return imr_error_set(err, IMR_EX_DATAERR, NULL, 0,
                             "facts[%zu].%s is not valid UTF-8 and cannot be written as JSON", i, key);
    json_object_set_new(o, key, v);
    return IMR_OK;
}

static int fact_json(const imr_fact *f, size_t i, json_t *o, imr_error *err)
{
    int st;
    if ((st = set(o, "type", str_or_null(f->type), i, err)) ||
        (st = set(o, "name", str_or_null(f->name), i, err)) ||
        (st = set(o, "value", str_or_null(f->value), i, err)) ||
        (st = set(o, "qualifier", str_or_null(f->qualifier), i, err)) ||
        (st = set(o, "date", str_or_null(f->date), i, err)) ||
        (st = set(o, "duration", str_or_null(f->duration), i, err)) ||
        (st = set(o, "attributed_to", str_or_null(f->attributed_to), i, err)) ||
        (st = set(o, "score", score_json(f->score), i, err)) ||
        (st = set(o, "score2", score_json(f->score2), i, err)) ||
        (st = set(o, "assertion", json_string(imr_assertion_name(f->assertion)), i, err)) ||
        (st = set(o, "start", json_integer((json_int_t)f->evidence.start), i, err)) ||
        (st = set(o, "end", json_integer((json_int_t)f->evidence.end), i, err)) ||
        (st = set(o, "text", str_or_null(f->evidence.text), i, err)))
        return st;
    return IMR_OK;
}

/* The facts are written one object at a time, so memory stays proportional to one fact
 * whatever their number; the layout is jansson's (indent 2, or compact). */
int imr_facts_to_json(const imr_facts *f, int flags, imr_buf *out, imr_error *err)
{
    int pretty = flags == IMR_JSON_PRETTY;
    size_t n = f ? f->n : 0;
    if (n == 0) {
        imr_buf_puts(out, pretty ? "{\n  \"facts\": []\n}" : "{\"facts\":[]}");
        return IMR_OK;
    }
    size_t start = out->len;
    imr_buf_puts(out, pretty ? "{\n  \"facts\": [\n" : "{\"facts\":[");
    size_t dump = JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10) | (pretty ? JSON_INDENT(2) : JSON_COMPACT);
    int st = IMR_OK;
    for (size_t i = 0; i < n && !st; i++) {
        json_t *o = json_object();
        if (!o)
            st = imr_error_set(err, IMR_EX_SOFTWARE, NULL, 0, "out of memory building JSON");
        else
            st = fact_json(&f->v[i], i, o, err);
        char *s = st ? NULL : json_dumps(o, dump);
        json_decref(o);
        if (!st && !s)
            st = imr_error_set(err, IMR_EX_SOFTWARE, NULL, 0, "could not write facts[%zu] as JSON", i);
        if (st)
            break;
        if (i)
            imr_buf_puts(out, pretty ? ",\n" : ",");
        if (pretty) { /* the object sits two levels deep */
            imr_buf_puts(out, "    ");
            for (const char *p = s; *p; p++) {
                imr_buf_putc(out, *p);
                if (*p == '\n')
                    imr_buf_puts(out, "    ");
            }
        } else
            imr_buf_puts(out, s);
        free(s);
    }
    if (st) { /* leave `out` as it was */
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
        return st;
    }
    imr_buf_puts(out, pretty ? "\n  ]\n}" : "]}");
    return IMR_OK;
}
