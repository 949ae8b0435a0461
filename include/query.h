/*
 * query.h — query strings and percent-decoding.
 *
 * Query strings are application/x-www-form-urlencoded ('+' is a space).
 * Decoding is lenient ('%' not followed by two hex digits stays as it is);
 * the values are then checked where they are used, so a value that is not
 * valid UTF-8 or holds NUL is a 400 for a known parameter and ignored for
 * an unknown one (API.md §1).
 */
#ifndef GROUPD_QUERY_H
#define GROUPD_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "problem.h"

struct query_param {
    char *name;
    char *value;
    size_t value_len; /* may contain NUL after decoding */
};

/* A query string has at most this many parameters; past it the request
 * is a 400 (each reader looks through them, so the bound bounds a
 * request's work). */
#define QUERY_MAX_PARAMS 256

struct query {
    struct query_param *params;
    size_t count;
    bool too_many; /* more than QUERY_MAX_PARAMS were given: the rest are dropped */
};

/* Appends the percent-decoded form of s[0..len) to out. */
void pct_decode(const char *s, size_t len, bool plus_is_space, struct buf *out);

void query_parse(struct query *q, const char *qs);
void query_free(struct query *q);

/* The value of a single-valued parameter, or NULL when absent.  A
 * parameter given twice, or a value that is not valid UTF-8 or holds NUL,
 * adds an invalid_query problem and returns NULL. */
const char *query_get(const struct query *q, const char *name, struct problem *p);

/* As query_get, for free text that may hold NUL (a search's q): the
 * value and its length; only invalid UTF-8 is a problem. */
const char *query_get_text(const struct query *q, const char *name, size_t *len, struct problem *p);
/* The values of a repeatable parameter in order: start *at at 0; NULL
 * after the last.  One pass over the parameters for all of them. */
const char *query_next(const struct query *q, const char *name, size_t *at);

/* Typed readers: return true when the parameter is present and valid
 * (storing the value), false when absent or invalid (invalid adds a
 * problem). */
bool query_bool(const struct query *q, const char *name, bool *out, struct problem *p);
bool query_uint(const struct query *q, const char *name, uint64_t max, uint64_t *out,
                struct problem *p);
/* The same, for a value that must be from min to max; the problem names
 * both bounds. */
bool query_uint_range(const struct query *q, const char *name, uint64_t min, uint64_t max,
                      uint64_t *out, struct problem *p);

#endif
