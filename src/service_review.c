/*
 * service_review.c - the review itself in the IMR service model: the engine's draft of the
 * determination (a draft version), the reviewer's decisions and edits (a new draft version
 * each time), the attestation that issues the Final Determination Letter (a final version
 * holding its text, HTML and PDF, immutable in the database), corrections (a new version
 * pointing at the one it corrects), and reading letters back.
 */
#include "service_internal.h"
#include "json_read.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- shared */

typedef struct version_row {
    long version;              /* 0 when the case has no determination yet */
    const char *status, *record_json, *correction_reason;
    long correction_of;        /* 0 when none */
} version_row;

static int newest_version(imr_db *db, const char *case_id, imr_arena *a, version_row *v,
                          imr_error *err)
{
    memset(v, 0, sizeof *v);
    imr_db_rows r;
    const char *p[] = {case_id};
    int st = imr_db_exec(db,
                         "SELECT version, status, record_json, correction_of, correction_reason"
                         " FROM determinations WHERE case_id = $1 ORDER BY version DESC LIMIT 1",
                         p, 1, a, &r, err);
    if (st)
        return svc_db_fail(err, st);
    if (r.n_rows) {
        v->version = atol(imr_db_text(&r, 0, 0));
        v->status = imr_db_text(&r, 0, 1);
        v->record_json = imr_db_text(&r, 0, 2);
        v->correction_of = imr_db_text(&r, 0, 3) ? atol(imr_db_text(&r, 0, 3)) : 0;
        v->correction_reason = imr_db_text(&r, 0, 4);
    }
    return IMR_OK;
}

/* Insert a version; `letters` (text, html, pdf) only for final ones. */
static int insert_version(imr_db *db, const char *case_id, long version, const char *status,
                          const char *record_json, const imr_buf *letters, const char *created_by,
                          const char *now, long correction_of, const char *correction_reason,
                          imr_error *err)
{
    char ver[32], corr[32];
    snprintf(ver, sizeof ver, "%ld", version);
    snprintf(corr, sizeof corr, "%ld", correction_of);
    int fin = letters != NULL;
    imr_db_value v[11] = {
        {case_id, strlen(case_id)},
        {ver, strlen(ver)},
        {status, strlen(status)},
        {record_json, strlen(record_json)},
        {fin ? letters[0].data : NULL, fin ? letters[0].len : 0},
        {fin ? letters[1].data : NULL, fin ? letters[1].len : 0},
        {fin ? letters[2].data : NULL, fin ? letters[2].len : 0},
        {created_by, strlen(created_by)},
        {now, strlen(now)},
        {correction_of ? corr : NULL, correction_of ? strlen(corr) : 0},
        {correction_reason, correction_reason ? strlen(correction_reason) : 0},
    };
    const int binary[11] = {0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
    int st = imr_db_query(db,
                          "INSERT INTO determinations (case_id, version, status, record_json, letter_text,"
                          " letter_html, letter_pdf, created_by, created_at, issued_at, correction_of,"
                          " correction_reason) VALUES ($1, CAST($2 AS INTEGER), $3, $4, $5, $6, $7, $8, $9,"
                          " CASE WHEN $3 = 'final' THEN $9 ELSE NULL END, CAST($10 AS INTEGER), $11)",
                          v, 11, binary, NULL, NULL, err);
    if (st == IMR_EX_DATAERR)
        return svc_fail(err, 409, "version", "case %s got a new version meanwhile; read it again", case_id);
    return st ? svc_db_fail(err, st) : IMR_OK;
}

/* The assigned reviewer as the letter's credentials: from the panel record, never a name. */
static int reviewer_profile(imr_db *db, const svc_case_row *row, imr_arena *a,
                            imr_reviewer_profile **out, imr_error *err)
{
    *out = NULL;
    if (!row->reviewer_id)
        return IMR_OK;
    const svc_process *proc;
    int st = svc_rules(&proc, NULL, err);
    if (st)
        return st;
    imr_db_rows r;
    const char *p[] = {row->reviewer_id};
    if ((st = imr_db_exec(db, "SELECT profile_json FROM reviewers WHERE id = $1", p, 1, a, &r, err)))
        return svc_db_fail(err, st);
    if (!r.n_rows)
        return svc_fail(err, 500, "reviewer_id", "reviewer %s of case %s is not on the panel",
                        row->reviewer_id, row->id);
    svc_candidate cand;
    imr_reviewer_profile *prof = imr_arena_alloc(a, sizeof *prof);
    if ((st = svc_reviewer_read(row->reviewer_id, imr_db_text(&r, 0, 0), 1, 0, proc, a, &cand, prof, err)))
        return st;
    *out = prof;
    return IMR_OK;
}

static int record_json(const imr_record *r, imr_arena *a, const char **out, imr_error *err)
{
    imr_buf b = IMR_BUF_INIT;
    int st = imr_record_to_json(r, IMR_JSON_COMPACT, &b, err);
    if (!st)
        *out = imr_arena_strdup(a, b.data ? b.data : "{}");
    imr_buf_free(&b);
    return st ? svc_fail(err, 500, "record", "the determination could not be written: %s", err->message) : IMR_OK;
}

static int read_record(const char *json, imr_arena *a, imr_record **out, imr_error *err)
{
    if (imr_record_from_json(json, strlen(json), "determinations.record_json", a, out, err))
        return svc_fail(err, 500, "determinations.record_json", "a stored determination does not read back: %s",
                        err->message);
    return IMR_OK;
}

static json_t *decisions_json(const imr_record *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < r->n_items; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "request", svc_jstr(r->items[i].request));
        json_object_set_new(o, "decision", json_string(imr_decision_name(r->items[i].decision)));
        json_array_append_new(arr, o);
    }
    return arr;
}

static int commit_or_rollback(imr_db *db, int st, imr_error *err)
{
    if (!st && (st = imr_db_commit(db, err)))
        svc_db_fail(err, st);
    if (st)
        imr_db_rollback(db);
    return st;
}

/* The reviewer's own work: the assigned reviewer, or an administrator. */
static int may_review(const imr_actor *who, imr_error *err)
{
    int st = svc_may_write(who, err);
    if (st)
        return st;
    if (who->role != IMR_ROLE_REVIEWER && who->role != IMR_ROLE_ADMIN)
        return svc_forbidden(err, "only the assigned reviewer and administrators work on determinations");
    return IMR_OK;
}

/* ---------------------------------------------------------------- the engine's draft */

int svc_draft_store(imr_db *db, const imr_actor *who, const svc_case_row *row, json_t *case_file,
                    const imr_record *rec, const char *json, const char *now, imr_arena *a,
                    const char **out_json, imr_error *err)
{
    version_row v;
    int st = newest_version(db, row->id, a, &v, err);
    const char *status = !strcmp(row->status, "assigned") ? "in_review" : row->status;
    if (!st)
        st = svc_case_touch(db, row, status, now, err);
    if (!st)
        st = insert_version(db, row->id, v.version + 1, "draft", json, NULL, svc_actor_name(who), now, 0, NULL, err);
    if (st)
        return st;
    json_t *change = json_object();
    json_object_set_new(change, "version", json_integer(v.version + 1));
    json_object_set_new(change, "decisions", decisions_json(rec));
    return svc_case_finish_parsed(db, who, row->id, case_file, "determination.draft", svc_case_state(row, a),
                                  change, now, a, out_json, err);
}

int svc_draft_record(const imr_case *c, const imr_reviewer_profile *prof, imr_arena *a,
                     const imr_record **out, const char **json, imr_error *err)
{
    const imr_kb *kb;
    const imr_lexicon *lx;
    int st = svc_engine(&kb, &lx, err);
    if (st)
        return st;
    imr_review_options opt = {.reviewer = prof};
    const svc_process *proc;
    if (!svc_rules(&proc, NULL, err))
        opt.organization = proc->organization;
    imr_record *rec = NULL;
    if ((st = imr_review(c, kb, lx, &opt, a, &rec, err)))
        return svc_fail(err, st == IMR_EX_DATAERR ? 422 : 500, err->where, "%s", err->message);
    *out = rec;
    return record_json(rec, a, json, err);
}

int imr_svc_draft(imr_db *db, const imr_actor *who, const char *case_id, const char *now,
                  imr_arena *a, const char **out_json, imr_error *err)
{
    svc_case_row row;
    int st = svc_case_load(db, who, case_id, a, &row, err);
    if (!st)
        st = may_review(who, err);
    if (st)
        return st;
    if (!now || !*now)
        return svc_fail(err, 400, "now", "a timestamp is required");
    if (!svc_status_open(row.status))
        return svc_fail(err, 409, "status", "case %s is %s: no new draft%s", case_id, row.status,
                        !strcmp(row.status, "correcting") ? " (edit the correction instead)" : "");
    imr_case *c = NULL;
    imr_reviewer_profile *prof = NULL;
    const imr_record *rec = NULL;
    const char *json;
    if ((st = svc_engine_case(db, &row, a, &c, err)) || (st = reviewer_profile(db, &row, a, &prof, err)) ||
        (st = svc_draft_record(c, prof, a, &rec, &json, err)))
        return st;
    if ((st = imr_db_begin(db, err)))
        return svc_db_fail(err, st);
    st = svc_draft_store(db, who, &row, NULL, rec, json, now, a, out_json, err);
    return commit_or_rollback(db, st, err);
}

/* ---------------------------------------------------------------- decisions and edits */

typedef struct edits {
    const json_t *items;
    const char *summary;
    const char *correction_reason;
} edits;

static int apply_item_edit(jreader *rd, const json_t *o, size_t pos, imr_record *r)
{
    static const char *const DECISIONS[] = {"Undetermined", "Upheld", "Overturned", NULL};
    char p[64];
    snprintf(p, sizeof p, "$.items[%zu]", pos);
    if (!json_is_object(o))
        return jr_fail(rd, p, "expected an object (decision, rationale, reviewer_guideline), found %s",
                       jr_type_name(o));
    int idx = jr_int(rd, o, "index", p, 0, 100000);
    size_t i = idx >= 0 ? (size_t)idx : pos;
    if (!rd->failed && i >= r->n_items) {
        char msg[64];
        snprintf(msg, sizeof msg, "%zu item(s)", r->n_items);
        return jr_fail(rd, p, "the determination has %s", msg);
    }
    int d = jr_enum(rd, o, "decision", p, DECISIONS);
    const char *rationale = jr_str(rd, o, "rationale", p);
    const char *guideline = jr_str(rd, o, "reviewer_guideline", p);
    if (rd->failed)
        return -1;
    imr_item *it = &r->items[i];
    if (d >= 0) {
        it->decision = (imr_decision)d;
        if (it->decision != IMR_DECISION_UNDETERMINED)
            it->undetermined_reason = NULL;
    }
    if (rationale)
        it->rationale = rationale;
    if (guideline)
        it->reviewer_guideline = guideline;
    return 0;
}

static int read_edits(const char *json, size_t len, imr_arena *a, edits *e, json_t **root, imr_error *err)
{
    memset(e, 0, sizeof *e);
    *root = jr_load(json ? json : "", json ? len : 0, "edits", err);
    if (!*root)
        return svc_input_error(err, 400);
    jreader rd = {a, err, "edits", 0};
    if (!json_is_object(*root))
        jr_fail(&rd, "$", "expected an object with \"items\", found %s", jr_type_name(*root));
    e->items = jr_array(&rd, *root, "items", "$");
    e->summary = jr_str(&rd, *root, "clinical_case_summary", "$");
    e->correction_reason = jr_str(&rd, *root, "correction_reason", "$");
    if (e->correction_reason && !e->correction_reason[strspn(e->correction_reason, " \t\r\n")])
        e->correction_reason = NULL;
    return rd.failed ? svc_input_error(err, 400) : IMR_OK;
}

static int apply_edits(const edits *e, imr_record *r, imr_arena *a, imr_error *err)
{
    jreader rd = {a, err, "edits", 0};
    for (size_t i = 0; i < json_array_size(e->items) && !rd.failed; i++)
        apply_item_edit(&rd, json_array_get(e->items, i), i, r);
    if (rd.failed)
        return svc_input_error(err, err->message[0] && strstr(err->message, "the determination has") ? 422 : 400);
    if (e->summary)
        r->clinical_case_summary = e->summary;
    r->status = IMR_STATUS_DRAFT;
    r->attestation = NULL;
    return IMR_OK;
}

static int decide_in_tx(imr_db *db, const imr_actor *who, const svc_case_row *row, const version_row *v,
                        const char *json, json_t *root, long correction_of, const char *reason,
                        const char *now, imr_arena *a, const char **out_json, imr_error *err)
{
    int reopening = !strcmp(row->status, "issued");
    const char *status = reopening ? "correcting" : !strcmp(row->status, "assigned") ? "in_review" : row->status;
    int st = svc_case_touch(db, row, status, now, err);
    if (!st)
        st = insert_version(db, row->id, v->version + 1, "draft", json, NULL, svc_actor_name(who), now,
                            correction_of, reason, err);
    if (!st && reopening)
        st = svc_reviewer_open_cases(db, row->reviewer_id, +1, err);
    if (st) {
        json_decref(root);
        return st;
    }
    json_t *change = json_object();
    json_object_set_new(change, "version", json_integer(v->version + 1));
    json_object_set_new(change, "edits", root);
    if (correction_of) {
        json_object_set_new(change, "correction_of", json_integer(correction_of));
        json_object_set_new(change, "correction_reason", svc_jstr(reason));
    }
    return svc_case_finish(db, who, row->id, "determination.decide", svc_case_state(row, a), change, now, a,
                           out_json, err);
}

/* Which version the edits start from, and whether they open a correction. */
static int edit_basis(const svc_case_row *row, const version_row *v, const edits *e, long *correction_of,
                      const char **reason, imr_error *err)
{
    if (!row->reviewer_id)
        return svc_fail(err, 409, "status", "case %s has no reviewer yet: assign one first", row->id);
    if (!v->version)
        return svc_fail(err, 409, "status", "case %s has no draft yet: ask for the engine's draft first", row->id);
    if (!strcmp(v->status, "final")) {
        if (strcmp(row->status, "issued"))
            return svc_fail(err, 409, "status", "case %s is %s", row->id, row->status);
        if (!e->correction_reason)
            return svc_fail(err, 422, "$.correction_reason",
                            "version %ld was issued; a change is a correction and needs its reason", v->version);
        *correction_of = v->version;
        *reason = e->correction_reason;
        return IMR_OK;
    }
    if (e->correction_reason && !v->correction_of)
        return svc_fail(err, 422, "$.correction_reason", "no letter has been issued yet: nothing to correct");
    if (!json_array_size(e->items) && !e->summary)
        return svc_fail(err, 422, "$.items", "no decision or edit was given");
    *correction_of = v->correction_of;
    *reason = v->correction_reason;
    return IMR_OK;
}

int imr_svc_decide(imr_db *db, const imr_actor *who, const char *case_id,
                   const char *edits_json, size_t len, const char *now, imr_arena *a,
                   const char **out_json, imr_error *err)
{
    svc_case_row row;
    version_row v;
    edits e;
    json_t *root = NULL;
    long correction_of = 0;
    const char *reason = NULL, *json = NULL;
    imr_record *rec = NULL;
    int st = svc_case_load(db, who, case_id, a, &row, err);
    if (!st)
        st = may_review(who, err);
    if (st)
        return st;
    if (!now || !*now)
        return svc_fail(err, 400, "now", "a timestamp is required");
    if (strcmp(row.status, "assigned") && strcmp(row.status, "in_review") && strcmp(row.status, "issued") &&
        strcmp(row.status, "correcting"))
        return svc_fail(err, 409, "status", "case %s is %s: decisions need an assigned case", case_id, row.status);
    if ((st = read_edits(edits_json, len, a, &e, &root, err)) ||
        (st = newest_version(db, case_id, a, &v, err)) ||
        (st = edit_basis(&row, &v, &e, &correction_of, &reason, err)) ||
        (st = read_record(v.record_json, a, &rec, err)) || (st = apply_edits(&e, rec, a, err)) ||
        (st = record_json(rec, a, &json, err))) {
        json_decref(root);
        return st;
    }
    if ((st = imr_db_begin(db, err))) {
        json_decref(root);
        return svc_db_fail(err, st);
    }
    st = decide_in_tx(db, who, &row, &v, json, root, correction_of, reason, now, a, out_json, err);
    return commit_or_rollback(db, st, err);
}

/* ---------------------------------------------------------------- attestation and issue */

static int read_attestation(const char *json, size_t len, imr_arena *a, const char **statement,
                            const char **signature, imr_error *err)
{
    json_t *root = jr_load(json ? json : "", json ? len : 0, "attestation", err);
    if (!root)
        return svc_input_error(err, 400);
    jreader rd = {a, err, "attestation", 0};
    if (!json_is_object(root))
        jr_fail(&rd, "$", "expected an object with statement and signature, found %s", jr_type_name(root));
    *statement = jr_str(&rd, root, "statement", "$");
    *signature = jr_str(&rd, root, "signature", "$");
    json_decref(root);
    if (rd.failed)
        return svc_input_error(err, 400);
    if (!*statement || !(*statement)[strspn(*statement, " \t\r\n")])
        return svc_fail(err, 422, "$.statement", "the reviewer's attestation statement is required");
    if (!*signature || !(*signature)[strspn(*signature, " \t\r\n")])
        return svc_fail(err, 422, "$.signature", "the reviewer's signature is required");
    return IMR_OK;
}

/* Every item decided, with its rationale, before a letter can go out. */
static int ready_to_issue(const imr_record *r, imr_error *err)
{
    for (size_t i = 0; i < r->n_items; i++) {
        const imr_item *it = &r->items[i];
        char where[48];
        snprintf(where, sizeof where, "$.items[%zu].decision", i);
        if (it->decision == IMR_DECISION_UNDETERMINED)
            return svc_fail(err, 422, where, "\"%s\" is still Undetermined: decide every item before issuing",
                            it->request ? it->request : "");
        if (!it->rationale || !it->rationale[strspn(it->rationale, " \t\r\n")]) {
            snprintf(where, sizeof where, "$.items[%zu].rationale", i);
            return svc_fail(err, 422, where, "\"%s\" has no decision rationale", it->request ? it->request : "");
        }
    }
    if (!r->n_items)
        return svc_fail(err, 422, "$.items", "the determination has no items");
    return IMR_OK;
}

/* The letter in its three forms; `letters` must be freed by the caller. */
static int render_letters(const imr_record *r, imr_buf letters[3], imr_error *err)
{
    int st = imr_render_text(r, 0, &letters[0], err);
    if (!st)
        st = imr_render_html(r, &letters[1], err);
    if (!st)
        st = imr_render_pdf(r, &letters[2], err);
    if (st)
        return svc_fail(err, 500, err->where, "the letter could not be rendered: %s", err->message);
    return IMR_OK;
}

static const char *assigned_on(imr_db *db, const char *case_id, imr_arena *a)
{
    imr_db_rows r;
    const char *p[] = {case_id};
    if (imr_db_exec(db, "SELECT assigned_at FROM assignments WHERE case_id = $1 ORDER BY seq DESC LIMIT 1",
                    p, 1, a, &r, NULL) || !r.n_rows || !imr_db_text(&r, 0, 0))
        return NULL;
    return imr_arena_strndup(a, imr_db_text(&r, 0, 0), 10);
}

/* The final record: the newest draft, attested, with the panel's credentials. */
static int final_record(imr_db *db, const svc_case_row *row, const version_row *v, const char *statement,
                        const char *now, imr_arena *a, imr_record **out, imr_error *err)
{
    imr_record *r = NULL;
    imr_reviewer_profile *prof = NULL;
    char today[11];
    int st = read_record(v->record_json, a, &r, err);
    if (!st)
        st = ready_to_issue(r, err);
    if (!st)
        st = reviewer_profile(db, row, a, &prof, err);
    if (st)
        return st;
    if (!svc_today(now, today))
        return svc_fail(err, 400, "now", "expected an ISO 8601 timestamp, found \"%s\"", now);
    r->reviewer = prof->reviewer;
    r->header.decision_date = imr_arena_strdup(a, today);
    r->header.date_assigned = assigned_on(db, row->id, a);
    if (r->header.date_assigned && !imr_date_valid_iso(r->header.date_assigned))
        r->header.date_assigned = NULL;
    r->status = IMR_STATUS_FINAL;
    r->attestation = imr_arena_alloc(a, sizeof *r->attestation);
    r->attestation->reviewer_id = row->reviewer_id;
    r->attestation->statement = statement;
    r->attestation->signed_at = now;
    *out = r;
    return IMR_OK;
}

static int issue_in_tx(imr_db *db, const imr_actor *who, const svc_case_row *row, const version_row *v,
                       const imr_record *r, const char *json, const imr_buf letters[3],
                       const char *signature, const char *now, imr_arena *a, const char **out_json,
                       imr_error *err)
{
    int st = svc_case_touch(db, row, "issued", now, err);
    if (!st)
        st = insert_version(db, row->id, v->version + 1, "final", json, letters, svc_actor_name(who), now,
                            v->correction_of, v->correction_reason, err);
    if (!st)
        st = svc_reviewer_open_cases(db, row->reviewer_id, -1, err);
    if (st)
        return st;
    json_t *change = json_object();
    json_object_set_new(change, "version", json_integer(v->version + 1));
    json_object_set_new(change, "decisions", decisions_json(r));
    json_object_set_new(change, "reviewer_id", svc_jstr(row->reviewer_id));
    json_object_set_new(change, "statement", svc_jstr(r->attestation->statement));
    json_object_set_new(change, "signature", svc_jstr(signature));
    json_object_set_new(change, "signed_at", svc_jstr(now));
    json_object_set_new(change, "pdf_bytes", json_integer((json_int_t)letters[2].len));
    if (v->correction_of)
        json_object_set_new(change, "correction_of", json_integer(v->correction_of));
    return svc_case_finish(db, who, row->id, "determination.issue", svc_case_state(row, a), change, now, a,
                           out_json, err);
}

int imr_svc_issue(imr_db *db, const imr_actor *who, const char *case_id,
                  const char *attestation_json, size_t len, const char *now, imr_arena *a,
                  const char **out_json, imr_error *err)
{
    svc_case_row row;
    version_row v;
    const char *statement = NULL, *signature = NULL, *json = NULL;
    imr_record *r = NULL;
    int st = svc_case_load(db, who, case_id, a, &row, err);
    if (!st)
        st = svc_may_write(who, err);
    if (st)
        return st;
    /* the attestation is the physician's own act: nobody signs for the assigned reviewer */
    if (!row.reviewer_id || !who->reviewer_id || strcmp(who->reviewer_id, row.reviewer_id))
        return svc_forbidden(err, "only the assigned reviewer attests and signs the determination");
    if (!now || !*now)
        return svc_fail(err, 400, "now", "a timestamp is required");
    if (strcmp(row.status, "assigned") && strcmp(row.status, "in_review") && strcmp(row.status, "correcting"))
        return svc_fail(err, 409, "status", "case %s is %s: nothing to issue", case_id, row.status);
    if ((st = read_attestation(attestation_json, len, a, &statement, &signature, err)) ||
        (st = newest_version(db, case_id, a, &v, err)))
        return st;
    if (!v.version || strcmp(v.status, "draft"))
        return svc_fail(err, 409, "status", "case %s has no draft to issue", case_id);
    if ((st = final_record(db, &row, &v, statement, now, a, &r, err)) || (st = record_json(r, a, &json, err)))
        return st;
    imr_buf letters[3] = {IMR_BUF_INIT, IMR_BUF_INIT, IMR_BUF_INIT};
    st = render_letters(r, letters, err);
    if (!st && !(st = imr_db_begin(db, err))) {
        st = issue_in_tx(db, who, &row, &v, r, json, letters, signature, now, a, out_json, err);
        st = commit_or_rollback(db, st, err);
    } else if (st != IMR_OK && !err->http) {
        svc_db_fail(err, st);
    }
    for (int i = 0; i < 3; i++)
        imr_buf_free(&letters[i]);
    return st;
}

/* ---------------------------------------------------------------- letters */

static int notice_letter(imr_db *db, const char *case_id, imr_format format, imr_arena *a,
                         imr_db_value *out, imr_error *err)
{
    if (format != IMR_FORMAT_TEXT && format != IMR_FORMAT_HTML)
        return svc_fail(err, 404, "format", "the ineligibility notice of case %s exists as text and HTML only",
                        case_id);
    imr_db_rows r;
    const char *p[] = {case_id};
    int st = imr_db_exec(db,
                         "SELECT text, html FROM documents WHERE case_id = $1 AND kind = 'ineligibility_letter'"
                         " ORDER BY created_at DESC, id LIMIT 1",
                         p, 1, a, &r, err);
    if (st)
        return svc_db_fail(err, st);
    if (!r.n_rows)
        return svc_fail(err, 404, "version", "case %s has no letter", case_id);
    *out = r.v[format == IMR_FORMAT_HTML ? 1 : 0];
    return out->data ? IMR_OK : svc_fail(err, 404, "format", "the notice of case %s has no such form", case_id);
}

/* A draft is rendered when asked for; it is never stored as a letter. */
static int render_draft(const char *json, imr_format format, imr_arena *a, imr_db_value *out, imr_error *err)
{
    if (format == IMR_FORMAT_JSON) {
        out->data = json;
        out->len = strlen(json);
        return IMR_OK;
    }
    imr_record *r = NULL;
    int st = read_record(json, a, &r, err);
    if (st)
        return st;
    imr_buf b = IMR_BUF_INIT;
    if ((st = imr_render(r, format, &b, err))) {
        imr_buf_free(&b);
        return svc_fail(err, 500, err->where, "the draft could not be rendered: %s", err->message);
    }
    out->len = b.len;
    out->data = imr_arena_strndup(a, b.data ? b.data : "", b.len);
    imr_buf_free(&b);
    return IMR_OK;
}

int imr_svc_letter(imr_db *db, const imr_actor *who, const char *case_id, int version,
                   imr_format format, imr_arena *a, imr_db_value *out, imr_error *err)
{
    svc_case_row row;
    int st = svc_case_load(db, who, case_id, a, &row, err);
    if (st)
        return st;
    if (version < 0)
        return svc_fail(err, 400, "version", "expected 0 (the newest) or a version number");
    imr_db_rows r;
    char ver[16];
    snprintf(ver, sizeof ver, "%d", version);
    const char *p[] = {case_id, ver};
    if (version == 0) {
        st = imr_db_exec(db,
                         "SELECT status, record_json, letter_text, letter_html, letter_pdf FROM determinations"
                         " WHERE case_id = $1 ORDER BY status = 'final' DESC, version DESC LIMIT 1",
                         p, 1, a, &r, err);
    } else {
        st = imr_db_exec(db,
                         "SELECT status, record_json, letter_text, letter_html, letter_pdf FROM determinations"
                         " WHERE case_id = $1 AND version = CAST($2 AS INTEGER)",
                         p, 2, a, &r, err);
    }
    if (st)
        return svc_db_fail(err, st);
    if (!r.n_rows && version == 0 && !strcmp(row.status, "ineligible"))
        return notice_letter(db, case_id, format, a, out, err);
    if (!r.n_rows && version)
        return svc_fail(err, 404, "version", "case %s has no version %d", case_id, version);
    if (!r.n_rows)
        return svc_fail(err, 404, "version", "case %s has no letter yet", case_id);
    if (strcmp(imr_db_text(&r, 0, 0), "final"))
        return render_draft(imr_db_text(&r, 0, 1), format, a, out, err);
    int col = format == IMR_FORMAT_JSON ? 1 : format == IMR_FORMAT_HTML ? 3 : format == IMR_FORMAT_PDF ? 4 : 2;
    *out = r.v[col];
    if (!out->data)
        return svc_fail(err, 500, "determinations", "the issued letter of case %s lacks its %s form", case_id,
                        format == IMR_FORMAT_PDF ? "PDF" : format == IMR_FORMAT_HTML ? "HTML" : "text");
    return IMR_OK;
}
