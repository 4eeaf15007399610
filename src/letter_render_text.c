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

#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

#ifdef __SSE2__
/* For the 64 bytes at p: bit k of *sp when p[k] is a space, of *clean when p[k] is in
 * 0x21..0x7F (a signed compare leaves out controls, spaces and bytes >= 0x80). */
static void masks64(const char *p, uint64_t *sp, uint64_t *clean)
{
    const __m128i space = _mm_set1_epi8(' ');
    uint64_t a = 0, b = 0;
    for (int k = 0; k < 4; k++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        a |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, space)) << (16 * k);
        b |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpgt_epi8(x, space)) << (16 * k);
    }
    *sp = a;
    *clean = b;
}
#endif

/* The fast path of wrap. `s` points at the space after the last word written (`avail`
 * bytes from s to the end of the text, NUL included after them) and `room` columns are left
 * on the line. Returns the length of the longest run s[0..q) of whole words that fits in
 * `room` and needs no decision: ASCII only, exactly one space before each word, ending at
 * the end of a word. Copied as it stands, such a run lands exactly where the word-by-word
 * loop would put it (a word fits when the run up to its end fits). 0 when there is none. */
static size_t fitting_run(const char *s, size_t avail, size_t room)
{
    size_t lim = room < avail ? room : avail; /* the run's end q is at most lim */
    size_t best = 0;
#ifdef __SSE2__
    /* 64 bytes at a time; the text's last bytes (NUL included) are copied to a zeroed
     * block so that no load reads past the text */
    uint64_t carry = 0; /* 1 when the byte before the block is a space */
    for (size_t o = 0;; o += 64) {
        uint64_t sp, clean;
        if (o + 64 <= avail + 1) {
            masks64(s + o, &sp, &clean);
        } else {
            char tail[64] = {0};
            memcpy(tail, s + o, avail + 1 - o);
            masks64(tail, &sp, &clean);
        }
        uint64_t stop = ~(sp | clean) | (sp & ((sp << 1) | carry));
        uint64_t in_range = lim - o >= 63 ? ~(uint64_t)0 : ((uint64_t)2 << (lim - o)) - 1;
        uint64_t ends = sp & in_range & (o ? ~(uint64_t)0 : ~(uint64_t)1);
        stop &= in_range;
        if (stop) {
            unsigned f = (unsigned)__builtin_ctzll(stop);
            ends &= ((uint64_t)1 << f) - 1;
            unsigned char c = (unsigned char)s[o + f];
            uint64_t prev_space = f ? (sp >> (f - 1)) & 1 : carry;
            if (!prev_space && (c == '\0' || is_gap((char)c)))
                ends |= (uint64_t)1 << f;
            return ends ? o + 63 - (size_t)__builtin_clzll(ends) : best;
        }
        if (ends)
            best = o + 63 - (size_t)__builtin_clzll(ends);
        if (o + 63 >= lim)
            return best;
        carry = sp >> 63;
    }
#else
    for (size_t p = 1; p <= lim; p++) {
        unsigned char c = (unsigned char)s[p];
        if (c == ' ') {
            if (s[p - 1] == ' ')
                break;
            best = p;
        } else if (c < 0x21 || c >= 0x80) {
            if ((c == '\0' || is_gap((char)c)) && s[p - 1] != ' ')
                best = p;
            break;
        }
    }
    return best;
#endif
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
    const char *end = s + strlen(s);
    int at_start = col == 0 || first[first_len - 1] == ' ';
    int after_run = 0; /* a run was just copied: being the longest, the next word needs the loop */
    while (*s) {
        size_t q = !at_start && !after_run && *s == ' ' && col < width
                       ? fitting_run(s, (size_t)(end - s), width - col) : 0;
        after_run = q != 0;
        if (q) {
            put_bytes(out, s, q);
            col += q;
            /* the run's last two words become `before` and `prev`, as the loop below sets them */
            const char *e = s + q, *w = e;
            while (w[-1] != ' ')
                w--;
            if (w - 1 > s) {
                const char *v = w - 1;
                while (v[-1] != ' ')
                    v--;
                before = (word){v, (size_t)(w - 1 - v)};
            } else if (prev.s)
                before = prev;
            prev = (word){w, (size_t)(e - w)};
            s = e;
            continue;
        }
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
