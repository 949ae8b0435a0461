/*
 * store_meta.c — counters in the meta database.
 *
 * Counters are 8-byte big-endian values under ASCII names.  They are read
 * and bumped inside the caller's write transaction, so an aborted request
 * never consumes an id (and a committed one never reuses one).
 */
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

int store_next_id(struct store *s, MDB_txn *txn, uint64_t *id)
{
    return store_reserve_ids(s, txn, 1, id);
}

int store_reserve_ids(struct store *s, MDB_txn *txn, uint64_t n, uint64_t *first)
{
    return bump(s, txn, "next_id", n, first);
}

int store_reserve_seqs(struct store *s, MDB_txn *txn, uint64_t n, uint64_t *first)
{
    return bump(s, txn, "change_seq", n, first);
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

int store_last_seq(struct store *s, MDB_txn *txn, uint64_t *seq)
{
    return store_meta_get(s, txn, "change_seq", sizeof "change_seq" - 1, seq);
}

int store_key_next_id(struct store *s, MDB_txn *txn, uint32_t *id)
{
    uint64_t v;
    int rc = bump(s, txn, "next_key_id", 1, &v);
    if (!rc)
        *id = (uint32_t)v;
    return rc;
}

int store_schema_version(struct store *s, MDB_txn *txn, uint32_t *version)
{
    MDB_val key = {sizeof "schema_version" - 1, "schema_version"}, val;
    int rc = mdb_get(txn, s->meta, &key, &val);
    if (!rc)
        *version = val.mv_size == 4 ? be32_get(val.mv_data) : 0;
    return rc;
}
