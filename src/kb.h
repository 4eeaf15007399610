/*
 * kb.h - private to the guideline knowledge base (kb.c) and the engine (engine.c,
 * rationale.c): the loaded form of the .rules files of rules/guidelines/ and the .toc
 * files of rules/toc/.
 *
 * The format is documented in docs/rules.md. In short: a guideline edition (a TOC file)
 * names a guideline, its edition, its authority (MTUS or not) and the dates it was in
 * force, and lists its sections with their pages. An entry says which treatments it
 * applies to, which guideline sections it cites, whether the treatment is recommended,
 * and the criteria a request must meet, each a condition over the facts of docs/facts.md
 * and the fields of the normalized treatment. Wording templates (with {slots}) turn the
 * evaluated criteria into a rationale.
 *
 * Everything here is owned by the imr_kb (one arena) and read-only after loading.
 */
#ifndef IMR_KB_H
#define IMR_KB_H

#include "imr.h"

#include <stdint.h>

/* ----------------------------------------------------------------------------------------
 * Guideline editions and their tables of contents.
 * -------------------------------------------------------------------------------------- */
typedef struct kb_range {
    int from, to; /* pages, inclusive */
} kb_range;

typedef struct kb_toc_section {
    const char *title;
    kb_range *pages; /* may be empty: a guideline without page numbers */
    size_t n_pages;
    int line;
} kb_toc_section;

typedef enum { KB_MTUS = 0, KB_NON_MTUS = 1 } kb_authority;

typedef struct kb_guideline {
    const char *id;        /* "cpmtg-2009" */
    const char *name;      /* "MTUS Chronic Pain Medical Treatment Guidelines" */
    const char *edition;   /* "2009" */
    kb_authority authority;
    char from[11], to[11]; /* in force; to[0] == 0 when still in force */
    kb_toc_section *sections;
    size_t n_sections, cap_sections;
    const char *file;
    int line;
} kb_guideline;

/* ----------------------------------------------------------------------------------------
 * Conditions: "or" of "and" of atoms.
 * -------------------------------------------------------------------------------------- */
typedef enum { KB_OP_EQ, KB_OP_NE, KB_OP_HAS, KB_OP_LT, KB_OP_LE, KB_OP_GT, KB_OP_GE, KB_OP_SET } kb_op;

/* A list of alternatives: "a|b|c". Values are lower case; a trailing '*' is a prefix
 * match; "$drug", "$generic", "$class", "$body", "$modality" are filled from the request;
 * "none" matches an absent field. */
typedef struct kb_values {
    const char **v;
    size_t n, cap;
    /* computed after loading, for the lists of applies lines (0 elsewhere): bit 31 set, bit
     * c - 'a' for every value starting with letter c, bit 26 when a value may start with
     * anything ("*"). A request field starting with a letter whose bit is clear matches none. */
    uint32_t initials;
} kb_values;

typedef struct kb_filter {
    const char *field; /* name, value, qualifier, date, duration, attributed_to, score, ... */
    kb_op op;
    kb_values values;  /* EQ, NE, HAS */
    double num;        /* LT .. GE */
} kb_filter;

typedef enum {
    KB_ATOM_FACT,     /* medication(name=$drug, duration) */
    KB_ATOM_NUMBER,   /* quantity > 90, mme <= 120 */
    KB_ATOM_TREATMENT /* generic=gabapentin|baclofen, dose_form=cream, request~purchase */
} kb_atom_kind;

typedef struct kb_atom {
    kb_atom_kind kind;
    int invert;          /* "!atom": true when the atom is false */
    int negated;         /* "no type(...)": the fact must be asserted negated */
    const char *type;    /* FACT: fact type; NUMBER / TREATMENT: field name */
    kb_filter *filters;  /* FACT */
    size_t n_filters;
    kb_op op;            /* NUMBER / TREATMENT */
    double num;          /* NUMBER */
    kb_values values;    /* TREATMENT */
} kb_atom;

typedef struct kb_conj {
    kb_atom *atoms;
    size_t n;
} kb_conj;

typedef struct kb_cond {
    kb_conj *alts;
    size_t n;
    const char *text; /* as written, for the trace */
} kb_cond;

/* ----------------------------------------------------------------------------------------
 * Entries and criteria.
 * -------------------------------------------------------------------------------------- */
typedef enum {
    KB_ROLE_REQUIRED = 0, /* must be met; undocumented counts against the request */
    KB_ROLE_LIMIT,        /* only a documented failure counts (dose limits, exclusions) */
    KB_ROLE_INFO          /* reported and worded, never decides */
} kb_role;

typedef enum {
    KB_CONFLICT_LATEST = 0, /* the side with the later dated evidence wins; else conflict */
    KB_CONFLICT_FAILS,      /* a documented failure wins */
    KB_CONFLICT_MET,        /* documented compliance wins */
    KB_CONFLICT_UNDECIDED   /* always a conflict */
} kb_conflict;

typedef struct kb_criterion {
    const char *id;       /* "pain_relief"; the record shows "<entry topic>.<id>" */
    kb_role role;
    const char *text;     /* the criterion in plain words */
    kb_cond *when;        /* applies only when true (NULL: always) */
    kb_cond *met;         /* documentation that satisfies it */
    kb_cond *fails;       /* documentation that contradicts it */
    kb_conflict conflict;
    const char *say_met, *say_not_met, *say_unknown; /* templates, may be NULL */
    const char *say_absent; /* not met because the records state it absent (may be NULL) */
    const char *needs;    /* documentation that would satisfy it */
    kb_values look_for;   /* words whose clauses in the case texts the rationale quotes */
    int line;
    int inherited;        /* copied from a based_on entry and not changed yet */
} kb_criterion;

/* One "applies" line: every field given must match (fields absent match anything). */
typedef struct kb_applies {
    int kind;            /* imr_treatment_kind, or -1 */
    kb_values classes;   /* drug_class */
    kb_values generics;  /* the request's main ingredient (its first generic) */
    kb_values words;     /* any of these words or phrases in the request */
    kb_values bodies;    /* body part of the request (or of the claimant) */
    kb_values dose_forms;
    kb_values procedures;
    int specificity;     /* computed: how precisely the line pins the treatment down */
    int line;
    /* computed after loading (kb.c, index_entries): the first two bytes of a phrase of
     * `words` as a number below 256 (KB_NO_KEY for a one-byte phrase), per phrase, and the
     * set of those numbers for the line. A phrase can only occur in a request that has its
     * two bytes at the start of a word. */
    const uint16_t *word_keys;
    uint64_t word_gate[4];
    int gated; /* 1: every phrase has a key, so word_gate alone can rule the line out */
} kb_applies;
#define KB_NO_KEY 0xFFFFu

typedef struct kb_cite {
    const char *section;
    const char *pages; /* NULL when the guideline has no pages */
    int line;
} kb_cite;

typedef enum { KB_REC_YES = 0, KB_REC_CONDITIONAL, KB_REC_NO } kb_recommended;

typedef struct kb_entry {
    const char *id;          /* "opioids.short_acting.cpmtg2009" */
    const char *topic;       /* "opioids": criterion ids are "<topic>.<criterion id>" */
    const kb_guideline *guideline;
    char from[11], to[11];   /* in force (defaults to the guideline's dates) */
    kb_recommended recommended;
    kb_applies *applies;
    size_t n_applies, cap_applies;
    kb_cond *context;        /* extra condition over the case (NULL: none) */
    kb_cite *cites;
    size_t n_cites, cap_cites;
    kb_criterion *criteria;
    size_t n_criteria, cap_criteria;
    const char *summary;     /* what the guideline says, in our words (template) */
    const char *note;        /* appended to the rationale when the request is upheld */
    const char *modality;    /* prior_treatment name counted by prior_sessions */
    const char *file;
    int line;
} kb_entry;

/* A named wording template ("wording KEY TEXT") or a fact phrase ("phrase TYPE TEXT"). */
typedef struct kb_text {
    const char *key;
    const char *text;
    int line;
    const char *file;
} kb_text;

struct imr_kb {
    imr_arena *arena;
    kb_guideline *guidelines;
    size_t n_guidelines, cap_guidelines;
    kb_entry *entries;
    size_t n_entries, cap_entries;
    kb_text *wording;
    size_t n_wording, cap_wording;
    kb_text *phrases;
    size_t n_phrases, cap_phrases;
    kb_values fact_types;   /* vocabulary: known fact types (docs/facts.md) */
    kb_values drug_classes; /* vocabulary: known drug classes (docs/requests.md) */
    /* computed after loading: per kind of request, the applies lines that can match it
     * (lines of that kind and lines of no kind; every line for IMR_TREATMENT_OTHER), in
     * the order of the entries */
    struct kb_line_ref {
        uint32_t entry, line;
    } *lines_for[IMR_TREATMENT_KIND_COUNT];
    size_t n_lines_for[IMR_TREATMENT_KIND_COUNT];
    /* computed after loading: hash tables of the wording and phrase keys (index + 1 into
     * wording / phrases, 0 for a free slot; NULL before) */
    uint32_t *wording_index, *phrase_index;
    size_t wording_mask, phrase_mask;
};

/* Load the TOC files of `toc_dir` (or the one file it names when it ends in ".toc"), then
 * the given rules files in this order, validating every entry (citations against the TOC).
 * imr_kb_load() adds the check that the wording the engine needs is defined. */
int kb_load_paths(const char *toc_dir, const char *const *rules_files, size_t n_files,
                  imr_kb **out, imr_error *err);

const kb_guideline *kb_guideline_find(const imr_kb *kb, const char *id);
const kb_entry *kb_entry_find(const imr_kb *kb, const char *id);
/* The wording template for `key`, or NULL. */
const char *kb_wording(const imr_kb *kb, const char *key);
/* The phrase template for a fact type, or NULL. */
const char *kb_phrase(const imr_kb *kb, const char *type);
/* 1 when the entry is in force on `iso`. */
int kb_entry_in_force(const kb_entry *e, const char *iso);
/* The section of a guideline's TOC with this title, or NULL. */
const kb_toc_section *kb_toc_find(const kb_guideline *g, const char *title);
/* 1 when every page of `pages` ("76-79", "74-78, 88, 91") lies in the section. */
int kb_pages_within(const kb_toc_section *s, const char *pages);

/* The request as the matcher sees it. */
typedef struct kb_request {
    const imr_treatment *t;
    const char *text;       /* the request as written */
    const char *body_part;  /* the request's, else the claimant's main body part, or NULL */
} kb_request;

/* Specificity of the best applies line of `e` that matches, or -1 when none does. */
int kb_entry_matches(const kb_entry *e, const kb_request *rq);

/* Every entry whose applies lines match the request, with its specificity and whether it
 * is in force on `date`; sorted: in force first, then MTUS before non-MTUS, then the most
 * specific, then by id. *out is malloc'd (free it); returns the count. */
typedef struct kb_candidate {
    const kb_entry *e;
    int score;
    int in_force;
} kb_candidate;
size_t kb_candidates(const imr_kb *kb, const kb_request *rq, const char *date, kb_candidate **out);

/* Entries that apply to a request and are in force on `date`, best first: MTUS before
 * non-MTUS, then the most specific, then by id. Returns how many were written (at most
 * `max`); *n_matching counts every entry whose applies matched, in force or not. */
size_t kb_select(const imr_kb *kb, const kb_request *rq, const char *date, const kb_entry **out,
                 size_t max, size_t *n_matching);

/* 1 when `word` (lower case, may hold spaces) occurs in `text` on word boundaries,
 * ignoring case. */
int kb_has_word(const char *text, const char *word);

#endif
