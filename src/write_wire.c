/* write_wire.c — framing requests and replies; see include/write_wire.h. */
#include "write_wire.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- writing ---- */

static void put_u32(struct buf *b, uint32_t v)
{
    buf_add_be32(b, v);
}

static void put_bytes(struct buf *b, const char *p, size_t len)
{
    put_u32(b, (uint32_t)len);
    buf_add(b, p, len);
}

static void put_buf(struct buf *b, const struct buf *v)
{
    put_bytes(b, v->data, v->len);
}

static void put_opt(struct buf *b, const char *s)
{
    buf_addc(b, s ? 1 : 0);
    if (s)
        put_bytes(b, s, strlen(s));
}

static int send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Sends b, whose first 4 bytes were left for the length. */
static int send_frame(int fd, struct buf *b)
{
    be32_put(b->data, (uint32_t)(b->len - 4));
    int rc = send_all(fd, b->data, b->len);
    buf_free(b);
    return rc;
}

int wire_send_request(int fd, const struct request *req)
{
    struct buf b = BUF_INIT;
    put_u32(&b, 0);
    put_bytes(&b, req->method, strlen(req->method));
    put_bytes(&b, req->request_id, strlen(req->request_id));
    buf_addc(&b, (char)((req->body_too_large ? 1 : 0) | (req->body_cut ? 2 : 0)));
    put_buf(&b, &req->path);
    put_buf(&b, &req->prefix);
    put_buf(&b, &req->query_string);
    put_opt(&b, req->content_type);
    put_opt(&b, req->api_key);
    put_opt(&b, req->if_none_match);
    put_buf(&b, &req->body);
    return send_frame(fd, &b);
}

int wire_send_reply(int fd, const struct reply *rep, size_t route)
{
    struct buf b = BUF_INIT;
    put_u32(&b, 0);
    put_u32(&b, (uint32_t)rep->status);
    put_u32(&b, (uint32_t)route);
    put_opt(&b, rep->content_type);
    put_buf(&b, &rep->headers);
    put_buf(&b, &rep->body);
    return send_frame(fd, &b);
}

/* ---- reading ---- */

/* Reads exactly len bytes.  WIRE_EOF only when the peer closed before the
 * first of them and `first` says this is where a frame begins. */
static int recv_all(int fd, char *p, size_t len, int timeout_ms, bool first)
{
    bool any = false;
    while (len > 0) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int r = poll(&pfd, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errno;
        if (r == 0)
            return ETIMEDOUT;
        ssize_t n = recv(fd, p, len, 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return errno;
        }
        if (n == 0)
            return first && !any ? WIRE_EOF : EPROTO;
        any = true;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int recv_frame(int fd, struct buf *b, int timeout_ms)
{
    char head[4];
    int rc = recv_all(fd, head, 4, timeout_ms, true);
    if (rc)
        return rc;
    size_t len = be32_get(head);
    if (len > WIRE_MAX_FRAME)
        return EPROTO;
    buf_reserve(b, len);
    rc = recv_all(fd, b->data, len, timeout_ms, false);
    if (!rc) {
        b->len = len;
        b->data[len] = '\0';
    }
    return rc;
}

struct cursor {
    const char *p;
    size_t left;
    bool bad;
};

static const char *take(struct cursor *c, size_t n)
{
    if (c->bad || n > c->left) {
        c->bad = true;
        return NULL;
    }
    const char *at = c->p;
    c->p += n;
    c->left -= n;
    return at;
}

static uint32_t get_u32(struct cursor *c)
{
    const char *at = take(c, 4);
    return at ? be32_get(at) : 0;
}

static void get_buf(struct cursor *c, struct buf *out)
{
    uint32_t len = get_u32(c);
    const char *at = take(c, len);
    buf_reset(out);
    if (at)
        buf_add(out, at, len);
    else
        buf_reserve(out, 0);
}

/* A NUL-terminated copy, or NULL when absent. */
static char *get_opt(struct cursor *c)
{
    const char *flag = take(c, 1);
    if (!flag || !*flag)
        return NULL;
    uint32_t len = get_u32(c);
    const char *at = take(c, len);
    if (!at)
        return NULL;
    char *s = malloc((size_t)len + 1);
    if (!s)
        abort();
    memcpy(s, at, len);
    s[len] = '\0';
    return s;
}

/* Copies a string field into a fixed array; false when it does not fit. */
static bool get_fixed(struct cursor *c, char *out, size_t size)
{
    uint32_t len = get_u32(c);
    const char *at = take(c, len);
    if (!at || len >= size)
        return false;
    memcpy(out, at, len);
    out[len] = '\0';
    return true;
}

/* Receives a frame into f and points c at it. */
static int recv_fields(int fd, struct buf *f, struct cursor *c, int timeout_ms)
{
    int rc = recv_frame(fd, f, timeout_ms);
    if (rc)
        buf_free(f);
    c->p = f->data;
    c->left = rc ? 0 : f->len;
    c->bad = false;
    return rc;
}

int wire_recv_request(int fd, struct request *req, int timeout_ms)
{
    struct buf f = BUF_INIT;
    struct cursor c;
    int rc = recv_fields(fd, &f, &c, timeout_ms);
    if (rc)
        return rc;
    bool ok = get_fixed(&c, req->method, sizeof req->method) &&
              get_fixed(&c, req->request_id, sizeof req->request_id);
    const char *flags = take(&c, 1);
    if (flags) {
        req->body_too_large = (*flags & 1) != 0;
        req->body_cut = (*flags & 2) != 0;
    }
    get_buf(&c, &req->path);
    get_buf(&c, &req->prefix);
    get_buf(&c, &req->query_string);
    req->content_type = get_opt(&c);
    req->api_key = get_opt(&c);
    req->if_none_match = get_opt(&c);
    get_buf(&c, &req->body);
    buf_free(&f);
    return ok && !c.bad && c.left == 0 ? 0 : EPROTO;
}

int wire_recv_reply(int fd, struct reply *rep, size_t *route, struct buf *ctype, int timeout_ms)
{
    struct buf f = BUF_INIT;
    struct cursor c;
    int rc = recv_fields(fd, &f, &c, timeout_ms);
    if (rc)
        return rc;
    rep->status = (int)get_u32(&c);
    *route = get_u32(&c);
    char *ct = get_opt(&c);
    buf_reset(ctype);
    if (ct) {
        buf_adds(ctype, ct);
        free(ct);
    }
    rep->content_type = ct ? ctype->data : NULL;
    get_buf(&c, &rep->headers);
    get_buf(&c, &rep->body);
    rep->body_bytes = rep->body.len;
    buf_free(&f);
    return !c.bad && c.left == 0 ? 0 : EPROTO;
}
