/*
 * record_json.c - the determination record as JSON: writing it (streamed, json_write.c), and
 * reading it back (jansson) with type checks that name the JSON path of every bad field.
 */
#include "imr.h"
#include "json_read.h"
#include "json_write.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------- writing */

/* The writer streams straight into the output buffer (json_write.c): `imr parse` over a
 * corpus spends its time parsing letters, not building JSON trees. Every key is always
 * written, in this order, so consumers never test for a missing key. */

static void write_treatment(jw *w, const imr_treatment *t)
{
    jw_obj_begin(w);
    jw_kstr(w, "kind", imr_treatment_kind_name(t->kind));
    jw_kstr(w, "name", t->name);
    jw_klist(w, "generics", &t->generics);
    jw_kstr(w, "drug_class", t->drug_class);
    jw_kstr(w, "strength", t->strength);
    jw_kstr(w, "dose_form", t->dose_form);
    jw_kint(w, "quantity", t->quantity);
    jw_kint(w, "refills", t->refills);
    jw_kstr(w, "frequency", t->frequency);
    jw_kint(w, "visits", t->visits);
    jw_kstr(w, "duration", t->duration);
    jw_kstr(w, "body_part", t->body_part);
    jw_kstr(w, "laterality", t->laterality);
    jw_kstr(w, "procedure", t->procedure);
    jw_kstr(w, "levels", t->levels);
    jw_key(w, "mme_factor");
    if (t->mme_factor > 0)
        jw_real(w, t->mme_factor);
    else
        jw_null(w);
    jw_obj_end(w);
}

static void write_criterion(jw *w, const imr_criterion *c)
{
    jw_obj_begin(w);
    jw_kstr(w, "id", c->id);
    jw_kstr(w, "text", c->text);
    jw_kstr(w, "status", imr_criterion_status_name(c->status));
    jw_key(w, "evidence");
    jw_arr_begin(w);
    for (size_t k = 0; k < c->n_evidence; k++) {
        const imr_evidence *e = &c->evidence[k];
        jw_obj_begin(w);
        jw_kstr(w, "source", e->source);
        jw_kint(w, "start", (long long)e->start);
        jw_kint(w, "end", (long long)e->end);
        jw_kstr(w, "text", e->text);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
}

static void write_item(jw *w, const imr_item *it)
{
    jw_obj_begin(w);
    jw_kstr(w, "request", it->request);
    jw_kstr(w, "decision", imr_decision_name(it->decision));
    jw_kstr(w, "ur_decision", it->ur_decision);
    jw_kstr(w, "claims_administrator_guideline", it->claims_administrator_guideline);
    jw_kstr(w, "reviewer_guideline", it->reviewer_guideline);
    jw_kstr(w, "rationale", it->rationale);
    jw_key(w, "treatment");
    write_treatment(w, &it->treatment);
    jw_key(w, "citations");
    jw_arr_begin(w);
    for (size_t i = 0; i < it->n_citations; i++) {
        const imr_citation *c = &it->citations[i];
        jw_obj_begin(w);
        jw_kstr(w, "guideline", c->guideline);
        jw_kstr(w, "edition", c->edition);
        jw_kstr(w, "section", c->section);
        jw_kstr(w, "pages", c->pages);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_key(w, "criteria");
    jw_arr_begin(w);
    for (size_t i = 0; i < it->n_criteria; i++)
        write_criterion(w, &it->criteria[i]);
    jw_arr_end(w);
    jw_klist(w, "missing_documentation", &it->missing_documentation);
    jw_kstr(w, "undetermined_reason", it->undetermined_reason);
    jw_obj_end(w);
}

static void write_header(jw *w, const imr_header *h)
{
    jw_obj_begin(w);
    jw_kstr(w, "date_assigned", h->date_assigned);
    jw_kstr(w, "decision_date", h->decision_date);
    jw_kstr(w, "ur_denial_date", h->ur_denial_date);
    jw_kstr(w, "application_received", h->application_received);
    jw_kstr(w, "priority", h->priority);
    jw_kstr(w, "employee", h->employee);
    jw_kstr(w, "employer", h->employer);
    jw_kstr(w, "claim_number", h->claim_number);
    jw_kstr(w, "notice_date", h->notice_date);
    jw_kstr(w, "noarfi_date", h->noarfi_date);
    jw_obj_end(w);
}

static void write_reviewer(jw *w, const imr_reviewer *rv)
{
    jw_obj_begin(w);
    jw_kstr(w, "credentials_text", rv->credentials_text);
    jw_kstr(w, "credentials_style", rv->credentials_style == IMR_CREDENTIALS_LINES ? "lines" : "sentence");
    jw_klist(w, "specialties", &rv->specialties);
    jw_klist(w, "subspecialties", &rv->subspecialties);
    jw_klist(w, "licensure", &rv->licensure);
    jw_key(w, "board_certified");
    if (rv->board_certified < 0)
        jw_null(w);
    else
        jw_bool(w, rv->board_certified);
    jw_obj_end(w);
}

static void write_record(jw *w, const imr_record *r)
{
    jw_obj_begin(w);
    jw_kstr(w, "case_number", r->case_number);
    jw_kstr(w, "status", imr_record_status_name(r->status));
    jw_kstr(w, "layout", imr_layout_name(r->layout));
    jw_kstr(w, "organization", r->organization);
    jw_key(w, "header");
    write_header(w, &r->header);
    jw_kstr(w, "determination_method", r->determination_method);
    jw_key(w, "reviewer");
    write_reviewer(w, &r->reviewer);
    jw_key(w, "claimant");
    jw_obj_begin(w);
    jw_kint(w, "age", r->claimant.age);
    jw_kstr(w, "sex", r->claimant.sex);
    jw_obj_end(w);
    jw_kstr(w, "date_of_injury", r->date_of_injury);
    jw_klist(w, "documents_reviewed", &r->documents_reviewed);
    jw_kstr(w, "clinical_case_summary_intro", r->clinical_case_summary_intro);
    jw_kstr(w, "clinical_case_summary", r->clinical_case_summary);
    jw_key(w, "items");
    jw_arr_begin(w);
    for (size_t i = 0; i < r->n_items; i++)
        write_item(w, &r->items[i]);
    jw_arr_end(w);
    jw_key(w, "wording");
    jw_obj_begin(w);
    jw_kstr(w, "organization_short", r->wording.organization_short);
    jw_kstr(w, "decisions_heading", r->wording.decisions_heading);
    jw_kstr(w, "decisions_intro", r->wording.decisions_intro);
    jw_kstr(w, "credentials_intro", r->wording.credentials_intro);
    jw_obj_end(w);
    jw_key(w, "attestation");
    if (r->attestation) {
        jw_obj_begin(w);
        jw_kstr(w, "reviewer_id", r->attestation->reviewer_id);
        jw_kstr(w, "statement", r->attestation->statement);
        jw_kstr(w, "signed_at", r->attestation->signed_at);
        jw_obj_end(w);
    } else {
        jw_null(w);
    }
    jw_obj_end(w);
}

int imr_record_to_json(const imr_record *r, int flags, imr_buf *out, imr_error *err)
{
    (void)err;
    jw w;
    jw_init(&w, out, flags & IMR_JSON_PRETTY);
    write_record(&w, r);
    return IMR_OK;
}

int imr_treatment_to_json(const imr_treatment *t, int flags, imr_buf *out, imr_error *err)
{
    (void)err;
    jw w;
    jw_init(&w, out, flags & IMR_JSON_PRETTY);
    write_treatment(&w, t);
    return IMR_OK;
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
    else if (json_array_size(items) == 0)
        jr_fail(&rd, "$.items", "a determination needs at least one disputed item%s", "");
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
