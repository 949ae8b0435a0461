/* Unit tests for text.c (UTF-8 validity, trimming, folding) and JSON string output. */
#include <check.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "testdb.h"
#include "text.h"
#include "words.h"

#define VALID(s) text_valid_utf8((s), sizeof(s) - 1)

START_TEST(utf8_validity)
{
    ck_assert(VALID("plain ascii"));
    ck_assert(VALID("Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80"));
    ck_assert(!VALID("\xc0\xaf"));         /* overlong '/' */
    ck_assert(!VALID("\xed\xa0\x80"));     /* U+D800 encoded */
    ck_assert(!VALID("\xf4\x90\x80\x80")); /* above U+10FFFF */
    ck_assert(!VALID("\xc3"));             /* truncated */
    ck_assert(!VALID("\xff"));
    ck_assert(!VALID("a\x80")); /* lone continuation */
}
END_TEST

START_TEST(codepoints_count_characters_not_bytes)
{
    ck_assert_uint_eq(text_codepoints("Zo\xc3\xab", 4), 3);
    ck_assert_uint_eq(text_codepoints("\xf0\x9f\x98\x80", 4), 1);
}
END_TEST

START_TEST(trim_ascii_and_unicode_space)
{
    const char *s = " \t\xc2\xa0 Groep A \xe2\x80\x83\n";
    size_t len = strlen(s);
    const char *t = text_trim(s, &len);
    ck_assert_uint_eq(len, 7);
    ck_assert_int_eq(strncmp(t, "Groep A", 7), 0);

    const char *blank = "   ";
    len = 3;
    text_trim(blank, &len);
    ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(control_characters)
{
    ck_assert(text_has_control("a\tb", 3));
    ck_assert(text_has_control("a\x7f", 2));
    ck_assert(text_has_control("a\xc2\x85", 3)); /* U+0085 NEL, a C1 control */
    ck_assert(!text_has_control("ext/12 \xc3\xa9", 9));
}
END_TEST

static void assert_fold(const char *in, const char *want)
{
    struct buf out = BUF_INIT;
    ck_assert(text_fold(in, strlen(in), &out));
    ck_assert_str_eq(out.data, want);
    buf_free(&out);
}

START_TEST(fold_case_accents_compat)
{
    assert_fold("\xc3\x89\x63onomie", "economie");     /* Économie */
    assert_fold("Stra\xc3\x9f\x65", "strasse");        /* Straße */
    assert_fold("\xc3\x85ngstr\xc3\xb6m", "angstrom"); /* Ångström */
    assert_fold("\xef\xac\x81le", "file");             /* ﬁ ligature (compatibility) */
    assert_fold("ECO-2025", "eco-2025");
}
END_TEST

START_TEST(implied_query_words_are_dropped)
{
    struct words q = WORDS_INIT, text = WORDS_INIT;
    words_add(&q, "eco Économie ec WIS eco 2025 20", 32);
    words_drop_implied(&q);
    ck_assert_uint_eq(q.n, 3);
    const char *kept[] = {"2025", "economie", "wis"};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(q.v[i].len, strlen(kept[i]));
        ck_assert_int_eq(memcmp(q.folded.data + q.v[i].off, kept[i], q.v[i].len), 0);
    }
    words_add(&text, "Economie WISkunde 2025-01", 25);
    ck_assert(words_match(&q, &text));
    words_free(&q);
    words_free(&text);
}
END_TEST

/* One byte at a time, the plain way: what buf_add_json_string must give. */
static void reference_json(const char *s, size_t len, struct buf *out)
{
    buf_addc(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"')
            buf_adds(out, "\\\"");
        else if (c == '\\')
            buf_adds(out, "\\\\");
        else if (c == '\n')
            buf_adds(out, "\\n");
        else if (c == '\r')
            buf_adds(out, "\\r");
        else if (c == '\t')
            buf_adds(out, "\\t");
        else if (c < 0x20)
            buf_addf(out, "\\u%04x", c);
        else
            buf_addc(out, (char)c);
    }
    buf_addc(out, '"');
}

START_TEST(json_strings_escape_exactly_the_bytes_json_needs)
{
    static const char alphabet[] = "abcXYZ09 \"\\\n\r\t\x01\x1f\x20\x7f\x80\xc3\xa9\xff/";
    srand(11);
    char s[80];
    for (int n = 0; n < 20000; n++) {
        size_t len = (size_t)rand() % sizeof s;
        /* Mostly plain text, so whole words pass the 8-byte test, with
         * specials anywhere in and around them. */
        for (size_t i = 0; i < len; i++)
            s[i] = rand() % 4 ? (char)('a' + rand() % 26)
                              : alphabet[(size_t)rand() % (sizeof alphabet - 1)];
        struct buf got = BUF_INIT, want = BUF_INIT;
        buf_add_json_string(&got, s, len);
        reference_json(s, len, &want);
        ck_assert_uint_eq(got.len, want.len);
        ck_assert(memcmp(got.data, want.data, got.len) == 0);
        /* json_plain says exactly when nothing is escaped; then quoting is enough */
        ck_assert(json_plain(s, len) == (want.len == len + 2));
        if (want.len == len + 2) {
            buf_reset(&got);
            buf_add_quoted(&got, s, len);
            ck_assert_uint_eq(got.len, want.len);
            ck_assert(memcmp(got.data, want.data, got.len) == 0);
        }
        buf_free(&got);
        buf_free(&want);
    }
}
END_TEST

/* The ASCII shortcut of text_fold gives what utf8proc gives, every byte. */
START_TEST(ascii_folds_as_utf8proc_folds)
{
    srand(5);
    char s[64];
    for (int n = 0; n < 20000; n++) {
        size_t len = (size_t)rand() % sizeof s;
        for (size_t i = 0; i < len; i++)
            s[i] = (char)(rand() % 128);
        struct buf got = BUF_INIT;
        ck_assert(text_fold(s, len, &got));
        utf8proc_uint8_t *want = NULL;
        utf8proc_ssize_t wn =
            utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &want,
                         UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD |
                             UTF8PROC_STRIPMARK | UTF8PROC_IGNORE);
        ck_assert_int_ge(wn, 0);
        ck_assert_uint_eq(got.len, (size_t)wn);
        ck_assert(memcmp(got.data ? got.data : "", want, got.len) == 0);
        free(want);
        buf_free(&got);
    }
}
END_TEST

START_TEST(hex_digits_with_a_minimum_width)
{
    struct {
        uint64_t v;
        int width;
        const char *want;
    } cases[] = {{0, 1, "0"},
                 {0xabc, 1, "abc"},
                 {5, 2, "05"},
                 {0x1f, 2, "1f"},
                 {0x123, 2, "123"},
                 {1, 16, "0000000000000001"},
                 {UINT64_MAX, 1, "ffffffffffffffff"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[17];
        *u64_hex(out, cases[i].v, cases[i].width) = '\0';
        ck_assert_str_eq(out, cases[i].want);
    }
}
END_TEST

START_TEST(decimal_digits_as_printf_writes_them)
{
    uint64_t cases[2 + 3 * 20 + 63 + 2000];
    size_t n = 0;
    cases[n++] = 0;
    cases[n++] = UINT64_MAX;
    for (uint64_t p = 1, i = 0; i < 20; i++, p *= 10) { /* each power of ten and its neighbours */
        cases[n++] = p;
        cases[n++] = p - 1;
        if (p > 1)
            cases[n++] = p + 1;
    }
    for (int bits = 1; bits < 64; bits++)
        cases[n++] = ((uint64_t)1 << bits) + 7;
    uint64_t x = 88172645463325252ULL; /* xorshift64: every width, every digit pair */
    for (int i = 0; i < 2000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        cases[n++] = x >> (i % 64);
    }
    ck_assert_uint_le(n, sizeof cases / sizeof cases[0]);
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        char want[24], got[24];
        snprintf(want, sizeof want, "%" PRIu64, cases[i]);
        *u64_digits(got, cases[i]) = '\0';
        ck_assert_str_eq(got, want);
        buf_reset(&b);
        buf_adds(&b, "n=");
        buf_add_u64(&b, cases[i]);
        ck_assert_uint_eq(b.len, 2 + strlen(want));
        ck_assert_str_eq(b.data + 2, want);
    }
    buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("text");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, utf8_validity);
    tcase_add_test(tc, codepoints_count_characters_not_bytes);
    tcase_add_test(tc, trim_ascii_and_unicode_space);
    tcase_add_test(tc, control_characters);
    tcase_add_test(tc, fold_case_accents_compat);
    tcase_add_test(tc, implied_query_words_are_dropped);
    tcase_add_test(tc, json_strings_escape_exactly_the_bytes_json_needs);
    tcase_add_test(tc, ascii_folds_as_utf8proc_folds);
    tcase_add_test(tc, hex_digits_with_a_minimum_width);
    tcase_add_test(tc, decimal_digits_as_printf_writes_them);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
