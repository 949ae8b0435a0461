/*
 * store_answer.h — what a store status means in HTTP (src/store_answer.c):
 * the one place that turns a store operation's result into an answer, for
 * the handlers, the writer and the imports.
 */
#ifndef GROUPD_STORE_ANSWER_H
#define GROUPD_STORE_ANSWER_H

#include <stdbool.h>

#include "http.h"
#include "problem.h"
#include "store.h"

/* r's conflicts as 409 entries of p.  A participant's member is named
 * `<field>[i].<member>` when list, `<field>.<member>` when field is
 * given, else `<member>` (at the patch's CSV line); a group's externalId
 * is `externalId`. */
void store_conflict_problems(const struct store_result *r, const char *field, bool list,
                             struct problem *p);

/* 503 with Retry-After: 1, for every request of a tenant frozen for a
 * move (API.md §9). */
void reply_tenant_moving(struct reply *rep);

/* A store failure code (not a status) in HTTP: 503 unavailable when the
 * map or the disk is full (store_full), else 500 internal_error (logged
 * by the caller with the request id). */
void reply_store_error(struct reply *r, int rc);

/* Logs a failed store operation (the app's log_error). */
typedef void store_log_fn(const char *request_id, const char *what, int rc);

/* Answers a result whose status is not STORE_OK on rep: 404 for a group,
 * participant or event that is not there, 423 for a lock, 409 for the
 * conflicts (store_conflict_problems), 503 for a full database, 500 for
 * anything else (logged, when log is given, with r->what and r->rc). */
void reply_store_result(struct reply *rep, const struct store_result *r, const char *field,
                        bool list, store_log_fn *log, const char *request_id);

#endif
