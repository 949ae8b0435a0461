/* word_cache.c — a worker's kept id sets of broad search words; see include/word_cache.h. */
#include "word_cache.h"

#include <stdlib.h>
#include <string.h>

size_t word_cache_min_ids = 512;

struct entry {
    uint32_t top;
    unsigned statuses;
    uint64_t rev;
    char word[WORD_CACHE_MAX_WORD];
    size_t len;
    uint64_t *ids; /* NULL: the entry is free */
    size_t n;
    uint64_t used; /* when it was last read or written (a tick of this cache) */
};

static struct entry entries[WORD_CACHE_ENTRIES];
static size_t bytes;
static uint64_t tick;

static void drop(struct entry *e)
{
    bytes -= e->n * sizeof *e->ids;
    free(e->ids);
    memset(e, 0, sizeof *e);
}

/* Sets of a tenant at an older revision can never be used again. */
static void drop_stale(uint32_t top, uint64_t rev)
{
    for (size_t i = 0; i < WORD_CACHE_ENTRIES; i++)
        if (entries[i].ids && entries[i].top == top && entries[i].rev != rev)
            drop(&entries[i]);
}

static struct entry *find(uint32_t top, unsigned statuses, const char *word, size_t len)
{
    for (size_t i = 0; i < WORD_CACHE_ENTRIES; i++) {
        struct entry *e = &entries[i];
        if (e->ids && e->top == top && e->statuses == statuses && e->len == len &&
            memcmp(e->word, word, len) == 0)
            return e;
    }
    return NULL;
}

bool word_cache_get(uint32_t top, unsigned statuses, uint64_t rev, const char *word, size_t len,
                    struct idset *out)
{
    drop_stale(top, rev);
    struct entry *e = len < WORD_CACHE_MAX_WORD ? find(top, statuses, word, len) : NULL;
    if (!e)
        return false;
    e->used = ++tick;
    out->v = malloc(e->n * sizeof *out->v);
    if (!out->v)
        abort();
    memcpy(out->v, e->ids, e->n * sizeof *out->v);
    out->n = out->cap = e->n;
    return true;
}

static struct entry *free_slot(void)
{
    for (size_t i = 0; i < WORD_CACHE_ENTRIES; i++)
        if (!entries[i].ids)
            return &entries[i];
    return NULL;
}

static struct entry *least_recent(void)
{
    struct entry *lru = NULL;
    for (size_t i = 0; i < WORD_CACHE_ENTRIES; i++)
        if (entries[i].ids && (!lru || entries[i].used < lru->used))
            lru = &entries[i];
    return lru;
}

void word_cache_put(uint32_t top, unsigned statuses, uint64_t rev, const char *word, size_t len,
                    const struct idset *ids)
{
    size_t size = ids->n * sizeof *ids->v;
    if (ids->n < word_cache_min_ids || len >= WORD_CACHE_MAX_WORD || size > WORD_CACHE_MAX_BYTES)
        return;
    drop_stale(top, rev);
    struct entry *e = find(top, statuses, word, len);
    if (e)
        drop(e);
    while (bytes + size > WORD_CACHE_MAX_BYTES || !free_slot())
        drop(least_recent());
    e = free_slot();
    e->ids = malloc(size);
    if (!e->ids)
        return; /* a cache may forget */
    memcpy(e->ids, ids->v, size);
    e->n = ids->n;
    bytes += size;
    e->top = top;
    e->statuses = statuses;
    e->rev = rev;
    memcpy(e->word, word, len);
    e->len = len;
    e->used = ++tick;
}

void word_cache_clear(void)
{
    for (size_t i = 0; i < WORD_CACHE_ENTRIES; i++)
        if (entries[i].ids)
            drop(&entries[i]);
}
