/*
 * store_tenant.c — what moving a tenant needs besides the stream (include/
 * store.h "moving a tenant"; lmdb-schema/tenant-stream.md): the freeze at
 * the source's cut, the mark of a copy still arriving at the destination,
 * the lock that keeps two moves of one tenant apart, and dropping a
 * tenant or one of its groups.  The stream itself is written by
 * store_tenant_send.c and read by store_tenant_receive.c, both above this
 * file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "idset.h"
#include "store_private.h"
#include "tenant_stream.h"

const char *const tenant_counter_names[4] = {NULL, "change_seq", "top_rev", "feed_pruned"};

static int marked(struct store *s, MDB_txn *txn, const char *word, uint32_t top, bool *set)
{
    uint64_t at;
    int rc = store_meta_get_top(s, txn, word, top, &at);
    *set = !rc && at != 0;
    return rc;
}

int store_tenant_frozen(struct store *s, MDB_txn *txn, uint32_t top, bool *frozen)
{
    /* One lookup on every request: a copy still arriving needs none, as
     * its keys come only in the transaction that activates it. */
    return marked(s, txn, "frozen", top, frozen);
}

int store_tenant_arriving(struct store *s, MDB_txn *txn, uint32_t top, bool *arriving)
{
    return marked(s, txn, "arriving", top, arriving);
}

int store_tenant_mark_arriving(struct store *s, MDB_txn *txn, uint32_t top, bool arriving)
{
    return arriving ? store_meta_put_top(s, txn, "arriving", top, (uint64_t)clock_now_ms())
                    : store_meta_del_top(s, txn, "arriving", top);
}

int store_tenant_cut(struct store *s, uint32_t top, uint64_t *at_ms, bool *froze)
{
    *froze = false;
    MDB_txn *txn;
    int rc = store_write_begin(s, &txn);
    if (rc)
        return rc;
    rc = store_meta_get_top(s, txn, "frozen", top, at_ms);
    if (!rc && !*at_ms) {
        int64_t now = clock_now_ms();
        *at_ms = now > 0 ? (uint64_t)now : 1;
        rc = store_meta_put_top(s, txn, "frozen", top, *at_ms);
        *froze = !rc;
    }
    if (rc) {
        store_write_abort(txn);
        return rc;
    }
    return store_write_commit(txn);
}

int store_tenant_unfreeze(struct store *s, uint32_t top)
{
    MDB_txn *txn;
    int rc = store_write_begin(s, &txn);
    if (rc)
        return rc;
    bool arriving, frozen;
    rc = store_tenant_arriving(s, txn, top, &arriving);
    if (!rc && arriving) {
        snprintf(s->errmsg, sizeof s->errmsg,
                 "topOrganisation %u is a copy still arriving here, not a frozen tenant: "
                 "receive it again, or drop it",
                 top);
        rc = MDB_INCOMPATIBLE;
    }
    if (!rc)
        rc = store_tenant_frozen(s, txn, top, &frozen);
    if (!rc)
        rc = frozen ? store_meta_del_top(s, txn, "frozen", top) : MDB_NOTFOUND;
    if (rc) {
        store_write_abort(txn);
        return rc;
    }
    return store_write_commit(txn);
}

int store_tenant_lock(struct store *s, uint32_t top, int *fd)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tenant-moves.lock", s->dir);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0)
        return errno;
    /* One byte per tenant, held until the process closes the file or
     * ends, however it ends. */
    struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = top, .l_len = 1};
    if (fcntl(*fd, F_SETLK, &l) == 0)
        return 0;
    int err = errno == EACCES || errno == EAGAIN ? EBUSY : errno;
    close(*fd);
    *fd = -1;
    return err;
}

static int held_group(void *ctx, const struct group_record *r)
{
    return r->top_organisation == *(const uint32_t *)ctx ? 1 : 0;
}

static int held_key(void *ctx, const struct apikey_record *k)
{
    return k->top_organisation == *(const uint32_t *)ctx ? 1 : 0;
}

int store_tenant_held(struct store *s, MDB_txn *txn, uint32_t top, bool *held)
{
    int rc = store_group_each(s, txn, held_group, &top);
    if (!rc)
        rc = store_key_each(s, txn, held_key, &top);
    *held = rc == 1;
    return rc == 1 ? 0 : rc;
}

int store_tenant_drop_group(struct store *s, MDB_txn *txn, uint32_t top, uint64_t id,
                            struct store_tenant_counts *n)
{
    struct group_record r;
    struct group g;
    int rc = store_group_get(s, txn, id, &r);
    if (rc == MDB_NOTFOUND || (!rc && r.top_organisation != top))
        return 0;
    if (!rc)
        rc = store_group_load(&r, &g);
    if (rc)
        return rc;
    MDB_stat ps, es;
    rc = mdb_stat(txn, s->participants, &ps);
    if (!rc)
        rc = mdb_stat(txn, s->events, &es);
    if (!rc)
        rc = group_index(s, txn, &g, NULL, 0);
    if (!rc)
        rc = store_participant_purge_group(s, txn, top, id);
    if (!rc)
        rc = store_event_purge_group(s, txn, id);
    if (!rc)
        rc = store_group_del(s, txn, &g);
    MDB_stat ps2, es2;
    if (!rc)
        rc = mdb_stat(txn, s->participants, &ps2);
    if (!rc)
        rc = mdb_stat(txn, s->events, &es2);
    if (!rc) {
        n->groups++;
        n->participants += ps.ms_entries - ps2.ms_entries;
        n->events += es.ms_entries - es2.ms_entries;
    }
    group_free(&g);
    return rc;
}

int store_tenant_drop_feed(struct store *s, MDB_txn *txn, uint32_t top, uint64_t upto,
                           struct store_tenant_counts *n)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->changes, &cur);
    if (rc)
        return rc;
    unsigned char from[STORE_FEED_KEY_LEN];
    store_feed_key(top, 0, from);
    for (;;) {
        MDB_val key = {sizeof from, from}, val;
        rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
        if (rc || key.mv_size != STORE_FEED_KEY_LEN || be32_get(key.mv_data) != top ||
            be64_get((const unsigned char *)key.mv_data + 4) > upto)
            break;
        rc = mdb_cursor_del(cur, 0);
        if (rc)
            break;
        n->feed_records++;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The ids of top's groups and of its keys. */
struct dropping {
    uint32_t top;
    struct idset groups, keys;
};

static int collect_group(void *ctx, const struct group_record *r)
{
    struct dropping *d = ctx;
    if (r->top_organisation == d->top)
        idset_push(&d->groups, r->id);
    return 0;
}

static int collect_key(void *ctx, const struct apikey_record *k)
{
    struct dropping *d = ctx;
    if (k->top_organisation == d->top)
        idset_push(&d->keys, k->id);
    return 0;
}

int store_tenant_remove(struct store *s, uint32_t top, bool force, struct store_tenant_counts *n)
{
    memset(n, 0, sizeof *n);
    MDB_txn *txn;
    int rc = store_write_begin(s, &txn);
    if (rc)
        return rc;
    struct dropping d = {top, IDSET_INIT, IDSET_INIT};
    bool frozen = false, arriving = false;
    rc = store_tenant_frozen(s, txn, top, &frozen);
    if (!rc)
        rc = store_tenant_arriving(s, txn, top, &arriving);
    frozen = frozen || arriving;
    if (!rc)
        rc = store_group_each(s, txn, collect_group, &d);
    if (!rc)
        rc = store_key_each(s, txn, collect_key, &d);
    if (!rc && !d.groups.n && !d.keys.n && !frozen)
        rc = MDB_NOTFOUND;
    if (!rc && !frozen && !force) {
        snprintf(s->errmsg, sizeof s->errmsg,
                 "topOrganisation %u was not moved (it is not frozen): --force drops it anyway",
                 top);
        rc = MDB_INCOMPATIBLE;
    }
    for (size_t i = 0; i < d.groups.n && !rc; i++)
        rc = store_tenant_drop_group(s, txn, top, d.groups.v[i], n);
    for (size_t i = 0; i < d.keys.n && !rc; i++) {
        rc = store_key_del(s, txn, d.keys.v[i]);
        n->keys += !rc;
    }
    if (!rc)
        rc = store_tenant_drop_feed(s, txn, top, UINT64_MAX, n);
    static const char *const marks[] = {"change_seq", "top_rev", "feed_pruned", "frozen",
                                        "arriving"};
    for (size_t i = 0; i < sizeof marks / sizeof *marks && !rc; i++)
        rc = store_meta_del_top(s, txn, marks[i], top);
    idset_free(&d.groups);
    idset_free(&d.keys);
    if (rc) {
        store_write_abort(txn);
        return rc;
    }
    return store_write_commit(txn);
}

/* ---- the commands, each failure explained in store_errmsg ---- */

int store_tenant_explained(struct store *s, int rc, const char *doing, uint32_t top)
{
    if (rc && !s->errmsg[0])
        snprintf(s->errmsg, sizeof s->errmsg, "%s topOrganisation %u: %s", doing, top,
                 rc == EIO ? "the stream could not be written" : mdb_strerror(rc));
    return rc;
}

int store_tenant_freeze(struct store *s, uint32_t top)
{
    uint64_t at;
    bool froze;
    s->errmsg[0] = '\0';
    return store_tenant_explained(s, store_tenant_cut(s, top, &at, &froze), "freezing", top);
}

int store_tenant_thaw(struct store *s, uint32_t top)
{
    s->errmsg[0] = '\0';
    int rc = store_tenant_unfreeze(s, top);
    if (rc == MDB_NOTFOUND)
        snprintf(s->errmsg, sizeof s->errmsg, "topOrganisation %u is not frozen", top);
    return store_tenant_explained(s, rc, "thawing", top);
}

int store_tenant_drop(struct store *s, uint32_t top, bool force, struct store_tenant_counts *n)
{
    s->errmsg[0] = '\0';
    int rc = store_tenant_remove(s, top, force, n);
    if (rc == MDB_NOTFOUND)
        snprintf(s->errmsg, sizeof s->errmsg, "this database holds no topOrganisation %u", top);
    return store_tenant_explained(s, rc, "dropping", top);
}
