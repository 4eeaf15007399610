/*
 * record_json.c - the determination record as JSON (jansson): writing it, and reading it
 * back with type checks that name the JSON path of every bad field.
 */
#include "imr.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------- writing */

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *jint(int v)
{
    return v >= 0 ? json_integer(v) : json_null();
}

static json_t *jlist(const imr_strlist *l)
{
    json_t *a = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(a, json_string(l->v[i]));
    return a;
}

static json_t *treatment_json(const imr_treatment *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(imr_treatment_kind_name(t->kind)));
    json_object_set_new(o, "name", jstr(t->name));
    json_object_set_new(o, "generics", jlist(&t->generics));
    json_object_set_new(o, "drug_class", jstr(t->drug_class));
    json_object_set_new(o, "strength", jstr(t->strength));
    json_object_set_new(o, "dose_form", jstr(t->dose_form));
    json_object_set_new(o, "quantity", jint(t->quantity));
    json_object_set_new(o, "refills", jint(t->refills));
    json_object_set_new(o, "frequency", jstr(t->frequency));
    json_object_set_new(o, "visits", jint(t->visits));
    json_object_set_new(o, "duration", jstr(t->duration));
    json_object_set_new(o, "body_part", jstr(t->body_part));
    json_object_set_new(o, "laterality", jstr(t->laterality));
    json_object_set_new(o, "procedure", jstr(t->procedure));
    json_object_set_new(o, "levels", jstr(t->levels));
    json_object_set_new(o, "mme_factor", t->mme_factor > 0 ? json_real(t->mme_factor) : json_null());
    return o;
}

static json_t *evidence_json(const imr_evidence *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "source", jstr(e->source));
    json_object_set_new(o, "start", json_integer((json_int_t)e->start));
    json_object_set_new(o, "end", json_integer((json_int_t)e->end));
    json_object_set_new(o, "text", jstr(e->text));
    return o;
}

static json_t *item_json(const imr_item *it)
{
    json_t *o = json_object();
    json_object_set_new(o, "request", jstr(it->request));
    json_object_set_new(o, "decision", json_string(imr_decision_name(it->decision)));
    json_object_set_new(o, "ur_decision", jstr(it->ur_decision));
    json_object_set_new(o, "claims_administrator_guideline", jstr(it->claims_administrator_guideline));
    json_object_set_new(o, "reviewer_guideline", jstr(it->reviewer_guideline));
    json_object_set_new(o, "rationale", jstr(it->rationale));
    json_object_set_new(o, "treatment", treatment_json(&it->treatment));
    json_t *cits = json_array();
    for (size_t i = 0; i < it->n_citations; i++) {
        const imr_citation *c = &it->citations[i];
        json_t *co = json_object();
        json_object_set_new(co, "guideline", jstr(c->guideline));
        json_object_set_new(co, "edition", jstr(c->edition));
        json_object_set_new(co, "section", jstr(c->section));
        json_object_set_new(co, "pages", jstr(c->pages));
        json_array_append_new(cits, co);
    }
    json_object_set_new(o, "citations", cits);
    json_t *crit = json_array();
    for (size_t i = 0; i < it->n_criteria; i++) {
        const imr_criterion *c = &it->criteria[i];
        json_t *co = json_object();
        json_object_set_new(co, "id", jstr(c->id));
        json_object_set_new(co, "text", jstr(c->text));
        json_object_set_new(co, "status", json_string(imr_criterion_status_name(c->status)));
        json_t *ev = json_array();
        for (size_t k = 0; k < c->n_evidence; k++)
            json_array_append_new(ev, evidence_json(&c->evidence[k]));
        json_object_set_new(co, "evidence", ev);
        json_array_append_new(crit, co);
    }
    json_object_set_new(o, "criteria", crit);
    json_object_set_new(o, "missing_documentation", jlist(&it->missing_documentation));
    json_object_set_new(o, "undetermined_reason", jstr(it->undetermined_reason));
    return o;
}

static json_t *record_json(const imr_record *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "case_number", jstr(r->case_number));
    json_object_set_new(o, "status", json_string(imr_record_status_name(r->status)));
    json_object_set_new(o, "layout", json_string(imr_layout_name(r->layout)));
    json_object_set_new(o, "organization", jstr(r->organization));
    json_t *h = json_object();
    json_object_set_new(h, "date_assigned", jstr(r->header.date_assigned));
    json_object_set_new(h, "decision_date", jstr(r->header.decision_date));
    json_object_set_new(h, "ur_denial_date", jstr(r->header.ur_denial_date));
    json_object_set_new(h, "application_received", jstr(r->header.application_received));
    json_object_set_new(h, "priority", jstr(r->header.priority));
    json_object_set_new(h, "employee", jstr(r->header.employee));
    json_object_set_new(h, "employer", jstr(r->header.employer));
    json_object_set_new(h, "claim_number", jstr(r->header.claim_number));
    json_object_set_new(h, "notice_date", jstr(r->header.notice_date));
    json_object_set_new(h, "noarfi_date", jstr(r->header.noarfi_date));
    json_object_set_new(o, "header", h);
    json_object_set_new(o, "determination_method", jstr(r->determination_method));
    json_t *rv = json_object();
    json_object_set_new(rv, "credentials_text", jstr(r->reviewer.credentials_text));
    json_object_set_new(rv, "credentials_style",
                        json_string(r->reviewer.credentials_style == IMR_CREDENTIALS_LINES ? "lines" : "sentence"));
    json_object_set_new(rv, "specialties", jlist(&r->reviewer.specialties));
    json_object_set_new(rv, "subspecialties", jlist(&r->reviewer.subspecialties));
    json_object_set_new(rv, "licensure", jlist(&r->reviewer.licensure));
    json_object_set_new(rv, "board_certified",
                        r->reviewer.board_certified < 0 ? json_null() : json_boolean(r->reviewer.board_certified));
    json_object_set_new(o, "reviewer", rv);
    json_t *cl = json_object();
    json_object_set_new(cl, "age", jint(r->claimant.age));
    json_object_set_new(cl, "sex", jstr(r->claimant.sex));
    json_object_set_new(o, "claimant", cl);
    json_object_set_new(o, "date_of_injury", jstr(r->date_of_injury));
    json_object_set_new(o, "documents_reviewed", jlist(&r->documents_reviewed));
    json_object_set_new(o, "clinical_case_summary_intro", jstr(r->clinical_case_summary_intro));
    json_object_set_new(o, "clinical_case_summary", jstr(r->clinical_case_summary));
    json_t *items = json_array();
    for (size_t i = 0; i < r->n_items; i++)
        json_array_append_new(items, item_json(&r->items[i]));
    json_object_set_new(o, "items", items);
    json_t *w = json_object();
    json_object_set_new(w, "organization_short", jstr(r->wording.organization_short));
    json_object_set_new(w, "decisions_heading", jstr(r->wording.decisions_heading));
    json_object_set_new(w, "decisions_intro", jstr(r->wording.decisions_intro));
    json_object_set_new(w, "credentials_intro", jstr(r->wording.credentials_intro));
    json_object_set_new(o, "wording", w);
    if (r->attestation) {
        json_t *at = json_object();
        json_object_set_new(at, "reviewer_id", jstr(r->attestation->reviewer_id));
        json_object_set_new(at, "statement", jstr(r->attestation->statement));
        json_object_set_new(at, "signed_at", jstr(r->attestation->signed_at));
        json_object_set_new(o, "attestation", at);
    } else {
        json_object_set_new(o, "attestation", json_null());
    }
    return o;
}

static int dump_into(json_t *o, int flags, imr_buf *out, imr_error *err)
{
    size_t jf = JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6) |
                (flags & IMR_JSON_PRETTY ? JSON_INDENT(2) : JSON_COMPACT);
    char *s = json_dumps(o, jf);
    json_decref(o);
    if (!s)
        return imr_error_set(err, IMR_EX_SOFTWARE, "json", 0, "could not serialise JSON");
    imr_buf_puts(out, s);
    free(s);
    return IMR_OK;
}

int imr_record_to_json(const imr_record *r, int flags, imr_buf *out, imr_error *err)
{
    return dump_into(record_json(r), flags, out, err);
}

int imr_treatment_to_json(const imr_treatment *t, int flags, imr_buf *out, imr_error *err)
{
    return dump_into(treatment_json(t), flags, out, err);
}

/* ---------------------------------------------------------------- reading */

typedef struct reader {
    imr_arena *a;
    imr_error *err;
    const char *where;
    int failed;
} reader;

static int fail(reader *rd, const char *path, const char *fmt, const char *what)
{
    if (!rd->failed) {
        char msg[400];
        snprintf(msg, sizeof msg, fmt, what);
        imr_error_set(rd->err, IMR_EX_DATAERR, rd->where, 0, "%s: %s", path, msg);
        rd->failed = 1;
    }
    return -1;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* Optional string member: absent or null -> NULL. */
static const char *get_str(reader *rd, const json_t *o, const char *key, const char *path)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        char p[300];
        snprintf(p, sizeof p, "%s.%s", path, key);
        fail(rd, p, "expected a string, found %s", type_name(v));
        return NULL;
    }
    return imr_arena_strndup(rd->a, json_string_value(v), json_string_length(v));
}

static int get_int(reader *rd, const json_t *o, const char *key, const char *path, int lo, int hi)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return -1;
    char p[300];
    snprintf(p, sizeof p, "%s.%s", path, key);
    if (!json_is_integer(v)) {
        fail(rd, p, "expected an integer, found %s", type_name(v));
        return -1;
    }
    json_int_t i = json_integer_value(v);
    if (i < lo || i > hi) {
        char range[64];
        snprintf(range, sizeof range, "%d to %d", lo, hi);
        fail(rd, p, "expected an integer from %s", range);
        return -1;
    }
    return (int)i;
}

static void get_list(reader *rd, const json_t *o, const char *key, const char *path, imr_strlist *out)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return;
    char p[300];
    snprintf(p, sizeof p, "%s.%s", path, key);
    if (!json_is_array(v)) {
        fail(rd, p, "expected an array of strings, found %s", type_name(v));
        return;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *s = json_array_get(v, i);
        if (!json_is_string(s)) {
            char pi[320];
            snprintf(pi, sizeof pi, "%s[%zu]", p, i);
            fail(rd, pi, "expected a string, found %s", type_name(s));
            return;
        }
        imr_strlist_push(out, rd->a, json_string_value(s));
    }
}

static const json_t *get_obj(reader *rd, const json_t *o, const char *key, const char *path)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_object(v)) {
        char p[300];
        snprintf(p, sizeof p, "%s.%s", path, key);
        fail(rd, p, "expected an object, found %s", type_name(v));
        return NULL;
    }
    return v;
}

static const char *get_date(reader *rd, const json_t *o, const char *key, const char *path)
{
    const char *s = get_str(rd, o, key, path);
    if (s && !imr_date_valid_iso(s)) {
        char p[300];
        snprintf(p, sizeof p, "%s.%s", path, key);
        fail(rd, p, "expected a date as YYYY-MM-DD, found \"%s\"", s);
        return NULL;
    }
    return s;
}

static void read_treatment(reader *rd, const json_t *o, const char *path, imr_treatment *t)
{
    imr_treatment_init(t);
    if (!o)
        return;
    const char *kind = get_str(rd, o, "kind", path);
    if (kind && imr_treatment_kind_from_name(kind, &t->kind) != 0) {
        char p[300];
        snprintf(p, sizeof p, "%s.kind", path);
        fail(rd, p, "unknown treatment kind \"%s\"", kind);
    }
    t->name = get_str(rd, o, "name", path);
    get_list(rd, o, "generics", path, &t->generics);
    t->drug_class = get_str(rd, o, "drug_class", path);
    t->strength = get_str(rd, o, "strength", path);
    t->dose_form = get_str(rd, o, "dose_form", path);
    t->quantity = get_int(rd, o, "quantity", path, 0, 1000000);
    t->refills = get_int(rd, o, "refills", path, 0, 1000);
    t->frequency = get_str(rd, o, "frequency", path);
    t->visits = get_int(rd, o, "visits", path, 0, 10000);
    t->duration = get_str(rd, o, "duration", path);
    t->body_part = get_str(rd, o, "body_part", path);
    t->laterality = get_str(rd, o, "laterality", path);
    t->procedure = get_str(rd, o, "procedure", path);
    t->levels = get_str(rd, o, "levels", path);
    json_t *m = json_object_get(o, "mme_factor");
    if (m && !json_is_null(m)) {
        if (!json_is_number(m)) {
            char p[300];
            snprintf(p, sizeof p, "%s.mme_factor", path);
            fail(rd, p, "expected a number, found %s", type_name(m));
        } else {
            t->mme_factor = json_number_value(m);
        }
    }
}

static void read_item(reader *rd, const json_t *o, const char *path, imr_item *it)
{
    it->request = get_str(rd, o, "request", path);
    if (!it->request && !rd->failed) {
        char p[300];
        snprintf(p, sizeof p, "%s.request", path);
        fail(rd, p, "required field is missing%s", "");
    }
    const char *d = get_str(rd, o, "decision", path);
    if (d && imr_decision_from_name(d, &it->decision) != 0) {
        char p[300];
        snprintf(p, sizeof p, "%s.decision", path);
        fail(rd, p, "expected \"Upheld\", \"Overturned\" or \"Undetermined\", found \"%s\"", d);
    }
    it->ur_decision = get_str(rd, o, "ur_decision", path);
    it->claims_administrator_guideline = get_str(rd, o, "claims_administrator_guideline", path);
    it->reviewer_guideline = get_str(rd, o, "reviewer_guideline", path);
    it->rationale = get_str(rd, o, "rationale", path);
    it->undetermined_reason = get_str(rd, o, "undetermined_reason", path);
    char p[300];
    snprintf(p, sizeof p, "%s.treatment", path);
    read_treatment(rd, get_obj(rd, o, "treatment", path), p, &it->treatment);
    get_list(rd, o, "missing_documentation", path, &it->missing_documentation);

    json_t *cits = json_object_get(o, "citations");
    if (cits && !json_is_null(cits)) {
        if (!json_is_array(cits)) {
            snprintf(p, sizeof p, "%s.citations", path);
            fail(rd, p, "expected an array, found %s", type_name(cits));
        } else {
            it->n_citations = json_array_size(cits);
            it->citations = imr_arena_alloc(rd->a, (it->n_citations + 1) * sizeof *it->citations);
            for (size_t i = 0; i < it->n_citations; i++) {
                json_t *c = json_array_get(cits, i);
                snprintf(p, sizeof p, "%s.citations[%zu]", path, i);
                if (!json_is_object(c)) {
                    fail(rd, p, "expected an object, found %s", type_name(c));
                    break;
                }
                it->citations[i].guideline = get_str(rd, c, "guideline", p);
                it->citations[i].edition = get_str(rd, c, "edition", p);
                it->citations[i].section = get_str(rd, c, "section", p);
                it->citations[i].pages = get_str(rd, c, "pages", p);
            }
        }
    }
    json_t *crit = json_object_get(o, "criteria");
    if (crit && !json_is_null(crit)) {
        if (!json_is_array(crit)) {
            snprintf(p, sizeof p, "%s.criteria", path);
            fail(rd, p, "expected an array, found %s", type_name(crit));
            return;
        }
        it->n_criteria = json_array_size(crit);
        it->criteria = imr_arena_alloc(rd->a, (it->n_criteria + 1) * sizeof *it->criteria);
        for (size_t i = 0; i < it->n_criteria; i++) {
            json_t *c = json_array_get(crit, i);
            snprintf(p, sizeof p, "%s.criteria[%zu]", path, i);
            if (!json_is_object(c)) {
                fail(rd, p, "expected an object, found %s", type_name(c));
                return;
            }
            imr_criterion *cr = &it->criteria[i];
            cr->id = get_str(rd, c, "id", p);
            cr->text = get_str(rd, c, "text", p);
            const char *st = get_str(rd, c, "status", p);
            if (!st || strcmp(st, "unknown") == 0)
                cr->status = IMR_CRITERION_UNKNOWN;
            else if (strcmp(st, "met") == 0)
                cr->status = IMR_CRITERION_MET;
            else if (strcmp(st, "not_met") == 0)
                cr->status = IMR_CRITERION_NOT_MET;
            else {
                char pp[320];
                snprintf(pp, sizeof pp, "%s.status", p);
                fail(rd, pp, "expected \"met\", \"not_met\" or \"unknown\", found \"%s\"", st);
            }
            json_t *ev = json_object_get(c, "evidence");
            if (ev && json_is_array(ev)) {
                cr->n_evidence = json_array_size(ev);
                cr->evidence = imr_arena_alloc(rd->a, (cr->n_evidence + 1) * sizeof *cr->evidence);
                for (size_t k = 0; k < cr->n_evidence; k++) {
                    json_t *e = json_array_get(ev, k);
                    char pe[340];
                    snprintf(pe, sizeof pe, "%s.evidence[%zu]", p, k);
                    if (!json_is_object(e)) {
                        fail(rd, pe, "expected an object, found %s", type_name(e));
                        return;
                    }
                    cr->evidence[k].source = get_str(rd, e, "source", pe);
                    cr->evidence[k].text = get_str(rd, e, "text", pe);
                    int s = get_int(rd, e, "start", pe, 0, 2000000000);
                    int en = get_int(rd, e, "end", pe, 0, 2000000000);
                    cr->evidence[k].start = s < 0 ? 0 : (size_t)s;
                    cr->evidence[k].end = en < 0 ? 0 : (size_t)en;
                }
            } else if (ev && !json_is_null(ev)) {
                char pe[340];
                snprintf(pe, sizeof pe, "%s.evidence", p);
                fail(rd, pe, "expected an array, found %s", type_name(ev));
            }
        }
    }
}

int imr_record_from_json(const char *json, size_t len, const char *where, imr_arena *a,
                         imr_record **out, imr_error *err)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return imr_error_set(err, IMR_EX_DATAERR, where, je.line > 0 ? je.line : 0,
                             "invalid JSON: %s", je.text);
    reader rd = {a, err, where, 0};
    if (!json_is_object(root)) {
        fail(&rd, "$", "expected a determination record (a JSON object), found %s", type_name(root));
        json_decref(root);
        return IMR_EX_DATAERR;
    }
    imr_record *r = imr_record_new(a);
    const char *p = "$";
    r->case_number = get_str(&rd, root, "case_number", p);
    const char *layout = get_str(&rd, root, "layout", p);
    if (layout && imr_layout_from_name(layout, &r->layout) != 0)
        fail(&rd, "$.layout", "expected \"fdl\" or \"notice_2013\", found \"%s\"", layout);
    const char *status = get_str(&rd, root, "status", p);
    if (status) {
        if (strcmp(status, "parsed") == 0)
            r->status = IMR_STATUS_PARSED;
        else if (strcmp(status, "draft") == 0)
            r->status = IMR_STATUS_DRAFT;
        else if (strcmp(status, "final") == 0)
            r->status = IMR_STATUS_FINAL;
        else
            fail(&rd, "$.status", "expected \"parsed\", \"draft\" or \"final\", found \"%s\"", status);
    }
    r->organization = get_str(&rd, root, "organization", p);
    const json_t *h = get_obj(&rd, root, "header", p);
    if (h) {
        const char *hp = "$.header";
        r->header.date_assigned = get_date(&rd, h, "date_assigned", hp);
        r->header.decision_date = get_date(&rd, h, "decision_date", hp);
        r->header.ur_denial_date = get_date(&rd, h, "ur_denial_date", hp);
        r->header.application_received = get_date(&rd, h, "application_received", hp);
        r->header.priority = get_str(&rd, h, "priority", hp);
        r->header.employee = get_str(&rd, h, "employee", hp);
        r->header.employer = get_str(&rd, h, "employer", hp);
        r->header.claim_number = get_str(&rd, h, "claim_number", hp);
        r->header.notice_date = get_date(&rd, h, "notice_date", hp);
        r->header.noarfi_date = get_date(&rd, h, "noarfi_date", hp);
    }
    r->determination_method = get_str(&rd, root, "determination_method", p);
    const json_t *rv = get_obj(&rd, root, "reviewer", p);
    if (rv) {
        const char *rp = "$.reviewer";
        r->reviewer.credentials_text = get_str(&rd, rv, "credentials_text", rp);
        const char *style = get_str(&rd, rv, "credentials_style", rp);
        if (style && strcmp(style, "lines") == 0)
            r->reviewer.credentials_style = IMR_CREDENTIALS_LINES;
        else if (style && strcmp(style, "sentence") != 0)
            fail(&rd, "$.reviewer.credentials_style", "expected \"sentence\" or \"lines\", found \"%s\"", style);
        get_list(&rd, rv, "specialties", rp, &r->reviewer.specialties);
        get_list(&rd, rv, "subspecialties", rp, &r->reviewer.subspecialties);
        get_list(&rd, rv, "licensure", rp, &r->reviewer.licensure);
        json_t *bc = json_object_get(rv, "board_certified");
        if (bc && json_is_boolean(bc))
            r->reviewer.board_certified = json_is_true(bc);
        else if (bc && !json_is_null(bc))
            fail(&rd, "$.reviewer.board_certified", "expected true, false or null, found %s", type_name(bc));
    }
    const json_t *cl = get_obj(&rd, root, "claimant", p);
    if (cl) {
        r->claimant.age = get_int(&rd, cl, "age", "$.claimant", 0, 130);
        r->claimant.sex = get_str(&rd, cl, "sex", "$.claimant");
    }
    r->date_of_injury = get_date(&rd, root, "date_of_injury", p);
    get_list(&rd, root, "documents_reviewed", p, &r->documents_reviewed);
    r->clinical_case_summary_intro = get_str(&rd, root, "clinical_case_summary_intro", p);
    r->clinical_case_summary = get_str(&rd, root, "clinical_case_summary", p);
    json_t *items = json_object_get(root, "items");
    if (!items || !json_is_array(items)) {
        fail(&rd, "$.items", items ? "expected an array of disputed items, found %s"
                                   : "required field is missing%s",
             items ? type_name(items) : "");
    } else {
        for (size_t i = 0; i < json_array_size(items) && !rd.failed; i++) {
            json_t *io = json_array_get(items, i);
            char ip[64];
            snprintf(ip, sizeof ip, "$.items[%zu]", i);
            if (!json_is_object(io)) {
                fail(&rd, ip, "expected an object, found %s", type_name(io));
                break;
            }
            read_item(&rd, io, ip, imr_record_add_item(r, a));
        }
    }
    const json_t *w = get_obj(&rd, root, "wording", p);
    if (w) {
        r->wording.organization_short = get_str(&rd, w, "organization_short", "$.wording");
        r->wording.decisions_heading = get_str(&rd, w, "decisions_heading", "$.wording");
        r->wording.decisions_intro = get_str(&rd, w, "decisions_intro", "$.wording");
        r->wording.credentials_intro = get_str(&rd, w, "credentials_intro", "$.wording");
    }
    const json_t *at = get_obj(&rd, root, "attestation", p);
    if (at) {
        imr_attestation *x = imr_arena_alloc(a, sizeof *x);
        x->reviewer_id = get_str(&rd, at, "reviewer_id", "$.attestation");
        x->statement = get_str(&rd, at, "statement", "$.attestation");
        x->signed_at = get_str(&rd, at, "signed_at", "$.attestation");
        r->attestation = x;
    }
    if (!rd.failed && r->status == IMR_STATUS_FINAL && !r->attestation)
        fail(&rd, "$.status", "a record is \"final\" only with a reviewer's attestation%s", "");
    json_decref(root);
    if (rd.failed)
        return IMR_EX_DATAERR;
    *out = r;
    return IMR_OK;
}
