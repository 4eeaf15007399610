/*
 * service_panel.c - the reviewer panel and assignment in the IMR service model: keeping
 * reviewer profiles (credentials, licensure, practice, affiliations, capacity), assigning a
 * case to a qualified, conflict-free reviewer (automatically, or by an administrator with a
 * stated reason), how every panel member fits a case before assignment (the candidates),
 * and reading the audit log.
 */
#include "service_internal.h"
#include "json_read.h"

#include <stdlib.h>
#include <string.h>

/* Statuses in which a case counts against its reviewer's capacity. */
static int status_counts(const char *status)
{
    return status && (!strcmp(status, "assigned") || !strcmp(status, "in_review") ||
                      !strcmp(status, "correcting"));
}

/* ---------------------------------------------------------------- profiles */

static int valid_id(const char *s)
{
    size_t n = 0;
    for (; s && s[n]; n++) {
        char c = s[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return n > 0 && n <= 64;
}

static json_t *list_json(const imr_strlist *l)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(arr, json_string(l->v[i]));
    return arr;
}

static void need_list(jreader *rd, const imr_strlist *l, const char *path)
{
    if (!rd->failed && l->n == 0)
        jr_fail(rd, path, "expected at least one entry%s", "");
    for (size_t i = 0; i < l->n && !rd->failed; i++)
        if (!l->v[i][strspn(l->v[i], " \t")]) {
            char p[80];
            snprintf(p, sizeof p, "%s[%zu]", path, i);
            jr_fail(rd, p, "must not be empty%s", "");
        }
}

static json_t *read_affiliations(jreader *rd, const json_t *root)
{
    static const char *const KINDS[] = {"employer", "insurer", "claims_administrator", "provider",
                                        "employee", "representative", "other", NULL};
    json_t *out = json_array();
    const json_t *arr = jr_array(rd, root, "affiliations", "$");
    for (size_t i = 0; i < json_array_size(arr) && !rd->failed; i++) {
        char p[64];
        snprintf(p, sizeof p, "$.affiliations[%zu]", i);
        const json_t *o = json_array_get(arr, i);
        if (!json_is_object(o)) {
            jr_fail(rd, p, "expected an object with kind and name, found %s", jr_type_name(o));
            break;
        }
        int kind = jr_enum(rd, o, "kind", p, KINDS);
        const char *name = jr_str(rd, o, "name", p);
        if (!rd->failed && (!name || !name[strspn(name, " \t")])) {
            char pn[80];
            snprintf(pn, sizeof pn, "%s.name", p);
            jr_fail(rd, pn, "the name of the employer, insurer, administrator or provider is required%s", "");
        }
        json_t *x = json_object();
        json_object_set_new(x, "kind", json_string(kind >= 0 ? KINDS[kind] : "other"));
        json_object_set_new(x, "name", svc_jstr(name));
        json_array_append_new(out, x);
    }
    return out;
}

/* Validate a profile and write it in the one stored form (every key present). */
static json_t *read_profile(const svc_process *proc, const svc_specialties *sp, const json_t *root,
                            imr_arena *a, int *active, json_t *warnings, imr_error *err)
{
    static const char *const STYLES[] = {"sentence", "lines", NULL};
    jreader rd = {a, err, "profile", 0};
    imr_strlist spec = {0}, sub = {0}, boards = {0}, lic = {0};
    const char *name = jr_str(&rd, root, "name", "$");
    jr_list(&rd, root, "specialties", "$", &spec);
    need_list(&rd, &spec, "$.specialties");
    jr_list(&rd, root, "subspecialties", "$", &sub);
    jr_list(&rd, root, "board_certifications", "$", &boards);
    int certified = jr_bool(&rd, root, "board_certified", "$");
    jr_list(&rd, root, "licensure", "$", &lic);
    need_list(&rd, &lic, "$.licensure");
    int years = jr_int(&rd, root, "years_in_practice", "$", 0, 80);
    int hours = jr_int(&rd, root, "hours_per_week", "$", 0, 168);
    int capacity = jr_int(&rd, root, "capacity", "$", 1, 100000);
    int style = jr_enum(&rd, root, "credentials_style", "$", STYLES);
    int act = jr_bool(&rd, root, "active", "$");
    json_t *aff = read_affiliations(&rd, root);
    if (rd.failed) {
        json_decref(aff);
        svc_input_error(err, 400);
        return NULL;
    }
    for (size_t i = 0; i < spec.n + sub.n; i++) {
        const char *s = i < spec.n ? spec.v[i] : sub.v[i - spec.n];
        if (svc_specialty_find(sp, s) < 0)
            json_array_append_new(warnings, json_string(imr_arena_printf(
                a, "\"%s\" is not a specialty of rules/specialties.tsv: it matches no treatment", s)));
    }
    if (!svc_licensed(proc, &lic))
        json_array_append_new(warnings, json_string(imr_arena_printf(
            a, "not licensed in %s: cannot be assigned", proc->required_licensure)));
    *active = act != 0;
    json_t *o = json_object();
    json_object_set_new(o, "name", svc_jstr(name));
    json_object_set_new(o, "specialties", list_json(&spec));
    json_object_set_new(o, "subspecialties", list_json(&sub));
    json_object_set_new(o, "board_certifications", list_json(&boards));
    json_object_set_new(o, "board_certified", certified >= 0 ? json_boolean(certified) : json_boolean(boards.n > 0));
    json_object_set_new(o, "licensure", list_json(&lic));
    json_object_set_new(o, "years_in_practice", years >= 0 ? json_integer(years) : json_null());
    json_object_set_new(o, "hours_per_week", hours >= 0 ? json_integer(hours) : json_null());
    json_object_set_new(o, "affiliations", aff);
    json_object_set_new(o, "capacity", json_integer(capacity > 0 ? capacity : proc->default_capacity));
    json_object_set_new(o, "credentials_style", json_string(style == 1 ? "lines" : "sentence"));
    return o;
}

/* The profile as lists show it: the stored profile plus the panel's own fields. */
static json_t *reviewer_json(const svc_process *proc, const char *id, const char *profile,
                             int active, int open_cases, imr_arena *a)
{
    json_t *o = json_object(), *prof = json_loads(profile ? profile : "{}", 0, NULL);
    svc_candidate c;
    imr_reviewer_profile rp;
    imr_error e = {0};
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "active", json_boolean(active));
    json_object_set_new(o, "open_cases", json_integer(open_cases));
    if (!svc_reviewer_read(id, profile, active, open_cases, proc, a, &c, &rp, &e)) {
        json_t *q = json_object();
        json_object_set_new(q, "licensed", json_boolean(svc_licensed(proc, &c.licensure)));
        json_object_set_new(q, "years_in_practice", json_boolean(c.years_in_practice > proc->min_years_in_practice));
        json_object_set_new(q, "hours_per_week", json_boolean(c.hours_per_week >= proc->min_hours_per_week));
        json_object_set_new(q, "has_capacity", json_boolean(c.open_cases < c.capacity));
        json_object_set_new(o, "qualifications", q);
    }
    json_object_set_new(o, "profile", prof ? prof : json_null());
    return o;
}

/* The reviewer's open cases show the new credentials too. */
static int refresh_open_cases(imr_db *db, const char *reviewer_id, imr_arena *a, imr_error *err)
{
    imr_db_rows r;
    const char *p[] = {reviewer_id};
    int st = imr_db_exec(db,
                         "SELECT id FROM cases WHERE reviewer_id = $1"
                         " AND status IN ('assigned', 'in_review', 'correcting')",
                         p, 1, a, &r, err);
    if (st)
        return svc_db_fail(err, st);
    for (size_t i = 0; i < r.n_rows && !st; i++) {
        svc_case_row row;
        const char *view, *record;
        st = svc_case_refresh(db, imr_db_text(&r, i, 0), a, &row, &view, &record, err);
    }
    return st;
}

static int put_in_tx(imr_db *db, const imr_actor *who, const char *id, const char *stored,
                     int active, const char *now, imr_arena *a, const char **before, int *open,
                     imr_error *err)
{
    imr_db_rows r;
    const char *p1[] = {id};
    int st = imr_db_exec(db, "SELECT profile_json, active, open_cases FROM reviewers WHERE id = $1", p1, 1, a, &r, err);
    if (st)
        return svc_db_fail(err, st);
    *before = imr_db_text(&r, 0, 0);
    *open = r.n_rows ? atoi(imr_db_text(&r, 0, 2)) : 0;
    const char *p2[] = {id, stored, active ? "1" : "0", now};
    st = imr_db_exec(db,
                     "INSERT INTO reviewers (id, profile_json, active, created_at, updated_at)"
                     " VALUES ($1, $2, CAST($3 AS INTEGER), $4, $4)"
                     " ON CONFLICT (id) DO UPDATE SET profile_json = excluded.profile_json,"
                     " active = excluded.active, updated_at = excluded.updated_at",
                     p2, 4, NULL, NULL, err);
    if (st)
        return svc_db_fail(err, st);
    if ((st = imr_audit(db, who, r.n_rows ? "reviewer.update" : "reviewer.create", "reviewer", id,
                        *before, stored, now, err)))
        return st;
    return refresh_open_cases(db, id, a, err);
}

int imr_svc_reviewer_put(imr_db *db, const imr_actor *who, const char *reviewer_id,
                         const char *profile_json, size_t len, const char *now, imr_arena *a,
                         const char **out_json, imr_error *err)
{
    const svc_process *proc;
    const svc_specialties *sp;
    int st = svc_may_write(who, err);
    if (st)
        return st;
    if (who->role != IMR_ROLE_ADMIN)
        return svc_forbidden(err, "only administrators keep the reviewer panel");
    if ((st = svc_rules(&proc, &sp, err)))
        return st;
    if (!valid_id(reviewer_id))
        return svc_fail(err, 400, "reviewer_id", "expected 1 to 64 letters, digits, '-', '_' or '.'");
    if (!now || !*now)
        return svc_fail(err, 400, "now", "a timestamp is required");
    json_t *root = jr_load(profile_json ? profile_json : "", profile_json ? len : 0, "profile", err);
    if (!root)
        return svc_input_error(err, 400);
    if (!json_is_object(root)) {
        json_decref(root);
        return svc_fail(err, 400, "$", "expected a reviewer profile (an object)");
    }
    int active = 1, open = 0;
    json_t *warnings = json_array();
    json_t *profile = read_profile(proc, sp, root, a, &active, warnings, err);
    json_decref(root);
    if (!profile) {
        json_decref(warnings);
        return IMR_EX_DATAERR;
    }
    const char *stored = svc_dump(profile, a), *before = NULL;
    if ((st = imr_db_begin(db, err))) {
        json_decref(warnings);
        return svc_db_fail(err, st);
    }
    st = put_in_tx(db, who, reviewer_id, stored, active, now, a, &before, &open, err);
    if (!st && (st = imr_db_commit(db, err)))
        svc_db_fail(err, st);
    if (st) {
        imr_db_rollback(db);
        json_decref(warnings);
        return st;
    }
    json_t *out = reviewer_json(proc, reviewer_id, stored, active, open, a);
    json_object_set_new(out, "warnings", warnings);
    *out_json = svc_dump(out, a);
    return IMR_OK;
}

int imr_svc_reviewer_list(imr_db *db, const imr_actor *who, imr_arena *a,
                          const char **out_json, imr_error *err)
{
    const svc_process *proc;
    int st;
    if (!who)
        return svc_forbidden(err, "no signed-in user");
    if ((st = svc_rules(&proc, NULL, err)))
        return st;
    imr_db_rows r;
    if (who->role == IMR_ROLE_REVIEWER) { /* a reviewer sees only their own profile */
        const char *p[] = {who->reviewer_id ? who->reviewer_id : ""};
        st = imr_db_exec(db, "SELECT id, profile_json, active, open_cases FROM reviewers WHERE id = $1",
                         p, 1, a, &r, err);
    } else {
        st = imr_db_exec(db, "SELECT id, profile_json, active, open_cases FROM reviewers ORDER BY id",
                         NULL, 0, a, &r, err);
    }
    if (st)
        return svc_db_fail(err, st);
    json_t *arr = json_array();
    for (size_t i = 0; i < r.n_rows; i++)
        json_array_append_new(arr, reviewer_json(proc, imr_db_text(&r, i, 0), imr_db_text(&r, i, 1),
                                                 atoi(imr_db_text(&r, i, 2)) != 0, atoi(imr_db_text(&r, i, 3)), a));
    json_t *out = json_object();
    json_object_set_new(out, "reviewers", arr);
    *out_json = svc_dump(out, a);
    return IMR_OK;
}

/* ---------------------------------------------------------------- assignment */

typedef struct panel {
    svc_candidate *c;
    svc_assessment *as;
    imr_reviewer_profile *prof;
    size_t n;
} panel;

/* Read the panel (or one member) and assess each for this case. */
static int read_panel(imr_db *db, const svc_process *proc, const svc_specialties *sp,
                      const svc_case_needs *need, const char *only, imr_arena *a, panel *pn,
                      imr_error *err)
{
    imr_db_rows r;
    int st;
    if (only) {
        const char *p[] = {only};
        st = imr_db_exec(db, "SELECT id, profile_json, active, open_cases FROM reviewers WHERE id = $1",
                         p, 1, a, &r, err);
    } else {
        st = imr_db_exec(db,
                         "SELECT id, profile_json, active, open_cases FROM reviewers WHERE active = 1 ORDER BY id",
                         NULL, 0, a, &r, err);
    }
    if (st)
        return svc_db_fail(err, st);
    pn->n = r.n_rows;
    pn->c = imr_arena_alloc(a, (r.n_rows + 1) * sizeof *pn->c);
    pn->as = imr_arena_alloc(a, (r.n_rows + 1) * sizeof *pn->as);
    pn->prof = imr_arena_alloc(a, (r.n_rows + 1) * sizeof *pn->prof);
    for (size_t i = 0; i < r.n_rows; i++) {
        st = svc_reviewer_read(imr_db_text(&r, i, 0), imr_db_text(&r, i, 1), atoi(imr_db_text(&r, i, 2)) != 0,
                               atoi(imr_db_text(&r, i, 3)), proc, a, &pn->c[i], &pn->prof[i], err);
        if (st)
            return st;
        svc_assess(proc, sp, need, &pn->c[i], a, &pn->as[i]);
    }
    return IMR_OK;
}

static const char *joined(const imr_strlist *l, const char *sep, imr_arena *a)
{
    imr_buf b = IMR_BUF_INIT;
    for (size_t i = 0; i < l->n; i++)
        imr_buf_printf(&b, "%s%s", i ? sep : "", l->v[i]);
    const char *s = imr_arena_strdup(a, b.data ? b.data : "");
    imr_buf_free(&b);
    return s;
}

/* What keeps a reviewer from a case, in a few words (the candidates list has the full
 * sentences): "not licensed in California, no same or similar specialty". */
static const char *brief(const svc_assessment *as, imr_arena *a)
{
    const svc_process *p = svc_process_rules(NULL);
    imr_buf b = IMR_BUF_INIT;
    if (!as->active)
        imr_buf_printf(&b, ", inactive");
    if (!as->licensed)
        imr_buf_printf(&b, ", not licensed in %s", p ? p->required_licensure : "the state");
    if (!as->years_ok)
        imr_buf_printf(&b, ", too few years in practice");
    if (!as->hours_ok)
        imr_buf_printf(&b, ", too few hours a week");
    for (size_t i = 0; i < as->conflicts.n; i++)
        imr_buf_printf(&b, ", affiliated with the %s", as->conflicts.v[i]);
    if (!as->specialty_ok)
        imr_buf_printf(&b, ", no same or similar specialty for every item");
    if (!as->has_capacity)
        imr_buf_printf(&b, ", no capacity left");
    const char *r = imr_arena_strdup(a, b.len > 2 ? b.data + 2 : "qualified");
    imr_buf_free(&b);
    return r;
}

/* Choose: the named reviewer (checked), or the least loaded qualified one. Returns the index. */
static int choose(const panel *pn, const char *manual, const char *current, imr_arena *a,
                  long *chosen, imr_error *err)
{
    if (manual) {
        if (pn->n == 0)
            return svc_fail(err, 422, "reviewer_id", "there is no reviewer %s on the panel", manual);
        if (pn->as[0].refused)
            return svc_fail(err, 422, "reviewer_id", "%s cannot review this case: %s", manual,
                            joined(&pn->as[0].problems, "; ", a));
        *chosen = 0;
        return IMR_OK;
    }
    /* an automatic reassignment looks for someone other than the current reviewer */
    for (size_t i = 0; current && i < pn->n; i++)
        if (!strcmp(pn->c[i].id, current))
            pn->as[i].qualified = 0;
    *chosen = svc_pick(pn->c, pn->as, pn->n);
    if (*chosen >= 0)
        return IMR_OK;
    imr_buf b = IMR_BUF_INIT;
    for (size_t i = 0; i < pn->n; i++)
        if (!current || strcmp(pn->c[i].id, current))
            imr_buf_printf(&b, "%s%s: %s", b.len ? "; " : "", pn->c[i].id, brief(&pn->as[i], a));
    int st = svc_fail(err, 422, "reviewer_id", "no qualified, conflict-free reviewer is free on the panel (%zu active)%s%s",
                      pn->n, b.len ? ": " : "", b.data ? b.data : "");
    imr_buf_free(&b);
    return st;
}

static json_t *assignment_change(const svc_candidate *c, const svc_assessment *as, const char *method,
                                 const char *reason, const char *previous)
{
    json_t *o = json_object();
    json_object_set_new(o, "reviewer_id", json_string(c->id));
    json_object_set_new(o, "previous_reviewer_id", svc_jstr(previous));
    json_object_set_new(o, "method", json_string(method));
    json_object_set_new(o, "reason", svc_jstr(reason));
    json_object_set_new(o, "specialty_fit", list_json(&as->matches));
    json_object_set_new(o, "warnings", list_json(&as->problems));
    return o;
}

static int adjust_open(imr_db *db, const char *reviewer_id, int delta, imr_error *err)
{
    const char *p[] = {reviewer_id};
    int st = imr_db_exec(db,
                         delta > 0 ? "UPDATE reviewers SET open_cases = open_cases + 1 WHERE id = $1"
                                   : "UPDATE reviewers SET open_cases = open_cases - 1 WHERE id = $1 AND open_cases > 0",
                         p, 1, NULL, NULL, err);
    return st ? svc_db_fail(err, st) : IMR_OK;
}

static int assign_in_tx(imr_db *db, const imr_actor *who, const svc_case_row *row,
                        const svc_candidate *c, const svc_assessment *as, const char *method,
                        const char *reason, const char *now, imr_arena *a, const char **out_json,
                        imr_error *err)
{
    const char *status = !strcmp(row->status, "eligible") ? "assigned" : row->status;
    int st = svc_case_touch(db, row, status, now, err);
    const char *p1[] = {row->id, c->id};
    if (!st && (st = imr_db_exec(db, "UPDATE cases SET reviewer_id = $2 WHERE id = $1", p1, 2, NULL, NULL, err)))
        svc_db_fail(err, st);
    const char *p2[] = {row->id, c->id, method, reason, svc_actor_name(who), now};
    if (!st && (st = imr_db_exec(db,
                                 "INSERT INTO assignments (case_id, seq, reviewer_id, method, reason, assigned_by, assigned_at)"
                                 " VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM assignments WHERE case_id = $1),"
                                 " $2, $3, $4, $5, $6)",
                                 p2, 6, NULL, NULL, err)))
        svc_db_fail(err, st);
    if (!st && row->reviewer_id && status_counts(row->status))
        st = adjust_open(db, row->reviewer_id, -1, err);
    if (!st && status_counts(status))
        st = adjust_open(db, c->id, +1, err);
    if (st)
        return st;
    return svc_case_finish(db, who, row->id, "case.assign", svc_case_state(row, a),
                           assignment_change(c, as, method, reason, row->reviewer_id), now, a, out_json, err);
}

static int may_assign(const imr_actor *who, const char *manual, const char *reason, imr_error *err)
{
    int st = svc_may_write(who, err);
    if (st)
        return st;
    if (manual) {
        if (who->role != IMR_ROLE_ADMIN)
            return svc_forbidden(err, "only administrators choose a reviewer by hand");
        if (!reason || !reason[strspn(reason, " \t\r\n")])
            return svc_fail(err, 422, "reason", "choosing a reviewer by hand needs a stated reason");
        return IMR_OK;
    }
    if (who->role != IMR_ROLE_ADMIN && who->role != IMR_ROLE_INTAKE)
        return svc_forbidden(err, "only intake and administrators assign reviewers");
    return IMR_OK;
}

/* What the stored case asks of its reviewer: each item's specialties, the parties. */
static int case_needs(imr_db *db, const svc_case_row *row, const svc_process *proc,
                      const svc_specialties *sp, imr_arena *a, svc_case_needs *need, imr_error *err)
{
    imr_case *c = NULL;
    int st = svc_engine_case(db, row, a, &c, err);
    if (st)
        return st;
    json_t *root = svc_parse_stored(row->case_json, "cases.case_json", err);
    if (!root)
        return IMR_EX_SOFTWARE;
    imr_strlist dx = {0};
    json_t *arr = json_object_get(root, "diagnoses");
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (json_is_string(json_array_get(arr, i)))
            imr_strlist_push(&dx, a, json_string_value(json_array_get(arr, i)));
    json_decref(root);
    svc_case_needs_build(proc, sp, c, imr_default_lexicon(NULL), &dx, a, need);
    return IMR_OK;
}

static int assignable(const char *status)
{
    return !strcmp(status, "eligible") || !strcmp(status, "assigned") || !strcmp(status, "in_review");
}

int imr_svc_case_assign(imr_db *db, const imr_actor *who, const char *case_id,
                        const char *reviewer_id, const char *reason, const char *now,
                        imr_arena *a, const char **out_json, imr_error *err)
{
    const svc_process *proc;
    const svc_specialties *sp;
    svc_case_row row;
    const char *manual = reviewer_id && *reviewer_id ? reviewer_id : NULL;
    int st = svc_case_load(db, who, case_id, a, &row, err);
    if (!st)
        st = may_assign(who, manual, reason, err);
    if (!st)
        st = svc_rules(&proc, &sp, err);
    if (st)
        return st;
    if (!now || !*now)
        return svc_fail(err, 400, "now", "a timestamp is required");
    if (!assignable(row.status))
        return svc_fail(err, 409, "status", "case %s cannot be assigned while %s%s", case_id, row.status,
                        !strcmp(row.status, "received") ? " (screen it first)" : "");
    svc_case_needs need;
    if ((st = case_needs(db, &row, proc, sp, a, &need, err)))
        return st;
    panel pn = {0};
    long chosen = -1;
    if ((st = read_panel(db, proc, sp, &need, manual, a, &pn, err)) ||
        (st = choose(&pn, manual, row.reviewer_id, a, &chosen, err)))
        return st;
    if ((st = imr_db_begin(db, err)))
        return svc_db_fail(err, st);
    st = assign_in_tx(db, who, &row, &pn.c[chosen], &pn.as[chosen], manual ? "manual" : "auto",
                      manual ? reason : NULL, now, a, out_json, err);
    if (!st && (st = imr_db_commit(db, err)))
        svc_db_fail(err, st);
    if (st)
        imr_db_rollback(db);
    return st;
}

/* ---------------------------------------------------------------- candidates for a case */

/* One panel member as the candidates list shows them: each rule met or not, and why. */
static json_t *candidate_json(const svc_case_needs *need, const svc_candidate *c,
                              const imr_reviewer_profile *prof, const svc_assessment *as, const char *current)
{
    json_t *o = json_object(), *rules = json_object(), *items = json_array();
    json_object_set_new(o, "id", json_string(c->id));
    json_object_set_new(o, "current", json_boolean(current && !strcmp(current, c->id)));
    json_object_set_new(o, "qualified", json_boolean(as->qualified));
    json_object_set_new(o, "manual_allowed", json_boolean(!as->refused));
    json_object_set_new(o, "specialties", list_json(&prof->reviewer.specialties));
    json_object_set_new(o, "subspecialties", list_json(&prof->reviewer.subspecialties));
    json_object_set_new(o, "licensure", list_json(&prof->reviewer.licensure));
    json_object_set_new(o, "years_in_practice", c->years_in_practice >= 0 ? json_integer(c->years_in_practice) : json_null());
    json_object_set_new(o, "hours_per_week", c->hours_per_week >= 0 ? json_integer(c->hours_per_week) : json_null());
    json_object_set_new(o, "open_cases", json_integer(c->open_cases));
    json_object_set_new(o, "capacity", json_integer(c->capacity));
    json_object_set_new(rules, "active", json_boolean(as->active));
    json_object_set_new(rules, "licensed", json_boolean(as->licensed));
    json_object_set_new(rules, "years_in_practice", json_boolean(as->years_ok));
    json_object_set_new(rules, "hours_per_week", json_boolean(as->hours_ok));
    json_object_set_new(rules, "conflict_free", json_boolean(as->conflicts.n == 0));
    json_object_set_new(rules, "specialty", json_boolean(as->specialty_ok));
    json_object_set_new(rules, "capacity", json_boolean(as->has_capacity));
    json_object_set_new(o, "rules", rules);
    json_object_set_new(o, "conflicts", list_json(&as->conflicts));
    for (size_t i = 0; i < need->n_items; i++) {
        json_t *it = json_object();
        const char *fit = i < as->matches.n ? as->matches.v[i] : "none";
        json_object_set_new(it, "request", json_string(need->requests[i] ? need->requests[i] : ""));
        json_object_set_new(it, "fit", json_string(fit));
        json_object_set_new(it, "ok", json_boolean(strcmp(fit, "none") != 0));
        json_array_append_new(items, it);
    }
    json_object_set_new(o, "specialty_fit", items);
    json_object_set_new(o, "reasons", list_json(&as->problems));
    return o;
}

static json_t *needs_json(const svc_specialties *sp, const svc_case_needs *need)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < need->n_items; i++) {
        json_t *it = json_object(), *names = json_array();
        for (size_t k = 0; k < need->n_specialties[i]; k++)
            json_array_append_new(names, json_string(svc_specialty_name(sp, need->specialties[i][k])));
        json_object_set_new(it, "request", json_string(need->requests[i] ? need->requests[i] : ""));
        json_object_set_new(it, "kind", json_string(imr_treatment_kind_name(need->treatments[i].kind)));
        json_object_set_new(it, "specialties", names);
        json_array_append_new(arr, it);
    }
    return arr;
}

int imr_svc_case_candidates(imr_db *db, const imr_actor *who, const char *case_id,
                            const char *now, imr_arena *a, const char **out_json, imr_error *err)
{
    const svc_process *proc;
    const svc_specialties *sp;
    svc_case_row row;
    int st = svc_case_load(db, who, case_id, a, &row, err);
    if (!st)
        st = svc_rules(&proc, &sp, err);
    if (st)
        return st;
    svc_case_needs need;
    panel pn = {0};
    const char *only = who->role == IMR_ROLE_REVIEWER ? (who->reviewer_id ? who->reviewer_id : "") : NULL;
    if ((st = case_needs(db, &row, proc, sp, a, &need, err)) ||
        (st = read_panel(db, proc, sp, &need, only, a, &pn, err)))
        return st;
    json_t *arr = json_array(), *rules = json_object(), *out = json_object();
    for (size_t i = 0; i < pn.n; i++)
        json_array_append_new(arr, candidate_json(&need, &pn.c[i], &pn.prof[i], &pn.as[i], row.reviewer_id));
    /* who automatic assignment would choose now: someone other than the current reviewer */
    long pick = -1;
    if (assignable(row.status) && !only) {
        unsigned char *was = imr_arena_alloc(a, pn.n + 1);
        for (size_t i = 0; i < pn.n; i++)
            if (row.reviewer_id && !strcmp(pn.c[i].id, row.reviewer_id)) {
                was[i] = (unsigned char)pn.as[i].qualified;
                pn.as[i].qualified = 0;
            }
        pick = svc_pick(pn.c, pn.as, pn.n);
        for (size_t i = 0; i < pn.n; i++)
            if (was[i])
                pn.as[i].qualified = 1;
    }
    json_object_set_new(rules, "required_licensure", json_string(proc->required_licensure));
    json_object_set_new(rules, "min_years_in_practice", json_integer(proc->min_years_in_practice));
    json_object_set_new(rules, "min_hours_per_week", json_integer(proc->min_hours_per_week));
    json_object_set_new(out, "case_id", json_string(row.id));
    json_object_set_new(out, "status", json_string(row.status));
    json_object_set_new(out, "reviewer_id", svc_jstr(row.reviewer_id));
    json_object_set_new(out, "assignable", json_boolean(assignable(row.status)));
    json_object_set_new(out, "automatic_choice", pick >= 0 ? json_string(pn.c[pick].id) : json_null());
    json_object_set_new(out, "rules", rules);
    json_object_set_new(out, "items", needs_json(sp, &need));
    json_object_set_new(out, "candidates", arr);
    *out_json = svc_dump(out, a);
    (void)now;
    return IMR_OK;
}

/* Used by service_review.c when a review closes or reopens. */
int svc_reviewer_open_cases(imr_db *db, const char *reviewer_id, int delta, imr_error *err)
{
    return reviewer_id ? adjust_open(db, reviewer_id, delta, err) : IMR_OK;
}

/* ---------------------------------------------------------------- the audit log */

int imr_svc_audit_list(imr_db *db, const imr_actor *who, const char *entity_id, int limit,
                       imr_arena *a, const char **out_json, imr_error *err)
{
    const svc_process *proc;
    int st;
    if (!who)
        return svc_forbidden(err, "no signed-in user");
    if ((st = svc_rules(&proc, NULL, err)))
        return st;
    if (who->role == IMR_ROLE_REVIEWER) { /* their own cases' trail only */
        svc_case_row row;
        if (!entity_id)
            return svc_forbidden(err, "reviewers read the audit trail of their own cases only");
        if ((st = svc_case_load(db, who, entity_id, a, &row, err)))
            return st;
    }
    if (limit <= 0)
        limit = proc->audit_default_limit;
    if (limit > proc->audit_max_limit)
        limit = proc->audit_max_limit;
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    imr_db_rows r;
    if (entity_id) {
        const char *p[] = {entity_id, lim};
        st = imr_db_exec(db,
                         "SELECT seq, at, actor, action, entity, entity_id, before_json, after_json"
                         " FROM audit_log WHERE entity_id = $1 ORDER BY seq DESC LIMIT CAST($2 AS INTEGER)",
                         p, 2, a, &r, err);
    } else {
        const char *p[] = {lim};
        st = imr_db_exec(db,
                         "SELECT seq, at, actor, action, entity, entity_id, before_json, after_json"
                         " FROM audit_log ORDER BY seq DESC LIMIT CAST($1 AS INTEGER)",
                         p, 1, a, &r, err);
    }
    if (st)
        return svc_db_fail(err, st);
    json_t *arr = json_array();
    for (size_t i = 0; i < r.n_rows; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "seq", json_integer(atol(imr_db_text(&r, i, 0))));
        static const char *const KEYS[] = {"at", "actor", "action", "entity", "entity_id"};
        for (size_t k = 0; k < 5; k++)
            json_object_set_new(e, KEYS[k], svc_jstr(imr_db_text(&r, i, k + 1)));
        for (size_t k = 6; k < 8; k++) {
            const char *t = imr_db_text(&r, i, k);
            json_t *v = t ? json_loads(t, 0, NULL) : NULL;
            json_object_set_new(e, k == 6 ? "before" : "after", v ? v : t ? json_string(t) : json_null());
        }
        json_array_append_new(arr, e);
    }
    json_t *out = json_object();
    json_object_set_new(out, "entries", arr);
    *out_json = svc_dump(out, a);
    return IMR_OK;
}
