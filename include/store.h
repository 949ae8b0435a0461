/*
 * store.h — everything groupd keeps in LMDB.
 *
 * The storage layout (key bytes, value formats, which index points where,
 * schema version) is documented in lmdb-schema/; this header is the API
 * the handlers and groupctl use.  Nothing above this layer touches a
 * cursor.  Functions return 0 or an LMDB return code (MDB_NOTFOUND,
 * MDB_KEYEXIST, MDB_MAP_FULL, ...); the HTTP layer maps those to statuses
 * in one place (reply_store_error).
 *
 * Transactions: a worker holds one read-only transaction that it renews
 * per request and resets before it blocks in accept (store_read_begin /
 * store_read_end).  Each write request is one write transaction
 * (store_write_begin / store_write_commit / store_write_abort), so a
 * request that fails changes nothing and an acknowledged one is on disk:
 * the environment is opened with full durability (no MDB_NOSYNC).
 */
#ifndef GROUPD_STORE_H
#define GROUPD_STORE_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "group.h"
#include "idset.h"
#include "participant.h"

#define STORE_SCHEMA_VERSION 3
#define STORE_DEFAULT_MAP_SIZE ((size_t)1 << 30)
#define STORE_MIN_MAP_SIZE ((size_t)1 << 20)
/* Disk blocks every write transaction allocates ahead of the last used
 * page (see store_env.c on MDB_WRITEMAP). */
#define STORE_WRITE_HEADROOM ((size_t)16 << 20)

struct store {
    MDB_env *env;
    MDB_dbi meta;         /* counters and the schema version */
    MDB_dbi groups;       /* group id -> group record */
    MDB_dbi group_extid;  /* topOrganisation + externalId -> group id */
    MDB_dbi participants; /* group id + participant id -> participant record */
    MDB_dbi participant_email; /* group id + e-mail key -> participant id */
    MDB_dbi participant_extid; /* group id + externalId -> participant id */
    MDB_dbi email_groups;      /* top + e-mail key -> group ids (DUPSORT) */
    MDB_dbi apikeys;      /* key id -> key record */
    MDB_dbi group_order;  /* partition + sort field + sort key + id -> organisation */
    MDB_dbi group_counts; /* partition -> number of groups */
    MDB_dbi group_words;  /* top + status + folded word -> group ids (DUPSORT) */
    MDB_txn *rtxn;        /* the worker's reusable read transaction */
    char errmsg[160];     /* what failed in store_open */
};

/* ---- environment and transactions (store_env.c) ---- */

/* Opens (creating if needed) the database in directory dir, creates the
 * named databases and checks or writes the schema version.  Must be called
 * in the process that will use it (after fork).  Clears stale reader slots
 * left by killed processes.  On failure s->errmsg says why. */
int store_open(struct store *s, const char *dir, size_t map_size);
void store_close(struct store *s);

int store_read_begin(struct store *s, MDB_txn **txn);
void store_read_end(struct store *s);
int store_write_begin(struct store *s, MDB_txn **txn);
int store_write_commit(MDB_txn *txn);
/* Inside a write transaction that may grow the file by more than
 * STORE_WRITE_HEADROOM (a bulk import): allocates disk blocks for bytes
 * beyond the last used page.  MDB_MAP_FULL when the disk is full. */
int store_reserve_disk(struct store *s, size_t bytes);
void store_write_abort(MDB_txn *txn);
/* Unmaps the database pages this process has touched, without losing any
 * (they stay in the page cache; see store_env.c).  A long write calls it
 * now and then so the worker's resident memory does not grow with it. */
int store_release_map(struct store *s);

/* The named databases, for groupctl: name, handle, and whether it is an
 * index (entries implied by records).  Returns how many. */
#define STORE_MAX_DBS 16
struct store_db {
    const char *name;
    MDB_dbi dbi;
    bool index;
};
size_t store_databases(const struct store *s, struct store_db out[STORE_MAX_DBS]);
/* Map size and bytes in use, for stats and /metrics. */
int store_usage(struct store *s, size_t *map_size, size_t *used);
/* Consistent hot copy into an empty directory. */
int store_backup(struct store *s, const char *dir);

/* ---- meta counters (store_meta.c) ---- */

/* Next internal id; shared by groups, participants and events, so ids are
 * unique across the database and never reused. */
int store_next_id(struct store *s, MDB_txn *txn, uint64_t *id);
/* Reserves n consecutive ids; *first is the first of them. */
int store_reserve_ids(struct store *s, MDB_txn *txn, uint64_t n, uint64_t *first);
/* Next change sequence number (one per changed object). */
int store_next_seq(struct store *s, MDB_txn *txn, uint64_t *seq);
int store_schema_version(struct store *s, MDB_txn *txn, uint32_t *version);

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

int store_group_get(struct store *s, MDB_txn *txn, uint64_t id, struct group_record *out);
/* Looks up the group holding externalId within a topOrganisation. */
int store_group_by_extid(struct store *s, MDB_txn *txn, uint32_t top, const char *ext, size_t len,
                         uint64_t *id);
/* Writes g (as new when old is NULL, else replacing old) and keeps the
 * externalId index in step.  MDB_KEYEXIST when g's externalId is held by
 * another group.  rev is stored in the record's header. */
int store_group_put(struct store *s, MDB_txn *txn, const struct group *g, const struct group *old,
                    uint64_t rev);
/* Erases the group, its index entries and its participants; rev is the
 * change that did it (the top's list revision). */
int store_group_purge(struct store *s, MDB_txn *txn, const struct group *g, uint64_t rev);
/* Calls fn for every group in id order; fn returns 0 to go on, anything
 * else stops the walk and is returned. */
int store_group_each(struct store *s, MDB_txn *txn,
                     int (*fn)(void *ctx, const struct group_record *r), void *ctx);
/* Reads a record into a full group model (for changing it). */
int store_group_load(const struct group_record *r, struct group *g);

/* ---- consistency (store_check.c) ---- */

/* Receives one index entry a record implies (for group_counts: a
 * partition key and no value, meaning "one group in it"). */
typedef void store_entry_fn(void *ctx, MDB_dbi dbi, const void *key, size_t key_len,
                            const void *val, size_t val_len);
void store_group_entries(struct store *s, const struct group *g, store_entry_fn *add, void *ctx);
void group_index_entries(struct store *s, const struct group *g, store_entry_fn *add, void *ctx);
void store_participant_entries(struct store *s, uint32_t top, const struct participant *pt,
                               store_entry_fn *add, void *ctx);

typedef void store_report_fn(void *ctx, const char *line);
/* Rebuilds every index entry from the group and participant records and
 * compares them with the index databases both ways, and each group's
 * totalParticipants with its participant records.  Each difference is
 * one report line; *differences is how many.  Returns 0 or an LMDB error
 * (a record that cannot be decoded is a difference, not an error). */
int store_check(struct store *s, MDB_txn *txn, store_report_fn *report, void *ctx,
                size_t *differences);

/* ---- the list and search indexes of groups (store_index.c) ---- */

enum group_sort {
    GROUP_SORT_ID,
    GROUP_SORT_NAME,
    GROUP_SORT_CREATED,
    GROUP_SORT_UPDATED,
    GROUP_SORT_EXTID
};

/* What a group's index entries are made of, from a model or a record. */
struct group_keys {
    uint64_t id;
    uint32_t top, org;
    unsigned status; /* enum group_status */
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
 * records rev as the top's list revision.  Called by store_group_put and
 * store_group_purge. */
int group_index(struct store *s, MDB_txn *txn, const struct group *old, const struct group *new,
                uint64_t rev);
/* The distinct folded words (at most 200 bytes each) of a group's name,
 * description and externalId, sorted. */
struct words;
void store_group_words(const struct group *g, struct words *w);

/* Groups in a partition. */
int store_group_count(struct store *s, MDB_txn *txn, uint32_t top, const uint32_t *org,
                      unsigned status, uint64_t *n);
/* The change sequence of the last change to any group of top (0: none). */
int store_top_rev(struct store *s, MDB_txn *txn, uint32_t top, uint64_t *rev);

/* Appends the ids of top's groups of one status having a word that starts
 * with word (folded); unsorted, an id may repeat. */
int store_word_ids(struct store *s, MDB_txn *txn, uint32_t top, unsigned status, const char *word,
                   size_t len, struct idset *out);

/* One partition of group_order in one sort order. */
struct order_entry {
    uint64_t id;
    uint32_t org;
    const char *sort_key; /* store_sort_key's bytes, in the map */
    size_t sort_key_len;
};
struct order_walk {
    MDB_cursor *cur;
    struct buf prefix;
    bool descending, by_id, started, have_peek;
    MDB_val peek_key, peek_val;
    struct order_entry *run;
    size_t run_n, run_cap, run_pos;
};
int order_walk_open(struct order_walk *w, struct store *s, MDB_txn *txn, uint32_t top,
                    const uint32_t *org, unsigned status, enum group_sort field, bool descending);
/* The next entry in sort order (ties by id ascending); MDB_NOTFOUND at the end. */
int order_walk_next(struct order_walk *w, struct order_entry *e);
void order_walk_close(struct order_walk *w);

/* ---- participants and their indexes (store_participant.c) ---- */

/* The keys a participant is unique by within its group. */
enum pkey { PKEY_EMAIL = 1, PKEY_EXTID = 2 };

int store_participant_get(struct store *s, MDB_txn *txn, uint64_t gid, uint64_t pid,
                          struct participant *out);
/* The participant of group gid with this e-mail (compared
 * case-insensitively) or externalId. */
int store_participant_find(struct store *s, MDB_txn *txn, uint64_t gid, enum pkey kind,
                           const char *v, size_t len, uint64_t *pid);
/* Writes the record only (indexes: store_participant_index). */
int store_participant_put(struct store *s, MDB_txn *txn, const struct participant *pt);
int store_participant_del(struct store *s, MDB_txn *txn, uint64_t gid, uint64_t pid);
/* Adds (add) or removes the index entries of pt named by keys (PKEY_
 * bits; the e-mail one includes email_groups).  Adding a taken e-mail or
 * externalId returns MDB_KEYEXIST and sets *clash. */
int store_participant_index(struct store *s, MDB_txn *txn, uint32_t top,
                            const struct participant *pt, unsigned keys, bool add,
                            enum pkey *clash);
/* Calls fn with each participant of group gid, in participant id order.
 * pt is valid only during the call (its strings are reused for the next;
 * participant_copy keeps one). */
int store_participant_each(struct store *s, MDB_txn *txn, uint64_t gid,
                           int (*fn)(void *ctx, const struct participant *pt), void *ctx);
/* Calls fn with the id of each group of top holding this e-mail. */
int store_email_groups(struct store *s, MDB_txn *txn, uint32_t top, const char *email, size_t len,
                       int (*fn)(void *ctx, uint64_t gid), void *ctx);
int store_participant_purge_group(struct store *s, MDB_txn *txn, uint32_t top, uint64_t gid);

/* Appends text to an index key: as it is when it fits, else its first
 * bytes, 0xFF (never in UTF-8) and its SHA-256, so every key stays under
 * LMDB's 511-byte limit and distinct values keep distinct keys. */
void store_key_text(struct buf *key, const char *s, size_t len);

/* ---- API keys (store_key.c) ---- */

#define APIKEY_MAX_ORGS 256
#define APIKEY_NAME_MAX 200
#define APIKEY_HASH_LEN 32

enum role { ROLE_READ = 1, ROLE_WRITE = 2, ROLE_ADMIN = 3 };

struct apikey_record {
    uint32_t id;
    unsigned char hash[APIKEY_HASH_LEN];
    enum role role;
    bool revoked;
    uint32_t top_organisation;
    int64_t created_at;
    size_t n_orgs; /* 0: every organisation of the top */
    uint32_t orgs[APIKEY_MAX_ORGS];
    char name[APIKEY_NAME_MAX + 1];
};

int store_key_next_id(struct store *s, MDB_txn *txn, uint32_t *id);
int store_key_put(struct store *s, MDB_txn *txn, const struct apikey_record *k);
int store_key_get(struct store *s, MDB_txn *txn, uint32_t id, struct apikey_record *out);
int store_key_each(struct store *s, MDB_txn *txn,
                   int (*fn)(void *ctx, const struct apikey_record *k), void *ctx);

#endif
