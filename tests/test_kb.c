/*
 * test_kb.c - the guideline knowledge base: the real rules load; every malformed file of
 * tests/rules_bad/ fails at the file and line its first comment names ("# expect: LINE:
 * text"); every citation lies in its guideline's table of contents; the edition in force is
 * chosen by date; MTUS entries come before non-MTUS ones, specific before general.
 */
#include <ctype.h>
#include "support.h"
#include "../src/kb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *rules_dir(void)
{
    const char *d = getenv("IMR_RULES");
    return d && *d ? d : IMR_TESTS_DIR "/../rules";
}

static imr_kb *load_default(void)
{
    imr_kb *kb = NULL;
    imr_error err = {0};
    int rc = imr_kb_load(rules_dir(), &kb, &err);
    if (rc) {
        imr_error_print(&err, stderr);
        fail_msg("the knowledge base does not load");
    }
    return kb;
}

static void test_loads(void **state)
{
    (void)state;
    imr_kb *kb = load_default();
    assert_true(imr_kb_entry_count(kb) >= 80);
    /* the topics the issue names are covered */
    static const char *const IDS[] = {
        "opioids.cpmtg2009", "opioids.opioids2016", "opioids.acoem2017", "opioids.tramadol.cpmtg2009",
        "opioids.buprenorphine.cpmtg2009", "muscle_relaxants.carisoprodol.cpmtg2009",
        "muscle_relaxants.baclofen.cpmtg2009", "muscle_relaxants.tizanidine.cpmtg2009",
        "muscle_relaxants.cyclobenzaprine.cpmtg2009", "nsaids.cpmtg2009", "gi_protection.cpmtg2009",
        "anticonvulsants.cpmtg2009", "antidepressants.cpmtg2009", "topicals.compound.cpmtg2009",
        "topicals.lidocaine_patch.cpmtg2009", "hypnotics.odg", "benzodiazepines.cpmtg2009",
        "drug_testing.cpmtg2009", "physical_therapy.cpmtg2009", "chiropractic.cpmtg2009",
        "acupuncture.2007", "massage.cpmtg2009", "tens.cpmtg2009", "esi.cpmtg2009", "facet.odg",
        "mri.lumbar.acoem2004", "emg.lumbar.acoem2004", "consultation.second_opinion.acoem2004",
        "frp.cpmtg2009", "home_health.cpmtg2009", "surgery.lumbar_fusion.acoem2004",
        "surgery.knee_arthroscopy.acoem2004", "dme.odg", NULL};
    for (const char *const *id = IDS; *id; id++)
        if (!kb_entry_find(kb, *id))
            fail_msg("no entry %s", *id);
    imr_kb_free(kb);
}

static void test_missing_folder(void **state)
{
    (void)state;
    imr_kb *kb = (imr_kb *)1;
    imr_error err = {0};
    assert_int_equal(imr_kb_load("/nonexistent/rules", &kb, &err), IMR_EX_NOINPUT);
    assert_null(kb);
    assert_non_null(strstr(err.where, "/nonexistent/rules"));
}

/* "# expect: 12: text" -> line 12, "text" */
static int read_expectation(const char *data, int *line, char *text, size_t n)
{
    const char *p = strstr(data, "# expect: ");
    if (!p)
        return -1;
    p += 10;
    *line = atoi(p);
    p = strchr(p, ':');
    if (!p)
        return -1;
    p++;
    while (*p == ' ')
        p++;
    size_t len = strcspn(p, "\n");
    snprintf(text, n, "%.*s", (int)len, p);
    return 0;
}

static void check_bad(const char *name, int is_toc)
{
    char path[1024], vocab[1024], toc[1024];
    snprintf(path, sizeof path, "%s/rules_bad/%s", IMR_TESTS_DIR, name);
    snprintf(vocab, sizeof vocab, "%s/guidelines/00-vocabulary.rules", rules_dir());
    snprintf(toc, sizeof toc, "%s/toc", rules_dir());
    char *data = ts_read(path, NULL);
    assert_non_null(data);
    int line;
    char text[512];
    if (read_expectation(data, &line, text, sizeof text))
        fail_msg("%s: no '# expect: LINE: text' line", name);
    free(data);
    imr_kb *kb = (imr_kb *)1;
    imr_error err = {0};
    const char *files[2] = {vocab, path};
    int rc = is_toc ? kb_load_paths(path, files, 1, &kb, &err) : kb_load_paths(toc, files, 2, &kb, &err);
    if (rc != IMR_EX_DATAERR)
        fail_msg("%s: expected a data error, got status %d", name, rc);
    assert_null(kb);
    if (!strstr(err.where, name))
        fail_msg("%s: the error names '%s', not the file", name, err.where);
    if (err.line != line)
        fail_msg("%s: error at line %d, expected %d (%s)", name, err.line, line, err.message);
    if (!strstr(err.message, text))
        fail_msg("%s: message '%s' does not contain '%s'", name, err.message, text);
}

static void test_bad_rules(void **state)
{
    (void)state;
    char **names;
    size_t n = ts_list(IMR_TESTS_DIR "/rules_bad", ".rules", &names);
    assert_true(n >= 15);
    for (size_t i = 0; i < n; i++)
        check_bad(names[i], 0);
    ts_list_free(names, n);
    n = ts_list(IMR_TESTS_DIR "/rules_bad", ".toc", &names);
    assert_true(n >= 3);
    for (size_t i = 0; i < n; i++)
        check_bad(names[i], 1);
    ts_list_free(names, n);
}

/* Every citation of every entry names a section of its guideline's table of contents, and
 * its pages lie within that section's pages. (The loader refuses such files too; this test
 * keeps the guarantee if the loader's check is ever loosened.) */
static void test_citations_in_toc(void **state)
{
    (void)state;
    imr_kb *kb = load_default();
    size_t cites = 0;
    for (size_t i = 0; i < kb->n_entries; i++) {
        const kb_entry *e = &kb->entries[i];
        assert_true(e->n_cites > 0);
        for (size_t j = 0; j < e->n_cites; j++) {
            const kb_cite *c = &e->cites[j];
            const kb_toc_section *s = kb_toc_find(e->guideline, c->section);
            if (!s)
                fail_msg("%s: '%s' is not in the TOC of %s", e->id, c->section, e->guideline->id);
            if (c->pages && !kb_pages_within(s, c->pages))
                fail_msg("%s: pages %s outside '%s'", e->id, c->pages, c->section);
            if (!c->pages && s->n_pages)
                fail_msg("%s: '%s' cited without pages", e->id, c->section);
            cites++;
        }
    }
    assert_true(cites > kb->n_entries);
    /* the checker itself: a page outside a section is caught */
    const kb_guideline *g = kb_guideline_find(kb, "cpmtg-2009");
    assert_non_null(g);
    const kb_toc_section *s = kb_toc_find(g, "Opioids, criteria for use");
    assert_non_null(s);
    assert_true(kb_pages_within(s, "76-79"));
    assert_false(kb_pages_within(s, "75-79"));
    assert_false(kb_pages_within(s, "76-79, 91"));
    s = kb_toc_find(g, "Opioids");
    assert_true(kb_pages_within(s, "74-78, 88, 91"));
    imr_kb_free(kb);
}

static imr_treatment drug(imr_arena *a, const char *name, const char *cls, const char *g1,
                          const char *g2)
{
    imr_treatment t;
    imr_treatment_init(&t);
    t.kind = IMR_TREATMENT_DRUG;
    t.name = name;
    t.drug_class = cls;
    imr_strlist_push(&t.generics, a, g1);
    if (g2)
        imr_strlist_push(&t.generics, a, g2);
    return t;
}

static const kb_entry *select_one(const imr_kb *kb, const imr_treatment *t, const char *text,
                                  const char *date)
{
    kb_request rq = {.t = t, .text = text, .body_part = NULL};
    const kb_entry *out[4];
    size_t n = kb_select(kb, &rq, date, out, 4, NULL);
    return n ? out[0] : NULL;
}

static void test_edition_by_date(void **state)
{
    (void)state;
    imr_kb *kb = load_default();
    imr_arena *a = imr_arena_new();
    imr_treatment norco = drug(a, "Norco", "opioid_short_acting", "hydrocodone", "acetaminophen");
    const kb_entry *e = select_one(kb, &norco, "Norco 10/325mg #60", "2015-08-19");
    assert_non_null(e);
    assert_string_equal(e->guideline->id, "cpmtg-2009");
    e = select_one(kb, &norco, "Norco 10/325mg #60", "2016-07-27");
    assert_string_equal(e->guideline->id, "cpmtg-2009");
    e = select_one(kb, &norco, "Norco 10/325mg #60", "2016-07-28");
    assert_string_equal(e->guideline->id, "opioids-2016");
    e = select_one(kb, &norco, "Norco 10/325mg #60", "2017-11-30");
    assert_string_equal(e->guideline->id, "opioids-2016");
    e = select_one(kb, &norco, "Norco 10/325mg #60", "2017-12-01");
    assert_string_equal(e->guideline->id, "acoem-mtus-2017");
    assert_null(select_one(kb, &norco, "Norco 10/325mg #60", "2008-01-01"));
    /* the dose limit follows the edition: 120 MME in 2009, 90 from 2016 */
    const kb_entry *e09 = kb_entry_find(kb, "opioids.cpmtg2009");
    const kb_entry *e16 = kb_entry_find(kb, "opioids.opioids2016");
    const char *l09 = NULL, *l16 = NULL;
    for (size_t i = 0; i < e09->n_criteria; i++)
        if (!strcmp(e09->criteria[i].id, "dose_limit"))
            l09 = e09->criteria[i].fails->text;
    for (size_t i = 0; i < e16->n_criteria; i++)
        if (!strcmp(e16->criteria[i].id, "dose_limit"))
            l16 = e16->criteria[i].fails->text;
    assert_string_equal(l09, "mme > 120");
    assert_string_equal(l16, "mme > 80");
    imr_arena_free(a);
    imr_kb_free(kb);
}

static void test_ranking(void **state)
{
    (void)state;
    imr_kb *kb = load_default();
    imr_arena *a = imr_arena_new();
    /* a drug-specific entry beats its class */
    imr_treatment soma = drug(a, "Soma", "muscle_relaxant_antispasmodic", "carisoprodol", NULL);
    const kb_entry *e = select_one(kb, &soma, "Soma 350mg #30", "2015-08-19");
    assert_string_equal(e->id, "muscle_relaxants.carisoprodol.cpmtg2009");
    imr_treatment flexeril = drug(a, "Flexeril", "muscle_relaxant_antispasmodic", "methocarbamol", NULL);
    e = select_one(kb, &flexeril, "Robaxin 750mg #60", "2015-08-19");
    assert_string_equal(e->id, "muscle_relaxants.cpmtg2009");
    /* where the MTUS is silent, ODG */
    imr_treatment ambien = drug(a, "Ambien", "sedative_hypnotic", "zolpidem", NULL);
    e = select_one(kb, &ambien, "Ambien 10mg #30", "2015-08-19");
    assert_string_equal(e->guideline->id, "odg");
    /* a second opinion is more specific than any consultation */
    imr_treatment consult;
    imr_treatment_init(&consult);
    consult.kind = IMR_TREATMENT_CONSULTATION;
    e = select_one(kb, &consult, "Consultation for second opinion", "2015-11-25");
    assert_string_equal(e->id, "consultation.second_opinion.acoem2004");
    e = select_one(kb, &consult, "Pain management consultation", "2015-11-25");
    assert_string_equal(e->id, "consultation.acoem2004");
    /* an unclassified request still matches on its words */
    imr_treatment other;
    imr_treatment_init(&other);
    e = select_one(kb, &other, "Referral to a spine surgeon", "2015-11-25");
    assert_non_null(e);
    assert_string_equal(e->topic, "consultation");
    assert_null(select_one(kb, &other, "Weighted blanket", "2015-11-25"));
    imr_arena_free(a);
    imr_kb_free(kb);
}

static void test_has_word(void **state)
{
    (void)state;
    assert_true(kb_has_word("Consultation for second opinion", "second opinion"));
    assert_true(kb_has_word("TENS unit purchase", "tens"));
    assert_false(kb_has_word("Extensions", "tens"));
    assert_false(kb_has_word("", "tens"));
    assert_true(kb_has_word("EMG/NCV bilateral", "ncv"));
}

/* look_for words are loaded lower case, survive based_on, and name no variable. */
static void test_look_for(void **state)
{
    (void)state;
    imr_kb *kb = load_default();
    size_t with = 0;
    for (size_t i = 0; i < kb->n_entries; i++)
        for (size_t j = 0; j < kb->entries[i].n_criteria; j++) {
            const kb_values *lf = &kb->entries[i].criteria[j].look_for;
            with += lf->n > 0;
            for (size_t k = 0; k < lf->n; k++) {
                const char *w = lf->v[k];
                assert_true(*w && w[0] != '$');
                for (const char *q = w; *q; q++)
                    if (isupper((unsigned char)*q))
                        fail_msg("%s: look_for '%s' is not lower case", kb->entries[i].id, w);
            }
        }
    assert_true(with > 0);
    imr_kb_free(kb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loads),
        cmocka_unit_test(test_missing_folder),
        cmocka_unit_test(test_bad_rules),
        cmocka_unit_test(test_citations_in_toc),
        cmocka_unit_test(test_edition_by_date),
        cmocka_unit_test(test_ranking),
        cmocka_unit_test(test_has_word),
        cmocka_unit_test(test_look_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
