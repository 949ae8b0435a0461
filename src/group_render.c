/*
 * group_render.c — the full form of one group; see include/group_render.h.
 *
 * The one place that knows a group is served with its participants and
 * events: GET /group/:id, the answer of every group write and groupctl
 * export all come through here, so they cannot drift apart.
 */
#include "group_render.h"

static int add_participant(void *ctx, const struct participant *pt)
{
    struct buf *out = ctx;
    if (out->data[out->len - 1] != '[')
        buf_addc(out, ',');
    participant_write_json(pt, out);
    return 0;
}

static int add_event(void *ctx, const struct event *ev)
{
    struct buf *out = ctx;
    if (out->data[out->len - 1] != '[')
        buf_addc(out, ',');
    event_write_json(ev, out);
    return 0;
}

int group_render_full(struct store *s, MDB_txn *txn, const char *json, size_t len, uint64_t gid,
                      struct buf *out)
{
    buf_add(out, json, len - 1);
    buf_adds(out, ",\"participants\":[");
    int rc = store_participant_each(s, txn, gid, add_participant, out);
    buf_adds(out, "],\"events\":[");
    if (!rc)
        rc = store_event_each(s, txn, gid, add_event, out);
    buf_adds(out, "]}");
    return rc;
}
