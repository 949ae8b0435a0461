/*
 * store_private.h — the store's internals, shared by the store_*.c files
 * only (handlers, the import and groupctl see include/store.h).
 *
 * The floors, each calling only the ones below it (no two files call each
 * other):
 *   store_check.c   groupctl check: reads every floor
 *   store_tenant_send.c, store_tenant_receive.c   a tenant as a stream
 *                   while in use, and taken in (tenant_stream.h: frames)
 *   store_tenant.c  what a move needs besides: the freeze, the arriving
 *                   mark, the move lock, dropping a tenant or a group
 *   store_search.c  the list and search planner
 *   store_ops_group.c, store_ops_member.c, store_ops_event.c
 *                   the write operations of include/store.h, one call each
 *   store_change.c  what every operation shares: its group found for the
 *                   writer, the import lock, the change recorded, the result
 *   store_members.c a group's participants with their index rules and
 *                   conflicts
 *   store_write.c   the one door for writes: seqs, feed, rev, indexes
 *   store_open.c, store_migrate.c   opening the environment; the schema
 *                   version and the migrations (they rebuild indexes)
 *   store_batch.c   the writer's group-commit batch, the import transaction
 *   store_figures.c the figures of /metrics and the imports' notes
 *   store_group.c, store_index.c, store_participant.c, store_event.c,
 *   store_owned.c, store_feed.c, store_apikey.c, store_meta.c
 *                   one file per named database family
 *   store_txn.c     read and write transactions, the durable commit, the
 *                   map's reserve for deletes
 *   store_disk.c    disk blocks ahead of the last page, the mapping, usage
 *   store_codec.c   key and record bytes, change type names (no LMDB calls)
 *   store_databases.c, store_calls.c   the named databases and their
 *                   handles; every write call counted (and failable)
 */
#ifndef GROUPD_STORE_PRIVATE_H
#define GROUPD_STORE_PRIVATE_H

#include "store.h"

/* Every write call of the store is counted, and failable in a
 * fault-injection build (store_calls.h). */
#include "store_calls.h"

/* The store's handles and state (opaque above the store). */
struct store {
    MDB_env *env;
    MDB_dbi meta;              /* counters and the schema version */
    MDB_dbi groups;            /* group id -> group record */
    MDB_dbi group_extid;       /* topOrganisation + externalId -> group id */
    MDB_dbi participants;      /* group id + participant id -> participant record */
    MDB_dbi participant_email; /* group id + e-mail key -> participant id */
    MDB_dbi participant_extid; /* group id + externalId -> participant id */
    MDB_dbi email_groups;      /* top + e-mail key -> group ids (DUPSORT) */
    MDB_dbi apikeys;           /* key id -> key record */
    MDB_dbi group_order;       /* partition + sort field + sort key + id -> organisation */
    MDB_dbi group_counts;      /* partition -> number of groups */
    MDB_dbi group_words;       /* top + status + folded word -> group ids (DUPSORT) */
    MDB_dbi events;            /* group id + event id -> event record */
    MDB_dbi changes;           /* top + change seq -> feed entry */
    MDB_txn *rtxn;             /* the worker's reusable read transaction */
    int64_t retain_ms;         /* the feed's retention, from meta (store_set_retention) */
    unsigned shard;            /* the database's shard number, from meta (store_claim_shard) */
    size_t reserved_to;        /* the data file has disk blocks up to here (store_reserve_disk) */
    uint64_t pruned_txn;       /* the write txn whose writing top was last pruned ... */
    uint32_t pruned_top;       /* ... and that top: prune once per top per transaction */
    MDB_txn *batch;            /* the writer's open batch (store_batch_begin), or NULL */
    bool batch_spoilt;         /* a request gave up in it: it must not be committed */
    unsigned long batch_mark;  /* write calls made when the request in it began */
    size_t used_at_begin;      /* pages in use when the current write began (store_write_begin) */
    bool may_use_reserve;      /* the current write frees space: it may use the reserve */
    char *dir;                 /* as opened, for store_reopen */
    size_t map_size;
    enum store_writes writes;
    char errmsg[320]; /* what failed in store_open */
};

#define mdb_put store_call_put
#define mdb_del store_call_del
#define mdb_cursor_put store_call_cursor_put
#define mdb_cursor_del store_call_cursor_del
#define mdb_txn_commit store_call_commit

/* ---- the named databases (store_databases.c) ---- */

/* The named databases: name, handle, and whether it is an index (entries
 * implied by records).  Returns how many. */
struct store_db {
    const char *name;
    MDB_dbi dbi;
    bool index;
};
size_t store_databases(const struct store *s, struct store_db out[STORE_MAX_DBS]);

/* Opens (creating) every named database in txn, a write transaction;
 * errmsg says which failed. */
int store_dbs_open(struct store *s, MDB_txn *txn);
/* Opens every named database in txn without creating any: MDB_NOTFOUND
 * when one is missing (an older schema). */
int store_dbs_find(struct store *s, MDB_txn *txn);

/* ---- schema and migrations (store_migrate.c) ---- */

/* In the first write transaction: writes the current schema version into
 * a new database, migrates an older one step by step, refuses a newer one
 * (MDB_INCOMPATIBLE); errmsg says why. */
int store_migrate(struct store *s, MDB_txn *txn);

/* ---- transactions (store_txn.c) ---- */

/* The store whose open batch txn is, or NULL. */
struct store *store_batch_of(MDB_txn *txn);
/* Commits txn and flushes its meta page outside the write lock
 * (lmdb-schema/README.md "Durability"); 0 means durable. */
int store_commit_durably(MDB_txn *txn);

/* ---- writing records, ids and the one door (store_meta.c, store_write.c,
 * store_event.c, store_participant.c) ---- */

/* Next internal id; shared by groups, participants and events, so ids are
 * unique across the database and never reused. */
int store_next_id(struct store *s, MDB_txn *txn, uint64_t *id);
/* Reserves n consecutive ids; *first is the first of them. */
int store_reserve_ids(struct store *s, MDB_txn *txn, uint64_t n, uint64_t *first);

/* The participant and event changes one write made inside a group, in the
 * order they were made; the writers of participants (participant_write.c)
 * and events append to it, store_group_write records it. */
struct change_note {
    uint8_t type; /* enum change_type */
    uint64_t id;  /* the participant or event */
};
struct change_list {
    struct change_note *v;
    size_t n, cap;
};
void change_list_add(struct change_list *l, enum change_type type, uint64_t id);
void change_list_free(struct change_list *l);

/* Records one change to group g and writes it: g is the state after the
 * change, old the state before (NULL: g is new).  `what` is the group's own
 * change (0 when only its participants or events changed), `also` the
 * participant and event changes made in this transaction (may be NULL).
 * Each of them takes the next change sequence number, in that order, and
 * gets a feed entry stamped `now` (ms); the group record is written with
 * the last of them as its rev (the group's ETag), with every index of the
 * group brought from old to g and the tenant's list revision set to it.
 * Feed entries older than the retention are pruned, a bounded number per
 * call.  With nothing to record it writes nothing and returns 0.
 * MDB_KEYEXIST when g's externalId is held by another group; any other
 * LMDB error from the writes.  The caller aborts on any error. */
int store_group_write(struct store *s, MDB_txn *txn, const struct group *g, const struct group *old,
                      enum change_type what, const struct change_list *also, int64_t now);
/* Erases group g for good (its record, index entries, participants and
 * events), freeing its externalId, and records group.purged. */
int store_group_purge(struct store *s, MDB_txn *txn, const struct group *g, int64_t now);

/* Writes (creates or replaces) ev under its group. */
int store_event_put(struct store *s, MDB_txn *txn, const struct event *ev);
/* MDB_NOTFOUND when there is no such event. */
int store_event_del(struct store *s, MDB_txn *txn, uint64_t gid, uint64_t eid);

/* Writes the record only (indexes: store_participant_index). */
int store_participant_put(struct store *s, MDB_txn *txn, const struct participant *pt);
/* Deletes the record only; MDB_NOTFOUND when there is none. */
int store_participant_del(struct store *s, MDB_txn *txn, uint64_t gid, uint64_t pid);
/* Adds (add) or removes the index entries of pt named by keys (PKEY_
 * bits; the e-mail one includes email_groups).  Adding a taken e-mail or
 * externalId returns MDB_KEYEXIST and sets *clash. */
int store_participant_index(struct store *s, MDB_txn *txn, uint32_t top,
                            const struct participant *pt, unsigned keys, bool add,
                            enum pkey *clash);

/* ---- the list and search indexes (store_index.c) ---- */

/* Appends the bytes a sort on field f compares for record r (then the id
 * ascending breaks ties): the same bytes the order index holds. */
void store_record_sort_key(const struct group_record *r, enum group_sort f, struct buf *out);

/* Groups in a partition: of top with this status, of one organisation
 * when org is given. */
int store_group_count(struct store *s, MDB_txn *txn, uint32_t top, const uint32_t *org,
                      unsigned status, uint64_t *n);

/* Appends the ids of top's groups of one status having a word that starts
 * with word (folded); unsorted, an id may repeat. */
int store_word_ids(struct store *s, MDB_txn *txn, uint32_t top, unsigned status, const char *word,
                   size_t len, struct idset *out);

/* One partition of the order index in one sort order, an entry at a time. */
struct order_entry {
    uint64_t id;
    uint32_t org;
    const char *sort_key; /* store_record_sort_key's bytes, in the map */
    size_t sort_key_len;
};
struct order_walk;
/* Opens a walk of top's groups of one status (of organisation org when
 * given) sorted on field; *w is the store's until order_walk_close. */
int order_walk_open(struct order_walk **w, struct store *s, MDB_txn *txn, uint32_t top,
                    const uint32_t *org, unsigned status, enum group_sort field, bool descending);
/* The next entry in sort order (ties by id ascending); MDB_NOTFOUND at the end. */
int order_walk_next(struct order_walk *w, struct order_entry *e);
void order_walk_close(struct order_walk *w);

/* ---- a group's participants with their indexes (store_members.c) ---- */

/* Who writes participants, where and when; each write notes its change
 * in `changes` and each clash in `result`'s conflicts. */
struct members {
    struct store *store;
    MDB_txn *txn;
    uint32_t top;
    const char *actor; /* createdBy / modifiedBy */
    int64_t now;
    struct change_list *changes;
    struct store_result *result;
};
/* Makes the participants of group gid agree with patches[0..n): each
 * patch is matched to a participant by e-mail, or by externalId when match
 * is PKEY_EXTID (every patch then carries one); a matched participant
 * takes the members the patch gives, an unmatched patch becomes a new
 * participant, and with `replace` every participant no patch matched is
 * removed.  A list may move a unique value from one participant to
 * another.  Each collision with a participant outside the list is a
 * conflict (index i, the patch's line), and then MDB_KEYEXIST is
 * returned.  When `out` is given and 0 is returned, out[i] receives the
 * participant patch i ended as. */
int members_sync(const struct members *m, uint64_t gid, const struct participant_patch *patches,
                 size_t n, enum pkey match, bool replace, struct store_counts *counts,
                 struct participant *out);
/* Writes pt (old: as it was) with its index entries; MDB_KEYEXIST with a
 * conflict when a new e-mail or externalId is taken. */
int members_update(const struct members *m, const struct participant *old,
                   const struct participant *pt);
/* Removes a participant and its index entries. */
int members_remove(const struct members *m, const struct participant *pt);
/* Appends a conflict to r. */
void store_result_conflict(struct store_result *r, size_t index, long line, enum pkey key,
                           uint64_t holder, unsigned holder_status);

/* ---- one group changed by one operation (store_change.c) ---- */

/* A change in progress: the group found and loaded, its state before, the
 * participant and event notes made so far. */
struct group_change {
    struct store *s;
    MDB_txn *txn;
    const struct store_writer *w;
    struct store_result *r;
    struct group g, old;
    struct change_list notes;
    struct members m; /* participant writes, noting into notes */
};
/* Sets r's status from an LMDB code (0: STORE_OK; MDB_KEYEXIST with
 * conflicts: STORE_CONFLICT; MDB_MAP_FULL: STORE_FULL; else STORE_FAILED
 * with what) and returns it. */
enum store_status store_status_of(struct store_result *r, int rc, const char *what);
/* Finds group `name` for w (scope, statuses) into rec. */
int change_find(struct store *s, MDB_txn *txn, const struct store_writer *w,
                const struct store_name *name, struct group_record *rec);
/* Starts a change: a new group (name NULL) or the group name names,
 * loaded, with the import lock checked (for a writer with lock_on_write,
 * change_finish checks it, when the change would write).  Not STORE_OK:
 * nothing is left to free. */
enum store_status change_start(struct group_change *ch, struct store *s, MDB_txn *txn,
                               const struct store_writer *w, const struct store_name *name,
                               struct store_result *r);
/* Records the change (store_group_write) when there is one: the group is
 * new (created), its own members changed (which stamps updatedAt and
 * modifiedBy) or notes were made; a taken externalId is a conflict.  Hands
 * the group to r and frees the change either way. */
enum store_status change_finish(struct group_change *ch, bool created);
/* Frees a change that failed with rc, setting r's status. */
enum store_status change_fail(struct group_change *ch, int rc, const char *what);

/* ---- key and record bytes (store_codec.c) ---- */

/* Appends text to an index key: as it is when it fits, else its first
 * bytes, 0xFF (never in UTF-8) and its SHA-256, so every key stays under
 * LMDB's 511-byte limit and distinct values keep distinct keys. */
void store_key_text(struct buf *key, const char *s, size_t len);
/* group_extid's key: top (4 B BE) + store_key_text(externalId). */
void store_extid_key(uint32_t top, const char *ext, size_t len, struct buf *key);
/* A group record (lmdb-schema/groups.md): encode appends, decode points
 * into val (MDB_CORRUPTED when it is not one). */
void store_group_encode(const struct group *g, uint64_t rev, struct buf *out);
int store_group_decode(const MDB_val *val, struct group_record *r);
/* A change feed record (lmdb-schema/changes.md): the entries of one write
 * to one group, seqs first .. first + n - 1. */
#define STORE_FEED_KEY_LEN 12
void store_feed_key(uint32_t top, uint64_t seq, unsigned char key[STORE_FEED_KEY_LEN]);
/* The entries: the group's own change `what` (0: none), then v[0..n). */
void store_feed_encode(uint32_t org, int64_t at, uint64_t group, unsigned what,
                       const struct change_note *v, size_t n, struct buf *out);
struct feed_record {
    uint32_t top, organisation;
    uint64_t first, n, group;
    int64_t at;
    const unsigned char *p, *end; /* the entries not yet read */
    uint64_t next;                /* how many were read */
};
/* Reads a record's header (MDB_CORRUPTED when it is not one); then
 * store_feed_next hands out its entries in seq order, MDB_NOTFOUND after
 * the last. */
int store_feed_open(const MDB_val *key, const MDB_val *val, struct feed_record *r);
int store_feed_next(struct feed_record *r, struct change_entry *e);

/* ---- counters (store_meta.c) ---- */

/* Reserves n change sequence numbers of top's feed; *first is the first
 * of them. */
int store_reserve_seqs(struct store *s, MDB_txn *txn, uint32_t top, uint64_t n, uint64_t *first);
/* The database-wide change_seq of schemas 3 and 4 (the migrations only). */
int store_reserve_shared_seq(struct store *s, MDB_txn *txn, uint64_t *seq);
/* A counter under a meta name (0 when absent) and setting one. */
/* Inside an import's write transaction: `rows` rows at now_ms (store_figures.c). */
int store_note_import(struct store *s, MDB_txn *txn, enum store_import kind, uint64_t rows,
                      int64_t now_ms);
int store_meta_get(struct store *s, MDB_txn *txn, const void *name, size_t len, uint64_t *v);
int store_meta_put(struct store *s, MDB_txn *txn, const void *name, size_t len, uint64_t v);
/* The same for one tenant's counter or mark, named word + top (4 bytes
 * BE): "change_seq", "top_rev", "feed_pruned", "frozen", "arriving"
 * (lmdb-schema/meta.md).  Deleting an absent one is no error. */
#define STORE_META_NAME_MAX 32
int store_meta_get_top(struct store *s, MDB_txn *txn, const char *word, uint32_t top, uint64_t *v);
int store_meta_put_top(struct store *s, MDB_txn *txn, const char *word, uint32_t top, uint64_t v);
int store_meta_del_top(struct store *s, MDB_txn *txn, const char *word, uint32_t top);

/* ---- records a group owns: participants, events (store_owned.c) ---- */

/* Called with each record of a group's range; non-zero stops the walk. */
typedef int store_owned_fn(void *ctx, const MDB_val *key, const MDB_val *val);
/* Reads the record of object id under gid (k holds the key's bytes). */
int store_owned_get(MDB_txn *txn, MDB_dbi dbi, uint64_t gid, uint64_t id, MDB_val *key,
                    MDB_val *val, unsigned char k[16]);
int store_owned_put(MDB_txn *txn, MDB_dbi dbi, uint64_t gid, uint64_t id, const struct buf *rec);
/* MDB_NOTFOUND when there is no such record. */
int store_owned_del(MDB_txn *txn, MDB_dbi dbi, uint64_t gid, uint64_t id);
/* Calls fn with each record of gid in id order; fn's non-zero is returned. */
int store_owned_each(MDB_txn *txn, MDB_dbi dbi, uint64_t gid, store_owned_fn *fn, void *ctx);
/* Deletes every record of gid, calling `before` (when given) with each
 * first; its non-zero stops and is returned. */
int store_owned_drop(MDB_txn *txn, MDB_dbi dbi, uint64_t gid, store_owned_fn *before, void *ctx);

/* ---- records (store_group.c, store_participant.c, store_event.c) ---- */

/* Writes g's record with rev in its header (as new when old is NULL, else
 * replacing old) and keeps group_extid in step: MDB_KEYEXIST when g's
 * externalId is held by another group. */
int store_group_put(struct store *s, MDB_txn *txn, const struct group *g, const struct group *old,
                    uint64_t rev);
/* Deletes g's record and its group_extid entry. */
int store_group_del(struct store *s, MDB_txn *txn, const struct group *g);
/* Deletes every participant of gid with its index entries. */
int store_participant_purge_group(struct store *s, MDB_txn *txn, uint32_t top, uint64_t gid);
/* Deletes every event of gid. */
int store_event_purge_group(struct store *s, MDB_txn *txn, uint64_t gid);

/* ---- the change feed (store_feed.c) ---- */

/* Appends the record of one write to group g: its own change `what` (0:
 * none), then the changes also[0..n), with seqs first, first + 1, ...
 * (taken by the caller). */
int store_feed_append(struct store *s, MDB_txn *txn, const struct group *g, uint64_t first,
                      int64_t at, unsigned what, const struct change_list *also);
/* Deletes top's records older than now minus the retention, until at
 * least max entries are gone, and records the last seq deleted as top's
 * pruned mark. */
int store_feed_prune(struct store *s, MDB_txn *txn, uint32_t top, int64_t now, size_t max);
/* The seq up to which top's entries may have been pruned (0: none). */
int store_feed_pruned(struct store *s, MDB_txn *txn, uint32_t top, uint64_t *seq);

/* ---- the group indexes (store_index.c) ---- */

/* What a group's index entries are made of, from a model or a record. */
struct group_keys {
    uint64_t id;
    uint32_t top, org;
    unsigned status;        /* enum group_status */
    const char *name, *ext; /* ext NULL when absent */
    size_t name_len, ext_len;
    int64_t created, updated;
};

struct group_keys group_keys_of(const struct group *g);
struct group_keys group_keys_of_record(const struct group_record *r);
/* Appends the bytes a sort compares (then the id ascending breaks ties):
 * name: folded name, NUL, name bytes; times: big-endian with the sign bit
 * flipped; externalId: its bytes (none: empty).  At most 480 bytes. */
void store_sort_key(const struct group_keys *k, enum group_sort f, struct buf *out);
/* Appends a partition's key prefix: org NULL = every organisation. */
void store_partition(struct buf *key, uint32_t top, const uint32_t *org, unsigned status);
/* Brings every index of a group from old to new (either may be NULL) and
 * records rev as the list revision of the tops concerned. */
int group_index(struct store *s, MDB_txn *txn, const struct group *old, const struct group *new,
                uint64_t rev);
/* The distinct folded words (at most 200 bytes each) of a group's name,
 * description and externalId, sorted. */
struct words;
void store_group_words(const struct group *g, struct words *w);

/* ---- what records imply, for store_check.c ---- */

/* Receives one index entry a record implies (for group_counts: a
 * partition key and no value, meaning "one group in it"). */
typedef void store_entry_fn(void *ctx, MDB_dbi dbi, const void *key, size_t key_len,
                            const void *val, size_t val_len);
void store_group_entries(struct store *s, const struct group *g, store_entry_fn *add, void *ctx);
void group_index_entries(struct store *s, const struct group *g, store_entry_fn *add, void *ctx);
void store_participant_entries(struct store *s, uint32_t top, const struct participant *pt,
                               store_entry_fn *add, void *ctx);

/* store_group_each from the first group whose id is after `after`. */
int store_group_each_after(struct store *s, MDB_txn *txn, uint64_t after,
                           int (*fn)(void *ctx, const struct group_record *r), void *ctx);

/* ---- a key's stored bytes (store_apikey.c), for moving a tenant ---- */

/* The apikeys value of key id as stored (MDB_NOTFOUND: none). */
int store_key_stored(struct store *s, MDB_txn *txn, uint64_t id, MDB_val *val);
/* Reads such a value into k; MDB_CORRUPTED when it is not one. */
int store_key_decode(uint64_t id, const MDB_val *val, struct apikey_record *k);
/* Stores such a value under id; MDB_KEYEXIST when the id is taken. */
int store_key_put_stored(struct store *s, MDB_txn *txn, uint64_t id, const MDB_val *val);
int store_key_del(struct store *s, MDB_txn *txn, uint64_t id);

/* ---- moving a tenant (store_tenant.c), for the stream's two ends ---- */

/* The cut: freezes top in a write transaction of its own; *at_ms is the
 * freeze's time, *froze whether this call made it. */
int store_tenant_cut(struct store *s, uint32_t top, uint64_t *at_ms, bool *froze);
/* Lifts top's freeze (MDB_NOTFOUND when there is none). */
int store_tenant_unfreeze(struct store *s, uint32_t top);
/* The mark of a copy still arriving (meta "arriving" + top), in txn. */
int store_tenant_arriving(struct store *s, MDB_txn *txn, uint32_t top, bool *arriving);
int store_tenant_mark_arriving(struct store *s, MDB_txn *txn, uint32_t top, bool arriving);
/* Takes top's move lock on this database (a byte of tenant-moves.lock
 * beside it), held until *fd is closed or the process ends; EBUSY when
 * another process holds it. */
int store_tenant_lock(struct store *s, uint32_t top, int *fd);
/* Whether the database holds any group or key of top. */
int store_tenant_held(struct store *s, MDB_txn *txn, uint32_t top, bool *held);
/* Group id of top gone in txn with its participants, events and index
 * entries, no feed entry written (0 when there is no such group of top);
 * what went is added to n. */
int store_tenant_drop_group(struct store *s, MDB_txn *txn, uint32_t top, uint64_t id,
                            struct store_tenant_counts *n);
/* top's feed records whose first seq is at most upto gone, in txn. */
int store_tenant_drop_feed(struct store *s, MDB_txn *txn, uint32_t top, uint64_t upto,
                           struct store_tenant_counts *n);
/* store_tenant_drop without the explanation. */
int store_tenant_remove(struct store *s, uint32_t top, bool force, struct store_tenant_counts *n);
/* rc, with s->errmsg saying what failed when nothing more telling was set. */
int store_tenant_explained(struct store *s, int rc, const char *doing, uint32_t top);

#endif
