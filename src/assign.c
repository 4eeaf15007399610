/*
 * assign.c - choosing the expert reviewer of a case (LC 139.5): licensed in California, more
 * than five years in active practice and at least 24 hours a week of it now, a specialty the
 * same as or similar to those that evaluate or treat each disputed item (rules/
 * specialties.tsv), and no affiliation with any party of the case. Among the qualified, the
 * least loaded (open cases relative to capacity) is chosen, ties broken by fewer open cases
 * and then by id, so the choice is deterministic. This file decides; service_panel.c reads
 * the panel and records the assignment.
 */
#include "service_internal.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- names for conflicts */

typedef struct words {
    const char **v;
    size_t n;
} words;

/* Lower case, every character that is not a letter or a digit taken as a space (bytes of
 * UTF-8 sequences are kept as letters), split into words. */
static words split_words(const char *s, imr_arena *a)
{
    words w = {0};
    size_t len = strlen(s);
    w.v = imr_arena_alloc(a, (len / 2 + 2) * sizeof *w.v);
    char *copy = imr_arena_strdup(a, s);
    char *p = copy;
    while (*p) {
        while (*p && !isalnum((unsigned char)*p) && (unsigned char)*p < 0x80)
            p++;
        if (!*p)
            break;
        char *start = p;
        while (*p && (isalnum((unsigned char)*p) || (unsigned char)*p >= 0x80)) {
            *p = (char)tolower((unsigned char)*p);
            p++;
        }
        if (*p)
            *p++ = '\0';
        w.v[w.n++] = start;
    }
    return w;
}

/* Does the phrase (words separated by single spaces) equal words v[from .. from+k)? */
static int phrase_at(const char *phrase, const words *w, size_t from, size_t *k)
{
    size_t i = from;
    const char *p = phrase;
    while (*p) {
        if (i >= w->n)
            return 0;
        size_t n = strcspn(p, " ");
        if (strlen(w->v[i]) != n || strncmp(w->v[i], p, n))
            return 0;
        i++;
        p += n;
        while (*p == ' ')
            p++;
    }
    *k = i - from;
    return i > from;
}

const char *svc_name_key(const svc_process *p, const char *name, imr_arena *a)
{
    if (!name)
        return "";
    words w = split_words(name, a);
    size_t first = 0, last = w.n; /* the name is w[first .. last) */
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < p->name_prefixes.n; i++) {
            size_t k = 0;
            if (phrase_at(p->name_prefixes.v[i], &w, first, &k) && first + k < last) {
                first += k;
                changed = 1;
            }
        }
        size_t longest = 0; /* "a professional corporation" before "corporation" */
        for (size_t i = 0; i < p->legal_suffixes.n; i++) {
            const char *sfx = p->legal_suffixes.v[i];
            size_t nw = 1, k = 0;
            for (const char *c = sfx; *c; c++)
                nw += *c == ' ';
            if (nw > longest && last >= first + nw + 1 && phrase_at(sfx, &w, last - nw, &k) && k == nw)
                longest = nw;
        }
        if (longest) {
            last -= longest;
            changed = 1;
        }
    }
    imr_buf b = IMR_BUF_INIT;
    for (size_t i = first; i < last; i++) {
        if (i > first)
            imr_buf_putc(&b, ' ');
        imr_buf_puts(&b, w.v[i]);
    }
    const char *key = imr_arena_strdup(a, b.data ? b.data : "");
    imr_buf_free(&b);
    return key;
}

int svc_licensed(const svc_process *p, const imr_strlist *licensure)
{
    for (size_t i = 0; i < licensure->n; i++) {
        const char *s = licensure->v[i];
        while (*s == ' ')
            s++;
        size_t n = strlen(s);
        while (n && s[n - 1] == ' ')
            n--;
        if (n == strlen(p->required_licensure) && !strncasecmp(s, p->required_licensure, n))
            return 1;
        for (size_t k = 0; k < p->licensure_aliases.n; k++)
            if (n == strlen(p->licensure_aliases.v[k]) && !strncasecmp(s, p->licensure_aliases.v[k], n))
                return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- what the case needs */

void svc_case_needs_build(const svc_process *p, const svc_specialties *s, const imr_case *c,
                          const imr_lexicon *lx, const imr_strlist *diagnoses, imr_arena *a,
                          svc_case_needs *out)
{
    memset(out, 0, sizeof *out);
    out->n_items = c->n_items;
    out->requests = imr_arena_alloc(a, (c->n_items + 1) * sizeof *out->requests);
    out->specialties = imr_arena_alloc(a, (c->n_items + 1) * sizeof *out->specialties);
    out->n_specialties = imr_arena_alloc(a, (c->n_items + 1) * sizeof *out->n_specialties);
    out->treatments = imr_arena_alloc(a, (c->n_items + 1) * sizeof *out->treatments);
    for (size_t i = 0; diagnoses && i < diagnoses->n; i++)
        imr_strlist_push(&out->diagnoses, a, diagnoses->v[i]);
    for (size_t i = 0; i < c->n_items; i++) {
        imr_request_parse(c->items[i].request, lx, a, &out->treatments[i]);
        out->requests[i] = c->items[i].request;
        svc_item_specialties(s, &out->treatments[i], &out->diagnoses, a, &out->specialties[i],
                             &out->n_specialties[i]);
    }
    out->parties = c->parties;
    out->n_parties = c->n_parties;
    out->party_keys = imr_arena_alloc(a, (c->n_parties + 1) * sizeof *out->party_keys);
    for (size_t i = 0; i < c->n_parties; i++)
        out->party_keys[i] = svc_name_key(p, c->parties[i].name, a);
}

/* ---------------------------------------------------------------- assessing a candidate */

/* How the reviewer's specialties fit item `i`: "same: X", "similar: X (to Y)" or NULL. A
 * specialty limited to other kinds of treatment ([limits]) does not count for this item. */
static const char *item_fit(const svc_specialties *s, const svc_case_needs *need, size_t item,
                            const svc_candidate *c, imr_arena *a)
{
    const int *want = need->specialties[item];
    size_t n_want = need->n_specialties[item];
    const imr_treatment *t = &need->treatments[item];
    if (!n_want)
        return "any: no specialty is listed for this treatment";
    const char *similar = NULL;
    for (size_t i = 0; i < c->specialties.n; i++) {
        int have = svc_specialty_find(s, c->specialties.v[i]);
        if (have < 0 || !svc_specialty_may_review(s, have, t, &need->diagnoses))
            continue;
        for (size_t k = 0; k < n_want; k++) {
            if (have == want[k])
                return imr_arena_printf(a, "same: %s", svc_specialty_name(s, have));
            if (!similar && svc_specialty_similar(s, have, want[k], t, &need->diagnoses))
                similar = imr_arena_printf(a, "similar: %s (to %s)", svc_specialty_name(s, have),
                                           svc_specialty_name(s, want[k]));
        }
    }
    return similar;
}

static const char *wanted_list(const svc_specialties *s, const int *want, size_t n, imr_arena *a)
{
    imr_buf b = IMR_BUF_INIT;
    for (size_t k = 0; k < n; k++)
        imr_buf_printf(&b, "%s%s", k ? ", " : "", svc_specialty_name(s, want[k]));
    const char *r = imr_arena_strdup(a, b.data ? b.data : "");
    imr_buf_free(&b);
    return r;
}

/* A party's role in words: "claims_administrator" -> "claims administrator". */
static const char *role_words(const char *role, imr_arena *a)
{
    char *w = imr_arena_strdup(a, role ? role : "party");
    for (char *p = w; *p; p++)
        if (*p == '_')
            *p = ' ';
    return w;
}

/* Every party of the case the reviewer is affiliated with, once each: "role name". */
static void find_conflicts(const svc_process *p, const svc_case_needs *need, const svc_candidate *c,
                           imr_arena *a, imr_strlist *out)
{
    unsigned char *seen = imr_arena_alloc(a, need->n_parties + 1);
    for (size_t k = 0; k < c->n_affiliations; k++) {
        const char *mine = svc_name_key(p, c->affiliations[k].name, a);
        if (!*mine)
            continue;
        for (size_t i = 0; i < need->n_parties; i++)
            if (!seen[i] && *need->party_keys[i] && !strcmp(mine, need->party_keys[i])) {
                seen[i] = 1;
                imr_strlist_push(out, a, imr_arena_printf(a, "%s %s", role_words(need->parties[i].role, a),
                                                          need->parties[i].name));
            }
    }
}

void svc_assess(const svc_process *p, const svc_specialties *s, const svc_case_needs *need,
                const svc_candidate *c, imr_arena *a, svc_assessment *out)
{
    memset(out, 0, sizeof *out);
    out->active = c->active;
    out->licensed = svc_licensed(p, &c->licensure);
    out->years_ok = c->years_in_practice > p->min_years_in_practice;
    out->hours_ok = c->hours_per_week >= p->min_hours_per_week;
    out->has_capacity = c->open_cases < c->capacity;
    find_conflicts(p, need, c, a, &out->conflicts);
    out->conflict = out->conflicts.n ? out->conflicts.v[0] : NULL;
    out->specialty_ok = 1;
    if (!out->active)
        imr_strlist_push(&out->problems, a, imr_arena_printf(a, "%s is not active on the panel", c->id));
    if (!out->licensed)
        imr_strlist_push(&out->problems, a,
                         imr_arena_printf(a, "%s is not licensed in %s", c->id, p->required_licensure));
    if (!out->years_ok)
        imr_strlist_push(&out->problems, a,
                         c->years_in_practice < 0
                             ? imr_arena_printf(a, "%s has no years in practice stated; more than %d are required", c->id, p->min_years_in_practice)
                             : imr_arena_printf(a, "%s has %d years in practice; more than %d are required", c->id, c->years_in_practice, p->min_years_in_practice));
    if (!out->hours_ok)
        imr_strlist_push(&out->problems, a,
                         c->hours_per_week < 0
                             ? imr_arena_printf(a, "%s has no weekly hours of practice stated; at least %d are required", c->id, p->min_hours_per_week)
                             : imr_arena_printf(a, "%s practices %d hours a week; at least %d are required", c->id, c->hours_per_week, p->min_hours_per_week));
    for (size_t i = 0; i < out->conflicts.n; i++)
        imr_strlist_push(&out->problems, a, imr_arena_printf(a, "%s is affiliated with the %s", c->id, out->conflicts.v[i]));
    for (size_t i = 0; i < need->n_items; i++) {
        const char *fit = item_fit(s, need, i, c, a);
        imr_strlist_push(&out->matches, a, fit ? fit : "none");
        if (!fit) {
            out->specialty_ok = 0;
            imr_strlist_push(&out->problems, a,
                             imr_arena_printf(a, "%s has no specialty the same as or similar to those for \"%s\" (%s)",
                                              c->id, need->requests[i],
                                              wanted_list(s, need->specialties[i], need->n_specialties[i], a)));
        }
    }
    if (!out->has_capacity)
        imr_strlist_push(&out->problems, a, imr_arena_printf(a, "%s has %d open cases, the capacity is %d",
                                                             c->id, c->open_cases, c->capacity));
    out->refused = !out->active || !out->licensed || !out->years_ok || !out->hours_ok || out->conflict;
    out->qualified = !out->refused && out->specialty_ok && out->has_capacity;
}

/* -1 when candidate x should be chosen before y. */
static int busier(const svc_candidate *x, const svc_candidate *y)
{
    long long lx = (long long)x->open_cases * y->capacity, ly = (long long)y->open_cases * x->capacity;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    if (x->open_cases != y->open_cases)
        return x->open_cases < y->open_cases ? -1 : 1;
    return strcmp(x->id, y->id) < 0 ? -1 : 1;
}

long svc_pick(const svc_candidate *c, const svc_assessment *as, size_t n)
{
    long best = -1;
    for (size_t i = 0; i < n; i++)
        if (as[i].qualified && (best < 0 || busier(&c[i], &c[best]) < 0))
            best = (long)i;
    return best;
}
