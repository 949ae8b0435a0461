/* list_page.c — paging and the list envelope shared by list endpoints; see include/handlers.h. */
#include "clock.h"
#include "handlers.h"

void list_paging(struct call *c, uint64_t *limit, uint64_t *skip, struct problem *p)
{
    uint64_t page = 0, page_size = 0;
    *limit = LIST_DEFAULT_LIMIT;
    *skip = 0;
    bool have_limit = query_uint(&c->query, "limit", LIST_MAX_LIMIT, limit, p);
    bool have_skip = query_uint(&c->query, "skip", UINT32_MAX, skip, p);
    bool have_page = query_uint(&c->query, "page", UINT32_MAX, &page, p);
    bool have_size = query_uint(&c->query, "pageSize", LIST_MAX_LIMIT, &page_size, p);
    if ((have_page || have_size) && (have_limit || have_skip))
        problem_bad_query(p, "page", "cannot be combined with limit or skip");
    if (have_page && page < 1)
        problem_bad_query(p, "page", "must be 1 or more");
    if (have_size && page_size < 1)
        problem_bad_query(p, "pageSize", "must be from 1 to %d", LIST_MAX_LIMIT);
    if (have_page || have_size) {
        *limit = have_size ? page_size : LIST_DEFAULT_LIMIT;
        *skip = ((have_page && page ? page : 1) - 1) * *limit;
    }
}

void list_head(struct call *c, size_t count, uint64_t limit, uint64_t skip)
{
    char now[ISO_TIME_LEN + 1];
    clock_format_iso(clock_now_ms(), now);
    struct buf head = BUF_INIT;
    buf_adds(&head, "{\"metadata\":{\"timestamp\":\"");
    buf_add(&head, now, ISO_TIME_LEN);
    buf_adds(&head, "\",\"resultSet\":{\"count\":");
    buf_add_u64(&head, count);
    buf_adds(&head, ",\"limit\":");
    buf_add_u64(&head, limit);
    buf_adds(&head, ",\"skip\":");
    buf_add_u64(&head, skip);
    buf_adds(&head, "}},\"results\":[");
    reply_write(c->rep, head.data, head.len);
    buf_free(&head);
}
