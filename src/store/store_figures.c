/*
 * store_figures.c — the figures /metrics and groupctl stats show: record
 * counts, map use, readers, the last imports.  See include/store.h.
 */
#include <errno.h>
#include <string.h>

#include "store_private.h"

static const char *const import_at[STORE_IMPORT_KINDS] = {
    "last_import_at_participants", "last_import_at_groups", "last_import_at_oneroster"};
static const char *const import_rows[STORE_IMPORT_KINDS] = {
    "last_import_rows_participants", "last_import_rows_groups", "last_import_rows_oneroster"};

static int entries(MDB_txn *txn, MDB_dbi dbi, uint64_t *n)
{
    MDB_stat st;
    int rc = mdb_stat(txn, dbi, &st);
    if (!rc)
        *n = st.ms_entries;
    return rc;
}

/* mdb_reader_list hands over one line per live reader after a header line. */
static int count_line(const char *msg, void *ctx)
{
    (void)msg;
    (*(unsigned *)ctx)++;
    return 0;
}

static int meta_or_zero(struct store *s, MDB_txn *txn, const char *name, uint64_t *v)
{
    int rc = store_meta_get(s, txn, name, strlen(name), v);
    if (rc == MDB_NOTFOUND) {
        *v = 0;
        rc = 0;
    }
    return rc;
}

int store_figures(struct store *s, MDB_txn *txn, struct store_figures *f)
{
    memset(f, 0, sizeof *f);
    int rc = entries(txn, s->groups, &f->groups);
    if (!rc)
        rc = entries(txn, s->participants, &f->participants);
    if (!rc)
        rc = entries(txn, s->events, &f->events);
    if (!rc)
        rc = store_usage(s, &f->map_size, &f->map_used);
    if (!rc)
        rc = mdb_env_get_maxreaders(s->env, &f->readers_max);
    unsigned lines = 0;
    if (!rc && mdb_reader_list(s->env, count_line, &lines) < 0)
        rc = EIO;
    f->readers_used = lines ? lines - 1 : 0;
    for (int k = 0; k < STORE_IMPORT_KINDS && !rc; k++) {
        uint64_t at = 0;
        rc = meta_or_zero(s, txn, import_at[k], &at);
        if (!rc)
            rc = meta_or_zero(s, txn, import_rows[k], &f->last_import[k].rows);
        f->last_import[k].at_ms = (int64_t)at;
    }
    return rc;
}

int store_note_import(struct store *s, MDB_txn *txn, enum store_import kind, uint64_t rows,
                      int64_t now_ms)
{
    int rc = store_meta_put(s, txn, import_at[kind], strlen(import_at[kind]), (uint64_t)now_ms);
    if (!rc)
        rc = store_meta_put(s, txn, import_rows[kind], strlen(import_rows[kind]), rows);
    return rc;
}
