/*
 * handler_event.c — the event endpoints (API.md §6).
 *
 * Events hang off a group the way participants do: the path's group is
 * found for the caller (404 outside its scope, 404 when deleted), writes
 * need the group unlocked or an admin key (423), and every write is one
 * store operation on the group (a write operation, include/write_op.h):
 * the event is written, noted as event.created / updated / removed, and
 * recorded with a new rev for the group, so the group's ETag, the
 * tenant's list ETag and the feed all follow.  The body is read before the
 * group is looked up: a body's 400 wins over an unknown group's 404.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "jsonin.h"

/* The event id of a path segment: digits only, else 0 (names nothing). */
static uint64_t event_id_of(const struct buf *seg)
{
    if (seg->len == 0 || seg->len > 19)
        return 0;
    for (size_t i = 0; i < seg->len; i++)
        if (seg->data[i] < '0' || seg->data[i] > '9')
            return 0;
    return strtoull(seg->data, NULL, 10);
}

/* Reads the query and the body of a POST or PUT into op; false when it
 * was answered (400). */
static bool read_event(struct call *c, struct write_op *op)
{
    struct problem p;
    problem_init(&p);
    call_op_group(op, &c->seg[1], query_flag(c, "external", &p));
    struct json_object *body = jsonin_parse(c->req->body.data, c->req->body.len, &p);
    if (body) {
        event_parse(body, &op->ev, &p);
        json_object_put(body);
    }
    if (call_failed(c, &p)) {
        write_op_free(op);
        return false;
    }
    return true;
}

/* ---- reading ---- */

struct elist {
    uint64_t limit, skip;
    size_t count;
    struct buf page;
};

static int list_one(void *ctx, const struct event *ev)
{
    struct elist *l = ctx;
    size_t i = l->count++;
    if (i < l->skip || (l->limit && i >= l->skip + l->limit))
        return 0;
    if (l->page.len)
        buf_addc(&l->page, ',');
    event_write_json(ev, &l->page);
    return 0;
}

/* Finds the (not deleted) group of a read; false when answered. */
static bool find_readable(struct call *c, bool external, struct group_record *rec)
{
    return group_find(c, c->rtxn, &c->seg[1], external, GROUP_NOT_DELETED, rec);
}

/* GET /group/:id/event */
void event_list(struct call *c)
{
    struct problem p;
    problem_init(&p);
    struct elist l;
    memset(&l, 0, sizeof l);
    bool external = query_flag(c, "external", &p);
    list_paging(c, &l.limit, &l.skip, &p);
    if (call_failed(c, &p))
        return;
    struct group_record rec;
    if (find_readable(c, external, &rec)) {
        int rc = store_event_each(c->store, c->rtxn, rec.id, list_one, &l);
        if (rc) {
            call_store_error(c, "listing events", rc);
        } else {
            list_head(c, l.count, l.limit, l.skip);
            reply_write(c->rep, l.page.data, l.page.len);
            reply_writes(c->rep, "]}");
        }
    }
    buf_free(&l.page);
}

/* GET /group/:id/event/:eventId */
void event_get(struct call *c)
{
    struct problem p;
    problem_init(&p);
    bool external = query_flag(c, "external", &p);
    if (call_failed(c, &p))
        return;
    struct group_record rec;
    if (!find_readable(c, external, &rec))
        return;
    uint64_t eid = event_id_of(&c->seg[3]);
    struct event ev;
    int rc = eid ? store_event_get(c->store, c->rtxn, rec.id, eid, &ev) : STORE_ABSENT;
    if (rc == STORE_ABSENT) {
        reply_error(c->rep, 404, "not_found", "no such event in this group");
        return;
    }
    if (rc) {
        call_store_error(c, "reading an event", rc);
        return;
    }
    struct buf out = BUF_INIT;
    event_write_json(&ev, &out);
    event_free(&ev);
    reply_buf(c, &out);
}

/* ---- writing ---- */

/* POST /group/:id/event: 201 with Location. */
void event_create(struct call *c)
{
    struct write_op op;
    call_op_begin(c, &op, WOP_EVENT_CREATE);
    if (read_event(c, &op))
        call_write(c, &op);
}

/* PUT /group/:id/event/:eventId: the whole event is replaced. */
void event_replace(struct call *c)
{
    struct write_op op;
    call_op_begin(c, &op, WOP_EVENT_REPLACE);
    op.eid = event_id_of(&c->seg[3]);
    if (read_event(c, &op))
        call_write(c, &op);
}

/* DELETE /group/:id/event/:eventId */
void event_remove(struct call *c)
{
    struct problem p;
    problem_init(&p);
    bool external = query_flag(c, "external", &p);
    if (call_failed(c, &p))
        return;
    struct write_op op;
    call_op_begin(c, &op, WOP_EVENT_REMOVE);
    call_op_group(&op, &c->seg[1], external);
    op.eid = event_id_of(&c->seg[3]);
    call_write(c, &op);
}
