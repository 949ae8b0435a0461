/*
 * fuzz_db.h — the temporary database the in-process request harnesses
 * share: keys of every kind, made anew on demand so it stays small.
 */
#ifndef GROUPD_FUZZ_DB_H
#define GROUPD_FUZZ_DB_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apikey.h"
#include "app.h"
#include "store.h"

static struct store *db;
static struct app app;
static char dir[64];
static char keys[4][APIKEY_STRING_MAX];

static void add_key(int i, uint32_t top, enum role role, uint32_t org)
{
    MDB_txn *txn;
    struct apikey_record k;
    memset(&k, 0, sizeof k);
    if (store_write_begin(db, &txn) || store_key_next_id(db, txn, &k.id))
        abort();
    k.role = role;
    k.top_organisation = top;
    if (org) {
        k.n_orgs = 1;
        k.orgs[0] = org;
    }
    apikey_generate(k.top_organisation, k.id, keys[i], k.hash);
    if (store_key_put(db, txn, &k) || store_write_commit(txn))
        abort();
}

static void fresh_db(void)
{
    if (dir[0]) {
        store_close(db);
        char cmd[96];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            abort();
    }
    /* In memory when there is a tmpfs: every commit flushes, and a flush
     * to disk would make the harness wait on the disk, not on groupd. */
    snprintf(dir, sizeof dir, "%s/groupd-fuzz-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!db)
        db = store_new();
    if (!mkdtemp(dir) || store_open(db, dir, 64 << 20) != 0)
        abort();
    add_key(0, 100, ROLE_ADMIN, 0);
    add_key(1, 100, ROLE_WRITE, 101);
    add_key(2, 100, ROLE_READ, 0);
    add_key(3, 200, ROLE_ADMIN, 0);
    app.store = db;
    app.log_error = NULL;
}

static void cleanup(void)
{
    store_close(db);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return;
}

/* Call from LLVMFuzzerInitialize. */
static void fuzz_db_init(void)
{
    if (apikey_init() != 0)
        abort();
    fresh_db();
    atexit(cleanup);
}

#endif
