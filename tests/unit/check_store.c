/* Unit tests for the store: records, the externalId index, counters, map full. */
#include <check.h>
#include <string.h>

#include "testdb.h"

static void make_group(struct group *g, uint64_t id, uint32_t top, const char *ext)
{
    memset(g, 0, sizeof *g);
    g->id = id;
    strcpy(g->key, "2552f556-6210-4de7-bb8e-01a3180f629e");
    g->name = strdup("Groep");
    g->external_id = ext ? strdup(ext) : NULL;
    g->organisation = top + 1;
    g->top_organisation = top;
    strcpy(g->created_by, "key-1");
    g->created_at = g->updated_at = 1617880221000;
}

static int put(struct group *g, struct group *old)
{
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    int rc = store_group_put(&tdb, txn, g, old, 1);
    if (rc) {
        store_write_abort(txn);
        return rc;
    }
    return store_write_commit(txn);
}

static int find_ext(uint32_t top, const char *ext, uint64_t *id)
{
    MDB_txn *txn;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    int rc = store_group_by_extid(&tdb, txn, top, ext, strlen(ext), id);
    store_read_end(&tdb);
    return rc;
}

START_TEST(record_round_trip)
{
    struct group g;
    make_group(&g, 7, 100, "abc");
    g.archived = true;
    g.school_year = 2025;
    ck_assert_int_eq(put(&g, NULL), 0);
    MDB_txn *txn;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    struct group_record r;
    ck_assert_int_eq(store_group_get(&tdb, txn, 7, &r), 0);
    ck_assert_uint_eq(r.top_organisation, 100);
    ck_assert_uint_eq(r.organisation, 101);
    ck_assert_int_eq(group_record_status(&r), GROUP_ARCHIVED);
    ck_assert_int_eq(r.school_year, 2025);
    ck_assert_uint_eq(r.external_id_len, 3);
    ck_assert_int_eq(memcmp(r.external_id, "abc", 3), 0);
    ck_assert_int_eq(r.json[0], '{');
    ck_assert_int_eq(r.json[r.json_len - 1], '}');
    struct group back;
    ck_assert_int_eq(store_group_load(&r, &back), 0);
    ck_assert(group_equal(&g, &back));
    ck_assert_int_eq(store_group_get(&tdb, txn, 8, &r), MDB_NOTFOUND);
    store_read_end(&tdb);
    group_free(&back);
    group_free(&g);
}
END_TEST

START_TEST(external_id_unique_per_top)
{
    struct group a, b, c;
    make_group(&a, 1, 100, "X-1");
    make_group(&b, 2, 100, "X-1");
    make_group(&c, 3, 200, "X-1");
    ck_assert_int_eq(put(&a, NULL), 0);
    ck_assert_int_eq(put(&b, NULL), MDB_KEYEXIST);
    ck_assert_int_eq(put(&c, NULL), 0); /* another top may use it */
    uint64_t id;
    ck_assert_int_eq(find_ext(100, "X-1", &id), 0);
    ck_assert_uint_eq(id, 1);
    ck_assert_int_eq(find_ext(200, "X-1", &id), 0);
    ck_assert_uint_eq(id, 3);
    ck_assert_int_eq(find_ext(100, "x-1", &id), MDB_NOTFOUND); /* case-sensitive */

    /* Renaming frees the old value; purging frees the new one. */
    struct group old;
    group_copy(&old, &a);
    free(a.external_id);
    a.external_id = strdup("X-2");
    ck_assert_int_eq(put(&a, &old), 0);
    ck_assert_int_eq(find_ext(100, "X-1", &id), MDB_NOTFOUND);
    ck_assert_int_eq(put(&b, NULL), 0);
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_group_purge(&tdb, txn, &a, 99), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    ck_assert_int_eq(find_ext(100, "X-2", &id), MDB_NOTFOUND);
    group_free(&old);
    group_free(&a);
    group_free(&b);
    group_free(&c);
}
END_TEST

START_TEST(long_external_ids_fit_lmdb_keys)
{
    /* 255 four-byte characters: 1020 bytes, twice LMDB's key limit; two
     * values sharing the first 900 bytes must stay distinct. */
    char e1[1100] = "", e2[1100];
    for (int i = 0; i < 255; i++)
        strcat(e1, "\xf0\x9f\x98\x80");
    strcpy(e2, e1);
    e2[strlen(e2) - 1] = '\x81';
    struct group a, b;
    make_group(&a, 1, 100, e1);
    make_group(&b, 2, 100, e2);
    ck_assert_int_eq(put(&a, NULL), 0);
    ck_assert_int_eq(put(&b, NULL), 0);
    uint64_t id;
    ck_assert_int_eq(find_ext(100, e1, &id), 0);
    ck_assert_uint_eq(id, 1);
    ck_assert_int_eq(find_ext(100, e2, &id), 0);
    ck_assert_uint_eq(id, 2);
    group_free(&a);
    group_free(&b);
}
END_TEST

START_TEST(counters_never_repeat)
{
    MDB_txn *txn;
    uint64_t a, b, c;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_next_id(&tdb, txn, &a), 0);
    store_write_abort(txn); /* an aborted request consumes nothing */
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_next_id(&tdb, txn, &b), 0);
    ck_assert_int_eq(store_next_id(&tdb, txn, &c), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    ck_assert_uint_eq(a, b);
    ck_assert_uint_eq(c, b + 1);
    uint32_t v;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_schema_version(&tdb, txn, &v), 0);
    ck_assert_uint_eq(v, STORE_SCHEMA_VERSION);
    store_read_end(&tdb);
}
END_TEST


START_TEST(version_1_migrates_to_current_and_newer_is_refused)
{
    testdb_set_version(1);
    store_close(&tdb);
    ck_assert_int_eq(store_open(&tdb, tdb_dir, 0), 0);
    MDB_txn *txn;
    uint32_t v = 0;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_schema_version(&tdb, txn, &v), 0);
    store_read_end(&tdb);
    ck_assert_uint_eq(v, STORE_SCHEMA_VERSION); /* 1 -> 2 -> 3 */

    testdb_set_version(STORE_SCHEMA_VERSION + 1);
    store_close(&tdb);
    ck_assert_int_eq(store_open(&tdb, tdb_dir, 0), MDB_INCOMPATIBLE);
}
END_TEST

/* A version 1 database cannot hold participant records (nothing wrote
 * them): one that does is refused, not guessed at. */
START_TEST(version_1_with_participant_records_is_refused)
{
    struct participant pt = {0};
    pt.id = 2, pt.group = 1, pt.email = "a@x.nl", pt.name = "";
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_participant_put(&tdb, txn, &pt), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    testdb_set_version(1);
    store_close(&tdb);
    ck_assert_int_eq(store_open(&tdb, tdb_dir, 0), MDB_INCOMPATIBLE);
    ck_assert_ptr_nonnull(strstr(tdb.errmsg, "participant"));
}
END_TEST

START_TEST(map_full_is_reported_and_nothing_written)
{
    store_close(&tdb);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tdb_dir);
    ck_assert_int_eq(system(cmd), 0);
    testdb_open_sized(STORE_MIN_MAP_SIZE);
    int rc = 0;
    uint64_t written = 0;
    for (uint64_t id = 1; id < 100000 && rc == 0; id++) {
        struct group g;
        char ext[32];
        snprintf(ext, sizeof ext, "e%llu", (unsigned long long)id);
        make_group(&g, id, 100, ext);
        free(g.name);
        g.name = calloc(1, 250);
        memset(g.name, 'x', 249);
        rc = put(&g, NULL);
        if (!rc)
            written = id;
        group_free(&g);
    }
    ck_assert_int_eq(rc, MDB_MAP_FULL);
    /* Reads go on, and the failed write left nothing behind. */
    MDB_txn *txn;
    struct group_record r;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_group_get(&tdb, txn, written, &r), 0);
    ck_assert_int_eq(store_group_get(&tdb, txn, written + 1, &r), MDB_NOTFOUND);
    store_read_end(&tdb);
}
END_TEST

/* The resident size of this process's mapping of the data file, in kB. */
static long data_file_rss_kb(void)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    bool in_data = false;
    long rss = -1;
    while (rss < 0 && fgets(line, sizeof line, f)) {
        long v;
        /* A mapping's header line; its fields ("Rss:", ...) follow it. */
        if (line[strcspn(line, " :")] != ':')
            in_data = strstr(line, "/data.mdb") != NULL;
        else if (in_data && sscanf(line, "Rss: %ld kB", &v) == 1)
            rss = v;
    }
    fclose(f);
    ck_assert_int_ge(rss, 0);
    return rss;
}

START_TEST(release_map_unmaps_pages_and_keeps_uncommitted_writes)
{
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    for (uint64_t id = 1; id <= 400; id++) {
        struct group g;
        char ext[32];
        snprintf(ext, sizeof ext, "e%llu", (unsigned long long)id);
        make_group(&g, id, 100, ext);
        int rc = store_group_put(&tdb, txn, &g, NULL, id);
        ck_assert_msg(rc == 0, "group %llu: %s", (unsigned long long)id, mdb_strerror(rc));
        group_free(&g);
    }
    long before = data_file_rss_kb();
    ck_assert_int_ge(before, 256); /* the transaction wrote ~600 kB of pages */
    ck_assert_int_eq(store_release_map(&tdb), 0);
    ck_assert_int_lt(data_file_rss_kb(), 64);
    /* The pages written, not yet committed, are all still there. */
    struct group_record r;
    for (uint64_t id = 1; id <= 400; id += 57) {
        ck_assert_int_eq(store_group_get(&tdb, txn, id, &r), 0);
        ck_assert_uint_eq(r.name_len, 5);
    }
    ck_assert_int_eq(store_write_commit(txn), 0);
    ck_assert_int_eq(store_release_map(&tdb), 0);
    uint64_t id = 0;
    ck_assert_int_eq(find_ext(100, "e400", &id), 0);
    ck_assert_uint_eq(id, 400);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, testdb_setup, testdb_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, record_round_trip);
    tcase_add_test(tc, external_id_unique_per_top);
    tcase_add_test(tc, long_external_ids_fit_lmdb_keys);
    tcase_add_test(tc, counters_never_repeat);
    tcase_add_test(tc, map_full_is_reported_and_nothing_written);
    tcase_add_test(tc, release_map_unmaps_pages_and_keeps_uncommitted_writes);
    tcase_add_test(tc, version_1_migrates_to_current_and_newer_is_refused);
    tcase_add_test(tc, version_1_with_participant_records_is_refused);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
