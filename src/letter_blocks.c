/*
 * letter_blocks.c - the layout of a letter: a determination record as the sequence of
 * blocks (title lines, fields, headings, paragraphs, item titles, labelled paragraphs) that
 * every renderer walks, so that text, HTML and PDF carry the same words in the same order
 * and all parse back to the same record (docs/letter-layouts.md, docs/letters.md).
 *
 * How renderers write each kind (labels never include their colon):
 *   TITLE, BANNER, HEADING, PARAGRAPH  text
 *   FIELD, LABELED                     label ": " text
 *   ITEM_TITLE                         label ":" and, when text is set, " " text
 *   LIST_ITEM                          label " " text, or text alone when label is NULL
 *                                      (a line kept as is, e.g. a document reviewed)
 *
 * A parsed letter carries its own variable wording (determination method, intros,
 * headings); when a draft or final record leaves one NULL, the standard wording is used,
 * and the determination method is a standard paragraph built from the reviewer fields.
 */
#include "reflow.h"

#include <stdarg.h>
#include <string.h>

typedef struct layout {
    const imr_record *r;
    imr_arena *a;
    imr_letter_block *v;
    size_t n, cap;
    int standard; /* absent wording gets the standard text (records not read from a letter) */
} layout;

static void put(layout *l, imr_block_kind kind, const char *label, const char *text, int item)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        imr_letter_block *v = imr_arena_alloc(l->a, cap * sizeof *v);
        if (l->n)
            memcpy(v, l->v, l->n * sizeof *v);
        l->v = v;
        l->cap = cap;
    }
    imr_letter_block *b = &l->v[l->n++];
    b->kind = kind;
    b->label = label;
    b->text = text;
    b->item = item;
}

/* Split `text` into paragraphs (separated by blank lines; single newlines become spaces):
 * the first becomes a `first` block with `label`, the others PARAGRAPH blocks. An empty
 * text still gives the labelled block, with empty text, when there is a label. */
static void paragraphs(layout *l, imr_block_kind first, const char *label, const char *text, int item)
{
    const char *s = text ? text : "";
    size_t n = strlen(s), i = 0;
    int count = 0;
    while (i < n) {
        size_t b = i, e = i;
        /* a paragraph ends at a newline followed by a blank line */
        for (;;) {
            const char *nl = memchr(s + e, '\n', n - e);
            if (!nl) {
                e = n;
                break;
            }
            e = (size_t)(nl - s);
            size_t k = e + 1;
            while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r'))
                k++;
            if (k >= n || s[k] == '\n')
                break;
            e++;
        }
        char *p = imr_arena_strndup(l->a, s + b, e - b);
        for (char *q = memchr(p, '\n', e - b); q; q = memchr(q + 1, '\n', e - b - (size_t)(q + 1 - p)))
            *q = ' ';
        p[reflow_clean_line(p, e - b, p)] = '\0';
        if (*p) {
            put(l, count ? IMR_BLOCK_PARAGRAPH : first, count ? NULL : label, p, item);
            count++;
        }
        i = e;
        while (i < n && (s[i] == '\n' || s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
            i++;
    }
    if (count == 0 && label)
        put(l, first, label, "", item);
}

/* The strings given (up to a NULL) one after the other, in the arena: the letter's fixed
 * sentences are long, and this copies them once where printf would scan them twice. */
static const char *concat(imr_arena *a, ...)
{
    va_list ap;
    size_t n = 0;
    va_start(ap, a);
    for (const char *p = va_arg(ap, const char *); p; p = va_arg(ap, const char *))
        n += strlen(p);
    va_end(ap);
    char *out = imr_arena_alloc(a, n + 1), *w = out;
    va_start(ap, a);
    for (const char *p = va_arg(ap, const char *); p; p = va_arg(ap, const char *)) {
        size_t k = strlen(p);
        memcpy(w, p, k);
        w += k;
    }
    va_end(ap);
    *w = '\0';
    return out;
}

/* "a", "a and b", "a, b and c" */
static const char *join_and(layout *l, const imr_strlist *s, const char *sep, const char *last)
{
    imr_buf b = IMR_BUF_INIT;
    for (size_t i = 0; i < s->n; i++) {
        if (i)
            imr_buf_puts(&b, i + 1 == s->n ? last : sep);
        imr_buf_puts(&b, s->v[i]);
    }
    const char *out = imr_arena_strdup(l->a, b.data ? b.data : "");
    imr_buf_free(&b);
    return out;
}

static const char *letter_date(layout *l, const char *iso)
{
    if (!iso || !imr_date_valid_iso(iso))
        return iso;
    /* a valid ISO date is "YYYY-MM-DD": MM/DD/YYYY */
    char *d = imr_arena_alloc(l->a, 11);
    memcpy(d, iso + 5, 2);
    d[2] = '/';
    memcpy(d + 3, iso + 8, 2);
    d[5] = '/';
    memcpy(d + 6, iso, 4);
    return d;
}

static const char *organization(const layout *l)
{
    if (l->r->organization)
        return l->r->organization;
    return l->r->layout == IMR_LAYOUT_NOTICE_2013 ? DEFAULT_ORGANIZATION_2013 : DEFAULT_ORGANIZATION;
}

/* The label of the reviewer's guideline: the wording's, else the organization's first word. */
static const char *organization_short(layout *l)
{
    if (l->r->wording.organization_short)
        return l->r->wording.organization_short;
    const char *org = organization(l);
    const char *sp = strchr(org, ' ');
    return sp ? imr_arena_strndup(l->a, org, (size_t)(sp - org)) : org;
}

/* Wording kept from the source letter, or the standard wording when the record was not
 * read from a letter (NULL there means "absent"). */
static const char *wording(const layout *l, const char *kept, const char *standard)
{
    return kept ? kept : l->standard ? standard : NULL;
}

/* ---------------------------------------------------------------- the reviewer */

/* The credentials sentence built from the reviewer fields (sentence style). */
static const char *credentials_sentence(layout *l)
{
    const imr_reviewer *rv = &l->r->reviewer;
    if (rv->credentials_text)
        return rv->credentials_text;
    const char *states = rv->licensure.n ? join_and(l, &rv->licensure, ", ", " and ") : "California";
    if (rv->specialties.n == 0)
        return concat(l->a, "The expert reviewer is licensed to practice in ", states, ".", (char *)NULL);
    const char *spec = join_and(l, &rv->specialties, ", ", ", ");
    const char *sub = rv->subspecialties.n ? join_and(l, &rv->subspecialties, ", ", ", ") : NULL;
    return concat(l->a, "The expert reviewer is ", rv->board_certified == 0 ? "a physician in " : CRED_BOARD,
                  spec, sub ? CRED_SUBSPECIALTY : "", sub ? sub : "", CRED_LICENSED, states, ".", (char *)NULL);
}

/* The standard determination-method paragraph, in our own words, for records that were
 * not read from a letter. It states who sent the case file, the reviewer's independence,
 * qualifications, practice and selection, and the evidence standard applied. */
static const char *standard_method(layout *l)
{
    const char *cred = l->r->reviewer.credentials_style == IMR_CREDENTIALS_SENTENCE
                           ? concat(l->a, " ", credentials_sentence(l), (char *)NULL)
                           : "";
    return concat(
        l->a, organization(l),
        FDL_SENT_CASE_FILE " to an expert reviewer for this Independent Medical Review. The "
        "reviewer is not affiliated with the employer, the employee, the providers or the claims "
        "administrator.", cred, " The reviewer has practiced medicine actively for more than five years and "
        "still practices at least 24 hours each week. The reviewer was chosen for clinical experience, "
        "education, background and expertise in the same or a similar specialty as the physicians who "
        "evaluate and treat this condition and the disputed items or services, and knows the laws and "
        "regulations that govern this review, including the ranking of medical evidence by its "
        "strength that Independent Medical Review applies.",
        (char *)NULL);
}

#define STANDARD_SUMMARY_INTRO                                                                    \
    "The expert reviewer drew up the following clinical summary from a review of the whole case " \
    "file and its medical records:"

static void credentials_lines(layout *l)
{
    const imr_reviewer *rv = &l->r->reviewer;
    const char *intro = wording(l, l->r->wording.credentials_intro, FDL_CREDENTIALS_INTRO);
    if (intro)
        put(l, IMR_BLOCK_PARAGRAPH, NULL, intro, -1);
    if (!rv->credentials_text) {
        put(l, IMR_BLOCK_FIELD, FDL_LICENSURE, join_and(l, &rv->licensure, ", ", ", "), -1);
        put(l, IMR_BLOCK_FIELD, FDL_SPECIALTY, join_and(l, &rv->specialties, ", ", ", "), -1);
        return;
    }
    /* the lines as written: "Label: value" each */
    const char *s = rv->credentials_text;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        const char *colon = memchr(s, ':', n);
        if (colon) {
            const char *v = colon + 1;
            while (*v == ' ' && v < s + n)
                v++;
            put(l, IMR_BLOCK_FIELD, imr_arena_strndup(l->a, s, (size_t)(colon - s)),
                imr_arena_strndup(l->a, v, (size_t)(s + n - v)), -1);
        } else if (n) {
            put(l, IMR_BLOCK_PARAGRAPH, NULL, imr_arena_strndup(l->a, s, n), -1);
        }
        s += n + (nl != NULL);
    }
}

/* ---------------------------------------------------------------- the parts */

/* The header block, written when any of its fields (other than the date of injury, which
 * the summary may carry) is set; the date of injury is then always written in it. */
static void header_fields(layout *l, int notice)
{
    int any = 0;
    for (int f = 0; f < HDR_COUNT; f++)
        if (f != HDR_DATE_OF_INJURY && letter_header_value(l->r, f) &&
            !(notice && (f == HDR_UR_DENIAL_DATE || f == HDR_APPLICATION_RECEIVED)))
            any = 1;
    if (!any)
        return;
    for (int f = 0; f < HDR_COUNT; f++) {
        /* the 2013 notice gives these two in its procedural paragraph instead */
        if (notice && (f == HDR_UR_DENIAL_DATE || f == HDR_APPLICATION_RECEIVED))
            continue;
        const char *v = letter_header_value(l->r, f);
        if (v)
            put(l, IMR_BLOCK_FIELD, LETTER_HEADER_LABELS[f], letter_header_is_date(f) ? letter_date(l, v) : v, -1);
    }
}

static void summary(layout *l)
{
    const char *intro = l->r->clinical_case_summary_intro;
    if (!intro && l->standard)
        intro = STANDARD_SUMMARY_INTRO;
    if (intro)
        put(l, IMR_BLOCK_PARAGRAPH, NULL, intro, -1);
    paragraphs(l, IMR_BLOCK_PARAGRAPH, NULL, l->r->clinical_case_summary, -1);
}

static void method(layout *l)
{
    paragraphs(l, IMR_BLOCK_PARAGRAPH, NULL,
               l->r->determination_method ? l->r->determination_method : standard_method(l), -1);
}

/* Draft extras after an item's rationale. */
static void item_extras(layout *l, const imr_item *it, int i)
{
    if (it->missing_documentation.n) {
        put(l, IMR_BLOCK_HEADING, NULL, LETTER_MISSING_LABEL ":", i);
        for (size_t k = 0; k < it->missing_documentation.n; k++)
            put(l, IMR_BLOCK_LIST_ITEM, "-", it->missing_documentation.v[k], i);
    }
    if (it->undetermined_reason)
        paragraphs(l, IMR_BLOCK_LABELED, LETTER_REASON_LABEL, it->undetermined_reason, i);
}

static void fdl(layout *l)
{
    const imr_record *r = l->r;
    header_fields(l, 0);
    put(l, IMR_BLOCK_HEADING, NULL, FDL_HOW, -1);
    method(l);
    if (r->reviewer.credentials_style == IMR_CREDENTIALS_LINES)
        credentials_lines(l);
    if (r->documents_reviewed.n) {
        put(l, IMR_BLOCK_HEADING, NULL, FDL_DOCUMENTS, -1);
        for (size_t k = 0; k < r->documents_reviewed.n; k++)
            put(l, IMR_BLOCK_LIST_ITEM, NULL, r->documents_reviewed.v[k], -1);
    }
    put(l, IMR_BLOCK_HEADING, NULL, FDL_SUMMARY, -1);
    summary(l);
    put(l, IMR_BLOCK_HEADING, NULL, r->wording.decisions_heading ? r->wording.decisions_heading : FDL_DECISIONS, -1);
    const char *intro = wording(l, r->wording.decisions_intro, FDL_DECISIONS_INTRO);
    if (intro)
        put(l, IMR_BLOCK_PARAGRAPH, NULL, intro, -1);
    const char *org_label = concat(l->a, organization_short(l), FDL_ORG_LABEL_SUFFIX, (char *)NULL);
    for (size_t k = 0; k < r->n_items; k++) {
        const imr_item *it = &r->items[k];
        int i = (int)k;
        put(l, IMR_BLOCK_ITEM_TITLE, it->request ? it->request : "", imr_decision_name(it->decision), i);
        if (it->claims_administrator_guideline)
            paragraphs(l, IMR_BLOCK_LABELED, FDL_CA_LABEL, it->claims_administrator_guideline, i);
        if (it->reviewer_guideline)
            paragraphs(l, IMR_BLOCK_LABELED, org_label, it->reviewer_guideline, i);
        paragraphs(l, IMR_BLOCK_LABELED, FDL_RATIONALE_LABEL, it->rationale, i);
        item_extras(l, it, i);
    }
}

/* ---------------------------------------------------------------- the 2013 notice */

static const char *upper(layout *l, const char *s)
{
    char *u = imr_arena_strdup(l->a, s);
    for (char *p = u; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    return u;
}

static void n13_determinations(layout *l)
{
    for (size_t k = 0; k < l->r->n_items; k++) {
        const imr_item *it = &l->r->items[k];
        const char *text;
        if (it->decision == IMR_DECISION_UNDETERMINED)
            text = imr_arena_printf(l->a, "%s" N13_UNDETERMINED "%s" N13_NECESSARY, organization(l), it->request);
        else
            text = imr_arena_printf(l->a, "%s" N13_DETERMINED "%s%s", organization(l), it->request,
                                    it->decision == IMR_DECISION_UPHELD ? N13_NOT_NECESSARY : N13_NECESSARY);
        put(l, IMR_BLOCK_LIST_ITEM, imr_arena_printf(l->a, "%zu.", k + 1), text, (int)k);
    }
}

static void n13_procedure(layout *l)
{
    const imr_header *h = &l->r->header;
    imr_buf b = IMR_BUF_INIT;
    if (h->application_received) {
        imr_buf_printf(&b, N13_FILED "%s", letter_date(l, h->application_received));
        if (h->ur_denial_date)
            imr_buf_printf(&b, N13_DISPUTING "%s", letter_date(l, h->ur_denial_date));
        imr_buf_putc(&b, '.');
    } else if (h->ur_denial_date) {
        imr_buf_printf(&b, N13_DISPUTES "%s.", letter_date(l, h->ur_denial_date));
    }
    if (h->noarfi_date)
        imr_buf_printf(&b, "%s" N13_NOARFI "%s.", b.len ? " " : "", letter_date(l, h->noarfi_date));
    if (b.len)
        put(l, IMR_BLOCK_PARAGRAPH, NULL, imr_arena_strdup(l->a, b.data), -1);
    imr_buf_free(&b);
}

static void notice_2013(layout *l)
{
    const imr_record *r = l->r;
    put(l, IMR_BLOCK_TITLE, NULL, upper(l, organization(l)), -1);
    put(l, IMR_BLOCK_TITLE, NULL, N13_SERVICE, -1);
    put(l, IMR_BLOCK_TITLE, NULL, N13_NOTICE, -1);
    if (r->header.notice_date)
        put(l, IMR_BLOCK_FIELD, N13_DATED, letter_date(l, r->header.notice_date), -1);
    header_fields(l, 1);
    n13_determinations(l);
    put(l, IMR_BLOCK_HEADING, NULL, N13_DECISION_HEADING, -1);
    n13_procedure(l);
    n13_determinations(l);
    put(l, IMR_BLOCK_HEADING, NULL, N13_QUALIFICATIONS, -1);
    method(l);
    put(l, IMR_BLOCK_HEADING, NULL, N13_SUMMARY, -1);
    summary(l);
    for (size_t k = 0; k < r->n_items; k++) {
        const imr_item *it = &r->items[k];
        int i = (int)k;
        put(l, IMR_BLOCK_ITEM_TITLE, imr_arena_printf(l->a, "%zu) " N13_REGARDING " %s", k + 1, it->request), NULL, i);
        if (it->claims_administrator_guideline) {
            put(l, IMR_BLOCK_HEADING, NULL, N13_CA_LABEL, i);
            paragraphs(l, IMR_BLOCK_PARAGRAPH, NULL, it->claims_administrator_guideline, i);
        }
        if (it->reviewer_guideline) {
            put(l, IMR_BLOCK_HEADING, NULL, N13_ORG_LABEL, i);
            paragraphs(l, IMR_BLOCK_PARAGRAPH, NULL, it->reviewer_guideline, i);
        }
        put(l, IMR_BLOCK_HEADING, NULL, N13_RATIONALE_LABEL, i);
        paragraphs(l, IMR_BLOCK_PARAGRAPH, NULL, it->rationale, i);
        item_extras(l, it, i);
    }
}

int imr_letter_blocks(const imr_record *r, imr_arena *a, imr_letter_block **out, size_t *n,
                      imr_error *err)
{
    if (!r || !a || !out || !n)
        return imr_error_set(err, IMR_EX_SOFTWARE, "letter", 0, "imr_letter_blocks: missing argument");
    for (size_t k = 0; k < r->n_items; k++)
        if (!r->items[k].request || !r->items[k].request[0])
            return imr_error_set(err, IMR_EX_DATAERR, NULL, 0,
                                 "$.items[%zu].request: a disputed item needs its request to be written", k);
    layout l = {r, a, NULL, 0, 0, r->status != IMR_STATUS_PARSED};
    if (r->status == IMR_STATUS_DRAFT)
        put(&l, IMR_BLOCK_BANNER, NULL, LETTER_BANNER, -1);
    if (r->layout == IMR_LAYOUT_NOTICE_2013)
        notice_2013(&l);
    else
        fdl(&l);
    *out = l.v;
    *n = l.n;
    return IMR_OK;
}
