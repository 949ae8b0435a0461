/* idset.c — sorted id sets; see include/idset.h. */
#include "idset.h"

#include <stdlib.h>
#include <string.h>

/* Room for at least `more` ids beyond n. */
static void reserve(struct idset *set, size_t more)
{
    if (set->cap - set->n >= more)
        return;
    size_t cap = set->cap ? set->cap : 256;
    while (cap - set->n < more)
        cap *= 2;
    set->v = realloc(set->v, cap * sizeof *set->v);
    if (!set->v)
        abort();
    set->cap = cap;
}

void idset_push(struct idset *set, uint64_t id)
{
    reserve(set, 1);
    set->v[set->n++] = id;
}

void idset_push_be64(struct idset *set, const void *ids, size_t n)
{
    reserve(set, n);
    const unsigned char *p = ids;
    uint64_t *to = set->v + set->n;
    for (size_t i = 0; i < n; i++, p += 8) /* the compiler makes this one load and a swap */
        to[i] = (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
                (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
                (uint64_t)p[6] << 8 | (uint64_t)p[7];
    set->n += n;
}

/* Least significant byte first, one counting pass per byte that is not
 * the same in every id (ids are small: usually three passes). */
static void radix_sort(uint64_t *v, size_t n)
{
    uint64_t all_or = 0, all_and = ~(uint64_t)0;
    for (size_t i = 0; i < n; i++) {
        all_or |= v[i];
        all_and &= v[i];
    }
    uint64_t differ = all_or ^ all_and;
    uint64_t *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        abort();
    uint64_t *from = v, *to = tmp;
    for (unsigned shift = 0; shift < 64; shift += 8) {
        if (!((differ >> shift) & 0xFF))
            continue;
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[((from[i] >> shift) & 0xFF) + 1]++;
        for (int b = 0; b < 256; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++)
            to[count[(from[i] >> shift) & 0xFF]++] = from[i];
        uint64_t *t = from;
        from = to;
        to = t;
    }
    if (from != v)
        memcpy(v, from, n * sizeof *v);
    free(tmp);
}

void idset_sort_unique(struct idset *set)
{
    if (set->n < 2)
        return;
    /* One word's postings come out of the index in order and unique
     * already: a search word that is one index key costs a pass, not a
     * sort. */
    size_t i = 1;
    while (i < set->n && set->v[i - 1] < set->v[i])
        i++;
    if (i == set->n)
        return;
    size_t j = i;
    while (j < set->n && set->v[j - 1] <= set->v[j])
        j++;
    if (j < set->n) {
        radix_sort(set->v, set->n);
        i = 1;
    }
    size_t n = i; /* v[0..i) is strictly ascending */
    for (; i < set->n; i++)
        if (set->v[i] != set->v[n - 1])
            set->v[n++] = set->v[i];
    set->n = n;
}

void idset_intersect(struct idset *a, const struct idset *b)
{
    /* Without branches on the ids (which way a merge step goes cannot be
     * predicted): each step writes x, and keeps it only when both have it. */
    uint64_t *av = a->v;
    const uint64_t *bv = b->v;
    size_t i = 0, j = 0, n = 0, an = a->n, bn = b->n;
    while (i < an && j < bn) {
        uint64_t x = av[i], y = bv[j];
        av[n] = x;
        n += x == y;
        i += x <= y;
        j += y <= x;
    }
    a->n = n;
}

void idset_free(struct idset *set)
{
    free(set->v);
    memset(set, 0, sizeof *set);
}
