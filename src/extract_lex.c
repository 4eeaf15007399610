/*
 * extract_lex.c - cuts a clinical text into tokens and sentences for extraction, and finds
 * its dates.
 *
 * Tokens are words (a letter, then letters, digits and inner apostrophes: "C5", "doctor's"),
 * numbers (digits with at most one decimal point: "7.5") and single punctuation marks.
 * Common Unicode punctuation (dashes, curly quotes, bullets, no-break space) counts as its
 * ASCII twin, so "7–8/10" reads like "7-8/10"; other non-ASCII characters are letters.
 * Each word gets a folded form: lower case, without a possessive "'s" and without a plural
 * ending ("injections" -> "injection", "therapies" -> "therapy"), so the vocabulary lists
 * each term once. Sentences end at ". ! ? ;" (not after an abbreviation of the vocabulary
 * or inside "e.g."), and at a paragraph break. Texts pulled out of PDFs have a blank line
 * after every line; there a paragraph break takes two blank lines.
 * One pass over the bytes, no allocation per token (arrays grow by doubling).
 */
#include "extract_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    *cap = n;
    return ex_xrealloc(p, n * size);
}

void ex_doc_free(ex_doc *d)
{
    free(d->tok);
    free(d->fold);
    free(d->sent);
    free(d->dates);
    free(d->matches);
    free(d->nl);
    memset(d, 0, sizeof *d);
}

static int is_alpha(unsigned char c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Length of a valid UTF-8 sequence at s (0 when invalid) and its code point. */
static size_t utf8_seq(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t k;
    unsigned v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        k = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4, v = c & 0x07, min = 0x10000;
    } else
        return 0;
    if (n < k)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return k;
}

/* The ASCII stand-in of a Unicode punctuation mark, ' ' for a space, 0 for a letter. */
static char unicode_punct(unsigned cp)
{
    if (cp == 0xA0 || cp == 0x2007 || cp == 0x202F || (cp >= 0x2000 && cp <= 0x200A))
        return ' ';
    if (cp >= 0x2010 && cp <= 0x2015)
        return '-';
    if (cp == 0x2018 || cp == 0x2019 || cp == 0x2032)
        return '\'';
    if (cp == 0x201C || cp == 0x201D)
        return '"';
    if (cp == 0x2022 || cp == 0x2026 || cp == 0x00B7)
        return '*';
    if (cp == 0x00B0)
        return '*';
    return 0;
}

/* ASCII stand-ins: ' ' for spaces, 0 for letters and digits, the mark itself otherwise. */
static char ascii_class[128];
static pthread_once_t ascii_once = PTHREAD_ONCE_INIT;

static void ascii_init(void)
{
    for (int c = 0; c < 128; c++)
        ascii_class[c] = is_space((unsigned char)c) ? ' '
                         : is_alpha((unsigned char)c) || is_digit((unsigned char)c) ? 0
                                                                                     : (char)c;
}

/* Classify the character at s[i]: its byte length in *n and, for punctuation and spaces,
 * its ASCII stand-in in *ascii (0 for word characters). */
static inline void char_at(const char *s, size_t len, size_t i, size_t *n, char *ascii)
{
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
        *n = 1;
        *ascii = ascii_class[c];
        return;
    }
    unsigned cp;
    size_t k = utf8_seq((const unsigned char *)s + i, len - i, &cp);
    if (!k) { /* a stray byte: part of a word, so spans never split it */
        *n = 1;
        *ascii = 0;
        return;
    }
    *n = k;
    *ascii = unicode_punct(cp);
}

/* The possessive and plural endings of a folded word out[0..k) taken off (see the top of
 * the file); returns the new length. */
static size_t fold_endings(char *out, size_t k)
{
    /* possessives: "doctor's", "workers'" */
    if (k >= 3 && out[k - 2] == '\'' && out[k - 1] == 's')
        k -= 2;
    else if (k >= 2 && out[k - 1] == '\'')
        k -= 1;
    /* plurals: "therapies" -> "therapy", "injections" -> "injection"; not "less",
     * "status", "diagnosis" */
    if (k >= 5 && out[k - 3] == 'i' && out[k - 2] == 'e' && out[k - 1] == 's') {
        out[k - 3] = 'y';
        k -= 2;
    } else if (k >= 4 && out[k - 1] == 's' && out[k - 2] != 's' && out[k - 2] != 'u' &&
               out[k - 2] != 'i' && out[k - 2] != '\'' && is_alpha((unsigned char)out[k - 2]))
        k -= 1;
    return k;
}

/* Fold a word (see ex_fold_word) and count its capitals and small letters. */
static size_t fold_counting(const char *s, size_t n, char *out, int *upper, int *lower)
{
    size_t k = 0;
    int up = 0, low = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (c >= 'A' && c <= 'Z') {
                up++;
                c += 32;
            } else
                low += c >= 'a' && c <= 'z';
            out[k++] = (char)c;
            continue;
        }
        unsigned cp;
        size_t q = utf8_seq((const unsigned char *)s + i, n - i, &cp);
        if (q && unicode_punct(cp) == '\'') {
            out[k++] = '\'';
            i += q - 1;
            continue;
        }
        out[k++] = (char)c;
    }
    *upper = up;
    *lower = low;
    return fold_endings(out, k);
}

/* The common word: ASCII letters and digits only, up to a space or an ASCII mark other
 * than an apostrophe. Scans it from `start`, folding into `out` and counting capitals and
 * small letters as fold_counting does (the counts may stop at 2), in one pass. Returns its
 * end, or 0 when the word needs the general path (an apostrophe, a NUL, a byte >= 0x80, a
 * very long word). */
static size_t ascii_word(const char *text, size_t len, size_t start, char *out, size_t *flen,
                         int *upper, int *lower)
{
    int up = 0, low = 0;
    size_t i = start;
#ifdef __SSE2__
    /* A word of fewer than 16 bytes, with 16 bytes of text to read, in one block: its
     * length is the run of letters and digits, its capitals get 0x20 added. The caller
     * leaves room for 16 bytes at `out` whenever 16 bytes of text remain. Signed compares
     * leave bytes >= 0x80 out of every range. */
    if (start + 16 <= len) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(text + start));
        __m128i caps = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('A' - 1)), _mm_cmplt_epi8(x, _mm_set1_epi8('Z' + 1)));
        __m128i smalls = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('a' - 1)), _mm_cmplt_epi8(x, _mm_set1_epi8('z' + 1)));
        __m128i digits = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)), _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
        unsigned word = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(caps, smalls), digits));
        if (word != 0xFFFFu) {
            unsigned n = (unsigned)__builtin_ctz(~word), keep = (1u << n) - 1;
            _mm_storeu_si128((__m128i *)(void *)out, _mm_add_epi8(x, _mm_and_si128(caps, _mm_set1_epi8(0x20))));
            /* counted up to 2: the caller only asks for "two or more capitals" and "no
             * small letter (but a plural s)" */
            unsigned u = (unsigned)_mm_movemask_epi8(caps) & keep, l = (unsigned)_mm_movemask_epi8(smalls) & keep;
            up = !u ? 0 : u & (u - 1) ? 2 : 1;
            low = !l ? 0 : l & (l - 1) ? 2 : 1;
            i = start + n;
            goto stop;
        }
    }
#endif
    for (; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((unsigned)(c - 'a') < 26u) {
            low++;
        } else if ((unsigned)(c - 'A') < 26u) {
            up++;
            c += 32;
        } else if ((unsigned)(c - '0') >= 10u)
            break;
        out[i - start] = (char)c;
    }
#ifdef __SSE2__
stop:
#endif
    /* an apostrophe may be inside the word, a byte >= 0x80 may be a letter, and a NUL
     * counts as a letter (ascii_class): the general path decides */
    if (i < len && (text[i] == '\'' || text[i] == '\0' || (unsigned char)text[i] >= 0x80))
        return 0;
    if (i - start > 60000)
        return 0;
    *upper = up;
    *lower = low;
    *flen = fold_endings(out, i - start);
    return i;
}

size_t ex_fold_word(const char *s, size_t n, char *out)
{
    int up, low;
    return fold_counting(s, n, out, &up, &low);
}

int ex_tok_is(const ex_doc *d, size_t i, const char *w)
{
    size_t n = strlen(w);
    return i < d->ntok && d->tok[i].flen == n && memcmp(ex_fold_of(d, i), w, n) == 0;
}

/* Newlines in the whitespace before each token are kept here while tokenizing. */
static inline void push_token(ex_doc *d, size_t start, size_t end, int kind, int space_before)
{
    if (d->ntok == d->captok)
        d->tok = grow(d->tok, &d->captok, d->ntok + 1, sizeof *d->tok);
    ex_token *t = &d->tok[d->ntok++];
    memset(t, 0, sizeof *t);
    t->start = (uint32_t)start;
    t->end = (uint32_t)end;
    t->kind = (uint8_t)kind;
    t->flags = space_before ? EX_F_SPACE_BEFORE : 0;
}

/* Tokenize; `nl` (may be NULL) receives, per token, the newlines in the space before it. */
static void tokenize(ex_doc *d, const char *text, size_t len, int keep_newlines)
{
    pthread_once(&ascii_once, ascii_init);
    d->text = text;
    d->len = len;
    d->ntok = 0;
    /* folded forms never outgrow the text; 16 more bytes for ascii_word's block store */
    d->fold = grow(d->fold, &d->foldcap, len + 17, 1);
    d->tok = grow(d->tok, &d->captok, len / 4 + 16, sizeof *d->tok);
    size_t foldlen = 0;
    size_t i = 0;
    int space = 1;
    unsigned newlines = 0;
    while (i < len) {
        size_t n;
        char ascii;
        char_at(text, len, i, &n, &ascii);
        if (ascii == ' ') {
            if (text[i] == '\n')
                newlines++;
            space = 1;
            i += n;
            continue;
        }
        size_t start = i;
        int kind;
        size_t ascii_end = 0, ascii_flen = 0;
        int ascii_up = 0, ascii_low = 0;
        if (ascii) { /* punctuation */
            kind = EX_PUNCT;
            i += n;
        } else if (is_digit((unsigned char)text[i])) {
            kind = EX_NUMBER;
            while (i < len && is_digit((unsigned char)text[i]))
                i++;
            if (i + 1 < len && text[i] == '.' && is_digit((unsigned char)text[i + 1])) {
                i++;
                while (i < len && is_digit((unsigned char)text[i]))
                    i++;
            }
        } else if ((unsigned char)text[i] < 0x80 &&
                   (ascii_end = ascii_word(text, len, i, d->fold + foldlen, &ascii_flen, &ascii_up, &ascii_low))) {
            kind = EX_WORD;
            i = ascii_end; /* folded already */
        } else {
            kind = EX_WORD;
            ascii_end = 0;
            i += n;
            while (i < len) {
                size_t m;
                char a;
                char_at(text, len, i, &m, &a);
                if (!a) {
                    i += m;
                    continue;
                }
                /* inner apostrophe: "doctor's", "don't" */
                if (a == '\'' && i + m < len) {
                    size_t m2;
                    char a2;
                    char_at(text, len, i + m, &m2, &a2);
                    if (!a2 && !is_digit((unsigned char)text[i + m])) {
                        i += m;
                        continue;
                    }
                }
                break;
            }
            /* a trailing apostrophe of a plural possessive ("workers'") stays outside */
        }
        push_token(d, start, i, kind, space);
        if (keep_newlines) {
            if (d->ntok > d->capnl)
                d->nl = grow(d->nl, &d->capnl, d->ntok, 1);
            d->nl[d->ntok - 1] = (unsigned char)(newlines > 255 ? 255 : newlines);
        }
        ex_token *t = &d->tok[d->ntok - 1];
        t->fold = (uint32_t)foldlen;
        if (kind == EX_WORD) {
            int upper = ascii_up, lower = ascii_low;
            size_t wl = i - start > 60000 ? 60000 : i - start; /* a "word" of 60 KB is noise */
            t->flen = (uint16_t)(ascii_end ? ascii_flen
                                           : fold_counting(text + start, wl, d->fold + foldlen, &upper, &lower));
            /* capitals, a plural "s" aside: "MS", "NSAIDs" */
            if (i - start >= 3 && text[i - 1] == 's')
                lower--;
            if (upper >= 2 && !lower)
                t->flags |= EX_F_UPPER;
            if (text[start] >= 'A' && text[start] <= 'Z')
                t->flags |= EX_F_CAPITAL;
        } else if (kind == EX_NUMBER) {
            size_t n2 = i - start > 60 ? 60 : i - start;
            memcpy(d->fold + foldlen, text + start, n2);
            t->flen = (uint16_t)n2;
            /* digits, at most one decimal point: read it directly (long runs of digits
             * just grow large) */
            double x = 0, scale = 0;
            t->flags |= EX_F_INTEGER;
            for (size_t k = start; k < i; k++) {
                if (text[k] == '.') {
                    scale = 1;
                    t->flags &= (uint8_t)~EX_F_INTEGER;
                    continue;
                }
                x = x * 10 + (text[k] - '0');
                scale *= 10;
            }
            t->num = scale > 0 ? x / scale : x;
        } else {
            d->fold[foldlen] = ascii;
            t->flen = 1;
        }
        t->hash = ex_hash(d->fold + foldlen, t->flen);
        foldlen += t->flen;
        space = 0;
        newlines = 0;
    }
    d->fold[foldlen] = '\0';
}

void ex_tokenize(ex_doc *d, const char *text, size_t len)
{
    tokenize(d, text, len, 0);
    d->nsent = d->ndates = d->nmatches = 0;
}

/* Sentence ends: see the top of the file. */
static int ends_sentence(const ex_vocab *v, const ex_doc *d, size_t i)
{
    const ex_token *t = &d->tok[i];
    if (t->kind != EX_PUNCT)
        return 0;
    char c = d->fold[t->fold];
    if (c == '!' || c == '?' || c == ';')
        return 1;
    if (c != '.')
        return 0;
    if (i + 1 >= d->ntok)
        return 1;
    const ex_token *next = &d->tok[i + 1];
    int glued = !(next->flags & EX_F_SPACE_BEFORE);
    /* "e.g." / "i.e." / "q.d.": one-letter words glued to their dots */
    if (i > 0 && d->tok[i - 1].kind == EX_WORD && d->tok[i - 1].end - d->tok[i - 1].start == 1 &&
        i + 1 < d->ntok && glued && next->kind == EX_WORD && next->end - next->start == 1)
        return 0;
    if (i > 1 && d->tok[i - 1].kind == EX_WORD && d->tok[i - 1].end - d->tok[i - 1].start == 1 &&
        d->tok[i - 2].kind == EX_PUNCT && d->fold[d->tok[i - 2].fold] == '.' &&
        !(d->tok[i - 1].flags & EX_F_SPACE_BEFORE))
        return next->kind == EX_WORD && (next->flags & EX_F_CAPITAL) && !glued;
    if (i > 0 && d->tok[i - 1].kind == EX_WORD && v && ex_vocab_is_abbreviation(v, d, i - 1))
        return 0;
    if (next->kind == EX_WORD) {
        unsigned char c0 = (unsigned char)d->text[next->start];
        if (c0 >= 'a' && c0 <= 'z')
            return 0; /* "approx. three", "vs. the" */
        return 1;     /* "2015.On", "pain. The" */
    }
    if (next->kind == EX_NUMBER && glued)
        return 0;
    return 1;
}

static void push_sentence(ex_doc *d, size_t first, size_t end)
{
    if (end <= first)
        return;
    d->sent = grow(d->sent, &d->capsent, d->nsent + 1, sizeof *d->sent);
    d->sent[d->nsent].first = (uint32_t)first;
    d->sent[d->nsent].end = (uint32_t)end;
    for (size_t k = first; k < end; k++)
        d->tok[k].sent = (uint32_t)d->nsent;
    d->nsent++;
}

static void split_sentences(const ex_vocab *v, ex_doc *d)
{
    const unsigned char *nl = d->nl;
    /* Double-spaced text (a blank line after every line) needs two blank lines for a
     * paragraph break; ordinary text one. */
    size_t single = 0, dbl = 0;
    for (size_t i = 0; i < d->ntok; i++) {
        single += nl[i] == 1;
        dbl += nl[i] == 2;
    }
    unsigned para = dbl > single ? 3 : 2;
    d->nsent = 0;
    size_t first = 0;
    for (size_t i = 0; i < d->ntok; i++) {
        if (i > first && nl[i] >= para) {
            push_sentence(d, first, i);
            first = i;
        }
        if (ends_sentence(v, d, i)) {
            push_sentence(d, first, i + 1);
            first = i + 1;
        }
    }
    push_sentence(d, first, d->ntok);
}

static void find_dates(const ex_vocab *v, ex_doc *d)
{
    d->ndates = 0;
    for (size_t i = 0; i < d->ntok; i++) {
        ex_token *t = &d->tok[i];
        if (t->kind == EX_NUMBER) {
            if (i > 0 && d->tok[i - 1].kind == EX_NUMBER && !(t->flags & EX_F_SPACE_BEFORE))
                continue;
            if (!ex_numeric_date_shape(d->text + t->start, d->len - t->start))
                continue;
        } else if (t->kind != EX_WORD || !(ex_match_at(v, d, i, EX_C_MONTH)))
            continue;
        if (i > 0 && !(t->flags & EX_F_SPACE_BEFORE) && d->tok[i - 1].kind == EX_PUNCT) {
            char p = d->fold[d->tok[i - 1].fold];
            if (p == '/' || p == '-' || p == '.')
                continue; /* the middle of "10/325" or "2015-08-19" */
        }
        char iso[11];
        size_t n = imr_date_parse(d->text + t->start, d->len - t->start, iso);
        if (!n)
            continue;
        size_t stop = t->start + n, j = i;
        while (j < d->ntok && d->tok[j].start < stop)
            j++;
        /* the date must end where a token ends, and not run on into "/10" */
        if (d->tok[j - 1].end != stop)
            continue;
        if (j < d->ntok && !(d->tok[j].flags & EX_F_SPACE_BEFORE) && d->tok[j].kind == EX_PUNCT) {
            char p = d->fold[d->tok[j].fold];
            if ((p == '/' || p == '-') && j + 1 < d->ntok && d->tok[j + 1].kind == EX_NUMBER)
                continue;
        }
        d->dates = grow(d->dates, &d->capdates, d->ndates + 1, sizeof *d->dates);
        ex_date *dt = &d->dates[d->ndates++];
        dt->first = (uint32_t)i;
        dt->end = (uint32_t)j;
        memcpy(dt->iso, iso, 11);
        for (size_t k = i; k < j; k++)
            d->tok[k].flags |= EX_F_DATE;
        i = j - 1;
    }
}

void ex_doc_analyze(ex_doc *d, const ex_vocab *v, const char *text, size_t len)
{
    tokenize(d, text, len, 1);
    split_sentences(v, d);
    ex_vocab_match(v, d);
    find_dates(v, d);
}
