/*
 * extract_vocab.c - the extraction vocabulary: every .tsv file of rules/extract/, loaded and
 * validated once, and the matching of its phrases over a text's tokens.
 *
 * Each line of a file is `phrase <TAB> class [<TAB> name [<TAB> value]]` (format in
 * docs/facts.md). A phrase is cut into tokens by the same tokenizer as the texts, so
 * "x-ray", "y/o" and "7-8/10" compare token by token; "<n>" in a phrase stands for any
 * number; a word written in capitals ("MS", "TENS") only matches capitals. The class says
 * what the phrase is for; this file knows, per class, which names and values are allowed,
 * so a typo in the rules is reported with its file and line when the process starts.
 *
 * Lookup: the entries are sorted by their first word, longest phrase first, and a hash
 * table maps a folded first word to its run of entries; within a run, the phrases with a
 * literal second word are grouped by that word (a second table). Matching a text costs a
 * hash probe or two per token (more for numbers) plus a comparison per candidate phrase
 * whose second word can match.
 */
#include "extract_internal.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ex_vocab {
    imr_arena *arena; /* strings of the entries */
    ex_entry *entries;
    size_t n, cap;
    ex_word *words;
    size_t nwords, capwords;
    char *pool; /* folded words */
    size_t poollen, poolcap;
    /* first-word index */
    uint32_t *order; /* entry indices sorted by first word, longest first */
    /* the same order, compact, with what rejects most candidates early */
    struct cand {
        uint32_t entry;
        uint32_t hash2;   /* hash of the second word, when it is a literal */
        uint16_t nwords;
        uint8_t upper0;   /* the first word must be in capitals */
        uint8_t literal2; /* the second word is a literal word */
    } *cands;
    struct slot {
        uint32_t hash, off, len; /* key: folded first word in pool */
        uint32_t first, count;   /* run in `order` */
        uint32_t other_first, other_count; /* in `picks`: the run's candidates whose second
                                            * word is no literal (one word, <n>, ...) */
        uint32_t literal2;       /* 1 when some candidate has a literal second word */
    } *table;
    size_t tabmask;
    /* The candidates of a run with a literal second word, grouped by the hash of that word:
     * (slot, hash2) -> a group in `picks`. A token then tries only the phrases whose second
     * word can match the next token. Groups keep the order of `cands`. */
    const struct slot *number_slot; /* the run of phrases starting with <n>, or NULL */
    uint32_t *picks; /* indices in cands */
    struct pair {
        uint32_t slot, hash2, first, count; /* count 0: free */
    } *pairs;
    size_t pairmask;
};

/* ---------------------------------------------------------------------------------------
 * Classes: their names in the files and what their columns may hold.
 * ------------------------------------------------------------------------------------- */
enum { COL_NONE, COL_OPTIONAL, COL_REQUIRED, COL_ENUM, COL_ENUM_OPTIONAL, COL_NUMBER };

/* Categories of triggers, in imr_assertion order after "affirmed". */
static const char *const ASSERTIONS[] = {"negated", "hypothetical", "historical", "other_person", NULL};
static const char *const TERMINATES[] = {"negated", "hypothetical", "historical", "other_person",
                                         "all", "section", NULL};
static const char *const DIRECTIONS[] = {"pre", "post", "both", "heading", NULL};
static const char *const SEXES[] = {"male", "female", NULL};
static const char *const SIDES[] = {"left", "right", "bilateral", NULL};
static const char *const FUNCTIONS[] = {"adl", "work", "activity", "general", NULL};
static const char *const IMPROVED[] = {"pain", "function", NULL};
static const char *const IMAGING_GROUPS[] = {"imaging", "electrodiagnostic", NULL};
static const char *const INDICATION_FLAGS[] = {"corroborable", NULL};
static const char *const EXAM_FLAGS[] = {"in_exam", NULL};
static const char *const SCORE_QUALIFIERS[] = {"with_medication", "without_medication", "before",
                                               "after", "current", NULL};
static const char *const RESPONSES[] = {"improved", "no_improvement", "failed", NULL};
static const char *const TRIALS[] = {"failed", "tolerated", "intolerant", "tried", NULL};
static const char *const SCREEN_RESULTS[] = {"consistent", "inconsistent", NULL};
static const char *const POLARITIES[] = {"negative", "positive", NULL};
static const char *const UNITS[] = {"day", "week", "month", "year", NULL};
static const char *const RESULTS[] = {"abnormal", "normal", NULL};
static const char *const TREATMENT_FLAGS[] = {"in_list", NULL};
static const char *const QUALIFIER_FLAGS[] = {"drug", NULL};
static const char *const FOR_FLAGS[] = {"keep", NULL};
static const char *const WORK_FLAGS[] = {"generic", "lasting", NULL};
static const char *const SEX_FLAGS[] = {"after_age", NULL};
static const char *const AGE_FLAGS[] = {"sex_letter", NULL};
static const char *const CHANGE_FLAGS[] = {"reverse", NULL};

static const struct class_spec {
    const char *name;
    unsigned char name_rule, value_rule;
    const char *const *names, *const *values;
    unsigned char slots_min, slots_max; /* "<n>" wildcards allowed */
} CLASSES[EX_C_CLASS_COUNT] = {
    [EX_C_BODY_PART] = {"body_part", COL_REQUIRED, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_DIAGNOSIS] = {"diagnosis", COL_OPTIONAL, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_INDICATION] = {"indication", COL_REQUIRED, COL_ENUM_OPTIONAL, NULL, INDICATION_FLAGS, 0, 0},
    [EX_C_TREATMENT] = {"treatment", COL_REQUIRED, COL_ENUM_OPTIONAL, NULL, TREATMENT_FLAGS, 0, 0},
    [EX_C_DRUG_CLASS] = {"drug_class", COL_REQUIRED, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_EXAM_FINDING] = {"exam_finding", COL_REQUIRED, COL_ENUM_OPTIONAL, NULL, EXAM_FLAGS, 0, 0},
    [EX_C_IMAGING] = {"imaging", COL_OPTIONAL, COL_ENUM, NULL, IMAGING_GROUPS, 0, 0},
    [EX_C_RED_FLAG] = {"red_flag", COL_OPTIONAL, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_SIDE_EFFECT] = {"side_effect", COL_OPTIONAL, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_ABERRANT] = {"aberrant_behavior", COL_OPTIONAL, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_WORK_STATUS] = {"work_status", COL_REQUIRED, COL_ENUM_OPTIONAL, NULL, WORK_FLAGS, 0, 0},
    [EX_C_SEX] = {"sex", COL_ENUM, COL_ENUM_OPTIONAL, SEXES, SEX_FLAGS, 0, 0},
    [EX_C_PSYCHOSOCIAL] = {"psychosocial", COL_REQUIRED, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_OPIOID_AGREEMENT] = {"opioid_agreement", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_DRUG_SCREEN] = {"urine_drug_screen", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_FUNCTION] = {"functional_improvement", COL_ENUM, COL_NONE, FUNCTIONS, NULL, 0, 0},
    [EX_C_IMPROVEMENT] = {"improvement", COL_ENUM_OPTIONAL, COL_NONE, IMPROVED, NULL, 0, 0},
    [EX_C_HOMEBOUND] = {"homebound", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_GOALS] = {"treatment_goals", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_SECOND_OPINION] = {"second_opinion", COL_OPTIONAL, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_SURGERY] = {"surgery_history", COL_REQUIRED, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_AGE] = {"age", COL_NONE, COL_ENUM_OPTIONAL, NULL, AGE_FLAGS, 1, 1},
    [EX_C_PAIN_SCORE] = {"pain_score", COL_NONE, COL_NONE, NULL, NULL, 0, 2},
    [EX_C_TRIGGER] = {"trigger", COL_ENUM, COL_ENUM, ASSERTIONS, DIRECTIONS, 0, 0},
    [EX_C_PSEUDO] = {"pseudo", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_TERMINATION] = {"termination", COL_ENUM, COL_NONE, TERMINATES, NULL, 0, 0},
    [EX_C_ABBREVIATION] = {"abbreviation", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_MONTH] = {"month", COL_NUMBER, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_NUMBER] = {"number", COL_NUMBER, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_QUANTITY] = {"quantity", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_TIME_UNIT] = {"time_unit", COL_ENUM, COL_NONE, UNITS, NULL, 0, 0},
    [EX_C_LATERALITY] = {"laterality", COL_ENUM, COL_NONE, SIDES, NULL, 0, 0},
    [EX_C_SINCE] = {"since", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_FOR] = {"for", COL_NONE, COL_ENUM_OPTIONAL, NULL, FOR_FLAGS, 0, 0},
    [EX_C_INJURY_CUE] = {"injury_cue", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_SCORE_QUALIFIER] = {"score_qualifier", COL_ENUM, COL_ENUM_OPTIONAL, SCORE_QUALIFIERS, QUALIFIER_FLAGS, 0, 0},
    [EX_C_SCORE_CHANGE] = {"score_change", COL_ENUM_OPTIONAL, COL_NONE, CHANGE_FLAGS, NULL, 0, 0},
    [EX_C_PAIN_CUE] = {"pain_cue", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_LINK] = {"link", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_RESPONSE] = {"response", COL_ENUM, COL_NONE, RESPONSES, NULL, 0, 0},
    [EX_C_TRIAL] = {"trial", COL_ENUM, COL_NONE, TRIALS, NULL, 0, 0},
    [EX_C_SCREEN_RESULT] = {"screen_result", COL_ENUM, COL_NONE, SCREEN_RESULTS, NULL, 0, 0},
    [EX_C_SUBSTANCE] = {"substance", COL_REQUIRED, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_SESSION] = {"session", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_CLAUSE_START] = {"clause_start", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_FINDING_RESULT] = {"finding_result", COL_ENUM, COL_NONE, RESULTS, NULL, 0, 0},
    [EX_C_ABILITY] = {"ability", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_FUNCTION_WORD] = {"function_word", COL_ENUM, COL_NONE, FUNCTIONS, NULL, 0, 0},
    [EX_C_START_CUE] = {"start_cue", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_FILLER] = {"filler", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_DRUG_REFERENCE] = {"drug_reference", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_CONJUNCTION] = {"conjunction", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_PSEUDO_TERM] = {"pseudo_term", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_REGION] = {"region", COL_REQUIRED, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_DATE_REFERENCE] = {"date_reference", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_EXAM_CUE] = {"exam_cue", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_LOCATIVE] = {"locative", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_TOLERANCE] = {"tolerance", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_COMPARISON] = {"comparison", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_TREATMENT_REFERENCE] = {"treatment_reference", COL_NONE, COL_NONE, NULL, NULL, 0, 0},
    [EX_C_SCREEN_POLARITY] = {"screen_polarity", COL_ENUM, COL_NONE, POLARITIES, NULL, 0, 0},
};

const char *ex_class_name(ex_class c)
{
    return c > EX_C_NONE && c < EX_C_CLASS_COUNT ? CLASSES[c].name : "?";
}

static ex_class class_from_name(const char *s)
{
    for (int c = 1; c < EX_C_CLASS_COUNT; c++)
        if (CLASSES[c].name && !strcmp(CLASSES[c].name, s))
            return (ex_class)c;
    return EX_C_NONE;
}

static int enum_index(const char *const *set, const char *s)
{
    for (int i = 0; set && set[i]; i++)
        if (!strcmp(set[i], s))
            return i;
    return -1;
}

static void enum_list(const char *const *set, char *out, size_t n)
{
    size_t k = 0;
    out[0] = '\0';
    for (int i = 0; set && set[i] && k + 1 < n; i++)
        k += (size_t)snprintf(out + k, n - k, "%s%s", i ? ", " : "", set[i]);
}

/* ---------------------------------------------------------------------------------------
 * Loading
 * ------------------------------------------------------------------------------------- */
/* realloc that aborts when memory runs out (extract_internal.h). */
void *ex_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("imr: out of memory\n", stderr);
        abort();
    }
    return q;
}

void ex_vocab_free(ex_vocab *v)
{
    if (!v)
        return;
    imr_arena_free(v->arena);
    free(v->entries);
    free(v->words);
    free(v->pool);
    free(v->order);
    free(v->picks);
    free(v->pairs);
    free(v->cands);
    free(v->table);
    free(v);
}

size_t ex_vocab_count(const ex_vocab *v) { return v ? v->n : 0; }
const ex_entry *ex_vocab_entry(const ex_vocab *v, size_t i) { return &v->entries[i]; }
const ex_word *ex_entry_word(const ex_vocab *v, const ex_entry *e, size_t w)
{
    return &v->words[e->words + w];
}

static uint32_t hash_bytes(const char *s, size_t n) { return ex_hash(s, n); }

/* The key under which a number wildcard is filed: no text token folds to it. */
static const char NUMBER_KEY[] = "\x01n";

typedef struct loader {
    ex_vocab *v;
    ex_doc scratch;
    imr_error *err;
    const char *path; /* full path of the file being read */
    const char *file; /* its base name (arena) */
    int line;
} loader;

static int fail(loader *ld, const char *fmt, const char *a, const char *b)
{
    char msg[400];
    snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
    return imr_error_set(ld->err, IMR_EX_DATAERR, ld->path, ld->line, "%s", msg);
}

/* Cut a phrase into words, turning "<n>" into a number wildcard. */
static int add_words(loader *ld, ex_entry *e, const struct class_spec *cs)
{
    ex_vocab *v = ld->v;
    ex_doc *d = &ld->scratch;
    ex_tokenize(d, e->phrase, strlen(e->phrase));
    e->words = (uint32_t)v->nwords;
    int slots = 0, gaps = 0, words = 0;
    for (size_t i = 0; i < d->ntok; i++) {
        const ex_token *t = &d->tok[i];
        ex_word w = {0};
        if (t->kind == EX_PUNCT && d->fold[t->fold] == '<' && i + 2 < d->ntok &&
            ex_tok_is(d, i + 1, "n") && d->fold[d->tok[i + 2].fold] == '>') {
            w.kind = EX_W_NUMBER;
            w.off = 0;
            w.len = 0;
            i += 2;
            slots++;
        } else if (t->kind == EX_PUNCT && d->fold[t->fold] == '.' && i + 2 < d->ntok &&
                   d->fold[d->tok[i + 1].fold] == '.' && d->fold[d->tok[i + 2].fold] == '.') {
            w.kind = EX_W_GAP;
            i += 2;
            gaps++;
        } else {
            if (v->poollen + t->flen + 1 > v->poolcap) {
                v->poolcap = (v->poolcap + t->flen + 1) * 2;
                v->pool = ex_xrealloc(v->pool, v->poolcap);
            }
            w.off = (uint32_t)v->poollen;
            w.len = t->flen;
            w.hash = t->hash;
            memcpy(v->pool + v->poollen, ex_fold_of(d, i), t->flen);
            v->poollen += t->flen;
            v->pool[v->poollen++] = '\0';
            w.upper = (t->flags & EX_F_UPPER) != 0;
            words += t->kind != EX_PUNCT;
        }
        if (v->nwords == v->capwords) {
            v->capwords = v->capwords ? v->capwords * 2 : 256;
            v->words = ex_xrealloc(v->words, v->capwords * sizeof *v->words);
        }
        v->words[v->nwords++] = w;
    }
    e->nwords = (uint16_t)(v->nwords - e->words);
    if (e->nwords == 0)
        return fail(ld, "the phrase '%s' has no words", e->phrase, NULL);
    if (e->nwords > 32)
        return fail(ld, "the phrase '%s' is longer than 32 words", e->phrase, NULL);
    if (gaps && (v->words[e->words].kind == EX_W_GAP || v->words[v->nwords - 1].kind == EX_W_GAP))
        return fail(ld, "a gap '...' must stand between two words ('%s')", e->phrase, NULL);
    if (e->cls == EX_C_TRIGGER && !words)
        return fail(ld, "a trigger needs a word, not only punctuation ('%s')", e->phrase, NULL);
    if (gaps > 2)
        return fail(ld, "at most two gaps '...' in a phrase ('%s')", e->phrase, NULL);
    if (gaps && slots)
        return fail(ld, "a phrase with number slots cannot have a gap '...' ('%s')", e->phrase, NULL);
    if (slots < cs->slots_min || slots > cs->slots_max) {
        if (cs->slots_max == 0)
            return fail(ld, "'<n>' (a number) is not allowed in a %s phrase ('%s')", cs->name,
                        e->phrase);
        return fail(ld, "a %s phrase needs %s number slot(s) '<n>'", cs->name,
                    cs->slots_min == cs->slots_max ? "exactly one" : "at most two");
    }
    return IMR_OK;
}

static int check_column(loader *ld, const struct class_spec *cs, int rule,
                        const char *const *set, const char *col, const char *what)
{
    char list[256];
    if (rule == COL_NONE) {
        if (col)
            return fail(ld, "class %s takes no %s column", cs->name, what);
        return IMR_OK;
    }
    if (!col) {
        if (rule == COL_OPTIONAL || rule == COL_ENUM_OPTIONAL)
            return IMR_OK;
        return fail(ld, "class %s needs a %s column", cs->name, what);
    }
    if ((rule == COL_ENUM || rule == COL_ENUM_OPTIONAL) && enum_index(set, col) < 0) {
        enum_list(set, list, sizeof list);
        char msg[400];
        snprintf(msg, sizeof msg, "%s '%s' of class %s is not one of: %s", what, col, cs->name, list);
        return imr_error_set(ld->err, IMR_EX_DATAERR, ld->path, ld->line, "%s", msg);
    }
    if (rule == COL_NUMBER) {
        char *end;
        errno = 0;
        double x = strtod(col, &end);
        if (*end || errno || !isfinite(x))
            return fail(ld, "%s '%s' is not a number", what, col);
    }
    return IMR_OK;
}

/* Split one line into at most 4 tab-separated columns, in place. */
static int split_line(char *s, char **col)
{
    int n = 0;
    for (;;) {
        if (n == 4)
            return 5;
        col[n++] = s;
        char *tab = strchr(s, '\t');
        if (!tab)
            break;
        *tab = '\0';
        s = tab + 1;
    }
    return n;
}

static int trim_empty(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\r'))
        s[--n] = '\0';
    size_t k = 0;
    while (s[k] == ' ')
        k++;
    if (k)
        memmove(s, s + k, n - k + 1);
    return s[0] == '\0';
}

static int add_line(loader *ld, char *line)
{
    char *col[5] = {0};
    int n = split_line(line, col);
    if (n > 4)
        return fail(ld, "too many columns (expected: phrase, class, name, value)", NULL, NULL);
    for (int i = 0; i < n; i++)
        trim_empty(col[i]);
    if (n < 2 || !col[1][0])
        return fail(ld, "expected 'phrase<TAB>class[<TAB>name[<TAB>value]]'", NULL, NULL);
    if (!col[0][0])
        return fail(ld, "empty phrase", NULL, NULL);
    ex_class cls = class_from_name(col[1]);
    if (!cls) {
        char list[1200];
        size_t k = 0;
        list[0] = '\0';
        for (int c = 1; c < EX_C_CLASS_COUNT && k + 1 < sizeof list; c++)
            k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", c > 1 ? ", " : "", CLASSES[c].name);
        char msg[sizeof list + 100];
        snprintf(msg, sizeof msg, "unknown class '%.60s' (classes: %s)", col[1], list);
        return imr_error_set(ld->err, IMR_EX_DATAERR, ld->path, ld->line, "%s", msg);
    }
    const struct class_spec *cs = &CLASSES[cls];
    const char *name = n > 2 && col[2][0] && strcmp(col[2], "-") ? col[2] : NULL;
    const char *value = n > 3 && col[3][0] && strcmp(col[3], "-") ? col[3] : NULL;
    int st;
    int context = cls == EX_C_TRIGGER || cls == EX_C_TERMINATION;
    if ((st = check_column(ld, cs, cs->name_rule, cs->names, name, context ? "category" : "name")) ||
        (st = check_column(ld, cs, cs->value_rule, cs->values, value, context ? "direction" : "value")))
        return st;
    ex_vocab *v = ld->v;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 256;
        v->entries = ex_xrealloc(v->entries, v->cap * sizeof *v->entries);
    }
    ex_entry *e = &v->entries[v->n];
    memset(e, 0, sizeof *e);
    e->phrase = imr_arena_strdup(v->arena, col[0]);
    e->name = imr_arena_strdup(v->arena, name);
    e->value = imr_arena_strdup(v->arena, value);
    e->file = ld->file;
    e->line = ld->line;
    e->cls = (uint16_t)cls;
    e->number = NAN;
    if (cls == EX_C_TRIGGER) {
        e->category = (int16_t)(enum_index(ASSERTIONS, name) + 1);
        e->direction = (uint8_t)(enum_index(DIRECTIONS, value) + 1);
    } else if (cls == EX_C_TERMINATION) {
        int k = enum_index(ASSERTIONS, name);
        e->category = (int16_t)(k >= 0 ? k + 1 : strcmp(name, "section") == 0 ? EX_TERM_SECTION : -1);
    } else if (cs->name_rule == COL_NUMBER)
        e->number = strtod(name, NULL);
    if ((st = add_words(ld, e, cs)))
        return st;
    v->n++;
    return IMR_OK;
}

static int load_file(loader *ld, const char *path, const char *base)
{
    imr_buf buf = IMR_BUF_INIT;
    int st = imr_read_file(path, 16u << 20, &buf, ld->err);
    if (st)
        return st;
    ld->path = path;
    ld->file = imr_arena_strdup(ld->v->arena, base);
    size_t bad;
    if (!imr_utf8_valid(buf.data, buf.len, &bad)) {
        ld->line = imr_line_of(buf.data, bad);
        imr_buf_free(&buf);
        return fail(ld, "invalid UTF-8", NULL, NULL);
    }
    const char *nul = buf.len ? memchr(buf.data, '\0', buf.len) : NULL;
    if (nul) {
        ld->line = imr_line_of(buf.data, (size_t)(nul - buf.data));
        imr_buf_free(&buf);
        return fail(ld, "NUL byte in the file", NULL, NULL);
    }
    char *s = buf.data;
    ld->line = 0;
    while (s && *s) {
        char *nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        ld->line++;
        /* comments start with "# " or are a lone "#"; blank lines are skipped */
        char *p = s;
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (*p && !(p[0] == '#' && (p[1] == ' ' || p[1] == '\0' || p[1] == '\r' || p[1] == '#'))) {
            if ((st = add_line(ld, s)))
                break;
        }
        if (!nl)
            break;
        s = nl + 1;
    }
    imr_buf_free(&buf);
    return st;
}

/* qsort has no context argument; loading runs once, under pthread_once (default_load). */
static const ex_vocab *sort_vocab;

static const ex_word *first_word(const ex_vocab *v, const ex_entry *e) { return &v->words[e->words]; }

static int cmp_word(const ex_vocab *v, const ex_word *a, const ex_word *b)
{
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    int c = memcmp(v->pool + a->off, v->pool + b->off, a->len);
    if (c)
        return c;
    return (int)a->upper - (int)b->upper;
}

static int cmp_entries(const void *pa, const void *pb)
{
    const ex_vocab *v = sort_vocab;
    const ex_entry *a = &v->entries[*(const uint32_t *)pa], *b = &v->entries[*(const uint32_t *)pb];
    int c = cmp_word(v, first_word(v, a), first_word(v, b));
    if (c)
        return c;
    if (a->nwords != b->nwords)
        return a->nwords > b->nwords ? -1 : 1;
    for (size_t i = 1; i < a->nwords; i++)
        if ((c = cmp_word(v, &v->words[a->words + i], &v->words[b->words + i])))
            return c;
    if (a->cls != b->cls)
        return a->cls < b->cls ? -1 : 1;
    return *(const uint32_t *)pa < *(const uint32_t *)pb ? -1 : 1;
}

static const char *key_of(const ex_vocab *v, const ex_word *w, size_t *len)
{
    if (w->kind == EX_W_NUMBER) {
        *len = sizeof NUMBER_KEY - 1;
        return NUMBER_KEY;
    }
    *len = w->len;
    return v->pool + w->off;
}

/* memcmp(a, b, n) == 0 for the short words of phrases, without the call. */
static inline int same_bytes(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static struct slot *find_slot(const ex_vocab *v, const char *k, size_t n, uint32_t h)
{
    for (size_t i = h & v->tabmask;; i = (i + 1) & v->tabmask) {
        struct slot *s = &v->table[i];
        if (!s->hash)
            return s;
        if (s->hash == h && s->len == n) {
            const char *sk = s->off == UINT32_MAX ? NUMBER_KEY : v->pool + s->off;
            if (same_bytes(sk, k, n))
                return s;
        }
    }
}

static uint32_t pair_hash(uint32_t slot, uint32_t hash2)
{
    return (hash2 ^ (slot * 0x9E3779B1u)) * 0x85EBCA6Bu;
}

static struct pair *find_pair(const ex_vocab *v, uint32_t slot, uint32_t hash2)
{
    for (size_t i = pair_hash(slot, hash2) & v->pairmask;; i = (i + 1) & v->pairmask) {
        struct pair *p = &v->pairs[i];
        if (!p->count || (p->slot == slot && p->hash2 == hash2))
            return p;
    }
}

/* A zeroed open-addressing table for n keys: a power of two of at least 2n + 2 slots of
 * `slot` bytes; its size - 1 in *mask. */
static void *hash_table(size_t n, size_t slot, size_t *mask)
{
    size_t size = 16;
    while (size < n * 2 + 2)
        size *= 2;
    void *t = ex_xrealloc(NULL, size * slot);
    memset(t, 0, size * slot);
    *mask = size - 1;
    return t;
}

/* Candidates of one run with a literal second word, by that word's hash, then in order. */
static int cmp_by_hash2(const void *pa, const void *pb)
{
    const struct cand *a = &sort_vocab->cands[*(const uint32_t *)pa];
    const struct cand *b = &sort_vocab->cands[*(const uint32_t *)pb];
    if (a->hash2 != b->hash2)
        return a->hash2 < b->hash2 ? -1 : 1;
    return *(const uint32_t *)pa < *(const uint32_t *)pb ? -1 : 1;
}

/* The second-word groups (struct ex_vocab: picks, pairs), once the table is built. */
static void build_pairs(ex_vocab *v)
{
    v->pairs = hash_table(v->n, sizeof *v->pairs, &v->pairmask);
    v->picks = ex_xrealloc(NULL, (v->n ? v->n : 1) * sizeof *v->picks);
    size_t np = 0;
    sort_vocab = v;
    for (size_t t = 0; t <= v->tabmask; t++) {
        struct slot *s = &v->table[t];
        if (!s->hash)
            continue;
        s->other_first = (uint32_t)np;
        for (uint32_t k = s->first; k < s->first + s->count; k++)
            if (!v->cands[k].literal2)
                v->picks[np++] = k;
        s->other_count = (uint32_t)np - s->other_first;
        size_t lit = np;
        for (uint32_t k = s->first; k < s->first + s->count; k++)
            if (v->cands[k].literal2)
                v->picks[np++] = k;
        s->literal2 = np > lit;
        qsort(v->picks + lit, np - lit, sizeof *v->picks, cmp_by_hash2);
        for (size_t g = lit; g < np;) {
            uint32_t h2 = v->cands[v->picks[g]].hash2;
            size_t e = g + 1;
            while (e < np && v->cands[v->picks[e]].hash2 == h2)
                e++;
            struct pair *p = find_pair(v, (uint32_t)t, h2);
            *p = (struct pair){(uint32_t)t, h2, (uint32_t)g, (uint32_t)(e - g)};
            g = e;
        }
    }
    sort_vocab = NULL;
}

static int build_index(loader *ld)
{
    ex_vocab *v = ld->v;
    v->order = ex_xrealloc(NULL, (v->n ? v->n : 1) * sizeof *v->order);
    for (size_t i = 0; i < v->n; i++)
        v->order[i] = (uint32_t)i;
    sort_vocab = v;
    qsort(v->order, v->n, sizeof *v->order, cmp_entries);
    sort_vocab = NULL;
    /* the same phrase twice in one class is a mistake: which name would win? */
    for (size_t i = 1; i < v->n; i++) {
        const ex_entry *a = &v->entries[v->order[i - 1]], *b = &v->entries[v->order[i]];
        if (a->cls != b->cls || a->nwords != b->nwords)
            continue;
        size_t k = 0;
        while (k < a->nwords && !cmp_word(v, &v->words[a->words + k], &v->words[b->words + k]))
            k++;
        if (k == a->nwords) {
            const ex_entry *later = v->order[i - 1] > v->order[i] ? a : b;
            const ex_entry *earlier = later == a ? b : a;
            char where[300];
            snprintf(where, sizeof where, "%s:%d", earlier->file, earlier->line);
            ld->line = later->line;
            char path[300];
            snprintf(path, sizeof path, "%s", later->file);
            return imr_error_set(ld->err, IMR_EX_DATAERR, path, later->line,
                                 "'%s' is already a %s phrase at %s (same words once folded)",
                                 later->phrase, ex_class_name((ex_class)later->cls), where);
        }
    }
    v->cands = ex_xrealloc(NULL, (v->n ? v->n : 1) * sizeof *v->cands);
    for (size_t i = 0; i < v->n; i++) {
        const ex_entry *e = &v->entries[v->order[i]];
        const ex_word *w = &v->words[e->words];
        struct cand *c = &v->cands[i];
        c->entry = v->order[i];
        c->nwords = e->nwords;
        c->upper0 = w[0].upper;
        c->literal2 = e->nwords > 1 && w[1].kind == EX_W_LITERAL;
        c->hash2 = c->literal2 ? w[1].hash : 0;
    }
    v->table = hash_table(v->n, sizeof *v->table, &v->tabmask);
    for (size_t i = 0; i < v->n;) {
        const ex_word *w = first_word(v, &v->entries[v->order[i]]);
        size_t j = i + 1;
        while (j < v->n && !cmp_word(v, first_word(v, &v->entries[v->order[j]]), w))
            j++;
        /* capitals and lower case of one word share a slot: the run is by folded text */
        size_t n;
        const char *k = key_of(v, w, &n);
        uint32_t h = hash_bytes(k, n);
        struct slot *s = find_slot(v, k, n, h);
        if (!s->hash) {
            s->hash = h;
            s->off = w->kind == EX_W_NUMBER ? UINT32_MAX : w->off;
            s->len = (uint32_t)n;
            s->first = (uint32_t)i;
            s->count = 0;
        }
        s->count = (uint32_t)(j - s->first);
        i = j;
    }
    build_pairs(v);
    size_t nk = sizeof NUMBER_KEY - 1;
    const struct slot *ns = find_slot(v, NUMBER_KEY, nk, hash_bytes(NUMBER_KEY, nk));
    v->number_slot = ns->hash ? ns : NULL;
    return IMR_OK;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int ex_vocab_load(const char *dir, ex_vocab **out, imr_error *err)
{
    *out = NULL;
    DIR *dp = opendir(dir);
    if (!dp)
        return imr_error_set(err, IMR_EX_NOINPUT, dir, 0,
                             "cannot open the extraction vocabulary folder: %s", strerror(errno));
    char **names = NULL;
    size_t nn = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(dp))) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l < 5 || strcmp(de->d_name + l - 4, ".tsv"))
            continue;
        if (nn == cap) {
            cap = cap ? cap * 2 : 16;
            names = ex_xrealloc(names, cap * sizeof *names);
        }
        names[nn++] = strdup(de->d_name);
    }
    closedir(dp);
    if (nn)
        qsort(names, nn, sizeof *names, cmp_names);
    ex_vocab *v = ex_xrealloc(NULL, sizeof *v);
    memset(v, 0, sizeof *v);
    v->arena = imr_arena_new();
    loader ld = {.v = v, .err = err};
    int st = IMR_OK;
    if (nn == 0)
        st = imr_error_set(err, IMR_EX_NOINPUT, dir, 0, "no .tsv files in the extraction vocabulary folder");
    for (size_t i = 0; i < nn && !st; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        st = load_file(&ld, path, names[i]);
    }
    for (size_t i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    if (!st)
        st = build_index(&ld);
    ex_doc_free(&ld.scratch);
    if (st) {
        ex_vocab_free(v);
        return st;
    }
    *out = v;
    return IMR_OK;
}

/* ---------------------------------------------------------------------------------------
 * The process-wide vocabulary
 * ------------------------------------------------------------------------------------- */
static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static ex_vocab *default_vocab;
static imr_error default_err;

static void default_free(void) { ex_vocab_free(default_vocab); }

static void default_load(void)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/extract", imr_rules_dir());
    if (ex_vocab_load(dir, &default_vocab, &default_err) == IMR_OK)
        atexit(default_free);
}

const ex_vocab *ex_vocab_default(imr_error *err)
{
    pthread_once(&default_once, default_load);
    if (!default_vocab && err)
        *err = default_err;
    return default_vocab;
}

/* ---------------------------------------------------------------------------------------
 * Matching
 * ------------------------------------------------------------------------------------- */
static const struct slot *lookup_hashed(const ex_vocab *v, const char *k, size_t n, uint32_t h)
{
    if (!v->n)
        return NULL;
    const struct slot *s = find_slot(v, k, n, h);
    return s->hash ? s : NULL;
}

static const struct slot *lookup(const ex_vocab *v, const char *k, size_t n)
{
    return lookup_hashed(v, k, n, hash_bytes(k, n));
}

static int word_matches(const ex_vocab *v, const ex_word *w, const ex_doc *d, size_t i)
{
    const ex_token *t = &d->tok[i];
    if (w->kind == EX_W_NUMBER)
        return t->kind == EX_NUMBER;
    return t->hash == w->hash && t->flen == w->len &&
           same_bytes(d->fold + t->fold, v->pool + w->off, w->len) &&
           (!w->upper || (t->flags & EX_F_UPPER));
}

/* 1 when token i is a one-word conjunction ("and", "or"): a gap does not run over one, so
 * "decreased ... range of motion" does not join "decreased sensation and range of motion". */
static int gap_stop(const ex_vocab *v, const ex_doc *d, size_t i)
{
    const ex_token *t = &d->tok[i];
    if (t->kind == EX_PUNCT)
        return d->fold[t->fold] != '-';
    const struct slot *s = lookup(v, d->fold + t->fold, t->flen);
    for (uint32_t k = 0; s && k < s->count; k++) {
        const ex_entry *e = &v->entries[v->order[s->first + k]];
        if (e->cls == EX_C_CONJUNCTION && e->nwords == 1)
            return 1;
    }
    return 0;
}

/* Match the words of `e` from word w on at token i; the end token, or 0. A gap takes as
 * few words as it can. */
static size_t match_from(const ex_vocab *v, const ex_entry *e, size_t w, const ex_doc *d,
                         size_t i, size_t send)
{
    for (; w < e->nwords; w++, i++) {
        const ex_word *wd = &v->words[e->words + w];
        if (wd->kind == EX_W_GAP) {
            for (size_t k = 0; k <= EX_GAP_WORDS && i + k < send; k++) {
                if (k && gap_stop(v, d, i + k - 1))
                    break;
                size_t r = match_from(v, e, w + 1, d, i + k, send);
                if (r)
                    return r;
            }
            return 0;
        }
        if (i >= send || !word_matches(v, wd, d, i))
            return 0;
    }
    return i;
}

static void match_run(const ex_vocab *v, ex_doc *d, size_t i, const struct slot *s)
{
    size_t send = d->nsent ? d->sent[d->tok[i].sent].end : d->ntok;
    uint32_t next_hash = i + 1 < send ? d->tok[i + 1].hash : 0;
    int upper = (d->tok[i].flags & EX_F_UPPER) != 0;
    /* The run's candidates that can match: those whose second word is no literal, and the
     * group whose second word hashes like the next token; merged back into run order. */
    const uint32_t *a = v->picks + s->other_first, *b = NULL;
    size_t na = s->other_count, nb = 0;
    if (next_hash && s->literal2) {
        const struct pair *p = find_pair(v, (uint32_t)(s - v->table), next_hash);
        if (p->count) {
            b = v->picks + p->first;
            nb = p->count;
        }
    }
    while (na || nb) {
        uint32_t k;
        if (nb && (!na || *b < *a))
            k = *b++, nb--;
        else
            k = *a++, na--;
        /* the first word is the bucket's key: only its capitals remain to check */
        const struct cand *c = &v->cands[k];
        if ((c->upper0 && !upper) || (c->literal2 && c->hash2 != next_hash))
            continue;
        uint32_t ei = c->entry;
        const ex_entry *e = &v->entries[ei];
        size_t stop = e->nwords == 1 ? i + 1 : match_from(v, e, 1, d, i + 1, send);
        if (!stop)
            continue;
        if (d->nmatches == d->capmatches) {
            d->capmatches = d->capmatches ? d->capmatches * 2 : 64;
            d->matches = ex_xrealloc(d->matches, d->capmatches * sizeof *d->matches);
        }
        ex_match *m = &d->matches[d->nmatches++];
        m->entry = ei;
        m->cls = e->cls;
        m->first = (uint32_t)i;
        m->end = (uint32_t)stop;
    }
}

/* Longest first; stable (insertion sort: a token has a handful of matches). */
static void sort_longest_first(ex_match *m, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        ex_match x = m[i];
        size_t j = i;
        while (j > 0 && m[j - 1].end < x.end) {
            m[j] = m[j - 1];
            j--;
        }
        m[j] = x;
    }
}

void ex_vocab_match(const ex_vocab *v, ex_doc *d)
{
    d->nmatches = 0;
    for (size_t i = 0; i < d->ntok; i++) {
        ex_token *t = &d->tok[i];
        size_t before = d->nmatches;
        const struct slot *s = lookup_hashed(v, d->fold + t->fold, t->flen, t->hash);
        if (s)
            match_run(v, d, i, s);
        if (t->kind == EX_NUMBER && v->number_slot)
            match_run(v, d, i, v->number_slot);
        t->first = (uint32_t)before;
        t->nmatch = (uint16_t)(d->nmatches - before > 65535 ? 65535 : d->nmatches - before);
        if (t->nmatch > 1) /* gaps and the two runs of numbers: longest first again */
            sort_longest_first(d->matches + before, t->nmatch);
        t->classes = 0;
        for (size_t k = 0; k < t->nmatch; k++)
            t->classes |= 1ull << d->matches[before + k].cls;
    }
}


int ex_vocab_is_abbreviation(const ex_vocab *v, const ex_doc *d, size_t i)
{
    const ex_token *t = &d->tok[i];
    const struct slot *s = lookup(v, d->fold + t->fold, t->flen);
    if (!s)
        return 0;
    for (uint32_t k = 0; k < s->count; k++) {
        const ex_entry *e = &v->entries[v->order[s->first + k]];
        if (e->cls == EX_C_ABBREVIATION && e->nwords == 1)
            return 1;
    }
    return 0;
}
