/*
 * store_ops_event.c — the write operations on a group's events
 * (include/store.h "write operations"): create, replace, remove.  Each is
 * one change to its group (store_change.c), noted in the feed.
 */
#include <string.h>

#include "store_private.h"

static void keep_event(struct store_result *r, struct event *ev)
{
    r->event = *ev;
    r->has_event = true;
    memset(ev, 0, sizeof *ev);
}

enum store_status store_create_event(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                     const struct store_name *g, const struct event *ev,
                                     struct store_result *r)
{
    struct group_change ch;
    if (change_start(&ch, s, txn, w, g, r))
        return r->status;
    struct event made;
    event_copy(&made, ev);
    made.group = ch.g.id;
    made.created_at = made.updated_at = w->now;
    int rc = store_next_id(s, txn, &made.id);
    if (!rc)
        rc = store_event_put(s, txn, &made);
    if (!rc)
        change_list_add(&ch.notes, CHANGE_EVENT_CREATED, made.id);
    enum store_status st =
        rc ? change_fail(&ch, rc, "writing an event") : change_finish(&ch, false);
    if (st == STORE_OK)
        keep_event(r, &made);
    else
        event_free(&made);
    return st;
}

/* Frees the change after a failed search for event eid. */
static enum store_status no_event(struct group_change *ch, int rc)
{
    if (rc != MDB_NOTFOUND)
        return change_fail(ch, rc, "finding an event");
    change_fail(ch, 0, NULL);
    return ch->r->status = STORE_NO_EVENT;
}

enum store_status store_replace_event(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                      const struct store_name *g, uint64_t eid,
                                      const struct event *ev, struct store_result *r)
{
    struct group_change ch;
    if (change_start(&ch, s, txn, w, g, r))
        return r->status;
    struct event old, now;
    int rc = eid ? store_event_get(s, txn, ch.g.id, eid, &old) : MDB_NOTFOUND;
    if (rc)
        return no_event(&ch, rc);
    event_copy(&now, ev);
    now.id = old.id;
    now.group = old.group;
    now.created_at = old.created_at;
    now.updated_at = old.updated_at;
    /* The same event again changes nothing: no write, no feed entry. */
    if (!event_equal(&now, &old)) {
        now.updated_at = w->now;
        rc = store_event_put(s, txn, &now);
        if (!rc)
            change_list_add(&ch.notes, CHANGE_EVENT_UPDATED, now.id);
    }
    event_free(&old);
    enum store_status st =
        rc ? change_fail(&ch, rc, "writing an event") : change_finish(&ch, false);
    if (st == STORE_OK)
        keep_event(r, &now);
    else
        event_free(&now);
    return st;
}

enum store_status store_remove_event(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                     const struct store_name *g, uint64_t eid,
                                     struct store_result *r)
{
    struct group_change ch;
    if (change_start(&ch, s, txn, w, g, r))
        return r->status;
    struct event old;
    int rc = eid ? store_event_get(s, txn, ch.g.id, eid, &old) : MDB_NOTFOUND;
    if (rc)
        return no_event(&ch, rc);
    rc = store_event_del(s, txn, old.group, old.id);
    if (!rc)
        change_list_add(&ch.notes, CHANGE_EVENT_REMOVED, old.id);
    enum store_status st =
        rc ? change_fail(&ch, rc, "removing an event") : change_finish(&ch, false);
    if (st == STORE_OK)
        keep_event(r, &old);
    else
        event_free(&old);
    return st;
}
