/*
 * store_event.c — the events database (lmdb-schema/events.md).
 *
 * Key: group id + event id (store_owned.c), so a group's events are one
 * cursor range in id order (the order GET /group/:id embeds them in) and
 * an event id of another group finds nothing.  Value: a 40-byte header
 * (format, presence flags, day, times, tutor count, the weeks as a 64-bit
 * set, created and updated times), then u16-length strings: title,
 * location, each tutor.  Events are few per group and read with their
 * group, so they are decoded into malloc'd strings (event_free).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "store_private.h"

#define RECORD_FORMAT 1
#define HEADER_LEN 40

enum { HAS_TITLE = 1, HAS_LOCATION = 2, HAS_TUTORS = 4 };

static void add_str16(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    unsigned char l[2] = {(unsigned char)(n >> 8), (unsigned char)n};
    buf_add(b, l, 2);
    buf_add(b, s, n);
}

static void encode(const struct event *ev, struct buf *out)
{
    unsigned char h[HEADER_LEN] = {0};
    h[0] = RECORD_FORMAT;
    h[1] = (unsigned char)((ev->title ? HAS_TITLE : 0) | (ev->location ? HAS_LOCATION : 0) |
                           (ev->has_tutors ? HAS_TUTORS : 0));
    h[2] = (unsigned char)ev->day;
    unsigned start = (unsigned)(ev->start + 1), end = (unsigned)(ev->end + 1); /* 0: absent */
    h[4] = (unsigned char)(start >> 8), h[5] = (unsigned char)start;
    h[6] = (unsigned char)(end >> 8), h[7] = (unsigned char)end;
    h[8] = (unsigned char)(ev->n_tutors >> 8), h[9] = (unsigned char)ev->n_tutors;
    be64_put(h + 16, ev->weeks);
    be64_put(h + 24, (uint64_t)ev->created_at);
    be64_put(h + 32, (uint64_t)ev->updated_at);
    buf_add(out, h, sizeof h);
    if (ev->title)
        add_str16(out, ev->title);
    if (ev->location)
        add_str16(out, ev->location);
    for (size_t i = 0; i < ev->n_tutors; i++)
        add_str16(out, ev->tutors[i]);
}

static char *take16(const unsigned char **p, const unsigned char *end)
{
    if (end - *p < 2)
        return NULL;
    size_t n = (size_t)(*p)[0] << 8 | (*p)[1];
    if ((size_t)(end - *p - 2) < n)
        return NULL;
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, *p + 2, n);
    s[n] = '\0';
    *p += 2 + n;
    return s;
}

static int decode(const MDB_val *key, const MDB_val *val, struct event *ev)
{
    memset(ev, 0, sizeof *ev);
    const unsigned char *h = val->mv_data, *p = h + HEADER_LEN, *end = h + val->mv_size;
    if (key->mv_size != 16 || val->mv_size < HEADER_LEN || h[0] != RECORD_FORMAT)
        return MDB_CORRUPTED;
    ev->group = be64_get(key->mv_data);
    ev->id = be64_get((const unsigned char *)key->mv_data + 8);
    ev->day = h[2];
    ev->start = (h[4] << 8 | h[5]) - 1;
    ev->end = (h[6] << 8 | h[7]) - 1;
    size_t n_tutors = (size_t)h[8] << 8 | h[9];
    ev->has_tutors = h[1] & HAS_TUTORS;
    ev->weeks = be64_get(h + 16);
    ev->created_at = (int64_t)be64_get(h + 24);
    ev->updated_at = (int64_t)be64_get(h + 32);
    bool bad = n_tutors > EVENT_TUTORS_MAX;
    if (!bad && (h[1] & HAS_TITLE))
        bad = !(ev->title = take16(&p, end));
    if (!bad && (h[1] & HAS_LOCATION))
        bad = !(ev->location = take16(&p, end));
    if (!bad) {
        ev->tutors = calloc(n_tutors ? n_tutors : 1, sizeof *ev->tutors);
        if (!ev->tutors)
            abort();
    }
    while (!bad && ev->n_tutors < n_tutors) {
        char *t = take16(&p, end);
        bad = !t;
        if (t)
            ev->tutors[ev->n_tutors++] = t;
    }
    if (bad || p != end) {
        event_free(ev);
        return MDB_CORRUPTED;
    }
    return 0;
}

int store_event_get(struct store *s, MDB_txn *txn, uint64_t gid, uint64_t eid, struct event *out)
{
    unsigned char k[16];
    MDB_val key, val;
    int rc = store_owned_get(txn, s->events, gid, eid, &key, &val, k);
    return rc ? rc : decode(&key, &val, out);
}

int store_event_put(struct store *s, MDB_txn *txn, const struct event *ev)
{
    struct buf rec = BUF_INIT;
    encode(ev, &rec);
    int rc = store_owned_put(txn, s->events, ev->group, ev->id, &rec);
    buf_free(&rec);
    return rc;
}

int store_event_del(struct store *s, MDB_txn *txn, uint64_t gid, uint64_t eid)
{
    return store_owned_del(txn, s->events, gid, eid);
}

struct each {
    int (*fn)(void *ctx, const struct event *ev);
    void *ctx;
};

static int each_one(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct each *e = ctx;
    struct event ev;
    int rc = decode(key, val, &ev);
    if (!rc) {
        rc = e->fn(e->ctx, &ev);
        event_free(&ev);
    }
    return rc;
}

int store_event_each(struct store *s, MDB_txn *txn, uint64_t gid,
                     int (*fn)(void *ctx, const struct event *ev), void *ctx)
{
    struct each e = {fn, ctx};
    return store_owned_each(txn, s->events, gid, each_one, &e);
}

int store_event_purge_group(struct store *s, MDB_txn *txn, uint64_t gid)
{
    return store_owned_drop(txn, s->events, gid, NULL, NULL);
}
