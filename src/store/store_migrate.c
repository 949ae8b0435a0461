/*
 * store_migrate.c — the schema version and the migrations from each older
 * one (lmdb-schema/README.md "Migrations"), run inside the first write
 * transaction of an environment that needs them.  Above the table files:
 * a migration rebuilds indexes with their own calls.
 */
#include "store_private.h"

#include <stdio.h>

#include "buf.h"

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

/* Version 1 -> 2: the participant index databases appeared (store_dbs_open has
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
    int rc = store_reserve_shared_seq(s, txn, &x.rev);
    if (!rc)
        rc = store_group_each(s, txn, reindex_group, &x);
    if (rc) {
        snprintf(s->errmsg, sizeof s->errmsg, "building the group indexes: %s", mdb_strerror(rc));
        return rc;
    }
    return put_version(s, txn, 3);
}

/* Version 3 -> 4: events and the change feed (lmdb-schema/events.md,
 * changes.md).  store_dbs_open has created both databases, empty: nothing
 * before this version recorded changes, so the feed starts here. */
static int migrate_3_to_4(struct store *s, MDB_txn *txn)
{
    return put_version(s, txn, 4);
}

/* Version 4 -> 5: each tenant's feed counts its own seqs (meta
 * change_seq + top).  Nothing is rewritten: a tenant without its own
 * counter continues from the database-wide change_seq, which is not
 * bumped any more (store_last_seq), so every consumer's since stays
 * valid and no seq is handed out twice.  Databases made before shards are
 * shard 0 (store_claim_shard). */
static int migrate_4_to_5(struct store *s, MDB_txn *txn)
{
    return put_version(s, txn, 5);
}

/* A new database gets the current schema version; an older one is
 * migrated step by step inside this first transaction; a newer one is
 * refused. */
int store_migrate(struct store *s, MDB_txn *txn)
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
    if (!rc && version == 4) {
        rc = migrate_4_to_5(s, txn);
        version = 5;
    }
    if (!rc && version != STORE_SCHEMA_VERSION) {
        snprintf(s->errmsg, sizeof s->errmsg,
                 "database schema version %u is not supported (this groupd knows %d)", version,
                 STORE_SCHEMA_VERSION);
        return MDB_INCOMPATIBLE;
    }
    return rc;
}
