/*
 * store_answer.h — a store operation's conflicts as the contract's 409
 * entries (src/store_answer.c, which also answers every other status of a
 * request's operation: include/handlers.h call_store_answer).
 */
#ifndef GROUPD_STORE_ANSWER_H
#define GROUPD_STORE_ANSWER_H

#include <stdbool.h>

#include "problem.h"
#include "store.h"

/* r's conflicts as 409 entries of p.  A participant's member is named
 * `<field>[i].<member>` when list, `<field>.<member>` when field is
 * given, else `<member>` (at the patch's CSV line); a group's externalId
 * is `externalId`. */
void store_conflict_problems(const struct store_result *r, const char *field, bool list,
                             struct problem *p);

#endif
