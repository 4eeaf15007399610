/*
 * json_write.c - the streaming JSON writer (see json_write.h).
 *
 * Each call reserves its worst case in the buffer once and then stores bytes with no
 * further checks; the buffer is NUL-terminated again when the call returns. A string may
 * grow six-fold (a control byte becomes \u00XX), so long strings are escaped in chunks to
 * keep the reservation bounded. Strings are scanned 16 bytes at a time with SSE2, 8 at a
 * time elsewhere (or with IMR_JSON_PORTABLE defined); both paths write the same bytes.
 */
#include "json_write.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__SSE2__) && defined(__GNUC__) && !defined(IMR_JSON_PORTABLE)
#define JW_SSE2 1
#include <emmintrin.h>
#endif

/* Source bytes escaped per reservation. */
#define ESCAPE_CHUNK 16384
/* Room beyond the worst case: the scanner's 16-byte stores may run past the bytes they keep,
 * a UTF-8 sequence may end 3 bytes past a chunk, and the closing quote. */
#define SLACK 48
/* Room for a separator: comma, newline and the deepest indent. */
#define SEP_ROOM (2 + 2 * JW_MAX_DEPTH)

/* Where the next `n` bytes go, with room for them and the NUL. */
static inline char *room(imr_buf *b, size_t n)
{
    if (b->len + n >= b->cap)
        imr_buf_reserve(b, n);
    return b->data + b->len;
}

/* The bytes up to `end` are written: take them into the buffer and terminate it. */
static inline void commit(imr_buf *b, char *end)
{
    *end = '\0';
    b->len = (size_t)(end - b->data);
}

/* The room asked for a string of `len` bytes: its worst case, up to one chunk. */
static inline size_t escaped_room(size_t len)
{
    return 6 * (len < ESCAPE_CHUNK ? len : ESCAPE_CHUNK) + SLACK;
}

void jw_init(jw *w, imr_buf *b, int pretty)
{
    memset(w, 0, sizeof *w);
    w->b = b;
    w->pretty = pretty;
}

static inline char *newline_indent(char *d, int depth)
{
    *d++ = '\n';
    memset(d, ' ', (size_t)depth * 2);
    return d + (size_t)depth * 2;
}

/* Before any value or key: the separator from the previous sibling (SEP_ROOM bytes). */
static inline char *separator(jw *w, char *d)
{
    if (w->after_key) {
        w->after_key = 0;
        return d;
    }
    if (w->depth == 0)
        return d;
    if (w->count[w->depth]++ > 0)
        *d++ = ',';
    if (w->pretty)
        d = newline_indent(d, w->depth);
    return d;
}

static void jw_open(jw *w, char c)
{
    char *d = separator(w, room(w->b, SEP_ROOM + 1));
    *d++ = c;
    commit(w->b, d);
    if (w->depth + 1 < JW_MAX_DEPTH)
        w->depth++;
    w->count[w->depth] = 0;
}

static void jw_close(jw *w, char c)
{
    int had = w->count[w->depth] > 0;
    if (w->depth > 0)
        w->depth--;
    char *d = room(w->b, SEP_ROOM + 1);
    if (had && w->pretty)
        d = newline_indent(d, w->depth);
    *d++ = c;
    commit(w->b, d);
}

void jw_obj_begin(jw *w) { jw_open(w, '{'); }
void jw_obj_end(jw *w) { jw_close(w, '}'); }
void jw_arr_begin(jw *w) { jw_open(w, '['); }
void jw_arr_end(jw *w) { jw_close(w, ']'); }

/* ---------------------------------------------------------------- strings */

#if !defined(JW_SSE2) || !defined(NDEBUG)
/* Bytes copied as they are: printable ASCII and DEL, but the quote and the backslash. */
static inline int is_plain(unsigned c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}
#endif

#ifdef JW_SSE2
/* 0xFF in each byte of `v` that needs care: below 0x20 or 0x80 and above (one signed
 * comparison catches both), the quote and the backslash; 0 elsewhere. */
static inline __m128i special_bytes(__m128i v)
{
    __m128i low_or_high = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
    __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    return _mm_or_si128(low_or_high, _mm_or_si128(quote, backslash));
}

/* The same as one bit per byte. */
static inline unsigned special16(__m128i v)
{
    return (unsigned)_mm_movemask_epi8(special_bytes(v));
}

/* Fewer than 16 bytes from `s` into a zeroed 16-byte block, with overlapping fixed-size
 * copies instead of a byte loop. */
static inline __m128i load_short(const unsigned char *s, size_t n)
{
    unsigned char t[16] = {0};
    if (n >= 8) {
        memcpy(t, s, 8);
        memcpy(t + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(t, s, 4);
        memcpy(t + n - 4, s + n - 4, 4);
    } else if (n > 0) {
        t[0] = s[0];
        t[n / 2] = s[n / 2];
        t[n - 1] = s[n - 1];
    }
    return _mm_loadu_si128((const __m128i *)t);
}

/* Copies the run of plain bytes at the start of `s` (at most `n`) to `d` and returns its
 * length. Stores whole 16-byte blocks: `d` needs 16 bytes of room past the run. */
static inline size_t copy_plain(char *d, const unsigned char *s, size_t n)
{
    size_t k = 0;
    for (; k + 32 <= n; k += 32) { /* two blocks a step: one test for both */
        __m128i a = _mm_loadu_si128((const __m128i *)(s + k));
        __m128i b = _mm_loadu_si128((const __m128i *)(s + k + 16));
        _mm_storeu_si128((__m128i *)(d + k), a);
        _mm_storeu_si128((__m128i *)(d + k + 16), b);
        __m128i sa = special_bytes(a), sb = special_bytes(b);
        if (_mm_movemask_epi8(_mm_or_si128(sa, sb))) {
            unsigned m = (unsigned)_mm_movemask_epi8(sa) | (unsigned)_mm_movemask_epi8(sb) << 16;
            return k + (size_t)__builtin_ctz(m);
        }
    }
    for (; k + 16 <= n; k += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + k));
        _mm_storeu_si128((__m128i *)(d + k), v);
        unsigned m = special16(v);
        if (m)
            return k + (size_t)__builtin_ctz(m);
    }
    if (k == n)
        return k;
    __m128i v = load_short(s + k, n - k);
    _mm_storeu_si128((__m128i *)(d + k), v);
    unsigned m = special16(v) | (~0u << (n - k)); /* the bytes past the end stop the run */
    return k + (size_t)__builtin_ctz(m);
}
#else
/* 1 when one of the 8 bytes in `v` is not plain. Exact (the classic "has a zero byte"
 * test; borrows cannot give a false answer for the word as a whole). */
static inline int word_needs_care(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t quote = v ^ (ones * '"'), backslash = v ^ (ones * '\\');
    uint64_t control = (v - ones * 0x20) & ~v;
    uint64_t zero_q = (quote - ones) & ~quote, zero_b = (backslash - ones) & ~backslash;
    return ((control | zero_q | zero_b | v) & highs) != 0;
}

/* As the SSE2 version: 8 bytes at a time, then bytewise. */
static inline size_t copy_plain(char *d, const unsigned char *s, size_t n)
{
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        uint64_t v;
        memcpy(&v, s + k, sizeof v);
        memcpy(d + k, &v, sizeof v);
        if (word_needs_care(v))
            break;
    }
    while (k < n && is_plain(s[k])) {
        d[k] = (char)s[k];
        k++;
    }
    return k;
}
#endif

/* The escape of an ASCII byte that is not plain: \" \\ \n \r \t \b \f or \u00XX. */
static char *escape_ascii(char *d, unsigned c)
{
    static const char SHORT[128] = {
        ['"'] = '"', ['\\'] = '\\', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', ['\b'] = 'b', ['\f'] = 'f',
    };
    static const char hex[] = "0123456789abcdef";
    *d++ = '\\';
    if (SHORT[c]) {
        *d++ = SHORT[c];
        return d;
    }
    memcpy(d, "u00", 3);
    d[3] = hex[c >> 4];
    d[4] = hex[c & 15];
    return d + 5;
}

/* At a byte 0x80 or above, with `avail` bytes left in the string: copies one valid UTF-8
 * sequence as it is, or writes U+FFFD for the one byte. Returns the bytes consumed. */
static size_t copy_utf8(char **dp, const unsigned char *p, size_t avail)
{
    unsigned c = p[0];
    size_t bad, need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (need && need <= avail && imr_utf8_valid((const char *)p, need, &bad)) {
        memcpy(*dp, p, need);
        *dp += need;
        return need;
    }
    memcpy(*dp, "\xef\xbf\xbd", 3);
    *dp += 3;
    return 1;
}

/* Escapes p[i..stop) (a UTF-8 sequence may run on to `len`) to *dp, which has room for
 * escaped_room(stop - i) bytes. Returns where it stopped, at or a little past `stop`. */
static inline size_t escape_span(char **dp, const unsigned char *p, size_t i, size_t stop, size_t len)
{
    char *d = *dp;
    while (i < stop) {
        size_t run = copy_plain(d, p + i, stop - i);
        d += run;
        i += run;
        if (i == stop)
            break;
        if (p[i] < 0x80)
            d = escape_ascii(d, p[i++]);
        else
            i += copy_utf8(&d, p + i, len - i);
    }
    *dp = d;
    return i;
}

/* Writes `s` quoted and escaped at `d`, which has room for escaped_room(len) bytes, and
 * commits it. */
static inline void put_string(imr_buf *b, char *d, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    *d++ = '"';
    while (len - i > ESCAPE_CHUNK) {
        i = escape_span(&d, p, i, i + ESCAPE_CHUNK, len);
        commit(b, d);
        d = room(b, escaped_room(len - i));
    }
    escape_span(&d, p, i, len, len);
    *d++ = '"';
    commit(b, d);
}

#ifndef NDEBUG
static int key_is_plain(const char *key, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_plain((unsigned char)key[i]))
            return 0;
    return 1;
}
#endif

/* Copies n bytes with at most two fixed-size overlapping moves when n <= 32 (keys are
 * short): cheaper than a call to memcpy for sizes known only at run time. */
static inline void copy_short(char *d, const char *s, size_t n)
{
    if (n >= 16 && n <= 32) {
        memcpy(d, s, 16);
        memcpy(d + n - 16, s + n - 16, 16);
    } else if (n >= 8 && n < 16) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4 && n < 8) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else {
        memcpy(d, s, n);
    }
}

/* `"key":` (": " when pretty) at `d`, which has room for key_len + 4 bytes. */
static inline char *put_key(jw *w, char *d, const char *key, size_t key_len)
{
    assert(key_is_plain(key, key_len) && "JSON keys are written without escaping");
    *d++ = '"';
    copy_short(d, key, key_len);
    d += key_len;
    *d++ = '"';
    *d++ = ':';
    if (w->pretty)
        *d++ = ' ';
    return d;
}

void jw_key_n(jw *w, const char *key, size_t key_len)
{
    char *d = separator(w, room(w->b, SEP_ROOM + key_len + 4));
    commit(w->b, put_key(w, d, key, key_len));
    w->after_key = 1;
}

void jw_strn(jw *w, const char *s, size_t len)
{
    char *d = separator(w, room(w->b, SEP_ROOM + escaped_room(len)));
    put_string(w->b, d, s, len);
}

void jw_str(jw *w, const char *s)
{
    if (!s)
        jw_null(w);
    else
        jw_strn(w, s, strlen(s));
}

void jw_kstr_n(jw *w, const char *key, size_t key_len, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    char *d = separator(w, room(w->b, SEP_ROOM + key_len + 4 + escaped_room(len)));
    d = put_key(w, d, key, key_len);
    if (s) {
        put_string(w->b, d, s, len);
    } else {
        memcpy(d, "null", 4);
        commit(w->b, d + 4);
    }
}

/* ---------------------------------------------------------------- other values */

/* The decimal digits of `v` at `d` (at most 20 bytes); returns the end. */
static char *put_int(char *d, long long v)
{
    char digits[24], *p = digits + sizeof digits;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do
        *--p = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        *--p = '-';
    size_t n = (size_t)(digits + sizeof digits - p);
    memcpy(d, p, n);
    return d + n;
}

void jw_int(jw *w, long long v)
{
    char *d = separator(w, room(w->b, SEP_ROOM + 24));
    commit(w->b, put_int(d, v));
}

void jw_kint_n(jw *w, const char *key, size_t key_len, long long v)
{
    char *d = separator(w, room(w->b, SEP_ROOM + key_len + 4 + 24));
    d = put_key(w, d, key, key_len);
    if (v < 0) {
        memcpy(d, "null", 4);
        d += 4;
    } else {
        d = put_int(d, v);
    }
    commit(w->b, d);
}

/* A literal token (null, true, false, a number) as a value. */
static void put_token(jw *w, const char *s, size_t n)
{
    char *d = separator(w, room(w->b, SEP_ROOM + n));
    memcpy(d, s, n);
    commit(w->b, d + n);
}

void jw_real(jw *w, double v)
{
    if (!isfinite(v)) {
        put_token(w, "null", 4);
        return;
    }
    char tmp[40]; /* "%.6g" writes at most 13 bytes */
    snprintf(tmp, sizeof tmp, "%.6g", v);
    if (!strpbrk(tmp, ".eE"))
        strcat(tmp, ".0");
    put_token(w, tmp, strlen(tmp));
}

void jw_bool(jw *w, int v)
{
    put_token(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(jw *w)
{
    put_token(w, "null", 4);
}

void jw_klist_n(jw *w, const char *key, size_t key_len, const imr_strlist *l)
{
    if (l->n == 0) { /* the common case, in one step: "key":[] */
        char *d = put_key(w, separator(w, room(w->b, SEP_ROOM + key_len + 6)), key, key_len);
        memcpy(d, "[]", 2);
        commit(w->b, d + 2);
        return;
    }
    jw_key_n(w, key, key_len);
    jw_arr_begin(w);
    for (size_t i = 0; i < l->n; i++)
        jw_str(w, l->v[i]);
    jw_arr_end(w);
}
