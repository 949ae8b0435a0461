/*
 * http.h — a request as groupd sees it, and the reply it builds.
 *
 * The FastCGI front (fcgi_front.c) fills a request from the web server's
 * parameters and body and sends a reply back; the tests fill requests by
 * hand.  Handlers only ever see these two structures.
 *
 * A reply is buffered unless a sink is set: then reply_write sends the
 * headers and whatever is buffered once the body passes REPLY_FLUSH_AT
 * bytes, so a `limit=0` list streams in bounded memory.
 */
#ifndef GROUPD_HTTP_H
#define GROUPD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "problem.h"

#define REPLY_FLUSH_AT 65536
#define REQUEST_ID_MAX 24

struct request {
    char method[16];
    struct buf path;   /* after the prefix, still percent-encoded, no query */
    struct buf prefix; /* SCRIPT_NAME */
    struct buf query_string;
    char *content_type; /* NULL when absent */
    char *api_key;      /* from api-key or Authorization: Bearer; NULL when absent */
    char *if_none_match;
    struct buf body;
    bool body_too_large; /* CONTENT_LENGTH over --max-body: body was drained, not kept */
    bool body_cut;       /* the body ended before CONTENT_LENGTH: refused (400) */
    char request_id[REQUEST_ID_MAX];
};

typedef int (*reply_sink)(void *ctx, const char *data, size_t len);

struct reply {
    int status;
    struct buf headers; /* extra header lines, each ending in \r\n */
    struct buf body;
    reply_sink sink; /* NULL: everything stays in body */
    void *sink_ctx;
    bool started;             /* headers have gone to the sink */
    size_t body_bytes;        /* body bytes produced, sent or not */
    const char *content_type; /* NULL: application/json; charset=utf-8 */
    bool head;                /* a HEAD request: headers only, the body is counted, not sent */
};

void request_init(struct request *r);
void request_free(struct request *r);
void reply_init(struct reply *r);
void reply_free(struct reply *r);
/* Empties a reply that was not started, to be built again: the sink stays. */
void reply_reset(struct reply *r);

void reply_header(struct reply *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void reply_write(struct reply *r, const char *data, size_t len);
void reply_writes(struct reply *r, const char *s);
/* reply_write of a whole buffer that the reply takes over (b is left
 * empty): a large answer is not copied once more. */
void reply_take(struct reply *r, struct buf *b);
/* Sends what is left (headers too, if not yet sent) to the sink. */
int reply_finish(struct reply *r);

/* An error reply: the problem's status and JSON. */
void reply_problem(struct reply *r, const struct problem *p);
void reply_error(struct reply *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Sends etag (a quoted entity tag) as ETag; when the request's
 * If-None-Match lists it (or is "*"), makes the reply a 304 without body
 * and returns true: the handler then writes nothing more. */
bool reply_etag(struct reply *r, const struct request *req, const char *etag);

const char *http_reason(int status);

/* True when the media type of Content-Type ct is `type` (compared without
 * case), whatever parameters (charset, boundary) follow ';'. */
bool content_type_is(const char *ct, const char *type);

#endif
