/*
 * store_participant.c — the participants database.
 *
 * Keys are group id (8 bytes BE) + participant id (8 bytes BE), so one
 * group's participants are one cursor range in id order and no write
 * touches more than the participant itself.  Values are the participant's
 * served JSON.
 */
#include "buf.h"
#include "store.h"

int store_participant_each(struct store *s, MDB_txn *txn, uint64_t gid,
                           int (*fn)(void *ctx, const char *json, size_t len), void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->participants, &cur);
    if (rc)
        return rc;
    unsigned char k[8];
    be64_put(k, gid);
    MDB_val key = {8, k}, val;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
         rc == 0 && key.mv_size == 16 && be64_get(key.mv_data) == gid;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        rc = fn(ctx, val.mv_data, val.mv_size);
        if (rc)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}
