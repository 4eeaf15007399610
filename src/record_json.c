/*
 * record_json.c - the determination record as JSON (jansson): writing it, and reading it
 * back with type checks that name the JSON path of every bad field.
 */
#include "imr.h"
#include "json_read.h"

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

static void read_treatment(jreader *rd, const json_t *o, const char *path, imr_treatment *t)
{
    imr_treatment_init(t);
    if (!o)
        return;
    const char *kind = jr_str(rd, o, "kind", path);
    if (kind && imr_treatment_kind_from_name(kind, &t->kind) != 0) {
        char p[320];
        snprintf(p, sizeof p, "%s.kind", path);
        jr_fail(rd, p, "unknown treatment kind \"%s\"", kind);
    }
    t->name = jr_str(rd, o, "name", path);
    jr_list(rd, o, "generics", path, &t->generics);
    t->drug_class = jr_str(rd, o, "drug_class", path);
    t->strength = jr_str(rd, o, "strength", path);
    t->dose_form = jr_str(rd, o, "dose_form", path);
    t->quantity = jr_int(rd, o, "quantity", path, 0, 1000000);
    t->refills = jr_int(rd, o, "refills", path, 0, 1000);
    t->frequency = jr_str(rd, o, "frequency", path);
    t->visits = jr_int(rd, o, "visits", path, 0, 10000);
    t->duration = jr_str(rd, o, "duration", path);
    t->body_part = jr_str(rd, o, "body_part", path);
    t->laterality = jr_str(rd, o, "laterality", path);
    t->procedure = jr_str(rd, o, "procedure", path);
    t->levels = jr_str(rd, o, "levels", path);
    json_t *m = json_object_get(o, "mme_factor");
    if (m && !json_is_null(m)) {
        if (!json_is_number(m)) {
            char p[320];
            snprintf(p, sizeof p, "%s.mme_factor", path);
            jr_fail(rd, p, "expected a number, found %s", jr_type_name(m));
        } else {
            t->mme_factor = json_number_value(m);
        }
    }
}

static void read_evidence(jreader *rd, const json_t *ev, const char *path, imr_criterion *cr)
{
    cr->n_evidence = json_array_size(ev);
    cr->evidence = imr_arena_alloc(rd->a, (cr->n_evidence + 1) * sizeof *cr->evidence);
    for (size_t k = 0; k < cr->n_evidence && !rd->failed; k++) {
        json_t *e = json_array_get(ev, k);
        char pe[360];
        snprintf(pe, sizeof pe, "%s.evidence[%zu]", path, k);
        if (!json_is_object(e)) {
            jr_fail(rd, pe, "expected an object, found %s", jr_type_name(e));
            return;
        }
        cr->evidence[k].source = jr_str(rd, e, "source", pe);
        cr->evidence[k].text = jr_str(rd, e, "text", pe);
        int s = jr_int(rd, e, "start", pe, 0, 2000000000);
        int en = jr_int(rd, e, "end", pe, 0, 2000000000);
        cr->evidence[k].start = s < 0 ? 0 : (size_t)s;
        cr->evidence[k].end = en < 0 ? 0 : (size_t)en;
    }
}

static void read_criteria(jreader *rd, const json_t *crit, const char *path, imr_item *it)
{
    static const char *const STATUSES[] = {"unknown", "met", "not_met", NULL};
    it->n_criteria = json_array_size(crit);
    it->criteria = imr_arena_alloc(rd->a, (it->n_criteria + 1) * sizeof *it->criteria);
    for (size_t i = 0; i < it->n_criteria && !rd->failed; i++) {
        json_t *c = json_array_get(crit, i);
        char p[340];
        snprintf(p, sizeof p, "%s.criteria[%zu]", path, i);
        if (!json_is_object(c)) {
            jr_fail(rd, p, "expected an object, found %s", jr_type_name(c));
            return;
        }
        imr_criterion *cr = &it->criteria[i];
        cr->id = jr_str(rd, c, "id", p);
        cr->text = jr_str(rd, c, "text", p);
        int st = jr_enum(rd, c, "status", p, STATUSES);
        cr->status = st < 0 ? IMR_CRITERION_UNKNOWN : (imr_criterion_status)st;
        const json_t *ev = jr_array(rd, c, "evidence", p);
        if (ev)
            read_evidence(rd, ev, p, cr);
    }
}

static void read_citations(jreader *rd, const json_t *cits, const char *path, imr_item *it)
{
    it->n_citations = json_array_size(cits);
    it->citations = imr_arena_alloc(rd->a, (it->n_citations + 1) * sizeof *it->citations);
    for (size_t i = 0; i < it->n_citations && !rd->failed; i++) {
        json_t *c = json_array_get(cits, i);
        char p[340];
        snprintf(p, sizeof p, "%s.citations[%zu]", path, i);
        if (!json_is_object(c)) {
            jr_fail(rd, p, "expected an object, found %s", jr_type_name(c));
            return;
        }
        it->citations[i].guideline = jr_str(rd, c, "guideline", p);
        it->citations[i].edition = jr_str(rd, c, "edition", p);
        it->citations[i].section = jr_str(rd, c, "section", p);
        it->citations[i].pages = jr_str(rd, c, "pages", p);
    }
}

static void read_item(jreader *rd, const json_t *o, const char *path, imr_item *it)
{
    static const char *const DECISIONS[] = {"Undetermined", "Upheld", "Overturned", NULL};
    it->request = jr_str(rd, o, "request", path);
    if (!it->request) {
        char p[320];
        snprintf(p, sizeof p, "%s.request", path);
        jr_fail(rd, p, "required field is missing%s", "");
    }
    int d = jr_enum(rd, o, "decision", path, DECISIONS);
    it->decision = d < 0 ? IMR_DECISION_UNDETERMINED : (imr_decision)d;
    it->ur_decision = jr_str(rd, o, "ur_decision", path);
    it->claims_administrator_guideline = jr_str(rd, o, "claims_administrator_guideline", path);
    it->reviewer_guideline = jr_str(rd, o, "reviewer_guideline", path);
    it->rationale = jr_str(rd, o, "rationale", path);
    it->undetermined_reason = jr_str(rd, o, "undetermined_reason", path);
    char p[320];
    snprintf(p, sizeof p, "%s.treatment", path);
    read_treatment(rd, jr_obj(rd, o, "treatment", path), p, &it->treatment);
    jr_list(rd, o, "missing_documentation", path, &it->missing_documentation);
    const json_t *cits = jr_array(rd, o, "citations", path);
    if (cits)
        read_citations(rd, cits, path, it);
    const json_t *crit = jr_array(rd, o, "criteria", path);
    if (crit)
        read_criteria(rd, crit, path, it);
}

static void read_header(jreader *rd, const json_t *h, imr_header *hd)
{
    const char *hp = "$.header";
    hd->date_assigned = jr_date(rd, h, "date_assigned", hp);
    hd->decision_date = jr_date(rd, h, "decision_date", hp);
    hd->ur_denial_date = jr_date(rd, h, "ur_denial_date", hp);
    hd->application_received = jr_date(rd, h, "application_received", hp);
    hd->priority = jr_str(rd, h, "priority", hp);
    hd->employee = jr_str(rd, h, "employee", hp);
    hd->employer = jr_str(rd, h, "employer", hp);
    hd->claim_number = jr_str(rd, h, "claim_number", hp);
    hd->notice_date = jr_date(rd, h, "notice_date", hp);
    hd->noarfi_date = jr_date(rd, h, "noarfi_date", hp);
}

int imr_record_from_json(const char *json, size_t len, const char *where, imr_arena *a,
                         imr_record **out, imr_error *err)
{
    static const char *const LAYOUTS[] = {"fdl", "notice_2013", NULL};
    static const char *const STATUSES[] = {"parsed", "draft", "final", NULL};
    json_t *root = jr_load(json, len, where, err);
    if (!root)
        return IMR_EX_DATAERR;
    jreader rd = {a, err, where, 0};
    if (!json_is_object(root)) {
        jr_fail(&rd, "$", "expected a determination record (a JSON object), found %s", jr_type_name(root));
        json_decref(root);
        return IMR_EX_DATAERR;
    }
    imr_record *r = imr_record_new(a);
    const char *p = "$";
    r->case_number = jr_str(&rd, root, "case_number", p);
    int layout = jr_enum(&rd, root, "layout", p, LAYOUTS);
    r->layout = layout < 0 ? IMR_LAYOUT_FDL : (imr_layout)layout;
    int status = jr_enum(&rd, root, "status", p, STATUSES);
    r->status = status < 0 ? IMR_STATUS_PARSED : (imr_record_status)status;
    r->organization = jr_str(&rd, root, "organization", p);
    const json_t *h = jr_obj(&rd, root, "header", p);
    if (h)
        read_header(&rd, h, &r->header);
    r->determination_method = jr_str(&rd, root, "determination_method", p);
    const json_t *rv = jr_obj(&rd, root, "reviewer", p);
    if (rv)
        jr_reviewer(&rd, rv, "$.reviewer", &r->reviewer);
    const json_t *cl = jr_obj(&rd, root, "claimant", p);
    if (cl) {
        r->claimant.age = jr_int(&rd, cl, "age", "$.claimant", 0, 130);
        r->claimant.sex = jr_str(&rd, cl, "sex", "$.claimant");
    }
    r->date_of_injury = jr_date(&rd, root, "date_of_injury", p);
    jr_list(&rd, root, "documents_reviewed", p, &r->documents_reviewed);
    r->clinical_case_summary_intro = jr_str(&rd, root, "clinical_case_summary_intro", p);
    r->clinical_case_summary = jr_str(&rd, root, "clinical_case_summary", p);
    json_t *items = json_object_get(root, "items");
    if (!items)
        jr_fail(&rd, "$.items", "required field is missing%s", "");
    else if (!json_is_array(items))
        jr_fail(&rd, "$.items", "expected an array of disputed items, found %s", jr_type_name(items));
    else {
        for (size_t i = 0; i < json_array_size(items) && !rd.failed; i++) {
            json_t *io = json_array_get(items, i);
            char ip[64];
            snprintf(ip, sizeof ip, "$.items[%zu]", i);
            if (!json_is_object(io)) {
                jr_fail(&rd, ip, "expected an object, found %s", jr_type_name(io));
                break;
            }
            read_item(&rd, io, ip, imr_record_add_item(r, a));
        }
    }
    const json_t *w = jr_obj(&rd, root, "wording", p);
    if (w) {
        r->wording.organization_short = jr_str(&rd, w, "organization_short", "$.wording");
        r->wording.decisions_heading = jr_str(&rd, w, "decisions_heading", "$.wording");
        r->wording.decisions_intro = jr_str(&rd, w, "decisions_intro", "$.wording");
        r->wording.credentials_intro = jr_str(&rd, w, "credentials_intro", "$.wording");
    }
    const json_t *at = jr_obj(&rd, root, "attestation", p);
    if (at) {
        imr_attestation *x = imr_arena_alloc(a, sizeof *x);
        x->reviewer_id = jr_str(&rd, at, "reviewer_id", "$.attestation");
        x->statement = jr_str(&rd, at, "statement", "$.attestation");
        x->signed_at = jr_str(&rd, at, "signed_at", "$.attestation");
        r->attestation = x;
    }
    if (!rd.failed && r->status == IMR_STATUS_FINAL && !r->attestation)
        jr_fail(&rd, "$.status", "a record is \"final\" only with a reviewer's attestation%s", "");
    json_decref(root);
    if (rd.failed)
        return IMR_EX_DATAERR;
    *out = r;
    return IMR_OK;
}
