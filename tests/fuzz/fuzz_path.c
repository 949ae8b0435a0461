/*
 * libFuzzer harness: the path splitter and percent-decoder.  The input is
 * a REQUEST_URI (path and query), sent as GET with an admin key through
 * app_handle, whose router splits and decodes it (router.c), and decoded
 * on its own by pct_decode in both modes.
 */
#include "fuzz_db.h"
#include "query.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_db_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    for (int plus = 0; plus < 2; plus++) {
        struct buf out = BUF_INIT;
        pct_decode(s, size, plus, &out);
        if (out.len > size)
            abort(); /* decoding never grows the text */
        buf_free(&out);
    }
    struct request req;
    request_init(&req);
    snprintf(req.request_id, sizeof req.request_id, "fuzz");
    snprintf(req.method, sizeof req.method, "GET");
    req.api_key = strdup(keys[0]);
    const char *q = memchr(s, '?', size);
    buf_add(&req.path, s, q ? (size_t)(q - s) : size);
    if (q)
        buf_add(&req.query_string, q + 1, size - (size_t)(q + 1 - s));
    else
        buf_reserve(&req.query_string, 0);
    struct reply rep;
    reply_init(&rep);
    app_handle(&app, &req, &rep);
    if (rep.status != 200 && rep.status != 304 && (rep.status < 400 || rep.status > 503))
        abort();
    reply_free(&rep);
    request_free(&req);
    return 0;
}
