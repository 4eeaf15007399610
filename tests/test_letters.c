/*
 * test_letters.c - the letter parser, the letter layout and the text renderer.
 *
 *   - the five seed letters (IMR_SEEDS_DIR) against the full records written by hand in
 *     tests/letters/seeds/<seed>.json (the items' `treatment` is the request parser's,
 *     so it is filled in from imr_request_parse before comparing);
 *   - the team corpus tests/letters/NAME.txt against the subset in NAME.json;
 *   - the round trip parse -> render text -> parse for every letter: same record, and the
 *     same words as the source once both texts are normalized (see normalize());
 *   - the bad letters of tests/letters/bad/ (NAME.expect: exit status and line);
 *   - re-flow of the PDF artefacts, the 2013 notice, drafts, any organization, wrapping.
 */
#include "support.h"

#include "../src/reflow.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LETTERS_DIR IMR_TESTS_DIR "/letters"

/* ---------------------------------------------------------------- helpers */

/* The comparison of texts of the round trip: drop empty (blank) lines, join a line ending
 * in "-" to the next without a space (others with one), collapse whitespace, trim. */
static char *normalize(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    size_t o = 0;
    const char *p = s, *end = s + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        const char *b = p;
        while (b < e && (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\f'))
            b++;
        const char *t = e;
        while (t > b && (t[-1] == ' ' || t[-1] == '\t' || t[-1] == '\r' || t[-1] == '\f'))
            t--;
        if (t > b) {
            if (o > 0 && out[o - 1] != '-')
                out[o++] = ' ';
            int gap = 0;
            for (const char *q = b; q < t; q++) {
                int sp = *q == ' ' || *q == '\t' || *q == '\r' || *q == '\f';
                if (sp) {
                    gap = 1;
                    continue;
                }
                if (gap)
                    out[o++] = ' ';
                gap = 0;
                out[o++] = *q;
            }
        }
        p = nl ? nl + 1 : end;
    }
    out[o] = '\0';
    return out;
}

static char *to_json(const imr_record *r)
{
    imr_buf b = IMR_BUF_INIT;
    imr_error err = {0};
    assert_int_equal(imr_record_to_json(r, IMR_JSON_PRETTY, &b, &err), 0);
    return b.data;
}

static imr_record *parse_ok(const char *text, const char *where, imr_arena *a)
{
    imr_record *r = NULL;
    imr_error err = {0};
    int st = imr_letter_parse(text, strlen(text), where, a, &r, &err);
    if (st)
        fail_msg("%s: parse failed (%d): %s:%d: %s", where, st, err.where, err.line, err.message);
    return r;
}

static char *render_text(const imr_record *r, int width)
{
    imr_buf b = IMR_BUF_INIT;
    imr_error err = {0};
    int st = imr_render_text(r, width, &b, &err);
    if (st)
        fail_msg("render failed (%d): %s", st, err.message);
    return b.data;
}

/* Show where two normalized texts part. */
static void text_diff(const char *name, const char *x, const char *y)
{
    size_t i = 0;
    while (x[i] && x[i] == y[i])
        i++;
    size_t from = i > 60 ? i - 60 : 0;
    fail_msg("%s: rendered text differs from the source at %zu:\n  source:   ...%.120s\n  rendered: ...%.120s",
             name, i, x + from, y + from);
}

/* parse -> render text -> parse: the same record, the same words. */
static void round_trip(const char *name, const char *text, int width)
{
    imr_arena *a = imr_arena_new();
    imr_record *r1 = parse_ok(text, name, a);
    char *j1 = to_json(r1);
    char *rendered = render_text(r1, width);
    char where[300];
    snprintf(where, sizeof where, "%s (rendered)", name);
    imr_record *r2 = parse_ok(rendered, where, a);
    char *j2 = to_json(r2);
    char diff[600] = "";
    if (!ts_json_equal(j1, j2, diff, sizeof diff))
        fail_msg("%s: the record changes over parse -> render -> parse at %s", name, diff);
    char *n1 = normalize(text), *n2 = normalize(rendered);
    if (strcmp(n1, n2) != 0)
        text_diff(name, n1, n2);
    free(n1);
    free(n2);
    free(j1);
    free(j2);
    free(rendered);
    imr_arena_free(a);
}

/* Clean text in the shape of PDF extraction: every line followed by an empty line,
 * paragraph breaks as lines of one space, a page-break gap after line `gap_after`. */
static char *pdf_shape(const char *clean, int gap_after)
{
    size_t n = strlen(clean);
    char *out = malloc(n * 3 + 64);
    size_t o = 0;
    int line = 0;
    const char *p = clean;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        line++;
        if (len == 0) {
            out[o++] = ' ';
        } else {
            memcpy(out + o, p, len);
            o += len;
            out[o++] = ' ';
        }
        memcpy(out + o, "\n\n", 2);
        o += 2;
        if (line == gap_after) {
            memcpy(out + o, "\n\n\n\n", 4);
            o += 4;
        }
        p = nl ? nl + 1 : p + len;
    }
    out[o] = '\0';
    return out;
}

static json_t *load_json(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j)
        fail_msg("invalid JSON: %s (line %d)", e.text, e.line);
    return j;
}

/* ---------------------------------------------------------------- seeds */

/* The expected record with each item's treatment filled in by the request parser. */
static char *expected_with_treatments(const char *path)
{
    char *text = ts_read(path, NULL);
    if (!text)
        fail_msg("%s is missing: every seed needs its hand-written record", path);
    json_t *exp = load_json(text);
    free(text);
    imr_error e = {0};
    const imr_lexicon *lx = imr_default_lexicon(&e);
    imr_arena *a = imr_arena_new();
    json_t *items = json_object_get(exp, "items");
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        imr_treatment t;
        imr_request_parse(json_string_value(json_object_get(it, "request")), lx, a, &t);
        imr_buf b = IMR_BUF_INIT;
        assert_int_equal(imr_treatment_to_json(&t, IMR_JSON_COMPACT, &b, &e), 0);
        json_object_set_new(it, "treatment", load_json(b.data));
        imr_buf_free(&b);
    }
    imr_arena_free(a);
    char *s = json_dumps(exp, JSON_INDENT(2));
    json_decref(exp);
    return s;
}

static void test_seeds(void **state)
{
    (void)state;
    if (!ts_dir_exists(IMR_SEEDS_DIR)) {
        print_message("seed letters not found at %s: skipping\n", IMR_SEEDS_DIR);
        skip();
    }
    char **names;
    size_t n = ts_list(IMR_SEEDS_DIR, ".txt", &names);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        char path[1024], exp_path[1024];
        snprintf(path, sizeof path, "%s/%s", IMR_SEEDS_DIR, names[i]);
        snprintf(exp_path, sizeof exp_path, "%s/seeds/%.*s.json", LETTERS_DIR, (int)strlen(names[i]) - 4, names[i]);
        size_t len;
        char *text = ts_read(path, &len);
        assert_non_null(text);
        imr_arena *a = imr_arena_new();
        imr_record *r = parse_ok(text, names[i], a);
        char *got = to_json(r), *want = expected_with_treatments(exp_path);
        char diff[600] = "";
        if (!ts_json_equal(want, got, diff, sizeof diff))
            fail_msg("%s: record differs from %s at %s", names[i], exp_path, diff);
        round_trip(names[i], text, 0);
        free(got);
        free(want);
        free(text);
        imr_arena_free(a);
    }
    /* and no hand-written record is left without its seed */
    char **exps;
    size_t ne = ts_list(LETTERS_DIR "/seeds", ".json", &exps);
    assert_int_equal(ne, n);
    ts_list_free(exps, ne);
    ts_list_free(names, n);
}

/* ---------------------------------------------------------------- the corpus */

static void test_corpus(void **state)
{
    (void)state;
    char **names;
    size_t n = ts_list(LETTERS_DIR, ".txt", &names), checked = 0;
    for (size_t i = 0; i < n; i++) {
        char path[1024], exp_path[1024];
        snprintf(path, sizeof path, "%s/%s", LETTERS_DIR, names[i]);
        snprintf(exp_path, sizeof exp_path, "%s/%.*s.json", LETTERS_DIR, (int)strlen(names[i]) - 4, names[i]);
        char *text = ts_read(path, NULL), *want = ts_read(exp_path, NULL);
        assert_non_null(text);
        imr_arena *a = imr_arena_new();
        imr_record *r = parse_ok(text, names[i], a);
        if (want) {
            char *got = to_json(r);
            char diff[600] = "";
            if (!ts_json_subset(want, got, diff, sizeof diff))
                fail_msg("%s: record differs from %s at %s", names[i], exp_path, diff);
            free(got);
            checked++;
        }
        round_trip(names[i], text, 0);
        free(text);
        free(want);
        imr_arena_free(a);
    }
    ts_list_free(names, n);
    if (n == 0) {
        print_message("no corpus letters in %s yet: skipping\n", LETTERS_DIR);
        skip();
    }
    print_message("corpus: %zu letters parsed and round-tripped, %zu checked against their records\n", n, checked);
}

/* ---------------------------------------------------------------- bad letters */

static void test_bad_letters(void **state)
{
    (void)state;
    char **names;
    size_t n = ts_list(LETTERS_DIR "/bad", ".txt", &names);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        char path[1024], exp_path[1024];
        snprintf(path, sizeof path, "%s/bad/%s", LETTERS_DIR, names[i]);
        snprintf(exp_path, sizeof exp_path, "%s/bad/%.*s.expect", LETTERS_DIR, (int)strlen(names[i]) - 4, names[i]);
        size_t len;
        char *text = ts_read(path, &len), *expect = ts_read(exp_path, NULL);
        assert_non_null(text);
        if (!expect)
            fail_msg("%s has no %s", names[i], exp_path);
        int want_status = 0, want_line = 0;
        assert_int_equal(sscanf(expect, "%d %d", &want_status, &want_line), 2);
        imr_arena *a = imr_arena_new();
        imr_record *r = NULL;
        imr_error err = {0};
        int st = imr_letter_parse(text, len, names[i], a, &r, &err);
        if (st != want_status || err.line != want_line)
            fail_msg("%s: expected status %d at line %d, got %d at line %d (%s)", names[i], want_status,
                     want_line, st, err.line, err.message);
        assert_null(r);
        assert_string_equal(err.where, names[i]);
        assert_true(strlen(err.message) > 10);
        imr_arena_free(a);
        free(text);
        free(expect);
    }
    ts_list_free(names, n);
}

/* ---------------------------------------------------------------- re-flow */

static void test_reflow_artefacts(void **state)
{
    (void)state;
    imr_arena *a = imr_arena_new();
    char line[64];
    const char *messy = "   stray  leading\t and  double   spaces  ";
    size_t n = reflow_clean_line(messy, strlen(messy), line);
    assert_int_equal(n, strlen("stray leading and double spaces"));
    assert_memory_equal(line, "stray leading and double spaces", n);
    assert_int_equal(reflow_clean_line("  \t ", 4, line), 0);

    /* PDF shape: a blank line after every line, " " between paragraphs, a page-break gap
     * in the middle of a paragraph, words broken across lines */
    const char *pdf = " First line of the text with flare-\n\nup and a date of 11-11-\n\n2015 then a drug- \n\n"
                      "related  event and\n\n\n\n\n\n\n\nafter the page break.   \n\n \n\nSecond paragraph\n\n\f\n\n"
                      "\fgoes on after a form feed.\n\n \n\n";
    assert_true(reflow_is_pdf_shape(pdf, strlen(pdf)));
    assert_string_equal(reflow_text(pdf, strlen(pdf), a),
                        "First line of the text with flare-up and a date of 11-11-2015 then a drug-related "
                        "event and after the page break.\n\nSecond paragraph goes on after a form feed.");

    /* clean text: an empty line separates paragraphs */
    const char *clean = "One paragraph on\ntwo lines.\n\nAnother, with a hyphen-\nated word.\n";
    assert_false(reflow_is_pdf_shape(clean, strlen(clean)));
    assert_string_equal(reflow_text(clean, strlen(clean), a),
                        "One paragraph on two lines.\n\nAnother, with a hyphen-ated word.");
    assert_string_equal(reflow_text("\n \n", 3, a), "");

    /* the last paragraph can be taken back (an item title after a rationale) */
    char scratch[128];
    reflow rf;
    reflow_init(&rf, scratch, sizeof scratch);
    reflow_add_line(&rf, "rationale text.", 15, 1);
    reflow_break(&rf);
    reflow_add_line(&rf, "A long request", 14, 3);
    reflow_add_line(&rf, "#60: Upheld", 11, 4);
    assert_int_equal(rf.para_line, 3);
    assert_string_equal(reflow_take_last_paragraph(&rf, a), "A long request #60: Upheld");
    assert_string_equal(reflow_take(&rf, a), "rationale text.");
    assert_null(reflow_take(&rf, a));
    imr_arena_free(a);
}

/* ---------------------------------------------------------------- own letters */

/* A 2013 notice, in our own words. */
static const char NOTICE_2013[] =
    "MAXIMUS FEDERAL SERVICES, INC.\n"
    "Independent Medical Review\n"
    "Notice of Independent Medical Review Determination\n"
    "Dated: 10/14/2013\n"
    "\n"
    "Case Number: CM13-0012345\n"
    "Date of Injury: 03/07/2010\n"
    "\n"
    "1. MAXIMUS Federal Services, Inc. has determined the request for lumbar MRI without contrast is\n"
    "not medically necessary and appropriate.\n"
    "2. MAXIMUS Federal Services, Inc. has determined the request for naproxen 550mg #60 is medically\n"
    "necessary and appropriate.\n"
    "\n"
    "INDEPENDENT MEDICAL REVIEW DECISION AND RATIONALE\n"
    "An application for Independent Medical Review was filed on 09/20/2013, disputing the\n"
    "Utilization Review Denial dated 09/12/2013. A Notice of Assignment and Request for\n"
    "Information was sent to the parties on 10/01/2013.\n"
    "\n"
    "1. MAXIMUS Federal Services, Inc. has determined the request for lumbar MRI without contrast is\n"
    "not medically necessary and appropriate.\n"
    "2. MAXIMUS Federal Services, Inc. has determined the request for naproxen 550mg #60 is medically\n"
    "necessary and appropriate.\n"
    "\n"
    "Medical Qualifications of the Expert Reviewer:\n"
    "The physician who reviewed the file has no affiliation with the employer, the employee, the\n"
    "providers or the claims administrator. The physician reviewer is board certified in\n"
    "Occupational Medicine and is licensed to practice in California. The physician reviewer has\n"
    "been in active practice for more than five years and still practices at least 24 hours a week.\n"
    "\n"
    "Case Summary:\n"
    "The summary below comes from the utilization review denial dated 09/12/2013.\n"
    "\n"
    "The patient is a 58 year-old male with a date of injury of 3/7/2010. He reports low back pain\n"
    "without leg symptoms, and his neurologic examination is normal.\n"
    "\n"
    "1) Regarding the request for lumbar MRI without contrast:\n"
    "Medical Treatment Guideline(s) Relied Upon by the Claims Administrator:\n"
    "MTUS ACOEM Low Back Complaints, Chapter 12.\n"
    "Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer:\n"
    "MTUS ACOEM Low Back Complaints, Chapter 12, pages 303-304.\n"
    "Rationale for the Decision:\n"
    "Imaging of the low back is kept for red flags or clear signs of nerve compromise. Neither is\n"
    "documented here, so the MRI is not medically necessary and appropriate.\n"
    "\n"
    "2) Regarding the request for naproxen 550mg #60:\n"
    "Medical Treatment Guideline(s) Relied Upon by the Claims Administrator:\n"
    "MTUS Chronic Pain Medical Treatment Guidelines, NSAIDs.\n"
    "Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer:\n"
    "MTUS Chronic Pain Medical Treatment Guidelines, NSAIDs, page 67.\n"
    "Rationale for the Decision:\n"
    "An anti-inflammatory drug at the lowest effective dose is a first choice for chronic low back\n"
    "pain, and the records show that it lowers the pain and keeps the patient at work. The request\n"
    "is medically necessary and appropriate.\n";

static void check_notice(const imr_record *r)
{
    assert_int_equal(r->layout, IMR_LAYOUT_NOTICE_2013);
    assert_int_equal(r->status, IMR_STATUS_PARSED);
    assert_string_equal(r->organization, "MAXIMUS Federal Services, Inc.");
    assert_string_equal(r->case_number, "CM13-0012345");
    assert_string_equal(r->header.notice_date, "2013-10-14");
    assert_string_equal(r->header.application_received, "2013-09-20");
    assert_string_equal(r->header.ur_denial_date, "2013-09-12");
    assert_string_equal(r->header.noarfi_date, "2013-10-01");
    assert_string_equal(r->date_of_injury, "2010-03-07");
    assert_int_equal(r->claimant.age, 58);
    assert_string_equal(r->claimant.sex, "male");
    assert_int_equal(r->reviewer.specialties.n, 1);
    assert_string_equal(r->reviewer.specialties.v[0], "Occupational Medicine");
    assert_int_equal(r->reviewer.board_certified, 1);
    assert_string_equal(r->reviewer.credentials_text, "The physician reviewer is board certified in Occupational "
                                                      "Medicine and is licensed to practice in California.");
    assert_string_equal(r->clinical_case_summary_intro,
                        "The summary below comes from the utilization review denial dated 09/12/2013.");
    assert_int_equal(r->n_items, 2);
    assert_string_equal(r->items[0].request, "lumbar MRI without contrast");
    assert_int_equal(r->items[0].decision, IMR_DECISION_UPHELD);
    assert_string_equal(r->items[1].request, "naproxen 550mg #60");
    assert_int_equal(r->items[1].decision, IMR_DECISION_OVERTURNED);
    assert_string_equal(r->items[1].reviewer_guideline, "MTUS Chronic Pain Medical Treatment Guidelines, NSAIDs, page 67.");
    assert_string_equal(r->items[0].rationale,
                        "Imaging of the low back is kept for red flags or clear signs of nerve compromise. Neither "
                        "is documented here, so the MRI is not medically necessary and appropriate.");
    assert_null(r->wording.organization_short);
}

static void test_notice_2013(void **state)
{
    (void)state;
    imr_arena *a = imr_arena_new();
    check_notice(parse_ok(NOTICE_2013, "notice", a));
    round_trip("notice", NOTICE_2013, 0);
    /* narrow widths wrap titles such as "1) Regarding the request for" / "<request>:" */
    for (int w = 40; w <= 100; w += 3)
        round_trip("notice (narrow)", NOTICE_2013, w);
    /* the same notice as PDF text gives the same record */
    char *pdf = pdf_shape(NOTICE_2013, 27);
    imr_record *r = parse_ok(pdf, "notice (PDF shape)", a);
    check_notice(r);
    round_trip("notice (PDF shape)", pdf, 0);
    free(pdf);
    /* a repeated determination that does not match is refused */
    char *bad = strdup(NOTICE_2013);
    char *second = strstr(strstr(bad, "INDEPENDENT MEDICAL"), "naproxen 550mg #60");
    memcpy(second, "naproxen 500mg", 14);
    imr_error err = {0};
    assert_int_equal(imr_letter_parse(bad, strlen(bad), "notice", a, &r, &err), IMR_EX_DATAERR);
    assert_int_equal(err.line, 21);
    free(bad);
    imr_arena_free(a);
}

/* A 2013 notice drafted by the engine: an Undetermined item, only the UR denial date. */
static void test_notice_2013_draft(void **state)
{
    (void)state;
    imr_arena *a = imr_arena_new();
    imr_record *d = imr_record_new(a);
    d->layout = IMR_LAYOUT_NOTICE_2013;
    d->status = IMR_STATUS_DRAFT;
    d->header.ur_denial_date = "2013-08-30";
    d->clinical_case_summary = "A 44 year-old female with a date of injury of 8/28/2001 asks for a repeat MRI.";
    imr_item *it = imr_record_add_item(d, a);
    it->request = "repeat MRI of the right shoulder";
    it->decision = IMR_DECISION_UNDETERMINED;
    it->rationale = "The prior MRI report is not in the file.";
    it->undetermined_reason = "The prior imaging cannot be compared.";
    it = imr_record_add_item(d, a);
    it->request = "ibuprofen 800mg #90";
    it->decision = IMR_DECISION_OVERTURNED;
    it->claims_administrator_guideline = "MTUS Chronic Pain Medical Treatment Guidelines, NSAIDs.";
    it->rationale = "Pain relief and function are documented with the drug.";
    char *text = render_text(d, 0);
    assert_non_null(strstr(text, "has not yet determined whether the request for repeat MRI"));
    assert_non_null(strstr(text, "The application disputes the Utilization Review Denial dated 08/30/2013."));
    imr_record *r = parse_ok(text, "2013 draft (rendered)", a);
    assert_int_equal(r->layout, IMR_LAYOUT_NOTICE_2013);
    assert_int_equal(r->status, IMR_STATUS_DRAFT);
    assert_string_equal(r->organization, "MAXIMUS Federal Services, Inc.");
    assert_string_equal(r->header.ur_denial_date, "2013-08-30");
    assert_null(r->header.application_received);
    assert_null(r->header.noarfi_date);
    assert_null(r->case_number);
    assert_string_equal(r->date_of_injury, "2001-08-28");
    assert_int_equal(r->claimant.age, 44);
    assert_string_equal(r->claimant.sex, "female");
    assert_int_equal(r->n_items, 2);
    assert_int_equal(r->items[0].decision, IMR_DECISION_UNDETERMINED);
    assert_string_equal(r->items[0].undetermined_reason, "The prior imaging cannot be compared.");
    assert_null(r->items[0].claims_administrator_guideline);
    assert_int_equal(r->items[1].decision, IMR_DECISION_OVERTURNED);
    assert_string_equal(r->items[1].claims_administrator_guideline, it->claims_administrator_guideline);
    assert_null(r->items[1].reviewer_guideline);
    char *again = render_text(r, 0);
    assert_string_equal(again, text);
    free(again);
    free(text);
    imr_arena_free(a);
}

/* A draft in our own words: banner, a header with two fields per line, lines-style
 * credentials, documents reviewed, an Undetermined item with its missing documents. */
static const char DRAFT_LETTER[] =
    "DRAFT - NOT A FINAL DETERMINATION - PENDING PHYSICIAN REVIEWER ATTESTATION\n"
    "\n"
    "Case Number: CM16-0000042 Date Assigned: 02/01/2016\n"
    "Date of Injury: 06/15/2014 Decision Date: 02/20/2016\n"
    "UR Denial Date: 01/11/2016 Priority: Expedited\n"
    "Application Received: 01/25/2016\n"
    "Employee: [redacted] Employer: Coastal Produce Packing\n"
    "Claim Number: 99-123456\n"
    "\n"
    "HOW THE IMR FINAL DETERMINATION WAS MADE\n"
    "\n"
    "Pacific Peer Review Inc. sent the complete case file to a physician reviewer who has no tie to\n"
    "any party of this dispute. The reviewer has practiced for more than five years and still\n"
    "practices at least 24 hours a week.\n"
    "\n"
    "The Expert Reviewer has the following credentials:\n"
    "State(s) of Licensure: California\n"
    "Certification(s)/Specialty: Internal Medicine, Pain Medicine\n"
    "\n"
    "DOCUMENTS REVIEWED\n"
    "Application for Independent Medical Review, 01/25/2016\n"
    "Utilization review determination, 01/11/2016\n"
    "Progress notes, Valley Spine Clinic, 08/03/2015 to 01/05/2016\n"
    "\n"
    "CLINICAL CASE SUMMARY\n"
    "\n"
    "The reviewer summarized the case file as follows:\n"
    "\n"
    "The worker is a 38 year old man who strained his low back lifting crates. Leg pain began in the\n"
    "fall of 2015 with a flare-\n"
    "up after a long drive.\n"
    "\n"
    "He has tried  physical therapy and medication.\n"
    "\n"
    "IMR DECISION(S) AND RATIONALE(S)\n"
    "\n"
    "Each disputed item was decided as follows:\n"
    "\n"
    "Lumbar epidural steroid injection at L4-5 under fluoroscopic guidance, one injection, as an\n"
    "outpatient: Undetermined\n"
    "\n"
    "Claims Administrator guideline: Decision based on MTUS Chronic Pain Medical Treatment\n"
    "Guidelines, Epidural steroid injections, page 46.\n"
    "\n"
    "PPR guideline: Decision based on MTUS Chronic Pain Medical Treatment Guidelines, Epidural\n"
    "steroid injections (ESIs), page 46.\n"
    "\n"
    "Decision rationale: An injection needs radiculopathy shown on examination and confirmed by\n"
    "imaging or electrodiagnostic testing.\n"
    "\n"
    "The file holds neither, so the criteria cannot be weighed.\n"
    "\n"
    "Documentation that would change the outcome:\n"
    "- An MRI report of the lumbar spine\n"
    "- Examination findings of radiculopathy at L4-5, with the dermatome and the strength and\n"
    "  reflex changes\n"
    "\n"
    "Reason undetermined: The records needed to apply the criteria are missing.\n";

static void test_draft_letter(void **state)
{
    (void)state;
    imr_arena *a = imr_arena_new();
    imr_record *r = parse_ok(DRAFT_LETTER, "draft", a);
    assert_int_equal(r->status, IMR_STATUS_DRAFT);
    assert_string_equal(r->organization, "Pacific Peer Review Inc.");
    assert_string_equal(r->wording.organization_short, "PPR");
    assert_string_equal(r->wording.decisions_heading, "IMR DECISION(S) AND RATIONALE(S)");
    assert_string_equal(r->wording.decisions_intro, "Each disputed item was decided as follows:");
    assert_string_equal(r->case_number, "CM16-0000042");
    assert_string_equal(r->header.date_assigned, "2016-02-01");
    assert_string_equal(r->date_of_injury, "2014-06-15");
    assert_string_equal(r->header.decision_date, "2016-02-20");
    assert_string_equal(r->header.ur_denial_date, "2016-01-11");
    assert_string_equal(r->header.priority, "Expedited");
    assert_string_equal(r->header.application_received, "2016-01-25");
    assert_string_equal(r->header.employee, "[redacted]");
    assert_string_equal(r->header.employer, "Coastal Produce Packing");
    assert_string_equal(r->header.claim_number, "99-123456");
    assert_int_equal(r->reviewer.credentials_style, IMR_CREDENTIALS_LINES);
    assert_int_equal(r->reviewer.specialties.n, 2);
    assert_string_equal(r->reviewer.specialties.v[1], "Pain Medicine");
    assert_int_equal(r->reviewer.board_certified, -1);
    assert_int_equal(r->documents_reviewed.n, 3);
    assert_string_equal(r->documents_reviewed.v[2], "Progress notes, Valley Spine Clinic, 08/03/2015 to 01/05/2016");
    assert_int_equal(r->claimant.age, 38);
    assert_string_equal(r->claimant.sex, "male");
    assert_string_equal(r->clinical_case_summary,
                        "The worker is a 38 year old man who strained his low back lifting crates. Leg pain began in "
                        "the fall of 2015 with a flare-up after a long drive.\n\nHe has tried physical therapy and "
                        "medication.");
    assert_int_equal(r->n_items, 1);
    const imr_item *it = &r->items[0];
    assert_string_equal(it->request, "Lumbar epidural steroid injection at L4-5 under fluoroscopic guidance, one "
                                     "injection, as an outpatient");
    assert_int_equal(it->decision, IMR_DECISION_UNDETERMINED);
    assert_string_equal(it->rationale, "An injection needs radiculopathy shown on examination and confirmed by "
                                       "imaging or electrodiagnostic testing.\n\nThe file holds neither, so the "
                                       "criteria cannot be weighed.");
    assert_int_equal(it->missing_documentation.n, 2);
    assert_string_equal(it->missing_documentation.v[1],
                        "Examination findings of radiculopathy at L4-5, with the dermatome and the strength and "
                        "reflex changes");
    assert_string_equal(it->undetermined_reason, "The records needed to apply the criteria are missing.");
    round_trip("draft", DRAFT_LETTER, 0);
    for (int w = 40; w <= 100; w += 3)
        round_trip("draft (narrow)", DRAFT_LETTER, w);
    char *pdf = pdf_shape(DRAFT_LETTER, 30);
    round_trip("draft (PDF shape)", pdf, 0);
    imr_record *r2 = parse_ok(pdf, "draft (PDF shape)", a);
    char *j1 = to_json(r), *j2 = to_json(r2);
    char diff[600] = "";
    if (!ts_json_equal(j1, j2, diff, sizeof diff))
        fail_msg("clean and PDF-shaped draft differ at %s", diff);
    free(j1);
    free(j2);
    free(pdf);
    /* CRLF line ends read the same */
    size_t n = strlen(DRAFT_LETTER);
    char *crlf = malloc(n * 2 + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (DRAFT_LETTER[i] == '\n')
            crlf[o++] = '\r';
        crlf[o++] = DRAFT_LETTER[i];
    }
    crlf[o] = '\0';
    imr_record *r3 = parse_ok(crlf, "draft (CRLF)", a);
    assert_string_equal(r3->items[0].missing_documentation.v[1], it->missing_documentation.v[1]);
    assert_string_equal(r3->clinical_case_summary, r->clinical_case_summary);
    free(crlf);
    imr_arena_free(a);
}

static int is_decision(const char *w, size_t n)
{
    return (n == 6 && !memcmp(w, "Upheld", 6)) || (n == 10 && !memcmp(w, "Overturned", 10)) ||
           (n == 12 && !memcmp(w, "Undetermined", 12));
}

/* A line longer than the width: the first word that overflows must have been glued to
 * the one before it (after "-", around "<x>: Upheld", before "-" or "2."). */
static void check_overflow(const char *line, size_t len, int width)
{
    size_t ws[64], we[64], k = 0, i = 0;
    while (i < len && k < 64) {
        while (i < len && line[i] == ' ')
            i++;
        ws[k] = i;
        while (i < len && line[i] != ' ')
            i++;
        we[k++] = i;
    }
    for (size_t j = 1; j < k; j++) {
        if ((int)we[j] <= width)
            continue;
        const char *p = line + ws[j - 1], *n = line + ws[j];
        size_t pn = we[j - 1] - ws[j - 1], nn = we[j] - ws[j];
        int glued = p[pn - 1] == '-' || (p[pn - 1] == ':' && is_decision(n, nn)) ||
                    (j >= 2 && line[we[j - 2] - 1] == ':' && is_decision(p, pn)) || (nn == 1 && n[0] == '-') ||
                    (nn >= 2 && (n[nn - 1] == '.' || n[nn - 1] == ')') && n[0] >= '0' && n[0] <= '9');
        if (!glued)
            fail_msg("width %d: line of %zu columns broken late: %.*s", width, len, (int)len, line);
        return;
    }
}

/* A record as the engine drafts it: no wording, no determination method. */
static imr_record *engine_draft(imr_arena *a)
{
    imr_record *r = imr_record_new(a);
    r->status = IMR_STATUS_DRAFT;
    r->case_number = "CM16-0000077";
    r->date_of_injury = "2015-01-05";
    r->header.ur_denial_date = "2016-03-02";
    r->claimant.age = 45;
    r->claimant.sex = "female";
    r->reviewer.credentials_style = IMR_CREDENTIALS_SENTENCE;
    imr_strlist_push(&r->reviewer.specialties, a, "Physical Medicine and Rehabilitation");
    imr_strlist_push(&r->reviewer.subspecialties, a, "Pain Medicine");
    imr_strlist_push(&r->reviewer.licensure, a, "California");
    r->reviewer.board_certified = 1;
    r->clinical_case_summary = "The injured worker is a 45 year old female who fell from a ladder on 1/5/2015.\n\n"
                               "She takes tramadol and reports pain of 6/10 - down from 8/10 - with it.";
    imr_item *it = imr_record_add_item(r, a);
    it->request = "Tramadol ER 100mg #30";
    it->decision = IMR_DECISION_UNDETERMINED;
    it->claims_administrator_guideline = "Decision based on MTUS Chronic Pain Medical Treatment Guidelines, Opioids.";
    it->reviewer_guideline = "Decision based on MTUS Chronic Pain Medical Treatment Guidelines 8 C.C.R. 9792.20 - "
                             "9792.26, Opioids, criteria for use, pages 76-80.";
    it->rationale = "Continued opioid use needs documented pain relief, better function, no aberrant drug-related "
                    "behavior and a signed agreement: Upheld or not depends on the function record.";
    imr_strlist_push(&it->missing_documentation, a, "A record of function before and after tramadol");
    it->undetermined_reason = "Function is not recorded.";
    it = imr_record_add_item(r, a);
    it->request = "Physical therapy 2x6 for the lumbar spine";
    it->decision = IMR_DECISION_UPHELD;
    it->rationale = "Twelve visits exceed the ten the guideline allows for this condition.";
    return r;
}

static void test_engine_draft(void **state)
{
    (void)state;
    imr_arena *a = imr_arena_new();
    imr_record *d = engine_draft(a);
    char *text = render_text(d, 0);
    assert_non_null(strstr(text, "DRAFT - NOT A FINAL DETERMINATION"));
    assert_non_null(strstr(text, "more than five years"));
    imr_record *r = parse_ok(text, "engine draft (rendered)", a);
    assert_int_equal(r->status, IMR_STATUS_DRAFT);
    assert_string_equal(r->organization, "MAXIMUS Federal Services");
    assert_string_equal(r->wording.organization_short, "MAXIMUS");
    assert_string_equal(r->case_number, "CM16-0000077");
    assert_string_equal(r->date_of_injury, "2015-01-05");
    assert_string_equal(r->header.ur_denial_date, "2016-03-02");
    assert_int_equal(r->claimant.age, 45);
    assert_string_equal(r->claimant.sex, "female");
    assert_int_equal(r->reviewer.board_certified, 1);
    assert_string_equal(r->reviewer.specialties.v[0], "Physical Medicine and Rehabilitation");
    assert_string_equal(r->reviewer.subspecialties.v[0], "Pain Medicine");
    assert_string_equal(r->reviewer.licensure.v[0], "California");
    assert_string_equal(r->clinical_case_summary, d->clinical_case_summary);
    assert_non_null(r->clinical_case_summary_intro);
    assert_int_equal(r->n_items, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(r->items[i].request, d->items[i].request);
        assert_int_equal(r->items[i].decision, d->items[i].decision);
        assert_string_equal(r->items[i].rationale, d->items[i].rationale);
    }
    assert_string_equal(r->items[0].reviewer_guideline, d->items[0].reviewer_guideline);
    assert_string_equal(r->items[0].missing_documentation.v[0], d->items[0].missing_documentation.v[0]);
    assert_string_equal(r->items[0].undetermined_reason, d->items[0].undetermined_reason);
    assert_null(r->items[1].claims_administrator_guideline);
    /* what the standard wording wrote is read back, and then written the same */
    char *again = render_text(r, 0);
    assert_string_equal(again, text);
    /* every width keeps the words and the record */
    for (int w = 40; w <= 120; w += 7) {
        char *t = render_text(d, w);
        char *n1 = normalize(t), *n2 = normalize(text);
        assert_string_equal(n1, n2);
        const char *line = t;
        while (*line) {
            const char *nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            /* headings and the banner are one line as written */
            if ((int)len > w && strncmp(line, "DRAFT", 5) != 0 && strncmp(line, "Documentation that", 18) != 0)
                check_overflow(line, len, w);
            line = nl ? nl + 1 : line + len;
        }
        imr_record *rw = parse_ok(t, "engine draft (narrow)", a);
        char *j1 = to_json(r), *j2 = to_json(rw);
        char diff[600] = "";
        if (!ts_json_equal(j1, j2, diff, sizeof diff))
            fail_msg("width %d: record differs at %s", w, diff);
        free(j1);
        free(j2);
        free(n1);
        free(n2);
        free(t);
    }
    free(again);
    free(text);
    imr_arena_free(a);
}

/* ---------------------------------------------------------------- blocks */

static void test_blocks(void **state)
{
    (void)state;
    imr_arena *a = imr_arena_new();
    imr_record *r = parse_ok(DRAFT_LETTER, "draft", a);
    imr_letter_block *b;
    size_t n;
    imr_error err = {0};
    assert_int_equal(imr_letter_blocks(r, a, &b, &n, &err), 0);
    assert_true(n > 20);
    assert_int_equal(b[0].kind, IMR_BLOCK_BANNER);
    assert_int_equal(b[1].kind, IMR_BLOCK_FIELD);
    assert_string_equal(b[1].label, "Case Number");
    assert_string_equal(b[1].text, "CM16-0000042");
    assert_string_equal(b[2].label, "Date Assigned");
    assert_string_equal(b[2].text, "02/01/2016");
    size_t i = 0;
    while (i < n && b[i].kind != IMR_BLOCK_ITEM_TITLE) {
        assert_int_equal(b[i].item, -1);
        i++;
    }
    assert_true(i < n);
    assert_string_equal(b[i].text, "Undetermined");
    assert_int_equal(b[i].item, 0);
    int labeled = 0, list = 0, headings = 0;
    for (; i < n; i++) {
        assert_int_equal(b[i].item, 0);
        labeled += b[i].kind == IMR_BLOCK_LABELED;
        headings += b[i].kind == IMR_BLOCK_HEADING;
        list += b[i].kind == IMR_BLOCK_LIST_ITEM && b[i].label && strcmp(b[i].label, "-") == 0;
        if (b[i].kind == IMR_BLOCK_PARAGRAPH || b[i].kind == IMR_BLOCK_LABELED)
            assert_null(strchr(b[i].text, '\n'));
    }
    assert_int_equal(labeled, 4); /* two guidelines, the rationale, the reason */
    assert_int_equal(list, 2);
    assert_int_equal(headings, 1); /* "Documentation that would change the outcome:" */
    /* a request is required to write an item */
    r->items[0].request = NULL;
    assert_int_equal(imr_letter_blocks(r, a, &b, &n, &err), IMR_EX_DATAERR);
    imr_arena_free(a);
}

/* ---------------------------------------------------------------- pathological input */

static double cpu_seconds(void)
{
    return (double)clock() / CLOCKS_PER_SEC;
}

/* Parse and render `text`, expecting success; returns the CPU seconds taken. */
static double parse_render_time(const char *what, const char *text)
{
    imr_arena *a = imr_arena_new();
    double t0 = cpu_seconds();
    imr_record *r = parse_ok(text, what, a);
    char *out = render_text(r, 0);
    double t = cpu_seconds() - t0;
    print_message("%s: %zu bytes parsed and rendered in %.3f s\n", what, strlen(text), t);
    free(out);
    imr_arena_free(a);
    return t;
}

/* Inputs that would take minutes with a quadratic step: many items, many credential lines,
 * one huge paragraph, one huge line, long runs of blank lines. Each must parse and render;
 * the time is printed, not asserted (speed is measured by the benchmarks, and ctest's time
 * limit stops a quadratic blow-up). */
/* reflow_clean_line, as the rules in reflow.h state them, a byte at a time. */
static size_t clean_line_reference(const char *s, size_t n, char *out)
{
    size_t o = 0;
    int gap = 0;
    for (size_t i = 0; i < n; i++) {
        if (strchr(" \t\r\f\v", s[i]) && s[i]) {
            gap = o > 0;
            continue;
        }
        if (gap)
            out[o++] = ' ';
        gap = 0;
        out[o++] = s[i];
    }
    return o;
}

/* Parse `text`, which must be refused as bad data; the error in *err. */
static void refused_letter(const char *text, size_t len, imr_error *err)
{
    imr_arena *a = imr_arena_new();
    imr_record *r = NULL;
    memset(err, 0, sizeof *err);
    assert_int_equal(imr_letter_parse(text, len, "x.txt", a, &r, err), IMR_EX_DATAERR);
    imr_arena_free(a);
}

/* The line cleaner and the text check read 8 or 16 bytes at a time: every length, with a
 * space pair, a tab or a stray byte at every offset, must give what the byte-at-a-time
 * rules give. */
static void test_block_scanners(void **state)
{
    (void)state;
    static const char *const odd[] = {"  ", "\t", " \f", "\r", "\v", " ", "\xc3\xa9", "-"};
    char src[80], out[80], in_place[80], want[80];
    unsigned seed = 7;
    for (size_t n = 0; n < 70; n++) {
        for (size_t at = 0; at <= n; at++) {
            for (size_t k = 0; k < sizeof odd / sizeof odd[0]; k++) {
                for (size_t i = 0; i < n; i++) { /* words and single spaces */
                    seed = seed * 1103515245u + 12345u;
                    src[i] = (seed >> 16) % 5 == 0 ? ' ' : (char)('a' + (seed >> 16) % 26);
                }
                size_t m = n;
                size_t ol = strlen(odd[k]);
                if (at + ol <= n)
                    memcpy(src + at, odd[k], ol);
                else
                    m = at; /* shorter line */
                size_t w = clean_line_reference(src, m, want);
                assert_int_equal(reflow_clean_line(src, m, out), w);
                assert_memory_equal(out, want, w);
                memcpy(in_place, src, m);
                assert_int_equal(reflow_clean_line(in_place, m, in_place), w);
                assert_memory_equal(in_place, want, w);
            }
        }
    }

    /* a control byte at each offset of a letter is refused at that offset; valid UTF-8 is not */
    const char *letter = "HOW THE IMR FINAL DETERMINATION WAS MADE\n\nHarbor Review sent the complete case file "
                         "to a reviewer.\n\nCLINICAL CASE SUMMARY\n\nA 40 year old man.\n\nIMR ISSUES, "
                         "DECISIONS AND RATIONALES\n\nX: Upheld\n\nDecision rationale: Not needed.\n";
    size_t len = strlen(letter);
    char *text = malloc(len + 4);
    assert_non_null(text);
    imr_error err;
    for (size_t at = 0; at < 48; at++) {
        static const char bad[] = {'\x01', '\x7f', '\0', '\x1b'};
        for (size_t k = 0; k < sizeof bad; k++) {
            memcpy(text, letter, len);
            text[at] = bad[k];
            refused_letter(text, len, &err);
            char expect[64];
            snprintf(expect, sizeof expect, "at offset %zu)", at);
            assert_non_null(strstr(err.message, expect));
        }
        /* "é" (2 bytes) in place of two letters of the first line: the heading is damaged, so
         * the layout is unknown, but the bytes themselves are not refused */
        if (at + 2 <= 40) {
            memcpy(text, letter, len);
            memcpy(text + at, "\xc3\xa9", 2);
            refused_letter(text, len, &err);
            assert_null(strstr(err.message, "binary data"));
            assert_null(strstr(err.message, "UTF-8"));
        }
        /* a cut UTF-8 sequence at each offset is refused as UTF-8 */
        memcpy(text, letter, len);
        text[at] = '\xc3';
        refused_letter(text, len, &err);
        assert_non_null(strstr(err.message, "invalid UTF-8"));
    }
    free(text);
}

static void test_pathological(void **state)
{
    (void)state;
    const char *head = "HOW THE IMR FINAL DETERMINATION WAS MADE\n\nHarbor Review sent the complete case file "
                       "to a reviewer.\n\n";
    const char *summary = "CLINICAL CASE SUMMARY\n\nA 40 year old man.\n\nIMR ISSUES, DECISIONS AND RATIONALES\n\n";
    imr_buf b = IMR_BUF_INIT;

    imr_buf_puts(&b, head);
    imr_buf_puts(&b, summary);
    for (int i = 0; i < 20000; i++)
        imr_buf_printf(&b, "Item %d: Upheld\n\nDecision rationale: Not needed.\n\n", i);
    parse_render_time("20000 items", b.data);

    imr_buf_reset(&b);
    imr_buf_puts(&b, head);
    imr_buf_puts(&b, "The Expert Reviewer has the following credentials:\n");
    for (int i = 0; i < 20000; i++)
        imr_buf_puts(&b, "State(s) of Licensure: Arizona, California\n");
    imr_buf_puts(&b, "\n");
    imr_buf_puts(&b, summary);
    imr_buf_puts(&b, "X: Upheld\n\nDecision rationale: Not needed.\n");
    parse_render_time("20000 credential lines", b.data);

    imr_buf_reset(&b);
    imr_buf_puts(&b, head);
    imr_buf_puts(&b, summary);
    imr_buf_puts(&b, "X: Upheld\n\nDecision rationale:");
    for (int i = 0; i < 40000; i++)
        imr_buf_puts(&b, " words of a very long para-\ngraph that never ends with\n\n\n\n");
    imr_buf_puts(&b, "an end.\n");
    parse_render_time("one paragraph of 40000 lines", b.data);

    imr_buf_reset(&b);
    imr_buf_puts(&b, head);
    imr_buf_puts(&b, summary);
    imr_buf_puts(&b, "X: Upheld\n\nDecision rationale:");
    for (int i = 0; i < 200000; i++)
        imr_buf_puts(&b, " word  ");
    imr_buf_puts(&b, "end.\n");
    parse_render_time("one line of 1.4 MB", b.data);

    imr_buf_reset(&b);
    imr_buf_puts(&b, head);
    for (int i = 0; i < 200000; i++)
        imr_buf_puts(&b, " \n\n");
    imr_buf_puts(&b, summary);
    imr_buf_puts(&b, "X: Upheld\n\nDecision rationale: Not needed.\n");
    parse_render_time("200000 blank lines", b.data);
    imr_buf_free(&b);
}

/* ---------------------------------------------------------------- the command */

static void test_cli(void **state)
{
    (void)state;
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd, "%s parse %s/bad/truncated-mid-items.txt 2>&1", IMR_BINARY, LETTERS_DIR);
    int st = ts_run(cmd, &out);
    assert_int_equal(st, IMR_EX_DATAERR);
    assert_non_null(strstr(out, "truncated-mid-items.txt:35: "));
    free(out);
    if (!ts_dir_exists(IMR_SEEDS_DIR))
        return;
    /* parse | render | parse through the command gives the record again */
    char *direct = NULL, *piped = NULL;
    snprintf(cmd, sizeof cmd, "%s parse --compact %s/003_8d13912140871e79.txt", IMR_BINARY, IMR_SEEDS_DIR);
    assert_int_equal(ts_run(cmd, &direct), 0);
    snprintf(cmd, sizeof cmd, "%s parse %s/003_8d13912140871e79.txt | %s render | %s parse --compact",
             IMR_BINARY, IMR_SEEDS_DIR, IMR_BINARY, IMR_BINARY);
    assert_int_equal(ts_run(cmd, &piped), 0);
    char diff[600] = "";
    if (!ts_json_equal(direct, piped, diff, sizeof diff))
        fail_msg("imr parse | imr render | imr parse differs at %s", diff);
    free(direct);
    free(piped);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reflow_artefacts),
        cmocka_unit_test(test_block_scanners),
        cmocka_unit_test(test_seeds),
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_bad_letters),
        cmocka_unit_test(test_notice_2013),
        cmocka_unit_test(test_notice_2013_draft),
        cmocka_unit_test(test_draft_letter),
        cmocka_unit_test(test_engine_draft),
        cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_pathological),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
