/*
 * problem.h — the contract's error object, collected before it is sent.
 *
 * A handler that validates input adds one entry per problem found and only
 * then decides; nothing is written while a problem is pending.  The JSON
 * form is the one of API.md §1:
 *   {"status":400,"errorCode":"validation_failed","userMessage":"...",
 *    "context":[{"field":"name","message":"is required"}]}
 * Bulk imports add a "line" member to each entry, and a roster import
 * (several files) a "file" member.
 */
#ifndef GROUPD_PROBLEM_H
#define GROUPD_PROBLEM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PROBLEM_MAX_CONTEXT 1000

struct problem {
    int status;       /* 0 while nothing is wrong */
    const char *code; /* stable errorCode */
    struct buf message;
    struct buf context; /* JSON array members, comma-separated, no brackets */
    size_t entries;     /* context entries added (including those past the cap) */
    /* Where validation problems are being found: a CSV import sets the
     * line of the record it checks and "invalid_csv", so the same field
     * checks serve JSON bodies and CSV rows. */
    long line;                /* 0: no line */
    const char *file;         /* NULL, or the file of an export being checked: adds "file" */
    const char *invalid_code; /* NULL: "validation_failed" */
};

void problem_init(struct problem *p);
void problem_free(struct problem *p);
bool problem_any(const struct problem *p);

/* Sets the status and code of a problem without context entries; the
 * message is printf-formatted.  Replaces anything set before. */
void problem_set(struct problem *p, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Adds a context entry {"field": field, "message": ...}; the first entry
 * also becomes the userMessage ("<field> <message>").  status/code are
 * set when none is set yet.  line > 0 adds "line". */
void problem_add(struct problem *p, int status, const char *code, long line, const char *field,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* A validation problem (as problem_invalid) at line `line` of the file
 * being read, whatever p->line holds. */
void problem_invalid_at(struct problem *p, long line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void problem_vinvalid_at(struct problem *p, long line, const char *field, const char *fmt,
                         va_list ap) __attribute__((format(printf, 4, 0)));

/* Shorthands for the two common cases. */
#define problem_invalid(p, field, ...)                                                             \
    problem_add((p), 400, (p)->invalid_code ? (p)->invalid_code : "validation_failed", (p)->line,  \
                (field), __VA_ARGS__)
#define problem_bad_query(p, field, ...)                                                           \
    problem_add((p), 400, "invalid_query", 0, (field), __VA_ARGS__)

/* A 409 entry naming the group that holds a unique value:
 * {"field":..., "message":..., "id": holder, "status": holder_status}. */
void problem_conflict(struct problem *p, const char *field, uint64_t holder,
                      const char *holder_status);

/* A 409 entry naming the participant that holds a unique value:
 * {"field":..., "message":..., "id": holder}.  line > 0 adds "line". */
void problem_conflict_participant(struct problem *p, long line, const char *field, uint64_t holder);

/* Writes the JSON error object. */
void problem_render(const struct problem *p, struct buf *out);

#endif
