/* reply.c — building and sending replies; see include/http.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

void request_init(struct request *r)
{
    memset(r, 0, sizeof *r);
}

void request_free(struct request *r)
{
    buf_free(&r->path);
    buf_free(&r->prefix);
    buf_free(&r->query_string);
    free(r->content_type);
    free(r->api_key);
    free(r->if_none_match);
    buf_free(&r->body);
    memset(r, 0, sizeof *r);
}

void reply_init(struct reply *r)
{
    memset(r, 0, sizeof *r);
    r->status = 200;
}

void reply_free(struct reply *r)
{
    buf_free(&r->headers);
    buf_free(&r->body);
}

void reply_reset(struct reply *r)
{
    reply_sink sink = r->sink;
    void *ctx = r->sink_ctx;
    reply_free(r);
    reply_init(r);
    r->sink = sink;
    r->sink_ctx = ctx;
}

void reply_header(struct reply *r, const char *name, const char *fmt, ...)
{
    buf_adds(&r->headers, name);
    buf_add(&r->headers, ": ", 2);
    va_list ap;
    va_start(ap, fmt);
    /* Most headers are one string (X-Request-Id, ETag): no formatting. */
    if (strcmp(fmt, "%s") == 0)
        buf_adds(&r->headers, va_arg(ap, const char *));
    else
        buf_vaddf(&r->headers, fmt, ap);
    va_end(ap);
    buf_add(&r->headers, "\r\n", 2);
}

static int send_headers(struct reply *r, bool complete)
{
    struct buf h = BUF_INIT;
    buf_adds(&h, "Status: ");
    buf_add_u64(&h, (uint64_t)r->status);
    buf_addc(&h, ' ');
    buf_adds(&h, http_reason(r->status));
    buf_add(&h, "\r\n", 2);
    if (r->status != 304) {
        buf_adds(&h, "Content-Type: ");
        buf_adds(&h, r->content_type ? r->content_type : "application/json; charset=utf-8");
        buf_add(&h, "\r\n", 2);
    }
    if (complete && r->status != 304) {
        buf_adds(&h, "Content-Length: ");
        buf_add_u64(&h, r->body.len);
        buf_add(&h, "\r\n", 2);
    }
    buf_add(&h, r->headers.data, r->headers.len);
    buf_adds(&h, "\r\n");
    int rc = r->sink(r->sink_ctx, h.data, h.len);
    buf_free(&h);
    r->started = true;
    return rc;
}

void reply_write(struct reply *r, const char *data, size_t len)
{
    buf_add(&r->body, data, len);
    r->body_bytes += len;
    if (r->sink && r->body.len >= REPLY_FLUSH_AT) {
        if (!r->started)
            send_headers(r, false);
        if (!r->head)
            r->sink(r->sink_ctx, r->body.data, r->body.len);
        buf_reset(&r->body);
    }
}

void reply_writes(struct reply *r, const char *s)
{
    reply_write(r, s, strlen(s));
}

void reply_take(struct reply *r, struct buf *b)
{
    if (r->body.len || r->started) {
        reply_write(r, b->data, b->len);
        buf_free(b);
        return;
    }
    struct buf old = r->body;
    r->body = *b;
    *b = old;
    buf_free(b);
    r->body_bytes += r->body.len;
    if (r->sink && r->body.len >= REPLY_FLUSH_AT) {
        send_headers(r, false);
        if (!r->head)
            r->sink(r->sink_ctx, r->body.data, r->body.len);
        buf_reset(&r->body);
    }
}

int reply_finish(struct reply *r)
{
    if (!r->sink)
        return 0;
    int rc = 0;
    if (!r->started)
        rc = send_headers(r, true);
    if (!rc && r->body.len && r->status != 304 && !r->head)
        rc = r->sink(r->sink_ctx, r->body.data, r->body.len);
    buf_reset(&r->body);
    return rc;
}

void reply_problem(struct reply *r, const struct problem *p)
{
    r->status = p->status;
    r->content_type = NULL;
    buf_reset(&r->body);
    r->body_bytes = 0;
    struct buf json = BUF_INIT;
    problem_render(p, &json);
    reply_write(r, json.data, json.len);
    buf_free(&json);
}

void reply_error(struct reply *r, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct problem p;
    problem_init(&p);
    problem_set(&p, status, code, "%s", msg);
    reply_problem(r, &p);
    problem_free(&p);
}

/* If-None-Match: "*" or a comma-separated list of entity tags, each
 * perhaps weak (W/"..."); the weak comparison of RFC 9110 §8.8.3.2 is
 * the one a GET uses. */
static bool etag_listed(const char *list, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = list;
    while (*p) {
        p += strspn(p, " \t,");
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t len = strcspn(p, ",");
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == elen && memcmp(p, etag, len) == 0)
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

bool reply_etag(struct reply *r, const struct request *req, const char *etag)
{
    reply_header(r, "ETag", "%s", etag);
    if (!req->if_none_match || !etag_listed(req->if_none_match, etag))
        return false;
    r->status = 304;
    return true;
}

const char *http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 423: return "Locked";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    }
    return "Unknown";
}

bool content_type_is(const char *ct, const char *type)
{
    if (!ct)
        return false;
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    return n == strlen(type) && strncasecmp(ct, type, n) == 0;
}
