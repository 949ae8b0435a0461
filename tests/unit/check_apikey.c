/* Unit tests for apikey.c: generation, authentication, revocation, scope. */
#include <check.h>
#include <string.h>

#include "testdb.h"

static const uint32_t orgs[] = {101, 102};

static void store_key(char key[APIKEY_STRING_MAX], bool revoked)
{
    char *k = testdb_add_key(100, ROLE_WRITE, 2, orgs, revoked);
    snprintf(key, APIKEY_STRING_MAX, "%s", k);
    free(k);
}

static int auth(const char *key, struct principal *who)
{
    MDB_txn *txn;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    int rc = apikey_authenticate(&tdb, txn, key, who);
    store_read_end(&tdb);
    return rc;
}

START_TEST(good_key_authenticates)
{
    char key[APIKEY_STRING_MAX];
    store_key(key, false);
    ck_assert_int_eq(strncmp(key, "gdk_1_", 6), 0);
    ck_assert_uint_eq(strlen(key), 6 + 43);
    struct principal who;
    ck_assert_int_eq(auth(key, &who), 0);
    ck_assert_str_eq(who.actor, "key-1");
    ck_assert_int_eq(who.role, ROLE_WRITE);
    ck_assert_uint_eq(who.top_organisation, 100);
    ck_assert(principal_covers(&who, 102));
    ck_assert(!principal_covers(&who, 103));
}
END_TEST

START_TEST(wrong_malformed_and_revoked_keys_fail)
{
    char key[APIKEY_STRING_MAX], revoked[APIKEY_STRING_MAX];
    store_key(key, false);
    store_key(revoked, true);
    struct principal who;
    char wrong[APIKEY_STRING_MAX];
    strcpy(wrong, key);
    wrong[strlen(wrong) - 1] ^= 1;
    ck_assert_int_eq(auth(wrong, &who), MDB_NOTFOUND);
    ck_assert_int_eq(auth(revoked, &who), MDB_NOTFOUND);
    ck_assert_int_eq(auth("gdk_9_abc", &who), MDB_NOTFOUND);
    ck_assert_int_eq(auth("gdk_1", &who), MDB_NOTFOUND);
    ck_assert_int_eq(auth("gdk_01_x", &who), MDB_NOTFOUND);
    ck_assert_int_eq(auth("gdk_99999999999_x", &who), MDB_NOTFOUND);
    ck_assert_int_eq(auth("", &who), MDB_NOTFOUND);
    /* The key of one id does not open another id's record. */
    char swapped[APIKEY_STRING_MAX];
    snprintf(swapped, sizeof swapped, "gdk_2_%s", key + 6);
    ck_assert_int_eq(auth(swapped, &who), MDB_NOTFOUND);
}
END_TEST

START_TEST(keys_are_random)
{
    char a[APIKEY_STRING_MAX], b[APIKEY_STRING_MAX];
    unsigned char ha[APIKEY_HASH_LEN], hb[APIKEY_HASH_LEN];
    ck_assert_int_eq(apikey_init(), 0);
    apikey_generate(1, a, ha);
    apikey_generate(1, b, hb);
    ck_assert_str_ne(a, b);
    ck_assert_int_ne(memcmp(ha, hb, APIKEY_HASH_LEN), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("apikey");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, testdb_setup, testdb_teardown);
    tcase_add_test(tc, good_key_authenticates);
    tcase_add_test(tc, wrong_malformed_and_revoked_keys_fail);
    tcase_add_test(tc, keys_are_random);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
