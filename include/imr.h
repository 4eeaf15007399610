/*
 * imr.h - the one public header of libimr, the Independent Medical Review engine.
 *
 * Data flows one way:
 *   case file -> clinical facts -> guideline decisions -> determination record -> letter / store
 *
 * Ownership, stated once:
 *   - Every string and array hanging off an imr_record, imr_item, imr_treatment, imr_fact
 *     or imr_letter_block lives in the imr_arena that was passed to the function that built
 *     it. Nothing in those structs is freed on its own; imr_arena_free() releases it all.
 *   - imr_buf owns its bytes; imr_buf_free() releases them.
 *   - Knowledge bases (imr_lexicon, imr_kb) own everything they load; free them with their
 *     own _free function. Pointers into them stay valid until then.
 *   - Functions that can fail return 0 on success, or a sysexits status (IMR_EX_*) and fill
 *     the imr_error passed to them with what went wrong and where.
 *
 * Strings are UTF-8, NUL-terminated. A NULL string field means "absent / not stated".
 * Integer fields use -1 for "not stated" unless said otherwise.
 */
#ifndef IMR_H
#define IMR_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IMR_VERSION "0.1.0"

/* ---------------------------------------------------------------------------------------
 * Exit statuses (sysexits.h values), used as return codes throughout.
 * ------------------------------------------------------------------------------------- */
enum {
    IMR_OK = 0,
    IMR_EX_USAGE = 64,    /* command used wrongly */
    IMR_EX_DATAERR = 65,  /* input data was malformed */
    IMR_EX_NOINPUT = 66,  /* input file missing or unreadable */
    IMR_EX_SOFTWARE = 70, /* internal error */
    IMR_EX_IOERR = 74     /* could not write output */
};

/* What went wrong and where. `where` is a file name (or "<stdin>", or a JSON path such as
 * "disputed_items[0].request"), `line` is 1-based or 0 when it does not apply. */
typedef struct imr_error {
    int status;
    char where[256];
    int line;
    char message[512];
    int http; /* the service's HTTP status for this error (0: derived from `status`) */
} imr_error;

/* Fill `err` (may be NULL) and return `status`. `where` may be NULL to keep the current. */
int imr_error_set(imr_error *err, int status, const char *where, int line, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 5, 6)))
#endif
    ;
/* Print "where:line: message" (parts omitted when absent) to `fp`, prefixed by "imr: ". */
void imr_error_print(const imr_error *err, FILE *fp);

/* ---------------------------------------------------------------------------------------
 * Memory: an arena for per-document work, and a growable byte buffer.
 * ------------------------------------------------------------------------------------- */
typedef struct imr_arena imr_arena;

imr_arena *imr_arena_new(void);
void imr_arena_free(imr_arena *a);
/* Forget everything allocated so far but keep the first block for reuse. */
void imr_arena_reset(imr_arena *a);
/* Zeroed memory, aligned for any type. Aborts on out-of-memory (there is no recovery). */
void *imr_arena_alloc(imr_arena *a, size_t size);
/* The same, not zeroed: for arrays the caller fills before reading (hot paths). */
void *imr_arena_alloc_raw(imr_arena *a, size_t size);
char *imr_arena_strdup(imr_arena *a, const char *s);          /* NULL -> NULL */
char *imr_arena_strndup(imr_arena *a, const char *s, size_t n);
char *imr_arena_printf(imr_arena *a, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Bytes currently held by the arena (for benchmarks and memory bounds). */
size_t imr_arena_bytes(const imr_arena *a);

typedef struct imr_buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
} imr_buf;

#define IMR_BUF_INIT {NULL, 0, 0}
void imr_buf_append(imr_buf *b, const char *s, size_t n);
void imr_buf_puts(imr_buf *b, const char *s);
void imr_buf_putc(imr_buf *b, char c);
void imr_buf_printf(imr_buf *b, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void imr_buf_reset(imr_buf *b); /* len = 0, keeps capacity */
/* Room for `extra` more bytes (and the NUL) without a further allocation; len unchanged. */
void imr_buf_reserve(imr_buf *b, size_t extra);
void imr_buf_free(imr_buf *b);

/* A list of strings in an arena. */
typedef struct imr_strlist {
    const char **v;
    size_t n;
} imr_strlist;
void imr_strlist_push(imr_strlist *l, imr_arena *a, const char *s); /* s is copied */

/* ---------------------------------------------------------------------------------------
 * Files and text helpers.
 * ------------------------------------------------------------------------------------- */
/* Read a whole file ("-" or NULL means standard input) into `out`. Files larger than
 * `max_bytes` (0 = no limit) are refused with IMR_EX_DATAERR. Missing files: IMR_EX_NOINPUT. */
int imr_read_file(const char *path, size_t max_bytes, imr_buf *out, imr_error *err);
/* Write `len` bytes to `path` atomically: a temporary file in the same folder, fsync,
 * rename. On failure nothing is left behind. "-" or NULL writes to standard output. */
int imr_write_file_atomic(const char *path, const char *data, size_t len, imr_error *err);
/* 1 when the bytes are valid UTF-8; otherwise 0 and *bad_offset is the first bad byte. */
int imr_utf8_valid(const char *s, size_t len, size_t *bad_offset);
/* 1-based line number of byte offset `off` in `s`. */
int imr_line_of(const char *s, size_t off);

/* Dates. imr_date_parse understands ISO "2015-08-19", "August 11, 2000", "Aug. 11, 2000",
 * "5-4-08", "03-15-2004", "3/26/2005", "6/24/15", "11-11-2015". Two-digit years are read
 * as 19xx when above 30, else 20xx. Writes ISO 8601 (YYYY-MM-DD, 11 bytes with the NUL) to
 * `iso` and returns the number of bytes consumed from `s`, or 0 when `s` does not start
 * with a valid date (impossible dates such as 2015-02-30 are refused). */
size_t imr_date_parse(const char *s, size_t len, char iso[11]);
/* 1 when `iso` is a valid YYYY-MM-DD calendar date. */
int imr_date_valid_iso(const char *iso);
/* Days from 1970-01-01 for a valid ISO date; used for deadlines and comparisons. */
long imr_date_days(const char *iso);
/* Long form used in letters: "2015-08-19" -> "August 19, 2015". */
void imr_date_long(const char *iso, char out[32]);

/* ---------------------------------------------------------------------------------------
 * The determination record: one schema for drafts, finals and parsed letters.
 * Documented field by field in docs/record.md. JSON names are the snake_case field names.
 * ------------------------------------------------------------------------------------- */
typedef enum {
    IMR_DECISION_UNDETERMINED = 0,
    IMR_DECISION_UPHELD,    /* UR decision stands: not medically necessary */
    IMR_DECISION_OVERTURNED /* UR decision reversed: medically necessary */
} imr_decision;
const char *imr_decision_name(imr_decision d);         /* "Upheld" ... */
int imr_decision_from_name(const char *s, imr_decision *out); /* 0 ok, -1 unknown */

typedef enum {
    IMR_TREATMENT_OTHER = 0,
    IMR_TREATMENT_DRUG,
    IMR_TREATMENT_PHYSICAL_MEDICINE, /* PT, chiropractic, acupuncture, massage, aquatic */
    IMR_TREATMENT_IMAGING,
    IMR_TREATMENT_DIAGNOSTIC_TEST,   /* EMG/NCV, urine drug screen, labs */
    IMR_TREATMENT_INJECTION,
    IMR_TREATMENT_SURGERY,
    IMR_TREATMENT_DME,
    IMR_TREATMENT_CONSULTATION,
    IMR_TREATMENT_PROGRAM,           /* functional restoration, weight loss, home health */
    IMR_TREATMENT_KIND_COUNT
} imr_treatment_kind;
/* JSON names: "other", "drug", "physical_medicine", "imaging", "diagnostic_test",
 * "injection", "surgery", "dme", "consultation", "program". */
const char *imr_treatment_kind_name(imr_treatment_kind k);
int imr_treatment_kind_from_name(const char *s, imr_treatment_kind *out);

/* A normalized treatment request (see request.c). Numbers are -1 when not stated. */
typedef struct imr_treatment {
    imr_treatment_kind kind;
    const char *name;        /* as written: "Norco", "Physical therapy", "MRI" */
    imr_strlist generics;    /* drugs: ["hydrocodone", "acetaminophen"] */
    const char *drug_class;  /* drugs: lexicon class, e.g. "opioid_short_acting" */
    const char *strength;    /* normalized: "10/325 mg", "5%", "350 mg" */
    const char *dose_form;   /* "tablet", "patch", "cream", "capsule", ... */
    int quantity;            /* #120 -> 120 */
    int refills;
    const char *frequency;   /* "every day as needed", "2x/week", "q6h" */
    int visits;              /* sessions or visits in total: "2x6" -> 12 */
    const char *duration;    /* "6 weeks", "30 days" */
    const char *body_part;   /* "lumbar spine", "knee", "cervical spine" */
    const char *laterality;  /* "left", "right", "bilateral" */
    const char *procedure;   /* e.g. "transforaminal epidural steroid injection", "purchase" */
    const char *levels;      /* spinal levels, e.g. "L4-5" */
    double mme_factor;       /* morphine milligram equivalent factor, 0 when not an opioid */
} imr_treatment;

/* A citation of a guideline in an item's decision. */
typedef struct imr_citation {
    const char *guideline; /* "MTUS Chronic Pain Medical Treatment Guidelines" */
    const char *edition;   /* "2009", "2016", "ACOEM 2nd ed. 2004", "ODG" */
    const char *section;   /* "Opioids, criteria for use" */
    const char *pages;     /* "76-79" (may be NULL) */
} imr_citation;

typedef enum { IMR_CRITERION_UNKNOWN = 0, IMR_CRITERION_MET, IMR_CRITERION_NOT_MET } imr_criterion_status;
const char *imr_criterion_status_name(imr_criterion_status s); /* "unknown", "met", "not_met" */

/* Where a fact or a criterion's decision came from: a span of a source text. */
typedef struct imr_evidence {
    const char *source; /* "clinical_summary" or "records[2]" */
    size_t start, end;  /* byte offsets in that text, end exclusive */
    const char *text;   /* the span itself */
} imr_evidence;

typedef struct imr_criterion {
    const char *id;   /* "opioids.ongoing.pain_relief" */
    const char *text; /* the criterion in plain words */
    imr_criterion_status status;
    imr_evidence *evidence;
    size_t n_evidence;
} imr_criterion;

typedef struct imr_item {
    const char *request;  /* the disputed item as written: "Norco 10/325mg #120" */
    imr_decision decision;
    const char *ur_decision;                    /* case files: "denied", "modified to #30" */
    const char *claims_administrator_guideline; /* text after "Claims Administrator guideline:" */
    const char *reviewer_guideline;             /* text after "<ORG> guideline:" */
    const char *rationale;                      /* text after "Decision rationale:" */
    imr_treatment treatment;
    imr_citation *citations;
    size_t n_citations;
    imr_criterion *criteria;
    size_t n_criteria;
    imr_strlist missing_documentation;
    const char *undetermined_reason; /* why the engine could not decide (NULL otherwise) */
} imr_item;

typedef enum {
    IMR_LAYOUT_FDL = 0,  /* Final Determination Letter: "HOW THE IMR FINAL DETERMINATION WAS MADE" */
    IMR_LAYOUT_NOTICE_2013 /* "Notice of Independent Medical Review Determination" */
} imr_layout;
const char *imr_layout_name(imr_layout l); /* "fdl", "notice_2013" */
int imr_layout_from_name(const char *s, imr_layout *out);

typedef enum {
    IMR_CREDENTIALS_SENTENCE = 0, /* "The expert reviewer is Board Certified in ..." */
    IMR_CREDENTIALS_LINES         /* "State(s) of Licensure:" / "Certification(s)/Specialty:" */
} imr_credentials_style;

typedef struct imr_reviewer {
    const char *credentials_text; /* the credentials sentence or lines, as in the letter */
    imr_credentials_style credentials_style;
    imr_strlist specialties;      /* "Family Practice" */
    imr_strlist subspecialties;   /* "Pain Medicine" */
    imr_strlist licensure;        /* states: "Arizona", "California" */
    int board_certified;          /* 1 yes, 0 no, -1 not stated */
} imr_reviewer;

typedef struct imr_claimant {
    int age;          /* -1 when not stated */
    const char *sex;  /* "male", "female", or NULL */
} imr_claimant;

/* The optional header block of published letters, and the 2013 notice's dates. */
typedef struct imr_header {
    const char *date_assigned;        /* ISO */
    const char *decision_date;        /* ISO */
    const char *ur_denial_date;       /* ISO */
    const char *application_received; /* ISO */
    const char *priority;             /* "Standard", "Expedited" as written */
    const char *employee;
    const char *employer;
    const char *claim_number;
    const char *notice_date;          /* 2013 layout: "Dated:" */
    const char *noarfi_date;          /* 2013 layout: Notice of Assignment date */
} imr_header;

typedef enum {
    IMR_STATUS_PARSED = 0, /* read from a published letter */
    IMR_STATUS_DRAFT,      /* drafted by the engine, not attested */
    IMR_STATUS_FINAL       /* attested by a physician reviewer */
} imr_record_status;
const char *imr_record_status_name(imr_record_status s); /* "parsed", "draft", "final" */

typedef struct imr_attestation {
    const char *reviewer_id;  /* internal id of the reviewer (never printed in letters) */
    const char *statement;    /* the attestation text the reviewer agreed to */
    const char *signed_at;    /* ISO 8601 timestamp */
} imr_attestation;

/* Wording of the source letter that no other field carries, kept so that a parsed letter
 * renders back to the same text. For drafts these are NULL and the standard wording
 * (the one shown in the comments) is used. */
typedef struct imr_letter_wording {
    const char *organization_short; /* label of "<X> guideline:", e.g. "MAXIMUS" */
    const char *decisions_heading;  /* "IMR ISSUES, DECISIONS AND RATIONALES" */
    const char *decisions_intro;    /* "The Final Determination was based on decisions for the
                                       disputed items/services set forth below:" */
    const char *credentials_intro;  /* "The Expert Reviewer has the following credentials:" */
} imr_letter_wording;

typedef struct imr_record {
    imr_layout layout;
    imr_record_status status;
    const char *case_number;       /* "CM15-0123456" or NULL */
    const char *organization;      /* "MAXIMUS Federal Services" */
    imr_header header;
    /* The "HOW THE IMR FINAL DETERMINATION WAS MADE" paragraph(s) as they stood in the
     * letter, re-flowed (NULL for drafts: the renderer then writes the standard text). */
    const char *determination_method;
    imr_reviewer reviewer;
    imr_claimant claimant;
    const char *date_of_injury;    /* ISO 8601 */
    imr_strlist documents_reviewed;
    const char *clinical_case_summary_intro; /* "The expert reviewer developed ..." as written */
    const char *clinical_case_summary;
    imr_item *items;
    size_t n_items;
    imr_letter_wording wording;
    imr_attestation *attestation;  /* NULL unless final */
} imr_record;

imr_record *imr_record_new(imr_arena *a);
/* Append a zeroed item (numbers set to -1 / unknown) and return it. */
imr_item *imr_record_add_item(imr_record *r, imr_arena *a);
/* Initialise a treatment to "nothing known" (numbers -1, kind other). */
void imr_treatment_init(imr_treatment *t);

/* JSON (jansson). imr_record_to_json appends pretty (indent 2) or compact JSON to `out`.
 * imr_record_from_json reads a record; errors name the JSON path and line. */
enum { IMR_JSON_COMPACT = 0, IMR_JSON_PRETTY = 1 };
int imr_record_to_json(const imr_record *r, int flags, imr_buf *out, imr_error *err);
int imr_record_from_json(const char *json, size_t len, const char *where, imr_arena *a,
                         imr_record **out, imr_error *err);
/* Treatment alone, as JSON object text (used by `imr request`). */
int imr_treatment_to_json(const imr_treatment *t, int flags, imr_buf *out, imr_error *err);

/* ---------------------------------------------------------------------------------------
 * Letters in: the Final Determination Letter parser (letter_parse.c, letter_pdf.c).
 * ------------------------------------------------------------------------------------- */
/* Parse a letter's text (as extracted from the published PDF, with its artefacts).
 * `where` names the source in errors. Unknown layouts and truncated letters are
 * IMR_EX_DATAERR naming the line where parsing failed. */
int imr_letter_parse(const char *text, size_t len, const char *where, imr_arena *a,
                     imr_record **out, imr_error *err);
/* Extract the text of a PDF (poppler-glib), page by page, into `out`, in the same shape
 * as the published text files, so that imr_letter_parse gives the same record. */
int imr_pdf_text(const char *data, size_t len, const char *where, imr_buf *out, imr_error *err);
/* 1 when the bytes start like a PDF. */
int imr_is_pdf(const char *data, size_t len);

/* ---------------------------------------------------------------------------------------
 * Letters out: record -> blocks -> text / HTML / PDF (letter_blocks.c, letter_render_*.c).
 * ------------------------------------------------------------------------------------- */
typedef enum {
    IMR_BLOCK_TITLE,      /* letter title lines (2013 notice header, organization) */
    IMR_BLOCK_BANNER,     /* "DRAFT - NOT A FINAL DETERMINATION" and similar notices */
    IMR_BLOCK_FIELD,      /* label + text on one line: "Case Number: CM15-0123456" */
    IMR_BLOCK_HEADING,    /* section heading: "CLINICAL CASE SUMMARY" */
    IMR_BLOCK_PARAGRAPH,  /* running text; text may contain no newlines */
    IMR_BLOCK_LIST_ITEM,  /* numbered or bulleted line; label is "1." or "-" */
    IMR_BLOCK_ITEM_TITLE, /* "Norco 10/325mg #120:  Upheld": label = request, text = decision */
    IMR_BLOCK_LABELED     /* paragraph that starts with a label: "Decision rationale:" */
} imr_block_kind;

typedef struct imr_letter_block {
    imr_block_kind kind;
    const char *label; /* may be NULL */
    const char *text;  /* may be NULL for headings with label only */
    int item;          /* index of the disputed item the block belongs to, or -1 */
} imr_letter_block;

/* Lay out a record as the sequence of blocks of its letter (same wording as the published
 * letters, so that text, HTML and PDF all parse back to the same record).
 * Every renderer writes the words of a block the same way (labels never hold their colon):
 * FIELD and LABELED: label ": " text; ITEM_TITLE: label ":" then " " text when text is set
 * (2013 titles have none); LIST_ITEM: label " " text, or text alone when label is NULL (a
 * line kept as is, e.g. a document reviewed: never wrapped); the other kinds: text. */
int imr_letter_blocks(const imr_record *r, imr_arena *a, imr_letter_block **out, size_t *n,
                      imr_error *err);

typedef enum { IMR_FORMAT_TEXT = 0, IMR_FORMAT_HTML, IMR_FORMAT_PDF, IMR_FORMAT_JSON } imr_format;
int imr_format_from_name(const char *s, imr_format *out);

/* Render a record. Text is wrapped at `width` columns (0 = 95, the seeds' width).
 * HTML is a self-contained printable page. PDF is typeset with cairo + pango. */
int imr_render_text(const imr_record *r, int width, imr_buf *out, imr_error *err);
int imr_render_html(const imr_record *r, imr_buf *out, imr_error *err);
int imr_render_pdf(const imr_record *r, imr_buf *out, imr_error *err);
int imr_render(const imr_record *r, imr_format f, imr_buf *out, imr_error *err);

/* ---------------------------------------------------------------------------------------
 * The drug lexicon (rules/drugs.tsv) and request parsing (lexicon.c, request.c).
 * ------------------------------------------------------------------------------------- */
typedef struct imr_drug {
    const char *name;      /* the name as listed (brand or generic), lower case */
    const char *display;   /* as usually written: "Norco" */
    imr_strlist generics;  /* ingredients, lower case */
    const char *drug_class;/* "opioid_short_acting", "muscle_relaxant", ... */
    const char *dose_form; /* default dose form, may be NULL */
    double mme_factor;     /* 0 when not an opioid */
    int is_brand;
} imr_drug;

typedef struct imr_lexicon imr_lexicon;

/* Load and validate a lexicon file (errors are file:line). */
int imr_lexicon_load(const char *path, imr_lexicon **out, imr_error *err);
void imr_lexicon_free(imr_lexicon *lx);
size_t imr_lexicon_count(const imr_lexicon *lx);
/* The i-th drug in file order (NULL when i >= imr_lexicon_count), to list or check them. */
const imr_drug *imr_lexicon_drug(const imr_lexicon *lx, size_t i);
/* 1 when `name` is one of the drug classes of docs/requests.md ("nsaid", ...), else 0. */
int imr_drug_class_valid(const char *name);
/* Case-insensitive lookup of one name ("norco", "Hydrocodone/APAP"). NULL when unknown. */
const imr_drug *imr_lexicon_find(const imr_lexicon *lx, const char *name, size_t len);
/* Find the longest drug name that starts at s[0] on a word boundary; returns its length
 * in *match_len. NULL when none. */
const imr_drug *imr_lexicon_match(const imr_lexicon *lx, const char *s, size_t len,
                                  size_t *match_len);
/* The rules folder: $IMR_RULES if set, else the compiled-in source-tree default,
 * else the installed share folder. */
const char *imr_rules_dir(void);
/* The lexicon at <rules dir>/drugs.tsv, loaded once per process (NULL + err on failure). */
const imr_lexicon *imr_default_lexicon(imr_error *err);

/* Parse one request string into a normalized treatment. `lx` may be NULL (no drugs then).
 * Never fails on odd text: what it cannot read stays unset (kind other). */
void imr_request_parse(const char *request, const imr_lexicon *lx, imr_arena *a,
                       imr_treatment *out);

/* ---------------------------------------------------------------------------------------
 * Clinical extraction (extract.c, negation.c). Vocabulary in docs/facts.md.
 * ------------------------------------------------------------------------------------- */
typedef enum {
    IMR_ASSERT_AFFIRMED = 0,
    IMR_ASSERT_NEGATED,
    IMR_ASSERT_HYPOTHETICAL,
    IMR_ASSERT_HISTORICAL,
    IMR_ASSERT_OTHER_PERSON
} imr_assertion;
const char *imr_assertion_name(imr_assertion a); /* "affirmed", "negated", ... */

/* One clinical fact found in a text. `type` and `name` use the vocabulary of
 * docs/facts.md (e.g. type "medication", name "hydrocodone"). Optional fields are NULL
 * or NAN when absent. */
typedef struct imr_fact {
    const char *type;          /* "age", "sex", "medication", "pain_score", ... */
    const char *name;          /* normalized subject: generic drug, body part, treatment */
    const char *value;         /* normalized value: "67", "male", "inconsistent", "6/10" */
    const char *qualifier;     /* e.g. "with_medication", "before", "after", "failed" */
    const char *date;          /* ISO date the fact refers to */
    const char *duration;      /* "since at least May 2015", "several months" */
    const char *attributed_to; /* improvement: the treatment it followed */
    double score;              /* numeric value (pain score, age, count), NAN if none */
    double score2;             /* second number ("now 4-5/10" after "7-8/10"), NAN if none */
    imr_assertion assertion;
    imr_evidence evidence;     /* the span in the source text */
} imr_fact;

typedef struct imr_facts {
    imr_fact *v;
    size_t n;
    size_t cap;
} imr_facts;

/* Append the facts found in `text` (named `source` in evidence) to `out`. Needs the drug
 * lexicon for medications (may be NULL). Deterministic; never fails on odd text. */
int imr_extract(const char *text, size_t len, const char *source, const imr_lexicon *lx,
                imr_arena *a, imr_facts *out, imr_error *err);
/* Assertion of the span [start, end) of `text`, ConText-style (negation.c). */
imr_assertion imr_assertion_at(const char *text, size_t len, size_t start, size_t end);
int imr_facts_to_json(const imr_facts *f, int flags, imr_buf *out, imr_error *err);

/* ---------------------------------------------------------------------------------------
 * Case files (case.c): the input of the engine. Schema in docs/case-file.md.
 * ------------------------------------------------------------------------------------- */
typedef struct imr_case_document {
    const char *date;    /* ISO */
    const char *author;
    const char *type;    /* "progress report", "UR determination", ... */
    const char *text;
} imr_case_document;

typedef struct imr_party {
    const char *role;    /* "employee", "employer", "claims_administrator", "requesting_provider" */
    const char *name;
    const char *id;
} imr_party;

typedef struct imr_disputed_item {
    const char *request;
    const char *ur_decision;
    const char *claims_administrator_guideline;
} imr_disputed_item;

typedef struct imr_case {
    const char *case_number;
    const char *priority;          /* "standard" (default) or "expedited" */
    imr_claimant claimant;
    const char *date_of_injury;    /* ISO */
    const char *ur_decision_date;  /* ISO, may be NULL */
    const char *application_received; /* ISO, may be NULL */
    const char *application_signed;   /* ISO or NULL */
    imr_party *parties;
    size_t n_parties;
    imr_disputed_item *items;
    size_t n_items;
    const char *clinical_summary;  /* may be NULL when records are given */
    imr_case_document *records;
    size_t n_records;
} imr_case;

int imr_case_from_json(const char *json, size_t len, const char *where, imr_arena *a,
                       imr_case **out, imr_error *err);

/* ---------------------------------------------------------------------------------------
 * The guideline knowledge base (kb.c) and the engine (engine.c). Format in docs/rules.md.
 * ------------------------------------------------------------------------------------- */
typedef struct imr_kb imr_kb;

/* Load every rules file of the knowledge base under `dir` (NULL = imr_rules_dir()),
 * validating it (errors are file:line). */
int imr_kb_load(const char *dir, imr_kb **out, imr_error *err);
void imr_kb_free(imr_kb *kb);
size_t imr_kb_entry_count(const imr_kb *kb);

/* A reviewer profile: what the letter's credentials paragraph says. */
typedef struct imr_reviewer_profile {
    imr_reviewer reviewer;
    const char *reviewer_id;
} imr_reviewer_profile;

typedef struct imr_review_options {
    const imr_reviewer_profile *reviewer; /* NULL: credentials left as "[to be assigned]" */
    const imr_attestation *attestation;   /* NULL: the record stays a DRAFT */
    const char *organization;             /* NULL: "MAXIMUS Federal Services" */
    imr_buf *explain;                     /* when non-NULL, the decision trace is appended */
} imr_review_options;

/* Draft the determination for a case. Never fails on the clinical content: items the
 * engine cannot decide are Undetermined with undetermined_reason set. */
int imr_review(const imr_case *c, const imr_kb *kb, const imr_lexicon *lx,
               const imr_review_options *opt, imr_arena *a, imr_record **out, imr_error *err);

/* ---------------------------------------------------------------------------------------
 * Storage (db.c over store_sqlite.c and store_pg.c): one SQL dialect-neutral interface.
 * Statements are always prepared with parameters ($1, $2, ... in both backends; never
 * string-built), cached per connection. A connection is used by one thread at a time.
 * ------------------------------------------------------------------------------------- */
typedef struct imr_db imr_db;

/* A parameter or a result value: bytes plus length; data NULL means SQL NULL. */
typedef struct imr_db_value {
    const char *data;
    size_t len;
} imr_db_value;

/* A result: rows x cols values, all in the arena passed to imr_db_query. */
typedef struct imr_db_rows {
    size_t n_rows, n_cols;
    imr_db_value *v; /* row-major: v[row * n_cols + col] */
} imr_db_rows;

/* "postgresql://..." or "postgres://..." opens PostgreSQL through libpq; anything else is a
 * SQLite file path ("sqlite:" prefix optional; WAL mode, foreign keys on, busy timeout). */
int imr_db_open(const char *url, imr_db **out, imr_error *err);
void imr_db_close(imr_db *db);
/* "sqlite" or "postgresql". */
const char *imr_db_backend(const imr_db *db);
/* Run one statement. `params` are text (or bytes for BLOB/BYTEA columns when `binary` has a
 * 1 at that index; `binary` may be NULL). Rows go to `out` (may be NULL) in arena `a`.
 * Returns 0, or IMR_EX_SOFTWARE / IMR_EX_DATAERR (constraint violations) with err set. */
int imr_db_query(imr_db *db, const char *sql, const imr_db_value *params, int n_params,
                 const int *binary, imr_arena *a, imr_db_rows *out, imr_error *err);
/* Convenience: text parameters only (NULL entries are SQL NULL). */
int imr_db_exec(imr_db *db, const char *sql, const char *const *params, int n_params,
                imr_arena *a, imr_db_rows *out, imr_error *err);
int imr_db_begin(imr_db *db, imr_error *err);
int imr_db_commit(imr_db *db, imr_error *err);
void imr_db_rollback(imr_db *db);
/* Value helpers: text of a cell (NUL-terminated in the arena; NULL for SQL NULL). */
const char *imr_db_text(const imr_db_rows *r, size_t row, size_t col);
/* Bring the schema to the newest version (migrations in store_schema.c), in one
 * transaction per migration. Returns the version in *version when non-NULL. */
int imr_db_migrate(imr_db *db, int *version, imr_error *err);

/* ---------------------------------------------------------------------------------------
 * The IMR service model (service.c, eligibility.c, assign.c, deadlines.c): the IMR
 * organization's daily work over the store. Every function that changes state runs in one
 * transaction and appends to the audit log (who, what, when, before and after). Objects
 * cross this boundary as JSON text, the API's own representation (docs/api.md); results
 * are allocated in the arena given. Errors set err->http (400, 403, 404, 409, 422) and
 * err->where to the JSON path of the offending field when there is one.
 * `now` is an ISO 8601 timestamp ("2015-08-19T10:00:00Z"), passed in so tests control time.
 * ------------------------------------------------------------------------------------- */
typedef enum {
    IMR_ROLE_INTAKE = 0,   /* registers applications and documents, screens eligibility */
    IMR_ROLE_REVIEWER,     /* sees and decides only the cases assigned to them */
    IMR_ROLE_ADMIN,        /* everything, including users, the panel and assignment overrides */
    IMR_ROLE_ANALYST       /* reads everything, changes nothing */
} imr_role;
const char *imr_role_name(imr_role r); /* "intake", "reviewer", "administrator", "analyst" */
int imr_role_from_name(const char *s, imr_role *out);

/* Who is acting: from a session cookie or a bearer token. */
typedef struct imr_actor {
    const char *user_id;
    const char *username;
    imr_role role;
    const char *reviewer_id; /* for reviewers: their panel id */
} imr_actor;

/* Eligibility screening of an application, with stated reasons (eligibility.c). */
typedef struct imr_eligibility {
    int eligible;
    imr_strlist reasons;      /* why not, one sentence each; empty when eligible */
    imr_strlist checks;       /* every check made, "passed: ..." / "failed: ..."
                                 ("not checked: ..." when it could not be made) */
    const char *duplicate_of; /* case id of an earlier application for the same dispute */
} imr_eligibility;

/* Review clocks (deadlines.c): standard reviews are due 30 days, expedited 3 days, after
 * the later of the application's receipt and the receipt of the records. */
int imr_due_date(const char *priority, const char *received, const char *records_received,
                 char due[11]);

/* Cases (service.c). `case_json` is a case file (docs/case-file.md) plus optional intake
 * fields: "ur_decision_attached" (bool), "application_signed" (date), "dispute_type"
 * ("medical_necessity" | other), "ur_conditional_noncertification" (bool), "documents". */
int imr_svc_case_create(imr_db *db, const imr_actor *who, const char *case_json, size_t len,
                        const char *now, imr_arena *a, const char **out_json, imr_error *err);
/* The same, and when `with_draft` (administrators only) the engine's draft of its
 * determination too: the engine runs first, then the case, its documents, the draft
 * version, the case's view and both audit entries are committed in ONE transaction (all or
 * nothing). *out_id (may be NULL) receives the new case's id; *out_json is the case as
 * imr_svc_case_get shows it. */
int imr_svc_case_create_draft(imr_db *db, const imr_actor *who, const char *case_json, size_t len,
                              int with_draft, const char *now, imr_arena *a, const char **out_id,
                              const char **out_json, imr_error *err);
int imr_svc_case_get(imr_db *db, const imr_actor *who, const char *case_id, const char *now,
                     imr_arena *a, const char **out_json, imr_error *err);
/* Filters: status, reviewer_id, overdue ("1"), priority, q (case number prefix); limit. */
typedef struct imr_case_filter {
    const char *status, *reviewer_id, *priority, *q;
    int overdue_only;
    int limit, offset;
    const char *sort; /* "due_date" (default, soonest first) or "-due_date" */
} imr_case_filter;
int imr_svc_case_list(imr_db *db, const imr_actor *who, const imr_case_filter *f,
                      const char *now, imr_arena *a, const char **out_json, imr_error *err);
int imr_svc_document_add(imr_db *db, const imr_actor *who, const char *case_id,
                         const char *doc_json, size_t len, const char *now, imr_arena *a,
                         const char **out_json, imr_error *err);
/* Screen eligibility; an ineligible case is closed with a letter saying why. */
int imr_svc_case_screen(imr_db *db, const imr_actor *who, const char *case_id,
                        const char *now, imr_arena *a, const char **out_json, imr_error *err);
/* Assign a reviewer: reviewer_id NULL = automatic (qualified, conflict-free, least
 * loaded); a manual choice needs a reason. */
int imr_svc_case_assign(imr_db *db, const imr_actor *who, const char *case_id,
                        const char *reviewer_id, const char *reason, const char *now,
                        imr_arena *a, const char **out_json, imr_error *err);
/* How every active panel member fits THIS case, before anyone is assigned: each rule of
 * assignment met or not (California licence, years, hours, conflicts with the named
 * parties, same or similar specialty per disputed item, caseload), the reasons in words,
 * whether automatic assignment may choose them and whether a manual choice is allowed, and
 * who automatic assignment would choose now (docs/service.md). Reviewers see only their
 * own row, of their own cases. */
int imr_svc_case_candidates(imr_db *db, const imr_actor *who, const char *case_id,
                            const char *now, imr_arena *a, const char **out_json, imr_error *err);
/* The engine's draft (stored as a new draft version); the reviewer's decisions and edits
 * (`edits_json`: {"items": [{"decision", "rationale", ...}]}); issuing the final letter
 * (attestation required; text, HTML and PDF stored; immutable); corrections as new
 * versions. */
int imr_svc_draft(imr_db *db, const imr_actor *who, const char *case_id, const char *now,
                  imr_arena *a, const char **out_json, imr_error *err);
int imr_svc_decide(imr_db *db, const imr_actor *who, const char *case_id,
                   const char *edits_json, size_t len, const char *now, imr_arena *a,
                   const char **out_json, imr_error *err);
int imr_svc_issue(imr_db *db, const imr_actor *who, const char *case_id,
                  const char *attestation_json, size_t len, const char *now, imr_arena *a,
                  const char **out_json, imr_error *err);
/* A letter of a case: version 0 = newest; format text, html or pdf. */
int imr_svc_letter(imr_db *db, const imr_actor *who, const char *case_id, int version,
                   imr_format format, imr_arena *a, imr_db_value *out, imr_error *err);

/* Reviewer panel (service.c): profile JSON = credentials ("specialties", "subspecialties",
 * "board_certifications", "licensure", "years_in_practice", "hours_per_week",
 * "affiliations": [{"kind", "name"}], "capacity", "credentials_style"). */
int imr_svc_reviewer_put(imr_db *db, const imr_actor *who, const char *reviewer_id,
                         const char *profile_json, size_t len, const char *now, imr_arena *a,
                         const char **out_json, imr_error *err);
int imr_svc_reviewer_list(imr_db *db, const imr_actor *who, imr_arena *a,
                          const char **out_json, imr_error *err);
int imr_svc_audit_list(imr_db *db, const imr_actor *who, const char *entity_id, int limit,
                       imr_arena *a, const char **out_json, imr_error *err);
/* Append an audit entry (inside the caller's transaction). */
int imr_audit(imr_db *db, const imr_actor *who, const char *action, const char *entity,
              const char *entity_id, const char *before_json, const char *after_json,
              const char *now, imr_error *err);

/* Users, sessions and tokens (auth.c). Passwords are hashed with argon2id. */
int imr_auth_user_create(imr_db *db, const imr_actor *who, const char *username,
                         const char *password, imr_role role, const char *reviewer_id,
                         const char *now, imr_arena *a, const char **out_json, imr_error *err);
/* Check a password; on success a new session: *token (to the cookie) and *csrf. */
int imr_auth_login(imr_db *db, const char *username, const char *password, const char *now,
                   imr_arena *a, const char **token, const char **csrf, imr_actor *who,
                   imr_error *err);
int imr_auth_session(imr_db *db, const char *token, const char *now, imr_arena *a,
                     imr_actor *who, const char **csrf, imr_error *err);
int imr_auth_logout(imr_db *db, const char *token, imr_error *err);
/* API bearer tokens: created for a user, valid until `expires` (ISO timestamp). */
int imr_auth_token_create(imr_db *db, const imr_actor *who, const char *user_id,
                          const char *label, const char *expires, const char *now,
                          imr_arena *a, const char **token, imr_error *err);
int imr_auth_bearer(imr_db *db, const char *token, const char *now, imr_arena *a,
                    imr_actor *who, imr_error *err);
/* Users (administrators): {"users": [...]}, never with hashes. API tokens: a user's own
 * (administrators: all) as {"tokens": [...]}; revoke one by its public id (16 hex digits,
 * the start of its hash; your own, or any for administrators). */
int imr_auth_user_list(imr_db *db, const imr_actor *who, imr_arena *a, const char **out_json,
                       imr_error *err);
int imr_auth_token_list(imr_db *db, const imr_actor *who, imr_arena *a, const char **out_json,
                        imr_error *err);
int imr_auth_token_revoke(imr_db *db, const imr_actor *who, const char *token_id,
                          const char *now, imr_error *err);

/* The web service (http.c, api.c): REST API, OpenAPI at /openapi.json, the workbench's
 * static files. Blocks until SIGINT or SIGTERM. */
typedef struct imr_serve_options {
    const char *db_url;    /* SQLite path (default "imr.db") or PostgreSQL URL */
    const char *address;   /* listen address, default "127.0.0.1" */
    int port;              /* default 8080 */
    int threads;           /* worker threads, default the number of cores */
    const char *web_dir;   /* workbench files; default <source>/web */
    int demo;              /* load demonstration data and print the demo logins */
    size_t max_body;       /* request size limit in bytes, default 8 MiB */
} imr_serve_options;
int imr_serve(const imr_serve_options *opt, imr_error *err);
/* Print the service's routes, one "METHOD /path/{param}" line each (as in the OpenAPI). */
void imr_serve_routes(FILE *fp);

#ifdef __cplusplus
}
#endif
#endif /* IMR_H */
