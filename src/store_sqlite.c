/*
 * store_sqlite.c - the embedded SQLite backend of the store: WAL journal, foreign keys on,
 * a busy handler with short naps for concurrent writers, prepared statements cached per
 * connection, and
 * WAL checkpoints run by one background thread per database file instead of by whichever
 * request happens to commit past the WAL's size limit.
 */
#include "db_backend.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------------------------------
 * Background checkpoints. A checkpoint copies WAL frames into the database file and waits
 * for two fdatasync calls; run inside a request (SQLite's automatic checkpoint) it adds
 * milliseconds to that request. Here every connection of the process on one file shares a
 * checkpointer: a thread with its own connection, woken by the connections' WAL hook once
 * the WAL holds CKPT_WAKE_PAGES pages, and at least every CKPT_PERIOD_MS. It runs PASSIVE
 * checkpoints (never waiting for anyone); when the WAL still holds CKPT_RESTART_PAGES
 * afterwards (writers kept appending), a RESTART checkpoint, which holds new writers back
 * for a moment, so that the next writer starts the WAL again from its beginning.
 * Durability does not change: a commit is acknowledged once its frames are written to the
 * WAL (synchronous=NORMAL), as before; a checkpoint only copies committed frames, and a
 * crash during one leaves them in the WAL for the next opener.
 * ------------------------------------------------------------------------------------- */
enum {
    CKPT_WAKE_PAGES = 1000,     /* SQLite's own automatic checkpoint threshold */
    CKPT_RESTART_PAGES = 4096,  /* 16 MB of 4 KB pages */
    CKPT_INLINE_PAGES = 65536,  /* safety valve: a stuck checkpointer; the committer helps */
    CKPT_PERIOD_MS = 500,
    CKPT_BUSY_MS = 2000,        /* how long a RESTART checkpoint waits for writers/readers */
};
#define WAL_SIZE_LIMIT "67108864" /* journal_size_limit: a reset WAL is cut back to 64 MB */

typedef struct checkpointer {
    struct checkpointer *next;
    char *path;
    int refs;          /* connections of this process on the file; under registry_lock */
    sqlite3 *conn;     /* used by the thread only */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;          /* under lock */
    struct timespec busy_since; /* the thread's wait for the write lock (on_busy) */
    atomic_int wanted; /* a commit left the WAL past CKPT_WAKE_PAGES */
} checkpointer;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static checkpointer *registry;

static void checkpoint_once(checkpointer *c)
{
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(c->conn, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    if (rc == SQLITE_OK && log >= CKPT_RESTART_PAGES)
        sqlite3_wal_checkpoint_v2(c->conn, NULL, SQLITE_CHECKPOINT_RESTART, &log, &done);
    /* SQLITE_BUSY and other failures: the frames stay in the WAL; try again next time */
}

static void *checkpointer_main(void *arg)
{
    checkpointer *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        if (!atomic_load(&c->wanted)) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += (long)CKPT_PERIOD_MS * 1000000L;
            until.tv_sec += until.tv_nsec / 1000000000L;
            until.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&c->wake, &c->lock, &until);
            if (c->stop)
                break;
        }
        atomic_store(&c->wanted, 0);
        pthread_mutex_unlock(&c->lock);
        checkpoint_once(c);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* SQLite calls this after every commit, outside its locks, with the WAL's size in pages. */
static int on_wal_commit(void *arg, sqlite3 *s, const char *schema, int pages)
{
    checkpointer *c = arg;
    if (pages >= CKPT_INLINE_PAGES) {
        sqlite3_wal_checkpoint_v2(s, schema, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        return SQLITE_OK;
    }
    if (pages >= CKPT_WAKE_PAGES && !atomic_exchange(&c->wanted, 1)) {
        pthread_mutex_lock(&c->lock);
        pthread_cond_signal(&c->wake);
        pthread_mutex_unlock(&c->lock);
    }
    return SQLITE_OK;
}

static int wait_a_little(struct timespec *since, int tries, long limit_ms);

static int checkpointer_busy(void *arg, int tries)
{
    checkpointer *c = arg;
    return wait_a_little(&c->busy_since, tries, CKPT_BUSY_MS);
}

static void checkpointer_free(checkpointer *c)
{
    sqlite3_close(c->conn); /* the last connection on the file: SQLite checkpoints it */
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    free(c->path);
    free(c);
}

static checkpointer *checkpointer_start(const char *path)
{
    checkpointer *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path))) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    atomic_init(&c->wanted, 0);
    c->refs = 1;
    if (sqlite3_open_v2(path, &c->conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
        sqlite3_busy_handler(c->conn, checkpointer_busy, c) != SQLITE_OK ||
        /* a connection learns that the file is in WAL mode when it first reads it; until
         * then its checkpoints do nothing */
        sqlite3_exec(c->conn, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK ||
        pthread_create(&c->thread, NULL, checkpointer_main, c) != 0) {
        checkpointer_free(c);
        return NULL;
    }
    return c;
}

/* The checkpointer of `path`, started by the first connection; NULL when none can run
 * (the connection then keeps SQLite's automatic checkpoints). */
static checkpointer *checkpointer_attach(const char *path)
{
    pthread_mutex_lock(&registry_lock);
    checkpointer *c = registry;
    while (c && strcmp(c->path, path) != 0)
        c = c->next;
    if (c) {
        c->refs++;
    } else if ((c = checkpointer_start(path))) {
        c->next = registry;
        registry = c;
    }
    pthread_mutex_unlock(&registry_lock);
    return c;
}

static void checkpointer_detach(checkpointer *c)
{
    pthread_mutex_lock(&registry_lock);
    int last = --c->refs == 0;
    if (last) {
        checkpointer **p = &registry;
        while (*p != c)
            p = &(*p)->next;
        *p = c->next;
    }
    pthread_mutex_unlock(&registry_lock);
    if (!last)
        return;
    pthread_mutex_lock(&c->lock);
    c->stop = 1;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    checkpointer_free(c);
}

/* Hand the connection's checkpoints to the file's checkpointer, when it is a file in WAL
 * mode (not ":memory:", not a read-only file that stayed in rollback mode). */
static checkpointer *use_background_checkpoints(sqlite3 *s)
{
    const char *path = sqlite3_db_filename(s, "main");
    if (!path || !*path)
        return NULL;
    sqlite3_stmt *st = NULL;
    int wal = 0;
    if (sqlite3_prepare_v2(s, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        wal = mode && strcmp(mode, "wal") == 0;
    }
    sqlite3_finalize(st);
    if (!wal)
        return NULL;
    checkpointer *c = checkpointer_attach(path);
    if (c) {
        sqlite3_wal_hook(s, on_wal_commit, c); /* replaces the automatic checkpoint */
        sqlite3_exec(s, "PRAGMA journal_size_limit=" WAL_SIZE_LIMIT, NULL, NULL, NULL);
    }
    return c;
}

/* ---------------------------------------------------------------------------------------
 * Waiting for the write lock. Two workers of one server take turns at SQLite's single
 * write lock, each holding it for about a millisecond; SQLite's own busy timeout sleeps
 * 1, 2, 5, 10 ms... between tries, so a waiter often sleeps well past the lock's release.
 * This handler naps briefly at first, longer later, and gives up after BUSY_TIMEOUT_MS.
 * ------------------------------------------------------------------------------------- */
enum { BUSY_TIMEOUT_MS = 5000 };

typedef struct sqlite_conn {
    checkpointer *ckpt;         /* NULL: SQLite's automatic checkpoints */
    struct timespec busy_since; /* when the current wait for a lock began */
} sqlite_conn;

static long ms_between(const struct timespec *a, const struct timespec *b)
{
    return (long)(b->tv_sec - a->tv_sec) * 1000L + (b->tv_nsec - a->tv_nsec) / 1000000L;
}

/* Nap before try number `tries` of a lock; 0 once `limit_ms` have passed since the first. */
static int wait_a_little(struct timespec *since, int tries, long limit_ms)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (tries == 0)
        *since = now;
    else if (ms_between(since, &now) >= limit_ms)
        return 0;
    long us = tries < 20 ? 100 : tries < 200 ? 500 : 2000;
    struct timespec nap = {0, us * 1000L};
    nanosleep(&nap, NULL);
    return 1;
}

static int on_busy(void *arg, int tries)
{
    sqlite_conn *sc = arg;
    return wait_a_little(&sc->busy_since, tries, BUSY_TIMEOUT_MS);
}

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
    sqlite_conn *sc = db->aux;
    if (sc->ckpt)
        checkpointer_detach(sc->ckpt);
    free(sc);
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
    sqlite_conn *sc = calloc(1, sizeof *sc);
    if (!sc)
        abort();
    sqlite3_busy_handler(s, on_busy, sc);
    /* WAL: readers never block the writer. synchronous=NORMAL in WAL mode keeps every
     * committed transaction across a process crash (kill -9); only a power cut may lose
     * the last commits, never leave one half-applied. */
    const char *setup = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;";
    char *msg = NULL;
    if (sqlite3_exec(s, setup, NULL, NULL, &msg) != SQLITE_OK) {
        imr_error_set(err, IMR_EX_SOFTWARE, path, 0, "cannot configure the SQLite database: %s", msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(s);
        free(sc);
        return IMR_EX_SOFTWARE;
    }
    imr_db *db = calloc(1, sizeof *db);
    stmt_cache *cache = calloc(1, sizeof *cache);
    if (!db || !cache)
        abort();
    db->be = &SQLITE_BACKEND;
    db->conn = s;
    db->cache = cache;
    sc->ckpt = use_background_checkpoints(s);
    db->aux = sc;
    *out = db;
    return IMR_OK;
}
