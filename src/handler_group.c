/*
 * handler_group.c — the group endpoints (API.md §4).
 *
 * Every change goes the same way: validate the query and body (400,
 * collecting every problem), open one write transaction, find the group
 * for the caller (404 / organisation-scope 403), check the import lock
 * (423), check the externalId (409), write, render the reply inside the
 * transaction, commit.  A change that changes nothing writes nothing and
 * leaves updatedAt alone, so a nightly sync that repeats itself is free.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "handlers.h"
#include "jsonin.h"
#include "text.h"

/* ---- finding the group a path segment names ---- */

enum find { FIND_OK, FIND_NONE, FIND_FORBIDDEN, FIND_ERROR };

/* A digits-only segment names the group with that internal id when the
 * caller may see it (its topOrganisation and organisations, any status);
 * otherwise the segment is an externalId of the caller's topOrganisation.
 * A group of the caller's top outside the key's organisations is 403; of
 * another top, it does not exist (404). */
static enum find find_group(struct call *c, MDB_txn *txn, const struct buf *seg, bool external,
                            struct group_record *rec, int *rc)
{
    bool hidden = false;
    *rc = 0;
    bool digits = seg->len > 0 && seg->len <= 19;
    for (size_t i = 0; digits && i < seg->len; i++)
        digits = seg->data[i] >= '0' && seg->data[i] <= '9';
    if (digits && !external) {
        *rc = store_group_get(c->store, txn, strtoull(seg->data, NULL, 10), rec);
        if (*rc == 0 && rec->top_organisation == c->who.top_organisation) {
            if (principal_covers(&c->who, rec->organisation))
                return FIND_OK;
            hidden = true;
        } else if (*rc && *rc != MDB_NOTFOUND) {
            return FIND_ERROR;
        }
    }
    uint64_t id;
    *rc = store_group_by_extid(c->store, txn, c->who.top_organisation, seg->data, seg->len, &id);
    if (*rc == 0)
        *rc = store_group_get(c->store, txn, id, rec);
    if (*rc == 0)
        return principal_covers(&c->who, rec->organisation) ? FIND_OK : FIND_FORBIDDEN;
    if (*rc != MDB_NOTFOUND)
        return FIND_ERROR;
    return hidden ? FIND_FORBIDDEN : FIND_NONE;
}

/* Replies for a failed find; true when the caller should stop. */
static bool find_failed(struct call *c, enum find f, int rc)
{
    switch (f) {
    case FIND_OK: return false;
    case FIND_NONE: reply_error(c->rep, 404, "not_found", "no such group"); break;
    case FIND_FORBIDDEN:
        reply_error(c->rep, 403, "forbidden", "the group's organisation is outside this key's scope");
        break;
    case FIND_ERROR: call_store_error(c, "finding a group", rc); break;
    }
    return true;
}

/* ---- query parameters shared by several endpoints ---- */

static bool flag(struct call *c, const char *name, struct problem *p)
{
    bool v = false;
    query_bool(&c->query, name, &v, p);
    return v;
}

/* ---- rendering ---- */

static int add_participant(void *ctx, const char *json, size_t len)
{
    struct buf *out = ctx;
    if (out->data[out->len - 1] != '[')
        buf_addc(out, ',');
    buf_add(out, json, len);
    return 0;
}

/* The GET /group/:id form: the stored object with participants and events
 * added before its closing brace. */
static int render_full(struct call *c, MDB_txn *txn, const char *json, size_t len, uint64_t gid,
                       struct buf *out)
{
    buf_add(out, json, len - 1);
    buf_adds(out, ",\"participants\":[");
    int rc = store_participant_each(c->store, txn, gid, add_participant, out);
    buf_adds(out, "],\"events\":[]}");
    return rc;
}

static void reply_buf(struct call *c, struct buf *b)
{
    reply_write(c->rep, b->data, b->len);
    buf_free(b);
}

/* ---- GET /group/:id ---- */

void group_get(struct call *c)
{
    struct problem p;
    problem_init(&p);
    bool external = flag(c, "external", &p);
    unsigned allowed = GROUP_ACTIVE | GROUP_ARCHIVED | query_statuses(c, &p);
    if (problem_any(&p)) {
        reply_problem(c->rep, &p);
        problem_free(&p);
        return;
    }
    problem_free(&p);
    struct group_record rec;
    int rc = 0;
    if (find_failed(c, find_group(c, c->rtxn, &c->seg[1], external, &rec, &rc), rc))
        return;
    if (!(group_record_status(&rec) & allowed)) {
        reply_error(c->rep, 404, "not_found", "no such group");
        return;
    }
    struct buf out = BUF_INIT;
    rc = render_full(c, c->rtxn, rec.json, rec.json_len, rec.id, &out);
    if (rc) {
        buf_free(&out);
        call_store_error(c, "reading participants", rc);
        return;
    }
    reply_buf(c, &out);
}

/* ---- changing a group ---- */

/* A write in progress on one group. */
struct change {
    MDB_txn *txn;
    struct group g;   /* the new state */
    struct group old; /* as it was */
};

static void change_abort(struct change *ch)
{
    if (ch->txn)
        store_write_abort(ch->txn);
    ch->txn = NULL;
    group_free(&ch->g);
    group_free(&ch->old);
}

/* Opens the write transaction and loads the group named by the path:
 * 404/403 as find_group, 404 for a deleted group unless allow_deleted,
 * 423 for an import-locked group and a non-admin key.  On false the reply
 * is made and nothing is open. */
static bool change_begin(struct call *c, struct change *ch, bool external, bool allow_deleted)
{
    memset(ch, 0, sizeof *ch);
    int rc = store_write_begin(c->store, &ch->txn);
    if (rc) {
        ch->txn = NULL;
        call_store_error(c, "write transaction", rc);
        return false;
    }
    struct group_record rec;
    if (find_failed(c, find_group(c, ch->txn, &c->seg[1], external, &rec, &rc), rc)) {
        change_abort(ch);
        return false;
    }
    if (!allow_deleted && (rec.flags & GROUP_FLAG_DELETED)) {
        reply_error(c->rep, 404, "not_found", "no such group");
        change_abort(ch);
        return false;
    }
    rc = store_group_load(&rec, &ch->g);
    if (rc) {
        call_store_error(c, "loading a group", rc);
        change_abort(ch);
        return false;
    }
    group_copy(&ch->old, &ch->g);
    if (ch->g.import_lock && c->who.role < ROLE_ADMIN) {
        reply_error(c->rep, 423, "locked", "the group is import-locked; only an admin key may change it");
        change_abort(ch);
        return false;
    }
    return true;
}

/* 409 when externalId of g is held by another group of its top. */
static bool extid_conflict(struct call *c, MDB_txn *txn, const struct group *g)
{
    if (!g->external_id)
        return false;
    uint64_t holder;
    int rc = store_group_by_extid(c->store, txn, g->top_organisation, g->external_id,
                                  strlen(g->external_id), &holder);
    if (rc || holder == g->id)
        return false;
    struct group_record rec;
    const char *status = "active";
    if (store_group_get(c->store, txn, holder, &rec) == 0)
        status = group_status_name(group_record_status(&rec));
    struct problem p;
    problem_init(&p);
    problem_conflict(&p, "externalId", holder, status);
    reply_problem(c->rep, &p);
    problem_free(&p);
    return true;
}

/* Writes ch->g when it is new or differs from ch->old (an update stamps
 * updatedAt and modifiedBy), renders the reply, commits.  Consumes ch. */
static void change_commit(struct call *c, struct change *ch, bool create)
{
    int rc = 0;
    if (create || !group_equal(&ch->g, &ch->old)) {
        if (extid_conflict(c, ch->txn, &ch->g)) {
            change_abort(ch);
            return;
        }
        if (create) {
            ch->g.updated_at = ch->g.created_at;
        } else {
            ch->g.updated_at = clock_now_ms();
            snprintf(ch->g.modified_by, sizeof ch->g.modified_by, "%s", c->who.actor);
        }
        uint64_t seq;
        rc = store_next_seq(c->store, ch->txn, &seq);
        if (!rc)
            rc = store_group_put(c->store, ch->txn, &ch->g, create ? NULL : &ch->old, seq);
    }
    struct buf json = BUF_INIT, out = BUF_INIT;
    group_write_json(&ch->g, &json);
    if (!rc)
        rc = render_full(c, ch->txn, json.data, json.len, ch->g.id, &out);
    buf_free(&json);
    if (!rc)
        rc = store_write_commit(ch->txn);
    else
        store_write_abort(ch->txn);
    ch->txn = NULL;
    change_abort(ch);
    if (rc) {
        buf_free(&out);
        call_store_error(c, "writing a group", rc);
        return;
    }
    reply_buf(c, &out);
}

/* Reads the body as a group patch; false (with the reply made) on 400. */
static bool read_patch(struct call *c, struct problem *p, bool create, struct group_patch *patch)
{
    struct json_object *body = jsonin_parse(c->req->body.data, c->req->body.len, p);
    memset(patch, 0, sizeof *patch);
    if (body) {
        group_patch_parse(body, create, patch, p);
        struct json_object *parts;
        /* Participants arrive with the participants endpoints (issue 3);
         * until then a non-empty list is refused rather than dropped. */
        if (json_object_object_get_ex(body, "participants", &parts) && parts &&
            (!json_object_is_type(parts, json_type_array) || json_object_array_length(parts) > 0))
            problem_invalid(p, "participants", "are not supported by this version of groupd");
        json_object_put(body);
    }
    return !problem_any(p);
}

static void reply_and_free(struct call *c, struct problem *p)
{
    reply_problem(c->rep, p);
    problem_free(p);
}

static void uuid_v4(char out[37])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* ---- POST /group ---- */

void group_create(struct call *c)
{
    struct problem p;
    problem_init(&p);
    uint64_t org = 0;
    bool have_org = query_uint(&c->query, "organisation", UINT32_MAX, &org, &p);
    struct group_patch patch;
    read_patch(c, &p, true, &patch);
    if (!have_org && !problem_any(&p)) {
        if (c->who.n_orgs == 1)
            org = c->who.orgs[0];
        else
            problem_bad_query(&p, "organisation",
                              "is required: this key is not restricted to exactly one organisation");
    }
    if (problem_any(&p)) {
        group_patch_free(&patch);
        reply_and_free(c, &p);
        return;
    }
    problem_free(&p);
    if (!principal_covers(&c->who, (uint32_t)org)) {
        group_patch_free(&patch);
        reply_error(c->rep, 403, "forbidden", "organisation %llu is outside this key's scope",
                    (unsigned long long)org);
        return;
    }

    struct change ch;
    memset(&ch, 0, sizeof ch);
    int rc = store_write_begin(c->store, &ch.txn);
    if (rc) {
        group_patch_free(&patch);
        call_store_error(c, "write transaction", rc);
        return;
    }
    struct group *g = &ch.g;
    group_patch_apply(g, &patch);
    group_patch_free(&patch);
    g->organisation = (uint32_t)org;
    g->top_organisation = c->who.top_organisation;
    uuid_v4(g->key);
    snprintf(g->created_by, sizeof g->created_by, "%s", c->who.actor);
    g->created_at = clock_now_ms();
    rc = store_next_id(c->store, ch.txn, &g->id);
    if (rc) {
        change_abort(&ch);
        call_store_error(c, "allocating an id", rc);
        return;
    }
    change_commit(c, &ch, true);
}

/* ---- POST|PUT|PATCH /group/:id ---- */

void group_update(struct call *c)
{
    struct problem p;
    problem_init(&p);
    bool external = flag(c, "external", &p);
    const char *mode = query_get(&c->query, "participantUpdateType", &p);
    if (mode && strcmp(mode, "email") != 0 && strcmp(mode, "externalId") != 0)
        problem_bad_query(&p, "participantUpdateType", "must be email or externalId");
    struct group_patch patch;
    read_patch(c, &p, false, &patch);
    if (problem_any(&p)) {
        group_patch_free(&patch);
        reply_and_free(c, &p);
        return;
    }
    problem_free(&p);
    struct change ch;
    if (!change_begin(c, &ch, external, false)) {
        group_patch_free(&patch);
        return;
    }
    group_patch_apply(&ch.g, &patch);
    group_patch_free(&patch);
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
    if (find_failed(c, find_group(c, txn, &c->seg[1], external, &rec, &rc), rc)) {
        store_write_abort(txn);
        return;
    }
    struct group g;
    uint64_t seq;
    rc = store_group_load(&rec, &g);
    if (!rc) {
        rc = store_group_purge(c->store, txn, &g);
        group_free(&g);
    }
    if (!rc)
        rc = store_next_seq(c->store, txn, &seq);
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
    bool undo = flag(c, "undo", &p);
    bool external = flag(c, "external", &p);
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
    if (!change_begin(c, &ch, external, true))
        return;
    ch.g.deleted = !undo;
    change_commit(c, &ch, false);
}

/* ---- POST /group/:id/archive ---- */

void group_archive(struct call *c)
{
    struct problem p;
    problem_init(&p);
    bool undo = flag(c, "undo", &p);
    bool external = flag(c, "external", &p);
    if (problem_any(&p)) {
        reply_and_free(c, &p);
        return;
    }
    problem_free(&p);
    struct change ch;
    if (!change_begin(c, &ch, external, false))
        return;
    ch.g.archived = !undo;
    change_commit(c, &ch, false);
}
