/*
 * store_check.c — groupctl check: are the indexes exactly what the records
 * imply?
 *
 * One mechanism for every index: each store module says which entries a
 * record implies (store_group_entries, store_participant_entries); the
 * check collects them for every record, sorts them in LMDB's key order
 * and walks each index database beside that list, so an entry missing
 * from the database and an entry the records do not explain are both
 * found in one pass.  group_counts is the same comparison after the
 * implied partition keys are counted.  Memory: every implied entry is held
 * at once (about 60 bytes each; 2 GB for 10 million groups' worth).
 *
 * Events and the feed imply no index entries; they are checked against
 * what they name: every event belongs to a group, and every feed entry
 * record decodes, lies after its tenant's pruned mark and the tenant's
 * previous record and within change_seq and the tenant's list revision, and the last kept entry of
 * a live group is that group's rev (the write door stamps both in one transaction).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "store_private.h"

struct entry {
    MDB_dbi dbi;
    size_t off, key_len, val_len; /* key then value, in expect.bytes */
};

struct expect {
    struct store *s;
    struct buf bytes;
    struct entry *v;
    size_t n, cap;
};

struct check {
    struct store *s;
    MDB_txn *txn;
    store_report_fn *report;
    void *ctx;
    size_t differences;
    struct expect want;
    uint64_t participants_seen;
};

static void expect_add(void *ctx, MDB_dbi dbi, const void *key, size_t key_len, const void *val,
                       size_t val_len)
{
    struct expect *e = ctx;
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 1024;
        e->v = realloc(e->v, e->cap * sizeof *e->v);
        if (!e->v)
            abort();
    }
    e->v[e->n++] = (struct entry){dbi, e->bytes.len, key_len, val_len};
    buf_add(&e->bytes, key, key_len);
    buf_add(&e->bytes, val, val_len);
}

static int bytes_cmp(const void *a, size_t al, const void *b, size_t bl)
{
    int r = memcmp(a, b, al < bl ? al : bl);
    return r ? r : (al > bl) - (al < bl);
}

/* LMDB's default order: key bytes, then (DUPSORT) value bytes. */
static int entry_cmp(const void *pa, const void *pb, void *ctx)
{
    const struct expect *e = ctx;
    const struct entry *a = pa, *b = pb;
    if (a->dbi != b->dbi)
        return (a->dbi > b->dbi) - (a->dbi < b->dbi);
    const char *ad = e->bytes.data + a->off, *bd = e->bytes.data + b->off;
    int r = bytes_cmp(ad, a->key_len, bd, b->key_len);
    return r ? r : bytes_cmp(ad + a->key_len, a->val_len, bd + b->key_len, b->val_len);
}

static void differ(struct check *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void differ(struct check *k, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    k->report(k->ctx, line);
    k->differences++;
}

/* Printable bytes as they are, others as \xNN; at most 160 shown. */
static void show(const void *data, size_t len, struct buf *out)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len && i < 160; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7F && p[i] != '\\')
            buf_addc(out, (char)p[i]);
        else
            buf_addf(out, "\\x%02x", p[i]);
    }
    if (len > 160)
        buf_adds(out, "...");
}

static void report_entry(struct check *k, const char *db, const char *what, const void *key,
                         size_t key_len, const void *val, size_t val_len)
{
    struct buf line = BUF_INIT;
    show(key, key_len, &line);
    if (val_len) {
        buf_adds(&line, " -> ");
        show(val, val_len, &line);
    }
    buf_addc(&line, '\0');
    differ(k, "%s: %s entry %s", db, what, line.data);
    buf_free(&line);
}

/* ---- collecting what the records imply ---- */

struct group_walk {
    struct check *k;
    uint32_t top;
    uint64_t count;
};

static int count_participant(void *ctx, const struct participant *pt)
{
    struct group_walk *w = ctx;
    store_participant_entries(w->k->s, w->top, pt, expect_add, &w->k->want);
    if (pt->json_plain && !participant_plain(pt))
        differ(w->k,
               "participants: participant %llu of group %llu is marked as needing no "
               "JSON escape, and it does",
               (unsigned long long)pt->id, (unsigned long long)pt->group);
    w->count++;
    return 0;
}

static int collect_group(void *ctx, const struct group_record *r)
{
    struct check *k = ctx;
    struct group g;
    if (store_group_load(r, &g) != 0) {
        differ(k, "groups: the record of group %llu cannot be read", (unsigned long long)r->id);
        return 0;
    }
    store_group_entries(k->s, &g, expect_add, &k->want);
    struct group_walk w = {k, r->top_organisation, 0};
    int rc = store_participant_each(k->s, k->txn, r->id, count_participant, &w);
    if (rc == MDB_CORRUPTED) {
        differ(k, "participants: a record of group %llu cannot be read", (unsigned long long)r->id);
        rc = 0;
    }
    k->participants_seen += w.count;
    if (!rc && w.count != r->total_participants)
        differ(k, "groups: group %llu says totalParticipants %u, it has %llu participant records",
               (unsigned long long)r->id, r->total_participants, (unsigned long long)w.count);
    group_free(&g);
    return rc;
}

/* group_counts holds counts, not one entry per group: the implied
 * partition keys are counted and replaced by (key, count) entries. */
static void count_partitions(struct check *k)
{
    struct expect *e = &k->want;
    struct expect out = {e->s, BUF_INIT, NULL, 0, 0};
    for (size_t i = 0; i < e->n;) {
        const struct entry *x = &e->v[i];
        if (x->dbi != k->s->group_counts) {
            expect_add(&out, x->dbi, e->bytes.data + x->off, x->key_len,
                       e->bytes.data + x->off + x->key_len, x->val_len);
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < e->n && e->v[j].dbi == x->dbi && e->v[j].key_len == x->key_len &&
               memcmp(e->bytes.data + e->v[j].off, e->bytes.data + x->off, x->key_len) == 0)
            j++;
        unsigned char n[8];
        be64_put(n, (uint64_t)(j - i));
        expect_add(&out, x->dbi, e->bytes.data + x->off, x->key_len, n, 8);
        i = j;
    }
    buf_free(&e->bytes);
    free(e->v);
    *e = out;
}

/* ---- comparing ---- */

static int compare_db(struct check *k, const char *name, MDB_dbi dbi, size_t *at)
{
    const struct expect *e = &k->want;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(k->txn, dbi, &cur);
    if (rc)
        return rc;
    MDB_val key, val;
    rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
    size_t i = *at;
    for (;;) {
        bool have_db = rc == 0, have_want = i < e->n && e->v[i].dbi == dbi;
        if (!have_db && !have_want)
            break;
        int order;
        const struct entry *x = have_want ? &e->v[i] : NULL;
        const char *xd = x ? e->bytes.data + x->off : NULL;
        if (!have_db)
            order = -1;
        else if (!have_want)
            order = 1;
        else {
            order = bytes_cmp(xd, x->key_len, key.mv_data, key.mv_size);
            if (!order)
                order = bytes_cmp(xd + x->key_len, x->val_len, val.mv_data, val.mv_size);
        }
        if (order < 0) {
            report_entry(k, name, "missing", xd, x->key_len, xd + x->key_len, x->val_len);
            i++;
            continue;
        }
        if (order > 0)
            report_entry(k, name, "unexplained", key.mv_data, key.mv_size, val.mv_data,
                         val.mv_size);
        else
            i++;
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
        if (rc && rc != MDB_NOTFOUND)
            break;
    }
    mdb_cursor_close(cur);
    *at = i;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ---- events and the feed ---- */

static int check_events(struct check *k)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(k->txn, k->s->events, &cur);
    if (rc)
        return rc;
    MDB_val key, val;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        if (key.mv_size != 16) {
            differ(k, "events: a key of %zu bytes", key.mv_size);
            continue;
        }
        uint64_t gid = be64_get(key.mv_data), eid = be64_get((char *)key.mv_data + 8);
        struct event ev;
        if (store_event_get(k->s, k->txn, gid, eid, &ev) != 0) {
            differ(k, "events: the record of event %llu cannot be read", (unsigned long long)eid);
            continue;
        }
        event_free(&ev);
        struct group_record r;
        int g = store_group_get(k->s, k->txn, gid, &r);
        if (g == MDB_NOTFOUND)
            differ(k, "events: event %llu belongs to no group (%llu)", (unsigned long long)eid,
                   (unsigned long long)gid);
        else if (g) {
            rc = g;
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

struct seen {
    uint64_t group, seq;
    uint32_t top;
    unsigned type;
};

static int by_group_seq(const void *a, const void *b)
{
    const struct seen *x = a, *y = b;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The last kept entry of each live group against the group's record.  A
 * tenant's copy still arriving (store_tenant_receive.c) is not compared:
 * its groups come in id order while its feed is already whole, so a group
 * changed meanwhile waits for a later part with its older rev. */
static int check_feed_groups(struct check *k, struct seen *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof *v, by_group_seq);
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && v[i + 1].group == v[i].group)
            continue;
        struct group_record r;
        bool arriving = false;
        int rc = store_tenant_arriving(k->s, k->txn, v[i].top, &arriving);
        if (!rc && arriving)
            continue;
        if (!rc)
            rc = store_group_get(k->s, k->txn, v[i].group, &r);
        if (rc == MDB_NOTFOUND)
            continue; /* purged: its entries are history */
        if (rc)
            return rc;
        if (r.top_organisation != v[i].top)
            differ(k, "changes: entry %llu of top %u names group %llu of top %u",
                   (unsigned long long)v[i].seq, v[i].top, (unsigned long long)v[i].group,
                   r.top_organisation);
        else if (v[i].type == CHANGE_GROUP_PURGED)
            differ(k, "changes: group %llu was purged (entry %llu) but has a record",
                   (unsigned long long)v[i].group, (unsigned long long)v[i].seq);
        else if (r.rev != v[i].seq)
            differ(k, "changes: group %llu has rev %llu, its last feed entry is %llu",
                   (unsigned long long)v[i].group, (unsigned long long)r.rev,
                   (unsigned long long)v[i].seq);
    }
    return 0;
}

static int check_feed(struct check *k)
{
    uint64_t last = 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(k->txn, k->s->changes, &cur);
    if (rc)
        return rc;
    struct seen *v = NULL;
    size_t n = 0, cap = 0;
    uint32_t top = 0;
    uint64_t pruned = 0, top_rev = 0;
    bool have_top = false;
    MDB_val key, val;
    uint64_t prev_last = 0;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        struct feed_record r;
        struct change_entry e;
        if (store_feed_open(&key, &val, &r) != 0) {
            differ(k, "changes: a record cannot be read");
            continue;
        }
        if (!have_top || r.top != top) {
            have_top = true;
            top = r.top;
            prev_last = 0;
            rc = store_feed_pruned(k->s, k->txn, top, &pruned);
            if (!rc)
                rc = store_top_rev(k->s, k->txn, top, &top_rev);
            if (!rc)
                rc = store_last_seq(k->s, k->txn, top, &last);
            if (rc)
                break;
        }
        uint64_t end = r.first + r.n - 1;
        if (end > last || end > top_rev)
            differ(k, "changes: entry %llu of top %u is newer than %s %llu",
                   (unsigned long long)end, top, end > last ? "change_seq" : "the list revision",
                   (unsigned long long)(end > last ? last : top_rev));
        if (r.first <= pruned || r.first <= prev_last)
            differ(k, "changes: entry %llu of top %u is at or below %s %llu",
                   (unsigned long long)r.first, top,
                   r.first <= pruned ? "its pruned mark" : "the previous record's last entry",
                   (unsigned long long)(r.first <= pruned ? pruned : prev_last));
        prev_last = end;
        int next;
        while ((next = store_feed_next(&r, &e)) == 0) {
            if (n == cap) {
                cap = cap ? 2 * cap : 1024;
                v = realloc(v, cap * sizeof *v);
                if (!v)
                    abort();
            }
            v[n++] = (struct seen){e.group, e.seq, top, e.type};
        }
        if (next != MDB_NOTFOUND)
            differ(k, "changes: the entries of record %llu of top %u cannot be read",
                   (unsigned long long)r.first, top);
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        rc = check_feed_groups(k, v, n);
    free(v);
    return rc;
}

int store_check(struct store *s, MDB_txn *txn, store_report_fn *report, void *ctx,
                size_t *differences)
{
    struct check k = {s, txn, report, ctx, 0, {s, BUF_INIT, NULL, 0, 0}, 0};
    int rc = store_group_each(s, txn, collect_group, &k);
    MDB_stat st;
    if (!rc)
        rc = mdb_stat(txn, s->participants, &st);
    if (!rc && st.ms_entries != k.participants_seen)
        differ(&k, "participants: %llu records belong to no group",
               (unsigned long long)(st.ms_entries - k.participants_seen));
    if (!rc) {
        if (k.want.n > 1)
            qsort_r(k.want.v, k.want.n, sizeof *k.want.v, entry_cmp, &k.want);
        count_partitions(&k);
        /* The list is sorted by dbi first: compare the index databases in that order. */
        struct store_db dbs[STORE_MAX_DBS];
        size_t n = store_databases(s, dbs);
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && dbs[j].dbi < dbs[j - 1].dbi; j--) {
                struct store_db t = dbs[j];
                dbs[j] = dbs[j - 1];
                dbs[j - 1] = t;
            }
        size_t at = 0;
        for (size_t i = 0; i < n && !rc; i++)
            if (dbs[i].index)
                rc = compare_db(&k, dbs[i].name, dbs[i].dbi, &at);
    }
    buf_free(&k.want.bytes);
    free(k.want.v);
    if (!rc)
        rc = check_events(&k);
    if (!rc)
        rc = check_feed(&k);
    *differences = k.differences;
    return rc;
}
