/*
 * group_load.h — creating many groups from JSON lines (groupctl
 * create-groups); see src/group_load.c for the line format and the
 * transaction rules.
 */
#ifndef GROUPD_GROUP_LOAD_H
#define GROUPD_GROUP_LOAD_H

#include "problem.h"
#include "store.h"

/* Returns 0 (*created groups written), -1 with the problems in p (bad
 * lines: nothing written; an externalId taken: the batches before it
 * stay, *created says how many) or an LMDB error. */
int group_load_jsonl(struct store *s, uint32_t top, const char *text, size_t len, size_t *created,
                     struct problem *p);

#endif
