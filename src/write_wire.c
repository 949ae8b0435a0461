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

void wire_put_u32(struct buf *b, uint32_t v)
{
    buf_add_be32(b, v);
}

void wire_put_bytes(struct buf *b, const char *p, size_t len)
{
    wire_put_u32(b, (uint32_t)len);
    buf_add(b, p, len);
}

void wire_put_buf(struct buf *b, const struct buf *v)
{
    wire_put_bytes(b, v->data, v->len);
}

void wire_put_opt(struct buf *b, const char *s)
{
    buf_addc(b, s ? 1 : 0);
    if (s)
        wire_put_bytes(b, s, strlen(s));
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

int wire_send_frame(int fd, struct buf *b)
{
    be32_put(b->data, (uint32_t)(b->len - 4));
    int rc = send_all(fd, b->data, b->len);
    buf_free(b);
    return rc;
}

int wire_send_reply(int fd, const struct reply *rep, size_t route)
{
    struct buf b = BUF_INIT;
    wire_put_u32(&b, 0);
    wire_put_u32(&b, (uint32_t)rep->status);
    wire_put_u32(&b, (uint32_t)route);
    wire_put_opt(&b, rep->content_type);
    wire_put_buf(&b, &rep->headers);
    wire_put_buf(&b, &rep->body);
    return wire_send_frame(fd, &b);
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

int wire_recv_frame(int fd, struct buf *b, int timeout_ms)
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

const char *wire_take(struct wire_cursor *c, size_t n)
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

uint32_t wire_get_u32(struct wire_cursor *c)
{
    const char *at = wire_take(c, 4);
    return at ? be32_get(at) : 0;
}

void wire_get_buf(struct wire_cursor *c, struct buf *out)
{
    uint32_t len = wire_get_u32(c);
    const char *at = wire_take(c, len);
    buf_reset(out);
    if (at)
        buf_add(out, at, len);
    else
        buf_reserve(out, 0);
}

char *wire_get_opt(struct wire_cursor *c)
{
    const char *flag = wire_take(c, 1);
    if (flag && *flag != 0 && *flag != 1)
        c->bad = true; /* a presence byte is 0 or 1 */
    return flag && *flag == 1 ? wire_get_str(c) : NULL;
}

char *wire_get_str(struct wire_cursor *c)
{
    uint32_t len = wire_get_u32(c);
    const char *at = wire_take(c, len);
    if (!at || memchr(at, '\0', len)) {
        c->bad = true;
        return NULL;
    }
    char *s = malloc((size_t)len + 1);
    if (!s)
        abort();
    memcpy(s, at, len);
    s[len] = '\0';
    return s;
}

/* Copies a string field into a fixed array; false when it does not fit. */
bool wire_get_fixed(struct wire_cursor *c, char *out, size_t size)
{
    uint32_t len = wire_get_u32(c);
    const char *at = wire_take(c, len);
    if (!at || len >= size || memchr(at, '\0', len))
        return false;
    memcpy(out, at, len);
    out[len] = '\0';
    return true;
}

/* Receives a frame into f and points c at it. */
static int recv_fields(int fd, struct buf *f, struct wire_cursor *c, int timeout_ms)
{
    int rc = wire_recv_frame(fd, f, timeout_ms);
    if (rc)
        buf_free(f);
    c->p = f->data;
    c->left = rc ? 0 : f->len;
    c->bad = false;
    return rc;
}

int wire_recv_reply(int fd, struct reply *rep, size_t *route, struct buf *ctype, int timeout_ms)
{
    struct buf f = BUF_INIT;
    struct wire_cursor c;
    int rc = recv_fields(fd, &f, &c, timeout_ms);
    if (rc)
        return rc;
    rep->status = (int)wire_get_u32(&c);
    *route = wire_get_u32(&c);
    char *ct = wire_get_opt(&c);
    buf_reset(ctype);
    if (ct) {
        buf_adds(ctype, ct);
        free(ct);
    }
    rep->content_type = ct ? ctype->data : NULL;
    wire_get_buf(&c, &rep->headers);
    wire_get_buf(&c, &rep->body);
    rep->body_bytes = rep->body.len;
    buf_free(&f);
    return !c.bad && c.left == 0 ? 0 : EPROTO;
}
