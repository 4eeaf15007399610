/*
 * test_assign.c - choosing the expert reviewer: each qualification rule (California licence,
 * more than five years, at least 24 hours a week, a same or similar specialty), the specialty
 * map's clinical sense (similar only for the kinds of treatment a group holds for; scopes of
 * practice that stop chiropractors, acupuncturists, psychologists and podiatrists short of
 * drugs, injections and surgery), conflicts of interest with names compared after legal
 * suffixes are trimmed, balancing by open caseload with a deterministic tie-break, manual
 * overrides with and without a reason, and the candidates of a case rule by rule; directly
 * and through the service on SQLite and, when IMR_TEST_PG_URL is set, PostgreSQL.
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

static const svc_process *proc(void)
{
    imr_error err = {0};
    const svc_process *p = svc_process_rules(&err);
    if (!p)
        fail_msg("%s:%d: %s", err.where, err.line, err.message);
    return p;
}

static const svc_specialties *spec(void)
{
    imr_error err = {0};
    const svc_specialties *s = svc_specialty_rules(&err);
    if (!s)
        fail_msg("%s:%d: %s", err.where, err.line, err.message);
    return s;
}

/* ---------------------------------------------------------------- names and licences */

static void names(void **state)
{
    (void)state;
    imr_arena *a = imr_arena_new();
    const svc_process *p = proc();
    struct {
        const char *x, *y;
        int same;
    } pairs[] = {
        {"The Golden State Insurance Company, Inc.", "golden state insurance", 1},
        {"Acme Holdings, L.L.C.", "ACME HOLDINGS LLC", 1},
        {"Acme Holdings Corp.", "Acme Holdings", 1},
        {"Dr. John Smith, M.D.", "John Smith MD", 1},
        {"Bay Orthopedic Medical Group, A Professional Corporation", "Bay Orthopedic Medical", 1},
        {"  Example   Claims\tServices ", "example claims services", 1},
        {"Acme Holdings", "Acme Holding", 0},
        {"Acme West, Inc.", "Acme East, Inc.", 0},
        {"Inc.", "LLC", 0}, /* a name made only of a suffix is kept as written */
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const char *kx = svc_name_key(p, pairs[i].x, a), *ky = svc_name_key(p, pairs[i].y, a);
        if ((strcmp(kx, ky) == 0) != pairs[i].same)
            fail_msg("\"%s\" -> \"%s\" and \"%s\" -> \"%s\" should %s", pairs[i].x, kx, pairs[i].y, ky,
                     pairs[i].same ? "match" : "differ");
    }
    assert_string_equal(svc_name_key(p, "The Acme Co., Inc.", a), "acme");
    assert_string_equal(svc_name_key(p, NULL, a), "");

    imr_strlist l = {0};
    assert_false(svc_licensed(p, &l));
    imr_strlist_push(&l, a, "Nevada");
    assert_false(svc_licensed(p, &l));
    imr_strlist_push(&l, a, " california ");
    assert_true(svc_licensed(p, &l));
    imr_strlist ca = {0};
    imr_strlist_push(&ca, a, "CA");
    assert_true(svc_licensed(p, &ca));
    imr_arena_free(a);
}

/* ---------------------------------------------------------------- the specialty map */

static int wants(const svc_specialties *s, const char *request, const char *dx, const char *specialty)
{
    imr_arena *a = imr_arena_new();
    imr_treatment t;
    imr_request_parse(request, imr_default_lexicon(NULL), a, &t);
    imr_strlist d = {0};
    if (dx)
        imr_strlist_push(&d, a, dx);
    int *v;
    size_t n;
    svc_item_specialties(s, &t, &d, a, &v, &n);
    int k = svc_specialty_find(s, specialty), found = 0;
    for (size_t i = 0; i < n; i++)
        found |= v[i] == k;
    imr_arena_free(a);
    return found;
}

static void specialty_map(void **state)
{
    (void)state;
    const svc_specialties *s = spec();
    assert_true(wants(s, "Norco 10/325mg #120", NULL, "Pain Medicine"));
    assert_false(wants(s, "Norco 10/325mg #120", NULL, "Orthopaedic Surgery"));
    assert_true(wants(s, "Lumbar fusion L4-5", NULL, "Neurological Surgery"));
    assert_false(wants(s, "Lumbar fusion L4-5", NULL, "Family Practice"));
    assert_true(wants(s, "Right carpal tunnel release", NULL, "Hand Surgery"));
    assert_true(wants(s, "Acupuncture x 6 sessions", NULL, "Acupuncture"));
    assert_true(wants(s, "EMG/NCV bilateral upper extremities", NULL, "Neurology"));
    assert_true(wants(s, "Zoloft 50mg #30", "major depression", "Psychiatry")); /* the diagnosis line */
    assert_false(wants(s, "Zoloft 50mg #30", "major depression", "Psychology")); /* psychologists do not prescribe */
    assert_true(wants(s, "Psychotherapy x 6", "major depression", "Psychology"));
    assert_true(wants(s, "Spinal cord stimulator trial", NULL, "Pain Medicine")); /* "spinal cord stimulator, trial" */
    /* similar: sharing a group whose conditions the item meets; surgeons only to surgeons */
    imr_arena *a = imr_arena_new();
    imr_treatment opioid, spine_surgery, pt;
    imr_request_parse("Norco 10/325mg #120", imr_default_lexicon(NULL), a, &opioid);
    imr_request_parse("Lumbar fusion L4-5", imr_default_lexicon(NULL), a, &spine_surgery);
    imr_request_parse("Physical therapy 2x6 lumbar spine", imr_default_lexicon(NULL), a, &pt);
    int pmr = svc_specialty_find(s, "Physical Medicine and Rehabilitation");
    int pain = svc_specialty_find(s, "pain medicine");
    int ortho = svc_specialty_find(s, "Orthopedic Surgery"); /* an alias */
    int spine = svc_specialty_find(s, "Spine Surgery");
    int fp = svc_specialty_find(s, "Family Medicine");
    int chiro = svc_specialty_find(s, "Chiropractor");
    assert_true(pmr >= 0 && pain >= 0 && ortho >= 0 && spine >= 0 && fp >= 0 && chiro >= 0);
    assert_string_equal(svc_specialty_name(s, ortho), "Orthopaedic Surgery");
    assert_true(svc_specialty_similar(s, pmr, pain, &opioid, NULL));
    assert_true(svc_specialty_similar(s, ortho, spine, &spine_surgery, NULL));
    assert_false(svc_specialty_similar(s, fp, ortho, &spine_surgery, NULL));
    assert_false(svc_specialty_similar(s, pmr, ortho, &spine_surgery, NULL));
    /* the group of manual medicine holds for physical medicine, not for drugs */
    assert_true(svc_specialty_similar(s, chiro, pmr, &pt, NULL));
    assert_false(svc_specialty_similar(s, chiro, pmr, &opioid, NULL));
    /* and a chiropractor reviews physical medicine only, whatever a group says */
    assert_true(svc_specialty_may_review(s, chiro, &pt, NULL));
    assert_false(svc_specialty_may_review(s, chiro, &opioid, NULL));
    assert_true(svc_specialty_may_review(s, pmr, &opioid, NULL));
    assert_int_equal(svc_specialty_find(s, "Astrology"), -1);
    imr_arena_free(a);
}

static void specialty_file_errors(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "/tmp/imr-test-specialties-%ld.tsv", (long)getpid());
    struct {
        const char *text, *says;
        int line; /* the line the error names (0: not checked) */
    } broken[] = {
        {"[groups]\npain\tPain Medicine|Anesthesiology\t*\n[treats]\nkind=drug\tAstrology\n", "not a specialty", 0},
        {"[groups]\npain\tPain Medicine|Anesthesiology\t*\n[treats]\nkind=potion\tPain Medicine\n", "not a treatment kind", 0},
        {"[groups]\npain\tPain Medicine|Anesthesiology\t*\n[treats]\nkind=drug|elixir\tPain Medicine\n", "not a treatment kind", 0},
        {"[groups]\npain\tPain Medicine|Anesthesiology\t*\n[treats]\nkind=drug; class=elixir\tPain Medicine\n", "not a drug class", 0},
        {"[groups]\npain\tPain Medicine|Anesthesiology\t*\n[treats]\ncolour=red\tPain Medicine\n", "unknown field", 0},
        {"[groups]\npain\tPain Medicine|Anesthesiology\t*\n[treats]\nkind=drug|\tPain Medicine\n", "separated by '|'", 0},
        {"[groups]\npain\tPain Medicine\t*\n", "at least two", 0},
        /* every group says for which items it holds */
        {"[groups]\npain\tPain Medicine|Anesthesiology\n", "the items it holds for", 0},
        {"[groups]\npain\tPain Medicine|Anesthesiology\tkind=sorcery\n", "not a treatment kind", 0},
        {"[groups]\npain\tPain Medicine|Anesthesiology\t*\n[aliases]\nPM\tPodiatry\n", "not a specialty", 0},
        {"[groups]\npain\tPain Medicine|Anesthesiology\t*\n[limits]\nPodiatry\tbody_part=foot\n", "not a specialty", 0},
        {"[groups]\npain\tPain Medicine|Anesthesiology\t*\n[limits]\nPain Medicine\t*\n", "condition", 0},
        /* a [treats] line may not name a specialty for items its limits exclude */
        {"[groups]\nmanual\tChiropractic|Physical Medicine and Rehabilitation\tkind=physical_medicine\n"
         "[limits]\nChiropractic\tkind=physical_medicine\n"
         "[treats]\nkind=physical_medicine\tChiropractic\nkind=drug\tPhysical Medicine and Rehabilitation|Chiropractic\n",
         "\"Chiropractic\" is listed for items its [limits] line excludes", 7},
        {"[groups]\npain\tPain Medicine|Anesthesiology\t*\n", "no [treats]", 0},
        {"pain\tPain Medicine|Anesthesiology\t*\n", "outside the sections", 0},
    };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        FILE *f = fopen(path, "w");
        fputs(broken[i].text, f);
        fclose(f);
        svc_specialties *s = NULL;
        imr_error err = {0};
        if (svc_specialties_load(path, &s, &err) != IMR_EX_DATAERR)
            fail_msg("case %zu was accepted", i);
        assert_string_equal(err.where, path);
        if (!strstr(err.message, broken[i].says))
            fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err.message, broken[i].says);
        if (broken[i].line && err.line != broken[i].line)
            fail_msg("case %zu: the error names line %d, not %d", i, err.line, broken[i].line);
    }
    unlink(path);
}

/* ---------------------------------------------------------------- each rule */

static void needs_for(const char *request, imr_arena *a, svc_case_needs *need)
{
    char *json = imr_arena_printf(a,
                                  "{\"case_number\": \"T\", \"claimant\": {}, \"date_of_injury\": \"2014-01-02\","
                                  " \"parties\": [{\"role\": \"employer\", \"name\": \"Acme Holdings, Inc.\"},"
                                  " {\"role\": \"requesting_provider\", \"name\": \"Dr. Pat Doe, M.D.\"}],"
                                  " \"disputed_items\": [{\"request\": \"%s\"}], \"clinical_summary\": \"x\"}",
                                  request);
    imr_case *c;
    imr_error err = {0};
    assert_int_equal(imr_case_from_json(json, strlen(json), "t", a, &c, &err), 0);
    svc_case_needs_build(proc(), spec(), c, imr_default_lexicon(NULL), NULL, a, need);
}

static svc_candidate candidate(imr_arena *a, const char *id, const char *specialty)
{
    svc_candidate c = {0};
    c.id = id;
    c.active = 1;
    imr_strlist_push(&c.specialties, a, specialty);
    imr_strlist_push(&c.licensure, a, "California");
    c.years_in_practice = 10;
    c.hours_per_week = 30;
    c.capacity = 10;
    return c;
}

static svc_assessment assess(const svc_case_needs *need, const svc_candidate *c, imr_arena *a)
{
    svc_assessment as;
    svc_assess(proc(), spec(), need, c, a, &as);
    return as;
}

static void each_rule(void **state)
{
    (void)state;
    imr_arena *a = imr_arena_new();
    svc_case_needs need;
    needs_for("Norco 10/325mg #120", a, &need);

    svc_candidate c = candidate(a, "R-1", "Pain Medicine");
    svc_assessment as = assess(&need, &c, a);
    assert_true(as.qualified);
    assert_int_equal(as.problems.n, 0);
    assert_string_equal(as.matches.v[0], "same: Pain Medicine");

    c = candidate(a, "R-1", "Anesthesiology"); /* listed for opioids */
    assert_true(assess(&need, &c, a).qualified);
    c = candidate(a, "R-1", "Sports Medicine"); /* similar to PM&R and Occupational Medicine */
    as = assess(&need, &c, a);
    assert_true(as.qualified);
    assert_non_null(strstr(as.matches.v[0], "similar"));

    c = candidate(a, "R-1", "Pain Medicine");
    c.licensure.n = 0;
    imr_strlist_push(&c.licensure, a, "Nevada");
    as = assess(&need, &c, a);
    assert_true(as.refused);
    assert_false(as.licensed);

    c = candidate(a, "R-1", "Pain Medicine");
    c.years_in_practice = 5; /* "more than five years" */
    assert_true(assess(&need, &c, a).refused);
    c.years_in_practice = 6;
    assert_true(assess(&need, &c, a).qualified);
    c.years_in_practice = -1;
    assert_true(assess(&need, &c, a).refused);

    c = candidate(a, "R-1", "Pain Medicine");
    c.hours_per_week = 23;
    assert_true(assess(&need, &c, a).refused);
    c.hours_per_week = 24;
    assert_true(assess(&need, &c, a).qualified);

    c = candidate(a, "R-1", "Pain Medicine");
    c.active = 0;
    assert_true(assess(&need, &c, a).refused);

    /* conflicts: any party, names compared after trimming legal suffixes and titles */
    svc_affiliation aff[] = {{"employer", "ACME HOLDINGS LLC"}};
    c = candidate(a, "R-1", "Pain Medicine");
    c.affiliations = aff;
    c.n_affiliations = 1;
    as = assess(&need, &c, a);
    assert_true(as.refused);
    assert_string_equal(as.conflict, "employer Acme Holdings, Inc.");
    svc_affiliation prov[] = {{"provider", "Pat Doe MD"}};
    c.affiliations = prov;
    assert_true(assess(&need, &c, a).refused);
    svc_affiliation other[] = {{"insurer", "Acme Holdings West"}};
    c.affiliations = other;
    assert_true(assess(&need, &c, a).qualified);

    /* a specialty neither the same nor similar: not qualified, but not refused outright */
    c = candidate(a, "R-1", "Orthopaedic Surgery");
    as = assess(&need, &c, a);
    assert_false(as.qualified);
    assert_false(as.refused);
    assert_false(as.specialty_ok);
    c = candidate(a, "R-1", "Astrology");
    assert_false(assess(&need, &c, a).specialty_ok);

    /* a full caseload */
    c = candidate(a, "R-1", "Pain Medicine");
    c.open_cases = 10;
    as = assess(&need, &c, a);
    assert_false(as.qualified);
    assert_false(as.refused);
    assert_false(as.has_capacity);

    /* surgery goes to surgeons */
    svc_case_needs surgery;
    needs_for("L4-5 laminectomy lumbar spine", a, &surgery);
    c = candidate(a, "R-1", "Neurological Surgery");
    assert_true(assess(&surgery, &c, a).qualified);
    c = candidate(a, "R-1", "Physical Medicine and Rehabilitation");
    assert_false(assess(&surgery, &c, a).qualified);
    imr_arena_free(a);
}

/* Who may review what: one line per request and specialty. Each "no" here was a "yes"
 * under the first specialty map, where groups made specialties similar for every item. */
static void clinical_fit(void **state)
{
    (void)state;
    static const struct {
        const char *request, *diagnosis, *specialty;
        int suits;
    } fit[] = {
        /* drugs go to prescribers */
        {"Norco 10/325mg #120", NULL, "Chiropractic", 0},
        {"Norco 10/325mg #120", NULL, "Acupuncture", 0},
        {"Norco 10/325mg #120", NULL, "Physical Therapy", 0},
        {"Norco 10/325mg #120", NULL, "Psychology", 0},
        {"Norco 10/325mg #120", NULL, "Physical Medicine and Rehabilitation", 1},
        {"Norco 10/325mg #120", NULL, "Psychiatry", 1}, /* addiction medicine: opioids */
        {"Norco 10/325mg #120", NULL, "Sports Medicine", 1},
        {"Gabapentin 600mg #90", NULL, "Chiropractic", 0},
        {"Zoloft 50mg #30", "major depression", "Psychology", 0},
        {"Zoloft 50mg #30", "major depression", "Psychiatry", 1},
        {"Ambien 10mg #30", NULL, "Sleep Medicine", 1},
        {"Gabapentin 600mg #90", NULL, "Pulmonary Disease", 0}, /* sleep is not a reason */
        /* injections go to those who inject */
        {"Lumbar ESI L4-5", NULL, "Chiropractic", 0},
        {"Lumbar ESI L4-5", NULL, "Psychiatry", 0},
        {"Lumbar ESI L4-5", NULL, "Occupational Medicine", 0},
        {"Lumbar ESI L4-5", NULL, "Anesthesiology", 1},
        {"Lumbar ESI L4-5", NULL, "Spine Surgery", 1},
        {"Knee injection", NULL, "Sports Medicine", 1},
        /* surgery goes to surgeons of the region */
        {"Lumbar fusion L4-5", NULL, "Chiropractic", 0},
        {"Lumbar fusion L4-5", NULL, "Podiatry", 0},
        {"Lumbar fusion L4-5", NULL, "Hand Surgery", 0},
        {"Lumbar fusion L4-5", NULL, "Spine Surgery", 1},
        {"Right carpal tunnel release", NULL, "Plastic Surgery", 1},
        {"Right carpal tunnel release", NULL, "Podiatry", 0},
        {"Left foot surgery", NULL, "Podiatry", 1},
        {"Right knee arthroscopy", NULL, "Podiatry", 0},
        {"Spinal cord stimulator trial", NULL, "Physical Medicine and Rehabilitation", 1},
        {"Spinal cord stimulator trial", NULL, "Psychiatry", 0},
        /* manual medicine and acupuncture within their own field */
        {"Chiropractic treatment 2x6 lumbar spine", NULL, "Chiropractic", 1},
        {"Physical therapy 2x6 lumbar spine", NULL, "Chiropractic", 1},
        {"Acupuncture x 6 sessions", NULL, "Acupuncture", 1},
        {"Physical therapy 2x6 lumbar spine", NULL, "Acupuncture", 0},
        {"TENS unit purchase", NULL, "Acupuncture", 0},
        {"Biofeedback x 6", NULL, "Psychology", 1},
        {"Psychotherapy x 6", "anxiety", "Psychology", 1},
    };
    imr_arena *a = imr_arena_new();
    int wrong = 0;
    for (size_t i = 0; i < sizeof fit / sizeof fit[0]; i++) {
        svc_case_needs need;
        char *json = imr_arena_printf(a,
                                      "{\"case_number\": \"T\", \"claimant\": {}, \"date_of_injury\": \"2014-01-02\","
                                      " \"disputed_items\": [{\"request\": \"%s\"}], \"clinical_summary\": \"x\"}",
                                      fit[i].request);
        imr_case *c;
        imr_error err = {0};
        assert_int_equal(imr_case_from_json(json, strlen(json), "t", a, &c, &err), 0);
        imr_strlist dx = {0};
        if (fit[i].diagnosis)
            imr_strlist_push(&dx, a, fit[i].diagnosis);
        svc_case_needs_build(proc(), spec(), c, imr_default_lexicon(NULL), &dx, a, &need);
        svc_candidate cand = candidate(a, "R-1", fit[i].specialty);
        svc_assessment as = assess(&need, &cand, a);
        if (as.specialty_ok != fit[i].suits || as.qualified != fit[i].suits) {
            print_error("%s for \"%s\"%s%s: expected %s, the assessment says %s\n", fit[i].specialty, fit[i].request,
                        fit[i].diagnosis ? " with " : "", fit[i].diagnosis ? fit[i].diagnosis : "",
                        fit[i].suits ? "a fit" : "no fit", as.matches.v[0]);
            wrong++;
        }
    }
    imr_arena_free(a);
    if (wrong)
        fail_msg("%d of %zu fits are wrong", wrong, sizeof fit / sizeof fit[0]);
}

static void balancing(void **state)
{
    (void)state;
    imr_arena *a = imr_arena_new();
    svc_candidate c[4];
    svc_assessment as[4];
    memset(as, 0, sizeof as);
    c[0] = candidate(a, "R-C", "Pain Medicine"); /* 5 of 10: half full */
    c[0].open_cases = 5;
    c[1] = candidate(a, "R-B", "Pain Medicine"); /* 2 of 8: a quarter */
    c[1].open_cases = 2;
    c[1].capacity = 8;
    c[2] = candidate(a, "R-D", "Pain Medicine"); /* 1 of 4: a quarter, fewer open cases */
    c[2].open_cases = 1;
    c[2].capacity = 4;
    c[3] = candidate(a, "R-A", "Pain Medicine"); /* empty, but not qualified */
    for (int i = 0; i < 4; i++)
        as[i].qualified = i != 3;
    assert_int_equal(svc_pick(c, as, 4), 2);
    c[1].open_cases = 1;
    c[1].capacity = 4; /* now R-B and R-D are equal: the id decides */
    assert_int_equal(svc_pick(c, as, 4), 1);
    as[1].qualified = as[2].qualified = as[0].qualified = 0;
    assert_int_equal(svc_pick(c, as, 4), -1);
    imr_arena_free(a);
}

/* ---------------------------------------------------------------- through the service */

static const imr_actor ADMIN = {"u-admin", "admin", IMR_ROLE_ADMIN, NULL};
static const imr_actor INTAKE = {"u-intake", "intake1", IMR_ROLE_INTAKE, NULL};
static const char *T = "2015-09-02T09:00:00Z";

static void put(imr_db *db, imr_arena *a, const char *id, const char *specialty, const char *state,
                const char *extra)
{
    const char *profile = imr_arena_printf(a,
                                           "{\"specialties\": [\"%s\"], \"licensure\": [\"%s\"],"
                                           " \"years_in_practice\": 15, \"hours_per_week\": 32, \"capacity\": 3%s}",
                                           specialty, state, extra);
    imr_error err = {0};
    const char *out;
    if (imr_svc_reviewer_put(db, &ADMIN, id, profile, strlen(profile), T, a, &out, &err))
        fail_msg("reviewer %s: %s: %s", id, err.where, err.message);
}

static void eligible_case(imr_db *db, imr_arena *a, const char *number, const char *request)
{
    const char *json = imr_arena_printf(a,
                                        "{\"case_number\": \"%s\", \"claimant\": {}, \"date_of_injury\": \"2014-01-02\","
                                        " \"ur_decision_date\": \"2015-08-19\", \"application_signed\": \"2015-08-20\","
                                        " \"ur_decision_attached\": true,"
                                        " \"parties\": [{\"role\": \"employee\", \"name\": \"Worker %s\"},"
                                        " {\"role\": \"claims_administrator\", \"name\": \"Harbor Claims, Inc.\"}],"
                                        " \"disputed_items\": [{\"request\": \"%s\"}], \"clinical_summary\": \"x\"}",
                                        number, number, request);
    imr_error err = {0};
    const char *out;
    if (imr_svc_case_create(db, &INTAKE, json, strlen(json), T, a, &out, &err) ||
        imr_svc_case_screen(db, &INTAKE, number, T, a, &out, &err))
        fail_msg("%s: %s: %s", number, err.where, err.message);
    if (!strstr(out, "\"status\":\"eligible\""))
        fail_msg("%s was not found eligible: %.400s", number, out);
}

static const char *assigned_to(const char *view, imr_arena *a)
{
    json_t *v = json_loads(view, 0, NULL);
    const char *id = imr_arena_strdup(a, json_string_value(json_object_get(json_object_get(v, "reviewer"), "id")));
    json_decref(v);
    return id;
}

static int open_cases(imr_db *db, const char *id)
{
    imr_arena *a = imr_arena_new();
    imr_db_rows r;
    imr_error err = {0};
    const char *p[] = {id};
    assert_int_equal(imr_db_exec(db, "SELECT open_cases FROM reviewers WHERE id = $1", p, 1, a, &r, &err), 0);
    int n = atoi(imr_db_text(&r, 0, 0));
    imr_arena_free(a);
    return n;
}

static json_t *member(json_t *list, const char *id)
{
    json_t *arr = json_object_get(list, "candidates");
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(arr, i), "id")), id))
            return json_array_get(arr, i);
    fail_msg("%s is not among the candidates", id);
    return NULL;
}

static int rule(json_t *m, const char *name)
{
    json_t *v = json_object_get(json_object_get(m, "rules"), name);
    if (!json_is_boolean(v))
        fail_msg("rule %s is missing", name);
    return json_is_true(v);
}

/* CM15-9000007 with the panel of service(): how each member fits, rule by rule. */
static void candidates(imr_db *db, imr_arena *a)
{
    static const imr_actor REV_PAIN1 = {"u-p1", "drpain1", IMR_ROLE_REVIEWER, "R-PAIN-1"};
    static const imr_actor ANALYST = {"u-an", "analyst1", IMR_ROLE_ANALYST, NULL};
    const char *out = NULL;
    imr_error err = {0};
    assert_int_equal(imr_svc_case_candidates(db, &ANALYST, "CM15-9000007", T, a, &out, &err), 0);
    json_t *l = json_loads(out, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(l, "candidates")), 6);
    assert_true(json_is_null(json_object_get(l, "automatic_choice"))); /* nobody is free */
    json_t *items = json_object_get(l, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "kind")), "drug");

    json_t *m = member(l, "R-HARBOR"); /* a conflict: refused even by hand */
    assert_false(rule(m, "conflict_free"));
    assert_true(rule(m, "licensed") && rule(m, "specialty"));
    assert_false(json_is_true(json_object_get(m, "qualified")));
    assert_false(json_is_true(json_object_get(m, "manual_allowed")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(m, "conflicts"), 0)),
                        "claims administrator Harbor Claims, Inc.");
    m = member(l, "R-NV");
    assert_false(rule(m, "licensed"));
    assert_false(json_is_true(json_object_get(m, "manual_allowed")));
    m = member(l, "R-CHIRO"); /* no fitting specialty: may be overridden by hand, with a reason */
    assert_false(rule(m, "specialty"));
    assert_true(rule(m, "conflict_free") && rule(m, "licensed") && rule(m, "capacity"));
    assert_true(json_is_true(json_object_get(m, "manual_allowed")));
    json_t *fit = json_array_get(json_object_get(m, "specialty_fit"), 0);
    assert_string_equal(json_string_value(json_object_get(fit, "request")), "Norco 10/325mg #120");
    assert_false(json_is_true(json_object_get(fit, "ok")));
    assert_non_null(strstr(json_string_value(json_array_get(json_object_get(m, "reasons"), 0)), "no specialty"));
    m = member(l, "R-PAIN-2"); /* full */
    assert_false(rule(m, "capacity"));
    assert_true(rule(m, "specialty"));
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(m, "specialty_fit"), 0), "fit")),
                        "same: Pain Medicine");
    json_decref(l);

    /* a reviewer sees only their own row, and only of their own cases */
    assert_int_equal(imr_svc_case_candidates(db, &REV_PAIN1, "CM15-9000007", T, a, &out, &err), IMR_EX_NOINPUT);
    assert_int_equal(err.http, 404);
    assert_int_equal(imr_svc_case_candidates(db, &REV_PAIN1, "CM15-9000005", T, a, &out, &err), 0);
    l = json_loads(out, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(l, "candidates")), 1);
    m = member(l, "R-PAIN-1");
    assert_true(json_is_true(json_object_get(m, "current")));
    json_decref(l);
    assert_int_equal(imr_svc_case_candidates(db, &ANALYST, "CM15-0000000", T, a, &out, &err), IMR_EX_NOINPUT);
}

static void service(imr_db *db)
{
    imr_arena *a = imr_arena_new();
    imr_error err = {0};
    const char *out = NULL;
    put(db, a, "R-PAIN-2", "Pain Medicine", "California", "");
    put(db, a, "R-PAIN-1", "Pain Medicine", "California", "");
    put(db, a, "R-HARBOR", "Pain Medicine", "California",
        ", \"affiliations\": [{\"kind\": \"claims_administrator\", \"name\": \"HARBOR CLAIMS LLC\"}]");
    put(db, a, "R-NV", "Pain Medicine", "Nevada", "");
    put(db, a, "R-ORTHO", "Orthopaedic Surgery", "California", "");
    put(db, a, "R-CHIRO", "Chiropractic", "California", ""); /* the least loaded, first by id */
    /* the panel as intake sees it: six members, R-NV not licensed where it matters */
    assert_int_equal(imr_svc_reviewer_list(db, &INTAKE, a, &out, &err), 0);
    json_t *pl = json_loads(out, 0, NULL), *members = json_object_get(pl, "reviewers");
    assert_int_equal(json_array_size(members), 6);
    json_t *nv = json_array_get(members, 2);
    assert_string_equal(json_string_value(json_object_get(nv, "id")), "R-NV");
    assert_true(json_is_false(json_object_get(json_object_get(nv, "qualifications"), "licensed")));
    json_decref(pl);
    /* changing a profile says what is wrong with it and leaves an audit entry */
    const char *nv_profile = "{\"specialties\": [\"Pain Medicine\", \"Astrology\"], \"licensure\": [\"Nevada\"],"
                             " \"years_in_practice\": 15, \"hours_per_week\": 32}";
    assert_int_equal(imr_svc_reviewer_put(db, &ADMIN, "R-NV", nv_profile, strlen(nv_profile), T, a, &out, &err), 0);
    assert_non_null(strstr(out, "not licensed in California"));
    assert_non_null(strstr(out, "\\\"Astrology\\\" is not a specialty"));
    assert_int_equal(imr_svc_audit_list(db, &ADMIN, "R-NV", 0, a, &out, &err), 0);
    assert_non_null(strstr(out, "\"action\":\"reviewer.update\""));
    assert_non_null(strstr(out, "\"action\":\"reviewer.create\""));

    /* balanced: each goes to the least loaded; equal loads go by id */
    for (int i = 1; i <= 4; i++) {
        char number[32];
        snprintf(number, sizeof number, "CM15-900000%d", i);
        eligible_case(db, a, number, "Norco 10/325mg #120");
        assert_int_equal(imr_svc_case_assign(db, &INTAKE, number, NULL, NULL, T, a, &out, &err), 0);
        assert_string_equal(assigned_to(out, a), i % 2 ? "R-PAIN-1" : "R-PAIN-2");
    }
    assert_int_equal(open_cases(db, "R-PAIN-1"), 2);
    assert_int_equal(open_cases(db, "R-PAIN-2"), 2);
    assert_int_equal(open_cases(db, "R-CHIRO"), 0); /* a chiropractor never gets an opioid */

    /* an automatic reassignment goes to someone else, and the caseloads follow */
    assert_int_equal(imr_svc_case_assign(db, &INTAKE, "CM15-9000001", NULL, NULL, T, a, &out, &err), 0);
    assert_string_equal(assigned_to(out, a), "R-PAIN-2");
    assert_int_equal(open_cases(db, "R-PAIN-1"), 1);
    assert_int_equal(open_cases(db, "R-PAIN-2"), 3);

    /* R-PAIN-2 is full (3 of 3); R-PAIN-1 takes the next; then nobody is free */
    eligible_case(db, a, "CM15-9000005", "Norco 10/325mg #120");
    eligible_case(db, a, "CM15-9000006", "Norco 10/325mg #120");
    eligible_case(db, a, "CM15-9000007", "Norco 10/325mg #120");
    /* the candidates name whom automatic assignment will choose, before it does */
    assert_int_equal(imr_svc_case_candidates(db, &INTAKE, "CM15-9000005", T, a, &out, &err), 0);
    json_t *cl = json_loads(out, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(cl, "automatic_choice")), "R-PAIN-1");
    json_decref(cl);
    assert_int_equal(imr_svc_case_assign(db, &INTAKE, "CM15-9000005", NULL, NULL, T, a, &out, &err), 0);
    assert_string_equal(assigned_to(out, a), "R-PAIN-1");
    assert_int_equal(imr_svc_case_assign(db, &INTAKE, "CM15-9000006", NULL, NULL, T, a, &out, &err), 0);
    assert_string_equal(assigned_to(out, a), "R-PAIN-1");
    assert_int_equal(imr_svc_case_assign(db, &INTAKE, "CM15-9000007", NULL, NULL, T, a, &out, &err), IMR_EX_DATAERR);
    assert_int_equal(err.http, 422);
    assert_non_null(strstr(err.message, "affiliated with the claims administrator Harbor Claims, Inc."));
    assert_non_null(strstr(err.message, "not licensed in California"));
    candidates(db, a);

    /* manual: administrators only, with a reason */
    assert_int_equal(imr_svc_case_assign(db, &INTAKE, "CM15-9000007", "R-ORTHO", "urgent", T, a, &out, &err),
                     IMR_EX_USAGE);
    assert_int_equal(err.http, 403);
    assert_int_equal(imr_svc_case_assign(db, &ADMIN, "CM15-9000007", "R-ORTHO", NULL, T, a, &out, &err), IMR_EX_DATAERR);
    assert_int_equal(err.http, 422);
    assert_string_equal(err.where, "reason");
    assert_int_equal(imr_svc_case_assign(db, &ADMIN, "CM15-9000007", "R-ORTHO", "  ", T, a, &out, &err), IMR_EX_DATAERR);
    assert_string_equal(err.where, "reason");
    /* ... and still refused for a conflict or a missing California licence */
    assert_int_equal(imr_svc_case_assign(db, &ADMIN, "CM15-9000007", "R-HARBOR", "the only one free", T, a, &out, &err),
                     IMR_EX_DATAERR);
    assert_int_equal(err.http, 422);
    assert_non_null(strstr(err.message, "affiliated"));
    assert_int_equal(imr_svc_case_assign(db, &ADMIN, "CM15-9000007", "R-NV", "the only one free", T, a, &out, &err),
                     IMR_EX_DATAERR);
    assert_non_null(strstr(err.message, "not licensed in California"));
    assert_int_equal(imr_svc_case_assign(db, &ADMIN, "CM15-9000007", "R-NOBODY", "x", T, a, &out, &err), IMR_EX_DATAERR);
    /* a full caseload or another specialty may be overridden, with the reason kept */
    assert_int_equal(imr_svc_case_assign(db, &ADMIN, "CM15-9000007", "R-ORTHO", "Dual training in pain medicine",
                                         T, a, &out, &err), 0);
    assert_string_equal(assigned_to(out, a), "R-ORTHO");
    json_t *v = json_loads(out, 0, NULL);
    json_t *asg = json_object_get(v, "assignment");
    assert_string_equal(json_string_value(json_object_get(asg, "method")), "manual");
    assert_string_equal(json_string_value(json_object_get(asg, "reason")), "Dual training in pain medicine");
    assert_string_equal(json_string_value(json_object_get(asg, "assigned_by")), "admin");
    json_decref(v);
    assert_int_equal(imr_svc_audit_list(db, &ADMIN, "CM15-9000007", 1, a, &out, &err), 0);
    assert_non_null(strstr(out, "no specialty the same as or similar"));

    /* an application not yet screened cannot be assigned */
    const char *raw = "{\"case_number\": \"CM15-9000008\", \"claimant\": {}, \"date_of_injury\": \"2014-01-02\","
                      " \"disputed_items\": [{\"request\": \"Norco\"}], \"clinical_summary\": \"x\"}";
    assert_int_equal(imr_svc_case_create(db, &INTAKE, raw, strlen(raw), T, a, &out, &err), 0);
    assert_int_equal(imr_svc_case_assign(db, &INTAKE, "CM15-9000008", NULL, NULL, T, a, &out, &err), IMR_EX_DATAERR);
    assert_int_equal(err.http, 409);
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
    snprintf(sqlite_path, sizeof sqlite_path, "/tmp/imr-test-assign-%ld.db", (long)getpid());
    snprintf(pg_schema, sizeof pg_schema, "svc_assign_%ld", (long)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),
        cmocka_unit_test(specialty_map),
        cmocka_unit_test(specialty_file_errors),
        cmocka_unit_test(each_rule),
        cmocka_unit_test(clinical_fit),
        cmocka_unit_test(balancing),
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
