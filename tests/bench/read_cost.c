/*
 * read_cost.c — what a lookup's reads cost without HTTP, run by hand on a loaded database
 * (for instance the one tests/bench/lookup_ab.py keeps):
 *
 *   gcc -O2 -Iinclude -I/usr/include/json-c -o /tmp/read_cost tests/bench/read_cost.c \
 *       build/libgroupd.a -llmdb -ljson-c -lsodium -lutf8proc -lfcgi
 *   /tmp/read_cost DB_DIR
 *
 * Picks 10,000 random existing group ids below 110,000 (search_bench.py's groups), then
 * for each of them, three passes each: renews the read transaction, reads the group record
 * (and, in the second form, walks its participants, decoded), resets the transaction, and
 * makes 0 or 9 cheap system calls (a request's count in groupd) before the next one. It
 * prints microseconds per lookup for each form. The store is opened read-write (as groupd
 * does) but nothing is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#define LOOKUPS 10000

static int count_one(void *ctx, const struct participant *pt)
{
    *(uint64_t *)ctx += pt->id;
    return 0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int pass(struct store *s, const uint64_t *ids, bool participants, int syscalls,
                uint64_t *sink, double *us)
{
    double t0 = now();
    for (size_t i = 0; i < LOOKUPS; i++) {
        MDB_txn *txn;
        struct group_record r;
        int rc = store_read_begin(s, &txn);
        if (!rc)
            rc = store_group_get(s, txn, ids[i], &r);
        if (!rc) {
            *sink += (unsigned char)r.json[r.json_len / 2];
            if (participants)
                rc = store_participant_each(s, txn, ids[i], count_one, sink);
        }
        store_read_end(s);
        if (rc)
            return rc;
        for (int n = 0; n < syscalls; n++)
            syscall(SYS_getppid);
    }
    *us = (now() - t0) / LOOKUPS * 1e6;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: read_cost DB_DIR\n");
        return 2;
    }
    struct store *s = store_new();
    if (store_open(s, argv[1], 0)) {
        fprintf(stderr, "read_cost: %s\n", store_errmsg(s));
        return 1;
    }
    static uint64_t ids[LOOKUPS];
    srand(7);
    MDB_txn *txn;
    int rc = store_read_begin(s, &txn);
    for (size_t n = 0, tries = 0; !rc && n < LOOKUPS && tries < 100 * LOOKUPS; tries++) {
        uint64_t id = 1 + (uint64_t)rand() % 110000;
        struct group_record r;
        rc = store_group_get(s, txn, id, &r);
        if (rc == MDB_NOTFOUND)
            rc = 0;
        else if (!rc)
            ids[n++] = id;
    }
    store_read_end(s);
    uint64_t sink = 0;
    for (int form = 0; !rc && form < 4; form++) {
        bool participants = form & 1;
        int syscalls = form & 2 ? 9 : 0;
        for (int p = 0; !rc && p < 3; p++) {
            double us = 0;
            rc = pass(s, ids, participants, syscalls, &sink, &us);
            if (!rc)
                printf("%-26s %d system calls between: %6.2f us per lookup\n",
                       participants ? "group and participants," : "group record,", syscalls, us);
        }
    }
    if (rc)
        fprintf(stderr, "read_cost: %s\n", mdb_strerror(rc));
    else
        printf("(checksum %llu)\n", (unsigned long long)sink);
    store_close(s);
    return rc ? 1 : 0;
}
