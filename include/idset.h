/*
 * idset.h — sets of 64-bit ids as arrays: filled in any order, then
 * sorted and deduplicated once (a radix sort: a search can gather
 * hundreds of thousands of ids), then intersected by merging.
 */
#ifndef GROUPD_IDSET_H
#define GROUPD_IDSET_H

#include <stddef.h>
#include <stdint.h>

struct idset {
    uint64_t *v;
    size_t n, cap;
};

#define IDSET_INIT                                                                                 \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void idset_push(struct idset *set, uint64_t id);
/* Appends n ids stored as 8-byte big-endian integers at ids (an index's
 * postings, a page at a time). */
void idset_push_be64(struct idset *set, const void *ids, size_t n);
/* Sorts ascending and drops repeats. */
void idset_sort_unique(struct idset *set);
/* Keeps in a the ids also in b; both sorted and unique. */
void idset_intersect(struct idset *a, const struct idset *b);
void idset_free(struct idset *set);

#endif
