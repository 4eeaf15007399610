/*
 * test_core.c - the shared foundations: dates, arena, buffer, UTF-8 checks, atomic writes,
 * the record's JSON form (round trip, errors, string escaping) and case-file reading.
 */
#include "support.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void dates_in_letter_forms(void **state)
{
    (void)state;
    static const struct {
        const char *in, *iso;
    } ok[] = {
        {"August 11, 2000", "2000-08-11"}, {"5-4-08", "2008-05-04"},    {"03-15-2004", "2004-03-15"},
        {"3/26/2005", "2005-03-26"},       {"October 27, 1993", "1993-10-27"},
        {"6/24/15", "2015-06-24"},         {"11-11-2015", "2015-11-11"}, {"2015-08-19", "2015-08-19"},
        {"Jan. 5, 2012", "2012-01-05"},    {"Sept 3, 2014", "2014-09-03"}, {"2/29/2016", "2016-02-29"},
        {"12/12/99", "1999-12-12"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char iso[11] = "";
        size_t n = imr_date_parse(ok[i].in, strlen(ok[i].in), iso);
        assert_int_equal(n, strlen(ok[i].in));
        assert_string_equal(iso, ok[i].iso);
    }
    static const char *bad[] = {"2015-02-30", "13/01/2015", "2/29/2015", "August 32, 2000",
                                "Foo 1, 2000", "1-2", "123/4/2000", "", "7.5/325"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char iso[11];
        assert_int_equal(imr_date_parse(bad[i], strlen(bad[i]), iso), 0);
    }
    /* a date followed by text consumes only the date */
    char iso[11];
    assert_int_equal(imr_date_parse("5-4-08.  The", 12, iso), 6);
    assert_true(imr_date_valid_iso("2016-02-29"));
    assert_false(imr_date_valid_iso("2015-2-28"));
    assert_int_equal(imr_date_days("1970-01-02"), 1);
    assert_int_equal(imr_date_days("2015-08-19") - imr_date_days("2015-07-20"), 30);
    char longf[32];
    imr_date_long("2015-08-19", longf);
    assert_string_equal(longf, "August 19, 2015");

    /* every month by its name and its abbreviation, in any case; near-misses are not dates */
    static const char *const months[] = {"January", "February", "March",     "April",   "May",      "June",
                                         "July",    "August",   "September", "October", "November", "December"};
    for (int m = 0; m < 12; m++) {
        char in[40], want[11];
        snprintf(want, sizeof want, "2001-%02d-03", m + 1);
        const char *forms[] = {months[m], NULL, NULL};
        char upper[16], abbrev[8];
        size_t k = 0;
        for (; months[m][k]; k++)
            upper[k] = (char)(months[m][k] & ~0x20);
        upper[k] = '\0';
        snprintf(abbrev, sizeof abbrev, "%.3s.", months[m]);
        forms[1] = upper;
        forms[2] = abbrev;
        for (int f = 0; f < 3; f++) {
            snprintf(in, sizeof in, "%s 3, 2001", forms[f]);
            assert_int_equal(imr_date_parse(in, strlen(in), iso), strlen(in));
            assert_string_equal(iso, want);
            snprintf(in, sizeof in, "%.3sx 3, 2001", forms[f]); /* "Janx": no month */
            assert_int_equal(imr_date_parse(in, strlen(in), iso), 0);
        }
    }
    static const char *const not_months[] = {"Norco 10/325", "Mayo 5, 2000", "Ma 5, 2000", "Sepember 5, 2000",
                                             "Jun3 5, 2000", "\xc3\xa9\x61n 5, 2000"};
    for (size_t i = 0; i < sizeof not_months / sizeof not_months[0]; i++)
        assert_int_equal(imr_date_parse(not_months[i], strlen(not_months[i]), iso), 0);
    assert_int_equal(imr_date_parse("Sept. 5, 2015", 13, iso), 13);
    assert_string_equal(iso, "2015-09-05");
    assert_int_equal(imr_date_parse("sep 5 2015", 10, iso), 10);
    assert_string_equal(iso, "2015-09-05");
    assert_int_equal(imr_date_parse("May. 5, 2015", 12, iso), 12); /* written like the others */
    assert_string_equal(iso, "2015-05-05");
}

static void arena_and_buffer(void **state)
{
    (void)state;
    imr_arena *a = imr_arena_new();
    imr_strlist l = {0};
    for (int i = 0; i < 1000; i++) {
        char s[16];
        snprintf(s, sizeof s, "s%d", i);
        imr_strlist_push(&l, a, s);
    }
    assert_int_equal(l.n, 1000);
    assert_string_equal(l.v[0], "s0");
    assert_string_equal(l.v[999], "s999");
    char *big = imr_arena_alloc(a, 1 << 20); /* larger than a block */
    memset(big, 'x', 1 << 20);
    assert_string_equal(imr_arena_printf(a, "%d-%s", 7, "z"), "7-z");
    imr_arena_reset(a);
    assert_true(imr_arena_bytes(a) <= 65536);
    imr_arena_free(a);

    imr_buf b = IMR_BUF_INIT;
    for (int i = 0; i < 10000; i++)
        imr_buf_printf(&b, "%d,", i);
    assert_int_equal(strncmp(b.data, "0,1,2,", 6), 0);
    assert_int_equal(b.data[b.len], '\0');
    imr_buf_reset(&b);
    assert_int_equal(b.len, 0);
    imr_buf_free(&b);
}

static void utf8_checks(void **state)
{
    (void)state;
    size_t bad = 0;
    assert_true(imr_utf8_valid("plain \xc3\xa9t\xc3\xa9", 11, &bad));
    assert_false(imr_utf8_valid("ab\xff", 3, &bad));
    assert_int_equal(bad, 2);
    assert_false(imr_utf8_valid("ab\xc3", 3, &bad)); /* truncated sequence */
    assert_false(imr_utf8_valid("\xc0\x80", 2, &bad)); /* overlong */
    assert_false(imr_utf8_valid("\xed\xa0\x80", 3, &bad)); /* surrogate */
    assert_int_equal(imr_line_of("a\nb\nc", 4), 3);
}

static void atomic_write_leaves_nothing_on_failure(void **state)
{
    (void)state;
    char dir[] = "/tmp/imr-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    imr_error err = {0};
    assert_int_equal(imr_write_file_atomic(path, "hello", 5, &err), 0);
    size_t n;
    char *s = ts_read(path, &n);
    assert_string_equal(s, "hello");
    free(s);
    /* a folder that does not exist: error, nothing created */
    snprintf(path, sizeof path, "%s/missing/out.txt", dir);
    assert_int_equal(imr_write_file_atomic(path, "x", 1, &err), IMR_EX_IOERR);
    assert_non_null(strstr(err.where, "missing/out.txt"));
    char **names;
    size_t k = ts_list(dir, "", &names);
    assert_int_equal(k, 1); /* only out.txt */
    ts_list_free(names, k);
    snprintf(path, sizeof path, "rm -rf %s", dir);
    assert_int_equal(system(path), 0);
}

static imr_record *sample_record(imr_arena *a)
{
    imr_record *r = imr_record_new(a);
    r->case_number = "CM15-0000001";
    r->organization = "MAXIMUS Federal Services";
    r->status = IMR_STATUS_DRAFT;
    r->claimant.age = 49;
    r->claimant.sex = "male";
    r->date_of_injury = "2008-05-04";
    r->header.ur_denial_date = "2015-08-19";
    r->reviewer.board_certified = 1;
    imr_strlist_push(&r->reviewer.specialties, a, "Family Practice");
    imr_strlist_push(&r->reviewer.licensure, a, "California");
    r->clinical_case_summary = "Quotes \" and \\ and unicode \xc3\xa9 survive.";
    imr_item *it = imr_record_add_item(r, a);
    it->request = "Norco 7.5/325mg #60";
    it->decision = IMR_DECISION_UPHELD;
    it->rationale = "Not documented.";
    it->treatment.kind = IMR_TREATMENT_DRUG;
    it->treatment.quantity = 60;
    it->treatment.mme_factor = 1.0;
    imr_strlist_push(&it->treatment.generics, a, "hydrocodone");
    it->n_criteria = 1;
    it->criteria = imr_arena_alloc(a, sizeof *it->criteria);
    it->criteria[0].id = "opioids.pain_relief";
    it->criteria[0].status = IMR_CRITERION_NOT_MET;
    it->criteria[0].n_evidence = 1;
    it->criteria[0].evidence = imr_arena_alloc(a, sizeof(imr_evidence));
    it->criteria[0].evidence[0] = (imr_evidence){"clinical_summary", 3, 9, "pain 7"};
    imr_strlist_push(&it->missing_documentation, a, "pain scores with and without medication");
    return r;
}

static void record_json_round_trip(void **state)
{
    (void)state;
    imr_arena *a = imr_arena_new();
    imr_error err = {0};
    imr_buf j1 = IMR_BUF_INIT, j2 = IMR_BUF_INIT;
    assert_int_equal(imr_record_to_json(sample_record(a), IMR_JSON_PRETTY, &j1, &err), 0);
    imr_record *back = NULL;
    assert_int_equal(imr_record_from_json(j1.data, j1.len, "t", a, &back, &err), 0);
    assert_int_equal(imr_record_to_json(back, IMR_JSON_PRETTY, &j2, &err), 0);
    assert_string_equal(j1.data, j2.data);
    assert_int_equal(back->items[0].treatment.quantity, 60);
    assert_int_equal(back->items[0].criteria[0].status, IMR_CRITERION_NOT_MET);
    imr_buf_free(&j1);
    imr_buf_free(&j2);
    imr_arena_free(a);
}

static void expect_json_error(const char *json, const char *path_fragment)
{
    imr_arena *a = imr_arena_new();
    imr_error err = {0};
    imr_record *r = NULL;
    int st = imr_record_from_json(json, strlen(json), "x.json", a, &r, &err);
    if (st != IMR_EX_DATAERR || !strstr(err.message, path_fragment))
        fail_msg("for %s: status %d, message '%s', expected '%s'", json, st, err.message, path_fragment);
    assert_string_equal(err.where, "x.json");
    imr_arena_free(a);
}

static void record_json_errors_name_the_field(void **state)
{
    (void)state;
    expect_json_error("[1,2]", "expected a determination record");
    expect_json_error("{\"items\": 3}", "$.items: expected an array");
    expect_json_error("{}", "$.items: required");
    expect_json_error("{\"items\": [{\"request\": 5}]}", "$.items[0].request: expected a string");
    expect_json_error("{\"items\": [{\"request\": \"x\", \"decision\": \"Maybe\"}]}", "$.items[0].decision");
    expect_json_error("{\"date_of_injury\": \"2015-13-01\", \"items\": []}", "$.date_of_injury");
    expect_json_error("{\"claimant\": {\"age\": \"old\"}, \"items\": []}", "$.claimant.age");
    expect_json_error("{\"status\": \"final\", \"items\": [{\"request\": \"MRI\"}]}", "attestation");
    expect_json_error("{\"items\": []}", "$.items: a determination needs at least one disputed item");
    expect_json_error("{\"items\": [{\"request\": \"x\", \"treatment\": {\"quantity\": -3}}]}",
                      "$.items[0].treatment.quantity");
    imr_arena *a = imr_arena_new();
    imr_error err = {0};
    imr_record *r;
    const char *broken = "{\n\"items\": [\n}";
    assert_int_equal(imr_record_from_json(broken, strlen(broken), "b.json", a, &r, &err), IMR_EX_DATAERR);
    assert_int_equal(err.line, 3);
    imr_arena_free(a);
}

static const char *MINIMAL_CASE =
    "{\"case_number\": \"CM15-0000001\", \"claimant\": {\"age\": 49, \"sex\": \"male\"},"
    " \"date_of_injury\": \"2008-05-04\", \"ur_decision_date\": \"2015-08-19\","
    " \"disputed_items\": [{\"request\": \"Norco 7.5/325mg #60\", \"ur_decision\": \"modified to #30\"}],"
    " \"clinical_summary\": \"A 49 year old male.\"}";

static void case_file_minimal(void **state)
{
    (void)state;
    imr_arena *a = imr_arena_new();
    imr_error err = {0};
    imr_case *c = NULL;
    assert_int_equal(imr_case_from_json(MINIMAL_CASE, strlen(MINIMAL_CASE), "c.json", a, &c, &err), 0);
    assert_string_equal(c->case_number, "CM15-0000001");
    assert_string_equal(c->priority, "standard");
    assert_int_equal(c->claimant.age, 49);
    assert_string_equal(c->claimant.sex, "male");
    assert_int_equal(c->n_items, 1);
    assert_string_equal(c->items[0].ur_decision, "modified to #30");
    assert_null(c->items[0].claims_administrator_guideline);
    assert_int_equal(c->n_records, 0);
    imr_arena_free(a);
}

static void expect_case_error(const char *json, const char *fragment)
{
    imr_arena *a = imr_arena_new();
    imr_error err = {0};
    imr_case *c = NULL;
    int st = imr_case_from_json(json, strlen(json), "c.json", a, &c, &err);
    if (st != IMR_EX_DATAERR || !strstr(err.message, fragment))
        fail_msg("for %s: status %d, message '%s', expected '%s'", json, st, err.message, fragment);
    imr_arena_free(a);
}

static void case_file_errors_name_the_field(void **state)
{
    (void)state;
    expect_case_error("{}", "$.case_number: required");
    expect_case_error("{\"case_number\": 7}", "$.case_number: expected a string");
    expect_case_error("{\"case_number\": \"X\"}", "$.claimant: required");
    expect_case_error("{\"case_number\": \"X\", \"claimant\": {\"age\": 200}}", "$.claimant.age");
    expect_case_error("{\"case_number\": \"X\", \"claimant\": {\"sex\": \"m\"}}", "$.claimant.sex");
    expect_case_error("{\"case_number\": \"X\", \"claimant\": {}, \"date_of_injury\": \"2015-02-30\"}",
                      "$.date_of_injury: expected a calendar date");
    expect_case_error("{\"case_number\": \"X\", \"claimant\": {}, \"date_of_injury\": \"2015-02-03\","
                      " \"disputed_items\": []}", "at least one disputed item");
    expect_case_error("{\"case_number\": \"X\", \"claimant\": {}, \"date_of_injury\": \"2015-02-03\","
                      " \"disputed_items\": [{\"request\": 12}]}", "$.disputed_items[0].request");
    expect_case_error("{\"case_number\": \"X\", \"claimant\": {}, \"date_of_injury\": \"2015-02-03\","
                      " \"disputed_items\": [{\"request\": \"MRI\"}]}", "clinical information");
    expect_case_error("{\"case_number\": \"X\", \"claimant\": {}, \"date_of_injury\": \"2015-02-03\","
                      " \"ur_decision_date\": \"2014-01-01\", \"disputed_items\": [{\"request\": \"MRI\"}],"
                      " \"clinical_summary\": \"x\"}", "$.ur_decision_date: is before the date of injury");
    expect_case_error("{\"case_number\": \"X\", \"claimant\": {}, \"date_of_injury\": \"2015-02-03\","
                      " \"disputed_items\": [{\"request\": \"MRI\"}], \"records\": [{\"date\": \"2015-03-01\"}]}",
                      "$.records[0].text: required");
    expect_case_error("{\"case_number\": \"X\", \"priority\": \"urgent\"}", "$.priority: expected one of");
}

/* ---- the JSON writer's strings (json_write.c scans 16 bytes at a time: every special
 * byte is tried at every offset, and long strings cross its 16 KiB chunks) ---- */

/* The rule, byte by byte: printable ASCII and DEL as they are; \" \\ \n \r \t \b \f; other
 * bytes below 0x20 as \u00xx; a valid UTF-8 sequence as it is; any other byte as U+FFFD. */
static void escape_by_rule(imr_buf *out, const char *s, size_t len)
{
    static const char *const named[] = {['"'] = "\\\"", ['\\'] = "\\\\", ['\n'] = "\\n", ['\r'] = "\\r",
                                        ['\t'] = "\\t", ['\b'] = "\\b", ['\f'] = "\\f"};
    imr_buf_putc(out, '"');
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t need = c >= 0xF8 ? 0 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0, bad;
            if (need && i + need <= len && imr_utf8_valid(s + i, need, &bad)) {
                imr_buf_append(out, s + i, need);
                i += need;
            } else {
                imr_buf_puts(out, "\xef\xbf\xbd");
                i++;
            }
            continue;
        }
        if (c < sizeof named / sizeof named[0] && named[c])
            imr_buf_puts(out, named[c]);
        else if (c < 0x20)
            imr_buf_printf(out, "\\u%04x", c);
        else
            imr_buf_putc(out, (char)c);
        i++;
    }
    imr_buf_putc(out, '"');
}

/* The record's first value is its case number: check how the writer puts `s` there, compact
 * and pretty. */
static void expect_written_as_rule(imr_arena *a, const char *s)
{
    imr_record *r = imr_record_new(a);
    r->case_number = s;
    imr_buf want = IMR_BUF_INIT, got = IMR_BUF_INIT;
    imr_error err = {0};
    escape_by_rule(&want, s, strlen(s));
    static const char *const start[2] = {"{\"case_number\":", "{\n  \"case_number\": "};
    static const char *const next[2] = {",\"status\":", ",\n  \"status\": "};
    for (int pretty = 0; pretty < 2; pretty++) {
        imr_buf_reset(&got);
        assert_int_equal(imr_record_to_json(r, pretty ? IMR_JSON_PRETTY : IMR_JSON_COMPACT, &got, &err), 0);
        size_t n0 = strlen(start[pretty]), n1 = strlen(next[pretty]);
        assert_true(got.len > n0 + want.len + n1);
        assert_memory_equal(got.data, start[pretty], n0);
        if (memcmp(got.data + n0, want.data, want.len) != 0)
            fail_msg("string of %zu bytes written as %.*s, expected %s", strlen(s),
                     (int)(want.len + 8 < 400 ? want.len + 8 : 400), got.data + n0, want.data);
        assert_memory_equal(got.data + n0 + want.len, next[pretty], n1);
    }
    imr_buf_free(&want);
    imr_buf_free(&got);
}

static void json_strings_escaped_at_every_offset(void **state)
{
    (void)state;
    static const char *const special[] = {
        "\"", "\\", "\n", "\r", "\t", "\b", "\f", "\x01", "\x1f", "\x7f", "/",
        "\xc3\xa9",             /* e acute: 2 bytes */
        "\xe2\x82\xac",         /* euro sign: 3 bytes */
        "\xf0\x9f\x98\x80",     /* an emoji: 4 bytes */
        "\xff", "\x80", "\xc3", /* invalid: stray bytes, a sequence cut short */
        "\xe2\x82", "\xf0\x9f\x98",
        "\xc0\xaf",             /* overlong */
        "\xed\xa0\x80",         /* a surrogate */
        "\xf4\x90\x80\x80",     /* past U+10FFFF */
        "\xf8\x88\x80\x80\x80", /* a 5-byte form */
        "\"\\\n\xc3\xa9\xff",   /* several together */
    };
    static const size_t tails[] = {0, 1, 7, 15, 16, 17, 31, 32, 33};
    imr_arena *a = imr_arena_new();
    char s[128];
    for (size_t k = 0; k < sizeof special / sizeof special[0]; k++)
        for (size_t off = 0; off < 40; off++)
            for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
                memset(s, 'p', off);
                size_t n = strlen(special[k]);
                memcpy(s + off, special[k], n);
                memset(s + off + n, 'q', tails[t]);
                s[off + n + tails[t]] = '\0';
                expect_written_as_rule(a, s);
                imr_arena_reset(a);
            }
    /* every byte value alone, and between plain runs of 16 */
    for (int c = 1; c < 256; c++) {
        snprintf(s, sizeof s, "%c", c);
        expect_written_as_rule(a, s);
        snprintf(s, sizeof s, "abcdefghijklmnop%cabcdefghijklmnop", c);
        expect_written_as_rule(a, s);
        imr_arena_reset(a);
    }
    /* a few written out in full */
    imr_buf got = IMR_BUF_INIT;
    escape_by_rule(&got, "a\"b\\c\n\x01\xe2\x82\xac\xed\xa0\x80", 13);
    assert_string_equal(got.data, "\"a\\\"b\\\\c\\n\\u0001\xe2\x82\xac\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    imr_buf_free(&got);
    imr_arena_free(a);
}

static void json_long_strings_across_chunks(void **state)
{
    (void)state;
    static const char *const pieces[] = {"plain text of a clinical summary. ", "\n", "\"", "\\", "\t",
                                         "\x02", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff",
                                         "\xe2\x82", "0123456789abcdef"};
    imr_arena *a = imr_arena_new();
    unsigned seed = 12345;
    for (int round = 0; round < 6; round++) {
        size_t len = 0, want = 20000 + 9000 * (size_t)round;
        char *s = imr_arena_alloc(a, want + 64);
        while (len < want) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = (seed >> 16) % 40;
            const char *p = pieces[r < 28 ? 0 : r - 28];
            size_t n = strlen(p);
            memcpy(s + len, p, n);
            len += n;
        }
        s[len] = '\0';
        expect_written_as_rule(a, s);
        /* a 4-byte sequence across each chunk boundary the writer might use */
        for (size_t at = 16380; at < 16388; at++) {
            char *u = imr_arena_alloc(a, 2 * 16384 + 64);
            memset(u, 'x', 2 * 16384 + 32);
            memcpy(u + at, "\xf0\x9f\x98\x80", 4);
            memcpy(u + at + 16384, "\xe2\x82\xac", 3);
            u[2 * 16384 + 32] = '\0';
            expect_written_as_rule(a, u);
        }
        imr_arena_reset(a);
    }
    imr_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dates_in_letter_forms),
        cmocka_unit_test(arena_and_buffer),
        cmocka_unit_test(utf8_checks),
        cmocka_unit_test(atomic_write_leaves_nothing_on_failure),
        cmocka_unit_test(record_json_round_trip),
        cmocka_unit_test(record_json_errors_name_the_field),
        cmocka_unit_test(case_file_minimal),
        cmocka_unit_test(case_file_errors_name_the_field),
        cmocka_unit_test(json_strings_escaped_at_every_offset),
        cmocka_unit_test(json_long_strings_across_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
