/* write_relay.c — a worker's side of the writer; see include/write_relay.h. */
#include "write_relay.h"

#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "write_op.h"
#include "write_wire.h"

int write_relay_listen(char *name, size_t len)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    socklen_t alen = sizeof(sa_family_t); /* autobind: the kernel names it */
    if (bind(fd, (struct sockaddr *)&a, alen) != 0 || listen(fd, WRITER_BACKLOG) != 0)
        goto fail;
    alen = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
        goto fail;
    size_t n = alen - offsetof(struct sockaddr_un, sun_path);
    if (n < 2 || a.sun_path[0] != '\0' || n > len) {
        errno = EINVAL;
        goto fail;
    }
    memcpy(name, a.sun_path + 1, n - 1);
    name[n - 1] = '\0';
    return fd;
fail:;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

socklen_t write_relay_sockaddr(const char *name, struct sockaddr_un *addr)
{
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    /* sun_path[0] stays '\0': the abstract namespace. */
    size_t n = strlen(name);
    if (n > sizeof addr->sun_path - 1)
        n = sizeof addr->sun_path - 1;
    memcpy(addr->sun_path + 1, name, n);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

void relay_init(struct relay *r, const char *name, long owner)
{
    r->fd = -1;
    r->owner = owner;
    r->addr_len = write_relay_sockaddr(name, &r->addr);
    struct buf none = BUF_INIT;
    r->ctype = none;
}

void relay_close(struct relay *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

static bool relay_connect(struct relay *r)
{
    if (r->fd >= 0)
        return true;
    r->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (r->fd < 0)
        return false;
    if (connect(r->fd, (const struct sockaddr *)&r->addr, r->addr_len) != 0) {
        relay_close(r);
        return false;
    }
    struct ucred cred = {0, 0, 0};
    socklen_t len = sizeof cred;
    if (getsockopt(r->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != geteuid() ||
        (r->owner && cred.pid != r->owner)) {
        log_message("the writer's socket is held by pid %d (user %u), not groupd's; "
                    "this worker applies its writes itself",
                    (int)cred.pid, (unsigned)cred.uid);
        relay_close(r);
        return false;
    }
    return true;
}

/* Sends op and receives the writer's answer into got. */
static int exchange(struct relay *r, const struct write_op *op, struct reply *got)
{
    struct buf frame = BUF_INIT;
    wire_put_u32(&frame, 0);
    write_op_encode(op, &frame);
    int rc = wire_send_frame(r->fd, &frame);
    size_t route;
    return rc ? rc : wire_recv_reply(r->fd, got, &route, &r->ctype, RELAY_TIMEOUT_MS);
}

enum relay_result relay_call(struct relay *r, const struct write_op *op, struct reply *rep)
{
    /* A kept connection may have been closed by a writer that was
     * replaced since: then the operation is sent once more, on a new one. */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!relay_connect(r))
            return RELAY_UNREACHED;
        struct reply got;
        reply_init(&got);
        int rc = exchange(r, op, &got);
        if (rc == 0) {
            /* The writer's part of the answer: status, its headers, body. */
            rep->status = got.status;
            rep->content_type = got.content_type;
            buf_add(&rep->headers, got.headers.data ? got.headers.data : "", got.headers.len);
            reply_take(rep, &got.body);
        }
        reply_free(&got);
        if (rc == 0)
            return RELAY_DONE;
        relay_close(r);
        /* EPIPE: the writer had closed its end; ECONNRESET: it closed it
         * with this operation unread.  Either way it never took it. */
        if (rc != EPIPE && rc != ECONNRESET)
            return RELAY_LOST;
    }
    return RELAY_UNREACHED;
}
