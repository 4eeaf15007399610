/*
 * store_sqlite.c - the embedded SQLite backend of the store: WAL journal, foreign keys on,
 * a busy timeout for concurrent writers, prepared statements cached per connection.
 */
#include "db_backend.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static int fail(imr_db *db, int rc, imr_error *err, const char *what)
{
    sqlite3 *s = db->conn;
    int ext = sqlite3_extended_errcode(s);
    int status = (rc & 0xff) == SQLITE_CONSTRAINT ? IMR_EX_DATAERR : IMR_EX_SOFTWARE;
    (void)ext;
    return imr_error_set(err, status, "sqlite", 0, "%s: %s", what, sqlite3_errmsg(s));
}

static int bind_all(sqlite3_stmt *st, const imr_db_value *params, int n, const int *binary)
{
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "$%d", i + 1);
        int idx = sqlite3_bind_parameter_index(st, name);
        if (idx <= 0)
            continue;
        int rc;
        if (!params[i].data)
            rc = sqlite3_bind_null(st, idx);
        else if (binary && binary[i])
            rc = sqlite3_bind_blob64(st, idx, params[i].data, params[i].len, SQLITE_STATIC);
        else
            rc = sqlite3_bind_text64(st, idx, params[i].data, params[i].len, SQLITE_STATIC, SQLITE_UTF8);
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

static int sqlite_query(imr_db *db, const char *sql, const imr_db_value *params, int n,
                        const int *binary, imr_arena *a, imr_db_rows *out, imr_error *err)
{
    sqlite3 *s = db->conn;
    stmt_cache *cache = db->cache;
    sqlite3_stmt *st = stmt_cache_find(cache, sql);
    int rc;
    if (!st) {
        rc = sqlite3_prepare_v2(s, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
            return fail(db, rc, err, "prepare");
        stmt_cache_add(cache, sql, st);
    }
    rc = bind_all(st, params, n, binary);
    if (rc != SQLITE_OK) {
        sqlite3_reset(st);
        return fail(db, rc, err, "bind");
    }
    size_t cols = (size_t)sqlite3_column_count(st), cap = 0, rows = 0;
    imr_db_value *v = NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!out || !a)
            continue;
        if ((rows + 1) * cols > cap) {
            size_t ncap = cap ? cap * 2 : cols * 8;
            while (ncap < (rows + 1) * cols)
                ncap *= 2;
            imr_db_value *nv = imr_arena_alloc(a, ncap * sizeof *nv);
            if (v)
                memcpy(nv, v, rows * cols * sizeof *nv);
            v = nv;
            cap = ncap;
        }
        for (size_t c = 0; c < cols; c++) {
            imr_db_value *cell = &v[rows * cols + c];
            int type = sqlite3_column_type(st, (int)c);
            if (type == SQLITE_NULL) {
                cell->data = NULL;
                cell->len = 0;
            } else if (type == SQLITE_BLOB) {
                const void *b = sqlite3_column_blob(st, (int)c);
                cell->len = (size_t)sqlite3_column_bytes(st, (int)c);
                cell->data = imr_arena_strndup(a, b ? b : "", cell->len);
            } else {
                const unsigned char *t = sqlite3_column_text(st, (int)c);
                cell->len = (size_t)sqlite3_column_bytes(st, (int)c);
                cell->data = imr_arena_strndup(a, (const char *)t, cell->len);
            }
        }
        rows++;
    }
    if (rc != SQLITE_DONE) {
        int r = fail(db, rc, err, "step");
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return r;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (out) {
        out->n_rows = rows;
        out->n_cols = cols;
        out->v = v;
    }
    return IMR_OK;
}

static void sqlite_close(imr_db *db)
{
    stmt_cache *cache = db->cache;
    for (size_t i = 0; i < cache->n; i++) {
        sqlite3_finalize(cache->v[i].stmt);
        free(cache->v[i].sql);
    }
    free(cache->v);
    free(cache);
    sqlite3_close(db->conn);
    free(db);
}

static const db_backend_ops SQLITE_BACKEND = {"sqlite", sqlite_query, sqlite_close};

int imr_db_open_sqlite(const char *path, imr_db **out, imr_error *err)
{
    sqlite3 *s = NULL;
    int rc = sqlite3_open_v2(path, &s, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        imr_error_set(err, IMR_EX_NOINPUT, path, 0, "cannot open the SQLite database: %s",
                      s ? sqlite3_errmsg(s) : sqlite3_errstr(rc));
        sqlite3_close(s);
        return IMR_EX_NOINPUT;
    }
    sqlite3_busy_timeout(s, 5000);
    /* WAL: readers never block the writer. synchronous=NORMAL in WAL mode keeps every
     * committed transaction across a process crash (kill -9); only a power cut may lose
     * the last commits, never leave one half-applied. */
    const char *setup = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;";
    char *msg = NULL;
    if (sqlite3_exec(s, setup, NULL, NULL, &msg) != SQLITE_OK) {
        imr_error_set(err, IMR_EX_SOFTWARE, path, 0, "cannot configure the SQLite database: %s", msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(s);
        return IMR_EX_SOFTWARE;
    }
    imr_db *db = calloc(1, sizeof *db);
    stmt_cache *cache = calloc(1, sizeof *cache);
    if (!db || !cache)
        abort();
    db->be = &SQLITE_BACKEND;
    db->conn = s;
    db->cache = cache;
    *out = db;
    return IMR_OK;
}
