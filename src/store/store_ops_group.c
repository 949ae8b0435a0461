/*
 * store_ops_group.c — the write operations on a group (include/store.h
 * "write operations"): create, edit, delete and undo, archive and undo,
 * purge, and an import's upsert.  Each is one change (store_change.c);
 * a body's participant list goes through store_members.c in the same
 * transaction.
 */
#include <string.h>

#include "store_private.h"

/* The body's participants into the change: a new group gets them, an
 * existing one has its set replaced by them. */
static int body_participants(struct group_change *ch, const struct store_group_body *b,
                             bool created)
{
    if (!b->has_participants)
        return 0;
    struct store_counts *n = &ch->r->counts;
    int rc = members_sync(&ch->m, ch->g.id, b->parts, b->n_parts, b->match, !created, n, NULL);
    if (!rc)
        ch->g.total_participants =
            ch->g.total_participants + (uint32_t)n->created - (uint32_t)n->removed;
    return rc;
}

enum store_status store_create_group(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                     uint32_t org, unsigned status,
                                     const struct store_group_body *b, struct store_result *r)
{
    struct group_change ch;
    if (change_start(&ch, s, txn, w, NULL, r))
        return r->status;
    group_init_new(&ch.g, b->patch, org, w->top, w->actor, w->now);
    ch.g.archived = status & GROUP_ARCHIVED;
    ch.g.deleted = status & GROUP_DELETED;
    int rc = store_next_id(s, txn, &ch.g.id);
    if (!rc)
        rc = body_participants(&ch, b, true);
    return rc ? change_fail(&ch, rc, "creating a group") : change_finish(&ch, true);
}

enum store_status store_edit_group(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                   const struct store_name *g, const struct store_group_body *b,
                                   struct store_result *r)
{
    struct group_change ch;
    if (change_start(&ch, s, txn, w, g, r))
        return r->status;
    group_patch_apply(&ch.g, b->patch);
    int rc = body_participants(&ch, b, false);
    return rc ? change_fail(&ch, rc, "writing participants") : change_finish(&ch, false);
}

enum store_status store_delete_group(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                     const struct store_name *g, bool deleted,
                                     struct store_result *r)
{
    struct store_name any = *g;
    any.statuses = GROUP_ACTIVE | GROUP_ARCHIVED | GROUP_DELETED;
    struct group_change ch;
    if (change_start(&ch, s, txn, w, &any, r))
        return r->status;
    ch.g.deleted = deleted;
    return change_finish(&ch, false);
}

enum store_status store_archive_group(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                      const struct store_name *g, bool archived,
                                      struct store_result *r)
{
    struct group_change ch;
    if (change_start(&ch, s, txn, w, g, r))
        return r->status;
    ch.g.archived = archived;
    return change_finish(&ch, false);
}

enum store_status store_purge_group(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                    const struct store_name *g, struct store_result *r)
{
    struct store_name any = *g;
    any.statuses = GROUP_ACTIVE | GROUP_ARCHIVED | GROUP_DELETED;
    struct group_record rec;
    int rc = change_find(s, txn, w, &any, &rec);
    if (rc == MDB_NOTFOUND)
        return r->status = STORE_NO_GROUP;
    struct group doomed;
    if (!rc)
        rc = store_group_load(&rec, &doomed);
    if (rc)
        return store_status_of(r, rc, "finding a group");
    rc = store_group_purge(s, txn, &doomed, w->now);
    if (!rc) {
        r->group = doomed;
        r->has_group = true;
        r->changed = true;
    } else {
        group_free(&doomed);
    }
    return store_status_of(r, rc, "purging a group");
}

enum store_status store_upsert_group(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                     const struct store_name *g, uint32_t org,
                                     const struct group_patch *patch, struct store_result *r)
{
    struct group_change ch;
    if (!g->id) {
        struct store_group_body b = {patch, false, NULL, 0, PKEY_EMAIL};
        enum store_status st = store_create_group(s, txn, w, org, 0, &b, r);
        r->counts.created = st == STORE_OK;
        return st;
    }
    /* A repeated nightly file changes little: decide that on the stored
     * form, and parse only the groups that change. */
    struct group_record rec;
    int rc = change_find(s, txn, w, g, &rec);
    if (!rc && !group_patch_changes_json(patch, rec.json, rec.json_len)) {
        r->counts.unchanged = 1;
        return r->status = STORE_OK;
    }
    if (rc)
        return rc == MDB_NOTFOUND ? (r->status = STORE_NO_GROUP)
                                  : store_status_of(r, rc, "finding a group");
    if (change_start(&ch, s, txn, w, g, r))
        return r->status;
    if (group_patch_apply(&ch.g, patch))
        r->counts.updated = 1;
    else
        r->counts.unchanged = 1;
    return change_finish(&ch, false);
}
