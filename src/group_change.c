/*
 * group_change.c — what every handler on one group shares: finding the
 * group a path names for the caller, and the write transaction around a
 * change to it.  See include/handlers.h.
 *
 * Every change goes the same way: validate the query and body (400,
 * collecting every problem), open one write transaction, find the group
 * for the caller (404 outside its scope), check the import lock
 * (423), check unique values (409), write, render the reply inside the
 * transaction, commit.  The write itself, with its feed entries and new
 * rev, is one call to the store's door (store_group_write), made by
 * change_save.  A change that changes nothing writes nothing.
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

/* A group the caller may see: of its topOrganisation and, for a
 * restricted key, of one of its organisations.  Any other group does not
 * exist for the caller (API.md §2). */
static bool visible(const struct call *c, const struct group_record *rec)
{
    return rec->top_organisation == c->who.top_organisation &&
           principal_covers(&c->who, rec->organisation);
}

/* 0 with rec, MDB_NOTFOUND, or a store error. */
static int find_group(struct call *c, MDB_txn *txn, const struct buf *seg, bool external,
                      struct group_record *rec)
{
    bool digits = seg->len > 0 && seg->len <= 19;
    for (size_t i = 0; digits && i < seg->len; i++)
        digits = seg->data[i] >= '0' && seg->data[i] <= '9';
    int rc;
    if (digits && !external) {
        rc = store_group_get(c->store, txn, strtoull(seg->data, NULL, 10), rec);
        if (rc == 0 && visible(c, rec))
            return 0;
        if (rc && rc != MDB_NOTFOUND)
            return rc;
    }
    uint64_t id;
    rc = store_group_by_extid(c->store, txn, c->who.top_organisation, seg->data, seg->len, &id);
    if (rc == 0)
        rc = store_group_get(c->store, txn, id, rec);
    return rc == 0 && !visible(c, rec) ? MDB_NOTFOUND : rc;
}

bool group_find(struct call *c, MDB_txn *txn, const struct buf *seg, bool external,
                unsigned statuses, struct group_record *rec)
{
    int rc = find_group(c, txn, seg, external, rec);
    if (rc == 0 && !(group_record_status(rec) & statuses))
        rc = MDB_NOTFOUND;
    if (rc == MDB_NOTFOUND)
        reply_error(c->rep, 404, "not_found", "no such group");
    else if (rc)
        call_store_error(c, "finding a group", rc);
    return rc == 0;
}

/* ---- replying ---- */

void reply_buf(struct call *c, struct buf *b)
{
    reply_take(c->rep, b);
}

/* ---- changing a group ---- */

void change_abort(struct change *ch)
{
    if (ch->txn)
        store_write_abort(ch->txn);
    ch->txn = NULL;
    group_free(&ch->g);
    group_free(&ch->old);
    change_list_free(&ch->changes);
}

bool change_open(struct call *c, struct change *ch)
{
    memset(ch, 0, sizeof *ch);
    int rc = store_write_begin(c->store, &ch->txn);
    if (rc) {
        ch->txn = NULL;
        call_store_error(c, "write transaction", rc);
        return false;
    }
    ch->pw.store = c->store;
    ch->pw.txn = ch->txn;
    ch->pw.top = c->who.top_organisation;
    ch->pw.actor = c->who.actor;
    ch->pw.now = clock_now_ms();
    ch->pw.changes = &ch->changes;
    return true;
}

bool change_begin(struct call *c, struct change *ch, const struct buf *seg, bool external,
                  bool allow_deleted)
{
    if (!change_open(c, ch))
        return false;
    struct group_record rec;
    unsigned statuses = GROUP_ACTIVE | GROUP_ARCHIVED | (allow_deleted ? GROUP_DELETED : 0);
    if (!group_find(c, ch->txn, seg, external, statuses, &rec)) {
        change_abort(ch);
        return false;
    }
    int rc = store_group_load(&rec, &ch->g);
    if (rc) {
        call_store_error(c, "loading a group", rc);
        change_abort(ch);
        return false;
    }
    group_copy(&ch->old, &ch->g);
    if (ch->g.import_lock && c->who.role < ROLE_ADMIN) {
        reply_error(c->rep, 423, "locked",
                    "the group is import-locked; only an admin key may change it");
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

/* The group's own change, as the feed names it (0: only its participants
 * or events changed, or nothing). */
static enum change_type own_change(const struct change *ch, bool create)
{
    if (create)
        return CHANGE_GROUP_CREATED;
    if (ch->g.deleted != ch->old.deleted)
        return ch->g.deleted ? CHANGE_GROUP_DELETED : CHANGE_GROUP_RESTORED;
    if (ch->g.archived != ch->old.archived)
        return ch->g.archived ? CHANGE_GROUP_ARCHIVED : CHANGE_GROUP_UNARCHIVED;
    struct group a = ch->g;
    a.total_participants = ch->old.total_participants;
    return group_equal(&a, &ch->old) ? 0 : CHANGE_GROUP_UPDATED;
}

bool change_save(struct call *c, struct change *ch, bool create)
{
    enum change_type what = own_change(ch, create);
    if (!what && !ch->changes.n)
        return true;
    if (what && extid_conflict(c, ch->txn, &ch->g)) {
        change_abort(ch);
        return false;
    }
    if (create) {
        ch->g.updated_at = ch->g.created_at;
    } else if (what) {
        ch->g.updated_at = ch->pw.now;
        snprintf(ch->g.modified_by, sizeof ch->g.modified_by, "%s", c->who.actor);
    }
    int rc = store_group_write(c->store, ch->txn, &ch->g, create ? NULL : &ch->old, what,
                               &ch->changes, ch->pw.now);
    if (rc) {
        change_abort(ch);
        call_store_error(c, "writing a group", rc);
        return false;
    }
    return true;
}

bool change_end(struct call *c, struct change *ch)
{
    int rc = store_write_commit(ch->txn);
    ch->txn = NULL;
    change_abort(ch);
    if (rc)
        call_store_error(c, "committing", rc);
    return rc == 0;
}

void change_finish(struct call *c, struct change *ch, struct buf *out)
{
    if (change_end(c, ch))
        reply_buf(c, out);
    else
        buf_free(out);
}

void change_commit(struct call *c, struct change *ch, bool create)
{
    if (!change_save(c, ch, create))
        return;
    struct buf json = BUF_INIT, out = BUF_INIT;
    group_write_json(&ch->g, &json);
    int rc = group_render_full(c->store, ch->txn, json.data, json.len, ch->g.id, &out);
    buf_free(&json);
    if (rc) {
        buf_free(&out);
        change_abort(ch);
        call_store_error(c, "reading participants", rc);
        return;
    }
    change_finish(c, ch, &out);
}

bool change_members_failed(struct call *c, struct change *ch, int rc, struct problem *p)
{
    if (!rc)
        return false;
    change_abort(ch);
    if (rc == MDB_KEYEXIST)
        reply_problem(c->rep, p);
    else
        call_store_error(c, "writing participants", rc);
    return true;
}
