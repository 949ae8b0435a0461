/*
 * handler_group_list.c — GET /group: list and search (API.md §4).
 *
 * The query parameters become a store query; the store plans and reads
 * it (src/store/store_search.c), and each group of the page is written
 * here as the fields and expand parameters ask.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group_render.h"
#include "handlers.h"
#include "text.h"
#include "words.h"

/* Each q word is one index range read: a bound keeps a request's cost bounded. */
#define LIST_MAX_QUERY_WORDS 64

struct list {
    struct call *c;
    struct store_query q;
    uint32_t org;
    struct words words;
    uint32_t fields; /* 0: every member */
    bool expand;
    size_t emitted;
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

static void parse_sort(const char *v, struct store_query *l, struct problem *p)
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
    l->q.top = c->who.top_organisation;
    l->q.orgs = c->who.orgs;
    l->q.n_orgs = c->who.n_orgs;
    l->q.statuses = parse_statuses(c, p);
    uint64_t v;
    if (query_uint(&c->query, "organisation", UINT32_MAX, &v, p)) {
        l->org = (uint32_t)v;
        l->q.org = &l->org;
    }
    list_paging(c, &l->q.limit, &l->q.skip, p);
    const char *s = query_get(&c->query, "sort", p);
    if (s)
        parse_sort(s, &l->q, p);
    s = query_get(&c->query, "fields", p);
    if (s)
        parse_fields(s, l, p);
    s = query_get(&c->query, "expand", p);
    if (s) {
        if (strcmp(s, "participants") != 0)
            problem_bad_query(p, "expand", "the only expansion is participants");
        l->expand = true;
    }
    l->q.external_id = query_get(&c->query, "externalId", p);
    l->q.email = query_get(&c->query, "email", p);
    l->q.type = query_get(&c->query, "type", p);
    if (query_uint(&c->query, "schoolYear", 2999, &v, p)) {
        if (v < 1900)
            problem_bad_query(p, "schoolYear", "must be from 1900 to 2999");
        l->q.school_year = (int32_t)v;
    }
    size_t q_len;
    s = query_get_text(&c->query, "q", &q_len, p);
    if (s) {
        words_add(&l->words, s, q_len);
        words_drop_implied(&l->words);
        if (l->words.n > LIST_MAX_QUERY_WORDS)
            problem_bad_query(p, "q", "has more than %d different words", LIST_MAX_QUERY_WORDS);
        l->q.words = &l->words;
    }
    return !problem_any(p);
}

/* ---- output ---- */

static int head(void *ctx, uint64_t count)
{
    struct list *l = ctx;
    list_head(l->c, count, l->q.limit, l->q.skip);
    return 0;
}

static int emit(void *ctx, const struct group_record *r)
{
    struct list *l = ctx;
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
            return STORE_CORRUPT;
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

/* ---- the handler ---- */

/* A list's ETag: the top's list revision (every change to one of its
 * groups moves it) and a hash of what was asked and by which key. */
static void list_etag(struct call *c, uint64_t rev, char out[64])
{
    unsigned char key_id[8];
    be64_put(key_id, c->who.key_id);
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
    l.words = (struct words)WORDS_INIT;
    if (!parse_list(c, &l, &p)) {
        reply_problem(c->rep, &p);
        problem_free(&p);
        words_free(&l.words);
        return;
    }
    problem_free(&p);
    if (l.q.org && !principal_covers(&c->who, l.org)) {
        reply_error(c->rep, 403, "forbidden", "organisation %u is outside this key's scope", l.org);
        words_free(&l.words);
        return;
    }
    uint64_t rev;
    int rc = store_top_rev(c->store, c->rtxn, c->who.top_organisation, &rev);
    if (!rc) {
        char etag[64];
        list_etag(c, rev, etag);
        if (reply_etag(c->rep, c->req, etag)) {
            words_free(&l.words);
            return;
        }
        l.q.rev = rev;
        struct store_rows rows = {head, emit, &l};
        rc = store_search(c->store, c->rtxn, &l.q, &rows);
    }
    words_free(&l.words);
    if (rc) {
        /* Replaces what was buffered; a reply already streaming is cut. */
        call_store_error(c, "listing groups", rc);
        return;
    }
    reply_writes(c->rep, "]}");
}
