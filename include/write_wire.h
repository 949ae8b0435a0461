/*
 * write_wire.h — a request and its reply between a worker and the writer
 * process, over a local stream socket.
 *
 * Each message is one frame: a 4-byte big-endian length, then the fields
 * in a fixed order, strings as a 4-byte length and their bytes (optional
 * ones after a presence byte).  Both ends are the same build on the same
 * machine, so there is no version: a frame that does not parse is an
 * error, and the connection is closed.
 */
#ifndef GROUPD_WRITE_WIRE_H
#define GROUPD_WRITE_WIRE_H

#include <stddef.h>

#include "http.h"

/* The largest frame either end accepts: a body under --max-body fits. */
#define WIRE_MAX_FRAME ((size_t)1 << 30)
/* Returned when the peer closed the connection before a frame began. */
#define WIRE_EOF (-1)

/* Each returns 0, WIRE_EOF, or an errno value (EPROTO: a malformed frame,
 * ETIMEDOUT: nothing complete within timeout_ms; -1 waits for ever). */
int wire_send_request(int fd, const struct request *req);
int wire_recv_request(int fd, struct request *req, int timeout_ms);
int wire_send_reply(int fd, const struct reply *rep, size_t route);
/* rep gets status, headers and body; its content type, when the reply
 * has one, is kept in *ctype (rep->content_type points into it). */
int wire_recv_reply(int fd, struct reply *rep, size_t *route, struct buf *ctype, int timeout_ms);

#endif
