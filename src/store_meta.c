/*
 * store_meta.c — counters in the meta database.
 *
 * Counters are 8-byte big-endian values under ASCII names.  They are read
 * and bumped inside the caller's write transaction, so an aborted request
 * never consumes an id (and a committed one never reuses one).
 */
#include <string.h>

#include "buf.h"
#include "store.h"

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

int store_next_id(struct store *s, MDB_txn *txn, uint64_t *id) { return store_reserve_ids(s, txn, 1, id); }

int store_reserve_ids(struct store *s, MDB_txn *txn, uint64_t n, uint64_t *first)
{
    return bump(s, txn, "next_id", n, first);
}

int store_next_seq(struct store *s, MDB_txn *txn, uint64_t *seq)
{
    return bump(s, txn, "change_seq", 1, seq);
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
