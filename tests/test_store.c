/*
 * test_store.c - the storage layer on both backends: migrations, prepared statements with
 * text and binary parameters, transactions, constraint errors, and the invariants the
 * database enforces (issued letters immutable, audit log append-only). PostgreSQL runs when
 * IMR_TEST_PG_URL is set (scripts/with-postgres.sh sets it); otherwise it is skipped.
 */
#include "support.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char sqlite_path[128];

static imr_db *open_backend(int pg)
{
    const char *url = pg ? getenv("IMR_TEST_PG_URL") : sqlite_path;
    if (!url || !*url)
        return NULL;
    imr_db *db = NULL;
    imr_error err = {0};
    if (imr_db_open(url, &db, &err) != 0)
        fail_msg("open %s: %s", url, err.message);
    int v = 0;
    if (imr_db_migrate(db, &v, &err) != 0)
        fail_msg("migrate: %s", err.message);
    assert_true(v >= 1);
    /* a clean slate for this test run */
    const char *wipe[] = {"DELETE FROM assignments", "DELETE FROM documents",
                          "DELETE FROM determinations WHERE status = 'draft'"};
    for (size_t i = 0; i < sizeof wipe / sizeof wipe[0]; i++)
        imr_db_exec(db, wipe[i], NULL, 0, NULL, NULL, &err);
    return db;
}

static void exercise(imr_db *db)
{
    imr_arena *a = imr_arena_new();
    imr_error err = {0};
    int v2 = 0;
    assert_int_equal(imr_db_migrate(db, &v2, &err), 0); /* idempotent */

    char id[64];
    snprintf(id, sizeof id, "CM15-T%ld", (long)getpid());
    const char *p[] = {id, "received", "standard", "{\"x\": \"caf\xc3\xa9\"}", "2015-08-01T00:00:00Z"};
    assert_int_equal(imr_db_exec(db,
                                 "INSERT INTO cases (id, status, priority, case_json, created_at, updated_at)"
                                 " VALUES ($1, $2, $3, $4, $5, $5)",
                                 p, 5, a, NULL, &err),
                     0);
    /* duplicate key: a data error, not a crash */
    assert_int_equal(imr_db_exec(db,
                                 "INSERT INTO cases (id, status, priority, case_json, created_at, updated_at)"
                                 " VALUES ($1, $2, $3, $4, $5, $5)",
                                 p, 5, a, NULL, &err),
                     IMR_EX_DATAERR);
    /* bad CHECK value */
    const char *bad[] = {"CM-X", "received", "urgent", "{}", "2015"};
    assert_int_equal(imr_db_exec(db,
                                 "INSERT INTO cases (id, status, priority, case_json, created_at, updated_at)"
                                 " VALUES ($1, $2, $3, $4, $5, $5)",
                                 bad, 5, a, NULL, &err),
                     IMR_EX_DATAERR);

    imr_db_rows rows;
    const char *q[] = {id};
    assert_int_equal(imr_db_exec(db, "SELECT case_json, reviewer_id FROM cases WHERE id = $1", q, 1, a, &rows, &err), 0);
    assert_int_equal(rows.n_rows, 1);
    assert_string_equal(imr_db_text(&rows, 0, 0), "{\"x\": \"caf\xc3\xa9\"}");
    assert_null(imr_db_text(&rows, 0, 1));

    /* a rolled-back transaction leaves nothing */
    assert_int_equal(imr_db_begin(db, &err), 0);
    const char *doc[] = {"D-rollback", id, "record", "2015-08-02"};
    assert_int_equal(imr_db_exec(db, "INSERT INTO documents (id, case_id, kind, created_at) VALUES ($1, $2, $3, $4)",
                                 doc, 4, a, NULL, &err), 0);
    imr_db_rollback(db);
    const char *dq[] = {"D-rollback"};
    assert_int_equal(imr_db_exec(db, "SELECT id FROM documents WHERE id = $1", dq, 1, a, &rows, &err), 0);
    assert_int_equal(rows.n_rows, 0);

    /* binary round trip (PDF bytes with NULs) and the immutability of issued letters */
    static const char pdf[] = "%PDF-1.5\0\x01\xff binary";
    imr_db_value dv[4] = {{id, strlen(id)}, {"final", 5}, {pdf, sizeof pdf}, {"2015-09-01", 10}};
    int binary[4] = {0, 0, 1, 0};
    assert_int_equal(imr_db_query(db,
                                  "INSERT INTO determinations (case_id, version, status, record_json, letter_pdf, created_at)"
                                  " VALUES ($1, 1, $2, '{}', $3, $4)",
                                  dv, 4, binary, a, NULL, &err),
                     0);
    assert_int_equal(imr_db_exec(db, "SELECT letter_pdf FROM determinations WHERE case_id = $1", q, 1, a, &rows, &err), 0);
    assert_int_equal(rows.v[0].len, sizeof pdf);
    assert_memory_equal(rows.v[0].data, pdf, sizeof pdf);
    assert_int_not_equal(imr_db_exec(db, "UPDATE determinations SET record_json = '{\"x\":1}' WHERE case_id = $1",
                                     q, 1, a, NULL, &err), 0);
    assert_non_null(strstr(err.message, "cannot be"));
    assert_int_not_equal(imr_db_exec(db, "DELETE FROM determinations WHERE case_id = $1", q, 1, a, NULL, &err), 0);

    /* the audit log is append-only */
    const char *au[] = {"2015-09-01T00:00:00Z", "tester", "create", "case", id};
    assert_int_equal(imr_db_exec(db, "INSERT INTO audit_log (at, actor, action, entity, entity_id) VALUES ($1, $2, $3, $4, $5)",
                                 au, 5, a, NULL, &err), 0);
    assert_int_not_equal(imr_db_exec(db, "UPDATE audit_log SET actor = 'someone else'", NULL, 0, a, NULL, &err), 0);
    assert_int_not_equal(imr_db_exec(db, "DELETE FROM audit_log", NULL, 0, a, NULL, &err), 0);

    /* syntax errors are reported, not crashed on */
    assert_int_equal(imr_db_exec(db, "SELEC nonsense", NULL, 0, a, NULL, &err), IMR_EX_SOFTWARE);
    imr_arena_free(a);
}

static void sqlite_backend(void **state)
{
    (void)state;
    imr_db *db = open_backend(0);
    assert_string_equal(imr_db_backend(db), "sqlite");
    exercise(db);
    imr_db_close(db);
}

static void postgresql_backend(void **state)
{
    (void)state;
    imr_db *db = open_backend(1);
    if (!db) {
        print_message("IMR_TEST_PG_URL is not set: PostgreSQL backend skipped (run under scripts/with-postgres.sh)\n");
        skip();
    }
    assert_string_equal(imr_db_backend(db), "postgresql");
    exercise(db);
    imr_db_close(db);
}

static void bad_locations(void **state)
{
    (void)state;
    imr_db *db = NULL;
    imr_error err = {0};
    assert_int_equal(imr_db_open("/nonexistent-dir/x.db", &db, &err), IMR_EX_NOINPUT);
    assert_int_equal(imr_db_open("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", &db, &err), IMR_EX_NOINPUT);
    assert_non_null(strstr(err.message, "cannot connect"));
}

int main(void)
{
    snprintf(sqlite_path, sizeof sqlite_path, "/tmp/imr-test-store-%ld.db", (long)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sqlite_backend),
        cmocka_unit_test(postgresql_backend),
        cmocka_unit_test(bad_locations),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char wal[160];
    unlink(sqlite_path);
    snprintf(wal, sizeof wal, "%s-wal", sqlite_path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", sqlite_path);
    unlink(wal);
    return rc;
}
