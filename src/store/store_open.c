/*
 * store_open.c — opening and closing the LMDB environment, and copying it.
 *
 * The environment is opened with MDB_NOTLS so a worker's long-lived read
 * transaction is tied to its handle rather than to the thread, and a
 * write transaction can be begun while the read handle sits reset.
 * MDB_NOMETASYNC with a flush after each commit: see store_txn.c.
 *
 * MDB_WRITEMAP (store_open; the writer process opens without it, see
 * store_open_as): a write transaction changes pages in the shared map
 * instead of in malloc'd copies, so a large import does not grow the
 * worker's heap (LMDB never returns those copies to the system) and a
 * worker's private memory stays small.  The price is that LMDB sizes the
 * data file to the map as a sparse file, and writing into a hole on a full
 * disk would kill the process with SIGBUS: see store_disk.c.
 */
#include "store_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
    if (!rc)
        rc = store_dbs_find(s, txn);
    uint32_t version = 0;
    if (!rc)
        rc = store_schema_version(s, txn, &version);
    if (!rc && version != STORE_SCHEMA_VERSION)
        rc = MDB_NOTFOUND;
    uint64_t retain = 0, shard = 0;
    if (!rc)
        rc = store_meta_get(s, txn, "changes_retain", sizeof "changes_retain" - 1, &retain);
    if (!rc)
        rc = store_meta_get(s, txn, "shard", sizeof "shard" - 1, &shard);
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    s->retain_ms = retain ? (int64_t)retain : STORE_DEFAULT_RETAIN_MS;
    s->shard = (unsigned)shard;
    /* Committed, the handles stay open for the environment (lmdb.h). */
    return mdb_txn_commit(txn);
}

struct store *store_new(void)
{
    struct store *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    return s;
}

void store_delete(struct store *s)
{
    free(s);
}

const char *store_errmsg(const struct store *s)
{
    return s->errmsg;
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
    rc = store_dbs_open(s, txn);
    if (!rc)
        rc = store_migrate(s, txn);
    uint64_t retain = 0, shard = 0;
    if (!rc)
        rc = store_meta_get(s, txn, "changes_retain", sizeof "changes_retain" - 1, &retain);
    if (!rc)
        rc = store_meta_get(s, txn, "shard", sizeof "shard" - 1, &shard);
    s->retain_ms = retain ? (int64_t)retain : STORE_DEFAULT_RETAIN_MS;
    s->shard = (unsigned)shard;
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

int store_backup(struct store *s, const char *dir)
{
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return errno;
    return mdb_env_copy2(s->env, dir, MDB_CP_COMPACT);
}
