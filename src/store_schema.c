/*
 * store_schema.c - the service's schema and its versioned migrations, the same tables on
 * SQLite and PostgreSQL (where the dialects differ, a migration step has one statement per
 * backend). Each migration runs in one transaction and bumps schema_version.
 *
 * Invariants kept by the database itself, not only by the code:
 *   - an issued (final) determination is never updated or deleted: corrections are new
 *     versions;
 *   - the audit log is append-only.
 */
#include "db_backend.h"

#include <stdlib.h>
#include <string.h>

typedef struct step {
    const char *sqlite; /* statement for SQLite */
    const char *pg;     /* statement for PostgreSQL, or NULL when the same */
} step;

static const step MIGRATION_1[] = {
    {"CREATE TABLE users ("
     " id TEXT PRIMARY KEY,"
     " username TEXT NOT NULL UNIQUE,"
     " display_name TEXT,"
     " role TEXT NOT NULL CHECK (role IN ('intake','reviewer','administrator','analyst')),"
     " password_hash TEXT NOT NULL,"
     " reviewer_id TEXT,"
     " disabled INTEGER NOT NULL DEFAULT 0,"
     " created_at TEXT NOT NULL)", NULL},
    {"CREATE TABLE sessions ("
     " token_hash TEXT PRIMARY KEY,"
     " user_id TEXT NOT NULL REFERENCES users(id),"
     " csrf_token TEXT NOT NULL,"
     " created_at TEXT NOT NULL,"
     " expires_at TEXT NOT NULL)", NULL},
    {"CREATE TABLE api_tokens ("
     " token_hash TEXT PRIMARY KEY,"
     " user_id TEXT NOT NULL REFERENCES users(id),"
     " label TEXT,"
     " created_at TEXT NOT NULL,"
     " expires_at TEXT NOT NULL,"
     " revoked INTEGER NOT NULL DEFAULT 0)", NULL},
    {"CREATE TABLE reviewers ("
     " id TEXT PRIMARY KEY,"
     " profile_json TEXT NOT NULL,"
     " active INTEGER NOT NULL DEFAULT 1,"
     " created_at TEXT NOT NULL,"
     " updated_at TEXT NOT NULL)", NULL},
    {"CREATE TABLE cases ("
     " id TEXT PRIMARY KEY,"
     " status TEXT NOT NULL,"
     " priority TEXT NOT NULL CHECK (priority IN ('standard','expedited')),"
     " case_json TEXT NOT NULL,"
     " application_received TEXT,"
     " records_received TEXT,"
     " ur_decision_date TEXT,"
     " due_date TEXT,"
     " reviewer_id TEXT REFERENCES reviewers(id),"
     " duplicate_of TEXT REFERENCES cases(id),"
     " eligibility_json TEXT,"
     " created_at TEXT NOT NULL,"
     " updated_at TEXT NOT NULL,"
     " version INTEGER NOT NULL DEFAULT 1)", NULL},
    {"CREATE INDEX cases_by_status ON cases(status, due_date)", NULL},
    {"CREATE INDEX cases_by_reviewer ON cases(reviewer_id, status)", NULL},
    {"CREATE TABLE documents ("
     " id TEXT PRIMARY KEY,"
     " case_id TEXT NOT NULL REFERENCES cases(id),"
     " kind TEXT NOT NULL,"
     " title TEXT,"
     " doc_date TEXT,"
     " author TEXT,"
     " text TEXT,"
     " created_at TEXT NOT NULL)", NULL},
    {"CREATE INDEX documents_by_case ON documents(case_id)", NULL},
    {"CREATE TABLE assignments ("
     " case_id TEXT NOT NULL REFERENCES cases(id),"
     " seq INTEGER NOT NULL,"
     " reviewer_id TEXT NOT NULL REFERENCES reviewers(id),"
     " method TEXT NOT NULL CHECK (method IN ('auto','manual')),"
     " reason TEXT,"
     " assigned_by TEXT,"
     " assigned_at TEXT NOT NULL,"
     " PRIMARY KEY (case_id, seq))", NULL},
    {"CREATE TABLE determinations ("
     " case_id TEXT NOT NULL REFERENCES cases(id),"
     " version INTEGER NOT NULL,"
     " status TEXT NOT NULL CHECK (status IN ('draft','final')),"
     " record_json TEXT NOT NULL,"
     " letter_text TEXT,"
     " letter_html TEXT,"
     " letter_pdf BLOB,"
     " created_by TEXT,"
     " created_at TEXT NOT NULL,"
     " issued_at TEXT,"
     " correction_of INTEGER,"
     " correction_reason TEXT,"
     " PRIMARY KEY (case_id, version))",
     "CREATE TABLE determinations ("
     " case_id TEXT NOT NULL REFERENCES cases(id),"
     " version INTEGER NOT NULL,"
     " status TEXT NOT NULL CHECK (status IN ('draft','final')),"
     " record_json TEXT NOT NULL,"
     " letter_text TEXT,"
     " letter_html TEXT,"
     " letter_pdf BYTEA,"
     " created_by TEXT,"
     " created_at TEXT NOT NULL,"
     " issued_at TEXT,"
     " correction_of INTEGER,"
     " correction_reason TEXT,"
     " PRIMARY KEY (case_id, version))"},
    {"CREATE TABLE audit_log ("
     " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
     " at TEXT NOT NULL,"
     " actor TEXT,"
     " action TEXT NOT NULL,"
     " entity TEXT NOT NULL,"
     " entity_id TEXT,"
     " before_json TEXT,"
     " after_json TEXT)",
     "CREATE TABLE audit_log ("
     " seq BIGSERIAL PRIMARY KEY,"
     " at TEXT NOT NULL,"
     " actor TEXT,"
     " action TEXT NOT NULL,"
     " entity TEXT NOT NULL,"
     " entity_id TEXT,"
     " before_json TEXT,"
     " after_json TEXT)"},
    {"CREATE INDEX audit_by_entity ON audit_log(entity, entity_id)", NULL},
    /* the database refuses to change an issued letter or the audit trail */
    {"CREATE TRIGGER final_determination_immutable BEFORE UPDATE ON determinations"
     " WHEN OLD.status = 'final'"
     " BEGIN SELECT RAISE(ABORT, 'an issued determination cannot be changed'); END",
     "CREATE FUNCTION imr_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$"
     " BEGIN RAISE EXCEPTION '% cannot be changed', TG_ARGV[0] USING ERRCODE = '23000'; END $$"},
    {"CREATE TRIGGER final_determination_undeletable BEFORE DELETE ON determinations"
     " WHEN OLD.status = 'final'"
     " BEGIN SELECT RAISE(ABORT, 'an issued determination cannot be deleted'); END",
     "CREATE TRIGGER final_determination_immutable BEFORE UPDATE OR DELETE ON determinations"
     " FOR EACH ROW WHEN (OLD.status = 'final')"
     " EXECUTE FUNCTION imr_refuse_change('an issued determination')"},
    {"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log"
     " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
     "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_log"
     " FOR EACH ROW EXECUTE FUNCTION imr_refuse_change('the audit log')"},
    {"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log"
     " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
     "SELECT 1"},
};

/* The service model (src/service*.c): each case keeps a ready-made JSON view (one indexed
 * read per request) and a list summary, in a table of their own so that status changes do
 * not rewrite them; documents may carry an HTML form (notices); the panel counts open
 * cases; applications are matched to earlier ones by a dispute key. */
static const step MIGRATION_2[] = {
    {"CREATE TABLE case_views ("
     " case_id TEXT PRIMARY KEY REFERENCES cases(id),"
     " view_json TEXT NOT NULL,"
     " summary_json TEXT NOT NULL)", NULL},
    {"ALTER TABLE documents ADD COLUMN html TEXT", NULL},
    {"ALTER TABLE reviewers ADD COLUMN open_cases INTEGER NOT NULL DEFAULT 0", NULL},
    {"CREATE TABLE dispute_keys ("
     " dispute_key TEXT NOT NULL,"
     " case_id TEXT NOT NULL REFERENCES cases(id),"
     " PRIMARY KEY (dispute_key, case_id))", NULL},
    {"CREATE INDEX cases_by_due ON cases(due_date, id)", NULL},
    {"CREATE INDEX audit_by_entity_id ON audit_log(entity_id, seq)", NULL},
};

typedef struct migration {
    const step *steps;
    size_t n;
} migration;

/* case lists filtered by priority alone stay on an index */
static const step MIGRATION_3[] = {
    {"CREATE INDEX cases_by_priority ON cases(priority, due_date)", NULL},
};

static const migration MIGRATIONS[] = {
    {MIGRATION_1, sizeof MIGRATION_1 / sizeof MIGRATION_1[0]},
    {MIGRATION_2, sizeof MIGRATION_2 / sizeof MIGRATION_2[0]},
    {MIGRATION_3, sizeof MIGRATION_3 / sizeof MIGRATION_3[0]},
};

static int current_version(imr_db *db, int *version, imr_error *err)
{
    int st = imr_db_exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
                         NULL, 0, NULL, NULL, err);
    if (st)
        return st;
    imr_arena *a = imr_arena_new();
    imr_db_rows rows;
    st = imr_db_exec(db, "SELECT MAX(version) FROM schema_version", NULL, 0, a, &rows, err);
    if (st == 0) {
        const char *v = imr_db_text(&rows, 0, 0);
        *version = v ? atoi(v) : 0;
    }
    imr_arena_free(a);
    return st;
}

int imr_db_migrate(imr_db *db, int *version, imr_error *err)
{
    int have = 0, st;
    int pg = strcmp(imr_db_backend(db), "postgresql") == 0;
    if ((st = current_version(db, &have, err)))
        return st;
    int newest = (int)(sizeof MIGRATIONS / sizeof MIGRATIONS[0]);
    for (int v = have + 1; v <= newest; v++) {
        if ((st = imr_db_begin(db, err)))
            return st;
        /* re-check under the lock: another server may have migrated meanwhile */
        int now = 0;
        if (pg)
            st = imr_db_exec(db, "LOCK TABLE schema_version IN ACCESS EXCLUSIVE MODE", NULL, 0, NULL, NULL, err);
        if (st || (st = current_version(db, &now, err))) {
            imr_db_rollback(db);
            return st;
        }
        if (now >= v) {
            imr_db_rollback(db);
            continue;
        }
        const migration *m = &MIGRATIONS[v - 1];
        for (size_t i = 0; i < m->n && st == 0; i++) {
            const char *sql = pg && m->steps[i].pg ? m->steps[i].pg : m->steps[i].sqlite;
            st = imr_db_exec(db, sql, NULL, 0, NULL, NULL, err);
        }
        char vs[16];
        snprintf(vs, sizeof vs, "%d", v);
        const char *p[] = {vs};
        if (st == 0)
            st = imr_db_exec(db, "INSERT INTO schema_version (version) VALUES ($1)", p, 1, NULL, NULL, err);
        if (st) {
            imr_db_rollback(db);
            return st;
        }
        if ((st = imr_db_commit(db, err)))
            return st;
    }
    if (version)
        *version = newest;
    return IMR_OK;
}
