/*
 * fuzz_letter.c - libFuzzer target for the letter parser (`make fuzz`, build-fuzz/).
 *
 * Any bytes go into imr_letter_parse(). It must return OK or a sysexits status with an
 * error message, never crash, hang or read out of bounds. When it returns a record, the
 * record must also go through the rest of the letter path without failing:
 * imr_record_to_json(), imr_record_from_json() of that JSON (a parsed record is always a
 * valid record), and imr_render_text(). A failure there aborts, so libFuzzer keeps the
 * input as a crash reproducer.
 *
 * Run: build-fuzz/fuzz_letter -max_total_time=600 CORPUS_COPY/ fuzz/corpus/letter/
 * (give a scratch copy of the corpus first so that new inputs do not land in the tree).
 */
#include "imr.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void must(int status, const imr_error *err, const char *step)
{
    if (status == IMR_OK)
        return;
    fprintf(stderr, "fuzz_letter: %s failed on a record the parser accepted: ", step);
    imr_error_print(err, stderr);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static imr_arena *arena;
    if (!arena)
        arena = imr_arena_new();
    imr_error err = {0};
    imr_record *r = NULL;
    int st = imr_letter_parse((const char *)data, size, "fuzz", arena, &r, &err);
    if (st != IMR_OK) {
        if (st != IMR_EX_DATAERR || err.message[0] == '\0') {
            fprintf(stderr, "fuzz_letter: parse returned %d with message \"%s\"\n", st, err.message);
            abort();
        }
        imr_arena_reset(arena);
        return 0;
    }
    if (!r)
        abort();
    imr_buf json = IMR_BUF_INIT, text = IMR_BUF_INIT;
    must(imr_record_to_json(r, IMR_JSON_COMPACT, &json, &err), &err, "imr_record_to_json");
    imr_record *back = NULL;
    must(imr_record_from_json(json.data, json.len, "fuzz.json", arena, &back, &err), &err,
         "imr_record_from_json");
    must(imr_render_text(r, 0, &text, &err), &err, "imr_render_text");
    imr_buf_free(&json);
    imr_buf_free(&text);
    imr_arena_reset(arena);
    return 0;
}
