/*
 * handler_group.c — the group endpoints (API.md §4).
 *
 * The way every change goes (validate, one write transaction, find,
 * lock, conflicts, write, render, commit) is in group_access.c.  A change
 * that changes nothing writes nothing and leaves updatedAt alone, so a
 * nightly sync that repeats itself is free.  A body's `participants`
 * list becomes the group's participants in the same transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
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

/* Makes the group's participants the body's list (a create adds them). */
static bool apply_participants(struct call *c, struct change *ch, const struct group_body *b,
                               enum pkey match, bool create)
{
    if (!b->has_participants)
        return true;
    struct pwrite_counts counts = {0};
    struct problem p;
    problem_init(&p);
    int rc = pwrite_sync(&ch->pw, ch->g.id, b->parts, b->n_parts, match, !create, "participants",
                         &counts, NULL, &p);
    bool failed = change_members_failed(c, ch, rc, &p);
    problem_free(&p);
    if (failed)
        return false;
    ch->g.total_participants += (uint32_t)counts.created;
    ch->g.total_participants -= (uint32_t)counts.removed;
    return true;
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

    struct change ch;
    if (!change_open(c, &ch)) {
        group_body_free(&body);
        return;
    }
    struct group *g = &ch.g;
    group_init_new(g, &body.patch, (uint32_t)org, c->who.top_organisation, c->who.actor, ch.pw.now);
    int rc = store_next_id(c->store, ch.txn, &g->id);
    if (rc) {
        group_body_free(&body);
        change_abort(&ch);
        call_store_error(c, "allocating an id", rc);
        return;
    }
    bool ok = apply_participants(c, &ch, &body, match, true);
    group_body_free(&body);
    if (ok)
        change_commit(c, &ch, true);
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
    struct change ch;
    if (!change_begin(c, &ch, &c->seg[1], external, false)) {
        group_body_free(&body);
        return;
    }
    group_patch_apply(&ch.g, &body.patch);
    bool ok = apply_participants(c, &ch, &body, match, false);
    group_body_free(&body);
    if (ok)
        change_commit(c, &ch, false);
}

/* ---- DELETE /group/:id ---- */

static void group_purge(struct call *c, bool external)
{
    MDB_txn *txn;
    int rc = store_write_begin(c->store, &txn);
    if (rc) {
        call_store_error(c, "write transaction", rc);
        return;
    }
    struct group_record rec;
    if (!group_find(c, txn, &c->seg[1], external, GROUP_ANY_STATUS, &rec)) {
        store_write_abort(txn);
        return;
    }
    struct group g;
    rc = store_group_load(&rec, &g);
    if (!rc) {
        rc = store_group_purge(c->store, txn, &g, clock_now_ms());
        group_free(&g);
    }
    if (!rc)
        rc = store_write_commit(txn);
    else
        store_write_abort(txn);
    if (rc) {
        call_store_error(c, "purging a group", rc);
        return;
    }
    struct buf out = BUF_INIT;
    buf_addf(&out, "{\"purged\":{\"id\":\"%llu\"}}", (unsigned long long)rec.id);
    reply_buf(c, &out);
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
    if (purge) {
        group_purge(c, external);
        return;
    }
    struct change ch;
    if (!change_begin(c, &ch, &c->seg[1], external, true))
        return;
    ch.g.deleted = !undo;
    change_commit(c, &ch, false);
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
    struct change ch;
    if (!change_begin(c, &ch, &c->seg[1], external, false))
        return;
    ch.g.archived = !undo;
    change_commit(c, &ch, false);
}
