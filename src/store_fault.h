/*
 * store_fault.h — the fault injection hooks (store_fault.c).  Built only
 * with --enable-fault-injection (GROUPD_FAULTS); see tests/unit/check_faults.c.
 */
#ifndef GROUPD_STORE_FAULT_H
#define GROUPD_STORE_FAULT_H

#include <lmdb.h>
#include <stdbool.h>

/* The n-th store write call from now (1: the next) returns rc instead of
 * writing; n = 0 disarms. */
void store_fault_arm(long n, int rc);
/* Whether the armed fault has fired since store_fault_arm. */
bool store_fault_fired(void);

int store_fault_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data, unsigned flags);
int store_fault_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data);
int store_fault_cursor_put(MDB_cursor *cur, MDB_val *key, MDB_val *data, unsigned flags);
int store_fault_cursor_del(MDB_cursor *cur, unsigned flags);
int store_fault_commit(MDB_txn *txn);

#endif
