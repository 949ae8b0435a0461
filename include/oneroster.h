/*
 * oneroster.h — importing a OneRoster 1.0-1.2 CSV export (API.md §5,
 * "Roster import from a SIS export"), shared by
 * POST /group/bulkImportOneRoster and `groupctl oneroster-import`.
 *
 * A class becomes a group (upserted by externalId = the class's
 * sourcedId, through the same call as every groups import,
 * group_import_upsert), an enrollment a participant of its class's group
 * (matched by externalId = the user's sourcedId, through pwrite_sync_group
 * like the participants import).  The export is read and checked whole
 * first; then everything is written in one transaction, or nothing.
 */
#ifndef GROUPD_ONEROSTER_H
#define GROUPD_ONEROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apikey.h"
#include "buf.h"
#include "problem.h"
#include "roster_files.h"
#include "store.h"

#define ONEROSTER_MAX_SCHOOLS 64

struct oneroster_options {
    uint32_t org;                               /* the organisation new groups go to */
    const char *schools[ONEROSTER_MAX_SCHOOLS]; /* ?school=: only these schools' classes */
    size_t n_schools;                           /* 0: every class */
    unsigned roles;                             /* oneroster_roles bits; 0: students only */
    bool lock;                                  /* set importLock on every imported group */
    bool archive_missing;                       /* archive imported groups a bulk file lacks */
};

struct oneroster_summary {
    char version[8];
    size_t groups_created, groups_updated, groups_unchanged, groups_archived;
    size_t created, updated, unchanged, removed;
    size_t skipped;
    struct buf skipped_list; /* the first 1000 skipped enrollments, as JSON objects */
};

/* Parses ?roles= ("student,teacher"): false when a name is not a
 * OneRoster role. */
bool oneroster_roles(const char *list, unsigned *bits);

/* Imports the export rf as `who`.  Returns 0 when committed, -1 when
 * refused (p holds the answer: 400 with a {"file","line","field",
 * "message"} entry per problem, 409, 423), or an LMDB code.  sum is
 * filled on success; free it with oneroster_summary_free in every case. */
int oneroster_import(struct store *s, const struct principal *who, struct roster_files *rf,
                     const struct oneroster_options *opt, struct oneroster_summary *sum,
                     struct problem *p);
/* Appends {"imported": {...}, "skipped": [...]}. */
void oneroster_summary_json(const struct oneroster_summary *sum, struct buf *out);
void oneroster_summary_free(struct oneroster_summary *sum);

#endif
