/*
 * group_import.h — bulk import of groups from CSV (API.md §5 "Bulk import
 * of groups"), shared by POST /group/bulkImportGroups and
 * `groupctl import-groups`.
 *
 * Every row is an upsert by externalId in the caller's topOrganisation;
 * the file is checked whole before anything is written, and all of it
 * goes into one write transaction through the store's write door, so
 * each group created, updated or archived gets its feed entry.
 */
#ifndef GROUPD_GROUP_IMPORT_H
#define GROUPD_GROUP_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apikey.h"
#include "problem.h"
#include "store.h"
#include "store_answer.h"

struct group_import_options {
    bool have_org;        /* `organisation` given: the default for rows without one */
    uint32_t org;         /* ... and archiveMissing's scope */
    bool archive_missing; /* archive active groups whose externalId the file lacks */
};

struct group_import_summary {
    size_t rows, created, updated, unchanged, archived;
};

/* Imports csv[0..len) (rewritten in place) as `who`.  Returns 0 when
 * committed, -1 when refused (p holds the answer: 400 invalid_csv with
 * one entry per bad row, 403 for an organisation outside the key, 423 for
 * an import-locked group to change or archive), or an LMDB code. */
int group_import_csv(struct store *s, const struct principal *who, char *csv, size_t len,
                     const struct group_import_options *opt, struct group_import_summary *sum,
                     struct problem *p);

/* What group_import_upsert did. */
enum group_upsert { GROUP_UPSERT_CREATED, GROUP_UPSERT_UPDATED, GROUP_UPSERT_UNCHANGED };

/* One group of an import, in txn: with gid 0, creates the group `patch`
 * describes in organisation org; else applies patch to group gid, or
 * leaves it when nothing would change (decided on the stored form, without
 * parsing it).  Every change goes through store_group_write (its feed
 * entry).  Returns -1 with 423 in p when a changed group is import-locked
 * and the key is not admin, else 0 or an LMDB code.  Every groups import
 * (the CSV one, the roster one) writes its groups through here. */
int group_import_upsert(struct store *s, MDB_txn *txn, const struct principal *who, uint64_t gid,
                        uint32_t org, const struct group_patch *patch, int64_t now,
                        enum group_upsert *out, struct problem *p);
/* Archives group gid (nothing when it is archived already); -1 with 423 in
 * p as above. */
int group_import_archive(struct store *s, MDB_txn *txn, const struct principal *who, uint64_t gid,
                         int64_t now, struct problem *p);

/* Every import writes as its key, at the import's time. */
void import_writer(const struct principal *who, int64_t now, struct store_writer *w);
/* An import's step from a store operation's result: 0; -1 with the
 * answer in p (423 naming a locked group, the 409 conflicts under their
 * CSV lines); or the LMDB code of a failure (handler_import answers it). */
int import_result(const struct store_result *r, struct problem *p);

/* One group's participants from an import (store_sync_participants):
 * 0 with *counts; 0 with the 409 entries added to conflicts (the caller
 * goes on, to report every clash, then refuses the import); otherwise as
 * import_result. */
int import_participants(struct store *s, MDB_txn *txn, const struct store_writer *w, uint64_t gid,
                        const struct participant_patch *parts, size_t n, enum pkey match,
                        bool replace, struct store_counts *counts, struct problem *conflicts,
                        struct problem *p);

/* Appends {"imported": {...}} */
void group_import_summary_json(const struct group_import_summary *sum, struct buf *out);

#endif
