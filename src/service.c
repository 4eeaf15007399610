/*
 * service.c - what the parts of the IMR service model share: roles, errors with HTTP
 * statuses, who may see and change a case, the audit log, the case's stored JSON view (built
 * on every change, in the change's transaction, so that a read is one indexed query), and
 * the engine's knowledge loaded once per process. The operations themselves are in
 * service_case.c (intake, documents, screening, reads, lists), service_panel.c (reviewers,
 * assignment, audit reads) and service_review.c (drafts, decisions, issue, letters).
 */
#include "service_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* ---------------------------------------------------------------- roles */

static const char *const ROLE_NAMES[] = {"intake", "reviewer", "administrator", "analyst"};

const char *imr_role_name(imr_role r)
{
    return (unsigned)r < 4 ? ROLE_NAMES[r] : "unknown";
}

int imr_role_from_name(const char *s, imr_role *out)
{
    for (int i = 0; s && i < 4; i++)
        if (!strcmp(s, ROLE_NAMES[i])) {
            *out = (imr_role)i;
            return 0;
        }
    return -1;
}

/* ---------------------------------------------------------------- errors */

int svc_input_error(imr_error *err, int http)
{
    if (!err)
        return IMR_EX_DATAERR;
    /* our JSON readers write "$.path: what was wrong"; the path belongs in `where` */
    if (err->message[0] == '$') {
        const char *colon = strstr(err->message, ": ");
        if (colon) {
            char msg[sizeof err->message];
            snprintf(err->where, sizeof err->where, "%.*s", (int)(colon - err->message), err->message);
            snprintf(msg, sizeof msg, "%s", colon + 2);
            snprintf(err->message, sizeof err->message, "%s", msg);
            err->line = 0;
        }
    }
    err->status = IMR_EX_DATAERR;
    err->http = http;
    return IMR_EX_DATAERR;
}

int svc_fail(imr_error *err, int http, const char *where, const char *fmt, ...)
{
    int status = http == 404 ? IMR_EX_NOINPUT
                 : http == 403 ? IMR_EX_USAGE
                 : http >= 500 ? IMR_EX_SOFTWARE
                               : IMR_EX_DATAERR;
    if (!err)
        return status;
    char msg[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    imr_error_set(err, status, where ? where : "", 0, "%s", msg);
    err->http = http;
    return status;
}

int svc_not_found(imr_error *err, const char *case_id)
{
    return svc_fail(err, 404, "case_id", "no case %s", case_id ? case_id : "(none)");
}

int svc_forbidden(imr_error *err, const char *what)
{
    return svc_fail(err, 403, NULL, "not allowed: %s", what);
}

/* A storage error keeps its message; it becomes a 500 unless it says otherwise. */
int svc_db_fail(imr_error *err, int st)
{
    if (err && !err->http)
        err->http = st == IMR_EX_DATAERR ? 409 : 500;
    return st;
}

/* ---------------------------------------------------------------- JSON helpers */

json_t *svc_jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

const char *svc_dump(json_t *v, imr_arena *a)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(v);
    const char *r = imr_arena_strdup(a, s ? s : "null");
    free(s);
    return r;
}

json_t *svc_parse_stored(const char *text, const char *what, imr_error *err)
{
    json_error_t je;
    json_t *v = text ? json_loads(text, 0, &je) : NULL;
    if (!v)
        svc_fail(err, 500, what, "stored JSON does not read back: %s", text ? je.text : "missing");
    return v;
}

const char *svc_new_id(const char *prefix, imr_arena *a)
{
    unsigned char r[8];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        abort(); /* no randomness: nothing sensible to do */
    return imr_arena_printf(a, "%s%02x%02x%02x%02x%02x%02x%02x%02x", prefix, r[0], r[1], r[2],
                            r[3], r[4], r[5], r[6], r[7]);
}

/* ---------------------------------------------------------------- who may do what */

const char *svc_actor_name(const imr_actor *who)
{
    if (who && who->username && *who->username)
        return who->username;
    if (who && who->user_id && *who->user_id)
        return who->user_id;
    return "system";
}

int svc_may_write(const imr_actor *who, imr_error *err)
{
    if (!who)
        return svc_forbidden(err, "no signed-in user");
    if (who->role == IMR_ROLE_ANALYST)
        return svc_forbidden(err, "analysts can read but not change cases");
    return IMR_OK;
}

/* Reviewers see only the cases assigned to them; to anyone else a case is simply absent. */
static int may_see(const imr_actor *who, const char *reviewer_id)
{
    if (!who)
        return 0;
    if (who->role != IMR_ROLE_REVIEWER)
        return 1;
    return who->reviewer_id && reviewer_id && !strcmp(who->reviewer_id, reviewer_id);
}

#define CASE_COLUMNS                                                                         \
    "id, status, priority, case_json, application_received, records_received,"              \
    " ur_decision_date, due_date, reviewer_id, duplicate_of, eligibility_json, created_at," \
    " updated_at, version"

int svc_case_load(imr_db *db, const imr_actor *who, const char *case_id, imr_arena *a,
                  svc_case_row *row, imr_error *err)
{
    if (!who)
        return svc_forbidden(err, "no signed-in user");
    if (!case_id || !*case_id)
        return svc_not_found(err, case_id);
    imr_db_rows r;
    const char *p[] = {case_id};
    int st = imr_db_exec(db, "SELECT " CASE_COLUMNS " FROM cases WHERE id = $1", p, 1, a, &r, err);
    if (st)
        return svc_db_fail(err, st);
    if (r.n_rows == 0 || !may_see(who, imr_db_text(&r, 0, 8)))
        return svc_not_found(err, case_id);
    const char **f[] = {&row->id, &row->status, &row->priority, &row->case_json,
                        &row->application_received, &row->records_received,
                        &row->ur_decision_date, &row->due_date, &row->reviewer_id,
                        &row->duplicate_of, &row->eligibility_json, &row->created_at,
                        &row->updated_at};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        *f[i] = imr_db_text(&r, 0, i);
    row->version = atol(imr_db_text(&r, 0, 13));
    return IMR_OK;
}

int svc_case_touch(imr_db *db, const svc_case_row *row, const char *status, const char *now,
                   imr_error *err)
{
    char ver[32];
    snprintf(ver, sizeof ver, "%ld", row->version);
    const char *p[] = {row->id, status, now, ver};
    imr_arena *a = imr_arena_new();
    imr_db_rows r;
    int st = imr_db_exec(db,
                         "UPDATE cases SET status = $2, updated_at = $3, version = version + 1"
                         " WHERE id = $1 AND version = CAST($4 AS INTEGER) RETURNING version",
                         p, 4, a, &r, err);
    size_t n = r.n_rows;
    imr_arena_free(a);
    if (st)
        return svc_db_fail(err, st);
    if (n == 0)
        return svc_fail(err, 409, "version", "case %s was changed by someone else meanwhile; "
                        "read it again and retry", row->id);
    return IMR_OK;
}

/* ---------------------------------------------------------------- the audit log */

int imr_audit(imr_db *db, const imr_actor *who, const char *action, const char *entity,
              const char *entity_id, const char *before_json, const char *after_json,
              const char *now, imr_error *err)
{
    if (!action || !entity || !now)
        return svc_fail(err, 500, "audit", "an audit entry needs an action, an entity and a time");
    const char *p[] = {now, svc_actor_name(who), action, entity, entity_id, before_json, after_json};
    int st = imr_db_exec(db,
                         "INSERT INTO audit_log (at, actor, action, entity, entity_id, before_json, after_json)"
                         " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                         p, 7, NULL, NULL, err);
    return st ? svc_db_fail(err, st) : IMR_OK;
}

json_t *svc_case_state_json(const svc_case_row *row)
{
    json_t *o = json_object();
    json_object_set_new(o, "status", svc_jstr(row->status));
    json_object_set_new(o, "priority", svc_jstr(row->priority));
    json_object_set_new(o, "due_date", svc_jstr(row->due_date));
    json_object_set_new(o, "records_received", svc_jstr(row->records_received));
    json_object_set_new(o, "reviewer_id", svc_jstr(row->reviewer_id));
    json_object_set_new(o, "duplicate_of", svc_jstr(row->duplicate_of));
    json_object_set_new(o, "version", json_integer(row->version));
    return o;
}

const char *svc_case_state(const svc_case_row *row, imr_arena *a)
{
    return svc_dump(svc_case_state_json(row), a);
}

int svc_case_audit(imr_db *db, const imr_actor *who, const svc_case_row *row, const char *action,
                   const char *before_state, json_t *change, const char *now, imr_arena *a,
                   imr_error *err)
{
    json_t *after = svc_case_state_json(row);
    if (change)
        json_object_set_new(after, "change", change);
    return imr_audit(db, who, action, "case", row->id, before_state, svc_dump(after, a), now, err);
}

/* ---------------------------------------------------------------- the case's view */

/* "Physical Medicine and Rehabilitation (Pain Medicine); board certified; licensed in
 * California": what the workbench shows, built from the profile, never a name. */
static const char *credentials_summary(const imr_reviewer *rv, imr_arena *a)
{
    imr_buf b = IMR_BUF_INIT;
    for (size_t i = 0; i < rv->specialties.n; i++)
        imr_buf_printf(&b, "%s%s", i ? ", " : "", rv->specialties.v[i]);
    for (size_t i = 0; i < rv->subspecialties.n; i++)
        imr_buf_printf(&b, "%s%s", i ? ", " : " (", rv->subspecialties.v[i]);
    if (rv->subspecialties.n)
        imr_buf_putc(&b, ')');
    if (rv->board_certified == 1)
        imr_buf_puts(&b, "; board certified");
    for (size_t i = 0; i < rv->licensure.n; i++)
        imr_buf_printf(&b, "%s%s", i ? ", " : "; licensed in ", rv->licensure.v[i]);
    const char *s = imr_arena_strdup(a, b.data ? b.data : "");
    imr_buf_free(&b);
    return s;
}

static json_t *strlist_json(const imr_strlist *l)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(arr, json_string(l->v[i]));
    return arr;
}

/* The assigned reviewer as the case shows it; null when unknown (the panel is read-only
 * here, so a failure only leaves the reviewer out). */
static json_t *reviewer_view(imr_db *db, const char *reviewer_id, imr_arena *a)
{
    if (!reviewer_id)
        return json_null();
    imr_db_rows r;
    imr_error e = {0};
    const char *p[] = {reviewer_id};
    if (imr_db_exec(db, "SELECT profile_json FROM reviewers WHERE id = $1", p, 1, a, &r, &e) ||
        r.n_rows == 0)
        return json_null();
    svc_candidate cand;
    imr_reviewer_profile prof;
    const svc_process *proc = svc_process_rules(&e);
    if (!proc || svc_reviewer_read(reviewer_id, imr_db_text(&r, 0, 0), 1, 0, proc, a, &cand, &prof, &e))
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(reviewer_id));
    json_object_set_new(o, "credentials", json_string(credentials_summary(&prof.reviewer, a)));
    json_object_set_new(o, "specialties", strlist_json(&prof.reviewer.specialties));
    json_object_set_new(o, "subspecialties", strlist_json(&prof.reviewer.subspecialties));
    json_object_set_new(o, "licensure", strlist_json(&prof.reviewer.licensure));
    json_object_set_new(o, "board_certified", prof.reviewer.board_certified < 0 ? json_null()
                                                                              : json_boolean(prof.reviewer.board_certified));
    return o;
}

static json_t *documents_view(imr_db *db, const char *case_id, imr_arena *a, imr_error *err, int *st)
{
    imr_db_rows r;
    const char *p[] = {case_id};
    json_t *arr = json_array();
    *st = imr_db_exec(db,
                      "SELECT id, kind, title, doc_date, author, text, created_at, html IS NOT NULL"
                      " FROM documents WHERE case_id = $1 ORDER BY created_at, id",
                      p, 1, a, &r, err);
    for (size_t i = 0; !*st && i < r.n_rows; i++) {
        json_t *d = json_object();
        static const char *const KEYS[] = {"id", "kind", "title", "date", "author", "text", "created_at"};
        for (size_t k = 0; k < 7; k++)
            json_object_set_new(d, KEYS[k], svc_jstr(imr_db_text(&r, i, k)));
        const char *h = imr_db_text(&r, i, 7);
        json_object_set_new(d, "has_html", json_boolean(h && (h[0] == '1' || h[0] == 't')));
        json_array_append_new(arr, d);
    }
    return arr;
}

static json_t *int_or_null(const char *s)
{
    return s ? json_integer(atol(s)) : json_null();
}

/* The versions of the determination, and the newest record's stored JSON text. */
static json_t *determinations_view(imr_db *db, const char *case_id, imr_arena *a, const char **newest,
                                   imr_error *err, int *st)
{
    imr_db_rows r;
    const char *p[] = {case_id};
    json_t *arr = json_array();
    *newest = "null";
    *st = imr_db_exec(db,
                      "SELECT version, status, created_by, created_at, issued_at, correction_of,"
                      " correction_reason FROM determinations WHERE case_id = $1 ORDER BY version",
                      p, 1, a, &r, err);
    for (size_t i = 0; !*st && i < r.n_rows; i++) {
        json_t *d = json_object();
        json_object_set_new(d, "version", int_or_null(imr_db_text(&r, i, 0)));
        json_object_set_new(d, "status", svc_jstr(imr_db_text(&r, i, 1)));
        json_object_set_new(d, "created_by", svc_jstr(imr_db_text(&r, i, 2)));
        json_object_set_new(d, "created_at", svc_jstr(imr_db_text(&r, i, 3)));
        json_object_set_new(d, "issued_at", svc_jstr(imr_db_text(&r, i, 4)));
        json_object_set_new(d, "correction_of", int_or_null(imr_db_text(&r, i, 5)));
        json_object_set_new(d, "correction_reason", svc_jstr(imr_db_text(&r, i, 6)));
        json_array_append_new(arr, d);
    }
    imr_db_rows nr;
    if (!*st && r.n_rows)
        *st = imr_db_exec(db,
                          "SELECT record_json FROM determinations WHERE case_id = $1"
                          " ORDER BY version DESC LIMIT 1",
                          p, 1, a, &nr, err);
    if (!*st && r.n_rows && imr_db_text(&nr, 0, 0))
        *newest = imr_db_text(&nr, 0, 0);
    return arr;
}

static json_t *assignment_view(imr_db *db, const char *case_id, imr_arena *a, imr_error *err, int *st)
{
    imr_db_rows r;
    const char *p[] = {case_id};
    *st = imr_db_exec(db,
                      "SELECT reviewer_id, method, reason, assigned_by, assigned_at FROM assignments"
                      " WHERE case_id = $1 ORDER BY seq DESC LIMIT 1",
                      p, 1, a, &r, err);
    if (*st || r.n_rows == 0)
        return json_null();
    json_t *o = json_object();
    static const char *const KEYS[] = {"reviewer_id", "method", "reason", "assigned_by", "assigned_at"};
    for (size_t k = 0; k < 5; k++)
        json_object_set_new(o, KEYS[k], svc_jstr(imr_db_text(&r, 0, k)));
    return o;
}

/* The list row of a case: what a work queue shows without opening the case. */
static json_t *summary_of(const svc_case_row *row, json_t *case_file, json_t *eligibility,
                          json_t *reviewer)
{
    json_t *s = json_object();
    json_object_set_new(s, "id", json_string(row->id));
    json_object_set(s, "case_number", json_object_get(case_file, "case_number"));
    json_object_set_new(s, "status", svc_jstr(row->status));
    json_object_set_new(s, "priority", svc_jstr(row->priority));
    json_object_set_new(s, "due_date", svc_jstr(row->due_date));
    json_object_set_new(s, "application_received", svc_jstr(row->application_received));
    json_object_set_new(s, "ur_decision_date", svc_jstr(row->ur_decision_date));
    json_object_set_new(s, "reviewer_id", svc_jstr(row->reviewer_id));
    json_object_set(s, "reviewer_credentials", reviewer ? json_object_get(reviewer, "credentials") : NULL);
    json_object_set(s, "eligible", eligibility ? json_object_get(eligibility, "eligible") : NULL);
    json_object_set_new(s, "duplicate_of", svc_jstr(row->duplicate_of));
    json_t *items = json_object_get(case_file, "disputed_items"), *requests = json_array();
    for (size_t i = 0; i < json_array_size(items); i++)
        json_array_append(requests, json_object_get(json_array_get(items, i), "request"));
    json_object_set_new(s, "requests", requests);
    json_object_set_new(s, "updated_at", svc_jstr(row->updated_at));
    /* object_set with a NULL value fails harmlessly; make those keys explicit nulls */
    static const char *const MAYBE[] = {"case_number", "reviewer_credentials", "eligible"};
    for (size_t i = 0; i < 3; i++)
        if (!json_object_get(s, MAYBE[i]))
            json_object_set_new(s, MAYBE[i], json_null());
    return s;
}

/* `parsed` is the case file when the caller holds it already (borrowed), else NULL. */
static int build_view(imr_db *db, const svc_case_row *row, json_t *parsed, imr_arena *a,
                      const char **view, const char **summary, const char **record, imr_error *err)
{
    json_t *case_file = parsed ? json_incref(parsed) : svc_parse_stored(row->case_json, "cases.case_json", err);
    if (!case_file)
        return IMR_EX_SOFTWARE;
    json_t *elig = row->eligibility_json ? svc_parse_stored(row->eligibility_json, "cases.eligibility_json", err)
                                         : json_null();
    if (!elig) {
        json_decref(case_file);
        return IMR_EX_SOFTWARE;
    }
    int st1 = 0, st2 = 0, st3 = 0;
    json_t *reviewer = reviewer_view(db, row->reviewer_id, a);
    json_t *docs = documents_view(db, row->id, a, err, &st1);
    const char *newest = NULL;
    json_t *dets = determinations_view(db, row->id, a, &newest, err, &st2);
    json_t *assignment = assignment_view(db, row->id, a, err, &st3);

    json_t *v = json_object();
    json_object_set_new(v, "id", json_string(row->id));
    json_object_set(v, "case_number", json_object_get(case_file, "case_number"));
    json_object_set_new(v, "status", svc_jstr(row->status));
    json_object_set_new(v, "priority", svc_jstr(row->priority));
    json_object_set_new(v, "due_date", svc_jstr(row->due_date));
    json_t *dates = json_object();
    json_object_set_new(dates, "application_received", svc_jstr(row->application_received));
    json_object_set_new(dates, "records_received", svc_jstr(row->records_received));
    json_object_set_new(dates, "ur_decision_date", svc_jstr(row->ur_decision_date));
    json_t *signed_at = json_object_get(case_file, "application_signed");
    json_object_set_new(dates, "application_signed", signed_at ? json_incref(signed_at) : json_null());
    json_object_set_new(dates, "created_at", svc_jstr(row->created_at));
    json_object_set_new(dates, "updated_at", svc_jstr(row->updated_at));
    json_object_set_new(v, "dates", dates);
    json_object_set(v, "eligibility", elig);
    json_object_set_new(v, "duplicate_of", svc_jstr(row->duplicate_of));
    json_object_set(v, "reviewer", reviewer);
    json_object_set_new(v, "assignment", assignment);
    json_object_set_new(v, "documents", docs);
    json_object_set_new(v, "determinations", dets);
    json_object_set_new(v, "version", json_integer(row->version));

    *summary = svc_dump(summary_of(row, case_file, elig, reviewer), a);
    /* the case file is our own stored JSON text: spliced in, not parsed again; the newest
     * record is added when the view is read (svc_view_with_clock), so that it is stored once */
    *record = newest;
    const char *small = svc_dump(v, a);
    size_t n = strlen(small);
    imr_buf b = IMR_BUF_INIT;
    imr_buf_append(&b, small, n - 1); /* without its closing brace */
    imr_buf_puts(&b, ",\"case_file\":");
    imr_buf_puts(&b, row->case_json);
    imr_buf_putc(&b, '}');
    *view = imr_arena_strndup(a, b.data, b.len);
    imr_buf_free(&b);
    json_decref(case_file);
    json_decref(elig);
    json_decref(reviewer);
    int st = st1 ? st1 : st2 ? st2 : st3;
    return st ? svc_db_fail(err, st) : IMR_OK;
}

const char *svc_view_with_clock(const char *view, const char *status, const char *due,
                                const char *now, const char *record, imr_arena *a)
{
    char today[11], head[64];
    const char *rest = view && view[0] == '{' ? view + 1 : "}";
    if (!svc_status_open(status) || !due || !imr_date_valid_iso(due) || !svc_today(now, today)) {
        snprintf(head, sizeof head, "{\"days_left\":null,\"overdue\":false%s", *rest == '}' ? "" : ",");
    } else {
        long left = svc_days_left(due, today);
        snprintf(head, sizeof head, "{\"days_left\":%ld,\"overdue\":%s%s", left, left < 0 ? "true" : "false",
                 *rest == '}' ? "" : ",");
    }
    /* views are large: copied, never formatted */
    static const char DET[] = ",\"determination\":";
    size_t hn = strlen(head), rn = strlen(rest), dn = record ? strlen(record) : 0;
    char *out = imr_arena_alloc(a, hn + rn + sizeof DET + dn + 2), *p = out;
    memcpy(p, head, hn);
    p += hn;
    if (record && rn > 1) {
        memcpy(p, rest, rn - 1); /* all but the closing brace */
        p += rn - 1;
        memcpy(p, DET, sizeof DET - 1);
        p += sizeof DET - 1;
        memcpy(p, record, dn);
        p += dn;
        memcpy(p, "}", 2);
    } else {
        memcpy(p, rest, rn + 1);
    }
    return out;
}

int svc_case_refresh(imr_db *db, const char *case_id, imr_arena *a, svc_case_row *row,
                     const char **view, const char **record, imr_error *err)
{
    return svc_case_refresh_parsed(db, case_id, NULL, a, row, view, record, err);
}

int svc_case_refresh_parsed(imr_db *db, const char *case_id, json_t *case_file, imr_arena *a,
                            svc_case_row *row, const char **view, const char **record, imr_error *err)
{
    imr_actor system = {.role = IMR_ROLE_ADMIN, .username = "system"};
    const char *summary = NULL;
    int st = svc_case_load(db, &system, case_id, a, row, err);
    if (!st)
        st = build_view(db, row, case_file, a, view, &summary, record, err);
    if (!st) {
        const char *p[] = {case_id, *view, summary};
        st = imr_db_exec(db,
                         "INSERT INTO case_views (case_id, view_json, summary_json) VALUES ($1, $2, $3)"
                         " ON CONFLICT (case_id) DO UPDATE SET view_json = excluded.view_json,"
                         " summary_json = excluded.summary_json",
                         p, 3, NULL, NULL, err);
        if (st)
            svc_db_fail(err, st);
    }
    return st;
}

int svc_case_finish(imr_db *db, const imr_actor *who, const char *case_id, const char *action,
                    const char *before_state, json_t *change, const char *now, imr_arena *a,
                    const char **out_json, imr_error *err)
{
    return svc_case_finish_parsed(db, who, case_id, NULL, action, before_state, change, now, a,
                                  out_json, err);
}

int svc_case_finish_parsed(imr_db *db, const imr_actor *who, const char *case_id, json_t *case_file,
                           const char *action, const char *before_state, json_t *change,
                           const char *now, imr_arena *a, const char **out_json, imr_error *err)
{
    svc_case_row row;
    const char *view = NULL, *record = NULL;
    int st = svc_case_refresh_parsed(db, case_id, case_file, a, &row, &view, &record, err);
    if (!st)
        st = svc_case_audit(db, who, &row, action, before_state, change, now, a, err);
    else
        json_decref(change);
    if (!st && out_json)
        *out_json = svc_view_with_clock(view, row.status, row.due_date, now, record, a);
    return st;
}

/* ---------------------------------------------------------------- knowledge, once */

static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static imr_kb *g_kb;
static imr_error g_kb_err;

static void load_engine(void)
{
    if (imr_kb_load(NULL, &g_kb, &g_kb_err))
        g_kb = NULL;
}

int svc_engine(const imr_kb **kb, const imr_lexicon **lx, imr_error *err)
{
    pthread_once(&engine_once, load_engine);
    if (!g_kb)
        return svc_fail(err, 500, g_kb_err.where, "the guideline knowledge base did not load: line %d: %s",
                        g_kb_err.line, g_kb_err.message);
    *kb = g_kb;
    imr_error e = {0};
    *lx = imr_default_lexicon(&e);
    if (!*lx)
        return svc_fail(err, 500, e.where, "the drug lexicon did not load: line %d: %s", e.line, e.message);
    return IMR_OK;
}

int svc_rules(const svc_process **p, const svc_specialties **s, imr_error *err)
{
    imr_error e = {0};
    *p = svc_process_rules(&e);
    if (*p && s)
        *s = svc_specialty_rules(&e);
    if (!*p || (s && !*s)) {
        char where[sizeof e.where];
        snprintf(where, sizeof where, "%s", e.where);
        return svc_fail(err, 500, where, "the service rules did not load: line %d: %s", e.line, e.message);
    }
    return IMR_OK;
}

/* ---------------------------------------------------------------- shared readers */

int svc_engine_case(imr_db *db, const svc_case_row *row, imr_arena *a, imr_case **out,
                    imr_error *err)
{
    char where[96];
    snprintf(where, sizeof where, "case %s", row->id);
    imr_case *c = NULL;
    int st = imr_case_from_json(row->case_json, strlen(row->case_json), where, a, &c, err);
    if (st)
        return svc_fail(err, 500, where, "the stored case file does not read back: %s", err->message);
    c->priority = row->priority;
    c->application_received = row->application_received;
    imr_db_rows r;
    const char *p[] = {row->id};
    st = imr_db_exec(db,
                     "SELECT doc_date, author, title, text FROM documents"
                     " WHERE case_id = $1 AND kind = 'medical_record' AND text IS NOT NULL ORDER BY created_at, id",
                     p, 1, a, &r, err);
    if (st)
        return svc_db_fail(err, st);
    if (r.n_rows) {
        imr_case_document *recs = imr_arena_alloc(a, (c->n_records + r.n_rows) * sizeof *recs);
        if (c->n_records)
            memcpy(recs, c->records, c->n_records * sizeof *recs);
        for (size_t i = 0; i < r.n_rows; i++) {
            imr_case_document *d = &recs[c->n_records + i];
            d->date = imr_db_text(&r, i, 0);
            d->author = imr_db_text(&r, i, 1);
            d->type = imr_db_text(&r, i, 2);
            d->text = imr_db_text(&r, i, 3);
        }
        c->records = recs;
        c->n_records += r.n_rows;
    }
    *out = c;
    return IMR_OK;
}

static int int_field(json_t *o, const char *key, int dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

static void list_field(json_t *o, const char *key, imr_arena *a, imr_strlist *out)
{
    json_t *arr = json_object_get(o, key);
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (json_is_string(json_array_get(arr, i)))
            imr_strlist_push(out, a, json_string_value(json_array_get(arr, i)));
}

int svc_reviewer_read(const char *id, const char *profile_json, int active, int open_cases,
                      const svc_process *p, imr_arena *a, svc_candidate *cand,
                      imr_reviewer_profile *profile, imr_error *err)
{
    json_t *o = svc_parse_stored(profile_json, "reviewers.profile_json", err);
    if (!o)
        return IMR_EX_SOFTWARE;
    memset(cand, 0, sizeof *cand);
    memset(profile, 0, sizeof *profile);
    cand->id = imr_arena_strdup(a, id);
    cand->active = active;
    cand->open_cases = open_cases;
    cand->years_in_practice = int_field(o, "years_in_practice", -1);
    cand->hours_per_week = int_field(o, "hours_per_week", -1);
    cand->capacity = int_field(o, "capacity", p->default_capacity);
    imr_reviewer *rv = &profile->reviewer;
    list_field(o, "specialties", a, &rv->specialties);
    list_field(o, "subspecialties", a, &rv->subspecialties);
    list_field(o, "licensure", a, &rv->licensure);
    list_field(o, "specialties", a, &cand->specialties);
    list_field(o, "subspecialties", a, &cand->specialties);
    list_field(o, "licensure", a, &cand->licensure);
    json_t *bc = json_object_get(o, "board_certified");
    rv->board_certified = json_is_boolean(bc) ? json_is_true(bc) : -1;
    json_t *style = json_object_get(o, "credentials_style");
    rv->credentials_style = json_is_string(style) && !strcmp(json_string_value(style), "lines")
                                ? IMR_CREDENTIALS_LINES
                                : IMR_CREDENTIALS_SENTENCE;
    profile->reviewer_id = cand->id;
    json_t *aff = json_object_get(o, "affiliations");
    cand->n_affiliations = json_array_size(aff);
    cand->affiliations = imr_arena_alloc(a, (cand->n_affiliations + 1) * sizeof *cand->affiliations);
    for (size_t i = 0; i < cand->n_affiliations; i++) {
        json_t *x = json_array_get(aff, i);
        cand->affiliations[i].kind = imr_arena_strdup(a, json_string_value(json_object_get(x, "kind")));
        cand->affiliations[i].name = imr_arena_strdup(a, json_string_value(json_object_get(x, "name")));
    }
    json_decref(o);
    return IMR_OK;
}
