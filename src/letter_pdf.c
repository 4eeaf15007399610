/*
 * letter_pdf.c - reading letters from PDF: the text of every page through poppler-glib, put
 * in the shape of the published text files so that imr_letter_parse reads it unchanged.
 *
 * Poppler gives the text of a page in reading order, one line per text line, and a box per
 * character. The boxes tell where paragraphs end: a vertical gap between two lines that is
 * larger than half a line means a new paragraph, written as a line holding one space (the
 * separator the parser expects). At a page break the gap is measured against the highest
 * first line of any page, so that a page that starts with a new paragraph (our renderer
 * keeps the paragraph space at the top of a page) is told from a page that continues one.
 * Page footers "Page N of M" (N and M true for this document) are dropped. The output has
 * the shape of the published text files (see reflow.h): every line is followed by an empty
 * line, paragraphs are separated by a line holding one space, and page breaks add empty
 * lines, which the parser treats as extraction noise.
 */
#include "imr.h"

#include <glib.h>
#include <poppler.h>
#include <stdlib.h>
#include <string.h>

/* One text line of a page: its bytes in the page text, and its vertical extent. */
typedef struct pdf_line {
    size_t start, end; /* byte range in the page text, '\n' excluded */
    double top, bottom;
} pdf_line;

typedef struct pdf_page {
    char *text;        /* poppler's text of the page (g_free) */
    pdf_line *lines;   /* malloc'd */
    size_t n_lines;
} pdf_page;

/* Poppler reports syntax errors in damaged files through GLib's log; the caller gets our
 * own message instead, so these are dropped unless IMR_DEBUG is set. */
static void quiet_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
    (void)level;
    (void)data;
    if (getenv("IMR_DEBUG"))
        fprintf(stderr, "imr: debug: %s: %s\n", domain ? domain : "glib", msg);
}

static void silence_poppler(void)
{
    static gsize done = 0;
    if (g_once_init_enter(&done)) {
        g_log_set_handler("Poppler", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
                          quiet_log, NULL);
        g_once_init_leave(&done, 1);
    }
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\f')
            return 0;
    return 1;
}

/* 1 when the line is exactly "Page <page_no> of <n_pages>" (spaces around allowed). */
static int is_footer(const char *s, size_t n, int page_no, int n_pages)
{
    char buf[64];
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    int a = 0, b = 0, used = 0;
    if (sscanf(buf, " Page %d of %d %n", &a, &b, &used) != 2 || (size_t)used != n)
        return 0;
    return a == page_no && b == n_pages;
}

/* Split poppler's page text into lines with their vertical extents. The rectangles come
 * one per character of the text, newlines included. */
static void page_lines(pdf_page *pg, const PopplerRectangle *rects, guint n_rects)
{
    const char *t = pg->text;
    size_t len = strlen(t), cap = 16;
    pg->lines = malloc(cap * sizeof *pg->lines);
    pg->n_lines = 0;
    size_t start = 0;
    guint ci = 0;
    double top = 1e9, bottom = -1e9;
    for (size_t i = 0; i <= len;) {
        if (i == len || t[i] == '\n') {
            if (!is_blank(t + start, i - start)) {
                if (pg->n_lines == cap)
                    pg->lines = realloc(pg->lines, (cap *= 2) * sizeof *pg->lines);
                size_t end = i;
                while (end > start && (t[end - 1] == ' ' || t[end - 1] == '\r'))
                    end--;
                pdf_line *l = &pg->lines[pg->n_lines++];
                l->start = start;
                l->end = end;
                l->top = top <= bottom ? top : 0;
                l->bottom = top <= bottom ? bottom : 0;
            }
            if (i == len)
                break;
            i++;
            ci++;
            start = i;
            top = 1e9;
            bottom = -1e9;
            continue;
        }
        if (t[i] != ' ' && ci < n_rects) {
            if (rects[ci].y1 < top)
                top = rects[ci].y1;
            if (rects[ci].y2 > bottom)
                bottom = rects[ci].y2;
        }
        i = (size_t)(g_utf8_next_char(t + i) - t);
        ci++;
    }
}

/* Read every page; drop footers. Returns 0 or an error status. */
static int read_pages(PopplerDocument *doc, int n_pages, const char *where, pdf_page *pages,
                      imr_error *err)
{
    for (int p = 0; p < n_pages; p++) {
        PopplerPage *page = poppler_document_get_page(doc, p);
        if (!page)
            return imr_error_set(err, IMR_EX_DATAERR, where, 0,
                                 "page %d of %d could not be read (damaged PDF)", p + 1, n_pages);
        pages[p].text = poppler_page_get_text(page);
        if (!pages[p].text)
            pages[p].text = g_strdup("");
        PopplerRectangle *rects = NULL;
        guint n_rects = 0;
        if (!poppler_page_get_text_layout(page, &rects, &n_rects)) {
            rects = NULL;
            n_rects = 0;
        }
        page_lines(&pages[p], rects, n_rects);
        g_free(rects);
        g_object_unref(page);
        pdf_page *pg = &pages[p];
        if (pg->n_lines && is_footer(pg->text + pg->lines[pg->n_lines - 1].start,
                                     pg->lines[pg->n_lines - 1].end - pg->lines[pg->n_lines - 1].start,
                                     p + 1, n_pages))
            pg->n_lines--;
        if (pg->n_lines && is_footer(pg->text + pg->lines[0].start, pg->lines[0].end - pg->lines[0].start,
                                     p + 1, n_pages)) {
            memmove(pg->lines, pg->lines + 1, (pg->n_lines - 1) * sizeof *pg->lines);
            pg->n_lines--;
        }
    }
    return IMR_OK;
}

/* A gap larger than half the height of the line below it starts a new paragraph. */
static int paragraph_gap(double gap, const pdf_line *below)
{
    double h = below->bottom - below->top;
    return h > 0 && gap > 0.5 * h;
}

static void write_text(const pdf_page *pages, int n_pages, imr_buf *out)
{
    double body_top = 1e9;
    for (int p = 0; p < n_pages; p++)
        if (pages[p].n_lines && pages[p].lines[0].top < body_top)
            body_top = pages[p].lines[0].top;
    int written = 0;
    for (int p = 0; p < n_pages; p++) {
        const pdf_page *pg = &pages[p];
        for (size_t i = 0; i < pg->n_lines; i++) {
            const pdf_line *l = &pg->lines[i];
            if (i == 0 && written) {
                imr_buf_puts(out, "\n\n"); /* page break: noise lines */
                if (paragraph_gap(l->top - body_top, l))
                    imr_buf_puts(out, " \n\n");
            } else if (i > 0 && paragraph_gap(l->top - pg->lines[i - 1].bottom, l))
                imr_buf_puts(out, " \n\n");
            imr_buf_append(out, pg->text + l->start, l->end - l->start);
            imr_buf_puts(out, "\n\n");
            written = 1;
        }
    }
}

static int open_document(const char *data, size_t len, const char *where, PopplerDocument **out,
                         imr_error *err)
{
    GError *gerr = NULL;
    GBytes *bytes = g_bytes_new_static(data, len);
    PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
    g_bytes_unref(bytes);
    if (doc) {
        *out = doc;
        return IMR_OK;
    }
    int st;
    if (gerr && gerr->domain == POPPLER_ERROR && gerr->code == POPPLER_ERROR_ENCRYPTED)
        st = imr_error_set(err, IMR_EX_DATAERR, where, 0,
                           "the PDF is encrypted (password protected); save an unprotected copy");
    else
        st = imr_error_set(err, IMR_EX_DATAERR, where, 0, "not a readable PDF (%s)",
                           gerr && gerr->message ? gerr->message : "damaged file");
    if (gerr)
        g_error_free(gerr);
    return st;
}

int imr_pdf_text(const char *data, size_t len, const char *where, imr_buf *out, imr_error *err)
{
    if (!where)
        where = "<pdf>";
    if (!data || len == 0)
        return imr_error_set(err, IMR_EX_DATAERR, where, 0, "empty file: expected a PDF");
    if (!imr_is_pdf(data, len))
        return imr_error_set(err, IMR_EX_DATAERR, where, 0,
                             "not a PDF: the file does not start with %%PDF-");
    if (len > (size_t)G_MAXSSIZE)
        return imr_error_set(err, IMR_EX_DATAERR, where, 0, "PDF too large");
    silence_poppler();
    PopplerDocument *doc = NULL;
    int st = open_document(data, len, where, &doc, err);
    if (st)
        return st;
    int n_pages = poppler_document_get_n_pages(doc);
    if (n_pages <= 0) {
        g_object_unref(doc);
        return imr_error_set(err, IMR_EX_DATAERR, where, 0, "the PDF has no pages");
    }
    pdf_page *pages = calloc((size_t)n_pages, sizeof *pages);
    if (!pages) {
        g_object_unref(doc);
        return imr_error_set(err, IMR_EX_SOFTWARE, where, 0, "out of memory");
    }
    st = read_pages(doc, n_pages, where, pages, err);
    size_t n_text = 0;
    for (int p = 0; p < n_pages; p++)
        n_text += pages[p].n_lines;
    if (st == IMR_OK && n_text == 0)
        st = imr_error_set(err, IMR_EX_DATAERR, where, 0,
                           "the PDF has %d page%s but no text layer (a scanned image?)", n_pages,
                           n_pages == 1 ? "" : "s");
    if (st == IMR_OK)
        write_text(pages, n_pages, out);
    for (int p = 0; p < n_pages; p++) {
        g_free(pages[p].text);
        free(pages[p].lines);
    }
    free(pages);
    g_object_unref(doc);
    return st;
}
