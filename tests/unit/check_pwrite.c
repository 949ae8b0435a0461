/* Unit tests for participant_write.c (a group's participants with their indexes and
 * counts) and for the store's reserve for deletes in a full map (store_txn.c). */
#include <check.h>
#include <string.h>

#include "participant_write.h"
#include "testdb.h"

#define TOP 100

/* A new group of TOP, written; returns its id. */
static uint64_t new_group(const char *ext)
{
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    struct group g;
    memset(&g, 0, sizeof g);
    ck_assert_int_eq(store_next_id(&tdb, txn, &g.id), 0);
    strcpy(g.key, "2552f556-6210-4de7-bb8e-01a3180f629e");
    g.name = strdup("Groep");
    g.external_id = ext ? strdup(ext) : NULL;
    g.organisation = TOP + 1;
    g.top_organisation = TOP;
    strcpy(g.created_by, "key-1");
    g.created_at = g.updated_at = 1000;
    ck_assert_int_eq(store_group_write(&tdb, txn, &g, NULL, CHANGE_GROUP_CREATED, NULL, 1000), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    uint64_t id = g.id;
    group_free(&g);
    return id;
}

/* Patches from "email/externalId" pairs ("" externalId: none). */
static struct participant_patch *patches(const char *const *v, size_t n)
{
    struct participant_patch *out = calloc(n, sizeof *out);
    ck_assert_ptr_nonnull(out);
    struct problem p;
    problem_init(&p);
    for (size_t i = 0; i < n; i++) {
        const char *slash = strchr(v[i], '/');
        struct participant_text t = {
            v[i], "", slash + 1, "", (size_t)(slash - v[i]), 0, strlen(slash + 1), 0};
        ck_assert(participant_patch_from_text(&t, &out[i], &p));
    }
    problem_free(&p);
    return out;
}

/* Syncs group gid to v[0..n) in one transaction; returns pwrite_sync_group's code. */
static int sync(uint64_t gid, const char *const *v, size_t n, enum pkey match, bool replace,
                struct pwrite_counts *counts, struct problem *p)
{
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    struct pwrite m = {&tdb, txn, TOP, "key-1", 2000, NULL};
    struct participant_patch *pp = patches(v, n);
    memset(counts, 0, sizeof *counts);
    int rc = pwrite_sync_group(&m, gid, pp, n, match, replace, counts, p);
    participant_list_free(pp, n);
    if (rc)
        store_write_abort(txn);
    else
        ck_assert_int_eq(store_write_commit(txn), 0);
    return rc;
}

/* "email/externalId" of each participant of gid in id order, joined by spaces. */
static void members(uint64_t gid, char *out, size_t size, uint32_t *total)
{
    MDB_txn *txn;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    out[0] = '\0';
    struct group_record rec;
    ck_assert_int_eq(store_group_get(&tdb, txn, gid, &rec), 0);
    *total = rec.total_participants;
    for (uint64_t pid = 1; pid < 64; pid++) {
        struct participant pt;
        if (store_participant_get(&tdb, txn, gid, pid, &pt) != 0)
            continue;
        size_t at = strlen(out);
        snprintf(out + at, size - at, "%s%s/%s", at ? " " : "", pt.email,
                 pt.external_id ? pt.external_id : "");
        participant_free(&pt);
    }
    store_read_end(&tdb);
}

static size_t differences(void)
{
    MDB_txn *txn;
    size_t n = 0;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_check(&tdb, txn, NULL, NULL, &n), 0);
    store_read_end(&tdb);
    return n;
}

START_TEST(swapping_external_ids_or_emails_within_one_list)
{
    uint64_t g = new_group("g-1");
    struct pwrite_counts c;
    struct problem p;
    problem_init(&p);
    static const char *const first[] = {"a@x.nl/1", "b@x.nl/2"};
    ck_assert_int_eq(sync(g, first, 2, PKEY_EMAIL, true, &c, &p), 0);
    ck_assert_uint_eq(c.created, 2);
    /* By e-mail: a takes 2 and b takes 1, though each is the other's for a moment. */
    static const char *const swapped[] = {"a@x.nl/2", "b@x.nl/1"};
    ck_assert_int_eq(sync(g, swapped, 2, PKEY_EMAIL, true, &c, &p), 0);
    ck_assert_uint_eq(c.updated, 2);
    char got[512];
    uint32_t total;
    members(g, got, sizeof got, &total);
    ck_assert_str_eq(got, "a@x.nl/2 b@x.nl/1");
    ck_assert_uint_eq(total, 2);
    /* By externalId: the e-mails change hands the same way. */
    static const char *const emails[] = {"b@x.nl/2", "a@x.nl/1"};
    ck_assert_int_eq(sync(g, emails, 2, PKEY_EXTID, true, &c, &p), 0);
    members(g, got, sizeof got, &total);
    ck_assert_str_eq(got, "b@x.nl/2 a@x.nl/1");
    ck_assert_uint_eq(differences(), 0);
    ck_assert(!problem_any(&p));
    problem_free(&p);
}
END_TEST

START_TEST(replace_removes_the_unlisted_and_the_count_follows)
{
    uint64_t g = new_group(NULL);
    struct pwrite_counts c;
    struct problem p;
    problem_init(&p);
    static const char *const three[] = {"a@x.nl/", "b@x.nl/", "c@x.nl/"};
    ck_assert_int_eq(sync(g, three, 3, PKEY_EMAIL, false, &c, &p), 0);
    static const char *const one[] = {"B@X.nl/"}; /* e-mails compare without case */
    ck_assert_int_eq(sync(g, one, 1, PKEY_EMAIL, false, &c, &p), 0);
    ck_assert_uint_eq(c.unchanged + c.updated, 1);
    ck_assert_uint_eq(c.removed, 0);
    ck_assert_int_eq(sync(g, one, 1, PKEY_EMAIL, true, &c, &p), 0);
    ck_assert_uint_eq(c.removed, 2);
    char got[512];
    uint32_t total;
    members(g, got, sizeof got, &total);
    ck_assert_uint_eq(total, 1);
    ck_assert_uint_eq(differences(), 0);
    problem_free(&p);
}
END_TEST

START_TEST(a_clash_outside_the_list_is_a_409_and_nothing_is_written)
{
    uint64_t g = new_group(NULL);
    struct pwrite_counts c;
    struct problem p;
    problem_init(&p);
    static const char *const two[] = {"a@x.nl/1", "b@x.nl/2"};
    ck_assert_int_eq(sync(g, two, 2, PKEY_EMAIL, false, &c, &p), 0);
    /* c takes externalId 2, which b keeps (b is not in the list, nothing replaces). */
    static const char *const clash[] = {"c@x.nl/2"};
    ck_assert_int_eq(sync(g, clash, 1, PKEY_EMAIL, false, &c, &p), MDB_KEYEXIST);
    ck_assert_int_eq(p.status, 409);
    ck_assert_ptr_nonnull(strstr(p.context.data, "externalId"));
    char got[512];
    uint32_t total;
    members(g, got, sizeof got, &total);
    ck_assert_str_eq(got, "a@x.nl/1 b@x.nl/2");
    ck_assert_uint_eq(total, 2);
    ck_assert_uint_eq(differences(), 0);
    problem_free(&p);
}
END_TEST

/* ---- the map's reserve for deletes ---- */

static int create_filler(int i)
{
    MDB_txn *txn;
    int rc = store_write_begin(&tdb, &txn);
    if (rc)
        return rc;
    struct group g;
    memset(&g, 0, sizeof g);
    rc = store_next_id(&tdb, txn, &g.id);
    strcpy(g.key, "2552f556-6210-4de7-bb8e-01a3180f629e");
    char name[64];
    snprintf(name, sizeof name, "filler %d", i);
    g.name = strdup(name);
    char desc[1001];
    memset(desc, 'd', 1000);
    desc[1000] = '\0';
    g.description = strdup(desc);
    g.organisation = TOP + 1;
    g.top_organisation = TOP;
    strcpy(g.created_by, "key-1");
    if (!rc)
        rc = store_group_write(&tdb, txn, &g, NULL, CHANGE_GROUP_CREATED, NULL, 1000);
    group_free(&g);
    if (rc) {
        store_write_abort(txn);
        return rc;
    }
    return store_write_commit(txn);
}

static int purge(uint64_t gid, bool frees)
{
    MDB_txn *txn;
    store_may_use_reserve(&tdb, frees);
    int rc = store_write_begin(&tdb, &txn);
    struct group_record rec;
    struct group g;
    if (!rc)
        rc = store_group_get(&tdb, txn, gid, &rec);
    if (!rc)
        rc = store_group_load(&rec, &g);
    if (!rc) {
        rc = store_group_purge(&tdb, txn, &g, 2000);
        group_free(&g);
    }
    if (rc)
        store_write_abort(txn);
    else
        rc = store_write_commit(txn);
    store_may_use_reserve(&tdb, false);
    return rc;
}

START_TEST(a_full_map_keeps_room_for_deletes)
{
    int made = 0, rc = 0;
    while (made < 100000 && (rc = create_filler(made)) == 0)
        made++;
    ck_assert_int_eq(rc, MDB_MAP_FULL);
    ck_assert_int_gt(made, 100);
    size_t map, used;
    ck_assert_int_eq(store_usage(&tdb, &map, &used), 0);
    /* Refused at the reserve: the last pages are not used up by creates. */
    ck_assert_uint_lt(used, map);
    /* A write that frees space may use the reserve, again and again. */
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(purge((uint64_t)i + 1, true), 0);
    /* What it freed is used again: creates succeed once more. */
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(create_filler(made + i), 0);
    ck_assert_uint_eq(differences(), 0);
}
END_TEST

static void small_map(void)
{
    testdb_open_sized(2 << 20);
}

int main(void)
{
    Suite *s = suite_create("pwrite");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, testdb_setup, testdb_teardown);
    tcase_add_test(tc, swapping_external_ids_or_emails_within_one_list);
    tcase_add_test(tc, replace_removes_the_unlisted_and_the_count_follows);
    tcase_add_test(tc, a_clash_outside_the_list_is_a_409_and_nothing_is_written);
    suite_add_tcase(s, tc);
    TCase *full = tcase_create("full map");
    tcase_add_checked_fixture(full, small_map, testdb_teardown);
    tcase_add_test(full, a_full_map_keeps_room_for_deletes);
    suite_add_tcase(s, full);
    return run_suite(s);
}
