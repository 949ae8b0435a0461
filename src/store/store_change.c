/*
 * store_change.c — what every write operation shares (store_private.h
 * "one group changed by one operation"): finding the group an operation
 * names for its writer, loading it with its state before, the import
 * lock, and recording the change through the one door (store_write.c),
 * with a taken externalId as a conflict.  Also the operations' result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_private.h"

void store_result_init(struct store_result *r)
{
    memset(r, 0, sizeof *r);
}

void store_result_free(struct store_result *r)
{
    free(r->conflicts);
    if (r->has_group)
        group_free(&r->group);
    if (r->has_participant)
        participant_free(&r->participant);
    if (r->has_event)
        event_free(&r->event);
    free(r->erased);
    memset(r, 0, sizeof *r);
}

enum store_status store_status_of(struct store_result *r, int rc, const char *what)
{
    r->rc = rc;
    if (!rc)
        r->status = STORE_OK;
    else if (rc == MDB_KEYEXIST && r->n_conflicts)
        r->status = STORE_CONFLICT;
    else if (store_full(rc))
        r->status = STORE_FULL;
    else
        r->status = STORE_FAILED;
    r->what = rc ? what : NULL;
    return r->status;
}

/* ---- finding a group for a writer ---- */

/* A group the writer may see: of its top and, for a restricted writer,
 * of one of its organisations (API.md §2). */
static bool visible(const struct store_writer *w, const struct group_record *rec)
{
    if (rec->top_organisation != w->top)
        return false;
    if (!w->n_orgs)
        return true;
    for (size_t i = 0; i < w->n_orgs; i++)
        if (w->orgs[i] == rec->organisation)
            return true;
    return false;
}

static int find_named(struct store *s, MDB_txn *txn, const struct store_writer *w,
                      const struct store_name *name, struct group_record *rec)
{
    if (name->id) {
        int rc = store_group_get(s, txn, name->id, rec);
        return rc == 0 && !visible(w, rec) ? MDB_NOTFOUND : rc;
    }
    bool digits = name->len > 0 && name->len <= 19;
    for (size_t i = 0; digits && i < name->len; i++)
        digits = name->text[i] >= '0' && name->text[i] <= '9';
    int rc;
    if (digits && !name->external) {
        char num[20];
        memcpy(num, name->text, name->len);
        num[name->len] = '\0';
        rc = store_group_get(s, txn, strtoull(num, NULL, 10), rec);
        if (rc == 0 && visible(w, rec))
            return 0;
        if (rc && rc != MDB_NOTFOUND)
            return rc;
    }
    uint64_t id;
    rc = store_group_by_extid(s, txn, w->top, name->text, name->len, &id);
    if (rc == 0)
        rc = store_group_get(s, txn, id, rec);
    return rc == 0 && !visible(w, rec) ? MDB_NOTFOUND : rc;
}

int change_find(struct store *s, MDB_txn *txn, const struct store_writer *w,
                const struct store_name *name, struct group_record *rec)
{
    int rc = find_named(s, txn, w, name, rec);
    unsigned statuses = name->statuses ? name->statuses : GROUP_ACTIVE | GROUP_ARCHIVED;
    if (rc == 0 && !(group_record_status(rec) & statuses))
        rc = MDB_NOTFOUND;
    return rc;
}

enum store_status store_find_group(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                   const struct store_name *g, struct group_record *rec, int *rc)
{
    *rc = change_find(s, txn, w, g, rec);
    if (*rc == MDB_NOTFOUND)
        return STORE_NO_GROUP;
    return *rc ? STORE_FAILED : STORE_OK;
}

/* ---- a change to one group ---- */

static void change_free(struct group_change *ch)
{
    group_free(&ch->g);
    group_free(&ch->old);
    change_list_free(&ch->notes);
}

/* STORE_LOCKED, with the group as it was for the caller to name. */
static enum store_status refuse_locked(struct group_change *ch)
{
    ch->r->group = ch->old;
    ch->r->has_group = true;
    memset(&ch->old, 0, sizeof ch->old);
    change_free(ch);
    return ch->r->status = STORE_LOCKED;
}

enum store_status change_start(struct group_change *ch, struct store *s, MDB_txn *txn,
                               const struct store_writer *w, const struct store_name *name,
                               struct store_result *r)
{
    memset(ch, 0, sizeof *ch);
    ch->s = s;
    ch->txn = txn;
    ch->w = w;
    ch->r = r;
    ch->m = (struct members){s, txn, w->top, w->actor, w->now, &ch->notes, r};
    /* A tenant frozen for a move takes no write, even one validated
     * before the cut (store_tenant_freeze), and a copy still arriving
     * takes none (from groupctl) either. */
    bool frozen, arriving = false;
    int rc = store_tenant_frozen(s, txn, w->top, &frozen);
    if (!rc && !frozen)
        rc = store_tenant_arriving(s, txn, w->top, &arriving);
    frozen = frozen || arriving;
    if (rc)
        return store_status_of(r, rc, "reading the tenant's freeze");
    if (frozen)
        return r->status = STORE_FROZEN;
    if (!name)
        return r->status = STORE_OK;
    struct group_record rec;
    rc = change_find(s, txn, w, name, &rec);
    if (rc == MDB_NOTFOUND)
        return r->status = STORE_NO_GROUP;
    if (!rc)
        rc = store_group_load(&rec, &ch->g);
    if (rc)
        return store_status_of(r, rc, "loading a group");
    group_copy(&ch->old, &ch->g);
    if (!w->lock_on_write && ch->old.import_lock && !w->admin)
        return refuse_locked(ch);
    return r->status = STORE_OK;
}

enum store_status change_fail(struct group_change *ch, int rc, const char *what)
{
    change_free(ch);
    return store_status_of(ch->r, rc, what);
}

/* The group's own change, as the feed names it (0: only its participants
 * or events changed, or nothing). */
static enum change_type own_change(const struct group_change *ch, bool created)
{
    if (created)
        return CHANGE_GROUP_CREATED;
    if (ch->g.deleted != ch->old.deleted)
        return ch->g.deleted ? CHANGE_GROUP_DELETED : CHANGE_GROUP_RESTORED;
    if (ch->g.archived != ch->old.archived)
        return ch->g.archived ? CHANGE_GROUP_ARCHIVED : CHANGE_GROUP_UNARCHIVED;
    struct group a = ch->g;
    a.total_participants = ch->old.total_participants;
    return group_equal(&a, &ch->old) ? 0 : CHANGE_GROUP_UPDATED;
}

/* MDB_KEYEXIST with a conflict when g's externalId is held by another
 * group of its top. */
static int extid_taken(struct group_change *ch)
{
    const struct group *g = &ch->g;
    if (!g->external_id)
        return 0;
    uint64_t holder;
    int rc = store_group_by_extid(ch->s, ch->txn, g->top_organisation, g->external_id,
                                  strlen(g->external_id), &holder);
    if (rc == MDB_NOTFOUND || (!rc && holder == g->id))
        return 0;
    if (rc)
        return rc;
    struct group_record rec;
    unsigned status = GROUP_ACTIVE;
    if (store_group_get(ch->s, ch->txn, holder, &rec) == 0)
        status = group_record_status(&rec);
    store_result_conflict(ch->r, 0, 0, 0, holder, status);
    return MDB_KEYEXIST;
}

enum store_status change_finish(struct group_change *ch, bool created)
{
    enum change_type what = own_change(ch, created);
    int rc = 0;
    if ((what || ch->notes.n) && ch->w->lock_on_write && ch->old.import_lock && !ch->w->admin)
        return refuse_locked(ch);
    if (what || ch->notes.n) {
        if (what)
            rc = extid_taken(ch);
        if (!rc && created) {
            ch->g.updated_at = ch->g.created_at;
        } else if (!rc && what) {
            ch->g.updated_at = ch->w->now;
            snprintf(ch->g.modified_by, sizeof ch->g.modified_by, "%s", ch->w->actor);
        }
        if (!rc)
            rc = store_group_write(ch->s, ch->txn, &ch->g, created ? NULL : &ch->old, what,
                                   &ch->notes, ch->w->now);
        ch->r->changed = !rc;
    }
    if (rc)
        return change_fail(ch, rc, "writing a group");
    ch->r->group = ch->g;
    ch->r->has_group = true;
    memset(&ch->g, 0, sizeof ch->g);
    change_free(ch);
    return ch->r->status = STORE_OK;
}
