/*
 * handler_group_list.c — GET /group: list and search (API.md §4).
 *
 * Two plans, chosen by the parameters (lmdb-schema/group-indexes.md):
 *
 *  - candidates: q, email or externalId name a set of ids through an
 *    index (word postings per status, email_groups, group_extid); the
 *    sets are intersected smallest first.  When q alone selects (no other
 *    filter, order by id), the set is the answer: its size is the count
 *    and only the page's records are read.  Otherwise each candidate's
 *    record header is checked and the matches are sorted by the same
 *    sort keys the order index stores.
 *  - partitions: group_order is walked in the requested order, one walk
 *    per status, merged, so a page reads skip + limit entries and the
 *    count is a sum of group_counts.  type and schoolYear are in no index:
 *    with them each entry's record is checked and the count is walked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group_render.h"
#include "handlers.h"
#include "text.h"
#include "word_cache.h"
#include "words.h"

#define N_STATUSES 3
/* Each q word is one index range read: a bound keeps a request's cost bounded. */
#define LIST_MAX_QUERY_WORDS 64
static const unsigned status_bits[N_STATUSES] = {GROUP_ACTIVE, GROUP_ARCHIVED, GROUP_DELETED};

struct list {
    struct call *c;
    unsigned statuses;
    bool have_org, restricted; /* restricted: the key covers only some organisations */
    uint32_t org;
    const char *external_id, *email, *type;
    int32_t school_year;
    struct words q;
    enum group_sort sort;
    bool descending;
    uint64_t limit, skip;
    uint32_t fields; /* 0: every member */
    bool expand;
    size_t emitted;
    uint64_t rev; /* the tenant's list revision in this request's read transaction */
};

/* ---- parameters ---- */

unsigned query_statuses(struct call *c, struct problem *p)
{
    unsigned set = 0;
    size_t at = 0;
    for (const char *s; (s = query_next(&c->query, "status", &at));) {
        while (*s) {
            size_t len = strcspn(s, ",");
            if (len == 6 && strncmp(s, "active", 6) == 0)
                set |= GROUP_ACTIVE;
            else if (len == 8 && strncmp(s, "archived", 8) == 0)
                set |= GROUP_ARCHIVED;
            else if (len == 7 && strncmp(s, "deleted", 7) == 0)
                set |= GROUP_DELETED;
            else {
                problem_bad_query(p, "status", "must be active, archived or deleted");
                return 0;
            }
            s += len + (s[len] == ',');
        }
    }
    return set;
}

/* Statuses from status= or archived= (not both); default active. */
static unsigned parse_statuses(struct call *c, struct problem *p)
{
    unsigned set = query_statuses(c, p);
    bool archived;
    if (query_bool(&c->query, "archived", &archived, p)) {
        if (set)
            problem_bad_query(p, "archived", "cannot be combined with status");
        set = archived ? GROUP_ARCHIVED : GROUP_ACTIVE;
    }
    return set ? set : GROUP_ACTIVE;
}

static void parse_sort(const char *v, struct list *l, struct problem *p)
{
    static const struct {
        const char *name;
        enum group_sort field;
    } fields[] = {{"id", GROUP_SORT_ID},
                  {"name", GROUP_SORT_NAME},
                  {"createdAt", GROUP_SORT_CREATED},
                  {"updatedAt", GROUP_SORT_UPDATED},
                  {"externalId", GROUP_SORT_EXTID}};
    /* Only a field or - and a field: "+name" (sent as %2B) is not one. */
    l->descending = v[0] == '-';
    if (v[0] == '-')
        v++;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (strcmp(v, fields[i].name) == 0) {
            l->sort = fields[i].field;
            return;
        }
    }
    problem_bad_query(p, "sort",
                      "must be one of id, name, createdAt, updatedAt, externalId, "
                      "optionally with a leading -");
}

static void parse_fields(const char *v, struct list *l, struct problem *p)
{
    while (*v) {
        size_t len = strcspn(v, ",");
        int i = group_field_index(v, len);
        if (i < 0) {
            problem_bad_query(p, "fields", "unknown field \"%.*s\"; fields are group members",
                              (int)text_utf8_prefix(v, len, 64), v);
            return;
        }
        l->fields |= UINT32_C(1) << i;
        v += len + (v[len] == ',');
    }
}

static bool parse_list(struct call *c, struct list *l, struct problem *p)
{
    l->c = c;
    l->statuses = parse_statuses(c, p);
    uint64_t v;
    if (query_uint(&c->query, "organisation", UINT32_MAX, &v, p)) {
        l->have_org = true;
        l->org = (uint32_t)v;
    }
    l->restricted = c->who.n_orgs > 0 && !l->have_org;
    list_paging(c, &l->limit, &l->skip, p);
    const char *s = query_get(&c->query, "sort", p);
    if (s)
        parse_sort(s, l, p);
    s = query_get(&c->query, "fields", p);
    if (s)
        parse_fields(s, l, p);
    s = query_get(&c->query, "expand", p);
    if (s) {
        if (strcmp(s, "participants") != 0)
            problem_bad_query(p, "expand", "the only expansion is participants");
        l->expand = true;
    }
    l->external_id = query_get(&c->query, "externalId", p);
    l->email = query_get(&c->query, "email", p);
    l->type = query_get(&c->query, "type", p);
    if (query_uint(&c->query, "schoolYear", 2999, &v, p)) {
        if (v < 1900)
            problem_bad_query(p, "schoolYear", "must be from 1900 to 2999");
        l->school_year = (int32_t)v;
    }
    size_t q_len;
    s = query_get_text(&c->query, "q", &q_len, p);
    if (s) {
        words_add(&l->q, s, q_len);
        words_drop_implied(&l->q);
        if (l->q.n > LIST_MAX_QUERY_WORDS)
            problem_bad_query(p, "q", "has more than %d different words", LIST_MAX_QUERY_WORDS);
    }
    return !problem_any(p);
}

/* ---- output ---- */

static int emit(struct list *l, const struct group_record *r)
{
    struct call *c = l->c;
    if (l->emitted++)
        reply_write(c->rep, ",", 1);
    if (!l->fields && !l->expand) {
        reply_write(c->rep, r->json, r->json_len);
        return 0;
    }
    struct buf item = BUF_INIT, sel = BUF_INIT;
    const char *json = r->json;
    size_t len = r->json_len;
    if (l->fields) {
        if (!group_json_select(r->json, r->json_len, l->fields, &sel)) {
            buf_free(&sel);
            return MDB_CORRUPTED;
        }
        json = sel.data;
        len = sel.len;
    }
    int rc = 0;
    if (l->expand)
        rc = group_render_full(c->store, c->rtxn, json, len, r->id, &item);
    else
        buf_add(&item, json, len);
    reply_write(c->rep, item.data, item.len);
    buf_free(&item);
    buf_free(&sel);
    return rc;
}

static int emit_id(struct list *l, uint64_t id)
{
    struct group_record r;
    int rc = store_group_get(l->c->store, l->c->rtxn, id, &r);
    return rc ? rc : emit(l, &r);
}

/* ---- filters on a record ---- */

static bool matches(const struct list *l, const struct group_record *r)
{
    const struct principal *who = &l->c->who;
    if (r->top_organisation != who->top_organisation || !principal_covers(who, r->organisation))
        return false;
    if (!(group_record_status(r) & l->statuses))
        return false;
    if (l->have_org && r->organisation != l->org)
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
static int sort_cmp(const struct list *l, const char *ka, size_t la, uint64_t ida, const char *kb,
                    size_t lb, uint64_t idb)
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
static int word_ids(struct list *l, size_t w, struct idset *out)
{
    uint32_t top = l->c->who.top_organisation;
    const char *word = l->q.folded.data + l->q.v[w].off;
    size_t len = l->q.v[w].len;
    if (word_cache_get(top, l->statuses, l->rev, word, len, out))
        return 0;
    int rc = 0;
    for (int i = 0; i < N_STATUSES && !rc; i++)
        if (l->statuses & status_bits[i])
            rc = store_word_ids(l->c->store, l->c->rtxn, top, status_bits[i], word, len, out);
    idset_sort_unique(out);
    if (!rc)
        word_cache_put(top, l->statuses, l->rev, word, len, out);
    return rc;
}

/* The ids email, externalId and every q word allow, sorted: the small
 * sets first, then the words longest (most selective) first; once
 * nothing is left, the remaining words are not read. */
static int gather(struct list *l, struct idset *out)
{
    struct call *c = l->c;
    uint32_t top = c->who.top_organisation;
    struct idset next = IDSET_INIT;
    bool have = false;
    int rc = 0;
    if (l->external_id) {
        uint64_t id;
        rc = store_group_by_extid(c->store, c->rtxn, top, l->external_id, strlen(l->external_id),
                                  &id);
        if (!rc)
            idset_push(&next, id);
        else if (rc == MDB_NOTFOUND)
            rc = 0;
        narrow(out, &have, &next);
    }
    if (!rc && l->email) {
        rc =
            store_email_groups(c->store, c->rtxn, top, l->email, strlen(l->email), push_gid, &next);
        narrow(out, &have, &next);
    }
    if (l->q.n > 1)
        qsort(l->q.v, l->q.n, sizeof *l->q.v, longer_first);
    for (size_t w = 0; w < l->q.n && !rc && !(have && out->n == 0); w++) {
        rc = word_ids(l, w, &next);
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
    const struct list *l;
};

static int compare_hits(const void *pa, const void *pb, void *ctx)
{
    const struct hits *h = ctx;
    const struct hit *a = pa, *b = pb;
    return sort_cmp(h->l, h->keys.data + a->key_off, a->key_len, a->id, h->keys.data + b->key_off,
                    b->key_len, b->id);
}

static int plan_candidates(struct list *l)
{
    struct call *c = l->c;
    struct idset ids = IDSET_INIT;
    int rc = gather(l, &ids);
    if (rc)
        return rc;
    bool index_decides = l->q.n && !l->email && !l->external_id && !l->have_org && !l->restricted &&
                         !l->type && !l->school_year;
    if (index_decides && l->sort == GROUP_SORT_ID) {
        size_t n = ids.n;
        list_head(c, n, l->limit, l->skip);
        size_t end = l->limit == 0 ? n : (size_t)(l->skip + l->limit < n ? l->skip + l->limit : n);
        for (size_t i = (size_t)l->skip; i < end && !rc; i++)
            rc = emit_id(l, ids.v[l->descending ? n - 1 - i : i]);
        idset_free(&ids);
        return rc;
    }
    struct hits h = {NULL, 0, 0, BUF_INIT, l};
    for (size_t i = 0; i < ids.n && !rc; i++) {
        struct group_record r;
        rc = store_group_get(c->store, c->rtxn, ids.v[i], &r);
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
        list_head(c, h.n, l->limit, l->skip);
        size_t end =
            l->limit == 0 ? h.n : (size_t)(l->skip + l->limit < h.n ? l->skip + l->limit : h.n);
        for (size_t i = (size_t)l->skip; i < end && !rc; i++)
            rc = emit_id(l, h.v[i].id);
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
    const struct list *l;
};

static int entry_cmp(const struct list *l, const struct order_entry *a, const struct order_entry *b)
{
    return sort_cmp(l, a->sort_key, a->sort_key_len, a->id, b->sort_key, b->sort_key_len, b->id);
}

static int merge_open(struct merge *m, struct list *l)
{
    struct call *c = l->c;
    memset(m, 0, sizeof *m);
    m->l = l;
    for (int i = 0; i < N_STATUSES; i++) {
        if (!(l->statuses & status_bits[i]))
            continue;
        struct order_walk **w = &m->walks[m->n];
        int rc =
            order_walk_open(w, c->store, c->rtxn, c->who.top_organisation,
                            l->have_org ? &l->org : NULL, status_bits[i], l->sort, l->descending);
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
static int counted(struct list *l, uint64_t *count)
{
    struct call *c = l->c;
    const struct principal *who = &c->who;
    *count = 0;
    for (int i = 0; i < N_STATUSES; i++) {
        if (!(l->statuses & status_bits[i]))
            continue;
        size_t n_orgs = l->have_org ? 1 : l->restricted ? who->n_orgs : 1;
        for (size_t o = 0; o < n_orgs; o++) {
            const uint32_t *org = l->have_org ? &l->org : l->restricted ? &who->orgs[o] : NULL;
            uint64_t n;
            int rc = store_group_count(c->store, c->rtxn, who->top_organisation, org,
                                       status_bits[i], &n);
            if (rc)
                return rc;
            *count += n;
        }
    }
    return 0;
}

static int plan_partitions(struct list *l)
{
    struct call *c = l->c;
    bool record_filter = l->type || l->school_year;
    uint64_t count = 0;
    int rc = record_filter ? 0 : counted(l, &count);
    struct merge m;
    if (!rc)
        rc = merge_open(&m, l);
    struct idset page = IDSET_INIT;
    uint64_t matched = 0, end = l->limit ? l->skip + l->limit : UINT64_MAX;
    struct order_entry e;
    while (!rc && (rc = merge_next(&m, &e)) == 0) {
        if (l->restricted && !principal_covers(&c->who, e.org))
            continue;
        if (record_filter) {
            struct group_record r;
            rc = store_group_get(c->store, c->rtxn, e.id, &r);
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
    if (!rc) {
        list_head(c, record_filter ? matched : count, l->limit, l->skip);
        for (size_t i = 0; i < page.n && !rc; i++)
            rc = emit_id(l, page.v[i]);
    }
    idset_free(&page);
    return rc;
}

/* ---- the handler ---- */

/* A list's ETag: the top's list revision (every change to one of its
 * groups moves it) and a hash of what was asked and by which key. */
static void list_etag(struct call *c, uint64_t rev, char out[64])
{
    unsigned char key_id[4] = {(unsigned char)c->who.key_id, (unsigned char)(c->who.key_id >> 8),
                               (unsigned char)(c->who.key_id >> 16),
                               (unsigned char)(c->who.key_id >> 24)};
    uint64_t h = fnv1a(FNV1A_INIT, c->req->query_string.data, c->req->query_string.len);
    h = fnv1a(h, key_id, sizeof key_id);
    char *at = out;
    *at++ = '"';
    *at++ = 'l';
    at = u64_digits(at, rev);
    *at++ = '-';
    at = u64_hex(at, h, 16);
    *at++ = '"';
    *at = '\0';
}

void group_list(struct call *c)
{
    struct problem p;
    problem_init(&p);
    struct list l;
    memset(&l, 0, sizeof l);
    l.q = (struct words)WORDS_INIT;
    if (!parse_list(c, &l, &p)) {
        reply_problem(c->rep, &p);
        problem_free(&p);
        words_free(&l.q);
        return;
    }
    problem_free(&p);
    if (l.have_org && !principal_covers(&c->who, l.org)) {
        reply_error(c->rep, 403, "forbidden", "organisation %u is outside this key's scope", l.org);
        words_free(&l.q);
        return;
    }
    uint64_t rev;
    int rc = store_top_rev(c->store, c->rtxn, c->who.top_organisation, &rev);
    if (!rc) {
        char etag[64];
        list_etag(c, rev, etag);
        if (reply_etag(c->rep, c->req, etag)) {
            words_free(&l.q);
            return;
        }
        l.rev = rev;
        /* A q without words is no text filter (§4). */
        if (l.q.n || l.email || l.external_id)
            rc = plan_candidates(&l);
        else
            rc = plan_partitions(&l);
    }
    words_free(&l.q);
    if (rc) {
        /* Replaces what was buffered; a reply already streaming is cut. */
        call_store_error(c, "listing groups", rc);
        return;
    }
    reply_writes(c->rep, "]}");
}
