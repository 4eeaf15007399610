/*
 * db_backend.h - what a storage backend (SQLite, PostgreSQL) provides to db.c. Private.
 */
#ifndef IMR_DB_BACKEND_H
#define IMR_DB_BACKEND_H

#include "imr.h"

typedef struct db_backend_ops {
    const char *name;
    /* Prepare (or find in the connection's cache) and run `sql`. */
    int (*query)(imr_db *db, const char *sql, const imr_db_value *params, int n,
                 const int *binary, imr_arena *a, imr_db_rows *out, imr_error *err);
    void (*close)(imr_db *db);
} db_backend_ops;

struct imr_db {
    const db_backend_ops *be;
    void *conn;     /* sqlite3 * or PGconn * */
    void *cache;    /* backend's prepared-statement cache */
    void *aux;      /* backend's own per-connection state (SQLite: its checkpointer) */
    int in_tx;
};

int imr_db_open_sqlite(const char *path, imr_db **out, imr_error *err);
int imr_db_open_pg(const char *url, imr_db **out, imr_error *err);

/* A small cache of prepared statements keyed by SQL text (pointer first, then content). */
typedef struct stmt_cache_entry {
    const char *sql_ptr;  /* the caller's pointer: statements are string literals */
    char *sql;            /* a copy, to confirm a pointer match */
    void *stmt;           /* sqlite3_stmt * or a malloc'd PG statement name */
} stmt_cache_entry;

typedef struct stmt_cache {
    stmt_cache_entry *v;
    size_t n, cap;
} stmt_cache;

/* Find `sql` in the cache; NULL when absent. */
void *stmt_cache_find(stmt_cache *c, const char *sql);
void stmt_cache_add(stmt_cache *c, const char *sql, void *stmt);

#endif
