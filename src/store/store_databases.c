/*
 * store_databases.c — the named databases of the environment: their names,
 * flags and handles (lmdb-schema/README.md lists what each holds).  The
 * bottom floor of the store: every other file finds a handle here or in
 * struct store, and nothing here calls another store file.
 */
#include "store_private.h"

#include <stdio.h>

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

int store_db_sizes(struct store *s, MDB_txn *txn, struct store_db_size out[STORE_MAX_DBS],
                   size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < N_DBS; i++) {
        MDB_stat st;
        int rc = mdb_stat(txn, *dbi_of(s, i), &st);
        if (rc)
            return rc;
        out[i] =
            (struct store_db_size){dbs[i].name, st.ms_entries,
                                   st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages};
        *n = i + 1;
    }
    return 0;
}

int store_dbs_open(struct store *s, MDB_txn *txn)
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

int store_dbs_find(struct store *s, MDB_txn *txn)
{
    int rc = 0;
    for (size_t i = 0; i < N_DBS && !rc; i++)
        rc = mdb_dbi_open(txn, dbs[i].name, dbs[i].flags, dbi_of(s, i));
    return rc;
}
