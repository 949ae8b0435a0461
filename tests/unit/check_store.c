/* Unit tests for the store: records, the externalId index, counters, map full. */
#include <check.h>
#include <string.h>

#include "store_private.h"
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
    int rc = store_group_write(&tdb, txn, g, old, old ? CHANGE_GROUP_UPDATED : CHANGE_GROUP_CREATED,
                               NULL, g->updated_at);
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
    ck_assert_int_eq(store_group_purge(&tdb, txn, &a, a.updated_at), 0);
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
    ck_assert_uint_eq(v, STORE_SCHEMA_VERSION); /* 1 -> 2 -> 3 -> 4 */

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
        int rc = store_group_write(&tdb, txn, &g, NULL, CHANGE_GROUP_CREATED, NULL, g.created_at);
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

/* ---- the change feed and events ---- */

struct feed_seen {
    size_t n;
    struct change_entry e[16];
};

static int collect_entry(void *ctx, const struct change_entry *e)
{
    struct feed_seen *f = ctx;
    if (f->n < 16)
        f->e[f->n] = *e;
    f->n++;
    return 0;
}

/* MDB_NOTFOUND when since is older than what top's feed keeps. */
static int feed(uint32_t top, uint64_t since, struct feed_seen *f, uint64_t *oldest)
{
    MDB_txn *txn;
    memset(f, 0, sizeof *f);
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    int rc = store_changes_each(&tdb, txn, top, since, collect_entry, f, oldest);
    store_read_end(&tdb);
    return rc;
}

START_TEST(feed_records_every_write_in_order_and_the_rev)
{
    struct group g, old;
    make_group(&g, 7, 100, "abc");
    MDB_txn *txn;
    struct change_list also = {0};
    change_list_add(&also, CHANGE_PARTICIPANT_ADDED, 8);
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_group_write(&tdb, txn, &g, NULL, CHANGE_GROUP_CREATED, &also, 5000), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    change_list_free(&also);
    /* A rolled-back write leaves no entry. */
    group_copy(&old, &g);
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_group_write(&tdb, txn, &g, &old, CHANGE_GROUP_UPDATED, NULL, 6000), 0);
    store_write_abort(txn);
    /* Nothing to record writes nothing. */
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_group_write(&tdb, txn, &g, &old, 0, NULL, 6000), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    ck_assert_int_eq(put(&g, &old), 0); /* group.updated */

    struct feed_seen f;
    uint64_t oldest;
    ck_assert_int_eq(feed(100, 0, &f, &oldest), 0);
    ck_assert_uint_eq(f.n, 3);
    ck_assert_uint_eq(f.e[0].type, CHANGE_GROUP_CREATED);
    ck_assert_uint_eq(f.e[0].id, 7);
    ck_assert_int_eq(f.e[0].at, 5000);
    ck_assert_uint_eq(f.e[1].type, CHANGE_PARTICIPANT_ADDED);
    ck_assert_uint_eq(f.e[1].id, 8);
    ck_assert_uint_eq(f.e[1].group, 7);
    ck_assert_uint_eq(f.e[1].organisation, 101);
    ck_assert_uint_eq(f.e[2].type, CHANGE_GROUP_UPDATED);
    ck_assert(f.e[0].seq < f.e[1].seq && f.e[1].seq < f.e[2].seq);
    ck_assert_int_eq(feed(100, f.e[1].seq, &f, &oldest), 0);
    ck_assert_uint_eq(f.n, 1);
    ck_assert_int_eq(feed(200, 0, &f, &oldest), 0);
    ck_assert_uint_eq(f.n, 0); /* another tenant sees nothing */

    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    struct group_record r;
    ck_assert_int_eq(store_group_get(&tdb, txn, 7, &r), 0);
    uint64_t rev, last;
    ck_assert_int_eq(store_top_rev(&tdb, txn, 100, &rev), 0);
    ck_assert_int_eq(store_last_seq(&tdb, txn, 100, &last), 0);
    store_read_end(&tdb);
    ck_assert_uint_eq(r.rev, last);
    ck_assert_uint_eq(rev, last);

    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_group_purge(&tdb, txn, &g, 7000), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    ck_assert_int_eq(feed(100, 0, &f, &oldest), 0);
    ck_assert_uint_eq(f.n, 4);
    ck_assert_uint_eq(f.e[3].type, CHANGE_GROUP_PURGED);
    group_free(&g);
    group_free(&old);
}
END_TEST

START_TEST(feed_reads_from_the_middle_of_a_write)
{
    /* One write of a group and five participants is one record of six
     * entries; a since inside it starts inside it. */
    struct group g, h;
    make_group(&g, 7, 100, NULL);
    make_group(&h, 20, 100, NULL);
    struct change_list also = {0};
    for (uint64_t pid = 8; pid <= 12; pid++)
        change_list_add(&also, CHANGE_PARTICIPANT_ADDED, pid);
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_group_write(&tdb, txn, &g, NULL, CHANGE_GROUP_CREATED, &also, 5000), 0);
    ck_assert_int_eq(store_group_write(&tdb, txn, &h, NULL, CHANGE_GROUP_CREATED, NULL, 5000), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    change_list_free(&also);
    struct feed_seen f;
    uint64_t oldest;
    ck_assert_int_eq(feed(100, 0, &f, &oldest), 0);
    ck_assert_uint_eq(f.n, 7);
    uint64_t first = f.e[0].seq;
    for (uint64_t since = first; since < first + 7; since++) {
        ck_assert_int_eq(feed(100, since, &f, &oldest), 0);
        ck_assert_uint_eq(f.n, first + 6 - since);
        if (f.n)
            ck_assert_uint_eq(f.e[0].seq, since + 1);
    }
    ck_assert_int_eq(feed(100, first + 2, &f, &oldest), 0);
    ck_assert_uint_eq(f.e[0].type, CHANGE_PARTICIPANT_ADDED);
    ck_assert_uint_eq(f.e[0].id, 10);
    ck_assert_uint_eq(f.e[3].type, CHANGE_GROUP_CREATED);
    ck_assert_uint_eq(f.e[3].id, 20);
    group_free(&g);
    group_free(&h);
}
END_TEST

START_TEST(feed_prunes_old_entries_a_bounded_number_per_write)
{
    tdb.retain_ms = 1000;
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    for (uint64_t id = 1; id <= 40; id++) {
        struct group g;
        make_group(&g, id, 100, NULL);
        ck_assert_int_eq(store_group_write(&tdb, txn, &g, NULL, CHANGE_GROUP_CREATED, NULL, 100),
                         0);
        group_free(&g);
    }
    ck_assert_int_eq(store_write_commit(txn), 0);
    /* A write 10 s later prunes 2 x 1 + 16 of the 40 old entries. */
    struct group g;
    make_group(&g, 41, 100, NULL);
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_group_write(&tdb, txn, &g, NULL, CHANGE_GROUP_CREATED, NULL, 10100), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    group_free(&g);
    struct feed_seen f;
    uint64_t oldest;
    ck_assert_int_eq(feed(100, 0, &f, &oldest), MDB_NOTFOUND);
    ck_assert_uint_eq(oldest, 18);
    ck_assert_int_eq(feed(100, oldest, &f, &oldest), 0);
    ck_assert_uint_eq(f.n, 41 - 18);
    ck_assert_uint_eq(f.e[0].seq, 19);
    /* A second transaction goes on pruning. */
    make_group(&g, 42, 100, NULL);
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_group_write(&tdb, txn, &g, NULL, CHANGE_GROUP_CREATED, NULL, 10200), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    group_free(&g);
    ck_assert_int_eq(feed(100, 36, &f, &oldest), 0);
    ck_assert_uint_eq(f.n, 6); /* 37..40 old, 41, 42 */
    size_t entries;
    int64_t oldest_at;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_changes_stat(&tdb, txn, &entries, &oldest_at), 0);
    store_read_end(&tdb);
    ck_assert_uint_eq(entries, 6);
    ck_assert_int_eq(oldest_at, 100);
}
END_TEST

START_TEST(events_round_trip_and_go_with_their_group)
{
    struct group g;
    make_group(&g, 7, 100, NULL);
    ck_assert_int_eq(put(&g, NULL), 0);
    struct event ev = {0};
    ev.id = 9, ev.group = 7, ev.day = 3, ev.start = 570, ev.end = 690;
    ev.weeks = (uint64_t)1 << 8 | (uint64_t)1 << 53;
    ev.title = strdup("Werkcollege");
    ev.location = strdup("CS1.04");
    ev.tutors = calloc(2, sizeof *ev.tutors);
    ev.tutors[0] = strdup("esunxx");
    ev.n_tutors = 1;
    ev.has_tutors = true;
    ev.created_at = ev.updated_at = 1617880221000;
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_event_put(&tdb, txn, &ev), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    struct event back;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_event_get(&tdb, txn, 7, 9, &back), 0);
    ck_assert(event_equal(&ev, &back));
    event_free(&back);
    ck_assert_int_eq(store_event_get(&tdb, txn, 8, 9, &back), MDB_NOTFOUND);
    store_read_end(&tdb);
    struct buf json = BUF_INIT;
    event_write_json(&ev, &json);
    ck_assert_str_eq(
        json.data,
        "{\"id\":9,\"group\":7,\"title\":\"Werkcollege\",\"day\":3,\"startTime\":\"09:30\","
        "\"endTime\":\"11:30\",\"weeks\":[8,53],\"tutors\":[\"esunxx\"],"
        "\"location\":{\"name\":\"CS1.04\"},\"createdAt\":\"2021-04-08T11:10:21.000Z\","
        "\"updatedAt\":\"2021-04-08T11:10:21.000Z\"}");
    buf_free(&json);
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_group_purge(&tdb, txn, &g, 1617880222000), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_event_get(&tdb, txn, 7, 9, &back), MDB_NOTFOUND);
    store_read_end(&tdb);
    event_free(&ev);
    group_free(&g);
}
END_TEST

/* Each participant of group 7, rendered, one per line; plain counts those
 * whose record said that no string needs an escape. */
struct rendered {
    struct buf json;
    int plain;
};

static int render_one(void *ctx, const struct participant *pt)
{
    struct rendered *r = ctx;
    r->plain += pt->json_plain;
    participant_write_json(pt, &r->json);
    buf_addc(&r->json, '\n');
    /* a copy is there to be changed: it is escaped again, to the same bytes */
    struct participant copy;
    participant_copy(&copy, pt);
    ck_assert(!copy.json_plain);
    struct buf again = BUF_INIT;
    participant_write_json(&copy, &again);
    ck_assert_int_eq(memcmp(again.data, r->json.data + r->json.len - 1 - again.len, again.len), 0);
    buf_free(&again);
    participant_free(&copy);
    return 0;
}

static void render_group_7(struct rendered *r)
{
    MDB_txn *txn;
    r->json = (struct buf)BUF_INIT;
    r->plain = 0;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_participant_each(&tdb, txn, 7, render_one, r), 0);
    store_read_end(&tdb);
}

static void check_line(void *ctx, const char *line)
{
    struct buf *b = ctx;
    buf_adds(b, line);
    buf_addc(b, '\n');
}

START_TEST(participants_needing_no_escape_are_served_as_stored)
{
    char *labels[] = {"a \"b\"", "c"};
    struct participant plain = {0}, quoted = {0};
    plain.id = 1, plain.group = 7, plain.email = "jan@x.nl", plain.name = "Jan de Vries";
    plain.external_id = "s1", plain.labels = labels + 1, plain.n_labels = 1;
    strcpy(plain.created_by, "key-1");
    plain.created_at = plain.updated_at = 1617880221000;
    quoted = plain;
    quoted.id = 2, quoted.name = "Jan \"de\" Vries\\\t", quoted.labels = labels;
    quoted.n_labels = 2;
    struct group g;
    make_group(&g, 7, 100, NULL);
    ck_assert_int_eq(put(&g, NULL), 0);
    group_free(&g);
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_participant_put(&tdb, txn, &plain), 0);
    ck_assert_int_eq(store_participant_put(&tdb, txn, &quoted), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    struct rendered r;
    render_group_7(&r);
    ck_assert_int_eq(r.plain, 1);
    const char *tail = "\"integrations\":[],\"deleted\":false,\"createdBy\":\"key-1\","
                       "\"modifiedBy\":null,\"createdAt\":\"2021-04-08T11:10:21.000Z\","
                       "\"updatedAt\":\"2021-04-08T11:10:21.000Z\"}\n";
    struct buf want = BUF_INIT;
    buf_addf(&want,
             "{\"id\":1,\"group\":7,\"email\":\"jan@x.nl\",\"name\":\"Jan de Vries\","
             "\"externalId\":\"s1\",\"labels\":[{\"name\":\"c\"}],%s"
             "{\"id\":2,\"group\":7,\"email\":\"jan@x.nl\",\"name\":"
             "\"Jan \\\"de\\\" Vries\\\\\\t\",\"externalId\":\"s1\",\"labels\":"
             "[{\"name\":\"a \\\"b\\\"\"},{\"name\":\"c\"}],%s",
             tail, tail);
    ck_assert_str_eq(r.json.data, want.data);
    buf_free(&r.json);

    /* A record that says so wrongly is served broken: groupctl check names it. */
    unsigned char k[16];
    be64_put(k, 7);
    be64_put(k + 8, 2);
    MDB_val key = {16, k}, val;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(mdb_get(txn, tdb.participants, &key, &val), 0);
    struct buf rec = BUF_INIT;
    buf_add(&rec, val.mv_data, val.mv_size);
    ck_assert_int_eq(rec.data[5], 0);
    rec.data[5] = 1;
    val = (MDB_val){rec.len, rec.data};
    ck_assert_int_eq(mdb_put(txn, tdb.participants, &key, &val, 0), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    struct buf report = BUF_INIT;
    size_t n = 0;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_check(&tdb, txn, check_line, &report, &n), 0);
    store_read_end(&tdb);
    ck_assert_ptr_nonnull(
        strstr(report.data, "participant 2 of group 7 is marked as needing no JSON"));
    ck_assert_ptr_null(strstr(report.data, "participant 1 of"));
    buf_free(&report);
    buf_free(&rec);
    buf_free(&want);
}
END_TEST

START_TEST(version_3_migrates_to_current_with_an_empty_feed)
{
    struct group g;
    make_group(&g, 7, 100, NULL);
    ck_assert_int_eq(put(&g, NULL), 0);
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(mdb_drop(txn, tdb.changes, 1), 0);
    ck_assert_int_eq(mdb_drop(txn, tdb.events, 1), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    testdb_set_version(3);
    store_close(&tdb);
    ck_assert_int_eq(store_open(&tdb, tdb_dir, 0), 0);
    uint32_t v;
    size_t entries;
    int64_t oldest_at;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_schema_version(&tdb, txn, &v), 0);
    ck_assert_int_eq(store_changes_stat(&tdb, txn, &entries, &oldest_at), 0);
    store_read_end(&tdb);
    ck_assert_uint_eq(v, STORE_SCHEMA_VERSION);
    ck_assert_uint_eq(entries, 0);
    group_free(&g);
}
END_TEST

static uint64_t rev_of(uint64_t id)
{
    MDB_txn *txn;
    struct group_record r;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_group_get(&tdb, txn, id, &r), 0);
    store_read_end(&tdb);
    return r.rev;
}

/* Schema 5: each tenant counts its own seqs, and every tenant of an older
 * database continues from the number the database had reached, so a
 * consumer's since stays valid and no seq repeats. */
START_TEST(each_tenant_counts_its_seqs_from_where_the_database_was)
{
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_meta_put(&tdb, txn, "change_seq", 10, 500), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    testdb_set_version(4);
    store_close(&tdb);
    ck_assert_int_eq(store_open(&tdb, tdb_dir, 0), 0);
    struct group a, b, a2;
    make_group(&a, 7, 100, "a");
    make_group(&b, 8, 200, "b");
    ck_assert_int_eq(put(&a, NULL), 0);
    ck_assert_int_eq(put(&b, NULL), 0);
    ck_assert_uint_eq(rev_of(7), 501);
    ck_assert_uint_eq(rev_of(8), 501);
    make_group(&a2, 7, 100, "a");
    a2.name[0] = 'X';
    ck_assert_int_eq(put(&a2, &a), 0);
    ck_assert_uint_eq(rev_of(7), 502);
    uint64_t last, any;
    uint32_t v;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_schema_version(&tdb, txn, &v), 0);
    ck_assert_uint_eq(v, 5);
    ck_assert_int_eq(store_last_seq(&tdb, txn, 200, &last), 0);
    ck_assert_uint_eq(last, 501);
    ck_assert_int_eq(store_last_seq(&tdb, txn, 300, &last), 0);
    ck_assert_uint_eq(last, 500); /* a tenant with no change yet */
    ck_assert_int_eq(store_last_seq_any(&tdb, txn, &any), 0);
    ck_assert_uint_eq(any, 502);
    size_t differences = 1;
    ck_assert_int_eq(store_check(&tdb, txn, NULL, NULL, &differences), 0);
    store_read_end(&tdb);
    ck_assert_uint_eq(differences, 0);
    group_free(&a);
    group_free(&b);
    group_free(&a2);
}
END_TEST

/* API.md §9: shard K hands out ids only in [K * 10^12, (K + 1) * 10^12),
 * keeps its number, and refuses another. */
START_TEST(a_shard_takes_ids_in_its_range_and_keeps_its_number)
{
    ck_assert_int_eq(store_claim_shard(&tdb, 3), 0);
    ck_assert_uint_eq(store_shard(&tdb), 3);
    MDB_txn *txn;
    uint64_t id, key_id;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_next_id(&tdb, txn, &id), 0);
    ck_assert_int_eq(store_key_next_id(&tdb, txn, &key_id), 0);
    ck_assert_uint_eq(id, 3 * STORE_SHARD_IDS);
    ck_assert_uint_eq(key_id, 3 * STORE_SHARD_IDS);
    struct apikey_record k;
    memset(&k, 0, sizeof k);
    k.id = key_id;
    k.role = ROLE_ADMIN;
    k.top_organisation = 100;
    char key[APIKEY_STRING_MAX];
    apikey_generate(100, k.id, key, k.hash);
    ck_assert_int_eq(store_key_put(&tdb, txn, &k), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    /* The key names its id in full, and authenticates. */
    ck_assert_ptr_nonnull(strstr(key, "gdk_100_3000000000000_"));
    struct principal who;
    uint32_t top;
    ck_assert(apikey_tenant(key, &top));
    ck_assert_uint_eq(top, 100);
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    bool known = false;
    ck_assert_int_eq(apikey_authenticate(&tdb, txn, key, &who, &known), 0);
    store_read_end(&tdb);
    ck_assert(known);
    ck_assert_uint_eq(who.key_id, 3 * STORE_SHARD_IDS);
    ck_assert_str_eq(who.actor, "key-3000000000000");

    /* Opened again, without a number or with its own: shard 3. */
    store_close(&tdb);
    ck_assert_int_eq(store_open(&tdb, tdb_dir, 0), 0);
    ck_assert_uint_eq(store_shard(&tdb), 3);
    ck_assert_int_eq(store_claim_shard(&tdb, -1), 0);
    ck_assert_int_eq(store_claim_shard(&tdb, 3), 0);
    /* Another number is refused, naming both. */
    ck_assert_int_eq(store_claim_shard(&tdb, 4), MDB_INCOMPATIBLE);
    ck_assert_ptr_nonnull(strstr(store_errmsg(&tdb), "shard 3"));
    ck_assert_ptr_nonnull(strstr(store_errmsg(&tdb), "shard 4"));
    ck_assert_uint_eq(store_shard(&tdb), 3);

    /* The last id of the range, then nothing more. */
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_meta_put(&tdb, txn, "next_id", 7, 4 * STORE_SHARD_IDS - 2), 0);
    ck_assert_int_eq(store_next_id(&tdb, txn, &id), 0);
    ck_assert_uint_eq(id, 4 * STORE_SHARD_IDS - 1);
    ck_assert_int_eq(store_next_id(&tdb, txn, &id), MDB_MAP_FULL);
    store_write_abort(txn);
}
END_TEST

/* A database that handed out ids before shards existed is shard 0. */
START_TEST(a_database_from_before_shards_is_shard_0)
{
    MDB_txn *txn;
    uint64_t id;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_next_id(&tdb, txn, &id), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    ck_assert_uint_eq(id, 1);
    ck_assert_int_eq(store_claim_shard(&tdb, 2), MDB_INCOMPATIBLE);
    ck_assert_ptr_nonnull(strstr(store_errmsg(&tdb), "shard 0"));
    ck_assert_int_eq(store_claim_shard(&tdb, 0), 0);
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_next_id(&tdb, txn, &id), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    ck_assert_uint_eq(id, 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, testdb_setup, testdb_teardown);
    tcase_add_test(tc, record_round_trip);
    tcase_add_test(tc, external_id_unique_per_top);
    tcase_add_test(tc, long_external_ids_fit_lmdb_keys);
    tcase_add_test(tc, counters_never_repeat);
    tcase_add_test(tc, map_full_is_reported_and_nothing_written);
    tcase_add_test(tc, release_map_unmaps_pages_and_keeps_uncommitted_writes);
    tcase_add_test(tc, version_1_migrates_to_current_and_newer_is_refused);
    tcase_add_test(tc, version_1_with_participant_records_is_refused);
    tcase_add_test(tc, feed_records_every_write_in_order_and_the_rev);
    tcase_add_test(tc, feed_reads_from_the_middle_of_a_write);
    tcase_add_test(tc, feed_prunes_old_entries_a_bounded_number_per_write);
    tcase_add_test(tc, events_round_trip_and_go_with_their_group);
    tcase_add_test(tc, version_3_migrates_to_current_with_an_empty_feed);
    tcase_add_test(tc, each_tenant_counts_its_seqs_from_where_the_database_was);
    tcase_add_test(tc, a_shard_takes_ids_in_its_range_and_keeps_its_number);
    tcase_add_test(tc, a_database_from_before_shards_is_shard_0);
    tcase_add_test(tc, participants_needing_no_escape_are_served_as_stored);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
