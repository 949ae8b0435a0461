/* writer.c — the writer process's loop; see include/writer.h. */
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdbool.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "write_batch.h"
#include "write_relay.h"
#include "write_wire.h"

/* A worker sends a whole frame at once: a frame still incomplete after
 * this long is a broken peer, and its connection is closed. */
#define FRAME_TIMEOUT_MS 5000

struct clients {
    struct pollfd pfd[WRITER_MAX_CLIENTS + 2]; /* [0]: the listening socket; after the
                                                  connections, the stop signal */
    size_t n;                                  /* connections, after [0] */
};

static void drop(struct clients *c, size_t i)
{
    close(c->pfd[i].fd);
    c->pfd[i] = c->pfd[c->n];
    c->n--;
}

static void accept_all(struct clients *c, int listen_fd)
{
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                log_message("writer: accept: %s", strerror(errno));
            return;
        }
        struct ucred cred;
        socklen_t len = sizeof cred;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != geteuid() ||
            c->n == WRITER_MAX_CLIENTS) {
            log_message("writer: refused a connection (%s)",
                        c->n == WRITER_MAX_CLIENTS ? "too many" : "another user");
            close(fd);
            continue;
        }
        c->n++;
        c->pfd[c->n].fd = fd;
        c->pfd[c->n].events = POLLIN;
        c->pfd[c->n].revents = 0;
    }
}

/* The worker closed its end of the connection (a request it sent may
 * still be unread before that close). */
static bool worker_gone(int fd)
{
    struct pollfd p = {fd, POLLRDHUP, 0};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

int writer_give_back(struct store *s, size_t carried)
{
    if (carried <= WRITER_GIVE_BACK_AT)
        return 0;
    if (store_reopen(s) != 0) {
        log_message("writer: cannot open the database again: %s", store_errmsg(s));
        return -1;
    }
    malloc_trim(0);
    return 1;
}

/* Reads one operation from fd: 0, WIRE_EOF, or an errno value. */
static int recv_op(int fd, struct write_op *op, size_t *bytes)
{
    struct buf f = BUF_INIT;
    int rc = wire_recv_frame(fd, &f, FRAME_TIMEOUT_MS);
    if (!rc && !write_op_decode(f.data, f.len, op))
        rc = EPROTO;
    *bytes = f.cap;
    buf_free(&f);
    return rc;
}

/* One operation from each connection that has one, applied together, and
 * every reply sent.  -1: the store could not be opened again (the writer
 * stops and the master starts another). */
static int serve_batch(struct clients *c, struct app *app)
{
    static struct write_op ops[WRITER_MAX_CLIENTS];
    static struct write_item items[WRITER_MAX_CLIENTS];
    static size_t from[WRITER_MAX_CLIENTS]; /* the connection (pfd index) of each item */
    size_t n = 0;
    for (size_t i = c->n; i >= 1; i--) {
        if (!(c->pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        int rc = recv_op(c->pfd[i].fd, &ops[n], &items[n].bytes);
        if (rc) {
            if (rc != WIRE_EOF)
                log_message("writer: a worker's operation could not be read: %s", strerror(rc));
            drop(c, i);
            continue;
        }
        if (worker_gone(c->pfd[i].fd)) {
            /* Its worker stopped waiting (it answered 503 after
             * RELAY_TIMEOUT_MS, or it died): applying the change now would
             * make one that nobody is told of. */
            log_message("writer: request %s dropped unapplied: its worker no longer waits",
                        ops[n].request_id);
            write_op_free(&ops[n]);
            drop(c, i);
            continue;
        }
        items[n].op = &ops[n];
        reply_init(&items[n].rep);
        from[n] = (size_t)c->pfd[i].fd;
        n++;
    }
    if (!n)
        return 0;
    struct write_batch_stats st = {0, 0, 0, 0};
    write_batch_apply(app, items, n, &st);
    const uint64_t counts[METRICS_WRITE_KINDS] = {st.batches, st.batched, st.alone, st.reruns};
    metrics_writes(app->metrics, counts);
    size_t carried = 0;
    for (size_t k = 0; k < n; k++) {
        int rc = wire_send_reply((int)from[k], &items[k].rep, 0);
        if (rc)
            log_message("writer: request %s: the reply could not be sent: %s", ops[k].request_id,
                        strerror(rc));
        carried += items[k].bytes + items[k].rep.body.cap;
        reply_free(&items[k].rep);
        write_op_free(&ops[k]);
    }
    return writer_give_back(app->store, carried) < 0 ? -1 : 0;
}

static void beat(void *alive)
{
    liveness_beat(alive);
}

int writer_serve(int listen_fd, struct app *app, int stop_fd)
{
    store_on_progress(beat, app->alive);
    int fl = fcntl(listen_fd, F_GETFL);
    if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        log_message("writer: cannot make its socket non-blocking: %s", strerror(errno));
        return -1;
    }
    static struct clients c;
    c.n = 0;
    c.pfd[0].fd = listen_fd;
    c.pfd[0].events = POLLIN;
    struct pollfd stop = {stop_fd, POLLIN, 0};
    int rc = 0;
    for (;;) {
        liveness_beat(app->alive);
        /* The stop signal is read before the sockets, so a busy writer
         * sees it too; an idle one wakes to beat (liveness.h). */
        if (poll(&stop, 1, 0) > 0)
            break;
        c.pfd[c.n + 1] = stop;
        int r = poll(c.pfd, c.n + 2, LIVENESS_BEAT_MS);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            log_message("writer: poll: %s", strerror(errno));
            rc = -1;
            break;
        }
        if (c.pfd[0].revents & POLLIN)
            accept_all(&c, listen_fd);
        if (serve_batch(&c, app) != 0) {
            rc = -1;
            break;
        }
    }
    /* No new connections (those that come wait on the master's socket for
     * the next writer); requests already sent are applied and answered
     * before it stops. */
    close(listen_fd);
    while (rc == 0 && c.n && poll(c.pfd + 1, c.n, 0) > 0)
        rc = serve_batch(&c, app);
    for (size_t i = c.n; i >= 1; i--)
        drop(&c, i);
    store_on_progress(NULL, NULL);
    log_flush();
    return rc;
}
