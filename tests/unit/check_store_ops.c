/* Unit tests for the store's write operations (include/store.h "write
 * operations"), one or more per operation, through the same calls the
 * handlers and the imports make; and for the store's reserve for deletes
 * in a full map (store_txn.c).  After each, `groupctl check`'s
 * comparison (store_check) finds no difference. */
#include <check.h>
#include <json-c/json.h>
#include <string.h>

#include "jsonin.h"
#include "testdb.h"

#define TOP 100
#define ORG (TOP + 1)

static const struct store_writer WRITER = {TOP, NULL, 0, false, "key-1", 2000, false};

/* ---- helpers ---- */

static struct group_patch patch_of(const char *json, bool create)
{
    struct problem p;
    problem_init(&p);
    struct json_object *o = jsonin_parse(json, strlen(json), &p);
    ck_assert_ptr_nonnull(o);
    struct group_patch patch;
    ck_assert(group_patch_parse(o, create, &patch, &p));
    json_object_put(o);
    problem_free(&p);
    return patch;
}

/* Patches from "email/externalId" pairs ("" externalId: none). */
static struct participant_patch *patches(const char *const *v, size_t n)
{
    struct participant_patch *out = calloc(n ? n : 1, sizeof *out);
    ck_assert_ptr_nonnull(out);
    struct problem p;
    problem_init(&p);
    for (size_t i = 0; i < n; i++) {
        const char *slash = strchr(v[i], '/');
        struct participant_text t = {
            v[i], "", slash + 1, "", (size_t)(slash - v[i]), 0, strlen(slash + 1), 0};
        ck_assert(participant_patch_from_text(&t, &out[i], &p));
        out[i].line = (long)i + 2;
    }
    problem_free(&p);
    return out;
}

static MDB_txn *begin(void)
{
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    return txn;
}

/* Commits on STORE_OK, aborts otherwise; returns the status. */
static enum store_status end(MDB_txn *txn, struct store_result *r)
{
    if (r->status == STORE_OK)
        ck_assert_int_eq(store_write_commit(txn), 0);
    else
        store_write_abort(txn);
    return r->status;
}

static struct store_name by_id(uint64_t id)
{
    return (struct store_name){id, NULL, 0, false, 0};
}

static struct store_name by_text(const char *s, bool external)
{
    return (struct store_name){0, s, strlen(s), external, 0};
}

/* A new group of ORG with externalId ext (NULL: none) and participants
 * v[0..n) ("email/externalId"); returns its id. */
static uint64_t new_group(const char *ext, const char *const *v, size_t n)
{
    char json[256];
    snprintf(json, sizeof json, "{\"name\":\"Groep\"%s%s%s}", ext ? ",\"externalId\":\"" : "",
             ext ? ext : "", ext ? "\"" : "");
    struct group_patch gp = patch_of(json, true);
    struct participant_patch *pp = patches(v, n);
    struct store_group_body b = {&gp, n > 0, pp, n, PKEY_EMAIL};
    struct store_result r;
    store_result_init(&r);
    MDB_txn *txn = begin();
    store_create_group(&tdb, txn, &WRITER, ORG, 0, &b, &r);
    ck_assert_int_eq(end(txn, &r), STORE_OK);
    ck_assert(r.has_group && r.changed);
    ck_assert_uint_eq(r.counts.created, n);
    uint64_t id = r.group.id;
    store_result_free(&r);
    group_patch_free(&gp);
    participant_list_free(pp, n);
    return id;
}

/* Syncs group gid to v[0..n) in one transaction (an import's call). */
static enum store_status sync(const struct store_writer *w, uint64_t gid, const char *const *v,
                              size_t n, enum pkey match, bool replace, struct store_result *r)
{
    struct participant_patch *pp = patches(v, n);
    store_result_init(r);
    MDB_txn *txn = begin();
    struct store_name g = by_id(gid);
    store_sync_participants(&tdb, txn, w, &g, pp, n, match, replace, r);
    participant_list_free(pp, n);
    return end(txn, r);
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

/* The group's status bits and its rev (0 when it is gone). */
static unsigned status_of(uint64_t gid, uint64_t *rev)
{
    MDB_txn *txn;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    struct group_record rec;
    unsigned st = 0;
    *rev = 0;
    if (store_group_get(&tdb, txn, gid, &rec) == 0) {
        st = group_record_status(&rec);
        *rev = rec.rev;
    }
    store_read_end(&tdb);
    return st;
}

static int add_type(void *ctx, const struct change_entry *e)
{
    char *out = ctx;
    size_t at = strlen(out);
    snprintf(out + at, 512 - at, "%s%s", at ? " " : "", change_type_name(e->type));
    return 0;
}

/* The feed's types after seq `since`, joined by spaces. */
static void feed(uint64_t since, char out[512])
{
    MDB_txn *txn;
    out[0] = '\0';
    uint64_t oldest;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_changes_each(&tdb, txn, TOP, since, add_type, out, &oldest), 0);
    store_read_end(&tdb);
}

static uint64_t last_seq(void)
{
    MDB_txn *txn;
    uint64_t seq;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_last_seq(&tdb, txn, TOP, &seq), 0);
    store_read_end(&tdb);
    return seq;
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

/* ---- groups ---- */

START_TEST(create_takes_an_id_counts_its_participants_and_notes_the_feed)
{
    static const char *const two[] = {"a@x.nl/1", "b@x.nl/2"};
    uint64_t g = new_group("g-1", two, 2);
    char got[512];
    uint32_t total;
    members(g, got, sizeof got, &total);
    ck_assert_str_eq(got, "a@x.nl/1 b@x.nl/2");
    ck_assert_uint_eq(total, 2);
    feed(0, got);
    ck_assert_str_eq(got, "group.created participant.added participant.added");
    /* Ids are shared by groups and participants: the next group's is new. */
    uint64_t h = new_group("g-2", NULL, 0);
    ck_assert_uint_gt(h, g + 2);
    ck_assert_uint_eq(differences(), 0);
}
END_TEST

START_TEST(a_taken_external_id_is_a_conflict_naming_the_holder)
{
    uint64_t g = new_group("g-1", NULL, 0);
    uint64_t seq = last_seq();
    struct group_patch gp = patch_of("{\"name\":\"Other\",\"externalId\":\"g-1\"}", true);
    struct store_group_body b = {&gp, false, NULL, 0, PKEY_EMAIL};
    struct store_result r;
    store_result_init(&r);
    MDB_txn *txn = begin();
    ck_assert_int_eq(store_create_group(&tdb, txn, &WRITER, ORG, 0, &b, &r), STORE_CONFLICT);
    ck_assert_int_eq(end(txn, &r), STORE_CONFLICT);
    ck_assert_uint_eq(r.n_conflicts, 1);
    ck_assert_int_eq(r.conflicts[0].key, 0);
    ck_assert_uint_eq(r.conflicts[0].holder, g);
    ck_assert_uint_eq(r.conflicts[0].holder_status, GROUP_ACTIVE);
    store_result_free(&r);
    group_patch_free(&gp);
    ck_assert_uint_eq(last_seq(), seq);
    ck_assert_uint_eq(differences(), 0);
}
END_TEST

START_TEST(edit_applies_the_patch_and_replaces_the_participants)
{
    static const char *const three[] = {"a@x.nl/", "b@x.nl/", "c@x.nl/"};
    uint64_t g = new_group("g-1", three, 3);
    uint64_t rev0, rev1;
    status_of(g, &rev0);
    struct group_patch gp = patch_of("{\"name\":\"Renamed\"}", false);
    struct participant_patch *pp = patches((const char *const[]){"b@x.nl/"}, 1);
    struct store_group_body b = {&gp, true, pp, 1, PKEY_EMAIL};
    struct store_result r;
    store_result_init(&r);
    MDB_txn *txn = begin();
    struct store_name name = by_text("g-1", true);
    store_edit_group(&tdb, txn, &WRITER, &name, &b, &r);
    ck_assert_int_eq(end(txn, &r), STORE_OK);
    ck_assert_str_eq(r.group.name, "Renamed");
    ck_assert_uint_eq(r.group.total_participants, 1);
    ck_assert_uint_eq(r.counts.removed, 2);
    ck_assert_str_eq(r.group.modified_by, "key-1");
    store_result_free(&r);
    status_of(g, &rev1);
    ck_assert_uint_gt(rev1, rev0);
    /* The same again changes nothing: no feed entry, the rev stays. */
    store_result_init(&r);
    txn = begin();
    store_edit_group(&tdb, txn, &WRITER, &name, &b, &r);
    ck_assert_int_eq(end(txn, &r), STORE_OK);
    ck_assert(!r.changed);
    store_result_free(&r);
    status_of(g, &rev0);
    ck_assert_uint_eq(rev0, rev1);
    group_patch_free(&gp);
    participant_list_free(pp, 1);
    ck_assert_uint_eq(differences(), 0);
}
END_TEST

/* Runs one of the status operations on group g; returns its status. */
enum op { DEL, UNDEL, ARCH, UNARCH, PURGE };
static enum store_status status_op(const struct store_writer *w, uint64_t g, enum op op)
{
    struct store_result r;
    store_result_init(&r);
    MDB_txn *txn = begin();
    struct store_name name = by_id(g);
    switch (op) {
    case DEL:
    case UNDEL: store_delete_group(&tdb, txn, w, &name, op == DEL, &r); break;
    case ARCH:
    case UNARCH: store_archive_group(&tdb, txn, w, &name, op == ARCH, &r); break;
    case PURGE: store_purge_group(&tdb, txn, w, &name, &r); break;
    }
    enum store_status st = end(txn, &r);
    store_result_free(&r);
    return st;
}

START_TEST(delete_archive_their_undo_and_purge)
{
    static const char *const one[] = {"a@x.nl/1"};
    uint64_t g = new_group("g-1", one, 1), rev;
    uint64_t seq = last_seq();
    ck_assert_int_eq(status_op(&WRITER, g, ARCH), STORE_OK);
    ck_assert_uint_eq(status_of(g, &rev), GROUP_ARCHIVED);
    ck_assert_int_eq(status_op(&WRITER, g, UNARCH), STORE_OK);
    ck_assert_uint_eq(status_of(g, &rev), GROUP_ACTIVE);
    ck_assert_int_eq(status_op(&WRITER, g, DEL), STORE_OK);
    ck_assert_uint_eq(status_of(g, &rev), GROUP_DELETED);
    /* A deleted group is not there for archiving, but for its undo. */
    ck_assert_int_eq(status_op(&WRITER, g, ARCH), STORE_NO_GROUP);
    ck_assert_int_eq(status_op(&WRITER, g, UNDEL), STORE_OK);
    ck_assert_int_eq(status_op(&WRITER, g, DEL), STORE_OK);
    ck_assert_int_eq(status_op(&WRITER, g, PURGE), STORE_OK);
    ck_assert_uint_eq(status_of(g, &rev), 0);
    ck_assert_int_eq(status_op(&WRITER, g, PURGE), STORE_NO_GROUP);
    char got[512];
    feed(seq, got);
    ck_assert_str_eq(got, "group.archived group.unarchived group.deleted group.restored "
                          "group.deleted group.purged");
    /* Its externalId is free again. */
    new_group("g-1", NULL, 0);
    ck_assert_uint_eq(differences(), 0);
}
END_TEST

START_TEST(a_group_outside_the_writers_scope_is_not_there)
{
    uint64_t g = new_group("g-1", NULL, 0);
    struct store_writer other_top = WRITER, other_org = WRITER, own_org = WRITER;
    other_top.top = TOP + 50;
    uint32_t elsewhere = ORG + 1, here = ORG;
    other_org.orgs = &elsewhere;
    other_org.n_orgs = 1;
    own_org.orgs = &here;
    own_org.n_orgs = 1;
    ck_assert_int_eq(status_op(&other_top, g, ARCH), STORE_NO_GROUP);
    ck_assert_int_eq(status_op(&other_org, g, ARCH), STORE_NO_GROUP);
    ck_assert_int_eq(status_op(&other_org, g, PURGE), STORE_NO_GROUP);
    ck_assert_int_eq(status_op(&own_org, g, ARCH), STORE_OK);
    /* Digits name the id first, then an externalId; `external` only the latter. */
    uint64_t h = new_group("12345", NULL, 0);
    char digits[24];
    snprintf(digits, sizeof digits, "%llu", (unsigned long long)g);
    MDB_txn *txn;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    struct group_record rec;
    int rc;
    struct store_name n1 = by_text(digits, false), n2 = by_text("12345", false),
                      n3 = by_text(digits, true), n4 = by_text("12345", true);
    n1.statuses = n3.statuses = GROUP_ACTIVE | GROUP_ARCHIVED;
    ck_assert_int_eq(store_find_group(&tdb, txn, &WRITER, &n1, &rec, &rc), STORE_OK);
    ck_assert_uint_eq(rec.id, g);
    ck_assert_int_eq(store_find_group(&tdb, txn, &WRITER, &n2, &rec, &rc), STORE_OK);
    ck_assert_uint_eq(rec.id, h);
    ck_assert_int_eq(store_find_group(&tdb, txn, &WRITER, &n3, &rec, &rc), STORE_NO_GROUP);
    ck_assert_int_eq(store_find_group(&tdb, txn, &WRITER, &n4, &rec, &rc), STORE_OK);
    ck_assert_int_eq(store_find_group(&tdb, txn, &other_top, &n4, &rec, &rc), STORE_NO_GROUP);
    /* Only the statuses asked for. */
    n2.statuses = GROUP_ARCHIVED;
    ck_assert_int_eq(store_find_group(&tdb, txn, &WRITER, &n2, &rec, &rc), STORE_NO_GROUP);
    store_read_end(&tdb);
}
END_TEST

START_TEST(an_import_locked_group_needs_an_admin)
{
    static const char *const one[] = {"a@x.nl/1"};
    uint64_t g = new_group("g-1", one, 1);
    struct store_writer admin = WRITER, import = WRITER;
    admin.admin = true;
    import.lock_on_write = true;
    struct group_patch lock = patch_of("{\"importLock\":true}", false);
    struct store_group_body b = {&lock, false, NULL, 0, PKEY_EMAIL};
    struct store_result r;
    store_result_init(&r);
    MDB_txn *txn = begin();
    struct store_name name = by_id(g);
    store_edit_group(&tdb, txn, &admin, &name, &b, &r);
    ck_assert_int_eq(end(txn, &r), STORE_OK);
    ck_assert(r.group.import_lock);
    store_result_free(&r);
    group_patch_free(&lock);
    ck_assert_int_eq(status_op(&WRITER, g, ARCH), STORE_LOCKED);
    ck_assert_int_eq(status_op(&admin, g, ARCH), STORE_OK);
    /* An import's writer passes a locked group that it leaves as it is ... */
    ck_assert_int_eq(sync(&import, g, one, 1, PKEY_EMAIL, true, &r), STORE_OK);
    ck_assert(!r.changed);
    store_result_free(&r);
    /* ... and is refused where it would change it, naming the group. */
    static const char *const other[] = {"b@x.nl/2"};
    ck_assert_int_eq(sync(&import, g, other, 1, PKEY_EMAIL, true, &r), STORE_LOCKED);
    ck_assert_uint_eq(r.group.id, g);
    store_result_free(&r);
    char got[512];
    uint32_t total;
    members(g, got, sizeof got, &total);
    ck_assert_str_eq(got, "a@x.nl/1");
    ck_assert_uint_eq(differences(), 0);
}
END_TEST

START_TEST(upsert_creates_updates_or_leaves_a_group)
{
    struct store_writer import = WRITER;
    import.lock_on_write = true;
    struct group_patch gp = patch_of("{\"name\":\"Upserted\",\"externalId\":\"u-1\"}", true);
    struct store_result r;
    store_result_init(&r);
    MDB_txn *txn = begin();
    struct store_name none = by_id(0);
    store_upsert_group(&tdb, txn, &import, &none, ORG, &gp, &r);
    ck_assert_int_eq(end(txn, &r), STORE_OK);
    ck_assert_uint_eq(r.counts.created, 1);
    uint64_t g = r.group.id;
    store_result_free(&r);
    struct store_name it = by_id(g);
    store_result_init(&r);
    txn = begin();
    store_upsert_group(&tdb, txn, &import, &it, ORG, &gp, &r);
    ck_assert_int_eq(end(txn, &r), STORE_OK);
    ck_assert_uint_eq(r.counts.unchanged, 1);
    ck_assert(!r.changed);
    store_result_free(&r);
    group_patch_free(&gp);
    gp = patch_of("{\"name\":\"Renamed\"}", false);
    store_result_init(&r);
    txn = begin();
    store_upsert_group(&tdb, txn, &import, &it, ORG, &gp, &r);
    ck_assert_int_eq(end(txn, &r), STORE_OK);
    ck_assert_uint_eq(r.counts.updated, 1);
    ck_assert_str_eq(r.group.name, "Renamed");
    store_result_free(&r);
    group_patch_free(&gp);
    ck_assert_uint_eq(differences(), 0);
}
END_TEST

/* ---- participants ---- */

START_TEST(add_is_an_upsert_by_the_match_key)
{
    uint64_t g = new_group("g-1", NULL, 0);
    struct participant_patch *pp = patches((const char *const[]){"a@x.nl/1"}, 1);
    struct store_name name = by_id(g);
    struct store_result r;
    store_result_init(&r);
    MDB_txn *txn = begin();
    store_add_participant(&tdb, txn, &WRITER, &name, pp, PKEY_EMAIL, &r);
    ck_assert_int_eq(end(txn, &r), STORE_OK);
    ck_assert_uint_eq(r.counts.created, 1);
    ck_assert_str_eq(r.participant.email, "a@x.nl");
    uint64_t pid = r.participant.id;
    store_result_free(&r);
    participant_list_free(pp, 1);
    /* The same e-mail in another case, with a new externalId: an update. */
    pp = patches((const char *const[]){"A@X.NL/9"}, 1);
    store_result_init(&r);
    txn = begin();
    store_add_participant(&tdb, txn, &WRITER, &name, pp, PKEY_EMAIL, &r);
    ck_assert_int_eq(end(txn, &r), STORE_OK);
    ck_assert_uint_eq(r.counts.updated, 1);
    ck_assert_uint_eq(r.participant.id, pid);
    ck_assert_str_eq(r.participant.external_id, "9");
    store_result_free(&r);
    participant_list_free(pp, 1);
    char got[512];
    uint32_t total;
    members(g, got, sizeof got, &total);
    ck_assert_uint_eq(total, 1);
    ck_assert_uint_eq(differences(), 0);
}
END_TEST

START_TEST(edit_finds_by_id_email_or_external_id_and_refuses_a_taken_value)
{
    static const char *const two[] = {"a@x.nl/1", "b@x.nl/2"};
    uint64_t g = new_group("g-1", two, 2);
    struct store_name name = by_id(g);
    struct participant_patch *pp = patches((const char *const[]){"c@x.nl/3"}, 1);
    struct store_participant_name who[] = {
        {PICK_EMAIL, 0, "A@x.nl", 6}, {PICK_EXTID, 0, "3", 1}, {PICK_ID, g + 1, NULL, 0}};
    struct store_result r;
    for (size_t i = 0; i < 3; i++) {
        store_result_init(&r);
        MDB_txn *txn = begin();
        store_edit_participant(&tdb, txn, &WRITER, &name, &who[i], pp, &r);
        ck_assert_int_eq(end(txn, &r), STORE_OK);
        ck_assert_uint_eq(r.participant.id, g + 1);
        ck_assert_str_eq(r.participant.email, "c@x.nl");
        ck_assert_uint_eq(i ? r.counts.unchanged : r.counts.updated, 1);
        store_result_free(&r);
    }
    participant_list_free(pp, 1);
    /* b's e-mail for c: taken. */
    pp = patches((const char *const[]){"b@x.nl/"}, 1);
    pp[0].present &= ~(unsigned)PM_EXTERNAL_ID;
    store_result_init(&r);
    MDB_txn *txn = begin();
    store_edit_participant(&tdb, txn, &WRITER, &name, &who[2], pp, &r);
    ck_assert_int_eq(end(txn, &r), STORE_CONFLICT);
    ck_assert_uint_eq(r.n_conflicts, 1);
    ck_assert_int_eq(r.conflicts[0].key, PKEY_EMAIL);
    ck_assert_uint_eq(r.conflicts[0].holder, g + 2);
    store_result_free(&r);
    /* Nobody by that name. */
    struct store_participant_name nobody = {PICK_EMAIL, 0, "z@x.nl", 6};
    store_result_init(&r);
    txn = begin();
    store_edit_participant(&tdb, txn, &WRITER, &name, &nobody, pp, &r);
    ck_assert_int_eq(end(txn, &r), STORE_NO_PARTICIPANT);
    store_result_free(&r);
    participant_list_free(pp, 1);
    char got[512];
    uint32_t total;
    members(g, got, sizeof got, &total);
    ck_assert_str_eq(got, "c@x.nl/3 b@x.nl/2");
    ck_assert_uint_eq(differences(), 0);
}
END_TEST

START_TEST(remove_by_a_path_segment_and_the_count_follows)
{
    static const char *const three[] = {"a@x.nl/x1", "b@x.nl/x2", "c@x.nl/x3"};
    uint64_t g = new_group("g-1", three, 3);
    struct store_name name = by_id(g);
    char id[24];
    snprintf(id, sizeof id, "%llu", (unsigned long long)(g + 2));
    const char *segs[] = {"a@x.nl", id, "x3", "x3"};
    enum store_status want[] = {STORE_OK, STORE_OK, STORE_OK, STORE_NO_PARTICIPANT};
    for (size_t i = 0; i < 4; i++) {
        struct store_participant_name who = {PICK_SEGMENT, 0, segs[i], strlen(segs[i])};
        struct store_result r;
        store_result_init(&r);
        MDB_txn *txn = begin();
        store_remove_participant(&tdb, txn, &WRITER, &name, &who, &r);
        ck_assert_int_eq(end(txn, &r), want[i]);
        if (want[i] == STORE_OK)
            ck_assert_uint_eq(r.group.total_participants, 2 - i);
        store_result_free(&r);
    }
    char got[512];
    uint32_t total;
    members(g, got, sizeof got, &total);
    ck_assert_str_eq(got, "");
    ck_assert_uint_eq(total, 0);
    ck_assert_uint_eq(differences(), 0);
}
END_TEST

START_TEST(swapping_external_ids_or_emails_within_one_list)
{
    uint64_t g = new_group("g-1", NULL, 0);
    struct store_result r;
    static const char *const first[] = {"a@x.nl/1", "b@x.nl/2"};
    ck_assert_int_eq(sync(&WRITER, g, first, 2, PKEY_EMAIL, true, &r), STORE_OK);
    ck_assert_uint_eq(r.counts.created, 2);
    store_result_free(&r);
    /* By e-mail: a takes 2 and b takes 1, though each is the other's for a moment. */
    static const char *const swapped[] = {"a@x.nl/2", "b@x.nl/1"};
    ck_assert_int_eq(sync(&WRITER, g, swapped, 2, PKEY_EMAIL, true, &r), STORE_OK);
    ck_assert_uint_eq(r.counts.updated, 2);
    store_result_free(&r);
    char got[512];
    uint32_t total;
    members(g, got, sizeof got, &total);
    ck_assert_str_eq(got, "a@x.nl/2 b@x.nl/1");
    ck_assert_uint_eq(total, 2);
    /* By externalId: the e-mails change hands the same way. */
    static const char *const emails[] = {"b@x.nl/2", "a@x.nl/1"};
    ck_assert_int_eq(sync(&WRITER, g, emails, 2, PKEY_EXTID, true, &r), STORE_OK);
    store_result_free(&r);
    members(g, got, sizeof got, &total);
    ck_assert_str_eq(got, "b@x.nl/2 a@x.nl/1");
    ck_assert_uint_eq(differences(), 0);
}
END_TEST

START_TEST(replace_removes_the_unlisted_and_the_count_follows)
{
    uint64_t g = new_group(NULL, NULL, 0);
    struct store_result r;
    static const char *const three[] = {"a@x.nl/", "b@x.nl/", "c@x.nl/"};
    ck_assert_int_eq(sync(&WRITER, g, three, 3, PKEY_EMAIL, false, &r), STORE_OK);
    store_result_free(&r);
    static const char *const one[] = {"B@X.nl/"}; /* e-mails compare without case */
    ck_assert_int_eq(sync(&WRITER, g, one, 1, PKEY_EMAIL, false, &r), STORE_OK);
    ck_assert_uint_eq(r.counts.unchanged + r.counts.updated, 1);
    ck_assert_uint_eq(r.counts.removed, 0);
    store_result_free(&r);
    ck_assert_int_eq(sync(&WRITER, g, one, 1, PKEY_EMAIL, true, &r), STORE_OK);
    ck_assert_uint_eq(r.counts.removed, 2);
    store_result_free(&r);
    char got[512];
    uint32_t total;
    members(g, got, sizeof got, &total);
    ck_assert_uint_eq(total, 1);
    ck_assert_uint_eq(differences(), 0);
}
END_TEST

START_TEST(a_clash_outside_the_list_is_a_conflict_and_nothing_is_written)
{
    uint64_t g = new_group(NULL, NULL, 0);
    struct store_result r;
    static const char *const two[] = {"a@x.nl/1", "b@x.nl/2"};
    ck_assert_int_eq(sync(&WRITER, g, two, 2, PKEY_EMAIL, false, &r), STORE_OK);
    store_result_free(&r);
    uint64_t seq = last_seq();
    /* c takes externalId 2, which b keeps (b is not in the list, nothing replaces);
     * d clashes too: every clash is reported, with its line. */
    static const char *const clash[] = {"c@x.nl/2", "e@x.nl/5", "d@x.nl/1"};
    ck_assert_int_eq(sync(&WRITER, g, clash, 3, PKEY_EMAIL, false, &r), STORE_CONFLICT);
    ck_assert_uint_eq(r.n_conflicts, 2);
    ck_assert_int_eq(r.conflicts[0].key, PKEY_EXTID);
    ck_assert_uint_eq(r.conflicts[0].index, 0);
    ck_assert_int_eq(r.conflicts[0].line, 2);
    ck_assert_uint_eq(r.conflicts[0].holder, g + 2);
    ck_assert_uint_eq(r.conflicts[1].index, 2);
    ck_assert_uint_eq(r.conflicts[1].holder, g + 1);
    store_result_free(&r);
    char got[512];
    uint32_t total;
    members(g, got, sizeof got, &total);
    ck_assert_str_eq(got, "a@x.nl/1 b@x.nl/2");
    ck_assert_uint_eq(total, 2);
    ck_assert_uint_eq(last_seq(), seq);
    ck_assert_uint_eq(differences(), 0);
}
END_TEST

START_TEST(erasing_a_person_leaves_every_group_the_writer_sees)
{
    static const char *const a[] = {"p@x.nl/", "q@x.nl/"};
    uint64_t g1 = new_group("g-1", a, 2), g2 = new_group("g-2", a, 1);
    struct store_writer restricted = WRITER;
    uint32_t other = ORG + 1;
    restricted.orgs = &other;
    restricted.n_orgs = 1;
    struct store_result r;
    store_result_init(&r);
    MDB_txn *txn = begin();
    store_erase_person(&tdb, txn, &restricted, "P@x.nl", 6, &r);
    ck_assert_int_eq(end(txn, &r), STORE_OK);
    ck_assert_uint_eq(r.n_erased, 0);
    store_result_free(&r);
    ck_assert_int_eq(status_op(&WRITER, g2, DEL), STORE_OK); /* deleted groups too */
    store_result_init(&r);
    txn = begin();
    store_erase_person(&tdb, txn, &WRITER, "P@x.nl", 6, &r);
    ck_assert_int_eq(end(txn, &r), STORE_OK);
    ck_assert_uint_eq(r.n_erased, 2);
    ck_assert_uint_eq(r.erased[0].group + r.erased[1].group, g1 + g2);
    store_result_free(&r);
    char got[512];
    uint32_t total;
    members(g1, got, sizeof got, &total);
    ck_assert_str_eq(got, "q@x.nl/");
    members(g2, got, sizeof got, &total);
    ck_assert_uint_eq(total, 0);
    ck_assert_uint_eq(differences(), 0);
}
END_TEST

/* ---- the freeze of a move, and dropping a tenant ---- */

START_TEST(a_frozen_tenant_takes_no_write_and_a_dropped_one_leaves_nothing)
{
    static const char *const two[] = {"a@x.nl/1", "b@x.nl/2"};
    uint64_t g = new_group("g-1", two, 2);
    struct store_writer other = WRITER;
    other.top = TOP + 1;
    ck_assert_int_eq(store_tenant_freeze(&tdb, TOP), 0);
    ck_assert_int_eq(store_tenant_freeze(&tdb, TOP), 0); /* again: nothing changes */
    uint64_t seq = last_seq();
    ck_assert_int_eq(status_op(&WRITER, g, ARCH), STORE_FROZEN);
    struct group_patch gp = patch_of("{\"name\":\"late\"}", true);
    struct store_group_body b = {&gp, false, NULL, 0, PKEY_EMAIL};
    struct store_result r;
    store_result_init(&r);
    MDB_txn *txn = begin();
    ck_assert_int_eq(store_create_group(&tdb, txn, &WRITER, ORG, 0, &b, &r), STORE_FROZEN);
    end(txn, &r);
    store_result_free(&r);
    /* Another tenant writes as usual. */
    store_result_init(&r);
    txn = begin();
    ck_assert_int_eq(store_create_group(&tdb, txn, &other, ORG, 0, &b, &r), STORE_OK);
    end(txn, &r);
    uint64_t kept = r.group.id;
    store_result_free(&r);
    group_patch_free(&gp);
    ck_assert_uint_eq(last_seq(), seq);
    /* Thawed, it writes again. */
    ck_assert_int_eq(store_tenant_thaw(&tdb, TOP), 0);
    ck_assert_int_eq(store_tenant_thaw(&tdb, TOP), MDB_NOTFOUND);
    ck_assert_int_eq(status_op(&WRITER, g, ARCH), STORE_OK);
    /* Not moved: not dropped without force. */
    struct store_tenant_counts n;
    ck_assert_int_eq(store_tenant_drop(&tdb, TOP, false, &n), MDB_INCOMPATIBLE);
    ck_assert_int_eq(store_tenant_freeze(&tdb, TOP), 0);
    ck_assert_int_eq(store_tenant_drop(&tdb, TOP, false, &n), 0);
    ck_assert_uint_eq(n.groups, 1);
    ck_assert_uint_eq(n.participants, 2);
    ck_assert_uint_eq(n.feed_records, 2);
    uint64_t rev;
    ck_assert_uint_eq(status_of(g, &rev), 0);
    ck_assert_uint_eq(status_of(kept, &rev), GROUP_ACTIVE);
    ck_assert_int_eq(store_tenant_drop(&tdb, TOP, true, &n), MDB_NOTFOUND);
    /* Its externalId and counters are gone with it; writes start afresh. */
    MDB_txn *rtxn;
    bool frozen = true;
    ck_assert_int_eq(store_read_begin(&tdb, &rtxn), 0);
    ck_assert_int_eq(store_tenant_frozen(&tdb, rtxn, TOP, &frozen), 0);
    store_read_end(&tdb);
    ck_assert(!frozen);
    new_group("g-1", NULL, 0);
    ck_assert_uint_eq(differences(), 0);
}
END_TEST

START_TEST(a_copy_still_arriving_takes_no_write_no_thaw_and_is_dropped_without_force)
{
    uint64_t g = new_group("g-1", NULL, 0);
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(&tdb, &txn), 0);
    ck_assert_int_eq(store_tenant_mark_arriving(&tdb, txn, TOP, true), 0);
    ck_assert_int_eq(store_write_commit(txn), 0);
    bool frozen = false, arriving = false;
    MDB_txn *rtxn;
    ck_assert_int_eq(store_read_begin(&tdb, &rtxn), 0);
    ck_assert_int_eq(store_tenant_frozen(&tdb, rtxn, TOP, &frozen), 0);
    ck_assert_int_eq(store_tenant_arriving(&tdb, rtxn, TOP, &arriving), 0);
    store_read_end(&tdb);
    ck_assert(!frozen && arriving); /* the router needs no look: it has no key here */
    ck_assert_int_eq(status_op(&WRITER, g, ARCH), STORE_FROZEN);
    /* Not a freeze to lift: the copy is incomplete. */
    ck_assert_int_eq(store_tenant_thaw(&tdb, TOP), MDB_INCOMPATIBLE);
    ck_assert_ptr_nonnull(strstr(store_errmsg(&tdb), "still arriving"));
    struct store_tenant_counts n;
    ck_assert_int_eq(store_tenant_drop(&tdb, TOP, false, &n), 0);
    ck_assert_uint_eq(n.groups, 1);
    ck_assert_int_eq(store_read_begin(&tdb, &rtxn), 0);
    ck_assert_int_eq(store_tenant_arriving(&tdb, rtxn, TOP, &arriving), 0);
    store_read_end(&tdb);
    ck_assert(!arriving);
    ck_assert_uint_eq(differences(), 0);
}
END_TEST

/* ---- events ---- */

START_TEST(events_are_created_replaced_and_removed_in_the_feed)
{
    uint64_t g = new_group("g-1", NULL, 0);
    struct store_name name = by_id(g);
    struct event ev;
    memset(&ev, 0, sizeof ev);
    ev.title = strdup("Les");
    ev.start = ev.end = -1;
    uint64_t seq = last_seq();
    struct store_result r;
    store_result_init(&r);
    MDB_txn *txn = begin();
    store_create_event(&tdb, txn, &WRITER, &name, &ev, &r);
    ck_assert_int_eq(end(txn, &r), STORE_OK);
    uint64_t eid = r.event.id;
    ck_assert_uint_eq(r.event.group, g);
    ck_assert_int_eq(r.event.created_at, WRITER.now);
    store_result_free(&r);
    /* The same event again: nothing written. */
    for (int round = 0; round < 2; round++) {
        store_result_init(&r);
        txn = begin();
        store_replace_event(&tdb, txn, &WRITER, &name, eid, &ev, &r);
        ck_assert_int_eq(end(txn, &r), STORE_OK);
        ck_assert(r.changed == (round == 1));
        store_result_free(&r);
        free(ev.title);
        ev.title = strdup("Werkcollege");
    }
    store_result_init(&r);
    txn = begin();
    store_replace_event(&tdb, txn, &WRITER, &name, eid + 100, &ev, &r);
    ck_assert_int_eq(end(txn, &r), STORE_NO_EVENT);
    store_result_free(&r);
    store_result_init(&r);
    txn = begin();
    store_remove_event(&tdb, txn, &WRITER, &name, eid, &r);
    ck_assert_int_eq(end(txn, &r), STORE_OK);
    ck_assert_str_eq(r.event.title, "Werkcollege");
    store_result_free(&r);
    event_free(&ev);
    char got[512];
    feed(seq, got);
    ck_assert_str_eq(got, "event.created event.updated event.removed");
    ck_assert_uint_eq(differences(), 0);
}
END_TEST

/* ---- the map's reserve for deletes ---- */

/* A group with a 1000-byte description: STORE_FULL when the map is. */
static enum store_status create_filler(int i)
{
    char json[1100];
    int at = snprintf(json, sizeof json, "{\"name\":\"filler %d\",\"description\":\"", i);
    memset(json + at, 'd', 1000);
    snprintf(json + at + 1000, sizeof json - (size_t)at - 1000, "\"}");
    struct group_patch gp = patch_of(json, true);
    struct store_group_body b = {&gp, false, NULL, 0, PKEY_EMAIL};
    struct store_result r;
    store_result_init(&r);
    MDB_txn *txn = begin();
    store_create_group(&tdb, txn, &WRITER, ORG, 0, &b, &r);
    group_patch_free(&gp);
    if (r.status == STORE_OK) {
        int rc = store_write_commit(txn);
        if (rc == MDB_MAP_FULL)
            r.status = STORE_FULL;
        else
            ck_assert_int_eq(rc, 0);
    } else {
        store_write_abort(txn);
    }
    enum store_status st = r.status;
    store_result_free(&r);
    return st;
}

static int purge(uint64_t gid, bool frees)
{
    store_may_use_reserve(&tdb, frees);
    struct store_result r;
    store_result_init(&r);
    MDB_txn *txn = begin();
    struct store_name name = by_id(gid);
    store_purge_group(&tdb, txn, &WRITER, &name, &r);
    int rc = r.status == STORE_OK ? store_write_commit(txn) : (store_write_abort(txn), -1);
    store_result_free(&r);
    store_may_use_reserve(&tdb, false);
    return rc;
}

START_TEST(a_full_map_keeps_room_for_deletes)
{
    int made = 0;
    enum store_status st = STORE_OK;
    while (made < 100000 && (st = create_filler(made)) == STORE_OK)
        made++;
    ck_assert_int_eq(st, STORE_FULL);
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
        ck_assert_int_eq(create_filler(made + i), STORE_OK);
    ck_assert_uint_eq(differences(), 0);
}
END_TEST

static void small_map(void)
{
    testdb_open_sized(2 << 20);
}

int main(void)
{
    Suite *s = suite_create("store operations");
    TCase *tc = tcase_create("groups");
    tcase_add_checked_fixture(tc, testdb_setup, testdb_teardown);
    tcase_add_test(tc, create_takes_an_id_counts_its_participants_and_notes_the_feed);
    tcase_add_test(tc, a_taken_external_id_is_a_conflict_naming_the_holder);
    tcase_add_test(tc, edit_applies_the_patch_and_replaces_the_participants);
    tcase_add_test(tc, delete_archive_their_undo_and_purge);
    tcase_add_test(tc, a_group_outside_the_writers_scope_is_not_there);
    tcase_add_test(tc, an_import_locked_group_needs_an_admin);
    tcase_add_test(tc, upsert_creates_updates_or_leaves_a_group);
    tcase_add_test(tc, a_frozen_tenant_takes_no_write_and_a_dropped_one_leaves_nothing);
    tcase_add_test(tc, a_copy_still_arriving_takes_no_write_no_thaw_and_is_dropped_without_force);
    suite_add_tcase(s, tc);
    TCase *tp = tcase_create("participants");
    tcase_add_checked_fixture(tp, testdb_setup, testdb_teardown);
    tcase_add_test(tp, add_is_an_upsert_by_the_match_key);
    tcase_add_test(tp, edit_finds_by_id_email_or_external_id_and_refuses_a_taken_value);
    tcase_add_test(tp, remove_by_a_path_segment_and_the_count_follows);
    tcase_add_test(tp, swapping_external_ids_or_emails_within_one_list);
    tcase_add_test(tp, replace_removes_the_unlisted_and_the_count_follows);
    tcase_add_test(tp, a_clash_outside_the_list_is_a_conflict_and_nothing_is_written);
    tcase_add_test(tp, erasing_a_person_leaves_every_group_the_writer_sees);
    suite_add_tcase(s, tp);
    TCase *te = tcase_create("events");
    tcase_add_checked_fixture(te, testdb_setup, testdb_teardown);
    tcase_add_test(te, events_are_created_replaced_and_removed_in_the_feed);
    suite_add_tcase(s, te);
    TCase *full = tcase_create("full map");
    tcase_add_checked_fixture(full, small_map, testdb_teardown);
    tcase_add_test(full, a_full_map_keeps_room_for_deletes);
    suite_add_tcase(s, full);
    return run_suite(s);
}
