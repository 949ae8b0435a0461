/*
 * import.h — bulk import of participants from CSV (API.md §5), shared by
 * POST /group/bulkImportParticipants and `groupctl import`.
 *
 * The file is read in place (csv.h), every row is checked and every group
 * resolved before anything is written, and all rows go into one write
 * transaction: a file with one bad row imports nothing.
 */
#ifndef GROUPD_IMPORT_H
#define GROUPD_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "apikey.h"
#include "problem.h"
#include "store.h"

struct import_options {
    bool external; /* groupId cells are externalIds, not internal ids */
    bool replace;  /* each named group ends with exactly its rows */
};

struct import_summary {
    size_t rows, created, updated, unchanged, removed, groups;
};

/* Imports csv[0..len) (rewritten in place) as `who`.  Returns 0 when the
 * import was committed, -1 when it was refused (p holds the answer: 400
 * invalid_csv with one entry per bad row, 403, 423 or 409), or an LMDB
 * return code. */
int import_csv(struct store *s, const struct principal *who, char *csv, size_t len,
               const struct import_options *opt, struct import_summary *sum, struct problem *p);

/* Appends {"imported": {...}} */
void import_summary_json(const struct import_summary *sum, struct buf *out);

#endif
