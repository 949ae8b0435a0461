/*
 * testops.h — the write operation a request becomes: what a worker hands
 * the writer process (include/write_op.h).  The request goes through
 * app_handle (route, key, query and body checks) with a relay that keeps
 * the operation's bytes instead of sending them; they are decoded again,
 * as the writer would.
 */
#ifndef GROUPD_TESTOPS_H
#define GROUPD_TESTOPS_H

#include <check.h>

#include "app.h"
#include "write_op.h"

static enum app_relay testops_keep(void *ctx, const struct write_op *op, struct reply *rep)
{
    struct buf *frame = ctx;
    buf_reset(frame);
    write_op_encode(op, frame);
    rep->status = 202;
    return APP_RELAYED;
}

/* True with op (free it) and its size when req became a write operation;
 * false when the worker answered it without one (*status says how). */
static inline bool testops_of(struct app *app, struct request *req, struct write_op *op,
                              size_t *bytes, int *status)
{
    struct buf frame = BUF_INIT;
    app->relay = testops_keep;
    app->relay_ctx = &frame;
    struct reply rep;
    reply_init(&rep);
    app_handle(app, req, &rep);
    app->relay = NULL;
    app->relay_ctx = NULL;
    bool made = frame.len > 0;
    if (made)
        ck_assert(write_op_decode(frame.data, frame.len, op));
    *bytes = frame.len;
    *status = rep.status;
    reply_free(&rep);
    buf_free(&frame);
    return made;
}

#endif
