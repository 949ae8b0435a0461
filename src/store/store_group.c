/*
 * store_group.c — the groups database and the externalId index.
 *
 * Reads outnumber writes by orders of magnitude, so a record holds the
 * group's JSON exactly as it is served, computed once per write
 * (store_codec.c has the bytes, lmdb-schema/groups.md the layout); a read
 * is a B-tree lookup and a memcpy, and a list filters on the record's
 * header without parsing anything.  Only store_write.c writes here.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "store_private.h"

int store_group_get(struct store *s, MDB_txn *txn, uint64_t id, struct group_record *out)
{
    unsigned char k[8];
    be64_put(k, id);
    MDB_val key = {8, k}, val;
    int rc = mdb_get(txn, s->groups, &key, &val);
    return rc ? rc : store_group_decode(&val, out);
}

int store_group_by_extid(struct store *s, MDB_txn *txn, uint32_t top, const char *ext, size_t len,
                         uint64_t *id)
{
    struct buf k = BUF_INIT;
    store_extid_key(top, ext, len, &k);
    MDB_val key = {k.len, k.data}, val;
    int rc = mdb_get(txn, s->group_extid, &key, &val);
    buf_free(&k);
    if (rc)
        return rc;
    if (val.mv_size != 8)
        return MDB_CORRUPTED;
    *id = be64_get(val.mv_data);
    return 0;
}

static bool same_extid(const struct group *a, const struct group *b)
{
    if (!a->external_id || !b->external_id)
        return a->external_id == b->external_id;
    return strcmp(a->external_id, b->external_id) == 0;
}

static int extid_del(struct store *s, MDB_txn *txn, const struct group *g)
{
    struct buf k = BUF_INIT;
    store_extid_key(g->top_organisation, g->external_id, strlen(g->external_id), &k);
    MDB_val key = {k.len, k.data};
    int rc = mdb_del(txn, s->group_extid, &key, NULL);
    buf_free(&k);
    return rc;
}

int store_group_put(struct store *s, MDB_txn *txn, const struct group *g, const struct group *old,
                    uint64_t rev)
{
    int rc = 0;
    if (old && old->external_id && !same_extid(g, old))
        rc = extid_del(s, txn, old);
    if (!rc && g->external_id && (!old || !same_extid(g, old))) {
        struct buf k = BUF_INIT;
        unsigned char idv[8];
        be64_put(idv, g->id);
        store_extid_key(g->top_organisation, g->external_id, strlen(g->external_id), &k);
        MDB_val key = {k.len, k.data}, val = {8, idv};
        rc = mdb_put(txn, s->group_extid, &key, &val, MDB_NOOVERWRITE);
        buf_free(&k);
    }
    if (rc)
        return rc;
    struct buf rec = BUF_INIT;
    store_group_encode(g, rev, &rec);
    unsigned char k[8];
    be64_put(k, g->id);
    MDB_val key = {8, k}, val = {rec.len, rec.data};
    rc = mdb_put(txn, s->groups, &key, &val, 0);
    buf_free(&rec);
    return rc;
}

int store_group_del(struct store *s, MDB_txn *txn, const struct group *g)
{
    int rc = g->external_id ? extid_del(s, txn, g) : 0;
    if (!rc) {
        unsigned char k[8];
        be64_put(k, g->id);
        MDB_val key = {8, k};
        rc = mdb_del(txn, s->groups, &key, NULL);
    }
    return rc;
}

void store_group_entries(struct store *s, const struct group *g, store_entry_fn *add, void *ctx)
{
    if (g->external_id) {
        struct buf k = BUF_INIT;
        unsigned char idv[8];
        be64_put(idv, g->id);
        store_extid_key(g->top_organisation, g->external_id, strlen(g->external_id), &k);
        add(ctx, s->group_extid, k.data, k.len, idv, 8);
        buf_free(&k);
    }
    group_index_entries(s, g, add, ctx);
}

int store_group_each(struct store *s, MDB_txn *txn,
                     int (*fn)(void *ctx, const struct group_record *r), void *ctx)
{
    return store_group_each_after(s, txn, 0, fn, ctx);
}

int store_group_each_after(struct store *s, MDB_txn *txn, uint64_t after,
                           int (*fn)(void *ctx, const struct group_record *r), void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->groups, &cur);
    if (rc)
        return rc;
    unsigned char from[8];
    be64_put(from, after + 1);
    MDB_val key = {sizeof from, from}, val;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        struct group_record r;
        rc = store_group_decode(&val, &r);
        if (!rc)
            rc = fn(ctx, &r);
        if (rc)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_group_load(const struct group_record *r, struct group *g)
{
    return group_read_json(r->json, r->json_len, g) ? 0 : MDB_CORRUPTED;
}
