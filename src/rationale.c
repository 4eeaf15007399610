/*
 * rationale.c - the engine's wording: renders the templates of the knowledge base
 * ({slot} placeholders filled from the case, the request and the evaluated criteria;
 * [optional segments] dropped when a slot inside is empty) into the rationale, the
 * reviewer's guideline line and, for cases given only as records, a drafted clinical case
 * summary. Every sentence comes from rules/; this file only assembles them.
 */
#include "review.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIST 5 /* facts named in one list */

/* ---------------------------------------------------------------- small helpers */

const char *rv_date_long(imr_arena *a, const char *iso)
{
    if (!iso || !imr_date_valid_iso(iso))
        return iso;
    char out[32];
    imr_date_long(iso, out);
    return imr_arena_strdup(a, out);
}

static const char *num_text(imr_arena *a, double v)
{
    if (isnan(v))
        return NULL;
    if (fabs(v - round(v)) < 1e-9)
        return imr_arena_printf(a, "%.0f", v);
    return imr_arena_printf(a, "%.1f", v);
}

/* A pain rating as the records write it: a range ("7-8") when the fact's evidence holds
 * one whose middle is `v` (extraction keeps a range as its middle, 7.5), so the letter
 * quotes the records instead of an average; else the number. */
static const char *score_text(imr_arena *a, const imr_fact *f, double v)
{
    if (isnan(v) || fabs(v - round(v)) < 1e-9 || !f->evidence.text)
        return num_text(a, v);
    const char *s = f->evidence.text;
    for (const char *e = strstr(s, "/10"); e; e = strstr(e + 3, "/10")) {
        const char *b = e;
        while (b > s && (isdigit((unsigned char)b[-1]) || b[-1] == '-'))
            b--;
        char *dash = NULL;
        long lo = strtol(b, &dash, 10);
        if (dash == b || *dash != '-' || !isdigit((unsigned char)dash[1]))
            continue;
        char *end = NULL;
        long hi = strtol(dash + 1, &end, 10);
        if (end == e && fabs((double)(lo + hi) / 2 - v) < 1e-9)
            return imr_arena_strndup(a, b, (size_t)(e - b));
    }
    return num_text(a, v);
}

static const char *int_text(imr_arena *a, int v)
{
    return v >= 0 ? imr_arena_printf(a, "%d", v) : NULL;
}

/* "a", "a and b", "a, b and c" */
static const char *join_list(imr_arena *a, const char **v, size_t n)
{
    if (!n)
        return NULL;
    imr_buf b = IMR_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (i)
            imr_buf_puts(&b, i + 1 == n ? " and " : ", ");
        imr_buf_puts(&b, v[i]);
    }
    const char *s = imr_arena_strdup(a, b.data);
    imr_buf_free(&b);
    return s;
}

/* Underscores read as spaces ("with_medication" -> "with medication"). */
static const char *spaced(imr_arena *a, const char *s)
{
    if (!s || !strchr(s, '_'))
        return s;
    char *c = imr_arena_strdup(a, s);
    for (char *q = c; *q; q++)
        if (*q == '_')
            *q = ' ';
    return c;
}

/* "tramadol/ethyl alcohol" -> "tramadol and ethyl alcohol" */
static const char *names_list(imr_arena *a, const char *s)
{
    if (!s || !strchr(s, '/'))
        return spaced(a, s);
    const char *parts[16];
    size_t n = 0;
    const char *q = s;
    while (*q && n < 16) {
        const char *slash = strchr(q, '/');
        size_t len = slash ? (size_t)(slash - q) : strlen(q);
        parts[n++] = spaced(a, imr_arena_strndup(a, q, len));
        if (!slash)
            break;
        q = slash + 1;
    }
    return join_list(a, parts, n);
}

/* Append unless already listed (case-insensitive). */
static void add_unique(const char **v, size_t *n, size_t max, const char *s)
{
    if (!s || !*s || *n >= max)
        return;
    for (size_t i = 0; i < *n; i++)
        if (!strcasecmp(v[i], s))
            return;
    v[(*n)++] = s;
}

static int fact_affirmed(const imr_fact *f)
{
    return f->assertion == IMR_ASSERT_AFFIRMED;
}

/* ---------------------------------------------------------------- facts as phrases */

static const char *fact_phrase(const rv_item *it, const imr_fact *f, const char *date)
{
    imr_arena *a = it->rc->a;
    const char *tpl = kb_phrase(it->rc->kb, f->type);
    if (!tpl)
        return f->evidence.text ? imr_arena_strdup(a, f->evidence.text) : f->value;
    imr_buf b = IMR_BUF_INIT;
    rv_render(&b, tpl, it, NULL, f, date);
    const char *s = b.data ? imr_arena_strdup(a, b.data) : NULL;
    imr_buf_free(&b);
    return s;
}

static const char *prior_treatment_text(const rv_case *rc, const char *name, int narrower)
{
    for (size_t i = 0; i < rc->facts.n; i++) {
        const imr_fact *f = &rc->facts.v[i];
        if (strcmp(f->type, "prior_treatment") || !f->name)
            continue;
        if (f->assertion == IMR_ASSERT_NEGATED || f->assertion == IMR_ASSERT_OTHER_PERSON ||
            f->assertion == IMR_ASSERT_HYPOTHETICAL)
            continue;
        int hit = narrower ? strcasecmp(f->name, name) && (strstr(f->name, "injection") || strstr(f->name, "block"))
                           : !strcasecmp(f->name, name);
        if (hit && f->evidence.text && *f->evidence.text)
            return f->evidence.text;
    }
    return NULL;
}

/* A treatment named by `name` as the records wrote it ("two lumbar sympathetic blocks"
 * for "sympathetic block"), else the name itself. The generic "injection" is read as the
 * particular injection or block the records name, when they name one. */
static const char *treatment_as_written(const rv_item *it, const char *name)
{
    if (!name)
        return NULL;
    const rv_case *rc = it->rc;
    const char *s = NULL;
    if (!strcasecmp(name, "injection"))
        s = prior_treatment_text(rc, name, 1);
    if (!s)
        s = prior_treatment_text(rc, name, 0);
    return s ? s : spaced(rc->a, name);
}

/* ---------------------------------------------------------------- list slots */

static const char *list_of_type(const rv_item *it, const char *type, int use_phrase)
{
    const rv_case *rc = it->rc;
    const char *v[MAX_LIST];
    size_t n = 0;
    for (size_t i = 0; i < rc->facts.n && n < MAX_LIST; i++) {
        const imr_fact *f = &rc->facts.v[i];
        if (strcmp(f->type, type) || !fact_affirmed(f))
            continue;
        const char *s = use_phrase ? fact_phrase(it, f, rc->dates[i])
                                   : (f->evidence.text && *f->evidence.text ? f->evidence.text : f->value);
        add_unique(v, &n, MAX_LIST, s);
    }
    return join_list(rc->a, v, n);
}

/* The requested drug's stated duration of use. */
static const char *drug_duration(const rv_item *it)
{
    const rv_case *rc = it->rc;
    const imr_treatment *t = it->t;
    for (size_t i = 0; i < rc->facts.n; i++) {
        const imr_fact *f = &rc->facts.v[i];
        if (strcmp(f->type, "medication") || !f->duration || !f->name)
            continue;
        if (f->assertion == IMR_ASSERT_NEGATED || f->assertion == IMR_ASSERT_OTHER_PERSON)
            continue;
        for (size_t g = 0; g < t->generics.n; g++)
            if (strstr(f->name, t->generics.v[g]) &&
                (t->generics.n == 1 || strchr(f->name, '/'))) /* the combination, not a part */
                return f->duration;
    }
    return NULL;
}

/* Two mentions of one medication are one fact to name: keep the mention that says most
 * (a duration), so that "Norco" and "Norco since 2013" read once. */
static int shadowed(const rv_item *it, const rv_crit *cr, size_t k, int same_too)
{
    const imr_fact *f = rv_fact(it, cr->ev[k], NULL);
    if (strcmp(f->type, "medication") || !f->name)
        return 0;
    for (size_t j = 0; j < cr->n_ev; j++) {
        if (j == k)
            continue;
        const imr_fact *g = rv_fact(it, cr->ev[j], NULL);
        if (strcmp(g->type, "medication") || !g->name || strcasecmp(g->name, f->name))
            continue;
        int g_more = g->duration && !f->duration;
        int same = !!g->duration == !!f->duration;
        if (g_more || (same_too && same && j < k))
            return 1;
    }
    return 0;
}

static const char *crit_facts(const rv_item *it, const rv_crit *cr)
{
    if (!cr)
        return NULL;
    const char *v[MAX_LIST];
    size_t n = 0;
    for (size_t i = 0; i < cr->n_ev && n < MAX_LIST; i++) {
        if (shadowed(it, cr, i, 1))
            continue;
        const char *date;
        const imr_fact *f = rv_fact(it, cr->ev[i], &date);
        add_unique(v, &n, MAX_LIST, fact_phrase(it, f, date));
    }
    return join_list(it->rc->a, v, n);
}

/* The text a fact's evidence points into. */
static const char *source_text(const rv_case *rc, const char *source)
{
    if (!source)
        return NULL;
    if (!strcmp(source, "clinical_summary"))
        return rc->c->clinical_summary;
    size_t i;
    if (sscanf(source, "records[%zu]", &i) == 1 && i < rc->c->n_records)
        return rc->c->records[i].text;
    return NULL;
}

static int clause_end(const char *t, size_t i)
{
    char c = t[i];
    if (c == ';' || c == '\n' || c == '!' || c == '?')
        return 1;
    /* a full stop ends a sentence, a decimal point or an abbreviation does not */
    return c == '.' && (t[i + 1] == 0 || t[i + 1] == ' ' || t[i + 1] == '\n') && i > 0 &&
           !(i >= 2 && t[i - 2] == ' ' && isupper((unsigned char)t[i - 1]));
}

/* The clause of text `t` around the span [start, end), as written and in quotes; a long
 * sentence is cut to the comma-delimited part that holds the span. */
static const char *clause_around(imr_arena *ar, const char *t, size_t start, size_t end)
{
    size_t len = strlen(t);
    if (end > len || start >= end)
        return NULL;
    size_t a = start, b = end;
    while (a > 0 && !clause_end(t, a - 1) && start - a < 200)
        a--;
    while (b < len && !clause_end(t, b) && b - end < 200)
        b++;
    while (a < b && (t[a] == ' ' || t[a] == ','))
        a++;
    while (b > a && (t[b - 1] == ' ' || t[b - 1] == ','))
        b--;
    if (b - a > 220) {
        /* too long: keep the comma-delimited part around the span */
        size_t ca = start, cb = end;
        while (ca > a && t[ca - 1] != ',')
            ca--;
        while (cb < b && t[cb] != ',')
            cb++;
        a = ca;
        b = cb;
        while (a < b && t[a] == ' ')
            a++;
    }
    size_t n = strnlen(t + a, b - a);
    char *q = imr_arena_alloc(ar, n + 3);
    q[0] = '"';
    memcpy(q + 1, t + a, n);
    q[n + 1] = '"';
    return q;
}

static const char *evidence_clause(const rv_case *rc, const imr_fact *f)
{
    const char *t = source_text(rc, f->evidence.source);
    return t ? clause_around(rc->a, t, f->evidence.start, f->evidence.end) : NULL;
}

/* 1 when the rationale already quotes this clause, or a clause holding it or held by it. */
static int already_quoted(const rv_item *it, const char *clause)
{
    if (!it->quotes)
        return 0;
    size_t n = strlen(clause);
    for (size_t i = 0; i < it->quotes->n; i++) {
        const char *q = it->quotes->v[i];
        size_t m = strlen(q);
        /* compare without the quotation marks */
        char inner[512];
        snprintf(inner, sizeof inner, "%.*s", n > 2 ? (int)(n - 2) : 0, clause + 1);
        char qin[512];
        snprintf(qin, sizeof qin, "%.*s", m > 2 ? (int)(m - 2) : 0, q + 1);
        if (strstr(qin, inner) || strstr(inner, qin))
            return 1;
    }
    return 0;
}

static void remember_quote(const rv_item *it, const char *clause)
{
    if (it->quotes && clause && it->quotes->n < sizeof it->quotes->v / sizeof *it->quotes->v)
        it->quotes->v[it->quotes->n++] = clause;
}

/* Where `word` (lower case; a final '*' matches any ending) occurs in `t` on word
 * boundaries, ignoring case; -1 when it does not. */
/* Case text `s` (0 the clinical summary, then the records) in lower case, made once per
 * review: the look_for words are searched for in it with strstr. */
static const char *rv_lowered(rv_case *rc, size_t s, const char *t)
{
    if (!rc->lowered)
        rc->lowered = imr_arena_alloc(rc->a, (rc->c->n_records + 1) * sizeof *rc->lowered);
    if (!rc->lowered[s]) {
        size_t n = strlen(t);
        char *l = imr_arena_alloc(rc->a, n + 1);
        for (size_t i = 0; i < n; i++)
            l[i] = (char)tolower((unsigned char)t[i]);
        l[n] = 0;
        rc->lowered[s] = l;
    }
    return rc->lowered[s];
}

/* Where `word` (a trailing '*' makes it a prefix) first occurs in a case text on word
 * boundaries, ignoring ASCII case; `lt` is the text already in lower case (rv_lowered). */
static long find_word(const char *lt, const char *word)
{
    size_t wn = strlen(word);
    int prefix = wn && word[wn - 1] == '*';
    if (prefix)
        wn--;
    if (!wn)
        return -1;
    char lw[128];
    if (wn >= sizeof lw)
        return -1; /* no look_for word is near this long */
    for (size_t i = 0; i < wn; i++)
        lw[i] = (char)tolower((unsigned char)word[i]);
    lw[wn] = 0;
    for (const char *p = strstr(lt, lw); p; p = strstr(p + 1, lw)) {
        int left = p == lt || !isalnum((unsigned char)p[-1]);
        int right = prefix || !isalnum((unsigned char)p[wn]);
        if (left && right)
            return (long)(p - lt);
    }
    return -1;
}

/* {findings}: the clauses of the case texts that name what a criterion looks for (its
 * `look_for` words): the measures, monitoring, test results and specialists that bear on
 * it, quoted as written and never twice in one rationale. */
static const char *crit_findings(const rv_item *it, const rv_crit *cr)
{
    if (!cr || !cr->k->look_for.n)
        return NULL;
    rv_case *rc = it->rc;
    const char *v[2];
    size_t n = 0;
    for (size_t s = 0; s <= rc->c->n_records && n < 2; s++) {
        const char *t = s == 0 ? rc->c->clinical_summary : rc->c->records[s - 1].text;
        if (!t)
            continue;
        const char *lt = rv_lowered(rc, s, t);
        for (size_t w = 0; w < cr->k->look_for.n && n < 2; w++) {
            const char *word = cr->k->look_for.v[w];
            long at = find_word(lt, word);
            if (at < 0)
                continue;
            size_t wn = strlen(word) - (word[strlen(word) - 1] == '*');
            const char *cl = clause_around(rc->a, t, (size_t)at, (size_t)at + wn);
            if (!cl || already_quoted(it, cl))
                continue;
            v[n++] = cl;
            remember_quote(it, cl);
        }
    }
    if (!n)
        return NULL;
    return n == 1 ? v[0] : imr_arena_printf(rc->a, "%s; %s", v[0], v[1]);
}

static const char *crit_clauses(const rv_item *it, const rv_crit *cr)
{
    if (!cr)
        return NULL;
    const char *v[3];
    size_t n = 0;
    for (size_t i = 0; i < cr->n_ev && n < 3; i++) {
        if (shadowed(it, cr, i, 0))
            continue;
        const imr_fact *f = rv_fact(it, cr->ev[i], NULL);
        add_unique(v, &n, 3, evidence_clause(it->rc, f));
    }
    for (size_t i = 0; i < n; i++)
        remember_quote(it, v[i]);
    if (!n)
        return NULL;
    imr_buf b = IMR_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (i)
            imr_buf_puts(&b, "; ");
        imr_buf_puts(&b, v[i]);
    }
    const char *s = imr_arena_strdup(it->rc->a, b.data);
    imr_buf_free(&b);
    return s;
}

static const char *needs_list(const rv_item *it)
{
    const char *v[16];
    size_t n = 0;
    for (size_t i = 0; i < it->n_crit; i++) {
        const rv_crit *c = &it->crit[i];
        if (c->applicable && c->k->role == KB_ROLE_REQUIRED && c->status == IMR_CRITERION_UNKNOWN &&
            !c->conflict && c->k->needs)
            add_unique(v, &n, 16, c->k->needs);
    }
    return join_list(it->rc->a, v, n);
}

static const char *lower_first(imr_arena *a, const char *s)
{
    if (!s || !*s || !isupper((unsigned char)s[0]) || (s[1] && isupper((unsigned char)s[1])))
        return s;
    char *c = imr_arena_strdup(a, s);
    c[0] = (char)tolower((unsigned char)c[0]);
    return c;
}

static const char *texts_with(const rv_item *it, int want_conflict)
{
    const char *v[16];
    size_t n = 0;
    for (size_t i = 0; i < it->n_crit; i++) {
        const rv_crit *c = &it->crit[i];
        if (!c->applicable || c->k->role == KB_ROLE_INFO)
            continue;
        if (want_conflict ? c->conflict : c->status == IMR_CRITERION_NOT_MET)
            add_unique(v, &n, 16, lower_first(it->rc->a, c->k->text));
    }
    return join_list(it->rc->a, v, n);
}

static const char *cite_list(const rv_item *it, int pages)
{
    if (!it->e)
        return NULL;
    const char *v[16];
    size_t n = 0;
    for (size_t i = 0; i < it->e->n_cites && n < 16; i++) {
        const char *s = pages ? it->e->cites[i].pages : it->e->cites[i].section;
        if (s)
            v[n++] = s;
    }
    if (!n)
        return NULL;
    imr_buf b = IMR_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (i)
            imr_buf_puts(&b, ", ");
        imr_buf_puts(&b, v[i]);
    }
    const char *s = imr_arena_strdup(it->rc->a, b.data);
    imr_buf_free(&b);
    return s;
}

static const char *claimant_phrase(const rv_item *it)
{
    const imr_claimant *cl = &it->rc->c->claimant;
    imr_arena *a = it->rc->a;
    if (cl->age < 0 && !cl->sex)
        return NULL;
    if (cl->age < 0)
        return imr_arena_printf(a, "a %s", cl->sex);
    /* "an" before a number read with a vowel: 8, 11, 18, 80-89 */
    int an = cl->age == 8 || cl->age == 11 || cl->age == 18 || (cl->age >= 80 && cl->age <= 89);
    return imr_arena_printf(a, "%s %d year old%s%s", an ? "an" : "a", cl->age, cl->sex ? " " : "",
                            cl->sex ? cl->sex : "");
}

static const char *requests_list(const rv_item *it)
{
    const imr_case *c = it->rc->c;
    const char *v[16];
    size_t n = 0;
    for (size_t i = 0; i < c->n_items && n < 16; i++)
        v[n++] = c->items[i].request;
    return join_list(it->rc->a, v, n);
}

/* ---------------------------------------------------------------- slots */

/* A fact's evidence as it reads mid-sentence: a capital that only opened the source's
 * sentence is lowered ("Off work" -> "off work"), and a drug the request names is spelled
 * as the request spells it. */
static const char *fact_text(const rv_item *it, const imr_fact *f)
{
    const char *s = f->evidence.text;
    if (!s || !*s)
        return s;
    const imr_treatment *t = it->t;
    if (!strcmp(f->type, "medication") && t && t->name && !strcasecmp(s, t->name))
        return t->name;
    if (!strcmp(f->type, "medication") && (!f->name || strcasecmp(s, f->name)))
        return s; /* a brand name keeps its capital */
    const char *src = source_text(it->rc, f->evidence.source);
    if (!src || f->evidence.start > strlen(src))
        return s;
    size_t i = f->evidence.start;
    while (i > 0 && src[i - 1] == ' ')
        i--;
    int opens = i == 0 || strchr(".:;\n!?", src[i - 1]) != NULL;
    return opens ? lower_first(it->rc->a, s) : s;
}

static const char *slot(const char *name, const rv_item *it, const rv_crit *cr, const imr_fact *f,
                        const char *fact_date)
{
    imr_arena *a = it->rc->a;
    const imr_case *c = it->rc->c;
    const imr_treatment *t = it->t;
    if (f) {
        if (STREQ(name, "name"))
            return spaced(a, f->name);
        if (STREQ(name, "names"))
            return names_list(a, f->name);
        if (STREQ(name, "value"))
            return f->value;
        if (STREQ(name, "qualifier"))
            return spaced(a, f->qualifier);
        if (STREQ(name, "date"))
            return rv_date_long(a, f->date ? f->date : fact_date);
        if (STREQ(name, "duration"))
            return f->duration;
        if (STREQ(name, "attributed_to"))
            return treatment_as_written(it, f->attributed_to);
        if (STREQ(name, "score"))
            return score_text(a, f, f->score);
        if (STREQ(name, "score2"))
            return score_text(a, f, f->score2);
        if (STREQ(name, "text"))
            return fact_text(it, f);
    }
    if (STREQ(name, "text"))
        return cr ? cr->k->text : NULL;
    if (STREQ(name, "facts"))
        return crit_facts(it, cr);
    if (STREQ(name, "clauses"))
        return crit_clauses(it, cr);
    if (STREQ(name, "findings"))
        return crit_findings(it, cr);
    if (STREQ(name, "request"))
        return it->request;
    if (STREQ(name, "drug"))
        return t && t->name ? t->name : it->request;
    if (STREQ(name, "generic")) {
        if (!t || !t->generics.n)
            return NULL;
        return join_list(a, t->generics.v, t->generics.n);
    }
    if (STREQ(name, "class"))
        return t ? spaced(a, t->drug_class) : NULL;
    if (STREQ(name, "quantity"))
        return t ? int_text(a, t->quantity) : NULL;
    if (STREQ(name, "refills"))
        return t && t->refills > 0 ? int_text(a, t->refills) : NULL;
    if (STREQ(name, "visits"))
        return t ? int_text(a, t->visits) : NULL;
    if (STREQ(name, "supply"))
        return t && t->quantity >= 0 ? int_text(a, t->quantity * (1 + (t->refills > 0 ? t->refills : 0))) : NULL;
    if (STREQ(name, "frequency"))
        return t ? t->frequency : NULL;
    if (STREQ(name, "strength"))
        return t ? t->strength : NULL;
    if (STREQ(name, "mme"))
        return it->mme_known ? num_text(a, it->mme) : NULL;
    if (STREQ(name, "body"))
        return it->body;
    if (STREQ(name, "age"))
        return c->claimant.age >= 0 ? int_text(a, c->claimant.age) : NULL;
    if (STREQ(name, "sex"))
        return c->claimant.sex;
    if (STREQ(name, "claimant"))
        return claimant_phrase(it);
    if (STREQ(name, "prior_sessions"))
        return it->prior_known ? num_text(a, it->prior_sessions) : NULL;
    if (STREQ(name, "total_sessions"))
        return it->prior_known && t && t->visits >= 0 ? num_text(a, it->prior_sessions + t->visits) : NULL;
    if (STREQ(name, "latest_note"))
        return rv_date_long(a, it->rc->latest_note);
    if (STREQ(name, "diagnoses"))
        return list_of_type(it, "diagnosis", 0);
    if (STREQ(name, "medications"))
        return list_of_type(it, "medication", 0);
    if (STREQ(name, "treatments"))
        return list_of_type(it, "prior_treatment", 0);
    if (STREQ(name, "pain"))
        return list_of_type(it, "pain_score", 1);
    if (STREQ(name, "duration"))
        return drug_duration(it);
    if (STREQ(name, "guideline"))
        return it->e ? it->e->guideline->name : NULL;
    if (STREQ(name, "edition"))
        return it->e ? it->e->guideline->edition : NULL;
    if (STREQ(name, "sections"))
        return cite_list(it, 0);
    if (STREQ(name, "pages"))
        return cite_list(it, 1);
    if (STREQ(name, "missing"))
        return needs_list(it);
    if (STREQ(name, "unmet"))
        return texts_with(it, 0);
    if (STREQ(name, "conflicts"))
        return texts_with(it, 1);
    if (STREQ(name, "months_since_injury")) {
        if (!c->date_of_injury || !it->rc->ref_date)
            return NULL;
        long d = imr_date_days(it->rc->ref_date) - imr_date_days(c->date_of_injury);
        return d >= 0 ? imr_arena_printf(a, "%ld", d / 30) : NULL;
    }
    if (STREQ(name, "doi"))
        return rv_date_long(a, c->date_of_injury);
    if (STREQ(name, "reference_date"))
        return rv_date_long(a, it->rc->ref_date);
    if (STREQ(name, "ur_date"))
        return rv_date_long(a, c->ur_decision_date);
    if (STREQ(name, "modality"))
        return it->e ? it->e->modality : NULL;
    if (STREQ(name, "level_count")) {
        if (!t || !t->levels)
            return NULL;
        static const char *const WORDS[] = {"one", "two", "three", "four", "five", "six"};
        int n = 1;
        for (const char *q = t->levels; *q; q++)
            n += *q == ',' || *q == ';' || *q == '&' || !strncasecmp(q, " and ", 5);
        return n <= 6 ? WORDS[n - 1] : imr_arena_printf(a, "%d", n);
    }
    if (STREQ(name, "requests"))
        return requests_list(it);
    if (STREQ(name, "ur_decision"))
        return NULL;
    return NULL;
}

/* ---------------------------------------------------------------- the renderer */

void rv_render(imr_buf *out, const char *tpl, const rv_item *it, const rv_crit *cr,
               const imr_fact *fact, const char *fact_date)
{
    imr_buf seg = IMR_BUF_INIT;
    int in_seg = 0, seg_ok = 1;
    for (const char *q = tpl; *q; q++) {
        imr_buf *dst = in_seg ? &seg : out;
        if (*q == '[') {
            in_seg = 1;
            seg_ok = 1;
            imr_buf_reset(&seg);
        } else if (*q == ']') {
            if (seg_ok && seg.len)
                imr_buf_append(out, seg.data, seg.len);
            in_seg = 0;
        } else if (*q == '{') {
            const char *close = strchr(q, '}');
            if (!close)
                break; /* templates are checked at load */
            char name[64];
            size_t nn = (size_t)(close - q - 1);
            if (nn >= sizeof name)
                nn = sizeof name - 1;
            memcpy(name, q + 1, nn);
            name[nn] = 0;
            const char *v = slot(name, it, cr, fact, fact_date);
            if (v && *v)
                imr_buf_puts(dst, v);
            else if (in_seg)
                seg_ok = 0;
            q = close;
        } else {
            /* a run of plain text up to the next bracket or slot, at once */
            size_t run = strcspn(q, "[]{");
            imr_buf_append(dst, q, run);
            q += run - 1;
        }
    }
    imr_buf_free(&seg);
}

void rv_render_key(imr_buf *out, const char *key, const rv_item *it)
{
    const char *tpl = kb_wording(it->rc->kb, key);
    if (tpl)
        rv_render(out, tpl, it, NULL, NULL, NULL);
}

/* ---------------------------------------------------------------- sentences */

/* "Tizanidine (tizanidine)" -> "Tizanidine": a parenthesis that only repeats the words
 * before it says nothing. Works in place. */
static void drop_echoes(imr_buf *s)
{
    for (size_t i = 1; i + 1 < s->len; i++) {
        /* jump to the next " (" */
        const char *open = memchr(s->data + i, '(', s->len - 1 - i);
        if (!open)
            break;
        i = (size_t)(open - s->data);
        if (s->data[i - 1] != ' ')
            continue;
        char *close = memchr(s->data + i, ')', s->len - i);
        if (!close)
            break;
        size_t in = (size_t)(close - (s->data + i + 1));
        if (!in || in > i - 1)
            continue;
        size_t before = i - 1 - in; /* where the repeated words would start */
        if (strncasecmp(s->data + before, s->data + i + 1, in) ||
            (before > 0 && isalnum((unsigned char)s->data[before - 1])))
            continue;
        size_t cut = in + 3; /* " (" + inner + ")" */
        memmove(s->data + i - 1, s->data + i - 1 + cut, s->len - (i - 1 + cut) + 1);
        s->len -= cut;
    }
}

/* Append a rendered sentence: capitalised, ending in a full stop, one space between. */
static void add_sentence(imr_buf *out, const char *tpl, const rv_item *it, const rv_crit *cr)
{
    imr_buf s = IMR_BUF_INIT;
    rv_render(&s, tpl, it, cr, NULL, NULL);
    drop_echoes(&s);
    if (s.len) {
        if (out->len)
            imr_buf_putc(out, ' ');
        size_t start = out->len;
        imr_buf_append(out, s.data, s.len);
        out->data[start] = (char)toupper((unsigned char)out->data[start]);
        char last = out->data[out->len - 1];
        if (last != '.' && last != '?' && last != '!')
            imr_buf_putc(out, '.');
    }
    imr_buf_free(&s);
}

static const char *criterion_template(const rv_item *it, const rv_crit *c)
{
    const kb_criterion *k = c->k;
    const imr_kb *kb = it->rc->kb;
    switch (c->status) {
    case IMR_CRITERION_MET:
        if (k->say_met)
            return k->say_met;
        return k->role == KB_ROLE_REQUIRED ? kb_wording(kb, "criterion.met") : NULL;
    case IMR_CRITERION_NOT_MET:
        /* the records state it is absent: say so, quoting them, rather than a concern */
        if (c->absent && k->say_absent)
            return k->say_absent;
        if (c->absent && kb_wording(kb, "criterion.absent"))
            return k->role == KB_ROLE_INFO ? NULL : kb_wording(kb, "criterion.absent");
        if (k->say_not_met)
            return k->say_not_met;
        return k->role == KB_ROLE_INFO ? NULL : kb_wording(kb, "criterion.not_met");
    default:
        if (c->conflict)
            return kb_wording(kb, "criterion.conflict");
        if (k->say_unknown)
            return k->say_unknown;
        return k->role == KB_ROLE_REQUIRED ? kb_wording(kb, "criterion.unknown") : NULL;
    }
}

const char *rv_rationale(const rv_item *item, imr_decision d, int for_documentation)
{
    /* a working copy that remembers the clauses quoted so far */
    rv_quotes quotes = {.n = 0};
    rv_item w = *item;
    w.quotes = &quotes;
    const rv_item *it = &w;
    imr_buf b = IMR_BUF_INIT;
    const imr_kb *kb = it->rc->kb;
    if (it->e)
        add_sentence(&b, it->e->summary, it, NULL);
    const char *findings = kb_wording(kb, "criterion.findings");
    /* after the first findings sentence, the others say so ("further") when worded */
    const char *findings_more = kb_wording(kb, "criterion.findings_more");
    for (size_t i = 0; i < it->n_crit; i++) {
        const rv_crit *c = &it->crit[i];
        if (!c->applicable)
            continue;
        const char *tpl = criterion_template(it, c);
        if (tpl)
            add_sentence(&b, tpl, it, c);
        /* the findings the criterion looks for, unless its sentence named them already;
         * also for a criterion that has nothing else to say (a limit kept) */
        if (findings && c->k->look_for.n && (!tpl || !strstr(tpl, "{findings}"))) {
            size_t before = b.len;
            add_sentence(&b, findings, it, c);
            if (b.len > before && findings_more)
                findings = findings_more;
        }
    }
    const char *key;
    if (d == IMR_DECISION_OVERTURNED)
        key = "conclusion.overturned";
    else if (d == IMR_DECISION_UNDETERMINED)
        key = "conclusion.undetermined";
    else if (it->e && it->e->recommended == KB_REC_NO)
        key = "conclusion.not_recommended";
    else if (for_documentation)
        key = "conclusion.upheld_documentation";
    else
        key = "conclusion.upheld";
    const char *tpl = kb_wording(kb, key);
    if (tpl)
        add_sentence(&b, tpl, it, NULL);
    if (d == IMR_DECISION_UPHELD && it->e && it->e->note)
        add_sentence(&b, it->e->note, it, NULL);
    const char *s = imr_arena_strdup(it->rc->a, b.data ? b.data : "");
    imr_buf_free(&b);
    return s;
}

const char *rv_guideline_line(const rv_item *it)
{
    if (!it->e)
        return NULL;
    const char *key = it->e->guideline->authority == KB_MTUS ? "guideline_line.mtus"
                                                              : "guideline_line.non_mtus";
    imr_buf b = IMR_BUF_INIT;
    rv_render_key(&b, key, it);
    const char *s = imr_arena_strdup(it->rc->a, b.data ? b.data : "");
    imr_buf_free(&b);
    return s;
}

/* ---------------------------------------------------------------- drafted summary */

const char *rv_draft_summary(const rv_case *rc)
{
    /* The summary is about the case, not an item: render with an empty item. */
    imr_treatment none;
    imr_treatment_init(&none);
    rv_item it = {.rc = (rv_case *)rc, .t = &none, .request = NULL};
    static const char *const KEYS[] = {"summary.claimant", "summary.diagnoses", "summary.pain",
                                       "summary.medications", "summary.treatments",
                                       "summary.requests", NULL};
    imr_buf b = IMR_BUF_INIT;
    for (const char *const *k = KEYS; *k; k++) {
        const char *tpl = kb_wording(rc->kb, *k);
        if (!tpl)
            continue;
        /* A sentence whose every slot is empty says nothing: render only when the
         * rendered text differs from the template with its slots emptied. */
        imr_buf s = IMR_BUF_INIT;
        rv_render(&s, tpl, &it, NULL, NULL, NULL);
        int has_fact = 0;
        for (const char *q = tpl; *q && !has_fact; q++)
            if (*q == '{') {
                const char *close = strchr(q, '}');
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)(close - q - 1), q + 1);
                const char *v = slot(name, &it, NULL, NULL, NULL);
                has_fact = v && *v;
                q = close;
            }
        if (has_fact)
            add_sentence(&b, tpl, &it, NULL);
        imr_buf_free(&s);
    }
    const char *out = b.data ? imr_arena_strdup(rc->a, b.data) : NULL;
    imr_buf_free(&b);
    return out;
}
