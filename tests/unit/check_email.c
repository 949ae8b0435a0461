/* Unit tests for email.c: the contract's address rules and the comparison form. */
#include <check.h>
#include <string.h>

#include "email.h"
#include "testdb.h"

#define VALID(s) ck_assert_msg(email_problem((s), strlen(s)) == NULL, "%s should be valid", (s))
#define INVALID(s) ck_assert_msg(email_problem((s), strlen(s)) != NULL, "%s should be invalid", (s))

START_TEST(valid_addresses)
{
    VALID("example@evalytics.nl");
    VALID("example+example@evalytics.nl");
    VALID("j.de.vries@student.uni.example");
    VALID("zo\xc3\xab@universiteit.nl"); /* UTF-8 is allowed */
}
END_TEST

START_TEST(invalid_addresses)
{
    INVALID("");
    INVALID("no-at.example.nl");
    INVALID("two@@example.nl");
    INVALID("a@b@example.nl");
    INVALID("@example.nl");
    INVALID("a@localhost");
    INVALID("a@.example.nl");
    INVALID("a@example.nl.");
    INVALID("a@example..nl");
    INVALID("a b@example.nl");
    INVALID("a@exa\xc2\xa0mple.nl"); /* no-break space */
    INVALID("a\t@example.nl");
    char local[80];
    memset(local, 'l', 65);
    strcpy(local + 65, "@x.nl");
    INVALID(local); /* local part over 64 bytes */
    char big[300];
    memset(big, 'd', 260);
    memcpy(big, "a@", 2);
    strcpy(big + 260, ".nl");
    INVALID(big); /* over 254 bytes */
}
END_TEST

START_TEST(comparison_form_folds_case_only)
{
    struct buf a = BUF_INIT, b = BUF_INIT;
    email_key("Jan.Jansen@Example.NL", 21, &a);
    ck_assert_str_eq(a.data, "jan.jansen@example.nl");
    email_key("\xc3\x89LISE@x.nl", 11, &b); /* ÉLISE: case folded, accent kept */
    ck_assert_str_eq(b.data, "\xc3\xa9lise@x.nl");
    buf_free(&a);
    buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("email");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, valid_addresses);
    tcase_add_test(tc, invalid_addresses);
    tcase_add_test(tc, comparison_form_folds_case_only);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
