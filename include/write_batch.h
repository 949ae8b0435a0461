/*
 * write_batch.h — many write requests, one LMDB transaction, one flush
 * (group commit; lmdb-schema/README.md "Durability").
 *
 * The writer process gathers the write operations that the workers have
 * waiting (include/write_op.h: validated already) and applies them here:
 * each through write_op_run, as a worker would, but inside one
 * transaction that is committed and flushed once.
 * No reply may be sent before write_batch_apply returns: only then are the
 * changes they acknowledge on disk.
 *
 * A request that gives up before it wrote anything (a 404 found inside
 * the transaction, most 409s and 423s) leaves the batch as it is.  One
 * that gives up after a write call (a clash found by an index put, a full
 * map) may have written part of its change, and LMDB cannot take back part
 * of a transaction opened with MDB_WRITEMAP (no nested transactions); the
 * store counts write calls to tell (store_write_abort).  So that batch is
 * thrown away:
 * the requests before it run again as a batch, it runs on its own (its
 * own transaction, aborted as usual), and those after it form the next
 * batch.  Every request thus sees exactly the changes of those applied
 * before it, as if each had been alone.
 */
#ifndef GROUPD_WRITE_BATCH_H
#define GROUPD_WRITE_BATCH_H

#include <stddef.h>

#include "app.h"
#include "write_op.h"

struct write_item {
    const struct write_op *op;
    size_t bytes;     /* the size of its frame: disk is reserved by it */
    struct reply rep; /* filled by write_batch_apply (reply_init first) */
};

struct write_batch_stats {
    unsigned long batches; /* batch transactions committed */
    unsigned long batched; /* requests applied in them */
    unsigned long alone;   /* requests applied on their own */
    unsigned long reruns;  /* applications thrown away with a spoilt batch */
};

/* Applies items[0..n) in order; every item gets its reply. */
void write_batch_apply(struct app *app, struct write_item *items, size_t n,
                       struct write_batch_stats *stats);

#endif
