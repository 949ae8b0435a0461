/*
 * libFuzzer harness: whole requests through the in-process handler
 * (app_handle: router, every handler, the store) over a temporary database
 * with keys of every kind, so write sequences are fuzzed too.
 *
 * Input: requests separated by a 0xFF byte (never in UTF-8).  A request is
 * "<key> <METHOD>\n<REQUEST_URI>\n<Content-Type>\n<body>"; <key> picks
 * an admin (a), a writer of organisation 101 (w), a reader (r), another
 * institution's admin (o) or none.  The database is made anew every 512
 * inputs so its size stays bounded.
 */
#include "fuzz_db.h"

static unsigned runs;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_db_init();
    return 0;
}

static const char *line(const char **p, const char *end, size_t *len)
{
    const char *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));
    *len = nl ? (size_t)(nl - s) : (size_t)(end - s);
    *p = nl ? nl + 1 : end;
    return s;
}

static void one(const char *s, const char *end)
{
    size_t n;
    const char *first = line(&s, end, &n);
    struct request req;
    request_init(&req);
    snprintf(req.request_id, sizeof req.request_id, "fuzz");
    const char *k = n ? memchr("awro", first[0], 4) : NULL;
    if (k && first[0])
        req.api_key = strdup(keys[k - "awro"]);
    size_t m = n > 2 ? n - 2 : 0;
    snprintf(req.method, sizeof req.method, "%.*s", (int)(m < 15 ? m : 15), first + 2);
    const char *uri = line(&s, end, &n);
    const char *q = memchr(uri, '?', n);
    buf_add(&req.path, uri, q ? (size_t)(q - uri) : n);
    if (q)
        buf_add(&req.query_string, q + 1, n - (size_t)(q + 1 - uri));
    else
        buf_reserve(&req.query_string, 0);
    const char *ct = line(&s, end, &n);
    if (n) {
        req.content_type = malloc(n + 1);
        memcpy(req.content_type, ct, n);
        req.content_type[n] = '\0';
    }
    buf_add(&req.body, s, (size_t)(end - s));
    struct reply rep;
    reply_init(&rep);
    app_handle(&app, &req, &rep);
    if (rep.status < 200 || rep.status > 599)
        abort();
    reply_free(&rep);
    request_free(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (++runs % 512 == 0)
        fresh_db();
    const char *s = (const char *)data, *end = s + size;
    for (int i = 0; i < 16 && s < end; i++) {
        const char *sep = memchr(s, 0xFF, (size_t)(end - s));
        one(s, sep ? sep : end);
        s = sep ? sep + 1 : end;
    }
    return 0;
}
