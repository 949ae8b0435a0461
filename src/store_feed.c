/*
 * store_feed.c — the change feed (API.md §7 GET /changes;
 * lmdb-schema/changes.md).
 *
 * One database, `changes`, keyed by topOrganisation + change seq: the feed
 * is kept per tenant, so a page of a small tenant is one cursor range
 * whatever the other tenants wrote, and its entries arrive in seq order.
 * Entries are written only by store_write.c, in the transaction of the
 * change they record.
 *
 * Retention: a write to a tenant first deletes that tenant's entries
 * older than the retention, a bounded number per write, and keeps the
 * last seq it deleted as the tenant's pruned mark (meta "feed_pruned" +
 * top).  A reader asking for `since` below the mark may have missed
 * entries: store_changes_each refuses it, and GET /changes answers 410.
 * A tenant that stops writing keeps its last entries; its feed does not
 * grow either.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "store_private.h"

static const char *const type_names[CHANGE_TYPE_MAX + 1] = {
    NULL,
    "group.created",
    "group.updated",
    "group.archived",
    "group.unarchived",
    "group.deleted",
    "group.restored",
    "group.purged",
    "participant.added",
    "participant.updated",
    "participant.removed",
    "event.created",
    "event.updated",
    "event.removed",
};

const char *change_type_name(unsigned type)
{
    return type <= CHANGE_TYPE_MAX ? type_names[type] : NULL;
}

bool change_type_in_group(unsigned type)
{
    return type >= CHANGE_PARTICIPANT_ADDED && type <= CHANGE_TYPE_MAX;
}

static void pruned_name(uint32_t top, unsigned char name[15])
{
    memcpy(name, "feed_pruned", 11);
    be32_put(name + 11, top);
}

int store_feed_pruned(struct store *s, MDB_txn *txn, uint32_t top, uint64_t *seq)
{
    unsigned char name[15];
    pruned_name(top, name);
    return store_meta_get(s, txn, name, sizeof name, seq);
}

int store_feed_append(struct store *s, MDB_txn *txn, uint32_t top, const struct change_entry *e)
{
    unsigned char k[STORE_FEED_KEY_LEN], v[STORE_FEED_VAL_MAX];
    store_feed_key(top, e->seq, k);
    MDB_val key = {sizeof k, k}, val = {store_feed_encode(e, v), v};
    /* Seqs only grow, so the newest tenant's entries go to the end of the
     * tree: MDB_APPEND fills its pages whole instead of splitting them in
     * half.  Any other tenant's entry lands inside the tree. */
    int rc = mdb_put(txn, s->changes, &key, &val, MDB_APPEND);
    if (rc == MDB_KEYEXIST)
        rc = mdb_put(txn, s->changes, &key, &val, MDB_NOOVERWRITE);
    return rc;
}

int store_feed_prune(struct store *s, MDB_txn *txn, uint32_t top, int64_t now, size_t max)
{
    if (s->retain_ms <= 0)
        return 0;
    int64_t cutoff = now - s->retain_ms;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->changes, &cur);
    if (rc)
        return rc;
    unsigned char k[STORE_FEED_KEY_LEN];
    store_feed_key(top, 0, k);
    MDB_val key = {sizeof k, k}, val;
    uint64_t last = 0;
    size_t n = 0;
    /* Each step seeks top's first entry again: after mdb_cursor_del the
     * cursor's position depends on where the entry was on its page. */
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0 && n < max;
         key = (MDB_val){sizeof k, k}, rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE)) {
        uint32_t t;
        struct change_entry e;
        rc = store_feed_decode(&key, &val, &t, &e);
        if (rc || t != top || e.at >= cutoff)
            break;
        rc = mdb_cursor_del(cur, 0);
        if (rc)
            break;
        last = e.seq;
        n++;
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND || rc == 0)
        rc = 0;
    if (!rc && last) {
        unsigned char name[15];
        pruned_name(top, name);
        rc = store_meta_put(s, txn, name, sizeof name, last);
    }
    if (!rc && n < max) {
        /* Nothing of top is left to prune in this transaction. */
        s->pruned_txn = mdb_txn_id(txn);
        s->pruned_top = top;
    }
    return rc;
}

int store_changes_each(struct store *s, MDB_txn *txn, uint32_t top, uint64_t since,
                       int (*fn)(void *ctx, const struct change_entry *e), void *ctx,
                       uint64_t *oldest)
{
    uint64_t pruned;
    int rc = store_feed_pruned(s, txn, top, &pruned);
    if (rc)
        return rc;
    *oldest = pruned;
    if (since < pruned)
        return MDB_NOTFOUND;
    if (since == UINT64_MAX)
        return 0;
    MDB_cursor *cur;
    rc = mdb_cursor_open(txn, s->changes, &cur);
    if (rc)
        return rc;
    unsigned char k[STORE_FEED_KEY_LEN];
    store_feed_key(top, since + 1, k);
    MDB_val key = {sizeof k, k}, val;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        uint32_t t;
        struct change_entry e;
        rc = store_feed_decode(&key, &val, &t, &e);
        if (rc)
            break;
        if (t != top) {
            rc = MDB_NOTFOUND;
            break;
        }
        rc = fn(ctx, &e);
        if (rc)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND || rc == 1 ? 0 : rc;
}

int store_changes_stat(struct store *s, MDB_txn *txn, size_t *entries, int64_t *oldest_at)
{
    MDB_stat st;
    int rc = mdb_stat(txn, s->changes, &st);
    if (rc)
        return rc;
    *entries = st.ms_entries;
    *oldest_at = 0;
    /* The oldest entry is the first of some tenant: one seek per tenant. */
    MDB_cursor *cur;
    rc = mdb_cursor_open(txn, s->changes, &cur);
    if (rc)
        return rc;
    MDB_val key, val;
    rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
    while (rc == 0) {
        uint32_t top;
        struct change_entry e;
        rc = store_feed_decode(&key, &val, &top, &e);
        if (rc)
            break;
        if (!*oldest_at || e.at < *oldest_at)
            *oldest_at = e.at;
        if (top == UINT32_MAX)
            break;
        unsigned char k[STORE_FEED_KEY_LEN];
        store_feed_key(top + 1, 0, k);
        key = (MDB_val){sizeof k, k};
        rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_set_retention(struct store *s, int64_t retain_ms)
{
    MDB_txn *txn;
    uint64_t now;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = store_meta_get(s, txn, "changes_retain", sizeof "changes_retain" - 1, &now);
    mdb_txn_abort(txn);
    if (rc)
        return rc;
    s->retain_ms = retain_ms;
    if (now == (uint64_t)retain_ms)
        return 0;
    /* Only a new setting writes, so a restart on a full disk needs no space. */
    rc = store_write_begin(s, &txn);
    if (rc)
        return rc;
    rc = store_meta_put(s, txn, "changes_retain", sizeof "changes_retain" - 1, (uint64_t)retain_ms);
    if (rc) {
        store_write_abort(txn);
        return rc;
    }
    return store_write_commit(txn);
}
