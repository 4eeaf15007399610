/*
 * json_write.c - the streaming JSON writer (see json_write.h).
 */
#include "json_write.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* imr_buf_append and imr_buf_putc without the call when the bytes fit (most of the time):
 * the writer makes many small appends. Same contract: data stays NUL-terminated. */
static inline void put(imr_buf *b, const char *s, size_t n)
{
    if (b->data && b->len + n < b->cap) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
    } else {
        imr_buf_append(b, s, n);
    }
}

static inline void put_c(imr_buf *b, char c)
{
    put(b, &c, 1);
}

void jw_init(jw *w, imr_buf *b, int pretty)
{
    memset(w, 0, sizeof *w);
    w->b = b;
    w->pretty = pretty;
}

static void newline_indent(jw *w, int depth)
{
    static const char spaces[] = "                                                                ";
    put_c(w->b, '\n');
    int n = depth * 2;
    while (n > 0) {
        int k = n > (int)sizeof spaces - 1 ? (int)sizeof spaces - 1 : n;
        put(w->b, spaces, (size_t)k);
        n -= k;
    }
}

/* Before any value or key: the separator from the previous sibling. */
static void before_value(jw *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth == 0)
        return;
    if (w->count[w->depth]++ > 0)
        put_c(w->b, ',');
    if (w->pretty)
        newline_indent(w, w->depth);
}

static void jw_open(jw *w, char c)
{
    before_value(w);
    put_c(w->b, c);
    if (w->depth + 1 < JW_MAX_DEPTH)
        w->depth++;
    w->count[w->depth] = 0;
}

static void jw_close(jw *w, char c)
{
    int had = w->count[w->depth] > 0;
    if (w->depth > 0)
        w->depth--;
    if (had && w->pretty)
        newline_indent(w, w->depth);
    put_c(w->b, c);
}

void jw_obj_begin(jw *w) { jw_open(w, '{'); }
void jw_obj_end(jw *w) { jw_close(w, '}'); }
void jw_arr_begin(jw *w) { jw_open(w, '['); }
void jw_arr_end(jw *w) { jw_close(w, ']'); }

/* 1 for the bytes copied as they are: printable ASCII but the quote and the backslash. */
static const unsigned char PLAIN[256] = {
    ['\x20'] = 1, ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['('] = 1,
    [')'] = 1, ['*'] = 1, ['+'] = 1, [','] = 1, ['-'] = 1, ['.'] = 1, ['/'] = 1, ['0'] = 1,
    ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1,
    ['9'] = 1, [':'] = 1, [';'] = 1, ['<'] = 1, ['='] = 1, ['>'] = 1, ['?'] = 1, ['@'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1, ['['] = 1, [']'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['a'] = 1,
    ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
    ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1,
    ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1,
    ['z'] = 1, ['{'] = 1, ['|'] = 1, ['}'] = 1, ['~'] = 1, ['\x7f'] = 1,
};

/* 1 when one of the 8 bytes in `v` is not PLAIN: below 0x20, a quote, a backslash, or
 * 0x80 and above. Exact (the classic "has a zero byte" test, borrows cannot give a false
 * answer for the word as a whole), so a clean word is copied without looking at its bytes. */
static int word_needs_care(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t quote = v ^ (ones * '"'), backslash = v ^ (ones * '\\');
    uint64_t control = (v - ones * 0x20) & ~v;
    uint64_t zero_q = (quote - ones) & ~quote, zero_b = (backslash - ones) & ~backslash;
    return ((control | zero_q | zero_b) & highs) != 0 || (v & highs) != 0;
}

/* Length of the run of PLAIN bytes at the start of `p`: 8 bytes at a time, then bytewise
 * within the word that holds the first byte needing care. */
static size_t plain_run(const unsigned char *p, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, sizeof v);
        if (word_needs_care(v))
            break;
    }
    while (i < len && PLAIN[p[i]])
        i++;
    return i;
}

static void put_escaped(imr_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = plain_run(p, len);
    put_c(b, '"');
    if (i)
        put(b, s, i);
    while (i < len) {
        unsigned c = p[i];
        if (c >= 0x80) {
            /* copy a valid UTF-8 sequence as it is, else write U+FFFD */
            size_t bad = 0, need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
            if (need && i + need <= len && imr_utf8_valid((const char *)p + i, need, &bad)) {
                put(b, (const char *)p + i, need);
                i += need;
            } else {
                put(b, "\xef\xbf\xbd", 3);
                i++;
            }
        } else {
            char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
            size_t n = 2;
            switch (c) {
            case '"': esc[1] = '"'; break;
            case '\\': esc[1] = '\\'; break;
            case '\n': esc[1] = 'n'; break;
            case '\r': esc[1] = 'r'; break;
            case '\t': esc[1] = 't'; break;
            case '\b': esc[1] = 'b'; break;
            case '\f': esc[1] = 'f'; break;
            default:
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                n = 6;
            }
            put(b, esc, n);
            i++;
        }
        size_t run = plain_run(p + i, len - i);
        if (run)
            put(b, (const char *)p + i, run);
        i += run;
    }
    put_c(b, '"');
}

void jw_key(jw *w, const char *key)
{
    before_value(w);
    put_escaped(w->b, key, strlen(key));
    put(w->b, w->pretty ? ": " : ":", w->pretty ? 2 : 1);
    w->after_key = 1;
}

void jw_strn(jw *w, const char *s, size_t len)
{
    before_value(w);
    put_escaped(w->b, s, len);
}

void jw_str(jw *w, const char *s)
{
    if (!s)
        jw_null(w);
    else
        jw_strn(w, s, strlen(s));
}

void jw_int(jw *w, long long v)
{
    before_value(w);
    char digits[24], *d = digits + sizeof digits;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do
        *--d = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        *--d = '-';
    put(w->b, d, (size_t)(digits + sizeof digits - d));
}

void jw_real(jw *w, double v)
{
    before_value(w);
    if (!isfinite(v)) {
        put(w->b, "null", 4);
        return;
    }
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.6g", v);
    put(w->b, tmp, strlen(tmp));
    if (!strpbrk(tmp, ".eE"))
        put(w->b, ".0", 2);
}

void jw_bool(jw *w, int v)
{
    before_value(w);
    put(w->b, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(jw *w)
{
    before_value(w);
    put(w->b, "null", 4);
}

void jw_kstr(jw *w, const char *key, const char *s)
{
    jw_key(w, key);
    jw_str(w, s);
}

void jw_kint(jw *w, const char *key, long long v)
{
    jw_key(w, key);
    if (v < 0)
        jw_null(w);
    else
        jw_int(w, v);
}

void jw_klist(jw *w, const char *key, const imr_strlist *l)
{
    jw_key(w, key);
    jw_arr_begin(w);
    for (size_t i = 0; i < l->n; i++)
        jw_str(w, l->v[i]);
    jw_arr_end(w);
}
