/*
 * store.h — everything groupd keeps in LMDB: the store's interface for the
 * handlers, the import and groupctl.
 *
 * The storage layout (key bytes, value formats, which index points where,
 * schema version) is documented in lmdb-schema/.  Nothing above this
 * layer touches a cursor or an index key; the store's own internals
 * (index maintenance, partitions, sort keys, record codecs, the feed's
 * layout) are in src/store/store_private.h.  Writes are the write
 * operations below ("write operations"), one call per operation of the
 * API, each returning a store status that the HTTP layer maps to an answer
 * in one place (src/store_answer.c).  Reads return 0, STORE_ABSENT when
 * what they look for is not there, or another code: a failure to report
 * (STORE_CORRUPT when a record is not groupd's).  Nothing above the store
 * compares an LMDB code.
 *
 * Transactions: a worker holds one read-only transaction that it renews
 * per request and resets before it blocks in accept (store_read_begin /
 * store_read_end).  Each write request is one write transaction
 * (store_write_begin / store_write_commit / store_write_abort), so a
 * request that fails changes nothing and an acknowledged one is on disk:
 * store_write_commit returns only when the commit's data and meta pages
 * are flushed (the meta flush outside the write lock, see store/store_txn.c).
 *
 * One door for writes: inside the store, every operation records its
 * change through store_group_write or store_group_purge (store_write.c,
 * declared in store_private.h).  That call takes the change sequence
 * numbers, appends the change feed entries, stamps the group record's rev
 * and the tenant's list revision; nothing else writes a group record or
 * the feed.
 */
#ifndef GROUPD_STORE_H
#define GROUPD_STORE_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "event.h"
#include "group.h"
#include "idset.h"
#include "participant.h"
#include "words.h"

#define STORE_SCHEMA_VERSION 5

/* What a read returns when what it looks for is not there, and when a
 * stored record (or a value made from one) is not groupd's. */
enum { STORE_ABSENT = MDB_NOTFOUND, STORE_CORRUPT = MDB_CORRUPTED };
/* Whether a failure code means the map or the disk is full (a write that
 * may succeed once space is freed), as opposed to any other failure. */
bool store_full(int rc);

#define STORE_DEFAULT_MAP_SIZE ((size_t)1 << 30)
#define STORE_MIN_MAP_SIZE ((size_t)1 << 20)
/* Disk blocks every write transaction allocates ahead of the last used
 * page (see store/store_disk.c on MDB_WRITEMAP). */
#define STORE_WRITE_HEADROOM ((size_t)16 << 20)
/* The part of the map kept for writes that free space (store_write_commit):
 * a 32nd of it, from 256 KiB to 256 MiB. */
#define STORE_FREE_RESERVE(map)                                                                    \
    ((map) / 32 < ((size_t)256 << 10)   ? ((size_t)256 << 10)                                      \
     : (map) / 32 > ((size_t)256 << 20) ? ((size_t)256 << 20)                                      \
                                        : (map) / 32)
/* How much is allocated at once when the reserved frontier comes near. */
#define STORE_RESERVE_STEP ((size_t)64 << 20)
/* How long the change feed keeps an entry unless groupd is told otherwise
 * (--changes-retain). */
#define STORE_DEFAULT_RETAIN_MS ((int64_t)30 * 24 * 3600 * 1000)

/* How a process's write transactions reach the file (lmdb-schema/README.md
 * "Durability").  STORE_WRITES_MAPPED, store_open's: pages are changed in
 * the shared map (MDB_WRITEMAP), so a bulk import's pages are not the
 * process's own memory.  STORE_WRITES_COPIED: LMDB's default, changed pages
 * are copies written with pwrite; for the writer process, whose
 * transactions are small and frequent, because flushing pages changed
 * through a map that every worker also maps writable costs a walk of every
 * mapping per page and a page fault per page the next time. */
enum store_writes { STORE_WRITES_MAPPED, STORE_WRITES_COPIED };

/* The store: opaque (its handles and state are in src/store/store_private.h). */
struct store;

/* The bulk imports, as the store records them. */
enum store_import {
    STORE_IMPORT_PARTICIPANTS,
    STORE_IMPORT_GROUPS,
    STORE_IMPORT_ONEROSTER,
    STORE_IMPORT_KINDS
};

/* ---- environment and transactions (src/store/: store_open.c, store_txn.c, store_disk.c,
 * store_batch.c) ---- */

/* A store to open (store_new) and to free once it is closed
 * (store_delete); store_errmsg says why the last store_open or
 * store_reopen failed. */
struct store *store_new(void);
void store_delete(struct store *s);
const char *store_errmsg(const struct store *s);

/* Opens (creating if needed) the database in directory dir, creates the
 * named databases and checks or writes the schema version.  Must be called
 * in the process that will use it (after fork).  Clears stale reader slots
 * left by killed processes.  On failure store_errmsg says why. */
int store_open(struct store *s, const char *dir, size_t map_size);
/* The same, choosing how this process's writes reach the file. */
int store_open_as(struct store *s, const char *dir, size_t map_size, enum store_writes how);
/* Closes and opens again as before, with no transaction open: LMDB keeps
 * the copies of a STORE_WRITES_COPIED transaction's pages for reuse until
 * the environment is closed, so this is how the writer gives back the
 * memory of a large batch.  On failure the store is closed and
 * store_errmsg says why. */
int store_reopen(struct store *s);
void store_close(struct store *s);

int store_read_begin(struct store *s, MDB_txn **txn);
void store_read_end(struct store *s);
int store_write_begin(struct store *s, MDB_txn **txn);
/* Commits and flushes: 0 means durable.  An error after the commit itself
 * (EIO from the flush) means the change may or may not survive a crash:
 * the caller must not acknowledge it. */
int store_write_commit(MDB_txn *txn);
/* Calls fn(ctx) every 1024 write calls of this process (store_calls.c):
 * a write that takes long (a group created with tens of thousands of
 * participants) shows that it makes progress (the writer's heartbeat,
 * include/liveness.h).  NULL stops it. */
void store_on_progress(void (*fn)(void *ctx), void *ctx);
/* Whether the writes that follow free space (the DELETEs, set by the
 * router): such a write may use the part of the map kept for it
 * (STORE_FREE_RESERVE); any other write that would grow the pages in use
 * into that part fails with MDB_MAP_FULL at store_write_commit, which
 * then aborts the transaction as a failed mdb_txn_commit would.  So a
 * full database can always be emptied without a restart. */
void store_may_use_reserve(struct store *s, bool may);
/* Inside a write transaction that may grow the file by more than
 * STORE_WRITE_HEADROOM (a bulk import): allocates disk blocks for bytes
 * beyond the last used page.  MDB_MAP_FULL when the disk is full. */
int store_reserve_disk(struct store *s, size_t bytes);
void store_write_abort(MDB_txn *txn);

/* Group commit (the writer process, src/write_batch.c): while a batch is
 * open, store_write_begin hands out the batch's transaction,
 * store_write_commit only returns 0 (the batch commits and flushes once
 * for all its requests) and store_write_abort, instead of aborting, spoils
 * the batch when the request made any write call since its
 * store_write_begin (it may have written part of its change: the batch
 * must be aborted and its requests run again).  A request that gave up
 * before writing anything (a 404, a 409 found by a read) leaves the batch
 * as it was.
 * store_batch_begin allocates disk for STORE_WRITE_HEADROOM + reserve
 * bytes; store_batch_commit commits and flushes (0: every request in it
 * is durable); store_batch_abort throws all of it away. */
int store_batch_begin(struct store *s, size_t reserve);
bool store_batch_spoilt(const struct store *s);
int store_batch_commit(struct store *s);
void store_batch_abort(struct store *s);
/* A bulk import's write transaction: store_write_begin, then disk for
 * `reserve` more bytes (store_reserve_disk) and none of the pages this
 * process mapped before (store_release_map).  Nothing is left open on
 * failure. */
int store_import_begin(struct store *s, size_t reserve, MDB_txn **txn);
/* Records the import (kind, rows, now: for /metrics) and commits it. */
int store_import_commit(struct store *s, MDB_txn *txn, enum store_import kind, uint64_t rows);
/* Unmaps the database pages this process has touched, without losing any
 * (they stay in the page cache; see store/store_disk.c).  A long write calls it
 * now and then so the worker's resident memory does not grow with it. */
int store_release_map(struct store *s);

/* The size of each named database in txn, for groupctl stats: *n of
 * them (at most STORE_MAX_DBS). */
#define STORE_MAX_DBS 16
struct store_db_size {
    const char *name;
    size_t entries, pages;
};
int store_db_sizes(struct store *s, MDB_txn *txn, struct store_db_size out[STORE_MAX_DBS],
                   size_t *n);
/* Map size and bytes in use, for stats and /metrics. */
int store_usage(struct store *s, size_t *map_size, size_t *used);
/* Consistent hot copy into an empty directory. */
int store_backup(struct store *s, const char *dir);

/* ---- shards (store_meta.c; API.md §9) ---- */

/* Shard K hands out ids (of groups, participants, events and API keys)
 * only in [K * STORE_SHARD_IDS, (K + 1) * STORE_SHARD_IDS): they never
 * collide between shards and stay exact JSON numbers. */
#define STORE_SHARD_MAX 8999
#define STORE_SHARD_IDS UINT64_C(1000000000000)
/* Records the database's shard number at its first use, or checks it:
 * k >= 0 is the number asked for (--shard), k < 0 takes the database's
 * own.  A database that has none is shard k (0 when k < 0, and 0 is not
 * written: it needs no record), or shard 0 when it handed out ids before
 * shards existed.  MDB_INCOMPATIBLE, with store_errmsg naming both
 * numbers, when the database is another shard.  Only recording a number
 * writes (its own write transaction): call it once, at start. */
int store_claim_shard(struct store *s, int k);
/* The shard this store's database is (0 until claimed). */
unsigned store_shard(const struct store *s);

/* ---- moving a tenant (store_tenant.c; lmdb-schema/tenant-stream.md) ----
 *
 * On a failure each of these says in store_errmsg what it means for the
 * operator (no such tenant here, not frozen, a stream cut short, ...). */

#define STORE_TENANT_STREAM_VERSION 2
/* The longest a tenant stays frozen for the last changes of a move (API.md
 * §9): past it, send lifts the freeze and receive activates nothing. */
#define STORE_TENANT_CUT_MAX_MS 5000

/* What a tenant stream carried. */
struct store_tenant_counts {
    uint64_t keys, groups, participants, events, feed_records;
    uint64_t rounds;        /* send: catch-up rounds before the cut */
    uint64_t cut_to_end_ms; /* send: from the cut to the end written */
    bool thawed;            /* send: it failed after the cut and lifted the freeze */
};

/* Writes top to out while it stays in use, in parts of about 16 KiB, each
 * from a read transaction of its own: its counters and feed records, then
 * its groups with their participants and events in id order, as stored;
 * then rounds of the groups its feed named meanwhile; then the cut (the
 * tenant is frozen here: store_tenant_freeze), the last changes and its
 * keys, and the end.  Holds top's move lock on this database (EBUSY while
 * another send or receive of it runs).  STORE_ABSENT, with nothing frozen
 * or written, when the database holds no group or key of top.  A failure
 * after the cut before the end is written lifts the freeze this send made
 * (n->thawed); once the end is out, the freeze stays (the receiver may
 * have activated the tenant). */
int store_tenant_send(struct store *s, uint32_t top, FILE *out, struct store_tenant_counts *n);
/* Reads a stream of store_tenant_send: each part in a write transaction
 * of its own, followed by a pause so that applying takes at most busy
 * percent of the time (1-100; another value: STORE_TENANT_BUSY), the last changes
 * and the keys in the one that activates the tenant, after the end frame
 * checked out.  Until
 * then the copy is marked arriving (no request of the tenant is taken).
 * A stream cut short, damaged or of another format version (MDB_VERSION_
 * MISMATCH), one of a tenant this database holds already (MDB_KEYEXIST),
 * or last changes not taken in within STORE_TENANT_CUT_MAX_MS of the cut
 * (ETIMEDOUT) leaves nothing; a partial copy that a killed receive left is
 * removed first.  store_errmsg says why.  *top is the stream's tenant. */
#define STORE_TENANT_BUSY 25
int store_tenant_receive(struct store *s, FILE *in, unsigned busy, uint32_t *top,
                         struct store_tenant_counts *n);

/* The cut of a move: from the commit of this write transaction on, every
 * write operation of top answers STORE_FROZEN (those already queued for
 * the writer too) and the router answers its every request 503 with
 * Retry-After, until store_tenant_thaw or store_tenant_drop.  Freezing a
 * frozen tenant changes nothing. */
int store_tenant_freeze(struct store *s, uint32_t top);
/* Lifts a freeze; STORE_ABSENT when top is not frozen, MDB_INCOMPATIBLE
 * when it is a copy still arriving (receive it again, or drop it). */
int store_tenant_thaw(struct store *s, uint32_t top);
/* Whether top is frozen for a move, in txn: the router answers its
 * requests 503.  (A copy still arriving has no key yet; its writes from
 * groupctl are refused by the store as STORE_FROZEN.) */
int store_tenant_frozen(struct store *s, MDB_txn *txn, uint32_t top, bool *frozen);
/* Removes every record of top in one write transaction: its groups with
 * their participants, events and index entries, its keys, its feed and
 * counters, and its freeze.  Only a frozen tenant (one that was moved)
 * or a copy still arriving unless force; STORE_ABSENT when nothing of top is here, MDB_INCOMPATIBLE
 * when it is not frozen and force is not given. */
int store_tenant_drop(struct store *s, uint32_t top, bool force, struct store_tenant_counts *n);

/* ---- what an operator watches (store_figures.c) ---- */

struct store_figures {
    /* Records stored: LMDB keeps each database's entry count in its root
     * record, so reading them is O(1), never a scan.  Soft-deleted groups
     * count until purged. */
    uint64_t groups, participants, events;
    size_t map_size, map_used; /* bytes */
    unsigned readers_used;     /* reader slots held by live processes */
    unsigned readers_max;
    struct {
        int64_t at_ms; /* 0: never */
        uint64_t rows;
    } last_import[STORE_IMPORT_KINDS];
};

int store_figures(struct store *s, MDB_txn *txn, struct store_figures *f);

/* ---- meta counters (store_meta.c) ---- */

int store_schema_version(struct store *s, MDB_txn *txn, uint32_t *version);
/* The last change sequence number handed out in top's feed (0: none
 * yet).  Each tenant counts on its own (API.md §9). */
int store_last_seq(struct store *s, MDB_txn *txn, uint32_t top, uint64_t *seq);
/* The largest of them (groupctl stats). */
int store_last_seq_any(struct store *s, MDB_txn *txn, uint64_t *seq);

/* ---- the change feed's types ---- */

/* What a change did, as the feed names it (API.md §7).  The numbers are
 * stored in feed entries: never renumber. */
enum change_type {
    CHANGE_GROUP_CREATED = 1,
    CHANGE_GROUP_UPDATED = 2,
    CHANGE_GROUP_ARCHIVED = 3,
    CHANGE_GROUP_UNARCHIVED = 4,
    CHANGE_GROUP_DELETED = 5,
    CHANGE_GROUP_RESTORED = 6,
    CHANGE_GROUP_PURGED = 7,
    CHANGE_PARTICIPANT_ADDED = 8,
    CHANGE_PARTICIPANT_UPDATED = 9,
    CHANGE_PARTICIPANT_REMOVED = 10,
    CHANGE_EVENT_CREATED = 11,
    CHANGE_EVENT_UPDATED = 12,
    CHANGE_EVENT_REMOVED = 13,
};
#define CHANGE_TYPE_MAX 13

/* "group.created", ...; NULL for a number that names no type. */
const char *change_type_name(unsigned type);
/* True for the participant.* and event.* types (their entries name a group). */
bool change_type_in_group(unsigned type);

/* ---- the change feed (store_feed.c) ---- */

struct change_entry {
    uint64_t seq;
    unsigned type; /* enum change_type */
    uint32_t organisation;
    uint64_t group; /* the group (for group.* entries: id == group) */
    uint64_t id;    /* the object changed */
    int64_t at;     /* ms since the epoch */
};

/* Calls fn with each entry of top after seq `since`, oldest first, until
 * fn returns non-zero (which is returned; 1 stops without error).  When
 * entries after `since` may have been pruned (since is older than the
 * oldest kept entry of top), returns STORE_ABSENT without calling fn and
 * sets *oldest to the smallest `since` that is still whole. */
int store_changes_each(struct store *s, MDB_txn *txn, uint32_t top, uint64_t since,
                       int (*fn)(void *ctx, const struct change_entry *e), void *ctx,
                       uint64_t *oldest);
/* The feed's size and its oldest entry (0 entries: *oldest_at is 0). */
int store_changes_stat(struct store *s, MDB_txn *txn, size_t *entries, int64_t *oldest_at);
/* Sets how long feed entries are kept (ms), for every process that writes
 * this database: groupd sets it at start, groupctl reads it. */
int store_set_retention(struct store *s, int64_t retain_ms);
/* The feed's retention this store uses (ms). */
int64_t store_retention(const struct store *s);

/* ---- groups and the externalId index (store_group.c) ---- */

enum { GROUP_FLAG_ARCHIVED = 1, GROUP_FLAG_DELETED = 2, GROUP_FLAG_IMPORT_LOCK = 4 };

/* A stored group as it lies in the map: valid until the transaction ends. */
struct group_record {
    uint64_t id;
    uint32_t organisation, top_organisation;
    unsigned flags;
    int64_t created_at, updated_at;
    uint64_t rev; /* change sequence number of the last change */
    uint32_t total_participants;
    int32_t school_year;
    const char *external_id; /* not NUL-terminated */
    size_t external_id_len;
    const char *name; /* not NUL-terminated */
    size_t name_len;
    const char *json; /* the served object, not NUL-terminated */
    size_t json_len;
};

enum group_status group_record_status(const struct group_record *r);

/* STORE_ABSENT when there is no group with this id. */
int store_group_get(struct store *s, MDB_txn *txn, uint64_t id, struct group_record *out);
/* Looks up the group holding externalId within a topOrganisation
 * (STORE_ABSENT: none). */
int store_group_by_extid(struct store *s, MDB_txn *txn, uint32_t top, const char *ext, size_t len,
                         uint64_t *id);
/* Calls fn for every group in id order; fn returns 0 to go on, anything
 * else stops the walk and is returned. */
int store_group_each(struct store *s, MDB_txn *txn,
                     int (*fn)(void *ctx, const struct group_record *r), void *ctx);
/* Reads a record into a full group model (for changing it); STORE_CORRUPT
 * when the record's JSON is not groupd's. */
int store_group_load(const struct group_record *r, struct group *g);

/* ---- events (store_event.c) ---- */

/* STORE_ABSENT when group gid has no event eid. */
int store_event_get(struct store *s, MDB_txn *txn, uint64_t gid, uint64_t eid, struct event *out);
/* Calls fn with each event of group gid in id order (ev valid during the
 * call only); fn's non-zero stops the walk and is returned. */
int store_event_each(struct store *s, MDB_txn *txn, uint64_t gid,
                     int (*fn)(void *ctx, const struct event *ev), void *ctx);

/* ---- consistency (store_check.c) ---- */

typedef void store_report_fn(void *ctx, const char *line);
/* Rebuilds every index entry from the group and participant records and
 * compares them with the index databases both ways, each group's
 * totalParticipants with its participant records, every event and feed
 * entry with the groups and counters they name.  Each difference is one
 * report line; *differences is how many.  Returns 0 or an LMDB error (a
 * record that cannot be decoded is a difference, not an error). */
int store_check(struct store *s, MDB_txn *txn, store_report_fn *report, void *ctx,
                size_t *differences);

/* ---- listing and searching (store_index.c, store_search.c) ---- */

enum group_sort {
    GROUP_SORT_ID,
    GROUP_SORT_NAME,
    GROUP_SORT_CREATED,
    GROUP_SORT_UPDATED,
    GROUP_SORT_EXTID
};

/* The change sequence of the last change to any group of top (0: none). */
int store_top_rev(struct store *s, MDB_txn *txn, uint32_t top, uint64_t *rev);

/* What a list or search asks for (GET /group, API.md §4; an import's look
 * at an organisation's groups). */
struct store_query {
    uint32_t top;
    const uint32_t *orgs; /* the reader's organisations, n_orgs of them; 0: every one of top */
    size_t n_orgs;
    unsigned statuses;                      /* enum group_status bits */
    const uint32_t *org;                    /* organisation=, or NULL */
    const char *external_id, *email, *type; /* NULL: no such filter */
    int32_t school_year;                    /* 0: none */
    const struct words *words;              /* q's folded words (words.h), or NULL */
    enum group_sort sort;
    bool descending;
    uint64_t limit, skip; /* limit 0: every match */
    uint64_t rev; /* the tenant's list revision in txn (store_top_rev), for the word cache */
};

/* Where the answer goes: count once, with how many groups match, then
 * row with each group of the page, in order.  A non-zero return stops
 * the search and is returned. */
struct store_rows {
    int (*count)(void *ctx, uint64_t n);
    int (*row)(void *ctx, const struct group_record *r);
    void *ctx;
};

/* Lists the groups q asks for (store_search.c chooses the plan: an index
 * of candidates, or the order index's partitions).  0 or an LMDB code. */
int store_search(struct store *s, MDB_txn *txn, const struct store_query *q,
                 const struct store_rows *out);

/* ---- participants and their indexes (store_participant.c) ---- */

/* The keys a participant is unique by within its group. */
enum pkey { PKEY_EMAIL = 1, PKEY_EXTID = 2 };

/* STORE_ABSENT when group gid has no participant pid. */
int store_participant_get(struct store *s, MDB_txn *txn, uint64_t gid, uint64_t pid,
                          struct participant *out);
/* The participant of group gid with this e-mail (compared
 * case-insensitively) or externalId; STORE_ABSENT when none. */
int store_participant_find(struct store *s, MDB_txn *txn, uint64_t gid, enum pkey kind,
                           const char *v, size_t len, uint64_t *pid);
/* Calls fn with each participant of group gid, in participant id order.
 * pt is valid only during the call (its strings are reused for the next;
 * participant_copy keeps one). */
int store_participant_each(struct store *s, MDB_txn *txn, uint64_t gid,
                           int (*fn)(void *ctx, const struct participant *pt), void *ctx);
/* Calls fn with the id of each group of top holding this e-mail. */
int store_email_groups(struct store *s, MDB_txn *txn, uint32_t top, const char *email, size_t len,
                       int (*fn)(void *ctx, uint64_t gid), void *ctx);

/* ---- write operations (store_ops_group.c, store_ops_member.c, store_ops_event.c) ----
 *
 * One call per write operation of the API.  Each takes model values (a
 * validated patch, a participant list, an event), runs inside the caller's
 * write transaction and returns a store status, never an LMDB code: the
 * ids, totalParticipants, the unique-value rules and their conflicts, the
 * feed notes and the group's rev are all the operation's own.  On anything
 * but STORE_OK the caller aborts the transaction (the operation may have
 * written part of its change); on STORE_OK it commits.  The HTTP layer
 * maps a status to an answer in one place (src/store_answer.c). */

enum store_status {
    STORE_OK = 0,
    STORE_NO_GROUP,       /* no such group for this writer (or not of the statuses asked) */
    STORE_NO_PARTICIPANT, /* no such participant in the group */
    STORE_NO_EVENT,       /* no such event in the group */
    STORE_LOCKED,         /* the group is import-locked and the writer is no admin */
    STORE_CONFLICT,       /* a unique value is held by another: result's conflicts */
    STORE_FULL,           /* the map or the disk is full (result's rc) */
    STORE_FROZEN,         /* the tenant is being moved to another shard (store_tenant_freeze) */
    STORE_FAILED,         /* any other failure (result's rc and what, for the log) */
};

/* Who writes, and when.  A group outside top, or (for a restricted
 * writer) outside orgs, does not exist for the writer. */
struct store_writer {
    uint32_t top;
    const uint32_t *orgs; /* n_orgs of them; 0: every organisation of top */
    size_t n_orgs;
    bool admin;         /* may change an import-locked group */
    const char *actor;  /* createdBy / modifiedBy */
    int64_t now;        /* ms since the epoch */
    bool lock_on_write; /* an import: a locked group is refused only when the operation would
                           change it (a nightly file that repeats itself passes) */
};

/* How an operation names its group.  id != 0: that internal id (an
 * import that resolved it already).  Otherwise the text: digits name the
 * internal id when the writer may see that group, anything else (and
 * digits that name no such group, or any text when external is set) an
 * externalId of the writer's top.  A group whose status is not among
 * statuses (enum group_status bits; 0: active or archived) is not found. */
struct store_name {
    uint64_t id;
    const char *text;
    size_t len;
    bool external;
    unsigned statuses;
};

/* How an operation names a participant of its group. */
enum store_pick { PICK_ID, PICK_EMAIL, PICK_EXTID, PICK_SEGMENT };
struct store_participant_name {
    enum store_pick by; /* PICK_SEGMENT: a path segment: with '@' an e-mail, digits an id of the
                           group when there is one, else an externalId */
    uint64_t id;
    const char *text;
    size_t len;
};

/* A unique value held by another record. */
struct store_conflict {
    size_t index;  /* the list entry that clashed (0 for a single participant) */
    long line;     /* its CSV line (0 for JSON) */
    enum pkey key; /* the participant member that clashed; 0: the group's externalId */
    uint64_t holder;
    unsigned holder_status; /* a holding group's enum group_status */
};

/* Participants a write created, updated, left as they were and removed. */
struct store_counts {
    size_t created, updated, unchanged, removed;
};

/* A participant a person erase removed. */
struct store_erased {
    uint64_t participant, group;
};

struct store_result {
    enum store_status status;
    int rc;           /* the LMDB code behind STORE_FULL / STORE_FAILED */
    const char *what; /* what failed, for the log */
    struct store_conflict *conflicts;
    size_t n_conflicts, cap_conflicts;
    bool has_group;
    struct group group; /* the group after the operation (STORE_LOCKED: the locked one) */
    struct store_counts counts;
    bool changed; /* the operation wrote anything */
    bool has_participant;
    struct participant participant; /* the one written or removed */
    bool has_event;
    struct event event; /* the one written or removed */
    struct store_erased *erased;
    size_t n_erased;
};

void store_result_init(struct store_result *r);
void store_result_free(struct store_result *r);

/* A group's body: its members and, when has_participants, its participant
 * list (matched by e-mail, or by externalId when match is PKEY_EXTID;
 * every patch must carry its key, and none may repeat one: that is a 400,
 * found before).  In a conflict, `index` is the list entry. */
struct store_group_body {
    const struct group_patch *patch;
    bool has_participants;
    const struct participant_patch *parts;
    size_t n_parts;
    enum pkey match;
};

/* POST /group: a new group of organisation org (in the writer's top),
 * with the body's participants.  Status given (for a load: archived,
 * deleted) in status bits, 0 for active. */
enum store_status store_create_group(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                     uint32_t org, unsigned status,
                                     const struct store_group_body *b, struct store_result *r);
/* Edits a group: the patch's members, and with a participant list the
 * group's participants become that list. */
enum store_status store_edit_group(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                   const struct store_name *g, const struct store_group_body *b,
                                   struct store_result *r);
/* Soft delete (deleted) or its undo; a deleted group is found. */
enum store_status store_delete_group(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                     const struct store_name *g, bool deleted,
                                     struct store_result *r);
enum store_status store_archive_group(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                      const struct store_name *g, bool archived,
                                      struct store_result *r);
/* Erases a group for good, whatever its status or lock. */
enum store_status store_purge_group(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                    const struct store_name *g, struct store_result *r);
/* An import's row for group g: creates it (g->id == 0: in organisation
 * org) or applies the patch; r->counts.created/updated/unchanged says
 * which (one of them is 1). */
enum store_status store_upsert_group(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                     const struct store_name *g, uint32_t org,
                                     const struct group_patch *patch, struct store_result *r);

/* Adds the participant (or updates the one with its e-mail, or its
 * externalId when match is PKEY_EXTID); r->participant is it after. */
enum store_status store_add_participant(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                        const struct store_name *g,
                                        const struct participant_patch *patch, enum pkey match,
                                        struct store_result *r);
/* Applies patch to the participant p names. */
enum store_status store_edit_participant(struct store *s, MDB_txn *txn,
                                         const struct store_writer *w, const struct store_name *g,
                                         const struct store_participant_name *p,
                                         const struct participant_patch *patch,
                                         struct store_result *r);
enum store_status store_remove_participant(struct store *s, MDB_txn *txn,
                                           const struct store_writer *w, const struct store_name *g,
                                           const struct store_participant_name *p,
                                           struct store_result *r);
/* An import's participants of group g: as a group body's list, with
 * replace removing those the list lacks.  Every clash is a conflict (all
 * of them are collected, with the patches' lines). */
enum store_status store_sync_participants(struct store *s, MDB_txn *txn,
                                          const struct store_writer *w, const struct store_name *g,
                                          const struct participant_patch *parts, size_t n,
                                          enum pkey match, bool replace, struct store_result *r);
/* Removes the participant with this e-mail from every group of the
 * writer's top that the writer may see; r->erased lists them. */
enum store_status store_erase_person(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                     const char *email, size_t len, struct store_result *r);

/* Adds ev (its members) to group g: it gets its id, group and times. */
enum store_status store_create_event(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                     const struct store_name *g, const struct event *ev,
                                     struct store_result *r);
/* Replaces event eid's members with ev's (the same ones change nothing). */
enum store_status store_replace_event(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                      const struct store_name *g, uint64_t eid,
                                      const struct event *ev, struct store_result *r);
enum store_status store_remove_event(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                     const struct store_name *g, uint64_t eid,
                                     struct store_result *r);

/* Finds group g for reading (no lock check): STORE_OK with rec,
 * STORE_NO_GROUP, or STORE_FAILED with *rc. */
enum store_status store_find_group(struct store *s, MDB_txn *txn, const struct store_writer *w,
                                   const struct store_name *g, struct group_record *rec, int *rc);

/* ---- API keys (store_apikey.c) ---- */
#define APIKEY_MAX_ORGS 256
#define APIKEY_NAME_MAX 200
#define APIKEY_HASH_LEN 32

enum role { ROLE_READ = 1, ROLE_WRITE = 2, ROLE_ADMIN = 3 };

struct apikey_record {
    uint64_t id;
    unsigned char hash[APIKEY_HASH_LEN];
    enum role role;
    bool revoked;
    uint32_t top_organisation;
    int64_t created_at;
    size_t n_orgs; /* 0: every organisation of the top */
    uint32_t orgs[APIKEY_MAX_ORGS];
    char name[APIKEY_NAME_MAX + 1];
};

int store_key_next_id(struct store *s, MDB_txn *txn, uint64_t *id);
int store_key_put(struct store *s, MDB_txn *txn, const struct apikey_record *k);
/* Key id's record: 0, with *found false when there is no such key, or a
 * store failure. */
int store_key_find(struct store *s, MDB_txn *txn, uint64_t id, struct apikey_record *out,
                   bool *found);
int store_key_each(struct store *s, MDB_txn *txn,
                   int (*fn)(void *ctx, const struct apikey_record *k), void *ctx);

#endif
