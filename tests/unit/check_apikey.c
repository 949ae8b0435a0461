/* Unit tests for apikey.c: generation, authentication, revocation, scope. */
#include <check.h>
#include <sodium.h>
#include <string.h>

#include "testdb.h"

static const uint32_t orgs[] = {101, 102};

static void store_key(char key[APIKEY_STRING_MAX], bool revoked)
{
    char *k = testdb_add_key(100, ROLE_WRITE, 2, orgs, revoked);
    snprintf(key, APIKEY_STRING_MAX, "%s", k);
    free(k);
}

/* Whether key authenticates (a store failure fails the test). */
static bool auth(const char *key, struct principal *who)
{
    MDB_txn *txn;
    bool known = true;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(apikey_authenticate(&tdb, txn, key, who, &known), 0);
    store_read_end(&tdb);
    return known;
}

START_TEST(good_key_authenticates)
{
    char key[APIKEY_STRING_MAX];
    store_key(key, false);
    ck_assert_int_eq(strncmp(key, "gdk_100_1_", 10), 0);
    ck_assert_uint_eq(strlen(key), 10 + 43);
    uint32_t top = 0;
    ck_assert(apikey_tenant(key, &top));
    ck_assert_uint_eq(top, 100);
    struct principal who;
    ck_assert(auth(key, &who));
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
    ck_assert(!auth(wrong, &who));
    ck_assert(!auth(revoked, &who));
    ck_assert(!auth("gdk_9_abc", &who));
    ck_assert(!auth("gdk_1", &who));
    ck_assert(!auth("gdk_01_x", &who));
    ck_assert(!auth("gdk_99999999999_x", &who));
    ck_assert(!auth("", &who));
    /* The key of one id does not open another id's record, nor names another tenant. */
    char swapped[APIKEY_STRING_MAX];
    snprintf(swapped, sizeof swapped, "gdk_100_2_%s", key + 10);
    ck_assert(!auth(swapped, &who));
    snprintf(swapped, sizeof swapped, "gdk_101_1_%s", key + 10);
    ck_assert(!auth(swapped, &who));
    snprintf(swapped, sizeof swapped, "gdk_1_%s", key + 10);
    ck_assert(!auth(swapped, &who));
}
END_TEST

/* A key of the older form, "gdk_<id>_<secret>", stored as groupd made it then. */
static void store_old_key(const char *key)
{
    MDB_txn *txn;
    struct apikey_record k;
    memset(&k, 0, sizeof k);
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_key_next_id(&tdb, txn, &k.id), 0);
    k.role = ROLE_READ;
    k.top_organisation = 200;
    crypto_generichash(k.hash, APIKEY_HASH_LEN, (const unsigned char *)key, strlen(key), NULL, 0);
    ck_assert_int_eq(store_key_put(&tdb, txn, &k), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
}

START_TEST(keys_of_the_older_form_keep_working)
{
    store_old_key("gdk_1_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd");
    /* A secret may begin with digits and '_': it still reads as the older form. */
    store_old_key("gdk_2_7_bCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd");
    struct principal who;
    ck_assert(auth("gdk_1_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd", &who));
    ck_assert_uint_eq(who.top_organisation, 200);
    ck_assert_str_eq(who.actor, "key-1");
    ck_assert(auth("gdk_2_7_bCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd", &who));
    ck_assert_str_eq(who.actor, "key-2");
    ck_assert(!auth("gdk_1_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcX", &who));
    uint32_t top;
    ck_assert(!apikey_tenant("gdk_1_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-", &top));
    /* New keys of the same database name their tenant. */
    char key[APIKEY_STRING_MAX];
    store_key(key, false);
    ck_assert_int_eq(strncmp(key, "gdk_100_3_", 10), 0);
    ck_assert(auth(key, &who));
}
END_TEST

START_TEST(keys_are_random)
{
    char a[APIKEY_STRING_MAX], b[APIKEY_STRING_MAX];
    unsigned char ha[APIKEY_HASH_LEN], hb[APIKEY_HASH_LEN];
    ck_assert_int_eq(apikey_init(), 0);
    apikey_generate(100, 1, a, ha);
    apikey_generate(100, 1, b, hb);
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
    tcase_add_test(tc, keys_of_the_older_form_keep_working);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
