/*
 * test_eligibility.c - eligibility screening of IMR applications: every reason an application
 * is refused (unsigned, late with and without the days for mail, no UR decision attached, not
 * a medical-necessity dispute, a conditional non-certification, a duplicate), the notice an
 * ineligible case is closed with, and the rules file's own checks. The screening rules are
 * tested directly and through the service on SQLite and, when IMR_TEST_PG_URL is set,
 * PostgreSQL.
 */
#include "support.h"
#include "../src/service_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char sqlite_path[128];
static char pg_schema[64];

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

/* ---------------------------------------------------------------- the rules themselves */

static const svc_process *rules(void)
{
    imr_error err = {0};
    const svc_process *p = svc_process_rules(&err);
    if (!p)
        fail_msg("process.tsv: %s:%d: %s", err.where, err.line, err.message);
    return p;
}

/* An application that passes every check. */
static svc_application good(void)
{
    svc_application app = {0};
    app.case_id = "CM15-1";
    app.application_signed = "2015-08-25";
    app.application_received = "2015-09-01";
    app.ur_decision_date = "2015-08-19";
    app.ur_decision_attached = 1;
    app.duplicate_checked = 1;
    return app;
}

static int has_prefix(const imr_strlist *l, const char *prefix, const char *word)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strncmp(l->v[i], prefix, strlen(prefix)) && (!word || strstr(l->v[i], word)))
            return 1;
    return 0;
}

/* Screen `app`; expect exactly one reason when `word` is given (and it contains `word`). */
static void expect(const svc_application *app, const char *word)
{
    imr_arena *a = imr_arena_new();
    imr_eligibility e;
    svc_screen(rules(), app, a, &e);
    if (!word) {
        if (!e.eligible)
            fail_msg("expected eligible, refused: %s", e.reasons.v[0]);
        assert_int_equal(e.reasons.n, 0);
    } else {
        assert_false(e.eligible);
        assert_int_equal(e.reasons.n, 1);
        if (!strstr(e.reasons.v[0], word))
            fail_msg("reason \"%s\" does not say \"%s\"", e.reasons.v[0], word);
        assert_true(has_prefix(&e.checks, "failed: ", word));
    }
    assert_true(e.checks.n >= 6);
    imr_arena_free(a);
}

static void each_reason(void **state)
{
    (void)state;
    svc_application app = good();
    expect(&app, NULL);

    app = good();
    app.application_signed = NULL;
    expect(&app, "signature");

    /* 30 days after the UR decision is in time; 31 is not, unless the decision was mailed
     * (5 more days: 35 in time, 36 late) */
    app = good();
    app.application_received = "2015-09-18"; /* day 30 */
    expect(&app, NULL);
    app.application_received = "2015-09-19"; /* day 31 */
    expect(&app, "31 days");
    app.ur_decision_mailed = 1;
    expect(&app, NULL);
    app.application_received = "2015-09-23"; /* day 35 */
    expect(&app, NULL);
    app.application_received = "2015-09-24"; /* day 36 */
    expect(&app, "within 35 days");
    app = good();
    app.ur_decision_date = NULL;
    expect(&app, "not stated");

    app = good();
    app.ur_decision_attached = 0;
    expect(&app, "not attached");

    app = good();
    app.dispute_type = "liability";
    expect(&app, "liability");
    app.dispute_type = "medical_necessity";
    expect(&app, NULL);

    app = good();
    app.ur_conditional_noncertification = 1;
    expect(&app, "conditional non-certification");

    app = good();
    app.duplicate_of = "CM15-0000009";
    expect(&app, "CM15-0000009");

    /* several reasons at once, each stated */
    imr_arena *a = imr_arena_new();
    imr_eligibility e;
    app = good();
    app.application_signed = NULL;
    app.ur_decision_attached = 0;
    app.ur_conditional_noncertification = 1;
    svc_screen(rules(), &app, a, &e);
    assert_false(e.eligible);
    assert_int_equal(e.reasons.n, 3);

    /* when the dispute cannot be identified the duplicate check says it was not made */
    app = good();
    app.duplicate_checked = 0;
    svc_screen(rules(), &app, a, &e);
    assert_true(e.eligible);
    assert_true(has_prefix(&e.checks, "not checked: ", NULL));

    char deadline[11];
    app = good();
    svc_filing_deadline(rules(), &app, deadline);
    assert_string_equal(deadline, "2015-09-18");
    app.ur_decision_mailed = 1;
    svc_filing_deadline(rules(), &app, deadline);
    assert_string_equal(deadline, "2015-09-23");
    imr_arena_free(a);
}

static void dispute_keys(void **state)
{
    (void)state;
    imr_arena *a = imr_arena_new();
    imr_error err = {0};
    const char *one = "{\"case_number\": \"A\", \"claimant\": {}, \"date_of_injury\": \"2014-01-02\","
                      " \"ur_decision_date\": \"2015-08-19\", \"parties\": [{\"role\": \"employee\", \"name\": \"Jane Q. Worker\"}],"
                      " \"disputed_items\": [{\"request\": \"Norco 10/325 mg #60\"}], \"clinical_summary\": \"x\"}";
    const char *two = "{\"case_number\": \"B\", \"claimant\": {}, \"date_of_injury\": \"2014-01-02\","
                      " \"ur_decision_date\": \"2015-08-19\", \"parties\": [{\"role\": \"employee\", \"name\": \"jane q  worker\"}],"
                      " \"disputed_items\": [{\"request\": \"NORCO 10/325mg  #60\"}], \"clinical_summary\": \"x\"}";
    const char *other = "{\"case_number\": \"C\", \"claimant\": {}, \"date_of_injury\": \"2014-01-02\","
                        " \"ur_decision_date\": \"2015-08-20\", \"parties\": [{\"role\": \"employee\", \"name\": \"Jane Q. Worker\"}],"
                        " \"disputed_items\": [{\"request\": \"Norco 10/325 mg #60\"}], \"clinical_summary\": \"x\"}";
    const char *nobody = "{\"case_number\": \"D\", \"claimant\": {}, \"date_of_injury\": \"2014-01-02\","
                         " \"ur_decision_date\": \"2015-08-20\", \"disputed_items\": [{\"request\": \"Norco\"}],"
                         " \"clinical_summary\": \"x\"}";
    imr_case *c1, *c2, *c3, *c4;
    assert_int_equal(imr_case_from_json(one, strlen(one), "one", a, &c1, &err), 0);
    assert_int_equal(imr_case_from_json(two, strlen(two), "two", a, &c2, &err), 0);
    assert_int_equal(imr_case_from_json(other, strlen(other), "other", a, &c3, &err), 0);
    assert_int_equal(imr_case_from_json(nobody, strlen(nobody), "nobody", a, &c4, &err), 0);
    const char *k1 = svc_dispute_key(rules(), c1, 0, a), *k2 = svc_dispute_key(rules(), c2, 0, a);
    assert_non_null(k1);
    assert_string_equal(k1, k2); /* the same dispute, written differently */
    assert_string_not_equal(k1, svc_dispute_key(rules(), c3, 0, a)); /* another UR decision */
    assert_null(svc_dispute_key(rules(), c4, 0, a));                  /* nobody named */
    imr_arena_free(a);
}

/* Every broken process.tsv is refused with the file and the line. */
static void rules_file_errors(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "/tmp/imr-test-process-%ld.tsv", (long)getpid());
    char *good_text = ts_read(IMR_TESTS_DIR "/../rules/process.tsv", NULL);
    assert_non_null(good_text);
    struct {
        const char *from, *to, *says;
        int line; /* 1: the error names a line */
    } broken[] = {
        {"filing_window_days\t30", "filing_window_days\tthirty", "whole number", 1},
        {"filing_window_days\t30", "filing_windows_days\t30", "unknown number", 1},
        {"\n[texts]\n", "\n[txts]\n", "outside the sections", 1},
        {"mail_extension_days\t5", "expedited_review_days\t3", "given twice", 1},
        {"check.signed.passed\t", "check.signd.passed\t", "unknown wording", 1},
        {"legal_suffixes\tinc|", "legal_suffixes\t|inc|", "empty entry", 1},
        {"min_hours_per_week\t24", "# min_hours_per_week\t24", "min_hours_per_week is missing", 0},
    };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        const char *at = strstr(good_text, broken[i].from);
        assert_non_null(at);
        FILE *f = fopen(path, "w");
        fwrite(good_text, 1, (size_t)(at - good_text), f);
        fputs(broken[i].to, f);
        fputs(at + strlen(broken[i].from), f);
        fclose(f);
        svc_process *p = NULL;
        imr_error err = {0};
        if (svc_process_load(path, &p, &err) != IMR_EX_DATAERR)
            fail_msg("case %zu: the broken file was accepted", i);
        assert_string_equal(err.where, path);
        if (!strstr(err.message, broken[i].says))
            fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err.message, broken[i].says);
        if (broken[i].line)
            assert_true(err.line > 0);
    }
    svc_process *p = NULL;
    imr_error err = {0};
    assert_int_equal(svc_process_load("/nonexistent/process.tsv", &p, &err), IMR_EX_NOINPUT);
    unlink(path);
    free(good_text);

    imr_arena *a = imr_arena_new();
    const char *vars[] = {"case", "CM-1", "n", "3", NULL};
    assert_string_equal(svc_fill(a, "Case {case}: {n} of {n}, {unknown} {", vars), "Case CM-1: 3 of 3, {unknown} {");
    imr_arena_free(a);
}

/* ---------------------------------------------------------------- through the service */

static const imr_actor INTAKE = {"u-intake", "intake1", IMR_ROLE_INTAKE, NULL};
static const imr_actor ANALYST = {"u-analyst", "analyst1", IMR_ROLE_ANALYST, NULL};
static const imr_actor REVIEWER = {"u-rev", "rev1", IMR_ROLE_REVIEWER, "R-1"};

static const char *application(imr_arena *a, const char *number, const char *employee, const char *request,
                               const char *extra)
{
    return imr_arena_printf(a,
                            "{\"case_number\": \"%s\", \"claimant\": {\"age\": 50}, \"date_of_injury\": \"2014-01-02\","
                            " \"ur_decision_date\": \"2015-08-19\", \"application_received\": \"2015-09-02\","
                            " \"parties\": [{\"role\": \"employee\", \"name\": \"%s\"}],"
                            " \"disputed_items\": [{\"request\": \"%s\"}],"
                            " \"clinical_summary\": \"Chronic low back pain.\"%s}",
                            number, employee, request, extra);
}

static json_t *screened(imr_db *db, imr_arena *a, const char *json, const char *number)
{
    imr_error err = {0};
    const char *out = NULL;
    if (imr_svc_case_create(db, &INTAKE, json, strlen(json), "2015-09-02T09:00:00Z", a, &out, &err))
        fail_msg("create %s: %s: %s", number, err.where, err.message);
    if (imr_svc_case_screen(db, &INTAKE, number, "2015-09-03T09:00:00Z", a, &out, &err))
        fail_msg("screen %s: %s: %s", number, err.where, err.message);
    json_error_t je;
    json_t *v = json_loads(out, 0, &je);
    assert_non_null(v);
    return v;
}

static const char *status_of(json_t *c)
{
    return json_string_value(json_object_get(c, "status"));
}

static void service(imr_db *db)
{
    imr_arena *a = imr_arena_new();
    imr_error err = {0};
    const char *out = NULL;
    const char *ok = ", \"application_signed\": \"2015-08-30\", \"ur_decision_attached\": true";

    json_t *first = screened(db, a, application(a, "CM15-8000001", "Jane Q. Worker", "Norco 10/325 mg #60", ok),
                             "CM15-8000001");
    assert_string_equal(status_of(first), "eligible");
    json_decref(first);

    /* the same dispute again, written a little differently: a duplicate, closed with a notice */
    json_t *dup = screened(db, a, application(a, "CM15-8000002", "JANE Q WORKER", "norco 10/325mg  #60", ok),
                           "CM15-8000002");
    assert_string_equal(status_of(dup), "ineligible");
    assert_string_equal(json_string_value(json_object_get(dup, "duplicate_of")), "CM15-8000001");
    json_t *elig = json_object_get(dup, "eligibility");
    assert_true(json_is_false(json_object_get(elig, "eligible")));
    assert_int_equal(json_array_size(json_object_get(elig, "reasons")), 1);
    json_t *docs = json_object_get(dup, "documents");
    assert_int_equal(json_array_size(docs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(docs, 0), "kind")), "ineligibility_letter");
    assert_true(json_is_true(json_object_get(json_array_get(docs, 0), "has_html")));
    assert_true(json_is_null(json_object_get(dup, "days_left")));
    json_decref(dup);
    imr_db_value text, html, pdf;
    assert_int_equal(imr_svc_letter(db, &ANALYST, "CM15-8000002", 0, IMR_FORMAT_TEXT, a, &text, &err), 0);
    assert_non_null(strstr(text.data, "CM15-8000002"));
    assert_non_null(strstr(text.data, "CM15-8000001"));
    assert_int_equal(imr_svc_letter(db, &ANALYST, "CM15-8000002", 0, IMR_FORMAT_HTML, a, &html, &err), 0);
    assert_non_null(strstr(html.data, "<li>"));
    assert_int_equal(imr_svc_letter(db, &ANALYST, "CM15-8000002", 0, IMR_FORMAT_PDF, a, &pdf, &err), IMR_EX_NOINPUT);

    /* an earlier application that was itself ineligible does not make a later one a duplicate */
    json_t *unsigned_ = screened(db, a, application(a, "CM15-8000003", "Sam Other", "MRI lumbar spine",
                                                    ", \"ur_decision_attached\": true"),
                                 "CM15-8000003");
    assert_string_equal(status_of(unsigned_), "ineligible");
    char *why = json_dumps(json_object_get(unsigned_, "eligibility"), 0);
    assert_non_null(strstr(why, "signature"));
    free(why);
    json_decref(unsigned_);
    json_t *again = screened(db, a, application(a, "CM15-8000004", "Sam Other", "MRI lumbar spine", ok), "CM15-8000004");
    assert_string_equal(status_of(again), "eligible");
    json_decref(again);

    /* a UR decision attached as a document counts as attached */
    const char *no_flag = application(a, "CM15-8000005", "Kim Third", "Physical therapy 2x6",
                                      ", \"application_signed\": \"2015-08-30\","
                                      " \"documents\": [{\"kind\": \"ur_decision\", \"title\": \"UR letter\", \"text\": \"Denied.\"}]");
    json_t *attached = screened(db, a, no_flag, "CM15-8000005");
    assert_string_equal(status_of(attached), "eligible");
    json_decref(attached);

    /* each remaining reason closes the case and is stated in the eligibility result */
    struct {
        const char *number, *extra, *word;
    } refused[] = {
        {"CM15-8000006", ", \"application_signed\": \"2015-08-30\"", "not attached"},
        {"CM15-8000007", ", \"application_signed\": \"2015-08-30\", \"ur_decision_attached\": true,"
                         " \"dispute_type\": \"compensability\"", "compensability"},
        {"CM15-8000008", ", \"application_signed\": \"2015-08-30\", \"ur_decision_attached\": true,"
                         " \"ur_conditional_noncertification\": true", "conditional"},
        {"CM15-8000009", ", \"application_signed\": \"2015-08-30\", \"ur_decision_attached\": true,"
                         " \"application_received\": \"2015-09-25\"", "37 days"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        /* no application_received: the day of registration (2015-09-02) counts */
        const char *j = imr_arena_printf(a,
                                         "{\"case_number\": \"%s\", \"claimant\": {}, \"date_of_injury\": \"2014-01-02\","
                                         " \"ur_decision_date\": \"2015-08-19\", \"parties\": [{\"role\": \"employee\","
                                         " \"name\": \"Person %zu\"}], \"disputed_items\": [{\"request\": \"Lidoderm patch\"}],"
                                         " \"clinical_summary\": \"x\"%s}",
                                         refused[i].number, i, refused[i].extra);
        json_t *c = screened(db, a, j, refused[i].number);
        assert_string_equal(status_of(c), "ineligible");
        char *reasons = json_dumps(json_object_get(json_object_get(c, "eligibility"), "reasons"), 0);
        if (!strstr(reasons, refused[i].word))
            fail_msg("%s: reasons %s do not say \"%s\"", refused[i].number, reasons, refused[i].word);
        free(reasons);
        json_decref(c);
    }

    /* screening is done once, by intake or an administrator */
    assert_int_equal(imr_svc_case_screen(db, &INTAKE, "CM15-8000001", "2015-09-04T09:00:00Z", a, &out, &err),
                     IMR_EX_DATAERR);
    assert_int_equal(err.http, 409);
    assert_int_equal(imr_svc_case_screen(db, &ANALYST, "CM15-8000001", "2015-09-04T09:00:00Z", a, &out, &err),
                     IMR_EX_USAGE);
    assert_int_equal(imr_svc_case_screen(db, &REVIEWER, "CM15-8000001", "2015-09-04T09:00:00Z", a, &out, &err),
                     IMR_EX_NOINPUT);
    /* the screening left its audit entry, with the result in "after" */
    assert_int_equal(imr_svc_audit_list(db, &ANALYST, "CM15-8000002", 0, a, &out, &err), 0);
    assert_non_null(strstr(out, "\"action\":\"case.screen\""));
    assert_non_null(strstr(out, "\"duplicate_of\":\"CM15-8000001\""));
    imr_arena_free(a);
}

static void run_backend(int pg)
{
    imr_db *db = open_db(pg);
    service(db);
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

int main(void)
{
    snprintf(sqlite_path, sizeof sqlite_path, "/tmp/imr-test-eligibility-%ld.db", (long)getpid());
    snprintf(pg_schema, sizeof pg_schema, "svc_eligibility_%ld", (long)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_reason),
        cmocka_unit_test(dispute_keys),
        cmocka_unit_test(rules_file_errors),
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
