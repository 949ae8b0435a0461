/*
 * store_batch.c — the writer's group-commit batch (one transaction for the
 * requests of many workers, include/write_batch.h) and the import
 * transaction (one for a whole bulk import).  Above the transactions: it
 * opens and commits through store_txn.c.
 */
#include "store_private.h"

#include "clock.h"

int store_batch_begin(struct store *s, size_t reserve)
{
    MDB_txn *txn;
    int rc = store_write_begin(s, &txn);
    if (rc)
        return rc;
    if (reserve && (rc = store_reserve_disk(s, STORE_WRITE_HEADROOM + reserve)) != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    s->batch = txn;
    s->batch_spoilt = false;
    return 0;
}

bool store_batch_spoilt(const struct store *s)
{
    return s->batch_spoilt;
}

int store_batch_commit(struct store *s)
{
    MDB_txn *txn = s->batch;
    s->batch = NULL;
    if (s->batch_spoilt) {
        mdb_txn_abort(txn);
        return MDB_BAD_TXN;
    }
    return store_commit_durably(txn);
}

void store_batch_abort(struct store *s)
{
    if (s->batch)
        mdb_txn_abort(s->batch);
    s->batch = NULL;
    s->batch_spoilt = false;
}

int store_import_begin(struct store *s, size_t reserve, MDB_txn **txn)
{
    int rc = store_write_begin(s, txn);
    if (rc)
        return rc;
    rc = store_reserve_disk(s, reserve);
    /* The worker's resident set still holds every database page it has
     * read or written since it started; none of them is its own memory,
     * so the import starts from none. */
    if (!rc)
        rc = store_release_map(s);
    if (rc)
        mdb_txn_abort(*txn);
    return rc;
}

int store_import_commit(struct store *s, MDB_txn *txn, enum store_import kind, uint64_t rows)
{
    int rc = store_note_import(s, txn, kind, rows, clock_now_ms());
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    return store_write_commit(txn);
}
