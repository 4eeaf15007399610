/*
 * kb.c - the guideline knowledge base: loads the tables of contents (the .toc files of
 * rules/toc/) and the entries (the .rules files of rules/guidelines/), validates every line
 * with file:line errors, and finds the entries that apply to a request on a date (a small
 * index built after loading skips the entries and lines that cannot match). The format is
 * docs/rules.md; the loaded form is kb.h. Medicine lives in the data files; this file only reads them.
 */
#include "kb.h"

#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- small helpers */

static void *grow(imr_arena *a, void *v, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return v;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *nv = imr_arena_alloc(a, ncap * size);
    if (n)
        memcpy(nv, v, n * size);
    *cap = ncap;
    return nv;
}
#define PUSH(a, arr, n, cap) ((arr) = grow((a), (arr), (n), &(cap), sizeof *(arr)), &(arr)[(n)++])

static int is_blank(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return *s == 0;
}

static char *trim(char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

int kb_has_word(const char *text, const char *word)
{
    if (!text || !word || !*word)
        return 0;
    size_t wn = strlen(word);
    int w0 = tolower((unsigned char)word[0]);
    for (const char *p = text; *p; p++) {
        /* first-byte check before the library call: this runs over every request */
        if (tolower((unsigned char)*p) != w0 || strncasecmp(p, word, wn) != 0)
            continue;
        int left = p == text || !isalnum((unsigned char)p[-1]);
        int right = !isalnum((unsigned char)p[wn]);
        if (left && right)
            return 1;
    }
    return 0;
}

/* A request prepared for matching many entries' words: its text in lower case, the set
 * of bytes it holds (a word with a byte the text lacks cannot occur in it) and the set of
 * the keys (word_key) of the two bytes at every start of a word. */
typedef struct lowered_text {
    const char *text;
    uint64_t bytes[4];
    uint64_t starts[4];
} lowered_text;

/* The key of a phrase starting with bytes a, b (kb.h, kb_applies.word_keys). */
static unsigned word_key(unsigned char a, unsigned char b)
{
    return (a * 7u + b) & 255u;
}

static int has_key(const uint64_t set[4], unsigned k)
{
    return (set[k >> 6] >> (k & 63)) & 1;
}

/* kb_has_word for a prepared text and a word already in lower case (the parser lowers
 * every value): strstr skips ahead many bytes at a time instead of comparing at each. */
static int has_word_lower(const lowered_text *lt, const char *word)
{
    if (!lt->text || !word || !*word)
        return 0;
    size_t wn = 0;
    for (const unsigned char *q = (const unsigned char *)word; *q; q++, wn++)
        if (!(lt->bytes[*q >> 6] >> (*q & 63) & 1))
            return 0;
    for (const char *p = strstr(lt->text, word); p; p = strstr(p + 1, word)) {
        int left = p == lt->text || !isalnum((unsigned char)p[-1]);
        int right = !isalnum((unsigned char)p[wn]);
        if (left && right)
            return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- the parser's state */

typedef struct parser {
    imr_kb *kb;
    imr_error *err;
    const char *file; /* path for messages (arena copy) */
    int line;
    int failed;
    kb_guideline *g;   /* TOC files: the current guideline */
    kb_entry *e;       /* rules files: the current entry */
    kb_criterion *c;   /* the current criterion of e */
    int applies_inherited, cites_inherited;
    int seen_field;    /* a field was given since the entry header */
} parser;

static int fail(parser *p, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static int fail(parser *p, const char *fmt, ...)
{
    if (p->failed)
        return -1;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    imr_error_set(p->err, IMR_EX_DATAERR, p->file, p->line, "%s", msg);
    p->failed = 1;
    return -1;
}

static const char *dup(parser *p, const char *s)
{
    return imr_arena_strdup(p->kb->arena, s);
}

/* ---------------------------------------------------------------- values, dates, pages */

/* Split "a|b|\"c d\"" into lower-case alternatives. */
static int parse_values(parser *p, const char *s, kb_values *out)
{
    out->v = NULL;
    out->n = out->cap = 0;
    const char *q = s;
    while (1) {
        while (*q == ' ')
            q++;
        char buf[256];
        size_t n = 0;
        if (*q == '"') {
            q++;
            while (*q && *q != '"') {
                if (n + 1 < sizeof buf)
                    buf[n++] = *q;
                q++;
            }
            if (*q != '"')
                return fail(p, "unterminated quoted value in '%s'", s);
            q++;
        } else {
            while (*q && *q != '|') {
                if (n + 1 < sizeof buf)
                    buf[n++] = *q;
                q++;
            }
        }
        buf[n] = 0;
        char *v = trim(buf);
        if (!*v)
            return fail(p, "empty value in '%s'", s);
        lower(v);
        if (v[0] == '$' && strcmp(v, "$drug") && strcmp(v, "$generic") && strcmp(v, "$class") &&
            strcmp(v, "$body") && strcmp(v, "$modality"))
            return fail(p, "unknown variable '%s' (expected $drug, $generic, $class, $body or "
                           "$modality)", v);
        *PUSH(p->kb->arena, out->v, out->n, out->cap) = dup(p, v);
        while (*q == ' ')
            q++;
        if (!*q)
            break;
        if (*q != '|')
            return fail(p, "expected '|' between values in '%s'", s);
        q++;
    }
    return 0;
}

static int values_has(const kb_values *vs, const char *s)
{
    for (size_t i = 0; i < vs->n; i++)
        if (!strcmp(vs->v[i], s))
            return 1;
    return 0;
}

/* "2009-07-18 .. 2016-07-27" or "2017-12-01 .." */
static int parse_period(parser *p, const char *s, char from[11], char to[11])
{
    char a[32] = "", b[32] = "";
    const char *dots = strstr(s, "..");
    if (!dots)
        return fail(p, "expected 'YYYY-MM-DD .. [YYYY-MM-DD]', found '%s'", s);
    snprintf(a, sizeof a, "%.*s", (int)(dots - s), s);
    snprintf(b, sizeof b, "%s", dots + 2);
    char *fa = trim(a), *fb = trim(b);
    if (!imr_date_valid_iso(fa))
        return fail(p, "'%s' is not a valid YYYY-MM-DD date", fa);
    if (*fb && !imr_date_valid_iso(fb))
        return fail(p, "'%s' is not a valid YYYY-MM-DD date", fb);
    if (*fb && strcmp(fa, fb) > 0)
        return fail(p, "the period ends (%s) before it starts (%s)", fb, fa);
    snprintf(from, 11, "%s", fa);
    snprintf(to, 11, "%s", fb);
    return 0;
}

/* Pages: "76-79", "127", "74-78, 88, 91". Returns the number of ranges, -1 on error. */
static int parse_pages(const char *s, kb_range *out, int max)
{
    int n = 0;
    const char *q = s;
    while (*q) {
        while (*q == ' ' || *q == ',')
            q++;
        if (!*q)
            break;
        if (!isdigit((unsigned char)*q))
            return -1;
        char *end;
        long a = strtol(q, &end, 10), b = a;
        q = end;
        while (*q == ' ')
            q++;
        if (*q == '-') {
            q++;
            while (*q == ' ')
                q++;
            if (!isdigit((unsigned char)*q))
                return -1;
            b = strtol(q, &end, 10);
            q = end;
        }
        if (a <= 0 || b < a || b > 100000)
            return -1;
        if (n >= max)
            return -1;
        out[n].from = (int)a;
        out[n].to = (int)b;
        n++;
        while (*q == ' ')
            q++;
        if (*q && *q != ',')
            return -1;
    }
    return n;
}

const kb_toc_section *kb_toc_find(const kb_guideline *g, const char *title)
{
    for (size_t i = 0; i < g->n_sections; i++)
        if (!strcasecmp(g->sections[i].title, title))
            return &g->sections[i];
    return NULL;
}

int kb_pages_within(const kb_toc_section *s, const char *pages)
{
    kb_range r[32];
    int n = parse_pages(pages, r, 32);
    if (n <= 0)
        return 0;
    for (int i = 0; i < n; i++) {
        int inside = 0;
        for (size_t j = 0; j < s->n_pages && !inside; j++)
            inside = r[i].from >= s->pages[j].from && r[i].to <= s->pages[j].to;
        if (!inside)
            return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- logical lines */

typedef struct lline {
    char *text; /* key and value, continuation lines joined */
    int line;
    int indented;
} lline;

/* Cut a file into logical lines: comments and blank lines dropped, "+ text" lines
 * appended to the previous line. */
static int logical_lines(parser *p, char *data, lline **out, size_t *n)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    int lineno = 0;
    char *s = data;
    while (*s) {
        char *eol = strchr(s, '\n');
        if (eol)
            *eol = 0;
        lineno++;
        p->line = lineno;
        size_t len = strlen(s);
        if (len && s[len - 1] == '\r')
            s[len - 1] = 0;
        char *t = s;
        while (*t == ' ' || *t == '\t')
            t++;
        if (*t && *t != '#') {
            if (t[0] == '+' && (t[1] == ' ' || t[1] == 0)) {
                if (!*n)
                    return fail(p, "continuation line '+' with nothing to continue");
                lline *prev = &(*out)[*n - 1];
                prev->text = imr_arena_printf(p->kb->arena, "%s %s", prev->text, trim(t + 1));
            } else {
                lline *l = PUSH(p->kb->arena, *out, *n, cap);
                l->text = imr_arena_strdup(p->kb->arena, t);
                trim(l->text);
                l->line = lineno;
                l->indented = t != s;
            }
        }
        if (!eol)
            break;
        s = eol + 1;
    }
    return 0;
}

/* Split "key value" */
static void split_key(char *text, char **key, char **value)
{
    char *q = text;
    while (*q && !isspace((unsigned char)*q))
        q++;
    if (*q) {
        *q++ = 0;
        while (*q && isspace((unsigned char)*q))
            q++;
    }
    *key = text;
    *value = q;
}

/* ---------------------------------------------------------------- TOC files */

static int toc_line(parser *p, char *key, char *value)
{
    imr_kb *kb = p->kb;
    if (!strcmp(key, "guideline")) {
        if (!*value)
            return fail(p, "guideline needs an id");
        if (kb_guideline_find(kb, value))
            return fail(p, "guideline '%s' is defined twice", value);
        p->g = PUSH(kb->arena, kb->guidelines, kb->n_guidelines, kb->cap_guidelines);
        memset(p->g, 0, sizeof *p->g);
        p->g->id = dup(p, value);
        p->g->file = p->file;
        p->g->line = p->line;
        p->g->authority = KB_MTUS;
        return 0;
    }
    if (!p->g)
        return fail(p, "'%s' before any 'guideline' line", key);
    kb_guideline *g = p->g;
    if (!*value)
        return fail(p, "'%s' needs a value", key);
    if (!strcmp(key, "name"))
        g->name = dup(p, value);
    else if (!strcmp(key, "edition"))
        g->edition = dup(p, value);
    else if (!strcmp(key, "authority")) {
        if (!strcmp(value, "mtus"))
            g->authority = KB_MTUS;
        else if (!strcmp(value, "non_mtus"))
            g->authority = KB_NON_MTUS;
        else
            return fail(p, "authority must be 'mtus' or 'non_mtus', found '%s'", value);
    } else if (!strcmp(key, "in_force"))
        return parse_period(p, value, g->from, g->to);
    else if (!strcmp(key, "section")) {
        char *bar = strchr(value, '|');
        char *title = value, *pages = NULL;
        if (bar) {
            *bar = 0;
            pages = trim(bar + 1);
        }
        title = trim(title);
        if (!*title)
            return fail(p, "section needs a title");
        if (kb_toc_find(g, title))
            return fail(p, "section '%s' is listed twice", title);
        kb_toc_section *s = PUSH(kb->arena, g->sections, g->n_sections, g->cap_sections);
        s->title = dup(p, title);
        s->line = p->line;
        s->pages = NULL;
        s->n_pages = 0;
        if (pages && *pages) {
            kb_range r[32];
            int n = parse_pages(pages, r, 32);
            if (n <= 0)
                return fail(p, "bad pages '%s' (expected e.g. '76-80' or '30-34, 49')", pages);
            s->pages = imr_arena_alloc(kb->arena, (size_t)n * sizeof *s->pages);
            memcpy(s->pages, r, (size_t)n * sizeof *r);
            s->n_pages = (size_t)n;
        }
    } else
        return fail(p, "unknown field '%s' (expected guideline, name, edition, authority, "
                       "in_force or section)", key);
    return 0;
}

static int check_guideline(parser *p, const kb_guideline *g)
{
    p->line = g->line;
    if (!g->name)
        return fail(p, "guideline '%s' has no name", g->id);
    if (!g->edition)
        return fail(p, "guideline '%s' has no edition", g->id);
    if (!g->from[0])
        return fail(p, "guideline '%s' has no in_force period", g->id);
    if (!g->n_sections)
        return fail(p, "guideline '%s' lists no sections", g->id);
    return 0;
}

/* ---------------------------------------------------------------- conditions */

static const char *const NUMBER_FIELDS[] = {
    "quantity", "refills", "fills", "supply", "visits", "mme", "age", "prior_sessions",
    "total_sessions", "level_count", "months_since_injury", "months_since_surgery",
    "duration_days", "generic_count", NULL};
static const char *const TREATMENT_FIELDS[] = {
    "kind", "class", "generic", "dose_form", "body", "procedure", "request", "name",
    "frequency", "laterality", "strength", NULL};
static const char *const FACT_FIELDS[] = {
    "name", "value", "qualifier", "date", "duration", "attributed_to", "assert",
    "score", "score2", "drop", "pct_drop", NULL};
static const char *const FACT_NUMBER_FIELDS[] = {"score", "score2", "drop", "pct_drop", NULL};

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (!strcmp(*list, s))
            return 1;
    return 0;
}

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static size_t ident_len(const char *s)
{
    size_t n = 0;
    while (isalnum((unsigned char)s[n]) || s[n] == '_')
        n++;
    return n;
}

/* Read an operator at s; returns its length (0 when none). */
static size_t read_op(const char *s, kb_op *op)
{
    if (s[0] == '<' && s[1] == '=') { *op = KB_OP_LE; return 2; }
    if (s[0] == '>' && s[1] == '=') { *op = KB_OP_GE; return 2; }
    if (s[0] == '!' && s[1] == '=') { *op = KB_OP_NE; return 2; }
    if (s[0] == '<') { *op = KB_OP_LT; return 1; }
    if (s[0] == '>') { *op = KB_OP_GT; return 1; }
    if (s[0] == '=') { *op = KB_OP_EQ; return 1; }
    if (s[0] == '~') { *op = KB_OP_HAS; return 1; }
    return 0;
}

static int parse_number(parser *p, const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || !is_blank(end))
        return fail(p, "expected a number, found '%s'", s);
    *out = v;
    return 0;
}

static int parse_filter(parser *p, char *text, kb_filter *f)
{
    text = trim(text);
    size_t n = ident_len(text);
    if (!n)
        return fail(p, "expected a field name in filter '%s'", text);
    char field[64];
    snprintf(field, sizeof field, "%.*s", (int)n, text);
    if (!in_list(FACT_FIELDS, field))
        return fail(p, "unknown fact field '%s' (expected name, value, qualifier, date, duration, "
                       "attributed_to, assert, score, score2, drop or pct_drop)", field);
    f->field = dup(p, field);
    const char *rest = skip_ws(text + n);
    if (!*rest) {
        f->op = KB_OP_SET;
        return 0;
    }
    size_t ol = read_op(rest, &f->op);
    if (!ol)
        return fail(p, "expected an operator after '%s' in filter '%s'", field, text);
    rest = skip_ws(rest + ol);
    if (in_list(FACT_NUMBER_FIELDS, field)) {
        if (f->op == KB_OP_HAS)
            return fail(p, "'~' does not apply to the number '%s'", field);
        return parse_number(p, rest, &f->num);
    }
    if (f->op != KB_OP_EQ && f->op != KB_OP_NE && f->op != KB_OP_HAS)
        return fail(p, "'%s' is text: use '=', '!=' or '~'", field);
    if (parse_values(p, rest, &f->values))
        return -1;
    if (!strcmp(field, "assert"))
        for (size_t i = 0; i < f->values.n; i++)
            if (strcmp(f->values.v[i], "affirmed") && strcmp(f->values.v[i], "negated") &&
                strcmp(f->values.v[i], "hypothetical") && strcmp(f->values.v[i], "historical") &&
                strcmp(f->values.v[i], "other_person"))
                return fail(p, "unknown assertion '%s'", f->values.v[i]);
    return 0;
}

/* Split `s` at top-level occurrences of the word `sep` (" or ", " and "), outside
 * parentheses and quotes. Pieces are written into `parts` (copies). */
static size_t split_top(parser *p, const char *s, const char *sep, char ***parts)
{
    size_t cap = 0, n = 0;
    *parts = NULL;
    size_t sl = strlen(sep);
    int depth = 0, quote = 0;
    const char *start = s;
    for (const char *q = s;; q++) {
        if (!*q || (!depth && !quote && !strncmp(q, sep, sl))) {
            *PUSH(p->kb->arena, *parts, n, cap) = imr_arena_strndup(p->kb->arena, start, (size_t)(q - start));
            if (!*q)
                break;
            q += sl - 1;
            start = q + 1;
            continue;
        }
        if (*q == '"')
            quote = !quote;
        else if (!quote && *q == '(')
            depth++;
        else if (!quote && *q == ')')
            depth--;
    }
    return n;
}

static int parse_atom(parser *p, char *text, kb_atom *a)
{
    memset(a, 0, sizeof *a);
    const char *s = skip_ws(text);
    if (*s == '!') {
        a->invert = 1;
        s = skip_ws(s + 1);
    }
    if (!strncmp(s, "no ", 3)) {
        a->negated = 1;
        s = skip_ws(s + 3);
    }
    size_t n = ident_len(s);
    if (!n)
        return fail(p, "expected a fact type or a field in '%s'", text);
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)n, s);
    const char *rest = skip_ws(s + n);
    kb_op op;
    size_t ol = *rest && *rest != '(' ? read_op(rest, &op) : 0;
    if (ol) {
        if (a->negated)
            return fail(p, "'no' applies to facts, not to the field '%s'", name);
        a->type = dup(p, name);
        a->op = op;
        rest = skip_ws(rest + ol);
        if (in_list(NUMBER_FIELDS, name)) {
            a->kind = KB_ATOM_NUMBER;
            if (op == KB_OP_HAS)
                return fail(p, "'~' does not apply to the number '%s'", name);
            return parse_number(p, rest, &a->num);
        }
        if (in_list(TREATMENT_FIELDS, name)) {
            a->kind = KB_ATOM_TREATMENT;
            if (op != KB_OP_EQ && op != KB_OP_NE && op != KB_OP_HAS)
                return fail(p, "'%s' is text: use '=', '!=' or '~'", name);
            return parse_values(p, rest, &a->values);
        }
        return fail(p, "unknown field '%s' (numbers: quantity, refills, fills, supply, visits, "
                       "mme, age, prior_sessions, total_sessions, level_count, months_since_injury, "
                       "months_since_surgery, duration_days, generic_count; text: kind, class, generic, dose_form, body, procedure, "
                       "request, name, frequency, laterality, strength)", name);
    }
    a->kind = KB_ATOM_FACT;
    if (!values_has(&p->kb->fact_types, name))
        return fail(p, "unknown fact type '%s' (not in the vocabulary of docs/facts.md)", name);
    a->type = dup(p, name);
    if (!*rest)
        return 0;
    if (*rest != '(')
        return fail(p, "unexpected '%s' after fact type '%s'", rest, name);
    const char *close = strrchr(rest, ')');
    if (!close || !is_blank(close + 1))
        return fail(p, "missing ')' in '%s'", text);
    char *inner = imr_arena_strndup(p->kb->arena, rest + 1, (size_t)(close - rest - 1));
    if (is_blank(inner))
        return 0;
    char **parts;
    size_t np = split_top(p, inner, ",", &parts);
    size_t cap = 0;
    for (size_t i = 0; i < np; i++) {
        kb_filter *f = PUSH(p->kb->arena, a->filters, a->n_filters, cap);
        memset(f, 0, sizeof *f);
        if (parse_filter(p, parts[i], f))
            return -1;
    }
    return 0;
}

static kb_cond *parse_cond(parser *p, const char *text)
{
    if (is_blank(text)) {
        fail(p, "empty condition");
        return NULL;
    }
    kb_cond *c = imr_arena_alloc(p->kb->arena, sizeof *c);
    c->text = dup(p, text);
    char **alts;
    size_t na = split_top(p, text, " or ", &alts);
    c->alts = imr_arena_alloc(p->kb->arena, na * sizeof *c->alts);
    c->n = na;
    for (size_t i = 0; i < na; i++) {
        char **atoms;
        size_t nt = split_top(p, alts[i], " and ", &atoms);
        c->alts[i].atoms = imr_arena_alloc(p->kb->arena, nt * sizeof(kb_atom));
        c->alts[i].n = nt;
        for (size_t j = 0; j < nt; j++)
            if (parse_atom(p, atoms[j], &c->alts[i].atoms[j]))
                return NULL;
    }
    return c;
}

/* ---------------------------------------------------------------- templates */

static const char *const SLOTS[] = {
    "request", "drug", "generic", "class", "quantity", "refills", "visits", "mme", "body",
    "age", "sex", "prior_sessions", "total_sessions", "latest_note", "diagnoses", "duration",
    "pain", "facts", "guideline", "edition", "sections", "pages", "missing", "unmet",
    "months_since_injury", "doi", "reference_date", "modality", "level_count", "frequency",
    "strength", "text", "name", "value", "qualifier", "date", "attributed_to", "score",
    "score2", "medications", "treatments", "ur_decision", "ur_date", "requests", "claimant",
    "conflicts", "supply", "names", "clauses", "findings", NULL};

/* Check the {slot}s and [optional] segments of a template. */
static int check_template(parser *p, const char *t)
{
    int depth = 0;
    for (const char *q = t; *q; q++) {
        if (*q == '[') {
            if (depth++)
                return fail(p, "nested '[' in template '%s'", t);
        } else if (*q == ']') {
            if (!depth--)
                return fail(p, "']' without '[' in template '%s'", t);
        } else if (*q == '{') {
            const char *close = strchr(q, '}');
            if (!close)
                return fail(p, "'{' without '}' in template '%s'", t);
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(close - q - 1), q + 1);
            if (!in_list(SLOTS, name))
                return fail(p, "unknown slot '{%s}' in template", name);
            q = close;
        } else if (*q == '}')
            return fail(p, "'}' without '{' in template '%s'", t);
    }
    if (depth)
        return fail(p, "'[' without ']' in template '%s'", t);
    return 0;
}

/* ---------------------------------------------------------------- rules files */

const kb_guideline *kb_guideline_find(const imr_kb *kb, const char *id)
{
    for (size_t i = 0; i < kb->n_guidelines; i++)
        if (!strcmp(kb->guidelines[i].id, id))
            return &kb->guidelines[i];
    return NULL;
}

const kb_entry *kb_entry_find(const imr_kb *kb, const char *id)
{
    for (size_t i = 0; i < kb->n_entries; i++)
        if (!strcmp(kb->entries[i].id, id))
            return &kb->entries[i];
    return NULL;
}

static const char *text_find(const kb_text *v, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].key, key))
            return v[i].text;
    return NULL;
}

static size_t key_hash(const char *key)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *q = (const unsigned char *)key; *q; q++)
        h = (h ^ *q) * 16777619u;
    return h;
}

/* text_find through a table of index_texts (NULL: not built yet, read the list). */
static const char *text_lookup(const kb_text *v, size_t n, const uint32_t *index, size_t mask,
                               const char *key)
{
    if (!index)
        return text_find(v, n, key);
    for (size_t i = key_hash(key) & mask; index[i]; i = (i + 1) & mask)
        if (!strcmp(v[index[i] - 1].key, key))
            return v[index[i] - 1].text;
    return NULL;
}

/* A table of the keys of v (each key once: the loader refuses a second definition). */
static uint32_t *index_texts(imr_arena *a, const kb_text *v, size_t n, size_t *mask)
{
    size_t size = 16;
    while (size < 2 * n + 2)
        size *= 2;
    uint32_t *t = imr_arena_alloc(a, size * sizeof *t);
    *mask = size - 1;
    for (size_t k = 0; k < n; k++) {
        size_t i = key_hash(v[k].key) & *mask;
        while (t[i])
            i = (i + 1) & *mask;
        t[i] = (uint32_t)k + 1;
    }
    return t;
}

const char *kb_wording(const imr_kb *kb, const char *key)
{
    return text_lookup(kb->wording, kb->n_wording, kb->wording_index, kb->wording_mask, key);
}

const char *kb_phrase(const imr_kb *kb, const char *type)
{
    return text_lookup(kb->phrases, kb->n_phrases, kb->phrase_index, kb->phrase_mask, type);
}

static int parse_applies(parser *p, char *value, kb_applies *ap)
{
    memset(ap, 0, sizeof *ap);
    ap->kind = -1;
    ap->line = p->line;
    char **parts;
    /* fields are separated by spaces outside quotes: split on " " at top level */
    size_t n = split_top(p, value, " ", &parts);
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        char *f = trim(parts[i]);
        if (!*f)
            continue;
        char *eq = strchr(f, '=');
        if (!eq)
            return fail(p, "expected field=values in applies, found '%s'", f);
        *eq = 0;
        const char *vals = eq + 1;
        kb_values *dst = NULL;
        if (!strcmp(f, "kind")) {
            imr_treatment_kind k;
            if (imr_treatment_kind_from_name(vals, &k))
                return fail(p, "unknown treatment kind '%s'", vals);
            ap->kind = (int)k;
            any = 1;
            continue;
        } else if (!strcmp(f, "class"))
            dst = &ap->classes;
        else if (!strcmp(f, "generic"))
            dst = &ap->generics;
        else if (!strcmp(f, "words"))
            dst = &ap->words;
        else if (!strcmp(f, "body"))
            dst = &ap->bodies;
        else if (!strcmp(f, "dose_form"))
            dst = &ap->dose_forms;
        else if (!strcmp(f, "procedure"))
            dst = &ap->procedures;
        else
            return fail(p, "unknown applies field '%s' (expected kind, class, generic, words, "
                           "body, dose_form or procedure)", f);
        if (parse_values(p, vals, dst))
            return -1;
        if (dst == &ap->classes)
            for (size_t j = 0; j < dst->n; j++) {
                const char *c = dst->v[j];
                size_t cl = strlen(c);
                int ok = c[cl - 1] == '*' || values_has(&p->kb->drug_classes, c);
                if (!ok)
                    return fail(p, "unknown drug class '%s' (not in the vocabulary)", c);
            }
        any = 1;
    }
    if (!any)
        return fail(p, "applies needs at least one of kind, class, generic, words, body, "
                       "dose_form, procedure");
    ap->specificity = (ap->generics.n ? 16 : 0) + (ap->classes.n ? 8 : 0) +
                      (ap->dose_forms.n ? 4 : 0) + (ap->procedures.n ? 4 : 0) +
                      (ap->words.n ? 4 : 0) + (ap->bodies.n ? 2 : 0) + (ap->kind >= 0 ? 1 : 0);
    return 0;
}

static kb_criterion *criterion_find(kb_entry *e, const char *id)
{
    for (size_t i = 0; i < e->n_criteria; i++)
        if (!strcmp(e->criteria[i].id, id))
            return &e->criteria[i];
    return NULL;
}

/* Copy the base entry's fields into e (arrays are copied so that e can change them). */
static void inherit(parser *p, kb_entry *e, const kb_entry *base)
{
    const char *id = e->id, *file = e->file;
    int line = e->line;
    *e = *base;
    e->id = id;
    e->file = file;
    e->line = line;
    /* The base's arrays are shared until changed: criteria are copied now (they are
     * changed in place), applies and cites are replaced as a whole by the first new line. */
    imr_arena *a = p->kb->arena;
    e->cap_criteria = base->n_criteria + 4;
    e->criteria = imr_arena_alloc(a, e->cap_criteria * sizeof *e->criteria);
    memcpy(e->criteria, base->criteria, base->n_criteria * sizeof *e->criteria);
    for (size_t i = 0; i < e->n_criteria; i++)
        e->criteria[i].inherited = 1;
    e->cap_applies = e->cap_cites = 0;
    p->applies_inherited = p->cites_inherited = 1;
}

static int criterion_line(parser *p, const char *key, char *value)
{
    kb_criterion *c = p->c;
    if (!strcmp(key, "text"))
        c->text = dup(p, value);
    else if (!strcmp(key, "when"))
        return (c->when = parse_cond(p, value)) ? 0 : -1;
    else if (!strcmp(key, "met"))
        return (c->met = parse_cond(p, value)) ? 0 : -1;
    else if (!strcmp(key, "fails"))
        return (c->fails = parse_cond(p, value)) ? 0 : -1;
    else if (!strcmp(key, "conflict")) {
        if (!strcmp(value, "latest"))
            c->conflict = KB_CONFLICT_LATEST;
        else if (!strcmp(value, "fails"))
            c->conflict = KB_CONFLICT_FAILS;
        else if (!strcmp(value, "met"))
            c->conflict = KB_CONFLICT_MET;
        else if (!strcmp(value, "undecided"))
            c->conflict = KB_CONFLICT_UNDECIDED;
        else
            return fail(p, "conflict must be latest, fails, met or undecided, found '%s'", value);
    } else if (!strcmp(key, "say_met") || !strcmp(key, "say_not_met") || !strcmp(key, "say_unknown") ||
               !strcmp(key, "say_absent")) {
        if (check_template(p, value))
            return -1;
        const char *t = dup(p, value);
        if (!strcmp(key, "say_met"))
            c->say_met = t;
        else if (!strcmp(key, "say_not_met"))
            c->say_not_met = t;
        else if (!strcmp(key, "say_absent"))
            c->say_absent = t;
        else
            c->say_unknown = t;
    } else if (!strcmp(key, "needs"))
        c->needs = dup(p, value);
    else if (!strcmp(key, "look_for")) {
        if (parse_values(p, value, &c->look_for))
            return -1;
        for (size_t i = 0; i < c->look_for.n; i++)
            if (c->look_for.v[i][0] == '$')
                return fail(p, "look_for takes words, not variables ('%s')", c->look_for.v[i]);
    } else
        return 1; /* not a criterion field */
    return 0;
}

static int parse_role(parser *p, const char *s, kb_role *out)
{
    if (!strcmp(s, "required"))
        *out = KB_ROLE_REQUIRED;
    else if (!strcmp(s, "limit"))
        *out = KB_ROLE_LIMIT;
    else if (!strcmp(s, "info"))
        *out = KB_ROLE_INFO;
    else
        return fail(p, "criterion role must be required, limit or info, found '%s'", s);
    return 0;
}

static int entry_line(parser *p, char *key, char *value)
{
    imr_kb *kb = p->kb;
    kb_entry *e = p->e;
    if (!strcmp(key, "based_on")) {
        if (p->seen_field)
            return fail(p, "based_on must be the first line of an entry");
        const kb_entry *base = kb_entry_find(kb, value);
        if (!base || base == e)
            return fail(p, "based_on: unknown entry '%s' (a base must come earlier)", value);
        inherit(p, e, base);
        p->seen_field = 1;
        return 0;
    }
    p->seen_field = 1;
    if (!strcmp(key, "criterion")) {
        char *id, *role;
        split_key(value, &id, &role);
        if (!*id || ident_len(id) != strlen(id))
            return fail(p, "criterion needs an id of letters, digits and '_', found '%s'", id);
        kb_criterion *c = criterion_find(e, id);
        if (c) {
            if (!c->inherited)
                return fail(p, "criterion '%s' is defined twice in this entry", id);
            /* an inherited criterion: the lines below change it in place */
            c->inherited = 0;
            c->line = p->line;
        } else {
            c = PUSH(kb->arena, e->criteria, e->n_criteria, e->cap_criteria);
            memset(c, 0, sizeof *c);
            c->id = dup(p, id);
            c->line = p->line;
            c->role = KB_ROLE_REQUIRED;
        }
        if (*role && parse_role(p, trim(role), &c->role))
            return -1;
        p->c = c;
        return 0;
    }
    if (p->c) {
        int r = criterion_line(p, key, value);
        if (r <= 0)
            return r;
        p->c = NULL; /* an entry field ends the criterion */
    }
    if (!*value)
        return fail(p, "'%s' needs a value", key);
    if (!strcmp(key, "topic")) {
        if (ident_len(value) != strlen(value))
            return fail(p, "topic must be letters, digits and '_', found '%s'", value);
        e->topic = dup(p, value);
    } else if (!strcmp(key, "guideline")) {
        e->guideline = kb_guideline_find(kb, value);
        if (!e->guideline)
            return fail(p, "unknown guideline '%s' (defined by a 'guideline' line in rules/toc/)", value);
        memcpy(e->from, e->guideline->from, 11);
        memcpy(e->to, e->guideline->to, 11);
    } else if (!strcmp(key, "in_force")) {
        if (!e->guideline)
            return fail(p, "in_force must come after the guideline line");
        return parse_period(p, value, e->from, e->to);
    }
    else if (!strcmp(key, "recommended")) {
        if (!strcmp(value, "yes"))
            e->recommended = KB_REC_YES;
        else if (!strcmp(value, "conditional"))
            e->recommended = KB_REC_CONDITIONAL;
        else if (!strcmp(value, "no"))
            e->recommended = KB_REC_NO;
        else
            return fail(p, "recommended must be yes, conditional or no, found '%s'", value);
    } else if (!strcmp(key, "applies")) {
        if (p->applies_inherited) {
            e->applies = NULL;
            e->n_applies = e->cap_applies = 0;
            p->applies_inherited = 0;
        }
        kb_applies *ap = PUSH(kb->arena, e->applies, e->n_applies, e->cap_applies);
        return parse_applies(p, value, ap);
    } else if (!strcmp(key, "cite")) {
        if (p->cites_inherited) {
            e->cites = NULL;
            e->n_cites = e->cap_cites = 0;
            p->cites_inherited = 0;
        }
        kb_cite *ct = PUSH(kb->arena, e->cites, e->n_cites, e->cap_cites);
        char *bar = strchr(value, '|');
        char *pages = NULL;
        if (bar) {
            *bar = 0;
            pages = trim(bar + 1);
        }
        ct->section = dup(p, trim(value));
        ct->pages = pages && *pages ? dup(p, pages) : NULL;
        ct->line = p->line;
        if (!*ct->section)
            return fail(p, "cite needs a section title");
    } else if (!strcmp(key, "summary")) {
        if (check_template(p, value))
            return -1;
        e->summary = dup(p, value);
    } else if (!strcmp(key, "note")) {
        if (check_template(p, value))
            return -1;
        e->note = dup(p, value);
    } else if (!strcmp(key, "modality"))
        e->modality = dup(p, value);
    else if (!strcmp(key, "context"))
        return (e->context = parse_cond(p, value)) ? 0 : -1;
    else if (!strcmp(key, "text") || !strcmp(key, "when") || !strcmp(key, "met") ||
             !strcmp(key, "fails") || !strncmp(key, "say_", 4) || !strcmp(key, "needs") ||
             !strcmp(key, "conflict") || !strcmp(key, "look_for"))
        return fail(p, "'%s' belongs to a criterion, but no criterion is open here", key);
    else
        return fail(p, "unknown field '%s' (expected topic, guideline, in_force, recommended, "
                       "applies, cite, summary, note, modality, context, based_on or criterion)", key);
    return 0;
}

/* Check an entry once it is complete. */
static int check_entry(parser *p, const kb_entry *e)
{
    int saved = p->line;
    p->line = e->line;
    if (!e->topic)
        return fail(p, "entry '%s' has no topic", e->id);
    if (!e->guideline)
        return fail(p, "entry '%s' names no guideline", e->id);
    if (!e->n_applies)
        return fail(p, "entry '%s' has no applies line", e->id);
    if (!e->n_cites)
        return fail(p, "entry '%s' cites no section", e->id);
    if (!e->summary)
        return fail(p, "entry '%s' has no summary", e->id);
    if (e->to[0] && strcmp(e->from, e->to) > 0)
        return fail(p, "entry '%s' ends before it starts", e->id);
    for (size_t i = 0; i < e->n_cites; i++) {
        const kb_cite *ct = &e->cites[i];
        p->line = ct->line;
        const kb_toc_section *s = kb_toc_find(e->guideline, ct->section);
        if (!s)
            return fail(p, "section '%s' is not in the table of contents of '%s' (%s:%d)",
                        ct->section, e->guideline->id, e->guideline->file, e->guideline->line);
        if (ct->pages && !s->n_pages)
            return fail(p, "section '%s' of '%s' has no page numbers, but pages '%s' are cited",
                        ct->section, e->guideline->id, ct->pages);
        if (ct->pages && !kb_pages_within(s, ct->pages))
            return fail(p, "pages '%s' lie outside section '%s' of '%s' (%s:%d)", ct->pages,
                        ct->section, e->guideline->id, e->guideline->file, s->line);
        if (!ct->pages && s->n_pages)
            return fail(p, "cite '%s' needs pages (the table of contents gives them)", ct->section);
    }
    for (size_t i = 0; i < e->n_criteria; i++) {
        const kb_criterion *c = &e->criteria[i];
        p->line = c->line;
        if (!c->text)
            return fail(p, "criterion '%s' has no text", c->id);
        if (!c->met && !c->fails)
            return fail(p, "criterion '%s' has neither met nor fails", c->id);
        if (c->role == KB_ROLE_REQUIRED && !c->met)
            return fail(p, "required criterion '%s' has no met condition", c->id);
    }
    p->line = saved;
    return 0;
}

static int rules_line(parser *p, const lline *l)
{
    imr_kb *kb = p->kb;
    p->line = l->line;
    char *text = l->text;
    if (text[0] == '[') {
        size_t n = strlen(text);
        if (text[n - 1] != ']')
            return fail(p, "entry header must be '[id]', found '%s'", text);
        text[n - 1] = 0;
        char *id = trim(text + 1);
        if (!*id)
            return fail(p, "empty entry id");
        for (const char *q = id; *q; q++)
            if (!isalnum((unsigned char)*q) && *q != '_' && *q != '.' && *q != '-')
                return fail(p, "entry id may hold letters, digits, '.', '_' and '-', found '%s'", id);
        if (p->e && check_entry(p, p->e))
            return -1;
        p->line = l->line;
        if (kb_entry_find(kb, id))
            return fail(p, "entry '%s' is defined twice", id);
        p->e = PUSH(kb->arena, kb->entries, kb->n_entries, kb->cap_entries);
        memset(p->e, 0, sizeof *p->e);
        p->e->id = dup(p, id);
        p->e->file = p->file;
        p->e->line = l->line;
        p->e->recommended = KB_REC_CONDITIONAL;
        p->c = NULL;
        p->seen_field = 0;
        p->applies_inherited = p->cites_inherited = 0;
        return 0;
    }
    char *key, *value;
    split_key(text, &key, &value);
    if (!strcmp(key, "wording") || !strcmp(key, "phrase")) {
        char *k, *t;
        split_key(value, &k, &t);
        if (!*k || !*t)
            return fail(p, "%s needs a key and a text", key);
        if (check_template(p, t))
            return -1;
        int is_phrase = key[0] == 'p';
        if (is_phrase && !values_has(&kb->fact_types, k))
            return fail(p, "phrase for unknown fact type '%s'", k);
        kb_text *v = is_phrase ? kb->phrases : kb->wording;
        size_t nv = is_phrase ? kb->n_phrases : kb->n_wording;
        if (text_find(v, nv, k))
            return fail(p, "%s '%s' is defined twice", key, k);
        kb_text *t2 = is_phrase ? PUSH(kb->arena, kb->phrases, kb->n_phrases, kb->cap_phrases)
                                : PUSH(kb->arena, kb->wording, kb->n_wording, kb->cap_wording);
        t2->key = dup(p, k);
        t2->text = dup(p, t);
        t2->line = p->line;
        t2->file = p->file;
        return 0;
    }
    if (!strcmp(key, "vocabulary")) {
        char *which, *list;
        split_key(value, &which, &list);
        kb_values *dst = !strcmp(which, "fact_types") ? &kb->fact_types
                         : !strcmp(which, "drug_classes") ? &kb->drug_classes : NULL;
        if (!dst)
            return fail(p, "vocabulary must be fact_types or drug_classes, found '%s'", which);
        char *save = NULL;
        for (char *w = strtok_r(list, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
            lower(w);
            if (!values_has(dst, w))
                *PUSH(kb->arena, dst->v, dst->n, dst->cap) = dup(p, w);
        }
        return 0;
    }
    if (!p->e)
        return fail(p, "'%s' outside an entry (start one with '[id]')", key);
    return entry_line(p, key, value);
}

/* ---------------------------------------------------------------- loading */

static int load_file(parser *p, const char *path, int toc)
{
    imr_buf buf = IMR_BUF_INIT;
    int rc = imr_read_file(path, 4u * 1024 * 1024, &buf, p->err);
    if (rc)
        return rc;
    p->file = dup(p, path);
    p->line = 0;
    p->g = NULL;
    p->e = NULL;
    p->c = NULL;
    size_t bad;
    if (!imr_utf8_valid(buf.data ? buf.data : "", buf.len, &bad)) {
        p->line = imr_line_of(buf.data, bad);
        fail(p, "not valid UTF-8");
        imr_buf_free(&buf);
        return IMR_EX_DATAERR;
    }
    lline *lines;
    size_t n;
    if (logical_lines(p, buf.data ? buf.data : (char[]){0}, &lines, &n)) {
        imr_buf_free(&buf);
        return IMR_EX_DATAERR;
    }
    for (size_t i = 0; i < n && !p->failed; i++) {
        if (toc) {
            p->line = lines[i].line;
            char *key, *value;
            split_key(lines[i].text, &key, &value);
            toc_line(p, key, trim(value));
        } else
            rules_line(p, &lines[i]);
    }
    if (!p->failed && !toc && p->e)
        check_entry(p, p->e);
    imr_buf_free(&buf);
    return p->failed ? IMR_EX_DATAERR : 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted paths of the files in `dir` ending with `suffix` (malloc'd). */
static int list_dir(const char *dir, const char *suffix, char ***out, size_t *n, imr_error *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return imr_error_set(err, IMR_EX_NOINPUT, dir, 0, "cannot open the rules folder");
    size_t cap = 0, sl = strlen(suffix);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (nl <= sl || strcmp(de->d_name + nl - sl, suffix) || de->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nv = realloc(*out, cap * sizeof *nv);
            if (!nv)
                abort();
            *out = nv;
        }
        size_t len = strlen(dir) + nl + 2;
        char *path = malloc(len);
        if (!path)
            abort();
        snprintf(path, len, "%s/%s", dir, de->d_name);
        (*out)[(*n)++] = path;
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof **out, cmp_str);
    return 0;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Wording keys the engine needs (docs/rules.md, "Wording"). */
static const char *const REQUIRED_WORDING[] = {
    "guideline_line.mtus", "guideline_line.non_mtus", "claims_administrator.none",
    "conclusion.overturned", "conclusion.upheld", "conclusion.upheld_documentation",
    "conclusion.not_recommended", "conclusion.undetermined", "criterion.met",
    "criterion.not_met", "criterion.unknown", "criterion.conflict", "undetermined.no_entry",
    "undetermined.no_clinical", "undetermined.conflict", "undetermined.unreadable",
    "reviewer.unassigned", "organization.default", NULL};

/* ---------------------------------------------------------------- the selection index */

static void index_initials(kb_values *vs)
{
    uint32_t m = 1u << 31;
    for (size_t i = 0; i < vs->n; i++) {
        unsigned c = (unsigned char)vs->v[i][0] | 0x20;
        if (c >= 'a' && c <= 'z' && vs->v[i][0] != '*')
            m |= 1u << (c - 'a');
        else if (vs->v[i][0] == '*' || vs->v[i][0] == '$')
            m |= 1u << 26; /* "*" matches anything; a variable is not known yet */
        /* any other first byte cannot equal a letter, whatever the case */
    }
    vs->initials = m;
}

/* Atoms of one fact type share one string (the vocabulary's): the engine's table of facts
 * by type is keyed by the string's address. */
static void share_fact_types(const imr_kb *kb, kb_cond *c)
{
    for (size_t i = 0; c && i < c->n; i++)
        for (size_t j = 0; j < c->alts[i].n; j++) {
            kb_atom *a = &c->alts[i].atoms[j];
            if (a->kind != KB_ATOM_FACT || !a->type)
                continue;
            for (size_t k = 0; k < kb->fact_types.n; k++)
                if (!strcmp(kb->fact_types.v[k], a->type)) {
                    a->type = kb->fact_types.v[k];
                    break;
                }
        }
}

/* What lets kb_candidates skip most entries and lines at once (see kb.h: lines_for,
 * initials, word_keys), the shared fact type strings and the tables of wording and phrase
 * keys. Computed once the entries no longer move. */
static void index_entries(imr_kb *kb)
{
    kb->wording_index = index_texts(kb->arena, kb->wording, kb->n_wording, &kb->wording_mask);
    kb->phrase_index = index_texts(kb->arena, kb->phrases, kb->n_phrases, &kb->phrase_mask);
    for (size_t i = 0; i < kb->n_entries; i++) {
        kb_entry *e = &kb->entries[i];
        share_fact_types(kb, e->context);
        for (size_t j = 0; j < e->n_criteria; j++) {
            share_fact_types(kb, e->criteria[j].when);
            share_fact_types(kb, e->criteria[j].met);
            share_fact_types(kb, e->criteria[j].fails);
        }
    }
    size_t lines = 0;
    for (size_t i = 0; i < kb->n_entries; i++)
        lines += kb->entries[i].n_applies;
    for (int k = 0; k < IMR_TREATMENT_KIND_COUNT; k++) {
        kb->lines_for[k] = imr_arena_alloc(kb->arena, (lines ? lines : 1) * sizeof *kb->lines_for[k]);
        kb->n_lines_for[k] = 0;
    }
    for (size_t i = 0; i < kb->n_entries; i++) {
        kb_entry *e = &kb->entries[i];
        for (size_t j = 0; j < e->n_applies; j++) {
            kb_applies *ap = &e->applies[j];
            /* a line of one kind matches that kind, and unclassified requests on its words */
            for (int k = 0; k < IMR_TREATMENT_KIND_COUNT; k++)
                if (ap->kind < 0 || ap->kind == k || k == IMR_TREATMENT_OTHER)
                    kb->lines_for[k][kb->n_lines_for[k]++] = (struct kb_line_ref){(uint32_t)i, (uint32_t)j};
            index_initials(&ap->classes);
            index_initials(&ap->generics);
            index_initials(&ap->dose_forms);
            index_initials(&ap->procedures);
            index_initials(&ap->bodies);
            if (!ap->words.n || ap->word_keys)
                continue; /* lines shared with a based_on entry are done once */
            uint16_t *keys = imr_arena_alloc(kb->arena, ap->words.n * sizeof *keys);
            memset(ap->word_gate, 0, sizeof ap->word_gate);
            ap->gated = 1;
            for (size_t k = 0; k < ap->words.n; k++) {
                const unsigned char *w = (const unsigned char *)ap->words.v[k];
                if (!w[0] || !w[1]) {
                    keys[k] = KB_NO_KEY;
                    ap->gated = 0;
                    continue;
                }
                keys[k] = (uint16_t)word_key(w[0], w[1]);
                ap->word_gate[keys[k] >> 6] |= (uint64_t)1 << (keys[k] & 63);
            }
            ap->word_keys = keys;
        }
    }
}

int kb_load_paths(const char *toc_dir, const char *const *rules_files, size_t n_files,
                  imr_kb **out, imr_error *err)
{
    *out = NULL;
    imr_kb *kb = calloc(1, sizeof *kb);
    if (!kb)
        abort();
    kb->arena = imr_arena_new();
    parser p = {.kb = kb, .err = err};
    char **tocs = NULL;
    size_t ntoc = 0;
    int rc = 0;
    size_t tl = strlen(toc_dir);
    if (tl > 4 && !strcmp(toc_dir + tl - 4, ".toc")) {
        /* one TOC file instead of a folder (tests of malformed tables of contents) */
        tocs = malloc(sizeof *tocs);
        if (!tocs || !(tocs[0] = strdup(toc_dir)))
            abort();
        ntoc = 1;
    } else
        rc = list_dir(toc_dir, ".toc", &tocs, &ntoc, err);
    if (!rc && !ntoc)
        rc = imr_error_set(err, IMR_EX_NOINPUT, toc_dir, 0, "no .toc files (tables of contents)");
    for (size_t i = 0; !rc && i < ntoc; i++) {
        rc = load_file(&p, tocs[i], 1);
        for (size_t j = 0; !rc && j < kb->n_guidelines; j++)
            if (kb->guidelines[j].file == p.file && check_guideline(&p, &kb->guidelines[j]))
                rc = IMR_EX_DATAERR;
    }
    free_list(tocs, ntoc);
    for (size_t i = 0; !rc && i < n_files; i++)
        rc = load_file(&p, rules_files[i], 0);
    if (!rc && !kb->n_entries)
        rc = imr_error_set(err, IMR_EX_DATAERR, n_files ? rules_files[0] : toc_dir, 0,
                           "the knowledge base holds no entries");
    if (rc) {
        imr_kb_free(kb);
        return rc;
    }
    index_entries(kb);
    *out = kb;
    return 0;
}

int imr_kb_load(const char *dir, imr_kb **out, imr_error *err)
{
    *out = NULL;
    if (!dir)
        dir = imr_rules_dir();
    char toc_dir[4096], rules_dir[4096];
    snprintf(toc_dir, sizeof toc_dir, "%s/toc", dir);
    snprintf(rules_dir, sizeof rules_dir, "%s/guidelines", dir);
    char **files;
    size_t n;
    int rc = list_dir(rules_dir, ".rules", &files, &n, err);
    if (rc)
        return rc;
    if (!n) {
        free_list(files, n);
        return imr_error_set(err, IMR_EX_NOINPUT, rules_dir, 0, "no .rules files");
    }
    rc = kb_load_paths(toc_dir, (const char *const *)files, n, out, err);
    if (!rc) {
        for (const char *const *k = REQUIRED_WORDING; *k; k++)
            if (!kb_wording(*out, *k)) {
                rc = imr_error_set(err, IMR_EX_DATAERR, rules_dir, 0,
                                   "the wording '%s' is not defined by any rules file", *k);
                imr_kb_free(*out);
                *out = NULL;
                break;
            }
    }
    free_list(files, n);
    return rc;
}

void imr_kb_free(imr_kb *kb)
{
    if (!kb)
        return;
    imr_arena_free(kb->arena);
    free(kb);
}

size_t imr_kb_entry_count(const imr_kb *kb)
{
    return kb ? kb->n_entries : 0;
}

/* ---------------------------------------------------------------- selection */

int kb_entry_in_force(const kb_entry *e, const char *iso)
{
    if (!iso)
        return 0;
    if (strcmp(iso, e->from) < 0)
        return 0;
    return !e->to[0] || strcmp(iso, e->to) <= 0;
}

static int value_matches(const char *pattern, const char *s)
{
    if (!s)
        return 0;
    size_t n = strlen(pattern);
    if (n && pattern[n - 1] == '*')
        return !strncasecmp(pattern, s, n - 1);
    return !strcasecmp(pattern, s);
}

static int any_value(const kb_values *vs, const char *s)
{
    if (!s)
        return 0;
    unsigned c0 = (unsigned char)s[0] | 0x20; /* letters in lower case; others stay apart */
    if ((vs->initials >> 31) && c0 >= 'a' && c0 <= 'z' && !(vs->initials & ((1u << (c0 - 'a')) | (1u << 26))))
        return 0;
    for (size_t i = 0; i < vs->n; i++)
        if (value_matches(vs->v[i], s))
            return 1;
    return 0;
}

/* 0 when phrase i of an applies line cannot occur in the request (its key is missing). */
static int may_occur(const kb_applies *ap, size_t i, const lowered_text *lt)
{
    return !ap->word_keys || ap->word_keys[i] == KB_NO_KEY || has_key(lt->starts, ap->word_keys[i]);
}

/* The tests of applies_score that rule most lines out, without the call: 1 when the line
 * surely does not match (then applies_score would return -1). */
static inline int cannot_apply(const kb_applies *ap, const imr_treatment *t, const lowered_text *lt)
{
    if (ap->words.n && ap->gated &&
        !((ap->word_gate[0] & lt->starts[0]) | (ap->word_gate[1] & lt->starts[1]) |
          (ap->word_gate[2] & lt->starts[2]) | (ap->word_gate[3] & lt->starts[3])))
        return 1;
    if (ap->classes.n && (ap->classes.initials >> 31)) {
        if (!t->drug_class)
            return 1;
        unsigned c0 = (unsigned char)t->drug_class[0] | 0x20;
        if (c0 >= 'a' && c0 <= 'z' && !(ap->classes.initials & ((1u << (c0 - 'a')) | (1u << 26))))
            return 1;
    }
    return 0;
}

static int applies_score(const kb_applies *ap, const kb_request *rq, const lowered_text *ltext)
{
    const imr_treatment *t = rq->t;
    int score = 0;
    /* the cheap test first: a classified request of another kind never matches */
    if (ap->kind >= 0 && (int)t->kind != ap->kind && t->kind != IMR_TREATMENT_OTHER)
        return -1;
    if (ap->classes.n) {
        if (!any_value(&ap->classes, t->drug_class))
            return -1;
        score += ap->classes.n == 1 ? 9 : 8; /* one class is narrower than several */
    }
    if (ap->generics.n) {
        /* The main ingredient only (the lexicon lists the active opioid of a combination
         * first): Norco is hydrocodone, not acetaminophen. */
        if (!t->generics.n || !any_value(&ap->generics, t->generics.v[0]))
            return -1;
        score += ap->generics.n == 1 ? 17 : 16;
    }
    if (ap->dose_forms.n) {
        if (!any_value(&ap->dose_forms, t->dose_form))
            return -1;
        score += 4;
    }
    if (ap->procedures.n) {
        if (!any_value(&ap->procedures, t->procedure))
            return -1;
        score += 4;
    }
    if (ap->words.n) {
        if (ap->gated && !((ap->word_gate[0] & ltext->starts[0]) | (ap->word_gate[1] & ltext->starts[1]) |
                           (ap->word_gate[2] & ltext->starts[2]) | (ap->word_gate[3] & ltext->starts[3])))
            return -1; /* none of the phrases can occur */
        int best = 0;
        for (size_t i = 0; i < ap->words.n; i++)
            if (may_occur(ap, i, ltext) && has_word_lower(ltext, ap->words.v[i])) {
                int words = 1;
                for (const char *q = ap->words.v[i]; *q; q++)
                    words += *q == ' ';
                if (words > best)
                    best = words;
            }
        if (!best)
            return -1;
        score += 4 + best;
    }
    if (ap->bodies.n) {
        if (!any_value(&ap->bodies, rq->body_part))
            return -1;
        score += 2;
    }
    if (ap->kind >= 0) {
        /* A request the parser could not classify still matches on its words. */
        int other_matched = score > 0;
        if ((int)t->kind != ap->kind && !(t->kind == IMR_TREATMENT_OTHER && other_matched))
            return -1;
        score += 1;
    }
    return score;
}

/* The request text in lower case, in `buf` when it fits, else malloc'd (*heap set). */
static void lower_request(const kb_request *rq, lowered_text *lt, char *buf, size_t cap, char **heap)
{
    *heap = NULL;
    memset(lt, 0, sizeof *lt);
    if (!rq->text)
        return;
    size_t n = strlen(rq->text);
    char *l = buf;
    if (n >= cap) {
        l = *heap = malloc(n + 1);
        if (!l)
            abort();
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)tolower((unsigned char)rq->text[i]);
        l[i] = (char)c;
        lt->bytes[c >> 6] |= (uint64_t)1 << (c & 63);
    }
    l[n] = 0;
    /* a phrase starts where the byte before is not a letter or digit (has_word_lower) */
    for (size_t i = 0; i + 1 < n; i++)
        if (i == 0 || !isalnum((unsigned char)l[i - 1])) {
            unsigned k = word_key((unsigned char)l[i], (unsigned char)l[i + 1]);
            lt->starts[k >> 6] |= (uint64_t)1 << (k & 63);
        }
    lt->text = l;
}

static int entry_matches(const kb_entry *e, const kb_request *rq, const lowered_text *ltext)
{
    int best = -1;
    for (size_t i = 0; i < e->n_applies; i++) {
        int s = applies_score(&e->applies[i], rq, ltext);
        if (s > best)
            best = s;
    }
    if (best >= 0 && e->context)
        best += 3; /* an entry for a narrower situation goes first */
    return best;
}

int kb_entry_matches(const kb_entry *e, const kb_request *rq)
{
    char buf[512], *heap;
    lowered_text lt;
    lower_request(rq, &lt, buf, sizeof buf, &heap);
    int best = entry_matches(e, rq, &lt);
    free(heap);
    return best;
}

static int cmp_candidate(const void *a, const void *b)
{
    const kb_candidate *x = a, *y = b;
    if (x->in_force != y->in_force)
        return y->in_force - x->in_force;
    if (x->e->guideline->authority != y->e->guideline->authority)
        return (int)x->e->guideline->authority - (int)y->e->guideline->authority;
    if (x->score != y->score)
        return y->score - x->score;
    return strcmp(x->e->id, y->e->id);
}

size_t kb_candidates(const imr_kb *kb, const kb_request *rq, const char *date, kb_candidate **out)
{
    kb_candidate *r = malloc((kb->n_entries + 1) * sizeof *r);
    if (!r)
        abort();
    size_t n = 0;
    char buf[512], *heap;
    lowered_text lt;
    lower_request(rq, &lt, buf, sizeof buf, &heap);
    unsigned kind = (unsigned)rq->t->kind;
    if (kind < IMR_TREATMENT_KIND_COUNT && kb->lines_for[kind]) {
        /* only the lines that can match this kind of request, entry by entry: the same
         * best score per entry as entry_matches */
        const struct kb_line_ref *ref = kb->lines_for[kind];
        size_t nref = kb->n_lines_for[kind];
        for (size_t i = 0; i < nref;) {
            const kb_entry *e = &kb->entries[ref[i].entry];
            int best = -1;
            for (; i < nref && &kb->entries[ref[i].entry] == e; i++) {
                const kb_applies *ap = &e->applies[ref[i].line];
                if (cannot_apply(ap, rq->t, &lt))
                    continue;
                int s = applies_score(ap, rq, &lt);
                if (s > best)
                    best = s;
            }
            if (best < 0)
                continue;
            r[n].e = e;
            r[n].score = e->context ? best + 3 : best;
            r[n].in_force = kb_entry_in_force(e, date);
            n++;
        }
    } else {
        for (size_t i = 0; i < kb->n_entries; i++) {
            const kb_entry *e = &kb->entries[i];
            int s = entry_matches(e, rq, &lt);
            if (s < 0)
                continue;
            r[n].e = e;
            r[n].score = s;
            r[n].in_force = kb_entry_in_force(e, date);
            n++;
        }
    }
    free(heap);
    if (n)
        qsort(r, n, sizeof *r, cmp_candidate);
    *out = r;
    return n;
}

size_t kb_select(const imr_kb *kb, const kb_request *rq, const char *date, const kb_entry **out,
                 size_t max, size_t *n_matching)
{
    kb_candidate *r;
    size_t n = kb_candidates(kb, rq, date, &r), w = 0;
    for (size_t i = 0; i < n && w < max; i++)
        if (r[i].in_force)
            out[w++] = r[i].e;
    free(r);
    if (n_matching)
        *n_matching = n;
    return w;
}
