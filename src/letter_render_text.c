/*
 * letter_render_text.c - a record as a plain-text letter: the blocks of letter_blocks.c
 * written one after the other, paragraphs wrapped at `width` columns and separated by one
 * blank line, header and title lines kept together, no trailing spaces.
 *
 * Wrapping never breaks a line where the parser (or the comparison of texts after
 * re-flow) would read something else: not after a word ending in "-" (re-flow joins such a
 * line to the next without a space), not between "<request>:" and its decision, and not
 * before a lone "-" or a number such as "2." that would start a line like a list item.
 */
#include "reflow.h"

#include <string.h>

/* Columns taken by s[0..n) (UTF-8 code points). */
static size_t columns(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static int is_decision_word(const char *w, size_t n)
{
    return (n == 6 && memcmp(w, "Upheld", 6) == 0) || (n == 10 && memcmp(w, "Overturned", 10) == 0) ||
           (n == 12 && memcmp(w, "Undetermined", 12) == 0);
}

typedef struct word {
    const char *s;
    size_t n;
} word;

static int ends_with_colon(word w)
{
    return w.n && w.s[w.n - 1] == ':';
}

/* May a line break come between `prev` and `next` (`before` is the word before `prev`)? */
static int may_break(word before, word prev, word next)
{
    if (prev.n && prev.s[prev.n - 1] == '-')
        return 0;
    /* keep "...: Upheld" off the end of a line: it would read as an item title */
    if (ends_with_colon(prev) && is_decision_word(next.s, next.n))
        return 0;
    if (ends_with_colon(before) && is_decision_word(prev.s, prev.n))
        return 0;
    const char *w = next.s;
    size_t nn = next.n;
    if (nn == 1 && w[0] == '-')
        return 0;
    size_t d = 0;
    while (d < nn && w[d] >= '0' && w[d] <= '9')
        d++;
    if (d > 0 && d + 1 == nn && (w[d] == '.' || w[d] == ')'))
        return 0;
    return 1;
}

/* One byte, written in place when the buffer has room (the common case). */
static inline void put_byte(imr_buf *out, char c)
{
    if (out->len + 1 < out->cap) {
        out->data[out->len++] = c;
        out->data[out->len] = '\0';
    } else {
        imr_buf_putc(out, c);
    }
}

static inline int is_gap(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Append n bytes, copied in place when the buffer has room. */
static inline void put_bytes(imr_buf *out, const char *s, size_t n)
{
    if (out->len + n < out->cap) {
        memcpy(out->data + out->len, s, n);
        out->len += n;
        out->data[out->len] = '\0';
    } else {
        imr_buf_append(out, s, n);
    }
}

/* Write `first` then the words of `text`, wrapped at `width`; continuation lines start
 * with `indent` spaces. */
static void wrap(imr_buf *out, const char *first, const char *text, size_t indent, size_t width)
{
    size_t first_len = strlen(first);
    size_t col = columns(first, first_len);
    imr_buf_append(out, first, first_len);
    word before = {"", 0}, prev = {NULL, 0};
    const char *s = text ? text : "";
    int at_start = col == 0 || first[first_len - 1] == ' ';
    while (*s) {
        while (is_gap(*s))
            s++;
        if (!*s)
            break;
        /* the word and its width in columns (UTF-8 continuation bytes take none) */
        const char *w = s;
        unsigned high = 0;
        /* most bytes are above ' ', which ends the test at once */
        for (unsigned char c; (c = (unsigned char)*s) > ' ' || (c && !is_gap((char)c)); s++)
            high |= c;
        size_t wn = (size_t)(s - w), wc = high & 0x80 ? columns(w, wn) : wn;
        word next = {w, wn};
        if (!at_start) {
            if (col + 1 + wc > width && prev.s && may_break(before, prev, next)) {
                put_byte(out, '\n');
                for (size_t k = 0; k < indent; k++)
                    put_byte(out, ' ');
                col = indent;
            } else {
                put_byte(out, ' ');
                col++;
            }
        }
        put_bytes(out, w, wn);
        col += wc;
        at_start = 0;
        before = prev.s ? prev : before;
        prev = next;
    }
    /* no trailing space when the text was empty ("Decision rationale:" alone) */
    while (out->len && out->data[out->len - 1] == ' ')
        out->data[--out->len] = '\0';
    put_byte(out, '\n');
}

/* What snprintf(dst, cap, "%s%s", a, b) writes: a then b, cut to cap - 1 bytes. */
static void join2(char *dst, size_t cap, const char *a, const char *b)
{
    size_t n = 0;
    for (const char *p = a; *p && n + 1 < cap; p++)
        dst[n++] = *p;
    for (const char *p = b; *p && n + 1 < cap; p++)
        dst[n++] = *p;
    dst[n] = '\0';
}

/* Blocks written on consecutive lines, without a blank line between them. */
static int tight(imr_block_kind prev, imr_block_kind cur)
{
    int prev_line = prev == IMR_BLOCK_TITLE || prev == IMR_BLOCK_FIELD;
    int cur_line = cur == IMR_BLOCK_TITLE || cur == IMR_BLOCK_FIELD;
    return (prev_line && cur_line) || (prev == IMR_BLOCK_LIST_ITEM && cur == IMR_BLOCK_LIST_ITEM);
}

static void block_text(imr_buf *out, const imr_letter_block *b, size_t width)
{
    const char *label = b->label ? b->label : "";
    const char *text = b->text ? b->text : "";
    switch (b->kind) {
    case IMR_BLOCK_FIELD:
        imr_buf_puts(out, label);
        imr_buf_append(out, ": ", 2);
        imr_buf_puts(out, text);
        while (out->len && out->data[out->len - 1] == ' ')
            out->data[--out->len] = '\0';
        imr_buf_putc(out, '\n');
        break;
    case IMR_BLOCK_LABELED: {
        char first[300];
        join2(first, sizeof first, label, ": ");
        wrap(out, first, text, 0, width);
        break;
    }
    case IMR_BLOCK_ITEM_TITLE: {
        imr_buf t = IMR_BUF_INIT;
        imr_buf_puts(&t, label);
        imr_buf_puts(&t, b->text ? ": " : ":");
        imr_buf_puts(&t, text);
        wrap(out, "", t.data, 0, width);
        imr_buf_free(&t);
        break;
    }
    case IMR_BLOCK_LIST_ITEM:
        if (!b->label) {
            imr_buf_puts(out, text);
            put_byte(out, '\n');
        } else {
            char first[64];
            join2(first, sizeof first, label, " ");
            wrap(out, first, text, strlen(first), width);
        }
        break;
    case IMR_BLOCK_PARAGRAPH: wrap(out, "", text, 0, width); break;
    default: /* TITLE, BANNER, HEADING: one line as written */
        imr_buf_puts(out, text);
        put_byte(out, '\n');
        break;
    }
}

int imr_render_text(const imr_record *r, int width, imr_buf *out, imr_error *err)
{
    if (width <= 0)
        width = 95;
    imr_arena *a = imr_arena_new();
    imr_letter_block *v = NULL;
    size_t n = 0;
    int st = imr_letter_blocks(r, a, &v, &n, err);
    if (st == IMR_OK) {
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && !tight(v[i - 1].kind, v[i].kind))
                put_byte(out, '\n');
            block_text(out, &v[i], (size_t)width);
        }
    }
    imr_arena_free(a);
    return st;
}
