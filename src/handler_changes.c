/*
 * handler_changes.c — GET /changes, the change feed (API.md §7).
 *
 * Entries come from the store's per-tenant feed (store_feed.c) in seq
 * order.  For a key restricted to some organisations, entries of the
 * tenant's other organisations are skipped: those groups do not exist for
 * it.  `last` is the seq of the last entry returned, or `since` when none
 * is, so a consumer keeps asking with since=last.  A `since` older than
 * what the feed keeps is 410 gone: the consumer resyncs through GET /group
 * and goes on from the seq the 410 names.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "handlers.h"

#define CHANGES_DEFAULT_LIMIT 100
#define CHANGES_MAX_LIMIT 1000

struct page {
    const struct principal *who;
    uint64_t limit, n, last;
    struct buf out;
};

static int add_entry(void *ctx, const struct change_entry *e)
{
    struct page *pg = ctx;
    if (!principal_covers(pg->who, e->organisation))
        return 0;
    char at[ISO_TIME_LEN + 1];
    clock_format_iso(e->at, at);
    struct buf *out = &pg->out;
    if (pg->n)
        buf_addc(out, ',');
    buf_adds(out, "{\"seq\":");
    buf_add_u64(out, e->seq);
    buf_add_member(out, "type");
    buf_addc(out, '"');
    buf_adds(out, change_type_name(e->type));
    buf_addc(out, '"');
    buf_add_member(out, "id");
    buf_add_u64(out, e->id);
    if (change_type_in_group(e->type)) {
        buf_add_member(out, "group");
        buf_add_u64(out, e->group);
    }
    buf_add_member(out, "at");
    buf_addc(out, '"');
    buf_add(out, at, ISO_TIME_LEN);
    buf_adds(out, "\"}");
    pg->last = e->seq;
    return ++pg->n == pg->limit ? 1 : 0;
}

void changes_list(struct call *c)
{
    struct problem p;
    problem_init(&p);
    uint64_t since = 0, limit = CHANGES_DEFAULT_LIMIT;
    query_uint(&c->query, "since", UINT64_MAX, &since, &p);
    if (query_uint(&c->query, "limit", CHANGES_MAX_LIMIT, &limit, &p) && limit == 0)
        problem_bad_query(&p, "limit", "must be a whole number from 1 to %d", CHANGES_MAX_LIMIT);
    if (problem_any(&p)) {
        reply_problem(c->rep, &p);
        problem_free(&p);
        return;
    }
    problem_free(&p);
    struct page pg = {&c->who, limit, 0, since, BUF_INIT};
    buf_reserve(&pg.out, 64 + limit * 96);
    buf_adds(&pg.out, "{\"results\":[");
    uint64_t oldest;
    int rc = store_changes_each(c->store, c->rtxn, c->who.top_organisation, since, add_entry, &pg,
                                &oldest);
    if (rc == MDB_NOTFOUND) {
        buf_free(&pg.out);
        problem_init(&p);
        problem_add(&p, 410, "gone", 0, "since",
                    "is older than the changes kept (since must be at least %llu): resync "
                    "through GET /group, then follow the feed from %llu",
                    (unsigned long long)oldest, (unsigned long long)oldest);
        reply_problem(c->rep, &p);
        problem_free(&p);
        return;
    }
    if (rc) {
        buf_free(&pg.out);
        call_store_error(c, "reading the change feed", rc);
        return;
    }
    buf_adds(&pg.out, "],\"last\":");
    buf_add_u64(&pg.out, pg.last);
    buf_addc(&pg.out, '}');
    reply_buf(c, &pg.out);
}
