/*
 * test_request.c - the drug lexicon (rules/drugs.tsv with rules/requests.tsv) and request
 * parsing: the real lexicon's size and consistency, lookups, file:line errors for every
 * malformed file in tests/requests/, the data-driven cases of tests/requests/cases.tsv,
 * odd and very long requests, the once-only default lexicon under threads, and the
 * `imr request` command.
 */
#define _POSIX_C_SOURCE 200809L
#include "support.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REQ_DIR IMR_TESTS_DIR "/requests"

static const char *rules_dir(void)
{
    const char *e = getenv("IMR_RULES");
    return e && *e ? e : IMR_TESTS_DIR "/../rules";
}

static imr_lexicon *load_rules_lexicon(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/drugs.tsv", rules_dir());
    imr_lexicon *lx = NULL;
    imr_error err = {0};
    int rc = imr_lexicon_load(path, &lx, &err);
    if (rc)
        imr_error_print(&err, stderr);
    assert_int_equal(rc, IMR_OK);
    assert_non_null(lx);
    return lx;
}

/* ---------------------------------------------------------------- the real lexicon */

static void test_lexicon_size_and_classes(void **state)
{
    (void)state;
    imr_lexicon *lx = load_rules_lexicon();
    size_t n = imr_lexicon_count(lx);
    assert_true(n >= 150);
    size_t opioids = 0;
    for (size_t i = 0; i < n; i++) {
        const imr_drug *d = imr_lexicon_drug(lx, i);
        assert_non_null(d);
        if (!imr_drug_class_valid(d->drug_class))
            fail_msg("%s: unknown class %s", d->display, d->drug_class);
        assert_true(d->generics.n >= 1);
        /* every ingredient is itself an entry */
        for (size_t g = 0; g < d->generics.n; g++)
            if (!imr_lexicon_find(lx, d->generics.v[g], strlen(d->generics.v[g])))
                fail_msg("%s: ingredient %s is not an entry", d->display, d->generics.v[g]);
        /* the lookup finds each entry by its listed name */
        assert_ptr_equal(imr_lexicon_find(lx, d->display, strlen(d->display)), d);
        if (!strncmp(d->drug_class, "opioid_", 7)) {
            opioids++;
            int partial = !strcmp(d->drug_class, "opioid_partial_agonist");
            if (partial && d->mme_factor != 0)
                fail_msg("%s: buprenorphine has no MME factor", d->display);
            if (!partial && !(d->mme_factor > 0))
                fail_msg("%s: opioid without an MME factor", d->display);
        }
        if (d->mme_factor > 0) {
            /* a factor only where an ingredient is an opioid */
            int has_opioid = 0;
            for (size_t g = 0; g < d->generics.n; g++) {
                const imr_drug *ing = imr_lexicon_find(lx, d->generics.v[g], strlen(d->generics.v[g]));
                has_opioid |= ing && !strncmp(ing->drug_class, "opioid_", 7);
            }
            if (!has_opioid)
                fail_msg("%s: MME factor without an opioid ingredient", d->display);
        }
    }
    assert_true(opioids >= 40);
    assert_null(imr_lexicon_drug(lx, n));
    assert_true(imr_drug_class_valid("topical_salicylate"));
    assert_false(imr_drug_class_valid("muscle_relaxant"));
    assert_false(imr_drug_class_valid(NULL));
    imr_lexicon_free(lx);
}

/* The CDC 2016 conversion factors named in the task. */
static void test_lexicon_mme_factors(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        double mme;
    } cdc[] = {{"hydrocodone", 1},  {"oxycodone", 1.5},   {"morphine", 1},   {"hydromorphone", 4},
               {"oxymorphone", 3},  {"codeine", 0.15},    {"tramadol", 0.1}, {"tapentadol", 0.4},
               {"Duragesic", 2.4},  {"meperidine", 0.1},  {"levorphanol", 11}, {"methadone", 4.7},
               {"Norco", 1},        {"Percocet", 1.5},    {"Ultracet", 0.1}, {"Nucynta", 0.4},
               {"buprenorphine", 0}, {"Butrans", 0},      {"Suboxone", 0},   {"Soma", 0}};
    imr_lexicon *lx = load_rules_lexicon();
    for (size_t i = 0; i < sizeof cdc / sizeof cdc[0]; i++) {
        const imr_drug *d = imr_lexicon_find(lx, cdc[i].name, strlen(cdc[i].name));
        if (!d)
            fail_msg("%s is not in the lexicon", cdc[i].name);
        if (d->mme_factor < cdc[i].mme - 1e-9 || d->mme_factor > cdc[i].mme + 1e-9)
            fail_msg("%s: MME factor %g, expected %g", cdc[i].name, d->mme_factor, cdc[i].mme);
    }
    imr_lexicon_free(lx);
}

/* Names the task requires, with the class each must have. */
static void test_lexicon_required_names(void **state)
{
    (void)state;
    static const char *const names[][2] = {
        {"Norco", "opioid_short_acting"}, {"hydrocodone/acetaminophen", "opioid_short_acting"},
        {"Vicodin", "opioid_short_acting"}, {"Hydrocodone/APAP", "opioid_short_acting"},
        {"Percocet", "opioid_short_acting"}, {"OxyContin", "opioid_long_acting"},
        {"Soma", "muscle_relaxant_antispasmodic"}, {"carisoprodol", "muscle_relaxant_antispasmodic"},
        {"Flexeril", "muscle_relaxant_antispasmodic"}, {"Fexmid", "muscle_relaxant_antispasmodic"},
        {"Zanaflex", "muscle_relaxant_antispasticity"}, {"Lidoderm", "topical_lidocaine"},
        {"Terocin", "topical_compound"}, {"Ambien", "sedative_hypnotic"}, {"Prilosec", "ppi"},
        {"Anaprox DS", "nsaid"}, {"Nalfon", "nsaid"}, {"Ultram", "opioid_atypical"},
        {"Ultracet", "opioid_atypical"}, {"Nucynta", "opioid_atypical"},
        {"Butrans", "opioid_partial_agonist"}, {"Suboxone", "opioid_partial_agonist"},
        {"Lyrica", "anticonvulsant"}, {"Neurontin", "anticonvulsant"},
        {"Cymbalta", "antidepressant_snri"}, {"Elavil", "antidepressant_tca"},
        {"Celebrex", "nsaid"}, {"Mobic", "nsaid"}, {"Voltaren gel", "topical_nsaid"},
        {"Medrox", "topical_compound"}, {"Flector", "topical_nsaid"},
        {"Dendracin", "topical_compound"}, {"Valium", "benzodiazepine"},
        {"Xanax", "benzodiazepine"}, {"Klonopin", "benzodiazepine"}, {"Restoril", "benzodiazepine"},
        {"Lunesta", "sedative_hypnotic"}, {"Zofran", "antiemetic"}, {"Colace", "laxative"},
        {"Senokot", "laxative"}, {"Fioricet", "barbiturate_combination"}, {"Imitrex", "triptan"},
        {"Theramine", "medical_food"}, {"flurbiprofen", "nsaid"}, {"ketoprofen", "nsaid"},
        {"cyclobenzaprine cream", "topical_compound"}, {"gabapentin cream", "topical_compound"},
        {"capsaicin", "topical_capsaicin"}, {"menthol", "topical_salicylate"},
        {"methyl salicylate", "topical_salicylate"}, {"camphor", "topical_salicylate"},
        {"lidocaine", "topical_lidocaine"}, {"baclofen", "muscle_relaxant_antispasticity"},
        {"dantrolene", "muscle_relaxant_antispasticity"}, {"tizanidine", "muscle_relaxant_antispasticity"},
        {"methocarbamol", "muscle_relaxant_antispasmodic"}, {"orphenadrine", "muscle_relaxant_antispasmodic"},
        {"chlorzoxazone", "muscle_relaxant_antispasmodic"}, {"metaxalone", "muscle_relaxant_antispasmodic"},
        {"acetaminophen", "analgesic_non_opioid"}, {"ranitidine", "h2_blocker"},
        {"fluoxetine", "antidepressant_ssri"}, {"trazodone", "antidepressant_other"},
        {"prednisone", "corticosteroid"}, {"hydroxyzine", "antihistamine"}};
    imr_lexicon *lx = load_rules_lexicon();
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const imr_drug *d = imr_lexicon_find(lx, names[i][0], strlen(names[i][0]));
        if (!d)
            fail_msg("%s is not in the lexicon", names[i][0]);
        if (strcmp(d->drug_class, names[i][1]))
            fail_msg("%s: class %s, expected %s", names[i][0], d->drug_class, names[i][1]);
    }
    imr_lexicon_free(lx);
}

static void test_lexicon_lookup(void **state)
{
    (void)state;
    imr_lexicon *lx = load_rules_lexicon();
    const imr_drug *norco = imr_lexicon_find(lx, "norco", 5);
    assert_non_null(norco);
    assert_string_equal(norco->name, "norco");
    assert_string_equal(norco->display, "Norco");
    assert_true(norco->is_brand);
    assert_int_equal(norco->generics.n, 2);
    assert_string_equal(norco->generics.v[0], "hydrocodone");
    assert_ptr_equal(imr_lexicon_find(lx, "NORCO", 5), norco);
    /* spaces and hyphens, and spaces around '/', do not matter */
    const imr_drug *apap = imr_lexicon_find(lx, "Hydrocodone/APAP", 16);
    assert_non_null(apap);
    assert_ptr_equal(imr_lexicon_find(lx, "hydrocodone / apap", 18), apap);
    assert_ptr_equal(imr_lexicon_find(lx, "  Ben Gay ", 10), imr_lexicon_find(lx, "ben-gay", 7));
    assert_null(imr_lexicon_find(lx, "norc", 4));
    assert_null(imr_lexicon_find(lx, "", 0));
    assert_null(imr_lexicon_find(NULL, "norco", 5));

    size_t ml = 0;
    const char *s = "Norco 10/325";
    assert_ptr_equal(imr_lexicon_match(lx, s, strlen(s), &ml), norco);
    assert_int_equal(ml, 5);
    s = "Hydrocodone/APAP 10/325";
    assert_ptr_equal(imr_lexicon_match(lx, s, strlen(s), &ml), apap);
    assert_int_equal(ml, 16);
    s = "Voltaren gel 1%"; /* the longest name wins over "Voltaren" */
    const imr_drug *d = imr_lexicon_match(lx, s, strlen(s), &ml);
    assert_non_null(d);
    assert_string_equal(d->name, "voltaren gel");
    assert_int_equal(ml, 12);
    s = "Tylenol #3 #60";
    d = imr_lexicon_match(lx, s, strlen(s), &ml);
    assert_non_null(d);
    assert_int_equal(ml, 10);
    s = "Norco10/325"; /* letters turning into digits end a name */
    assert_ptr_equal(imr_lexicon_match(lx, s, strlen(s), &ml), norco);
    assert_int_equal(ml, 5);
    s = "Norcotic"; /* not at a word boundary */
    assert_null(imr_lexicon_match(lx, s, strlen(s), &ml));
    s = "the Norco";
    assert_null(imr_lexicon_match(lx, s, strlen(s), &ml));
    assert_null(imr_lexicon_match(lx, "", 0, &ml));
    imr_lexicon_free(lx);
}

/* ---------------------------------------------------------------- malformed files */

/* A bad file's first line says what loading it must report: "# expect: LINE: TEXT". */
static void read_expectation(const char *path, int *line, char *text, size_t cap)
{
    char *s = ts_read(path, NULL);
    assert_non_null(s);
    int off = 0;
    if (sscanf(s, "# expect: %d: %n", line, &off) != 1 || !off)
        fail_msg("%s: first line must be '# expect: LINE: TEXT'", path);
    size_t n = strcspn(s + off, "\n");
    if (n >= cap)
        n = cap - 1;
    memcpy(text, s + off, n);
    text[n] = '\0';
    free(s);
}

static void expect_load_error(const char *path, const char *expect_file, const char *name_suffix)
{
    int line = 0;
    char text[256];
    read_expectation(expect_file, &line, text, sizeof text);
    imr_lexicon *lx = NULL;
    imr_error err = {0};
    int rc = imr_lexicon_load(path, &lx, &err);
    if (rc != IMR_EX_DATAERR)
        fail_msg("%s: status %d, expected 65 (%s)", expect_file, rc, err.message);
    assert_null(lx);
    size_t wl = strlen(err.where), sl = strlen(name_suffix);
    if (wl < sl || strcmp(err.where + wl - sl, name_suffix))
        fail_msg("%s: error names '%s', expected a path ending in '%s'", expect_file, err.where,
                 name_suffix);
    if (err.line != line)
        fail_msg("%s: error at line %d, expected %d (%s)", expect_file, err.line, line, err.message);
    if (!strstr(err.message, text))
        fail_msg("%s: message '%s' does not contain '%s'", expect_file, err.message, text);
}

static void test_bad_lexicons(void **state)
{
    (void)state;
    char **names;
    size_t n = ts_list(REQ_DIR, ".tsv", &names), seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(names[i], "bad_", 4))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", REQ_DIR, names[i]);
        expect_load_error(path, path, names[i]);
        seen++;
    }
    ts_list_free(names, n);
    assert_true(seen >= 10);
}

static void copy_file(const char *from, const char *to)
{
    size_t len = 0;
    char *s = ts_read(from, &len);
    assert_non_null(s);
    FILE *f = fopen(to, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(s, 1, len, f), len);
    fclose(f);
    free(s);
}

/* A vocabulary is read from requests.tsv beside the drugs file: each vocab_bad_*.tsv is put
 * there, in a fresh folder, next to a good small lexicon. */
static void test_bad_vocabularies(void **state)
{
    (void)state;
    char dir[] = "/tmp/imr-test-request-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char drugs[1024], vocab[1024];
    snprintf(drugs, sizeof drugs, "%s/drugs.tsv", dir);
    snprintf(vocab, sizeof vocab, "%s/requests.tsv", dir);
    copy_file(REQ_DIR "/vocab_drugs.tsv", drugs);
    char **names;
    size_t n = ts_list(REQ_DIR, ".tsv", &names), seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(names[i], "vocab_bad_", 10))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", REQ_DIR, names[i]);
        copy_file(path, vocab);
        expect_load_error(drugs, path, "/requests.tsv");
        seen++;
    }
    ts_list_free(names, n);
    assert_true(seen >= 10);
    unlink(vocab);
    unlink(drugs);
    rmdir(dir);
}

/* Without requests.tsv beside it, the lexicon still knows its drugs, but no other words. */
static void test_lexicon_without_vocabulary(void **state)
{
    (void)state;
    imr_lexicon *lx = NULL;
    imr_error err = {0};
    assert_int_equal(imr_lexicon_load(REQ_DIR "/vocab_drugs.tsv", &lx, &err), IMR_OK);
    assert_int_equal(imr_lexicon_count(lx), 5);
    imr_arena *a = imr_arena_new();
    imr_treatment t;
    imr_request_parse("Norco 10/325mg #120", lx, a, &t);
    assert_int_equal(t.kind, IMR_TREATMENT_DRUG);
    assert_string_equal(t.drug_class, "opioid_short_acting");
    assert_int_equal(t.quantity, 120);
    imr_request_parse("MRI of the left knee", lx, a, &t);
    assert_int_equal(t.kind, IMR_TREATMENT_OTHER);
    assert_null(t.body_part);
    imr_arena_free(a);
    imr_lexicon_free(lx);

    assert_int_equal(imr_lexicon_load(REQ_DIR "/no-such-file.tsv", &lx, &err), IMR_EX_NOINPUT);
    assert_null(lx);
    assert_int_equal(imr_lexicon_load(NULL, &lx, &err), IMR_EX_USAGE);
}

/* ---------------------------------------------------------------- the cases */

static const char *DEFAULTS =
    "{\"kind\":\"other\",\"name\":null,\"generics\":[],\"drug_class\":null,\"strength\":null,"
    "\"dose_form\":null,\"quantity\":null,\"refills\":null,\"frequency\":null,\"visits\":null,"
    "\"duration\":null,\"body_part\":null,\"laterality\":null,\"procedure\":null,\"levels\":null,"
    "\"mme_factor\":null}";

/* The expected treatment: the defaults, overridden by the fields the case lists. */
static char *expected_json(const char *fields, const char *where)
{
    json_error_t e;
    json_t *full = json_loads(DEFAULTS, 0, &e), *over = json_loads(fields, 0, &e);
    if (!over || !json_is_object(over))
        fail_msg("%s: the expected fields are not a JSON object (%s)", where, e.text);
    const char *k;
    json_t *v;
    json_object_foreach(over, k, v) {
        if (!json_object_get(full, k))
            fail_msg("%s: unknown field '%s'", where, k);
        json_object_set(full, k, v);
    }
    char *s = json_dumps(full, JSON_COMPACT);
    json_decref(full);
    json_decref(over);
    return s;
}

static void test_request_cases(void **state)
{
    (void)state;
    imr_error err = {0};
    const imr_lexicon *lx = imr_default_lexicon(&err);
    if (!lx)
        imr_error_print(&err, stderr);
    assert_non_null(lx);
    char *text = ts_read(REQ_DIR "/cases.tsv", NULL);
    assert_non_null(text);
    imr_arena *a = imr_arena_new();
    imr_buf out = IMR_BUF_INIT;
    size_t cases = 0, failed = 0;
    int line = 0;
    for (char *p = text, *nl; *p; p = nl ? nl + 1 : p + strlen(p)) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        line++;
        if (!*p || *p == '#')
            continue;
        char *tab = strchr(p, '\t');
        char where[64];
        snprintf(where, sizeof where, "cases.tsv:%d", line);
        if (!tab)
            fail_msg("%s: expected REQUEST<TAB>JSON", where);
        *tab = '\0';
        char *expect = expected_json(tab + 1, where);
        imr_treatment t;
        imr_request_parse(p, lx, a, &t);
        imr_buf_reset(&out);
        assert_int_equal(imr_treatment_to_json(&t, IMR_JSON_COMPACT, &out, &err), IMR_OK);
        char diff[512];
        if (!ts_json_equal(expect, out.data, diff, sizeof diff)) {
            fprintf(stderr, "%s: \"%s\": %s\n  expected %s\n  got      %s\n", where, p, diff, expect,
                    out.data);
            failed++;
        }
        free(expect);
        imr_arena_reset(a);
        cases++;
    }
    imr_buf_free(&out);
    imr_arena_free(a);
    free(text);
    assert_true(cases >= 60);
    assert_int_equal(failed, 0);
}

/* ---------------------------------------------------------------- odd and long requests */

static void test_request_odd_inputs(void **state)
{
    (void)state;
    const imr_lexicon *lx = imr_default_lexicon(NULL);
    assert_non_null(lx);
    static const char *const odd[] = {
        "", "   ", "#", "# ", "x", "X", "L", "L4-", "q", "q6", "every", "#99999999999999999999",
        "Norco #-5", "10/", "/10", "10-", "-", "%", "5%", "mg", "2x", "x x x", "2x6x8x10",
        "L4-5-6-7", "L99999", "1-2-3-4-5 times a week", "Norco 10/325/5/7/9/11 mg",
        "refills", "refills x", "no", "qty", "qty:", "visits", "twice", "once a", "3 times a",
        "every 6", "q-6h", "DOS 13/45/2015", "DOS 2/30/2015", "Norco\xc3\xa9 10mg",
        "\xe2\x80\x94 Norco \xe2\x80\x94", "\t\n\r", "Compound", "cream", "#60 #70 #80",
        "Norco 10/325mg #120 x 2 refills x 3 refills", "x 9999999 hours", "9999999x9999999",
        "9999999 times a week for 9999999 weeks"};
    imr_arena *a = imr_arena_new();
    imr_buf out = IMR_BUF_INIT;
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        imr_treatment t;
        imr_request_parse(odd[i], lx, a, &t);
        assert_true(t.kind >= IMR_TREATMENT_OTHER && t.kind < IMR_TREATMENT_KIND_COUNT);
        assert_true(t.quantity >= -1 && t.refills >= -1 && t.visits >= -1);
        imr_error err = {0};
        imr_buf_reset(&out);
        assert_int_equal(imr_treatment_to_json(&t, IMR_JSON_COMPACT, &out, &err), IMR_OK);
    }
    /* counts too large to mean anything are not read as counts */
    imr_treatment t;
    imr_request_parse("Norco #99999999999999999999", lx, a, &t);
    assert_int_equal(t.quantity, -1);
    imr_request_parse("9999999 times a week for 9999999 weeks", lx, a, &t);
    assert_true(t.visits == -1); /* more visits than an int holds is not a course */
    /* no lexicon: no drugs, but the numbers are still read */
    imr_request_parse("Norco 10/325mg #120", NULL, a, &t);
    assert_int_equal(t.kind, IMR_TREATMENT_DRUG);
    assert_null(t.drug_class);
    assert_string_equal(t.strength, "10/325 mg");
    assert_int_equal(t.quantity, 120);
    imr_request_parse(NULL, lx, a, &t);
    assert_int_equal(t.kind, IMR_TREATMENT_OTHER);
    assert_null(t.name);
    imr_buf_free(&out);
    imr_arena_free(a);
}

/* CPU time of this process: other work on a busy machine does not count. */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Parse `copies` repetitions of a request; the best CPU time of three runs and the arena
 * bytes used. */
static void parse_repeated(const imr_lexicon *lx, const char *unit, size_t copies,
                           imr_treatment_kind kind, double *secs, size_t *bytes)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * copies + 1);
    for (size_t i = 0; i < copies; i++)
        memcpy(s + i * ul, unit, ul);
    s[ul * copies] = '\0';
    *secs = 1e9;
    for (int run = 0; run < 3; run++) {
        imr_arena *a = imr_arena_new();
        imr_treatment t;
        double t0 = cpu_seconds();
        imr_request_parse(s, lx, a, &t);
        double dt = cpu_seconds() - t0;
        if (dt < *secs)
            *secs = dt;
        *bytes = imr_arena_bytes(a);
        assert_int_equal(t.kind, kind);
        imr_arena_free(a);
    }
    free(s);
}

/* Memory grows linearly with the request, whatever it repeats (time is reported). */
static void test_request_linear(void **state)
{
    (void)state;
    const imr_lexicon *lx = imr_default_lexicon(NULL);
    assert_non_null(lx);
    static const struct {
        const char *text;
        imr_treatment_kind kind;
    } units[] = {{"Norco 10/325mg #120 with 2 refills, ", IMR_TREATMENT_DRUG},
                 {"PT L4-5 2x6 q6h x3 ", IMR_TREATMENT_PHYSICAL_MEDICINE},
                 {"hydrocodone                 ", IMR_TREATMENT_DRUG},
                 {"a-a-a-a-a-a-a-a-a-a ", IMR_TREATMENT_OTHER},
                 {"1/2/3/4/5/6/7/8 mg ", IMR_TREATMENT_DRUG}};
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        double t1, t8;
        size_t b1, b8;
        parse_repeated(lx, units[u].text, 4000, units[u].kind, &t1, &b1);
        parse_repeated(lx, units[u].text, 32000, units[u].kind, &t8, &b8);
        /* 8 times the text: about 8 times the memory. Times are printed, not asserted:
         * speed is the benchmarks' business (bench/), and a unit test must not depend on
         * how busy the machine is. */
        print_message("  '%s': %.4f s for 4000 copies, %.4f s for 32000\n", units[u].text, t1, t8);
        if (b8 > 12 * b1)
            fail_msg("'%s': %zu bytes for 4000 copies, %zu for 32000", units[u].text, b1, b8);
    }
}

/* ---------------------------------------------------------------- the default lexicon */

static void *get_default(void *arg)
{
    (void)arg;
    return (void *)imr_default_lexicon(NULL);
}

static void test_default_lexicon_threads(void **state)
{
    (void)state;
    pthread_t th[8];
    void *got[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&th[i], NULL, get_default, NULL), 0);
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_join(th[i], &got[i]), 0);
    for (int i = 0; i < 8; i++) {
        assert_non_null(got[i]);
        assert_ptr_equal(got[i], got[0]);
    }
    assert_ptr_equal(imr_default_lexicon(NULL), got[0]);
    assert_true(imr_lexicon_count(got[0]) >= 150);
    if (getenv("IMR_RULES"))
        assert_string_equal(imr_rules_dir(), getenv("IMR_RULES"));
}

/* ---------------------------------------------------------------- the command */

static json_t *json_of(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j)
        fail_msg("not JSON (%s): %s", e.text, s);
    return j;
}

static void test_cli_request(void **state)
{
    (void)state;
    char *out = NULL;
    int rc = ts_run(IMR_BINARY " request --json 'Norco 10/325mg #120'", &out);
    assert_int_equal(rc, 0);
    json_t *j = json_of(out);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "drug");
    assert_int_equal(json_integer_value(json_object_get(j, "quantity")), 120);
    json_decref(j);
    free(out);

    /* several requests: JSON Lines, in order */
    rc = ts_run(IMR_BINARY " request --json 'Soma 350mg #30' 'MRI of the left knee'", &out);
    assert_int_equal(rc, 0);
    char *nl = strchr(out, '\n');
    assert_non_null(nl);
    *nl = '\0';
    j = json_of(out);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "Soma");
    json_decref(j);
    j = json_of(nl + 1);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "imaging");
    json_decref(j);
    free(out);

    /* standard input: one request per non-blank line */
    rc = ts_run("printf 'Acupuncture x6 sessions\\n\\n  Lumbar brace  \\r\\n' | " IMR_BINARY
                " request --json",
                &out);
    assert_int_equal(rc, 0);
    nl = strchr(out, '\n');
    assert_non_null(nl);
    *nl = '\0';
    j = json_of(out);
    assert_int_equal(json_integer_value(json_object_get(j, "visits")), 6);
    json_decref(j);
    j = json_of(nl + 1);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "Lumbar brace");
    json_decref(j);
    free(out);

    /* the readable form */
    rc = ts_run(IMR_BINARY " request 'Physical therapy 2x6 lumbar spine'", &out);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "Physical therapy 2x6 lumbar spine\n"));
    assert_non_null(strstr(out, "visits:     12\n"));
    assert_non_null(strstr(out, "body part:  lumbar spine\n"));
    free(out);

    /* errors: usage, bad bytes (the other requests are still printed), missing rules */
    assert_int_equal(ts_run(IMR_BINARY " request --jsn x 2>/dev/null", NULL), IMR_EX_USAGE);
    rc = ts_run(IMR_BINARY " request --json \"$(printf 'Soma\\377')\" 'Soma 350mg' 2>&1", &out);
    assert_int_equal(rc, IMR_EX_DATAERR);
    assert_non_null(strstr(out, "argument 1: invalid UTF-8"));
    assert_non_null(strstr(out, "\"strength\":\"350 mg\""));
    free(out);
    rc = ts_run("printf 'Soma\\n\\377\\n' | " IMR_BINARY " request 2>&1", &out);
    assert_int_equal(rc, IMR_EX_DATAERR);
    assert_non_null(strstr(out, "<stdin>:2: invalid UTF-8"));
    free(out);
    rc = ts_run("IMR_RULES=/nonexistent/rules " IMR_BINARY " request Norco 2>&1", &out);
    assert_int_equal(rc, IMR_EX_NOINPUT);
    assert_non_null(strstr(out, "/nonexistent/rules/drugs.tsv"));
    free(out);
    assert_int_equal(ts_run(IMR_BINARY " request --help >/dev/null", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lexicon_size_and_classes),
        cmocka_unit_test(test_lexicon_mme_factors),
        cmocka_unit_test(test_lexicon_required_names),
        cmocka_unit_test(test_lexicon_lookup),
        cmocka_unit_test(test_bad_lexicons),
        cmocka_unit_test(test_bad_vocabularies),
        cmocka_unit_test(test_lexicon_without_vocabulary),
        cmocka_unit_test(test_request_cases),
        cmocka_unit_test(test_request_odd_inputs),
        cmocka_unit_test(test_request_linear),
        cmocka_unit_test(test_default_lexicon_threads),
        cmocka_unit_test(test_cli_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
