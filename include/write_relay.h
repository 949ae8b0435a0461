/*
 * write_relay.h — a worker handing its write operations (include/write_op.h) to the writer
 * process, which applies them with those of the other workers in one
 * transaction (include/write_batch.h), and waiting for the reply.
 *
 * The connection is opened at the first write and kept, and only to the
 * listener it expects: the peer's credentials (SO_PEERCRED, those of the
 * process that listens) must be this worker's user and, in groupd, the
 * master's pid; any other peer is refused and the request applied here.
 * What happens
 * when the writer is not there tells the caller what to do:
 * - RELAY_DONE: the reply is the writer's, send it.
 * - RELAY_UNREACHED: the writer never took the request (no writer is
 *   listening, or it closed the connection with the request unread,
 *   which a stream socket reports as a reset): the worker applies it
 *   itself, in its own transaction, exactly as without a writer.
 * - RELAY_LOST: the writer took the request and ended before it replied.
 *   The change may or may not have been committed (never acknowledged, so
 *   never promised); the worker answers 503.
 */
#ifndef GROUPD_WRITE_RELAY_H
#define GROUPD_WRITE_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "buf.h"
#include "http.h"

/* How long a worker waits for a reply before it answers 503: a backstop
 * below the web server's read timeout (nginx: 60 s).  A stalled writer is
 * killed by the master well before (liveness.h), and a request whose
 * worker stopped waiting is never applied (writer.h). */
#define RELAY_TIMEOUT_MS 30000

enum relay_result { RELAY_DONE, RELAY_UNREACHED, RELAY_LOST };

struct relay {
    int fd;                  /* -1: not connected */
    long owner;              /* the pid that must listen; 0: any of this user's */
    struct sockaddr_un addr; /* the writer's (abstract) address */
    socklen_t addr_len;
    struct buf ctype; /* the last reply's content type */
};

/* The writer's address from its name (write_relay_listen); owner: the pid
 * that listens on it, or 0 to accept any process of this user. */
void relay_init(struct relay *r, const char *name, long owner);
void relay_close(struct relay *r);
struct write_op;
/* Sends op to the writer and appends its answer to rep (status, headers,
 * body). */
enum relay_result relay_call(struct relay *r, const struct write_op *op, struct reply *rep);

/* Connections waiting for a writer (more than the most workers). */
#define WRITER_BACKLOG 512
/* The room for a writer socket's name. */
#define WRITE_RELAY_NAME_MAX 108

/* Makes the writer's listening socket, in the abstract namespace (no file
 * to clean up), with a name the kernel chooses (autobind): unique, never
 * one another process took first.  The master calls it once and holds the
 * socket for its life.  Returns the descriptor (name filled), or -1 with
 * errno. */
int write_relay_listen(char *name, size_t len);
/* Socket address of `name` for bind/connect; returns its length. */
socklen_t write_relay_sockaddr(const char *name, struct sockaddr_un *addr);

#endif
