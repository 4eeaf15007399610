/*
 * support.c - helpers shared by the unit tests (see support.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "support.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char *ts_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    size_t r;
    while ((r = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            cap *= 2;
            s = realloc(s, cap);
        }
    }
    fclose(f);
    s[n] = '\0';
    if (len)
        *len = n;
    return s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t ts_list(const char *dir, const char *suffix, char ***names)
{
    DIR *d = opendir(dir);
    size_t n = 0, cap = 16;
    char **v = malloc(cap * sizeof *v);
    if (d) {
        struct dirent *e;
        size_t sl = strlen(suffix);
        while ((e = readdir(d))) {
            size_t l = strlen(e->d_name);
            if (e->d_name[0] == '.' || l < sl || strcmp(e->d_name + l - sl, suffix) != 0)
                continue;
            if (n == cap)
                v = realloc(v, (cap *= 2) * sizeof *v);
            v[n++] = strdup(e->d_name);
        }
        closedir(d);
    }
    qsort(v, n, sizeof *v, cmp_str);
    *names = v;
    return n;
}

void ts_list_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int ts_dir_exists(const char *dir)
{
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

static int json_cmp(json_t *a, json_t *b, int subset, char *where, size_t wl, const char *path)
{
    if (json_typeof(a) != json_typeof(b) &&
        !(json_is_number(a) && json_is_number(b))) {
        snprintf(where, wl, "%s (type differs)", path);
        return 0;
    }
    if (json_is_object(a)) {
        const char *k;
        json_t *v;
        json_object_foreach(a, k, v) {
            char p[512];
            snprintf(p, sizeof p, "%s.%s", path, k);
            json_t *w = json_object_get(b, k);
            if (!w) {
                snprintf(where, wl, "%s (missing)", p);
                return 0;
            }
            if (!json_cmp(v, w, subset, where, wl, p))
                return 0;
        }
        if (!subset && json_object_size(a) != json_object_size(b)) {
            json_object_foreach(b, k, v) {
                if (!json_object_get(a, k)) {
                    snprintf(where, wl, "%s.%s (unexpected)", path, k);
                    return 0;
                }
            }
        }
        return 1;
    }
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b)) {
            snprintf(where, wl, "%s (length %zu vs %zu)", path, json_array_size(a), json_array_size(b));
            return 0;
        }
        for (size_t i = 0; i < json_array_size(a); i++) {
            char p[512];
            snprintf(p, sizeof p, "%s[%zu]", path, i);
            if (!json_cmp(json_array_get(a, i), json_array_get(b, i), subset, where, wl, p))
                return 0;
        }
        return 1;
    }
    if (json_is_number(a)) {
        double x = json_number_value(a), y = json_number_value(b);
        if (x - y > 1e-9 || y - x > 1e-9) {
            snprintf(where, wl, "%s (%g vs %g)", path, x, y);
            return 0;
        }
        return 1;
    }
    if (!json_equal(a, b)) {
        if (json_is_string(a))
            snprintf(where, wl, "%s (\"%.120s\" vs \"%.120s\")", path, json_string_value(a), json_string_value(b));
        else
            snprintf(where, wl, "%s", path);
        return 0;
    }
    return 1;
}

static int compare(const char *x, const char *y, int subset, char *where, size_t wl)
{
    json_error_t e;
    json_t *a = json_loads(x, 0, &e), *b = json_loads(y, 0, &e);
    int ok = 0;
    if (!a || !b)
        snprintf(where, wl, "invalid JSON: %s", e.text);
    else
        ok = json_cmp(a, b, subset, where, wl, "$");
    json_decref(a);
    json_decref(b);
    return ok;
}

int ts_json_equal(const char *a, const char *b, char *where, size_t wl)
{
    return compare(a, b, 0, where, wl);
}

int ts_json_subset(const char *expected, const char *actual, char *where, size_t wl)
{
    return compare(expected, actual, 1, where, wl);
}

int ts_run(const char *cmd, char **out)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    size_t r;
    while ((r = fread(s + n, 1, cap - n - 1, p)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            cap *= 2;
            s = realloc(s, cap);
        }
    }
    s[n] = '\0';
    int st = pclose(p);
    if (out)
        *out = s;
    else
        free(s);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

imr_db *ts_db_open(int pg, const char *sqlite_path, const char *pg_schema)
{
    imr_db *db = NULL;
    imr_error err = {0};
    if (!pg) {
        unlink(sqlite_path);
        if (imr_db_open(sqlite_path, &db, &err))
            fail_msg("open %s: %s", sqlite_path, err.message);
    } else {
        const char *base = getenv("IMR_TEST_PG_URL");
        if (!base || !*base)
            return NULL;
        if (imr_db_open(base, &db, &err))
            fail_msg("open %s: %s", base, err.message);
        char sql[128];
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", pg_schema);
        imr_db_exec(db, sql, NULL, 0, NULL, NULL, &err);
        snprintf(sql, sizeof sql, "CREATE SCHEMA %s", pg_schema);
        if (imr_db_exec(db, sql, NULL, 0, NULL, NULL, &err))
            fail_msg("%s: %s", sql, err.message);
        imr_db_close(db);
        char url[512];
        snprintf(url, sizeof url, "%s%coptions=-csearch_path%%3D%s", base, strchr(base, '?') ? '&' : '?',
                 pg_schema);
        if (imr_db_open(url, &db, &err))
            fail_msg("open %s: %s", url, err.message);
    }
    if (imr_db_migrate(db, NULL, &err))
        fail_msg("migrate: %s", err.message);
    return db;
}

void ts_db_close(imr_db *db, int pg, const char *pg_schema)
{
    if (pg) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", pg_schema);
        imr_db_exec(db, "SET search_path TO public", NULL, 0, NULL, NULL, NULL);
        imr_db_exec(db, sql, NULL, 0, NULL, NULL, NULL);
    }
    imr_db_close(db);
}
