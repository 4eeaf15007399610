/*
 * letter_parse.c - the Final Determination Letter parser: letter text (as pulled out of the
 * published PDFs, with their artefacts, or as `imr render` writes it) into the
 * determination record. Both layouts of docs/letter-layouts.md are read.
 *
 * One linear pass over the lines drives a small state machine (one state per section of
 * the letter). Text is re-flowed (reflow.c) into a scratch area as it comes and copied into
 * the arena once per field, so the cost is a few passes over the bytes whatever the letter.
 * Headings and labels are recognised per line, so a missing paragraph separator in the PDF
 * text cannot hide them. Fields read from the prose (organization, credentials, age, sex,
 * date of injury) are picked out after the pass.
 *
 * Whatever cannot be a letter is refused with IMR_EX_DATAERR naming the line where reading
 * stopped: empty input, binary data, invalid UTF-8, unknown layouts, missing sections,
 * items without a rationale, letters cut short.
 */
#include "reflow.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

typedef enum {
    S_PREAMBLE,    /* banner, header block, 2013 title lines */
    S_METHOD,      /* HOW THE IMR FINAL DETERMINATION WAS MADE (+ credentials lines) */
    S_DOCUMENTS,   /* DOCUMENTS REVIEWED */
    S_SUMMARY,     /* CLINICAL CASE SUMMARY */
    S_DECISIONS,   /* decisions heading and intro, before the first item */
    S_ITEMS,       /* the disputed items (both layouts) */
    S_N13_TOP,     /* 2013: after "Notice of ...": Dated, header, first numbered list */
    S_N13_LIST,    /* 2013: the numbered determinations (first copy) */
    S_N13_PROC,    /* 2013: the procedural paragraph */
    S_N13_REPEAT,  /* 2013: the numbered determinations again */
    S_N13_METHOD,  /* 2013: Medical Qualifications of the Expert Reviewer */
    S_N13_SUMMARY  /* 2013: Case Summary */
} section;

/* What the re-flow buffer is gathering. */
typedef enum {
    T_NONE,
    T_METHOD,
    T_SUMMARY,
    T_DECISIONS_INTRO,
    T_ITEM,         /* the item field in parser.field */
    T_N13_ENTRY,    /* a numbered determination, first copy */
    T_N13_REPEAT,   /* a numbered determination, repeated */
    T_N13_PROC
} target;

typedef enum { F_NONE, F_TITLE, F_CA, F_ORG, F_RATIONALE, F_REASON, F_MISSING } item_field;

typedef struct parser {
    const char *where;
    imr_arena *a;
    imr_error *err;
    imr_record *r;
    const imr_lexicon *lx;
    int pdf;          /* PDF-shaped text: empty lines are noise */
    section sec;
    target tgt;
    reflow rf;
    char *line;       /* the current line, cleaned */
    size_t n;
    int lineno;
    int last_line;    /* last line holding text */
    int unknown_line; /* first unrecognised preamble line */
    int unknown_count;
    char unknown_text[64];
    imr_item *item;
    item_field field;
    int item_line, field_line, saw_rationale;
    int label_paragraph; /* the field's first paragraph is the one its label line opened */
    int entry_line;
    size_t repeated, regarding; /* 2013: entries repeated, items reached */
    char *credentials;          /* lines-style credentials as written (scratch, lazily) */
    size_t credentials_n, text_len;
    char *scratch; /* one malloc'd block for line, rf.buf and credentials: written before
                      read, so not zeroed as arena memory would be; freed at the end */
} parser;

/* ---------------------------------------------------------------- small helpers */

static int fail(parser *p, int line, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int fail(parser *p, int line, const char *fmt, ...)
{
    char msg[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return imr_error_set(p->err, IMR_EX_DATAERR, p->where, line, "%s", msg);
}

static int line_is(const parser *p, const char *s)
{
    size_t k = strlen(s);
    return p->n == k && memcmp(p->line, s, k) == 0;
}

/* The line starts with `label` (case as written); *rest is what follows, trimmed. */
static int line_starts(const parser *p, const char *label, size_t *rest)
{
    size_t k = strlen(label);
    if (p->n < k || memcmp(p->line, label, k) != 0)
        return 0;
    size_t i = k;
    while (i < p->n && p->line[i] == ' ')
        i++;
    *rest = i;
    return 1;
}

/* "<label>:" at the start of the line (label given without its colon). */
static int line_label(const parser *p, const char *label, size_t *rest)
{
    size_t k = strlen(label);
    if (p->n <= k || memcmp(p->line, label, k) != 0 || p->line[k] != ':')
        return 0;
    size_t i = k + 1;
    while (i < p->n && p->line[i] == ' ')
        i++;
    *rest = i;
    return 1;
}

static int ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static int ends_with_ci(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

/* First case-insensitive occurrence of `needle` in s[0..n), or NULL. */
static const char *find_ci(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    if (k == 0 || n < k)
        return NULL;
    int c0 = tolower((unsigned char)needle[0]);
    for (size_t i = 0; i + k <= n; i++)
        if (tolower((unsigned char)s[i]) == c0 && strncasecmp(s + i, needle, k) == 0)
            return s + i;
    return NULL;
}

static const char *find_cs(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    if (k == 0 || n < k)
        return NULL;
    for (const char *q = s; (q = memchr(q, needle[0], n - (size_t)(q - s) - k + 1)) != NULL; q++)
        if (memcmp(q, needle, k) == 0)
            return q;
    return NULL;
}

static const char *dup_trim(parser *p, const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\n'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n'))
        n--;
    return n ? imr_arena_strndup(p->a, s, n) : NULL;
}

/* Push the comma-separated parts of s[0..n) (also split on " and " when `and_too`). */
static void push_list(parser *p, imr_strlist *l, const char *s, size_t n, int and_too)
{
    while (n) {
        size_t cut = n, skip = 0;
        const char *comma = memchr(s, ',', n);
        if (comma) {
            cut = (size_t)(comma - s);
            skip = 1;
        }
        if (and_too) {
            const char *and = find_cs(s, cut, " and ");
            if (and) {
                cut = (size_t)(and - s);
                skip = 5;
            }
        }
        const char *part = dup_trim(p, s, cut);
        if (part)
            imr_strlist_push(l, p->a, part);
        if (cut + skip >= n)
            break;
        s += cut + skip;
        n -= cut + skip;
    }
}

/* "<request>: Upheld" and friends: the decision and the length of the suffix, or 0. */
static size_t title_decision(const char *s, size_t n, imr_decision *d)
{
    static const struct {
        const char *suffix;
        imr_decision decision;
    } T[] = {{": Upheld", IMR_DECISION_UPHELD},
             {": Overturned", IMR_DECISION_OVERTURNED},
             {": Undetermined", IMR_DECISION_UNDETERMINED}};
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++)
        if (ends_with(s, n, T[i].suffix)) {
            *d = T[i].decision;
            return strlen(T[i].suffix);
        }
    return 0;
}

static int is_decisions_heading(const parser *p)
{
    if (p->n < 8 || memcmp(p->line, "IMR ", 4) != 0 || !find_cs(p->line, p->n, "DECISION"))
        return 0;
    for (size_t i = 0; i < p->n; i++)
        if (islower((unsigned char)p->line[i]))
            return 0;
    return 1;
}

static int is_fdl_heading(const parser *p)
{
    return line_is(p, FDL_HOW) || line_is(p, FDL_DOCUMENTS) || line_is(p, FDL_SUMMARY) ||
           is_decisions_heading(p);
}

/* "12. " at the start of the line: returns the offset of the text after it, or 0. */
static size_t numbered(const parser *p, char mark)
{
    size_t i = 0;
    while (i < p->n && i < 3 && isdigit((unsigned char)p->line[i]))
        i++;
    if (i == 0 || i + 1 >= p->n || p->line[i] != mark || p->line[i + 1] != ' ')
        return 0;
    return i + 2;
}

/* ---------------------------------------------------------------- flushing fields */

static void add(parser *p, size_t from)
{
    if (from < p->n)
        reflow_add_line(&p->rf, p->line + from, p->n - from, p->lineno);
}

static void start_item_field(parser *p, item_field f, size_t rest)
{
    p->field = f;
    p->field_line = p->lineno;
    p->label_paragraph = 1;
    add(p, rest);
}

/* A paragraph break in the text. */
static void paragraph_break(parser *p)
{
    if (p->rf.n == 0) /* a label with no text: its paragraph ended empty */
        p->label_paragraph = 0;
    reflow_break(&p->rf);
}

static imr_item *new_item(parser *p, const char *request, imr_decision d)
{
    imr_item *it = imr_record_add_item(p->r, p->a);
    it->request = request;
    it->decision = d;
    imr_request_parse(request, p->lx, p->a, &it->treatment);
    return it;
}

/* A 2013 numbered determination: "<org> has determined the request for <r> is [not] ..." */
static int n13_entry(parser *p, const char *s, int repeated)
{
    size_t n = strlen(s);
    imr_decision d;
    const char *mark = find_cs(s, n, N13_UNDETERMINED);
    size_t mlen = strlen(N13_UNDETERMINED), tail = 0;
    if (mark) {
        d = IMR_DECISION_UNDETERMINED;
        if (ends_with(s, n, N13_NECESSARY))
            tail = strlen(N13_NECESSARY);
    } else if ((mark = find_cs(s, n, N13_DETERMINED)) != NULL) {
        mlen = strlen(N13_DETERMINED);
        if (ends_with(s, n, N13_NOT_NECESSARY)) {
            d = IMR_DECISION_UPHELD;
            tail = strlen(N13_NOT_NECESSARY);
        } else if (ends_with(s, n, N13_NECESSARY)) {
            d = IMR_DECISION_OVERTURNED;
            tail = strlen(N13_NECESSARY);
        }
    }
    const char *req = mark ? mark + mlen : NULL;
    if (!mark || !tail || req >= s + n - tail)
        return fail(p, p->entry_line,
                    "expected a numbered determination \"<organization> has determined the request "
                    "for <request> is [not] medically necessary and appropriate.\"");
    const char *request = dup_trim(p, req, (size_t)(s + n - tail - req));
    if (repeated) {
        size_t k = p->repeated++;
        if (k >= p->r->n_items || strcmp(p->r->items[k].request, request) != 0 ||
            p->r->items[k].decision != d)
            return fail(p, p->entry_line,
                        "determination %zu repeated after " N13_DECISION_HEADING
                        " differs from the one listed first",
                        k + 1);
        return IMR_OK;
    }
    if (!p->r->organization)
        p->r->organization = dup_trim(p, s, (size_t)(mark - s));
    new_item(p, request, d);
    return IMR_OK;
}

/* 2013 procedural paragraph: the application, UR denial and assignment dates. */
static void n13_procedure(parser *p, const char *s)
{
    static const char *const KEYS[] = {"filed on ", "Denial dated ", "parties on "};
    imr_header *h = &p->r->header;
    const char **slots[] = {&h->application_received, &h->ur_denial_date, &h->noarfi_date};
    size_t n = strlen(s);
    for (size_t i = 0; i < 3; i++) {
        const char *at = find_cs(s, n, KEYS[i]);
        char iso[11];
        if (at) {
            at += strlen(KEYS[i]);
            if (imr_date_parse(at, (size_t)(s + n - at), iso))
                *slots[i] = imr_arena_strdup(p->a, iso);
        }
    }
}

/* The summary: its first paragraph is the intro when it announces the summary. */
static void take_summary(parser *p)
{
    reflow *rf = &p->rf;
    if (rf->n == 0)
        return;
    if (rf->paragraphs >= 2 && rf->first_end > 0) {
        const char *first = rf->buf;
        size_t fn = rf->first_end;
        if (first[fn - 1] == ':' || find_ci(first, fn, "summary")) {
            p->r->clinical_case_summary_intro = imr_arena_strndup(p->a, first, fn);
            p->r->clinical_case_summary =
                imr_arena_strndup(p->a, rf->buf + fn + 2, rf->n - fn - 2);
            reflow_clear(rf);
            return;
        }
    }
    p->r->clinical_case_summary = reflow_take(rf, p->a);
}

static int flush_item_field(parser *p)
{
    char *text = reflow_take(&p->rf, p->a);
    imr_item *it = p->item;
    switch (p->field) {
    case F_CA: it->claims_administrator_guideline = text; break;
    case F_ORG: it->reviewer_guideline = text; break;
    case F_RATIONALE:
        it->rationale = text;
        if (!text)
            return fail(p, p->field_line, "the decision rationale of item %zu (\"%s\") is empty",
                        p->r->n_items, it->request);
        break;
    case F_REASON: it->undetermined_reason = text; break;
    case F_MISSING:
        if (text)
            imr_strlist_push(&it->missing_documentation, p->a, text);
        break;
    default: break;
    }
    return IMR_OK;
}

/* Hand the gathered text to its field. */
static int flush(parser *p)
{
    int st = IMR_OK;
    switch (p->tgt) {
    case T_METHOD: {
        char *s = reflow_take(&p->rf, p->a);
        if (s)
            p->r->determination_method = s;
        break;
    }
    case T_SUMMARY: take_summary(p); break;
    case T_DECISIONS_INTRO: {
        char *s = reflow_take(&p->rf, p->a);
        if (s)
            p->r->wording.decisions_intro = s;
        break;
    }
    case T_ITEM: st = flush_item_field(p); break;
    case T_N13_ENTRY:
    case T_N13_REPEAT: {
        char *s = reflow_take(&p->rf, p->a);
        if (s)
            st = n13_entry(p, s, p->tgt == T_N13_REPEAT);
        break;
    }
    case T_N13_PROC: {
        char *s = reflow_take(&p->rf, p->a);
        if (s)
            n13_procedure(p, s);
        break;
    }
    default: reflow_clear(&p->rf); break;
    }
    return st;
}

static void go(parser *p, section s, target t)
{
    p->sec = s;
    p->tgt = t;
}

/* ---------------------------------------------------------------- the header block */

/* Which header label starts at line[i] ("Label:"), or -1. */
static int header_label_at(const parser *p, size_t i, size_t *len)
{
    if (i > 0 && p->line[i - 1] != ' ')
        return -1;
    for (int f = 0; f < HDR_COUNT; f++) {
        size_t k = strlen(LETTER_HEADER_LABELS[f]);
        if (i + k < p->n && p->line[i + k] == ':' && memcmp(p->line + i, LETTER_HEADER_LABELS[f], k) == 0) {
            *len = k + 1;
            return f;
        }
    }
    return -1;
}

static int set_header_field(parser *p, int f, const char *v, size_t vn)
{
    while (vn && v[vn - 1] == ' ')
        vn--;
    if (vn == 0)
        return fail(p, p->lineno, "%s: the field has no value", LETTER_HEADER_LABELS[f]);
    const char **slot = letter_header_slot(p->r, f);
    if (letter_header_is_date(f)) {
        char iso[11];
        if (imr_date_parse(v, vn, iso) != vn)
            return fail(p, p->lineno, "%s: expected a date such as 08/27/2015, found \"%.*s\"",
                        LETTER_HEADER_LABELS[f], (int)(vn > 60 ? 60 : vn), v);
        *slot = imr_arena_strdup(p->a, iso);
    } else {
        *slot = imr_arena_strndup(p->a, v, vn);
    }
    return IMR_OK;
}

/* A header line ("Case Number: CM15-0123456 Date Assigned: 08/27/2015"): 1 when it was
 * one, 0 when not, -1 on a bad value (error set). */
static int header_line(parser *p)
{
    size_t len;
    int f = header_label_at(p, 0, &len);
    if (f < 0)
        return 0;
    size_t vstart = len;
    for (size_t i = len; i <= p->n; i++) {
        size_t nlen = 0;
        int g = i < p->n ? header_label_at(p, i, &nlen) : -2;
        if (g == -1)
            continue;
        while (vstart < i && p->line[vstart] == ' ')
            vstart++;
        if (set_header_field(p, f, p->line + vstart, i - vstart))
            return -1;
        if (g == -2)
            break;
        f = g;
        vstart = i + nlen;
        i += nlen - 1;
    }
    return 1;
}

/* ---------------------------------------------------------------- sections */

static int unknown_layout(parser *p)
{
    return fail(p, p->unknown_line,
                "unknown letter layout: expected \"" FDL_HOW "\" (Final Determination Letter) or \"" N13_NOTICE
                "\" (2013 notice), found \"%s\"",
                p->unknown_text);
}

static int on_preamble(parser *p)
{
    if (line_is(p, FDL_HOW)) {
        if (p->unknown_count)
            return unknown_layout(p);
        go(p, S_METHOD, T_METHOD);
        return IMR_OK;
    }
    if (line_is(p, N13_NOTICE) && p->unknown_count <= 2) {
        p->r->layout = IMR_LAYOUT_NOTICE_2013;
        p->unknown_count = 0;
        go(p, S_N13_TOP, T_NONE);
        return IMR_OK;
    }
    int h = header_line(p);
    if (h)
        return h < 0 ? IMR_EX_DATAERR : IMR_OK;
    if (p->unknown_count++ == 0) {
        p->unknown_line = p->lineno;
        snprintf(p->unknown_text, sizeof p->unknown_text, "%.*s", (int)(p->n > 60 ? 60 : p->n), p->line);
    }
    return p->unknown_count > 3 ? unknown_layout(p) : IMR_OK;
}

/* "State(s) of Licensure: ..." or "Certification(s)/Specialty: ...": the lines are kept
 * as written (joined with "\n") and their comma-separated values listed. */
static void credentials_line(parser *p, imr_strlist *list, size_t rest)
{
    imr_reviewer *rv = &p->r->reviewer;
    rv->credentials_style = IMR_CREDENTIALS_LINES;
    push_list(p, list, p->line + rest, p->n - rest, 0);
    if (!p->credentials)
        p->credentials = p->scratch + 2 * p->text_len + 16;
    if (p->credentials_n)
        p->credentials[p->credentials_n++] = '\n';
    memcpy(p->credentials + p->credentials_n, p->line, p->n);
    p->credentials_n += p->n;
}

static int on_method(parser *p)
{
    size_t rest;
    if (line_is(p, FDL_DOCUMENTS) || line_is(p, FDL_SUMMARY)) {
        int st = flush(p);
        if (line_is(p, FDL_SUMMARY))
            go(p, S_SUMMARY, T_SUMMARY);
        else
            go(p, S_DOCUMENTS, T_NONE);
        return st;
    }
    if (is_decisions_heading(p) || line_is(p, FDL_HOW))
        return fail(p, p->lineno, "expected the " FDL_SUMMARY " section before \"%s\"", p->line);
    if (line_label(p, FDL_LICENSURE, &rest) || line_label(p, FDL_SPECIALTY, &rest)) {
        imr_reviewer *rv = &p->r->reviewer;
        credentials_line(p, p->line[0] == FDL_LICENSURE[0] ? &rv->licensure : &rv->specialties, rest);
        reflow_break(&p->rf);
        return IMR_OK;
    }
    add(p, 0);
    if (ends_with_ci(p->line, p->n, "credentials:"))
        p->r->wording.credentials_intro = reflow_take_last_paragraph(&p->rf, p->a);
    return IMR_OK;
}

static int on_documents(parser *p)
{
    if (line_is(p, FDL_SUMMARY)) {
        go(p, S_SUMMARY, T_SUMMARY);
        return IMR_OK;
    }
    if (is_fdl_heading(p))
        return fail(p, p->lineno, "expected the " FDL_SUMMARY " section before \"%s\"", p->line);
    imr_strlist_push(&p->r->documents_reviewed, p->a, imr_arena_strndup(p->a, p->line, p->n));
    return IMR_OK;
}

/* Summary text; the first paragraph ends at a line ending in ':' (the intro). */
static void summary_line(parser *p, size_t from)
{
    add(p, from);
    if (p->rf.paragraphs == 1 && p->n && p->line[p->n - 1] == ':')
        reflow_break(&p->rf);
}

static int on_summary(parser *p)
{
    if (is_decisions_heading(p)) {
        flush(p);
        p->r->wording.decisions_heading = imr_arena_strndup(p->a, p->line, p->n);
        go(p, S_DECISIONS, T_DECISIONS_INTRO);
        return IMR_OK;
    }
    if (is_fdl_heading(p))
        return fail(p, p->lineno, "unexpected \"%s\" inside the " FDL_SUMMARY " section", p->line);
    summary_line(p, 0);
    return IMR_OK;
}

/* An item title "<request>: <Decision>" just added to the re-flow buffer as the last line
 * of the current paragraph: the whole paragraph is the title. */
static int begin_titled_item(parser *p, size_t suffix, imr_decision d)
{
    int line = p->rf.para_line;
    char *title = reflow_take_last_paragraph(&p->rf, p->a);
    size_t n = title ? strlen(title) : 0;
    int st = flush(p);
    if (st)
        return st;
    const char *request = n > suffix ? dup_trim(p, title, n - suffix) : NULL;
    if (!request)
        return fail(p, line, "disputed item without a request before \"%s\"", p->line);
    p->item = new_item(p, request, d);
    p->item_line = line;
    p->field = F_NONE;
    p->saw_rationale = 0;
    go(p, S_ITEMS, T_ITEM);
    return IMR_OK;
}

/* Does the current paragraph, re-flowed, end like an item title ("...: Upheld")? The
 * paragraph rather than the line, because re-flow may join "<request>:" and "Upheld". The
 * paragraph a label opens ("Decision rationale: ...") is never a title. */
static size_t paragraph_decision(const parser *p, imr_decision *d)
{
    const reflow *rf = &p->rf;
    if (rf->n == 0 || rf->pending_break)
        return 0;
    if (p->tgt == T_ITEM && p->field != F_NONE && p->field != F_MISSING && rf->paragraphs == 1 &&
        p->label_paragraph)
        return 0;
    return title_decision(rf->buf + rf->para_start, rf->n - rf->para_start, d);
}

static int on_decisions(parser *p)
{
    imr_decision d;
    add(p, 0);
    size_t suffix = paragraph_decision(p, &d);
    if (suffix)
        return begin_titled_item(p, suffix, d);
    if (p->line[p->n - 1] == ':')
        reflow_break(&p->rf);
    return IMR_OK;
}

/* The item's labels, per layout; the FDL's reviewer label is "<ORG short> guideline:". */
static int org_guideline_label(parser *p, size_t *rest)
{
    const char *known = p->r->wording.organization_short;
    const char *g = find_cs(p->line, p->n < 100 ? p->n : 100, FDL_ORG_LABEL_SUFFIX ":");
    size_t k = g ? (size_t)(g - p->line) : 0;
    if (!g || k == 0 || memchr(p->line, ':', k))
        return 0;
    if (known ? strlen(known) != k || memcmp(known, p->line, k) != 0
              : k == strlen(FDL_CA_LABEL) && memcmp(p->line, FDL_CA_LABEL, k) == 0)
        return 0;
    if (!known)
        p->r->wording.organization_short = imr_arena_strndup(p->a, p->line, k);
    *rest = (size_t)(g - p->line) + strlen(FDL_ORG_LABEL_SUFFIX) + 1;
    while (*rest < p->n && p->line[*rest] == ' ')
        (*rest)++;
    return 1;
}

static int item_label(parser *p, item_field want, size_t *rest)
{
    int fdl = p->r->layout == IMR_LAYOUT_FDL;
    switch (want) {
    case F_CA: return fdl ? line_label(p, FDL_CA_LABEL, rest) : line_starts(p, N13_CA_LABEL, rest);
    case F_ORG: return fdl ? org_guideline_label(p, rest) : line_starts(p, N13_ORG_LABEL, rest);
    case F_RATIONALE:
        return fdl ? line_label(p, FDL_RATIONALE_LABEL, rest) : line_starts(p, N13_RATIONALE_LABEL, rest);
    case F_REASON: return line_label(p, LETTER_REASON_LABEL, rest);
    case F_MISSING: return line_is(p, LETTER_MISSING_LABEL ":") && (*rest = p->n, 1);
    default: return 0;
    }
}

static int no_rationale(parser *p, int line)
{
    return fail(p, line, "disputed item %zu (\"%s\", line %d) has no rationale",
                (size_t)(p->item - p->r->items) + 1, p->item->request, p->item_line);
}

/* 2013: "1) Regarding the request for <request>:" complete in the re-flow buffer. */
static int n13_title_done(parser *p)
{
    int line = p->rf.para_line;
    char *t = reflow_take(&p->rf, p->a);
    size_t n = t ? strlen(t) : 0;
    const char *request = n > 1 ? dup_trim(p, t, n - 1) : NULL;
    size_t k = p->regarding++;
    if (k >= p->r->n_items)
        return fail(p, line, "item %zu has no numbered determination at the top of the notice", k + 1);
    if (!request || strcmp(request, p->r->items[k].request) != 0)
        return fail(p, line, "the request of item %zu differs from its numbered determination (\"%s\")",
                    k + 1, p->r->items[k].request);
    p->item = &p->r->items[k];
    p->item_line = line;
    p->field = F_NONE;
    p->saw_rationale = 0;
    return IMR_OK;
}

/* "1) Regarding the request for [<request>...]": the offset of the request, or 0. The
 * request may start on the next line. */
static int n13_regarding(parser *p)
{
    size_t off = numbered(p, ')');
    size_t k = strlen(N13_REGARDING);
    if (!off || p->n - off < k || memcmp(p->line + off, N13_REGARDING, k) != 0)
        return 0;
    if (off + k == p->n)
        return (int)p->n;
    return p->line[off + k] == ' ' ? (int)(off + k + 1) : 0;
}

static int on_items(parser *p)
{
    size_t rest = 0;
    int st;
    int fdl = p->r->layout == IMR_LAYOUT_FDL;
    int after_rationale = p->field == F_RATIONALE || p->field == F_REASON || p->field == F_MISSING;
    if (!fdl) {
        int off = n13_regarding(p);
        if (off) {
            if (p->item && !after_rationale)
                return no_rationale(p, p->lineno);
            if ((st = flush(p)))
                return st;
            p->field = F_TITLE;
            add(p, (size_t)off);
            return p->line[p->n - 1] == ':' ? n13_title_done(p) : IMR_OK;
        }
        if (p->field == F_TITLE) {
            add(p, 0);
            return p->line[p->n - 1] == ':' ? n13_title_done(p) : IMR_OK;
        }
    }
    if (is_fdl_heading(p) || line_is(p, N13_DECISION_HEADING) || line_is(p, N13_SUMMARY))
        return fail(p, p->lineno, "unexpected \"%s\" among the disputed items", p->line);
    item_field next = F_NONE;
    if (p->field == F_NONE && item_label(p, F_CA, &rest))
        next = F_CA;
    else if ((p->field == F_NONE || p->field == F_CA) && item_label(p, F_ORG, &rest))
        next = F_ORG;
    else if (p->field <= F_ORG && item_label(p, F_RATIONALE, &rest))
        next = F_RATIONALE;
    else if (after_rationale && p->field != F_REASON && item_label(p, F_REASON, &rest))
        next = F_REASON;
    else if (after_rationale && p->field != F_MISSING && item_label(p, F_MISSING, &rest))
        next = F_MISSING;
    if (next != F_NONE) {
        if ((st = flush(p)))
            return st;
        if (next == F_RATIONALE)
            p->saw_rationale = 1;
        start_item_field(p, next, rest);
        return IMR_OK;
    }
    imr_decision d;
    if (p->field == F_NONE && fdl && title_decision(p->line, p->n, &d))
        return no_rationale(p, p->lineno);
    if (p->field == F_NONE)
        return fail(p, p->lineno, "expected \"%s:\" or \"%s:\" after the title of item %zu, found \"%.60s\"",
                    fdl ? FDL_CA_LABEL : "Medical Treatment Guideline(s) Relied Upon by the Claims Administrator",
                    fdl ? FDL_RATIONALE_LABEL : "Rationale for the Decision", p->r->n_items, p->line);
    if (p->field == F_MISSING && p->n >= 2 && p->line[0] == '-' && p->line[1] == ' ') {
        if ((st = flush(p)))
            return st;
        add(p, 2);
        return IMR_OK;
    }
    add(p, 0);
    size_t suffix = fdl ? paragraph_decision(p, &d) : 0;
    if (suffix) {
        if (!after_rationale)
            return no_rationale(p, p->lineno);
        return begin_titled_item(p, suffix, d);
    }
    return IMR_OK;
}

/* ---------------------------------------------------------------- 2013 sections */

static int on_n13(parser *p)
{
    size_t rest, off;
    int st = IMR_OK;
    switch (p->sec) {
    case S_N13_TOP:
        if (line_label(p, N13_DATED, &rest)) {
            char iso[11];
            if (rest == p->n || imr_date_parse(p->line + rest, p->n - rest, iso) != p->n - rest)
                return fail(p, p->lineno, "Dated: expected a date such as 09/26/2013, found \"%.60s\"",
                            p->line + rest);
            p->r->header.notice_date = imr_arena_strdup(p->a, iso);
            return IMR_OK;
        }
        if ((st = header_line(p)) != 0)
            return st < 0 ? IMR_EX_DATAERR : IMR_OK;
        if ((off = numbered(p, '.')) != 0) {
            go(p, S_N13_LIST, T_N13_ENTRY);
            p->entry_line = p->lineno;
            add(p, off);
            return IMR_OK;
        }
        if (line_is(p, N13_DECISION_HEADING)) {
            go(p, S_N13_PROC, T_N13_PROC);
            return IMR_OK;
        }
        return fail(p, p->lineno, "expected \"Dated:\", a header field or a numbered determination, found \"%.60s\"",
                    p->line);
    case S_N13_LIST:
    case S_N13_REPEAT:
        if ((off = numbered(p, '.')) != 0) {
            st = flush(p);
            p->entry_line = p->lineno;
            add(p, off);
            return st;
        }
        if (p->sec == S_N13_LIST && line_is(p, N13_DECISION_HEADING)) {
            st = flush(p);
            go(p, S_N13_PROC, T_N13_PROC);
            return st;
        }
        if (p->sec == S_N13_REPEAT && line_starts(p, N13_QUALIFICATIONS, &rest)) {
            st = flush(p);
            go(p, S_N13_METHOD, T_METHOD);
            add(p, rest);
            return st;
        }
        add(p, 0);
        return IMR_OK;
    case S_N13_PROC:
        if ((off = numbered(p, '.')) != 0) {
            flush(p);
            go(p, S_N13_REPEAT, T_N13_REPEAT);
            p->entry_line = p->lineno;
            add(p, off);
            return IMR_OK;
        }
        if (line_starts(p, N13_QUALIFICATIONS, &rest)) {
            flush(p);
            go(p, S_N13_METHOD, T_METHOD);
            add(p, rest);
            return IMR_OK;
        }
        add(p, 0);
        return IMR_OK;
    case S_N13_METHOD:
        if (line_starts(p, N13_SUMMARY, &rest)) {
            flush(p);
            go(p, S_N13_SUMMARY, T_SUMMARY);
            summary_line(p, rest);
            return IMR_OK;
        }
        add(p, 0);
        return IMR_OK;
    default: /* S_N13_SUMMARY */
        if (n13_regarding(p)) {
            flush(p);
            go(p, S_ITEMS, T_ITEM);
            p->item = NULL;
            p->field = F_NONE;
            return on_items(p);
        }
        summary_line(p, 0);
        return IMR_OK;
    }
}

static int on_line(parser *p)
{
    switch (p->sec) {
    case S_PREAMBLE: return on_preamble(p);
    case S_METHOD: return on_method(p);
    case S_DOCUMENTS: return on_documents(p);
    case S_SUMMARY: return on_summary(p);
    case S_DECISIONS: return on_decisions(p);
    case S_ITEMS: return on_items(p);
    default: return on_n13(p);
    }
}

/* ---------------------------------------------------------------- prose fields */

/* Bounds of the sentence around s[at]: from after the previous ". " (or a paragraph
 * start) to its closing period, inclusive. */
static void sentence_around(const char *s, size_t n, size_t at, size_t *b, size_t *e)
{
    size_t i = at;
    while (i > 0 && !(i >= 2 && s[i - 1] == ' ' && s[i - 2] == '.') && s[i - 1] != '\n')
        i--;
    *b = i;
    size_t j = at;
    while (j < n && !(s[j] == '.' && (j + 1 == n || s[j + 1] == ' ' || s[j + 1] == '\n')))
        j++;
    *e = j < n ? j + 1 : n;
}

/* "... is Board Certified in X[, has a subspecialty in Y] and is licensed to practice in Z." */
static void credentials_sentence(parser *p, const char *m)
{
    imr_reviewer *rv = &p->r->reviewer;
    size_t n = strlen(m);
    const char *board = find_ci(m, n, CRED_BOARD);
    if (!board)
        board = find_ci(m, n, "board-certified in ");
    const char *lic = find_ci(board ? board : m, n - (size_t)((board ? board : m) - m), "licensed to practice in ");
    if (!board && !lic)
        return;
    size_t b, e;
    sentence_around(m, n, (size_t)((board ? board : lic) - m), &b, &e);
    rv->credentials_text = imr_arena_strndup(p->a, m + b, e - b);
    const char *end = m + e - (e > b && m[e - 1] == '.');
    if (lic && lic >= end)
        lic = NULL;
    if (board) {
        rv->board_certified = 1;
        const char *spec = board + strlen(CRED_BOARD);
        const char *stop = lic ? lic : end;
        const char *sub = find_ci(spec, (size_t)(stop - spec), CRED_SUBSPECIALTY);
        const char *and_is = find_ci(spec, (size_t)(stop - spec), " and is ");
        const char *spec_end = sub ? sub : and_is ? and_is : stop;
        push_list(p, &rv->specialties, spec, (size_t)(spec_end - spec), 0);
        if (sub) {
            const char *s2 = sub + strlen(CRED_SUBSPECIALTY);
            const char *s2_end = and_is && and_is > s2 ? and_is : stop;
            push_list(p, &rv->subspecialties, s2, (size_t)(s2_end - s2), 0);
        }
    }
    if (lic) {
        const char *st = lic + strlen("licensed to practice in ");
        push_list(p, &rv->licensure, st, (size_t)(end - st), 1);
    }
}

static void organization_from_method(parser *p, const char *m)
{
    const char *at = find_cs(m, strlen(m), FDL_SENT_CASE_FILE);
    if (!at)
        return;
    size_t b, e;
    sentence_around(m, strlen(m), (size_t)(at - m), &b, &e);
    p->r->organization = dup_trim(p, m + b, (size_t)(at - m) - b);
}

static int word_is(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    return n == k && strncasecmp(s, w, k) == 0;
}

/* "67 year old male", "49 year-old female", "47-year-old gentleman". */
static void age_and_sex(parser *p, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]) || (i > 0 && isalnum((unsigned char)s[i - 1])))
            continue;
        size_t j = i;
        int age = 0;
        while (j < n && isdigit((unsigned char)s[j]) && j - i < 3)
            age = age * 10 + (s[j++] - '0');
        if (j < n && isdigit((unsigned char)s[j]))
            continue;
        if (j < n && (s[j] == ' ' || s[j] == '-'))
            j++;
        if (j + 4 > n || strncasecmp(s + j, "year", 4) != 0)
            continue;
        j += 4;
        if (j < n && (s[j] == 's' || s[j] == 'S'))
            j++;
        if (j + 4 > n || (s[j] != ' ' && s[j] != '-') || strncasecmp(s + j + 1, "old", 3) != 0)
            continue;
        j += 4;
        if (age > 130)
            return;
        p->r->claimant.age = age;
        while (j < n && (s[j] == ' ' || s[j] == ','))
            j++;
        size_t w = j;
        while (w < n && isalpha((unsigned char)s[w]))
            w++;
        static const char *const MALE[] = {"male", "man", "gentleman", "boy"};
        static const char *const FEMALE[] = {"female", "woman", "lady", "girl"};
        for (size_t k = 0; k < 4; k++) {
            if (word_is(s + j, w - j, MALE[k]))
                p->r->claimant.sex = "male";
            if (word_is(s + j, w - j, FEMALE[k]))
                p->r->claimant.sex = "female";
        }
        return;
    }
}

/* The first date after "injury on", "injured on", "date of injury (of)", "DOI". */
static void date_of_injury(parser *p, const char *s)
{
    static const char *const KEYS[] = {"injury on", "injured on", "date of injury", "doi"};
    size_t n = strlen(s);
    for (size_t i = 0; i + 2 < n; i++) {
        char c = (char)(s[i] | 0x20), c2 = (char)(s[i + 1] | 0x20);
        if (!(c == 'i' && c2 == 'n') && !(c == 'd' && (c2 == 'a' || c2 == 'o')))
            continue;
        for (size_t k = 0; k < sizeof KEYS / sizeof KEYS[0]; k++) {
            size_t kl = strlen(KEYS[k]);
            if (i + kl > n || strncasecmp(s + i, KEYS[k], kl) != 0)
                continue;
            if ((i > 0 && isalpha((unsigned char)s[i - 1])) || (i + kl < n && isalpha((unsigned char)s[i + kl])))
                continue;
            size_t j = i + kl;
            for (;;) {
                while (j < n && (s[j] == ' ' || s[j] == ':' || s[j] == '(' || s[j] == ','))
                    j++;
                if (j + 3 <= n && (strncasecmp(s + j, "of ", 3) == 0 || strncasecmp(s + j, "on ", 3) == 0))
                    j += 3;
                else if (j + 9 <= n && strncasecmp(s + j, "or about ", 9) == 0)
                    j += 9;
                else
                    break;
            }
            char iso[11];
            if (j < n && imr_date_parse(s + j, n - j, iso)) {
                p->r->date_of_injury = imr_arena_strdup(p->a, iso);
                return;
            }
        }
    }
}

/* ---------------------------------------------------------------- the end */

static int sentence_ends(const char *s)
{
    size_t n = strlen(s);
    unsigned char c = n ? (unsigned char)s[n - 1] : 0;
    return c == '.' || c == '!' || c == '?' || c == ')' || c == '"' || c == '\'' || c == ']' || c >= 0x80;
}

static int finish(parser *p)
{
    int st = flush(p);
    if (st)
        return st;
    int last = p->last_line;
    int fdl = p->r->layout == IMR_LAYOUT_FDL;
    switch (p->sec) {
    case S_PREAMBLE:
        if (p->unknown_count)
            return unknown_layout(p);
        return fail(p, last, "the letter has a header but no body: expected \"" FDL_HOW "\"");
    case S_METHOD:
    case S_DOCUMENTS:
    case S_N13_TOP:
    case S_N13_LIST:
    case S_N13_PROC:
    case S_N13_REPEAT:
    case S_N13_METHOD:
        return fail(p, last, "the letter ends before its %s section (truncated?)",
                    fdl ? FDL_SUMMARY : "\"" N13_SUMMARY "\"");
    case S_SUMMARY:
    case S_N13_SUMMARY:
        return fail(p, last, "the letter ends before its decisions (%s; truncated?)",
                    fdl ? "expected \"" FDL_DECISIONS "\"" : "expected \"1) Regarding the request for ...:\"");
    case S_DECISIONS:
        return fail(p, last, "the decisions section holds no disputed item (expected \"<request>: Upheld\" "
                             "or \"<request>: Overturned\")");
    default: break;
    }
    if (!p->saw_rationale || p->field == F_TITLE)
        return fail(p, last, "the letter ends inside disputed item %zu (\"%s\", line %d) before its rationale",
                    p->item ? (size_t)(p->item - p->r->items) + 1 : p->r->n_items,
                    p->item ? p->item->request : "", p->item_line);
    if (!fdl && p->regarding < p->r->n_items)
        return fail(p, last, "the letter ends before the rationale of item %zu (\"%s\")", p->regarding + 1,
                    p->r->items[p->regarding].request);
    const char *tail = p->field == F_REASON ? p->item->undetermined_reason : p->item->rationale;
    if (p->field != F_MISSING && tail && !sentence_ends(tail))
        return fail(p, last, "the letter ends in mid-sentence in item %zu (\"%s\"): truncated?",
                    (size_t)(p->item - p->r->items) + 1, p->item->request);
    return IMR_OK;
}

static void prose_fields(parser *p)
{
    imr_record *r = p->r;
    if (p->credentials)
        r->reviewer.credentials_text = imr_arena_strndup(p->a, p->credentials, p->credentials_n);
    else if (r->determination_method)
        credentials_sentence(p, r->determination_method);
    if (r->layout == IMR_LAYOUT_FDL && r->determination_method)
        organization_from_method(p, r->determination_method);
    if (r->clinical_case_summary) {
        age_and_sex(p, r->clinical_case_summary);
        if (!r->date_of_injury)
            date_of_injury(p, r->clinical_case_summary);
    }
}

/* ASCII bytes that are not letter text: controls other than whitespace, and DEL. */
static const unsigned char BINARY[128] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1,
                                          1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                          [127] = 1};

/* Refuse what is not text: NUL and other control bytes, invalid UTF-8. One pass; ASCII
 * text goes sixteen bytes at a time with SSE2, else eight. */
static int check_text(const char *text, size_t len, const char *where, imr_error *err)
{
    const uint64_t high = 0x8080808080808080ull, ones = 0x0101010101010101ull;
    size_t i = 0;
    while (i < len) {
#ifdef __SSE2__
        if (i + 16 <= len) {
            /* sixteen bytes: flag controls other than \t \n \v \f \r, DEL and bytes >= 0x80
             * (signed, those are below 0x20 too) and jump to the first flagged one */
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(text + i));
            __m128i ctl = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
            __m128i ws = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(8)), _mm_cmplt_epi8(v, _mm_set1_epi8(14)));
            __m128i bad = _mm_or_si128(_mm_andnot_si128(ws, ctl), _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
            unsigned m = (unsigned)_mm_movemask_epi8(bad);
            if (!m) {
                i += 16;
                continue;
            }
            i += (size_t)__builtin_ctz(m); /* reported or read as UTF-8 below */
        } else
#endif
        if (i + 8 <= len) {
            uint64_t v;
            memcpy(&v, text + i, 8);
            /* no byte >= 0x80, none < 0x20 (bar the usual whitespace, checked below), no DEL */
            uint64_t low = (v - ones * 0x20) & ~v & high, del = ((v ^ ones * 0x7f) - ones) & ~(v ^ ones * 0x7f) & high;
            if (!(v & high)) {
                if (!low && !del) {
                    i += 8;
                    continue;
                }
                /* ASCII with a newline or tab in it: look at those eight bytes alone */
                size_t k = 0;
                while (k < 8 && !BINARY[(unsigned char)text[i + k]])
                    k++;
                if (k == 8) {
                    i += 8;
                    continue;
                }
                i += k; /* at the refused byte: reported below */
            }
        }
        unsigned char c = (unsigned char)text[i];
        if (c < 0x80 && !BINARY[c]) {
            i++;
            continue;
        }
        if (c < 0x80)
            return imr_error_set(err, IMR_EX_DATAERR, where, imr_line_of(text, i),
                                 "binary data (byte 0x%02X at offset %zu) where letter text was expected",
                                 c, i);
        size_t e = i; /* a run of non-ASCII bytes holds whole UTF-8 sequences */
        while (e < len && (unsigned char)text[e] >= 0x80)
            e++;
        size_t bad = 0;
        if (!imr_utf8_valid(text + i, e - i, &bad))
            return imr_error_set(err, IMR_EX_DATAERR, where, imr_line_of(text, i + bad),
                                 "invalid UTF-8 (byte 0x%02X at offset %zu): letters must be UTF-8 text",
                                 (unsigned char)text[i + bad], i + bad);
        i = e;
    }
    for (size_t k = 0; k < len; k++)
        if (text[k] != ' ' && text[k] != '\n' && text[k] != '\t' && text[k] != '\r' && text[k] != '\f' &&
            text[k] != '\v')
            return IMR_OK;
    return imr_error_set(err, IMR_EX_DATAERR, where, 1, "the letter is empty");
}

int imr_letter_parse(const char *text, size_t len, const char *where, imr_arena *a,
                     imr_record **out, imr_error *err)
{
    if (!where)
        where = "<letter>";
    if (!text)
        len = 0;
    int st = check_text(text ? text : "", len, where, err);
    if (st)
        return st;
    imr_error lerr = {0};
    parser p = {0};
    p.where = where;
    p.a = a;
    p.err = err;
    p.r = imr_record_new(a);
    p.lx = imr_default_lexicon(&lerr);
    p.pdf = reflow_is_pdf_shape(text, len);
    /* scratch: the cleaned line (len + 1), the re-flow area (len + 8), credentials (len + 1) */
    if (len > (SIZE_MAX - 32) / 3 || !(p.scratch = malloc(3 * len + 32)))
        return imr_error_set(err, IMR_EX_SOFTWARE, where, 0, "out of memory for a %zu-byte letter", len);
    p.line = p.scratch;
    p.text_len = len;
    reflow_init(&p.rf, p.scratch + len + 8, len + 8);

    const char *s = text, *end = text + len;
    for (p.lineno = 1; s < end && st == IMR_OK; p.lineno++) {
        const char *line = s, *nl = reflow_next_newline(s, end);
        size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
        s = nl ? nl + 1 : end;
        if (n && line[n - 1] == '\r')
            n--;
        p.n = n ? reflow_clean_line(line, n, p.line) : 0; /* half the lines of PDF text are empty */
        p.line[p.n] = '\0'; /* messages print it */
        if (p.n == 0) {
            /* a paragraph break; in PDF-shaped text only a line of spaces is one */
            if (!p.pdf || reflow_line_kind(line, n) == 1)
                paragraph_break(&p);
            continue;
        }
        if (line_is(&p, LETTER_BANNER)) {
            p.r->status = IMR_STATUS_DRAFT;
            continue;
        }
        st = on_line(&p);
        p.last_line = p.lineno;
    }
    if (st == IMR_OK)
        st = finish(&p);
    if (st == IMR_OK)
        prose_fields(&p);
    free(p.scratch);
    if (st)
        return st;
    *out = p.r;
    return IMR_OK;
}
