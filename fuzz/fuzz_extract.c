/*
 * fuzz_extract.c - libFuzzer target for clinical extraction (`make fuzz`, build-fuzz/).
 *
 * Any bytes go into imr_extract(). It must succeed (extraction never fails on odd text),
 * and every fact must hold together: a span inside the text with start < end, evidence
 * text equal to those bytes, a known assertion, scores that are numbers or NaN. When the
 * input is valid UTF-8 the facts must also go to JSON without error, and the assertion of
 * an arbitrary span (imr_assertion_at) must be one of the five. Anything else aborts, so
 * libFuzzer keeps the input as a crash reproducer.
 *
 * Run: build-fuzz/fuzz_extract -max_total_time=600 CORPUS_COPY/ fuzz/corpus/extract/
 * (give a scratch copy of the corpus first so that new inputs do not land in the tree).
 */
#include "imr.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_extract: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static imr_arena *arena;
    static const imr_lexicon *lx;
    static imr_buf json = IMR_BUF_INIT;
    imr_error err = {0};
    if (!arena) {
        arena = imr_arena_new();
        lx = imr_default_lexicon(&err);
        check(lx != NULL, "the drug lexicon does not load (set IMR_RULES)");
    }
    const char *text = (const char *)data;
    imr_facts f = {0};
    check(imr_extract(text, size, "fuzz", lx, arena, &f, &err) == IMR_OK, "imr_extract failed");
    for (size_t i = 0; i < f.n; i++) {
        const imr_fact *x = &f.v[i];
        check(x->type && x->evidence.text, "a fact without type or evidence");
        check(x->evidence.start < x->evidence.end && x->evidence.end <= size, "a span outside the text");
        check(strlen(x->evidence.text) <= x->evidence.end - x->evidence.start &&
                  !memcmp(x->evidence.text, text + x->evidence.start, strlen(x->evidence.text)),
              "evidence text differs from the span");
        check((int)x->assertion >= IMR_ASSERT_AFFIRMED && x->assertion <= IMR_ASSERT_OTHER_PERSON,
              "unknown assertion");
        check(isnan(x->score) || isfinite(x->score), "infinite score");
    }
    size_t bad;
    if (imr_utf8_valid(text, size, &bad) && !memchr(text, '\0', size)) {
        imr_buf_reset(&json);
        check(imr_facts_to_json(&f, IMR_JSON_COMPACT, &json, &err) == IMR_OK, "facts do not go to JSON");
    }
    if (size >= 2) {
        size_t s = data[0] % size, e = s + 1 + data[1] % 16;
        imr_assertion a = imr_assertion_at(text, size, s, e);
        check((int)a >= IMR_ASSERT_AFFIRMED && a <= IMR_ASSERT_OTHER_PERSON, "unknown assertion of a span");
    }
    imr_arena_reset(arena);
    return 0;
}
