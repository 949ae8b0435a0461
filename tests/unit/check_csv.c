/* Unit tests for csv.c: quoting, escapes, line ends, BOM, delimiters, bad records. */
#include <check.h>
#include <string.h>

#include "csv.h"
#include "testdb.h"

/* Reads every record of text into "a|b|c" strings, one per record, joined by '\n',
 * with "@<line>" before each; errors appear as "!<line>". */
static void read_all(const char *text, char *out, size_t size)
{
    char *data = strdup(text);
    ck_assert_ptr_nonnull(data);
    struct csv c;
    csv_open(&c, data, strlen(data));
    out[0] = '\0';
    struct csv_field f[16];
    size_t n;
    long line;
    const char *err;
    for (;;) {
        enum csv_status st = csv_next(&c, f, 16, &n, &line, &err);
        if (st == CSV_END)
            break;
        char rec[512];
        size_t k = (size_t)snprintf(rec, sizeof rec, "%s%c%ld:", out[0] ? "\n" : "",
                                    st == CSV_RECORD ? '@' : '!', line);
        for (size_t i = 0; st == CSV_RECORD && i < n && i < 16; i++)
            k += (size_t)snprintf(rec + k, sizeof rec - k, "%s%.*s", i ? "|" : "", (int)f[i].len,
                                  f[i].s);
        strncat(out, rec, size - strlen(out) - 1);
        if (st == CSV_FATAL)
            break;
    }
    free(data);
}

#define EXPECT(text, want)                                                                         \
    do {                                                                                           \
        char got[2048];                                                                            \
        read_all((text), got, sizeof got);                                                         \
        ck_assert_str_eq(got, (want));                                                             \
    } while (0)

START_TEST(plain_fields_lf_and_crlf)
{
    EXPECT("a,b,c\n1,2,3\n", "@1:a|b|c\n@2:1|2|3");
    EXPECT("a,b\r\n1,2\r\n", "@1:a|b\n@2:1|2");
    EXPECT("a,b\n1,2", "@1:a|b\n@2:1|2"); /* no line end at the end */
    EXPECT("a,,c\n,\n", "@1:a||c\n@2:|");
}
END_TEST

START_TEST(quoted_fields)
{
    EXPECT("\"a,b\",\"say \"\"hi\"\"\"\n", "@1:a,b|say \"hi\"");
    EXPECT("x\n\"\"\n", "@1:x\n@2:");                                   /* an empty quoted field */
    EXPECT("\"line1\nline2\",z\nnext\n", "@1:line1\nline2|z\n@3:next"); /* line numbers follow */
    EXPECT("\"a\r\nb\"\r\nc\r\n", "@1:a\r\nb\n@3:c");
}
END_TEST

START_TEST(semicolon_detected_from_the_header)
{
    EXPECT("groupId;email;name\n1;a@x.nl;\"Berg, Zo\xc3\xab\"\n",
           "@1:groupId|email|name\n@2:1|a@x.nl|Berg, Zo\xc3\xab");
    /* commas inside quotes do not count towards the delimiter */
    EXPECT("\"a,b,c\";d\n1;2\n", "@1:a,b,c|d\n@2:1|2");
    /* a comma file with a semicolon inside quotes */
    EXPECT("a,\"b;c;d\"\n1,2\n", "@1:a|b;c;d\n@2:1|2");
}
END_TEST

START_TEST(bom_and_blank_lines)
{
    EXPECT("\xef\xbb\xbf"
           "a,b\n\n1,2\n\r\n\n3,4\n",
           "@1:a|b\n@3:1|2\n@6:3|4");
}
END_TEST

START_TEST(bad_records)
{
    /* text after a closing quote: this record is bad, the next is read */
    EXPECT("a,b\n\"x\"y,1\n2,3\n", "@1:a|b\n!2:\n@3:2|3");
    /* an unterminated quote ends the file */
    EXPECT("a,b\n\"open,1\n2,3\n", "@1:a|b\n!2:");
}
END_TEST

START_TEST(very_long_record_is_bad_but_reading_goes_on)
{
    size_t big = 1 << 20;
    char *text = malloc(big + 64);
    ck_assert_ptr_nonnull(text);
    strcpy(text, "h\n");
    memset(text + 2, 'x', big);
    strcpy(text + 2 + big, "\nok\n");
    char got[64];
    read_all(text, got, sizeof got);
    ck_assert_str_eq(got, "@1:h\n!2:\n@3:ok");
    free(text);
}
END_TEST

START_TEST(fields_past_max_are_counted)
{
    char data[] = "a,b,c,d\n";
    struct csv c;
    csv_open(&c, data, strlen(data));
    struct csv_field f[2];
    size_t n;
    long line;
    const char *err;
    ck_assert_int_eq(csv_next(&c, f, 2, &n, &line, &err), CSV_RECORD);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(strncmp(f[1].s, "b", f[1].len), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, plain_fields_lf_and_crlf);
    tcase_add_test(tc, quoted_fields);
    tcase_add_test(tc, semicolon_detected_from_the_header);
    tcase_add_test(tc, bom_and_blank_lines);
    tcase_add_test(tc, bad_records);
    tcase_add_test(tc, very_long_record_is_bad_but_reading_goes_on);
    tcase_add_test(tc, fields_past_max_are_counted);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
