/*
 * store_write.c — the one door for writes; see include/store.h.
 *
 * Every change to a group, its participants or its events ends here, in
 * the transaction that made it: the change sequence numbers are taken,
 * one feed entry is appended per change, the group record gets the last
 * seq as its rev (the group's ETag) and the group's indexes and the
 * tenant's list revision (the list ETag) follow.  So a feed entry exists
 * exactly when its change was committed, and a writer cannot bump an ETag
 * without the feed knowing, or the other way round.
 */
#include <stdlib.h>
#include <string.h>

#include "store_private.h"

/* Entries pruned per write beyond twice the entries it adds: the feed
 * shrinks faster than any mix of writes can grow it. */
#define PRUNE_EXTRA 16

void change_list_add(struct change_list *l, enum change_type type, uint64_t id)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 8;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        if (!l->v)
            abort();
    }
    l->v[l->n++] = (struct change_note){(uint8_t)type, id};
}

void change_list_free(struct change_list *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Takes the seqs and appends the feed record of one write; *last is the
 * last seq (0 when there was nothing to record). */
static int record(struct store *s, MDB_txn *txn, const struct group *g, enum change_type what,
                  const struct change_list *also, int64_t now, uint64_t *last)
{
    size_t n = (what ? 1 : 0) + (also ? also->n : 0);
    *last = 0;
    if (!n)
        return 0;
    uint64_t first;
    int rc = store_reserve_seqs(s, txn, g->top_organisation, n, &first);
    if (!rc)
        rc = store_feed_append(s, txn, g, first, now, what, also);
    if (rc)
        return rc;
    *last = first + n - 1;
    if (s->pruned_txn == mdb_txn_id(txn) && s->pruned_top == g->top_organisation)
        return 0;
    return store_feed_prune(s, txn, g->top_organisation, now, 2 * n + PRUNE_EXTRA);
}

int store_group_write(struct store *s, MDB_txn *txn, const struct group *g, const struct group *old,
                      enum change_type what, const struct change_list *also, int64_t now)
{
    uint64_t rev;
    int rc = record(s, txn, g, what, also, now, &rev);
    if (rc || !rev)
        return rc;
    rc = store_group_put(s, txn, g, old, rev);
    return rc ? rc : group_index(s, txn, old, g, rev);
}

int store_group_purge(struct store *s, MDB_txn *txn, const struct group *g, int64_t now)
{
    uint64_t rev;
    int rc = record(s, txn, g, CHANGE_GROUP_PURGED, NULL, now, &rev);
    if (!rc)
        rc = group_index(s, txn, g, NULL, rev);
    if (!rc)
        rc = store_participant_purge_group(s, txn, g->top_organisation, g->id);
    if (!rc)
        rc = store_event_purge_group(s, txn, g->id);
    return rc ? rc : store_group_del(s, txn, g);
}
