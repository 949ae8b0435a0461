/*
 * handler_group_list.c — GET /group: list with filters, sort and paging.
 *
 * This version walks the caller's groups record by record, filtering on
 * the fixed header of each record (no JSON is parsed), sorts the matches
 * in memory and streams the requested page: correct for every filter and
 * sort, O(groups) per request.  The ordered indexes of issue 4 replace the
 * walk for the common cases; the walk stays as the general plan.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "handlers.h"
#include "text.h"

enum sort_field { SORT_ID, SORT_NAME, SORT_CREATED, SORT_UPDATED, SORT_EXTID };

struct hit {
    uint64_t id;
    int64_t time;
    const char *key; /* name: folded name; externalId: its bytes */
    size_t key_len;
    const char *raw; /* name bytes, the tie-break after the folded form */
    size_t raw_len;
    const char *json;
    size_t json_len;
};

struct list {
    struct call *c;
    unsigned statuses;
    bool have_org;
    uint32_t org;
    const char *external_id;
    int32_t school_year;
    enum sort_field sort;
    bool descending;
    struct hit *hits;
    size_t n, cap;
    struct buf folded; /* folded names, back to back */
};

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int r = memcmp(a, b, alen < blen ? alen : blen);
    if (r)
        return r;
    return alen < blen ? -1 : alen > blen;
}

static int compare_hits(const void *pa, const void *pb, void *ctx)
{
    const struct hit *a = pa, *b = pb;
    const struct list *l = ctx;
    int r = 0;
    switch (l->sort) {
    case SORT_ID: r = 0; break;
    case SORT_CREATED:
    case SORT_UPDATED: r = a->time < b->time ? -1 : a->time > b->time; break;
    case SORT_NAME:
        r = bytes_cmp(a->key, a->key_len, b->key, b->key_len);
        if (!r)
            r = bytes_cmp(a->raw, a->raw_len, b->raw, b->raw_len);
        break;
    case SORT_EXTID: r = bytes_cmp(a->key, a->key_len, b->key, b->key_len); break;
    }
    if (l->descending)
        r = -r;
    if (!r)
        r = a->id < b->id ? -1 : a->id > b->id;
    if (l->sort == SORT_ID && l->descending)
        r = -r;
    return r;
}

static int collect(void *ctx, const struct group_record *r)
{
    struct list *l = ctx;
    const struct principal *who = &l->c->who;
    if (r->top_organisation != who->top_organisation || !principal_covers(who, r->organisation))
        return 0;
    if (l->have_org && r->organisation != l->org)
        return 0;
    if (!(group_record_status(r) & l->statuses))
        return 0;
    if (l->external_id && (r->external_id_len != strlen(l->external_id) ||
                           memcmp(r->external_id, l->external_id, r->external_id_len) != 0))
        return 0;
    if (l->school_year && r->school_year != l->school_year)
        return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->hits = realloc(l->hits, l->cap * sizeof *l->hits);
        if (!l->hits)
            abort();
    }
    struct hit *h = &l->hits[l->n++];
    memset(h, 0, sizeof *h);
    h->id = r->id;
    h->json = r->json;
    h->json_len = r->json_len;
    h->time = l->sort == SORT_CREATED ? r->created_at : r->updated_at;
    if (l->sort == SORT_EXTID) {
        h->key = r->external_id;
        h->key_len = r->external_id_len;
    } else if (l->sort == SORT_NAME) {
        /* Offsets for now: the buffer may move while it grows. */
        size_t start = l->folded.len;
        text_fold(r->name, r->name_len, &l->folded);
        h->key = (const char *)(uintptr_t)start;
        h->key_len = l->folded.len - start;
        h->raw = r->name;
        h->raw_len = r->name_len;
    }
    return 0;
}

static bool parse_sort(const char *v, struct list *l, struct problem *p)
{
    static const struct {
        const char *name;
        enum sort_field field;
    } fields[] = {{"id", SORT_ID},
                  {"name", SORT_NAME},
                  {"createdAt", SORT_CREATED},
                  {"updatedAt", SORT_UPDATED},
                  {"externalId", SORT_EXTID}};
    l->descending = v[0] == '-';
    if (v[0] == '-' || v[0] == '+')
        v++;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (strcmp(v, fields[i].name) == 0) {
            l->sort = fields[i].field;
            return true;
        }
    }
    problem_bad_query(p, "sort", "must be one of id, name, createdAt, updatedAt, externalId, "
                                 "optionally with a leading -");
    return false;
}

unsigned query_statuses(struct call *c, struct problem *p)
{
    unsigned set = 0;
    for (size_t i = 0, n = query_count(&c->query, "status"); i < n; i++) {
        const char *s = query_nth(&c->query, "status", i);
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

void group_list(struct call *c)
{
    struct problem p;
    problem_init(&p);
    struct list l;
    memset(&l, 0, sizeof l);
    l.c = c;
    l.statuses = parse_statuses(c, &p);
    uint64_t v;
    if (query_uint(&c->query, "organisation", UINT32_MAX, &v, &p)) {
        l.have_org = true;
        l.org = (uint32_t)v;
    }
    uint64_t limit, skip;
    list_paging(c, &limit, &skip, &p);
    const char *sort = query_get(&c->query, "sort", &p);
    if (sort)
        parse_sort(sort, &l, &p);
    l.external_id = query_get(&c->query, "externalId", &p);
    uint64_t year;
    if (query_uint(&c->query, "schoolYear", 2999, &year, &p)) {
        if (year < 1900)
            problem_bad_query(&p, "schoolYear", "must be from 1900 to 2999");
        l.school_year = (int32_t)year;
    }
    static const char *later[] = {"q", "email", "type", "fields", "expand"};
    for (size_t i = 0; i < sizeof later / sizeof later[0]; i++)
        if (query_count(&c->query, later[i]))
            problem_bad_query(&p, later[i], "is not supported by this version of groupd");
    if (problem_any(&p)) {
        reply_problem(c->rep, &p);
        problem_free(&p);
        return;
    }
    problem_free(&p);
    if (l.have_org && !principal_covers(&c->who, l.org)) {
        reply_error(c->rep, 403, "forbidden", "organisation %u is outside this key's scope", l.org);
        return;
    }

    int rc = store_group_each(c->store, c->rtxn, collect, &l);
    if (rc) {
        free(l.hits);
        buf_free(&l.folded);
        call_store_error(c, "listing groups", rc);
        return;
    }
    if (l.sort == SORT_NAME)
        for (size_t i = 0; i < l.n; i++)
            l.hits[i].key = l.folded.data + (uintptr_t)l.hits[i].key;
    if (l.sort != SORT_ID || l.descending)
        qsort_r(l.hits, l.n, sizeof *l.hits, compare_hits, &l);

    list_head(c, l.n, limit, skip);
    size_t end = limit == 0 ? l.n : (size_t)(skip + limit < l.n ? skip + limit : l.n);
    for (size_t i = (size_t)skip; i < end; i++) {
        if (i > skip)
            reply_write(c->rep, ",", 1);
        reply_write(c->rep, l.hits[i].json, l.hits[i].json_len);
    }
    reply_writes(c->rep, "]}");
    free(l.hits);
    buf_free(&l.folded);
}
