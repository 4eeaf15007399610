/*
 * test_render.c - HTML and PDF letters, and reading PDFs back.
 *
 * HTML: escaping of every text field, each item's request and decision, the draft banner
 * exactly for drafts, criteria tables, self-containment, and well-formedness (a small tag
 * balancer below). PDF: the file itself (header, metadata, fonts, margins, "Page N of M"
 * on every page), bad PDFs (empty, damaged, encrypted, no text), and the round trip: a
 * letter parsed from text, typeset as PDF, read back with imr_pdf_text and parsed again
 * gives the same record, for the seeds, the team's corpus (the .txt letters of tests/letters/) and the
 * committed PDFs of tests/letters/pdf/ with their expected records.
 */
#include "support.h"

#include <cairo-pdf.h>
#include <ctype.h>
#include <poppler.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EVIL "<script>alert('x&y')</script> \"q\" <b>"

/* ---- records built by hand ----------------------------------------------------------- */

static imr_strlist one(imr_arena *a, const char *s)
{
    imr_strlist l = {0};
    imr_strlist_push(&l, a, s);
    return l;
}

/* A record with `t` in every text field the letter can show. */
static imr_record *record_with_text(imr_arena *a, const char *t, imr_record_status status,
                                    imr_layout layout, size_t n_items)
{
    imr_record *r = imr_record_new(a);
    r->layout = layout;
    r->status = status;
    r->case_number = imr_arena_printf(a, "CM15-01%s", t);
    r->organization = t;
    r->header = (imr_header){.priority = t, .employee = t, .employer = t, .claim_number = t};
    r->determination_method = imr_arena_printf(a, "%s sent the complete case file to an expert reviewer.", t);
    r->reviewer.credentials_text = t;
    r->reviewer.credentials_style = IMR_CREDENTIALS_LINES;
    r->reviewer.specialties = one(a, t);
    r->reviewer.licensure = one(a, t);
    r->claimant.age = 51;
    r->date_of_injury = "2010-04-05";
    r->documents_reviewed = one(a, t);
    r->clinical_case_summary_intro = t;
    r->clinical_case_summary = imr_arena_printf(a, "Summary %s.", t);
    r->wording = (imr_letter_wording){t, t, t, t};
    for (size_t i = 0; i < n_items; i++) {
        imr_item *it = imr_record_add_item(r, a);
        it->request = imr_arena_printf(a, "Request %zu %s", i + 1, t);
        it->decision = (imr_decision)(i % 3);
        it->ur_decision = t;
        it->claims_administrator_guideline = t;
        it->reviewer_guideline = t;
        it->rationale = imr_arena_printf(a, "Rationale %zu %s", i + 1, t);
        if (status == IMR_STATUS_DRAFT) {
            it->missing_documentation = one(a, t);
            if (it->decision == IMR_DECISION_UNDETERMINED)
                it->undetermined_reason = t;
        }
        it->criteria = imr_arena_alloc(a, sizeof *it->criteria);
        it->n_criteria = 1;
        it->criteria[0].id = "test.criterion";
        it->criteria[0].text = imr_arena_printf(a, "Criterion %s", t);
        it->criteria[0].status = IMR_CRITERION_NOT_MET;
        it->criteria[0].evidence = imr_arena_alloc(a, sizeof(imr_evidence));
        it->criteria[0].n_evidence = 1;
        it->criteria[0].evidence[0] = (imr_evidence){"clinical_summary", 0, 5, t};
    }
    return r;
}

/* Plain wording, long enough to fill several pages when there are many items. */
static const char *SENTENCES[] = {
    "The injured worker reported ongoing low back pain radiating to the left leg, rated "
    "six to seven out of ten without medication and four out of ten with it.",
    "Progress notes over the last six months describe the same findings at each visit, with "
    "tenderness of the lumbar paraspinal muscles and a reduced range of motion.",
    "There is no record of a signed pain agreement, of urine drug screens, or of a "
    "measured improvement in walking, sitting or sleeping attributed to the medication.",
    "The guideline supports continued use only when pain and function improve and when "
    "the prescriber documents the four domains of ongoing monitoring at every visit.",
};

static char *prose(imr_arena *a, size_t sentences, size_t seed)
{
    imr_buf b = IMR_BUF_INIT;
    for (size_t i = 0; i < sentences; i++) {
        if (i)
            imr_buf_putc(&b, ' ');
        imr_buf_puts(&b, SENTENCES[(seed + i) % 4]);
    }
    char *s = imr_arena_strdup(a, b.data);
    imr_buf_free(&b);
    return s;
}

static imr_record *long_record(imr_arena *a, size_t n_items, imr_record_status status)
{
    imr_record *r = imr_record_new(a);
    r->status = status;
    r->case_number = "CM15-0999001";
    r->organization = "MAXIMUS Federal Services";
    r->determination_method = prose(a, 3, 1);
    r->reviewer.credentials_style = IMR_CREDENTIALS_LINES;
    r->reviewer.specialties = one(a, "Family Practice");
    r->reviewer.licensure = one(a, "California");
    r->claimant.age = 58;
    r->claimant.sex = "female";
    r->date_of_injury = "2011-06-14";
    r->clinical_case_summary = prose(a, 9, 0);
    for (size_t i = 0; i < n_items; i++) {
        imr_item *it = imr_record_add_item(r, a);
        it->request = imr_arena_printf(a, "Physical therapy 2x%zu for the lumbar spine", i + 3);
        it->decision = i % 2 ? IMR_DECISION_OVERTURNED : IMR_DECISION_UPHELD;
        it->claims_administrator_guideline = "Decision based on MTUS Chronic Pain Medical Treatment "
                                             "Guidelines Physical Medicine Page(s): 98-99.";
        it->reviewer_guideline = "Decision based on MTUS Chronic Pain Medical Treatment Guidelines "
                                 "Physical Medicine Page(s): 98-99.";
        it->rationale = prose(a, 4 + i % 5, i);
    }
    return r;
}

/* ---- small HTML checks --------------------------------------------------------------- */

static int is_void_element(const char *name)
{
    static const char *v[] = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "area", "base", "source"};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!strcmp(name, v[i]))
            return 1;
    return 0;
}

/* Text between tags: no '<' or '>', and '&' only as an entity. */
static int text_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '>' || s[i] == '<')
            return 0;
        if (s[i] == '&') {
            size_t k = i + 1;
            if (k < n && s[k] == '#')
                k++;
            size_t start = k;
            while (k < n && isalnum((unsigned char)s[k]))
                k++;
            if (k == start || k >= n || s[k] != ';')
                return 0;
        }
    }
    return 1;
}

/* A tiny well-formedness check: every tag closes in order, attribute values are quoted,
 * text holds no raw markup. Returns NULL when fine, else what went wrong. */
static const char *html_check(const char *h, char *why, size_t wn)
{
    char stack[64][16];
    int depth = 0;
    const char *p = h;
    while (*p) {
        const char *lt = strchr(p, '<');
        size_t tn = lt ? (size_t)(lt - p) : strlen(p);
        if (!text_ok(p, tn)) {
            snprintf(why, wn, "raw markup in text near \"%.40s\"", p);
            return why;
        }
        if (!lt)
            break;
        p = lt + 1;
        if (!strncmp(p, "!--", 3)) {
            const char *e = strstr(p, "-->");
            if (!e)
                return "unterminated comment";
            p = e + 3;
            continue;
        }
        if (!strncmp(p, "!DOCTYPE html>", 14)) {
            p += 14;
            continue;
        }
        int closing = *p == '/';
        if (closing)
            p++;
        char name[16];
        size_t nl = 0;
        while (isalnum((unsigned char)*p) && nl < sizeof name - 1)
            name[nl++] = (char)tolower((unsigned char)*p++);
        name[nl] = '\0';
        if (!nl) {
            snprintf(why, wn, "bad tag near \"%.40s\"", lt);
            return why;
        }
        while (*p && *p != '>') { /* attributes: name or name="value" */
            if (*p == ' ' || *p == '\n') {
                p++;
                continue;
            }
            if (*p == '/' && p[1] == '>') {
                p++;
                continue;
            }
            while (isalnum((unsigned char)*p) || *p == '-')
                p++;
            if (*p == '=') {
                if (p[1] != '"') {
                    snprintf(why, wn, "unquoted attribute in <%s>", name);
                    return why;
                }
                const char *q = strchr(p + 2, '"');
                if (!q || memchr(p + 2, '<', (size_t)(q - p - 2))) {
                    snprintf(why, wn, "bad attribute value in <%s>", name);
                    return why;
                }
                p = q + 1;
            } else if (*p && *p != '>' && *p != ' ' && *p != '/') {
                snprintf(why, wn, "bad attribute in <%s> near \"%.20s\"", name, p);
                return why;
            }
        }
        if (!*p)
            return "unterminated tag";
        p++;
        if (closing) {
            if (depth == 0 || strcmp(stack[depth - 1], name)) {
                snprintf(why, wn, "</%s> closes <%s>", name, depth ? stack[depth - 1] : "nothing");
                return why;
            }
            depth--;
        } else if (!is_void_element(name)) {
            if (depth == 64)
                return "nesting too deep";
            snprintf(stack[depth++], sizeof stack[0], "%s", name);
            if (!strcmp(name, "style")) { /* raw text up to </style> */
                const char *e = strstr(p, "</style>");
                if (!e || memchr(p, '<', (size_t)(e - p)))
                    return "bad <style> element";
                p = e;
            }
        }
    }
    if (depth) {
        snprintf(why, wn, "<%s> never closed", stack[depth - 1]);
        return why;
    }
    return NULL;
}

static void assert_well_formed(const char *html, const char *name)
{
    char why[200];
    const char *bad = html_check(html, why, sizeof why);
    if (bad)
        fail_msg("%s: HTML not well formed: %s", name, bad);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* The text as the page must show it. */
static char *escaped(const char *s)
{
    imr_buf b = IMR_BUF_INIT;
    for (; *s; s++) {
        switch (*s) {
        case '&': imr_buf_puts(&b, "&amp;"); break;
        case '<': imr_buf_puts(&b, "&lt;"); break;
        case '>': imr_buf_puts(&b, "&gt;"); break;
        case '"': imr_buf_puts(&b, "&quot;"); break;
        case '\'': imr_buf_puts(&b, "&#39;"); break;
        default: imr_buf_putc(&b, *s);
        }
    }
    if (!b.data)
        imr_buf_puts(&b, "");
    return b.data;
}

static char *html_of(const imr_record *r)
{
    imr_buf out = IMR_BUF_INIT;
    imr_error err = {0};
    int st = imr_render_html(r, &out, &err);
    if (st)
        fail_msg("imr_render_html: %s: %s", err.where, err.message);
    return out.data;
}

/* ---- HTML tests ---------------------------------------------------------------------- */

static void html_escapes_every_field(void **state)
{
    (void)state;
    static const imr_layout layouts[] = {IMR_LAYOUT_FDL, IMR_LAYOUT_NOTICE_2013};
    static const imr_record_status statuses[] = {IMR_STATUS_PARSED, IMR_STATUS_DRAFT, IMR_STATUS_FINAL};
    for (size_t l = 0; l < 2; l++)
        for (size_t s = 0; s < 3; s++) {
            imr_arena *a = imr_arena_new();
            imr_record *r = record_with_text(a, EVIL, statuses[s], layouts[l], 3);
            char *html = html_of(r);
            assert_null(strstr(html, "<script"));
            assert_null(strstr(html, "<b>"));
            assert_null(strstr(html, "'x&y'"));
            assert_null(strstr(html, "\"q\""));
            char *want = escaped(EVIL);
            assert_non_null(strstr(html, want)); /* the text is there, escaped */
            free(want);
            assert_well_formed(html, "hand-built record");
            free(html);
            imr_arena_free(a);
        }
}

static void html_is_a_self_contained_printable_page(void **state)
{
    (void)state;
    imr_arena *a = imr_arena_new();
    imr_record *r = long_record(a, 3, IMR_STATUS_PARSED);
    char *html = html_of(r);
    assert_true(!strncmp(html, "<!DOCTYPE html>", 15));
    assert_non_null(strstr(html, "<html lang=\"en\">"));
    assert_non_null(strstr(html, "<meta charset=\"utf-8\">"));
    assert_non_null(strstr(html, "<title>CM15-0999001</title>"));
    assert_non_null(strstr(html, "@page{size:Letter;margin:1in}"));
    assert_non_null(strstr(html, "@media print"));
    assert_int_equal(count(html, "<h1>"), 1);
    assert_true(count(html, "<h2>") >= 2);
    assert_true(count(html, "<section") >= 3);
    /* nothing fetched, nothing run */
    static const char *never[] = {"<script", "<link", "src=", "href=", "url(", "@import", "http:", "https:"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        if (strstr(html, never[i]))
            fail_msg("the page holds \"%s\"", never[i]);
    assert_well_formed(html, "long record");
    free(html);
    /* no case number: the title says what the page is */
    r->case_number = NULL;
    html = html_of(r);
    assert_non_null(strstr(html, "<title>Final Determination Letter</title>"));
    free(html);
    imr_arena_free(a);
}

static void html_shows_every_item_and_decision(void **state)
{
    (void)state;
    imr_arena *a = imr_arena_new();
    imr_record *r = record_with_text(a, "& <co> \"x\"", IMR_STATUS_PARSED, IMR_LAYOUT_FDL, 7);
    char *html = html_of(r);
    for (size_t i = 0; i < r->n_items; i++) {
        char *req = escaped(r->items[i].request);
        if (!strstr(html, req))
            fail_msg("item %zu's request \"%s\" is missing", i, req);
        free(req);
    }
    size_t want[3] = {0};
    for (size_t i = 0; i < r->n_items; i++)
        want[r->items[i].decision]++;
    assert_int_equal(count(html, "<span class=\"decision upheld\">Upheld</span>"), want[IMR_DECISION_UPHELD]);
    assert_int_equal(count(html, "<span class=\"decision overturned\">Overturned</span>"),
                     want[IMR_DECISION_OVERTURNED]);
    assert_int_equal(count(html, "<span class=\"decision undetermined\">Undetermined</span>"),
                     want[IMR_DECISION_UNDETERMINED]);
    assert_int_equal(count(html, "<section class=\"disputed-item "), r->n_items);
    free(html);

    /* The 2013 notice numbers its determinations: an ordered list whose items carry the
     * decision as a class. */
    r->layout = IMR_LAYOUT_NOTICE_2013;
    html = html_of(r);
    assert_non_null(strstr(html, "<ol>"));
    assert_true(count(html, "<li value=\"1\" class=\"undetermined\">") >= 1);
    assert_true(count(html, "<li value=\"2\" class=\"upheld\">") >= 1);
    assert_true(count(html, "<li value=\"3\" class=\"overturned\">") >= 1);
    for (size_t i = 0; i < r->n_items; i++) {
        char *req = escaped(r->items[i].request);
        assert_non_null(strstr(html, req));
        free(req);
    }
    assert_well_formed(html, "2013 notice");
    /* the items follow the Case Summary's section; they are not inside it */
    const char *summary = strstr(html, "<h2>Case Summary:</h2>");
    const char *first_item = strstr(html, "<section class=\"disputed-item ");
    assert_non_null(summary);
    assert_non_null(first_item);
    const char *end = strstr(summary, "</section>");
    assert_non_null(end);
    assert_true(end < first_item);
    free(html);
    imr_arena_free(a);
}

static void html_banner_exactly_for_drafts(void **state)
{
    (void)state;
    static const imr_record_status statuses[] = {IMR_STATUS_PARSED, IMR_STATUS_DRAFT, IMR_STATUS_FINAL};
    for (size_t s = 0; s < 3; s++) {
        imr_arena *a = imr_arena_new();
        imr_record *r = long_record(a, 2, statuses[s]);
        char *html = html_of(r);
        int draft = statuses[s] == IMR_STATUS_DRAFT;
        assert_int_equal(count(html, "class=\"banner\""), draft);
        assert_int_equal(count(html, "class=\"watermark\""), draft);
        assert_int_equal(count(html, "<article class=\"letter draft\">"), draft);
        assert_int_equal(count(html, "NOT A FINAL DETERMINATION"), draft);
        free(html);
        imr_arena_free(a);
    }
}

static void html_criteria_and_missing_documentation(void **state)
{
    (void)state;
    imr_arena *a = imr_arena_new();
    imr_record *r = record_with_text(a, "pain scores", IMR_STATUS_DRAFT, IMR_LAYOUT_FDL, 2);
    r->items[1].criteria[0].status = IMR_CRITERION_MET;
    char *html = html_of(r);
    assert_int_equal(count(html, "<table class=\"criteria\">"), 2);
    assert_int_equal(count(html, "<td class=\"status not_met\">not met</td>"), 1);
    assert_int_equal(count(html, "<td class=\"status met\">met</td>"), 1);
    assert_int_equal(count(html, "Criterion pain scores"), 2);
    assert_true(count(html, "<cite>(clinical_summary)</cite>") == 2);
    assert_true(count(html, "Documentation that would change the outcome:") == 2);
    /* the table sits inside its item's section */
    const char *second = strstr(strstr(html, "<section class=\"disputed-item") + 1, "<section class=\"disputed-item");
    assert_non_null(second);
    assert_true(strstr(html, "<table class=\"criteria\">") < second);
    free(html);
    /* parsed letters have no criteria: no table */
    imr_record *p = long_record(a, 2, IMR_STATUS_PARSED);
    html = html_of(p);
    assert_null(strstr(html, "<table"));
    free(html);
    imr_arena_free(a);
}

/* Invalid UTF-8 and control characters in a record still give a valid page. */
static void html_survives_bad_bytes(void **state)
{
    (void)state;
    imr_arena *a = imr_arena_new();
    imr_record *r = record_with_text(a, "bad \xC3\x28 byte \x01 and \xF0\x9F\x98\x80 ok", IMR_STATUS_PARSED,
                                     IMR_LAYOUT_FDL, 2);
    char *html = html_of(r);
    assert_null(strstr(html, "\xC3\x28"));
    assert_null(strchr(html, '\x01'));
    assert_non_null(strstr(html, "\xF0\x9F\x98\x80 ok"));
    size_t bad = 0;
    assert_true(imr_utf8_valid(html, strlen(html), &bad));
    assert_well_formed(html, "bad bytes");
    free(html);
    imr_arena_free(a);
}

/* ---- PDF helpers --------------------------------------------------------------------- */

static void pdf_of(const imr_record *r, imr_buf *out)
{
    imr_error err = {0};
    int st = imr_render_pdf(r, out, &err);
    if (st)
        fail_msg("imr_render_pdf: %s: %s", err.where, err.message);
}

static PopplerDocument *open_pdf(const imr_buf *pdf)
{
    GError *gerr = NULL;
    GBytes *bytes = g_bytes_new(pdf->data, pdf->len);
    PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
    g_bytes_unref(bytes);
    if (!doc)
        fail_msg("poppler cannot open our PDF: %s", gerr ? gerr->message : "?");
    return doc;
}

/* Letter text through the parser, or a failed test naming the letter. */
static imr_record *parse_or_fail(const char *text, size_t len, const char *name, imr_arena *a)
{
    imr_record *r = NULL;
    imr_error err = {0};
    if (imr_letter_parse(text, len, name, a, &r, &err))
        fail_msg("%s: %s:%d: %s", name, err.where, err.line, err.message);
    return r;
}

static char *json_of(const imr_record *r)
{
    imr_buf b = IMR_BUF_INIT;
    imr_error err = {0};
    if (imr_record_to_json(r, IMR_JSON_PRETTY, &b, &err))
        fail_msg("imr_record_to_json: %s", err.message);
    return b.data;
}

/* Render `r` as PDF, read it back and parse it; returns the record's JSON. */
static char *through_pdf(const imr_record *r, const char *name, imr_arena *a)
{
    imr_buf pdf = IMR_BUF_INIT, text = IMR_BUF_INIT;
    imr_error err = {0};
    pdf_of(r, &pdf);
    if (imr_pdf_text(pdf.data, pdf.len, name, &text, &err))
        fail_msg("%s: imr_pdf_text: %s", name, err.message);
    imr_record *back = parse_or_fail(text.data, text.len, name, a);
    imr_buf_free(&pdf);
    imr_buf_free(&text);
    return json_of(back);
}

/* The invariant: text letter -> record R -> PDF -> text -> record equals R. */
static void assert_pdf_round_trip(const char *text, size_t len, const char *name)
{
    imr_arena *a = imr_arena_new();
    imr_record *r = parse_or_fail(text, len, name, a);
    char *want = json_of(r);
    char *got = through_pdf(r, name, a);
    char where[600];
    if (!ts_json_equal(want, got, where, sizeof where))
        fail_msg("%s: the record read back from our PDF differs at %s", name, where);
    free(want);
    free(got);
    imr_arena_free(a);
}

/* ---- PDF tests ----------------------------------------------------------------------- */

static void pdf_is_a_letter_with_metadata_and_dejavu(void **state)
{
    (void)state;
    imr_arena *a = imr_arena_new();
    imr_record *r = long_record(a, 2, IMR_STATUS_PARSED);
    imr_buf pdf = IMR_BUF_INIT;
    pdf_of(r, &pdf);
    assert_true(pdf.len > 1000);
    assert_memory_equal(pdf.data, "%PDF-", 5);
    assert_true(imr_is_pdf(pdf.data, pdf.len));
    PopplerDocument *doc = open_pdf(&pdf);
    char *title = poppler_document_get_title(doc);
    assert_non_null(title);
    assert_string_equal(title, "CM15-0999001");
    g_free(title);
    PopplerPage *page = poppler_document_get_page(doc, 0);
    double w = 0, h = 0;
    poppler_page_get_size(page, &w, &h);
    assert_true(w > 611.9 && w < 612.1 && h > 791.9 && h < 792.1); /* US Letter */
    g_object_unref(page);
    /* every font is DejaVu (no fallback for missing glyphs) */
    PopplerFontInfo *fi = poppler_font_info_new(doc);
    PopplerFontsIter *it = NULL;
    int fonts = 0;
    while (poppler_font_info_scan(fi, 1, &it)) {
        if (!it)
            break;
        do {
            const char *name = poppler_fonts_iter_get_name(it);
            if (!name || !strstr(name, "DejaVu"))
                fail_msg("font %s is not DejaVu", name ? name : "(none)");
            fonts++;
        } while (poppler_fonts_iter_next(it));
        poppler_fonts_iter_free(it);
        it = NULL;
    }
    poppler_font_info_free(fi);
    assert_true(fonts >= 2);
    g_object_unref(doc);
    imr_buf_free(&pdf);
    imr_arena_free(a);
}

/* Pages of a long letter: poppler's count is the M of every "Page N of M" footer, N runs
 * from 1, more items make more pages, and no text leaves the one-inch margins. */
static int pages_of_long_letter(size_t n_items)
{
    imr_arena *a = imr_arena_new();
    imr_record *r = long_record(a, n_items, IMR_STATUS_DRAFT);
    imr_buf pdf = IMR_BUF_INIT;
    pdf_of(r, &pdf);
    PopplerDocument *doc = open_pdf(&pdf);
    int n = poppler_document_get_n_pages(doc);
    for (int p = 0; p < n; p++) {
        PopplerPage *page = poppler_document_get_page(doc, p);
        char *text = poppler_page_get_text(page);
        char footer[64];
        snprintf(footer, sizeof footer, "Page %d of %d", p + 1, n);
        const char *last = strrchr(text, '\n');
        last = last ? last + 1 : text;
        if (strcmp(last, footer))
            fail_msg("page %d ends with \"%s\", not \"%s\"", p + 1, last, footer);
        PopplerRectangle *rects = NULL;
        guint nr = 0;
        assert_true(poppler_page_get_text_layout(page, &rects, &nr));
        size_t body_chars = g_utf8_strlen(text, -1) - strlen(footer);
        for (guint i = 0; i < nr && i < body_chars; i++) {
            const PopplerRectangle *q = &rects[i];
            if (q->x2 - q->x1 <= 0)
                continue; /* newlines */
            if (q->x1 < 71.5 || q->x2 > 540.5 || q->y1 < 71.5 || q->y2 > 720.5)
                fail_msg("page %d: character %u at (%.1f,%.1f)-(%.1f,%.1f) is in the margin", p + 1, i,
                         q->x1, q->y1, q->x2, q->y2);
        }
        g_free(rects);
        g_free(text);
        g_object_unref(page);
    }
    g_object_unref(doc);
    imr_buf_free(&pdf);
    imr_arena_free(a);
    return n;
}

static void pdf_pages_of_a_long_letter(void **state)
{
    (void)state;
    int one = pages_of_long_letter(1), ten = pages_of_long_letter(10), forty = pages_of_long_letter(40);
    assert_true(one >= 1);
    assert_true(ten > one);
    assert_true(forty > ten);
    assert_true(forty - ten >= 2 * (ten - one)); /* 30 more items weigh more than 9 */
}

/* What imr_pdf_text gives for our own PDF: the parser's shape, no footers. */
static void pdf_text_has_the_parser_shape(void **state)
{
    (void)state;
    imr_arena *a = imr_arena_new();
    imr_record *r = long_record(a, 12, IMR_STATUS_PARSED);
    imr_buf pdf = IMR_BUF_INIT, text = IMR_BUF_INIT;
    imr_error err = {0};
    pdf_of(r, &pdf);
    assert_int_equal(imr_pdf_text(pdf.data, pdf.len, "long.pdf", &text, &err), 0);
    assert_null(strstr(text.data, "Page 1 of"));
    assert_non_null(strstr(text.data, "\n \n")); /* paragraph separators */
    for (size_t i = 0; i < r->n_items; i++)
        assert_non_null(strstr(text.data, r->items[i].request));
    /* no line of ours ends with a hyphen: the parser would glue the next word to it */
    for (const char *p = text.data; (p = strstr(p, "-\n")); p++)
        fail_msg("a line ends with a hyphen: \"%.40s\"", p > text.data + 30 ? p - 30 : text.data);
    imr_buf_free(&pdf);
    imr_buf_free(&text);
    imr_arena_free(a);
}

static char *make_pdf_without_text(size_t *len);

static void pdf_bad_input(void **state)
{
    (void)state;
    imr_buf out = IMR_BUF_INIT;
    imr_error err = {0};
    assert_int_equal(imr_pdf_text("", 0, "empty.pdf", &out, &err), IMR_EX_DATAERR);
    assert_string_equal(err.where, "empty.pdf");
    assert_non_null(strstr(err.message, "empty"));

    memset(&err, 0, sizeof err);
    assert_int_equal(imr_pdf_text("hello", 5, "hello.pdf", &out, &err), IMR_EX_DATAERR);
    assert_string_equal(err.where, "hello.pdf");
    assert_false(imr_is_pdf("hello", 5));
    assert_false(imr_is_pdf("%PD", 3));

    static const char garbage[] = "%PDF-1.4\nthis is not a PDF body at all\n";
    memset(&err, 0, sizeof err);
    assert_int_equal(imr_pdf_text(garbage, sizeof garbage - 1, "garbage.pdf", &out, &err), IMR_EX_DATAERR);
    assert_string_equal(err.where, "garbage.pdf");
    assert_non_null(strstr(err.message, "not a readable PDF"));

    /* a real PDF cut short */
    imr_arena *a = imr_arena_new();
    imr_buf pdf = IMR_BUF_INIT;
    pdf_of(long_record(a, 2, IMR_STATUS_PARSED), &pdf);
    for (size_t cut = 10; cut < pdf.len; cut *= 3) {
        memset(&err, 0, sizeof err);
        int st = imr_pdf_text(pdf.data, cut, "cut.pdf", &out, &err);
        if (st) {
            assert_int_equal(st, IMR_EX_DATAERR);
            assert_string_equal(err.where, "cut.pdf");
        }
    }

    /* pages but no text layer */
    size_t n = 0;
    char *blank = make_pdf_without_text(&n);
    memset(&err, 0, sizeof err);
    assert_int_equal(imr_pdf_text(blank, n, "scan.pdf", &out, &err), IMR_EX_DATAERR);
    assert_non_null(strstr(err.message, "no text"));
    free(blank);

    /* encrypted: a standard security handler whose password is not the empty one */
    static const char *enc_objs[] = {
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        ("<< /Filter /Standard /V 1 /R 2 /O <1111111111111111111111111111111111111111111111111111111111111111>"
         " /U <2222222222222222222222222222222222222222222222222222222222222222> /P -4 >>"),
    };
    imr_buf enc = IMR_BUF_INIT;
    size_t offs[4];
    imr_buf_puts(&enc, "%PDF-1.4\n");
    for (int i = 0; i < 4; i++) {
        offs[i] = enc.len;
        imr_buf_printf(&enc, "%d 0 obj\n%s\nendobj\n", i + 1, enc_objs[i]);
    }
    size_t xref = enc.len;
    imr_buf_puts(&enc, "xref\n0 5\n0000000000 65535 f \n");
    for (int i = 0; i < 4; i++)
        imr_buf_printf(&enc, "%010zu 00000 n \n", offs[i]);
    imr_buf_printf(&enc, "trailer\n<< /Size 5 /Root 1 0 R /Encrypt 4 0 R /ID [<00112233445566778899aabbccddeeff> "
                         "<00112233445566778899aabbccddeeff>] >>\nstartxref\n%zu\n%%%%EOF\n", xref);
    memset(&err, 0, sizeof err);
    assert_int_equal(imr_pdf_text(enc.data, enc.len, "locked.pdf", &out, &err), IMR_EX_DATAERR);
    assert_string_equal(err.where, "locked.pdf");
    assert_non_null(strstr(err.message, "encrypted"));

    /* from the command line: one clear line on stderr, exit 65, poppler's chatter hidden */
    char path[] = "/tmp/imr-test-render-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, pdf.data, pdf.len / 2), (ssize_t)(pdf.len / 2));
    close(fd);
    char cmd[600], *got = NULL;
    snprintf(cmd, sizeof cmd, "'%s' parse '%s' 2>&1 >/dev/null", IMR_BINARY, path);
    assert_int_equal(ts_run(cmd, &got), IMR_EX_DATAERR);
    assert_int_equal(count(got, "\n"), 1);
    assert_non_null(strstr(got, path));
    assert_null(strstr(got, "Syntax"));
    free(got);
    unlink(path);

    imr_buf_free(&enc);
    imr_buf_free(&pdf);
    imr_buf_free(&out);
    imr_arena_free(a);
}

static cairo_status_t to_buf(void *closure, const unsigned char *data, unsigned int len)
{
    imr_buf_append(closure, (const char *)data, len);
    return CAIRO_STATUS_SUCCESS;
}

/* A one-page PDF with a drawing and no text, as a scanner would make. */
static char *make_pdf_without_text(size_t *len)
{
    imr_buf b = IMR_BUF_INIT;
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(to_buf, &b, 612, 792);
    cairo_t *cr = cairo_create(s);
    cairo_rectangle(cr, 100, 100, 200, 50);
    cairo_fill(cr);
    cairo_show_page(cr);
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    *len = b.len;
    return b.data;
}

/* Hand-built records read back from PDF the same as from their text letter: both layouts,
 * both credential styles, drafts (banner, missing documentation, undetermined reasons),
 * documents reviewed, a long letter. */
static void pdf_and_text_read_back_the_same(void **state)
{
    (void)state;
    for (int variant = 0; variant < 4; variant++) {
        imr_arena *a = imr_arena_new();
        imr_record *r = long_record(a, 9, variant == 1 ? IMR_STATUS_DRAFT : IMR_STATUS_PARSED);
        const char *name = "long";
        if (variant == 1) {
            name = "draft";
            imr_strlist_push(&r->items[0].missing_documentation, a, "Pain scores with and without medication");
            imr_strlist_push(&r->items[0].missing_documentation, a, "A urine drug screen - the most recent one");
            r->items[2].decision = IMR_DECISION_UNDETERMINED;
            r->items[2].undetermined_reason = "The records do not say how many visits were completed.";
        } else if (variant == 2) {
            name = "notice_2013";
            r->layout = IMR_LAYOUT_NOTICE_2013;
            r->organization = "MAXIMUS Federal Services, Inc.";
            r->header.notice_date = "2013-09-26";
            r->header.application_received = "2013-09-06";
            r->header.ur_denial_date = "2013-08-30";
            r->header.noarfi_date = "2013-09-23";
            r->clinical_case_summary_intro = "The case summary below was taken from the utilization review.";
        } else if (variant == 3) {
            name = "sentence credentials, documents";
            r->reviewer.credentials_style = IMR_CREDENTIALS_SENTENCE;
            r->reviewer.board_certified = 1;
            r->reviewer.subspecialties = one(a, "Pain Medicine");
            r->documents_reviewed = one(a, "Utilization review determination dated 08/19/2015");
            imr_strlist_push(&r->documents_reviewed, a, "Progress report dated 07/30/2015 - 4 pages");
        }
        imr_buf text = IMR_BUF_INIT;
        imr_error err = {0};
        if (imr_render_text(r, 0, &text, &err))
            fail_msg("%s: imr_render_text: %s", name, err.message);
        assert_pdf_round_trip(text.data, text.len, name);
        imr_buf_free(&text);
        imr_arena_free(a);
    }
}

static void pdf_round_trip_of_the_seeds(void **state)
{
    (void)state;
    if (!ts_dir_exists(IMR_SEEDS_DIR))
        skip(); /* the seed letters are not in this checkout */
    char **names = NULL;
    size_t n = ts_list(IMR_SEEDS_DIR, ".txt", &names);
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", IMR_SEEDS_DIR, names[i]);
        size_t len = 0;
        char *text = ts_read(path, &len);
        assert_non_null(text);
        assert_pdf_round_trip(text, len, names[i]);
        free(text);
    }
    ts_list_free(names, n);
    assert_true(n >= 1);
}

static void pdf_round_trip_of_the_corpus(void **state)
{
    (void)state;
    char **names = NULL;
    size_t n = ts_list(IMR_TESTS_DIR "/letters", ".txt", &names);
    if (n == 0) {
        ts_list_free(names, n);
        skip(); /* no team-written letters yet */
    }
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/letters/%s", IMR_TESTS_DIR, names[i]);
        size_t len = 0;
        char *text = ts_read(path, &len);
        assert_non_null(text);
        assert_pdf_round_trip(text, len, names[i]);
        /* and its HTML is a well-formed page showing every request */
        imr_arena *a = imr_arena_new();
        imr_record *r = parse_or_fail(text, len, names[i], a);
        char *html = html_of(r);
        assert_well_formed(html, names[i]);
        for (size_t k = 0; k < r->n_items; k++) {
            char *req = escaped(r->items[k].request);
            if (!strstr(html, req))
                fail_msg("%s: the HTML lacks item %zu's request", names[i], k);
            free(req);
        }
        free(html);
        imr_arena_free(a);
        free(text);
    }
    ts_list_free(names, n);
}

/* The committed PDFs of tests/letters/pdf/ (made by make.sh from team letters) parse to
 * the records beside them. */
static void committed_pdfs_parse_to_their_records(void **state)
{
    (void)state;
    char **names = NULL;
    size_t n = ts_list(IMR_TESTS_DIR "/letters/pdf", ".pdf", &names);
    assert_true(n >= 5);
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/letters/pdf/%s", IMR_TESTS_DIR, names[i]);
        size_t len = 0;
        char *pdf = ts_read(path, &len);
        assert_non_null(pdf);
        snprintf(path + strlen(path) - 4, 6, ".json");
        char *want = ts_read(path, NULL);
        if (!want)
            fail_msg("%s has no expected record %s", names[i], path);
        imr_buf text = IMR_BUF_INIT;
        imr_error err = {0};
        if (imr_pdf_text(pdf, len, names[i], &text, &err))
            fail_msg("%s: %s", names[i], err.message);
        imr_arena *a = imr_arena_new();
        char *got = json_of(parse_or_fail(text.data, text.len, names[i], a));
        char where[600];
        if (!ts_json_equal(want, got, where, sizeof where))
            fail_msg("%s: differs from its record at %s (if the parser changed on purpose, run "
                     "tests/letters/pdf/make.sh and review the diff)", names[i], where);
        free(got);
        imr_arena_free(a);
        imr_buf_free(&text);
        free(want);
        free(pdf);
    }
    ts_list_free(names, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(html_escapes_every_field),
        cmocka_unit_test(html_is_a_self_contained_printable_page),
        cmocka_unit_test(html_shows_every_item_and_decision),
        cmocka_unit_test(html_banner_exactly_for_drafts),
        cmocka_unit_test(html_criteria_and_missing_documentation),
        cmocka_unit_test(html_survives_bad_bytes),
        cmocka_unit_test(pdf_is_a_letter_with_metadata_and_dejavu),
        cmocka_unit_test(pdf_pages_of_a_long_letter),
        cmocka_unit_test(pdf_text_has_the_parser_shape),
        cmocka_unit_test(pdf_bad_input),
        cmocka_unit_test(pdf_and_text_read_back_the_same),
        cmocka_unit_test(pdf_round_trip_of_the_seeds),
        cmocka_unit_test(pdf_round_trip_of_the_corpus),
        cmocka_unit_test(committed_pdfs_parse_to_their_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
