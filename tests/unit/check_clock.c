/* Unit tests for clock_format_iso against the C library's gmtime_r. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "testdb.h"

static void reference(int64_t ms, char out[64])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

START_TEST(iso_format_agrees_with_gmtime)
{
    int64_t fixed[] = {0,
                       999,
                       1000,
                       86399999,
                       86400000,
                       951782400000 /* 2000-02-29 */,
                       4107542399999 /* 2100-02-28T23:59:59.999 */,
                       4107542400000,
                       253402300799999 /* 9999-12-31T23:59:59.999 */,
                       1617880221123};
    char got[ISO_TIME_LEN + 1], want[64];
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        clock_format_iso(fixed[i], got);
        reference(fixed[i], want);
        ck_assert_str_eq(got, want);
    }
    srand(7);
    for (int i = 0; i < 20000; i++) {
        int64_t ms = ((int64_t)rand() << 20 ^ rand()) % 253402300800000;
        clock_format_iso(ms, got);
        reference(ms, want);
        ck_assert_str_eq(got, want);
    }
}
END_TEST

/* The two last instants are kept: repeats, alternations and a third value
 * must all still give the right text. */
START_TEST(kept_instants_give_the_same_text)
{
    const int64_t seq[] = {1617880221123,
                           1617880221124,
                           1617880221123,
                           1617880221124,
                           0,
                           1617880221123,
                           0,
                           253402300799999,
                           0,
                           0,
                           1617880221124};
    char got[ISO_TIME_LEN + 1], want[64];
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        clock_format_iso(seq[i], got);
        reference(seq[i], want);
        ck_assert_str_eq(got, want);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, iso_format_agrees_with_gmtime);
    tcase_add_test(tc, kept_instants_give_the_same_text);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
