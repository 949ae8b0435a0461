/*
 * group_change.c — what every handler on one group shares: finding the
 * group a path names for the caller, and the write transaction around a
 * store operation.  See include/handlers.h.
 *
 * Every change goes the same way: validate the query and body (400,
 * collecting every problem) into a write operation (include/write_op.h),
 * then hand it to the writer process, or, with none answering, apply it
 * here through the same call (write_op_run): one write transaction, the
 * one store call of the operation (it finds the group for the caller,
 * checks the import lock and unique values, and writes with its feed
 * entries), the reply rendered inside the transaction, commit.  A status
 * other than STORE_OK is answered by store_answer.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "group_render.h"
#include "handlers.h"

/* ---- query parameters shared by the group and participant endpoints ---- */

bool query_flag(struct call *c, const char *name, struct problem *p)
{
    bool v = false;
    query_bool(&c->query, name, &v, p);
    return v;
}

enum pkey query_match(struct call *c, struct problem *p)
{
    const char *mode = query_get(&c->query, "participantUpdateType", p);
    if (mode && strcmp(mode, "externalId") == 0)
        return PKEY_EXTID;
    if (mode && strcmp(mode, "email") != 0)
        problem_bad_query(p, "participantUpdateType", "must be email or externalId");
    return PKEY_EMAIL;
}

/* ---- finding the group a path segment names ---- */

void call_writer(const struct call *c, struct store_writer *w)
{
    w->top = c->who.top_organisation;
    w->orgs = c->who.orgs;
    w->n_orgs = c->who.n_orgs;
    w->admin = c->who.role >= ROLE_ADMIN;
    w->actor = c->who.actor;
    w->now = clock_now_ms();
    w->lock_on_write = false;
}

struct store_name call_group_name(const struct buf *seg, bool external, unsigned statuses)
{
    return (struct store_name){0, seg->data ? seg->data : "", seg->len, external, statuses};
}

bool group_find(struct call *c, MDB_txn *txn, const struct buf *seg, bool external,
                unsigned statuses, struct group_record *rec)
{
    struct store_writer w;
    call_writer(c, &w);
    struct store_name name = call_group_name(seg, external, statuses);
    struct store_result r;
    store_result_init(&r);
    r.status = store_find_group(c->store, txn, &w, &name, rec, &r.rc);
    r.what = "finding a group";
    if (r.status != STORE_OK)
        call_store_answer(c, &r, NULL, false);
    return r.status == STORE_OK;
}

/* ---- replying ---- */

void reply_buf(struct call *c, struct buf *b)
{
    reply_take(c->rep, b);
}

/* ---- a write ---- */

void call_op_begin(struct call *c, struct write_op *op, enum write_kind kind)
{
    write_op_init(op, kind);
    memcpy(op->request_id, c->req->request_id, sizeof op->request_id);
    if (c->req->prefix.data)
        buf_add(&op->prefix, c->req->prefix.data, c->req->prefix.len);
    op->top = c->who.top_organisation;
    op->admin = c->who.role >= ROLE_ADMIN;
    memcpy(op->actor, c->who.actor, sizeof op->actor);
    op->n_orgs = c->who.n_orgs;
    memcpy(op->orgs, c->who.orgs, c->who.n_orgs * sizeof *op->orgs);
}

void call_op_group(struct write_op *op, const struct buf *seg, bool external)
{
    buf_reset(&op->group);
    buf_add(&op->group, seg->data ? seg->data : "", seg->len);
    op->external = external;
}

void call_write(struct call *c, struct write_op *op)
{
    enum app_relay how =
        c->app->relay ? c->app->relay(c->app->relay_ctx, op, c->rep) : APP_APPLY_HERE;
    switch (how) {
    case APP_RELAYED: break;
    case APP_APPLY_HERE: write_op_run(c->store, op, c->rep, c->app->log_error); break;
    case APP_RELAY_LOST:
        reply_error(c->rep, 503, "unavailable",
                    "the writer stopped while applying this change; it may or may not have been "
                    "made: read it back before trying again");
        break;
    }
    write_op_free(op);
}
