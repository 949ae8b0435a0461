/* buf.c — growable byte buffer; see include/buf.h. */
#include "buf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_grow(struct buf *b, size_t extra)
{
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        abort();
    b->data = p;
    b->cap = cap;
    b->data[b->len] = '\0'; /* a fresh buffer is "" at once */
}

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
    /* One pass when the text fits in the room already there. */
    va_list again;
    va_copy(again, ap);
    size_t room = b->cap > b->len ? b->cap - b->len : 0;
    int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
    if (n < 0)
        abort();
    if ((size_t)n >= room) {
        buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
    }
    va_end(again);
    b->len += (size_t)n;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(b, fmt, ap);
    va_end(ap);
}

/* The number of decimal digits of v (1 for 0). */
static int u64_width(uint64_t v)
{
    int n = 1;
    for (uint64_t bound = 10; n < 20 && v >= bound; bound *= 10)
        n++;
    return n;
}

/* Written from the last digit backwards, two at a time: no copy. */
char *u64_digits(char *p, uint64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    char *end = p + u64_width(v), *at = end;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        at -= 2;
        memcpy(at, pairs + 2 * r, 2);
    }
    if (v >= 10) {
        at -= 2;
        memcpy(at, pairs + 2 * v, 2);
    } else {
        *--at = (char)('0' + v);
    }
    return end;
}

char *u64_hex(char *p, uint64_t v, int width)
{
    char d[16];
    int n = 0;
    do {
        d[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v || n < width);
    while (n)
        *p++ = d[--n];
    return p;
}

void buf_add_u64(struct buf *b, uint64_t v)
{
    buf_reserve(b, 20);
    b->len = (size_t)(u64_digits(b->data + b->len, v) - b->data);
    b->data[b->len] = '\0';
}

/* True when one of the 8 bytes in x may need an escape (below 0x20, '"' or
 * '\\'); false only when none does.  The usual word-at-a-time byte tests:
 * (v - 0x01..) & ~v & 0x80.. is non-zero exactly when some byte of v is 0
 * (below n for v = x and 0x01.. * n). */
static bool may_need_escape(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quote = x ^ (ones * '"'), slash = x ^ (ones * '\\');
    uint64_t below = (x - ones * 0x20) & ~x & highs;
    return (below | ((quote - ones) & ~quote & highs) | ((slash - ones) & ~slash & highs)) != 0;
}

/* The bytes JSON strings must escape. */
static inline bool needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

bool json_plain(const char *s, size_t len)
{
    size_t i = 0;
    for (uint64_t word; i + 8 <= len; i += 8) {
        memcpy(&word, s + i, 8);
        if (may_need_escape(word))
            break;
    }
    for (; i < len; i++) {
        if (needs_escape((unsigned char)s[i]))
            return false;
    }
    return true;
}

void buf_add_json_string(struct buf *b, const char *s, size_t len)
{
    buf_reserve(b, len + 2);
    buf_addc(b, '"');
    size_t run = 0; /* start of the pending run of bytes that need no escape */
    for (size_t i = 0; i < len;) {
        uint64_t word;
        if (i + 8 <= len) {
            memcpy(&word, s + i, 8);
            if (!may_need_escape(word)) {
                i += 8;
                continue;
            }
        }
        unsigned char c = (unsigned char)s[i++];
        if (!needs_escape(c))
            continue;
        buf_add(b, s + run, i - 1 - run);
        run = i;
        switch (c) {
        case '"': buf_add(b, "\\\"", 2); break;
        case '\\': buf_add(b, "\\\\", 2); break;
        case '\n': buf_add(b, "\\n", 2); break;
        case '\r': buf_add(b, "\\r", 2); break;
        case '\t': buf_add(b, "\\t", 2); break;
        default: {
            char esc[6] = {'\\', 'u', '0', '0'};
            u64_hex(esc + 4, c, 2);
            buf_add(b, esc, 6);
        }
        }
    }
    buf_add(b, s + run, len - run);
    buf_addc(b, '"');
}

void buf_add_be32(struct buf *b, uint32_t v)
{
    unsigned char t[4];
    be32_put(t, v);
    buf_add(b, t, 4);
}

void buf_add_be64(struct buf *b, uint64_t v)
{
    unsigned char t[8];
    be64_put(t, v);
    buf_add(b, t, 8);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

uint32_t be32_get(const void *p)
{
    const unsigned char *c = p;
    return (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
}

uint64_t be64_get(const void *p)
{
    const unsigned char *c = p;
    return (uint64_t)be32_get(c) << 32 | be32_get(c + 4);
}

void be32_put(void *p, uint32_t v)
{
    unsigned char *c = p;
    c[0] = (unsigned char)(v >> 24);
    c[1] = (unsigned char)(v >> 16);
    c[2] = (unsigned char)(v >> 8);
    c[3] = (unsigned char)v;
}

void be64_put(void *p, uint64_t v)
{
    be32_put(p, (uint32_t)(v >> 32));
    be32_put((unsigned char *)p + 4, (uint32_t)v);
}

uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 0x100000001b3ULL;
    return h;
}
