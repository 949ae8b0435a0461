/*
 * store_meta.c — counters in the meta database.
 *
 * Counters are 8-byte big-endian values under ASCII names.  They are read
 * and bumped inside the caller's write transaction, so an aborted request
 * never consumes an id (and a committed one never reuses one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "store_private.h"

/* Advances counter name by n; *out is the first of the n new values. */
static int bump(struct store *s, MDB_txn *txn, const char *name, uint64_t n, uint64_t *out)
{
    MDB_val key = {strlen(name), (void *)name}, val;
    uint64_t next = 1;
    int rc = mdb_get(txn, s->meta, &key, &val);
    if (rc == 0 && val.mv_size == 8)
        next = be64_get(val.mv_data) + 1;
    else if (rc && rc != MDB_NOTFOUND)
        return rc;
    unsigned char v[8];
    be64_put(v, next + n - 1);
    val.mv_size = 8;
    val.mv_data = v;
    rc = mdb_put(txn, s->meta, &key, &val, 0);
    if (!rc)
        *out = next;
    return rc;
}

/* bump for ids: the shard's range [K * 10^12, (K + 1) * 10^12) (shard 0
 * from 1); MDB_MAP_FULL when it is used up. */
static int bump_id(struct store *s, MDB_txn *txn, const char *name, uint64_t n, uint64_t *out)
{
    uint64_t lo = s->shard ? (uint64_t)s->shard * STORE_SHARD_IDS : 1;
    uint64_t hi = ((uint64_t)s->shard + 1) * STORE_SHARD_IDS - 1;
    uint64_t last;
    int rc = store_meta_get(s, txn, name, strlen(name), &last);
    if (rc)
        return rc;
    uint64_t next = last + 1 > lo ? last + 1 : lo;
    if (n > hi - next + 1 || next > hi)
        return MDB_MAP_FULL; /* the shard's ids are used up */
    rc = store_meta_put(s, txn, name, strlen(name), next + n - 1);
    if (!rc)
        *out = next;
    return rc;
}

int store_next_id(struct store *s, MDB_txn *txn, uint64_t *id)
{
    return store_reserve_ids(s, txn, 1, id);
}

int store_reserve_ids(struct store *s, MDB_txn *txn, uint64_t n, uint64_t *first)
{
    return bump_id(s, txn, "next_id", n, first);
}

unsigned store_shard(const struct store *s)
{
    return s->shard;
}

/* What the database says of its shard: *have when it has a number, stored
 * or implied (ids handed out before shards existed: 0). */
static int stored_shard(struct store *s, MDB_txn *txn, bool *have, uint64_t *shard)
{
    MDB_val key = {sizeof "shard" - 1, "shard"}, val;
    int rc = mdb_get(txn, s->meta, &key, &val);
    *have = rc == 0;
    *shard = rc == 0 && val.mv_size == 8 ? be64_get(val.mv_data) : 0;
    if (rc == 0 && val.mv_size != 8)
        return MDB_CORRUPTED;
    if (rc != MDB_NOTFOUND)
        return rc;
    uint64_t ids, key_ids;
    rc = store_meta_get(s, txn, "next_id", sizeof "next_id" - 1, &ids);
    if (!rc)
        rc = store_meta_get(s, txn, "next_key_id", sizeof "next_key_id" - 1, &key_ids);
    *have = !rc && (ids || key_ids);
    return rc;
}

int store_claim_shard(struct store *s, int k)
{
    /* Only a number asked for, on a database that has none yet, is
     * written: checking writes nothing (a full disk does not stop it). */
    MDB_txn *txn;
    int rc = store_read_begin(s, &txn);
    bool have = false;
    uint64_t shard = 0;
    if (!rc)
        rc = stored_shard(s, txn, &have, &shard);
    store_read_end(s);
    if (!rc && have && k >= 0 && shard != (uint64_t)k) {
        snprintf(s->errmsg, sizeof s->errmsg, "the database is shard %llu, not shard %d (--shard)",
                 (unsigned long long)shard, k);
        return MDB_INCOMPATIBLE;
    }
    if (!rc && !have && k > 0) {
        rc = store_write_begin(s, &txn);
        if (!rc)
            rc = stored_shard(s, txn, &have, &shard); /* nobody claimed it meanwhile */
        if (!rc && have && shard != (uint64_t)k)
            rc = MDB_INCOMPATIBLE;
        if (!rc && !have) {
            rc = store_meta_put(s, txn, "shard", sizeof "shard" - 1, (uint64_t)k);
            shard = (uint64_t)k;
        }
        if (rc) {
            store_write_abort(txn);
        } else {
            rc = store_write_commit(txn);
        }
        if (rc == MDB_INCOMPATIBLE) {
            snprintf(s->errmsg, sizeof s->errmsg,
                     "the database is shard %llu, not shard %d (--shard)",
                     (unsigned long long)shard, k);
            return rc;
        }
    }
    if (rc) {
        snprintf(s->errmsg, sizeof s->errmsg, "claiming the shard: %s", mdb_strerror(rc));
        return rc;
    }
    if (!rc && shard > STORE_SHARD_MAX) {
        snprintf(s->errmsg, sizeof s->errmsg, "the database says it is shard %llu",
                 (unsigned long long)shard);
        return MDB_CORRUPTED;
    }
    s->shard = (unsigned)shard;
    return 0;
}

/* Meta's name of one tenant's value: word + top (4 bytes BE). */
static size_t top_name(const char *word, uint32_t top, unsigned char name[STORE_META_NAME_MAX])
{
    size_t len = strlen(word);
    if (len > STORE_META_NAME_MAX - 4)
        abort(); /* the words are the store's own constants */
    memcpy(name, word, len);
    be32_put(name + len, top);
    return len + 4;
}

int store_meta_get_top(struct store *s, MDB_txn *txn, const char *word, uint32_t top, uint64_t *v)
{
    unsigned char name[STORE_META_NAME_MAX];
    return store_meta_get(s, txn, name, top_name(word, top, name), v);
}

int store_meta_put_top(struct store *s, MDB_txn *txn, const char *word, uint32_t top, uint64_t v)
{
    unsigned char name[STORE_META_NAME_MAX];
    return store_meta_put(s, txn, name, top_name(word, top, name), v);
}

int store_meta_del_top(struct store *s, MDB_txn *txn, const char *word, uint32_t top)
{
    unsigned char name[STORE_META_NAME_MAX];
    MDB_val key = {top_name(word, top, name), name};
    int rc = mdb_del(txn, s->meta, &key, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_last_seq(struct store *s, MDB_txn *txn, uint32_t top, uint64_t *seq)
{
    unsigned char name[STORE_META_NAME_MAX];
    size_t len = top_name("change_seq", top, name);
    MDB_val key = {len, name}, val;
    int rc = mdb_get(txn, s->meta, &key, &val);
    if (rc == 0 && val.mv_size == 8) {
        *seq = be64_get(val.mv_data);
        return 0;
    }
    if (rc == 0)
        return MDB_CORRUPTED;
    if (rc != MDB_NOTFOUND)
        return rc;
    /* A tenant that has not changed since schema 5 continues from the
     * number the whole database had reached (lmdb-schema/meta.md). */
    return store_meta_get(s, txn, "change_seq", sizeof "change_seq" - 1, seq);
}

int store_last_seq_any(struct store *s, MDB_txn *txn, uint64_t *seq)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->meta, &cur);
    if (rc)
        return rc;
    *seq = 0;
    MDB_val key = {10, "change_seq"}, val;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        if (key.mv_size < 10 || memcmp(key.mv_data, "change_seq", 10) != 0)
            break;
        if (val.mv_size == 8 && be64_get(val.mv_data) > *seq)
            *seq = be64_get(val.mv_data);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

int store_reserve_seqs(struct store *s, MDB_txn *txn, uint32_t top, uint64_t n, uint64_t *first)
{
    uint64_t last;
    int rc = store_last_seq(s, txn, top, &last);
    if (!rc)
        rc = store_meta_put_top(s, txn, "change_seq", top, last + n);
    if (!rc)
        *first = last + 1;
    return rc;
}

int store_reserve_shared_seq(struct store *s, MDB_txn *txn, uint64_t *seq)
{
    return bump(s, txn, "change_seq", 1, seq);
}

int store_meta_get(struct store *s, MDB_txn *txn, const void *name, size_t len, uint64_t *v)
{
    MDB_val key = {len, (void *)name}, val;
    int rc = mdb_get(txn, s->meta, &key, &val);
    *v = 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (!rc && val.mv_size != 8)
        return MDB_CORRUPTED;
    if (!rc)
        *v = be64_get(val.mv_data);
    return rc;
}

int store_meta_put(struct store *s, MDB_txn *txn, const void *name, size_t len, uint64_t v)
{
    unsigned char b[8];
    be64_put(b, v);
    MDB_val key = {len, (void *)name}, val = {8, b};
    return mdb_put(txn, s->meta, &key, &val, 0);
}

int store_key_next_id(struct store *s, MDB_txn *txn, uint64_t *id)
{
    return bump_id(s, txn, "next_key_id", 1, id);
}

int store_schema_version(struct store *s, MDB_txn *txn, uint32_t *version)
{
    MDB_val key = {sizeof "schema_version" - 1, "schema_version"}, val;
    int rc = mdb_get(txn, s->meta, &key, &val);
    if (!rc)
        *version = val.mv_size == 4 ? be32_get(val.mv_data) : 0;
    return rc;
}
