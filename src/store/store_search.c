/*
 * store_search.c — listing and searching a tenant's groups (include/
 * store.h "list and search"): the planner of GET /group, and of the
 * imports that look at an organisation's groups.
 *
 * Two plans, chosen by the query (lmdb-schema/group-indexes.md):
 *
 *  - candidates: words, email or externalId name a set of ids through an
 *    index (word postings per status, email_groups, group_extid); the
 *    sets are intersected smallest first.  When words alone select (no
 *    other filter, order by id), the set is the answer: its size is the
 *    count and only the page's records are read.  Otherwise each
 *    candidate's record header is checked and the matches are sorted by
 *    the same sort keys the order index stores.
 *  - partitions: group_order is walked in the requested order, one walk
 *    per status, merged, so a page reads skip + limit entries and the
 *    count is a sum of group_counts.  type and schoolYear are in no index:
 *    with them each entry's record is checked and the count is walked.
 */
#include <stdlib.h>
#include <string.h>

#include "store_private.h"
#include "word_cache.h"

#define N_STATUSES 3
static const unsigned status_bits[N_STATUSES] = {GROUP_ACTIVE, GROUP_ARCHIVED, GROUP_DELETED};

/* One search: the query, where it reads, where the rows go, and the query
 * words in the order they are read (most selective first). */
struct search {
    struct store *s;
    MDB_txn *txn;
    const struct store_query *q;
    const struct store_rows *out;
    struct word *order;
};

static int emit_id(struct search *x, uint64_t id)
{
    struct group_record r;
    int rc = store_group_get(x->s, x->txn, id, &r);
    return rc ? rc : x->out->row(x->out->ctx, &r);
}

/* ---- filters on a record ---- */

/* The reader may see organisation org (q->orgs; none: every one of top). */
static bool covers(const struct store_query *q, uint32_t org)
{
    if (!q->n_orgs)
        return true;
    for (size_t i = 0; i < q->n_orgs; i++)
        if (q->orgs[i] == org)
            return true;
    return false;
}

static bool matches(const struct store_query *l, const struct group_record *r)
{
    if (r->top_organisation != l->top || !covers(l, r->organisation))
        return false;
    if (!(group_record_status(r) & l->statuses))
        return false;
    if (l->org && r->organisation != *l->org)
        return false;
    if (l->external_id && (r->external_id_len != strlen(l->external_id) ||
                           memcmp(r->external_id, l->external_id, r->external_id_len) != 0))
        return false;
    if (l->school_year && r->school_year != l->school_year)
        return false;
    return !l->type || group_json_type_is(r->json, r->json_len, l->type);
}

/* The one order of §4: sort keys (store_record_sort_key), then the id
 * ascending; sort=-id is the id descending. */
static int sort_cmp(const struct store_query *l, const char *ka, size_t la, uint64_t ida,
                    const char *kb, size_t lb, uint64_t idb)
{
    int r = memcmp(ka, kb, la < lb ? la : lb);
    if (!r)
        r = (la > lb) - (la < lb);
    if (l->descending)
        r = -r;
    if (!r) {
        r = (ida > idb) - (ida < idb);
        if (l->sort == GROUP_SORT_ID && l->descending)
            r = -r;
    }
    return r;
}

/* ---- the candidates plan ---- */

static int push_gid(void *ctx, uint64_t gid)
{
    idset_push(ctx, gid);
    return 0;
}

static int longer_first(const void *a, const void *b)
{
    const struct word *x = a, *y = b;
    return (x->len < y->len) - (x->len > y->len);
}

/* Keeps in acc (have: acc holds a set already) the ids also in next,
 * which is sorted and unique. */
static void narrow_sorted(struct idset *acc, bool *have, struct idset *next)
{
    if (!*have) {
        *acc = *next;
        memset(next, 0, sizeof *next);
        *have = true;
        return;
    }
    idset_intersect(acc, next);
    idset_free(next);
}

static void narrow(struct idset *acc, bool *have, struct idset *next)
{
    idset_sort_unique(next);
    narrow_sorted(acc, have, next);
}

/* The groups of the wanted statuses with a word starting with q word w,
 * sorted: a broad word's set as this worker last read it at the same
 * list revision (word_cache.h), or read from the index. */
static int word_ids(struct search *x, size_t w, struct idset *out)
{
    const struct store_query *l = x->q;
    uint32_t top = l->top;
    const char *word = l->words->folded.data + x->order[w].off;
    size_t len = x->order[w].len;
    if (word_cache_get(top, l->statuses, l->rev, word, len, out))
        return 0;
    int rc = 0;
    for (int i = 0; i < N_STATUSES && !rc; i++)
        if (l->statuses & status_bits[i])
            rc = store_word_ids(x->s, x->txn, top, status_bits[i], word, len, out);
    idset_sort_unique(out);
    if (!rc)
        word_cache_put(top, l->statuses, l->rev, word, len, out);
    return rc;
}

/* The ids email, externalId and every q word allow, sorted: the small
 * sets first, then the words longest (most selective) first; once
 * nothing is left, the remaining words are not read. */
static int gather(struct search *x, struct idset *out)
{
    const struct store_query *l = x->q;
    uint32_t top = l->top;
    struct idset next = IDSET_INIT;
    bool have = false;
    int rc = 0;
    if (l->external_id) {
        uint64_t id;
        rc = store_group_by_extid(x->s, x->txn, top, l->external_id, strlen(l->external_id), &id);
        if (!rc)
            idset_push(&next, id);
        else if (rc == MDB_NOTFOUND)
            rc = 0;
        narrow(out, &have, &next);
    }
    if (!rc && l->email) {
        rc = store_email_groups(x->s, x->txn, top, l->email, strlen(l->email), push_gid, &next);
        narrow(out, &have, &next);
    }
    size_t n_words = l->words ? l->words->n : 0;
    if (n_words > 1)
        qsort(x->order, n_words, sizeof *x->order, longer_first);
    for (size_t w = 0; w < n_words && !rc && !(have && out->n == 0); w++) {
        rc = word_ids(x, w, &next);
        narrow_sorted(out, &have, &next);
    }
    idset_free(&next);
    return rc;
}

struct hit {
    uint64_t id;
    size_t key_off, key_len; /* in hits.keys */
};

struct hits {
    struct hit *v;
    size_t n, cap;
    struct buf keys;
    const struct store_query *l;
};

static int compare_hits(const void *pa, const void *pb, void *ctx)
{
    const struct hits *h = ctx;
    const struct hit *a = pa, *b = pb;
    return sort_cmp(h->l, h->keys.data + a->key_off, a->key_len, a->id, h->keys.data + b->key_off,
                    b->key_len, b->id);
}

static int plan_candidates(struct search *x)
{
    const struct store_query *l = x->q;
    struct idset ids = IDSET_INIT;
    int rc = gather(x, &ids);
    if (rc)
        return rc;
    bool index_decides = l->words && l->words->n && !l->email && !l->external_id && !l->org &&
                         !l->n_orgs && !l->type && !l->school_year;
    if (index_decides && l->sort == GROUP_SORT_ID) {
        size_t n = ids.n;
        rc = x->out->count(x->out->ctx, n);
        size_t end = l->limit == 0 ? n : (size_t)(l->skip + l->limit < n ? l->skip + l->limit : n);
        for (size_t i = (size_t)l->skip; i < end && !rc; i++)
            rc = emit_id(x, ids.v[l->descending ? n - 1 - i : i]);
        idset_free(&ids);
        return rc;
    }
    struct hits h = {NULL, 0, 0, BUF_INIT, l};
    for (size_t i = 0; i < ids.n && !rc; i++) {
        struct group_record r;
        rc = store_group_get(x->s, x->txn, ids.v[i], &r);
        if (rc == MDB_NOTFOUND) {
            rc = 0; /* an email_groups entry of a purged group: not a match */
            continue;
        }
        if (rc || !matches(l, &r))
            continue;
        if (h.n == h.cap) {
            h.cap = h.cap ? 2 * h.cap : 64;
            h.v = realloc(h.v, h.cap * sizeof *h.v);
            if (!h.v)
                abort();
        }
        struct hit *e = &h.v[h.n++];
        e->id = r.id;
        e->key_off = h.keys.len;
        store_record_sort_key(&r, l->sort, &h.keys);
        e->key_len = h.keys.len - e->key_off;
    }
    idset_free(&ids);
    if (!rc) {
        if (h.n > 1 && (l->sort != GROUP_SORT_ID || l->descending))
            qsort_r(h.v, h.n, sizeof *h.v, compare_hits, &h);
        rc = x->out->count(x->out->ctx, h.n);
        size_t end =
            l->limit == 0 ? h.n : (size_t)(l->skip + l->limit < h.n ? l->skip + l->limit : h.n);
        for (size_t i = (size_t)l->skip; i < end && !rc; i++)
            rc = emit_id(x, h.v[i].id);
    }
    free(h.v);
    buf_free(&h.keys);
    return rc;
}

/* ---- the partitions plan ---- */

struct merge {
    struct order_walk *walks[N_STATUSES];
    struct order_entry heads[N_STATUSES];
    bool live[N_STATUSES];
    size_t n;
    const struct store_query *l;
};

static int entry_cmp(const struct store_query *l, const struct order_entry *a,
                     const struct order_entry *b)
{
    return sort_cmp(l, a->sort_key, a->sort_key_len, a->id, b->sort_key, b->sort_key_len, b->id);
}

static int merge_open(struct merge *m, struct search *x)
{
    const struct store_query *l = x->q;
    memset(m, 0, sizeof *m);
    m->l = l;
    for (int i = 0; i < N_STATUSES; i++) {
        if (!(l->statuses & status_bits[i]))
            continue;
        struct order_walk **w = &m->walks[m->n];
        int rc = order_walk_open(w, x->s, x->txn, l->top, l->org, status_bits[i], l->sort,
                                 l->descending);
        if (rc)
            order_walk_close(*w);
        if (!rc) {
            m->n++;
            rc = order_walk_next(*w, &m->heads[m->n - 1]);
            m->live[m->n - 1] = rc == 0;
        }
        if (rc && rc != MDB_NOTFOUND)
            return rc;
    }
    return 0;
}

static int merge_next(struct merge *m, struct order_entry *e)
{
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < m->n; i++)
        if (m->live[i] && (best == SIZE_MAX || entry_cmp(m->l, &m->heads[i], &m->heads[best]) < 0))
            best = i;
    if (best == SIZE_MAX)
        return MDB_NOTFOUND;
    *e = m->heads[best];
    int rc = order_walk_next(m->walks[best], &m->heads[best]);
    m->live[best] = rc == 0;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static void merge_close(struct merge *m)
{
    for (size_t i = 0; i < m->n; i++)
        order_walk_close(m->walks[i]);
}

/* The count from group_counts: the partitions of the statuses asked for,
 * of the organisation asked for or else each one the key covers. */
static int counted(struct search *x, uint64_t *count)
{
    const struct store_query *l = x->q;
    bool restricted = l->n_orgs && !l->org;
    *count = 0;
    for (int i = 0; i < N_STATUSES; i++) {
        if (!(l->statuses & status_bits[i]))
            continue;
        size_t n_orgs = restricted ? l->n_orgs : 1;
        for (size_t o = 0; o < n_orgs; o++) {
            const uint32_t *org = l->org ? l->org : restricted ? &l->orgs[o] : NULL;
            uint64_t n;
            int rc = store_group_count(x->s, x->txn, l->top, org, status_bits[i], &n);
            if (rc)
                return rc;
            *count += n;
        }
    }
    return 0;
}

static int plan_partitions(struct search *x)
{
    const struct store_query *l = x->q;
    bool record_filter = l->type || l->school_year;
    bool restricted = l->n_orgs && !l->org;
    uint64_t count = 0;
    int rc = record_filter ? 0 : counted(x, &count);
    struct merge m = {0};
    if (!rc)
        rc = merge_open(&m, x);
    struct idset page = IDSET_INIT;
    uint64_t matched = 0, end = l->limit ? l->skip + l->limit : UINT64_MAX;
    struct order_entry e;
    while (!rc && (rc = merge_next(&m, &e)) == 0) {
        if (restricted && !covers(l, e.org))
            continue;
        if (record_filter) {
            struct group_record r;
            rc = store_group_get(x->s, x->txn, e.id, &r);
            if (rc || !matches(l, &r))
                continue;
        }
        if (matched >= l->skip && matched < end)
            idset_push(&page, e.id);
        matched++;
        if (matched >= end && !record_filter)
            break;
    }
    merge_close(&m);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (!rc)
        rc = x->out->count(x->out->ctx, record_filter ? matched : count);
    for (size_t i = 0; i < page.n && !rc; i++)
        rc = emit_id(x, page.v[i]);
    idset_free(&page);
    return rc;
}

/* ---- the query ---- */

int store_search(struct store *s, MDB_txn *txn, const struct store_query *q,
                 const struct store_rows *out)
{
    struct search x = {s, txn, q, out, NULL};
    size_t n_words = q->words ? q->words->n : 0;
    if (n_words) {
        x.order = malloc(n_words * sizeof *x.order);
        if (!x.order)
            abort();
        memcpy(x.order, q->words->v, n_words * sizeof *x.order);
    }
    /* A q without words is no text filter (§4). */
    int rc = n_words || q->email || q->external_id ? plan_candidates(&x) : plan_partitions(&x);
    free(x.order);
    return rc;
}
