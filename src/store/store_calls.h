/*
 * store_calls.h — every call by which the store changes LMDB (store_calls.c).
 *
 * store_private.h maps mdb_put, mdb_del, mdb_cursor_put, mdb_cursor_del and
 * mdb_txn_commit in the store_*.c files to these wrappers, for two uses:
 * - they are counted (store_write_calls), so that the writer's batches can
 *   tell a request that gave up before it changed anything (its batch goes
 *   on) from one that gave up half-way (its batch is thrown away; see
 *   store_write_abort);
 * - built with --enable-fault-injection (GROUPD_FAULTS), a test can make
 *   the N-th of them fail with a chosen code (tests/unit/check_faults.c).
 */
#ifndef GROUPD_STORE_CALLS_H
#define GROUPD_STORE_CALLS_H

#include <lmdb.h>
#include <stdbool.h>

/* Puts and deletes attempted by this process so far (failed ones too). */
unsigned long store_write_calls(void);

/* How often store_on_progress's function is called (a power of two). */
#define STORE_PROGRESS_CALLS 1024
void store_on_progress(void (*fn)(void *ctx), void *ctx);

#ifdef GROUPD_FAULTS
/* The n-th store write call from now (1: the next) returns rc instead of
 * writing; n = 0 disarms.  Commits count as write calls here. */
void store_fault_arm(long n, int rc);
/* Whether the armed fault has fired since store_fault_arm. */
bool store_fault_fired(void);
#endif

int store_call_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data, unsigned flags);
int store_call_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data);
int store_call_cursor_put(MDB_cursor *cur, MDB_val *key, MDB_val *data, unsigned flags);
int store_call_cursor_del(MDB_cursor *cur, unsigned flags);
int store_call_commit(MDB_txn *txn);

#endif
