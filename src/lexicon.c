/*
 * lexicon.c - the drug lexicon (rules/drugs.tsv) and the request vocabulary loaded beside
 * it (rules/requests.tsv): reading and validating both files with file:line errors, and
 * finding names in text.
 *
 * Names and phrases are kept in one open-addressing hash table keyed on a normalized form
 * (lower case, runs of spaces and hyphens as one space, no space around '/'), so a lookup
 * costs one hash of the name. The table also holds the starts of names ("voltaren" of
 * "voltaren gel"), marked with the kinds of name they start. Finding the longest drug name
 * and the longest phrase at a position walks the text once for both, hashing as it goes,
 * probes the table once at each word boundary, and stops at the first word that begins no
 * name. The work per position is bounded by the longest name, so scanning a text stays
 * linear, and most words cost one probe.
 *
 * The drug classes are a fixed vocabulary shared with the guideline knowledge base; they
 * are listed (and explained) in docs/requests.md.
 */
#include "imr.h"
#include "lexicon.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LEX_MAX_FILE (16u * 1024 * 1024)
#define LEX_MAX_COLUMNS 16

/* ---------------------------------------------------------------- drug classes */

static const char *const DRUG_CLASSES[] = {
    "opioid_short_acting", "opioid_long_acting", "opioid_atypical", "opioid_partial_agonist",
    "muscle_relaxant_antispasmodic", "muscle_relaxant_antispasticity", "nsaid", "ppi",
    "h2_blocker", "anticonvulsant", "antidepressant_tca", "antidepressant_snri",
    "antidepressant_ssri", "antidepressant_other", "topical_nsaid", "topical_lidocaine",
    "topical_capsaicin", "topical_salicylate", "topical_compound", "sedative_hypnotic",
    "benzodiazepine", "analgesic_non_opioid", "barbiturate_combination", "triptan",
    "antiemetic", "laxative", "corticosteroid", "antihistamine", "medical_food", "other"};
#define N_CLASSES (sizeof DRUG_CLASSES / sizeof DRUG_CLASSES[0])

static int class_index(const char *name)
{
    for (size_t i = 0; name && i < N_CLASSES; i++)
        if (DRUG_CLASSES[i][0] == name[0] && !strcmp(DRUG_CLASSES[i], name))
            return (int)i;
    return -1;
}

int imr_drug_class_valid(const char *name)
{
    return class_index(name) >= 0;
}

/* ---------------------------------------------------------------- normalized names */

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

typedef struct norm_state {
    char buf[LEX_MAX_PHRASE];
    size_t n;
    int pending_space;
    uint64_t hash;
} norm_state;

static void norm_init(norm_state *st)
{
    st->n = 0;
    st->pending_space = 0;
    st->hash = FNV_OFFSET;
}

enum { PIECE_END = 0, PIECE_READ = 1, PIECE_TOO_LONG = -1 };

/* Read the next piece of a name from s[*pos]: the blanks before it (spaces and hyphens,
 * which become one space in the key, or none beside a '/'), then a run of letters, a run of
 * digits, or one other mark, lower-cased. Names end only where a piece does. PIECE_END at
 * the end of s; PIECE_TOO_LONG when the key would grow past LEX_MAX_PHRASE bytes or the
 * blanks reach `limit`. */
static inline int norm_piece(norm_state *st, const char *s, size_t len, size_t *pos, size_t limit)
{
    size_t i = *pos;
    unsigned char c;
    for (;; i++) {
        if (i >= len)
            return *pos = i, PIECE_END;
        c = (unsigned char)s[i];
        if (!lex_is_space(c) && c != '-')
            break;
        if (i >= limit)
            return PIECE_TOO_LONG;
        if (st->n && st->buf[st->n - 1] != '/')
            st->pending_space = 1;
    }
    if (st->pending_space && c != '/') {
        if (st->n >= LEX_MAX_PHRASE)
            return PIECE_TOO_LONG;
        st->buf[st->n++] = ' ';
        st->hash = (st->hash ^ ' ') * FNV_PRIME;
    }
    st->pending_space = 0;
    unsigned run = LEX_CLASS[c] & (LEX_LETTER | LEX_DIGIT); /* 0: a mark, alone */
    do {
        if (st->n >= LEX_MAX_PHRASE)
            return PIECE_TOO_LONG;
        c = lex_lower(c);
        st->buf[st->n++] = (char)c;
        st->hash = (st->hash ^ c) * FNV_PRIME;
        if (++i >= len)
            break;
        c = (unsigned char)s[i];
    } while (run && (LEX_CLASS[c] & (LEX_LETTER | LEX_DIGIT)) == run);
    *pos = i;
    return PIECE_READ;
}

/* The normalized key of a whole name; 0 when it is longer than LEX_MAX_PHRASE. */
static int normalize(const char *s, size_t len, norm_state *st)
{
    size_t i = 0;
    int r;
    norm_init(st);
    while ((r = norm_piece(st, s, len, &i, len)) == PIECE_READ)
        ;
    return r == PIECE_END;
}

/* Letters (ASCII and every byte >= 0x80) 1, digits 2, the six ASCII spaces 4. */
const unsigned char LEX_CLASS[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* 1 when a name may end between s[e-1] and s[e]: at the end, beside punctuation or space,
 * or where letters turn into digits or back ("Norco10/325"). */
static inline int at_boundary(const char *s, size_t len, size_t e)
{
    if (e >= len)
        return 1;
    unsigned a = LEX_CLASS[(unsigned char)s[e - 1]], b = LEX_CLASS[(unsigned char)s[e]];
    return !(a & (LEX_LETTER | LEX_DIGIT)) || !(b & (LEX_LETTER | LEX_DIGIT)) ||
           ((a ^ b) & LEX_LETTER);
}

/* ---------------------------------------------------------------- phrase index */

/* One table holds the drug names, the vocabulary phrases and every start of either that ends
 * on a word boundary ("voltaren" of "voltaren gel"), so a walk looking for both kinds at
 * once probes a single table once per boundary, and stops as soon as what it has read
 * starts no name of a kind it still looks for. */
enum { STARTS_DRUG = 1, STARTS_TERM = 2 }; /* kinds of name a key starts */
enum { KIND_DRUG, KIND_TERM };

typedef struct phrase_slot {
    uint64_t hash;
    const char *key;   /* normalized, in the lexicon's arena; NULL: empty slot */
    uint32_t key_len;
    uint32_t starts;   /* STARTS_*: kinds of name that begin with the key (or are it) */
    int32_t drug;      /* index of the drug named exactly so, or -1 */
    int32_t term;      /* index of the phrase listed exactly so, or -1 */
} phrase_slot;

typedef struct phrase_index {
    phrase_slot *slots;
    size_t cap, n;        /* cap is a power of two, at least twice n */
    size_t max_len[2];    /* longest drug name, longest phrase, normalized (KIND_*) */
} phrase_index;

static phrase_slot *index_get(const phrase_index *ix, uint64_t h, const char *key, size_t n)
{
    if (!ix->cap)
        return NULL;
    for (size_t i = h & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
        phrase_slot *sl = &ix->slots[i];
        if (!sl->key)
            return NULL;
        if (sl->hash == h && sl->key_len == n && !memcmp(sl->key, key, n))
            return sl;
    }
}

static int index_grow(phrase_index *ix)
{
    size_t cap = ix->cap ? ix->cap * 2 : 4096; /* today's rules fit without growing */
    phrase_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < ix->cap; i++) {
        if (!ix->slots[i].key)
            continue;
        size_t k = ix->slots[i].hash & (cap - 1);
        while (slots[k].key)
            k = (k + 1) & (cap - 1);
        slots[k] = ix->slots[i];
    }
    free(ix->slots);
    ix->slots = slots;
    ix->cap = cap;
    return 0;
}

/* The slot of `key`, added (naming nothing, starting nothing) when absent; NULL: no memory. */
static phrase_slot *index_add(phrase_index *ix, uint64_t h, const char *key, size_t n)
{
    if ((ix->n + 1) * 2 > ix->cap && index_grow(ix))
        return NULL;
    for (size_t i = h & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
        phrase_slot *sl = &ix->slots[i];
        if (!sl->key) {
            sl->hash = h;
            sl->key = key;
            sl->key_len = (uint32_t)n;
            sl->starts = 0;
            sl->drug = sl->term = -1;
            ix->n++;
            return sl;
        }
        if (sl->hash == h && sl->key_len == n && !memcmp(sl->key, key, n))
            return sl;
    }
}

static void index_free(phrase_index *ix)
{
    free(ix->slots);
}

/* Add a name of `kind` (normalized, in the arena, not yet listed as that kind) and mark its
 * starts that end on a boundary. */
static int index_put(phrase_index *ix, int kind, uint64_t h, const char *key, size_t n,
                     size_t value)
{
    unsigned starts = kind == KIND_DRUG ? STARTS_DRUG : STARTS_TERM;
    phrase_slot *sl = index_add(ix, h, key, n);
    if (!sl)
        return -1;
    if (kind == KIND_DRUG)
        sl->drug = (int32_t)value;
    else
        sl->term = (int32_t)value;
    sl->starts |= starts;
    if (n > ix->max_len[kind])
        ix->max_len[kind] = n;
    uint64_t ph = FNV_OFFSET;
    for (size_t e = 1; e < n; e++) {
        ph = (ph ^ (unsigned char)key[e - 1]) * FNV_PRIME;
        if (key[e - 1] == ' ' || !at_boundary(key, n, e))
            continue;
        if (!(sl = index_add(ix, ph, key, e)))
            return -1;
        sl->starts |= starts;
    }
    return 0;
}

typedef struct index_match {
    const phrase_slot *drug, *term;
    size_t drug_end, term_end;
} index_match;

/* The longest drug name and the longest phrase (of the kinds in `want`, STARTS_*) that start
 * at s[0] and end on a boundary: one walk over the text, piece by piece (norm_piece), probing
 * the table at the end of each piece. For each kind the walk gives up where no name of it
 * can go on: past its longest name, past four times that many raw bytes (spaces collapse,
 * but no name spans long blank runs), or where what it has read starts no name of it. */
static void index_longest(const phrase_index *ix, const char *s, size_t len, unsigned want,
                          index_match *m)
{
    m->drug = m->term = NULL;
    m->drug_end = m->term_end = 0;
    if (!ix->n || !len || !lex_is_alnum((unsigned char)s[0]))
        return;
    const size_t max_d = ix->max_len[KIND_DRUG], max_t = ix->max_len[KIND_TERM];
    const size_t raw_d = 4 * max_d + 64, raw_t = 4 * max_t + 64;
    unsigned alive = want;
    norm_state st;
    size_t i = 0;
    norm_init(&st);
    while (norm_piece(&st, s, len, &i, raw_d > raw_t ? raw_d : raw_t) == PIECE_READ) {
        /* a boundary: the end of the text, of a run, or after a mark */
        if (i > raw_d || st.n > max_d)
            alive &= ~(unsigned)STARTS_DRUG;
        if (i > raw_t || st.n > max_t)
            alive &= ~(unsigned)STARTS_TERM;
        if (!alive)
            return;
        const phrase_slot *sl = index_get(ix, st.hash, st.buf, st.n);
        if (!sl)
            return;
        if ((alive & STARTS_DRUG) && sl->drug >= 0) {
            m->drug = sl;
            m->drug_end = i;
        }
        if ((alive & STARTS_TERM) && sl->term >= 0) {
            m->term = sl;
            m->term_end = i;
        }
        alive &= sl->starts;
    }
}

/* ---------------------------------------------------------------- the lexicon */

struct imr_lexicon {
    imr_arena *arena; /* every string of the lexicon */
    imr_drug *drugs;
    int *drug_lines;
    size_t n_drugs, cap_drugs;
    request_term *terms;
    size_t n_terms, cap_terms;
    phrase_index index; /* drug names and phrases */
    const char *level_region[26];
    const char *topical_class[N_CLASSES];
    int has_vocabulary;
};

void imr_lexicon_free(imr_lexicon *lx)
{
    if (!lx)
        return;
    free(lx->drugs);
    free(lx->drug_lines);
    free(lx->terms);
    index_free(&lx->index);
    imr_arena_free(lx->arena);
    free(lx);
}

size_t imr_lexicon_count(const imr_lexicon *lx)
{
    return lx ? lx->n_drugs : 0;
}

const imr_drug *imr_lexicon_drug(const imr_lexicon *lx, size_t i)
{
    return lx && i < lx->n_drugs ? &lx->drugs[i] : NULL;
}

const imr_drug *imr_lexicon_find(const imr_lexicon *lx, const char *name, size_t len)
{
    norm_state st;
    if (!lx || !name || !normalize(name, len, &st))
        return NULL;
    const phrase_slot *sl = index_get(&lx->index, st.hash, st.buf, st.n);
    return sl && sl->drug >= 0 ? &lx->drugs[sl->drug] : NULL;
}

const imr_drug *imr_lexicon_match(const imr_lexicon *lx, const char *s, size_t len,
                                  size_t *match_len)
{
    index_match m;
    if (!lx || !s)
        return NULL;
    index_longest(&lx->index, s, len, STARTS_DRUG, &m);
    if (!m.drug)
        return NULL;
    if (match_len)
        *match_len = m.drug_end;
    return &lx->drugs[m.drug->drug];
}

void lexicon_longest(const imr_lexicon *lx, const char *s, size_t len, lexicon_match *out)
{
    index_match m;
    memset(out, 0, sizeof *out);
    if (!lx || !s)
        return;
    index_longest(&lx->index, s, len, STARTS_DRUG | STARTS_TERM, &m);
    if (m.drug) {
        out->drug = &lx->drugs[m.drug->drug];
        out->drug_len = m.drug_end;
    }
    if (m.term) {
        out->term = &lx->terms[m.term->term];
        out->term_len = m.term_end;
    }
}

const char *lexicon_level_region(const imr_lexicon *lx, char letter)
{
    unsigned char c = lex_lower((unsigned char)letter);
    return lx && c >= 'a' && c <= 'z' ? lx->level_region[c - 'a'] : NULL;
}

const char *lexicon_topical_class(const imr_lexicon *lx, const char *drug_class)
{
    int i = class_index(drug_class);
    return lx && i >= 0 ? lx->topical_class[i] : NULL;
}

/* ---------------------------------------------------------------- reading TSV files */

typedef struct field {
    const char *s;
    size_t n;
} field;

typedef struct tsv {
    const char *path;
    const char *p, *end;
    int line;            /* of the line last returned */
    field col[LEX_MAX_COLUMNS];
    size_t ncol;         /* columns of the line last returned (LEX_MAX_COLUMNS + 1: too many) */
    imr_error *err;
} tsv;

static int tsv_fail(tsv *t, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static int tsv_fail(tsv *t, const char *fmt, ...)
{
    char msg[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return imr_error_set(t->err, IMR_EX_DATAERR, t->path, t->line, "%s", msg);
}

static field trim(const char *s, size_t n)
{
    while (n && s[0] == ' ')
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\r'))
        n--;
    field f = {s, n};
    return f;
}

/* Next line that is neither blank nor a '#' comment, split at tabs. 0 at the end. */
static int tsv_next(tsv *t)
{
    while (t->p < t->end) {
        const char *s = t->p, *nl = memchr(s, '\n', (size_t)(t->end - s));
        const char *e = nl ? nl : t->end;
        t->p = nl ? nl + 1 : t->end;
        t->line++;
        field whole = trim(s, (size_t)(e - s));
        if (!whole.n || whole.s[0] == '#')
            continue;
        t->ncol = 0;
        const char *c = s;
        for (;;) {
            const char *tab = memchr(c, '\t', (size_t)(e - c));
            const char *ce = tab ? tab : e;
            if (t->ncol < LEX_MAX_COLUMNS)
                t->col[t->ncol] = trim(c, (size_t)(ce - c));
            t->ncol++;
            if (!tab)
                break;
            c = tab + 1;
        }
        if (t->ncol > LEX_MAX_COLUMNS)
            t->ncol = LEX_MAX_COLUMNS + 1;
        return 1;
    }
    return 0;
}

static int field_is(field f, const char *s)
{
    return f.n == strlen(s) && !memcmp(f.s, s, f.n);
}

static int field_none(field f)
{
    return f.n == 0 || field_is(f, "-");
}

/* Check the bytes of a rules file before reading lines: UTF-8 and no NUL. */
static int check_bytes(tsv *t, const char *data, size_t len)
{
    size_t bad = 0;
    const char *nul = memchr(data, '\0', len);
    if (nul) {
        t->line = imr_line_of(data, (size_t)(nul - data));
        return tsv_fail(t, "NUL byte in a text file");
    }
    if (!imr_utf8_valid(data, len, &bad)) {
        t->line = imr_line_of(data, bad);
        return tsv_fail(t, "invalid UTF-8 (byte %zu)", bad);
    }
    return IMR_OK;
}

static char *field_dup(imr_lexicon *lx, field f, int lower)
{
    char *s = imr_arena_strndup(lx->arena, f.s, f.n);
    if (lower)
        for (char *p = s; *p; p++)
            *p = (char)lex_lower((unsigned char)*p);
    return s;
}

/* A name's normalized key, checked: starts with a letter or digit, not too long. */
static int name_key(tsv *t, field f, const char *what, norm_state *st)
{
    if (!f.n)
        return tsv_fail(t, "empty %s", what);
    if (!lex_is_alnum((unsigned char)f.s[0]))
        return tsv_fail(t, "%s '%.*s' must start with a letter or a digit", what, (int)f.n, f.s);
    if (!normalize(f.s, f.n, st))
        return tsv_fail(t, "%s '%.60s...' is longer than %d bytes", what, f.s, LEX_MAX_PHRASE);
    return IMR_OK;
}

/* ---------------------------------------------------------------- drugs.tsv */

static const char *const DRUG_COLUMNS[] = {"name", "generics", "class", "dose_form",
                                           "mme_factor", "type"};
#define N_DRUG_COLUMNS 6

static int parse_mme(tsv *t, field f, double *out)
{
    *out = 0;
    if (field_none(f))
        return IMR_OK;
    size_t i = 0, digits = 0, dots = 0;
    for (; i < f.n; i++) {
        if (lex_is_digit((unsigned char)f.s[i]))
            digits++;
        else if (f.s[i] == '.' && !dots)
            dots++;
        else
            break;
    }
    if (i != f.n || !digits || f.n > 32)
        return tsv_fail(t, "mme_factor '%.*s' is not a number (write it like 1.5, or '-' for none)",
                        (int)(f.n > 40 ? 40 : f.n), f.s);
    char buf[40];
    memcpy(buf, f.s, f.n);
    buf[f.n] = '\0';
    double v = strtod(buf, NULL);
    if (v <= 0 || v > 1000)
        return tsv_fail(t, "mme_factor %s is out of range (above 0, at most 1000; '-' for none)", buf);
    *out = v;
    return IMR_OK;
}

static int parse_generics(tsv *t, imr_lexicon *lx, field f, imr_drug *d)
{
    if (field_none(f))
        return tsv_fail(t, "missing generic: list the ingredients of '%s', joined by '+'", d->display);
    const char *s = f.s, *end = f.s + f.n;
    while (s <= end) {
        const char *plus = memchr(s, '+', (size_t)(end - s));
        const char *e = plus ? plus : end;
        field g = trim(s, (size_t)(e - s));
        if (!g.n)
            return tsv_fail(t, "missing generic: empty ingredient in '%.*s'", (int)f.n, f.s);
        imr_strlist_push(&d->generics, lx->arena, field_dup(lx, g, 1));
        if (!plus)
            break;
        s = plus + 1;
    }
    return IMR_OK;
}

static int add_drug(tsv *t, imr_lexicon *lx)
{
    if (t->ncol != N_DRUG_COLUMNS)
        return tsv_fail(t, "expected %d tab-separated columns (name, generics, class, dose_form, "
                           "mme_factor, type), found %s%zu",
                        N_DRUG_COLUMNS, t->ncol > LEX_MAX_COLUMNS ? "more than " : "",
                        t->ncol > LEX_MAX_COLUMNS ? (size_t)LEX_MAX_COLUMNS : t->ncol);
    norm_state st;
    int rc = name_key(t, t->col[0], "drug name", &st);
    if (rc)
        return rc;
    const phrase_slot *dup = index_get(&lx->index, st.hash, st.buf, st.n);
    if (dup && dup->drug >= 0)
        return tsv_fail(t, "duplicate name '%.*s' (already listed at line %d)", (int)t->col[0].n,
                        t->col[0].s, lx->drug_lines[dup->drug]);
    if (lx->n_drugs == lx->cap_drugs) {
        size_t cap = lx->cap_drugs ? lx->cap_drugs * 2 : 256;
        imr_drug *d = realloc(lx->drugs, cap * sizeof *d);
        if (!d)
            return imr_error_set(t->err, IMR_EX_SOFTWARE, t->path, t->line, "out of memory");
        lx->drugs = d;
        int *l = realloc(lx->drug_lines, cap * sizeof *l);
        if (!l)
            return imr_error_set(t->err, IMR_EX_SOFTWARE, t->path, t->line, "out of memory");
        lx->drug_lines = l;
        lx->cap_drugs = cap;
    }
    imr_drug *d = &lx->drugs[lx->n_drugs];
    memset(d, 0, sizeof *d);
    d->display = field_dup(lx, t->col[0], 0);
    d->name = field_dup(lx, t->col[0], 1);
    if ((rc = parse_generics(t, lx, t->col[1], d)))
        return rc;
    if (class_index(d->drug_class = field_dup(lx, t->col[2], 0)) < 0)
        return tsv_fail(t, "unknown class '%.60s' (the classes are listed in docs/requests.md)",
                        d->drug_class);
    d->dose_form = field_none(t->col[3]) ? NULL : field_dup(lx, t->col[3], 0);
    if ((rc = parse_mme(t, t->col[4], &d->mme_factor)))
        return rc;
    if (field_is(t->col[5], "brand"))
        d->is_brand = 1;
    else if (!field_is(t->col[5], "generic"))
        return tsv_fail(t, "type must be 'brand' or 'generic', found '%.*s'",
                        (int)(t->col[5].n > 40 ? 40 : t->col[5].n), t->col[5].s);
    lx->drug_lines[lx->n_drugs] = t->line;
    if (index_put(&lx->index, KIND_DRUG, st.hash, imr_arena_strndup(lx->arena, st.buf, st.n),
                  st.n, lx->n_drugs))
        return imr_error_set(t->err, IMR_EX_SOFTWARE, t->path, t->line, "out of memory");
    lx->n_drugs++;
    return IMR_OK;
}

/* Every ingredient must be a drug of its own, so that classes and names stay consistent. */
static int check_ingredients(tsv *t, imr_lexicon *lx)
{
    for (size_t i = 0; i < lx->n_drugs; i++) {
        const imr_drug *d = &lx->drugs[i];
        for (size_t g = 0; g < d->generics.n; g++) {
            if (imr_lexicon_find(lx, d->generics.v[g], strlen(d->generics.v[g])))
                continue;
            t->line = lx->drug_lines[i];
            return tsv_fail(t, "missing generic: ingredient '%s' of '%s' is not listed as a drug "
                               "of its own",
                            d->generics.v[g], d->display);
        }
    }
    return IMR_OK;
}

static int load_drugs(tsv *t, imr_lexicon *lx)
{
    if (!tsv_next(t)) {
        t->line = t->line ? t->line : 1;
        return tsv_fail(t, "no header line (expected: name, generics, class, dose_form, "
                           "mme_factor, type, separated by tabs)");
    }
    int header_ok = t->ncol == N_DRUG_COLUMNS;
    for (size_t i = 0; header_ok && i < N_DRUG_COLUMNS; i++)
        header_ok = field_is(t->col[i], DRUG_COLUMNS[i]);
    if (!header_ok)
        return tsv_fail(t, "expected the header line: name, generics, class, dose_form, "
                           "mme_factor, type (separated by tabs)");
    int rc;
    while (tsv_next(t))
        if ((rc = add_drug(t, lx)))
            return rc;
    if (!lx->n_drugs)
        return tsv_fail(t, "no drugs listed");
    return check_ingredients(t, lx);
}

/* ---------------------------------------------------------------- requests.tsv */

typedef enum { SEC_NONE, SEC_LEVELS, SEC_TOPICAL, SEC_PHRASES } section;

static int add_level(tsv *t, imr_lexicon *lx)
{
    if (t->ncol != 2)
        return tsv_fail(t, "[levels]: expected 2 tab-separated columns (letter, body part)");
    field l = t->col[0];
    if (l.n != 1 || !lex_is_letter((unsigned char)l.s[0]) || (unsigned char)l.s[0] >= 0x80)
        return tsv_fail(t, "[levels]: '%.*s' is not a single letter", (int)(l.n > 40 ? 40 : l.n), l.s);
    if (!t->col[1].n)
        return tsv_fail(t, "[levels]: empty body part");
    int i = lex_lower((unsigned char)l.s[0]) - 'a';
    if (lx->level_region[i])
        return tsv_fail(t, "[levels]: letter '%c' listed twice", l.s[0]);
    lx->level_region[i] = field_dup(lx, t->col[1], 0);
    return IMR_OK;
}

static int add_topical(tsv *t, imr_lexicon *lx)
{
    if (t->ncol != 2)
        return tsv_fail(t, "[topical]: expected 2 tab-separated columns (class, class on the skin)");
    char *from = field_dup(lx, t->col[0], 0), *to = field_dup(lx, t->col[1], 0);
    int i = class_index(from);
    if (i < 0 || class_index(to) < 0)
        return tsv_fail(t, "[topical]: unknown class '%.60s' (the classes are listed in "
                           "docs/requests.md)",
                        i < 0 ? from : to);
    if (lx->topical_class[i])
        return tsv_fail(t, "[topical]: class '%s' listed twice", from);
    lx->topical_class[i] = to;
    return IMR_OK;
}

/* One "field=value" of a phrase line into the term. */
static int set_term_field(tsv *t, imr_lexicon *lx, request_term *term, field f)
{
    const char *eq = memchr(f.s, '=', f.n);
    if (!eq)
        return tsv_fail(t, "expected field=value, found '%.*s'", (int)(f.n > 60 ? 60 : f.n), f.s);
    field name = trim(f.s, (size_t)(eq - f.s));
    field value = trim(eq + 1, (size_t)(f.s + f.n - eq - 1));
    if (!value.n)
        return tsv_fail(t, "empty value for '%.*s'", (int)name.n, name.s);
    char *v = field_dup(lx, value, 0);
    const char **slot = NULL;
    if (field_is(name, "kind")) {
        imr_treatment_kind k;
        if (term->kind >= 0)
            return tsv_fail(t, "field 'kind' given twice");
        if (imr_treatment_kind_from_name(v, &k))
            return tsv_fail(t, "unknown kind '%.60s' (expected other, drug, physical_medicine, "
                               "imaging, diagnostic_test, injection, surgery, dme, consultation "
                               "or program)",
                            v);
        term->kind = (int)k;
        return IMR_OK;
    }
    if (field_is(name, "route")) {
        if (!strcmp(v, "topical"))
            term->topical = 1;
        else if (!strcmp(v, "oral"))
            term->oral = 1;
        else
            return tsv_fail(t, "route must be 'topical' or 'oral', found '%.60s'", v);
        return IMR_OK;
    }
    if (field_is(name, "procedure"))
        slot = &term->procedure;
    else if (field_is(name, "body_part"))
        slot = &term->body_part;
    else if (field_is(name, "laterality")) {
        if (strcmp(v, "left") && strcmp(v, "right") && strcmp(v, "bilateral"))
            return tsv_fail(t, "laterality must be left, right or bilateral, found '%.60s'", v);
        slot = &term->laterality;
    } else if (field_is(name, "dose_form"))
        slot = &term->dose_form;
    else if (field_is(name, "frequency"))
        slot = &term->frequency;
    else if (field_is(name, "class")) {
        if (class_index(v) < 0)
            return tsv_fail(t, "unknown class '%.60s' (the classes are listed in docs/requests.md)", v);
        slot = &term->drug_class;
    } else
        return tsv_fail(t, "unknown field '%.*s' (expected kind, procedure, body_part, laterality, "
                           "dose_form, frequency, class or route)",
                        (int)(name.n > 40 ? 40 : name.n), name.s);
    if (*slot)
        return tsv_fail(t, "field '%.*s' given twice", (int)name.n, name.s);
    *slot = v;
    return IMR_OK;
}

static int add_phrase(tsv *t, imr_lexicon *lx, int *lines)
{
    if (t->ncol < 2)
        return tsv_fail(t, "[phrases]: expected a phrase and at least one field=value, "
                           "separated by tabs");
    if (t->ncol > LEX_MAX_COLUMNS)
        return tsv_fail(t, "[phrases]: more than %d columns", LEX_MAX_COLUMNS);
    norm_state st;
    int rc = name_key(t, t->col[0], "phrase", &st);
    if (rc)
        return rc;
    const phrase_slot *dup = index_get(&lx->index, st.hash, st.buf, st.n);
    if (dup && dup->term >= 0)
        return tsv_fail(t, "duplicate phrase '%.*s' (already listed at line %d)", (int)t->col[0].n,
                        t->col[0].s, lines[dup->term]);
    if (lx->n_terms == lx->cap_terms) {
        size_t cap = lx->cap_terms ? lx->cap_terms * 2 : 512;
        request_term *v = realloc(lx->terms, cap * sizeof *v);
        if (!v)
            return imr_error_set(t->err, IMR_EX_SOFTWARE, t->path, t->line, "out of memory");
        lx->terms = v;
        lx->cap_terms = cap;
    }
    request_term *term = &lx->terms[lx->n_terms];
    memset(term, 0, sizeof *term);
    term->kind = -1;
    term->phrase = field_dup(lx, t->col[0], 0);
    for (size_t i = 1; i < t->ncol; i++)
        if ((rc = set_term_field(t, lx, term, t->col[i])))
            return rc;
    if (index_put(&lx->index, KIND_TERM, st.hash, imr_arena_strndup(lx->arena, st.buf, st.n),
                  st.n, lx->n_terms))
        return imr_error_set(t->err, IMR_EX_SOFTWARE, t->path, t->line, "out of memory");
    lines[lx->n_terms++] = t->line;
    return IMR_OK;
}

static int section_header(tsv *t, section *sec)
{
    field f = t->col[0];
    if (field_is(f, "[levels]"))
        *sec = SEC_LEVELS;
    else if (field_is(f, "[topical]"))
        *sec = SEC_TOPICAL;
    else if (field_is(f, "[phrases]"))
        *sec = SEC_PHRASES;
    else
        return tsv_fail(t, "unknown section '%.*s' (expected [levels], [topical] or [phrases])",
                        (int)(f.n > 40 ? 40 : f.n), f.s);
    if (t->ncol != 1)
        return tsv_fail(t, "a section header stands alone on its line");
    return IMR_OK;
}

static int load_vocabulary(tsv *t, imr_lexicon *lx)
{
    section sec = SEC_NONE;
    /* line of each phrase, for duplicate reports; one int per line of the file at most */
    size_t max_lines = 1;
    for (const char *p = t->p; p < t->end; p++)
        max_lines += *p == '\n';
    int *lines = malloc(max_lines * sizeof *lines);
    if (!lines)
        return imr_error_set(t->err, IMR_EX_SOFTWARE, t->path, 0, "out of memory");
    int rc = IMR_OK;
    while (!rc && tsv_next(t)) {
        if (t->col[0].n && t->col[0].s[0] == '[')
            rc = section_header(t, &sec);
        else if (sec == SEC_LEVELS)
            rc = add_level(t, lx);
        else if (sec == SEC_TOPICAL)
            rc = add_topical(t, lx);
        else if (sec == SEC_PHRASES)
            rc = add_phrase(t, lx, lines);
        else
            rc = tsv_fail(t, "expected a section header: [levels], [topical] or [phrases]");
    }
    free(lines);
    if (!rc && !lx->n_terms)
        rc = tsv_fail(t, "no phrases listed (the [phrases] section is missing or empty)");
    lx->has_vocabulary = rc == IMR_OK;
    return rc;
}

/* ---------------------------------------------------------------- loading */

typedef int (*rules_reader)(tsv *t, imr_lexicon *lx);

static int read_rules_file(const char *path, imr_lexicon *lx, rules_reader reader, imr_error *err)
{
    imr_buf buf = IMR_BUF_INIT;
    int rc = imr_read_file(path, LEX_MAX_FILE, &buf, err);
    if (rc) {
        imr_buf_free(&buf);
        return rc;
    }
    tsv t = {0};
    t.path = path;
    t.p = buf.data ? buf.data : "";
    t.end = t.p + buf.len;
    t.err = err;
    rc = check_bytes(&t, t.p, buf.len);
    if (!rc)
        rc = reader(&t, lx);
    imr_buf_free(&buf);
    return rc;
}

/* requests.tsv in the folder of the drugs file. */
static char *vocabulary_path(const char *drugs_path)
{
    const char *slash = strrchr(drugs_path, '/');
    size_t dir = slash ? (size_t)(slash - drugs_path) + 1 : 0;
    const char *name = "requests.tsv";
    char *p = malloc(dir + strlen(name) + 1);
    if (!p)
        return NULL;
    memcpy(p, drugs_path, dir);
    strcpy(p + dir, name);
    return p;
}

int imr_lexicon_load(const char *path, imr_lexicon **out, imr_error *err)
{
    *out = NULL;
    if (!path || !*path)
        return imr_error_set(err, IMR_EX_USAGE, "lexicon", 0, "no drug lexicon file given");
    imr_lexicon *lx = calloc(1, sizeof *lx);
    if (!lx)
        return imr_error_set(err, IMR_EX_SOFTWARE, path, 0, "out of memory");
    lx->arena = imr_arena_new();
    int rc = read_rules_file(path, lx, load_drugs, err);
    char *vpath = rc ? NULL : vocabulary_path(path);
    if (!rc && !vpath)
        rc = imr_error_set(err, IMR_EX_SOFTWARE, path, 0, "out of memory");
    if (!rc && access(vpath, F_OK) == 0)
        rc = read_rules_file(vpath, lx, load_vocabulary, err);
    free(vpath);
    if (rc) {
        imr_lexicon_free(lx);
        return rc;
    }
    *out = lx;
    return IMR_OK;
}

/* ---------------------------------------------------------------- defaults */

const char *imr_rules_dir(void)
{
    const char *env = getenv("IMR_RULES");
    if (env && *env)
        return env;
#ifdef IMR_SOURCE_RULES_DIR
    if (access(IMR_SOURCE_RULES_DIR, R_OK | X_OK) == 0)
        return IMR_SOURCE_RULES_DIR;
#endif
#ifdef IMR_INSTALL_RULES_DIR
    return IMR_INSTALL_RULES_DIR;
#else
    return "rules";
#endif
}

static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static imr_lexicon *default_lexicon;
static imr_error default_error;

static void load_default_lexicon(void)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/drugs.tsv", imr_rules_dir());
    if (n < 0 || (size_t)n >= sizeof path) {
        imr_error_set(&default_error, IMR_EX_NOINPUT, "IMR_RULES", 0, "rules folder name too long");
        return;
    }
    if (imr_lexicon_load(path, &default_lexicon, &default_error))
        return;
    if (!default_lexicon->has_vocabulary) {
        char vpath[4200];
        snprintf(vpath, sizeof vpath, "%s/requests.tsv", imr_rules_dir());
        imr_error_set(&default_error, IMR_EX_NOINPUT, vpath, 0,
                      "the request vocabulary is missing (it goes beside drugs.tsv)");
        imr_lexicon_free(default_lexicon);
        default_lexicon = NULL;
    }
}

const imr_lexicon *imr_default_lexicon(imr_error *err)
{
    pthread_once(&default_once, load_default_lexicon);
    if (!default_lexicon && err)
        *err = default_error;
    return default_lexicon;
}
