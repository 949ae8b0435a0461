/* Unit tests for the list and search indexes, id sets, the 2 -> 3
 * migration and store_check finding a corrupted index. */
#include <check.h>
#include <string.h>

#include "store_private.h"
#include "testdb.h"
#include "words.h"

static void make(struct group *g, uint64_t id, uint32_t org, const char *name, int64_t created)
{
    memset(g, 0, sizeof *g);
    g->id = id;
    strcpy(g->key, "2552f556-6210-4de7-bb8e-01a3180f629e");
    g->name = strdup(name);
    g->organisation = org;
    g->top_organisation = 100;
    strcpy(g->created_by, "key-1");
    g->created_at = g->updated_at = created;
}

static void put(struct group *g, struct group *old)
{
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_group_write(&tdb, txn, g, old,
                                       old ? CHANGE_GROUP_UPDATED : CHANGE_GROUP_CREATED, NULL,
                                       g->updated_at),
                     0);
    ck_assert_int_eq(store_write_commit(txn), 0);
}

/* Five groups in two organisations; ids 1..5. */
static void five(void)
{
    static const char *names[] = {"banaan", "Appel", "appel", "Éclair", "citroen"};
    static const int64_t created[] = {30, 10, 10, 20, 10};
    for (int i = 0; i < 5; i++) {
        struct group g;
        make(&g, (uint64_t)i + 1, i % 2 ? 102 : 101, names[i], created[i]);
        put(&g, NULL);
        group_free(&g);
    }
}

/* The ids of one partition walk, as a string "3 1 2". */
static void walk(const uint32_t *org, unsigned status, enum group_sort f, bool desc, char *out)
{
    MDB_txn *txn;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    struct order_walk *w;
    ck_assert_int_eq(order_walk_open(&w, &tdb, txn, 100, org, status, f, desc), 0);
    struct order_entry e;
    out[0] = '\0';
    int rc;
    while ((rc = order_walk_next(w, &e)) == 0)
        sprintf(out + strlen(out), "%s%llu", out[0] ? " " : "", (unsigned long long)e.id);
    ck_assert_int_eq(rc, MDB_NOTFOUND);
    order_walk_close(w);
    store_read_end(&tdb);
}

START_TEST(order_walks_sort_and_break_ties_by_id)
{
    five();
    char got[128];
    walk(NULL, GROUP_ACTIVE, GROUP_SORT_ID, false, got);
    ck_assert_str_eq(got, "1 2 3 4 5");
    walk(NULL, GROUP_ACTIVE, GROUP_SORT_ID, true, got);
    ck_assert_str_eq(got, "5 4 3 2 1");
    /* folded first ("appel" twice, then the bytes: "Appel" < "appel") */
    walk(NULL, GROUP_ACTIVE, GROUP_SORT_NAME, false, got);
    ck_assert_str_eq(got, "2 3 1 5 4");
    walk(NULL, GROUP_ACTIVE, GROUP_SORT_NAME, true, got);
    ck_assert_str_eq(got, "4 5 1 3 2");
    /* equal createdAt: ids ascending in both directions */
    walk(NULL, GROUP_ACTIVE, GROUP_SORT_CREATED, false, got);
    ck_assert_str_eq(got, "2 3 5 4 1");
    walk(NULL, GROUP_ACTIVE, GROUP_SORT_CREATED, true, got);
    ck_assert_str_eq(got, "1 4 2 3 5");
    uint32_t org = 102;
    walk(&org, GROUP_ACTIVE, GROUP_SORT_CREATED, true, got);
    ck_assert_str_eq(got, "4 2");
    walk(NULL, GROUP_ARCHIVED, GROUP_SORT_ID, false, got);
    ck_assert_str_eq(got, "");
}
END_TEST

static uint64_t count(const uint32_t *org, unsigned status)
{
    MDB_txn *txn;
    uint64_t n;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_group_count(&tdb, txn, 100, org, status, &n), 0);
    store_read_end(&tdb);
    return n;
}

static size_t word_hits(unsigned status, const char *word)
{
    MDB_txn *txn;
    struct idset ids = IDSET_INIT;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_word_ids(&tdb, txn, 100, status, word, strlen(word), &ids), 0);
    store_read_end(&tdb);
    idset_sort_unique(&ids);
    size_t n = ids.n;
    idset_free(&ids);
    return n;
}

START_TEST(changes_move_counts_words_and_orders)
{
    five();
    uint32_t org = 101;
    ck_assert_uint_eq(count(NULL, GROUP_ACTIVE), 5);
    ck_assert_uint_eq(count(&org, GROUP_ACTIVE), 3);
    ck_assert_uint_eq(word_hits(GROUP_ACTIVE, "app"), 2);
    ck_assert_uint_eq(word_hits(GROUP_ACTIVE, "ecl"), 1);
    ck_assert_uint_eq(word_hits(GROUP_ACTIVE, ""), 5);

    /* archive group 1 and rename it */
    MDB_txn *txn;
    struct group_record r;
    struct group old, g;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_group_get(&tdb, txn, 1, &r), 0);
    ck_assert_int_eq(store_group_load(&r, &old), 0);
    store_read_end(&tdb);
    group_copy(&g, &old);
    g.archived = true;
    free(g.name);
    g.name = strdup("Kiwi");
    put(&g, &old);
    ck_assert_uint_eq(count(NULL, GROUP_ACTIVE), 4);
    ck_assert_uint_eq(count(NULL, GROUP_ARCHIVED), 1);
    ck_assert_uint_eq(count(&org, GROUP_ARCHIVED), 1);
    ck_assert_uint_eq(word_hits(GROUP_ACTIVE, "ban"), 0);
    ck_assert_uint_eq(word_hits(GROUP_ARCHIVED, "kiw"), 1);
    char got[64];
    walk(NULL, GROUP_ACTIVE, GROUP_SORT_ID, false, got);
    ck_assert_str_eq(got, "2 3 4 5");

    /* purge it: nothing of it stays, and the top's revision moves */
    uint64_t before, after;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_top_rev(&tdb, txn, 100, &before), 0);
    store_read_end(&tdb);
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_group_purge(&tdb, txn, &g, g.updated_at), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_top_rev(&tdb, txn, 100, &after), 0);
    store_read_end(&tdb);
    ck_assert_uint_eq(after, before + 1); /* the purge's own change seq */
    ck_assert_uint_eq(count(NULL, GROUP_ARCHIVED), 0);
    ck_assert_uint_eq(word_hits(GROUP_ARCHIVED, ""), 0);
    walk(NULL, GROUP_ARCHIVED, GROUP_SORT_NAME, false, got);
    ck_assert_str_eq(got, "");
    group_free(&g);
    group_free(&old);
}
END_TEST

START_TEST(idsets_sort_dedupe_and_intersect)
{
    struct idset a = IDSET_INIT, b = IDSET_INIT;
    uint64_t in[] = {900000, 5, 70000, 5, 1, 900000, 1ULL << 40, 3};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        idset_push(&a, in[i]);
    idset_sort_unique(&a);
    uint64_t want[] = {1, 3, 5, 70000, 900000, 1ULL << 40};
    ck_assert_uint_eq(a.n, 6);
    for (size_t i = 0; i < 6; i++)
        ck_assert_uint_eq(a.v[i], want[i]);
    for (uint64_t i = 0; i < 100000; i += 5)
        idset_push(&b, i);
    idset_intersect(&a, &b);
    ck_assert_uint_eq(a.n, 2);
    ck_assert_uint_eq(a.v[0], 5);
    ck_assert_uint_eq(a.v[1], 70000);
    idset_free(&a);
    idset_free(&b);
    /* In order already (repeats included), and in order but one. */
    uint64_t sorted[] = {2, 2, 4, 9, 9, 9, 11};
    for (size_t i = 0; i < 7; i++)
        idset_push(&a, sorted[i]);
    idset_sort_unique(&a);
    ck_assert_uint_eq(a.n, 4);
    ck_assert_uint_eq(a.v[0], 2);
    ck_assert_uint_eq(a.v[3], 11);
    idset_free(&a);
    uint64_t late[] = {2, 4, 9, 11, 3};
    for (size_t i = 0; i < 5; i++)
        idset_push(&a, late[i]);
    idset_sort_unique(&a);
    ck_assert_uint_eq(a.n, 5);
    const uint64_t want_late[] = {2, 3, 4, 9, 11};
    for (size_t i = 0; i < 5; i++)
        ck_assert_uint_eq(a.v[i], want_late[i]);
    idset_free(&a);
    /* A repeat in order, then one out of order: sorted, not just deduplicated. */
    uint64_t repeat_late[] = {2, 4, 4, 9, 3};
    for (size_t i = 0; i < 5; i++)
        idset_push(&a, repeat_late[i]);
    idset_sort_unique(&a);
    ck_assert_uint_eq(a.n, 4);
    const uint64_t want_repeat_late[] = {2, 3, 4, 9};
    for (size_t i = 0; i < 4; i++)
        ck_assert_uint_eq(a.v[i], want_repeat_late[i]);
    idset_free(&a);
}
END_TEST

/* Postings as the index stores them, 8 bytes big-endian, appended a page at
 * a time after ids already there and past the set's first capacity. */
START_TEST(idsets_take_big_endian_postings)
{
    struct idset a = IDSET_INIT;
    for (uint64_t i = 0; i < 200; i++)
        idset_push(&a, i);
    unsigned char page[300 * 8];
    uint64_t want[300];
    for (size_t i = 0; i < 300; i++) {
        want[i] = (uint64_t)0x0123456789abcdefULL * (i + 1) ^ (uint64_t)i << 63;
        be64_put(page + 8 * i, want[i]);
    }
    idset_push_be64(&a, page, 300);
    ck_assert_uint_eq(a.n, 500);
    for (size_t i = 0; i < 200; i++)
        ck_assert_uint_eq(a.v[i], i);
    for (size_t i = 0; i < 300; i++)
        ck_assert_uint_eq(a.v[200 + i], want[i]);
    idset_push_be64(&a, page, 0);
    ck_assert_uint_eq(a.n, 500);
    idset_free(&a);
}
END_TEST

START_TEST(version_2_migration_builds_the_indexes)
{
    five();
    /* A version 2 database had the records and none of these indexes. */
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(mdb_drop(txn, tdb.group_order, 0), 0);
    ck_assert_int_eq(mdb_drop(txn, tdb.group_counts, 0), 0);
    ck_assert_int_eq(mdb_drop(txn, tdb.group_words, 0), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    testdb_set_version(2);
    ck_assert_uint_eq(count(NULL, GROUP_ACTIVE), 0);
    store_close(&tdb);
    ck_assert_int_eq(store_open(&tdb, tdb_dir, 0), 0);
    ck_assert_uint_eq(count(NULL, GROUP_ACTIVE), 5);
    ck_assert_uint_eq(word_hits(GROUP_ACTIVE, "citr"), 1);
    char got[64];
    walk(NULL, GROUP_ACTIVE, GROUP_SORT_NAME, false, got);
    ck_assert_str_eq(got, "2 3 1 5 4");
    uint32_t v;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_schema_version(&tdb, txn, &v), 0);
    store_read_end(&tdb);
    ck_assert_uint_eq(v, STORE_SCHEMA_VERSION); /* 2 -> 3 -> 4 */
}
END_TEST

struct lines {
    char text[4096];
};

static void collect(void *ctx, const char *line)
{
    struct lines *l = ctx;
    strncat(l->text, line, sizeof l->text - strlen(l->text) - 2);
    strcat(l->text, "\n");
}

static size_t check(struct lines *l)
{
    MDB_txn *txn;
    size_t n = 99;
    memset(l, 0, sizeof *l);
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_check(&tdb, txn, collect, l, &n), 0);
    store_read_end(&tdb);
    return n;
}

/* A key of group_words: top 100, active, the word. */
static MDB_val word_key(struct buf *k, const char *word)
{
    buf_add_be32(k, 100);
    buf_addc(k, (char)GROUP_ACTIVE);
    buf_adds(k, word);
    return (MDB_val){k->len, k->data};
}

START_TEST(check_finds_missing_unexplained_and_miscounted_entries)
{
    five();
    struct participant pt = {0};
    pt.id = 50, pt.group = 3, pt.email = "a@x.nl", pt.name = "";
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_participant_put(&tdb, txn, &pt), 0);
    ck_assert_int_eq(store_participant_index(&tdb, txn, 100, &pt, PKEY_EMAIL, true, NULL), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    struct lines l;
    /* group 3 says 0 participants and has one */
    ck_assert_uint_eq(check(&l), 1);
    ck_assert_ptr_nonnull(strstr(l.text, "group 3 says totalParticipants 0"));

    /* Corrupt the indexes: one word entry gone, one invented, a count off. */
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    struct buf k = BUF_INIT;
    unsigned char id1[8], id9[8];
    be64_put(id1, 1);
    be64_put(id9, 9);
    MDB_val key = word_key(&k, "banaan"), val = {8, id1};
    ck_assert_int_eq(mdb_del(txn, tdb.group_words, &key, &val), 0);
    buf_reset(&k);
    key = word_key(&k, "zz");
    val = (MDB_val){8, id9};
    ck_assert_int_eq(mdb_put(txn, tdb.group_words, &key, &val, 0), 0);
    buf_reset(&k);
    store_partition(&k, 100, NULL, GROUP_ACTIVE);
    unsigned char six[8];
    be64_put(six, 6);
    key = (MDB_val){k.len, k.data};
    val = (MDB_val){8, six};
    ck_assert_int_eq(mdb_put(txn, tdb.group_counts, &key, &val, 0), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    buf_free(&k);

    ck_assert_uint_eq(check(&l), 5); /* the count's wrong value is missing + unexplained */
    ck_assert_ptr_nonnull(strstr(l.text, "group_words: missing entry \\x00\\x00\\x00d\\x01banaan"));
    ck_assert_ptr_nonnull(strstr(l.text, "group_words: unexplained entry \\x00\\x00\\x00d\\x01zz"));
    ck_assert_ptr_nonnull(strstr(l.text, "group_counts: missing entry"));
    ck_assert_ptr_nonnull(strstr(l.text, "group_counts: unexplained entry"));
}
END_TEST

START_TEST(check_of_a_consistent_database_is_quiet)
{
    five();
    struct lines l;
    ck_assert_uint_eq(check(&l), 0);
    ck_assert_str_eq(l.text, "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("index");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, testdb_setup, testdb_teardown);
    tcase_add_test(tc, order_walks_sort_and_break_ties_by_id);
    tcase_add_test(tc, changes_move_counts_words_and_orders);
    tcase_add_test(tc, idsets_sort_dedupe_and_intersect);
    tcase_add_test(tc, idsets_take_big_endian_postings);
    tcase_add_test(tc, version_2_migration_builds_the_indexes);
    tcase_add_test(tc, check_finds_missing_unexplained_and_miscounted_entries);
    tcase_add_test(tc, check_of_a_consistent_database_is_quiet);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
