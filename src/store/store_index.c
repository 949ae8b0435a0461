/*
 * store_index.c — the group indexes a list and a search read instead of
 * the records (lmdb-schema/group-indexes.md):
 *
 *   group_order   partition + sort field + sort key + id -> organisation
 *   group_counts  partition -> number of groups in it
 *   group_words   top + status + folded word -> group ids (DUPSORT)
 *   meta "top_rev" + top -> the change sequence of the top's last change
 *
 * A partition is (top, status) or (top, organisation, status).  Each
 * group has ten order entries (two partitions, five sort fields), one
 * count in each of its two partitions and one word entry per distinct
 * word of its name, description and externalId.  store_group_put and
 * store_group_purge call group_index with the old and the new state, in
 * the caller's transaction; only entries that differ are written.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "store_private.h"
#include "text.h"
#include "words.h"

#define WORD_KEY_MAX 200
#define SORT_KEY_MAX 480
#define FAMILY_ALL 'A'
#define FAMILY_ORG 'O'
#define SORT_FIELDS 5

struct group_keys group_keys_of(const struct group *g)
{
    struct group_keys k = {
        .id = g->id,
        .top = g->top_organisation,
        .org = g->organisation,
        .status = group_status(g),
        .name = g->name,
        .name_len = strlen(g->name),
        .ext = g->external_id,
        .ext_len = g->external_id ? strlen(g->external_id) : 0,
        .created = g->created_at,
        .updated = g->updated_at,
    };
    return k;
}

struct group_keys group_keys_of_record(const struct group_record *r)
{
    struct group_keys k = {
        .id = r->id,
        .top = r->top_organisation,
        .org = r->organisation,
        .status = group_record_status(r),
        .name = r->name,
        .name_len = r->name_len,
        .ext = r->external_id_len ? r->external_id : NULL,
        .ext_len = r->external_id_len,
        .created = r->created_at,
        .updated = r->updated_at,
    };
    return k;
}

void store_sort_key(const struct group_keys *k, enum group_sort f, struct buf *out)
{
    size_t start = out->len;
    switch (f) {
    case GROUP_SORT_ID: return;
    case GROUP_SORT_NAME:
        /* The folded form first, then the bytes: "names compare by their
         * folded form, then by bytes" is then plain key order. */
        text_fold(k->name, k->name_len, out);
        buf_addc(out, '\0');
        buf_add(out, k->name, k->name_len);
        break;
    case GROUP_SORT_CREATED:
    case GROUP_SORT_UPDATED: {
        int64_t t = f == GROUP_SORT_CREATED ? k->created : k->updated;
        buf_add_be64(out, (uint64_t)t ^ ((uint64_t)1 << 63)); /* signed order */
        break;
    }
    case GROUP_SORT_EXTID: buf_add(out, k->ext ? k->ext : "", k->ext_len); break;
    }
    if (out->len - start > SORT_KEY_MAX)
        out->len = start + SORT_KEY_MAX;
}

void store_record_sort_key(const struct group_record *r, enum group_sort f, struct buf *out)
{
    struct group_keys k = group_keys_of_record(r);
    store_sort_key(&k, f, out);
}

void store_partition(struct buf *key, uint32_t top, const uint32_t *org, unsigned status)
{
    buf_add_be32(key, top);
    buf_addc(key, org ? FAMILY_ORG : FAMILY_ALL);
    if (org)
        buf_add_be32(key, *org);
    buf_addc(key, (char)status);
}

/* ---- group_order ---- */

/* The ten order keys of k, back to back; ends[i] is where key i ends. */
static void order_keys(const struct group_keys *k, struct buf *keys, size_t ends[2 * SORT_FIELDS])
{
    size_t n = 0;
    for (int family = 0; family < 2; family++) {
        for (int f = 0; f < SORT_FIELDS; f++) {
            store_partition(keys, k->top, family ? &k->org : NULL, k->status);
            buf_addc(keys, (char)f);
            store_sort_key(k, (enum group_sort)f, keys);
            buf_add_be64(keys, k->id);
            ends[n++] = keys->len;
        }
    }
}

static int order_update(struct store *s, MDB_txn *txn, const struct group_keys *old,
                        const struct group_keys *new)
{
    struct buf ok = BUF_INIT, nk = BUF_INIT;
    size_t oe[2 * SORT_FIELDS], ne[2 * SORT_FIELDS];
    if (old)
        order_keys(old, &ok, oe);
    if (new)
        order_keys(new, &nk, ne);
    bool same_org = old && new && old->org == new->org;
    int rc = 0;
    for (size_t i = 0; i < 2 * SORT_FIELDS && !rc; i++) {
        size_t os = i ? oe[i - 1] : 0, ns = i ? ne[i - 1] : 0;
        bool same = same_org && oe[i] - os == ne[i] - ns &&
                    memcmp(ok.data + os, nk.data + ns, oe[i] - os) == 0;
        if (same)
            continue;
        if (old) {
            MDB_val key = {oe[i] - os, ok.data + os};
            rc = mdb_del(txn, s->group_order, &key, NULL);
        }
        if (!rc && new) {
            unsigned char org[4];
            be32_put(org, new->org);
            MDB_val key = {ne[i] - ns, nk.data + ns}, val = {4, org};
            rc = mdb_put(txn, s->group_order, &key, &val, 0);
        }
    }
    buf_free(&ok);
    buf_free(&nk);
    return rc;
}

/* ---- group_counts ---- */

static int count_add(struct store *s, MDB_txn *txn, const struct group_keys *k, int delta)
{
    int rc = 0;
    for (int family = 0; family < 2 && !rc; family++) {
        struct buf key = BUF_INIT;
        store_partition(&key, k->top, family ? &k->org : NULL, k->status);
        MDB_val kv = {key.len, key.data}, val;
        uint64_t n = 0;
        rc = mdb_get(txn, s->group_counts, &kv, &val);
        if (!rc)
            n = val.mv_size == 8 ? be64_get(val.mv_data) : 0;
        if (!rc || rc == MDB_NOTFOUND) {
            n = delta < 0 ? (n ? n - 1 : 0) : n + 1;
            unsigned char v[8];
            be64_put(v, n);
            val.mv_size = 8;
            val.mv_data = v;
            rc = n ? mdb_put(txn, s->group_counts, &kv, &val, 0)
                   : mdb_del(txn, s->group_counts, &kv, NULL);
            if (rc == MDB_NOTFOUND)
                rc = 0;
        }
        buf_free(&key);
    }
    return rc;
}

int store_group_count(struct store *s, MDB_txn *txn, uint32_t top, const uint32_t *org,
                      unsigned status, uint64_t *n)
{
    struct buf key = BUF_INIT;
    store_partition(&key, top, org, status);
    MDB_val kv = {key.len, key.data}, val;
    int rc = mdb_get(txn, s->group_counts, &kv, &val);
    buf_free(&key);
    *n = 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (!rc)
        *n = val.mv_size == 8 ? be64_get(val.mv_data) : 0;
    return rc;
}

/* ---- group_words ---- */

static int cmp_word(const void *a, const void *b, void *ctx)
{
    const struct words *w = ctx;
    const struct word *x = a, *y = b;
    size_t xl = x->len < WORD_KEY_MAX ? x->len : WORD_KEY_MAX;
    size_t yl = y->len < WORD_KEY_MAX ? y->len : WORD_KEY_MAX;
    int r = memcmp(w->folded.data + x->off, w->folded.data + y->off, xl < yl ? xl : yl);
    return r ? r : (xl > yl) - (xl < yl);
}

void store_group_words(const struct group *g, struct words *w)
{
    words_add(w, g->name, strlen(g->name));
    if (g->description)
        words_add(w, g->description, strlen(g->description));
    if (g->external_id)
        words_add(w, g->external_id, strlen(g->external_id));
    for (size_t i = 0; i < w->n; i++)
        if (w->v[i].len > WORD_KEY_MAX)
            w->v[i].len = WORD_KEY_MAX;
    if (w->n > 1)
        qsort_r(w->v, w->n, sizeof *w->v, cmp_word, w);
    size_t n = 0;
    for (size_t i = 0; i < w->n; i++)
        if (!n || cmp_word(&w->v[n - 1], &w->v[i], w) != 0)
            w->v[n++] = w->v[i];
    w->n = n;
}

static bool has_word(const struct words *set, const struct words *from, const struct word *x)
{
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const struct word *y = &set->v[mid];
        size_t l = x->len < y->len ? x->len : y->len;
        int r = memcmp(from->folded.data + x->off, set->folded.data + y->off, l);
        if (!r)
            r = (x->len > y->len) - (x->len < y->len);
        if (!r)
            return true;
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

/* Puts (add) or deletes the entries of the words of a that b lacks (b
 * NULL: all of them). */
static int words_apply(struct store *s, MDB_txn *txn, uint32_t top, unsigned status, uint64_t id,
                       const struct words *a, const struct words *b, bool add)
{
    unsigned char idv[8];
    be64_put(idv, id);
    int rc = 0;
    struct buf key = BUF_INIT;
    for (size_t i = 0; i < a->n && !rc; i++) {
        if (b && has_word(b, a, &a->v[i]))
            continue;
        buf_reset(&key);
        buf_add_be32(&key, top);
        buf_addc(&key, (char)status);
        buf_add(&key, a->folded.data + a->v[i].off, a->v[i].len);
        MDB_val kv = {key.len, key.data}, val = {8, idv};
        rc = add ? mdb_put(txn, s->group_words, &kv, &val, MDB_NODUPDATA)
                 : mdb_del(txn, s->group_words, &kv, &val);
        if (rc == MDB_KEYEXIST || rc == MDB_NOTFOUND)
            rc = 0; /* already in the wanted state */
    }
    buf_free(&key);
    return rc;
}

static int words_update(struct store *s, MDB_txn *txn, const struct group *old,
                        const struct group *new)
{
    struct words ow = WORDS_INIT, nw = WORDS_INIT;
    if (old)
        store_group_words(old, &ow);
    if (new)
        store_group_words(new, &nw);
    bool same_place =
        old && new &&
        old->top_organisation == new->top_organisation &&group_status(old) == group_status(new);
    int rc = 0;
    if (old)
        rc = words_apply(s, txn, old->top_organisation, group_status(old), old->id, &ow,
                         same_place ? &nw : NULL, false);
    if (!rc && new)
        rc = words_apply(s, txn, new->top_organisation, group_status(new), new->id, &nw,
                         same_place ? &ow : NULL, true);
    words_free(&ow);
    words_free(&nw);
    return rc;
}

void group_index_entries(struct store *s, const struct group *g, store_entry_fn *add, void *ctx)
{
    struct group_keys k = group_keys_of(g);
    struct buf keys = BUF_INIT;
    size_t ends[2 * SORT_FIELDS];
    order_keys(&k, &keys, ends);
    unsigned char org[4], idv[8];
    be32_put(org, k.org);
    be64_put(idv, k.id);
    for (size_t i = 0; i < 2 * SORT_FIELDS; i++) {
        size_t start = i ? ends[i - 1] : 0;
        add(ctx, s->group_order, keys.data + start, ends[i] - start, org, 4);
    }
    for (int family = 0; family < 2; family++) {
        buf_reset(&keys);
        store_partition(&keys, k.top, family ? &k.org : NULL, k.status);
        add(ctx, s->group_counts, keys.data, keys.len, NULL, 0); /* one more in it */
    }
    struct words w = WORDS_INIT;
    store_group_words(g, &w);
    for (size_t i = 0; i < w.n; i++) {
        buf_reset(&keys);
        buf_add_be32(&keys, k.top);
        buf_addc(&keys, (char)k.status);
        buf_add(&keys, w.folded.data + w.v[i].off, w.v[i].len);
        add(ctx, s->group_words, keys.data, keys.len, idv, 8);
    }
    words_free(&w);
    buf_free(&keys);
}

/* ---- the top's revision ---- */

int store_top_rev(struct store *s, MDB_txn *txn, uint32_t top, uint64_t *rev)
{
    return store_meta_get_top(s, txn, "top_rev", top, rev);
}

static int top_rev_set(struct store *s, MDB_txn *txn, uint32_t top, uint64_t rev)
{
    return store_meta_put_top(s, txn, "top_rev", top, rev);
}

int group_index(struct store *s, MDB_txn *txn, const struct group *old, const struct group *new,
                uint64_t rev)
{
    struct group_keys ok, nk;
    if (old)
        ok = group_keys_of(old);
    if (new)
        nk = group_keys_of(new);
    int rc = order_update(s, txn, old ? &ok : NULL, new ? &nk : NULL);
    bool same_partition = old && new &&ok.top == nk.top &&ok.org == nk.org &&ok.status == nk.status;
    if (!rc && old && !same_partition)
        rc = count_add(s, txn, &ok, -1);
    if (!rc && new && !same_partition)
        rc = count_add(s, txn, &nk, +1);
    if (!rc)
        rc = words_update(s, txn, old, new);
    if (!rc && old)
        rc = top_rev_set(s, txn, old->top_organisation, rev);
    if (!rc && new && (!old || new->top_organisation != old->top_organisation))
        rc = top_rev_set(s, txn, new->top_organisation, rev);
    return rc;
}

/* ---- reading: word postings ---- */

int store_word_ids(struct store *s, MDB_txn *txn, uint32_t top, unsigned status, const char *word,
                   size_t len, struct idset *out)
{
    if (len > WORD_KEY_MAX)
        len = WORD_KEY_MAX;
    struct buf prefix = BUF_INIT;
    buf_add_be32(&prefix, top);
    buf_addc(&prefix, (char)status);
    buf_add(&prefix, word, len);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->group_words, &cur);
    if (rc) {
        buf_free(&prefix);
        return rc;
    }
    MDB_val key = {prefix.len, prefix.data}, val;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT_NODUP)) {
        if (key.mv_size < prefix.len || memcmp(key.mv_data, prefix.data, prefix.len) != 0)
            break;
        /* A single value leaves val as it is; more come a page at a time. */
        rc = mdb_cursor_get(cur, &key, &val, MDB_GET_MULTIPLE);
        while (rc == 0) {
            idset_push_be64(out, val.mv_data, val.mv_size / 8);
            rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT_MULTIPLE);
        }
        if (rc != MDB_NOTFOUND)
            break;
    }
    mdb_cursor_close(cur);
    buf_free(&prefix);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ---- reading: an order partition, one entry at a time ---- */

struct order_walk {
    MDB_cursor *cur;
    struct buf prefix;
    bool descending, by_id, started, have_peek;
    MDB_val peek_key, peek_val;
    struct order_entry *run;
    size_t run_n, run_cap, run_pos;
};

int order_walk_open(struct order_walk **wp, struct store *s, MDB_txn *txn, uint32_t top,
                    const uint32_t *org, unsigned status, enum group_sort field, bool descending)
{
    struct order_walk *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    *wp = w;
    store_partition(&w->prefix, top, org, status);
    buf_addc(&w->prefix, (char)field);
    w->descending = descending;
    w->by_id = field == GROUP_SORT_ID; /* every key differs: no runs */
    return mdb_cursor_open(txn, s->group_order, &w->cur);
}

void order_walk_close(struct order_walk *w)
{
    if (!w)
        return;
    if (w->cur)
        mdb_cursor_close(w->cur);
    buf_free(&w->prefix);
    free(w->run);
    free(w);
}

static bool in_partition(const struct order_walk *w, const MDB_val *key)
{
    return key->mv_size >= w->prefix.len + 8 &&
           memcmp(key->mv_data, w->prefix.data, w->prefix.len) == 0;
}

/* One cursor step inside the partition, in walk order. */
static int step(struct order_walk *w, MDB_val *key, MDB_val *val)
{
    int rc;
    if (!w->started) {
        w->started = true;
        if (!w->descending) {
            *key = (MDB_val){w->prefix.len, w->prefix.data};
            rc = mdb_cursor_get(w->cur, key, val, MDB_SET_RANGE);
        } else {
            /* The first key after the partition: its prefix with the last
             * byte raised (the field byte is < 0xFF). */
            struct buf after = BUF_INIT;
            buf_add(&after, w->prefix.data, w->prefix.len);
            after.data[after.len - 1]++;
            *key = (MDB_val){after.len, after.data};
            rc = mdb_cursor_get(w->cur, key, val, MDB_SET_RANGE);
            rc = rc == 0 ? mdb_cursor_get(w->cur, key, val, MDB_PREV)
                         : mdb_cursor_get(w->cur, key, val, MDB_LAST);
            buf_free(&after);
        }
    } else {
        rc = mdb_cursor_get(w->cur, key, val, w->descending ? MDB_PREV : MDB_NEXT);
    }
    if (rc == 0 && !in_partition(w, key))
        rc = MDB_NOTFOUND;
    return rc;
}

static struct order_entry entry_of(const struct order_walk *w, const MDB_val *key,
                                   const MDB_val *val)
{
    struct order_entry e;
    const char *k = key->mv_data;
    e.id = be64_get(k + key->mv_size - 8);
    e.org = val->mv_size == 4 ? be32_get(val->mv_data) : 0;
    e.sort_key = k + w->prefix.len;
    e.sort_key_len = key->mv_size - w->prefix.len - 8;
    return e;
}

static void run_push(struct order_walk *w, struct order_entry e)
{
    if (w->run_n == w->run_cap) {
        w->run_cap = w->run_cap ? 2 * w->run_cap : 16;
        w->run = realloc(w->run, w->run_cap * sizeof *w->run);
        if (!w->run)
            abort();
    }
    w->run[w->run_n++] = e;
}

/* Descending: entries with equal sort keys come out id-descending from
 * the cursor, but ties are id-ascending in every order; so a run of equal
 * keys is read whole and handed out from its far end. */
static int fill_run(struct order_walk *w)
{
    w->run_n = w->run_pos = 0;
    MDB_val key, val;
    int rc = 0;
    if (w->have_peek) {
        key = w->peek_key;
        val = w->peek_val;
        w->have_peek = false;
    } else {
        rc = step(w, &key, &val);
    }
    if (rc)
        return rc;
    struct order_entry first = entry_of(w, &key, &val);
    run_push(w, first);
    while (w->descending && !w->by_id) {
        rc = step(w, &key, &val);
        if (rc == MDB_NOTFOUND)
            break;
        if (rc)
            return rc;
        struct order_entry e = entry_of(w, &key, &val);
        if (e.sort_key_len != first.sort_key_len ||
            memcmp(e.sort_key, first.sort_key, e.sort_key_len) != 0) {
            w->peek_key = key;
            w->peek_val = val;
            w->have_peek = true;
            break;
        }
        run_push(w, e);
    }
    return 0;
}

int order_walk_next(struct order_walk *w, struct order_entry *e)
{
    if (w->run_pos == w->run_n) {
        int rc = fill_run(w);
        if (rc)
            return rc;
    }
    *e = w->run[w->run_n - 1 - w->run_pos++];
    return 0;
}
