/* Unit tests for jsonin.c: strict body parsing and member readers. */
#include <check.h>
#include <string.h>

#include "jsonin.h"
#include "testdb.h"

static const char *parse_error(const char *body)
{
    static char code[64];
    struct problem p;
    problem_init(&p);
    struct json_object *o = jsonin_parse(body, strlen(body), &p);
    if (o)
        json_object_put(o);
    snprintf(code, sizeof code, "%s", problem_any(&p) ? p.code : "ok");
    problem_free(&p);
    return code;
}

START_TEST(rejects_bad_bodies)
{
    ck_assert_str_eq(parse_error("{\"name\":\"a\"}"), "ok");
    ck_assert_str_eq(parse_error(""), "invalid_json");
    ck_assert_str_eq(parse_error("{\"name\":"), "invalid_json");
    ck_assert_str_eq(parse_error("{\"a\":1} {}"), "invalid_json");
    ck_assert_str_eq(parse_error("[1,2]"), "invalid_json");
    ck_assert_str_eq(parse_error("{'a':1}"), "invalid_json");
    ck_assert_str_eq(parse_error("{\"a\":\"\xff\"}"), "invalid_json");
    ck_assert_str_eq(parse_error("{\"a\":\"x\\ud800y\"}"), "validation_failed");
    ck_assert_str_eq(parse_error("{\"a\":\"\\udc00\"}"), "validation_failed");
    ck_assert_str_eq(parse_error("{\"a\":\"\\ud83d\\ude00\"}"), "ok");
    ck_assert_str_eq(parse_error("{\"a\":\"\\\\ud800\"}"), "ok"); /* an escaped backslash */
}
END_TEST

/* RFC 8259 and nothing more: what json-c's strict mode still lets through
 * is refused as invalid_json, and every form that is JSON still parses. */
START_TEST(strict_json_only)
{
    static const char *const bad[] = {"{\"a\":NaN}",      "{\"a\":Infinity}", "{\"a\":-Infinity}",
                                      "{\"a\":nan}",      "{/*c*/\"a\":1}",   "{\"a\":1}//x",
                                      "{\"a\":1,}",       "{\"a\":[1,]}",     "{a:1}",
                                      "{'a':1}",          "{\"a\":'x'}",      "{\"a\":1.}",
                                      "{\"a\":.5}",       "{\"a\":+1}",       "{\"a\":01}",
                                      "{\"a\":\"t\tb\"}", "{\"a\":\"l\nf\"}", "{\"a\":tRue}",
                                      "{\"a\":undefined}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(strcmp(parse_error(bad[i]), "invalid_json") == 0, "%s: %s", bad[i],
                      parse_error(bad[i]));
    static const char *const good[] = {"{\"a\":1e5}",
                                       "{\"a\":-1.5E-3}",
                                       "{\"a\":[true,false,null]}",
                                       "{\"e\":\"NaN\"}",
                                       "{\"a\":0.25, \"b\" : { \"c\" : [ ] }}",
                                       "{\"a\":\"\\t\\n\"}"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_msg(strcmp(parse_error(good[i]), "ok") == 0, "%s: %s", good[i],
                      parse_error(good[i]));
}
END_TEST

START_TEST(rejects_deep_nesting)
{
    char body[256] = "{\"a\":";
    for (int i = 0; i < 40; i++)
        strcat(body, "[");
    for (int i = 0; i < 40; i++)
        strcat(body, "]");
    strcat(body, "}");
    ck_assert_str_eq(parse_error(body), "invalid_json");
}
END_TEST

START_TEST(string_members)
{
    struct problem p;
    problem_init(&p);
    const char *body = "{\"ok\":\"  Zo\xc3\xab  \",\"nul\":\"a\\u0000b\",\"long\":\"abcdef\","
                       "\"num\":5,\"nil\":null,\"blank\":\"   \"}";
    struct json_object *o = jsonin_parse(body, strlen(body), &p);
    ck_assert_ptr_nonnull(o);
    char *s;
    ck_assert_int_eq(jsonin_string(o, "ok", "ok", 1, 3, &s, &p), JSONIN_VALUE);
    ck_assert_str_eq(s, "Zo\xc3\xab");
    free(s);
    ck_assert_int_eq(jsonin_string(o, "missing", "missing", 1, 3, &s, &p), JSONIN_ABSENT);
    ck_assert_int_eq(jsonin_string(o, "nil", "nil", 1, 3, &s, &p), JSONIN_NULL);
    ck_assert(!problem_any(&p));
    ck_assert_int_eq(jsonin_string(o, "nul", "nul", 1, 10, &s, &p), JSONIN_INVALID);
    ck_assert_int_eq(jsonin_string(o, "long", "long", 1, 5, &s, &p), JSONIN_INVALID);
    ck_assert_int_eq(jsonin_string(o, "num", "num", 1, 5, &s, &p), JSONIN_INVALID);
    ck_assert_int_eq(jsonin_string(o, "blank", "blank", 1, 5, &s, &p), JSONIN_INVALID);
    ck_assert_uint_eq(p.entries, 4);
    json_object_put(o);
    problem_free(&p);
}
END_TEST

START_TEST(integers_must_be_json_integers)
{
    struct problem p;
    problem_init(&p);
    const char *body = "{\"a\":2025,\"b\":2025.0,\"c\":2e3,\"d\":\"2025\",\"e\":1899}";
    struct json_object *o = jsonin_parse(body, strlen(body), &p);
    int64_t v;
    ck_assert_int_eq(jsonin_int(o, "a", "a", 1900, 2999, &v, &p), JSONIN_VALUE);
    ck_assert_int_eq(v, 2025);
    ck_assert_int_eq(jsonin_int(o, "b", "b", 1900, 2999, &v, &p), JSONIN_INVALID);
    ck_assert_int_eq(jsonin_int(o, "c", "c", 1900, 2999, &v, &p), JSONIN_INVALID);
    ck_assert_int_eq(jsonin_int(o, "d", "d", 1900, 2999, &v, &p), JSONIN_INVALID);
    ck_assert_int_eq(jsonin_int(o, "e", "e", 1900, 2999, &v, &p), JSONIN_INVALID);
    ck_assert_uint_eq(p.entries, 4);
    json_object_put(o);
    problem_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jsonin");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rejects_bad_bodies);
    tcase_add_test(tc, strict_json_only);
    tcase_add_test(tc, rejects_deep_nesting);
    tcase_add_test(tc, string_members);
    tcase_add_test(tc, integers_must_be_json_integers);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
