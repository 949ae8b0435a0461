/*
 * store_calls.c — the store's write calls, counted, and failable in a
 * fault-injection build (SQLite's discipline); see store_calls.h.  A
 * failed commit aborts its transaction, as a failed mdb_txn_commit does.
 * Unarmed, a wrapper is an increment and one comparison.  This file must
 * not see the mapping of store_private.h.
 */
#include <lmdb.h>

#include "store_calls.h"

static unsigned long calls;
static void (*progress)(void *ctx);
static void *progress_ctx;

unsigned long store_write_calls(void)
{
    return calls;
}

void store_on_progress(void (*fn)(void *ctx), void *ctx)
{
    progress = fn;
    progress_ctx = ctx;
}

/* Counts a write call; every STORE_PROGRESS_CALLS, tells the watcher. */
static void count(void)
{
    if ((++calls & (STORE_PROGRESS_CALLS - 1)) == 0 && progress)
        progress(progress_ctx);
}

#ifdef GROUPD_FAULTS
static long countdown; /* 0: unarmed; 1: the next call fails */
static int fail_with;

void store_fault_arm(long n, int rc)
{
    countdown = n;
    fail_with = rc;
}

bool store_fault_fired(void)
{
    return countdown < 0;
}

static bool fire(void)
{
    if (countdown <= 0)
        return false;
    if (--countdown)
        return false;
    countdown = -1; /* fired: nothing more fails until re-armed */
    return true;
}
#define FAULT(rc)                                                                                  \
    do {                                                                                           \
        if (fire())                                                                                \
            return (rc);                                                                           \
    } while (0)
#else
#define FAULT(rc) ((void)0)
#endif

int store_call_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data, unsigned flags)
{
    count();
    FAULT(fail_with);
    return mdb_put(txn, dbi, key, data, flags);
}

int store_call_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data)
{
    count();
    FAULT(fail_with);
    return mdb_del(txn, dbi, key, data);
}

int store_call_cursor_put(MDB_cursor *cur, MDB_val *key, MDB_val *data, unsigned flags)
{
    count();
    FAULT(fail_with);
    return mdb_cursor_put(cur, key, data, flags);
}

int store_call_cursor_del(MDB_cursor *cur, unsigned flags)
{
    count();
    FAULT(fail_with);
    return mdb_cursor_del(cur, flags);
}

int store_call_commit(MDB_txn *txn)
{
#ifdef GROUPD_FAULTS
    if (fire()) {
        mdb_txn_abort(txn);
        return fail_with;
    }
#endif
    return mdb_txn_commit(txn);
}
