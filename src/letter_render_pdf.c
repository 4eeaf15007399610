/*
 * letter_render_pdf.c - the letter as a PDF, typeset with pango and cairo.
 *
 * The record is laid out as blocks (imr_letter_blocks), each block is broken into lines,
 * the lines are placed on US Letter pages with one-inch margins, and only then drawn, so
 * that the footer can say "Page N of M". Lines break at spaces only, never inside a word
 * and never next to a lone or trailing hyphen, because the parser re-flows lines by joining
 * them with one space (or none after a "-"): breaking anywhere else would change the text
 * read back by imr_pdf_text. A vertical gap of a full line separates the blocks that the
 * text letter separates with a blank line; it is kept at the top of a page too, so that
 * letter_pdf.c can tell a new paragraph from one carried over. The DRAFT watermark is drawn
 * as outlines, not text, so that it stays out of the extracted text.
 */
#include "imr.h"

#include <cairo-pdf.h>
#include <pango/pangocairo.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE_W 612.0 /* US Letter, in points */
#define PAGE_H 792.0
#define MARGIN 72.0 /* one inch */
#define TEXT_W (PAGE_W - 2 * MARGIN)
#define LEADING 1.3      /* line pitch as a multiple of the font size */
#define BANNER_PAD 6.0   /* space between the draft banner's frame and its text */
#define SMALL_GAP 3.0    /* between blocks the text letter writes on adjacent lines */
#define MIN_TITLE_SIZE 8.0 /* titles shrink to fit one line, down to this size */
#define MAX_LINE_BYTES 1024 /* more than any line can hold: longer runs are not measured */

typedef struct text_style {
    const char *family;
    double size;
    int bold;     /* the whole block in bold */
    int centered;
    int label_bold; /* the label part in bold */
    int keep_with_next;
} text_style;

static const text_style STYLE_BODY = {"DejaVu Serif", 10.5, 0, 0, 1, 0};
static const text_style STYLE_TITLE = {"DejaVu Sans", 13.0, 1, 1, 1, 1};
static const text_style STYLE_SUBTITLE = {"DejaVu Sans", 11.0, 1, 1, 1, 1};
static const text_style STYLE_BANNER = {"DejaVu Sans", 11.0, 1, 1, 1, 0};
static const text_style STYLE_HEADING = {"DejaVu Sans", 11.0, 1, 0, 1, 1};
static const text_style STYLE_ITEM_TITLE = {"DejaVu Serif", 10.5, 1, 0, 1, 1};
static const text_style STYLE_LIST = {"DejaVu Serif", 10.5, 0, 0, 0, 0};
static const text_style STYLE_FOOTER = {"DejaVu Sans", 8.5, 0, 1, 0, 0};

/* One line of a block: a byte range of the block's text, and where it was placed. */
typedef struct pdf_line {
    size_t block;
    size_t start, end;
    int page;
    double y; /* top of the line box */
} pdf_line;

/* A block with its composed text: label, separator and text as the text letter writes
 * them. [0, label_end) is the label; [em_start, len) is the decision word, drawn in its
 * colour (em_start == len when there is none). */
typedef struct pdf_block {
    const imr_letter_block *src;
    const text_style *style;
    char *text;
    size_t len, label_end, em_start;
    imr_decision decision;
    double size; /* font size: the style's, or smaller for a title that must fit a line */
    double gap_before;
    double hang; /* indent of the lines after the first (list items) */
    size_t first_line, n_lines;
} pdf_block;

typedef struct pdf_doc {
    const imr_record *record;
    imr_arena *arena;
    PangoLayout *layout; /* reused for measuring and drawing */
    pdf_block *blocks;
    size_t n_blocks;
    pdf_line *lines;
    size_t n_lines, cap_lines;
    int n_pages;
} pdf_doc;

/* Under AddressSanitizer: fontconfig parses its configuration once per process and keeps
 * parts of it where LeakSanitizer cannot see them. That memory is not ours to free (our own
 * font map is released after every document), so those reports are suppressed. */
#if defined(__SANITIZE_ADDRESS__)
#define IMR_LSAN_SUPPRESSIONS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IMR_LSAN_SUPPRESSIONS 1
#endif
#endif
#ifdef IMR_LSAN_SUPPRESSIONS
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}
/* ... and quietly: the list of suppressions used would otherwise end every run's stderr. */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
    return "print_suppressions=0";
}
#endif

static cairo_status_t write_to_buf(void *closure, const unsigned char *data, unsigned int len)
{
    imr_buf_append(closure, (const char *)data, len);
    return CAIRO_STATUS_SUCCESS;
}

static double pitch(double size)
{
    return size * LEADING;
}

/* ---- composing blocks --------------------------------------------------------------- */

static const text_style *style_of(const imr_letter_block *b, int first_title)
{
    switch (b->kind) {
    case IMR_BLOCK_TITLE: return first_title ? &STYLE_TITLE : &STYLE_SUBTITLE;
    case IMR_BLOCK_BANNER: return &STYLE_BANNER;
    case IMR_BLOCK_HEADING: return &STYLE_HEADING;
    case IMR_BLOCK_ITEM_TITLE: return &STYLE_ITEM_TITLE;
    case IMR_BLOCK_LIST_ITEM: return &STYLE_LIST;
    default: return &STYLE_BODY;
    }
}

/* Space above a block. Where the text letter puts a blank line between two blocks there
 * is a gap that letter_pdf.c reads back as a paragraph break (more than half a line): a
 * full line, or three quarters of one under a heading. Blocks the text letter writes on
 * adjacent lines (title lines and fields, list items) get a hair of space. */
static double gap_between(const imr_letter_block *prev, const imr_letter_block *cur,
                          const text_style *st)
{
    if (!prev)
        return 0;
    int prev_line = prev->kind == IMR_BLOCK_TITLE || prev->kind == IMR_BLOCK_FIELD;
    int cur_line = cur->kind == IMR_BLOCK_TITLE || cur->kind == IMR_BLOCK_FIELD;
    if ((prev_line && cur_line) || (prev->kind == IMR_BLOCK_LIST_ITEM && cur->kind == IMR_BLOCK_LIST_ITEM))
        return SMALL_GAP;
    return prev->kind == IMR_BLOCK_HEADING ? 0.75 * pitch(st->size) : pitch(st->size);
}

/* Control characters would typeset as boxes; they are spaces here. */
static void copy_clean(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? ' ' : src[i];
}

/* The block's words as the text letter writes them (see letter_blocks.c): titles, banner,
 * headings and paragraphs are their text; fields and labelled paragraphs "label: text";
 * item titles "label:" and the decision; list items "label text". */
static void compose(pdf_doc *d, pdf_block *pb, const imr_letter_block *b)
{
    const char *label = NULL, *sep = "", *text = b->text ? b->text : "";
    switch (b->kind) {
    case IMR_BLOCK_FIELD:
    case IMR_BLOCK_LABELED:
        label = b->label ? b->label : "";
        sep = *text ? ": " : ":";
        break;
    case IMR_BLOCK_ITEM_TITLE:
        label = b->label ? b->label : "";
        sep = b->text ? ": " : ":";
        break;
    case IMR_BLOCK_LIST_ITEM:
        label = b->label;
        sep = label ? " " : "";
        break;
    default: break;
    }
    size_t ll = label ? strlen(label) : 0, sl = strlen(sep), tl = strlen(text);
    pb->text = imr_arena_alloc(d->arena, ll + sl + tl + 1);
    copy_clean(pb->text, label ? label : "", ll);
    memcpy(pb->text + ll, sep, sl);
    copy_clean(pb->text + ll + sl, text, tl);
    pb->len = ll + sl + tl;
    pb->label_end = ll + (sep[0] == ':' ? 1 : 0);
    pb->em_start = pb->len;
    pb->decision = IMR_DECISION_UNDETERMINED;
    if (b->item >= 0 && (size_t)b->item < d->record->n_items)
        pb->decision = d->record->items[b->item].decision;
    if (b->kind == IMR_BLOCK_ITEM_TITLE && tl)
        pb->em_start = ll + sl;
}

/* ---- measuring and drawing runs ----------------------------------------------------- */

static void decision_rgb(imr_decision dec, double rgb[3])
{
    static const double colours[3][3] = {{0.55, 0.38, 0.0}, {0.62, 0.08, 0.08}, {0.08, 0.42, 0.15}};
    int k = dec == IMR_DECISION_UPHELD ? 1 : dec == IMR_DECISION_OVERTURNED ? 2 : 0;
    memcpy(rgb, colours[k], sizeof colours[k]);
}

/* Put bytes [start, end) of a block into the layout, with its fonts and colours. */
static void set_run(PangoLayout *layout, const pdf_block *pb, size_t start, size_t end)
{
    const text_style *st = pb->style;
    PangoFontDescription *fd = pango_font_description_new();
    pango_font_description_set_family(fd, st->family);
    pango_font_description_set_size(fd, (gint)(pb->size * PANGO_SCALE));
    pango_font_description_set_weight(fd, st->bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(layout, fd);
    pango_font_description_free(fd);
    pango_layout_set_text(layout, pb->text + start, (int)(end - start));
    PangoAttrList *attrs = pango_attr_list_new();
    if (st->label_bold && !st->bold && pb->label_end > start) {
        PangoAttribute *a = pango_attr_weight_new(PANGO_WEIGHT_BOLD);
        a->start_index = 0;
        a->end_index = (guint)((pb->label_end < end ? pb->label_end : end) - start);
        pango_attr_list_insert(attrs, a);
    }
    if (pb->em_start < end) {
        double rgb[3];
        decision_rgb(pb->decision, rgb);
        size_t from = pb->em_start > start ? pb->em_start - start : 0;
        PangoAttribute *a = pango_attr_foreground_new((guint16)(rgb[0] * 65535), (guint16)(rgb[1] * 65535),
                                                      (guint16)(rgb[2] * 65535));
        a->start_index = (guint)from;
        a->end_index = (guint)(end - start);
        pango_attr_list_insert(attrs, a);
        a = pango_attr_weight_new(PANGO_WEIGHT_BOLD);
        a->start_index = (guint)from;
        a->end_index = (guint)(end - start);
        pango_attr_list_insert(attrs, a);
    }
    pango_layout_set_attributes(layout, attrs);
    pango_attr_list_unref(attrs);
}

static double run_width(PangoLayout *layout, const pdf_block *pb, size_t start, size_t end)
{
    if (end - start > MAX_LINE_BYTES)
        return 2 * PAGE_W;
    set_run(layout, pb, start, end);
    PangoRectangle logical;
    pango_layout_get_extents(layout, NULL, &logical);
    return logical.width / (double)PANGO_SCALE;
}

/* ---- breaking blocks into lines ----------------------------------------------------- */

static void push_line(pdf_doc *d, size_t block, size_t start, size_t end)
{
    if (d->n_lines == d->cap_lines) {
        d->cap_lines = d->cap_lines ? d->cap_lines * 2 : 256;
        d->lines = realloc(d->lines, d->cap_lines * sizeof *d->lines);
        if (!d->lines) {
            fputs("imr: out of memory\n", stderr);
            abort();
        }
    }
    d->lines[d->n_lines++] = (pdf_line){block, start, end, 0, 0};
}

/* May a line break between the word ending at `word_end` and the one starting at `next`?
 * Not next to a hyphen ("9792.20 - 9792.26" and "non- steroidal" stay together, so no line
 * ends with "-", which the parser would glue to the next), not before a word such as "2."
 * or "3)" (a line starting like a list item), and not between an item's "request:" and its
 * decision. */
static int can_break_at(const pdf_block *pb, size_t word_end, size_t next)
{
    const char *s = pb->text;
    size_t len = pb->len;
    if ((word_end > 0 && s[word_end - 1] == '-') || (next < len && s[next] == '-'))
        return 0;
    if (next == pb->em_start)
        return 0;
    size_t k = next;
    while (k < len && s[k] >= '0' && s[k] <= '9')
        k++;
    if (k > next && k < len && (s[k] == '.' || s[k] == ')') && (k + 1 == len || s[k + 1] == ' '))
        return 0;
    return 1;
}

/* End of the unbreakable unit that starts at `i` (a word, or words that must stay
 * together). A unit is never looked at beyond MAX_LINE_BYTES: longer is too wide anyway
 * and will be split, and the cap keeps one enormous "word" from being scanned per line. */
static size_t unit_end(const pdf_block *pb, size_t i)
{
    const char *s = pb->text;
    size_t len = pb->len, limit = i + MAX_LINE_BYTES;
    if (limit >= len)
        limit = len;
    else
        while (limit > i + 1 && ((unsigned char)s[limit] & 0xC0) == 0x80)
            limit--;
    for (;;) {
        while (i < limit && s[i] != ' ')
            i++;
        size_t j = i;
        while (j < limit && s[j] == ' ')
            j++;
        if (j >= limit || can_break_at(pb, i, j))
            return i;
        i = j;
    }
}

/* Split a unit too wide for any line at the last character that fits (after a hyphen in
 * it when there is one, which the parser then joins back without a space). */
static size_t split_point(pdf_doc *d, const pdf_block *pb, size_t start, size_t end, double avail)
{
    if (end - start > MAX_LINE_BYTES) {
        end = start + MAX_LINE_BYTES;
        while (end > start + 1 && ((unsigned char)pb->text[end] & 0xC0) == 0x80)
            end--;
    }
    set_run(d->layout, pb, start, end);
    int idx = 0, trailing = 0;
    pango_layout_xy_to_index(d->layout, (int)(avail * PANGO_SCALE), 0, &idx, &trailing);
    size_t cut = start + (size_t)idx;
    for (size_t k = cut; k > start + 1; k--)
        if (pb->text[k - 1] == '-') {
            cut = k;
            break;
        }
    if (cut <= start) { /* at least one character per line */
        cut = start + 1;
        while (cut < end && ((unsigned char)pb->text[cut] & 0xC0) == 0x80)
            cut++;
    }
    return cut;
}

/* Greedy line filling. Each unit is measured once, with the spaces before it, so the work
 * is linear in the text whatever the length of the lines. */
static void break_block(pdf_doc *d, size_t bi)
{
    pdf_block *pb = &d->blocks[bi];
    const char *s = pb->text;
    size_t len = pb->len, i = 0;
    pb->first_line = d->n_lines;
    while (i < len && s[i] == ' ')
        i++;
    size_t line_start = i, line_end = i; /* line_end: end of the last unit on the line */
    double line_w = 0;
    int first = 1;
    while (i < len) {
        size_t e = unit_end(pb, i);
        double avail = first ? TEXT_W : TEXT_W - pb->hang;
        int empty = line_end == line_start;
        double w = line_w + run_width(d->layout, pb, empty ? line_start : line_end, e);
        if (w > avail && !empty) { /* the unit goes to the next line */
            push_line(d, bi, line_start, line_end);
            first = 0;
            line_start = line_end = i;
            line_w = 0;
            continue;
        }
        if (w > avail) { /* alone and still too wide: split it */
            size_t cut = split_point(d, pb, line_start, e, avail);
            push_line(d, bi, line_start, cut);
            first = 0;
            line_start = line_end = i = cut;
            line_w = 0;
            continue;
        }
        line_end = e;
        line_w = w;
        i = e;
        while (i < len && s[i] == ' ')
            i++;
    }
    if (line_end > line_start || d->n_lines == pb->first_line)
        push_line(d, bi, line_start, line_end);
    pb->n_lines = d->n_lines - pb->first_line;
}

/* ---- pagination --------------------------------------------------------------------- */

static double block_height(const pdf_block *pb)
{
    return pb->n_lines * pitch(pb->size);
}

/* Space a block needs at the bottom of a page before it may start there: all of a
 * heading and what it must stay with, or two lines of anything else. */
static double space_needed(const pdf_doc *d, size_t bi)
{
    double need = 0;
    for (size_t k = bi; k < d->n_blocks; k++) {
        const pdf_block *pb = &d->blocks[k];
        if (k > bi)
            need += pb->gap_before;
        if (!pb->style->keep_with_next || k + 1 == d->n_blocks || k - bi >= 4)
            return need + (pb->n_lines < 2 ? pb->n_lines : 2) * pitch(pb->size);
        need += block_height(pb);
    }
    return need;
}

static void paginate(pdf_doc *d)
{
    const double bottom = PAGE_H - MARGIN;
    int page = 0;
    double y = MARGIN;
    for (size_t bi = 0; bi < d->n_blocks; bi++) {
        pdf_block *pb = &d->blocks[bi];
        double p = pitch(pb->size);
        double gap = bi == 0 ? 0 : pb->gap_before;
        if (y > MARGIN && y + gap + space_needed(d, bi) > bottom) {
            page++;
            y = MARGIN;
        }
        y += gap;
        for (size_t k = 0; k < pb->n_lines; k++) {
            int last_two = pb->n_lines >= 4 && k == pb->n_lines - 2;
            if (y + p > bottom || (last_two && y + 2 * p > bottom)) {
                page++;
                y = MARGIN;
            }
            pdf_line *l = &d->lines[pb->first_line + k];
            l->page = page;
            l->y = y;
            y += p;
        }
    }
    d->n_pages = page + 1;
}

/* ---- drawing ------------------------------------------------------------------------ */

static void draw_watermark(cairo_t *cr, PangoLayout *layout)
{
    PangoFontDescription *fd = pango_font_description_from_string("DejaVu Sans Bold 110");
    pango_layout_set_font_description(layout, fd);
    pango_font_description_free(fd);
    pango_layout_set_attributes(layout, NULL);
    pango_layout_set_text(layout, "DRAFT", -1);
    PangoRectangle ink;
    pango_layout_get_extents(layout, NULL, &ink);
    cairo_save(cr);
    cairo_translate(cr, PAGE_W / 2, PAGE_H / 2);
    cairo_rotate(cr, -0.9);
    cairo_move_to(cr, -ink.width / (2.0 * PANGO_SCALE), -ink.height / (2.0 * PANGO_SCALE));
    pango_cairo_layout_path(cr, layout);
    cairo_set_source_rgb(cr, 0.90, 0.90, 0.90);
    cairo_fill(cr);
    cairo_restore(cr);
}

static void draw_footer(cairo_t *cr, PangoLayout *layout, int page, int n_pages)
{
    char text[64];
    snprintf(text, sizeof text, "Page %d of %d", page, n_pages);
    pdf_block fb = {.style = &STYLE_FOOTER, .text = text, .len = strlen(text), .size = STYLE_FOOTER.size};
    fb.em_start = fb.len;
    double w = run_width(layout, &fb, 0, fb.len);
    cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
    cairo_move_to(cr, (PAGE_W - w) / 2, PAGE_H - MARGIN / 2 - STYLE_FOOTER.size);
    pango_cairo_show_layout(cr, layout);
}

static void draw_banner_frame(cairo_t *cr, double top, double bottom)
{
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.62, 0.08, 0.08);
    cairo_set_line_width(cr, 2.0);
    cairo_rectangle(cr, MARGIN - BANNER_PAD, top - BANNER_PAD, TEXT_W + 2 * BANNER_PAD,
                    bottom - top + 2 * BANNER_PAD);
    cairo_stroke(cr);
    cairo_restore(cr);
}

static void draw_line(pdf_doc *d, cairo_t *cr, const pdf_line *l)
{
    const pdf_block *pb = &d->blocks[l->block];
    double x = MARGIN;
    if (l != &d->lines[pb->first_line])
        x += pb->hang;
    double w = run_width(d->layout, pb, l->start, l->end);
    if (pb->style->centered)
        x = MARGIN + (TEXT_W - w) / 2;
    if (pb->src->kind == IMR_BLOCK_BANNER)
        cairo_set_source_rgb(cr, 0.62, 0.08, 0.08);
    else
        cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, x, l->y);
    pango_cairo_show_layout(cr, d->layout);
}

static void draw_pages(pdf_doc *d, cairo_t *cr)
{
    size_t li = 0;
    for (int page = 0; page < d->n_pages; page++) {
        if (d->record->status == IMR_STATUS_DRAFT)
            draw_watermark(cr, d->layout);
        double frame_top = 0, frame_bottom = -1;
        for (; li < d->n_lines && d->lines[li].page == page; li++) {
            const pdf_line *l = &d->lines[li];
            const pdf_block *pb = &d->blocks[l->block];
            if (pb->src->kind == IMR_BLOCK_BANNER) {
                if (frame_bottom < frame_top)
                    frame_top = l->y;
                frame_bottom = l->y + pitch(pb->size);
            } else if (frame_bottom >= frame_top) {
                draw_banner_frame(cr, frame_top, frame_bottom);
                frame_bottom = frame_top - 1;
            }
            draw_line(d, cr, l);
        }
        if (frame_bottom >= frame_top)
            draw_banner_frame(cr, frame_top, frame_bottom);
        draw_footer(cr, d->layout, page + 1, d->n_pages);
        cairo_show_page(cr);
    }
}

/* ---- the document ------------------------------------------------------------------- */

static void set_metadata(cairo_surface_t *surface, const imr_record *r)
{
    const char *title = r->case_number && *r->case_number ? r->case_number : "Final Determination Letter";
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_SUBJECT,
                                   r->status == IMR_STATUS_DRAFT
                                       ? "Independent Medical Review: draft determination"
                                       : "Independent Medical Review: Final Determination Letter");
    if (r->organization)
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_AUTHOR, r->organization);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "imr " IMR_VERSION);
    /* Reproducible output: SOURCE_DATE_EPOCH, when set, fixes the dates cairo writes. */
    const char *epoch = getenv("SOURCE_DATE_EPOCH");
    if (epoch && *epoch) {
        char *end = NULL;
        long long secs = strtoll(epoch, &end, 10);
        struct tm tm;
        time_t t = (time_t)secs;
        char iso[32];
        if (end && !*end && secs >= 0 && gmtime_r(&t, &tm) &&
            strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, iso);
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_MOD_DATE, iso);
        }
    }
}

static void lay_out(pdf_doc *d, const imr_letter_block *blocks, size_t n)
{
    d->blocks = imr_arena_alloc(d->arena, (n ? n : 1) * sizeof *d->blocks);
    d->n_blocks = n;
    int titles = 0;
    for (size_t i = 0; i < n; i++) {
        pdf_block *pb = &d->blocks[i];
        pb->src = &blocks[i];
        pb->style = style_of(&blocks[i], blocks[i].kind == IMR_BLOCK_TITLE && titles++ == 0);
        compose(d, pb, &blocks[i]);
        pb->size = pb->style->size;
        if (pb->style->centered) { /* titles and the banner stay on one line if they can */
            double w = run_width(d->layout, pb, 0, pb->len);
            if (w > TEXT_W)
                pb->size = pb->size * TEXT_W / w > MIN_TITLE_SIZE ? pb->size * TEXT_W / w - 0.05
                                                                  : MIN_TITLE_SIZE;
        }
        pb->gap_before = gap_between(i ? &blocks[i - 1] : NULL, &blocks[i], pb->style);
        if (blocks[i].kind == IMR_BLOCK_LIST_ITEM && blocks[i].label && pb->label_end < pb->len)
            pb->hang = run_width(d->layout, pb, 0, pb->label_end + 1);
        if (pb->hang > TEXT_W / 3)
            pb->hang = 0;
        break_block(d, i);
    }
    paginate(d);
}

int imr_render_pdf(const imr_record *r, imr_buf *out, imr_error *err)
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
    imr_buf pdf = IMR_BUF_INIT;
    cairo_surface_t *surface = cairo_pdf_surface_create_for_stream(write_to_buf, &pdf, PAGE_W, PAGE_H);
    set_metadata(surface, r);
    cairo_t *cr = cairo_create(surface);
    /* A font map of our own, released with the document: the shared default one keeps
     * caches for the life of the thread. */
    PangoFontMap *fonts = pango_cairo_font_map_new();
    PangoContext *ctx = pango_font_map_create_context(fonts);
    pango_cairo_update_context(cr, ctx);
    pango_cairo_context_set_resolution(ctx, 72); /* font sizes in points = PDF units */
    pdf_doc d = {.record = r, .arena = a, .layout = pango_layout_new(ctx)};
    lay_out(&d, blocks, n);
    draw_pages(&d, cr);
    g_object_unref(d.layout);
    g_object_unref(ctx);
    g_object_unref(fonts);
    cairo_destroy(cr);
    cairo_surface_finish(surface);
    cairo_status_t cs = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    free(d.lines);
    imr_arena_free(a);
    if (cs != CAIRO_STATUS_SUCCESS) {
        imr_buf_free(&pdf);
        return imr_error_set(err, IMR_EX_SOFTWARE, "render", 0, "PDF output failed: %s",
                             cairo_status_to_string(cs));
    }
    imr_buf_append(out, pdf.data, pdf.len);
    imr_buf_free(&pdf);
    return IMR_OK;
}
