/*
 * store_tenant_send.c — one tenant written as a stream while it is in use
 * (include/store.h "moving a tenant"; the format is lmdb-schema/tenant-
 * stream.md).
 *
 * The stream is a series of parts, each from a read transaction of its
 * own and ended by a caught-up frame: the tenant's counters, its feed
 * records since the last part, every group already sent that those
 * records name (first as gone, then as it is now, if it still is), and
 * then, while the snapshot lasts, the next groups in id order, up to
 * about PART_BYTES.  So each part brings the copy to the tenant as it was
 * at that part's seq, for every group up to the part's last id, and no
 * read transaction is held long (a long one would keep the pages of the
 * writes meanwhile from being reused: the file would grow).  Once every
 * group is sent, parts go on while there are changes; one that re-sent at
 * most FEW_CHANGES groups is the last before the cut: the tenant is frozen
 * on this database (store_tenant_cut), and one last part, with the
 * tenant's keys, ends the stream.  The tenant's writes wait only for that
 * last part; when it cannot be sent within STORE_TENANT_CUT_MAX_MS of the
 * cut, the freeze is lifted and no end is written, so the receiver keeps
 * nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "idset.h"
#include "store_private.h"
#include "tenant_stream.h"

/* A part of the snapshot holds about this many bytes of new groups. */
#define PART_BYTES ((uint64_t)16 << 10)
/* At most this many catch-up rounds after the snapshot; a round that
 * finds no more than FEW_CHANGES changed groups is the last before the
 * cut. */
#define MAX_ROUNDS 16
#define FEW_CHANGES 256

struct sender {
    struct store *s;
    MDB_txn *txn;
    uint32_t top;
    FILE *out;
    uint64_t frames, hash; /* frames written, FNV-1a of every byte written */
    bool failed;
    enum tenant_frame owned; /* what send_owned sends: F_PARTICIPANT or F_EVENT */
    struct store_tenant_counts *n;
    struct idset changed; /* the groups to send again */
    uint64_t sent_up_to;  /* the snapshot sent every group of the tenant up to this id */
    uint64_t bytes;       /* bytes written */
    uint64_t part_end;    /* the snapshot's current part ends after this many bytes */
    uint64_t feed_after;  /* the first seq of the last feed record sent */
    bool feed_done;       /* the snapshot's feed is sent: groups come next */
    bool snapshot_done;
};

static void put_bytes(struct sender *x, const void *p, size_t n)
{
    x->hash = fnv1a(x->hash, p, n);
    x->bytes += n;
    if (!x->failed && n && fwrite(p, 1, n, x->out) != n)
        x->failed = true;
}

static void frame(struct sender *x, enum tenant_frame type, const void *a, size_t na, const void *b,
                  size_t nb)
{
    unsigned char head[5] = {(unsigned char)type};
    be32_put(head + 1, (uint32_t)(na + nb));
    put_bytes(x, head, sizeof head);
    put_bytes(x, a, na);
    put_bytes(x, b, nb);
    x->frames++;
}

static void frame_u64(struct sender *x, enum tenant_frame type, uint64_t v)
{
    unsigned char b[8];
    be64_put(b, v);
    frame(x, type, b, sizeof b, NULL, 0);
}

static int send_owned(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct sender *x = ctx;
    /* The key is group id + object id: the frame's first 16 bytes. */
    frame(x, x->owned, key->mv_data, key->mv_size, val->mv_data, val->mv_size);
    if (x->owned == F_EVENT)
        x->n->events++;
    else
        x->n->participants++;
    return x->failed ? EIO : 0;
}

/* Group id with its participants and events, when it is of the tenant. */
static int send_group_id(struct sender *x, uint64_t id)
{
    unsigned char k[8];
    be64_put(k, id);
    MDB_val key = {8, k}, val;
    int rc = mdb_get(x->txn, x->s->groups, &key, &val);
    if (rc)
        return rc == MDB_NOTFOUND ? 0 : rc; /* purged since its feed entry */
    struct group_record r;
    if (store_group_decode(&val, &r) != 0)
        return MDB_CORRUPTED;
    if (r.top_organisation != x->top)
        return 0;
    frame(x, F_GROUP, val.mv_data, val.mv_size, NULL, 0);
    x->n->groups++;
    x->owned = F_PARTICIPANT;
    rc = store_owned_each(x->txn, x->s->participants, id, send_owned, x);
    x->owned = F_EVENT;
    if (!rc)
        rc = store_owned_each(x->txn, x->s->events, id, send_owned, x);
    return rc ? rc : x->failed ? EIO : 0;
}

/* The snapshot's next group, until its part is full (then 1 stops the
 * walk). */
static int send_new_group(void *ctx, const struct group_record *r)
{
    struct sender *x = ctx;
    if (x->bytes >= x->part_end)
        return 1;
    x->sent_up_to = r->id;
    return r->top_organisation == x->top ? send_group_id(x, r->id) : 0;
}

static int send_key(void *ctx, const struct apikey_record *k)
{
    struct sender *x = ctx;
    if (k->top_organisation != x->top)
        return 0;
    unsigned char id[8];
    be64_put(id, k->id);
    MDB_val val;
    int rc = store_key_stored(x->s, x->txn, k->id, &val);
    if (rc)
        return rc;
    frame(x, F_KEY, id, 8, val.mv_data, val.mv_size);
    x->n->keys++;
    return x->failed ? EIO : 0;
}

/* The tenant's feed records not sent yet, noting the group of each that
 * was sent already; while the snapshot's feed is not whole, only until
 * the part is full. */
static int send_feed(struct sender *x)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(x->txn, x->s->changes, &cur);
    if (rc)
        return rc;
    unsigned char from[STORE_FEED_KEY_LEN];
    store_feed_key(x->top, x->feed_after + 1, from);
    MDB_val key = {sizeof from, from}, val;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0 && !x->failed;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        struct feed_record r;
        if (key.mv_size != STORE_FEED_KEY_LEN || be32_get(key.mv_data) != x->top)
            break;
        if (!x->feed_done && x->bytes >= x->part_end) {
            mdb_cursor_close(cur);
            return x->failed ? EIO : 0;
        }
        if (store_feed_open(&key, &val, &r) != 0) {
            rc = MDB_CORRUPTED;
            break;
        }
        frame(x, F_FEED, key.mv_data, key.mv_size, val.mv_data, val.mv_size);
        x->n->feed_records++;
        x->feed_after = r.first;
        if (r.group <= x->sent_up_to)
            idset_push(&x->changed, r.group);
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND || rc == 0)
        x->feed_done = true;
    return rc == MDB_NOTFOUND || rc == 0 ? (x->failed ? EIO : 0) : rc;
}

/* The counters, first: every feed record and rev sent after them is
 * within them. *seq is the tenant's last seq in this transaction. */
static int send_counters(struct sender *x, uint64_t *seq, uint64_t *pruned)
{
    uint64_t rev = 0;
    int rc = store_last_seq(x->s, x->txn, x->top, seq);
    if (!rc)
        rc = store_top_rev(x->s, x->txn, x->top, &rev);
    if (!rc)
        rc = store_feed_pruned(x->s, x->txn, x->top, pruned);
    const uint64_t v[] = {0, *seq, rev, *pruned};
    for (int which = C_CHANGE_SEQ; which <= C_FEED_PRUNED && !rc; which++) {
        unsigned char b[9] = {(unsigned char)which};
        be64_put(b + 1, v[which]);
        frame(x, F_COUNTER, b, sizeof b, NULL, 0);
    }
    return rc;
}

/* One part from one read transaction: the counters and the feed records
 * not sent yet (`after` is the seq of the part before).  While the
 * snapshot lasts, then the next groups in id order; the groups sent
 * before that the feed names since are only noted (a busy group would
 * otherwise come again in every part).  Once every group is sent, the
 * noted groups instead: each first as gone, then as it is now.  The keys
 * too when asked.  *seq is the tenant's seq in this part, *changed how
 * many groups it sent again. */
static int send_part(struct sender *x, uint64_t after, bool keys, uint64_t *seq, size_t *changed)
{
    int rc = store_read_begin(x->s, &x->txn);
    if (rc)
        return rc;
    uint64_t pruned = 0;
    *changed = 0;
    x->part_end = x->bytes + PART_BYTES;
    rc = send_counters(x, seq, &pruned);
    if (!rc && after && pruned > after) {
        snprintf(x->s->errmsg, sizeof x->s->errmsg,
                 "the feed of topOrganisation %u was pruned past the copy while it was sent "
                 "(--changes-retain): send it again",
                 x->top);
        rc = MDB_NOTFOUND;
    }
    if (!rc)
        rc = send_feed(x);
    idset_sort_unique(&x->changed);
    if (!rc && x->feed_done && !x->snapshot_done) {
        x->part_end = x->bytes + PART_BYTES;
        rc = store_group_each_after(x->s, x->txn, x->sent_up_to, send_new_group, x);
        if (rc == 1)
            rc = 0;
        else if (!rc) {
            /* Every group is sent: from now on, every group the feed
             * names is one to send again, new ones too. */
            x->snapshot_done = true;
            x->sent_up_to = UINT64_MAX;
        }
    } else if (!rc && x->snapshot_done && x->changed.n) {
        /* Every changed group goes first, then each comes as it is: an
         * externalId one of them gave up may be another's now. */
        for (size_t i = 0; i < x->changed.n; i++)
            frame_u64(x, F_GONE, x->changed.v[i]);
        for (size_t i = 0; i < x->changed.n && !rc; i++)
            rc = send_group_id(x, x->changed.v[i]);
        *changed = x->changed.n;
        x->changed.n = 0;
    }
    if (!rc && keys)
        rc = store_key_each(x->s, x->txn, send_key, x);
    store_read_end(x->s);
    return rc ? rc : x->failed ? EIO : 0;
}

static int send_tenant(struct store *s, struct sender *x, struct store_tenant_counts *n)
{
    MDB_txn *txn;
    bool held;
    int rc = store_read_begin(s, &txn);
    if (rc)
        return rc;
    rc = store_tenant_held(s, txn, x->top, &held);
    store_read_end(s);
    if (!rc && !held)
        rc = MDB_NOTFOUND;
    if (rc)
        return rc;
    unsigned char head[TENANT_HEADER_LEN];
    memcpy(head, TENANT_MAGIC, TENANT_MAGIC_LEN);
    be32_put(head + TENANT_MAGIC_LEN, STORE_TENANT_STREAM_VERSION);
    be32_put(head + TENANT_MAGIC_LEN + 4, x->top);
    be32_put(head + TENANT_MAGIC_LEN + 8, s->shard);
    put_bytes(x, head, sizeof head);

    /* The snapshot in parts, then rounds while the tenant keeps changing. */
    uint64_t seq = 0;
    size_t changed = 0;
    while (!rc && !x->snapshot_done) {
        rc = send_part(x, seq, false, &seq, &changed);
        if (!rc)
            frame_u64(x, F_CAUGHT_UP, seq);
    }
    for (unsigned round = 0; !rc && round < MAX_ROUNDS; round++) {
        uint64_t now = 0;
        rc = store_read_begin(s, &txn);
        if (!rc) {
            rc = store_last_seq(s, txn, x->top, &now);
            store_read_end(s);
        }
        if (rc || (now == seq && !x->changed.n))
            break;
        rc = send_part(x, seq, false, &seq, &changed);
        if (!rc)
            frame_u64(x, F_CAUGHT_UP, seq);
        n->rounds++;
        if (changed <= FEW_CHANGES)
            break;
    }
    if (!rc && fflush(x->out) != 0)
        x->failed = true;
    if (rc || x->failed)
        return rc ? rc : EIO;

    /* The cut, then the last changes and the keys. */
    uint64_t cut_ms = 0;
    bool froze = false;
    rc = store_tenant_cut(s, x->top, &cut_ms, &froze);
    if (rc)
        return rc;
    int64_t cut_us = clock_mono_us();
    frame_u64(x, F_CUT, cut_ms);
    rc = send_part(x, seq, true, &seq, &changed);
    int64_t spent = (clock_mono_us() - cut_us) / 1000;
    if (!rc && !x->failed && spent > STORE_TENANT_CUT_MAX_MS) {
        snprintf(s->errmsg, sizeof s->errmsg,
                 "the last changes of topOrganisation %u took %lld ms after the cut, more than "
                 "%d: the freeze is lifted and the stream has no end",
                 x->top, (long long)spent, STORE_TENANT_CUT_MAX_MS);
        rc = ETIMEDOUT;
    }
    if (!rc && !x->failed) {
        /* The end: how many frames came before it, and the hash of every
         * byte before it.  Once it is written the receiver may activate
         * the tenant, so the freeze stays whatever happens after. */
        unsigned char end[16];
        be64_put(end, x->frames);
        be64_put(end + 8, x->hash);
        frame(x, F_END, end, sizeof end, NULL, 0);
        if (!x->failed && fflush(x->out) == 0) {
            n->cut_to_end_ms = (uint64_t)((clock_mono_us() - cut_us) / 1000);
            return 0;
        }
    }
    /* No whole end went out: the receiver activates nothing, so the
     * tenant is served here again (unless it was frozen before this
     * send: then it may be served elsewhere). */
    if (!rc)
        rc = EIO;
    if (!froze)
        return rc;
    int thawed = store_tenant_unfreeze(s, x->top);
    n->thawed = !thawed;
    return thawed ? thawed : rc;
}

int store_tenant_send(struct store *s, uint32_t top, FILE *out, struct store_tenant_counts *n)
{
    s->errmsg[0] = '\0';
    memset(n, 0, sizeof *n);
    int lock = -1;
    int rc = store_tenant_lock(s, top, &lock);
    if (rc == EBUSY)
        snprintf(s->errmsg, sizeof s->errmsg,
                 "another tenant send or receive of topOrganisation %u runs on this database", top);
    struct sender x = {
        .s = s, .top = top, .out = out, .hash = FNV1A_INIT, .n = n, .changed = IDSET_INIT};
    if (!rc)
        rc = send_tenant(s, &x, n);
    idset_free(&x.changed);
    if (lock >= 0)
        close(lock);
    if (rc == MDB_NOTFOUND && !s->errmsg[0])
        snprintf(s->errmsg, sizeof s->errmsg, "this database holds no topOrganisation %u", top);
    return store_tenant_explained(s, rc, "sending", top);
}
