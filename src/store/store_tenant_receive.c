/*
 * store_tenant_receive.c — a tenant stream of store_tenant_send.c taken in
 * (include/store.h "moving a tenant"; lmdb-schema/tenant-stream.md).
 *
 * Frames are read into memory and applied in write transactions of their
 * own, one per part of the stream (a caught-up frame ends each; the sender
 * keeps the snapshot's parts near 16 KiB), so this database's other
 * tenants keep being written between them: after each part the receiver
 * pauses, so that applying takes at most `busy` percent of its time (at
 * the default 25, three times as long as the part took) and groupd's own
 * writer finds the write lock free at least the rest of the time.  The
 * last changes and the keys are applied at the end frame, in the
 * transaction that activates the tenant.  Indexes are rebuilt from the
 * records.  Until that transaction, meta `arriving` + top marks the copy:
 * the tenant takes no request here and has no key yet.  A stream cut
 * short, damaged, of another version or followed by anything removes the
 * partial copy; one left behind by a receive that was killed is removed by
 * the next receive of the tenant (or tenant drop).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "store_private.h"
#include "tenant_stream.h"

/* The most a part of the stream may hold (it is applied in one
 * transaction, from memory). */
#define PART_MAX ((size_t)256 << 20)
/* How many bytes of parts are applied between two releases of this
 * process's mapping (store_release_map). */
#define RELEASE_EVERY ((size_t)64 << 20)

struct receiver {
    struct store *s;
    MDB_txn *txn; /* while frames are applied */
    uint32_t top;
    FILE *in;
    uint64_t frames, hash;
    struct buf pending;   /* frames read and not yet applied, as they came */
    bool arriving;        /* a part of the copy is committed */
    bool caught_up;       /* a part came whole */
    int64_t cut_us;       /* when the cut frame came; 0 before */
    uint64_t counter[4];  /* the last of each counter (enum tenant_counter) */
    bool counted;         /* counters came */
    unsigned busy;        /* the most of its time applying may take, in percent */
    size_t since_release; /* bytes applied since the map was last released */
    struct store_tenant_counts *n;
};

static int refuse(struct store *s, int rc, const char *why)
{
    snprintf(s->errmsg, sizeof s->errmsg, "%s", why);
    return rc;
}

/* A group record: stored as it came, with its externalId and the list
 * and search indexes rebuilt (rev and all). */
static int receive_group(struct receiver *x, const unsigned char *p, size_t len)
{
    MDB_val val = {len, (void *)p};
    struct group_record r;
    struct group g;
    if (store_group_decode(&val, &r) || r.top_organisation != x->top ||
        store_group_load(&r, &g) != 0)
        return refuse(x->s, MDB_CORRUPTED, "the stream holds a group record that is not one");
    unsigned char k[8];
    be64_put(k, r.id);
    MDB_val key = {8, k};
    int rc = mdb_put(x->txn, x->s->groups, &key, &val, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST)
        rc = refuse(x->s, MDB_KEYEXIST, "a group id of the stream is taken here");
    if (!rc && g.external_id) {
        struct buf ek = BUF_INIT;
        store_extid_key(g.top_organisation, g.external_id, strlen(g.external_id), &ek);
        MDB_val ekey = {ek.len, ek.data}, idv = {8, k}, holder;
        rc = mdb_put(x->txn, x->s->group_extid, &ekey, &idv, MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST) {
            /* Another group of the copy holds the externalId: the source
             * let go of it after that group was sent, so the holder is a
             * stale copy the stream sends again (or as gone) later.  It
             * goes now. */
            holder = idv;
            struct store_tenant_counts gone = {0};
            rc =
                holder.mv_size == 8 && be64_get(holder.mv_data) != r.id
                    ? store_tenant_drop_group(x->s, x->txn, x->top, be64_get(holder.mv_data), &gone)
                    : MDB_CORRUPTED;
            MDB_val again = {8, k};
            if (!rc)
                rc = gone.groups
                         ? mdb_put(x->txn, x->s->group_extid, &ekey, &again, MDB_NOOVERWRITE)
                         : MDB_KEYEXIST;
        }
        buf_free(&ek);
    }
    if (!rc)
        rc = group_index(x->s, x->txn, NULL, &g, r.rev);
    group_free(&g);
    x->n->groups++;
    return rc;
}

/* A participant or event record: under its group, which came before it. */
static int receive_owned(struct receiver *x, enum tenant_frame type, const unsigned char *p,
                         size_t len)
{
    if (len < 16)
        return refuse(x->s, MDB_CORRUPTED, "the stream holds a record too short to be one");
    uint64_t gid = be64_get(p), id = be64_get(p + 8);
    struct group_record r;
    int rc = store_group_get(x->s, x->txn, gid, &r);
    if (rc == MDB_NOTFOUND || (!rc && r.top_organisation != x->top))
        return refuse(x->s, MDB_CORRUPTED, "the stream holds a record of a group it did not send");
    struct buf rec = {(char *)p + 16, len - 16, 0};
    MDB_dbi dbi = type == F_EVENT ? x->s->events : x->s->participants;
    if (!rc)
        rc = store_owned_put(x->txn, dbi, gid, id, &rec);
    if (rc || type == F_EVENT) {
        x->n->events += !rc;
        return rc;
    }
    struct participant pt;
    rc = store_participant_get(x->s, x->txn, gid, id, &pt);
    if (rc)
        return rc == MDB_CORRUPTED
                   ? refuse(x->s, rc, "the stream holds a participant record that is not one")
                   : rc;
    rc = store_participant_index(x->s, x->txn, x->top, &pt, PKEY_EMAIL | PKEY_EXTID, true, NULL);
    participant_free(&pt);
    x->n->participants++;
    return rc;
}

static int receive_key(struct receiver *x, const unsigned char *p, size_t len)
{
    if (len < 8)
        return refuse(x->s, MDB_CORRUPTED, "the stream holds a key record too short to be one");
    uint64_t id = be64_get(p);
    MDB_val val = {len - 8, (void *)(p + 8)};
    struct apikey_record k;
    if (store_key_decode(id, &val, &k) != 0 || k.top_organisation != x->top)
        return refuse(x->s, MDB_CORRUPTED, "the stream holds a key record that is not one");
    int rc = store_key_put_stored(x->s, x->txn, id, &val);
    if (rc == MDB_KEYEXIST)
        return refuse(x->s, rc, "a key id of the stream is taken here");
    x->n->keys += !rc;
    return rc;
}

static int receive_feed(struct receiver *x, const unsigned char *p, size_t len)
{
    if (len < STORE_FEED_KEY_LEN)
        return refuse(x->s, MDB_CORRUPTED, "the stream holds a feed record too short to be one");
    MDB_val key = {STORE_FEED_KEY_LEN, (void *)p},
            val = {len - STORE_FEED_KEY_LEN, (void *)(p + STORE_FEED_KEY_LEN)};
    struct feed_record r;
    if (store_feed_open(&key, &val, &r) != 0 || r.top != x->top)
        return refuse(x->s, MDB_CORRUPTED, "the stream holds a feed record that is not one");
    x->n->feed_records++;
    int rc = mdb_put(x->txn, x->s->changes, &key, &val, MDB_NOOVERWRITE);
    return rc == MDB_KEYEXIST ? refuse(x->s, rc, "the stream holds a feed record twice") : rc;
}

/* A counter is kept for the end of the transaction (group_index sets the
 * list revision to each group's rev on its way). */
static int receive_counter(struct receiver *x, const unsigned char *p, size_t len)
{
    if (len != 9 || p[0] < C_CHANGE_SEQ || p[0] > C_FEED_PRUNED)
        return refuse(x->s, MDB_CORRUPTED, "the stream holds a counter that is not one");
    x->counter[p[0]] = be64_get(p + 1);
    x->counted = true;
    return 0;
}

/* The counters become the tenant's meta keys; the pruned mark also prunes
 * the copy's feed as the source pruned its own. */
static int store_counters(struct receiver *x)
{
    int rc = 0;
    for (int which = C_CHANGE_SEQ; which <= C_FEED_PRUNED && !rc; which++)
        rc = store_meta_put_top(x->s, x->txn, tenant_counter_names[which], x->top,
                                x->counter[which]);
    struct store_tenant_counts gone = {0};
    if (!rc)
        rc = store_tenant_drop_feed(x->s, x->txn, x->top, x->counter[C_FEED_PRUNED], &gone);
    return rc;
}

static int receive_gone(struct receiver *x, const unsigned char *p, size_t len)
{
    if (len != 8)
        return refuse(x->s, MDB_CORRUPTED, "the stream holds a gone frame that is not one");
    struct store_tenant_counts gone = {0};
    return store_tenant_drop_group(x->s, x->txn, x->top, be64_get(p), &gone);
}

/* The pending frames in one write transaction; the one that activates
 * the tenant also lifts its arriving mark. */
static int apply_pending(struct receiver *x, bool activate)
{
    int64_t began = clock_mono_us();
    int rc = store_write_begin(x->s, &x->txn);
    if (rc)
        return rc;
    rc = store_reserve_disk(x->s, 3 * x->pending.len);
    /* The pages this process touched stay mapped (each part's walks of the
     * trees find them again without a fault) until RELEASE_EVERY bytes
     * were applied since the last release. */
    if (!rc && x->since_release > RELEASE_EVERY) {
        rc = store_release_map(x->s);
        x->since_release = 0;
    }
    if (rc) {
        store_write_abort(x->txn);
        return rc;
    }
    x->since_release += x->pending.len;
    if (!x->arriving)
        rc = store_tenant_mark_arriving(x->s, x->txn, x->top, true);
    const unsigned char *p = (const unsigned char *)x->pending.data, *end = p + x->pending.len;
    while (!rc && p < end) {
        enum tenant_frame type = (enum tenant_frame)p[0];
        uint32_t len = be32_get(p + 1);
        const unsigned char *body = p + 5;
        switch (type) {
        case F_KEY:
            /* Keys come last: an arriving copy has none, so no request
             * of the tenant gets past authentication here. */
            rc = activate ? receive_key(x, body, len)
                          : refuse(x->s, MDB_CORRUPTED, "the stream holds a key before its cut");
            break;
        case F_GROUP: rc = receive_group(x, body, len); break;
        case F_PARTICIPANT:
        case F_EVENT: rc = receive_owned(x, type, body, len); break;
        case F_FEED: rc = receive_feed(x, body, len); break;
        case F_COUNTER: rc = receive_counter(x, body, len); break;
        case F_GONE: rc = receive_gone(x, body, len); break;
        default: rc = refuse(x->s, MDB_CORRUPTED, "the stream holds a frame out of place");
        }
        p = body + len;
    }
    if (!rc && x->counted)
        rc = store_counters(x);
    if (!rc && activate)
        rc = store_tenant_mark_arriving(x->s, x->txn, x->top, false);
    if (!rc && activate && x->cut_us &&
        (clock_mono_us() - x->cut_us) / 1000 > STORE_TENANT_CUT_MAX_MS) {
        snprintf(x->s->errmsg, sizeof x->s->errmsg,
                 "the last changes could not be taken in within %d ms of the source's cut",
                 STORE_TENANT_CUT_MAX_MS);
        rc = ETIMEDOUT;
    }
    if (rc) {
        store_write_abort(x->txn);
        return rc;
    }
    rc = store_write_commit(x->txn);
    if (!rc) {
        x->arriving = !activate;
        buf_reset(&x->pending);
    }
    if (!rc && !activate) {
        int64_t took = clock_mono_us() - began;
        int64_t rest = took * (100 - (int64_t)x->busy) / (int64_t)x->busy;
        struct timespec pause = {rest / 1000000, (rest % 1000000) * 1000};
        while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
            ;
    }
    return rc;
}

/* Reads exactly n bytes into the pending frames: 0, or -1 when the
 * stream ends before. */
static int get_bytes(struct receiver *x, size_t n)
{
    buf_reserve(&x->pending, n);
    unsigned char *p = (unsigned char *)x->pending.data + x->pending.len;
    if (n && fread(p, 1, n, x->in) != n)
        return -1;
    x->hash = fnv1a(x->hash, p, n);
    x->pending.len += n;
    return 0;
}

static int receive_frames(struct receiver *x)
{
    for (;;) {
        uint64_t hash_before = x->hash, frames_before = x->frames;
        if (x->pending.len > PART_MAX)
            return refuse(x->s, MDB_CORRUPTED,
                          "the stream holds a part larger than 256 MiB between two marks");
        size_t at = x->pending.len;
        if (get_bytes(x, 5))
            return refuse(x->s, MDB_CORRUPTED,
                          "the stream ended before its end frame: it was cut short");
        const unsigned char *head = (const unsigned char *)x->pending.data + at;
        unsigned type = head[0];
        uint32_t len = be32_get(head + 1);
        if (len > TENANT_FRAME_MAX)
            return refuse(x->s, MDB_CORRUPTED, "the stream holds a frame longer than allowed");
        if (type < F_KEY || type > F_CUT)
            return refuse(x->s, MDB_CORRUPTED, "the stream holds a frame of no known type");
        if (get_bytes(x, len))
            return refuse(x->s, MDB_CORRUPTED, "the stream ended inside a frame: it was cut short");
        x->frames++;
        if (type != F_END && type != F_CAUGHT_UP && type != F_CUT)
            continue;
        const unsigned char *body = (const unsigned char *)x->pending.data + at + 5;
        uint64_t v = len >= 8 ? be64_get(body) : 0;
        bool end_ok = len == 16 && v == frames_before && be64_get(body + 8) == hash_before;
        x->pending.len = at; /* the mark itself is not applied */
        if ((type == F_END && !end_ok) || (type != F_END && len != 8))
            return refuse(x->s, MDB_CORRUPTED,
                          type == F_END ? "the stream's end frame does not match what came "
                                          "before it"
                                        : "the stream holds a mark that is not one");
        if (x->cut_us ? type != F_END : type == F_END || (type == F_CUT && !x->caught_up))
            return refuse(x->s, MDB_CORRUPTED, "the stream holds a frame out of place");
        if (type == F_CUT) {
            x->cut_us = clock_mono_us();
            continue;
        }
        if (type == F_CAUGHT_UP) {
            x->caught_up = true;
            int rc = apply_pending(x, false);
            if (rc)
                return rc;
            continue;
        }
        /* Nothing may follow the end. */
        if (fgetc(x->in) != EOF)
            return refuse(x->s, MDB_CORRUPTED, "the stream goes on after its end frame");
        return apply_pending(x, true);
    }
}

/* A partial copy left by a receive that was killed goes first; a tenant
 * held otherwise is refused. */
static int make_room(struct receiver *x)
{
    MDB_txn *txn;
    bool arriving = false, held = false;
    int rc = store_read_begin(x->s, &txn);
    if (rc)
        return rc;
    rc = store_tenant_arriving(x->s, txn, x->top, &arriving);
    if (!rc)
        rc = store_tenant_held(x->s, txn, x->top, &held);
    store_read_end(x->s);
    if (rc)
        return rc;
    if (arriving) {
        struct store_tenant_counts gone;
        return store_tenant_remove(x->s, x->top, true, &gone);
    }
    if (held) {
        snprintf(x->s->errmsg, sizeof x->s->errmsg,
                 "this database holds topOrganisation %u already", x->top);
        return MDB_KEYEXIST;
    }
    return 0;
}

static int receive_tenant(struct receiver *x, uint32_t *top, int *lock)
{
    unsigned char head[TENANT_HEADER_LEN];
    if (get_bytes(x, sizeof head))
        return refuse(x->s, MDB_INVALID, "not a groupd tenant stream");
    memcpy(head, x->pending.data, sizeof head);
    buf_reset(&x->pending);
    if (memcmp(head, TENANT_MAGIC, TENANT_MAGIC_LEN) != 0)
        return refuse(x->s, MDB_INVALID, "not a groupd tenant stream");
    uint32_t version = be32_get(head + TENANT_MAGIC_LEN);
    if (version != STORE_TENANT_STREAM_VERSION) {
        snprintf(x->s->errmsg, sizeof x->s->errmsg,
                 "the stream is of format version %u; this groupd reads version %d", version,
                 STORE_TENANT_STREAM_VERSION);
        return MDB_VERSION_MISMATCH;
    }
    x->top = *top = be32_get(head + TENANT_MAGIC_LEN + 4);
    int rc = store_tenant_lock(x->s, x->top, lock);
    if (rc == EBUSY)
        snprintf(x->s->errmsg, sizeof x->s->errmsg,
                 "another tenant send or receive of topOrganisation %u runs on this database",
                 x->top);
    if (!rc)
        rc = make_room(x);
    if (!rc)
        rc = receive_frames(x);
    return rc;
}

int store_tenant_receive(struct store *s, FILE *in, unsigned busy, uint32_t *top,
                         struct store_tenant_counts *n)
{
    s->errmsg[0] = '\0';
    *top = 0;
    memset(n, 0, sizeof *n);
    if (busy < 1 || busy > 100)
        busy = STORE_TENANT_BUSY;
    struct receiver x = {
        .s = s, .in = in, .hash = FNV1A_INIT, .pending = BUF_INIT, .busy = busy, .n = n};
    int lock = -1;
    int rc = receive_tenant(&x, top, &lock);
    rc = store_tenant_explained(s, rc, "receiving", *top);
    if (rc) {
        /* What was committed of the copy goes again. */
        char why[sizeof s->errmsg];
        memcpy(why, s->errmsg, sizeof why);
        struct store_tenant_counts gone;
        int removed = x.arriving ? store_tenant_remove(s, x.top, true, &gone) : 0;
        snprintf(s->errmsg, sizeof s->errmsg, "%.240s; %s", why,
                 removed ? "its partial copy stays: the next receive or tenant drop removes it"
                         : "nothing of it is kept");
    }
    buf_free(&x.pending);
    if (lock >= 0)
        close(lock);
    return rc;
}
