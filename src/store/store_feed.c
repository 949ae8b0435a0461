/*
 * store_feed.c — the change feed (API.md §7 GET /changes;
 * lmdb-schema/changes.md).
 *
 * One database, `changes`, keyed by topOrganisation + the first change
 * seq of a record: the feed is kept per tenant, so a page of a small
 * tenant is one cursor range whatever the other tenants wrote.  A record
 * holds the consecutive entries of one write to one group (an import
 * writes one per group, not one per participant).  Records are written
 * only by store_write.c, in the transaction of the change they record.
 *
 * Retention: a write to a tenant first deletes that tenant's records
 * older than the retention, a bounded number of entries per write, and keeps the
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

int store_feed_pruned(struct store *s, MDB_txn *txn, uint32_t top, uint64_t *seq)
{
    return store_meta_get_top(s, txn, "feed_pruned", top, seq);
}

int store_feed_append(struct store *s, MDB_txn *txn, const struct group *g, uint64_t first,
                      int64_t at, unsigned what, const struct change_list *also)
{
    unsigned char k[STORE_FEED_KEY_LEN];
    store_feed_key(g->top_organisation, first, k);
    struct buf v = BUF_INIT;
    store_feed_encode(g->organisation, at, g->id, what, also ? also->v : NULL, also ? also->n : 0,
                      &v);
    MDB_val key = {sizeof k, k}, val = {v.len, v.data};
    /* Seqs only grow, so the newest tenant's records go to the end of the
     * tree: MDB_APPEND fills its pages whole instead of splitting them in
     * half.  Any other tenant's record lands inside the tree. */
    int rc = mdb_put(txn, s->changes, &key, &val, MDB_APPEND);
    if (rc == MDB_KEYEXIST)
        rc = mdb_put(txn, s->changes, &key, &val, MDB_NOOVERWRITE);
    buf_free(&v);
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
    /* Each step seeks top's first record again: after mdb_cursor_del the
     * cursor's position depends on where the record was on its page. */
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0 && n < max;
         key = (MDB_val){sizeof k, k}, rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE)) {
        struct feed_record r;
        rc = store_feed_open(&key, &val, &r);
        if (rc || r.top != top || r.at >= cutoff)
            break;
        rc = mdb_cursor_del(cur, 0);
        if (rc)
            break;
        last = r.first + r.n - 1;
        n += r.n;
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (!rc && last)
        rc = store_meta_put_top(s, txn, "feed_pruned", top, last);
    if (!rc && n < max) {
        /* Nothing of top is left to prune in this transaction. */
        s->pruned_txn = mdb_txn_id(txn);
        s->pruned_top = top;
    }
    return rc;
}

/* Positions cur on top's record holding seq `from` or the first after it. */
static int seek(MDB_cursor *cur, uint32_t top, uint64_t from, MDB_val *key, MDB_val *val)
{
    unsigned char k[STORE_FEED_KEY_LEN];
    store_feed_key(top, from, k);
    *key = (MDB_val){sizeof k, k};
    int rc = mdb_cursor_get(cur, key, val, MDB_SET_RANGE);
    if (rc == 0 && key->mv_size == STORE_FEED_KEY_LEN &&
        memcmp(key->mv_data, k, STORE_FEED_KEY_LEN) == 0)
        return 0;
    /* The record before may hold `from` in its run. */
    int prev = rc == 0              ? mdb_cursor_get(cur, key, val, MDB_PREV)
               : rc == MDB_NOTFOUND ? mdb_cursor_get(cur, key, val, MDB_LAST)
                                    : rc;
    if (prev && prev != MDB_NOTFOUND)
        return prev;
    struct feed_record r;
    if (prev == 0 && store_feed_open(key, val, &r) == 0 && r.top == top && r.first < from &&
        r.first + r.n > from)
        return 0;
    *key = (MDB_val){sizeof k, k};
    return mdb_cursor_get(cur, key, val, MDB_SET_RANGE);
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
    MDB_val key, val;
    for (rc = seek(cur, top, since + 1, &key, &val); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        struct feed_record r;
        rc = store_feed_open(&key, &val, &r);
        if (rc)
            break;
        if (r.top != top) {
            rc = MDB_NOTFOUND;
            break;
        }
        struct change_entry e;
        while (rc == 0 && (rc = store_feed_next(&r, &e)) == 0)
            rc = e.seq > since ? fn(ctx, &e) : 0;
        if (rc != MDB_NOTFOUND)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND || rc == 1 ? 0 : rc;
}

int store_changes_stat(struct store *s, MDB_txn *txn, size_t *entries, int64_t *oldest_at)
{
    *entries = 0;
    *oldest_at = 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->changes, &cur);
    if (rc)
        return rc;
    MDB_val key, val;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        struct feed_record r;
        rc = store_feed_open(&key, &val, &r);
        if (rc)
            break;
        *entries += r.n;
        if (!*oldest_at || r.at < *oldest_at)
            *oldest_at = r.at;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int64_t store_retention(const struct store *s)
{
    return s->retain_ms;
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
