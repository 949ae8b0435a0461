/*
 * store_owned.c — the records a group owns: participants and events.
 *
 * Both databases are keyed group id (8 B BE) + the object's id (8 B BE),
 * so a group's objects are one cursor range in id order, an id under
 * another group finds nothing, and adding or removing one touches nothing
 * that grows with the group.  The record bytes are their own module's
 * (store_participant.c, store_event.c); the key and the range walks are
 * here, once.
 */
#include "buf.h"
#include "store_private.h"

static MDB_val owned_key(unsigned char k[16], uint64_t gid, uint64_t id)
{
    be64_put(k, gid);
    be64_put(k + 8, id);
    return (MDB_val){16, k};
}

int store_owned_get(MDB_txn *txn, MDB_dbi dbi, uint64_t gid, uint64_t id, MDB_val *key,
                    MDB_val *val, unsigned char k[16])
{
    *key = owned_key(k, gid, id);
    return mdb_get(txn, dbi, key, val);
}

int store_owned_put(MDB_txn *txn, MDB_dbi dbi, uint64_t gid, uint64_t id, const struct buf *rec)
{
    unsigned char k[16];
    MDB_val key = owned_key(k, gid, id), val = {rec->len, rec->data};
    return mdb_put(txn, dbi, &key, &val, 0);
}

int store_owned_del(MDB_txn *txn, MDB_dbi dbi, uint64_t gid, uint64_t id)
{
    unsigned char k[16];
    MDB_val key = owned_key(k, gid, id);
    return mdb_del(txn, dbi, &key, NULL);
}

/* The first record of gid's range at or after where the cursor seeks. */
static int first_of(MDB_cursor *cur, uint64_t gid, MDB_val *key, MDB_val *val)
{
    unsigned char k[8];
    be64_put(k, gid);
    *key = (MDB_val){8, k};
    int rc = mdb_cursor_get(cur, key, val, MDB_SET_RANGE);
    if (!rc && (key->mv_size != 16 || be64_get(key->mv_data) != gid))
        rc = MDB_NOTFOUND;
    return rc;
}

int store_owned_each(MDB_txn *txn, MDB_dbi dbi, uint64_t gid, store_owned_fn *fn, void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return rc;
    MDB_val key, val;
    for (rc = first_of(cur, gid, &key, &val); rc == 0;) {
        rc = fn(ctx, &key, &val);
        if (rc)
            break;
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
        if (!rc && (key.mv_size != 16 || be64_get(key.mv_data) != gid))
            rc = MDB_NOTFOUND;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_owned_drop(MDB_txn *txn, MDB_dbi dbi, uint64_t gid, store_owned_fn *before, void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return rc;
    MDB_val key, val;
    /* Each step seeks the range's first record again: after
     * mdb_cursor_del the cursor's position depends on the page. */
    while ((rc = first_of(cur, gid, &key, &val)) == 0) {
        rc = before ? before(ctx, &key, &val) : 0;
        if (!rc)
            rc = mdb_cursor_del(cur, 0);
        if (rc)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}
