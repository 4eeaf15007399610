/*
 * case.c - reading a case file (the engine's input: an IMR application with its disputed
 * items and clinical information) from JSON, with errors naming the field. Schema:
 * docs/case-file.md.
 */
#include "imr.h"
#include "json_read.h"

#include <string.h>

static void read_parties(jreader *rd, const json_t *arr, imr_case *c)
{
    static const char *const ROLES[] = {"employee", "employer", "claims_administrator",
                                        "requesting_provider", "representative", NULL};
    c->n_parties = json_array_size(arr);
    c->parties = imr_arena_alloc(rd->a, (c->n_parties + 1) * sizeof *c->parties);
    for (size_t i = 0; i < c->n_parties && !rd->failed; i++) {
        json_t *o = json_array_get(arr, i);
        char p[64];
        snprintf(p, sizeof p, "$.parties[%zu]", i);
        if (!json_is_object(o)) {
            jr_fail(rd, p, "expected an object, found %s", jr_type_name(o));
            return;
        }
        int role = jr_enum(rd, o, "role", p, ROLES);
        if (role < 0 && !rd->failed) {
            char pr[80];
            snprintf(pr, sizeof pr, "%s.role", p);
            jr_fail(rd, pr, "required field is missing%s", "");
        }
        c->parties[i].role = role >= 0 ? ROLES[role] : NULL;
        c->parties[i].name = jr_str(rd, o, "name", p);
        c->parties[i].id = jr_str(rd, o, "id", p);
    }
}

static void read_items(jreader *rd, const json_t *arr, imr_case *c)
{
    c->n_items = json_array_size(arr);
    if (c->n_items == 0) {
        jr_fail(rd, "$.disputed_items", "expected at least one disputed item%s", "");
        return;
    }
    c->items = imr_arena_alloc(rd->a, c->n_items * sizeof *c->items);
    for (size_t i = 0; i < c->n_items && !rd->failed; i++) {
        json_t *o = json_array_get(arr, i);
        char p[64];
        snprintf(p, sizeof p, "$.disputed_items[%zu]", i);
        if (!json_is_object(o)) {
            jr_fail(rd, p, "expected an object, found %s", jr_type_name(o));
            return;
        }
        imr_disputed_item *it = &c->items[i];
        it->request = jr_str(rd, o, "request", p);
        if (!rd->failed && (!it->request || !it->request[strspn(it->request, " \t\r\n")])) {
            char pr[80];
            snprintf(pr, sizeof pr, "%s.request", p);
            jr_fail(rd, pr, it->request ? "must not be empty%s" : "required field is missing%s", "");
        }
        it->ur_decision = jr_str(rd, o, "ur_decision", p);
        it->claims_administrator_guideline = jr_str(rd, o, "claims_administrator_guideline", p);
    }
}

static void read_records(jreader *rd, const json_t *arr, imr_case *c)
{
    c->n_records = json_array_size(arr);
    c->records = imr_arena_alloc(rd->a, (c->n_records + 1) * sizeof *c->records);
    for (size_t i = 0; i < c->n_records && !rd->failed; i++) {
        json_t *o = json_array_get(arr, i);
        char p[64];
        snprintf(p, sizeof p, "$.records[%zu]", i);
        if (!json_is_object(o)) {
            jr_fail(rd, p, "expected an object, found %s", jr_type_name(o));
            return;
        }
        imr_case_document *d = &c->records[i];
        d->date = jr_date(rd, o, "date", p);
        d->author = jr_str(rd, o, "author", p);
        d->type = jr_str(rd, o, "type", p);
        d->text = jr_str(rd, o, "text", p);
        if (!d->text && !rd->failed) {
            char pr[80];
            snprintf(pr, sizeof pr, "%s.text", p);
            jr_fail(rd, pr, "required field is missing%s", "");
        }
    }
}

static void require(jreader *rd, const void *v, const char *path)
{
    if (!v && !rd->failed)
        jr_fail(rd, path, "required field is missing%s", "");
}

/* Dates that cannot be in this order are a data error, not something to guess around. */
static void check_order(jreader *rd, const char *earlier, const char *later, const char *path,
                        const char *what)
{
    if (earlier && later && !rd->failed && imr_date_days(later) < imr_date_days(earlier))
        jr_fail(rd, path, "is before the %s", what);
}

int imr_case_from_json(const char *json, size_t len, const char *where, imr_arena *a,
                       imr_case **out, imr_error *err)
{
    json_t *root = jr_load(json, len, where, err);
    if (!root)
        return IMR_EX_DATAERR;
    int st = jr_case(root, where, a, out, err);
    json_decref(root);
    return st;
}

int jr_case(const json_t *root, const char *where, imr_arena *a, imr_case **out, imr_error *err)
{
    static const char *const PRIORITIES[] = {"standard", "expedited", NULL};
    static const char *const SEXES[] = {"male", "female", NULL};
    jreader rd = {a, err, where, 0};
    if (!json_is_object(root)) {
        jr_fail(&rd, "$", "expected a case file (a JSON object), found %s", jr_type_name(root));
        return IMR_EX_DATAERR;
    }
    imr_case *c = imr_arena_alloc(a, sizeof *c);
    const char *p = "$";
    c->case_number = jr_str(&rd, root, "case_number", p);
    require(&rd, c->case_number, "$.case_number");
    int pr = jr_enum(&rd, root, "priority", p, PRIORITIES);
    c->priority = PRIORITIES[pr < 0 ? 0 : pr];
    c->claimant.age = -1;
    const json_t *cl = jr_obj(&rd, root, "claimant", p);
    require(&rd, cl, "$.claimant");
    if (cl) {
        c->claimant.age = jr_int(&rd, cl, "age", "$.claimant", 14, 120);
        int sex = jr_enum(&rd, cl, "sex", "$.claimant", SEXES);
        c->claimant.sex = sex < 0 ? NULL : SEXES[sex];
    }
    c->date_of_injury = jr_date(&rd, root, "date_of_injury", p);
    require(&rd, c->date_of_injury, "$.date_of_injury");
    c->ur_decision_date = jr_date(&rd, root, "ur_decision_date", p);
    c->application_received = jr_date(&rd, root, "application_received", p);
    c->application_signed = jr_date(&rd, root, "application_signed", p);
    check_order(&rd, c->date_of_injury, c->ur_decision_date, "$.ur_decision_date", "date of injury");
    check_order(&rd, c->ur_decision_date, c->application_received, "$.application_received",
                "UR decision date");
    const json_t *parties = jr_array(&rd, root, "parties", p);
    if (parties)
        read_parties(&rd, parties, c);
    const json_t *items = jr_array(&rd, root, "disputed_items", p);
    require(&rd, items, "$.disputed_items");
    if (items)
        read_items(&rd, items, c);
    c->clinical_summary = jr_str(&rd, root, "clinical_summary", p);
    const json_t *records = jr_array(&rd, root, "records", p);
    if (records)
        read_records(&rd, records, c);
    if (!rd.failed && !c->clinical_summary && c->n_records == 0)
        jr_fail(&rd, "$.clinical_summary",
                "a case needs clinical information: give clinical_summary or records%s", "");
    if (rd.failed)
        return IMR_EX_DATAERR;
    *out = c;
    return IMR_OK;
}
