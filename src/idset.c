/* idset.c — sorted id sets; see include/idset.h. */
#include "idset.h"

#include <stdlib.h>
#include <string.h>

void idset_push(struct idset *set, uint64_t id)
{
    if (set->n == set->cap) {
        set->cap = set->cap ? 2 * set->cap : 256;
        set->v = realloc(set->v, set->cap * sizeof *set->v);
        if (!set->v)
            abort();
    }
    set->v[set->n++] = id;
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
    /* One word's postings come out of the index in order already: a
     * search word that is one index key costs a pass, not a sort. */
    size_t i = 1;
    while (i < set->n && set->v[i - 1] <= set->v[i])
        i++;
    if (i < set->n)
        radix_sort(set->v, set->n);
    size_t n = 1;
    for (size_t i = 1; i < set->n; i++)
        if (set->v[i] != set->v[n - 1])
            set->v[n++] = set->v[i];
    set->n = n;
}

void idset_intersect(struct idset *a, const struct idset *b)
{
    size_t i = 0, j = 0, n = 0;
    while (i < a->n && j < b->n) {
        if (a->v[i] < b->v[j])
            i++;
        else if (a->v[i] > b->v[j])
            j++;
        else {
            a->v[n++] = a->v[i];
            i++;
            j++;
        }
    }
    a->n = n;
}

void idset_free(struct idset *set)
{
    free(set->v);
    memset(set, 0, sizeof *set);
}
