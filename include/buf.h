/*
 * buf.h — a growable byte buffer.
 *
 * Every response body, log line and stored record is assembled in a buf.
 * Allocation failure is fatal (the process aborts): a worker that cannot
 * allocate a few kilobytes cannot answer anything useful, and the master
 * restarts it.  Callers therefore never check return values for ENOMEM.
 */
#ifndef GROUPD_BUF_H
#define GROUPD_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
    char *data; /* always NUL-terminated when cap > 0 */
    size_t len;
    size_t cap;
};

#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Makes room for extra more bytes (and the NUL).  The check is inline:
 * every append on the read path makes it. */
void buf_grow(struct buf *b, size_t extra);
static inline void buf_reserve(struct buf *b, size_t extra)
{
    if (b->len + extra + 1 > b->cap)
        buf_grow(b, extra);
}

/* The appends of every answer are inline: with a literal, strlen is folded
 * and the copy is a few moves (a lookup renders some 300 pieces). */
static inline void buf_add(struct buf *b, const void *data, size_t len)
{
    buf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

static inline void buf_adds(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static inline void buf_addc(struct buf *b, char c)
{
    buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

/* ,"name": */
static inline void buf_add_member(struct buf *b, const char *name)
{
    buf_add(b, ",\"", 2);
    buf_adds(b, name);
    buf_add(b, "\":", 2);
}
/* Appends s[0..len) as a JSON string literal, quotes included. */
void buf_add_json_string(struct buf *b, const char *s, size_t len);
/* True when s[0..len) needs no JSON escape: no byte below 0x20, no '"', no '\\'. */
bool json_plain(const char *s, size_t len);
/* Appends s[0..len) between quotes as it is: only for a string json_plain
 * has passed (a record's flag says so, see participant.h). */
static inline void buf_add_quoted(struct buf *b, const char *s, size_t len)
{
    buf_reserve(b, len + 2);
    b->data[b->len] = '"';
    memcpy(b->data + b->len + 1, s, len);
    b->len += len + 2;
    b->data[b->len - 1] = '"';
    b->data[b->len] = '\0';
}
/* ,"name":"value" (JSON-escaped), or ,"name":null when value is NULL.
 * Inline, so that a literal name's length folds. */
static inline void buf_add_member_string(struct buf *b, const char *name, const char *value)
{
    buf_add_member(b, name);
    if (value)
        buf_add_json_string(b, value, strlen(value));
    else
        buf_add(b, "null", 4);
}
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Writes v in decimal at p (at most 20 bytes, no NUL); returns the end. */
char *u64_digits(char *p, uint64_t v);
/* Writes v in lower-case hex at p, zero-padded to at least width digits
 * (width <= 16; no NUL); returns the end. */
char *u64_hex(char *p, uint64_t v, int width);
/* Appends v in decimal (no printf: this is on the read path). */
void buf_add_u64(struct buf *b, uint64_t v);
/* Appends a big-endian 32/64-bit integer (byte-comparable keys). */
void buf_add_be32(struct buf *b, uint32_t v);
void buf_add_be64(struct buf *b, uint64_t v);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

uint32_t be32_get(const void *p);
uint64_t be64_get(const void *p);
void be32_put(void *p, uint32_t v);
void be64_put(void *p, uint64_t v);

/* FNV-1a, 64 bits, of p[0..n) continuing from h (start with FNV1A_INIT):
 * a fingerprint for ETags and for grouping equal keys, not a defence
 * against chosen collisions. */
#define FNV1A_INIT 0xcbf29ce484222325ULL
uint64_t fnv1a(uint64_t h, const void *p, size_t n);

#endif
