/*
 * fcgi_front.c — libfcgi in, app_handle, libfcgi out; see include/front.h.
 *
 * Every parameter that outlives the accept is copied (libfcgi frees them
 * at the next FCGX_Accept_r).  The body is read to exactly CONTENT_LENGTH
 * bytes; a body over --max-body is read and thrown away so the web server
 * is never left writing into a closed request, and the app answers 413
 * at its place in the contract's order of checks.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "front.h"
#include "log.h"
#include "write_op.h"
#include "write_relay.h"

/* The CGI parameters the app reads, found in one pass over envp (libfcgi's
 * FCGX_GetParam scans the whole list once per name).  As with
 * FCGX_GetParam, the first of repeated names counts.  The strings are
 * libfcgi's and die at the next accept: whatever outlives it is copied. */
struct cgi_params {
    const char *method, *uri, *script, *content_type, *content_length, *if_none_match, *api_key,
        *authorization;
};

static void take_params(char **envp, struct cgi_params *p)
{
    static const struct {
        const char *name;
        size_t len;
        size_t at;
    } wanted[] = {
#define WANT(n, f) {n "=", sizeof n, offsetof(struct cgi_params, f)}
        WANT("REQUEST_METHOD", method),
        WANT("REQUEST_URI", uri),
        WANT("SCRIPT_NAME", script),
        WANT("CONTENT_TYPE", content_type),
        WANT("CONTENT_LENGTH", content_length),
        WANT("HTTP_IF_NONE_MATCH", if_none_match),
        WANT("HTTP_API_KEY", api_key),
        WANT("HTTP_AUTHORIZATION", authorization),
#undef WANT
    };
    memset(p, 0, sizeof *p);
    for (; envp && *envp; envp++) {
        const char *e = *envp;
        /* Only these four initials name a wanted parameter. */
        if (e[0] != 'R' && e[0] != 'S' && e[0] != 'C' && e[0] != 'H')
            continue;
        for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
            if (e[0] != wanted[i].name[0] || strncmp(e, wanted[i].name, wanted[i].len) != 0)
                continue;
            const char **slot = (const char **)((char *)p + wanted[i].at);
            if (!*slot)
                *slot = e + wanted[i].len;
            break;
        }
    }
}

static char *copy_or_null(const char *v)
{
    if (!v)
        return NULL;
    char *c = strdup(v);
    if (!c)
        abort();
    return c;
}

/* The path relative to SCRIPT_NAME, taken from the raw REQUEST_URI. */
static void take_path(const struct cgi_params *p, struct request *req)
{
    const char *uri = p->uri ? p->uri : "/";
    size_t len = strcspn(uri, "?");
    if (uri[len] == '?')
        buf_adds(&req->query_string, uri + len + 1);
    else
        buf_reserve(&req->query_string, 0);
    size_t slen = p->script ? strlen(p->script) : 0;
    if (slen && slen <= len && strncmp(uri, p->script, slen) == 0) {
        buf_add(&req->prefix, p->script, slen);
        uri += slen;
        len -= slen;
    }
    buf_add(&req->path, uri, len);
}

/* The key from api-key, else from Authorization: Bearer.  An empty api-key
 * header counts as none, whatever the web server passes on (nginx with
 * groupd_fastcgi_params leaves it out, Apache passes it empty). */
static void take_key(const struct cgi_params *p, struct request *req)
{
    if (p->api_key && *p->api_key) {
        req->api_key = copy_or_null(p->api_key);
        return;
    }
    const char *auth = p->authorization;
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        auth += 7;
        while (*auth == ' ')
            auth++;
        req->api_key = copy_or_null(auth);
    }
}

/* Reads exactly CONTENT_LENGTH bytes; keeps them unless over max_body.
 * When the stream ends before that (a client or web server that hands
 * over less than it announced), the request is marked cut: the router
 * refuses it, so no part of a body is ever applied. */
static void take_body(FCGX_Request *fr, const char *cl, struct request *req, size_t max_body)
{
    unsigned long long want = cl && *cl ? strtoull(cl, NULL, 10) : 0;
    if (want > max_body)
        req->body_too_large = true;
    else
        buf_reserve(&req->body, (size_t)want);
    char chunk[65536];
    while (want > 0) {
        int n = FCGX_GetStr(chunk, want < sizeof chunk ? (int)want : (int)sizeof chunk, fr->in);
        if (n <= 0)
            break;
        if (!req->body_too_large)
            buf_add(&req->body, chunk, (size_t)n);
        want -= (unsigned long long)n;
    }
    if (want > 0) {
        req->body_too_large = false;
        req->body_cut = true;
        log_message("request %s: the body ended %llu bytes short of CONTENT_LENGTH %s; refused",
                    req->request_id, want, cl);
    }
}

static int fcgi_sink(void *ctx, const char *data, size_t len)
{
    FCGX_Stream *out = ctx;
    while (len > 0) {
        int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
        if (FCGX_PutStr(data, chunk, out) != chunk)
            return -1;
        data += chunk;
        len -= (size_t)chunk;
    }
    return 0;
}

#define BIG_REQUEST ((size_t)1 << 20)

static pid_t worker_pid; /* for request ids, without a syscall per request */

/* "<pid>-<serial>" in hex (at most 8 + 1 + 13 digits for serials below 2^52, and
 * REQUEST_ID_MAX is 24), without snprintf. */
static void request_id(char out[REQUEST_ID_MAX], unsigned pid, unsigned long serial)
{
    char *at = u64_hex(out, pid, 1);
    *at++ = '-';
    at = u64_hex(at, serial & (((uint64_t)1 << 52) - 1), 1);
    *at = '\0';
}

/* What app->relay needs: the connection to the writer, and its heartbeat. */
struct relay_ctx {
    struct relay relay;
    struct liveness *alive;
};

/* A write goes to the writer when there is one; see include/write_relay.h.
 * A writer silent for LIVENESS_STALL_MS is dead or stalled (the master
 * replaces it): an operation sent now would wait for its successor, so
 * the worker applies it itself, as without a writer.  Once sent, an
 * operation is never applied here too: only the writer's answer, or a
 * 503, follows. */
static enum app_relay to_writer(void *ctx, const struct write_op *op, struct reply *rep)
{
    struct relay_ctx *rc = ctx;
    if (liveness_silence_ms(rc->alive) >= LIVENESS_STALL_MS)
        return APP_APPLY_HERE;
    switch (relay_call(&rc->relay, op, rep)) {
    case RELAY_DONE: return APP_RELAYED;
    case RELAY_UNREACHED: return APP_APPLY_HERE;
    case RELAY_LOST: break;
    }
    log_message("request %s: the writer ended before it replied", op->request_id);
    return APP_RELAY_LOST;
}

static void serve_one(FCGX_Request *fr, struct app *app, const struct front_opts *o,
                      unsigned long serial)
{
    int64_t started = clock_mono_us();
    metrics_request_begin(app->metrics);
    struct request req;
    request_init(&req);
    request_id(req.request_id, (unsigned)worker_pid, serial);
    struct cgi_params p;
    take_params(fr->envp, &p);
    snprintf(req.method, sizeof req.method, "%s", p.method ? p.method : "GET");
    take_path(&p, &req);
    if (p.content_type && *p.content_type)
        req.content_type = copy_or_null(p.content_type);
    req.if_none_match = copy_or_null(p.if_none_match);
    take_key(&p, &req);
    take_body(fr, p.content_length, &req, o->max_body);

    struct reply rep;
    reply_init(&rep);
    rep.sink = fcgi_sink;
    rep.sink_ctx = fr->out;
    size_t route = app_handle(app, &req, &rep);
    reply_finish(&rep);
    int64_t took = clock_mono_us() - started;
    metrics_request_end(app->metrics, route, rep.status, took);
    log_request(req.method, req.path.data ? req.path.data : "/", rep.status, rep.body_bytes,
                (long long)took, req.request_id);
    size_t big = req.body.cap + rep.body.cap;
    reply_free(&rep);
    request_free(&req);
    /* A bulk import leaves megabytes of freed heap that malloc keeps for
     * reuse; a worker should go back to a few hundred kilobytes. */
    if (big > BIG_REQUEST)
        malloc_trim(0);
}

/* Ends the request and, unless the web server keeps the connection, closes
 * it.  libfcgi's own close half-closes the socket and then waits for the web
 * server to close its end (a poll and a read), so that no unread input turns
 * the close into a reset that could discard the answer.  When the request's
 * input has been read to its end (the FastCGI stdin stream's closing record,
 * which a web server sends right after the body) nothing is left unread, and
 * the connection is closed at once: the worker goes back to accepting instead
 * of waiting on the web server.  Any other case keeps libfcgi's close.  Only
 * a peer that breaks the protocol (no closing stdin record) makes the read
 * wait, as it could already by stopping inside its parameters. */
static void finish_request(FCGX_Request *fr)
{
    if (FCGX_GetChar(fr->in) == EOF && FCGX_GetError(fr->in) == 0)
        FCGX_Detach(fr); /* libfcgi 2.4.2: a detached request is closed without the wait */
    FCGX_Finish_r(fr);
}

/* Waits for a connection (the listen socket, or the kept-alive one) for
 * up to timeout_ms (-1: no limit), and whether stop_fd fired.  Returns the
 * number of ready descriptors among the two sockets, 0 on a timeout, -1
 * on an error other than EINTR. */
static int wait_ready(int listen_fd, int kept_fd, int stop_fd, int timeout_ms, bool *stop)
{
    struct pollfd pfd[3] = {{listen_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}, {kept_fd, POLLIN, 0}};
    int n = poll(pfd, kept_fd >= 0 ? 3 : 2, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    if (pfd[1].revents & POLLIN)
        *stop = true;
    return (pfd[0].revents ? 1 : 0) + (kept_fd >= 0 && pfd[2].revents ? 1 : 0);
}

int front_serve(int listen_fd, struct app *app, const struct front_opts *o)
{
    if (FCGX_Init() != 0) {
        log_message("FCGX_Init failed");
        return -1;
    }
    int fl = fcntl(listen_fd, F_GETFL);
    if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        log_message("cannot make the listen socket non-blocking: %s", strerror(errno));
        return -1;
    }
    FCGX_Request fr;
    if (FCGX_InitRequest(&fr, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        log_message("FCGX_InitRequest failed");
        return -1;
    }
    unsigned long serial = 0;
    int rc = 0;
    static struct relay_ctx relay;
    if (o->writer) {
        relay_init(&relay.relay, o->writer, o->writer_owner);
        relay.alive = app->alive;
        app->relay = to_writer;
        app->relay_ctx = &relay;
    }
    worker_pid = getpid();
    bool stop = false;
    int64_t drain_until = 0;
    for (;;) {
        /* Gathered access lines are written once nothing came for 250 ms.
         * Stopping, only what is ready now is served. */
        int timeout = stop ? 0 : log_pending() ? 250 : -1;
        bool was_stopping = stop;
        int n = wait_ready(listen_fd, fr.ipcFd, o->stop_fd, timeout, &stop);
        if (n < 0) {
            log_message("poll: %s", strerror(errno));
            rc = -1;
            break;
        }
        if (stop && !was_stopping)
            drain_until = clock_mono_us() + (int64_t)FRONT_DRAIN_SECONDS * 1000000;
        if (n == 0) {
            if (stop)
                break;
            log_flush();
            continue;
        }
        if (stop && clock_mono_us() > drain_until)
            break;
        int a = FCGX_Accept_r(&fr);
        if (a < 0) {
            if (a == -EAGAIN || a == -EWOULDBLOCK || a == -EINTR || a == -ECONNABORTED)
                continue;
            log_message("FCGX_Accept_r failed: %s", strerror(-a));
            rc = -1;
            break;
        }
        serve_one(&fr, app, o, ++serial);
        finish_request(&fr);
    }
    FCGX_Free(&fr, 1);
    if (o->writer) {
        app->relay = NULL;
        relay_close(&relay.relay);
        buf_free(&relay.relay.ctype);
    }
    log_flush();
    return rc;
}
