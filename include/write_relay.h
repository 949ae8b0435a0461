/*
 * write_relay.h — a worker handing its write requests to the writer
 * process, which applies them with those of the other workers in one
 * transaction (include/write_batch.h), and waiting for the reply.
 *
 * The connection is opened at the first write and kept.  What happens
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

/* How long a worker waits for a reply before it answers 503. */
#define RELAY_TIMEOUT_MS 120000

enum relay_result { RELAY_DONE, RELAY_UNREACHED, RELAY_LOST };

struct relay {
    int fd;                  /* -1: not connected */
    struct sockaddr_un addr; /* the writer's (abstract) address */
    socklen_t addr_len;
    struct buf ctype; /* the last reply's content type */
};

/* The writer's address from its name (write_relay_address). */
void relay_init(struct relay *r, const char *name);
void relay_close(struct relay *r);
enum relay_result relay_call(struct relay *r, const struct request *req, struct reply *rep,
                             size_t *route);

/* The writer's socket, in the abstract namespace (no file to clean up),
 * named after the master's pid so two instances never meet. */
void write_relay_address(char *name, size_t len, long master_pid);
/* Socket address of `name` for bind/connect; returns its length. */
socklen_t write_relay_sockaddr(const char *name, struct sockaddr_un *addr);

#endif
