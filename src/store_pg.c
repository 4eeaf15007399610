/*
 * store_pg.c - the PostgreSQL backend of the store, through libpq, for several servers
 * sharing one database. Statements are prepared once per connection (PQprepare) and run
 * with PQexecPrepared; BYTEA results are decoded to bytes.
 */
#include "db_backend.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#define BYTEA_OID 17

static int pg_fail(imr_db *db, PGresult *res, imr_error *err, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    /* class 23: integrity constraint violation; 22: data exception */
    int status = state && (!strncmp(state, "23", 2) || !strncmp(state, "22", 2)) ? IMR_EX_DATAERR
                                                                                : IMR_EX_SOFTWARE;
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn);
    char clean[400];
    snprintf(clean, sizeof clean, "%s", msg ? msg : "?");
    size_t l = strlen(clean);
    while (l && (clean[l - 1] == '\n' || clean[l - 1] == ' '))
        clean[--l] = '\0';
    imr_error_set(err, status, "postgresql", 0, "%s: %s", what, clean);
    if (res)
        PQclear(res);
    return status;
}

static int pg_query(imr_db *db, const char *sql, const imr_db_value *params, int n,
                    const int *binary, imr_arena *a, imr_db_rows *out, imr_error *err)
{
    PGconn *c = db->conn;
    stmt_cache *cache = db->cache;
    const char *name = stmt_cache_find(cache, sql);
    if (!name) {
        char *nm = malloc(24);
        if (!nm)
            abort();
        snprintf(nm, 24, "imr_s%zu", cache->n);
        PGresult *res = PQprepare(c, nm, sql, 0, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            free(nm);
            return pg_fail(db, res, err, "prepare");
        }
        PQclear(res);
        stmt_cache_add(cache, sql, nm);
        name = nm;
    }
    const char *vals[64];
    int lens[64], fmts[64];
    if (n > 64)
        return imr_error_set(err, IMR_EX_SOFTWARE, "postgresql", 0, "too many parameters");
    for (int i = 0; i < n; i++) {
        vals[i] = params[i].data;
        lens[i] = (int)params[i].len;
        fmts[i] = binary && binary[i] ? 1 : 0;
    }
    PGresult *res = PQexecPrepared(c, name, n, vals, lens, fmts, 0);
    ExecStatusType rs = PQresultStatus(res);
    if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK)
        return pg_fail(db, res, err, "query");
    if (out && a && rs == PGRES_TUPLES_OK) {
        size_t rows = (size_t)PQntuples(res), cols = (size_t)PQnfields(res);
        imr_db_value *v = imr_arena_alloc(a, (rows * cols + 1) * sizeof *v);
        for (size_t r = 0; r < rows; r++)
            for (size_t k = 0; k < cols; k++) {
                imr_db_value *cell = &v[r * cols + k];
                if (PQgetisnull(res, (int)r, (int)k))
                    continue;
                const char *t = PQgetvalue(res, (int)r, (int)k);
                if (PQftype(res, (int)k) == BYTEA_OID) {
                    size_t bl = 0;
                    unsigned char *b = PQunescapeBytea((const unsigned char *)t, &bl);
                    cell->data = imr_arena_strndup(a, b ? (const char *)b : "", b ? bl : 0);
                    cell->len = b ? bl : 0;
                    PQfreemem(b);
                } else {
                    cell->len = (size_t)PQgetlength(res, (int)r, (int)k);
                    cell->data = imr_arena_strndup(a, t, cell->len);
                }
            }
        out->n_rows = rows;
        out->n_cols = cols;
        out->v = v;
    }
    PQclear(res);
    return IMR_OK;
}

static void pg_close(imr_db *db)
{
    stmt_cache *cache = db->cache;
    for (size_t i = 0; i < cache->n; i++) {
        free(cache->v[i].stmt);
        free(cache->v[i].sql);
    }
    free(cache->v);
    free(cache);
    PQfinish(db->conn);
    free(db);
}

static const db_backend_ops PG_BACKEND = {"postgresql", pg_query, pg_close};

static void quiet_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* NOTICEs such as "relation already exists, skipping" are not errors */
}

int imr_db_open_pg(const char *url, imr_db **out, imr_error *err)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(c));
        size_t l = strlen(msg);
        while (l && msg[l - 1] == '\n')
            msg[--l] = '\0';
        PQfinish(c);
        return imr_error_set(err, IMR_EX_NOINPUT, "postgresql", 0, "cannot connect: %s", msg);
    }
    PQsetNoticeProcessor(c, quiet_notices, NULL);
    imr_db *db = calloc(1, sizeof *db);
    stmt_cache *cache = calloc(1, sizeof *cache);
    if (!db || !cache)
        abort();
    db->be = &PG_BACKEND;
    db->conn = c;
    db->cache = cache;
    *out = db;
    return IMR_OK;
}
