/*
 * record.c - the determination record's constructors and the names its enums take in JSON
 * and in letters.
 */
#include "imr.h"

#include <string.h>

static int name_lookup(const char *const *names, int count, const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *const DECISIONS[] = {"Undetermined", "Upheld", "Overturned"};
const char *imr_decision_name(imr_decision d)
{
    return (int)d >= 0 && (int)d < COUNT(DECISIONS) ? DECISIONS[d] : "Undetermined";
}
int imr_decision_from_name(const char *s, imr_decision *out)
{
    int i = name_lookup(DECISIONS, COUNT(DECISIONS), s);
    if (i < 0)
        return -1;
    *out = (imr_decision)i;
    return 0;
}

static const char *const KINDS[] = {"other",     "drug",       "physical_medicine",
                                    "imaging",   "diagnostic_test", "injection",
                                    "surgery",   "dme",        "consultation",
                                    "program"};
const char *imr_treatment_kind_name(imr_treatment_kind k)
{
    return (int)k >= 0 && (int)k < COUNT(KINDS) ? KINDS[k] : "other";
}
int imr_treatment_kind_from_name(const char *s, imr_treatment_kind *out)
{
    int i = name_lookup(KINDS, COUNT(KINDS), s);
    if (i < 0)
        return -1;
    *out = (imr_treatment_kind)i;
    return 0;
}

static const char *const STATUSES[] = {"unknown", "met", "not_met"};
const char *imr_criterion_status_name(imr_criterion_status s)
{
    return (int)s >= 0 && (int)s < COUNT(STATUSES) ? STATUSES[s] : "unknown";
}

static const char *const LAYOUTS[] = {"fdl", "notice_2013"};
const char *imr_layout_name(imr_layout l)
{
    return (int)l >= 0 && (int)l < COUNT(LAYOUTS) ? LAYOUTS[l] : "fdl";
}
int imr_layout_from_name(const char *s, imr_layout *out)
{
    int i = name_lookup(LAYOUTS, COUNT(LAYOUTS), s);
    if (i < 0)
        return -1;
    *out = (imr_layout)i;
    return 0;
}

static const char *const RECORD_STATUSES[] = {"parsed", "draft", "final"};
const char *imr_record_status_name(imr_record_status s)
{
    return (int)s >= 0 && (int)s < COUNT(RECORD_STATUSES) ? RECORD_STATUSES[s] : "parsed";
}

static const char *const ASSERTIONS[] = {"affirmed", "negated", "hypothetical", "historical",
                                         "other_person"};
const char *imr_assertion_name(imr_assertion a)
{
    return (int)a >= 0 && (int)a < COUNT(ASSERTIONS) ? ASSERTIONS[a] : "affirmed";
}

static const char *const FORMATS[] = {"text", "html", "pdf", "json"};
int imr_format_from_name(const char *s, imr_format *out)
{
    int i = name_lookup(FORMATS, COUNT(FORMATS), s);
    if (i < 0)
        return -1;
    *out = (imr_format)i;
    return 0;
}

void imr_treatment_init(imr_treatment *t)
{
    memset(t, 0, sizeof *t);
    t->kind = IMR_TREATMENT_OTHER;
    t->quantity = t->refills = t->visits = -1;
}

imr_record *imr_record_new(imr_arena *a)
{
    imr_record *r = imr_arena_alloc(a, sizeof *r);
    r->layout = IMR_LAYOUT_FDL;
    r->status = IMR_STATUS_PARSED;
    r->reviewer.board_certified = -1;
    r->claimant.age = -1;
    return r;
}

imr_item *imr_record_add_item(imr_record *r, imr_arena *a)
{
    size_t n = r->n_items;
    if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
        size_t cap = n ? n * 2 : 4;
        imr_item *v = imr_arena_alloc(a, cap * sizeof *v);
        if (n)
            memcpy(v, r->items, n * sizeof *v);
        r->items = v;
    }
    imr_item *it = &r->items[r->n_items++];
    memset(it, 0, sizeof *it);
    it->decision = IMR_DECISION_UNDETERMINED;
    imr_treatment_init(&it->treatment);
    return it;
}
