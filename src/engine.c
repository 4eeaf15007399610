/*
 * engine.c - the guideline engine (imr_review): for each disputed item of a case it parses
 * the request, gathers the clinical facts of the summary and the records, picks the
 * knowledge-base entry in force on the reference date, evaluates every criterion as met,
 * not met or unknown with the facts that decided it, decides, and fills the determination
 * record (rationale and guideline line are worded by rationale.c from rules/). The trace
 * of every step goes to opt->explain. How decisions are made: docs/engine.md.
 */
#include "extract_internal.h"
#include "review.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MAX_EVIDENCE 8

/* ---------------------------------------------------------------- trace */

static void trace(const rv_case *rc, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void trace(const rv_case *rc, const char *fmt, ...)
{
    if (!rc->trace)
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    imr_buf_puts(rc->trace, line);
    imr_buf_putc(rc->trace, '\n');
}

/* ---------------------------------------------------------------- facts */

const imr_fact *rv_fact(const rv_item *it, size_t i, const char **date)
{
    if (i < it->rc->facts.n) {
        if (date)
            *date = it->rc->dates[i];
        return &it->rc->facts.v[i];
    }
    i -= it->rc->facts.n;
    if (date)
        *date = it->derived_dates[i];
    return &it->derived[i];
}

size_t rv_fact_count(const rv_item *it)
{
    return it->rc->facts.n + it->n_derived;
}

static void grow_dates(rv_case *rc, size_t from)
{
    const char **d = imr_arena_alloc(rc->a, (rc->facts.n + 1) * sizeof *d);
    if (from)
        memcpy(d, rc->dates, from * sizeof *d);
    rc->dates = d;
}

static int is_type(const imr_fact *f, const char *type);

/* Extract the facts of one text; facts without a date of their own take `date`. */
static void extract_source(rv_case *rc, const char *text, const char *source, const char *date,
                           const imr_lexicon *lx)
{
    if (!text || !*text)
        return;
    size_t before = rc->facts.n;
    imr_error e = {0};
    if (imr_extract(text, strlen(text), source, lx, rc->a, &rc->facts, &e) != IMR_OK)
        trace(rc, "extraction of %s failed: %s (its facts are left out)", source, e.message);
    grow_dates(rc, before);
    for (size_t i = before; i < rc->facts.n; i++) {
        imr_fact *f = &rc->facts.v[i];
        rc->dates[i] = f->date ? f->date : date;
        /* A pain rating that gives its number is documented: a negation cue nearby ("7/10
         * without and 3/10 with the medication") does not make the number absent. */
        if (is_type(f, "pain_score") && !isnan(f->score) && f->assertion == IMR_ASSERT_NEGATED) {
            f->assertion = IMR_ASSERT_AFFIRMED;
            trace(rc, "  %s %zu-%zu: pain rating %s read as stated (it gives its number)", source,
                  f->evidence.start, f->evidence.end, f->value ? f->value : "");
        }
    }
    trace(rc, "facts: %zu from %s", rc->facts.n - before, source);
}

static int is_type(const imr_fact *f, const char *type)
{
    return f->type && f->type[0] == type[0] && !strcmp(f->type, type);
}

/* ---------------------------------------------------------------- the case */

static void today_iso(char out[11])
{
    time_t now = time(NULL);
    struct tm tmv;
    localtime_r(&now, &tmv);
    strftime(out, 11, "%Y-%m-%d", &tmv);
}

static void choose_reference_date(rv_case *rc)
{
    const imr_case *c = rc->c;
    if (c->ur_decision_date) {
        rc->ref_date = c->ur_decision_date;
        rc->ref_source = "UR decision date";
        return;
    }
    const char *latest = NULL;
    for (size_t i = 0; i < c->n_records; i++)
        if (c->records[i].date && (!latest || strcmp(c->records[i].date, latest) > 0))
            latest = c->records[i].date;
    if (latest) {
        rc->ref_date = latest;
        rc->ref_source = "latest record date";
        return;
    }
    char today[11];
    today_iso(today);
    rc->ref_date = imr_arena_strdup(rc->a, today);
    rc->ref_source = "today (the case gives no UR decision date and no dated record)";
}

/* Take valid ISO date `iso` as the latest clinical date when it is the latest so far, before
 * the reference date (on it when the reference is itself a record date) and not the date of
 * injury. */
static void note_date(rv_case *rc, const char *iso)
{
    int cmp = strcmp(iso, rc->ref_date);
    int on_ok = rc->c->ur_decision_date == NULL;
    if (cmp > 0 || (cmp == 0 && !on_ok))
        return;
    if (rc->c->date_of_injury && !strcmp(iso, rc->c->date_of_injury))
        return;
    if (!rc->latest_note || strcmp(iso, rc->latest_note) > 0)
        rc->latest_note = imr_arena_strdup(rc->a, iso);
}

/* The same for a date from the case's fields, which may be absent or malformed. */
static void consider_note_date(rv_case *rc, const char *iso)
{
    if (iso && imr_date_valid_iso(iso))
        note_date(rc, iso);
}

/* Does the word at s start with a month's first three letters? (a cheap test before
 * imr_date_parse, which tries every month name in full) */
#define M3(a, b, c) ((unsigned)(a) << 16 | (unsigned)(b) << 8 | (unsigned)(c))
static int month_prefix(const char *s, size_t len)
{
    if (len < 3)
        return 0;
    /* | 0x20 lowers a letter; no other byte becomes a letter by it */
    switch (M3(s[0] | 0x20, s[1] | 0x20, s[2] | 0x20)) {
    case M3('j', 'a', 'n'): case M3('f', 'e', 'b'): case M3('m', 'a', 'r'): case M3('a', 'p', 'r'):
    case M3('m', 'a', 'y'): case M3('j', 'u', 'n'): case M3('j', 'u', 'l'): case M3('a', 'u', 'g'):
    case M3('s', 'e', 'p'): case M3('o', 'c', 't'): case M3('n', 'o', 'v'): case M3('d', 'e', 'c'):
        return 1;
    default:
        return 0;
    }
}

static int is_alnum_ascii(unsigned char c)
{
    return (unsigned)(c - '0') < 10u || (unsigned)((c | 0x20) - 'a') < 26u;
}

/* May a date start with byte c? A digit, or the first letter of a month's name. */
static int date_initial(unsigned char c)
{
    switch (c | 0x20) {
    case 'j': case 'f': case 'm': case 'a': case 's': case 'o': case 'n': case 'd': return 1;
    default: return (unsigned)(c - '0') < 10u;
    }
}

/* The index of the lowest bit set in x (x != 0). */
static unsigned lowest_bit(unsigned x)
{
#ifdef __GNUC__
    return (unsigned)__builtin_ctz(x);
#else
    unsigned k = 0;
    while (!(x & 1u))
        x >>= 1, k++;
    return k;
#endif
}

/* Bit k set when a word starts at text[p + k] (a letter or digit after none; the C
 * locale's isalnum is ASCII) with a byte that may start a date; k < n <= 16. */
static unsigned date_starts(const char *text, size_t p, size_t n)
{
    unsigned before = p && is_alnum_ascii((unsigned char)text[p - 1]);
#ifdef __SSE2__
    if (n == 16) {
        /* signed compares leave bytes >= 0x80 out of every range */
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(text + p));
        __m128i lower = _mm_or_si128(x, _mm_set1_epi8(0x20));
        __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
                                      _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
        __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(lower, _mm_set1_epi8('a' - 1)),
                                      _mm_cmplt_epi8(lower, _mm_set1_epi8('z' + 1)));
        __m128i initial = digit;
        static const char initials[] = "jfmasond";
        for (int k = 0; k < 8; k++)
            initial = _mm_or_si128(initial, _mm_cmpeq_epi8(lower, _mm_set1_epi8(initials[k])));
        unsigned alnum = (unsigned)_mm_movemask_epi8(_mm_or_si128(digit, alpha));
        return alnum & ~((alnum << 1) | before) & (unsigned)_mm_movemask_epi8(initial);
    }
#endif
    unsigned bits = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)text[p + k];
        unsigned alnum = is_alnum_ascii(c);
        if (alnum && !before && date_initial(c))
            bits |= 1u << k;
        before = alnum;
    }
    return bits;
}

/* Every date of the text counts for the latest clinical date. Only words starting with a
 * digit or a month's first letter are tried, 16 bytes at a time; a date's bytes start
 * nothing more. */
static void scan_dates(rv_case *rc, const char *text)
{
    if (!text)
        return;
    size_t len = strlen(text);
    for (size_t p = 0; p < len;) {
        size_t n = len - p < 16 ? len - p : 16;
        size_t after = p; /* the end of the last date read: nothing starts before it */
        for (unsigned starts = date_starts(text, p, n); starts; starts &= starts - 1) {
            size_t i = p + lowest_bit(starts);
            if (i < after)
                continue;
            unsigned char ch = (unsigned char)text[i];
            char iso[11];
            int may_be_date = isalpha(ch) ? month_prefix(text + i, len - i) : ex_numeric_date_shape(text + i, len - i);
            size_t used = may_be_date ? imr_date_parse(text + i, len - i, iso) : 0;
            if (!used)
                continue;
            note_date(rc, iso); /* what imr_date_parse writes is a valid ISO date */
            after = i + used;
            if (after >= p + n)
                break;
        }
        p = after > p + n ? after : p + n;
    }
}

static void find_latest_note(rv_case *rc)
{
    const imr_case *c = rc->c;
    for (size_t i = 0; i < rc->facts.n; i++)
        if (!is_type(&rc->facts.v[i], "date_of_injury"))
            consider_note_date(rc, rc->facts.v[i].date);
    for (size_t i = 0; i < c->n_records; i++)
        consider_note_date(rc, c->records[i].date);
    scan_dates(rc, c->clinical_summary);
    for (size_t i = 0; i < c->n_records; i++)
        if (!c->records[i].type || strcasecmp(c->records[i].type, "UR determination"))
            scan_dates(rc, c->records[i].text);
}

static void find_main_body(rv_case *rc)
{
    const char *best = NULL;
    size_t best_n = 0;
    for (size_t i = 0; i < rc->facts.n; i++) {
        const imr_fact *f = &rc->facts.v[i];
        if (!is_type(f, "body_part") || !f->name || f->assertion != IMR_ASSERT_AFFIRMED)
            continue;
        size_t n = 0;
        for (size_t j = 0; j < rc->facts.n; j++) {
            const imr_fact *g = &rc->facts.v[j];
            n += is_type(g, "body_part") && g->name && g->assertion == IMR_ASSERT_AFFIRMED &&
                 !strcmp(g->name, f->name);
        }
        if (n > best_n) {
            best = f->name;
            best_n = n;
        }
        if (rc->facts.n > 2000)
            break; /* the first body part is enough for very long files */
    }
    rc->main_body = best;
}

/* ---------------------------------------------------------------- facts by type */

/* The criteria look facts up by type, again and again: the facts of each type are listed
 * once per case (in fact order), and a small table keyed by the address of a type string
 * finds the list without comparing strings (facts of one type, and the atoms asking for
 * it, mostly share a few strings). */
#define TYPE_SLOTS 128

struct rv_fact_index {
    struct fact_group {
        const char *type;
        uint32_t *idx;
        size_t n;
    } *groups;
    size_t n_groups;
    size_t n_slots;
    struct type_slot {
        const char *key;
        int group; /* -1: no fact has this type */
    } slot[TYPE_SLOTS];
};

static struct type_slot *type_slot(struct rv_fact_index *x, const char *key)
{
    size_t i = (size_t)(((uintptr_t)key >> 3) * 0x9E3779B1u) & (TYPE_SLOTS - 1);
    while (x->slot[i].key && x->slot[i].key != key)
        i = (i + 1) & (TYPE_SLOTS - 1);
    return &x->slot[i];
}

/* The group of facts of type `type` (not NULL), or -1. */
static int type_group(struct rv_fact_index *x, const char *type)
{
    struct type_slot *s = type_slot(x, type);
    if (s->key)
        return s->group;
    int g = -1;
    for (size_t k = 0; k < x->n_groups && g < 0; k++)
        if (x->groups[k].type[0] == type[0] && !strcmp(x->groups[k].type, type))
            g = (int)k;
    if (x->n_slots < TYPE_SLOTS * 3 / 4) { /* a full table just stops remembering */
        s->key = type;
        s->group = g;
        x->n_slots++;
    }
    return g;
}

static void group_facts(rv_case *rc)
{
    size_t n = rc->facts.n;
    struct rv_fact_index *x = imr_arena_alloc(rc->a, sizeof *x);
    x->groups = imr_arena_alloc_raw(rc->a, (n ? n : 1) * sizeof *x->groups); /* set when used */
    int *group_of = imr_arena_alloc_raw(rc->a, (n ? n : 1) * sizeof *group_of);
    for (size_t i = 0; i < n; i++) {
        const char *type = rc->facts.v[i].type;
        if (!type) {
            group_of[i] = -1;
            continue;
        }
        int g = type_group(x, type);
        if (g < 0) { /* a new type */
            g = (int)x->n_groups++;
            x->groups[g] = (struct fact_group){type, NULL, 0};
            struct type_slot *s = type_slot(x, type);
            if (s->key)
                s->group = g;
        }
        group_of[i] = g;
        x->groups[g].n++;
    }
    uint32_t *idx = imr_arena_alloc_raw(rc->a, (n ? n : 1) * sizeof *idx);
    for (size_t g = 0; g < x->n_groups; g++) {
        x->groups[g].idx = idx;
        idx += x->groups[g].n;
        x->groups[g].n = 0;
    }
    for (size_t i = 0; i < n; i++)
        if (group_of[i] >= 0) {
            struct fact_group *fg = &x->groups[group_of[i]];
            fg->idx[fg->n++] = (uint32_t)i;
        }
    rc->by_type = x;
}

/* ---------------------------------------------------------------- conditions */

typedef struct ev_set {
    size_t *v;
    size_t n, cap;
} ev_set;

static void ev_add(ev_set *s, size_t i)
{
    for (size_t k = 0; k < s->n; k++)
        if (s->v[k] == i)
            return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        size_t *nv = realloc(s->v, s->cap * sizeof *nv);
        if (!nv)
            abort();
        s->v = nv;
    }
    s->v[s->n++] = i;
}

static void ev_merge(ev_set *dst, const ev_set *src)
{
    for (size_t i = 0; i < src->n; i++)
        ev_add(dst, src->v[i]);
}

static void ev_free(ev_set *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

static int ci_has(const char *hay, const char *needle)
{
    if (!hay || !needle)
        return 0;
    size_t n = strlen(needle);
    if (!n)
        return *hay != 0;
    int c0 = tolower((unsigned char)needle[0]);
    for (const char *p = hay; *p; p++)
        if (tolower((unsigned char)*p) == c0 && !strncasecmp(p, needle, n))
            return 1;
    return 0;
}

/* Does a '/'-joined list of names ("hydrocodone/acetaminophen") hold exactly the
 * request's generics? */
static int same_drug(const char *names, const imr_treatment *t)
{
    if (!names || !t->generics.n)
        return 0;
    size_t parts = 0;
    const char *q = names;
    while (1) {
        const char *slash = strchr(q, '/');
        size_t len = slash ? (size_t)(slash - q) : strlen(q);
        int found = 0;
        for (size_t g = 0; g < t->generics.n && !found; g++)
            found = strlen(t->generics.v[g]) == len && !strncasecmp(t->generics.v[g], q, len);
        if (!found)
            return 0;
        parts++;
        if (!slash)
            break;
        q = slash + 1;
    }
    return parts == t->generics.n;
}

static int shares_generic(const char *names, const imr_treatment *t)
{
    if (!names)
        return 0;
    const char *q = names;
    while (1) {
        const char *slash = strchr(q, '/');
        size_t len = slash ? (size_t)(slash - q) : strlen(q);
        for (size_t g = 0; g < t->generics.n; g++)
            if (strlen(t->generics.v[g]) == len && !strncasecmp(t->generics.v[g], q, len))
                return 1;
        if (!slash)
            break;
        q = slash + 1;
    }
    return 0;
}

static int value_is(const rv_item *it, const char *field, const char *pattern, const char *v)
{
    const imr_treatment *t = it->t;
    if (STREQ(pattern, "none"))
        return v == NULL;
    if (!v)
        return 0;
    if (STREQ(pattern, "$drug")) {
        if (STREQ(field, "name"))
            return same_drug(v, t) || (!t->generics.n && t->name && !strcasecmp(v, t->name));
        return same_drug(v, t) || shares_generic(v, t) || (t->name && !strcasecmp(v, t->name));
    }
    if (STREQ(pattern, "$generic"))
        return shares_generic(v, t);
    if (STREQ(pattern, "$class"))
        return t->drug_class && !strcasecmp(v, t->drug_class);
    if (STREQ(pattern, "$body"))
        return it->body && !strcasecmp(v, it->body);
    if (STREQ(pattern, "$modality"))
        return it->e && it->e->modality && !strcasecmp(v, it->e->modality);
    size_t n = strlen(pattern);
    if (n && pattern[n - 1] == '*')
        return !strncasecmp(v, pattern, n - 1);
    return !strcasecmp(v, pattern);
}

static int value_has(const rv_item *it, const char *pattern, const char *v)
{
    if (!v)
        return 0;
    const imr_treatment *t = it->t;
    if (STREQ(pattern, "$drug") || STREQ(pattern, "$generic")) {
        for (size_t g = 0; g < t->generics.n; g++)
            if (ci_has(v, t->generics.v[g]))
                return 1;
        return STREQ(pattern, "$drug") && t->name && ci_has(v, t->name);
    }
    if (STREQ(pattern, "$class"))
        return ci_has(v, t->drug_class);
    if (STREQ(pattern, "$body"))
        return ci_has(v, it->body);
    if (STREQ(pattern, "$modality"))
        return it->e && ci_has(v, it->e->modality);
    return ci_has(v, pattern);
}

static int text_filter(const rv_item *it, const char *field, kb_op op, const kb_values *vals,
                       const char *v)
{
    int any = 0;
    for (size_t i = 0; i < vals->n && !any; i++)
        any = op == KB_OP_HAS ? value_has(it, vals->v[i], v) : value_is(it, field, vals->v[i], v);
    return op == KB_OP_NE ? !any : any;
}

static int compare(double x, kb_op op, double y)
{
    switch (op) {
    case KB_OP_LT: return x < y;
    case KB_OP_LE: return x <= y;
    case KB_OP_GT: return x > y;
    case KB_OP_GE: return x >= y;
    case KB_OP_EQ: return fabs(x - y) < 1e-9;
    case KB_OP_NE: return fabs(x - y) >= 1e-9;
    default: return 0;
    }
}

static const char *fact_text_field(const imr_fact *f, const char *field, const char *date)
{
    if (STREQ(field, "name")) return f->name;
    /* facts.md: diagnosis and medication values are "as written"; when the extractor
     * leaves the value out, the evidence text is what was written. */
    if (STREQ(field, "value")) return f->value ? f->value : f->evidence.text;
    if (STREQ(field, "qualifier")) return f->qualifier;
    if (STREQ(field, "date")) return f->date ? f->date : date;
    if (STREQ(field, "duration")) return f->duration;
    if (STREQ(field, "attributed_to")) return f->attributed_to;
    if (STREQ(field, "assert")) return imr_assertion_name(f->assertion);
    return NULL;
}

static double fact_number(const imr_fact *f, const char *field)
{
    if (STREQ(field, "score"))
        return f->score;
    if (STREQ(field, "score2"))
        return f->score2;
    if (isnan(f->score) || isnan(f->score2))
        return NAN;
    if (STREQ(field, "drop"))
        return f->score - f->score2;
    if (STREQ(field, "pct_drop"))
        return f->score > 0 ? 100.0 * (f->score - f->score2) / f->score : NAN;
    return NAN;
}

/* Does a fact of the atom's type pass the atom's filters (and assertion)? */
static int fact_filters_match(const rv_item *it, const kb_atom *a, const imr_fact *f, const char *date)
{
    int assert_given = 0;
    for (size_t i = 0; i < a->n_filters; i++) {
        const kb_filter *fl = &a->filters[i];
        if (!strcmp(fl->field, "assert"))
            assert_given = 1;
        if (fl->op == KB_OP_SET) {
            double num = fact_number(f, fl->field);
            const char *s = fact_text_field(f, fl->field, date);
            if (!(s && *s) && isnan(num))
                return 0;
            continue;
        }
        if (fl->op == KB_OP_EQ || fl->op == KB_OP_NE || fl->op == KB_OP_HAS) {
            if (fl->values.n) {
                if (!text_filter(it, fl->field, fl->op, &fl->values, fact_text_field(f, fl->field, date)))
                    return 0;
                continue;
            }
        }
        double num = fact_number(f, fl->field);
        if (isnan(num) || !compare(num, fl->op, fl->num))
            return 0;
    }
    if (!assert_given) {
        imr_assertion want = a->negated ? IMR_ASSERT_NEGATED : IMR_ASSERT_AFFIRMED;
        if (f->assertion != want)
            return 0;
    }
    return 1;
}

/* Does a fact of type `type` have the atom's type? Facts of one type mostly share one
 * string, so `*same` remembers the last string found equal and spares strcmp. */
static int type_is(const char *type, const char *want, const char **same)
{
    if (type == *same)
        return type != NULL;
    if (!type || type[0] != want[0] || strcmp(type, want))
        return 0;
    *same = type;
    return 1;
}

/* "30 days", "6 weeks", "2 months", "1 year" -> days; NAN when it cannot be read. */
static double duration_days(const char *d)
{
    if (!d)
        return NAN;
    const char *q = d;
    while (*q && !isdigit((unsigned char)*q))
        q++;
    if (!*q)
        return NAN;
    char *end;
    double n = strtod(q, &end);
    while (*end == ' ' || *end == '-')
        end++;
    if (!strncasecmp(end, "day", 3))
        return n;
    if (!strncasecmp(end, "week", 4) || !strncasecmp(end, "wk", 2))
        return n * 7;
    if (!strncasecmp(end, "month", 5) || !strncasecmp(end, "mo", 2))
        return n * 30;
    if (!strncasecmp(end, "year", 4) || !strncasecmp(end, "yr", 2))
        return n * 365;
    return NAN;
}

/* Numbers of the request and the case; NAN when unknown. */
static double number_field(const rv_item *it, const char *name)
{
    const imr_treatment *t = it->t;
    const imr_case *c = it->rc->c;
    int refills = t->refills > 0 ? t->refills : 0;
    if (STREQ(name, "quantity")) return t->quantity >= 0 ? t->quantity : NAN;
    if (STREQ(name, "refills")) return t->refills >= 0 ? t->refills : NAN;
    if (STREQ(name, "fills")) return 1 + refills;
    if (STREQ(name, "supply")) return t->quantity >= 0 ? (double)t->quantity * (1 + refills) : NAN;
    if (STREQ(name, "visits")) return t->visits >= 0 ? t->visits : NAN;
    if (STREQ(name, "mme")) return it->mme_known ? it->mme : NAN;
    if (STREQ(name, "age")) return c->claimant.age >= 0 ? c->claimant.age : NAN;
    if (STREQ(name, "prior_sessions")) return it->prior_known ? it->prior_sessions : NAN;
    if (STREQ(name, "total_sessions"))
        return it->prior_known && t->visits >= 0 ? it->prior_sessions + t->visits : NAN;
    if (STREQ(name, "generic_count")) return (double)t->generics.n;
    if (STREQ(name, "level_count")) {
        if (!t->levels)
            return NAN;
        /* "L4-5" is one level, "L4-5, L5-S1" and "L4-5 and L5-S1" two */
        double n = 1;
        for (const char *q = t->levels; *q; q++)
            if (*q == ',' || *q == ';' || *q == '&' || !strncasecmp(q, " and ", 5))
                n++;
        return n;
    }
    if (STREQ(name, "months_since_surgery")) {
        /* the latest dated operation of the records */
        const char *latest = NULL;
        for (size_t i = 0; i < it->rc->facts.n; i++) {
            const imr_fact *f = &it->rc->facts.v[i];
            const char *d = f->date ? f->date : it->rc->dates[i];
            if (is_type(f, "surgery_history") && d && f->assertion != IMR_ASSERT_NEGATED &&
                f->assertion != IMR_ASSERT_HYPOTHETICAL && f->assertion != IMR_ASSERT_OTHER_PERSON &&
                (!latest || strcmp(d, latest) > 0) && strcmp(d, it->rc->ref_date) <= 0)
                latest = d;
        }
        if (!latest)
            return NAN;
        return (double)(imr_date_days(it->rc->ref_date) - imr_date_days(latest)) / 30.44;
    }
    if (STREQ(name, "duration_days"))
        return duration_days(t->duration);
    if (STREQ(name, "months_since_injury")) {
        if (!c->date_of_injury || !it->rc->ref_date)
            return NAN;
        return (double)(imr_date_days(it->rc->ref_date) - imr_date_days(c->date_of_injury)) / 30.44;
    }
    return NAN;
}

static const char *treatment_field(const rv_item *it, const char *name)
{
    const imr_treatment *t = it->t;
    if (STREQ(name, "kind")) return imr_treatment_kind_name(t->kind);
    if (STREQ(name, "class")) return t->drug_class;
    if (STREQ(name, "dose_form")) return t->dose_form;
    if (STREQ(name, "body")) return it->body;
    if (STREQ(name, "procedure")) return t->procedure;
    if (STREQ(name, "name")) return t->name;
    if (STREQ(name, "frequency")) return t->frequency;
    if (STREQ(name, "laterality")) return t->laterality;
    if (STREQ(name, "strength")) return t->strength;
    return NULL;
}

static int eval_atom(const rv_item *it, const kb_atom *a, ev_set *ev)
{
    int r = 0;
    switch (a->kind) {
    case KB_ATOM_FACT: {
        /* rv_fact's order: the case's facts (those of the atom's type), then the item's
         * derived facts */
        const rv_case *rc = it->rc;
        const char *same = NULL;
        size_t nc = rc->facts.n, n = nc + it->n_derived, from = 0;
        if (rc->by_type) {
            int g = type_group(rc->by_type, a->type);
            for (size_t k = 0; g >= 0 && k < rc->by_type->groups[g].n; k++) {
                size_t i = rc->by_type->groups[g].idx[k];
                if (fact_filters_match(it, a, &rc->facts.v[i], rc->dates[i])) {
                    r = 1;
                    if (!a->invert)
                        ev_add(ev, i);
                }
            }
            from = nc;
        }
        for (size_t i = from; i < n; i++) {
            const imr_fact *f = i < nc ? &rc->facts.v[i] : &it->derived[i - nc];
            if (!type_is(f->type, a->type, &same))
                continue;
            if (fact_filters_match(it, a, f, i < nc ? rc->dates[i] : it->derived_dates[i - nc])) {
                r = 1;
                if (!a->invert)
                    ev_add(ev, i);
            }
        }
        break;
    }
    case KB_ATOM_NUMBER: {
        double v = number_field(it, a->type);
        r = !isnan(v) && compare(v, a->op, a->num);
        break;
    }
    case KB_ATOM_TREATMENT:
        if (!strcmp(a->type, "generic")) {
            for (size_t g = 0; g < it->t->generics.n && !r; g++)
                r = text_filter(it, a->type, a->op == KB_OP_NE ? KB_OP_EQ : a->op, &a->values,
                                it->t->generics.v[g]);
            if (a->op == KB_OP_NE)
                r = !r;
        } else if (!strcmp(a->type, "request")) {
            for (size_t i = 0; i < a->values.n && !r; i++)
                r = a->op == KB_OP_EQ ? !strcasecmp(it->request, a->values.v[i])
                                      : kb_has_word(it->request, a->values.v[i]);
            if (a->op == KB_OP_NE)
                r = !r;
        } else
            r = text_filter(it, a->type, a->op, &a->values, treatment_field(it, a->type));
        break;
    }
    return a->invert ? !r : r;
}

/* True when some alternative holds; evidence is the union of every true alternative's. */
static int eval_cond(const rv_item *it, const kb_cond *c, ev_set *ev)
{
    int any = 0;
    for (size_t i = 0; i < c->n; i++) {
        ev_set local = {0};
        int all = 1;
        for (size_t j = 0; j < c->alts[i].n && all; j++)
            all = eval_atom(it, &c->alts[i].atoms[j], &local);
        if (all) {
            any = 1;
            ev_merge(ev, &local);
        }
        ev_free(&local);
    }
    return any;
}

/* ---------------------------------------------------------------- derived numbers */

static double first_number(const char *s)
{
    if (!s)
        return NAN;
    for (; *s; s++)
        if (isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1])))
            return strtod(s, NULL);
    return NAN;
}

/* Doses a day from a frequency as written; NAN when it cannot be read. */
static double doses_per_day(const char *freq)
{
    if (!freq)
        return NAN;
    char f[128];
    snprintf(f, sizeof f, "%s", freq);
    for (char *q = f; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    const char *q;
    if ((q = strstr(f, "every ")) || (q = strstr(f, "q"))) {
        const char *d = q + (q[0] == 'e' ? 6 : 1);
        if (isdigit((unsigned char)*d)) {
            char *end;
            double h = strtod(d, &end);
            while (*end == '-' || isdigit((unsigned char)*end) || *end == ' ')
                end++;
            if (h > 0 && (*end == 'h'))
                return 24.0 / h;
        }
    }
    static const struct { const char *w; double n; } WORDS[] = {
        {"qid", 4}, {"four times", 4}, {"4x", 4}, {"tid", 3}, {"three times", 3}, {"3x", 3},
        {"bid", 2}, {"twice", 2}, {"two times", 2}, {"2x", 2}, {"qhs", 1}, {"at bedtime", 1},
        {"once", 1}, {"daily", 1}, {"every day", 1}, {"qd", 1}, {"a day", 1}, {"per day", 1},
        {"1x", 1}};
    for (size_t i = 0; i < sizeof WORDS / sizeof WORDS[0]; i++)
        if (kb_has_word(f, WORDS[i].w) || (isdigit((unsigned char)WORDS[i].w[0]) && strstr(f, WORDS[i].w)))
            return WORDS[i].n;
    return NAN;
}

/* MME a day of one request; NAN when it cannot be computed. `how` says from what. */
static double request_mme(const imr_treatment *t, double *mg_out, double *per_day_out, const char **how)
{
    *how = NULL;
    if (!(t->mme_factor > 0))
        return NAN;
    double mg = first_number(t->strength);
    if (isnan(mg) || mg <= 0) {
        *how = "no strength in the request";
        return NAN;
    }
    double per_day = NAN;
    if (t->dose_form && !strcasecmp(t->dose_form, "patch")) {
        per_day = 1;
        *how = "a patch rate";
    } else if (!isnan(per_day = doses_per_day(t->frequency))) {
        *how = "the frequency";
    } else if (t->quantity > 0) {
        per_day = t->quantity / 30.0;
        *how = "the quantity over a 30-day supply";
    } else {
        *how = "neither a frequency nor a quantity";
        return NAN;
    }
    *mg_out = mg;
    *per_day_out = per_day;
    return mg * per_day * t->mme_factor;
}

static void compute_mme(rv_item *it)
{
    const imr_treatment *t = it->t;
    it->mme_known = 0;
    double mg = 0, per_day = 0;
    const char *how;
    double own = request_mme(t, &mg, &per_day, &how);
    if (!(t->mme_factor > 0))
        return;
    if (isnan(own)) {
        trace(it->rc, "  MME/day: unknown (%s)", how);
        return;
    }
    it->mme_own = own;
    it->mme = it->rc->mme_items > 1 ? it->rc->mme_total : own;
    it->mme_known = 1;
    trace(it->rc, "  MME/day: %.1f = %g mg x %.2f a day (from %s) x factor %g%s", own, mg, per_day,
          how, t->mme_factor, it->rc->mme_items > 1 ? "; with the case's other requested opioids" : "");
    if (it->rc->mme_items > 1)
        trace(it->rc, "  MME/day of the %d opioids requested: %.1f", it->rc->mme_items, it->mme);
}

/* The total daily MME of the opioids the case requests (the guideline adds up all opioids). */
static void total_mme(rv_case *rc, const imr_lexicon *lx)
{
    for (size_t i = 0; i < rc->c->n_items; i++) {
        imr_treatment t;
        imr_request_parse(rc->c->items[i].request, lx, rc->a, &t);
        double mg, per_day;
        const char *how;
        double m = request_mme(&t, &mg, &per_day, &how);
        if (!isnan(m)) {
            rc->mme_total += m;
            rc->mme_items++;
        }
    }
}

static void count_prior_sessions(rv_item *it)
{
    it->prior_known = 0;
    it->prior_sessions = 0;
    if (!it->e->modality)
        return;
    int mentioned = 0, counted = 0;
    double best = 0;
    const rv_case *rc = it->rc;
    for (size_t i = 0; i < rc->facts.n; i++) {
        const imr_fact *f = &rc->facts.v[i];
        if (!is_type(f, "prior_treatment") || !f->name || strcasecmp(f->name, it->e->modality))
            continue;
        if (f->assertion != IMR_ASSERT_AFFIRMED && f->assertion != IMR_ASSERT_HISTORICAL)
            continue;
        mentioned = 1;
        if (!isnan(f->score)) {
            counted = 1;
            if (f->score > best)
                best = f->score;
        }
    }
    /* Several mentions of a count usually restate the total so far: take the largest. */
    if (counted || !mentioned) {
        it->prior_known = 1;
        it->prior_sessions = best;
        trace(rc, "  prior %s sessions: %g%s", it->e->modality, best,
              mentioned ? "" : " (none mentioned)");
    } else
        trace(rc, "  prior %s sessions: mentioned without a count", it->e->modality);
}

/* ---------------------------------------------------------------- pain trend */

static imr_fact *new_derived(rv_item *it, size_t *cap, const char *date)
{
    if (it->n_derived == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        imr_fact *nv = imr_arena_alloc(it->rc->a, ncap * sizeof *nv);
        const char **nd = imr_arena_alloc(it->rc->a, ncap * sizeof *nd);
        if (it->n_derived) {
            memcpy(nv, it->derived, it->n_derived * sizeof *nv);
            memcpy(nd, it->derived_dates, it->n_derived * sizeof *nd);
        }
        it->derived = nv;
        it->derived_dates = nd;
        *cap = ncap;
    }
    imr_fact *f = &it->derived[it->n_derived];
    memset(f, 0, sizeof *f);
    f->type = "pain_trend";
    f->score = f->score2 = NAN;
    f->assertion = IMR_ASSERT_AFFIRMED;
    it->derived_dates[it->n_derived++] = date;
    return f;
}

static const char *trend_value(double from, double to)
{
    return to < from ? "reduced" : to > from ? "increased" : "unchanged";
}

/* pain_trend facts (docs/engine.md): a change stated in one phrase, a with/without
 * medication pair, and the first and last of the dated scores. */
static void derive_pain_trend(rv_item *it)
{
    const rv_case *rc = it->rc;
    size_t cap = 0;
    ptrdiff_t with = -1, without = -1, first = -1, last = -1;
    for (size_t i = 0; i < rc->facts.n; i++) {
        const imr_fact *f = &rc->facts.v[i];
        if (!is_type(f, "pain_score") || f->assertion != IMR_ASSERT_AFFIRMED || isnan(f->score))
            continue;
        const char *q = f->qualifier;
        if (!isnan(f->score2)) {
            imr_fact *d = new_derived(it, &cap, rc->dates[i]);
            d->name = f->name;
            d->score = f->score;
            d->score2 = f->score2;
            d->value = trend_value(f->score, f->score2);
            d->attributed_to = f->attributed_to;
            d->qualifier = f->qualifier;
            d->date = rc->dates[i];
            d->evidence = f->evidence;
            continue;
        }
        if (q && !strcmp(q, "with_medication")) {
            with = (ptrdiff_t)i;
            continue;
        }
        if (q && !strcmp(q, "without_medication")) {
            without = (ptrdiff_t)i;
            continue;
        }
        if (q && strcmp(q, "current"))
            continue; /* before/after a treatment: not a course over time */
        const char *date = rc->dates[i];
        if (!date)
            continue;
        if (first < 0 || strcmp(date, rc->dates[first]) < 0)
            first = (ptrdiff_t)i;
        if (last < 0 || strcmp(date, rc->dates[last]) >= 0)
            last = (ptrdiff_t)i;
    }
    if (with >= 0 && without >= 0) {
        const imr_fact *w = &rc->facts.v[with], *wo = &rc->facts.v[without];
        imr_fact *d = new_derived(it, &cap, rc->dates[with]);
        d->score = wo->score;
        d->score2 = w->score;
        d->value = trend_value(wo->score, w->score);
        d->qualifier = "with_medication";
        d->date = rc->dates[with];
        d->evidence = w->evidence;
    }
    if (first >= 0 && last >= 0 && strcmp(rc->dates[first], rc->dates[last]) < 0) {
        const imr_fact *a = &rc->facts.v[first], *b = &rc->facts.v[last];
        imr_fact *d = new_derived(it, &cap, rc->dates[last]);
        d->score = a->score;
        d->score2 = b->score;
        d->value = trend_value(a->score, b->score);
        d->date = rc->dates[last];
        const char *from = rv_date_long(rc->a, rc->dates[first]);
        d->duration = imr_arena_printf(rc->a, "since %s", from);
        d->evidence = b->evidence;
    }
    for (size_t i = 0; i < it->n_derived; i++)
        trace(rc, "  derived: pain_trend %s (%g -> %g)%s%s", it->derived[i].value,
              it->derived[i].score, it->derived[i].score2,
              it->derived[i].attributed_to ? " after " : "",
              it->derived[i].attributed_to ? it->derived[i].attributed_to : "");
}

/* ---------------------------------------------------------------- criteria */

static const char *latest_date(const rv_item *it, const ev_set *s)
{
    const char *best = NULL;
    for (size_t i = 0; i < s->n; i++) {
        const char *d;
        rv_fact(it, s->v[i], &d);
        if (d && (!best || strcmp(d, best) > 0))
            best = d;
    }
    return best;
}

static void describe_evidence(const rv_item *it, const ev_set *s, char *out, size_t n)
{
    size_t used = 0;
    out[0] = 0;
    for (size_t i = 0; i < s->n && i < 4 && used + 1 < n; i++) {
        const char *d;
        const imr_fact *f = rv_fact(it, s->v[i], &d);
        int w = snprintf(out + used, n - used, "%s%s %s%s%s [%s] (%s %zu-%zu \"%.60s\")",
                         i ? "; " : "", f->type, f->name ? f->name : "",
                         f->value ? " = " : "", f->value ? f->value : "",
                         imr_assertion_name(f->assertion),
                         f->evidence.source ? f->evidence.source : "derived", f->evidence.start,
                         f->evidence.end, f->evidence.text ? f->evidence.text : "");
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (s->n > 4 && used + 16 < n)
        snprintf(out + used, n - used, "; and %zu more", s->n - 4);
}

static const char *role_name(kb_role r)
{
    return r == KB_ROLE_REQUIRED ? "required" : r == KB_ROLE_LIMIT ? "limit" : "info";
}

/* Does fact f state as absent what atom a looks for? The atom names a fact to be present
 * (not "no type(...)", not "!atom"); f is of its type, asserted negated, and about the same
 * thing when both say (the `name` filters; a negation denies the thing, so its result,
 * qualifier or date filters do not apply: "no urine drug screen" has no result). */
static int states_absent(const rv_item *it, const kb_atom *a, const imr_fact *f)
{
    if (a->kind != KB_ATOM_FACT || a->invert || a->negated || f->assertion != IMR_ASSERT_NEGATED)
        return 0;
    if (!f->type || strcmp(f->type, a->type))
        return 0;
    int named = 0;
    for (size_t i = 0; i < a->n_filters; i++) {
        const kb_filter *fl = &a->filters[i];
        int is_name = !strcmp(fl->field, "name"), is_value = !strcmp(fl->field, "value");
        if ((!is_name && !is_value) || !fl->values.n)
            continue;
        if (fl->op != KB_OP_EQ && fl->op != KB_OP_NE && fl->op != KB_OP_HAS)
            continue;
        /* `performed` (docs/facts.md) states no result: a denial of the test itself */
        if (is_value && (!f->value || !strcmp(f->value, "performed")))
            continue;
        if (!text_filter(it, fl->field, fl->op, &fl->values, fact_text_field(f, fl->field, NULL)))
            return 0;
        named = 1;
    }
    /* "no surgery" does not deny every treatment: an atom that names none takes only a
     * denial that names none either */
    return named || !f->name;
}

/* The negated facts that state absent something `met` looks for (docs/rules.md: a
 * criterion the records say is not documented is not met, with that statement as evidence). */
static void absent_evidence(const rv_item *it, const kb_cond *met, ev_set *ev)
{
    size_t n = rv_fact_count(it);
    for (size_t i = 0; i < met->n; i++)
        for (size_t j = 0; j < met->alts[i].n; j++) {
            const kb_atom *a = &met->alts[i].atoms[j];
            for (size_t fi = 0; fi < n; fi++)
                if (states_absent(it, a, rv_fact(it, fi, NULL)))
                    ev_add(ev, fi);
        }
}

static void evaluate_criterion(rv_item *it, const kb_criterion *k, rv_crit *out)
{
    memset(out, 0, sizeof *out);
    out->k = k;
    out->status = IMR_CRITERION_UNKNOWN;
    ev_set when_ev = {0}, met = {0}, fails = {0};
    out->applicable = !k->when || eval_cond(it, k->when, &when_ev);
    ev_free(&when_ev);
    const char *topic = it->e->topic;
    if (!out->applicable) {
        trace(it->rc, "  criterion %s.%s [%s]: does not apply (when: %s)", topic, k->id,
              role_name(k->role), k->when->text);
        return;
    }
    int m = k->met && eval_cond(it, k->met, &met);
    int f = k->fails && eval_cond(it, k->fails, &fails);
    const ev_set *chosen = NULL;
    if (m && f) {
        kb_conflict policy = k->conflict;
        if (policy == KB_CONFLICT_LATEST) {
            const char *dm = latest_date(it, &met), *df = latest_date(it, &fails);
            int cmp = dm && df ? strcmp(dm, df) : 0;
            policy = cmp > 0 ? KB_CONFLICT_MET : cmp < 0 ? KB_CONFLICT_FAILS : KB_CONFLICT_UNDECIDED;
        }
        if (policy == KB_CONFLICT_MET) {
            out->status = IMR_CRITERION_MET;
            chosen = &met;
        } else if (policy == KB_CONFLICT_FAILS) {
            out->status = IMR_CRITERION_NOT_MET;
            chosen = &fails;
        } else {
            out->conflict = 1;
            ev_merge(&met, &fails);
            chosen = &met;
        }
    } else if (f) {
        out->status = IMR_CRITERION_NOT_MET;
        chosen = &fails;
    } else if (m) {
        out->status = IMR_CRITERION_MET;
        chosen = &met;
    } else if (k->met) {
        /* neither holds: "no urine drug screen ... is in the records" is not silence */
        absent_evidence(it, k->met, &fails);
        if (fails.n) {
            out->status = IMR_CRITERION_NOT_MET;
            out->absent = 1;
            chosen = &fails;
        }
    }
    if (chosen && chosen->n) {
        out->n_ev = chosen->n;
        out->ev = imr_arena_alloc(it->rc->a, chosen->n * sizeof *out->ev);
        memcpy(out->ev, chosen->v, chosen->n * sizeof *out->ev);
    }
    char why[1200] = "";
    if (it->rc->trace) /* the description is for the trace only */
        describe_evidence(it, chosen ? chosen : &met, why, sizeof why);
    trace(it->rc, "  criterion %s.%s [%s]: %s%s%s%s%s", topic, k->id, role_name(k->role),
          out->conflict ? "conflict (met and fails both documented)"
                        : imr_criterion_status_name(out->status),
          out->absent ? " (the records state it is absent)" : "", why[0] ? " <- " : "", why,
          !chosen ? (k->met ? " (nothing documents it either way)" : " (no failure documented)") : "");
    ev_free(&met);
    ev_free(&fails);
}

/* ---------------------------------------------------------------- the record */

/* "topic.id" in the arena (a criterion's full id). */
static const char *dotted(imr_arena *a, const char *topic, const char *id)
{
    size_t nt = strlen(topic), ni = strlen(id);
    char *s = imr_arena_alloc(a, nt + ni + 2);
    memcpy(s, topic, nt);
    s[nt] = '.';
    memcpy(s + nt + 1, id, ni);
    return s;
}

static void copy_strlist(imr_arena *a, imr_strlist *dst, const imr_strlist *src)
{
    dst->v = NULL;
    dst->n = 0;
    for (size_t i = 0; i < src->n; i++)
        imr_strlist_push(dst, a, src->v[i]);
}

static void fill_criteria(rv_item *it, imr_item *out)
{
    imr_arena *a = it->rc->a;
    size_t n = 0;
    for (size_t i = 0; i < it->n_crit; i++)
        n += it->crit[i].applicable;
    out->criteria = n ? imr_arena_alloc(a, n * sizeof *out->criteria) : NULL;
    out->n_criteria = 0;
    for (size_t i = 0; i < it->n_crit; i++) {
        const rv_crit *c = &it->crit[i];
        if (!c->applicable)
            continue;
        imr_criterion *oc = &out->criteria[out->n_criteria++];
        oc->id = dotted(a, it->e->topic, c->k->id);
        oc->text = c->k->text;
        oc->status = c->status;
        size_t ne = c->n_ev < MAX_EVIDENCE ? c->n_ev : MAX_EVIDENCE;
        oc->evidence = ne ? imr_arena_alloc(a, ne * sizeof *oc->evidence) : NULL;
        oc->n_evidence = 0;
        for (size_t j = 0; j < c->n_ev && oc->n_evidence < ne; j++) {
            const imr_fact *f = rv_fact(it, c->ev[j], NULL);
            int dup = 0;
            for (size_t k = 0; k < oc->n_evidence && !dup; k++)
                dup = oc->evidence[k].start == f->evidence.start &&
                      oc->evidence[k].end == f->evidence.end && oc->evidence[k].source &&
                      f->evidence.source && !strcmp(oc->evidence[k].source, f->evidence.source);
            if (!dup && f->evidence.source)
                oc->evidence[oc->n_evidence++] = f->evidence;
        }
    }
}

static void fill_citations(rv_item *it, imr_item *out)
{
    const kb_entry *e = it->e;
    out->citations = imr_arena_alloc(it->rc->a, e->n_cites * sizeof *out->citations);
    out->n_citations = e->n_cites;
    for (size_t i = 0; i < e->n_cites; i++) {
        out->citations[i].guideline = e->guideline->name;
        out->citations[i].edition = e->guideline->edition;
        out->citations[i].section = e->cites[i].section;
        out->citations[i].pages = e->cites[i].pages;
    }
}

static const char *render_key(rv_item *it, const char *key)
{
    imr_buf b = IMR_BUF_INIT;
    rv_render_key(&b, key, it);
    const char *s = imr_arena_strdup(it->rc->a, b.data ? b.data : "");
    imr_buf_free(&b);
    return s;
}

static void undetermined(rv_item *it, imr_item *out, const char *key)
{
    out->decision = IMR_DECISION_UNDETERMINED;
    out->undetermined_reason = render_key(it, key);
    const char *rest = rv_rationale(it, IMR_DECISION_UNDETERMINED, 0);
    out->rationale = imr_arena_printf(it->rc->a, "%s%s%s", out->undetermined_reason,
                                      *rest ? " " : "", rest);
    trace(it->rc, "  decision: Undetermined (%s)", out->undetermined_reason);
}

static void trace_treatment(const rv_case *rc, const imr_treatment *t, const char *body,
                            const char *body_from)
{
    if (!rc->trace)
        return;
    imr_buf g = IMR_BUF_INIT;
    for (size_t i = 0; i < t->generics.n; i++) {
        if (i)
            imr_buf_putc(&g, '/');
        imr_buf_puts(&g, t->generics.v[i]);
    }
    trace(rc, "  treatment: kind %s, name %s, generics %s, class %s, strength %s, quantity %d, "
              "refills %d, visits %d, frequency %s",
          imr_treatment_kind_name(t->kind), t->name ? t->name : "-", g.data ? g.data : "-",
          t->drug_class ? t->drug_class : "-", t->strength ? t->strength : "-", t->quantity,
          t->refills, t->visits, t->frequency ? t->frequency : "-");
    trace(rc, "  body part: %s (%s)", body ? body : "-", body_from);
    imr_buf_free(&g);
}

static const kb_entry *choose_entry(rv_item *it)
{
    const rv_case *rc = it->rc;
    kb_request rq = {.t = it->t, .text = it->request, .body_part = it->body};
    kb_candidate *cands;
    size_t n = kb_candidates(rc->kb, &rq, rc->ref_date, &cands);
    const kb_entry *chosen = NULL;
    trace(rc, "  entries that apply to the request: %zu", n);
    for (size_t i = 0; i < n; i++) {
        const kb_entry *e = cands[i].e;
        const char *auth = e->guideline->authority == KB_MTUS ? "MTUS" : "non-MTUS";
        if (!cands[i].in_force) {
            trace(rc, "    %s (%s, specificity %d): not in force on %s (%s .. %s)", e->id, auth,
                  cands[i].score, rc->ref_date, e->from, e->to[0] ? e->to : "");
            continue;
        }
        if (chosen) {
            trace(rc, "    %s (%s, specificity %d): in force, ranked below %s", e->id, auth,
                  cands[i].score, chosen->id);
            continue;
        }
        if (e->context) {
            it->e = e; /* $modality and friends read the entry */
            ev_set ev = {0};
            int ok = eval_cond(it, e->context, &ev);
            ev_free(&ev);
            it->e = NULL;
            if (!ok) {
                trace(rc, "    %s (%s, specificity %d): context does not hold (%s)", e->id, auth,
                      cands[i].score, e->context->text);
                continue;
            }
        }
        chosen = e;
        trace(rc, "    %s (%s, specificity %d): chosen", e->id, auth, cands[i].score);
    }
    free(cands);
    return chosen;
}

static void decide_item(rv_case *rc, const imr_disputed_item *di, size_t index,
                        const imr_lexicon *lx, imr_record *r)
{
    imr_arena *a = rc->a;
    imr_item *out = imr_record_add_item(r, a);
    out->request = imr_arena_strdup(a, di->request);
    out->ur_decision = imr_arena_strdup(a, di->ur_decision);
    out->claims_administrator_guideline =
        di->claims_administrator_guideline && *di->claims_administrator_guideline
            ? imr_arena_strdup(a, di->claims_administrator_guideline)
            : imr_arena_strdup(a, kb_wording(rc->kb, "claims_administrator.none"));
    imr_request_parse(di->request, lx, a, &out->treatment);

    rv_item it = {.rc = rc, .t = &out->treatment, .request = out->request};
    trace(rc, "item %zu: %s", index + 1, di->request);
    const char *body_from = "the request";
    it.body = out->treatment.body_part;
    if (!it.body) {
        it.body = rc->main_body;
        body_from = it.body ? "the body part the records name most" : "none known";
    }
    trace_treatment(rc, &out->treatment, it.body, body_from);

    if (!rc->has_clinical) {
        undetermined(&it, out, "undetermined.no_clinical");
        return;
    }
    it.e = choose_entry(&it);
    if (!it.e) {
        const imr_treatment *t = &out->treatment;
        int unreadable = t->kind == IMR_TREATMENT_OTHER && !t->generics.n && !t->drug_class;
        undetermined(&it, out, unreadable ? "undetermined.unreadable" : "undetermined.no_entry");
        return;
    }
    const kb_entry *e = it.e;
    trace(rc, "  guideline: %s, %s %s (%s), in force %s .. %s; entry %s (%s:%d)", e->guideline->id,
          e->guideline->name, e->guideline->edition,
          e->guideline->authority == KB_MTUS ? "MTUS" : "non-MTUS", e->from, e->to[0] ? e->to : "",
          e->id, e->file, e->line);
    compute_mme(&it);
    count_prior_sessions(&it);
    derive_pain_trend(&it);

    it.n_crit = e->n_criteria;
    it.crit = e->n_criteria ? imr_arena_alloc(a, e->n_criteria * sizeof *it.crit) : NULL;
    for (size_t i = 0; i < e->n_criteria; i++)
        evaluate_criterion(&it, &e->criteria[i], &it.crit[i]);

    int failed = 0, conflict = 0, undocumented = 0;
    for (size_t i = 0; i < it.n_crit; i++) {
        const rv_crit *c = &it.crit[i];
        if (!c->applicable || c->k->role == KB_ROLE_INFO)
            continue;
        if (c->status == IMR_CRITERION_NOT_MET)
            failed++;
        else if (c->conflict)
            conflict++;
        else if (c->status == IMR_CRITERION_UNKNOWN && c->k->role == KB_ROLE_REQUIRED)
            undocumented++;
    }
    fill_citations(&it, out);
    fill_criteria(&it, out);
    out->reviewer_guideline = rv_guideline_line(&it);
    for (size_t i = 0; i < it.n_crit; i++) {
        const rv_crit *c = &it.crit[i];
        if (c->applicable && c->k->role != KB_ROLE_INFO && c->k->needs &&
            (c->status == IMR_CRITERION_NOT_MET ||
             (c->status == IMR_CRITERION_UNKNOWN && (c->k->role == KB_ROLE_REQUIRED || c->conflict))))
            imr_strlist_push(&out->missing_documentation, a, c->k->needs);
    }
    if (e->recommended == KB_REC_NO) {
        out->decision = IMR_DECISION_UPHELD;
        out->rationale = rv_rationale(&it, out->decision, 0);
        trace(rc, "  decision: Upheld (the guideline does not recommend it)");
    } else if (failed) {
        out->decision = IMR_DECISION_UPHELD;
        out->rationale = rv_rationale(&it, out->decision, 0);
        trace(rc, "  decision: Upheld (%d criteria not met)", failed);
    } else if (conflict) {
        undetermined(&it, out, "undetermined.conflict");
    } else if (undocumented) {
        out->decision = IMR_DECISION_UPHELD;
        out->rationale = rv_rationale(&it, out->decision, 1);
        trace(rc, "  decision: Upheld (%d required criteria not documented)", undocumented);
    } else {
        out->decision = IMR_DECISION_OVERTURNED;
        out->rationale = rv_rationale(&it, out->decision, 0);
        out->missing_documentation.n = 0;
        trace(rc, "  decision: Overturned (every required criterion met, no limit exceeded)");
    }
}

/* ---------------------------------------------------------------- header and parties */

static const char *capitalized(imr_arena *a, const char *s)
{
    if (!s)
        return NULL;
    char *c = imr_arena_strdup(a, s);
    c[0] = (char)toupper((unsigned char)c[0]);
    return c;
}

static const char *party(const imr_case *c, const char *role)
{
    for (size_t i = 0; i < c->n_parties; i++)
        if (c->parties[i].role && !strcmp(c->parties[i].role, role))
            return c->parties[i].name;
    return NULL;
}

static void fill_reviewer(imr_record *r, const imr_review_options *opt, const imr_kb *kb,
                          imr_arena *a)
{
    if (opt && opt->reviewer) {
        const imr_reviewer *src = &opt->reviewer->reviewer;
        r->reviewer.credentials_text = imr_arena_strdup(a, src->credentials_text);
        r->reviewer.credentials_style = src->credentials_style;
        copy_strlist(a, &r->reviewer.specialties, &src->specialties);
        copy_strlist(a, &r->reviewer.subspecialties, &src->subspecialties);
        copy_strlist(a, &r->reviewer.licensure, &src->licensure);
        r->reviewer.board_certified = src->board_certified;
    } else {
        r->reviewer.credentials_text = imr_arena_strdup(a, kb_wording(kb, "reviewer.unassigned"));
        r->reviewer.board_certified = -1;
    }
}

static void fill_documents(imr_record *r, const imr_case *c, imr_arena *a)
{
    for (size_t i = 0; i < c->n_records; i++) {
        const imr_case_document *d = &c->records[i];
        imr_buf b = IMR_BUF_INIT;
        imr_buf_puts(&b, d->type ? d->type : "record");
        if (d->author)
            imr_buf_printf(&b, ", %s", d->author);
        if (d->date) {
            char longd[32];
            imr_date_long(d->date, longd);
            imr_buf_printf(&b, ", %s", longd);
        }
        const char *s = capitalized(a, b.data);
        imr_strlist_push(&r->documents_reviewed, a, s);
        imr_buf_free(&b);
    }
}

int imr_review(const imr_case *c, const imr_kb *kb, const imr_lexicon *lx,
               const imr_review_options *opt, imr_arena *a, imr_record **out, imr_error *err)
{
    if (out)
        *out = NULL;
    if (!c || !kb || !a || !out)
        return imr_error_set(err, IMR_EX_SOFTWARE, NULL, 0, "imr_review: missing argument");
    if (opt && opt->attestation && !opt->reviewer)
        return imr_error_set(err, IMR_EX_USAGE, NULL, 0,
                             "an attestation needs a reviewer profile (the credentials it attests)");
    rv_case rc = {.kb = kb, .c = c, .a = a, .trace = opt ? opt->explain : NULL};
    trace(&rc, "case %s", c->case_number ? c->case_number : "(no case number)");
    choose_reference_date(&rc);
    trace(&rc, "reference date: %s (%s)", rc.ref_date, rc.ref_source);

    extract_source(&rc, c->clinical_summary, "clinical_summary", NULL, lx);
    for (size_t i = 0; i < c->n_records; i++) {
        char src[32];
        snprintf(src, sizeof src, "records[%zu]", i);
        extract_source(&rc, c->records[i].text, imr_arena_strdup(a, src), c->records[i].date, lx);
    }
    /* Clinical information: at least one clinical fact. Text that only names the claimant,
     * the injury date or says that no records came is not enough to apply a guideline. */
    for (size_t i = 0; i < rc.facts.n && !rc.has_clinical; i++) {
        const imr_fact *f = &rc.facts.v[i];
        rc.has_clinical = !is_type(f, "age") && !is_type(f, "sex") && !is_type(f, "date_of_injury");
    }
    if (!rc.has_clinical)
        trace(&rc, "no clinical information: the summary and records state no clinical fact");
    find_latest_note(&rc);
    find_main_body(&rc);
    group_facts(&rc);
    total_mme(&rc, lx);
    trace(&rc, "latest clinical date before the reference date: %s",
          rc.latest_note ? rc.latest_note : "none");

    imr_record *r = imr_record_new(a);
    r->layout = IMR_LAYOUT_FDL;
    r->status = IMR_STATUS_DRAFT;
    r->case_number = imr_arena_strdup(a, c->case_number);
    r->organization = imr_arena_strdup(a, opt && opt->organization
                                              ? opt->organization
                                              : kb_wording(kb, "organization.default"));
    r->header.ur_denial_date = imr_arena_strdup(a, c->ur_decision_date);
    r->header.application_received = imr_arena_strdup(a, c->application_received);
    r->header.priority = capitalized(a, c->priority);
    r->header.employee = imr_arena_strdup(a, party(c, "employee"));
    r->header.employer = imr_arena_strdup(a, party(c, "employer"));
    r->claimant.age = c->claimant.age;
    r->claimant.sex = imr_arena_strdup(a, c->claimant.sex);
    r->date_of_injury = imr_arena_strdup(a, c->date_of_injury);
    fill_reviewer(r, opt, kb, a);
    fill_documents(r, c, a);
    if (c->clinical_summary && *c->clinical_summary)
        r->clinical_case_summary = imr_arena_strdup(a, c->clinical_summary);
    else if (rc.has_clinical)
        r->clinical_case_summary = rv_draft_summary(&rc);

    for (size_t i = 0; i < c->n_items; i++)
        decide_item(&rc, &c->items[i], i, lx, r);

    if (opt && opt->attestation) {
        imr_attestation *at = imr_arena_alloc(a, sizeof *at);
        at->reviewer_id = imr_arena_strdup(a, opt->attestation->reviewer_id
                                                  ? opt->attestation->reviewer_id
                                                  : opt->reviewer->reviewer_id);
        at->statement = imr_arena_strdup(a, opt->attestation->statement);
        at->signed_at = imr_arena_strdup(a, opt->attestation->signed_at);
        r->attestation = at;
        r->status = IMR_STATUS_FINAL;
        trace(&rc, "status: final (attested by reviewer %s)", at->reviewer_id ? at->reviewer_id : "?");
    } else
        trace(&rc, "status: draft");
    *out = r;
    return IMR_OK;
}
