/* bench/engine/bench_engine.c - the engine benchmark: extract + decide + letter (text).
 *
 * Reviews seed-sized case files on one core, one after another, the way a batch drafter
 * would: parse the case JSON, imr_review() (extraction of every text, the guideline
 * entries, criteria, rationale) and imr_render_text(). One arena is reset between cases,
 * so its high-water mark is the memory one case needs. Input: the five seed cases
 * (tests/cases/seed_*.json) and a deterministic set of generated cases of the same size
 * (a fixed-seed xorshift picks requests, dates, scores and history sentences).
 *
 * usage: bench_engine [--cases N] [--seed S] [--source DIR] [--dump K]
 * prints: cases/s, microseconds per case, arena bytes per case (max and mean), case
 * sizes, decisions, and the peak RSS after 1/10/100% of the run (flat = bounded). */
#include "imr.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static uint64_t rng_state = 1;

static uint32_t rng_next(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return (uint32_t)(x >> 32);
}

#define PICK(arr) (arr[rng_next() % (sizeof(arr) / sizeof(arr[0]))])

/* Requests of the kinds the team cases cover, each as an IMR application writes it. */
static const char *const requests[] = {
    "Norco 10/325mg #90", "Norco 7.5/325mg #60", "Oxycodone 5mg #90", "MS Contin 30mg #60",
    "Tramadol 50mg #120", "Soma 350mg #60", "Baclofen 10mg #60", "Tizanidine 4mg #90",
    "Cyclobenzaprine 7.5mg #20", "Naproxen 550mg #60", "Omeprazole 20mg #30",
    "Gabapentin 600mg #90", "Lidoderm 5% patch #30", "Ambien 10mg #30",
    "Physical therapy 2x4 lumbar spine", "Acupuncture 2x3 lumbar spine",
    "MRI lumbar spine", "Pain management consultation", "Urine drug screen",
    "Chiropractic treatment 3x2 lumbar spine",
    "Lumbar epidural steroid injection L4-5 and L5-S1", "TENS unit purchase"};

static const char *const diagnoses[] = {
    "lumbar strain with radiculopathy", "cervical disc protrusion at C5-6",
    "chronic low back pain", "right shoulder impingement", "lumbar spondylosis",
    "left knee medial meniscus tear", "myofascial pain of the neck and upper back"};

static const char *const body[] = {"low back", "neck", "right shoulder", "left knee", "mid back"};

static const char *const history[] = {
    "Treatment to date has included physical therapy, chiropractic care and medications.",
    "She completed eight sessions of physical therapy with little change.",
    "He has been taking Norco since 2013 and Soma since 2014.",
    "A urine drug screen on %d/%d/%d was consistent with the prescribed medications.",
    "An MRI of the lumbar spine showed a 3 mm disc bulge at L4-5.",
    "He remains off work and reports difficulty sleeping.",
    "She returned to modified duty in %d/%d/%d.",
    "Examination showed tenderness over the paraspinal muscles and reduced range of motion.",
    "Straight leg raise was positive on the left at %d degrees.",
    "The treating physician notes no side effects and no aberrant behavior.",
    "Ibuprofen caused stomach upset and was stopped.",
    "Home exercise was advised at each visit."};

static void gen_case(imr_buf *b, int n)
{
    int year = 2013 + (int)(rng_next() % 5);
    int items = 1 + (int)(rng_next() % 2);
    imr_buf_printf(b, "{\"case_number\": \"CM%02d-%07d\", \"claimant\": {\"age\": %d, \"sex\": \"%s\"},"
                      " \"date_of_injury\": \"%d-%02d-%02d\", \"ur_decision_date\": \"%d-%02d-%02d\","
                      " \"disputed_items\": [",
                   year % 100, n, 25 + (int)(rng_next() % 40), rng_next() % 2 ? "male" : "female",
                   year - 1 - (int)(rng_next() % 6), 1 + (int)(rng_next() % 12), 1 + (int)(rng_next() % 28),
                   year, 1 + (int)(rng_next() % 12), 1 + (int)(rng_next() % 28));
    for (int i = 0; i < items; i++)
        imr_buf_printf(b, "%s{\"request\": \"%s\", \"ur_decision\": \"non-certified\"}", i ? ", " : "",
                       PICK(requests));
    imr_buf_printf(b, "], \"clinical_summary\": \"The injured worker is a %d year old who was hurt at work on %d/%d/%d."
                      " The diagnoses include %s. On %d/%d/%d the claimant reported %s pain rated %d/10"
                      " without and %d/10 with medication.",
                   25 + (int)(rng_next() % 40), 1 + (int)(rng_next() % 12), 1 + (int)(rng_next() % 28),
                   year - 2, PICK(diagnoses), 1 + (int)(rng_next() % 12), 1 + (int)(rng_next() % 28),
                   year, PICK(body), 6 + (int)(rng_next() % 4), 2 + (int)(rng_next() % 4));
    int sentences = 10 + (int)(rng_next() % 8);
    for (int i = 0; i < sentences; i++) {
        imr_buf_putc(b, ' ');
        imr_buf_printf(b, PICK(history), 1 + (int)(rng_next() % 12), 1 + (int)(rng_next() % 28),
                       year - (int)(rng_next() % 2));
    }
    imr_buf_puts(b, " The treating physician requested authorization for the items under review.\"}");
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long count = 100000, dump = -1;
    const char *source = ".";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cases") && i + 1 < argc)
            count = atol(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            rng_state = strtoull(argv[++i], NULL, 10) | 1;
        else if (!strcmp(argv[i], "--source") && i + 1 < argc)
            source = argv[++i];
        else if (!strcmp(argv[i], "--dump") && i + 1 < argc)
            dump = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_engine [--cases N] [--seed S] [--source DIR] [--dump K]\n");
            return 64;
        }
    }
    if (count < 1)
        count = 1;

    imr_error err = {0};
    imr_kb *kb = NULL;
    const imr_lexicon *lx = imr_default_lexicon(&err);
    if (!lx || imr_kb_load(NULL, &kb, &err) != 0) {
        imr_error_print(&err, stderr);
        return 65;
    }

    /* The inputs: 5 seeds + generated cases, kept as JSON texts (1,000 distinct ones,
     * cycled, so that generation stays out of the timing). */
    enum { DISTINCT = 1000 };
    imr_buf *texts = calloc(DISTINCT, sizeof *texts);
    size_t n_texts = 0, bytes_in = 0;
    for (int s = 0; s < 5; s++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/tests/cases/seed_%03d.json", source, s);
        if (imr_read_file(path, 1 << 20, &texts[n_texts], &err) != 0) {
            imr_error_print(&err, stderr);
            return 66;
        }
        n_texts++;
    }
    while (n_texts < DISTINCT) {
        gen_case(&texts[n_texts], (int)n_texts);
        n_texts++;
    }
    size_t min_len = SIZE_MAX, max_len = 0;
    for (size_t i = 0; i < n_texts; i++) {
        bytes_in += texts[i].len;
        if (texts[i].len < min_len) min_len = texts[i].len;
        if (texts[i].len > max_len) max_len = texts[i].len;
    }
    if (dump >= 0) {
        fwrite(texts[dump % DISTINCT].data, 1, texts[dump % DISTINCT].len, stdout);
        putchar('\n');
        for (size_t i = 0; i < n_texts; i++)
            imr_buf_free(&texts[i]);
        free(texts);
        imr_kb_free(kb);
        return 0;
    }

    imr_arena *a = imr_arena_new();
    imr_buf letter = IMR_BUF_INIT;
    /* Reading the case file (JSON) alone, over the same cases: subtracted from the full
     * loop below, it leaves extract + decide + letter, the pipeline the target speaks of. */
    double p0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    for (long i = 0; i < count; i++) {
        const imr_buf *in = &texts[i % (long)n_texts];
        imr_case *c = NULL;
        imr_arena_reset(a);
        if (imr_case_from_json(in->data, in->len, "bench", a, &c, &err) != 0)
            return 65;
    }
    double parse_secs = clock_s(CLOCK_PROCESS_CPUTIME_ID) - p0;
    size_t arena_max = 0, letter_bytes = 0;
    double arena_sum = 0;
    long decisions[4] = {0}, failures = 0;
    long checkpoints[3] = {count / 100, count / 10, count};
    long rss_at[3] = {0};
    int next_cp = 0;
    long rss_start = peak_rss_kb();
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    for (long i = 0; i < count; i++) {
        const imr_buf *in = &texts[i % (long)n_texts];
        imr_case *c = NULL;
        imr_record *r = NULL;
        imr_arena_reset(a);
        imr_buf_reset(&letter);
        if (imr_case_from_json(in->data, in->len, "bench", a, &c, &err) != 0 ||
            imr_review(c, kb, lx, NULL, a, &r, &err) != 0 ||
            imr_render_text(r, 0, &letter, &err) != 0) {
            failures++;
            continue;
        }
        letter_bytes += letter.len;
        for (size_t k = 0; k < r->n_items; k++)
            decisions[r->items[k].decision & 3]++;
        size_t held = imr_arena_bytes(a);
        arena_sum += (double)held;
        if (held > arena_max)
            arena_max = held;
        while (next_cp < 3 && i + 1 >= checkpoints[next_cp])
            rss_at[next_cp++] = peak_rss_kb();
    }
    double wall = clock_s(CLOCK_MONOTONIC) - t0, secs = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;

    printf("engine bench: %ld cases (%zu distinct: 5 seeds + %zu generated, %zu..%zu bytes, mean %.0f)\n",
           count, n_texts, n_texts - 5, min_len, max_len, (double)bytes_in / (double)n_texts);
    printf("  time        %.3f s CPU (%.3f s wall) on one core: %.0f cases/s, %.1f us/case\n", secs, wall,
           (double)count / secs, secs * 1e6 / (double)count);
    double pipeline = secs - parse_secs;
    printf("  of which    reading the case JSON %.3f s CPU (%.1f us/case, measured alone); extract +\n"
           "              decide + letter %.3f s: %.0f cases/s, %.1f us/case\n",
           parse_secs, parse_secs * 1e6 / (double)count, pipeline,
           pipeline > 0 ? (double)count / pipeline : 0.0, pipeline * 1e6 / (double)count);
    printf("  decisions   %s %ld, %s %ld, %s %ld; failures %ld; letters %.0f bytes mean\n",
           imr_decision_name(0), decisions[0], imr_decision_name(1), decisions[1],
           imr_decision_name(2), decisions[2], failures, (double)letter_bytes / (double)count);
    printf("  arena       %zu bytes max per case, %.0f mean\n", arena_max, arena_sum / (double)count);
    printf("  peak RSS    %ld KB before the loop; %ld KB after %ld cases, %ld KB after %ld, %ld KB after %ld\n",
           rss_start, rss_at[0], checkpoints[0], rss_at[1], checkpoints[1], rss_at[2], checkpoints[2]);

    imr_buf_free(&letter);
    imr_arena_free(a);
    for (size_t i = 0; i < n_texts; i++)
        imr_buf_free(&texts[i]);
    free(texts);
    imr_kb_free(kb);
    return failures ? 1 : 0;
}
