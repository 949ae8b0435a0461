/*
 * store_apikey.c — the apikeys database.
 *
 * Key: the key id, 4 bytes BE when it fits (every key of shard 0), else 8
 * bytes BE (the ids of shards 1 and up, lmdb-schema/apikeys.md).  Value
 * (all integers BE):
 *   hash[32] | role u8 | revoked u8 | n_orgs u16 | top u32 | created_at u64
 *   | orgs[n_orgs] u32 | name bytes
 * Only the hash of a key is stored; see apikey.c for how it is made.
 */
#include <string.h>

#include "buf.h"
#include "store_private.h"

#define KEY_FIXED (APIKEY_HASH_LEN + 1 + 1 + 2 + 4 + 8)

/* The key of id: 4 bytes when it fits, else 8; returns how many. */
static size_t key_bytes(uint64_t id, unsigned char kb[8])
{
    if (id <= UINT32_MAX) {
        be32_put(kb, (uint32_t)id);
        return 4;
    }
    be64_put(kb, id);
    return 8;
}

static int decode(const MDB_val *key, const MDB_val *val, struct apikey_record *k)
{
    const unsigned char *p = val->mv_data;
    if ((key->mv_size != 4 && key->mv_size != 8) || val->mv_size < KEY_FIXED)
        return MDB_CORRUPTED;
    memset(k, 0, sizeof *k);
    k->id = key->mv_size == 4 ? be32_get(key->mv_data) : be64_get(key->mv_data);
    memcpy(k->hash, p, APIKEY_HASH_LEN);
    p += APIKEY_HASH_LEN;
    k->role = (enum role)p[0];
    k->revoked = p[1] != 0;
    k->n_orgs = (size_t)p[2] << 8 | p[3];
    k->top_organisation = be32_get(p + 4);
    k->created_at = (int64_t)be64_get(p + 8);
    p += 16;
    size_t name_len = val->mv_size - KEY_FIXED;
    if (k->n_orgs > APIKEY_MAX_ORGS || k->n_orgs * 4 > name_len)
        return MDB_CORRUPTED;
    for (size_t i = 0; i < k->n_orgs; i++, p += 4)
        k->orgs[i] = be32_get(p);
    name_len -= k->n_orgs * 4;
    if (name_len > APIKEY_NAME_MAX)
        return MDB_CORRUPTED;
    memcpy(k->name, p, name_len);
    k->name[name_len] = '\0';
    return 0;
}

int store_key_put(struct store *s, MDB_txn *txn, const struct apikey_record *k)
{
    struct buf v = BUF_INIT;
    buf_add(&v, k->hash, APIKEY_HASH_LEN);
    buf_addc(&v, (char)k->role);
    buf_addc(&v, (char)(k->revoked ? 1 : 0));
    buf_addc(&v, (char)(k->n_orgs >> 8));
    buf_addc(&v, (char)k->n_orgs);
    buf_add_be32(&v, k->top_organisation);
    buf_add_be64(&v, (uint64_t)k->created_at);
    for (size_t i = 0; i < k->n_orgs; i++)
        buf_add_be32(&v, k->orgs[i]);
    buf_adds(&v, k->name);
    unsigned char kb[8];
    MDB_val key = {key_bytes(k->id, kb), kb}, val = {v.len, v.data};
    int rc = mdb_put(txn, s->apikeys, &key, &val, 0);
    buf_free(&v);
    return rc;
}

int store_key_find(struct store *s, MDB_txn *txn, uint64_t id, struct apikey_record *out,
                   bool *found)
{
    unsigned char kb[8];
    MDB_val key = {key_bytes(id, kb), kb}, val;
    int rc = mdb_get(txn, s->apikeys, &key, &val);
    *found = rc == 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    return rc ? rc : decode(&key, &val, out);
}

int store_key_each(struct store *s, MDB_txn *txn,
                   int (*fn)(void *ctx, const struct apikey_record *k), void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->apikeys, &cur);
    if (rc)
        return rc;
    MDB_val key, val;
    struct apikey_record k;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        rc = decode(&key, &val, &k);
        if (!rc)
            rc = fn(ctx, &k);
        if (rc)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ---- a key's stored bytes, for moving a tenant (store_tenant_*.c) ---- */

int store_key_stored(struct store *s, MDB_txn *txn, uint64_t id, MDB_val *val)
{
    unsigned char kb[8];
    MDB_val key = {key_bytes(id, kb), kb};
    return mdb_get(txn, s->apikeys, &key, val);
}

int store_key_decode(uint64_t id, const MDB_val *val, struct apikey_record *k)
{
    unsigned char kb[8];
    MDB_val key = {key_bytes(id, kb), kb};
    return decode(&key, val, k);
}

int store_key_put_stored(struct store *s, MDB_txn *txn, uint64_t id, const MDB_val *val)
{
    unsigned char kb[8];
    MDB_val key = {key_bytes(id, kb), kb}, v = *val;
    return mdb_put(txn, s->apikeys, &key, &v, MDB_NOOVERWRITE);
}

int store_key_del(struct store *s, MDB_txn *txn, uint64_t id)
{
    unsigned char kb[8];
    MDB_val key = {key_bytes(id, kb), kb};
    return mdb_del(txn, s->apikeys, &key, NULL);
}
