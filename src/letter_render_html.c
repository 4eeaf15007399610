/*
 * letter_render_html.c - the letter as one self-contained, printable HTML5 page.
 *
 * The page walks the same blocks as the text and PDF letters (imr_letter_blocks), so the
 * wording is the same everywhere; HTML only adds structure: a section per heading, a
 * definition list for the header fields, an ordered list for numbered determinations, a
 * section per disputed item, classes on decision words, and for engine drafts a table of
 * the guideline criteria with their status and evidence. The style sheet is inline, there
 * is no script and nothing is fetched; @page and @media print make it print as a letter.
 * Every piece of record text goes through html_text(), which escapes & < > " ' and
 * replaces control characters and invalid UTF-8.
 */
#include "imr.h"

#include <string.h>

static const char STYLE_SHEET[] =
    ":root{color-scheme:light}\n"
    "body{margin:0;background:#f3f3f1;color:#111;font:11pt/1.45 \"DejaVu Serif\",Georgia,"
    "\"Times New Roman\",serif}\n"
    "article.letter{max-width:46rem;margin:2rem auto;padding:3rem 3.5rem;background:#fff;"
    "box-shadow:0 1px 4px rgba(0,0,0,.2)}\n"
    "h1,h2,h3,h4,.banner,dt{font-family:\"DejaVu Sans\",Arial,sans-serif}\n"
    "header.letterhead{text-align:center;margin-bottom:1.5rem}\n"
    "h1{font-size:1.35rem;margin:0 0 .25rem}\n"
    "header.letterhead p{margin:.1rem 0;font-weight:bold}\n"
    "h2{font-size:1.05rem;letter-spacing:.02em;margin:1.6rem 0 .5rem;"
    "border-bottom:1px solid #bbb;padding-bottom:.15rem}\n"
    "h3{font-size:1rem;margin:1.2rem 0 .4rem}\n"
    "h4{font-size:.92rem;margin:.9rem 0 .3rem}\n"
    "p{margin:0 0 .7rem;text-align:left}\n"
    ".label{font-weight:bold}\n"
    "dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:0 0 1rem}\n"
    "dl.fields div{display:contents}\n"
    "dt{font-weight:bold;font-size:.92rem}\n"
    "dd{margin:0}\n"
    "ol,ul{margin:0 0 .8rem;padding-left:2rem}\n"
    "li{margin:.2rem 0}\n"
    ".banner{border:4px double #9e1414;color:#9e1414;background:#fdeaea;font-weight:bold;"
    "font-size:1.1rem;text-align:center;padding:.8rem 1rem;margin:0 0 1.5rem;letter-spacing:.03em}\n"
    ".watermark{display:none}\n"
    ".draft .watermark{display:block;position:fixed;top:42%;left:0;right:0;text-align:center;"
    "font:bold 7rem \"DejaVu Sans\",Arial,sans-serif;color:rgba(158,20,20,.09);"
    "transform:rotate(-35deg);pointer-events:none;z-index:0}\n"
    ".decision{font-weight:bold;padding:0 .3rem;border-radius:.2rem}\n"
    ".decision.upheld{color:#9e1414;background:#fbe9e9}\n"
    ".decision.overturned{color:#14652a;background:#e7f5ea}\n"
    ".decision.undetermined{color:#7a5600;background:#fbf3dc}\n"
    "li.upheld::marker{color:#9e1414}\n"
    "li.overturned::marker{color:#14652a}\n"
    "section.disputed-item{margin:1.2rem 0;padding-left:.8rem;border-left:3px solid #ccc}\n"
    "section.disputed-item.upheld{border-left-color:#9e1414}\n"
    "section.disputed-item.overturned{border-left-color:#14652a}\n"
    "section.disputed-item.undetermined{border-left-color:#c49a00}\n"
    "table.criteria{border-collapse:collapse;width:100%;margin:.4rem 0 1rem;font-size:.9rem}\n"
    "table.criteria caption{text-align:left;font-weight:bold;margin-bottom:.2rem}\n"
    "table.criteria th,table.criteria td{border:1px solid #bbb;padding:.25rem .4rem;"
    "vertical-align:top;text-align:left}\n"
    "table.criteria th{background:#eee}\n"
    "td.status{white-space:nowrap;font-weight:bold}\n"
    "td.met{color:#14652a}\n"
    "td.not_met{color:#9e1414}\n"
    "td.unknown{color:#7a5600}\n"
    "td.none{color:#777}\n"
    "blockquote{margin:0 0 .3rem;font-style:italic}\n"
    "blockquote cite{font-style:normal;color:#555;font-size:.85em}\n"
    "@page{size:Letter;margin:1in}\n"
    "@media print{\n"
    "  body{background:#fff;font-size:11pt}\n"
    "  article.letter{max-width:none;margin:0;padding:0;box-shadow:none}\n"
    "  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
    "  .banner{background:#fff}\n"
    "  h1,h2,h3,h4{break-after:avoid;page-break-after:avoid}\n"
    "  p,li,tr,dl.fields div{break-inside:avoid-page;orphans:2;widows:2}\n"
    "  .draft .watermark{color:rgba(0,0,0,.08)}\n"
    "}\n";

/* Append `s` with the five HTML specials escaped; control characters (other than tab and
 * newline) become spaces and invalid UTF-8 becomes U+FFFD, so the page is always valid. */
static void html_text(imr_buf *out, const char *s)
{
    if (!s)
        return;
    size_t len = strlen(s), i = 0;
    while (i < len) {
        size_t bad = len;
        int ok = imr_utf8_valid(s + i, len - i, &bad);
        size_t good_end = ok ? len : i + bad;
        size_t run = i;
        for (size_t k = i; k < good_end; k++) {
            unsigned char c = (unsigned char)s[k];
            const char *rep = NULL;
            switch (c) {
            case '&': rep = "&amp;"; break;
            case '<': rep = "&lt;"; break;
            case '>': rep = "&gt;"; break;
            case '"': rep = "&quot;"; break;
            case '\'': rep = "&#39;"; break;
            default:
                if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
                    rep = " ";
            }
            if (rep) {
                imr_buf_append(out, s + run, k - run);
                imr_buf_puts(out, rep);
                run = k + 1;
            }
        }
        imr_buf_append(out, s + run, good_end - run);
        if (ok)
            break;
        imr_buf_puts(out, "\xEF\xBF\xBD"); /* U+FFFD for the bad byte */
        i = good_end + 1;
    }
}

static const char *decision_class(imr_decision d)
{
    return d == IMR_DECISION_UPHELD ? "upheld" : d == IMR_DECISION_OVERTURNED ? "overturned" : "undetermined";
}

/* The open containers, closed in order as the blocks move on. */
typedef struct html_state {
    const imr_record *r;
    imr_buf *out;
    int in_header;  /* <header class="letterhead"> */
    int in_section; /* <section> opened by a heading */
    int item_open;  /* a disputed item's <section> is open */
    int item;       /* the item it belongs to (-1 when the blocks did not say) */
    int list;       /* 0 none, 'o' <ol>, 'u' <ul> */
    int in_fields;  /* <dl class="fields"> */
    int titles;     /* TITLE blocks seen */
} html_state;

static const imr_item *item_of(const html_state *h, int i)
{
    return i >= 0 && (size_t)i < h->r->n_items ? &h->r->items[i] : NULL;
}

static void close_list(html_state *h)
{
    if (h->list)
        imr_buf_puts(h->out, h->list == 'o' ? "</ol>\n" : "</ul>\n");
    h->list = 0;
}

static void close_fields(html_state *h)
{
    if (h->in_fields)
        imr_buf_puts(h->out, "</dl>\n");
    h->in_fields = 0;
}

static void evidence_cell(imr_buf *out, const imr_criterion *c)
{
    if (c->n_evidence == 0) {
        imr_buf_puts(out, "<td class=\"none\">\xE2\x80\x94</td>"); /* an em dash */
        return;
    }
    imr_buf_puts(out, "<td>");
    for (size_t k = 0; k < c->n_evidence; k++) {
        const imr_evidence *e = &c->evidence[k];
        imr_buf_puts(out, "<blockquote>");
        html_text(out, e->text);
        if (e->source) {
            imr_buf_puts(out, " <cite>(");
            html_text(out, e->source);
            imr_buf_puts(out, ")</cite>");
        }
        imr_buf_puts(out, "</blockquote>");
    }
    imr_buf_puts(out, "</td>");
}

/* Engine drafts carry the criteria the decision was made on. */
static void criteria_table(imr_buf *out, const imr_item *it)
{
    if (!it || it->n_criteria == 0)
        return;
    imr_buf_puts(out, "<table class=\"criteria\">\n<caption>Guideline criteria</caption>\n"
                      "<thead><tr><th scope=\"col\">Criterion</th><th scope=\"col\">Status</th>"
                      "<th scope=\"col\">Evidence</th></tr></thead>\n<tbody>\n");
    for (size_t k = 0; k < it->n_criteria; k++) {
        const imr_criterion *c = &it->criteria[k];
        const char *st = imr_criterion_status_name(c->status);
        imr_buf_puts(out, "<tr><td>");
        html_text(out, c->text ? c->text : c->id);
        imr_buf_printf(out, "</td><td class=\"status %s\">%s</td>", st,
                       c->status == IMR_CRITERION_MET       ? "met"
                       : c->status == IMR_CRITERION_NOT_MET ? "not met"
                                                            : "unknown");
        evidence_cell(out, c);
        imr_buf_puts(out, "</tr>\n");
    }
    imr_buf_puts(out, "</tbody>\n</table>\n");
}

static void close_item(html_state *h)
{
    if (!h->item_open)
        return;
    close_list(h);
    close_fields(h);
    criteria_table(h->out, item_of(h, h->item));
    imr_buf_puts(h->out, "</section>\n");
    h->item_open = 0;
    h->item = -1;
}

static void close_section(html_state *h)
{
    close_item(h);
    close_list(h);
    close_fields(h);
    if (h->in_section)
        imr_buf_puts(h->out, "</section>\n");
    h->in_section = 0;
}

static void close_header(html_state *h)
{
    if (h->in_header)
        imr_buf_puts(h->out, "</header>\n");
    h->in_header = 0;
}

static void put_title(html_state *h, const imr_letter_block *b)
{
    if (!h->in_header) {
        imr_buf_puts(h->out, "<header class=\"letterhead\">\n");
        h->in_header = 1;
    }
    imr_buf_puts(h->out, h->titles++ == 0 ? "<h1>" : "<p>");
    html_text(h->out, b->text);
    imr_buf_puts(h->out, h->titles == 1 ? "</h1>\n" : "</p>\n");
}

static void put_field(html_state *h, const imr_letter_block *b)
{
    if (!h->in_fields) {
        imr_buf_puts(h->out, "<dl class=\"fields\">\n");
        h->in_fields = 1;
    }
    imr_buf_puts(h->out, "<div><dt>");
    html_text(h->out, b->label);
    imr_buf_puts(h->out, ":</dt><dd>");
    html_text(h->out, b->text);
    imr_buf_puts(h->out, "</dd></div>\n");
}

/* "1." opens or continues an <ol> (with its number kept); anything else is a <ul>. */
static void put_list_item(html_state *h, const imr_letter_block *b)
{
    int number = 0;
    int numbered = b->label && sscanf(b->label, "%d", &number) == 1 && number >= 0;
    int kind = numbered ? 'o' : 'u';
    if (h->list != kind) {
        close_list(h);
        imr_buf_puts(h->out, kind == 'o' ? "<ol>\n" : "<ul>\n");
        h->list = kind;
    }
    const imr_item *it = item_of(h, b->item);
    imr_buf_puts(h->out, "<li");
    if (numbered)
        imr_buf_printf(h->out, " value=\"%d\"", number);
    if (it && numbered) /* a numbered determination: its decision as a class */
        imr_buf_printf(h->out, " class=\"%s\"", decision_class(it->decision));
    imr_buf_putc(h->out, '>');
    html_text(h->out, b->text);
    imr_buf_puts(h->out, "</li>\n");
}

static void put_item_title(html_state *h, const imr_letter_block *b)
{
    /* A 2013 notice goes from its Case Summary to the items with no heading between: the
     * first item ends the summary's section, so the items are not nested in it. */
    if (!h->item_open && h->r->layout == IMR_LAYOUT_NOTICE_2013)
        close_section(h);
    close_item(h);
    const imr_item *it = item_of(h, b->item);
    const char *cls = it ? decision_class(it->decision) : "undetermined";
    h->item_open = 1;
    h->item = b->item;
    imr_buf_printf(h->out, "<section class=\"disputed-item %s\">\n<h3><span class=\"request\">",
                   cls);
    html_text(h->out, b->label);
    imr_buf_puts(h->out, "</span>:");
    if (b->text) {
        imr_buf_printf(h->out, " <span class=\"decision %s\">", cls);
        html_text(h->out, b->text);
        imr_buf_puts(h->out, "</span>");
    }
    imr_buf_puts(h->out, "</h3>\n");
}

static void put_block(html_state *h, const imr_letter_block *b)
{
    if (b->kind != IMR_BLOCK_TITLE)
        close_header(h);
    if (b->kind != IMR_BLOCK_LIST_ITEM)
        close_list(h);
    if (b->kind != IMR_BLOCK_FIELD)
        close_fields(h);
    /* A block of another item (or of none) ends the open item's section. */
    if (h->item_open && b->item != h->item && b->kind != IMR_BLOCK_ITEM_TITLE)
        close_item(h);
    switch (b->kind) {
    case IMR_BLOCK_TITLE: put_title(h, b); break;
    case IMR_BLOCK_BANNER:
        imr_buf_puts(h->out, "<p class=\"banner\" role=\"note\">");
        html_text(h->out, b->text);
        imr_buf_puts(h->out, "</p>\n");
        break;
    case IMR_BLOCK_FIELD: put_field(h, b); break;
    case IMR_BLOCK_HEADING:
        if (h->item_open && b->item >= 0) { /* a heading inside an item (2013 notice) */
            imr_buf_puts(h->out, "<h4>");
            html_text(h->out, b->text);
            imr_buf_puts(h->out, "</h4>\n");
            break;
        }
        close_section(h);
        imr_buf_puts(h->out, "<section>\n<h2>");
        html_text(h->out, b->text);
        imr_buf_puts(h->out, "</h2>\n");
        h->in_section = 1;
        break;
    case IMR_BLOCK_LIST_ITEM: put_list_item(h, b); break;
    case IMR_BLOCK_ITEM_TITLE: put_item_title(h, b); break;
    case IMR_BLOCK_LABELED:
        imr_buf_puts(h->out, "<p class=\"labeled\"><span class=\"label\">");
        html_text(h->out, b->label);
        imr_buf_puts(h->out, ":</span>");
        if (b->text && *b->text)
            imr_buf_putc(h->out, ' ');
        html_text(h->out, b->text);
        imr_buf_puts(h->out, "</p>\n");
        break;
    case IMR_BLOCK_PARAGRAPH:
    default:
        imr_buf_puts(h->out, "<p>");
        html_text(h->out, b->text);
        imr_buf_puts(h->out, "</p>\n");
        break;
    }
}

static void put_head(imr_buf *out, const imr_record *r)
{
    imr_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                      "<meta name=\"generator\" content=\"imr " IMR_VERSION "\">\n<title>");
    if (r->case_number && *r->case_number)
        html_text(out, r->case_number);
    else
        imr_buf_puts(out, "Final Determination Letter");
    imr_buf_puts(out, "</title>\n<style>\n");
    imr_buf_puts(out, STYLE_SHEET);
    imr_buf_puts(out, "</style>\n</head>\n");
}

int imr_render_html(const imr_record *r, imr_buf *out, imr_error *err)
{
    if (!r)
        return imr_error_set(err, IMR_EX_SOFTWARE, "render", 0, "no record to render");
    imr_arena *a = imr_arena_new();
    imr_letter_block *blocks = NULL;
    size_t n = 0;
    int st = imr_letter_blocks(r, a, &blocks, &n, err);
    if (st) {
        imr_arena_free(a);
        return st;
    }
    int draft = r->status == IMR_STATUS_DRAFT;
    put_head(out, r);
    imr_buf_printf(out, "<body>\n<article class=\"letter%s\">\n", draft ? " draft" : "");
    if (draft)
        imr_buf_puts(out, "<div class=\"watermark\" aria-hidden=\"true\">DRAFT</div>\n");
    html_state h = {.r = r, .out = out, .item = -1};
    int has_title = 0;
    for (size_t i = 0; i < n; i++)
        has_title |= blocks[i].kind == IMR_BLOCK_TITLE;
    if (!has_title) {
        /* Letters of the FDL layout have no title line; the page still needs its h1. */
        imr_buf_puts(out, "<header class=\"letterhead\">\n<h1>Final Determination Letter</h1>\n");
        if (r->organization) {
            imr_buf_puts(out, "<p>");
            html_text(out, r->organization);
            imr_buf_puts(out, "</p>\n");
        }
        imr_buf_puts(out, "</header>\n");
    }
    for (size_t i = 0; i < n; i++)
        put_block(&h, &blocks[i]);
    close_header(&h);
    close_section(&h);
    imr_buf_puts(out, "</article>\n</body>\n</html>\n");
    imr_arena_free(a);
    return IMR_OK;
}
