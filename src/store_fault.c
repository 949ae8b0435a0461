/*
 * store_fault.c — fault injection for the store's write calls (SQLite's
 * discipline): with --enable-fault-injection, every mdb_put, mdb_del,
 * mdb_cursor_put, mdb_cursor_del and mdb_txn_commit of the store_*.c files
 * goes through these wrappers (store_private.h maps the names), and a test
 * can make the N-th of them fail with a chosen code.  A failed commit
 * aborts its transaction, as a failed mdb_txn_commit does.  Unarmed, each
 * wrapper is one comparison.  This file must not see the mapping.
 */
#include <lmdb.h>

#include "store_fault.h"

static long countdown; /* 0: unarmed; 1: the next call fails */
static int fail_with;

void store_fault_arm(long n, int rc)
{
    countdown = n;
    fail_with = rc;
}

bool store_fault_fired(void) { return countdown < 0; }

static bool fire(void)
{
    if (countdown <= 0)
        return false;
    if (--countdown)
        return false;
    countdown = -1; /* fired: nothing more fails until re-armed */
    return true;
}

int store_fault_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data, unsigned flags)
{
    return fire() ? fail_with : mdb_put(txn, dbi, key, data, flags);
}

int store_fault_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data)
{
    return fire() ? fail_with : mdb_del(txn, dbi, key, data);
}

int store_fault_cursor_put(MDB_cursor *cur, MDB_val *key, MDB_val *data, unsigned flags)
{
    return fire() ? fail_with : mdb_cursor_put(cur, key, data, flags);
}

int store_fault_cursor_del(MDB_cursor *cur, unsigned flags)
{
    return fire() ? fail_with : mdb_cursor_del(cur, flags);
}

int store_fault_commit(MDB_txn *txn)
{
    if (fire()) {
        mdb_txn_abort(txn);
        return fail_with;
    }
    return mdb_txn_commit(txn);
}
