/*
 * store_txn.c — transactions: the worker's reusable read transaction, write
 * transactions with the durable commit, and the part of the map kept for
 * writes that free space.  MDB_MAP_RESIZED (another process grew the map)
 * is handled by adopting the new size and trying once more.
 */
#include "store_private.h"

#include <errno.h>

bool store_full(int rc)
{
    return rc == MDB_MAP_FULL || rc == ENOSPC || rc == EDQUOT;
}

int store_read_begin(struct store *s, MDB_txn **txn)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int rc =
            s->rtxn ? mdb_txn_renew(s->rtxn) : mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rtxn);
        if (rc == MDB_MAP_RESIZED) {
            if (s->rtxn) {
                mdb_txn_abort(s->rtxn);
                s->rtxn = NULL;
            }
            rc = mdb_env_set_mapsize(s->env, 0);
            if (rc)
                return rc;
            continue;
        }
        if (rc)
            return rc;
        *txn = s->rtxn;
        return 0;
    }
    return MDB_MAP_RESIZED;
}

void store_read_end(struct store *s)
{
    if (s->rtxn)
        mdb_txn_reset(s->rtxn);
}

/* Pages in use in txn's view: the tree pages of every database (the free
 * list's own, LMDB's main one and each named one) and the two meta pages.
 * Each mdb_stat reads the database's record in the transaction: no walk. */
static int used_pages(struct store *s, MDB_txn *txn, size_t *out, size_t *psize)
{
    /* FREE_DBI and MAIN_DBI first (the mdb_stat tool reads them too). */
    struct store_db d[STORE_MAX_DBS];
    size_t n_dbs = store_databases(s, d);
    MDB_dbi all[2 + STORE_MAX_DBS] = {0, 1};
    for (size_t i = 0; i < n_dbs; i++)
        all[2 + i] = d[i].dbi;
    size_t n = 2;
    for (size_t i = 0; i < 2 + n_dbs; i++) {
        MDB_stat st;
        int rc = mdb_stat(txn, all[i], &st);
        if (rc == EINVAL)
            continue; /* not open in this transaction (opening, a migration) */
        if (rc)
            return rc;
        n += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
        *psize = st.ms_psize;
    }
    *out = n;
    return 0;
}

void store_may_use_reserve(struct store *s, bool may)
{
    s->may_use_reserve = may;
}

/* The reserve for writes that free space: a write that grew the pages in
 * use past the map less STORE_FREE_RESERVE is refused as "database full",
 * unless it may use the reserve (store_may_use_reserve: the DELETEs).
 * Pages in use, not the file's last page, are counted: pages freed by a
 * purge are reused by LMDB, and the count falls with them, so creates
 * work again as soon as space was freed.  The reserve then always holds
 * the copies a delete needs (LMDB copies every page it changes, so even a
 * delete takes new pages before its old ones are free). */
static int check_room(struct store *s, MDB_txn *txn)
{
    if (s->may_use_reserve)
        return 0;
    size_t used = 0, psize = 0;
    int rc = used_pages(s, txn, &used, &psize);
    if (rc || used <= s->used_at_begin)
        return rc;
    MDB_envinfo info;
    rc = mdb_env_info(s->env, &info);
    if (rc)
        return rc;
    size_t room = info.me_mapsize - STORE_FREE_RESERVE(info.me_mapsize);
    return used > room / psize ? MDB_MAP_FULL : 0;
}

/* Notes the pages in use as a write begins, for check_room. */
static int note_used(struct store *s, MDB_txn *txn)
{
    size_t psize;
    return s->may_use_reserve ? 0 : used_pages(s, txn, &s->used_at_begin, &psize);
}

int store_write_begin(struct store *s, MDB_txn **txn)
{
    if (s->batch) {
        *txn = s->batch_spoilt ? NULL : s->batch;
        s->batch_mark = store_write_calls();
        if (s->batch_spoilt)
            return MDB_BAD_TXN;
        return note_used(s, s->batch);
    }
    int rc = mdb_txn_begin(s->env, NULL, 0, txn);
    if (rc == MDB_MAP_RESIZED) {
        rc = mdb_env_set_mapsize(s->env, 0);
        if (!rc)
            rc = mdb_txn_begin(s->env, NULL, 0, txn);
    }
    if (rc)
        return rc;
    /* Under the write lock: the last used page cannot move meanwhile. */
    rc = store_reserve_disk(s, STORE_WRITE_HEADROOM);
    if (!rc)
        rc = note_used(s, *txn);
    if (rc) {
        mdb_txn_abort(*txn);
        *txn = NULL;
    }
    return rc;
}

/* The store whose batch txn is, or NULL (store_open makes each
 * environment point back at its store). */
struct store *store_batch_of(MDB_txn *txn)
{
    struct store *s = mdb_env_get_userctx(mdb_txn_env(txn));
    return s && s->batch == txn ? s : NULL;
}

/* Durability without two flushes under the write lock (lmdb-schema/README.md
 * "Durability"): with MDB_NOMETASYNC, mdb_txn_commit flushes the data
 * pages, then writes the meta page without flushing it and releases the
 * lock; the flush of the meta page happens here, outside the lock, while
 * the next writer works, and the caller answers only after it returned. */
int store_commit_durably(MDB_txn *txn)
{
    MDB_env *env = mdb_txn_env(txn);
    size_t id = mdb_txn_id(txn);
    int rc = mdb_txn_commit(txn);
    if (rc)
        return rc;
    /* A transaction that wrote nothing commits as nothing (a no-op update
     * stays free): the last committed id did not reach ours. */
    MDB_envinfo info;
    rc = mdb_env_info(env, &info);
    if (!rc && info.me_last_txnid < id)
        return 0;
    return rc ? rc : mdb_env_sync(env, 1);
}

int store_write_commit(MDB_txn *txn)
{
    struct store *s = mdb_env_get_userctx(mdb_txn_env(txn));
    int rc = s ? check_room(s, txn) : 0;
    if (rc) {
        /* As a failed mdb_txn_commit: the transaction is gone (in a batch,
         * spoilt, so that the request runs alone and gets this answer). */
        if (store_batch_of(txn))
            s->batch_spoilt = true;
        else
            mdb_txn_abort(txn);
        return rc;
    }
    /* In a batch the request's part is done; the batch commits it. */
    return store_batch_of(txn) ? 0 : store_commit_durably(txn);
}

void store_write_abort(MDB_txn *txn)
{
    struct store *s = store_batch_of(txn);
    if (!s)
        mdb_txn_abort(txn);
    else if (store_write_calls() != s->batch_mark)
        s->batch_spoilt = true; /* it may have written part of its change */
}
