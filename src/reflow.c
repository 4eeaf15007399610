/*
 * reflow.c - cleaning the lines of PDF-extracted letters and re-flowing them into
 * paragraphs (rules in reflow.h). Everything is one linear pass; text is built in a
 * scratch area the caller owns and copied into the arena once, when a field is complete.
 */
#include "reflow.h"

#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Spaces inside a line: ' ', '\t', '\r', '\f', '\v'. */
static const unsigned char SPACE[256] = {[' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\f'] = 1, ['\v'] = 1};

static int is_space(char c)
{
    return SPACE[(unsigned char)c];
}

/* Copy s[0..n) (trimmed) to out and return 1, or return 0 as soon as it holds two spaces in
 * a row or a tab, CR, FF or VT (then out holds garbage). Sixteen bytes at a time with SSE2
 * and eight on other little-endian machines, copied as they are checked: the mask of space
 * bytes is exact, so "two spaces in a row" is mask & (mask << 1 byte), carried across blocks. out may be s or lie
 * s itself (the bytes written are the bytes read). */
static int copy_if_clean(const char *s, size_t n, char *out)
{
    size_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t carry = 0;
#ifdef __SSE2__
    if (n >= 16) {
        /* bit k of `sp` is byte k being a space; the last sixteen bytes are read again as
         * one block (checking a byte twice changes nothing), so there is no byte tail */
        const __m128i below = _mm_set1_epi8(0x1f), space = _mm_set1_epi8(' ');
        unsigned sp_carry = 0;
        for (;; i += 16) {
            int last = i + 16 >= n;
            if (last && i != n - 16) { /* back up: the pair across i - 1 | i is checked */
                i = n - 16;
                sp_carry = 0;
            }
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            unsigned ctl = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, below), below));
            unsigned sp = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, space));
            if (ctl || (sp & ((sp << 1) | sp_carry)))
                return 0;
            sp_carry = sp >> 15;
            _mm_storeu_si128((__m128i *)(void *)(out + i), v);
            if (last)
                return 1;
        }
    }
#endif
    for (; i + 8 <= n; i += 8) {
        uint64_t v, t, m;
        memcpy(&v, s + i, 8);
        if ((v - ones * 0x20) & ~v & high) /* a byte below 0x20 */
            return 0;
        t = v ^ (ones * 0x20);
        m = ~(((t & ~high) + ~high) | t) & high;
        if (m & ((m << 8) | carry))
            return 0;
        carry = m >> 56;
        memcpy(out + i, &v, 8);
    }
    if (carry && i < n && s[i] == ' ')
        return 0;
#endif
    for (; i < n; i++) {
        if ((s[i] == ' ' && i + 1 < n && s[i + 1] == ' ') || (s[i] != ' ' && is_space(s[i])))
            return 0;
        out[i] = s[i];
    }
    return 1;
}

size_t reflow_clean_line(const char *s, size_t n, char *out)
{
    size_t b = 0;
    while (b < n && is_space(s[b]))
        b++;
    while (n > b && is_space(s[n - 1]))
        n--;
    if (out == s && b > 0) { /* cleaning in place: move the text first, then copy onto itself */
        memmove(out, s + b, n - b);
        n -= b;
        b = 0;
    }
    if (copy_if_clean(s + b, n - b, out)) /* most lines: single spaces between words */
        return n - b;
    size_t o = 0;
    for (size_t i = b; i < n;) {
        if (is_space(s[i])) {
            out[o++] = ' ';
            while (is_space(s[i]))
                i++;
        } else {
            out[o++] = s[i++];
        }
    }
    return o;
}

int reflow_line_kind(const char *s, size_t n)
{
    int formfeeds = 1;
    for (size_t i = 0; i < n; i++) {
        if (!is_space(s[i]))
            return 2;
        formfeeds &= s[i] == '\f';
    }
    return n == 0 || formfeeds ? 0 : 1;
}

#define line_kind reflow_line_kind

int reflow_is_pdf_shape(const char *s, size_t n)
{
    size_t text = 0, spaces = 0, adjacent = 0;
    int prev = 0;
    const char *p = s, *end = s + n;
    while (p < end) {
        const char *nl = reflow_next_newline(p, end);
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len && p[len - 1] == '\r')
            len--;
        /* most lines are empty or start with a word: no call for those */
        int k = len == 0 ? 0 : !is_space(p[0]) ? 2 : line_kind(p, len);
        if (k == 2) {
            text++;
            if (prev == 2)
                adjacent++;
        } else if (k == 1) {
            spaces++;
        }
        prev = k;
        p = nl ? nl + 1 : end;
    }
    return spaces > 0 && adjacent * 10 <= text;
}

void reflow_init(reflow *r, char *scratch, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->buf = scratch;
    r->cap = cap;
}

void reflow_clear(reflow *r)
{
    char *buf = r->buf;
    size_t cap = r->cap;
    reflow_init(r, buf, cap);
}

static void put(reflow *r, const char *s, size_t n)
{
    if (n > r->cap - r->n) /* cannot happen with a scratch as large as the input */
        n = r->cap - r->n;
    memcpy(r->buf + r->n, s, n);
    r->n += n;
}

void reflow_add_line(reflow *r, const char *s, size_t n, int line)
{
    if (n == 0)
        return;
    if (r->n == 0 || r->pending_break) {
        r->para_mark = r->n;
        if (r->n > 0) {
            if (r->paragraphs == 1)
                r->first_end = r->n;
            put(r, "\n\n", 2);
        }
        r->para_start = r->n;
        r->para_line = line;
        r->para_lines = 0;
        r->paragraphs++;
        r->pending_break = 0;
    } else if (r->buf[r->n - 1] != '-') {
        put(r, " ", 1);
    }
    put(r, s, n);
    r->para_lines++;
}

void reflow_break(reflow *r)
{
    if (r->n > 0)
        r->pending_break = 1;
}

char *reflow_take(reflow *r, imr_arena *a)
{
    char *s = r->n ? imr_arena_strndup(a, r->buf, r->n) : NULL;
    reflow_clear(r);
    return s;
}

char *reflow_take_last_paragraph(reflow *r, imr_arena *a)
{
    if (r->n == 0 || r->pending_break)
        return NULL;
    char *s = imr_arena_strndup(a, r->buf + r->para_start, r->n - r->para_start);
    r->n = r->para_mark;
    r->paragraphs--;
    if (r->paragraphs <= 1)
        r->first_end = 0;
    r->para_lines = 0;
    r->pending_break = r->n > 0;
    return s;
}

char *reflow_text(const char *s, size_t n, imr_arena *a)
{
    int pdf = reflow_is_pdf_shape(s, n);
    char *scratch = imr_arena_alloc(a, n + 1);
    char *line = imr_arena_alloc(a, n + 1);
    reflow r;
    reflow_init(&r, scratch, n + 1);
    const char *p = s, *end = s + n;
    int lineno = 1;
    while (p < end) {
        const char *nl = reflow_next_newline(p, end);
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len && p[len - 1] == '\r')
            len--;
        int k = line_kind(p, len);
        if (k == 2)
            reflow_add_line(&r, line, reflow_clean_line(p, len, line), lineno);
        else if (k == 1 || !pdf)
            reflow_break(&r);
        p = nl ? nl + 1 : end;
        lineno++;
    }
    char *out = reflow_take(&r, a);
    return out ? out : imr_arena_strdup(a, "");
}

/* ---------------------------------------------------------------- the header block */

const char *const LETTER_HEADER_LABELS[HDR_COUNT] = {
    "Case Number", "Date Assigned", "Date of Injury",       "Decision Date", "UR Denial Date",
    "Priority",    "Application Received", "Employee",      "Employer",      "Claim Number"};

int letter_header_is_date(int field)
{
    return field == HDR_DATE_ASSIGNED || field == HDR_DATE_OF_INJURY || field == HDR_DECISION_DATE ||
           field == HDR_UR_DENIAL_DATE || field == HDR_APPLICATION_RECEIVED;
}

const char **letter_header_slot(imr_record *r, int field)
{
    switch (field) {
    case HDR_CASE_NUMBER: return &r->case_number;
    case HDR_DATE_ASSIGNED: return &r->header.date_assigned;
    case HDR_DATE_OF_INJURY: return &r->date_of_injury;
    case HDR_DECISION_DATE: return &r->header.decision_date;
    case HDR_UR_DENIAL_DATE: return &r->header.ur_denial_date;
    case HDR_PRIORITY: return &r->header.priority;
    case HDR_APPLICATION_RECEIVED: return &r->header.application_received;
    case HDR_EMPLOYEE: return &r->header.employee;
    case HDR_EMPLOYER: return &r->header.employer;
    default: return &r->header.claim_number;
    }
}

const char *letter_header_value(const imr_record *r, int field)
{
    return *letter_header_slot((imr_record *)r, field);
}
