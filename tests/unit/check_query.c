/* Unit tests for query.c: percent-decoding and typed parameters. */
#include <check.h>
#include <string.h>

#include "query.h"
#include "testdb.h"

START_TEST(pct_decode_rules)
{
    struct buf b = BUF_INIT;
    pct_decode("ext%2F12+x%zz%4", 15, false, &b);
    ck_assert_str_eq(b.data, "ext/12+x%zz%4");
    buf_reset(&b);
    pct_decode("a+b%20c", 7, true, &b);
    ck_assert_str_eq(b.data, "a b c");
    buf_reset(&b);
    pct_decode("%00", 3, true, &b);
    ck_assert_uint_eq(b.len, 1);
    ck_assert_int_eq(b.data[0], 0);
    buf_free(&b);
    /* Regression: decoding nothing into a new buffer yields "", terminated
     * (an unterminated fresh buffer was read past by query_parse). */
    pct_decode("", 0, true, &b);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_str_eq(b.data, "");
    buf_free(&b);
    struct query q;
    struct problem p;
    problem_init(&p);
    query_parse(&q, "");
    ck_assert_uint_eq(q.count, 0);
    query_parse(&q, "flag&x=");
    size_t at = 0;
    ck_assert_str_eq(query_next(&q, "flag", &at), "");
    ck_assert_ptr_null(query_next(&q, "flag", &at));
    ck_assert_str_eq(query_get(&q, "x", &p), "");
    query_free(&q);
    problem_free(&p);
}
END_TEST

START_TEST(repeated_and_typed_parameters)
{
    struct query q;
    struct problem p;
    problem_init(&p);
    query_parse(&q, "status=active&status=archived,deleted&limit=20&skip=x&flag=TRUE&empty=&"
                    "dup=1&dup=2&bad=%FF");
    size_t at = 0;
    ck_assert_str_eq(query_next(&q, "status", &at), "active");
    ck_assert_str_eq(query_next(&q, "status", &at), "archived,deleted");
    ck_assert_ptr_null(query_next(&q, "status", &at));
    uint64_t v = 0;
    ck_assert(query_uint(&q, "limit", 1000, &v, &p));
    ck_assert_uint_eq(v, 20);
    ck_assert(!problem_any(&p));
    bool b = false;
    ck_assert(query_bool(&q, "flag", &b, &p));
    ck_assert(b);
    ck_assert(!query_uint(&q, "absent", 10, &v, &p));
    ck_assert(!problem_any(&p));

    ck_assert(!query_uint(&q, "skip", 10, &v, &p));
    ck_assert_uint_eq(p.entries, 1);
    ck_assert_ptr_null(query_get(&q, "dup", &p));
    ck_assert_ptr_null(query_get(&q, "bad", &p));
    ck_assert(!query_bool(&q, "empty", &b, &p));
    ck_assert_uint_eq(p.entries, 4);
    ck_assert_int_eq(p.status, 400);
    ck_assert_str_eq(p.code, "invalid_query");
    query_free(&q);
    problem_free(&p);
}
END_TEST

START_TEST(uint_bounds)
{
    struct query q;
    struct problem p;
    problem_init(&p);
    query_parse(&q, "a=1001&b=-1&c=99999999999999999999999&d=1000");
    uint64_t v;
    ck_assert(!query_uint(&q, "a", 1000, &v, &p));
    ck_assert(!query_uint(&q, "b", 1000, &v, &p));
    ck_assert(!query_uint(&q, "c", UINT64_MAX, &v, &p));
    ck_assert(query_uint(&q, "d", 1000, &v, &p));
    ck_assert_uint_eq(p.entries, 3);
    query_free(&q);
    problem_free(&p);
}
END_TEST

START_TEST(parameter_count_is_bounded)
{
    struct buf qs = BUF_INIT;
    for (int i = 0; i < QUERY_MAX_PARAMS; i++)
        buf_adds(&qs, "status=active&");
    struct query q;
    query_parse(&q, qs.data);
    ck_assert(!q.too_many);
    ck_assert_uint_eq(q.count, QUERY_MAX_PARAMS);
    query_free(&q);
    buf_adds(&qs, "x=1");
    query_parse(&q, qs.data);
    ck_assert(q.too_many);
    ck_assert_uint_eq(q.count, QUERY_MAX_PARAMS);
    query_free(&q);
    buf_free(&qs);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, pct_decode_rules);
    tcase_add_test(tc, repeated_and_typed_parameters);
    tcase_add_test(tc, parameter_count_is_bounded);
    tcase_add_test(tc, uint_bounds);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
