/*
 * handler_group.c — the group endpoints (API.md §4).
 *
 * Each write validates its query and body (400) into a write operation
 * (include/write_op.h) that the writer process, or this worker, applies
 * as one store operation in one write transaction, answering with the
 * group as the operation left it (group_change.c call_write).  A change
 * that changes nothing writes nothing and leaves updatedAt alone, so a
 * nightly sync that repeats itself is free.  A body's `participants`
 * list becomes the group's participants in the same transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group_render.h"
#include "handlers.h"
#include "jsonin.h"
#include "text.h"

/* ---- GET /group/:id ---- */

void group_get(struct call *c)
{
    struct problem p;
    problem_init(&p);
    bool external = query_flag(c, "external", &p);
    unsigned allowed = GROUP_ACTIVE | GROUP_ARCHIVED | query_statuses(c, &p);
    if (problem_any(&p)) {
        reply_problem(c->rep, &p);
        problem_free(&p);
        return;
    }
    problem_free(&p);
    struct group_record rec;
    if (!group_find(c, c->rtxn, &c->seg[1], external, allowed, &rec))
        return;
    /* rev is the change sequence of the last change to the group or to
     * any of its participants: the ETag follows both. */
    char etag[48], *at = etag;
    *at++ = '"';
    *at++ = 'g';
    at = u64_digits(at, rec.id);
    *at++ = '-';
    at = u64_digits(at, rec.rev);
    *at++ = '"';
    *at = '\0';
    if (reply_etag(c->rep, c->req, etag))
        return;
    struct buf out = BUF_INIT;
    /* Room for a typical participant's JSON each (up to a point): a usual
     * answer is built without growing the buffer on the way. */
    size_t expect = rec.total_participants < 4096 ? rec.total_participants : 4096;
    buf_reserve(&out, rec.json_len + 64 + expect * 320);
    int rc = group_render_full(c->store, c->rtxn, rec.json, rec.json_len, rec.id, &out);
    if (rc) {
        buf_free(&out);
        call_store_error(c, "reading participants", rc);
        return;
    }
    reply_buf(c, &out);
}

/* Reads the body into op (its patch and, when given, its participant
 * list); false (problems in p) on 400.  A null `participants` is the same
 * as an absent one. */
static bool read_body(struct call *c, struct problem *p, bool create, struct write_op *op)
{
    struct json_object *body = jsonin_parse(c->req->body.data, c->req->body.len, p);
    if (body) {
        group_patch_parse(body, create, &op->patch, p);
        struct json_object *parts;
        if (json_object_object_get_ex(body, "participants", &parts) && parts) {
            op->has_participants = true;
            unsigned required = PM_EMAIL | (op->match == PKEY_EXTID ? PM_EXTERNAL_ID : 0);
            participant_list_parse(parts, "participants", required, &op->parts, &op->n_parts, p);
        }
        json_object_put(body);
    }
    return !problem_any(p);
}

static void reply_and_free(struct call *c, struct problem *p)
{
    reply_problem(c->rep, p);
    problem_free(p);
}

/* ---- POST /group ---- */

void group_create(struct call *c)
{
    struct problem p;
    problem_init(&p);
    struct write_op op;
    call_op_begin(c, &op, WOP_GROUP_CREATE);
    uint64_t org = 0;
    bool have_org = query_uint(&c->query, "organisation", UINT32_MAX, &org, &p);
    op.match = query_match(c, &p);
    read_body(c, &p, true, &op);
    if (!have_org && !problem_any(&p)) {
        if (c->who.n_orgs == 1)
            org = c->who.orgs[0];
        else
            problem_bad_query(
                &p, "organisation",
                "is required: this key is not restricted to exactly one organisation");
    }
    if (problem_any(&p)) {
        write_op_free(&op);
        reply_and_free(c, &p);
        return;
    }
    problem_free(&p);
    if (!principal_covers(&c->who, (uint32_t)org)) {
        write_op_free(&op);
        reply_error(c->rep, 403, "forbidden", "organisation %llu is outside this key's scope",
                    (unsigned long long)org);
        return;
    }
    op.org = (uint32_t)org;
    call_write(c, &op);
}

/* ---- POST|PUT|PATCH /group/:id ---- */

void group_update(struct call *c)
{
    struct problem p;
    problem_init(&p);
    struct write_op op;
    call_op_begin(c, &op, WOP_GROUP_EDIT);
    call_op_group(&op, &c->seg[1], query_flag(c, "external", &p));
    op.match = query_match(c, &p);
    read_body(c, &p, false, &op);
    if (problem_any(&p)) {
        write_op_free(&op);
        reply_and_free(c, &p);
        return;
    }
    problem_free(&p);
    call_write(c, &op);
}

/* ---- DELETE /group/:id ---- */

void group_delete(struct call *c)
{
    struct problem p;
    problem_init(&p);
    bool purge = false;
    bool purge_given = query_bool(&c->query, "purge", &purge, &p);
    if (purge_given && purge && c->who.role < ROLE_ADMIN) {
        problem_free(&p);
        reply_error(c->rep, 403, "forbidden", "purging needs an admin key");
        return;
    }
    bool undo = query_flag(c, "undo", &p);
    bool external = query_flag(c, "external", &p);
    if (problem_any(&p)) {
        reply_and_free(c, &p);
        return;
    }
    problem_free(&p);
    struct write_op op;
    call_op_begin(c, &op, purge ? WOP_GROUP_PURGE : undo ? WOP_GROUP_RESTORE : WOP_GROUP_DELETE);
    call_op_group(&op, &c->seg[1], external);
    call_write(c, &op);
}

/* ---- POST /group/:id/archive ---- */

void group_archive(struct call *c)
{
    struct problem p;
    problem_init(&p);
    bool undo = query_flag(c, "undo", &p);
    bool external = query_flag(c, "external", &p);
    if (problem_any(&p)) {
        reply_and_free(c, &p);
        return;
    }
    problem_free(&p);
    struct write_op op;
    call_op_begin(c, &op, undo ? WOP_GROUP_UNARCHIVE : WOP_GROUP_ARCHIVE);
    call_op_group(&op, &c->seg[1], external);
    call_write(c, &op);
}
