/*
 * support.h - small helpers shared by the unit tests: reading fixture files, listing a
 * folder, comparing JSON, running the imr command.
 */
#ifndef IMR_TEST_SUPPORT_H
#define IMR_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "imr.h"

/* Whole file into a malloc'd NUL-terminated string (NULL when unreadable); *len optional. */
char *ts_read(const char *path, size_t *len);
/* Sorted names in `dir` ending with `suffix` (malloc'd array of malloc'd strings). */
size_t ts_list(const char *dir, const char *suffix, char ***names);
void ts_list_free(char **names, size_t n);
/* 1 when the folder exists. */
int ts_dir_exists(const char *dir);
/* Compare two JSON texts structurally (key order ignored). On a difference, returns 0 and
 * writes the JSON path of the first difference to `where`. */
int ts_json_equal(const char *a, const char *b, char *where, size_t where_len);
/* Every key of `expected` is in `actual` with an equal value (recursively for objects;
 * arrays must match element by element). */
int ts_json_subset(const char *expected, const char *actual, char *where, size_t where_len);
/* Run a shell command; capture stdout into *out (malloc'd), return the exit status. */
int ts_run(const char *cmd, char **out);

/* A migrated database for a test: a fresh SQLite file at `sqlite_path` (pg = 0), or, when
 * IMR_TEST_PG_URL is set (pg = 1), a fresh schema `pg_schema` of that PostgreSQL database
 * (NULL when the variable is not set: the caller skips). ts_db_close drops the schema. */
imr_db *ts_db_open(int pg, const char *sqlite_path, const char *pg_schema);
void ts_db_close(imr_db *db, int pg, const char *pg_schema);

#endif
