/*
 * service_case.c - the intake side of the IMR service model: registering an application
 * (the case file plus intake fields and documents), attaching documents, screening for
 * eligibility (an ineligible application is closed with a notice saying why), and reading
 * cases one at a time or as work lists sorted by due date.
 */
#include "service_internal.h"
#include "json_read.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- documents */

typedef struct intake_doc {
    const char *kind, *title, *date, *author, *text;
} intake_doc;

/* Kinds a user may attach; "ineligibility_letter" is written by screening only. */
static const char *const DOC_KINDS[] = {"medical_record", "ur_decision", "application",
                                        "correspondence", "other", NULL};

static void read_document(jreader *rd, const json_t *o, const char *path, intake_doc *d)
{
    memset(d, 0, sizeof *d);
    if (!json_is_object(o)) {
        jr_fail(rd, path, "expected a document (an object), found %s", jr_type_name(o));
        return;
    }
    int k = jr_enum(rd, o, "kind", path, DOC_KINDS);
    if (k < 0 && !rd->failed) {
        char p[300];
        snprintf(p, sizeof p, "%s.kind", path);
        jr_fail(rd, p, "required field is missing%s", "");
    }
    d->kind = k >= 0 ? DOC_KINDS[k] : NULL;
    d->title = jr_str(rd, o, "title", path);
    d->date = jr_date(rd, o, "date", path);
    d->author = jr_str(rd, o, "author", path);
    d->text = jr_str(rd, o, "text", path);
    if (!rd->failed && d->kind && !strcmp(d->kind, "medical_record") && (!d->text || !*d->text)) {
        char p[300];
        snprintf(p, sizeof p, "%s.text", path);
        jr_fail(rd, p, "a medical record needs its text%s", "");
    }
}

static int insert_document(imr_db *db, const char *case_id, const char *id, const intake_doc *d,
                           const char *html, const char *now, imr_error *err)
{
    const char *p[] = {id, case_id, d->kind, d->title, d->date, d->author, d->text, html, now};
    int st = imr_db_exec(db,
                         "INSERT INTO documents (id, case_id, kind, title, doc_date, author, text, html, created_at)"
                         " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                         p, 9, NULL, NULL, err);
    return st ? svc_db_fail(err, st) : IMR_OK;
}

static json_t *document_json(const char *case_id, const char *id, const intake_doc *d, const char *now)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "case_id", json_string(case_id));
    json_object_set_new(o, "kind", json_string(d->kind));
    json_object_set_new(o, "title", svc_jstr(d->title));
    json_object_set_new(o, "date", svc_jstr(d->date));
    json_object_set_new(o, "author", svc_jstr(d->author));
    json_object_set_new(o, "created_at", json_string(now));
    return o;
}

/* ---------------------------------------------------------------- intake */

static int may_register(const imr_actor *who, imr_error *err, const char *what)
{
    int st = svc_may_write(who, err);
    if (st)
        return st;
    if (who->role != IMR_ROLE_INTAKE && who->role != IMR_ROLE_ADMIN)
        return svc_forbidden(err, what);
    return IMR_OK;
}

static int valid_case_number(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return n > 0 && n <= 64;
}

/* The intake fields the engine's case file does not carry (docs/service.md). */
typedef struct intake {
    const char *records_received;
    intake_doc *docs;
    size_t n_docs;
} intake;

static int read_intake(const json_t *root, imr_arena *a, intake *in, imr_error *err)
{
    static const char *const DISPUTES[] = {"medical_necessity", "liability", "compensability",
                                           "timeliness_of_ur", "other", NULL};
    jreader rd = {a, err, "case", 0};
    memset(in, 0, sizeof *in);
    jr_bool(&rd, root, "ur_decision_attached", "$");
    jr_bool(&rd, root, "ur_decision_mailed", "$");
    jr_bool(&rd, root, "ur_conditional_noncertification", "$");
    jr_enum(&rd, root, "dispute_type", "$", DISPUTES);
    imr_strlist dx = {0};
    jr_list(&rd, root, "diagnoses", "$", &dx);
    in->records_received = jr_date(&rd, root, "records_received", "$");
    const json_t *docs = jr_array(&rd, root, "documents", "$");
    in->n_docs = json_array_size(docs);
    in->docs = imr_arena_alloc(a, (in->n_docs + 1) * sizeof *in->docs);
    for (size_t i = 0; i < in->n_docs && !rd.failed; i++) {
        char p[64];
        snprintf(p, sizeof p, "$.documents[%zu]", i);
        read_document(&rd, json_array_get(docs, i), p, &in->docs[i]);
    }
    return rd.failed ? svc_input_error(err, 400) : IMR_OK;
}

/* The dispute keys of a case (one per disputed item, without repeats). */
static int insert_dispute_keys(imr_db *db, const svc_process *p, const imr_case *c,
                               const char *case_id, imr_arena *a, imr_error *err)
{
    for (size_t i = 0; i < c->n_items; i++) {
        const char *key = svc_dispute_key(p, c, i, a);
        if (!key)
            continue;
        const char *params[] = {key, case_id};
        int st = imr_db_exec(db,
                             "INSERT INTO dispute_keys (dispute_key, case_id) VALUES ($1, $2)"
                             " ON CONFLICT DO NOTHING",
                             params, 2, NULL, NULL, err);
        if (st)
            return svc_db_fail(err, st);
    }
    return IMR_OK;
}

/* An application read for registration: the engine's case, the intake fields, and the
 * case file as stored (without its documents, which live in their own table). */
typedef struct registration {
    imr_case *c;
    intake in;
    const char **doc_ids; /* per document, made before the transaction */
    const char *stored, *received, *records;
    char due[11];
    json_t *root;         /* the parsed case file (documents removed); owned */
    const imr_record *draft;
    const char *draft_json;
} registration;

static int read_registration(json_t *root, const char *today, imr_arena *a, registration *g,
                             imr_error *err)
{
    memset(g, 0, sizeof *g);
    g->root = root;
    int st = jr_case(root, "case", a, &g->c, err);
    if (st)
        return svc_input_error(err, 400);
    if (!valid_case_number(g->c->case_number))
        return svc_fail(err, 400, "$.case_number",
                        "expected 1 to 64 letters, digits, '-', '_' or '.', found \"%s\"", g->c->case_number);
    if ((st = read_intake(root, a, &g->in, err)))
        return st;
    g->received = g->c->application_received ? g->c->application_received : imr_arena_strdup(a, today);
    g->records = g->in.records_received ? g->in.records_received : g->c->n_records ? g->received : NULL;
    if (imr_due_date(g->c->priority, g->received, g->records, g->due))
        return svc_fail(err, 500, "rules", "the review clock could not be computed");
    g->doc_ids = imr_arena_alloc(a, (g->in.n_docs + 1) * sizeof *g->doc_ids);
    for (size_t i = 0; i < g->in.n_docs; i++)
        g->doc_ids[i] = svc_new_id("D-", a);
    json_object_del(root, "documents"); /* they live in the documents table */
    g->stored = svc_dump(json_incref(root), a);
    return IMR_OK;
}

/* A medical record attached at intake, with the id it will be stored under. */
typedef struct attached_record {
    const intake_doc *doc;
    const char *id;
} attached_record;

static int by_doc_id(const void *x, const void *y)
{
    return strcmp(((const attached_record *)x)->id, ((const attached_record *)y)->id);
}

/* The engine's case as svc_engine_case would read it back once stored: the case file, then
 * the medical records attached, in the order the store lists them (created together, so by
 * document id). */
static imr_case *engine_case_of(const registration *g, imr_arena *a)
{
    imr_case *c = imr_arena_alloc(a, sizeof *c);
    *c = *g->c;
    c->application_received = g->received;
    attached_record *recs = imr_arena_alloc(a, (g->in.n_docs + 1) * sizeof *recs);
    size_t n = 0;
    for (size_t i = 0; i < g->in.n_docs; i++)
        if (!strcmp(g->in.docs[i].kind, "medical_record") && g->in.docs[i].text)
            recs[n++] = (attached_record){&g->in.docs[i], g->doc_ids[i]};
    if (!n)
        return c;
    qsort(recs, n, sizeof *recs, by_doc_id);
    imr_case_document *all = imr_arena_alloc(a, (c->n_records + n) * sizeof *all);
    if (c->n_records)
        memcpy(all, c->records, c->n_records * sizeof *all);
    for (size_t i = 0; i < n; i++) {
        imr_case_document *r = &all[c->n_records + i];
        r->date = recs[i].doc->date;
        r->author = recs[i].doc->author;
        r->type = recs[i].doc->title;
        r->text = recs[i].doc->text;
    }
    c->records = all;
    c->n_records += n;
    return c;
}

static int create_in_tx(imr_db *db, const imr_actor *who, const svc_process *p, const registration *g,
                        const char *now, imr_arena *a, const char **out_json, imr_error *err)
{
    const imr_case *c = g->c;
    const char *params[] = {c->case_number, c->priority, g->stored, g->received, g->records,
                            c->ur_decision_date, g->due, now};
    int st = imr_db_exec(db,
                         "INSERT INTO cases (id, status, priority, case_json, application_received,"
                         " records_received, ur_decision_date, due_date, created_at, updated_at, version)"
                         " VALUES ($1, 'received', $2, $3, $4, $5, $6, $7, $8, $8, 1)",
                         params, 8, NULL, NULL, err);
    if (st == IMR_EX_DATAERR)
        return svc_fail(err, 409, "$.case_number", "case %s already exists", c->case_number);
    if (st)
        return svc_db_fail(err, st);
    if ((st = insert_dispute_keys(db, p, c, c->case_number, a, err)))
        return st;
    for (size_t i = 0; i < g->in.n_docs; i++)
        if ((st = insert_document(db, c->case_number, g->doc_ids[i], &g->in.docs[i], NULL, now, err)))
            return st;
    json_t *change = json_object();
    json_object_set_new(change, "documents", json_integer((json_int_t)g->in.n_docs));
    if (!g->draft)
        return svc_case_finish_parsed(db, who, c->case_number, g->root, "case.create", NULL, change, now, a,
                                      out_json, err);
    /* with its draft: the case's audit entry now, its view once, after the draft */
    svc_case_row row = {.id = c->case_number, .status = "received", .priority = c->priority,
                        .case_json = g->stored, .application_received = g->received,
                        .records_received = g->records, .ur_decision_date = c->ur_decision_date,
                        .due_date = g->due, .created_at = now, .updated_at = now, .version = 1};
    if ((st = svc_case_audit(db, who, &row, "case.create", NULL, change, now, a, err)))
        return st;
    return svc_draft_store(db, who, &row, g->root, g->draft, g->draft_json, now, a, out_json, err);
}

/* Registration, with or without the engine's draft; consumes `root`. */
static int register_case(imr_db *db, const imr_actor *who, json_t *root, int with_draft, const char *now,
                         imr_arena *a, const char **out_id, const char **out_json, imr_error *err)
{
    const svc_process *p;
    char today[11];
    registration g;
    memset(&g, 0, sizeof g);
    g.root = root;
    int st = may_register(who, err, "only intake and administrators register applications");
    if (!st && with_draft && who->role != IMR_ROLE_ADMIN)
        st = svc_forbidden(err, "only administrators both register a case and draft it");
    if (!st)
        st = svc_rules(&p, NULL, err);
    if (!st && !svc_today(now, today))
        st = svc_fail(err, 400, "now", "expected an ISO 8601 timestamp, found \"%s\"", now ? now : "");
    if (!st)
        st = read_registration(root, today, a, &g, err);
    /* the engine runs before the write transaction opens: it holds no lock while it works */
    if (!st && with_draft)
        st = svc_draft_record(engine_case_of(&g, a), NULL, a, &g.draft, &g.draft_json, err);
    if (!st && !(st = imr_db_begin(db, err))) {
        st = create_in_tx(db, who, p, &g, now, a, out_json, err);
        if (!st && (st = imr_db_commit(db, err)))
            svc_db_fail(err, st);
        if (st)
            imr_db_rollback(db);
    }
    if (st && !err->http)
        svc_db_fail(err, st);
    if (!st && out_id)
        *out_id = g.c->case_number;
    json_decref(root);
    return st;
}

int imr_svc_case_create(imr_db *db, const imr_actor *who, const char *case_json, size_t len,
                        const char *now, imr_arena *a, const char **out_json, imr_error *err)
{
    return imr_svc_case_create_draft(db, who, case_json, len, 0, now, a, NULL, out_json, err);
}

int imr_svc_case_create_draft(imr_db *db, const imr_actor *who, const char *case_json, size_t len,
                              int with_draft, const char *now, imr_arena *a, const char **out_id,
                              const char **out_json, imr_error *err)
{
    json_t *root = jr_load(case_json ? case_json : "", case_json ? len : 0, "case", err);
    if (!root)
        return svc_input_error(err, 400);
    return imr_svc_case_register(db, who, root, with_draft, now, a, out_id, out_json, err);
}

int imr_svc_case_register(imr_db *db, const imr_actor *who, struct json_t *case_file, int with_draft,
                          const char *now, imr_arena *a, const char **out_id, const char **out_json,
                          imr_error *err)
{
    return register_case(db, who, case_file, with_draft, now, a, out_id, out_json, err);
}

/* ---------------------------------------------------------------- reading */

int imr_svc_case_get(imr_db *db, const imr_actor *who, const char *case_id, const char *now,
                     imr_arena *a, const char **out_json, imr_error *err)
{
    if (!who)
        return svc_forbidden(err, "no signed-in user");
    if (!case_id)
        return svc_not_found(err, case_id);
    imr_db_rows r;
    const char *p[] = {case_id};
    int st = imr_db_exec(db,
                         "SELECT c.status, c.reviewer_id, c.due_date, v.view_json FROM cases c"
                         " JOIN case_views v ON v.case_id = c.id WHERE c.id = $1",
                         p, 1, a, &r, err);
    if (st)
        return svc_db_fail(err, st);
    const char *reviewer = imr_db_text(&r, 0, 1);
    if (r.n_rows == 0 ||
        (who->role == IMR_ROLE_REVIEWER && (!who->reviewer_id || !reviewer || strcmp(who->reviewer_id, reviewer))))
        return svc_not_found(err, case_id);
    const char *view = imr_db_text(&r, 0, 3);
    if (!view)
        return svc_fail(err, 500, "case_views.view_json", "case %s has no stored view", case_id);
    /* the second and last query: the newest determination, by the primary key */
    imr_db_rows d;
    if ((st = imr_db_exec(db,
                          "SELECT record_json FROM determinations WHERE case_id = $1"
                          " ORDER BY version DESC LIMIT 1",
                          p, 1, a, &d, err)))
        return svc_db_fail(err, st);
    const char *record = d.n_rows && imr_db_text(&d, 0, 0) ? imr_db_text(&d, 0, 0) : "null";
    *out_json = svc_view_with_clock(view, imr_db_text(&r, 0, 0), imr_db_text(&r, 0, 2), now, record, a);
    return IMR_OK;
}

/* Lists: one statement per leading filter so that each uses its index (status, reviewer,
 * overdue, or none: the due-date index), the other filters being optional parameters. */
#define LIST_FILTERS                                                                          \
    " AND (CAST($1 AS TEXT) IS NULL OR status = CAST($1 AS TEXT))"                           \
    " AND (CAST($2 AS TEXT) IS NULL OR reviewer_id = CAST($2 AS TEXT))"                      \
    " AND (CAST($3 AS TEXT) IS NULL OR priority = CAST($3 AS TEXT))"                         \
    " AND (CAST($4 AS TEXT) IS NULL OR substr(id, 1, length(CAST($4 AS TEXT))) = CAST($4 AS TEXT))" \
    " AND (CAST($5 AS TEXT) IS NULL OR (status IN ('received', 'eligible', 'assigned', 'in_review')" \
    " AND due_date < CAST($5 AS TEXT)))"
#define LIST_SQL(lead, order)                                                          \
    "SELECT status, due_date, summary_json FROM cases JOIN case_views ON case_id = id"   \
    " WHERE " lead LIST_FILTERS                                                         \
    " ORDER BY " order " LIMIT CAST($6 AS INTEGER) OFFSET CAST($7 AS INTEGER)"
#define LEAD_REVIEWER "reviewer_id = CAST($2 AS TEXT)"
#define LEAD_STATUS "status = CAST($1 AS TEXT)"
#define LEAD_OVERDUE "status IN ('received', 'eligible', 'assigned', 'in_review') AND due_date < CAST($5 AS TEXT)"
#define LEAD_NONE "1 = 1"
#define ASC "due_date, id"
#define DESC "due_date DESC, id DESC"

static const char *const LIST_STATEMENTS[4][2] = {
    {LIST_SQL(LEAD_REVIEWER, ASC), LIST_SQL(LEAD_REVIEWER, DESC)},
    {LIST_SQL(LEAD_STATUS, ASC), LIST_SQL(LEAD_STATUS, DESC)},
    {LIST_SQL(LEAD_OVERDUE, ASC), LIST_SQL(LEAD_OVERDUE, DESC)},
    {LIST_SQL(LEAD_NONE, ASC), LIST_SQL(LEAD_NONE, DESC)},
};

/* How many cases the filters select in all. A page that is not full ends the list, so its
 * total is known without counting. Otherwise the count names only the filters given (fixed
 * fragments, values always bound), so that it stays on an index: no filter counts the
 * smallest index, a status or a reviewer their covering index, overdue a range of
 * cases_by_status; a case-number prefix reads the primary key's index only. A priority
 * filter has no index of its own and reads the rows the other filters leave. */
static int list_total(imr_db *db, const char *const *params, int offset, int limit, size_t rows,
                      imr_arena *a, long *total, imr_error *err)
{
    static const char *const FRAGMENT[5] = {
        " AND status = CAST($%d AS TEXT)",
        " AND reviewer_id = CAST($%d AS TEXT)",
        " AND priority = CAST($%d AS TEXT)",
        " AND substr(id, 1, length(CAST($%d AS TEXT))) = CAST($%d AS TEXT)",
        " AND status IN ('received', 'eligible', 'assigned', 'in_review') AND due_date < CAST($%d AS TEXT)",
    };
    if (rows > 0 && rows < (size_t)limit) {
        *total = offset + (long)rows;
        return IMR_OK;
    }
    if (rows == 0 && offset == 0) {
        *total = 0;
        return IMR_OK;
    }
    imr_buf sql = IMR_BUF_INIT;
    const char *given[5];
    int n = 0;
    imr_buf_puts(&sql, "SELECT COUNT(*) FROM cases WHERE 1 = 1");
    for (int i = 0; i < 5; i++)
        if (params[i]) {
            given[n] = params[i];
            n++;
            imr_buf_printf(&sql, FRAGMENT[i], n, n);
        }
    imr_db_rows r;
    int st = imr_db_exec(db, sql.data, given, n, a, &r, err);
    imr_buf_free(&sql);
    if (!st)
        *total = r.n_rows ? atol(imr_db_text(&r, 0, 0)) : 0;
    return st;
}

static int list_sort(const char *sort, int *desc, imr_error *err)
{
    *desc = 0;
    if (!sort || !*sort || !strcmp(sort, "due_date"))
        return IMR_OK;
    if (!strcmp(sort, "-due_date")) {
        *desc = 1;
        return IMR_OK;
    }
    return svc_fail(err, 400, "sort", "expected \"due_date\" or \"-due_date\", found \"%s\"", sort);
}

int imr_svc_case_list(imr_db *db, const imr_actor *who, const imr_case_filter *f,
                      const char *now, imr_arena *a, const char **out_json, imr_error *err)
{
    const svc_process *p;
    imr_case_filter none = {0};
    char today[11];
    int desc = 0, st;
    if (!who)
        return svc_forbidden(err, "no signed-in user");
    if (!f)
        f = &none;
    if ((st = svc_rules(&p, NULL, err)) || (st = list_sort(f->sort, &desc, err)))
        return st;
    if (!svc_today(now, today))
        return svc_fail(err, 400, "now", "expected an ISO 8601 timestamp, found \"%s\"", now ? now : "");
    if (f->offset < 0)
        return svc_fail(err, 400, "offset", "expected 0 or more, found %d", f->offset);
    int limit = f->limit <= 0 ? p->list_default_limit : f->limit > p->list_max_limit ? p->list_max_limit : f->limit;
    const char *reviewer = f->reviewer_id && *f->reviewer_id ? f->reviewer_id : NULL;
    json_t *out = json_object(), *cases = json_array();
    if (who->role == IMR_ROLE_REVIEWER) { /* a reviewer's list is their own cases, always */
        if (reviewer && (!who->reviewer_id || strcmp(reviewer, who->reviewer_id)))
            reviewer = "";
        else
            reviewer = who->reviewer_id ? who->reviewer_id : "";
    }
    const char *status = f->status && *f->status ? f->status : NULL;
    int lead = reviewer ? 0 : status ? 1 : f->overdue_only ? 2 : 3;
    char lim[16], off[16];
    snprintf(lim, sizeof lim, "%d", limit);
    snprintf(off, sizeof off, "%d", f->offset);
    const char *params[] = {status, reviewer, f->priority && *f->priority ? f->priority : NULL,
                            f->q && *f->q ? f->q : NULL, f->overdue_only ? today : NULL, lim, off};
    imr_db_rows r;
    long total = 0;
    st = imr_db_exec(db, LIST_STATEMENTS[lead][desc], params, 7, a, &r, err);
    if (!st)
        st = list_total(db, params, f->offset, limit, r.n_rows, a, &total, err);
    for (size_t i = 0; !st && i < r.n_rows; i++) {
        const char *row = svc_view_with_clock(imr_db_text(&r, i, 2), imr_db_text(&r, i, 0),
                                              imr_db_text(&r, i, 1), now, NULL, a);
        json_array_append_new(cases, json_loads(row, 0, NULL));
    }
    json_object_set_new(out, "cases", cases);
    json_object_set_new(out, "total", json_integer(total));
    json_object_set_new(out, "limit", json_integer(limit));
    json_object_set_new(out, "offset", json_integer(f->offset));
    json_object_set_new(out, "sort", json_string(desc ? "-due_date" : "due_date"));
    if (st) {
        json_decref(out);
        return svc_db_fail(err, st);
    }
    *out_json = svc_dump(out, a);
    return IMR_OK;
}

/* ---------------------------------------------------------------- documents */

static int document_in_tx(imr_db *db, const imr_actor *who, const svc_case_row *row,
                          const intake_doc *d, const char *id, const char *now, const char *today,
                          imr_arena *a, const char **out_json, imr_error *err)
{
    int st = svc_case_touch(db, row, row->status, now, err);
    if (!st)
        st = insert_document(db, row->id, id, d, NULL, now, err);
    /* the review clock runs from the first receipt of the medical records */
    if (!st && !strcmp(d->kind, "medical_record") && !row->records_received) {
        char due[11];
        if (imr_due_date(row->priority, row->application_received, today, due))
            return svc_fail(err, 500, "rules", "the review clock could not be computed");
        const char *p[] = {row->id, today, svc_status_open(row->status) ? due : row->due_date};
        st = imr_db_exec(db, "UPDATE cases SET records_received = $2, due_date = $3 WHERE id = $1",
                         p, 3, NULL, NULL, err);
        if (st)
            svc_db_fail(err, st);
    }
    if (!st)
        st = svc_case_finish(db, who, row->id, "document.add", svc_case_state(row, a),
                             document_json(row->id, id, d, now), now, a, out_json, err);
    return st;
}

int imr_svc_document_add(imr_db *db, const imr_actor *who, const char *case_id,
                         const char *doc_json, size_t len, const char *now, imr_arena *a,
                         const char **out_json, imr_error *err)
{
    svc_case_row row;
    char today[11];
    int st = svc_case_load(db, who, case_id, a, &row, err);
    if (!st)
        st = may_register(who, err, "only intake and administrators attach documents");
    if (st)
        return st;
    if (!svc_today(now, today))
        return svc_fail(err, 400, "now", "expected an ISO 8601 timestamp, found \"%s\"", now ? now : "");
    if (!strcmp(row.status, "ineligible") || !strcmp(row.status, "issued"))
        return svc_fail(err, 409, "status", "case %s is closed (%s)", case_id, row.status);
    json_t *root = jr_load(doc_json ? doc_json : "", doc_json ? len : 0, "document", err);
    if (!root)
        return svc_input_error(err, 400);
    jreader rd = {a, err, "document", 0};
    intake_doc d;
    read_document(&rd, root, "$", &d);
    json_decref(root);
    if (rd.failed)
        return svc_input_error(err, 400);
    const char *id = svc_new_id("D-", a);
    if ((st = imr_db_begin(db, err)))
        return svc_db_fail(err, st);
    st = document_in_tx(db, who, &row, &d, id, now, today, a, out_json, err);
    if (!st && (st = imr_db_commit(db, err)))
        svc_db_fail(err, st);
    if (st)
        imr_db_rollback(db);
    return st;
}

/* ---------------------------------------------------------------- screening */

static int flag(const json_t *root, const char *key)
{
    return json_is_true(json_object_get(root, key));
}

/* The earliest earlier application, still standing, for one of the same disputes. */
static int find_duplicate(imr_db *db, const svc_process *p, const imr_case *c,
                          const svc_case_row *row, imr_arena *a, svc_application *app,
                          imr_error *err)
{
    for (size_t i = 0; i < c->n_items; i++) {
        const char *key = svc_dispute_key(p, c, i, a);
        if (!key)
            continue;
        app->duplicate_checked = 1;
        const char *params[] = {key, row->id, row->created_at};
        imr_db_rows r;
        int st = imr_db_exec(db,
                             "SELECT c.id FROM dispute_keys k JOIN cases c ON c.id = k.case_id"
                             " WHERE k.dispute_key = $1 AND c.id <> $2 AND c.status <> 'ineligible'"
                             " AND (c.created_at < $3 OR (c.created_at = $3 AND c.id < $2))"
                             " ORDER BY c.created_at, c.id LIMIT 1",
                             params, 3, a, &r, err);
        if (st)
            return svc_db_fail(err, st);
        if (r.n_rows && (!app->duplicate_of || strcmp(imr_db_text(&r, 0, 0), app->duplicate_of) < 0))
            app->duplicate_of = imr_db_text(&r, 0, 0);
    }
    return IMR_OK;
}

static int application_of(imr_db *db, const svc_process *p, const svc_case_row *row,
                          imr_arena *a, svc_application *app, imr_case **out, imr_error *err)
{
    memset(app, 0, sizeof *app);
    imr_case *c = NULL;
    int st = svc_engine_case(db, row, a, &c, err);
    if (st)
        return st;
    json_t *root = svc_parse_stored(row->case_json, "cases.case_json", err);
    if (!root)
        return IMR_EX_SOFTWARE;
    app->case_id = row->id;
    app->application_signed = c->application_signed;
    app->application_received = row->application_received;
    app->ur_decision_date = c->ur_decision_date;
    app->ur_decision_mailed = flag(root, "ur_decision_mailed");
    app->ur_decision_attached = flag(root, "ur_decision_attached");
    const char *dt = json_string_value(json_object_get(root, "dispute_type"));
    app->dispute_type = dt ? imr_arena_strdup(a, dt) : NULL;
    app->ur_conditional_noncertification = flag(root, "ur_conditional_noncertification");
    json_decref(root);
    imr_db_rows r;
    const char *params[] = {row->id};
    st = imr_db_exec(db, "SELECT COUNT(*) FROM documents WHERE case_id = $1 AND kind = 'ur_decision'",
                     params, 1, a, &r, err);
    if (st)
        return svc_db_fail(err, st);
    if (atol(imr_db_text(&r, 0, 0) ? imr_db_text(&r, 0, 0) : "0") > 0)
        app->ur_decision_attached = 1;
    *out = c;
    return find_duplicate(db, p, c, row, a, app, err);
}

static int screen_in_tx(imr_db *db, const imr_actor *who, const svc_process *p,
                        const svc_case_row *row, const svc_application *app, const imr_case *c,
                        const imr_eligibility *e, const char *now, const char *today, imr_arena *a,
                        const char **out_json, imr_error *err)
{
    int st = svc_case_touch(db, row, e->eligible ? "eligible" : "ineligible", now, err);
    json_t *ej = svc_eligibility_json(e, now);
    char deadline[11];
    svc_filing_deadline(p, app, deadline);
    json_object_set_new(ej, "filing_deadline", deadline[0] ? json_string(deadline) : json_null());
    json_t *change = json_deep_copy(ej);
    const char *stored = svc_dump(ej, a);
    if (!st) {
        const char *params[] = {row->id, stored, e->duplicate_of};
        st = imr_db_exec(db, "UPDATE cases SET eligibility_json = $2, duplicate_of = $3 WHERE id = $1",
                         params, 3, NULL, NULL, err);
        if (st)
            svc_db_fail(err, st);
    }
    if (!st && !e->eligible) {
        const char *text, *html;
        svc_ineligibility_notice(p, app, c->case_number, today, e, a, &text, &html);
        intake_doc d = {"ineligibility_letter", svc_wording(p, "notice.title"), today, p->organization, text};
        st = insert_document(db, row->id, svc_new_id("D-", a), &d, html, now, err);
    }
    if (!st)
        return svc_case_finish(db, who, row->id, "case.screen", svc_case_state(row, a), change, now, a,
                               out_json, err);
    json_decref(change);
    return st;
}

int imr_svc_case_screen(imr_db *db, const imr_actor *who, const char *case_id,
                        const char *now, imr_arena *a, const char **out_json, imr_error *err)
{
    const svc_process *p;
    svc_case_row row;
    char today[11];
    int st = svc_case_load(db, who, case_id, a, &row, err);
    if (!st)
        st = may_register(who, err, "only intake and administrators screen applications");
    if (!st)
        st = svc_rules(&p, NULL, err);
    if (st)
        return st;
    if (!svc_today(now, today))
        return svc_fail(err, 400, "now", "expected an ISO 8601 timestamp, found \"%s\"", now ? now : "");
    if (strcmp(row.status, "received"))
        return svc_fail(err, 409, "status", "case %s was already screened (status %s)", case_id, row.status);
    svc_application app;
    imr_case *c = NULL;
    if ((st = application_of(db, p, &row, a, &app, &c, err)))
        return st;
    imr_eligibility e;
    svc_screen(p, &app, a, &e);
    if ((st = imr_db_begin(db, err)))
        return svc_db_fail(err, st);
    st = screen_in_tx(db, who, p, &row, &app, c, &e, now, today, a, out_json, err);
    if (!st && (st = imr_db_commit(db, err)))
        svc_db_fail(err, st);
    if (st)
        imr_db_rollback(db);
    return st;
}
