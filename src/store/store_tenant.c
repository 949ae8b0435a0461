/*
 * store_tenant.c — one tenant's records as a stream, and back (include/
 * store.h "moving a tenant"; the format is lmdb-schema/tenant-stream.md).
 *
 * store_tenant_send writes, from one read transaction, every record of a
 * topOrganisation as it is stored: its API keys, its groups with their
 * participants and events, its feed records and its counters, so every
 * id, key, timestamp, rev (ETag) and feed entry arrives unchanged.
 * store_tenant_receive reads such a stream into one write transaction,
 * rebuilding the indexes from the records; it commits only at the
 * stream's end frame, after its count and hash matched, so a stream cut
 * short or damaged leaves nothing behind, and the tenant does not exist on
 * the destination until the commit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_private.h"

#define MAGIC "GROUPD-TENANT\n"
#define MAGIC_LEN 14
#define FRAME_MAX ((uint32_t)64 << 20)

enum frame {
    F_KEY = 1,         /* u64 key id, the apikeys value */
    F_GROUP = 2,       /* the groups value (its id is in it) */
    F_PARTICIPANT = 3, /* u64 group, u64 participant, the participants value */
    F_EVENT = 4,       /* u64 group, u64 event, the events value */
    F_FEED = 5,        /* the changes key (12 bytes), the changes value */
    F_COUNTER = 6,     /* u8 which (enum counter), u64 value */
    F_END = 9,         /* u64 frames before it, u64 FNV-1a of every byte before it */
};

enum counter { C_CHANGE_SEQ = 1, C_TOP_REV = 2, C_FEED_PRUNED = 3 };

/* ---- sending ---- */

/* True when this database holds any group or key of top. */
static int held_group(void *ctx, const struct group_record *r)
{
    return r->top_organisation == *(const uint32_t *)ctx ? 1 : 0;
}

static int held_key(void *ctx, const struct apikey_record *k)
{
    return k->top_organisation == *(const uint32_t *)ctx ? 1 : 0;
}

struct sender {
    struct store *s;
    MDB_txn *txn;
    uint32_t top;
    FILE *out;
    uint64_t frames, hash; /* frames written, FNV-1a of every byte written */
    bool failed;
    enum frame owned; /* what send_owned sends: F_PARTICIPANT or F_EVENT */
    struct store_tenant_counts *n;
};

static void put_bytes(struct sender *x, const void *p, size_t n)
{
    x->hash = fnv1a(x->hash, p, n);
    if (!x->failed && n && fwrite(p, 1, n, x->out) != n)
        x->failed = true;
}

static void frame(struct sender *x, enum frame type, const void *a, size_t na, const void *b,
                  size_t nb)
{
    unsigned char head[5] = {(unsigned char)type};
    be32_put(head + 1, (uint32_t)(na + nb));
    put_bytes(x, head, sizeof head);
    put_bytes(x, a, na);
    put_bytes(x, b, nb);
    x->frames++;
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

static int send_group(void *ctx, const struct group_record *r)
{
    struct sender *x = ctx;
    if (r->top_organisation != x->top)
        return 0;
    unsigned char k[8];
    be64_put(k, r->id);
    MDB_val key = {8, k}, val;
    int rc = mdb_get(x->txn, x->s->groups, &key, &val);
    if (rc)
        return rc;
    frame(x, F_GROUP, val.mv_data, val.mv_size, NULL, 0);
    x->n->groups++;
    x->owned = F_PARTICIPANT;
    rc = store_owned_each(x->txn, x->s->participants, r->id, send_owned, x);
    x->owned = F_EVENT;
    if (!rc)
        rc = store_owned_each(x->txn, x->s->events, r->id, send_owned, x);
    return rc ? rc : x->failed ? EIO : 0;
}

static int send_key(void *ctx, const struct apikey_record *k)
{
    struct sender *x = ctx;
    if (k->top_organisation != x->top)
        return 0;
    unsigned char id[8];
    be64_put(id, k->id);
    MDB_val key = {k->id <= UINT32_MAX ? 4 : 8, id + (k->id <= UINT32_MAX ? 4 : 0)}, val;
    int rc = mdb_get(x->txn, x->s->apikeys, &key, &val);
    if (rc)
        return rc;
    frame(x, F_KEY, id, 8, val.mv_data, val.mv_size);
    x->n->keys++;
    return x->failed ? EIO : 0;
}

static int send_feed(struct sender *x)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(x->txn, x->s->changes, &cur);
    if (rc)
        return rc;
    unsigned char from[STORE_FEED_KEY_LEN];
    store_feed_key(x->top, 0, from);
    MDB_val key = {sizeof from, from}, val;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0 && !x->failed;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        if (key.mv_size != STORE_FEED_KEY_LEN || be32_get(key.mv_data) != x->top)
            break;
        frame(x, F_FEED, key.mv_data, key.mv_size, val.mv_data, val.mv_size);
        x->n->feed_records++;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND || rc == 0 ? (x->failed ? EIO : 0) : rc;
}

static void send_counter(struct sender *x, enum counter which, uint64_t v)
{
    unsigned char b[9] = {(unsigned char)which};
    be64_put(b + 1, v);
    frame(x, F_COUNTER, b, sizeof b, NULL, 0);
}

static int send_tenant(struct store *s, uint32_t top, FILE *out, struct store_tenant_counts *n)
{
    memset(n, 0, sizeof *n);
    MDB_txn *txn;
    int rc = store_read_begin(s, &txn);
    if (rc)
        return rc;
    /* Nothing is frozen or written for a tenant that is not here. */
    rc = store_group_each(s, txn, held_group, &top);
    if (!rc)
        rc = store_key_each(s, txn, held_key, &top);
    store_read_end(s);
    if (rc != 1)
        return rc ? rc : MDB_NOTFOUND;
    /* The cut: no write of the tenant is accepted from here on, so the
     * snapshot below is the tenant's last state (a catch-up that keeps
     * the freeze short is not built yet). */
    rc = store_tenant_freeze(s, top);
    if (!rc)
        rc = store_read_begin(s, &txn);
    if (rc)
        return rc;
    struct sender x = {s, txn, top, out, 0, FNV1A_INIT, false, F_PARTICIPANT, n};
    unsigned char head[MAGIC_LEN + 12];
    memcpy(head, MAGIC, MAGIC_LEN);
    be32_put(head + MAGIC_LEN, STORE_TENANT_STREAM_VERSION);
    be32_put(head + MAGIC_LEN + 4, top);
    be32_put(head + MAGIC_LEN + 8, s->shard);
    put_bytes(&x, head, sizeof head);
    rc = store_key_each(s, txn, send_key, &x);
    if (!rc)
        rc = store_group_each(s, txn, send_group, &x);
    if (!rc)
        rc = send_feed(&x);
    uint64_t seq = 0, rev = 0, pruned = 0;
    if (!rc)
        rc = store_last_seq(s, txn, top, &seq);
    if (!rc)
        rc = store_top_rev(s, txn, top, &rev);
    if (!rc)
        rc = store_feed_pruned(s, txn, top, &pruned);
    store_read_end(s);
    if (rc)
        return rc;
    send_counter(&x, C_CHANGE_SEQ, seq);
    send_counter(&x, C_TOP_REV, rev);
    send_counter(&x, C_FEED_PRUNED, pruned);
    /* The end: how many frames came before it, and the hash of every
     * byte before it. */
    unsigned char end[16];
    be64_put(end, x.frames);
    be64_put(end + 8, x.hash);
    frame(&x, F_END, end, sizeof end, NULL, 0);
    if (!x.failed && fflush(out) != 0)
        x.failed = true;
    return x.failed ? EIO : 0;
}

/* ---- receiving ---- */

struct receiver {
    struct store *s;
    MDB_txn *txn;
    uint32_t top;
    FILE *in;
    uint64_t frames, hash;
    struct buf body;
    struct store_tenant_counts *n;
};

/* Reads exactly n bytes: 0, or -1 when the stream ends before. */
static int get_bytes(struct receiver *x, void *p, size_t n)
{
    if (n && fread(p, 1, n, x->in) != n)
        return -1;
    x->hash = fnv1a(x->hash, p, n);
    return 0;
}

static int refuse(struct store *s, int rc, const char *why)
{
    snprintf(s->errmsg, sizeof s->errmsg, "%s", why);
    return rc;
}

/* A group record from the stream: stored as it came, with its externalId
 * and the list and search indexes rebuilt (rev and all). */
static int receive_group(struct receiver *x)
{
    MDB_val val = {x->body.len, x->body.data};
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
        MDB_val ekey = {ek.len, ek.data}, idv = {8, k};
        rc = mdb_put(x->txn, x->s->group_extid, &ekey, &idv, MDB_NOOVERWRITE);
        buf_free(&ek);
    }
    if (!rc)
        rc = group_index(x->s, x->txn, NULL, &g, r.rev);
    group_free(&g);
    x->n->groups++;
    return rc;
}

/* A participant or event record: under its group, which came before it. */
static int receive_owned(struct receiver *x, enum frame type)
{
    if (x->body.len < 16)
        return refuse(x->s, MDB_CORRUPTED, "the stream holds a record too short to be one");
    const unsigned char *p = (const unsigned char *)x->body.data;
    uint64_t gid = be64_get(p), id = be64_get(p + 8);
    struct group_record r;
    int rc = store_group_get(x->s, x->txn, gid, &r);
    if (rc == MDB_NOTFOUND || (!rc && r.top_organisation != x->top))
        return refuse(x->s, MDB_CORRUPTED, "the stream holds a record of a group it did not send");
    struct buf rec = {x->body.data + 16, x->body.len - 16, 0};
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

static int receive_key(struct receiver *x)
{
    if (x->body.len < 8)
        return refuse(x->s, MDB_CORRUPTED, "the stream holds a key record too short to be one");
    uint64_t id = be64_get(x->body.data);
    unsigned char kb[8];
    be64_put(kb, id);
    MDB_val key = {id <= UINT32_MAX ? 4 : 8, kb + (id <= UINT32_MAX ? 4 : 0)},
            val = {x->body.len - 8, x->body.data + 8};
    struct apikey_record k;
    int rc = store_key_get(x->s, x->txn, id, &k);
    if (rc == 0)
        return refuse(x->s, MDB_KEYEXIST, "a key id of the stream is taken here");
    if (rc != MDB_NOTFOUND)
        return rc;
    rc = mdb_put(x->txn, x->s->apikeys, &key, &val, MDB_NOOVERWRITE);
    if (!rc && (store_key_get(x->s, x->txn, id, &k) != 0 || k.top_organisation != x->top))
        return refuse(x->s, MDB_CORRUPTED, "the stream holds a key record that is not one");
    x->n->keys++;
    return rc;
}

static int receive_feed(struct receiver *x)
{
    if (x->body.len < STORE_FEED_KEY_LEN)
        return refuse(x->s, MDB_CORRUPTED, "the stream holds a feed record too short to be one");
    MDB_val key = {STORE_FEED_KEY_LEN, x->body.data},
            val = {x->body.len - STORE_FEED_KEY_LEN, x->body.data + STORE_FEED_KEY_LEN};
    struct feed_record r;
    if (store_feed_open(&key, &val, &r) != 0 || r.top != x->top)
        return refuse(x->s, MDB_CORRUPTED, "the stream holds a feed record that is not one");
    x->n->feed_records++;
    return mdb_put(x->txn, x->s->changes, &key, &val, MDB_NOOVERWRITE);
}

static int receive_counter(struct receiver *x)
{
    const unsigned char *p = (const unsigned char *)x->body.data;
    if (x->body.len != 9 || p[0] < C_CHANGE_SEQ || p[0] > C_FEED_PRUNED)
        return refuse(x->s, MDB_CORRUPTED, "the stream holds a counter that is not one");
    static const char *const names[] = {NULL, "change_seq", "top_rev", "feed_pruned"};
    unsigned char name[16];
    size_t len = strlen(names[p[0]]);
    memcpy(name, names[p[0]], len);
    be32_put(name + len, x->top);
    return store_meta_put(x->s, x->txn, name, len + 4, be64_get(p + 1));
}

static int receive_frames(struct receiver *x)
{
    for (;;) {
        uint64_t hash_before = x->hash, frames_before = x->frames;
        unsigned char head[5];
        if (get_bytes(x, head, sizeof head))
            return refuse(x->s, MDB_CORRUPTED,
                          "the stream ended before its end frame: it was cut short");
        uint32_t len = be32_get(head + 1);
        if (len > FRAME_MAX)
            return refuse(x->s, MDB_CORRUPTED, "the stream holds a frame longer than allowed");
        buf_reset(&x->body);
        buf_reserve(&x->body, len);
        if (get_bytes(x, x->body.data, len))
            return refuse(x->s, MDB_CORRUPTED, "the stream ended inside a frame: it was cut short");
        x->body.len = len;
        x->frames++;
        int rc;
        switch (head[0]) {
        case F_KEY: rc = receive_key(x); break;
        case F_GROUP: rc = receive_group(x); break;
        case F_PARTICIPANT:
        case F_EVENT: rc = receive_owned(x, (enum frame)head[0]); break;
        case F_FEED: rc = receive_feed(x); break;
        case F_COUNTER: rc = receive_counter(x); break;
        case F_END:
            if (len != 16 || be64_get(x->body.data) != frames_before ||
                be64_get(x->body.data + 8) != hash_before)
                return refuse(x->s, MDB_CORRUPTED,
                              "the stream's end frame does not match what came before it");
            /* Nothing may follow the end. */
            if (fgetc(x->in) != EOF)
                return refuse(x->s, MDB_CORRUPTED, "the stream goes on after its end frame");
            return 0;
        default: return refuse(x->s, MDB_CORRUPTED, "the stream holds a frame of no known type");
        }
        if (rc)
            return rc;
    }
}

static int receive_tenant(struct store *s, FILE *in, uint32_t *top, struct store_tenant_counts *n)
{
    memset(n, 0, sizeof *n);
    struct receiver x = {s, NULL, 0, in, 0, FNV1A_INIT, BUF_INIT, n};
    unsigned char head[MAGIC_LEN + 12];
    if (get_bytes(&x, head, sizeof head) || memcmp(head, MAGIC, MAGIC_LEN) != 0)
        return refuse(s, MDB_INVALID, "not a groupd tenant stream");
    uint32_t version = be32_get(head + MAGIC_LEN);
    if (version != STORE_TENANT_STREAM_VERSION) {
        snprintf(s->errmsg, sizeof s->errmsg,
                 "the stream is of format version %u; this groupd reads version %d", version,
                 STORE_TENANT_STREAM_VERSION);
        return MDB_VERSION_MISMATCH;
    }
    x.top = *top = be32_get(head + MAGIC_LEN + 4);
    int rc = store_import_begin(s, 0, &x.txn);
    if (rc)
        return rc;
    rc = store_group_each(s, x.txn, held_group, &x.top);
    if (!rc)
        rc = store_key_each(s, x.txn, held_key, &x.top);
    if (rc == 1) {
        snprintf(s->errmsg, sizeof s->errmsg, "this database holds topOrganisation %u already",
                 x.top);
        rc = MDB_KEYEXIST;
    }
    if (!rc)
        rc = receive_frames(&x);
    buf_free(&x.body);
    if (rc) {
        store_write_abort(x.txn);
        return rc;
    }
    return store_write_commit(x.txn);
}

/* ---- the freeze, and dropping a tenant ---- */

/* Meta's name of top's freeze: "frozen" + top (4 bytes BE). */
static size_t frozen_name(uint32_t top, unsigned char name[10])
{
    memcpy(name, "frozen", 6);
    be32_put(name + 6, top);
    return 10;
}

int store_tenant_frozen(struct store *s, MDB_txn *txn, uint32_t top, bool *frozen)
{
    unsigned char name[10];
    uint64_t at;
    int rc = store_meta_get(s, txn, name, frozen_name(top, name), &at);
    *frozen = !rc && at != 0;
    return rc;
}

int store_tenant_freeze(struct store *s, uint32_t top)
{
    MDB_txn *txn;
    int rc = store_write_begin(s, &txn);
    if (rc)
        return rc;
    bool frozen;
    unsigned char name[10];
    rc = store_tenant_frozen(s, txn, top, &frozen);
    if (!rc && !frozen) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        uint64_t ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
        rc = store_meta_put(s, txn, name, frozen_name(top, name), ms ? ms : 1);
    }
    if (rc) {
        store_write_abort(txn);
        return rc;
    }
    return store_write_commit(txn);
}

static int thaw_tenant(struct store *s, uint32_t top)
{
    MDB_txn *txn;
    int rc = store_write_begin(s, &txn);
    if (rc)
        return rc;
    unsigned char name[10];
    MDB_val key = {frozen_name(top, name), name};
    rc = mdb_del(txn, s->meta, &key, NULL);
    if (rc) {
        store_write_abort(txn);
        return rc;
    }
    return store_write_commit(txn);
}

struct dropping {
    struct store *s;
    MDB_txn *txn;
    uint32_t top;
    uint64_t *ids;
    size_t n, cap;
};

/* Keeps id when it is of the tenant being dropped. */
static int collect(struct dropping *d, uint32_t top, uint64_t id)
{
    if (top != d->top)
        return 0;
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 64;
        d->ids = realloc(d->ids, d->cap * sizeof *d->ids);
        if (!d->ids)
            abort();
    }
    d->ids[d->n++] = id;
    return 0;
}

static int collect_group(void *ctx, const struct group_record *r)
{
    return collect(ctx, r->top_organisation, r->id);
}

static int collect_key(void *ctx, const struct apikey_record *k)
{
    return collect(ctx, k->top_organisation, k->id);
}

/* One group gone with everything it owns and every index entry, and no
 * feed entry (the tenant's feed goes too). */
static int drop_group(struct dropping *d, uint64_t id, struct store_tenant_counts *n)
{
    struct group_record r;
    struct group g;
    int rc = store_group_get(d->s, d->txn, id, &r);
    if (!rc)
        rc = store_group_load(&r, &g);
    if (rc)
        return rc;
    MDB_stat ps, es;
    rc = mdb_stat(d->txn, d->s->participants, &ps);
    if (!rc)
        rc = mdb_stat(d->txn, d->s->events, &es);
    if (!rc)
        rc = group_index(d->s, d->txn, &g, NULL, 0);
    if (!rc)
        rc = store_participant_purge_group(d->s, d->txn, d->top, id);
    if (!rc)
        rc = store_event_purge_group(d->s, d->txn, id);
    if (!rc)
        rc = store_group_del(d->s, d->txn, &g);
    MDB_stat ps2, es2;
    if (!rc)
        rc = mdb_stat(d->txn, d->s->participants, &ps2);
    if (!rc)
        rc = mdb_stat(d->txn, d->s->events, &es2);
    if (!rc) {
        n->groups++;
        n->participants += ps.ms_entries - ps2.ms_entries;
        n->events += es.ms_entries - es2.ms_entries;
    }
    group_free(&g);
    return rc;
}

static int drop_feed(struct dropping *d, struct store_tenant_counts *n)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(d->txn, d->s->changes, &cur);
    if (rc)
        return rc;
    unsigned char from[STORE_FEED_KEY_LEN];
    store_feed_key(d->top, 0, from);
    for (;;) {
        MDB_val key = {sizeof from, from}, val;
        rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
        if (rc || key.mv_size != STORE_FEED_KEY_LEN || be32_get(key.mv_data) != d->top)
            break;
        rc = mdb_cursor_del(cur, 0);
        if (rc)
            break;
        n->feed_records++;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int drop_tenant(struct store *s, uint32_t top, bool force, struct store_tenant_counts *n)
{
    memset(n, 0, sizeof *n);
    MDB_txn *txn;
    int rc = store_write_begin(s, &txn);
    if (rc)
        return rc;
    struct dropping d = {s, txn, top, NULL, 0, 0};
    bool frozen = false;
    rc = store_tenant_frozen(s, txn, top, &frozen);
    if (!rc)
        rc = store_group_each(s, txn, collect_group, &d);
    size_t groups = d.n;
    if (!rc)
        rc = store_key_each(s, txn, collect_key, &d);
    if (!rc && !d.n && !frozen)
        rc = MDB_NOTFOUND;
    if (!rc && !frozen && !force) {
        snprintf(s->errmsg, sizeof s->errmsg,
                 "topOrganisation %u was not moved (it is not frozen): --force drops it anyway",
                 top);
        rc = MDB_INCOMPATIBLE;
    }
    for (size_t i = 0; i < groups && !rc; i++)
        rc = drop_group(&d, d.ids[i], n);
    for (size_t i = groups; i < d.n && !rc; i++) {
        unsigned char kb[8];
        be64_put(kb, d.ids[i]);
        MDB_val key = {d.ids[i] <= UINT32_MAX ? 4 : 8, kb + (d.ids[i] <= UINT32_MAX ? 4 : 0)};
        rc = mdb_del(txn, s->apikeys, &key, NULL);
        n->keys += !rc;
    }
    if (!rc)
        rc = drop_feed(&d, n);
    static const char *const counters[] = {"change_seq", "top_rev", "feed_pruned", "frozen"};
    for (size_t i = 0; i < 4 && !rc; i++) {
        unsigned char name[16];
        size_t len = strlen(counters[i]);
        memcpy(name, counters[i], len);
        be32_put(name + len, top);
        MDB_val key = {len + 4, name};
        rc = mdb_del(txn, s->meta, &key, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    free(d.ids);
    if (rc) {
        store_write_abort(txn);
        return rc;
    }
    return store_write_commit(txn);
}

/* ---- the commands, each failure explained in store_errmsg ---- */

/* rc, with s->errmsg saying what failed when nothing more telling was set. */
static int explained(struct store *s, int rc, const char *doing, uint32_t top)
{
    if (rc && !s->errmsg[0])
        snprintf(s->errmsg, sizeof s->errmsg, "%s topOrganisation %u: %s", doing, top,
                 rc == EIO ? "the stream could not be written" : mdb_strerror(rc));
    return rc;
}

int store_tenant_send(struct store *s, uint32_t top, FILE *out, struct store_tenant_counts *n)
{
    s->errmsg[0] = '\0';
    int rc = send_tenant(s, top, out, n);
    if (rc == MDB_NOTFOUND)
        snprintf(s->errmsg, sizeof s->errmsg, "this database holds no topOrganisation %u", top);
    return explained(s, rc, "sending", top);
}

int store_tenant_receive(struct store *s, FILE *in, uint32_t *top, struct store_tenant_counts *n)
{
    s->errmsg[0] = '\0';
    *top = 0;
    int rc = receive_tenant(s, in, top, n);
    return explained(s, rc, "receiving", *top);
}

int store_tenant_thaw(struct store *s, uint32_t top)
{
    s->errmsg[0] = '\0';
    int rc = thaw_tenant(s, top);
    if (rc == MDB_NOTFOUND)
        snprintf(s->errmsg, sizeof s->errmsg, "topOrganisation %u is not frozen", top);
    return explained(s, rc, "thawing", top);
}

int store_tenant_drop(struct store *s, uint32_t top, bool force, struct store_tenant_counts *n)
{
    s->errmsg[0] = '\0';
    int rc = drop_tenant(s, top, force, n);
    if (rc == MDB_NOTFOUND)
        snprintf(s->errmsg, sizeof s->errmsg, "this database holds no topOrganisation %u", top);
    return explained(s, rc, "dropping", top);
}
