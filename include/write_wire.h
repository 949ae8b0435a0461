/*
 * write_wire.h — a write operation (include/write_op.h, which lays out its
 * fields) and its reply between a worker and the writer process, over a
 * local stream socket.
 *
 * Each message is one frame: a 4-byte big-endian length, then the fields
 * in a fixed order, strings as a 4-byte length and their bytes (optional
 * ones after a presence byte).  Both ends are the same build on the same
 * machine, so there is no version: a frame that does not parse is an
 * error, and the connection is closed.
 */
#ifndef GROUPD_WRITE_WIRE_H
#define GROUPD_WRITE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

/* The largest frame either end accepts: an operation from a body under
 * --max-body fits. */
#define WIRE_MAX_FRAME ((size_t)1 << 30)
/* Returned when the peer closed the connection before a frame began. */
#define WIRE_EOF (-1)

/* Each returns 0, WIRE_EOF, or an errno value (EPROTO: a malformed frame,
 * ETIMEDOUT: nothing complete within timeout_ms; -1 waits for ever). */
int wire_send_reply(int fd, const struct reply *rep, size_t route);
/* rep gets status, headers and body; its content type, when the reply
 * has one, is kept in *ctype (rep->content_type points into it). */
int wire_recv_reply(int fd, struct reply *rep, size_t *route, struct buf *ctype, int timeout_ms);

/* Sends b (its first 4 bytes left for the length) as one frame, and
 * frees it. */
int wire_send_frame(int fd, struct buf *b);
/* Receives one frame's fields into b (NUL-terminated). */
int wire_recv_frame(int fd, struct buf *b, int timeout_ms);

/* ---- the fields of a frame (also write_op.c's) ---- */

void wire_put_u32(struct buf *b, uint32_t v);
void wire_put_bytes(struct buf *b, const char *p, size_t len);
void wire_put_buf(struct buf *b, const struct buf *v);
/* A string that may be NULL: a presence byte, then its bytes. */
void wire_put_opt(struct buf *b, const char *s);

/* Reading a frame's fields: once one does not fit, bad is set and every
 * later read gives nothing. */
struct wire_cursor {
    const char *p;
    size_t left;
    bool bad;
};
const char *wire_take(struct wire_cursor *c, size_t n);
uint32_t wire_get_u32(struct wire_cursor *c);
void wire_get_buf(struct wire_cursor *c, struct buf *out);
/* A NUL-terminated copy (free it), or NULL when absent; a string holding
 * a NUL is malformed. */
char *wire_get_opt(struct wire_cursor *c);
/* A string that is there (no presence byte): a NUL-terminated copy, or
 * NULL (and bad) when it does not fit or holds a NUL. */
char *wire_get_str(struct wire_cursor *c);
/* Copies a string into out[size]; false when it does not fit. */
bool wire_get_fixed(struct wire_cursor *c, char *out, size_t size);

#endif
