/*
 * store_env.c — opening the LMDB environment and the transaction helpers.
 *
 * The environment is opened with MDB_NOTLS so a worker's long-lived read
 * transaction is tied to its handle rather than to the thread, and a
 * write transaction can be begun while the read handle sits reset.
 * MDB_NOMETASYNC with a flush after each commit: see store_write_commit.
 * MDB_MAP_RESIZED (another process grew the map) is handled by adopting
 * the new size and trying once more.
 *
 * MDB_WRITEMAP (store_open; the writer process opens without it, see
 * store_open_as): a write transaction changes pages in the shared map
 * instead of in malloc'd copies, so a large import does not grow the
 * worker's heap (LMDB never returns those copies to the system) and a
 * worker's private memory stays small.  The price is that LMDB sizes the
 * data file to the map as a sparse file, and writing into a hole on a full
 * disk would kill the process with SIGBUS.  So every write transaction
 * first allocates real disk blocks for the pages it may take beyond the
 * last used one (store_reserve_disk); a full disk then fails that allocation and
 * the write answers "database full" before anything is changed.
 */
#include "clock.h"
#include "store_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "buf.h"

/* Every named database; index ones hold only what records imply
 * (groupctl check rebuilds them). */
static const struct {
    const char *name;
    size_t offset;
    unsigned flags;
    bool index;
} dbs[] = {
    {"meta", offsetof(struct store, meta), 0, false},
    {"groups", offsetof(struct store, groups), 0, false},
    {"group_extid", offsetof(struct store, group_extid), 0, true},
    {"participants", offsetof(struct store, participants), 0, false},
    {"participant_email", offsetof(struct store, participant_email), 0, true},
    {"participant_extid", offsetof(struct store, participant_extid), 0, true},
    {"email_groups", offsetof(struct store, email_groups), MDB_DUPSORT | MDB_DUPFIXED, true},
    {"apikeys", offsetof(struct store, apikeys), 0, false},
    {"group_order", offsetof(struct store, group_order), 0, true},
    {"group_counts", offsetof(struct store, group_counts), 0, true},
    {"group_words", offsetof(struct store, group_words), MDB_DUPSORT | MDB_DUPFIXED, true},
    {"events", offsetof(struct store, events), 0, false},
    {"changes", offsetof(struct store, changes), 0, false},
};

#define N_DBS (sizeof dbs / sizeof dbs[0])

static MDB_dbi *dbi_of(const struct store *s, size_t i)
{
    return (MDB_dbi *)((char *)s + dbs[i].offset);
}

size_t store_databases(const struct store *s, struct store_db out[STORE_MAX_DBS])
{
    for (size_t i = 0; i < N_DBS; i++)
        out[i] = (struct store_db){dbs[i].name, *dbi_of(s, i), dbs[i].index};
    return N_DBS;
}

static int open_dbs(struct store *s, MDB_txn *txn)
{
    for (size_t i = 0; i < N_DBS; i++) {
        int rc = mdb_dbi_open(txn, dbs[i].name, MDB_CREATE | dbs[i].flags, dbi_of(s, i));
        if (rc) {
            snprintf(s->errmsg, sizeof s->errmsg, "opening database %s: %s", dbs[i].name,
                     mdb_strerror(rc));
            return rc;
        }
    }
    return 0;
}

/* A database of the current version with every named database opens in a
 * read-only transaction: starting a worker or groupctl then writes
 * nothing and needs no free disk.  MDB_NOTFOUND when it needs the write
 * path (a new or older database). */
static int open_current(struct store *s)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    for (size_t i = 0; i < N_DBS && !rc; i++)
        rc = mdb_dbi_open(txn, dbs[i].name, dbs[i].flags, dbi_of(s, i));
    uint32_t version = 0;
    if (!rc)
        rc = store_schema_version(s, txn, &version);
    if (!rc && version != STORE_SCHEMA_VERSION)
        rc = MDB_NOTFOUND;
    uint64_t retain = 0;
    if (!rc)
        rc = store_meta_get(s, txn, "changes_retain", sizeof "changes_retain" - 1, &retain);
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    s->retain_ms = retain ? (int64_t)retain : STORE_DEFAULT_RETAIN_MS;
    /* Committed, the handles stay open for the environment (lmdb.h). */
    return mdb_txn_commit(txn);
}

static int put_version(struct store *s, MDB_txn *txn, uint32_t version)
{
    MDB_val key = {sizeof "schema_version" - 1, "schema_version"}, val;
    unsigned char v[4];
    be32_put(v, version);
    val.mv_size = 4;
    val.mv_data = v;
    int rc = mdb_put(txn, s->meta, &key, &val, 0);
    if (rc)
        snprintf(s->errmsg, sizeof s->errmsg, "writing schema version: %s", mdb_strerror(rc));
    return rc;
}

/* Version 1 -> 2: the participant index databases appeared (open_dbs has
 * created them) and participant records became binary.  Version 1 had no
 * endpoint that wrote participants, so there is no data to move; a
 * participant record in a version 1 database would be a corruption. */
static int migrate_1_to_2(struct store *s, MDB_txn *txn)
{
    MDB_stat st;
    int rc = mdb_stat(txn, s->participants, &st);
    if (!rc && st.ms_entries) {
        snprintf(s->errmsg, sizeof s->errmsg,
                 "schema version 1 database holds participant records it cannot have written");
        return MDB_INCOMPATIBLE;
    }
    return rc ? rc : put_version(s, txn, 2);
}

struct reindex {
    struct store *s;
    MDB_txn *txn;
    uint64_t rev;
};

static int reindex_group(void *ctx, const struct group_record *r)
{
    struct reindex *x = ctx;
    struct group g;
    int rc = store_group_load(r, &g);
    if (rc)
        return rc;
    rc = group_index(x->s, x->txn, NULL, &g, x->rev);
    group_free(&g);
    return rc;
}

/* Version 2 -> 3: the list and search indexes (group_order, group_counts,
 * group_words, the tops' list revisions) are built from every group
 * record.  The migration is itself one change: every top gets its
 * sequence number as list revision, so cached list ETags go stale. */
static int migrate_2_to_3(struct store *s, MDB_txn *txn)
{
    struct reindex x = {s, txn, 0};
    int rc = store_reserve_seqs(s, txn, 1, &x.rev);
    if (!rc)
        rc = store_group_each(s, txn, reindex_group, &x);
    if (rc) {
        snprintf(s->errmsg, sizeof s->errmsg, "building the group indexes: %s", mdb_strerror(rc));
        return rc;
    }
    return put_version(s, txn, 3);
}

/* Version 3 -> 4: events and the change feed (lmdb-schema/events.md,
 * changes.md).  open_dbs has created both databases, empty: nothing
 * before this version recorded changes, so the feed starts here. */
static int migrate_3_to_4(struct store *s, MDB_txn *txn)
{
    return put_version(s, txn, 4);
}

/* A new database gets the current schema version; an older one is
 * migrated step by step inside this first transaction; a newer one is
 * refused. */
static int check_schema(struct store *s, MDB_txn *txn)
{
    MDB_val key = {sizeof "schema_version" - 1, "schema_version"}, val;
    int rc = mdb_get(txn, s->meta, &key, &val);
    if (rc == MDB_NOTFOUND)
        return put_version(s, txn, STORE_SCHEMA_VERSION);
    if (rc) {
        snprintf(s->errmsg, sizeof s->errmsg, "reading schema version: %s", mdb_strerror(rc));
        return rc;
    }
    uint32_t version = val.mv_size == 4 ? be32_get(val.mv_data) : 0;
    if (version == 1) {
        rc = migrate_1_to_2(s, txn);
        version = 2;
    }
    if (!rc && version == 2) {
        rc = migrate_2_to_3(s, txn);
        version = 3;
    }
    if (!rc && version == 3) {
        rc = migrate_3_to_4(s, txn);
        version = 4;
    }
    if (!rc && version != STORE_SCHEMA_VERSION) {
        snprintf(s->errmsg, sizeof s->errmsg,
                 "database schema version %u is not supported (this groupd knows %d)", version,
                 STORE_SCHEMA_VERSION);
        return MDB_INCOMPATIBLE;
    }
    return rc;
}

int store_open(struct store *s, const char *dir, size_t map_size)
{
    return store_open_as(s, dir, map_size, STORE_WRITES_MAPPED);
}

static int open_env(struct store *s, const char *dir, size_t map_size, enum store_writes how)
{
    memset(s, 0, sizeof *s);
    s->map_size = map_size;
    s->writes = how;
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(s->errmsg, sizeof s->errmsg, "creating %s: %s", dir, strerror(errno));
        return errno;
    }
    int rc = mdb_env_create(&s->env);
    if (rc) {
        snprintf(s->errmsg, sizeof s->errmsg, "mdb_env_create: %s", mdb_strerror(rc));
        return rc;
    }
    const char *step = "mdb_env_set_maxdbs";
    rc = mdb_env_set_maxdbs(s->env, STORE_MAX_DBS);
    if (!rc) {
        step = "mdb_env_set_maxreaders";
        rc = mdb_env_set_maxreaders(s->env, 512);
    }
    if (!rc && map_size) {
        step = "mdb_env_set_mapsize";
        rc = mdb_env_set_mapsize(s->env, map_size);
    }
    if (!rc) {
        step = "mdb_env_open";
        unsigned flags = MDB_NOTLS | MDB_NOMETASYNC;
        if (how == STORE_WRITES_MAPPED)
            flags |= MDB_WRITEMAP;
        rc = mdb_env_open(s->env, dir, flags, 0660);
    }
    if (rc) {
        snprintf(s->errmsg, sizeof s->errmsg, "%s(%s): %s", step, dir, mdb_strerror(rc));
        goto fail;
    }
    /* So that store_write_commit, given only a transaction, finds the
     * store's open batch (the struct must not move while it is open). */
    rc = mdb_env_set_userctx(s->env, s);
    if (rc) {
        snprintf(s->errmsg, sizeof s->errmsg, "mdb_env_set_userctx: %s", mdb_strerror(rc));
        goto fail;
    }
    int dead = 0;
    rc = mdb_reader_check(s->env, &dead);
    if (rc) {
        snprintf(s->errmsg, sizeof s->errmsg, "mdb_reader_check: %s", mdb_strerror(rc));
        goto fail;
    }
    rc = open_current(s);
    if (rc == 0)
        return 0;
    if (rc != MDB_NOTFOUND) {
        snprintf(s->errmsg, sizeof s->errmsg, "opening the databases: %s", mdb_strerror(rc));
        goto fail;
    }
    MDB_txn *txn;
    rc = store_write_begin(s, &txn);
    if (rc) {
        snprintf(s->errmsg, sizeof s->errmsg, "first transaction: %s", mdb_strerror(rc));
        goto fail;
    }
    rc = open_dbs(s, txn);
    if (!rc)
        rc = check_schema(s, txn);
    uint64_t retain = 0;
    if (!rc)
        rc = store_meta_get(s, txn, "changes_retain", sizeof "changes_retain" - 1, &retain);
    s->retain_ms = retain ? (int64_t)retain : STORE_DEFAULT_RETAIN_MS;
    if (rc) {
        mdb_txn_abort(txn);
        goto fail;
    }
    rc = store_write_commit(txn);
    if (rc) {
        snprintf(s->errmsg, sizeof s->errmsg, "committing the first transaction: %s",
                 mdb_strerror(rc));
        goto fail;
    }
    return 0;
fail:
    mdb_env_close(s->env);
    s->env = NULL;
    return rc;
}

/* The environment and its read transaction, not the remembered options. */
static void close_env(struct store *s)
{
    if (s->rtxn)
        mdb_txn_abort(s->rtxn);
    s->rtxn = NULL;
    if (s->env)
        mdb_env_close(s->env);
    s->env = NULL;
}

int store_open_as(struct store *s, const char *dir, size_t map_size, enum store_writes how)
{
    int rc = open_env(s, dir, map_size, how);
    if (rc)
        return rc;
    s->dir = strdup(dir);
    if (!s->dir) {
        close_env(s);
        snprintf(s->errmsg, sizeof s->errmsg, "opening %s: out of memory", dir);
        return ENOMEM;
    }
    return 0;
}

void store_close(struct store *s)
{
    close_env(s);
    free(s->dir);
    s->dir = NULL;
}

int store_reopen(struct store *s)
{
    char *dir = s->dir;
    s->dir = NULL;
    close_env(s);
    int rc = store_open_as(s, dir, s->map_size, s->writes);
    free(dir);
    return rc;
}

int store_read_begin(struct store *s, MDB_txn **txn)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int rc =
            s->rtxn ? mdb_txn_renew(s->rtxn) : mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rtxn);
        if (rc == MDB_MAP_RESIZED) {
            if (s->rtxn) {
                mdb_txn_abort(s->rtxn);
                s->rtxn = NULL;
            }
            rc = mdb_env_set_mapsize(s->env, 0);
            if (rc)
                return rc;
            continue;
        }
        if (rc)
            return rc;
        *txn = s->rtxn;
        return 0;
    }
    return MDB_MAP_RESIZED;
}

void store_read_end(struct store *s)
{
    if (s->rtxn)
        mdb_txn_reset(s->rtxn);
}

/* Allocates disk blocks for bytes beyond the last used page (capped at the
 * map).  Blocks below it were allocated when those pages were written.
 *
 * Without a system call on most writes: blocks are never given back (LMDB
 * neither shrinks the file nor punches holes in it), so a frontier this
 * process once saw allocated stays allocated, and s->reserved_to caches
 * it.  Past it, the file itself says how far another writer (a worker,
 * groupctl) has reserved: lseek(SEEK_HOLE) finds the first hole.  Only
 * when that is short are blocks allocated, STORE_RESERVE_STEP at a time,
 * or just what this write needs when the disk has no room for a step.
 * A file system without fallocate has nothing to reserve with; writes
 * there behave as without this check. */
int store_reserve_disk(struct store *s, size_t bytes)
{
    MDB_envinfo info;
    MDB_stat st;
    mdb_filehandle_t fd;
    int rc = mdb_env_info(s->env, &info);
    if (!rc)
        rc = mdb_env_stat(s->env, &st);
    if (rc)
        return rc;
    size_t from = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
    if (from >= info.me_mapsize)
        return 0;
    size_t want = bytes < info.me_mapsize - from ? from + bytes : info.me_mapsize;
    if (want <= s->reserved_to)
        return 0;
    rc = mdb_env_get_fd(s->env, &fd);
    if (rc)
        return rc;
    off_t hole = lseek(fd, (off_t)from, SEEK_HOLE);
    if (hole >= 0 && (size_t)hole >= want) {
        s->reserved_to = (size_t)hole;
        return 0;
    }
    size_t step =
        from + STORE_RESERVE_STEP < info.me_mapsize ? from + STORE_RESERVE_STEP : info.me_mapsize;
    size_t to = step > want ? step : want;
    if (fallocate(fd, 0, (off_t)from, (off_t)(to - from)) != 0 &&
        (errno != ENOSPC || (to = want, fallocate(fd, 0, (off_t)from, (off_t)(to - from)) != 0))) {
        if (errno == ENOSPC || errno == EDQUOT)
            return MDB_MAP_FULL;
        return errno == EOPNOTSUPP ? 0 : errno;
    }
    s->reserved_to = to;
    return 0;
}

/* Pages in use in txn's view: the tree pages of every database (the free
 * list's own, LMDB's main one and each named one) and the two meta pages.
 * Each mdb_stat reads the database's record in the transaction: no walk. */
static int used_pages(struct store *s, MDB_txn *txn, size_t *out, size_t *psize)
{
    MDB_dbi all[2 + N_DBS] = {
        0, 1}; /* FREE_DBI and MAIN_DBI (lmdb.h's mdb_stat tool reads them too) */
    for (size_t i = 0; i < N_DBS; i++)
        all[2 + i] = *dbi_of(s, i);
    size_t n = 2;
    for (size_t i = 0; i < 2 + N_DBS; i++) {
        MDB_stat st;
        int rc = mdb_stat(txn, all[i], &st);
        if (rc == EINVAL)
            continue; /* not open in this transaction (opening, a migration) */
        if (rc)
            return rc;
        n += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
        *psize = st.ms_psize;
    }
    *out = n;
    return 0;
}

void store_may_use_reserve(struct store *s, bool may)
{
    s->may_use_reserve = may;
}

/* The reserve for writes that free space: a write that grew the pages in
 * use past the map less STORE_FREE_RESERVE is refused as "database full",
 * unless it may use the reserve (store_may_use_reserve: the DELETEs).
 * Pages in use, not the file's last page, are counted: pages freed by a
 * purge are reused by LMDB, and the count falls with them, so creates
 * work again as soon as space was freed.  The reserve then always holds
 * the copies a delete needs (LMDB copies every page it changes, so even a
 * delete takes new pages before its old ones are free). */
static int check_room(struct store *s, MDB_txn *txn)
{
    if (s->may_use_reserve)
        return 0;
    size_t used = 0, psize = 0;
    int rc = used_pages(s, txn, &used, &psize);
    if (rc || used <= s->used_at_begin)
        return rc;
    MDB_envinfo info;
    rc = mdb_env_info(s->env, &info);
    if (rc)
        return rc;
    size_t room = info.me_mapsize - STORE_FREE_RESERVE(info.me_mapsize);
    return used > room / psize ? MDB_MAP_FULL : 0;
}

/* Notes the pages in use as a write begins, for check_room. */
static int note_used(struct store *s, MDB_txn *txn)
{
    size_t psize;
    return s->may_use_reserve ? 0 : used_pages(s, txn, &s->used_at_begin, &psize);
}

int store_write_begin(struct store *s, MDB_txn **txn)
{
    if (s->batch) {
        *txn = s->batch_spoilt ? NULL : s->batch;
        s->batch_mark = store_write_calls();
        if (s->batch_spoilt)
            return MDB_BAD_TXN;
        return note_used(s, s->batch);
    }
    int rc = mdb_txn_begin(s->env, NULL, 0, txn);
    if (rc == MDB_MAP_RESIZED) {
        rc = mdb_env_set_mapsize(s->env, 0);
        if (!rc)
            rc = mdb_txn_begin(s->env, NULL, 0, txn);
    }
    if (rc)
        return rc;
    /* Under the write lock: the last used page cannot move meanwhile. */
    rc = store_reserve_disk(s, STORE_WRITE_HEADROOM);
    if (!rc)
        rc = note_used(s, *txn);
    if (rc) {
        mdb_txn_abort(*txn);
        *txn = NULL;
    }
    return rc;
}

/* Where the data file is mapped.  LMDB does not say (mdb_env_info's
 * me_mapaddr is set only with MDB_FIXEDMAP), so it is the mapping of the
 * data file's device and inode in /proc/self/maps. */
static int find_map(struct store *s, void **addr, size_t *len)
{
    mdb_filehandle_t fd;
    struct stat st;
    int rc = mdb_env_get_fd(s->env, &fd);
    if (rc)
        return rc;
    if (fstat(fd, &st) != 0)
        return errno;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return errno;
    char line[512];
    rc = ENOENT;
    while (rc == ENOENT && fgets(line, sizeof line, f)) {
        unsigned long start, end, ino;
        unsigned maj, min;
        if (sscanf(line, "%lx-%lx %*s %*s %x:%x %lu", &start, &end, &maj, &min, &ino) == 5 &&
            ino == st.st_ino && makedev(maj, min) == st.st_dev) {
            *addr = (void *)start;
            *len = end - start;
            rc = 0;
        }
    }
    fclose(f);
    return rc;
}

/* MADV_DONTNEED on a MAP_SHARED file mapping (LMDB always maps shared)
 * removes only this process's page-table entries: the pages, dirty ones
 * of an open write transaction included, stay in the page cache, and the
 * next touch maps the same page again.  So it is safe at any moment, and
 * the kernel may write dirty ones back early or evict clean ones. */
int store_release_map(struct store *s)
{
    void *addr = NULL;
    size_t len = 0;
    int rc = find_map(s, &addr, &len);
    if (rc)
        return rc;
    return madvise(addr, len, MADV_DONTNEED) ? errno : 0;
}

/* The store whose batch txn is, or NULL (store_open makes each
 * environment point back at its store). */
static struct store *batch_of(MDB_txn *txn)
{
    struct store *s = mdb_env_get_userctx(mdb_txn_env(txn));
    return s && s->batch == txn ? s : NULL;
}

/* Durability without two flushes under the write lock (lmdb-schema/README.md
 * "Durability"): with MDB_NOMETASYNC, mdb_txn_commit flushes the data
 * pages, then writes the meta page without flushing it and releases the
 * lock; the flush of the meta page happens here, outside the lock, while
 * the next writer works, and the caller answers only after it returned. */
static int commit_durably(MDB_txn *txn)
{
    MDB_env *env = mdb_txn_env(txn);
    size_t id = mdb_txn_id(txn);
    int rc = mdb_txn_commit(txn);
    if (rc)
        return rc;
    /* A transaction that wrote nothing commits as nothing (a no-op update
     * stays free): the last committed id did not reach ours. */
    MDB_envinfo info;
    rc = mdb_env_info(env, &info);
    if (!rc && info.me_last_txnid < id)
        return 0;
    return rc ? rc : mdb_env_sync(env, 1);
}

int store_write_commit(MDB_txn *txn)
{
    struct store *s = mdb_env_get_userctx(mdb_txn_env(txn));
    int rc = s ? check_room(s, txn) : 0;
    if (rc) {
        /* As a failed mdb_txn_commit: the transaction is gone (in a batch,
         * spoilt, so that the request runs alone and gets this answer). */
        if (batch_of(txn))
            s->batch_spoilt = true;
        else
            mdb_txn_abort(txn);
        return rc;
    }
    /* In a batch the request's part is done; the batch commits it. */
    return batch_of(txn) ? 0 : commit_durably(txn);
}

void store_write_abort(MDB_txn *txn)
{
    struct store *s = batch_of(txn);
    if (!s)
        mdb_txn_abort(txn);
    else if (store_write_calls() != s->batch_mark)
        s->batch_spoilt = true; /* it may have written part of its change */
}

int store_batch_begin(struct store *s, size_t reserve)
{
    MDB_txn *txn;
    int rc = store_write_begin(s, &txn);
    if (rc)
        return rc;
    if (reserve && (rc = store_reserve_disk(s, STORE_WRITE_HEADROOM + reserve)) != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    s->batch = txn;
    s->batch_spoilt = false;
    return 0;
}

bool store_batch_spoilt(const struct store *s)
{
    return s->batch_spoilt;
}

int store_batch_commit(struct store *s)
{
    MDB_txn *txn = s->batch;
    s->batch = NULL;
    if (s->batch_spoilt) {
        mdb_txn_abort(txn);
        return MDB_BAD_TXN;
    }
    return commit_durably(txn);
}

void store_batch_abort(struct store *s)
{
    if (s->batch)
        mdb_txn_abort(s->batch);
    s->batch = NULL;
    s->batch_spoilt = false;
}

int store_import_begin(struct store *s, size_t reserve, MDB_txn **txn)
{
    int rc = store_write_begin(s, txn);
    if (rc)
        return rc;
    rc = store_reserve_disk(s, reserve);
    /* The worker's resident set still holds every database page it has
     * read or written since it started; none of them is its own memory,
     * so the import starts from none. */
    if (!rc)
        rc = store_release_map(s);
    if (rc)
        mdb_txn_abort(*txn);
    return rc;
}

int store_import_commit(struct store *s, MDB_txn *txn, enum store_import kind, uint64_t rows)
{
    int rc = store_note_import(s, txn, kind, rows, clock_now_ms());
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    return store_write_commit(txn);
}

int store_usage(struct store *s, size_t *map_size, size_t *used)
{
    MDB_envinfo info;
    MDB_stat st;
    int rc = mdb_env_info(s->env, &info);
    if (!rc)
        rc = mdb_env_stat(s->env, &st);
    if (rc)
        return rc;
    *map_size = info.me_mapsize;
    *used = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
    return 0;
}

int store_backup(struct store *s, const char *dir)
{
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return errno;
    return mdb_env_copy2(s->env, dir, MDB_CP_COMPACT);
}
