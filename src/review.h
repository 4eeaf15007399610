/*
 * review.h - private to the engine (engine.c) and its wording (rationale.c): the state of
 * one review (the case's facts, the reference date) and of one disputed item (the chosen
 * knowledge-base entry and its evaluated criteria), and the template renderer that turns
 * them into sentences. See docs/engine.md.
 */
#ifndef IMR_REVIEW_H
#define IMR_REVIEW_H

#include "kb.h"

#include <string.h>

/* a equals the string literal lit: the first bytes are compared before calling strcmp, as
 * most names tested against a list of literals differ at once. */
#define STREQ(a, lit) ((a)[0] == (lit)[0] && !strcmp((a), (lit)))

/* The whole case: every fact of the clinical summary and the records, with the date each
 * refers to (its own date, else its record's date, else NULL). */
typedef struct rv_case {
    const imr_kb *kb;
    const imr_case *c;
    imr_arena *a;
    imr_facts facts;
    const char **dates;      /* parallel to facts.v */
    const char *ref_date;    /* ISO: the date the guideline edition is chosen for */
    const char *ref_source;  /* "UR decision date", "latest record date", "today" */
    const char *latest_note; /* ISO: the latest clinical date before the reference date */
    const char *main_body;   /* the body part the records name most, or NULL */
    int has_clinical;        /* some clinical fact was found */
    double mme_total;        /* MME a day of every opioid requested in the case */
    int mme_items;           /* how many requests make up mme_total */
    imr_buf *trace;          /* NULL when no trace is wanted */
    const char **lowered;    /* the case texts in lower case, made when first needed */
    struct rv_fact_index *by_type; /* engine.c: the facts grouped by type, or NULL */
} rv_case;

/* One criterion as evaluated for one item. Evidence holds fact indices (see rv_fact). */
typedef struct rv_crit {
    const kb_criterion *k;
    int applicable;              /* its `when` held (or it has none) */
    imr_criterion_status status;
    int conflict;                /* met and fails both documented, undecided */
    int absent;                  /* not met because the records state it is absent */
    size_t *ev;
    size_t n_ev;
} rv_crit;

/* The clauses of the case texts a rationale has quoted so far (none is quoted twice). */
typedef struct rv_quotes {
    const char *v[64];
    size_t n;
} rv_quotes;

typedef struct rv_item {
    rv_case *rc;
    rv_quotes *quotes;          /* set while a rationale is written, else NULL */
    const kb_entry *e;
    const imr_treatment *t;
    const char *request;
    const char *body;           /* the request's body part, else the claimant's */
    double mme;                 /* MME a day of all the case's requested opioids */
    double mme_own;             /* MME a day of this request alone */
    int mme_known;
    double prior_sessions;      /* sessions of the entry's modality already received */
    int prior_known;
    imr_fact *derived;          /* facts the engine derives (pain_trend) */
    const char **derived_dates;
    size_t n_derived;
    rv_crit *crit;
    size_t n_crit;
} rv_item;

/* Fact index i: the case's facts first, then the item's derived facts. */
const imr_fact *rv_fact(const rv_item *it, size_t i, const char **date);
size_t rv_fact_count(const rv_item *it);

/* Render a template ({slots}, [optional segments]) for an item, a criterion (may be NULL)
 * and a fact (may be NULL: for fact phrases), appending to `out`. */
void rv_render(imr_buf *out, const char *tpl, const rv_item *it, const rv_crit *cr,
               const imr_fact *fact, const char *fact_date);
/* Render a wording key of the knowledge base (nothing when undefined). */
void rv_render_key(imr_buf *out, const char *key, const rv_item *it);

/* The rationale of a decided item. */
const char *rv_rationale(const rv_item *it, imr_decision d, int for_documentation);
/* "Decision based on ..." for the chosen entry. */
const char *rv_guideline_line(const rv_item *it);
/* A clinical case summary drafted from the records' facts (case without a summary). */
const char *rv_draft_summary(const rv_case *rc);
/* ISO date -> "August 19, 2015" in the arena (NULL -> NULL). */
const char *rv_date_long(imr_arena *a, const char *iso);

#endif
