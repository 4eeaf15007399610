/*
 * service_internal.h - private to the IMR service model: the process rules and the specialty
 * map read from rules/ (service_rules.c), review clocks (deadlines.c), eligibility screening
 * (eligibility.c), reviewer qualification and matching (assign.c), and what the service_*.c
 * files share (authorization, audit, case rows, JSON). The public contract is the section
 * "The IMR service model" of imr.h; docs/service.md describes the workflow.
 */
#ifndef IMR_SERVICE_INTERNAL_H
#define IMR_SERVICE_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "imr.h"

/* ---------------------------------------------------------------- rules/process.tsv */

typedef struct svc_process {
    int filing_window_days;    /* the application is due this many days after the UR decision */
    int mail_extension_days;   /* more days when the UR decision was served by mail */
    int standard_review_days;  /* review clocks */
    int expedited_review_days;
    int min_years_in_practice; /* a reviewer needs MORE than this many years */
    int min_hours_per_week;    /* and at least this many hours a week */
    int default_capacity;
    int audit_default_limit, audit_max_limit;
    int list_default_limit, list_max_limit;
    const char *required_licensure; /* "California" */
    const char *organization;
    imr_strlist licensure_aliases;  /* lower case */
    imr_strlist legal_suffixes;     /* lower case, words separated by one space */
    imr_strlist name_prefixes;
    imr_strlist wording_keys, wording_texts; /* parallel */
    imr_arena *arena;               /* owns everything above */
} svc_process;

int svc_process_load(const char *path, svc_process **out, imr_error *err);
void svc_process_free(svc_process *p);
/* <rules dir>/process.tsv, loaded once per process (thread-safe); NULL + err on failure. */
const svc_process *svc_process_rules(imr_error *err);
/* The template of a [wording] key (always present after a successful load). */
const char *svc_wording(const svc_process *p, const char *key);
/* Fill a template: each {name} is replaced by the value following "name" in `vars`
 * (name, value, name, value, ..., NULL); unknown names stay as written. */
char *svc_fill(imr_arena *a, const char *tmpl, const char *const *vars);

/* ---------------------------------------------------------------- rules/specialties.tsv */

typedef struct svc_specialties svc_specialties;

int svc_specialties_load(const char *path, svc_specialties **out, imr_error *err);
void svc_specialties_free(svc_specialties *s);
/* <rules dir>/specialties.tsv, loaded once per process (thread-safe). */
const svc_specialties *svc_specialty_rules(imr_error *err);
/* Index of a specialty (or of the specialty an alias names), or -1 when unknown. */
int svc_specialty_find(const svc_specialties *s, const char *name);
const char *svc_specialty_name(const svc_specialties *s, int index);
/* 1 when specialty `a` is similar to `b` for this disputed item: the same, or sharing a
 * group whose conditions the item meets (a group holds for some kinds of treatment only). */
int svc_specialty_similar(const svc_specialties *s, int a, int b, const imr_treatment *t,
                          const imr_strlist *diagnoses);
/* 1 when a reviewer of this specialty may review the item at all: the specialty has no
 * [limits] line, or one whose conditions the item meets (chiropractors: physical medicine). */
int svc_specialty_may_review(const svc_specialties *s, int specialty, const imr_treatment *t,
                             const imr_strlist *diagnoses);
/* The specialties that evaluate or treat one disputed item: indexes into *out (arena). */
void svc_item_specialties(const svc_specialties *s, const imr_treatment *t,
                          const imr_strlist *diagnoses, imr_arena *a, int **out, size_t *n);

/* ---------------------------------------------------------------- deadlines.c */

/* "YYYY-MM-DD" of day number `days` (days from 1970-01-01). */
void svc_date_from_days(long days, char iso[11]);
/* The date part of an ISO timestamp ("2015-08-19T10:00:00Z" -> "2015-08-19"); 0 when
 * `now` does not start with a valid date. */
int svc_today(const char *now, char iso[11]);
/* Statuses whose review clock is running. */
int svc_status_open(const char *status);
/* Days from `today` to `due` (negative when past), and whether the case is overdue. */
long svc_days_left(const char *due, const char *today);

/* ---------------------------------------------------------------- eligibility.c */

/* What screening looks at: the application as stored, plus what the store found. */
typedef struct svc_application {
    const char *case_id;
    const char *application_signed;  /* ISO or NULL */
    const char *application_received;/* ISO */
    const char *ur_decision_date;    /* ISO or NULL */
    int ur_decision_mailed;          /* 1 when the UR decision was served by mail */
    int ur_decision_attached;        /* 1 when a copy is attached (flag or document) */
    const char *dispute_type;        /* NULL = medical necessity */
    int ur_conditional_noncertification;
    const char *duplicate_of;        /* an earlier open application for the same dispute */
    int duplicate_checked;           /* 0 when the dispute could not be identified */
} svc_application;

/* Screen an application; fills `out` (reasons and checks in `a`). Never fails. */
void svc_screen(const svc_process *p, const svc_application *app, imr_arena *a,
                imr_eligibility *out);
/* The last day to file: the UR decision date plus the days allowed; "" when unknown. */
void svc_filing_deadline(const svc_process *p, const svc_application *app, char iso[11]);
/* The key that identifies one dispute: employee + UR decision date + the request. */
const char *svc_dispute_key(const svc_process *p, const imr_case *c, size_t item, imr_arena *a);
/* The notice sent when an application is ineligible, as text and as HTML. */
void svc_ineligibility_notice(const svc_process *p, const svc_application *app,
                              const char *case_number, const char *date,
                              const imr_eligibility *e, imr_arena *a, const char **text,
                              const char **html);
json_t *svc_eligibility_json(const imr_eligibility *e, const char *screened_at);

/* ---------------------------------------------------------------- assign.c */

typedef struct svc_affiliation {
    const char *kind; /* "employer", "insurer", "claims_administrator", "provider", ... */
    const char *name;
} svc_affiliation;

/* A panel member as assignment sees it. */
typedef struct svc_candidate {
    const char *id;
    int active;
    imr_strlist specialties; /* specialties and subspecialties, as written */
    imr_strlist licensure;
    int years_in_practice, hours_per_week; /* -1 when not stated */
    int capacity, open_cases;
    svc_affiliation *affiliations;
    size_t n_affiliations;
} svc_candidate;

/* What a case asks of its reviewer. */
typedef struct svc_case_needs {
    size_t n_items;
    const char **requests;
    imr_treatment *treatments; /* per item, as imr_request_parse reads it */
    imr_strlist diagnoses;     /* the case's diagnoses (copied) */
    int **specialties; /* per item: indexes into the specialty rules */
    size_t *n_specialties;
    const imr_party *parties;
    const char **party_keys; /* svc_name_key of each party's name ("" when none) */
    size_t n_parties;
} svc_case_needs;

void svc_case_needs_build(const svc_process *p, const svc_specialties *s, const imr_case *c,
                          const imr_lexicon *lx, const imr_strlist *diagnoses, imr_arena *a,
                          svc_case_needs *out);

typedef struct svc_assessment {
    int active, licensed, years_ok, hours_ok, has_capacity, specialty_ok;
    const char *conflict;       /* the (first) party the reviewer is affiliated with, or NULL */
    imr_strlist conflicts;      /* every such party: "role name" */
    imr_strlist problems;       /* one sentence per unmet rule */
    imr_strlist matches;        /* per item: how the reviewer's specialty fits it */
    int refused;                /* a rule not even a manual override may break */
    int qualified;              /* every rule met: may be assigned automatically */
} svc_assessment;

void svc_assess(const svc_process *p, const svc_specialties *s, const svc_case_needs *need,
                const svc_candidate *c, imr_arena *a, svc_assessment *out);
/* The least loaded qualified candidate (open cases relative to capacity, then fewer open
 * cases, then id), or -1 when none qualifies. `as` holds each candidate's assessment. */
long svc_pick(const svc_candidate *c, const svc_assessment *as, size_t n);
/* A name reduced for comparison: lower case, punctuation out, legal suffixes and leading
 * titles removed ("The Acme Co., Inc." -> "acme"). */
const char *svc_name_key(const svc_process *p, const char *name, imr_arena *a);
/* 1 when the licensure list holds the required state. */
int svc_licensed(const svc_process *p, const imr_strlist *licensure);

/* Within a transaction: one case more (+1) or fewer (-1) on a reviewer's open caseload. */
int svc_reviewer_open_cases(imr_db *db, const char *reviewer_id, int delta, imr_error *err);

/* ---------------------------------------------------------------- service.c */

/* Shorthands for the errors the service returns (err->http set). */
int svc_fail(imr_error *err, int http, const char *where, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 4, 5)))
#endif
    ;
int svc_not_found(imr_error *err, const char *case_id);
/* A storage error: keeps its message, http 409 for constraint errors, else 500. */
int svc_db_fail(imr_error *err, int st);
/* An input error from our JSON readers ("$.path: message"): the path moves to err->where,
 * the status becomes IMR_EX_DATAERR with the given http status. */
int svc_input_error(imr_error *err, int http);
int svc_forbidden(imr_error *err, const char *what);

/* The case row as the service reads it. */
typedef struct svc_case_row {
    const char *id, *status, *priority, *case_json;
    const char *application_received, *records_received, *ur_decision_date, *due_date;
    const char *reviewer_id, *duplicate_of, *eligibility_json;
    const char *created_at, *updated_at;
    long version;
} svc_case_row;

/* Read a case and check that `who` may see it (reviewers: only their own; others are 404). */
int svc_case_load(imr_db *db, const imr_actor *who, const char *case_id, imr_arena *a,
                  svc_case_row *row, imr_error *err);
/* May `who` change cases at all (analysts may not: 403)? */
int svc_may_write(const imr_actor *who, imr_error *err);
/* Who acted, as written in audit entries and created_by columns. */
const char *svc_actor_name(const imr_actor *who);

/* Within a transaction: move the case to `status` and bump its version, refusing (409)
 * when someone else changed it since `row` was read. Extra columns are set by the caller
 * with their own statements before svc_case_finish. */
int svc_case_touch(imr_db *db, const svc_case_row *row, const char *status, const char *now,
                   imr_error *err);
/* Within a transaction: rebuild the stored view of the case, write the audit entry (before:
 * the state in `before`, after: the new state plus `change`), and return the new view with
 * its clock fields as *out_json. Consumes `change` (may be NULL). */
int svc_case_finish(imr_db *db, const imr_actor *who, const char *case_id, const char *action,
                    const char *before_state, json_t *change, const char *now, imr_arena *a,
                    const char **out_json, imr_error *err);
/* The same, with the case file already parsed (borrowed; NULL: parse the stored text), so
 * that a request that holds it does not parse it again. */
int svc_case_finish_parsed(imr_db *db, const imr_actor *who, const char *case_id, json_t *case_file,
                           const char *action, const char *before_state, json_t *change,
                           const char *now, imr_arena *a, const char **out_json, imr_error *err);
/* Within a transaction: rebuild and store the view of a case (no audit entry: the view
 * only follows the tables). *row is the case as it now stands. */
int svc_case_refresh(imr_db *db, const char *case_id, imr_arena *a, svc_case_row *row,
                     const char **view, const char **record, imr_error *err);
int svc_case_refresh_parsed(imr_db *db, const char *case_id, json_t *case_file, imr_arena *a,
                            svc_case_row *row, const char **view, const char **record, imr_error *err);
/* Within a transaction: the audit entry of a change to a case, without rebuilding its view
 * (for a step that another step of the same transaction follows): after = the state of
 * `row` plus `change` (consumed; may be NULL). */
int svc_case_audit(imr_db *db, const imr_actor *who, const svc_case_row *row, const char *action,
                   const char *before_state, json_t *change, const char *now, imr_arena *a,
                   imr_error *err);
/* The compact state of a case row for audit entries (as JSON text, or as an object). */
const char *svc_case_state(const svc_case_row *row, imr_arena *a);
json_t *svc_case_state_json(const svc_case_row *row);
/* The stored view with its time-dependent fields (days_left, overdue) spliced in, and the
 * newest determination record as "determination" when `record` is not NULL (JSON text,
 * "null" when there is none). */
const char *svc_view_with_clock(const char *view, const char *status, const char *due,
                                const char *now, const char *record, imr_arena *a);
/* The engine's knowledge, loaded once per process. */
int svc_engine(const imr_kb **kb, const imr_lexicon **lx, imr_error *err);
/* The rules of the service (process + specialties), loaded once. */
int svc_rules(const svc_process **p, const svc_specialties **s, imr_error *err);

/* JSON helpers: a string or null; dump compact into the arena (consumes `v`). */
json_t *svc_jstr(const char *s);
const char *svc_dump(json_t *v, imr_arena *a);
/* Parse JSON text read from our own store (never fails silently: err on bad text). */
json_t *svc_parse_stored(const char *text, const char *what, imr_error *err);
/* A fresh identifier: prefix + 16 hex digits from the system's random source. */
const char *svc_new_id(const char *prefix, imr_arena *a);

/* The engine's case for a stored case: the stored case file with the case's medical-record
 * documents appended as records. */
int svc_engine_case(imr_db *db, const svc_case_row *row, imr_arena *a, imr_case **out,
                    imr_error *err);
/* The engine's draft of a case (prof: the assigned reviewer, or NULL): the record and its
 * JSON text. Runs outside any transaction. */
int svc_draft_record(const imr_case *c, const imr_reviewer_profile *prof, imr_arena *a,
                     const imr_record **out, const char **json, imr_error *err);
/* Within a transaction: store a draft as the case's next version (the case moves from
 * assigned to in_review), then rebuild the view and write the audit entry. `case_file` is
 * the parsed case file when the caller holds it (borrowed), else NULL. */
int svc_draft_store(imr_db *db, const imr_actor *who, const svc_case_row *row, json_t *case_file,
                    const imr_record *rec, const char *json, const char *now, imr_arena *a,
                    const char **out_json, imr_error *err);
/* A panel member's stored profile as a candidate and as the letter's reviewer profile. */
int svc_reviewer_read(const char *id, const char *profile_json, int active, int open_cases,
                      const svc_process *p, imr_arena *a, svc_candidate *cand,
                      imr_reviewer_profile *profile, imr_error *err);

/* imr_svc_case_create_draft from a case file a server has parsed already (the reference is
 * consumed, and the object is changed), so that a request's body is parsed once. Used by the
 * API (api_cases.c); kept out of imr.h so the public header needs no jansson type. */
int imr_svc_case_register(imr_db *db, const imr_actor *who, json_t *case_file, int with_draft,
                          const char *now, imr_arena *a, const char **out_id, const char **out_json,
                          imr_error *err);

#endif
