/*
 * jsonin.h — reading request bodies.
 *
 * jsonin_parse turns a body into a json-c object under the contract's
 * rules: strict JSON, valid UTF-8, at most JSONIN_MAX_VALUES values (413
 * beyond), nesting at most JSONIN_MAX_DEPTH, no
 * trailing bytes, and no unpaired surrogate escapes (json-c would quietly
 * turn "\ud800" into U+FFFD, so the raw text is scanned first).
 *
 * The member readers below check one member's type and value and report
 * what is wrong under its field name (e.g. "participants[2].email").  They
 * return a jsonin_state so a caller can tell "absent" from "null" (on
 * update, null clears an optional member).
 */
#ifndef GROUPD_JSONIN_H
#define GROUPD_JSONIN_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "problem.h"

#define JSONIN_MAX_DEPTH 16
/* Values (objects, arrays, members, entries) a JSON body may hold: json-c
 * builds each one (about 450 bytes for an empty object), so this bounds a
 * request's memory (a worker peaked at 22 MB for 50,000 values,
 * tests/bench/hostile_bench.py) whatever --max-body allows for CSV. */
#define JSONIN_MAX_VALUES 100000

enum jsonin_state { JSONIN_ABSENT, JSONIN_NULL, JSONIN_VALUE, JSONIN_INVALID };

/* Returns a new object (release with json_object_put) or NULL with an
 * invalid_json / validation_failed problem added.  The top level must be a
 * JSON object. */
struct json_object *jsonin_parse(const char *body, size_t len, struct problem *p);

/* A string member: trimmed, valid UTF-8 without NUL, between min_cp and
 * max_cp code points after trimming.  *out is a new NUL-terminated copy
 * (free it) when JSONIN_VALUE is returned, else NULL. */
enum jsonin_state jsonin_string(struct json_object *obj, const char *member, const char *field,
                                size_t min_cp, size_t max_cp, char **out, struct problem *p);

/* Checks a string already taken from JSON: UTF-8, NUL, trimming, length.
 * Same contract as jsonin_string for a present string value. */
bool jsonin_check_string(struct json_object *val, const char *field, size_t min_cp, size_t max_cp,
                         char **out, struct problem *p);

/* The same checks on text from elsewhere (a CSV cell). */
bool jsonin_check_text(const char *s, size_t len, const char *field, size_t min_cp, size_t max_cp,
                       char **out, struct problem *p);

/* An integer member (a JSON integer: no fraction, no exponent) in
 * [min, max]. */
enum jsonin_state jsonin_int(struct json_object *obj, const char *member, const char *field,
                             int64_t min, int64_t max, int64_t *out, struct problem *p);

enum jsonin_state jsonin_bool(struct json_object *obj, const char *member, const char *field,
                              bool *out, struct problem *p);

#endif
