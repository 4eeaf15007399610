/*
 * reflow.h - private helpers of the letter parser (and its tests): cleaning the lines of
 * text pulled out of PDFs and re-flowing them into paragraphs. Not part of the public API.
 *
 * The rules, written once here and followed by the parser, the renderers and the tests:
 *   - a line is trimmed and every run of spaces or tabs inside it becomes one space;
 *   - lines of one paragraph are joined with one space, except that a line ending in "-"
 *     is joined to the next without a space ("flare-" + "up" -> "flare-up");
 *   - paragraphs are joined with "\n\n".
 * In PDF-shaped text (a blank line after every line) empty lines are noise and only lines
 * holding spaces separate paragraphs; in clean text an empty line separates paragraphs.
 */
#ifndef IMR_REFLOW_H
#define IMR_REFLOW_H

#include "imr.h"

#include <string.h>

/* Write `s` trimmed, with inner whitespace runs collapsed to one space, to `out` (room for
 * `n` bytes is enough; `out` may be `s` itself, any other overlap is not allowed) and return
 * the new length. Form feeds and CRs count as spaces. */
size_t reflow_clean_line(const char *s, size_t n, char *out);

/* The next '\n' in [p, end), or NULL: memchr without the call for the empty lines that are
 * half of PDF-extracted text. */
static inline const char *reflow_next_newline(const char *p, const char *end)
{
    if (p < end && *p == '\n')
        return p;
    return memchr(p, '\n', (size_t)(end - p));
}

/* A line (without its '\n'): 0 empty (or form feeds only: a page break), 1 spaces only
 * (a paragraph break in PDF-shaped text), 2 text. */
int reflow_line_kind(const char *s, size_t n);

/* 1 when the text has the shape of PDF extraction: lines of spaces separate paragraphs and
 * (almost) every text line is followed by an empty line. */
int reflow_is_pdf_shape(const char *s, size_t n);

/* A text being re-flowed. Its storage is a scratch area given by the caller, large enough
 * for the whole input (re-flowed text is never longer than its source). */
typedef struct reflow {
    char *buf;
    size_t n, cap;
    size_t para_mark;  /* length before the current paragraph (and its separator) */
    size_t para_start; /* offset of the current paragraph's first byte */
    size_t first_end;  /* end of the first paragraph, or 0 while there is one */
    int para_line;     /* source line of the current paragraph's first line */
    int para_lines;    /* lines in the current paragraph */
    int paragraphs;    /* paragraphs so far */
    int pending_break; /* a paragraph break was seen after the last text */
} reflow;

void reflow_init(reflow *r, char *scratch, size_t cap);
/* Forget the text (the scratch area is kept). */
void reflow_clear(reflow *r);
/* Add one cleaned line (see reflow_clean_line) read at source line `line`. */
void reflow_add_line(reflow *r, const char *s, size_t n, int line);
/* A paragraph break: the next line starts a new paragraph. */
void reflow_break(reflow *r);
/* Copy the text into `a` (NULL when empty) and clear. */
char *reflow_take(reflow *r, imr_arena *a);
/* Remove the current (last) paragraph from the text and return it, copied into `a`. */
char *reflow_take_last_paragraph(reflow *r, imr_arena *a);
/* Whole-text helper: re-flow `s` (PDF-shaped or clean, detected) into paragraphs joined
 * with "\n\n", in `a`. Returns "" for a text without words. */
char *reflow_text(const char *s, size_t n, imr_arena *a);

/* ---------------------------------------------------------------------------------------
 * The fixed wording of the two layouts (docs/letter-layouts.md), shared by the parser and
 * the layout so that what one writes the other reads.
 * ------------------------------------------------------------------------------------- */
#define LETTER_BANNER "DRAFT - NOT A FINAL DETERMINATION - PENDING PHYSICIAN REVIEWER ATTESTATION"
#define FDL_HOW "HOW THE IMR FINAL DETERMINATION WAS MADE"
#define FDL_DOCUMENTS "DOCUMENTS REVIEWED"
#define FDL_SUMMARY "CLINICAL CASE SUMMARY"
#define FDL_DECISIONS "IMR ISSUES, DECISIONS AND RATIONALES"
#define FDL_DECISIONS_INTRO \
    "The Final Determination was based on decisions for the disputed items/services set forth below:"
#define FDL_CREDENTIALS_INTRO "The Expert Reviewer has the following credentials:"
#define FDL_LICENSURE "State(s) of Licensure"
#define FDL_SPECIALTY "Certification(s)/Specialty"
#define FDL_CA_LABEL "Claims Administrator guideline"
#define FDL_ORG_LABEL_SUFFIX " guideline"
#define FDL_RATIONALE_LABEL "Decision rationale"
#define FDL_SENT_CASE_FILE " sent the complete case file"
#define LETTER_MISSING_LABEL "Documentation that would change the outcome"
#define LETTER_REASON_LABEL "Reason undetermined"
#define CRED_BOARD "Board Certified in "
#define CRED_SUBSPECIALTY ", has a subspecialty in "
#define CRED_LICENSED " and is licensed to practice in "

#define N13_SERVICE "Independent Medical Review"
#define N13_NOTICE "Notice of Independent Medical Review Determination"
#define N13_DATED "Dated"
#define N13_DECISION_HEADING "INDEPENDENT MEDICAL REVIEW DECISION AND RATIONALE"
#define N13_QUALIFICATIONS "Medical Qualifications of the Expert Reviewer:"
#define N13_SUMMARY "Case Summary:"
#define N13_REGARDING "Regarding the request for" /* after "1) " */
#define N13_CA_LABEL "Medical Treatment Guideline(s) Relied Upon by the Claims Administrator:"
#define N13_ORG_LABEL "Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer:"
#define N13_RATIONALE_LABEL "Rationale for the Decision:"
#define N13_DETERMINED " has determined the request for "
#define N13_UNDETERMINED " has not yet determined whether the request for "
#define N13_NOT_NECESSARY " is not medically necessary and appropriate."
#define N13_NECESSARY " is medically necessary and appropriate."
#define N13_FILED "An application for Independent Medical Review was filed on "
#define N13_DISPUTING ", disputing the Utilization Review Denial dated "
#define N13_DISPUTES "The application disputes the Utilization Review Denial dated "
#define N13_NOARFI "A Notice of Assignment and Request for Information was sent to the parties on "

#define DEFAULT_ORGANIZATION "MAXIMUS Federal Services"
#define DEFAULT_ORGANIZATION_2013 "MAXIMUS Federal Services, Inc."

/* The header block, in rendering order. Labels are written without their colon. */
enum {
    HDR_CASE_NUMBER,
    HDR_DATE_ASSIGNED,
    HDR_DATE_OF_INJURY,
    HDR_DECISION_DATE,
    HDR_UR_DENIAL_DATE,
    HDR_PRIORITY,
    HDR_APPLICATION_RECEIVED,
    HDR_EMPLOYEE,
    HDR_EMPLOYER,
    HDR_CLAIM_NUMBER,
    HDR_COUNT
};
extern const char *const LETTER_HEADER_LABELS[HDR_COUNT];
/* 1 when the field holds a date (ISO in the record, MM/DD/YYYY in letters). */
int letter_header_is_date(int field);
/* The record's slot for a header field. */
const char **letter_header_slot(imr_record *r, int field);
const char *letter_header_value(const imr_record *r, int field);

#endif
