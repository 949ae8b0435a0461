/*
 * participant_write.h — changing a group's participants, with their indexes.
 *
 * Every participant write in groupd goes through here: the participant
 * endpoints, a group's `participants` list and the bulk import.  A write
 * keeps the record and its three index entries in step inside the
 * caller's transaction; a collision with another participant's e-mail or
 * externalId is reported, not written, and the caller aborts.  Each
 * participant added, updated or removed is noted in `changes`; the
 * caller hands the notes to store_group_write with the group's new
 * totalParticipants, which records them in the feed.
 */
#ifndef GROUPD_PARTICIPANT_WRITE_H
#define GROUPD_PARTICIPANT_WRITE_H

#include "participant.h"
#include "problem.h"
#include "store.h"

/* Who writes, where, and when. */
struct pwrite {
    struct store *store;
    MDB_txn *txn;
    uint32_t top;
    const char *actor; /* createdBy / modifiedBy */
    int64_t now;
    struct change_list *changes; /* each write appends its feed note here */
};

struct pwrite_counts {
    size_t created, updated, unchanged, removed;
};

/* Makes the participants of group gid agree with patches[0..n): each
 * patch is matched to a participant by e-mail, or by externalId when match
 * is PKEY_EXTID (every patch must then carry one); a matched participant
 * takes the members the patch gives, an unmatched patch becomes a new
 * participant, and with `replace` every participant no patch matched is
 * removed.  Patches must not repeat an e-mail or externalId (the caller
 * checks that first: it is a 400).  A collision with a participant outside
 * the list adds a 409 entry to p, named `<field>[i].<member>` (or by line
 * for CSV patches), and returns MDB_KEYEXIST.  When `out` is given, out[i]
 * receives the participant patch i ended as. */
int pwrite_sync(const struct pwrite *m, uint64_t gid, const struct participant_patch *patches,
                size_t n, enum pkey match, bool replace, const char *field,
                struct pwrite_counts *counts, struct participant *out, struct problem *p);

/* Writes pt (an existing participant as it was: old) with its index
 * entries; MDB_KEYEXIST with *clash when a new e-mail or externalId is
 * taken. */
int pwrite_update(const struct pwrite *m, const struct participant *old,
                  const struct participant *pt, enum pkey *clash);

/* Rewrites group gid's record after participant writes: its
 * totalParticipants moved by counts->created and counts->removed, and the
 * notes in changes recorded in the feed (store_group_write). */
int pwrite_record_group(const struct pwrite *m, uint64_t gid, const struct pwrite_counts *counts,
                        const struct change_list *changes);
/* A whole group's participants from an import: pwrite_sync (m->changes is
 * not used: the group's notes are gathered here), then, when anything
 * changed, pwrite_record_group.  counts must start at zero (it is this
 * group's); MDB_KEYEXIST with the
 * 409 entries in conflicts as pwrite_sync. */
int pwrite_sync_group(const struct pwrite *m, uint64_t gid, const struct participant_patch *patches,
                      size_t n, enum pkey match, bool replace, struct pwrite_counts *counts,
                      struct problem *conflicts);

/* Removes a participant and its index entries. */
int pwrite_remove(const struct pwrite *m, const struct participant *pt);

/* Reports a collision of pt on `clash` as a 409 entry under field. */
void pwrite_conflict(const struct pwrite *m, const struct participant *pt, enum pkey clash,
                     long line, const char *field, struct problem *p);

#endif
