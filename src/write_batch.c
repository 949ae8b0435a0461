/* write_batch.c — group commit of write requests; see include/write_batch.h. */
#include "write_batch.h"

static void handle(struct app *app, struct write_item *it)
{
    liveness_beat(app->alive);
    reply_reset(&it->rep);
    write_op_run(app->store, it->op, &it->rep, app->log_error);
}

/* The reply of a request whose batch could not be committed: what a lone
 * request gets when its own commit fails. */
static void failed(struct app *app, struct write_item *it, const char *what, int rc)
{
    reply_reset(&it->rep);
    if (app->log_error)
        app->log_error(it->op->request_id, what, rc);
    reply_store_error(&it->rep, rc);
}

/* Disk for the batch beyond the usual headroom: an operation becomes at
 * most a few times its size in records and index entries. */
static size_t reserve_for(const struct write_item *items, size_t from, size_t to)
{
    size_t bytes = 0;
    for (size_t i = from; i < to; i++)
        bytes += 8 * items[i].bytes;
    return bytes;
}

/* Applies items[from..to) in an open batch; returns the first one that
 * spoilt it, or `to`. */
static size_t run(struct app *app, struct write_item *items, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        handle(app, &items[i]);
        if (store_batch_spoilt(app->store))
            return i;
    }
    return to;
}

void write_batch_apply(struct app *app, struct write_item *items, size_t n,
                       struct write_batch_stats *stats)
{
    struct write_batch_stats none = {0, 0, 0, 0};
    if (!stats)
        stats = &none;
    size_t i = 0;
    while (i < n) {
        size_t end = n, lone = n; /* lone: one that spoilt a batch, to run alone after end */
        for (;;) {
            if (end - i < 2 || store_batch_begin(app->store, reserve_for(items, i, end)) != 0) {
                /* Nothing to share a flush with, or no batch to be had
                 * (a full disk): each on its own gets the answer it
                 * would get alone. */
                for (; i < end; i++) {
                    handle(app, &items[i]);
                    stats->alone++;
                }
                break;
            }
            size_t k = run(app, items, i, end);
            if (k == end) {
                int rc = store_batch_commit(app->store);
                stats->batches++;
                stats->batched += end - i;
                for (; rc && i < end; i++)
                    failed(app, &items[i], "committing a batch", rc);
                i = end;
                break;
            }
            store_batch_abort(app->store);
            stats->reruns += k - i + 1;
            lone = end = k; /* those before it again, then it alone */
        }
        if (lone < n) {
            handle(app, &items[lone]); /* its own transaction: it aborts for real */
            stats->alone++;
            i = lone + 1;
        }
    }
}
