/*
 * store_members.c — a group's participants, written with their indexes
 * (store_private.h "a group's participants"): the rules every
 * participant write follows, for the operations of store_ops_*.c.
 *
 * members_sync works in two passes so that a list may move a unique value
 * from one participant to another (two students swapping externalIds):
 * first every index entry that will change is removed, then the new ones
 * are added.  Only a value still held by a participant outside the list
 * collides.  Nothing here walks the group's participants unless `replace`
 * asks for it, so adding to a group of 10,000 costs what adding to a
 * group of 10 does.
 */
#include "store_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "email.h"

/* Which unique keys differ between two states of a participant. */
static unsigned changed_keys(const struct participant *a, const struct participant *b)
{
    unsigned keys = 0;
    if (!str_eq(a->external_id, b->external_id))
        keys |= PKEY_EXTID;
    if (strcmp(a->email, b->email) != 0) {
        struct buf ka = BUF_INIT, kb = BUF_INIT;
        email_key(a->email, strlen(a->email), &ka);
        email_key(b->email, strlen(b->email), &kb);
        if (ka.len != kb.len || memcmp(ka.data, kb.data, ka.len) != 0)
            keys |= PKEY_EMAIL;
        buf_free(&ka);
        buf_free(&kb);
    }
    return keys;
}

void store_result_conflict(struct store_result *r, size_t index, long line, enum pkey key,
                           uint64_t holder, unsigned holder_status)
{
    if (r->n_conflicts == r->cap_conflicts) {
        r->cap_conflicts = r->cap_conflicts ? 2 * r->cap_conflicts : 4;
        r->conflicts = realloc(r->conflicts, r->cap_conflicts * sizeof *r->conflicts);
        if (!r->conflicts)
            abort();
    }
    r->conflicts[r->n_conflicts++] =
        (struct store_conflict){index, line, key, holder, holder_status};
}

/* Notes that pt (list entry index, from CSV line) clashed on `clash`. */
static void conflict(const struct members *m, const struct participant *pt, enum pkey clash,
                     size_t index, long line)
{
    const char *v = clash == PKEY_EMAIL ? pt->email : pt->external_id;
    uint64_t holder = 0;
    store_participant_find(m->store, m->txn, pt->group, clash, v, strlen(v), &holder);
    store_result_conflict(m->result, index, line, clash, holder, 0);
}

int members_update(const struct members *m, const struct participant *old,
                   const struct participant *pt)
{
    unsigned keys = changed_keys(old, pt);
    enum pkey clash = 0;
    int rc = keys ? store_participant_index(m->store, m->txn, m->top, old, keys, false, NULL) : 0;
    if (!rc && keys)
        rc = store_participant_index(m->store, m->txn, m->top, pt, keys, true, &clash);
    if (rc == MDB_KEYEXIST)
        conflict(m, pt, clash, 0, 0);
    if (!rc)
        rc = store_participant_put(m->store, m->txn, pt);
    if (!rc)
        change_list_add(m->changes, CHANGE_PARTICIPANT_UPDATED, pt->id);
    return rc;
}

int members_remove(const struct members *m, const struct participant *pt)
{
    int rc =
        store_participant_index(m->store, m->txn, m->top, pt, PKEY_EMAIL | PKEY_EXTID, false, NULL);
    if (!rc)
        rc = store_participant_del(m->store, m->txn, pt->group, pt->id);
    if (!rc)
        change_list_add(m->changes, CHANGE_PARTICIPANT_REMOVED, pt->id);
    return rc;
}

/* ---- members_sync ---- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

struct unlisted {
    const uint64_t *listed; /* sorted */
    size_t n_listed;
    struct participant *v;
    size_t n, cap;
};

static int collect_unlisted(void *ctx, const struct participant *pt)
{
    struct unlisted *u = ctx;
    if (bsearch(&pt->id, u->listed, u->n_listed, sizeof *u->listed, cmp_u64))
        return 0;
    if (u->n == u->cap) {
        u->cap = u->cap ? 2 * u->cap : 16;
        u->v = realloc(u->v, u->cap * sizeof *u->v);
        if (!u->v)
            abort();
    }
    participant_copy(&u->v[u->n++], pt);
    return 0;
}

/* Removes every participant of gid whose id is not in listed. */
static int remove_unlisted(const struct members *m, uint64_t gid, const uint64_t *ids, size_t n,
                           size_t *removed)
{
    struct unlisted u = {NULL, 0, NULL, 0, 0};
    uint64_t *sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        abort();
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (ids[i])
            sorted[k++] = ids[i];
    qsort(sorted, k, sizeof *sorted, cmp_u64);
    u.listed = sorted;
    u.n_listed = k;
    int rc = store_participant_each(m->store, m->txn, gid, collect_unlisted, &u);
    for (size_t i = 0; i < u.n; i++) {
        if (!rc)
            rc = members_remove(m, &u.v[i]);
        participant_free(&u.v[i]);
    }
    if (!rc)
        *removed += u.n;
    free(u.v);
    free(sorted);
    return rc;
}

int members_sync(const struct members *m, uint64_t gid, const struct participant_patch *patches,
                 size_t n, enum pkey match, bool replace, struct store_counts *counts,
                 struct participant *out)
{
    uint64_t *ids = calloc(n ? n : 1, sizeof *ids);
    struct participant *old = calloc(n ? n : 1, sizeof *old), *now = calloc(n ? n : 1, sizeof *now);
    bool *dirty = calloc(n ? n : 1, sizeof *dirty);
    if (!ids || !old || !now || !dirty)
        abort();
    int rc = 0;
    size_t fresh = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const struct participant *v = &patches[i].v;
        const char *key = match == PKEY_EMAIL ? v->email : v->external_id;
        rc = store_participant_find(m->store, m->txn, gid, match, key, strlen(key), &ids[i]);
        if (rc == MDB_NOTFOUND) {
            ids[i] = 0;
            fresh++;
            rc = 0;
        }
    }
    if (!rc && replace)
        rc = remove_unlisted(m, gid, ids, n, &counts->removed);

    /* Pass 1: the matched ones; index entries that will change go first. */
    for (size_t i = 0; i < n && !rc; i++) {
        if (!ids[i])
            continue;
        rc = store_participant_get(m->store, m->txn, gid, ids[i], &old[i]);
        if (rc)
            break;
        participant_copy(&now[i], &old[i]);
        if (!participant_patch_apply(&now[i], &patches[i])) {
            counts->unchanged++;
            continue;
        }
        dirty[i] = true;
        now[i].updated_at = m->now;
        snprintf(now[i].modified_by, sizeof now[i].modified_by, "%s", m->actor);
        unsigned keys = changed_keys(&old[i], &now[i]);
        if (keys)
            rc = store_participant_index(m->store, m->txn, m->top, &old[i], keys, false, NULL);
    }
    uint64_t next = 0;
    if (!rc && fresh)
        rc = store_reserve_ids(m->store, m->txn, fresh, &next);

    /* Pass 2: new index entries and records. */
    bool clashed = false;
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned keys = PKEY_EMAIL | PKEY_EXTID;
        if (ids[i] && !dirty[i])
            continue;
        if (ids[i]) {
            keys = changed_keys(&old[i], &now[i]);
            counts->updated++;
        } else {
            struct participant *pt = &now[i];
            pt->id = next++;
            pt->group = gid;
            participant_patch_apply(pt, &patches[i]);
            snprintf(pt->created_by, sizeof pt->created_by, "%s", m->actor);
            pt->created_at = pt->updated_at = m->now;
            counts->created++;
        }
        enum pkey clash = 0;
        rc = keys ? store_participant_index(m->store, m->txn, m->top, &now[i], keys, true, &clash)
                  : 0;
        if (rc == MDB_KEYEXIST) {
            conflict(m, &now[i], clash, i, patches[i].line);
            clashed = true;
            rc = 0;
            continue;
        }
        if (!rc)
            rc = store_participant_put(m->store, m->txn, &now[i]);
        if (!rc)
            change_list_add(m->changes,
                            ids[i] ? CHANGE_PARTICIPANT_UPDATED : CHANGE_PARTICIPANT_ADDED,
                            now[i].id);
    }
    for (size_t i = 0; i < n; i++) {
        participant_free(&old[i]);
        if (out && !rc && !clashed)
            out[i] = now[i];
        else
            participant_free(&now[i]);
    }
    free(ids);
    free(old);
    free(now);
    free(dirty);
    return rc ? rc : clashed ? MDB_KEYEXIST : 0;
}
