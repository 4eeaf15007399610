/*
 * test_service.c - the IMR service model end to end, on SQLite and (when IMR_TEST_PG_URL is
 * set, see scripts/with-postgres.sh) on PostgreSQL: create -> screen -> assign -> draft ->
 * decide -> issue -> letter bytes -> correction as a new version, with the issued version
 * unchanged, audit entries carrying before and after, reviewers seeing only their own cases
 * and analysts changing nothing; a case registered with its draft in one transaction, all
 * or nothing (a failure forced at the draft's insert leaves nothing behind). Also the review clocks (imr_due_date) and work lists.
 */
#include "support.h"
#include "../src/service_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- a private database */

static char sqlite_path[128];
static char pg_schema[64];

/* SQLite: a fresh file. PostgreSQL: a schema of our own, so parallel tests never meet. */
/* A migrated database of the backend asked for; skips the test when PostgreSQL is asked for
 * and IMR_TEST_PG_URL is not set. */
static imr_db *open_db(int pg)
{
    imr_db *db = ts_db_open(pg, sqlite_path, pg_schema);
    if (!db) {
        print_message("IMR_TEST_PG_URL is not set: PostgreSQL backend skipped (run under scripts/with-postgres.sh)\n");
        skip();
    }
    return db;
}

static void close_db(imr_db *db, int pg)
{
    ts_db_close(db, pg, pg_schema);
}

/* ---------------------------------------------------------------- helpers */

static const imr_actor ADMIN = {"u-admin", "admin", IMR_ROLE_ADMIN, NULL};
static const imr_actor INTAKE = {"u-intake", "intake1", IMR_ROLE_INTAKE, NULL};
static const imr_actor ANALYST = {"u-analyst", "analyst1", IMR_ROLE_ANALYST, NULL};
static const imr_actor REV_A = {"u-rev-a", "drpain", IMR_ROLE_REVIEWER, "R-PAIN"};
static const imr_actor REV_B = {"u-rev-b", "drfamily", IMR_ROLE_REVIEWER, "R-FAMILY"};

static json_t *parse(const char *s)
{
    json_error_t je;
    json_t *v = json_loads(s, 0, &je);
    if (!v)
        fail_msg("not JSON (%s): %.300s", je.text, s);
    return v;
}

static const char *get_str(json_t *o, const char *path)
{
    json_t *v = json_object_get(o, path);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void put_reviewer(imr_db *db, const char *id, const char *profile)
{
    imr_arena *a = imr_arena_new();
    imr_error err = {0};
    const char *out = NULL;
    if (imr_svc_reviewer_put(db, &ADMIN, id, profile, strlen(profile), "2015-09-01T08:00:00Z", a, &out, &err))
        fail_msg("reviewer %s: %s: %s", id, err.where, err.message);
    imr_arena_free(a);
}

static void panel(imr_db *db)
{
    /* R-PAIN is affiliated with the insurer of the case below; R-FAMILY is free of conflicts */
    put_reviewer(db, "R-PAIN",
                 "{\"name\": \"Dr. Paula Pain\", \"specialties\": [\"Physical Medicine and Rehabilitation\"],"
                 " \"subspecialties\": [\"Pain Medicine\"], \"board_certifications\": [\"ABPMR\"],"
                 " \"licensure\": [\"California\"], \"years_in_practice\": 12, \"hours_per_week\": 30,"
                 " \"affiliations\": [{\"kind\": \"insurer\", \"name\": \"Golden State Insurance Co.\"}],"
                 " \"capacity\": 10}");
    put_reviewer(db, "R-FAMILY",
                 "{\"name\": \"Dr. Frank Family\", \"specialties\": [\"Family Practice\"],"
                 " \"board_certified\": true, \"licensure\": [\"Arizona\", \"California\"],"
                 " \"years_in_practice\": 20, \"hours_per_week\": 40, \"capacity\": 10,"
                 " \"credentials_style\": \"lines\"}");
}

static char *case_json(const char *number, const char *received, const char *priority, const char *request)
{
    char *s = NULL;
    if (asprintf(&s,
                 "{\"case_number\": \"%s\", \"priority\": \"%s\", \"claimant\": {\"age\": 49, \"sex\": \"male\"},"
                 " \"date_of_injury\": \"2008-05-04\", \"ur_decision_date\": \"2015-08-19\","
                 " \"application_received\": \"%s\", \"application_signed\": \"2015-08-25\","
                 " \"ur_decision_attached\": true,"
                 " \"parties\": [{\"role\": \"employee\", \"name\": \"Employee %s\"},"
                 "   {\"role\": \"employer\", \"name\": \"Example Forklift LLC\"},"
                 "   {\"role\": \"claims_administrator\", \"name\": \"The Golden State Insurance Company, Inc.\"}],"
                 " \"disputed_items\": [{\"request\": \"%s\", \"ur_decision\": \"modified to #30\"}],"
                 " \"clinical_summary\": \"The injured worker is a 49 year old male with chronic neck pain. He takes"
                 " Norco 7.5/325 mg twice a day. No pain scores with and without medication are documented. No urine"
                 " drug screen is in the records.\"}",
                 number, priority, received, number, request) < 0)
        abort();
    return s;
}

static json_t *create(imr_db *db, const char *number, const char *received, const char *priority,
                      const char *now, imr_arena *a)
{
    char *cj = case_json(number, received, priority, "Norco 7.5/325mg #60");
    const char *out = NULL;
    imr_error err = {0};
    if (imr_svc_case_create(db, &INTAKE, cj, strlen(cj), now, a, &out, &err))
        fail_msg("create %s: %s: %s", number, err.where, err.message);
    free(cj);
    return parse(out);
}

static int audit_count(imr_db *db, const char *case_id, const char *action, json_t **last)
{
    imr_arena *a = imr_arena_new();
    imr_error err = {0};
    const char *out = NULL;
    if (imr_svc_audit_list(db, &ANALYST, case_id, 0, a, &out, &err))
        fail_msg("audit: %s", err.message);
    json_t *v = parse(out), *entries = json_object_get(v, "entries");
    int n = 0;
    for (size_t i = 0; i < json_array_size(entries); i++) {
        json_t *e = json_array_get(entries, i);
        if (!action || !strcmp(get_str(e, "action"), action)) {
            if (!n && last)
                *last = json_incref(e); /* newest first */
            n++;
        }
    }
    json_decref(v);
    imr_arena_free(a);
    return n;
}

/* ---------------------------------------------------------------- the workflow */

static void workflow(imr_db *db)
{
    imr_arena *a = imr_arena_new();
    imr_error err = {0};
    const char *out = NULL;
    const char *T0 = "2015-09-01T09:00:00Z";
    panel(db);

    /* create: clock from receipt, 30 days, days left counted from `now` */
    json_t *c = create(db, "CM15-7000001", "2015-09-01", "standard", T0, a);
    assert_string_equal(get_str(c, "status"), "received");
    assert_string_equal(get_str(c, "due_date"), "2015-10-01");
    assert_int_equal(json_integer_value(json_object_get(c, "days_left")), 30);
    assert_true(json_is_false(json_object_get(c, "overdue")));
    json_decref(c);
    /* the same case number twice is a conflict */
    char *cj = case_json("CM15-7000001", "2015-09-01", "standard", "Norco 7.5/325mg #60");
    assert_int_equal(imr_svc_case_create(db, &INTAKE, cj, strlen(cj), T0, a, &out, &err), IMR_EX_DATAERR);
    assert_int_equal(err.http, 409);
    free(cj);

    /* screen: eligible */
    assert_int_equal(imr_svc_case_screen(db, &INTAKE, "CM15-7000001", T0, a, &out, &err), 0);
    c = parse(out);
    assert_string_equal(get_str(c, "status"), "eligible");
    assert_true(json_is_true(json_object_get(json_object_get(c, "eligibility"), "eligible")));
    json_decref(c);

    /* assign: R-PAIN is affiliated with the claims administrator (names compared without
     * "The", "Company", "Inc."), so R-FAMILY gets it */
    assert_int_equal(imr_svc_case_assign(db, &INTAKE, "CM15-7000001", NULL, NULL, T0, a, &out, &err), 0);
    c = parse(out);
    assert_string_equal(get_str(c, "status"), "assigned");
    json_t *rv = json_object_get(c, "reviewer");
    assert_string_equal(get_str(rv, "id"), "R-FAMILY");
    assert_non_null(strstr(get_str(rv, "credentials"), "Family Practice"));
    assert_null(strstr(out, "Frank")); /* never the reviewer's name */
    json_decref(c);

    /* who sees what */
    assert_int_equal(imr_svc_case_get(db, &REV_A, "CM15-7000001", T0, a, &out, &err), IMR_EX_NOINPUT);
    assert_int_equal(err.http, 404);
    assert_int_equal(imr_svc_case_get(db, &REV_A, "CM15-NOSUCH", T0, a, &out, &err), IMR_EX_NOINPUT);
    assert_int_equal(err.http, 404); /* the same answer: existence does not leak */
    assert_int_equal(imr_svc_draft(db, &REV_A, "CM15-7000001", T0, a, &out, &err), IMR_EX_NOINPUT);
    assert_int_equal(err.http, 404);
    assert_int_equal(imr_svc_case_get(db, &REV_B, "CM15-7000001", T0, a, &out, &err), 0);
    assert_int_equal(imr_svc_case_get(db, &ANALYST, "CM15-7000001", T0, a, &out, &err), 0);
    assert_int_equal(imr_svc_draft(db, &ANALYST, "CM15-7000001", T0, a, &out, &err), IMR_EX_USAGE);
    assert_int_equal(err.http, 403);
    const char *doc = "{\"kind\": \"correspondence\", \"text\": \"x\"}";
    assert_int_equal(imr_svc_document_add(db, &ANALYST, "CM15-7000001", doc, strlen(doc), T0, a, &out, &err), IMR_EX_USAGE);
    assert_int_equal(err.http, 403);
    assert_int_equal(imr_svc_case_assign(db, &ANALYST, "CM15-7000001", NULL, NULL, T0, a, &out, &err), IMR_EX_USAGE);
    assert_int_equal(imr_svc_draft(db, &INTAKE, "CM15-7000001", T0, a, &out, &err), IMR_EX_USAGE);

    /* the engine's draft: version 1, a draft, with the panel's credentials */
    const char *T1 = "2015-09-03T10:00:00Z";
    assert_int_equal(imr_svc_draft(db, &REV_B, "CM15-7000001", T1, a, &out, &err), 0);
    c = parse(out);
    assert_string_equal(get_str(c, "status"), "in_review");
    json_t *dets = json_object_get(c, "determinations");
    assert_int_equal(json_array_size(dets), 1);
    assert_string_equal(get_str(json_array_get(dets, 0), "status"), "draft");
    json_t *rec = json_object_get(c, "determination");
    assert_string_equal(get_str(rec, "status"), "draft");
    assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(rec, "reviewer"), "specialties"), 0)),
                        "Family Practice");
    json_decref(c);

    /* decisions: one left Undetermined cannot be issued */
    const char *undecided = "{\"items\": [{\"decision\": \"Undetermined\"}]}";
    assert_int_equal(imr_svc_decide(db, &REV_B, "CM15-7000001", undecided, strlen(undecided), T1, a, &out, &err), 0);
    const char *attest = "{\"statement\": \"I attest that I reviewed the whole case file.\", \"signature\": \"FF\"}";
    assert_int_equal(imr_svc_issue(db, &REV_B, "CM15-7000001", attest, strlen(attest), T1, a, &out, &err), IMR_EX_DATAERR);
    assert_int_equal(err.http, 422);
    assert_string_equal(err.where, "$.items[0].decision");
    const char *bad = "{\"items\": [{\"decision\": \"Maybe\"}]}";
    assert_int_equal(imr_svc_decide(db, &REV_B, "CM15-7000001", bad, strlen(bad), T1, a, &out, &err), IMR_EX_DATAERR);
    assert_int_equal(err.http, 400);
    assert_string_equal(err.where, "$.items[0].decision");
    const char *beyond = "{\"items\": [{\"index\": 3, \"decision\": \"Upheld\"}]}";
    assert_int_equal(imr_svc_decide(db, &REV_B, "CM15-7000001", beyond, strlen(beyond), T1, a, &out, &err), IMR_EX_DATAERR);
    assert_int_equal(err.http, 422);
    const char *decided = "{\"items\": [{\"decision\": \"Upheld\", \"rationale\": \"Ongoing opioid use needs"
                          " documented pain relief and function, which the records do not show.\","
                          " \"reviewer_guideline\": \"MTUS Chronic Pain Medical Treatment Guidelines, opioids.\"}]}";
    assert_int_equal(imr_svc_decide(db, &REV_B, "CM15-7000001", decided, strlen(decided), T1, a, &out, &err), 0);

    /* only the assigned reviewer signs */
    assert_int_equal(imr_svc_issue(db, &ADMIN, "CM15-7000001", attest, strlen(attest), T1, a, &out, &err), IMR_EX_USAGE);
    assert_int_equal(err.http, 403);
    const char *unsigned_ = "{\"statement\": \"I attest.\"}";
    assert_int_equal(imr_svc_issue(db, &REV_B, "CM15-7000001", unsigned_, strlen(unsigned_), T1, a, &out, &err), IMR_EX_DATAERR);
    assert_string_equal(err.where, "$.signature");
    const char *T2 = "2015-09-04T16:30:00Z";
    assert_int_equal(imr_svc_issue(db, &REV_B, "CM15-7000001", attest, strlen(attest), T2, a, &out, &err), 0);
    c = parse(out);
    assert_string_equal(get_str(c, "status"), "issued");
    assert_true(json_is_null(json_object_get(c, "days_left")));
    rec = json_object_get(c, "determination");
    assert_string_equal(get_str(rec, "status"), "final");
    json_t *at = json_object_get(rec, "attestation");
    assert_string_equal(get_str(at, "reviewer_id"), "R-FAMILY");
    assert_string_equal(get_str(at, "signed_at"), T2);
    dets = json_object_get(c, "determinations");
    assert_int_equal(json_array_size(dets), 4);
    assert_string_equal(get_str(json_array_get(dets, 3), "status"), "final");
    assert_string_equal(get_str(json_array_get(dets, 3), "issued_at"), T2);
    json_decref(c);
    /* nothing left to issue; no new draft over an issued letter */
    assert_int_equal(imr_svc_issue(db, &REV_B, "CM15-7000001", attest, strlen(attest), T2, a, &out, &err), IMR_EX_DATAERR);
    assert_int_equal(err.http, 409);
    assert_int_equal(imr_svc_draft(db, &REV_B, "CM15-7000001", T2, a, &out, &err), IMR_EX_DATAERR);
    assert_int_equal(err.http, 409);

    /* the letter, in its three stored forms */
    imr_db_value pdf, text, html;
    assert_int_equal(imr_svc_letter(db, &REV_B, "CM15-7000001", 0, IMR_FORMAT_PDF, a, &pdf, &err), 0);
    assert_true(pdf.len > 1000);
    assert_memory_equal(pdf.data, "%PDF", 4);
    assert_int_equal(imr_svc_letter(db, &ANALYST, "CM15-7000001", 4, IMR_FORMAT_TEXT, a, &text, &err), 0);
    assert_non_null(strstr(text.data, "Upheld"));
    /* the credentials come from the panel record (lines style: licensure and specialty) */
    assert_non_null(strstr(text.data, "Family Practice"));
    assert_non_null(strstr(text.data, "Arizona, California"));
    assert_null(strstr(text.data, "Frank"));
    assert_null(strstr(text.data, "DRAFT"));
    assert_int_equal(imr_svc_letter(db, &ANALYST, "CM15-7000001", 0, IMR_FORMAT_HTML, a, &html, &err), 0);
    assert_non_null(strstr(html.data, "<html"));
    assert_int_equal(imr_svc_letter(db, &REV_A, "CM15-7000001", 0, IMR_FORMAT_PDF, a, &pdf, &err), IMR_EX_NOINPUT);
    assert_int_equal(imr_svc_letter(db, &REV_B, "CM15-7000001", 9, IMR_FORMAT_PDF, a, &pdf, &err), IMR_EX_NOINPUT);
    char *issued_text = strndup(text.data, text.len);

    /* the database itself refuses to change the issued version */
    assert_int_not_equal(imr_db_exec(db, "UPDATE determinations SET letter_text = 'x' WHERE case_id = 'CM15-7000001' AND version = 4",
                                     NULL, 0, a, NULL, &err), 0);

    /* a correction is a new version that names the one it corrects */
    const char *no_reason = "{\"items\": [{\"decision\": \"Overturned\", \"rationale\": \"x\"}]}";
    assert_int_equal(imr_svc_decide(db, &REV_B, "CM15-7000001", no_reason, strlen(no_reason), T2, a, &out, &err), IMR_EX_DATAERR);
    assert_int_equal(err.http, 422);
    assert_string_equal(err.where, "$.correction_reason");
    const char *fix = "{\"correction_reason\": \"The guideline citation named the wrong section.\","
                      " \"items\": [{\"reviewer_guideline\": \"MTUS Chronic Pain Medical Treatment Guidelines 2009,"
                      " Opioids, criteria for use, pages 76-80.\"}]}";
    const char *T3 = "2015-09-10T09:00:00Z";
    assert_int_equal(imr_svc_decide(db, &REV_B, "CM15-7000001", fix, strlen(fix), T3, a, &out, &err), 0);
    c = parse(out);
    assert_string_equal(get_str(c, "status"), "correcting");
    json_decref(c);
    assert_int_equal(imr_svc_issue(db, &REV_B, "CM15-7000001", attest, strlen(attest), T3, a, &out, &err), 0);
    c = parse(out);
    dets = json_object_get(c, "determinations");
    assert_int_equal(json_array_size(dets), 6);
    json_t *v6 = json_array_get(dets, 5);
    assert_string_equal(get_str(v6, "status"), "final");
    assert_int_equal(json_integer_value(json_object_get(v6, "correction_of")), 4);
    assert_string_equal(get_str(v6, "correction_reason"), "The guideline citation named the wrong section.");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(dets, 4), "correction_of")), 4);
    json_decref(c);
    /* version 4 is as it was issued; the newest letter is the corrected one */
    assert_int_equal(imr_svc_letter(db, &REV_B, "CM15-7000001", 4, IMR_FORMAT_TEXT, a, &text, &err), 0);
    assert_string_equal(text.data, issued_text);
    assert_int_equal(imr_svc_letter(db, &REV_B, "CM15-7000001", 0, IMR_FORMAT_TEXT, a, &text, &err), 0);
    assert_non_null(strstr(text.data, "76-80"));
    assert_null(strstr(issued_text, "76-80"));
    free(issued_text);

    /* every change left an audit entry with before and after */
    json_t *last = NULL;
    assert_int_equal(audit_count(db, "CM15-7000001", "case.create", NULL), 1);
    assert_int_equal(audit_count(db, "CM15-7000001", "case.screen", NULL), 1);
    assert_int_equal(audit_count(db, "CM15-7000001", "case.assign", NULL), 1);
    assert_int_equal(audit_count(db, "CM15-7000001", "determination.draft", NULL), 1);
    assert_int_equal(audit_count(db, "CM15-7000001", "determination.decide", NULL), 3);
    assert_int_equal(audit_count(db, "CM15-7000001", "determination.issue", &last), 2);
    assert_string_equal(get_str(last, "actor"), "drfamily");
    assert_string_equal(get_str(json_object_get(last, "before"), "status"), "correcting");
    json_t *after = json_object_get(last, "after");
    assert_string_equal(get_str(after, "status"), "issued");
    assert_string_equal(get_str(json_object_get(after, "change"), "signature"), "FF");
    json_decref(last);
    assert_int_equal(audit_count(db, "CM15-7000001", "case.assign", &last), 1);
    assert_string_equal(get_str(json_object_get(last, "before"), "status"), "eligible");
    assert_string_equal(get_str(json_object_get(json_object_get(last, "after"), "change"), "reviewer_id"), "R-FAMILY");
    json_decref(last);
    /* the reviewer reads their own case's trail, not another's; intake counts as a reader */
    assert_int_equal(imr_svc_audit_list(db, &REV_B, "CM15-7000001", 5, a, &out, &err), 0);
    assert_int_equal(imr_svc_audit_list(db, &REV_A, "CM15-7000001", 5, a, &out, &err), IMR_EX_NOINPUT);
    assert_int_equal(imr_svc_audit_list(db, &REV_A, NULL, 5, a, &out, &err), IMR_EX_USAGE);

    /* the open caseload followed the case: assigned +1, issued -1, correcting +1, issued -1 */
    imr_db_rows r;
    assert_int_equal(imr_db_exec(db, "SELECT open_cases FROM reviewers WHERE id = 'R-FAMILY'", NULL, 0, a, &r, &err), 0);
    assert_string_equal(imr_db_text(&r, 0, 0), "0");
    imr_arena_free(a);
}

/* ---------------------------------------------------------------- lists and clocks */

static void lists(imr_db *db)
{
    imr_arena *a = imr_arena_new();
    imr_error err = {0};
    const char *out = NULL;
    const char *T = "2015-09-05T09:00:00Z";
    json_decref(create(db, "CM15-7100001", "2015-09-02", "standard", T, a));  /* due 10-02 */
    json_decref(create(db, "CM15-7100002", "2015-09-01", "expedited", T, a)); /* due 09-04: overdue */
    json_decref(create(db, "CM15-7100003", "2015-08-25", "standard", T, a));  /* due 09-24 */

    imr_case_filter f = {.q = "CM15-71"};
    assert_int_equal(imr_svc_case_list(db, &ANALYST, &f, T, a, &out, &err), 0);
    json_t *l = parse(out), *cases = json_object_get(l, "cases");
    assert_int_equal(json_array_size(cases), 3);
    assert_string_equal(get_str(json_array_get(cases, 0), "id"), "CM15-7100002");
    assert_string_equal(get_str(json_array_get(cases, 1), "id"), "CM15-7100003");
    assert_string_equal(get_str(json_array_get(cases, 2), "id"), "CM15-7100001");
    json_t *first = json_array_get(cases, 0);
    assert_true(json_is_true(json_object_get(first, "overdue")));
    assert_int_equal(json_integer_value(json_object_get(first, "days_left")), -1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(first, "requests"), 0)), "Norco 7.5/325mg #60");
    json_decref(l);

    f.sort = "-due_date";
    assert_int_equal(imr_svc_case_list(db, &ANALYST, &f, T, a, &out, &err), 0);
    l = parse(out);
    assert_string_equal(get_str(json_array_get(json_object_get(l, "cases"), 0), "id"), "CM15-7100001");
    json_decref(l);
    f.sort = "priority";
    assert_int_equal(imr_svc_case_list(db, &ANALYST, &f, T, a, &out, &err), IMR_EX_DATAERR);
    assert_int_equal(err.http, 400);

    imr_case_filter od = {.overdue_only = 1, .q = "CM15-71"};
    assert_int_equal(imr_svc_case_list(db, &INTAKE, &od, T, a, &out, &err), 0);
    l = parse(out);
    assert_int_equal(json_array_size(json_object_get(l, "cases")), 1);
    json_decref(l);
    imr_case_filter pri = {.priority = "expedited", .q = "CM15-71"};
    assert_int_equal(imr_svc_case_list(db, &INTAKE, &pri, T, a, &out, &err), 0);
    l = parse(out);
    assert_int_equal(json_array_size(json_object_get(l, "cases")), 1);
    json_decref(l);
    imr_case_filter page = {.q = "CM15-71", .limit = 2, .offset = 2};
    assert_int_equal(imr_svc_case_list(db, &INTAKE, &page, T, a, &out, &err), 0);
    l = parse(out);
    assert_int_equal(json_array_size(json_object_get(l, "cases")), 1);
    assert_int_equal(json_integer_value(json_object_get(l, "total")), 3); /* the last page: known */
    json_decref(l);
    /* the total counts every case the filters select, whichever page is asked for */
    static const struct {
        int limit, offset, priority, overdue;
        const char *status;
        size_t rows;
        long total;
    } pages[] = {
        {2, 0, 0, 0, NULL, 2, 3},  /* a full page: counted */
        {3, 0, 0, 0, NULL, 3, 3},  /* full, and exactly all */
        {2, 10, 0, 0, NULL, 0, 3}, /* past the end: counted */
        {1, 0, 1, 0, NULL, 1, 1},  /* expedited only */
        {1, 0, 0, 1, NULL, 1, 1},  /* overdue only */
        {1, 0, 0, 0, "received", 1, 3},
        {1, 0, 0, 0, "issued", 0, 0},
        {1, 0, 1, 1, "received", 1, 1},
        {5, 0, 0, 0, NULL, 3, 3},
    };
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        imr_case_filter pf = {.q = "CM15-71", .limit = pages[i].limit, .offset = pages[i].offset,
                              .priority = pages[i].priority ? "expedited" : NULL, .overdue_only = pages[i].overdue,
                              .status = pages[i].status};
        assert_int_equal(imr_svc_case_list(db, &ANALYST, &pf, T, a, &out, &err), 0);
        l = parse(out);
        if (json_array_size(json_object_get(l, "cases")) != pages[i].rows ||
            json_integer_value(json_object_get(l, "total")) != pages[i].total)
            fail_msg("page %zu: %zu rows of %lld, expected %zu of %ld", i, json_array_size(json_object_get(l, "cases")),
                     (long long)json_integer_value(json_object_get(l, "total")), pages[i].rows, pages[i].total);
        json_decref(l);
    }
    imr_case_filter none = {.q = "CM15-79"};
    assert_int_equal(imr_svc_case_list(db, &ANALYST, &none, T, a, &out, &err), 0);
    l = parse(out);
    assert_int_equal(json_integer_value(json_object_get(l, "total")), 0);
    json_decref(l);
    /* a reviewer's list holds their own cases only, whatever the filter says */
    imr_case_filter theirs = {.reviewer_id = "R-FAMILY"};
    assert_int_equal(imr_svc_case_list(db, &REV_A, &theirs, T, a, &out, &err), 0);
    l = parse(out);
    assert_int_equal(json_array_size(json_object_get(l, "cases")), 0);
    json_decref(l);
    assert_int_equal(imr_svc_case_list(db, &REV_B, NULL, T, a, &out, &err), 0);
    l = parse(out);
    cases = json_object_get(l, "cases");
    for (size_t i = 0; i < json_array_size(cases); i++)
        assert_string_equal(get_str(json_array_get(cases, i), "reviewer_id"), "R-FAMILY");
    json_decref(l);

    /* medical records arriving after the application move the clock */
    const char *rec = "{\"kind\": \"medical_record\", \"title\": \"PR-2\", \"date\": \"2015-09-08\","
                      " \"text\": \"Pain 8/10 without medication, 5/10 with it.\"}";
    assert_int_equal(imr_svc_document_add(db, &INTAKE, "CM15-7100001", rec, strlen(rec), "2015-09-10T12:00:00Z", a,
                                          &out, &err), 0);
    json_t *d = parse(out); /* the answer is the case, with the new document last */
    json_t *docs = json_object_get(d, "documents");
    assert_string_equal(get_str(d, "id"), "CM15-7100001");
    assert_string_equal(get_str(json_array_get(docs, json_array_size(docs) - 1), "kind"), "medical_record");
    assert_string_equal(get_str(json_array_get(docs, json_array_size(docs) - 1), "title"), "PR-2");
    json_decref(d);
    assert_int_equal(imr_svc_case_get(db, &INTAKE, "CM15-7100001", "2015-09-10T12:00:00Z", a, &out, &err), 0);
    json_t *c = parse(out);
    assert_string_equal(get_str(c, "due_date"), "2015-10-10");
    assert_string_equal(get_str(json_object_get(c, "dates"), "records_received"), "2015-09-10");
    assert_int_equal(json_array_size(json_object_get(c, "documents")), 1);
    json_decref(c);
    const char *bad = "{\"kind\": \"medical_record\"}";
    assert_int_equal(imr_svc_document_add(db, &INTAKE, "CM15-7100001", bad, strlen(bad), T, a, &out, &err), IMR_EX_DATAERR);
    assert_string_equal(err.where, "$.text");
    const char *badkind = "{\"kind\": \"ineligibility_letter\", \"text\": \"forged\"}";
    assert_int_equal(imr_svc_document_add(db, &INTAKE, "CM15-7100001", badkind, strlen(badkind), T, a, &out, &err),
                     IMR_EX_DATAERR);
    assert_string_equal(err.where, "$.kind");
    imr_arena_free(a);
}

/* Bad input gets a clear error naming the place, never a crash. */
static void bad_input(imr_db *db)
{
    imr_arena *a = imr_arena_new();
    imr_error err = {0};
    const char *out = NULL;
    const char *T = "2015-09-05T09:00:00Z";
    struct {
        const char *json, *where;
        int http;
    } cases[] = {
        {"{", "case", 400},
        {"[1]", "$", 400},
        {"{\"case_number\": \"CM 1\", \"claimant\": {}, \"date_of_injury\": \"2008-05-04\","
         " \"disputed_items\": [{\"request\": \"Norco\"}], \"clinical_summary\": \"x\"}", "$.case_number", 400},
        {"{\"case_number\": \"CM-2\", \"claimant\": {}, \"date_of_injury\": \"2008-02-30\","
         " \"disputed_items\": [{\"request\": \"Norco\"}], \"clinical_summary\": \"x\"}", "$.date_of_injury", 400},
        {"{\"case_number\": \"CM-3\", \"claimant\": {}, \"date_of_injury\": \"2008-05-04\","
         " \"disputed_items\": [{\"request\": \"Norco\"}], \"clinical_summary\": \"x\", \"ur_decision_attached\": \"yes\"}",
         "$.ur_decision_attached", 400},
        {"{\"case_number\": \"CM-4\", \"claimant\": {}, \"date_of_injury\": \"2008-05-04\","
         " \"disputed_items\": [{\"request\": \"Norco\"}], \"clinical_summary\": \"x\", \"documents\": [{\"kind\": 3}]}",
         "$.documents[0].kind", 400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&err, 0, sizeof err);
        assert_int_equal(imr_svc_case_create(db, &INTAKE, cases[i].json, strlen(cases[i].json), T, a, &out, &err),
                         IMR_EX_DATAERR);
        assert_int_equal(err.http, cases[i].http);
        if (strcmp(err.where, cases[i].where))
            fail_msg("case %zu: where is \"%s\", expected \"%s\" (%s)", i, err.where, cases[i].where, err.message);
    }
    assert_int_equal(imr_svc_case_create(db, NULL, "{}", 2, T, a, &out, &err), IMR_EX_USAGE);
    assert_int_equal(imr_svc_case_get(db, &ADMIN, NULL, T, a, &out, &err), IMR_EX_NOINPUT);
    assert_int_equal(imr_svc_case_screen(db, &ADMIN, "CM15-NOSUCH", T, a, &out, &err), IMR_EX_NOINPUT);
    const char *bp = "{\"specialties\": [], \"licensure\": [\"California\"]}";
    assert_int_equal(imr_svc_reviewer_put(db, &ADMIN, "R-X", bp, strlen(bp), T, a, &out, &err), IMR_EX_DATAERR);
    assert_string_equal(err.where, "$.specialties");
    assert_int_equal(imr_svc_reviewer_put(db, &INTAKE, "R-X", bp, strlen(bp), T, a, &out, &err), IMR_EX_USAGE);
    assert_int_equal(imr_svc_reviewer_put(db, &ADMIN, "R X", bp, strlen(bp), T, a, &out, &err), IMR_EX_DATAERR);
    /* a syntax error keeps its line */
    const char *two_lines = "{\"case_number\": \"CM-5\",\n \"claimant\": {,}}";
    assert_int_equal(imr_svc_case_create(db, &INTAKE, two_lines, strlen(two_lines), T, a, &out, &err), IMR_EX_DATAERR);
    assert_int_equal(err.line, 2);

    /* every truncation of a valid application and of valid edits is refused cleanly */
    char *full = case_json("CM15-7200001", "2015-09-01", "standard", "Norco 7.5/325mg #60");
    size_t n = strlen(full);
    for (size_t k = 0; k < n; k++) {
        memset(&err, 0, sizeof err);
        if (imr_svc_case_create(db, &INTAKE, full, k, T, a, &out, &err) != IMR_EX_DATAERR || !err.http)
            fail_msg("a truncation to %zu bytes was not refused as bad input", k);
        imr_arena_reset(a);
    }
    assert_int_equal(imr_svc_case_create(db, &INTAKE, full, n, T, a, &out, &err), 0);
    free(full);
    const char *odd[] = {"", "null", "[]", "{\"items\": 3}", "{\"items\": [3]}", "{\"items\": [{\"index\": -1}]}",
                         "{\"items\": [{\"rationale\": 7}]}", "{\"clinical_case_summary\": []}"};
    for (size_t k = 0; k < sizeof odd / sizeof odd[0]; k++) {
        memset(&err, 0, sizeof err);
        /* the case has no reviewer: the edits are read first and refused as bad input, or the
         * case state is refused; either way a clean error */
        assert_int_equal(imr_svc_decide(db, &ADMIN, "CM15-7200001", odd[k], strlen(odd[k]), T, a, &out, &err),
                         IMR_EX_DATAERR);
        assert_true(err.http == 400 || err.http == 409);
    }
    imr_arena_free(a);
}

/* A change made from a stale read is refused, not applied over the newer state. */
static void stale_versions(imr_db *db)
{
    imr_arena *a = imr_arena_new();
    imr_error err = {0};
    const char *out;
    svc_case_row stale;
    assert_int_equal(svc_case_load(db, &ADMIN, "CM15-7200001", a, &stale, &err), 0);
    assert_int_equal(imr_svc_case_screen(db, &INTAKE, "CM15-7200001", "2015-09-05T09:00:00Z", a, &out, &err), 0);
    assert_int_equal(imr_db_begin(db, &err), 0);
    assert_int_equal(svc_case_touch(db, &stale, "eligible", "2015-09-05T09:00:00Z", &err), IMR_EX_DATAERR);
    assert_int_equal(err.http, 409);
    imr_db_rollback(db);
    imr_arena_free(a);
}

/* The case file of case_json() with a medical record attached at intake. */
static char *case_with_record(const char *number)
{
    char *base = case_json(number, "2015-09-01", "standard", "Norco 7.5/325mg #60"), *s = NULL;
    base[strlen(base) - 1] = '\0'; /* reopen the object */
    if (asprintf(&s, "%s, \"documents\": [{\"kind\": \"medical_record\", \"title\": \"Progress report\","
                     " \"date\": \"2015-08-10\", \"text\": \"Neck pain 7/10. Norco continued. No urine drug"
                     " screen on file.\"}]}", base) < 0)
        abort();
    free(base);
    return s;
}

static json_t *item_decisions(json_t *view)
{
    json_t *out = json_array(), *items = json_object_get(json_object_get(view, "determination"), "items");
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i), *o = json_object();
        json_object_set(o, "decision", json_object_get(it, "decision"));
        json_object_set(o, "rationale", json_object_get(it, "rationale"));
        json_array_append_new(out, o);
    }
    return out;
}

/* ?draft=1: the case and the engine's draft in one transaction, all or nothing. */
static void create_with_draft(imr_db *db, int pg)
{
    imr_arena *a = imr_arena_new();
    imr_error err = {0};
    const char *out = NULL, *id = NULL;
    const char *T0 = "2015-09-01T09:00:00Z";

    char *cj = case_with_record("CM15-7300001");
    assert_int_equal(imr_svc_case_create_draft(db, &ADMIN, cj, strlen(cj), 1, T0, a, &id, &out, &err), 0);
    free(cj);
    assert_string_equal(id, "CM15-7300001");
    json_t *one = parse(out);
    assert_string_equal(get_str(one, "status"), "received");
    assert_int_equal(json_integer_value(json_object_get(one, "version")), 2);
    json_t *dets = json_object_get(one, "determinations");
    assert_int_equal(json_array_size(dets), 1);
    assert_string_equal(get_str(json_array_get(dets, 0), "status"), "draft");
    assert_int_equal(json_array_size(json_object_get(one, "documents")), 1);
    assert_true(json_array_size(json_object_get(json_object_get(one, "determination"), "items")) == 1);
    assert_int_equal(audit_count(db, "CM15-7300001", "case.create", NULL), 1);
    assert_int_equal(audit_count(db, "CM15-7300001", "determination.draft", NULL), 1);
    /* what is returned is what is stored */
    assert_int_equal(imr_svc_case_get(db, &ADMIN, "CM15-7300001", T0, a, &out, &err), 0);
    json_t *stored = parse(out);
    assert_true(json_equal(one, stored));
    json_decref(stored);

    /* the same as registering, then drafting, in two steps */
    cj = case_with_record("CM15-7300002");
    assert_int_equal(imr_svc_case_create(db, &INTAKE, cj, strlen(cj), T0, a, &out, &err), 0);
    free(cj);
    assert_int_equal(imr_svc_draft(db, &ADMIN, "CM15-7300002", T0, a, &out, &err), 0);
    json_t *two = parse(out), *d1 = item_decisions(one), *d2 = item_decisions(two);
    assert_true(json_array_size(d1) == 1);
    assert_true(json_equal(d1, d2));
    assert_int_equal(json_integer_value(json_object_get(two, "version")), 2);
    json_decref(d1);
    json_decref(d2);
    json_decref(two);
    json_decref(one);

    /* intake may register but not draft: refused before anything is stored */
    cj = case_with_record("CM15-7300003");
    assert_int_equal(imr_svc_case_create_draft(db, &INTAKE, cj, strlen(cj), 1, T0, a, &id, &out, &err), IMR_EX_USAGE);
    assert_int_equal(err.http, 403);
    assert_int_equal(imr_svc_case_get(db, &ADMIN, "CM15-7300003", T0, a, &out, &err), IMR_EX_NOINPUT);

    /* a failure at the draft's insert leaves no case, document, key or audit entry behind */
    const char *trap = pg ? "CREATE TRIGGER forced_draft_failure BEFORE INSERT ON determinations FOR EACH ROW"
                            " WHEN (NEW.case_id = 'CM15-7300003') EXECUTE FUNCTION imr_refuse_change('a test draft')"
                          : "CREATE TRIGGER forced_draft_failure BEFORE INSERT ON determinations"
                            " WHEN NEW.case_id = 'CM15-7300003' BEGIN SELECT RAISE(ABORT, 'forced failure'); END";
    if (imr_db_exec(db, trap, NULL, 0, NULL, NULL, &err))
        fail_msg("trigger: %s", err.message);
    memset(&err, 0, sizeof err);
    assert_int_not_equal(imr_svc_case_create_draft(db, &ADMIN, cj, strlen(cj), 1, T0, a, &id, &out, &err), 0);
    assert_int_equal(err.http, 409);
    assert_int_equal(imr_svc_case_get(db, &ADMIN, "CM15-7300003", T0, a, &out, &err), IMR_EX_NOINPUT);
    assert_int_equal(audit_count(db, "CM15-7300003", NULL, NULL), 0);
    static const char *const LEFT[] = {"SELECT COUNT(*) FROM cases WHERE id = $1",
                                       "SELECT COUNT(*) FROM documents WHERE case_id = $1",
                                       "SELECT COUNT(*) FROM dispute_keys WHERE case_id = $1",
                                       "SELECT COUNT(*) FROM case_views WHERE case_id = $1"};
    const char *params[] = {"CM15-7300003"};
    for (size_t i = 0; i < sizeof LEFT / sizeof LEFT[0]; i++) {
        imr_db_rows r;
        assert_int_equal(imr_db_exec(db, LEFT[i], params, 1, a, &r, &err), 0);
        assert_string_equal(imr_db_text(&r, 0, 0), "0");
    }
    /* without the trap the same request goes through */
    assert_int_equal(imr_db_exec(db, pg ? "DROP TRIGGER forced_draft_failure ON determinations"
                                        : "DROP TRIGGER forced_draft_failure", NULL, 0, NULL, NULL, &err), 0);
    assert_int_equal(imr_svc_case_create_draft(db, &ADMIN, cj, strlen(cj), 1, T0, a, &id, &out, &err), 0);
    assert_int_equal(audit_count(db, "CM15-7300003", NULL, NULL), 2);
    free(cj);

    /* bad input is refused with its path, as in a plain creation */
    const char *bad = "{\"case_number\": \"CM15-7300004\", \"claimant\": {\"age\": \"old\"}}";
    assert_int_equal(imr_svc_case_create_draft(db, &ADMIN, bad, strlen(bad), 1, T0, a, &id, &out, &err), IMR_EX_DATAERR);
    assert_int_equal(err.http, 400);
    assert_string_equal(err.where, "$.claimant.age");
    assert_int_equal(imr_svc_case_create_draft(db, &ADMIN, "{", 1, 1, T0, a, &id, &out, &err), IMR_EX_DATAERR);
    assert_int_equal(err.http, 400);
    imr_arena_free(a);
}

static void run_backend(int pg)
{
    imr_db *db = open_db(pg);
    workflow(db);
    lists(db);
    bad_input(db);
    stale_versions(db);
    create_with_draft(db, pg);
    close_db(db, pg);
}

static void sqlite_backend(void **state)
{
    (void)state;
    run_backend(0);
}

static void postgresql_backend(void **state)
{
    (void)state;
    run_backend(1);
}

/* ---------------------------------------------------------------- deadlines */

static void due_dates(void **state)
{
    (void)state;
    char due[11];
    assert_int_equal(imr_due_date("standard", "2015-09-01", NULL, due), 0);
    assert_string_equal(due, "2015-10-01");
    assert_int_equal(imr_due_date(NULL, "2015-12-15", NULL, due), 0); /* standard by default; over a year end */
    assert_string_equal(due, "2016-01-14");
    assert_int_equal(imr_due_date("expedited", "2016-02-27", NULL, due), 0); /* through a leap day */
    assert_string_equal(due, "2016-03-01");
    /* records later than the application: the clock starts with the records */
    assert_int_equal(imr_due_date("standard", "2015-09-01", "2015-09-20", due), 0);
    assert_string_equal(due, "2015-10-20");
    /* records before the application: the application's receipt counts */
    assert_int_equal(imr_due_date("standard", "2015-09-01", "2015-08-20", due), 0);
    assert_string_equal(due, "2015-10-01");
    assert_int_equal(imr_due_date("urgent", "2015-09-01", NULL, due), IMR_EX_DATAERR);
    assert_int_equal(imr_due_date("standard", "2015-02-30", NULL, due), IMR_EX_DATAERR);
    assert_int_equal(imr_due_date("standard", NULL, NULL, due), IMR_EX_DATAERR);

    /* day numbers back to dates, across centuries */
    const char *dates[] = {"1970-01-01", "1999-12-31", "2000-02-29", "2100-03-01", "1969-12-31", "0001-01-01", "2400-02-29"};
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        char iso[11];
        svc_date_from_days(imr_date_days(dates[i]), iso);
        assert_string_equal(iso, dates[i]);
    }
    /* overdue: days left below zero on open cases only */
    imr_arena *a = imr_arena_new();
    const char *v = svc_view_with_clock("{\"id\":\"x\"}", "in_review", "2015-10-01", "2015-10-02T00:00:00Z", NULL, a);
    assert_non_null(strstr(v, "\"days_left\":-1,\"overdue\":true,\"id\""));
    assert_string_equal(svc_view_with_clock("{\"id\":\"x\"}", "in_review", "2015-10-01", "2015-10-01T23:00:00Z", "{\"v\":1}", a),
                        "{\"days_left\":0,\"overdue\":false,\"id\":\"x\",\"determination\":{\"v\":1}}");
    assert_non_null(strstr(svc_view_with_clock("{\"id\":\"x\"}", "issued", "2015-10-01", "2016-01-01T00:00:00Z", NULL, a),
                           "\"days_left\":null,\"overdue\":false"));
    imr_arena_free(a);
}

int main(void)
{
    snprintf(sqlite_path, sizeof sqlite_path, "/tmp/imr-test-service-%ld.db", (long)getpid());
    snprintf(pg_schema, sizeof pg_schema, "svc_service_%ld", (long)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(due_dates),
        cmocka_unit_test(sqlite_backend),
        cmocka_unit_test(postgresql_backend),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char p[160];
    unlink(sqlite_path);
    snprintf(p, sizeof p, "%s-wal", sqlite_path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", sqlite_path);
    unlink(p);
    return rc;
}
