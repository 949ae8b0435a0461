/*
 * word_cache.h — the id sets of a worker's most recent broad search words,
 * kept between requests.
 *
 * A short prefix ("ex") matches thousands of groups: reading its postings
 * from group_words, then sorting and deduplicating them, is most of what
 * such a search costs (lmdb-schema/group-indexes.md).  The sorted set is
 * kept for the next request under (topOrganisation, statuses, folded word)
 * and the tenant's list revision (store_top_rev), which every change to a
 * group of that tenant advances, in the same transaction that changes the
 * postings: a set is reused only by a request whose read transaction sees
 * the same revision, so it is exactly what the index would give.
 *
 * Per process, no lock; bounded to WORD_CACHE_ENTRIES sets and
 * WORD_CACHE_MAX_BYTES of ids (least recently used first out).  Only sets
 * of at least word_cache_min_ids ids are kept: smaller ones are cheap to read.
 */
#ifndef GROUPD_WORD_CACHE_H
#define GROUPD_WORD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idset.h"

#define WORD_CACHE_ENTRIES 32
#define WORD_CACHE_MAX_BYTES ((size_t)2 << 20)
#define WORD_CACHE_MAX_WORD 64

/* 512 by default; the unit tests lower it. */
extern size_t word_cache_min_ids;

/* On a hit, *out (empty) becomes a copy of the sorted, unique set. */
bool word_cache_get(uint32_t top, unsigned statuses, uint64_t rev, const char *word, size_t len,
                    struct idset *out);
/* Keeps a copy of ids (sorted, unique) when it is large enough. */
void word_cache_put(uint32_t top, unsigned statuses, uint64_t rev, const char *word, size_t len,
                    const struct idset *ids);
/* Drops every set (the tests; a process that changes databases). */
void word_cache_clear(void);

#endif
