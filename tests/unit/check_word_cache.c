/* Unit tests for the kept id sets of broad search words (word_cache.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "word_cache.h"
#include "testdb.h"

static struct idset ids(size_t n, uint64_t first)
{
    struct idset s = IDSET_INIT;
    for (size_t i = 0; i < n; i++)
        idset_push(&s, first + i);
    return s;
}

START_TEST(kept_only_at_the_same_revision)
{
    word_cache_min_ids = 4;
    struct idset in = ids(10, 100), out = IDSET_INIT;
    word_cache_put(7, 1, 50, "ex", 2, &in);
    ck_assert(word_cache_get(7, 1, 50, "ex", 2, &out));
    ck_assert_uint_eq(out.n, 10);
    ck_assert_uint_eq(out.v[0], 100);
    ck_assert_uint_eq(out.v[9], 109);
    idset_free(&out);
    ck_assert(!word_cache_get(7, 3, 50, "ex", 2, &out)); /* other statuses */
    ck_assert(!word_cache_get(8, 1, 50, "ex", 2, &out)); /* other tenant */
    ck_assert(!word_cache_get(7, 1, 50, "exa", 3, &out));
    ck_assert(!word_cache_get(7, 1, 51, "ex", 2, &out)); /* the tenant changed ... */
    ck_assert(!word_cache_get(7, 1, 50, "ex", 2, &out)); /* ... and the old set is gone */
    ck_assert_ptr_null(out.v);
    /* Small sets are not kept. */
    struct idset small = ids(3, 1);
    word_cache_put(7, 1, 51, "zz", 2, &small);
    ck_assert(!word_cache_get(7, 1, 51, "zz", 2, &out));
    idset_free(&small);
    idset_free(&in);
    word_cache_clear();
}
END_TEST

START_TEST(bounded_in_sets_and_bytes)
{
    word_cache_min_ids = 1;
    struct idset one = ids(1, 1), out = IDSET_INIT;
    char w[8];
    for (int i = 0; i < WORD_CACHE_ENTRIES + 5; i++) {
        snprintf(w, sizeof w, "w%d", i);
        word_cache_put(1, 1, 1, w, strlen(w), &one);
    }
    /* The first five went first (least recently used). */
    ck_assert(!word_cache_get(1, 1, 1, "w0", 2, &out));
    ck_assert(!word_cache_get(1, 1, 1, "w4", 2, &out));
    ck_assert(word_cache_get(1, 1, 1, "w5", 2, &out));
    idset_free(&out);
    /* A set over half the budget pushes out what it must, and two of them
     * never stay together. */
    size_t big = WORD_CACHE_MAX_BYTES / sizeof(uint64_t) / 2 + 1;
    struct idset a = ids(big, 1), b = ids(big, 2);
    word_cache_put(1, 1, 1, "aa", 2, &a);
    word_cache_put(1, 1, 1, "bb", 2, &b);
    ck_assert(!word_cache_get(1, 1, 1, "aa", 2, &out));
    ck_assert(word_cache_get(1, 1, 1, "bb", 2, &out));
    ck_assert_uint_eq(out.n, big);
    idset_free(&out);
    /* Larger than the whole budget: not kept. */
    struct idset huge = ids(WORD_CACHE_MAX_BYTES / sizeof(uint64_t) + 1, 1);
    word_cache_put(1, 1, 1, "hh", 2, &huge);
    ck_assert(!word_cache_get(1, 1, 1, "hh", 2, &out));
    idset_free(&huge);
    idset_free(&a);
    idset_free(&b);
    idset_free(&one);
    word_cache_clear();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("word_cache");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, kept_only_at_the_same_revision);
    tcase_add_test(tc, bounded_in_sets_and_bytes);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
