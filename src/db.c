/*
 * db.c - the storage interface shared by the SQLite and PostgreSQL backends: opening by URL,
 * transactions, the prepared-statement cache and small result helpers. SQL is written once,
 * with $1..$n parameters, which both SQLite and PostgreSQL accept.
 */
#include "db_backend.h"

#include <stdlib.h>
#include <string.h>

int imr_db_open(const char *url, imr_db **out, imr_error *err)
{
    if (!url || !*url)
        return imr_error_set(err, IMR_EX_USAGE, "database", 0, "no database given");
    if (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11))
        return imr_db_open_pg(url, out, err);
    if (!strncmp(url, "sqlite:", 7))
        url += 7;
    return imr_db_open_sqlite(url, out, err);
}

void imr_db_close(imr_db *db)
{
    if (db)
        db->be->close(db);
}

const char *imr_db_backend(const imr_db *db)
{
    return db->be->name;
}

int imr_db_query(imr_db *db, const char *sql, const imr_db_value *params, int n_params,
                 const int *binary, imr_arena *a, imr_db_rows *out, imr_error *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    return db->be->query(db, sql, params, n_params, binary, a, out, err);
}

int imr_db_exec(imr_db *db, const char *sql, const char *const *params, int n_params,
                imr_arena *a, imr_db_rows *out, imr_error *err)
{
    imr_db_value v[32];
    if (n_params > 32)
        return imr_error_set(err, IMR_EX_SOFTWARE, "database", 0, "too many parameters");
    for (int i = 0; i < n_params; i++) {
        v[i].data = params[i];
        v[i].len = params[i] ? strlen(params[i]) : 0;
    }
    return imr_db_query(db, sql, v, n_params, NULL, a, out, err);
}

int imr_db_begin(imr_db *db, imr_error *err)
{
    /* SQLite: take the write lock at once so that concurrent writers wait (busy timeout)
     * instead of failing at their first write. */
    const char *sql = strcmp(db->be->name, "sqlite") == 0 ? "BEGIN IMMEDIATE" : "BEGIN";
    int st = imr_db_query(db, sql, NULL, 0, NULL, NULL, NULL, err);
    if (st == 0)
        db->in_tx = 1;
    return st;
}

int imr_db_commit(imr_db *db, imr_error *err)
{
    int st = imr_db_query(db, "COMMIT", NULL, 0, NULL, NULL, NULL, err);
    db->in_tx = 0;
    return st;
}

void imr_db_rollback(imr_db *db)
{
    if (db->in_tx)
        imr_db_query(db, "ROLLBACK", NULL, 0, NULL, NULL, NULL, NULL);
    db->in_tx = 0;
}

const char *imr_db_text(const imr_db_rows *r, size_t row, size_t col)
{
    if (!r || row >= r->n_rows || col >= r->n_cols)
        return NULL;
    return r->v[row * r->n_cols + col].data;
}

void *stmt_cache_find(stmt_cache *c, const char *sql)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].sql_ptr == sql && strcmp(c->v[i].sql, sql) == 0)
            return c->v[i].stmt;
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].sql, sql) == 0)
            return c->v[i].stmt;
    return NULL;
}

void stmt_cache_add(stmt_cache *c, const char *sql, void *stmt)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 32;
        stmt_cache_entry *v = realloc(c->v, c->cap * sizeof *v);
        if (!v)
            abort();
        c->v = v;
    }
    c->v[c->n].sql_ptr = sql;
    c->v[c->n].sql = strdup(sql);
    c->v[c->n].stmt = stmt;
    c->n++;
}
