/*
 * handler_group.c — the group endpoints (API.md §4).
 *
 * Each write validates its query and body (400), then makes the one store
 * operation it is (include/store.h) in one write transaction and answers
 * with the group as the operation left it (group_change.c).  A change
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

/* A group body: the group's members and, when given, its participants. */
struct group_body {
    struct group_patch patch;
    bool has_participants;
    struct participant_patch *parts;
    size_t n_parts;
};

static void group_body_free(struct group_body *b)
{
    group_patch_free(&b->patch);
    participant_list_free(b->parts, b->n_parts);
}

/* Reads the body; false (problems in p) on 400.  A null `participants`
 * is the same as an absent one. */
static bool read_body(struct call *c, struct problem *p, bool create, enum pkey match,
                      struct group_body *b)
{
    memset(b, 0, sizeof *b);
    struct json_object *body = jsonin_parse(c->req->body.data, c->req->body.len, p);
    if (body) {
        group_patch_parse(body, create, &b->patch, p);
        struct json_object *parts;
        if (json_object_object_get_ex(body, "participants", &parts) && parts) {
            b->has_participants = true;
            unsigned required = PM_EMAIL | (match == PKEY_EXTID ? PM_EXTERNAL_ID : 0);
            participant_list_parse(parts, "participants", required, &b->parts, &b->n_parts, p);
        }
        json_object_put(body);
    }
    return !problem_any(p);
}

static struct store_group_body store_body(const struct group_body *b, enum pkey match)
{
    return (struct store_group_body){&b->patch, b->has_participants, b->parts, b->n_parts, match};
}

/* Ends an operation on one group: answers with the full group as it is
 * after it (rendered inside the transaction), or the failure. */
static void end_with_group(struct call *c, MDB_txn *txn, struct store_result *r)
{
    struct buf out = BUF_INIT;
    if (r->status == STORE_OK) {
        struct buf json = BUF_INIT;
        group_write_json(&r->group, &json);
        int rc = group_render_full(c->store, txn, json.data, json.len, r->group.id, &out);
        buf_free(&json);
        if (rc) {
            r->status = STORE_FAILED;
            r->rc = rc;
            r->what = "reading participants";
        }
    }
    call_write_end(c, txn, r, &out, "participants", true);
    store_result_free(r);
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
    uint64_t org = 0;
    bool have_org = query_uint(&c->query, "organisation", UINT32_MAX, &org, &p);
    enum pkey match = query_match(c, &p);
    struct group_body body;
    read_body(c, &p, true, match, &body);
    if (!have_org && !problem_any(&p)) {
        if (c->who.n_orgs == 1)
            org = c->who.orgs[0];
        else
            problem_bad_query(
                &p, "organisation",
                "is required: this key is not restricted to exactly one organisation");
    }
    if (problem_any(&p)) {
        group_body_free(&body);
        reply_and_free(c, &p);
        return;
    }
    problem_free(&p);
    if (!principal_covers(&c->who, (uint32_t)org)) {
        group_body_free(&body);
        reply_error(c->rep, 403, "forbidden", "organisation %llu is outside this key's scope",
                    (unsigned long long)org);
        return;
    }

    MDB_txn *txn;
    if (!call_write_begin(c, &txn)) {
        group_body_free(&body);
        return;
    }
    struct store_writer w;
    call_writer(c, &w);
    struct store_group_body in = store_body(&body, match);
    struct store_result r;
    store_result_init(&r);
    store_create_group(c->store, txn, &w, (uint32_t)org, 0, &in, &r);
    group_body_free(&body);
    end_with_group(c, txn, &r);
}

/* ---- POST|PUT|PATCH /group/:id ---- */

void group_update(struct call *c)
{
    struct problem p;
    problem_init(&p);
    bool external = query_flag(c, "external", &p);
    enum pkey match = query_match(c, &p);
    struct group_body body;
    read_body(c, &p, false, match, &body);
    if (problem_any(&p)) {
        group_body_free(&body);
        reply_and_free(c, &p);
        return;
    }
    problem_free(&p);
    MDB_txn *txn;
    if (!call_write_begin(c, &txn)) {
        group_body_free(&body);
        return;
    }
    struct store_writer w;
    call_writer(c, &w);
    struct store_name name = call_group_name(&c->seg[1], external, 0);
    struct store_group_body in = store_body(&body, match);
    struct store_result r;
    store_result_init(&r);
    store_edit_group(c->store, txn, &w, &name, &in, &r);
    group_body_free(&body);
    end_with_group(c, txn, &r);
}

/* ---- DELETE /group/:id ---- */

/* One operation on the group the path names, answered with the group. */
enum group_op { OP_DELETE, OP_RESTORE, OP_ARCHIVE, OP_UNARCHIVE, OP_PURGE };

static void group_op(struct call *c, bool external, enum group_op op)
{
    MDB_txn *txn;
    if (!call_write_begin(c, &txn))
        return;
    struct store_writer w;
    call_writer(c, &w);
    struct store_name name = call_group_name(&c->seg[1], external, 0);
    struct store_result r;
    store_result_init(&r);
    switch (op) {
    case OP_DELETE:
    case OP_RESTORE: store_delete_group(c->store, txn, &w, &name, op == OP_DELETE, &r); break;
    case OP_ARCHIVE:
    case OP_UNARCHIVE: store_archive_group(c->store, txn, &w, &name, op == OP_ARCHIVE, &r); break;
    case OP_PURGE: {
        store_purge_group(c->store, txn, &w, &name, &r);
        struct buf out = BUF_INIT;
        if (r.status == STORE_OK)
            buf_addf(&out, "{\"purged\":{\"id\":\"%llu\"}}", (unsigned long long)r.group.id);
        call_write_end(c, txn, &r, &out, NULL, false);
        store_result_free(&r);
        return;
    }
    }
    end_with_group(c, txn, &r);
}

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
    group_op(c, external, purge ? OP_PURGE : undo ? OP_RESTORE : OP_DELETE);
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
    group_op(c, external, undo ? OP_UNARCHIVE : OP_ARCHIVE);
}
