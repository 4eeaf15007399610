/*
 * json_read.c - typed getters over jansson values for our JSON inputs; every failure names
 * the JSON path ("$.disputed_items[0].request") and what was expected.
 */
#include "json_read.h"

#include <string.h>

int jr_fail(jreader *rd, const char *path, const char *fmt, const char *what)
{
    if (!rd->failed) {
        char msg[400];
        snprintf(msg, sizeof msg, fmt, what);
        imr_error_set(rd->err, IMR_EX_DATAERR, rd->where, 0, "%s: %s", path, msg);
        rd->failed = 1;
    }
    return -1;
}

const char *jr_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static void member_path(char *out, size_t n, const char *path, const char *key)
{
    snprintf(out, n, "%s.%s", path, key);
}

const char *jr_str(jreader *rd, const json_t *o, const char *key, const char *path)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        char p[320];
        member_path(p, sizeof p, path, key);
        jr_fail(rd, p, "expected a string, found %s", jr_type_name(v));
        return NULL;
    }
    return imr_arena_strndup(rd->a, json_string_value(v), json_string_length(v));
}

int jr_int(jreader *rd, const json_t *o, const char *key, const char *path, int lo, int hi)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return -1;
    char p[320];
    member_path(p, sizeof p, path, key);
    if (!json_is_integer(v)) {
        jr_fail(rd, p, "expected an integer, found %s", jr_type_name(v));
        return -1;
    }
    json_int_t i = json_integer_value(v);
    if (i < lo || i > hi) {
        char range[64];
        snprintf(range, sizeof range, "%d to %d", lo, hi);
        jr_fail(rd, p, "expected an integer from %s", range);
        return -1;
    }
    return (int)i;
}

void jr_list(jreader *rd, const json_t *o, const char *key, const char *path, imr_strlist *out)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return;
    char p[320];
    member_path(p, sizeof p, path, key);
    if (!json_is_array(v)) {
        jr_fail(rd, p, "expected an array of strings, found %s", jr_type_name(v));
        return;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *s = json_array_get(v, i);
        if (!json_is_string(s)) {
            char pi[340];
            snprintf(pi, sizeof pi, "%s[%zu]", p, i);
            jr_fail(rd, pi, "expected a string, found %s", jr_type_name(s));
            return;
        }
        imr_strlist_push(out, rd->a, json_string_value(s));
    }
}

static const json_t *typed(jreader *rd, const json_t *o, const char *key, const char *path,
                           json_type t, const char *expected)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return NULL;
    if (json_typeof(v) != t) {
        char p[320], fmt[80];
        member_path(p, sizeof p, path, key);
        snprintf(fmt, sizeof fmt, "expected %s, found %%s", expected);
        jr_fail(rd, p, fmt, jr_type_name(v));
        return NULL;
    }
    return v;
}

const json_t *jr_obj(jreader *rd, const json_t *o, const char *key, const char *path)
{
    return typed(rd, o, key, path, JSON_OBJECT, "an object");
}

const json_t *jr_array(jreader *rd, const json_t *o, const char *key, const char *path)
{
    return typed(rd, o, key, path, JSON_ARRAY, "an array");
}

const char *jr_date(jreader *rd, const json_t *o, const char *key, const char *path)
{
    const char *s = jr_str(rd, o, key, path);
    if (s && !imr_date_valid_iso(s)) {
        char p[320];
        member_path(p, sizeof p, path, key);
        jr_fail(rd, p, "expected a calendar date as YYYY-MM-DD, found \"%s\"", s);
        return NULL;
    }
    return s;
}

int jr_enum(jreader *rd, const json_t *o, const char *key, const char *path,
            const char *const *choices)
{
    const char *s = jr_str(rd, o, key, path);
    if (!s)
        return -1;
    for (int i = 0; choices[i]; i++)
        if (strcmp(s, choices[i]) == 0)
            return i;
    char p[320], fmt[300] = "expected one of";
    member_path(p, sizeof p, path, key);
    for (int i = 0; choices[i]; i++) {
        strncat(fmt, i ? ", \"" : " \"", sizeof fmt - strlen(fmt) - 1);
        strncat(fmt, choices[i], sizeof fmt - strlen(fmt) - 1);
        strncat(fmt, "\"", sizeof fmt - strlen(fmt) - 1);
    }
    strncat(fmt, ", found \"%s\"", sizeof fmt - strlen(fmt) - 1);
    jr_fail(rd, p, fmt, s);
    return -1;
}

int jr_bool(jreader *rd, const json_t *o, const char *key, const char *path)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return -1;
    if (!json_is_boolean(v)) {
        char p[320];
        member_path(p, sizeof p, path, key);
        jr_fail(rd, p, "expected true, false or null, found %s", jr_type_name(v));
        return -1;
    }
    return json_is_true(v);
}

json_t *jr_load(const char *json, size_t len, const char *where, imr_error *err)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        imr_error_set(err, IMR_EX_DATAERR, where, je.line > 0 ? je.line : 0, "invalid JSON: %s", je.text);
    return root;
}

void jr_reviewer(jreader *rd, const json_t *o, const char *path, imr_reviewer *rv)
{
    static const char *const STYLES[] = {"sentence", "lines", NULL};
    rv->credentials_text = jr_str(rd, o, "credentials_text", path);
    int style = jr_enum(rd, o, "credentials_style", path, STYLES);
    rv->credentials_style = style == 1 ? IMR_CREDENTIALS_LINES : IMR_CREDENTIALS_SENTENCE;
    jr_list(rd, o, "specialties", path, &rv->specialties);
    jr_list(rd, o, "subspecialties", path, &rv->subspecialties);
    jr_list(rd, o, "licensure", path, &rv->licensure);
    rv->board_certified = jr_bool(rd, o, "board_certified", path);
}
