/*
 * test_extract.c - clinical extraction (imr_extract, imr_assertion_at, imr_facts_to_json):
 *   - negation scope, ConText-style, on short sentences (tests/extract/assertions.txt);
 *   - each fact type on short texts (tests/extract/facts.jsonl);
 *   - the seed letters (IMR_SEEDS_DIR): what the brief names, seed by seed;
 *   - the precision / recall evaluation over the hand-annotated texts of tests/facts/ with
 *     the matching rule of tests/facts/README.md (set IMR_EXTRACT_VERBOSE=1 to list every
 *     miss and every extra);
 *   - the vocabulary's validation at load (through the imr command and a bad rules folder),
 *     odd inputs, determinism and JSON output (speed is measured by bench/engine).
 */
#include "support.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FIXTURES IMR_TESTS_DIR "/extract"

static const imr_lexicon *lexicon(void)
{
    imr_error err = {0};
    const imr_lexicon *lx = imr_default_lexicon(&err);
    if (!lx)
        fail_msg("the drug lexicon does not load: %s:%d: %s", err.where, err.line, err.message);
    return lx;
}

/* Extract from a NUL-terminated text into `a`. */
static imr_facts extract(const char *text, imr_arena *a)
{
    imr_facts f = {0};
    imr_error err = {0};
    int st = imr_extract(text, strlen(text), "test", lexicon(), a, &f, &err);
    if (st)
        fail_msg("imr_extract failed: %s:%d: %s", err.where, err.line, err.message);
    return f;
}

static int eq(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

/* The first fact of `type` (and `name`, when given) whose evidence is `text_part`, else
 * the first whose evidence contains it. */
static const imr_fact *find_fact(const imr_facts *f, const char *type, const char *name,
                                 const char *text_part)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < f->n; i++) {
            const imr_fact *x = &f->v[i];
            if (strcmp(x->type, type) || (name && !eq(x->name, name)))
                continue;
            if (text_part && (pass == 0 ? strcmp(x->evidence.text, text_part) != 0
                                        : !strstr(x->evidence.text, text_part)))
                continue;
            return x;
        }
    return NULL;
}

static void dump_facts(const imr_facts *f)
{
    for (size_t i = 0; i < f->n; i++) {
        const imr_fact *x = &f->v[i];
        print_message("    %s %s name=%s value=%s qual=%s date=%s dur=%s attr=%s \"%s\"\n", x->type,
                      imr_assertion_name(x->assertion), x->name ? x->name : "-",
                      x->value ? x->value : "-", x->qualifier ? x->qualifier : "-",
                      x->date ? x->date : "-", x->duration ? x->duration : "-",
                      x->attributed_to ? x->attributed_to : "-", x->evidence.text);
    }
}

/* ---------------------------------------------------------------------------------------
 * Negation scope: "assertion<TAB>sentence with [[the target]]" per line.
 * ------------------------------------------------------------------------------------- */
static void assertion_scope(void **state)
{
    (void)state;
    char *all = ts_read(FIXTURES "/assertions.txt", NULL);
    assert_non_null(all);
    int cases = 0, bad = 0;
    for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#' || !line[0])
            continue;
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        *tab = '\0';
        const char *want = line, *marked = tab + 1;
        const char *open = strstr(marked, "[["), *close = open ? strstr(open, "]]") : NULL;
        assert_non_null(close);
        char text[1024];
        size_t pre = (size_t)(open - marked), mid = (size_t)(close - open - 2);
        snprintf(text, sizeof text, "%.*s%.*s%s", (int)pre, marked, (int)mid, open + 2, close + 2);
        imr_assertion got = imr_assertion_at(text, strlen(text), pre, pre + mid);
        cases++;
        if (strcmp(imr_assertion_name(got), want)) {
            print_message("  expected %s, got %s: %s\n", want, imr_assertion_name(got), marked);
            bad++;
        }
    }
    free(all);
    print_message("  %d assertion cases, %d wrong\n", cases, bad);
    assert_true(cases >= 40);
    assert_int_equal(bad, 0);
}

/* ---------------------------------------------------------------------------------------
 * Fact types: tests/extract/facts.jsonl, one case per line:
 *   {"text": ..., "facts": [{"type", "assertion", "span", and optional fields}],
 *    "absent": [{"type", "name"?, "span"?}]}
 * Every listed fact must be extracted (the extracted span contains "span"); no "absent"
 * fact may be.
 * ------------------------------------------------------------------------------------- */
static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int fact_matches(const imr_fact *x, json_t *want)
{
    static const char *const fields[] = {"name", "value", "qualifier", "date", "duration", "attributed_to"};
    if (strcmp(x->type, jstr(want, "type")))
        return 0;
    const char *as = jstr(want, "assertion");
    if (as && strcmp(imr_assertion_name(x->assertion), as))
        return 0;
    const char *span = jstr(want, "span");
    if (span && !strstr(x->evidence.text, span) && !strstr(span, x->evidence.text))
        return 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        json_t *v = json_object_get(want, fields[i]);
        if (!v)
            continue;
        const char *got = !strcmp(fields[i], "name")        ? x->name
                          : !strcmp(fields[i], "value")     ? x->value
                          : !strcmp(fields[i], "qualifier") ? x->qualifier
                          : !strcmp(fields[i], "date")      ? x->date
                          : !strcmp(fields[i], "duration")  ? x->duration
                                                            : x->attributed_to;
        if (json_is_null(v) ? got != NULL : !eq(got, json_string_value(v)))
            return 0;
    }
    json_t *score = json_object_get(want, "score");
    if (score && fabs(x->score - json_number_value(score)) > 1e-9)
        return 0;
    json_t *score2 = json_object_get(want, "score2");
    if (score2 && fabs(x->score2 - json_number_value(score2)) > 1e-9)
        return 0;
    return 1;
}

static void fact_types(void **state)
{
    (void)state;
    char *all = ts_read(FIXTURES "/facts.jsonl", NULL);
    assert_non_null(all);
    int cases = 0, bad = 0, line_no = 0;
    imr_arena *a = imr_arena_new();
    for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n")) {
        line_no++;
        if (line[0] == '#' || !line[0])
            continue;
        json_error_t je;
        json_t *c = json_loads(line, 0, &je);
        if (!c)
            fail_msg("facts.jsonl, case on line %d: %s", line_no, je.text);
        const char *text = jstr(c, "text");
        assert_non_null(text);
        imr_facts f = extract(text, a);
        int ok = 1;
        size_t i;
        json_t *want;
        json_array_foreach(json_object_get(c, "facts"), i, want) {
            size_t k = 0;
            while (k < f.n && !fact_matches(&f.v[k], want))
                k++;
            if (k == f.n) {
                char *s = json_dumps(want, JSON_COMPACT);
                print_message("  line %d: missing %s\n", line_no, s);
                free(s);
                ok = 0;
            }
        }
        json_array_foreach(json_object_get(c, "absent"), i, want) {
            for (size_t k = 0; k < f.n; k++)
                if (fact_matches(&f.v[k], want)) {
                    char *s = json_dumps(want, JSON_COMPACT);
                    print_message("  line %d: unexpected %s (\"%s\")\n", line_no, s, f.v[k].evidence.text);
                    free(s);
                    ok = 0;
                }
        }
        if (!ok) {
            print_message("  text: %s\n  extracted:\n", text);
            dump_facts(&f);
            bad++;
        }
        cases++;
        json_decref(c);
        imr_arena_reset(a);
    }
    imr_arena_free(a);
    free(all);
    print_message("  %d fact cases, %d failing\n", cases, bad);
    assert_true(cases >= 30);
    assert_int_equal(bad, 0);
}

/* ---------------------------------------------------------------------------------------
 * The seed letters
 * ------------------------------------------------------------------------------------- */
static char *seed_text(const char *prefix)
{
    char **names;
    size_t n = ts_list(IMR_SEEDS_DIR, ".txt", &names);
    char *text = NULL;
    for (size_t i = 0; i < n && !text; i++)
        if (!strncmp(names[i], prefix, strlen(prefix))) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", IMR_SEEDS_DIR, names[i]);
            text = ts_read(path, NULL);
        }
    ts_list_free(names, n);
    return text;
}

#define NEED_SEEDS()                                                                     \
    do {                                                                                 \
        if (!ts_dir_exists(IMR_SEEDS_DIR)) {                                             \
            print_message("  skipped: no seed letters at %s\n", IMR_SEEDS_DIR);          \
            skip();                                                                      \
        }                                                                                \
    } while (0)

/* The last fact of `type` named `name`. */
static const imr_fact *last_fact(const imr_facts *f, const char *type, const char *name)
{
    for (size_t i = f->n; i-- > 0;)
        if (!strcmp(f->v[i].type, type) && eq(f->v[i].name, name))
            return &f->v[i];
    fail_msg("no %s fact named %s", type, name);
    return NULL;
}

static const imr_fact *expect_fact(const imr_facts *f, const char *type, const char *name,
                                   const char *text_part)
{
    const imr_fact *x = find_fact(f, type, name, text_part);
    if (!x) {
        dump_facts(f);
        fail_msg("no %s fact named %s with \"%s\"", type, name ? name : "(any)", text_part ? text_part : "");
    }
    return x;
}

static void seed_000_norco_without_improvement(void **state)
{
    (void)state;
    NEED_SEEDS();
    char *t = seed_text("000_");
    assert_non_null(t);
    imr_arena *a = imr_arena_new();
    imr_facts f = extract(t, a);
    const imr_fact *x = expect_fact(&f, "age", NULL, "67");
    assert_string_equal(x->value, "67");
    assert_string_equal(expect_fact(&f, "sex", NULL, "male")->value, "male");
    assert_string_equal(expect_fact(&f, "date_of_injury", NULL, NULL)->value, "2000-08-11");
    x = expect_fact(&f, "pain_score", NULL, "6/10");
    assert_string_equal(x->name, "cervical spine");
    assert_string_equal(x->date, "2013-12-12");
    x = expect_fact(&f, "medication", "hydrocodone/acetaminophen", NULL);
    x = find_fact(&f, "improvement", "pain", "improvement in pain or function");
    assert_non_null(x);
    assert_int_equal(x->assertion, IMR_ASSERT_NEGATED);
    x = expect_fact(&f, "surgery_history", NULL, "discectomy and fusion");
    x = expect_fact(&f, "exam_finding", "tenderness", NULL);
    assert_int_equal(x->assertion, IMR_ASSERT_AFFIRMED);
    imr_arena_free(a);
    free(t);
}

static void seed_001_since_at_least(void **state)
{
    (void)state;
    NEED_SEEDS();
    char *t = seed_text("001_");
    assert_non_null(t);
    imr_arena *a = imr_arena_new();
    imr_facts f = extract(t, a);
    const imr_fact *x = expect_fact(&f, "medication", "hydrocodone/acetaminophen", NULL);
    int norco = 0, soma = 0;
    for (size_t i = 0; i < f.n; i++) {
        const imr_fact *m = &f.v[i];
        if (strcmp(m->type, "medication") || !m->duration)
            continue;
        assert_string_equal(m->duration, "since at least May 2015");
        norco += !strcmp(m->name, "hydrocodone/acetaminophen");
        soma += !strcmp(m->name, "carisoprodol");
    }
    assert_true(norco >= 1 && soma >= 1);
    x = expect_fact(&f, "pain_score", NULL, "7 of 10");
    assert_string_equal(x->value, "7/10");
    /* "There was no mention of Tylenol, NSAID, Tricyclic or weaning failure": each one */
    static const char *const trials[] = {"acetaminophen", "nsaid", "tricyclic"};
    for (size_t i = 0; i < 3; i++) {
        x = expect_fact(&f, "medication_trial", trials[i], NULL);
        assert_int_equal(x->assertion, IMR_ASSERT_NEGATED);
    }
    /* "without documentation of pain score reduction with medication" */
    x = expect_fact(&f, "improvement", "pain", "pain score reduction");
    assert_int_equal(x->assertion, IMR_ASSERT_NEGATED);
    /* requested, not taken */
    int requested = 0;
    for (size_t i = 0; i < f.n; i++)
        requested += !strcmp(f.v[i].type, "medication") && f.v[i].assertion == IMR_ASSERT_HYPOTHETICAL;
    assert_true(requested >= 2);
    x = expect_fact(&f, "exam_finding", "spurling", NULL);
    assert_int_equal(x->assertion, IMR_ASSERT_AFFIRMED);
    imr_arena_free(a);
    free(t);
}

static void seed_002_inconsistent_screen(void **state)
{
    (void)state;
    NEED_SEEDS();
    char *t = seed_text("002_");
    assert_non_null(t);
    imr_arena *a = imr_arena_new();
    imr_facts f = extract(t, a);
    int screens = 0;
    for (size_t i = 0; i < f.n; i++) {
        const imr_fact *x = &f.v[i];
        if (strcmp(x->type, "urine_drug_screen") || strcmp(x->value, "inconsistent"))
            continue;
        screens++;
        assert_string_equal(x->name, "tramadol/ethyl alcohol");
        assert_string_equal(x->date, "2015-06-24");
        assert_int_equal(x->assertion, IMR_ASSERT_AFFIRMED);
    }
    assert_int_equal(screens, 2); /* the summary and the rationale say it */
    /* tramadol found in the urine is no medication fact of that sentence */
    const imr_fact *x = expect_fact(&f, "medication_trial", "tramadol", NULL);
    int with_duration = 0;
    for (size_t i = 0; i < f.n; i++)
        if (!strcmp(f.v[i].type, "medication") && f.v[i].duration) {
            assert_string_equal(f.v[i].name, "hydrocodone/acetaminophen");
            assert_string_equal(f.v[i].duration, "on and off since at least 2014");
            with_duration++;
        }
    assert_int_equal(with_duration, 1);
    x = expect_fact(&f, "second_opinion", "surgical", "two surgical opinions");
    assert_true(x->score == 2);
    assert_int_equal(x->assertion, IMR_ASSERT_AFFIRMED);
    assert_string_equal(expect_fact(&f, "work_status", NULL, "retired")->value, "retired");
    x = expect_fact(&f, "pain_score", NULL, "8 out of 10");
    assert_string_equal(x->value, "8/10");
    x = expect_fact(&f, "exam_finding", "negative straight leg raise", NULL);
    assert_int_equal(x->assertion, IMR_ASSERT_AFFIRMED);
    /* "The records provided do not specify that that patient has set goals" */
    x = last_fact(&f, "treatment_goals", NULL);
    assert_int_equal(x->assertion, IMR_ASSERT_NEGATED);
    imr_arena_free(a);
    free(t);
}

static void seed_003_normal_neuro_exam(void **state)
{
    (void)state;
    NEED_SEEDS();
    char *t = seed_text("003_");
    assert_non_null(t);
    imr_arena *a = imr_arena_new();
    imr_facts f = extract(t, a);
    assert_string_equal(expect_fact(&f, "date_of_injury", NULL, NULL)->value, "1993-10-27");
    assert_string_equal(expect_fact(&f, "sex", NULL, NULL)->value, "male");
    const imr_fact *x = expect_fact(&f, "exam_finding", "normal neurological exam", NULL);
    assert_int_equal(x->assertion, IMR_ASSERT_AFFIRMED);
    x = expect_fact(&f, "prior_treatment", "injection", "bursa injection");
    assert_int_equal(x->assertion, IMR_ASSERT_AFFIRMED);
    x = expect_fact(&f, "prior_treatment", "home exercise", NULL);
    /* "no objectification of a spinal cord injury or spasticity" */
    x = last_fact(&f, "indication", "spinal cord injury");
    assert_int_equal(x->assertion, IMR_ASSERT_NEGATED);
    x = last_fact(&f, "indication", "spasticity");
    assert_int_equal(x->assertion, IMR_ASSERT_NEGATED);
    imr_arena_free(a);
    free(t);
}

static void seed_004_relief_after_injections(void **state)
{
    (void)state;
    NEED_SEEDS();
    char *t = seed_text("004_");
    assert_non_null(t);
    imr_arena *a = imr_arena_new();
    imr_facts f = extract(t, a);
    const imr_fact *x = expect_fact(&f, "improvement", "pain", "relief");
    assert_string_equal(x->attributed_to, "injection");
    x = expect_fact(&f, "pain_score", NULL, "7-8/10");
    assert_string_equal(x->value, "7-8/10");
    assert_true(x->score == 7.5 && x->score2 == 4.5);
    assert_string_equal(x->attributed_to, "injection"); /* not Norco */
    x = expect_fact(&f, "pain_score", NULL, "5/10");
    assert_string_equal(x->name, "toe");
    x = expect_fact(&f, "diagnosis", "crps", "reflex sympathetic dystrophy");
    x = expect_fact(&f, "prior_treatment", "sympathetic block", NULL);
    assert_true(x->score == 2);
    x = expect_fact(&f, "medication", "pregabalin", NULL);
    /* "The plan of care includes prescription refills for Lyrica, Valium, Zanaflex and Norco" */
    x = expect_fact(&f, "medication", "diazepam", NULL);
    assert_int_equal(x->assertion, IMR_ASSERT_HYPOTHETICAL);
    /* "does not have clear exacerbation of back pain and spasm" */
    x = last_fact(&f, "indication", "acute exacerbation");
    assert_int_equal(x->assertion, IMR_ASSERT_NEGATED);
    imr_arena_free(a);
    free(t);
}

/* ---------------------------------------------------------------------------------------
 * Precision and recall over tests/facts/ (matching rule: tests/facts/README.md)
 * ------------------------------------------------------------------------------------- */
#define MIN_TEXTS 40
#define TARGET 0.95

typedef struct tally {
    char type[32];
    int expected, extracted, matched_expected, matched_extracted;
} tally;

static tally *tally_of(tally *t, int *n, const char *type)
{
    for (int i = 0; i < *n; i++)
        if (!strcmp(t[i].type, type))
            return &t[i];
    snprintf(t[*n].type, sizeof t[*n].type, "%s", type);
    return &t[(*n)++];
}

/* Byte span of the occurrence-th match of `text` (overlapping matches count). */
static int expected_span(const char *src, const char *text, int occurrence, size_t *start, size_t *end)
{
    const char *p = src;
    for (int k = 0; (p = strstr(p, text)); k++, p++)
        if (k + 1 == occurrence) {
            *start = (size_t)(p - src);
            *end = *start + strlen(text);
            return 1;
        }
    return 0;
}

static int matches_expected(const imr_fact *x, json_t *e, size_t es, size_t ee)
{
    static const char *const fields[] = {"name", "value", "qualifier", "attributed_to", "date", "duration"};
    if (strcmp(x->type, jstr(e, "type")) || strcmp(imr_assertion_name(x->assertion), jstr(e, "assertion")))
        return 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *want = jstr(e, fields[i]);
        if (!want)
            continue;
        const char *got = i == 0 ? x->name : i == 1 ? x->value : i == 2 ? x->qualifier
                        : i == 3 ? x->attributed_to : i == 4 ? x->date : x->duration;
        if (!got || strcmp(got, want))
            return 0;
    }
    return x->evidence.start < ee && es < x->evidence.end;
}

typedef struct expected_fact {
    json_t *j;
    size_t start, end;
} expected_fact;

static int cmp_expected(const void *a, const void *b)
{
    const expected_fact *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static void annotated_set(void **state)
{
    (void)state;
    const char *dir = IMR_TESTS_DIR "/facts";
    char **names;
    size_t n = ts_list(dir, ".txt", &names);
    if (n == 0) {
        ts_list_free(names, n);
        print_message("  skipped: no annotated texts in %s\n", dir);
        skip();
    }
    int verbose = getenv("IMR_EXTRACT_VERBOSE") != NULL;
    tally t[64];
    int nt = 0;
    memset(t, 0, sizeof t);
    imr_arena *a = imr_arena_new();
    size_t texts = 0;
    for (size_t i = 0; i < n; i++) {
        char path[1024], jpath[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(jpath, sizeof jpath, "%s/%.*s.facts.json", dir, (int)(strlen(names[i]) - 4), names[i]);
        char *src = ts_read(path, NULL);
        char *js = ts_read(jpath, NULL);
        if (!src || !js)
            fail_msg("%s: missing text or annotations", names[i]);
        json_error_t je;
        json_t *root = json_loads(js, 0, &je);
        if (!root)
            fail_msg("%s: %d: %s", jpath, je.line, je.text);
        texts++;
        imr_facts f = extract(src, a);
        json_t *arr = json_object_get(root, "facts");
        size_t ne = json_array_size(arr);
        expected_fact *ex = calloc(ne + 1, sizeof *ex);
        for (size_t k = 0; k < ne; k++) {
            json_t *e = json_array_get(arr, k);
            json_t *occ = json_object_get(e, "occurrence");
            ex[k].j = e;
            if (!expected_span(src, jstr(e, "text"), occ ? (int)json_integer_value(occ) : 1, &ex[k].start, &ex[k].end))
                fail_msg("%s: \"%s\" does not occur in the text", names[i], jstr(e, "text"));
        }
        qsort(ex, ne, sizeof *ex, cmp_expected);
        char *used = calloc(f.n + 1, 1);
        for (size_t k = 0; k < ne; k++) {
            tally *ty = tally_of(t, &nt, jstr(ex[k].j, "type"));
            ty->expected++;
            size_t m = 0;
            while (m < f.n && (used[m] || !matches_expected(&f.v[m], ex[k].j, ex[k].start, ex[k].end)))
                m++;
            if (m < f.n) {
                used[m] = 1;
                ty->matched_expected++;
            } else if (verbose) {
                char *s = json_dumps(ex[k].j, JSON_COMPACT);
                print_message("  %s: MISSED %s\n", names[i], s);
                free(s);
            }
        }
        for (size_t m = 0; m < f.n; m++) {
            tally *ty = tally_of(t, &nt, f.v[m].type);
            ty->extracted++;
            ty->matched_extracted += used[m];
            if (!used[m] && verbose) {
                const imr_fact *x = &f.v[m];
                print_message("  %s: EXTRA %s %s name=%s value=%s qual=%s attr=%s date=%s dur=%s \"%s\"\n",
                              names[i], x->type, imr_assertion_name(x->assertion),
                              x->name ? x->name : "-", x->value ? x->value : "-",
                              x->qualifier ? x->qualifier : "-", x->attributed_to ? x->attributed_to : "-",
                              x->date ? x->date : "-", x->duration ? x->duration : "-", x->evidence.text);
            }
        }
        free(used);
        free(ex);
        json_decref(root);
        free(src);
        free(js);
        imr_arena_reset(a);
    }
    imr_arena_free(a);
    ts_list_free(names, n);
    int e = 0, x = 0, me = 0, mx = 0;
    print_message("  %-24s %9s %9s %9s %9s\n", "type", "expected", "extracted", "precision", "recall");
    for (int i = 0; i < nt; i++) {
        e += t[i].expected;
        x += t[i].extracted;
        me += t[i].matched_expected;
        mx += t[i].matched_extracted;
        print_message("  %-24s %9d %9d %9.3f %9.3f\n", t[i].type, t[i].expected, t[i].extracted,
                      t[i].extracted ? (double)t[i].matched_extracted / t[i].extracted : 1.0,
                      t[i].expected ? (double)t[i].matched_expected / t[i].expected : 1.0);
    }
    double precision = x ? (double)mx / x : 1.0, recall = e ? (double)me / e : 1.0;
    print_message("  %-24s %9d %9d %9.3f %9.3f   (%zu texts)\n", "overall", e, x, precision, recall, texts);
    if (texts < MIN_TEXTS) {
        print_message("  threshold %.2f not enforced: %zu annotated texts, fewer than %d\n", TARGET, texts, MIN_TEXTS);
        return;
    }
    assert_true(precision >= TARGET);
    assert_true(recall >= TARGET);
}

/* ---------------------------------------------------------------------------------------
 * Odd input, determinism, JSON
 * ------------------------------------------------------------------------------------- */
static void odd_inputs(void **state)
{
    (void)state;
    imr_arena *a = imr_arena_new();
    imr_error err = {0};
    imr_facts f = {0};
    assert_int_equal(imr_extract(NULL, 0, "x", lexicon(), a, &f, &err), IMR_OK);
    assert_int_equal(f.n, 0);
    assert_int_equal(imr_extract("", 0, "x", NULL, a, &f, &err), IMR_OK);
    /* bytes of every kind, NULs inside, stray UTF-8, no lexicon */
    char junk[4096];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (char)(x >> 16);
    }
    assert_int_equal(imr_extract(junk, sizeof junk, "junk", lexicon(), a, &f, &err), IMR_OK);
    assert_int_equal(imr_extract(junk, sizeof junk, "junk", NULL, a, &f, &err), IMR_OK);
    /* spans stay inside the text and never split a UTF-8 sequence */
    const char *u = "Pain is 7\xE2\x80\x93" "8/10 \xE2\x80\x9Cwith medications\xE2\x80\x9D and the patient\xE2\x80\x99s knee hurts. caf\xC3\xA9";
    imr_facts g = {0};
    assert_int_equal(imr_extract(u, strlen(u), "u", lexicon(), a, &g, &err), IMR_OK);
    const imr_fact *p = find_fact(&g, "pain_score", NULL, NULL);
    assert_non_null(p);
    assert_string_equal(p->value, "7-8/10");
    assert_string_equal(p->qualifier, "with_medication");
    for (size_t i = 0; i < g.n; i++) {
        size_t bad;
        assert_true(g.v[i].evidence.end <= strlen(u));
        assert_true(imr_utf8_valid(g.v[i].evidence.text, strlen(g.v[i].evidence.text), &bad));
    }
    /* pathological: one long sentence of triggers and terms, no punctuation */
    size_t big = 200000;
    char *s = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        s[i] = "no pain in the left knee without Norco 7/10 "[i % 44];
    s[big] = '\0';
    imr_facts h = {0};
    clock_t c0 = clock();
    assert_int_equal(imr_extract(s, big, "big", lexicon(), a, &h, &err), IMR_OK);
    double secs = (double)(clock() - c0) / CLOCKS_PER_SEC;
    print_message("  200 KB of run-on text: %zu facts in %.3f s\n", h.n, secs);
    assert_true(h.n > 1000);
    free(s);
    /* the assertion of odd spans */
    assert_int_equal(imr_assertion_at(NULL, 0, 0, 0), IMR_ASSERT_AFFIRMED);
    assert_int_equal(imr_assertion_at("no pain", 7, 5, 3), IMR_ASSERT_AFFIRMED);
    assert_int_equal(imr_assertion_at("no pain", 7, 3, 100), IMR_ASSERT_NEGATED);
    imr_arena_free(a);
}

static void deterministic_json(void **state)
{
    (void)state;
    const char *text = "This 52 year old man denies side effects. Pain was 8/10 and is now 3/10 "
                       "after the epidural steroid injection. He takes Norco since at least "
                       "March 2014. The request is for physical therapy.";
    imr_arena *a = imr_arena_new();
    imr_buf j1 = IMR_BUF_INIT, j2 = IMR_BUF_INIT;
    imr_error err = {0};
    imr_facts f1 = extract(text, a), f2 = extract(text, a);
    assert_int_equal(imr_facts_to_json(&f1, IMR_JSON_PRETTY, &j1, &err), IMR_OK);
    assert_int_equal(imr_facts_to_json(&f2, IMR_JSON_PRETTY, &j2, &err), IMR_OK);
    assert_string_equal(j1.data, j2.data);
    json_error_t je;
    json_t *root = json_loads(j1.data, 0, &je);
    assert_non_null(root);
    json_t *arr = json_object_get(root, "facts");
    assert_int_equal(json_array_size(arr), f1.n);
    static const char *const keys[] = {"type", "name", "value", "qualifier", "date", "duration",
                                       "attributed_to", "score", "score2", "assertion", "start",
                                       "end", "text"};
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        assert_int_equal(json_object_size(o), 13);
        for (size_t k = 0; k < 13; k++)
            assert_non_null(json_object_get(o, keys[k]));
        size_t s = (size_t)json_integer_value(json_object_get(o, "start"));
        size_t e = (size_t)json_integer_value(json_object_get(o, "end"));
        assert_true(s < e && e <= strlen(text));
        assert_memory_equal(text + s, json_string_value(json_object_get(o, "text")), e - s);
    }
    json_t *pain = NULL;
    json_array_foreach(arr, i, o) if (!strcmp(json_string_value(json_object_get(o, "type")), "pain_score")) pain = o;
    assert_non_null(pain);
    assert_int_equal(json_integer_value(json_object_get(pain, "score")), 8);
    assert_int_equal(json_integer_value(json_object_get(pain, "score2")), 3);
    assert_string_equal(json_string_value(json_object_get(pain, "attributed_to")), "epidural steroid injection");
    json_decref(root);
    /* invalid UTF-8 in a field cannot be JSON: a clear error, no crash */
    imr_fact bad = {.type = "age", .value = "\xff", .score = NAN, .score2 = NAN};
    imr_facts fb = {&bad, 1, 1};
    imr_buf j3 = IMR_BUF_INIT;
    assert_int_equal(imr_facts_to_json(&fb, IMR_JSON_COMPACT, &j3, &err), IMR_EX_DATAERR);
    assert_non_null(strstr(err.message, "facts[0].value"));
    imr_buf_free(&j1);
    imr_buf_free(&j2);
    imr_buf_free(&j3);
    imr_arena_free(a);
}

/* Several threads extracting at once give each the same facts as one thread alone (the
 * vocabulary is shared and read-only; scratch memory is per thread). */
typedef struct worker {
    const char *text;
    const char *want;
    int rounds, bad;
} worker;

static void *extract_in_thread(void *p)
{
    worker *w = p;
    imr_arena *a = imr_arena_new();
    imr_buf j = IMR_BUF_INIT;
    imr_error err = {0};
    for (int i = 0; i < w->rounds; i++) {
        imr_facts f = {0};
        imr_buf_reset(&j);
        if (imr_extract(w->text, strlen(w->text), "t", imr_default_lexicon(&err), a, &f, &err) ||
            imr_facts_to_json(&f, IMR_JSON_COMPACT, &j, &err) || strcmp(j.data, w->want))
            w->bad++;
        imr_arena_reset(a);
    }
    imr_buf_free(&j);
    imr_arena_free(a);
    return NULL;
}

static void threads(void **state)
{
    (void)state;
    char *text = ts_read(IMR_TESTS_DIR "/facts/003_crps_blocks.txt", NULL);
    if (!text)
        text = strdup("A 40 year old man denies side effects. Pain was 8/10 and now 3/10 after the block.");
    imr_arena *a = imr_arena_new();
    imr_buf want = IMR_BUF_INIT;
    imr_error err = {0};
    imr_facts f = extract(text, a);
    assert_int_equal(imr_facts_to_json(&f, IMR_JSON_COMPACT, &want, &err), IMR_OK);
    assert_true(f.n > 5);
    pthread_t t[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){text, want.data, 300, 0};
        assert_int_equal(pthread_create(&t[i], NULL, extract_in_thread, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].bad, 0);
    }
    imr_buf_free(&want);
    imr_arena_free(a);
    free(text);
}


/* ---------------------------------------------------------------------------------------
 * The vocabulary is validated at load, with file:line errors (through the command, since
 * the vocabulary is loaded once per process)
 * ------------------------------------------------------------------------------------- */
static int write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(s, f);
    return fclose(f);
}

static void vocabulary_errors(void **state)
{
    (void)state;
    static const struct {
        const char *tsv, *message;
    } cases[] = {
        {"no\ttrigger\tnegated\tpre\nwithout\ttrigger\tnegative\tpre\n", "x.tsv:2: category"},
        {"neck\tbody_part\n", "x.tsv:1: class body_part needs a name column"},
        {"# comment\n\nknee\tbody_parts\tknee\n", "x.tsv:3: unknown class 'body_parts'"},
        {"knee\tbody_part\tknee\nKnees\tbody_part\tknee\n", "x.tsv:2: 'Knees' is already a body_part phrase at x.tsv:1"},
        {"<n> year old\tage\nyear <n> <n>\tage\n", "x.tsv:2: a age phrase needs exactly one"},
        {"pain <n>\tbody_part\tknee\n", "x.tsv:1: '<n>' (a number) is not allowed"},
        {"two\tnumber\tzwei\n", "x.tsv:1: name 'zwei' is not a number"},
        {"a\tb\tc\td\te\n", "x.tsv:1: too many columns"},
        {"\tbody_part\tknee\n", "x.tsv:1: empty phrase"},
        {"... knee\tbody_part\tknee\n", "x.tsv:1: a gap '...' must stand between two words"},
        {"knee\n", "x.tsv:1: expected 'phrase<TAB>class"},
        {"ok\tpseudo\nbad \xff\tpseudo\n", "x.tsv:2: invalid UTF-8"},
    };
    char root[] = "/tmp/imr-vocab-XXXXXX";
    assert_non_null(mkdtemp(root));
    /* the rest of the rules folder, for the lexicon */
    char cmd[2048], path[1024];
    snprintf(cmd, sizeof cmd, "cp -r '%s'/. '%s'/ && rm -rf '%s/extract' && mkdir '%s/extract'",
             getenv("IMR_RULES") ? getenv("IMR_RULES") : IMR_TESTS_DIR "/../rules", root, root, root);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/extract/x.tsv", root);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(write_file(path, cases[i].tsv), 0);
        char *out = NULL;
        snprintf(cmd, sizeof cmd, "echo 'no pain' | IMR_RULES='%s' '%s' extract 2>&1", root, IMR_BINARY);
        int st = ts_run(cmd, &out);
        if (st != IMR_EX_DATAERR || !strstr(out, cases[i].message)) {
            print_message("case %zu: exit %d, wanted 65 and \"%s\", got: %s", i, st, cases[i].message, out);
            free(out);
            fail();
        }
        free(out);
    }
    /* no vocabulary at all */
    unlink(path);
    char *out = NULL;
    snprintf(cmd, sizeof cmd, "echo 'no pain' | IMR_RULES='%s' '%s' extract 2>&1", root, IMR_BINARY);
    assert_int_equal(ts_run(cmd, &out), IMR_EX_NOINPUT);
    assert_non_null(strstr(out, "no .tsv files"));
    free(out);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(assertion_scope),
        cmocka_unit_test(fact_types),
        cmocka_unit_test(seed_000_norco_without_improvement),
        cmocka_unit_test(seed_001_since_at_least),
        cmocka_unit_test(seed_002_inconsistent_screen),
        cmocka_unit_test(seed_003_normal_neuro_exam),
        cmocka_unit_test(seed_004_relief_after_injections),
        cmocka_unit_test(annotated_set),
        cmocka_unit_test(odd_inputs),
        cmocka_unit_test(deterministic_json),
        cmocka_unit_test(threads),
        cmocka_unit_test(vocabulary_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
