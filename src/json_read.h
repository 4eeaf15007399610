/*
 * json_read.h - private helpers for reading our JSON inputs (records, case files, reviewer
 * profiles) with jansson: typed getters that record the first error with its JSON path.
 */
#ifndef IMR_JSON_READ_H
#define IMR_JSON_READ_H

#include <jansson.h>

#include "imr.h"

typedef struct jreader {
    imr_arena *a;
    imr_error *err;
    const char *where; /* file name for messages */
    int failed;        /* set by the first failure; later ones are ignored */
} jreader;

/* Record a failure at `path`; `fmt` has at most one %s, filled by `what`. Returns -1. */
int jr_fail(jreader *rd, const char *path, const char *fmt, const char *what);
const char *jr_type_name(const json_t *v);
/* Getters: an absent or null member gives NULL / -1 / nothing; a wrong type fails. */
const char *jr_str(jreader *rd, const json_t *o, const char *key, const char *path);
int jr_int(jreader *rd, const json_t *o, const char *key, const char *path, int lo, int hi);
void jr_list(jreader *rd, const json_t *o, const char *key, const char *path, imr_strlist *out);
const json_t *jr_obj(jreader *rd, const json_t *o, const char *key, const char *path);
const json_t *jr_array(jreader *rd, const json_t *o, const char *key, const char *path);
/* A YYYY-MM-DD calendar date. */
const char *jr_date(jreader *rd, const json_t *o, const char *key, const char *path);
/* One of `choices` (NULL-terminated); returns its index, or -1 when absent or wrong. */
int jr_enum(jreader *rd, const json_t *o, const char *key, const char *path,
            const char *const *choices);
/* Tri-state boolean: 1, 0, or -1 when absent/null. */
int jr_bool(jreader *rd, const json_t *o, const char *key, const char *path);
/* Parse `json`; on a syntax error fill err with the line and return NULL. */
json_t *jr_load(const char *json, size_t len, const char *where, imr_error *err);
/* Read a case file already parsed (imr_case_from_json without the parse; borrows root). */
int jr_case(const json_t *root, const char *where, imr_arena *a, imr_case **out, imr_error *err);
/* Read a reviewer object (the record's "reviewer", also reviewer profiles). */
void jr_reviewer(jreader *rd, const json_t *o, const char *path, imr_reviewer *rv);

#endif
