/*
 * fuzz_request.c - libFuzzer target for request parsing and the lexicon's name matching.
 * Any bytes are a request: the parser must not crash, must stay within its arena, and its
 * result must hold together (kinds in range, counts -1 or more, a name that is a span of
 * the request, valid UTF-8 and JSON whenever the request is valid UTF-8).
 * Build: `make fuzz`; run: ./build-fuzz/fuzz_request -max_total_time=600 CORPUS_COPY
 * fuzz/corpus/request (seed corpus: one request per file, from tests/requests/cases.tsv).
 */
#include "imr.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const imr_lexicon *lexicon;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    imr_error err = {0};
    lexicon = imr_default_lexicon(&err);
    if (!lexicon) {
        imr_error_print(&err, stderr);
        abort();
    }
    return 0;
}

static void check_string(const char *request, const char *field, int whole_text)
{
    size_t bad;
    if (!field)
        return;
    if (!imr_utf8_valid(field, strlen(field), &bad)) {
        fprintf(stderr, "invalid UTF-8 in a field: \"%s\"\n", field);
        abort();
    }
    if (whole_text && !strstr(request, field)) {
        fprintf(stderr, "name \"%s\" is not part of the request\n", field);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *request = malloc(size + 1);
    memcpy(request, data, size);
    request[size] = '\0';
    size_t len = strlen(request), bad;

    imr_arena *a = imr_arena_new();
    imr_treatment t;
    imr_request_parse(request, lexicon, a, &t);
    if ((int)t.kind < 0 || t.kind >= IMR_TREATMENT_KIND_COUNT || t.quantity < -1 ||
        t.refills < -1 || t.visits < -1 || t.mme_factor < 0)
        abort();
    if (imr_utf8_valid(request, len, &bad)) {
        check_string(request, t.name, 1);
        const char *fields[] = {t.drug_class, t.strength, t.dose_form, t.frequency, t.duration,
                                t.body_part, t.laterality, t.procedure, t.levels};
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            check_string(request, fields[i], 0);
        for (size_t i = 0; i < t.generics.n; i++)
            check_string(request, t.generics.v[i], 0);
        imr_buf out = IMR_BUF_INIT;
        imr_error err = {0};
        if (imr_treatment_to_json(&t, IMR_JSON_COMPACT, &out, &err) != IMR_OK)
            abort();
        imr_buf_free(&out);
    }
    /* the same bytes as a name: lookups never read past the end */
    size_t match_len = 0;
    const imr_drug *d = imr_lexicon_match(lexicon, request, len, &match_len);
    if (d && (match_len == 0 || match_len > len))
        abort();
    imr_lexicon_find(lexicon, request, len);
    imr_request_parse(request, NULL, a, &t);

    imr_arena_free(a);
    free(request);
    return 0;
}
