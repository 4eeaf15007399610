/*
 * demo.c - demonstration data for `imr serve --demo`: an account for every role, a
 * reviewer panel of varied specialties, licences and affiliations, and a dozen cases taken
 * from examples/cases/ and tests/cases/, moved through the workflow to different stages
 * (received, eligible, ineligible, assigned, drafted, decided, issued) by the service model
 * itself, so that everything is audited as real work would be.
 *
 * Loading is idempotent: users, reviewers and cases that exist already are left alone.
 * The reviewers and people below are fictional; the demo passwords are printed and are
 * meant for a demonstration database only.
 */
#include "api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The panel: credentials only (reviewers are never named in letters). */
static const char *const PANEL[][2] = {
    {"R-1001", "{\"specialties\":[\"Physical Medicine and Rehabilitation\"],\"subspecialties\":[\"Pain Medicine\"],"
               "\"board_certifications\":[\"Physical Medicine and Rehabilitation\"],\"board_certified\":true,"
               "\"licensure\":[\"California\"],\"years_in_practice\":14,\"hours_per_week\":32,\"capacity\":25,"
               "\"affiliations\":[],\"credentials_style\":\"sentence\"}"},
    {"R-1002", "{\"specialties\":[\"Family Practice\"],\"subspecialties\":[],"
               "\"board_certifications\":[\"Family Medicine\"],\"board_certified\":true,"
               "\"licensure\":[\"Arizona\",\"California\"],\"years_in_practice\":22,\"hours_per_week\":30,\"capacity\":20,"
               "\"affiliations\":[{\"kind\":\"employer\",\"name\":\"Harbor Freight Lines, Inc.\"}],"
               "\"credentials_style\":\"lines\"}"},
    {"R-1003", "{\"specialties\":[\"Orthopaedic Surgery\"],\"subspecialties\":[\"Spine Surgery\"],"
               "\"board_certifications\":[\"Orthopaedic Surgery\"],\"board_certified\":true,"
               "\"licensure\":[\"California\",\"Nevada\"],\"years_in_practice\":18,\"hours_per_week\":40,\"capacity\":15,"
               "\"affiliations\":[],\"credentials_style\":\"sentence\"}"},
    {"R-1004", "{\"specialties\":[\"Anesthesiology\"],\"subspecialties\":[\"Pain Medicine\"],"
               "\"board_certifications\":[\"Anesthesiology\",\"Pain Medicine\"],\"board_certified\":true,"
               "\"licensure\":[\"California\"],\"years_in_practice\":9,\"hours_per_week\":36,\"capacity\":20,"
               "\"affiliations\":[{\"kind\":\"claims_administrator\",\"name\":\"Golden State Claims Services LLC\"}],"
               "\"credentials_style\":\"sentence\"}"},
    {"R-1005", "{\"specialties\":[\"Psychiatry\"],\"subspecialties\":[\"Addiction Medicine\"],"
               "\"board_certifications\":[\"Psychiatry and Neurology\"],\"board_certified\":true,"
               "\"licensure\":[\"California\",\"Oregon\"],\"years_in_practice\":11,\"hours_per_week\":28,\"capacity\":12,"
               "\"affiliations\":[],\"credentials_style\":\"lines\"}"},
    {"R-1006", "{\"specialties\":[\"Chiropractic\"],\"subspecialties\":[],"
               "\"board_certifications\":[],\"board_certified\":false,"
               "\"licensure\":[\"California\"],\"years_in_practice\":16,\"hours_per_week\":35,\"capacity\":20,"
               "\"affiliations\":[],\"credentials_style\":\"lines\"}"},
    {"R-1007", "{\"specialties\":[\"Neurology\"],\"subspecialties\":[\"Clinical Neurophysiology\"],"
               "\"board_certifications\":[\"Psychiatry and Neurology\"],\"board_certified\":true,"
               "\"licensure\":[\"California\"],\"years_in_practice\":7,\"hours_per_week\":24,\"capacity\":18,"
               "\"affiliations\":[{\"kind\":\"provider\",\"name\":\"Valley Spine and Pain Institute\"}],"
               "\"credentials_style\":\"sentence\"}"},
    {"R-1008", "{\"specialties\":[\"Internal Medicine\"],\"subspecialties\":[\"Rheumatology\"],"
               "\"board_certifications\":[\"Internal Medicine\"],\"board_certified\":true,"
               "\"licensure\":[\"Arizona\"],\"years_in_practice\":20,\"hours_per_week\":30,\"capacity\":20,"
               "\"affiliations\":[],\"credentials_style\":\"sentence\"}"},
};

typedef struct demo_user {
    const char *username;
    imr_role role;
    const char *reviewer_id;
} demo_user;

static const demo_user USERS[] = {
    {"admin", IMR_ROLE_ADMIN, NULL},          {"intake", IMR_ROLE_INTAKE, NULL},
    {"analyst", IMR_ROLE_ANALYST, NULL},      {"reviewer1", IMR_ROLE_REVIEWER, "R-1001"},
    {"reviewer2", IMR_ROLE_REVIEWER, "R-1002"}, {"reviewer3", IMR_ROLE_REVIEWER, "R-1003"},
    {"reviewer4", IMR_ROLE_REVIEWER, "R-1004"}, {"reviewer5", IMR_ROLE_REVIEWER, "R-1005"},
    {"reviewer6", IMR_ROLE_REVIEWER, "R-1006"}, {"reviewer7", IMR_ROLE_REVIEWER, "R-1007"},
};

/* How far each demo case goes through the workflow. */
typedef enum {
    STAGE_RECEIVED,
    STAGE_INELIGIBLE, /* received without signature and UR decision: screening closes it */
    STAGE_ELIGIBLE,
    STAGE_ASSIGNED,
    STAGE_DRAFTED,
    STAGE_DECIDED,
    STAGE_ISSUED
} demo_stage;

typedef struct demo_case {
    const char *file;     /* under the source folder */
    demo_stage stage;
    int ur_days_ago;      /* the UR decision's date, counted back from today */
    int expedited;
} demo_case;

static const demo_case CASES[] = {
    {"examples/cases/CM15-0000001.json", STAGE_ISSUED, 20, 0},
    {"examples/cases/CM15-0000002.json", STAGE_DECIDED, 16, 0},
    {"examples/cases/CM15-0000004.json", STAGE_DRAFTED, 14, 0},
    {"examples/cases/CM17-0000003.json", STAGE_ASSIGNED, 12, 0},
    {"tests/cases/001_opioid-cont_documented-benefit.json", STAGE_ISSUED, 25, 0},
    {"tests/cases/003_opioid-init_no-nonopioid-trial.json", STAGE_DRAFTED, 10, 0},
    {"tests/cases/013_tramadol_documented-benefit.json", STAGE_ASSIGNED, 4, 1},
    {"tests/cases/019_cyclobenzaprine_acute-flare.json", STAGE_ELIGIBLE, 6, 0},
    {"tests/cases/026_nsaid_knee-osteoarthritis.json", STAGE_RECEIVED, 3, 0},
    {"tests/cases/032_gabapentinoid_radiculopathy-response.json", STAGE_RECEIVED, 2, 1},
    {"tests/cases/017_carisoprodol_with-opioid.json", STAGE_INELIGIBLE, 8, 0},
    {"tests/cases/036_antidepressant_amitriptyline-neuropathic.json", STAGE_ASSIGNED, 45, 0},
};

/* Fictional parties, one employee per case so that no two demo applications look alike. */
static const char *const EMPLOYEES[] = {
    "Dana Whitfield", "Luis Ortega", "Mei Tanaka", "Ray Castillo", "Priya Raman", "Tom Becker",
    "Ana Souza", "Jon Ellison", "Keisha Grant", "Omar Haddad", "Lena Novak", "Sam Okafor",
};
static const char *const EMPLOYERS[] = {"Harbor Freight Lines, Inc.", "Central Valley Packing Co.",
                                        "Bayside Medical Center", "Sierra Builders LLC"};
static const char *const ADMINISTRATORS[] = {"Golden State Claims Services LLC",
                                             "Pacific Risk Administrators, Inc."};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *demo_password(imr_arena *a, const char *username)
{
    return imr_arena_printf(a, "%s-demo-password", username);
}

static int exists(imr_db *db, const char *sql, const char *key, imr_arena *a, int *found,
                  imr_error *err)
{
    imr_db_rows r;
    const char *p[] = {key};
    int st = imr_db_exec(db, sql, p, 1, a, &r, err);
    *found = st == 0 && r.n_rows > 0;
    return st;
}

static int load_panel(imr_db *db, const imr_actor *admin, const char *now, imr_arena *a,
                      imr_error *err)
{
    for (size_t i = 0; i < N(PANEL); i++) {
        int found, st = exists(db, "SELECT id FROM reviewers WHERE id = $1", PANEL[i][0], a, &found, err);
        if (st)
            return st;
        const char *out;
        if (!found && (st = imr_svc_reviewer_put(db, admin, PANEL[i][0], PANEL[i][1],
                                                 strlen(PANEL[i][1]), now, a, &out, err)))
            return st;
    }
    return IMR_OK;
}

static int load_users(imr_db *db, const char *now, imr_arena *a, FILE *fp, imr_error *err)
{
    if (fp)
        fprintf(fp, "imr serve: demo logins (demonstration only; change before real use):\n");
    for (size_t i = 0; i < N(USERS); i++) {
        int found, st = exists(db, "SELECT id FROM users WHERE username = $1", USERS[i].username,
                               a, &found, err);
        if (st)
            return st;
        const char *pw = demo_password(a, USERS[i].username), *out;
        if (!found && (st = imr_auth_user_create(db, NULL, USERS[i].username, pw, USERS[i].role,
                                                 USERS[i].reviewer_id, now, a, &out, err)))
            return st;
        if (fp)
            fprintf(fp, "  %-10s %-24s %s%s%s\n", USERS[i].username, pw, imr_role_name(USERS[i].role),
                    USERS[i].reviewer_id ? " " : "", USERS[i].reviewer_id ? USERS[i].reviewer_id : "");
    }
    return IMR_OK;
}

/* The actor of a demo user (looked up by name). */
static int actor_of(imr_db *db, const char *username, imr_arena *a, imr_actor *who, imr_error *err)
{
    imr_db_rows r;
    const char *p[] = {username};
    int st = imr_db_exec(db, "SELECT id, role, reviewer_id FROM users WHERE username = $1", p, 1, a, &r, err);
    if (st)
        return st;
    if (r.n_rows == 0)
        return imr_error_set(err, IMR_EX_SOFTWARE, "demo", 0, "demo user %s is missing", username);
    memset(who, 0, sizeof *who);
    who->user_id = imr_db_text(&r, 0, 0);
    who->username = imr_arena_strdup(a, username);
    imr_role_from_name(imr_db_text(&r, 0, 1), &who->role);
    who->reviewer_id = imr_db_text(&r, 0, 2);
    return IMR_OK;
}

/* The case file of CASES[i] with intake fields: recent dates, parties, signature. */
static char *intake_json(const char *src, size_t i, const char *today, imr_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", src, CASES[i].file);
    json_error_t je;
    json_t *c = json_load_file(path, 0, &je);
    if (!json_is_object(c)) {
        json_decref(c);
        imr_error_set(err, IMR_EX_NOINPUT, path, je.line > 0 ? je.line : 0, "demo case unreadable: %s", je.text);
        return NULL;
    }
    long t = imr_date_days(today);
    char ur[11], received[11], signed_on[11];
    struct { long off; char *out; } d[] = {{CASES[i].ur_days_ago, ur}, {CASES[i].ur_days_ago - 2, received},
                                           {CASES[i].ur_days_ago - 1, signed_on}};
    for (size_t k = 0; k < N(d); k++) {
        time_t s = (time_t)(t - d[k].off) * 86400;
        struct tm tm;
        gmtime_r(&s, &tm);
        strftime(d[k].out, 11, "%Y-%m-%d", &tm);
    }
    json_object_set_new(c, "ur_decision_date", json_string(ur));
    json_object_set_new(c, "application_received", json_string(received));
    json_object_set_new(c, "priority", json_string(CASES[i].expedited ? "expedited" : "standard"));
    json_object_set_new(c, "dispute_type", json_string("medical_necessity"));
    if (CASES[i].stage != STAGE_INELIGIBLE) {
        json_object_set_new(c, "application_signed", json_string(signed_on));
        json_object_set_new(c, "ur_decision_attached", json_true());
    } else {
        json_object_del(c, "application_signed");
        json_object_set_new(c, "ur_decision_attached", json_false());
    }
    if (!json_object_get(c, "parties")) {
        json_t *parties = json_array(), *p;
        const char *roles[] = {"employee", "employer", "claims_administrator"};
        const char *names[] = {EMPLOYEES[i % N(EMPLOYEES)], EMPLOYERS[i % N(EMPLOYERS)],
                               ADMINISTRATORS[i % N(ADMINISTRATORS)]};
        for (size_t k = 0; k < 3; k++) {
            p = json_object();
            json_object_set_new(p, "role", json_string(roles[k]));
            json_object_set_new(p, "name", json_string(names[k]));
            json_array_append_new(parties, p);
        }
        json_object_set_new(c, "parties", parties);
    }
    char *s = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    return s;
}

/* A string found at `a`.`b` of a JSON text (b may be NULL), copied into the arena. */
static const char *json_at(imr_arena *ar, const char *json, const char *a, const char *b)
{
    json_t *o = json ? json_loads(json, 0, NULL) : NULL;
    json_t *v = json_object_get(o, a);
    if (b)
        v = json_object_get(v, b);
    const char *s = json_is_string(v) ? imr_arena_strdup(ar, json_string_value(v)) : NULL;
    json_decref(o);
    return s;
}

/* The reviewer's decisions: the draft's own, item by item. Returns NULL when an item is
 * still Undetermined (the demo then leaves the case at "drafted"). */
static char *decisions_from_draft(const char *draft_json)
{
    json_t *d = json_loads(draft_json, 0, NULL);
    json_t *rec = json_object_get(d, "determination");
    json_t *items = json_object_get(rec ? rec : d, "items"), *out = json_array();
    int ok = json_array_size(items) > 0;
    for (size_t i = 0; ok && i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        const char *dec = json_string_value(json_object_get(it, "decision"));
        if (!dec || (strcmp(dec, "Upheld") && strcmp(dec, "Overturned"))) {
            ok = 0;
            break;
        }
        json_t *e = json_object();
        json_object_set_new(e, "decision", json_string(dec));
        json_array_append_new(out, e);
    }
    json_decref(d);
    if (!ok) {
        json_decref(out);
        return NULL;
    }
    json_t *body = json_object();
    json_object_set_new(body, "items", out);
    char *s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return s;
}

/* Move one case as far as its stage asks; a refusal of the service stops it early with a
 * note on `fp` (the demo is still usable). */
static int advance(imr_db *db, const char *id, demo_stage stage, const imr_actor *intake,
                   const imr_actor *admin, const char *now, imr_arena *a, FILE *fp, imr_error *err)
{
    const char *out = NULL;
    int st = 0;
    if (stage >= STAGE_INELIGIBLE)
        st = imr_svc_case_screen(db, intake, id, now, a, &out, err);
    if (!st && stage >= STAGE_ASSIGNED)
        st = imr_svc_case_assign(db, admin, id, NULL, NULL, now, a, &out, err);
    imr_actor reviewer = *admin;
    const char *rid = out ? json_at(a, out, "assignment", "reviewer_id") : NULL;
    if (!st && stage >= STAGE_DRAFTED) {
        if (rid) { /* the assigned reviewer does the review when they have an account */
            imr_db_rows r;
            const char *p[] = {rid};
            if (imr_db_exec(db, "SELECT username FROM users WHERE reviewer_id = $1", p, 1, a, &r, err) == 0 &&
                r.n_rows > 0)
                actor_of(db, imr_db_text(&r, 0, 0), a, &reviewer, err);
        }
        st = imr_svc_draft(db, &reviewer, id, now, a, &out, err);
    }
    if (!st && stage >= STAGE_DECIDED) {
        const char *view;
        st = imr_svc_case_get(db, &reviewer, id, now, a, &view, err);
        char *edits = st ? NULL : decisions_from_draft(view);
        if (!st && !edits) {
            if (fp)
                fprintf(fp, "imr serve: demo case %s stays a draft (the engine left an item undetermined)\n", id);
            return IMR_OK;
        }
        if (!st)
            st = imr_svc_decide(db, &reviewer, id, edits, strlen(edits), now, a, &out, err);
        free(edits);
    }
    if (!st && stage >= STAGE_ISSUED) {
        json_t *att_o = json_object();
        json_object_set_new(att_o, "statement",
                            json_string("I have reviewed the records of this case and attest that "
                                        "this determination is my own."));
        json_object_set_new(att_o, "signature", json_string(reviewer.username ? reviewer.username : "reviewer"));
        const char *att = imr_arena_strdup(a, "");
        char *att_s = json_dumps(att_o, JSON_COMPACT);
        json_decref(att_o);
        if (att_s) {
            att = imr_arena_strdup(a, att_s);
            free(att_s);
        }
        st = imr_svc_issue(db, &reviewer, id, att, strlen(att), now, a, &out, err);
    }
    if (st && fp) {
        fprintf(fp, "imr serve: demo case %s stopped early: ", id);
        imr_error_print(err, fp);
    }
    return IMR_OK;
}

static int load_cases(imr_db *db, const char *src, const char *now, imr_arena *a, FILE *fp,
                      imr_error *err)
{
    imr_actor intake, admin;
    int st = actor_of(db, "intake", a, &intake, err);
    if (!st)
        st = actor_of(db, "admin", a, &admin, err);
    if (st)
        return st;
    char today[11];
    memcpy(today, now, 10);
    today[10] = '\0';
    int loaded = 0;
    for (size_t i = 0; i < N(CASES); i++) {
        char *json = intake_json(src, i, today, err);
        if (!json)
            return err->status ? err->status : IMR_EX_NOINPUT;
        const char *number = json_at(a, json, "case_number", NULL);
        int found = 0;
        st = number ? exists(db, "SELECT id FROM cases WHERE id = $1", number, a, &found, err) : 0;
        const char *out = NULL;
        if (!st && !found)
            st = imr_svc_case_create(db, &intake, json, strlen(json), now, a, &out, err);
        free(json);
        if (st)
            return st;
        if (found)
            continue;
        const char *id = json_at(a, out, "id", NULL);
        imr_error note = {0};
        if (id)
            advance(db, id, CASES[i].stage, &intake, &admin, now, a, fp, &note);
        loaded++;
    }
    if (fp)
        fprintf(fp, "imr serve: demo data: %zu reviewers, %zu users, %d new cases (of %zu)\n",
                N(PANEL), N(USERS), loaded, N(CASES));
    return IMR_OK;
}

int imr_demo_load(imr_db *db, const char *source_dir, FILE *fp, imr_error *err)
{
    char now[21];
    imr_now_iso(now);
    imr_arena *a = imr_arena_new();
    imr_actor system = {NULL, "demo", IMR_ROLE_ADMIN, NULL};
    int st = load_panel(db, &system, now, a, err);
    if (!st)
        st = load_users(db, now, a, fp, err);
    if (!st)
        st = load_cases(db, source_dir, now, a, fp, err);
    imr_arena_free(a);
    return st;
}
