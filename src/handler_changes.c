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
    /* The end every entry of one record shares: `,"group":G` for
     * participant and event entries, then `,"at":"..."}`.  Built once per
     * record (they share the group and the time), so an entry costs two
     * numbers and a copy. */
    uint64_t tail_group;
    int64_t tail_at;
    bool have_tail;
    char tail[96];
    char at[ISO_TIME_LEN + 1]; /* tail_at, formatted */
    size_t tail_len, at_from;  /* at_from: where `,"at"` starts in tail */
};

static void build_tail(struct page *pg, const struct change_entry *e)
{
    if (!pg->have_tail || pg->tail_at != e->at) {
        clock_format_iso(e->at, pg->at);
        pg->tail_at = e->at;
    }
    char *p = pg->tail;
    memcpy(p, ",\"group\":", 9);
    p = u64_digits(p + 9, e->group);
    pg->at_from = (size_t)(p - pg->tail);
    memcpy(p, ",\"at\":\"", 7);
    memcpy(p + 7, pg->at, ISO_TIME_LEN);
    p += 7 + ISO_TIME_LEN;
    memcpy(p, "\"}", 2);
    pg->tail_len = (size_t)(p + 2 - pg->tail);
    pg->tail_group = e->group;
    pg->have_tail = true;
}

static int add_entry(void *ctx, const struct change_entry *e)
{
    struct page *pg = ctx;
    if (!principal_covers(pg->who, e->organisation))
        return 0;
    if (!pg->have_tail || pg->tail_group != e->group || pg->tail_at != e->at)
        build_tail(pg, e);
    const char *name = change_type_name(e->type);
    size_t name_len = strlen(name);
    char entry[64 + 32 + sizeof pg->tail], *p = entry;
    if (pg->n)
        *p++ = ',';
    memcpy(p, "{\"seq\":", 7);
    p = u64_digits(p + 7, e->seq);
    memcpy(p, ",\"type\":\"", 9);
    memcpy(p + 9, name, name_len);
    p += 9 + name_len;
    memcpy(p, "\",\"id\":", 7);
    p = u64_digits(p + 7, e->id);
    size_t from = change_type_in_group(e->type) ? 0 : pg->at_from;
    memcpy(p, pg->tail + from, pg->tail_len - from);
    p += pg->tail_len - from;
    buf_add(&pg->out, entry, (size_t)(p - entry));
    pg->last = e->seq;
    return ++pg->n == pg->limit ? 1 : 0;
}

void changes_list(struct call *c)
{
    struct problem p;
    problem_init(&p);
    uint64_t since = 0, limit = CHANGES_DEFAULT_LIMIT;
    query_uint(&c->query, "since", UINT64_MAX, &since, &p);
    query_uint_range(&c->query, "limit", 1, CHANGES_MAX_LIMIT, &limit, &p);
    if (problem_any(&p)) {
        reply_problem(c->rep, &p);
        problem_free(&p);
        return;
    }
    problem_free(&p);
    struct page pg = {&c->who, limit, 0, since, BUF_INIT, 0, 0, false, "", "", 0, 0};
    buf_reserve(&pg.out, 64 + limit * 112);
    buf_adds(&pg.out, "{\"results\":[");
    uint64_t oldest;
    int rc = store_changes_each(c->store, c->rtxn, c->who.top_organisation, since, add_entry, &pg,
                                &oldest);
    if (rc == STORE_ABSENT) {
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
