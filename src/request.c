/*
 * request.c - a disputed item's request ("Norco 10/325mg #120", "Physical therapy 2x6
 * lumbar spine", "Right L4-5 transforaminal epidural steroid injection") into a normalized
 * imr_treatment.
 *
 * The text is cut into tokens (words, numbers, single punctuation marks) and read left to
 * right once. At each token the parser tries, in order: a date (skipped), a spinal level, a
 * dosing interval ("q6h"), the longest drug name or vocabulary phrase (rules/drugs.tsv and
 * rules/requests.tsv, which say what a phrase means: kind, body part, side, dose form...),
 * and then the small grammar of counts written here: strengths ("10/325 mg", "5%"),
 * quantities ("#120", "120 tablets"), refills, rates ("3 times a week", "2x/day"), courses
 * ("2x6"), visits ("x6 sessions"), durations ("for 4 weeks"). Each pattern looks a few
 * tokens ahead at most, so the work is linear in the length of the request. What no pattern
 * reads is skipped; nothing fails.
 *
 * Units, counting words and the grammar are mechanism and live here; every medical word
 * (drug names, classes, procedures, body parts, dose forms, frequencies) lives in rules/.
 * All output strings are allocated in the caller's arena; nothing else is allocated.
 */
#include "imr.h"
#include "lexicon.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define MAX_PIECES 8          /* of each list a request can name: drugs, procedures, ... */
#define MAX_COUNT_DIGITS 7    /* counts above 9,999,999 are not counts of anything */

typedef enum { TK_WORD, TK_NUM, TK_PUNCT } token_kind;

/* The words the grammar reads. A word token is looked up among them once, when the request
 * is cut into tokens; the patterns then compare small numbers instead of strings. */
#define GRAMMAR_WORDS(WORD)                                                                  \
    WORD(ZERO, "zero") WORD(ONE, "one") WORD(TWO, "two") WORD(THREE, "three")                \
    WORD(FOUR, "four") WORD(FIVE, "five") WORD(SIX, "six") WORD(SEVEN, "seven")              \
    WORD(EIGHT, "eight") WORD(NINE, "nine") WORD(TEN, "ten") WORD(ELEVEN, "eleven")          \
    WORD(TWELVE, "twelve") WORD(ONCE, "once") WORD(TWICE, "twice") WORD(THRICE, "thrice")    \
    WORD(MG, "mg") WORD(MGS, "mgs") WORD(MILLIGRAM, "milligram")                             \
    WORD(MILLIGRAMS, "milligrams") WORD(MCG, "mcg") WORD(MICROGRAM, "microgram")             \
    WORD(MICROGRAMS, "micrograms") WORD(UG, "ug") WORD(IU, "iu") WORD(UNITS, "units")        \
    WORD(MEQ, "meq") WORD(G, "g") WORD(GM, "gm") WORD(GMS, "gms") WORD(GR, "gr")             \
    WORD(GRAM, "gram") WORD(GRAMS, "grams") WORD(ML, "ml") WORD(CC, "cc") WORD(OZ, "oz")     \
    WORD(H, "h") WORD(HR, "hr") WORD(HRS, "hrs") WORD(HOUR, "hour") WORD(HOURS, "hours")     \
    WORD(X, "x") WORD(TIMES, "times") WORD(TIME, "time") WORD(VISITS, "visits")              \
    WORD(VISIT, "visit") WORD(SESSIONS, "sessions") WORD(SESSION, "session")                 \
    WORD(TREATMENTS, "treatments") WORD(DAY, "day") WORD(DAYS, "days") WORD(A, "a")          \
    WORD(AN, "an") WORD(PER, "per") WORD(EACH, "each") WORD(EVERY, "every")                  \
    WORD(DAILY, "daily") WORD(WEEKLY, "weekly") WORD(MONTHLY, "monthly") WORD(WEEK, "week")  \
    WORD(WEEKS, "weeks") WORD(WK, "wk") WORD(WKS, "wks") WORD(MONTH, "month")                \
    WORD(MONTHS, "months") WORD(MO, "mo") WORD(MOS, "mos") WORD(YEAR, "year")                \
    WORD(YEARS, "years") WORD(YR, "yr") WORD(YRS, "yrs") WORD(REFILL, "refill")              \
    WORD(REFILLS, "refills") WORD(RF, "rf") WORD(NO, "no") WORD(OF, "of") WORD(Q, "q")       \
    WORD(QTY, "qty") WORD(QUANTITY, "quantity") WORD(SUPPLY, "supply")

#define AS_ENUM(name, text) W_##name,
#define AS_TEXT(name, text) text,
typedef enum { W_NONE, GRAMMAR_WORDS(AS_ENUM) N_WORDS } grammar_word;
#define AS_LENGTH(name, text) sizeof text - 1,
static const char *const WORD_TEXT[N_WORDS] = {"", GRAMMAR_WORDS(AS_TEXT)};
static const unsigned char WORD_LENGTH[N_WORDS] = {0, GRAMMAR_WORDS(AS_LENGTH)};
#define MAX_WORD_LENGTH 10 /* "treatments" */
#define AS_CHECK(name, text) \
    _Static_assert(sizeof text - 1 <= MAX_WORD_LENGTH, "grammar word too long: " text);
GRAMMAR_WORDS(AS_CHECK)

typedef struct token {
    token_kind kind;
    unsigned char word; /* grammar_word of a word token, W_NONE when it is none of them */
    int space;          /* whitespace before it */
    size_t start, end;  /* byte offsets in the request */
} token;

typedef struct pieces {
    const char *v[MAX_PIECES];
    int rate[MAX_PIECES]; /* frequency pieces: 1 when written as a rate ("3x/week") */
    size_t n;
} pieces;

/* Where a quantity came from: a later, more explicit writing replaces a weaker one. */
enum { QTY_NONE, QTY_BARE, QTY_AMOUNT, QTY_FORM, QTY_EXPLICIT };

typedef struct parser {
    const char *s;
    size_t len;
    const imr_lexicon *lx;
    imr_arena *a;
    token *t;
    size_t n;

    const imr_drug *drugs[MAX_PIECES];
    size_t n_drugs;
    size_t after_drug; /* token just after the first drug's name */
    size_t name_start, name_end;
    int has_name;
    int name_is_term;        /* the name is a vocabulary phrase (not a drug) ... */
    size_t name_next;        /* ... and this token follows it */
    size_t chain_start;      /* words just before a phrase that belong to its name: */
    size_t chain_next;       /* "Lumbar" of "Lumbar brace" (0: none) */
    int kind;                /* from a phrase, -1 when none said */
    const char *term_class;  /* class a phrase implies ("compound cream") */
    int topical, mass_strength;
    const char *dose_form;

    pieces strengths, frequency, procedure, body_part, laterality, levels;
    const char *level_region;
    const char *amount;      /* "180 g": a tube's size or a strength, decided at the end */
    int amount_value;
    int quantity, quantity_from;
    int refills, visits, count;
    int per_week, weeks, per_month, months;
    const char *duration;
    size_t x_before;         /* token that follows an "x" (a count: "x6"), or SIZE_MAX */
    int pending;             /* a number not yet given a meaning ("12 PT visits"), -1 none */
    size_t pending_tok;
} parser;

/* ---------------------------------------------------------------- tokens */

/* The grammar words by a hash of their text: open addressing, built once per process. */
#define WORD_SLOTS 256
static unsigned char word_slots[WORD_SLOTS];
static pthread_once_t word_slots_once = PTHREAD_ONCE_INIT;

#define WORD_HASH_START 2166136261u
#define WORD_HASH_STEP(h, c) (((h) ^ (c)) * 16777619u)

static unsigned word_hash(const char *w, size_t n)
{
    uint32_t h = WORD_HASH_START;
    for (size_t k = 0; k < n; k++)
        h = WORD_HASH_STEP(h, (unsigned char)w[k]);
    return h & (WORD_SLOTS - 1);
}

static void build_word_slots(void)
{
    for (int w = 1; w < N_WORDS; w++) {
        unsigned k = word_hash(WORD_TEXT[w], WORD_LENGTH[w]);
        while (word_slots[k])
            k = (k + 1) & (WORD_SLOTS - 1);
        word_slots[k] = (unsigned char)w;
    }
}

/* The grammar word s[0..n) is, in any case ("Tablets" is "tablets"); W_NONE when none. */
static unsigned char grammar_word_of(const char *s, size_t n)
{
    char low[MAX_WORD_LENGTH];
    uint32_t h = WORD_HASH_START;
    if (n > MAX_WORD_LENGTH)
        return W_NONE;
    for (size_t k = 0; k < n; k++) {
        low[k] = (char)lex_lower((unsigned char)s[k]);
        h = WORD_HASH_STEP(h, (unsigned char)low[k]);
    }
    for (unsigned k = h & (WORD_SLOTS - 1);; k = (k + 1) & (WORD_SLOTS - 1)) {
        unsigned char w = word_slots[k];
        if (w == W_NONE || (WORD_LENGTH[w] == n && !memcmp(WORD_TEXT[w], low, n)))
            return w;
    }
}

static size_t scan_token(const char *s, size_t len, size_t i, token_kind *kind)
{
    unsigned char c = (unsigned char)s[i];
    size_t j = i + 1;
    if (lex_is_digit(c)) {
        while (j < len && lex_is_digit((unsigned char)s[j]))
            j++;
        if (j + 1 < len && s[j] == '.' && lex_is_digit((unsigned char)s[j + 1])) {
            j++;
            while (j < len && lex_is_digit((unsigned char)s[j]))
                j++;
        }
        *kind = TK_NUM;
    } else if (lex_is_letter(c)) {
        while (j < len && lex_is_letter((unsigned char)s[j]))
            j++;
        *kind = TK_WORD;
    } else
        *kind = TK_PUNCT;
    return j;
}

static size_t count_tokens(const char *s, size_t len)
{
    size_t count = 0;
    token_kind k;
    for (size_t i = 0; i < len;) {
        if (lex_is_space((unsigned char)s[i])) {
            i++;
            continue;
        }
        i = scan_token(s, len, i, &k);
        count++;
    }
    return count;
}

/* Cut the request into tokens, in `room` (`cap` tokens) when they fit: there are never more
 * tokens than bytes. Otherwise they go to the arena. */
static void tokenize(parser *p, token *room, size_t cap)
{
    p->t = p->len <= cap ? room : imr_arena_alloc(p->a, (count_tokens(p->s, p->len) + 1) * sizeof *p->t);
    int space = 0;
    for (size_t i = 0; i < p->len;) {
        if (lex_is_space((unsigned char)p->s[i])) {
            space = 1;
            i++;
            continue;
        }
        token *t = &p->t[p->n++];
        t->start = i;
        i = t->end = scan_token(p->s, p->len, i, &t->kind);
        t->word = t->kind == TK_WORD ? grammar_word_of(p->s + t->start, t->end - t->start) : W_NONE;
        t->space = space;
        space = 0;
    }
}

static int is_word(const parser *p, size_t i, grammar_word w)
{
    return i < p->n && p->t[i].word == w;
}

/* Index in `words` (ended by W_NONE) of token i, or -1. */
static int word_in(const parser *p, size_t i, const unsigned char *words)
{
    if (i >= p->n || p->t[i].word == W_NONE)
        return -1;
    for (int k = 0; words[k]; k++)
        if (words[k] == p->t[i].word)
            return k;
    return -1;
}

static int is_punct(const parser *p, size_t i, char c)
{
    return i < p->n && p->t[i].kind == TK_PUNCT && p->s[p->t[i].start] == c;
}

/* Token i is glued to the one before it ("10/325mg", "L4-5"). */
static int glued(const parser *p, size_t i)
{
    return i < p->n && !p->t[i].space;
}

/* Number of tokens from i that start before byte `end`. */
static size_t tokens_until(const parser *p, size_t i, size_t end)
{
    size_t j = i;
    while (j < p->n && p->t[j].start < end)
        j++;
    return j > i ? j - i : 1;
}

/* ---------------------------------------------------------------- numbers */

static int int_value(const parser *p, size_t i, int *v)
{
    if (i >= p->n || p->t[i].kind != TK_NUM)
        return 0;
    size_t n = p->t[i].end - p->t[i].start;
    const char *s = p->s + p->t[i].start;
    if (n > MAX_COUNT_DIGITS || memchr(s, '.', n))
        return 0;
    int x = 0;
    for (size_t k = 0; k < n; k++)
        x = x * 10 + (s[k] - '0');
    *v = x;
    return 1;
}

static const unsigned char NUMBER_WORDS[] = {W_ZERO, W_ONE, W_TWO, W_THREE, W_FOUR, W_FIVE, W_SIX,
                                             W_SEVEN, W_EIGHT, W_NINE, W_TEN, W_ELEVEN, W_TWELVE,
                                             W_NONE};
static const unsigned char TIMES_ADVERBS[] = {W_ONCE, W_TWICE, W_THRICE, W_NONE};

/* A count written in digits or words. *times is set for "once"/"twice" (a count of times). */
static int count_value(const parser *p, size_t i, int *v, int *times)
{
    int k;
    *times = 0;
    if (int_value(p, i, v))
        return 1;
    if ((k = word_in(p, i, NUMBER_WORDS)) >= 0) {
        *v = k;
        return 1;
    }
    if ((k = word_in(p, i, TIMES_ADVERBS)) >= 0) {
        *v = k + 1;
        *times = 1;
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- collected pieces */

/* A short result ("2x/week", "L4-5", "every 6 hours") put together piece by piece and then
 * copied to the arena: the few formats the results use, without a printf each. Numbers have
 * at most MAX_COUNT_DIGITS digits and words are the grammar's, so nothing is ever cut. */
typedef struct text {
    char s[80];
    size_t n;
} text;

static void text_char(text *t, char c)
{
    if (t->n < sizeof t->s)
        t->s[t->n++] = c;
}

static void text_str(text *t, const char *s)
{
    while (*s)
        text_char(t, *s++);
}

static void text_int(text *t, int v)
{
    char digits[12];
    size_t k = 0;
    unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;
    if (v < 0)
        text_char(t, '-');
    do
        digits[k++] = (char)('0' + u % 10);
    while (u /= 10);
    while (k)
        text_char(t, digits[--k]);
}

static const char *text_done(imr_arena *a, const text *t)
{
    return imr_arena_strndup(a, t->s, t->n);
}

/* The numbers of tokens i..j as written, a '-' between them read as '/', then the strings
 * of `tail` (NULL-terminated): "10/325" + " " + "mg" + "/" + "patch". */
static const char *numbers_then(parser *p, size_t i, size_t j, const char *const *tail)
{
    const char *num = p->s + p->t[i].start;
    size_t n = p->t[j].end - p->t[i].start, total = n + 1;
    for (const char *const *t = tail; *t; t++)
        total += strlen(*t);
    char *out = imr_arena_alloc(p->a, total), *o = out;
    for (size_t k = 0; k < n; k++)
        *o++ = num[k] == '-' ? '/' : num[k];
    for (const char *const *t = tail; *t; t++)
        for (const char *c = *t; *c; c++)
            *o++ = *c;
    *o = '\0';
    return out;
}

static void piece_add(pieces *l, const char *s, int rate)
{
    if (!s || l->n >= MAX_PIECES)
        return;
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s))
            return;
    l->rate[l->n] = rate;
    l->v[l->n++] = s;
}

/* The pieces joined by ", " (frequency: rates by ", ", words by " "). */
static const char *pieces_join(parser *p, const pieces *l, int frequency)
{
    if (!l->n)
        return NULL;
    size_t total = 1;
    for (size_t i = 0; i < l->n; i++)
        total += strlen(l->v[i]) + 2;
    char *out = imr_arena_alloc(p->a, total), *w = out;
    for (size_t i = 0; i < l->n; i++) {
        if (i) {
            int comma = !frequency || (l->rate[i] && l->rate[i - 1]);
            if (comma)
                *w++ = ',';
            *w++ = ' ';
        }
        size_t k = strlen(l->v[i]);
        memcpy(w, l->v[i], k);
        w += k;
    }
    *w = '\0';
    return out;
}

static void set_quantity(parser *p, int v, int from)
{
    if (from > p->quantity_from) {
        p->quantity = v;
        p->quantity_from = from;
    }
}

/* ---------------------------------------------------------------- units */

typedef struct unit {
    grammar_word word; /* as written */
    const char *norm;  /* as printed */
} unit;

static const unit MASS_UNITS[] = {{W_MG, "mg"},        {W_MGS, "mg"},        {W_MILLIGRAM, "mg"},
                                  {W_MILLIGRAMS, "mg"}, {W_MCG, "mcg"},      {W_MICROGRAM, "mcg"},
                                  {W_MICROGRAMS, "mcg"}, {W_UG, "mcg"},      {W_IU, "IU"},
                                  {W_UNITS, "units"},   {W_MEQ, "mEq"},      {W_NONE, NULL}};
static const unit AMOUNT_UNITS[] = {{W_G, "g"},    {W_GM, "g"},    {W_GMS, "g"},
                                    {W_GR, "g"},   {W_GRAM, "g"},  {W_GRAMS, "g"},
                                    {W_ML, "ml"},  {W_CC, "ml"},   {W_OZ, "oz"},
                                    {W_NONE, NULL}};

static const unit *unit_at(const parser *p, size_t i, const unit *table)
{
    if (i >= p->n || p->t[i].word == W_NONE)
        return NULL;
    for (const unit *u = table; u->word; u++)
        if (u->word == p->t[i].word)
            return u;
    return NULL;
}

static const unsigned char PER_HOUR[] = {W_H, W_HR, W_HRS, W_HOUR, W_NONE};
static const unsigned char TIMES_WORDS[] = {W_X, W_TIMES, W_TIME, W_VISITS, W_VISIT, W_SESSIONS,
                                            W_SESSION, W_TREATMENTS, W_NONE};
static const unsigned char HOUR_WORDS[] = {W_HOURS, W_HOUR, W_HRS, W_HR, W_NONE};
static const unsigned char DAY_WORDS[] = {W_DAYS, W_DAY, W_NONE};
static const unsigned char RATE_SEPARATORS[] = {W_A, W_AN, W_PER, W_EACH, W_EVERY, W_NONE};
static const unsigned char PERIOD_ADVERBS[] = {W_DAILY, W_WEEKLY, W_MONTHLY, W_NONE};
static const unsigned char PERIODS[] = {W_DAY, W_DAYS, W_WEEK, W_WEEKS, W_WK, W_WKS, W_MONTH,
                                        W_MONTHS, W_MO, W_MOS, W_NONE};
static const char *const PERIOD_NAMES[] = {"day", "day", "week", "week", "week", "week",
                                           "month", "month", "month", "month"};
static const unsigned char REFILL_WORDS[] = {W_REFILL, W_REFILLS, W_NONE};
static const unsigned char REFILL_KEYWORDS[] = {W_REFILL, W_REFILLS, W_RF, W_NONE}; /* "RF x2" */
static const unsigned char VISIT_WORDS[] = {W_VISITS, W_VISIT, W_SESSIONS, W_SESSION, W_TREATMENTS,
                                            W_NONE};
static const unsigned char DURATION_UNITS[] = {W_DAY, W_DAYS, W_WEEK, W_WEEKS, W_WK, W_WKS, W_MONTH,
                                               W_MONTHS, W_MO, W_MOS, W_HOUR, W_HOURS, W_HR, W_HRS,
                                               W_YEAR, W_YEARS, W_YR, W_YRS, W_NONE};
static const char *const DURATION_NAMES[] = {"day",  "day",  "week", "week", "week", "week",
                                             "month", "month", "month", "month", "hour",
                                             "hour", "hour", "hour", "year", "year", "year",
                                             "year"};

/* ---------------------------------------------------------------- strengths */

static size_t term_span(const parser *p, size_t i, const request_term **term);

/* NUM ((/|-) NUM)* UNIT: "10/325mg", "10-325 mg", "5%", "25mcg/hr", "180gm". */
static size_t try_strength(parser *p, size_t i)
{
    size_t j = i, nums = 1;
    int dash = 0;
    while (nums < 4 && j + 2 < p->n && (is_punct(p, j + 1, '/') || is_punct(p, j + 1, '-')) &&
           glued(p, j + 1) && p->t[j + 2].kind == TK_NUM && glued(p, j + 2)) {
        dash |= is_punct(p, j + 1, '-');
        j += 2;
        nums++;
    }
    size_t u = j + 1, end;
    const unit *mass = NULL, *amount = NULL;
    const char *per = ""; /* "/h", "/ml", "/patch" */
    const char *per_form = "";
    if (is_punct(p, u, '%'))
        end = u + 1;
    else if ((mass = unit_at(p, u, MASS_UNITS))) {
        end = u + 1;
        if (is_punct(p, u + 1, '/') && glued(p, u + 1) && word_in(p, u + 2, PER_HOUR) >= 0) {
            per = "/h";
            end = u + 3;
        } else if (is_punct(p, u + 1, '/') && glued(p, u + 1) && is_word(p, u + 2, W_ML)) {
            per = "/ml";
            end = u + 3;
        } else if (is_punct(p, u + 1, '/') && glued(p, u + 1)) {
            /* "700mg/patch": the amount in one unit of the dose form */
            const request_term *t;
            size_t span = term_span(p, u + 2, &t);
            if (span && t->dose_form) {
                per = "/";
                per_form = t->dose_form;
                end = u + 2 + span;
            }
        }
    } else if ((amount = unit_at(p, u, AMOUNT_UNITS)) && nums == 1)
        end = u + 1;
    else
        return 0;
    if (dash && !mass)
        return 0;
    if (amount) {
        if (!p->amount) {
            p->amount = numbers_then(p, i, j, (const char *[]){" ", amount->norm, NULL});
            if (!int_value(p, i, &p->amount_value))
                p->amount_value = -1;
        }
    } else if (mass) {
        p->mass_strength = 1;
        piece_add(&p->strengths,
                  numbers_then(p, i, j, (const char *[]){" ", mass->norm, per, per_form, NULL}), 0);
    } else
        piece_add(&p->strengths, numbers_then(p, i, j, (const char *[]){"%", NULL}), 0);
    return end - i;
}

/* "Norco 10/325 #60": two numbers right after the drug's name, without a unit. */
static size_t try_bare_strength(parser *p, size_t i)
{
    if (!p->n_drugs || i != p->after_drug || p->strengths.n || i + 2 >= p->n)
        return 0;
    if (!(is_punct(p, i + 1, '/') || is_punct(p, i + 1, '-')) || !glued(p, i + 1) ||
        p->t[i + 2].kind != TK_NUM || !glued(p, i + 2))
        return 0;
    piece_add(&p->strengths, numbers_then(p, i, i + 2, (const char *[]){NULL}), 0);
    return 3;
}

/* ---------------------------------------------------------------- counts */

/* A rate of v (or lo to v: "1-2 times a week") times (what 0), hours (1) or days (2) per
 * period. A course of so many a week is counted at its upper bound. */
static void add_rate(parser *p, int lo, int v, int what, int period)
{
    const char *name = PERIOD_NAMES[period];
    text f = {.n = 0};
    if (lo >= 0) {
        text_int(&f, lo);
        text_char(&f, '-');
    }
    text_int(&f, v);
    text_str(&f, what == 1 ? " hours/" : what == 2 ? " days/" : "x/");
    text_str(&f, name);
    piece_add(&p->frequency, text_done(p->a, &f), 1);
    if (what != 1 && !strcmp(name, "week") && p->per_week < 0)
        p->per_week = v;
    if (what == 0 && !strcmp(name, "month") && p->per_month < 0)
        p->per_month = v;
}

/* COUNT [x|times|hours|days] (/|a|per|each) PERIOD, or COUNT UNIT daily|weekly|monthly:
 * "3 times a week", "2x/day", "4 hours a day", "7 days a week", "twice weekly". */
static size_t try_rate(parser *p, size_t i, int lo, int v, int times)
{
    size_t j = i + 1;
    int what = -1; /* 0 times, 1 hours, 2 days */
    int sep = 0, k;
    if (times)
        what = 0;
    else if (word_in(p, j, TIMES_WORDS) >= 0)
        what = 0, j++;
    else if (word_in(p, j, HOUR_WORDS) >= 0)
        what = 1, j++;
    else if (word_in(p, j, DAY_WORDS) >= 0)
        what = 2, j++;
    if (what >= 0 && (k = word_in(p, j, PERIOD_ADVERBS)) >= 0) {
        int period = k == 0 ? 0 : k == 1 ? 2 : 6;
        if (what == 2 && period == 0)
            return 0;
        add_rate(p, lo, v, what, period);
        return j + 1 - i;
    }
    if (what == 0 && !times && word_in(p, j, PERIODS) >= 0)
        sep = 1; /* "1x month" */
    else if (is_punct(p, j, '/'))
        sep = 1, j++;
    else if ((k = word_in(p, j, RATE_SEPARATORS)) >= 0)
        sep = k == 2 ? 1 : 2, j++; /* "per" stands alone; "a", "each" need a unit before */
    if (!sep || (what < 0 && sep != 1))
        return 0;
    if ((k = word_in(p, j, PERIODS)) < 0)
        return 0;
    if (what < 0)
        what = 0;
    if (what == 2 && !strcmp(PERIOD_NAMES[k], "day"))
        return 0;
    add_rate(p, lo, v, what, k);
    return j + 1 - i;
}

/* "1 week", "4 weeks" */
static const char *counted(imr_arena *a, int v, const char *noun)
{
    text t = {.n = 0};
    text_int(&t, v);
    text_char(&t, ' ');
    text_str(&t, noun);
    if (v != 1)
        text_char(&t, 's');
    return text_done(a, &t);
}

/* "2x6", "2 x 6 weeks": a course of sessions, so many a week for so many weeks. */
static size_t try_course(parser *p, size_t i, int v)
{
    int w;
    if (!is_word(p, i + 1, W_X) || !int_value(p, i + 2, &w) || word_in(p, i + 3, REFILL_WORDS) >= 0)
        return 0;
    if (is_punct(p, i + 3, '/') || word_in(p, i + 3, RATE_SEPARATORS) >= 0)
        return 0;
    size_t end = i + 3;
    if (is_word(p, end, W_WEEKS) || is_word(p, end, W_WEEK) || is_word(p, end, W_WKS) ||
        is_word(p, end, W_WK))
        end++;
    else if (word_in(p, end, DURATION_UNITS) >= 0)
        return 0;
    add_rate(p, -1, v, 0, 2);
    if (!p->duration)
        p->duration = counted(p->a, w, "week");
    if (p->weeks < 0)
        p->weeks = w;
    return end - i;
}

static size_t term_span(const parser *p, size_t i, const request_term **term)
{
    lexicon_match m;
    *term = NULL;
    if (i >= p->n || p->t[i].kind != TK_WORD)
        return 0;
    lexicon_longest(p->lx, p->s + p->t[i].start, p->len - p->t[i].start, &m);
    /* a drug name that is longer wins over the phrase */
    if (!m.term || (m.drug && m.drug_len >= m.term_len))
        return 0;
    *term = m.term;
    return tokens_until(p, i, p->t[i].start + m.term_len);
}

/* A dosing instruction starts at token i: "1 tablet every 6 hours" is a dose, not a supply. */
static int starts_frequency(const parser *p, size_t i)
{
    const request_term *t;
    int v, times;
    if (is_word(p, i, W_Q) || is_word(p, i, W_EVERY))
        return 1;
    if (int_value(p, i, &v) && is_punct(p, i + 1, '-') && int_value(p, i + 2, &v))
        i += 2;
    if (term_span(p, i, &t) && (t->frequency || t->oral))
        return 1;
    return count_value(p, i, &v, &times) && (times || word_in(p, i + 1, TIMES_WORDS) >= 0);
}

/* COUNT followed by what it counts: refills, visits, a duration, or a dose form. */
static size_t try_counted(parser *p, size_t i, int v)
{
    size_t j = i + 1;
    int k;
    const request_term *t;
    if (word_in(p, j, REFILL_WORDS) >= 0) {
        if (p->refills < 0)
            p->refills = v;
        return 2;
    }
    if (word_in(p, j, VISIT_WORDS) >= 0) {
        if (p->visits < 0)
            p->visits = v;
        return 2;
    }
    if (is_punct(p, j, '-') && glued(p, j) && glued(p, j + 1))
        j++;
    if ((k = word_in(p, j, DURATION_UNITS)) >= 0) {
        const char *name = DURATION_NAMES[k];
        if (!p->duration)
            p->duration = counted(p->a, v, name);
        if (!strcmp(name, "week") && p->weeks < 0)
            p->weeks = v;
        if (!strcmp(name, "month") && p->months < 0)
            p->months = v;
        j++;
        if (is_word(p, j, W_SUPPLY))
            j++;
        return j - i;
    }
    size_t span = term_span(p, i + 1, &t);
    if (span && t->dose_form) {
        if (!p->dose_form)
            p->dose_form = t->dose_form;
        if (t->topical)
            p->topical = 1;
        if (!starts_frequency(p, i + 1 + span))
            set_quantity(p, v, QTY_FORM);
        return 1 + span;
    }
    return 0;
}

/* Everything a count can start, shared by digits and number words. */
static size_t after_count(parser *p, size_t i, int v, int times)
{
    size_t used;
    if ((used = try_rate(p, i, -1, v, times)))
        return used;
    if (!times && (used = try_course(p, i, v)))
        return used;
    if ((used = try_counted(p, i, v)))
        return used;
    if (p->x_before == i) {
        if (p->count < 0)
            p->count = v;
        return 1;
    }
    /* "6x" at the end of a phrase: a count of times */
    if (is_word(p, i + 1, W_X) && glued(p, i + 1) && !count_value(p, i + 2, &(int){0}, &(int){0})) {
        if (p->count < 0)
            p->count = v;
        return 2;
    }
    p->pending = v;
    p->pending_tok = i;
    return 1;
}

/* ---------------------------------------------------------------- words */

/* "L4-5", "L5-S1", "C5-C6", "L4": a spinal level; its letter names a region. */
static size_t try_level(parser *p, size_t i)
{
    int a, b;
    if (p->t[i].end - p->t[i].start != 1 || !glued(p, i + 1) || !int_value(p, i + 1, &a) || a > 99)
        return 0;
    char l1 = p->s[p->t[i].start];
    const char *region = lexicon_level_region(p->lx, l1);
    if (!region)
        return 0;
    l1 = (char)(l1 >= 'a' && l1 <= 'z' ? l1 - 32 : l1);
    size_t end = i + 2;
    text level = {.n = 0};
    text_char(&level, l1);
    text_int(&level, a);
    if ((is_punct(p, end, '-') || is_punct(p, end, '/')) && glued(p, end)) {
        size_t k = end + 1;
        char l2 = 0;
        if (k < p->n && glued(p, k) && p->t[k].end - p->t[k].start == 1 &&
            lexicon_level_region(p->lx, p->s[p->t[k].start])) {
            l2 = p->s[p->t[k].start];
            l2 = (char)(l2 >= 'a' && l2 <= 'z' ? l2 - 32 : l2);
            k++;
        }
        if (glued(p, k) && int_value(p, k, &b) && b <= 99) {
            text_char(&level, '-');
            if (l2 && l2 != l1)
                text_char(&level, l2);
            text_int(&level, b);
            end = k + 1;
        }
    }
    piece_add(&p->levels, text_done(p->a, &level), 0);
    if (!p->level_region)
        p->level_region = region;
    return end - i;
}

/* "q6h", "q4-6h", "q 8 hours", "every 6 hours", "every 2 weeks": a dosing interval. */
static size_t try_interval(parser *p, size_t i)
{
    int a, b, times = 0, k;
    int every = is_word(p, i, W_EVERY);
    if (!every && !is_word(p, i, W_Q))
        return 0;
    if (every ? !count_value(p, i + 1, &a, &times) || times : !int_value(p, i + 1, &a))
        return 0;
    size_t j = i + 2;
    text f = {.n = 0};
    text_str(&f, "every ");
    text_int(&f, a);
    int plural = a != 1;
    if (is_punct(p, j, '-') && int_value(p, j + 1, &b)) {
        text_char(&f, '-');
        text_int(&f, b);
        plural = 1;
        j += 2;
    }
    const char *per;
    if (word_in(p, j, PER_HOUR) >= 0 || word_in(p, j, HOUR_WORDS) >= 0)
        per = "hour";
    else if (every && (k = word_in(p, j, PERIODS)) >= 0)
        per = PERIOD_NAMES[k];
    else
        return 0;
    text_char(&f, ' ');
    text_str(&f, per);
    if (plural)
        text_char(&f, 's');
    piece_add(&p->frequency, text_done(p->a, &f), 0);
    return j + 1 - i;
}

static void apply_drug(parser *p, const imr_drug *d, size_t i, size_t end)
{
    size_t next = i + tokens_until(p, i, end);
    if (!p->has_name) {
        p->has_name = 1;
        p->name_start = p->t[i].start;
        p->name_end = end;
        p->name_next = next;
    } else if (!p->name_is_term && p->name_next + 1 == i && is_punct(p, p->name_next, '/')) {
        /* "Flurbiprofen/Cyclobenzaprine/Lidocaine": one compound, one name */
        p->name_end = end;
        p->name_next = next;
    }
    for (size_t k = 0; k < p->n_drugs; k++)
        if (p->drugs[k] == d)
            return;
    if (p->n_drugs < MAX_PIECES)
        p->drugs[p->n_drugs++] = d;
    if (p->n_drugs == 1)
        p->after_drug = next;
}

/* The name of a treatment that is not a drug is its first phrase that says a kind, with the
 * phrases glued before it that name a body part or a procedure ("Lumbar brace", "Orthopedic
 * surgeon consultation") and those right after it that say a kind too ("arthroscopic
 * subacromial decompression"). Words for the side only stay out of the name. */
static void name_phrase(parser *p, const request_term *t, size_t i, size_t next, size_t end)
{
    if (t->kind < 0) {
        if ((t->body_part || t->procedure) && !t->dose_form && !t->frequency) {
            if (p->chain_next != i || !p->chain_next)
                p->chain_start = p->t[i].start;
            p->chain_next = next;
        }
        return;
    }
    if (!p->has_name) {
        p->has_name = p->name_is_term = 1;
        p->name_start = p->chain_next == i && p->chain_next ? p->chain_start : p->t[i].start;
        p->name_end = end;
        p->name_next = next;
    } else if (p->name_is_term && p->name_next == i) {
        p->name_end = end;
        p->name_next = next;
    }
}

static void apply_term(parser *p, const request_term *t)
{
    if (t->kind >= 0 && p->kind < 0)
        p->kind = t->kind;
    piece_add(&p->procedure, t->procedure, 0);
    piece_add(&p->body_part, t->body_part, 0);
    piece_add(&p->laterality, t->laterality, 0);
    piece_add(&p->frequency, t->frequency, 0);
    if (t->dose_form && !p->dose_form)
        p->dose_form = t->dose_form;
    if (t->drug_class && !p->term_class)
        p->term_class = t->drug_class;
    if (t->topical)
        p->topical = 1;
}

/* The longest drug name or phrase at token i (a drug wins a tie). */
static size_t try_phrase(parser *p, size_t i)
{
    lexicon_match m;
    lexicon_longest(p->lx, p->s + p->t[i].start, p->len - p->t[i].start, &m);
    const imr_drug *d = m.drug;
    const request_term *t = m.term;
    size_t dl = m.drug_len, tl = m.term_len;
    if (d && dl >= tl) {
        apply_drug(p, d, i, p->t[i].start + dl);
        return tokens_until(p, i, p->t[i].start + dl);
    }
    if (!t)
        return 0;
    size_t used = tokens_until(p, i, p->t[i].start + tl);
    name_phrase(p, t, i, i + used, p->t[i].start + tl);
    apply_term(p, t);
    return used;
}

/* Words that introduce a number: "x6", "refills x2", "qty 60", "sessions: 8". */
static size_t try_keyword(parser *p, size_t i)
{
    int v, times;
    size_t j = i + 1;
    if ((is_word(p, i, W_X) || is_word(p, i, W_TIMES)) && count_value(p, j, &v, &times)) {
        p->x_before = j;
        return 1;
    }
    if (is_word(p, i, W_NO) && word_in(p, j, REFILL_WORDS) >= 0) {
        if (p->refills < 0)
            p->refills = 0;
        return 2;
    }
    int refill = word_in(p, i, REFILL_KEYWORDS) >= 0;
    int visit = word_in(p, i, VISIT_WORDS) >= 0;
    int qty = is_word(p, i, W_QTY) || is_word(p, i, W_QUANTITY);
    if (!refill && !visit && !qty)
        return 0;
    while (j < p->n && j < i + 3 &&
           (is_word(p, j, W_X) || is_word(p, j, W_OF) || is_punct(p, j, ':') || is_punct(p, j, '#') ||
            is_punct(p, j, '=')))
        j++;
    /* "visits 3x/week" is a rate, read from the number on */
    int rate = word_in(p, j + 1, TIMES_WORDS) >= 0 || is_punct(p, j + 1, '/') ||
               word_in(p, j + 1, RATE_SEPARATORS) >= 0;
    if (count_value(p, j, &v, &times) && !times && !rate) {
        if (refill && p->refills < 0)
            p->refills = v;
        else if (visit && p->visits < 0)
            p->visits = v;
        else if (qty)
            set_quantity(p, v, QTY_EXPLICIT);
        return j + 1 - i;
    }
    /* "12 physical therapy visits": the number came a few words before */
    if (visit && p->pending >= 0 && i - p->pending_tok <= 5 && p->visits < 0) {
        p->visits = p->pending;
        p->pending = -1;
    }
    return 1;
}

/* ---------------------------------------------------------------- one step */

/* Tokens i.. read NUM SEP NUM SEP NUM, glued, SEP one '-' or '/' both times. */
static int numeric_date_shape(const parser *p, size_t i)
{
    if (i + 4 >= p->n || !(is_punct(p, i + 1, '-') || is_punct(p, i + 1, '/')))
        return 0;
    char sep = p->s[p->t[i + 1].start];
    for (size_t k = i + 1; k <= i + 4; k++)
        if (!glued(p, k))
            return 0;
    return p->t[i + 2].kind == TK_NUM && is_punct(p, i + 3, sep) && p->t[i + 4].kind == TK_NUM;
}

static size_t try_date(parser *p, size_t i)
{
    char iso[11];
    /* dates start with a month's name followed by a number ("Aug. 11"), or are three numbers
     * joined by the same '-' or '/' ("3/26/2005", "2015-08-19": the forms imr.h lists) */
    if (p->t[i].kind == TK_PUNCT)
        return 0;
    if (p->t[i].kind == TK_WORD) {
        size_t k = is_punct(p, i + 1, '.') ? i + 2 : i + 1;
        if (k >= p->n || p->t[k].kind != TK_NUM)
            return 0;
    } else if (!numeric_date_shape(p, i))
        return 0;
    size_t used = imr_date_parse(p->s + p->t[i].start, p->len - p->t[i].start, iso);
    return used ? tokens_until(p, i, p->t[i].start + used) : 0;
}

static size_t step(parser *p, size_t i)
{
    size_t used;
    int v, hi, times;
    if ((used = try_date(p, i)))
        return used;
    switch (p->t[i].kind) {
    case TK_NUM:
        if ((used = try_strength(p, i)) || (used = try_bare_strength(p, i)))
            return used;
        if (!int_value(p, i, &v))
            return 1;
        if (is_punct(p, i + 1, '-') && int_value(p, i + 2, &hi) && hi > v &&
            (used = try_rate(p, i + 2, v, hi, 0)))
            return 2 + used;
        return after_count(p, i, v, 0);
    case TK_WORD:
        if ((used = try_level(p, i)) || (used = try_interval(p, i)) || (used = try_phrase(p, i)))
            return used;
        if (count_value(p, i, &v, &times))
            return after_count(p, i, v, times);
        if ((used = try_keyword(p, i)))
            return used;
        return 1;
    case TK_PUNCT:
        if (is_punct(p, i, '#') && int_value(p, i + 1, &v)) {
            set_quantity(p, v, QTY_EXPLICIT);
            return 2;
        }
        return 1;
    }
    return 1;
}

/* ---------------------------------------------------------------- the result */

static int starts_with(const char *s, const char *prefix)
{
    return s && !strncmp(s, prefix, strlen(prefix));
}

/* With no drug and no known treatment, the name is the leading words ("Zipsor" of
 * "Zipsor 25mg #60"), up to the first number or mark that starts the details. */
static const char *leading_words(parser *p)
{
    size_t e = 0;
    while (e < p->len && !lex_is_digit((unsigned char)p->s[e]) && !strchr("#(),:;[", p->s[e]))
        e++;
    size_t b = 0;
    while (b < e && (lex_is_space((unsigned char)p->s[b]) || p->s[b] == '-'))
        b++;
    while (e > b && (lex_is_space((unsigned char)p->s[e - 1]) || p->s[e - 1] == '-'))
        e--;
    /* "Flotation tank therapy x6": the x belongs to the count */
    if (e - b >= 2 && (p->s[e - 1] == 'x' || p->s[e - 1] == 'X') && lex_is_space((unsigned char)p->s[e - 2]))
        for (e -= 2; e > b && lex_is_space((unsigned char)p->s[e - 1]);)
            e--;
    return e > b ? imr_arena_strndup(p->a, p->s + b, e - b) : NULL;
}

static void finish_drug(parser *p, imr_treatment *out, int topical_any)
{
    for (size_t k = 0; k < p->n_drugs; k++) {
        const imr_drug *d = p->drugs[k];
        for (size_t g = 0; g < d->generics.n; g++) {
            size_t seen = 0;
            while (seen < out->generics.n && strcmp(out->generics.v[seen], d->generics.v[g]))
                seen++;
            if (seen == out->generics.n)
                imr_strlist_push(&out->generics, p->a, d->generics.v[g]);
        }
        if (out->mme_factor <= 0 && d->mme_factor > 0)
            out->mme_factor = d->mme_factor;
    }
    const char *cls = p->term_class;
    if (!cls && p->n_drugs >= 2 && topical_any)
        cls = "topical_compound";
    if (!cls && p->n_drugs)
        cls = p->drugs[0]->drug_class;
    if (cls && p->topical && !starts_with(cls, "topical_")) {
        const char *on_skin = lexicon_topical_class(p->lx, cls);
        if (on_skin)
            cls = on_skin;
    }
    out->drug_class = cls;
}

static void finish(parser *p, imr_treatment *out)
{
    int kind = p->kind >= 0                   ? p->kind
               : p->n_drugs || p->mass_strength ? IMR_TREATMENT_DRUG
                                                : IMR_TREATMENT_OTHER;
    out->kind = (imr_treatment_kind)kind;
    out->name = p->has_name ? imr_arena_strndup(p->a, p->s + p->name_start, p->name_end - p->name_start)
                            : leading_words(p);
    int topical_any = p->topical;
    for (size_t k = 0; k < p->n_drugs; k++)
        topical_any |= starts_with(p->drugs[k]->drug_class, "topical_");
    for (size_t k = 0; k < p->strengths.n; k++)
        topical_any |= strchr(p->strengths.v[k], '%') != NULL;
    if (p->n_drugs || p->term_class)
        finish_drug(p, out, topical_any);
    topical_any |= starts_with(out->drug_class, "topical_");
    /* a size in grams or ml is how much of a cream; otherwise it is the strength */
    if (p->amount && topical_any) {
        if (p->amount_value >= 0)
            set_quantity(p, p->amount_value, QTY_AMOUNT);
    } else if (p->amount)
        piece_add(&p->strengths, p->amount, 0);
    out->strength = pieces_join(p, &p->strengths, 0);
    out->dose_form = p->dose_form ? p->dose_form
                     : kind == IMR_TREATMENT_DRUG && p->n_drugs ? p->drugs[0]->dose_form
                                                                : NULL;
    if (p->count >= 0) {
        if (kind == IMR_TREATMENT_DRUG)
            set_quantity(p, p->count, QTY_BARE);
        else if (p->visits < 0)
            p->visits = p->count;
    }
    long long course = p->per_week > 0 && p->weeks > 0     ? (long long)p->per_week * p->weeks
                       : p->per_month > 0 && p->months > 0 ? (long long)p->per_month * p->months
                                                           : -1;
    if (p->visits < 0 && course > 0 && course <= INT_MAX && kind != IMR_TREATMENT_DRUG)
        p->visits = (int)course;
    out->quantity = p->quantity_from ? p->quantity : -1;
    out->refills = p->refills;
    out->visits = p->visits;
    out->frequency = pieces_join(p, &p->frequency, 1);
    out->duration = p->duration;
    out->body_part = p->body_part.n ? pieces_join(p, &p->body_part, 0) : p->level_region;
    out->laterality = pieces_join(p, &p->laterality, 0);
    out->procedure = pieces_join(p, &p->procedure, 0);
    out->levels = pieces_join(p, &p->levels, 0);
}

void imr_request_parse(const char *request, const imr_lexicon *lx, imr_arena *a,
                       imr_treatment *out)
{
    imr_treatment_init(out);
    if (!request || !a)
        return;
    parser p;
    memset(&p, 0, sizeof p);
    p.s = request;
    p.len = strlen(request);
    p.lx = lx;
    p.a = a;
    p.kind = -1;
    p.quantity = p.refills = p.visits = p.count = -1;
    p.per_week = p.weeks = p.per_month = p.months = -1;
    p.x_before = (size_t)-1;
    p.pending = -1;
    token room[128];
    pthread_once(&word_slots_once, build_word_slots);
    tokenize(&p, room, sizeof room / sizeof room[0]);
    for (size_t i = 0; i < p.n;)
        i += step(&p, i);
    finish(&p, out);
}
