/*
 * bench_app.h — what the in-process write benchmarks (write_cost.c,
 * writer_instr.c) share: an admin key of tenant 100 in the store, and a
 * relay that keeps the write operation a request became, encoded as a
 * worker sends it to the writer.
 */
#ifndef GROUPD_BENCH_APP_H
#define GROUPD_BENCH_APP_H

#include <string.h>

#include "apikey.h"
#include "app.h"
#include "buf.h"
#include "store.h"
#include "write_op.h"

/* Stores an admin key of topOrganisation 100 and writes its string to
 * key; non-zero on failure. */
static inline int bench_admin_key(struct store *s, char key[APIKEY_STRING_MAX])
{
    MDB_txn *txn;
    struct apikey_record k;
    memset(&k, 0, sizeof k);
    if (store_write_begin(s, &txn) || store_key_next_id(s, txn, &k.id))
        return 1;
    k.role = ROLE_ADMIN;
    k.top_organisation = 100;
    apikey_generate(k.top_organisation, k.id, key, k.hash);
    return store_key_put(s, txn, &k) || store_write_commit(txn);
}

/* An app relay (ctx: a struct buf) keeping the operation's bytes. */
static inline enum app_relay bench_keep_op(void *ctx, const struct write_op *op, struct reply *rep)
{
    struct buf *frame = ctx;
    buf_reset(frame);
    write_op_encode(op, frame);
    rep->status = 200;
    return APP_RELAYED;
}

#endif
