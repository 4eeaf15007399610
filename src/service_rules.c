/*
 * service_rules.c - reading the service model's two rules files: rules/process.tsv (the
 * process's numbers, names and sentences) and rules/specialties.tsv (which specialties
 * evaluate or treat which treatments, which specialties are similar for which kinds of
 * treatment, and which specialties review only some kinds). Both are checked
 * as they load, with errors naming file and line, and loaded once per process.
 */
#include "service_internal.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_RULES_BYTES (4u * 1024 * 1024)

/* ---------------------------------------------------------------- reading TSV lines */

typedef struct tsv {
    const char *path;
    char *text, *pos;
    int line;
    char section[32];
    char *col[4];
    int ncol;
} tsv;

/* The next data line split on TABs (at most 4 columns); 0 at the end. Section lines set
 * t->section and are not returned. */
static int tsv_next(tsv *t, imr_error *err, int *st)
{
    *st = 0;
    while (t->pos && *t->pos) {
        char *line = t->pos, *nl = strchr(line, '\n');
        t->pos = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        t->line++;
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\r' || line[n - 1] == ' '))
            line[--n] = '\0';
        if (!n || line[0] == '#')
            continue;
        if (line[0] == '[') {
            if (line[n - 1] != ']' || n - 2 >= sizeof t->section || n < 3) {
                *st = imr_error_set(err, IMR_EX_DATAERR, t->path, t->line,
                                    "a section line is a name in brackets, e.g. [numbers]");
                return 0;
            }
            memcpy(t->section, line + 1, n - 2);
            t->section[n - 2] = '\0';
            continue;
        }
        t->ncol = 0;
        char *s = line;
        while (s && t->ncol < 4) {
            char *tab = strchr(s, '\t');
            if (tab)
                *tab = '\0';
            t->col[t->ncol++] = s;
            s = tab ? tab + 1 : NULL;
        }
        if (s) {
            *st = imr_error_set(err, IMR_EX_DATAERR, t->path, t->line, "too many columns");
            return 0;
        }
        return 1;
    }
    return 0;
}

static int tsv_open(tsv *t, const char *path, imr_buf *buf, imr_error *err)
{
    memset(t, 0, sizeof *t);
    t->path = path;
    int st = imr_read_file(path, MAX_RULES_BYTES, buf, err);
    if (st)
        return st;
    size_t bad = 0;
    if (buf->data && !imr_utf8_valid(buf->data, buf->len, &bad))
        return imr_error_set(err, IMR_EX_DATAERR, path, imr_line_of(buf->data, bad),
                             "not valid UTF-8");
    t->text = t->pos = buf->data ? buf->data : (char *)"";
    return IMR_OK;
}

static char *lower_dup(imr_arena *a, const char *s)
{
    char *d = imr_arena_strdup(a, s);
    for (char *p = d; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

/* Split "a|b|c" into lower-case or as-written trimmed parts. */
static int split_bar(imr_arena *a, const char *s, int lower, imr_strlist *out)
{
    while (*s) {
        const char *bar = strchr(s, '|');
        size_t n = bar ? (size_t)(bar - s) : strlen(s);
        while (n && s[0] == ' ') {
            s++;
            n--;
        }
        while (n && s[n - 1] == ' ')
            n--;
        if (!n)
            return -1;
        char *part = imr_arena_strndup(a, s, n);
        imr_strlist_push(out, a, lower ? lower_dup(a, part) : part);
        s += (bar ? (size_t)(bar - s) + 1 : strlen(s));
        if (bar && !*s)
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- process.tsv */

typedef struct number_key {
    const char *key;
    size_t offset;
} number_key;

#define NUM(f) {#f, offsetof(svc_process, f)}
static const number_key NUMBERS[] = {
    NUM(filing_window_days),   NUM(mail_extension_days), NUM(standard_review_days),
    NUM(expedited_review_days), NUM(min_years_in_practice), NUM(min_hours_per_week),
    NUM(default_capacity),     NUM(audit_default_limit), NUM(audit_max_limit),
    NUM(list_default_limit),   NUM(list_max_limit),
};
#undef NUM

static const char *const TEXTS[] = {"required_licensure", "organization", NULL};
static const char *const LISTS[] = {"licensure_aliases", "legal_suffixes", "name_prefixes", NULL};
/* Every sentence the code asks for; process.tsv must give each, and no other. */
static const char *const WORDING[] = {
    "check.signed.passed", "check.signed.failed", "check.timely.passed", "check.timely.failed",
    "check.timely.unknown", "check.ur_attached.passed", "check.ur_attached.failed",
    "check.medical_necessity.passed", "check.medical_necessity.failed", "check.not_cnc.passed",
    "check.not_cnc.failed", "check.not_duplicate.passed", "check.not_duplicate.failed", "check.not_duplicate.unknown",
    "notice.title", "notice.intro", "notice.closing", NULL};

static int index_of(const char *const *names, const char *key)
{
    for (int i = 0; names[i]; i++)
        if (!strcmp(names[i], key))
            return i;
    return -1;
}

static int process_line(tsv *t, svc_process *p, unsigned char *seen, imr_error *err)
{
    const char *key = t->col[0], *val = t->ncol > 1 ? t->col[1] : NULL;
    if (!val || !*val)
        return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line, "%s: expected key<TAB>value", key);
    size_t nn = sizeof NUMBERS / sizeof NUMBERS[0];
    int slot = -1;
    if (!strcmp(t->section, "numbers")) {
        for (size_t i = 0; i < nn; i++)
            if (!strcmp(NUMBERS[i].key, key))
                slot = (int)i;
        char *end = NULL;
        long v = strtol(val, &end, 10);
        if (slot < 0)
            return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line, "unknown number \"%s\"", key);
        if (*end || end == val || v < 0 || v > 100000)
            return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line,
                                 "%s: expected a whole number from 0 to 100000, found \"%s\"", key, val);
        *(int *)((char *)p + NUMBERS[slot].offset) = (int)v;
    } else if (!strcmp(t->section, "texts")) {
        int i = index_of(TEXTS, key);
        if (i < 0)
            return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line, "unknown text \"%s\"", key);
        slot = (int)nn + i;
        if (i == 0)
            p->required_licensure = imr_arena_strdup(p->arena, val);
        else
            p->organization = imr_arena_strdup(p->arena, val);
    } else if (!strcmp(t->section, "lists")) {
        int i = index_of(LISTS, key);
        if (i < 0)
            return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line, "unknown list \"%s\"", key);
        slot = (int)nn + 2 + i;
        imr_strlist *l = i == 0 ? &p->licensure_aliases : i == 1 ? &p->legal_suffixes : &p->name_prefixes;
        if (split_bar(p->arena, val, 1, l))
            return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line, "%s: an empty entry in the list", key);
    } else if (!strcmp(t->section, "wording")) {
        int i = index_of(WORDING, key);
        if (i < 0)
            return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line, "unknown wording \"%s\"", key);
        slot = (int)nn + 5 + i;
        imr_strlist_push(&p->wording_keys, p->arena, key);
        imr_strlist_push(&p->wording_texts, p->arena, val);
    } else {
        return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line,
                             "a line outside the sections [numbers], [texts], [lists], [wording]");
    }
    if (seen[slot]++)
        return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line, "\"%s\" is given twice", key);
    return IMR_OK;
}

static int process_check(const svc_process *p, const unsigned char *seen, const char *path,
                         imr_error *err)
{
    size_t nn = sizeof NUMBERS / sizeof NUMBERS[0];
    for (size_t i = 0; i < nn; i++)
        if (!seen[i])
            return imr_error_set(err, IMR_EX_DATAERR, path, 0, "[numbers] %s is missing", NUMBERS[i].key);
    for (int i = 0; TEXTS[i]; i++)
        if (!seen[nn + (size_t)i])
            return imr_error_set(err, IMR_EX_DATAERR, path, 0, "[texts] %s is missing", TEXTS[i]);
    for (int i = 0; LISTS[i]; i++)
        if (!seen[nn + 2 + (size_t)i])
            return imr_error_set(err, IMR_EX_DATAERR, path, 0, "[lists] %s is missing", LISTS[i]);
    for (int i = 0; WORDING[i]; i++)
        if (!seen[nn + 5 + (size_t)i])
            return imr_error_set(err, IMR_EX_DATAERR, path, 0, "[wording] %s is missing", WORDING[i]);
    if (p->audit_default_limit < 1 || p->audit_default_limit > p->audit_max_limit ||
        p->list_default_limit < 1 || p->list_default_limit > p->list_max_limit)
        return imr_error_set(err, IMR_EX_DATAERR, path, 0,
                             "default limits must be at least 1 and at most the maximum");
    if (p->default_capacity < 1)
        return imr_error_set(err, IMR_EX_DATAERR, path, 0, "default_capacity must be at least 1");
    return IMR_OK;
}

int svc_process_load(const char *path, svc_process **out, imr_error *err)
{
    imr_buf buf = IMR_BUF_INIT;
    tsv t;
    int st = tsv_open(&t, path, &buf, err);
    svc_process *p = NULL;
    if (!st) {
        imr_arena *a = imr_arena_new();
        p = imr_arena_alloc(a, sizeof *p);
        p->arena = a;
    }
    unsigned char seen[64] = {0};
    while (!st && tsv_next(&t, err, &st))
        st = process_line(&t, p, seen, err);
    if (!st)
        st = process_check(p, seen, path, err);
    imr_buf_free(&buf);
    if (st) {
        svc_process_free(p);
        return st;
    }
    *out = p;
    return IMR_OK;
}

void svc_process_free(svc_process *p)
{
    if (p)
        imr_arena_free(p->arena);
}

const char *svc_wording(const svc_process *p, const char *key)
{
    for (size_t i = 0; i < p->wording_keys.n; i++)
        if (!strcmp(p->wording_keys.v[i], key))
            return p->wording_texts.v[i];
    return key; /* unreachable after a successful load: every key is checked */
}

char *svc_fill(imr_arena *a, const char *tmpl, const char *const *vars)
{
    imr_buf b = IMR_BUF_INIT;
    const char *s = tmpl;
    while (*s) {
        const char *open = strchr(s, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        if (!open || !close) {
            imr_buf_puts(&b, s);
            break;
        }
        imr_buf_append(&b, s, (size_t)(open - s));
        size_t n = (size_t)(close - open - 1);
        const char *val = NULL;
        for (size_t i = 0; vars && vars[i] && vars[i + 1]; i += 2)
            if (strlen(vars[i]) == n && !strncmp(vars[i], open + 1, n))
                val = vars[i + 1];
        if (val)
            imr_buf_puts(&b, val);
        else
            imr_buf_append(&b, open, n + 2);
        s = close + 1;
    }
    char *r = imr_arena_strdup(a, b.data ? b.data : "");
    imr_buf_free(&b);
    return r;
}

/* ---------------------------------------------------------------- specialties.tsv */

#define MAX_GROUPS 64

/* Conditions on one disputed item, as written in specialties.tsv: per field, the values
 * allowed (lower case; any one of them will do); an empty list leaves the field free.
 * `any` is the "*" of a group that holds for every item. */
typedef struct item_cond {
    imr_strlist kind, drug_class, body_part, procedure, diagnosis;
    int fields; /* how many fields are constrained: the specificity of a [treats] line */
    int any;
} item_cond;

typedef struct treat_rule {
    item_cond cond;
    int line;
    int *specialties;
    size_t n;
} treat_rule;

typedef struct limit_rule { /* one [limits] line: the items a specialty may review */
    int specialty;
    item_cond cond;
} limit_rule;

struct svc_specialties {
    imr_strlist names;        /* canonical, as written */
    uint64_t *groups;         /* per specialty: the groups it belongs to */
    size_t cap;
    item_cond where[MAX_GROUPS]; /* per group: the items for which it makes specialties similar */
    imr_strlist alias_from;   /* as written */
    int *alias_to;
    size_t alias_cap;
    limit_rule *limits;
    size_t n_limits, limits_cap;
    treat_rule *rules;
    size_t n_rules, rules_cap;
    int n_groups;
    imr_arena *arena;
};

/* Grow an arena array of `size`-byte elements holding `n` to room for one more. */
static void *grow(imr_arena *a, void *v, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return v;
    size_t c = *cap ? *cap * 2 : 16;
    void *nv = imr_arena_alloc(a, c * size);
    if (v)
        memcpy(nv, v, n * size);
    *cap = c;
    return nv;
}

int svc_specialty_find(const svc_specialties *s, const char *name)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < s->names.n; i++)
        if (!strcasecmp(s->names.v[i], name))
            return (int)i;
    for (size_t i = 0; i < s->alias_from.n; i++)
        if (!strcasecmp(s->alias_from.v[i], name))
            return s->alias_to[i];
    return -1;
}

const char *svc_specialty_name(const svc_specialties *s, int index)
{
    return index >= 0 && (size_t)index < s->names.n ? s->names.v[index] : NULL;
}

/* ---- conditions */

static int one_of(const imr_strlist *allowed, const char *value)
{
    if (!allowed->n)
        return 1;
    for (size_t i = 0; value && i < allowed->n; i++)
        if (!strcasecmp(allowed->v[i], value))
            return 1;
    return 0;
}

/* A procedure condition also holds for a composed procedure that starts with it:
 * "spinal cord stimulator" for "spinal cord stimulator, trial". */
static int procedure_in(const imr_strlist *allowed, const char *value)
{
    if (one_of(allowed, value))
        return 1;
    for (size_t i = 0; value && i < allowed->n; i++) {
        size_t n = strlen(allowed->v[i]);
        if (!strncasecmp(allowed->v[i], value, n) && value[n] == ',')
            return 1;
    }
    return 0;
}

/* A diagnosis condition holds when one of the case's diagnoses contains one of the phrases. */
static int diagnosis_in(const imr_strlist *phrases, const imr_strlist *diagnoses)
{
    if (!phrases->n)
        return 1;
    for (size_t k = 0; k < phrases->n; k++)
        for (size_t i = 0; diagnoses && i < diagnoses->n; i++)
            if (strcasestr(diagnoses->v[i], phrases->v[k]))
                return 1;
    return 0;
}

static int cond_holds(const item_cond *c, const imr_treatment *t, const imr_strlist *dx)
{
    return c->any || (one_of(&c->kind, imr_treatment_kind_name(t->kind)) && one_of(&c->drug_class, t->drug_class) &&
                      one_of(&c->body_part, t->body_part) && procedure_in(&c->procedure, t->procedure) &&
                      diagnosis_in(&c->diagnosis, dx));
}

static int lists_meet(const imr_strlist *x, const imr_strlist *y)
{
    if (!x->n || !y->n)
        return 1;
    for (size_t i = 0; i < x->n; i++)
        if (one_of(y, x->v[i]))
            return 1;
    return 0;
}

/* Can one item satisfy both? (Diagnoses are phrases found inside text: not compared.) */
static int conds_meet(const item_cond *x, const item_cond *y)
{
    return x->any || y->any ||
           (lists_meet(&x->kind, &y->kind) && lists_meet(&x->drug_class, &y->drug_class) &&
            lists_meet(&x->body_part, &y->body_part) && lists_meet(&x->procedure, &y->procedure));
}

/* One "field=value|value" condition. */
static int cond_field(tsv *t, imr_arena *a, item_cond *c, char *text, imr_error *err)
{
    char *eq = strchr(text, '=');
    if (!eq || eq == text || !eq[1])
        return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line, "condition \"%s\": expected field=value", text);
    *eq = '\0';
    const char *field = text;
    imr_strlist *slot;
    if (!strcmp(field, "kind"))
        slot = &c->kind;
    else if (!strcmp(field, "class"))
        slot = &c->drug_class;
    else if (!strcmp(field, "body_part"))
        slot = &c->body_part;
    else if (!strcmp(field, "procedure"))
        slot = &c->procedure;
    else if (!strcmp(field, "diagnosis"))
        slot = &c->diagnosis;
    else
        return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line,
                             "unknown field \"%s\" (kind, class, body_part, procedure, diagnosis)", field);
    if (slot->n)
        return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line, "%s is given twice", field);
    if (split_bar(a, eq + 1, 1, slot))
        return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line, "%s=%s: expected values separated by '|'",
                             field, eq + 1);
    for (size_t i = 0; i < slot->n; i++) {
        imr_treatment_kind k;
        if (slot == &c->kind && imr_treatment_kind_from_name(slot->v[i], &k))
            return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line, "kind=%s: not a treatment kind", slot->v[i]);
        if (slot == &c->drug_class && !imr_drug_class_valid(slot->v[i]))
            return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line, "class=%s: not a drug class", slot->v[i]);
    }
    c->fields++;
    return IMR_OK;
}

/* "field=value; field=value|value" (or "*" where `star` allows it). */
static int parse_cond(tsv *t, imr_arena *a, const char *text, int star, item_cond *c, imr_error *err)
{
    memset(c, 0, sizeof *c);
    if (star && !strcmp(text, "*")) {
        c->any = 1;
        return IMR_OK;
    }
    char *copy = imr_arena_strdup(a, text), *save = NULL;
    for (char *p = strtok_r(copy, ";", &save); p; p = strtok_r(NULL, ";", &save)) {
        while (*p == ' ')
            p++;
        int st = cond_field(t, a, c, p, err);
        if (st)
            return st;
    }
    if (!c->fields)
        return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line, "a line needs at least one condition%s",
                             star ? " (or * for every item)" : "");
    return IMR_OK;
}

/* ---- similar and limited specialties */

int svc_specialty_similar(const svc_specialties *s, int a, int b, const imr_treatment *t,
                          const imr_strlist *diagnoses)
{
    if (a < 0 || b < 0)
        return 0;
    if (a == b)
        return 1;
    uint64_t shared = s->groups[a] & s->groups[b];
    for (int g = 0; shared && g < s->n_groups; g++)
        if (((shared >> g) & 1) && cond_holds(&s->where[g], t, diagnoses))
            return 1;
    return 0;
}

int svc_specialty_may_review(const svc_specialties *s, int specialty, const imr_treatment *t,
                             const imr_strlist *diagnoses)
{
    int limited = 0;
    for (size_t i = 0; i < s->n_limits; i++) {
        if (s->limits[i].specialty != specialty)
            continue;
        if (cond_holds(&s->limits[i].cond, t, diagnoses))
            return 1;
        limited = 1;
    }
    return !limited;
}

/* ---- the sections */

static int add_specialty(svc_specialties *s, const char *name)
{
    int i = svc_specialty_find(s, name);
    if (i >= 0)
        return i;
    if (s->names.n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        uint64_t *g = imr_arena_alloc(s->arena, cap * sizeof *g);
        if (s->groups)
            memcpy(g, s->groups, s->names.n * sizeof *g);
        s->groups = g;
        s->cap = cap;
    }
    s->groups[s->names.n] = 0;
    imr_strlist_push(&s->names, s->arena, name);
    return (int)s->names.n - 1;
}

static int group_line(tsv *t, svc_specialties *s, imr_error *err)
{
    if (t->ncol != 3)
        return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line,
                             "expected group<TAB>specialty|specialty|...<TAB>the items it holds for (conditions, or *)");
    if (s->n_groups >= MAX_GROUPS)
        return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line, "more than %d groups", MAX_GROUPS);
    imr_strlist members = {0};
    if (split_bar(s->arena, t->col[1], 0, &members) || members.n < 2)
        return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line,
                             "a group names at least two specialties, separated by '|'");
    int st = parse_cond(t, s->arena, t->col[2], 1, &s->where[s->n_groups], err);
    if (st)
        return st;
    for (size_t i = 0; i < members.n; i++) {
        int k = add_specialty(s, members.v[i]);
        s->groups[k] |= (uint64_t)1 << s->n_groups;
    }
    s->n_groups++;
    return IMR_OK;
}

static int alias_line(tsv *t, svc_specialties *s, imr_error *err)
{
    if (t->ncol != 2)
        return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line, "expected written form<TAB>specialty");
    int to = svc_specialty_find(s, t->col[1]);
    if (to < 0)
        return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line,
                             "\"%s\" is not a specialty of any group", t->col[1]);
    if (svc_specialty_find(s, t->col[0]) >= 0)
        return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line,
                             "\"%s\" is already a specialty or an alias", t->col[0]);
    s->alias_to = grow(s->arena, s->alias_to, s->alias_from.n, &s->alias_cap, sizeof *s->alias_to);
    s->alias_to[s->alias_from.n] = to;
    imr_strlist_push(&s->alias_from, s->arena, t->col[0]);
    return IMR_OK;
}

static int limit_line(tsv *t, svc_specialties *s, imr_error *err)
{
    if (t->ncol != 2)
        return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line, "expected specialty<TAB>conditions");
    limit_rule r;
    memset(&r, 0, sizeof r);
    r.specialty = svc_specialty_find(s, t->col[0]);
    if (r.specialty < 0)
        return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line,
                             "\"%s\" is not a specialty of any group", t->col[0]);
    int st = parse_cond(t, s->arena, t->col[1], 0, &r.cond, err);
    if (st)
        return st;
    s->limits = grow(s->arena, s->limits, s->n_limits, &s->limits_cap, sizeof *s->limits);
    s->limits[s->n_limits++] = r;
    return IMR_OK;
}

static int treat_line(tsv *t, svc_specialties *s, imr_error *err)
{
    if (t->ncol != 2)
        return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line, "expected conditions<TAB>specialty|specialty|...");
    treat_rule r;
    memset(&r, 0, sizeof r);
    r.line = t->line;
    int st = parse_cond(t, s->arena, t->col[0], 0, &r.cond, err);
    if (st)
        return st;
    imr_strlist names = {0};
    if (split_bar(s->arena, t->col[1], 0, &names) || !names.n)
        return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line, "expected specialties separated by '|'");
    r.specialties = imr_arena_alloc(s->arena, names.n * sizeof *r.specialties);
    for (size_t i = 0; i < names.n; i++) {
        int k = svc_specialty_find(s, names.v[i]);
        if (k < 0)
            return imr_error_set(err, IMR_EX_DATAERR, t->path, t->line,
                                 "\"%s\" is not a specialty of any group", names.v[i]);
        r.specialties[r.n++] = k;
    }
    s->rules = grow(s->arena, s->rules, s->n_rules, &s->rules_cap, sizeof *s->rules);
    s->rules[s->n_rules++] = r;
    return IMR_OK;
}

/* A [treats] line may not name a specialty for items its [limits] exclude. */
static int check_limits(const svc_specialties *s, const char *path, imr_error *err)
{
    for (size_t i = 0; i < s->n_rules; i++) {
        const treat_rule *r = &s->rules[i];
        for (size_t k = 0; k < r->n; k++) {
            int limited = 0, fits = 0;
            for (size_t j = 0; j < s->n_limits && !fits; j++)
                if (s->limits[j].specialty == r->specialties[k]) {
                    limited = 1;
                    fits = conds_meet(&s->limits[j].cond, &r->cond);
                }
            if (limited && !fits)
                return imr_error_set(err, IMR_EX_DATAERR, path, r->line,
                                     "\"%s\" is listed for items its [limits] line excludes",
                                     svc_specialty_name(s, r->specialties[k]));
        }
    }
    return IMR_OK;
}

int svc_specialties_load(const char *path, svc_specialties **out, imr_error *err)
{
    imr_buf buf = IMR_BUF_INIT;
    tsv t;
    int st = tsv_open(&t, path, &buf, err);
    svc_specialties *s = NULL;
    if (!st) {
        imr_arena *a = imr_arena_new();
        s = imr_arena_alloc(a, sizeof *s);
        s->arena = a;
    }
    while (!st && tsv_next(&t, err, &st)) {
        if (!strcmp(t.section, "groups"))
            st = group_line(&t, s, err);
        else if (!strcmp(t.section, "aliases"))
            st = alias_line(&t, s, err);
        else if (!strcmp(t.section, "limits"))
            st = limit_line(&t, s, err);
        else if (!strcmp(t.section, "treats"))
            st = treat_line(&t, s, err);
        else
            st = imr_error_set(err, IMR_EX_DATAERR, path, t.line,
                               "a line outside the sections [groups], [aliases], [limits], [treats]");
    }
    if (!st && !s->n_rules)
        st = imr_error_set(err, IMR_EX_DATAERR, path, 0, "no [treats] lines");
    if (!st)
        st = check_limits(s, path, err);
    imr_buf_free(&buf);
    if (st) {
        svc_specialties_free(s);
        return st;
    }
    *out = s;
    return IMR_OK;
}

void svc_specialties_free(svc_specialties *s)
{
    if (s)
        imr_arena_free(s->arena);
}

void svc_item_specialties(const svc_specialties *s, const imr_treatment *t,
                          const imr_strlist *diagnoses, imr_arena *a, int **out, size_t *n)
{
    int best = 0;
    for (size_t i = 0; i < s->n_rules; i++)
        if (s->rules[i].cond.fields > best && cond_holds(&s->rules[i].cond, t, diagnoses))
            best = s->rules[i].cond.fields;
    unsigned char *taken = imr_arena_alloc(a, s->names.n + 1);
    int *v = imr_arena_alloc(a, (s->names.n + 1) * sizeof *v);
    size_t k = 0;
    for (size_t i = 0; best && i < s->n_rules; i++) {
        const treat_rule *r = &s->rules[i];
        if (r->cond.fields != best || !cond_holds(&r->cond, t, diagnoses))
            continue;
        for (size_t j = 0; j < r->n; j++)
            if (!taken[r->specialties[j]]) {
                taken[r->specialties[j]] = 1;
                v[k++] = r->specialties[j];
            }
    }
    *out = v;
    *n = k;
}

/* ---------------------------------------------------------------- loaded once */

static pthread_once_t rules_once = PTHREAD_ONCE_INIT;
static svc_process *g_process;
static svc_specialties *g_specialties;
static imr_error g_process_err, g_specialties_err;

static void load_rules(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/process.tsv", imr_rules_dir());
    if (svc_process_load(path, &g_process, &g_process_err))
        g_process = NULL;
    snprintf(path, sizeof path, "%s/specialties.tsv", imr_rules_dir());
    if (svc_specialties_load(path, &g_specialties, &g_specialties_err))
        g_specialties = NULL;
}

const svc_process *svc_process_rules(imr_error *err)
{
    pthread_once(&rules_once, load_rules);
    if (!g_process && err)
        *err = g_process_err;
    return g_process;
}

const svc_specialties *svc_specialty_rules(imr_error *err)
{
    pthread_once(&rules_once, load_rules);
    if (!g_specialties && err)
        *err = g_specialties_err;
    return g_specialties;
}
