/*
 * testdb.h — a fresh LMDB database per test.
 *
 * Use testdb_setup/testdb_teardown as a *checked* fixture: they run inside
 * the forked test process, so the environment never crosses a fork.
 */
#ifndef GROUPD_TESTDB_H
#define GROUPD_TESTDB_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apikey.h"
#include "store.h"
/* The tests look at the store's internals too (tdb.env, tdb.meta ...). */
#include "store_private.h"

/* The test's store: tdb is used as the object, &tdb as the store. */
static struct store *tdb_store __attribute__((unused));
#define tdb (*tdb_store)
static char tdb_dir[64] __attribute__((unused));

static inline void testdb_open_as(size_t map_size, enum store_writes how)
{
    snprintf(tdb_dir, sizeof tdb_dir, "/tmp/groupd-unit-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tdb_dir));
    ck_assert_int_eq(apikey_init(), 0);
    if (!tdb_store) /* a test may close the store and open another */
        tdb_store = store_new();
    int rc = store_open_as(&tdb, tdb_dir, map_size, how);
    ck_assert_msg(rc == 0, "store_open: %s", tdb.errmsg);
}

static inline void testdb_open_sized(size_t map_size)
{
    testdb_open_as(map_size, STORE_WRITES_MAPPED);
}

static inline void testdb_setup(void)
{
    testdb_open_sized(0);
}

static inline void testdb_teardown(void)
{
    store_close(&tdb);
    store_delete(tdb_store);
    tdb_store = NULL;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tdb_dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Stores a new API key (orgs: n_orgs organisations, 0 = all of top) and
 * returns its string (free it). */
static inline char *testdb_add_key(uint32_t top, enum role role, size_t n_orgs,
                                   const uint32_t *orgs, bool revoked)
{
    MDB_txn *txn;
    struct apikey_record k;
    memset(&k, 0, sizeof k);
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_key_next_id(&tdb, txn, &k.id), 0);
    k.role = role;
    k.top_organisation = top;
    k.n_orgs = n_orgs;
    if (n_orgs)
        memcpy(k.orgs, orgs, n_orgs * sizeof *orgs);
    k.revoked = revoked;
    char *key = malloc(APIKEY_STRING_MAX);
    ck_assert_ptr_nonnull(key);
    apikey_generate(k.top_organisation, k.id, key, k.hash);
    ck_assert_int_eq(store_key_put(&tdb, txn, &k), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    return key;
}

/* Writes schema version v straight into meta (as an older groupd left it). */
static inline void testdb_set_version(uint32_t v)
{
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    unsigned char b[4];
    be32_put(b, v);
    MDB_val key = {sizeof "schema_version" - 1, "schema_version"}, val = {4, b};
    ck_assert_int_eq(mdb_put(txn, tdb.meta, &key, &val, 0), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
}

static inline int testdb_count_entry(void *ctx, const struct change_entry *e)
{
    (void)e;
    (*(int *)ctx)++;
    return 0;
}

/* How many change feed entries top has. */
static inline int testdb_feed_entries(uint32_t top)
{
    MDB_txn *txn;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    int n = 0;
    uint64_t oldest;
    ck_assert_int_eq(store_changes_each(&tdb, txn, top, 0, testdb_count_entry, &n, &oldest), 0);
    store_read_end(&tdb);
    return n;
}

/* Runs a suite and returns the process exit status. */
static inline int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
