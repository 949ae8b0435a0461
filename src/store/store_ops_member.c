/*
 * store_ops_member.c — the write operations on participants (include/
 * store.h "write operations"): add (an upsert), edit, remove, an
 * import's whole list for a group, and erasing a person from every group.
 * The index rules are store_members.c's; each operation is one change to
 * its group (store_change.c), which records the notes and the new
 * totalParticipants.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_private.h"

static void keep_participant(struct store_result *r, struct participant *pt)
{
    r->participant = *pt;
    r->has_participant = true;
    memset(pt, 0, sizeof *pt);
}

enum store_status store_add_participant(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                        const struct store_name *g,
                                        const struct participant_patch *patch, enum pkey match,
                                        struct store_result *r)
{
    struct group_change ch;
    if (change_start(&ch, s, txn, w, g, r))
        return r->status;
    struct participant after;
    int rc = members_sync(&ch.m, ch.g.id, patch, 1, match, false, &r->counts, &after);
    if (rc)
        return change_fail(&ch, rc, "writing a participant");
    ch.g.total_participants += (uint32_t)r->counts.created;
    enum store_status st = change_finish(&ch, false);
    if (st == STORE_OK)
        keep_participant(r, &after);
    else
        participant_free(&after);
    return st;
}

/* The participant p names in group gid (MDB_NOTFOUND: none). */
static int find_participant(struct store *s, MDB_txn *txn, uint64_t gid,
                            const struct store_participant_name *p, struct participant *out)
{
    uint64_t pid = p->id;
    int rc = 0;
    switch (p->by) {
    case PICK_ID: break;
    case PICK_EMAIL:
    case PICK_EXTID:
        rc = store_participant_find(s, txn, gid, p->by == PICK_EMAIL ? PKEY_EMAIL : PKEY_EXTID,
                                    p->text, p->len, &pid);
        break;
    case PICK_SEGMENT: {
        if (memchr(p->text, '@', p->len)) {
            rc = store_participant_find(s, txn, gid, PKEY_EMAIL, p->text, p->len, &pid);
            break;
        }
        bool digits = p->len > 0 && p->len <= 19;
        for (size_t i = 0; digits && i < p->len; i++)
            digits = p->text[i] >= '0' && p->text[i] <= '9';
        if (digits) {
            char num[20];
            memcpy(num, p->text, p->len);
            num[p->len] = '\0';
            rc = store_participant_get(s, txn, gid, strtoull(num, NULL, 10), out);
            if (rc != MDB_NOTFOUND)
                return rc;
        }
        rc = store_participant_find(s, txn, gid, PKEY_EXTID, p->text, p->len, &pid);
        break;
    }
    }
    return rc ? rc : store_participant_get(s, txn, gid, pid, out);
}

/* Frees the change after a failed search for a participant. */
static enum store_status not_found(struct group_change *ch, int rc)
{
    if (rc != MDB_NOTFOUND)
        return change_fail(ch, rc, "finding a participant");
    change_fail(ch, 0, NULL);
    return ch->r->status = STORE_NO_PARTICIPANT;
}

enum store_status store_edit_participant(struct store *s, MDB_txn *txn,
                                         const struct store_writer *w, const struct store_name *g,
                                         const struct store_participant_name *p,
                                         const struct participant_patch *patch,
                                         struct store_result *r)
{
    struct group_change ch;
    if (change_start(&ch, s, txn, w, g, r))
        return r->status;
    struct participant old, pt;
    int rc = find_participant(s, txn, ch.g.id, p, &old);
    if (rc)
        return not_found(&ch, rc);
    participant_copy(&pt, &old);
    if (participant_patch_apply(&pt, patch)) {
        pt.updated_at = w->now;
        snprintf(pt.modified_by, sizeof pt.modified_by, "%s", w->actor);
        rc = members_update(&ch.m, &old, &pt);
        r->counts.updated = 1;
    } else {
        r->counts.unchanged = 1;
    }
    participant_free(&old);
    enum store_status st =
        rc ? change_fail(&ch, rc, "writing a participant") : change_finish(&ch, false);
    if (st == STORE_OK)
        keep_participant(r, &pt);
    else
        participant_free(&pt);
    return st;
}

enum store_status store_remove_participant(struct store *s, MDB_txn *txn,
                                           const struct store_writer *w, const struct store_name *g,
                                           const struct store_participant_name *p,
                                           struct store_result *r)
{
    struct group_change ch;
    if (change_start(&ch, s, txn, w, g, r))
        return r->status;
    struct participant pt;
    int rc = find_participant(s, txn, ch.g.id, p, &pt);
    if (rc)
        return not_found(&ch, rc);
    rc = members_remove(&ch.m, &pt);
    if (rc) {
        participant_free(&pt);
        return change_fail(&ch, rc, "removing a participant");
    }
    ch.g.total_participants--;
    r->counts.removed = 1;
    enum store_status st = change_finish(&ch, false);
    if (st == STORE_OK)
        keep_participant(r, &pt);
    else
        participant_free(&pt);
    return st;
}

enum store_status store_sync_participants(struct store *s, MDB_txn *txn,
                                          const struct store_writer *w, const struct store_name *g,
                                          const struct participant_patch *parts, size_t n,
                                          enum pkey match, bool replace, struct store_result *r)
{
    /* The lock is checked only when something would change: a nightly
     * file that repeats itself passes a locked group. */
    struct group_change ch;
    if (change_start(&ch, s, txn, w, g, r))
        return r->status;
    struct store_counts *c = &r->counts;
    int rc = members_sync(&ch.m, ch.g.id, parts, n, match, replace, c, NULL);
    if (rc)
        return change_fail(&ch, rc, "writing participants");
    ch.g.total_participants = ch.g.total_participants + (uint32_t)c->created - (uint32_t)c->removed;
    return change_finish(&ch, false);
}

/* ---- erasing a person ---- */

struct gids {
    uint64_t *v;
    size_t n, cap;
};

static int collect_gid(void *ctx, uint64_t gid)
{
    struct gids *e = ctx;
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 8;
        e->v = realloc(e->v, e->cap * sizeof *e->v);
        if (!e->v)
            abort();
    }
    e->v[e->n++] = gid;
    return 0;
}

/* Removes the participant with this e-mail from group gid when the
 * writer may see the group, whatever its status or lock. */
static enum store_status erase_from(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                    uint64_t gid, const char *email, size_t len,
                                    struct store_result *r)
{
    struct store_result one;
    store_result_init(&one);
    struct store_name g = {gid, NULL, 0, false, GROUP_ACTIVE | GROUP_ARCHIVED | GROUP_DELETED};
    struct store_participant_name p = {PICK_EMAIL, 0, email, len};
    struct store_writer any = *w;
    any.admin = true;
    enum store_status st = store_remove_participant(s, txn, &any, &g, &p, &one);
    if (st == STORE_OK) {
        r->erased = realloc(r->erased, (r->n_erased + 1) * sizeof *r->erased);
        if (!r->erased)
            abort();
        r->erased[r->n_erased++] = (struct store_erased){one.participant.id, gid};
        r->counts.removed++;
        r->changed = true;
    } else if (st == STORE_NO_GROUP || st == STORE_NO_PARTICIPANT) {
        st = STORE_OK;
    } else {
        r->rc = one.rc;
        r->what = one.what;
    }
    store_result_free(&one);
    return r->status = st;
}

enum store_status store_erase_person(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                     const char *email, size_t len, struct store_result *r)
{
    struct gids e = {NULL, 0, 0};
    int rc = store_email_groups(s, txn, w->top, email, len, collect_gid, &e);
    enum store_status st = rc ? store_status_of(r, rc, "finding a person") : STORE_OK;
    for (size_t i = 0; i < e.n && st == STORE_OK; i++)
        st = erase_from(s, txn, w, e.v[i], email, len, r);
    free(e.v);
    return r->status = st;
}
