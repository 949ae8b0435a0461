/* Unit tests for group.c: validation, patching, the stored JSON form. */
#include <check.h>
#include <string.h>

#include "group.h"
#include "jsonin.h"
#include "testdb.h"

static bool parse(const char *body, bool create, struct group_patch *patch, struct problem *p)
{
    struct json_object *o = jsonin_parse(body, strlen(body), p);
    ck_assert_ptr_nonnull(o);
    bool ok = group_patch_parse(o, create, patch, p);
    json_object_put(o);
    return ok;
}

START_TEST(create_needs_a_name)
{
    struct group_patch patch;
    struct problem p;
    problem_init(&p);
    ck_assert(!parse("{\"description\":\"x\"}", true, &patch, &p));
    ck_assert_str_eq(p.code, "validation_failed");
    group_patch_free(&patch);
    problem_free(&p);

    problem_init(&p);
    ck_assert(parse("{\"description\":\"x\"}", false, &patch, &p));
    group_patch_free(&patch);
    problem_free(&p);
}
END_TEST

START_TEST(every_problem_is_reported)
{
    struct group_patch patch;
    struct problem p;
    problem_init(&p);
    char name[300];
    memset(name, 'n', 256);
    name[256] = '\0';
    char body[1024];
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"schoolYear\":1800,\"importLock\":\"yes\",\"externalId\":\"a\\tb\","
             "\"type\":7,\"integrations\":[{\"type\":\"lti\"},5]}",
             name);
    ck_assert(!parse(body, true, &patch, &p));
    /* name, schoolYear, importLock, externalId, type, integrations[0].id, integrations[1] */
    ck_assert_uint_eq(p.entries, 7);
    struct buf out = BUF_INIT;
    problem_render(&p, &out);
    ck_assert_ptr_nonnull(strstr(out.data, "\"field\":\"integrations[0].id\""));
    ck_assert_ptr_nonnull(strstr(out.data, "(and 6 more problems)"));
    buf_free(&out);
    group_patch_free(&patch);
    problem_free(&p);
}
END_TEST

START_TEST(null_clears_optional_but_not_required)
{
    struct group_patch patch;
    struct problem p;
    problem_init(&p);
    ck_assert(!parse("{\"name\":null}", false, &patch, &p));
    group_patch_free(&patch);
    problem_free(&p);

    problem_init(&p);
    ck_assert(parse("{\"description\":null,\"schoolYear\":null}", false, &patch, &p));
    struct group g = {0};
    g.name = strdup("n");
    g.description = strdup("d");
    g.school_year = 2024;
    ck_assert(group_patch_apply(&g, &patch));
    ck_assert_ptr_null(g.description);
    ck_assert_int_eq(g.school_year, 0);
    ck_assert(!group_patch_apply(&g, &patch)); /* the second time nothing changes */
    group_free(&g);
    group_patch_free(&patch);
    problem_free(&p);
}
END_TEST

START_TEST(json_round_trip)
{
    struct group_patch patch;
    struct problem p;
    problem_init(&p);
    ck_assert(parse("{\"name\":\" Zo\xc3\xab \\\"quoted\\\" \",\"externalId\":\"ext/1\","
                    "\"schoolYear\":2025,\"type\":\"class\",\"importLock\":true,"
                    "\"integrations\":[{\"type\":\"lti\",\"id\":\"course-v1:12\"}]}",
                    true, &patch, &p));
    struct group g = {0};
    group_patch_apply(&g, &patch);
    g.id = 42;
    strcpy(g.key, "2552f556-6210-4de7-bb8e-01a3180f629e");
    g.organisation = 101;
    g.top_organisation = 100;
    strcpy(g.created_by, "key-7");
    g.created_at = 1617880221000;
    g.updated_at = 1617880221123;
    struct buf json = BUF_INIT;
    group_write_json(&g, &json);
    ck_assert_ptr_nonnull(strstr(json.data, "\"name\":\"Zo\xc3\xab \\\"quoted\\\"\""));
    ck_assert_ptr_nonnull(strstr(json.data, "\"updatedAt\":\"2021-04-08T11:10:21.123Z\""));
    ck_assert_ptr_nonnull(strstr(json.data, "\"modifiedBy\":null"));
    ck_assert_ptr_nonnull(strstr(json.data, "\"status\":\"active\""));
    struct group back;
    ck_assert(group_read_json(json.data, json.len, &back));
    ck_assert(group_equal(&g, &back));
    group_free(&back);
    group_free(&g);
    buf_free(&json);
    group_patch_free(&patch);
    problem_free(&p);
}
END_TEST

/* The stored-form comparison an import uses must agree with applying the
 * patch to the model, member by member. */
START_TEST(patch_changes_json_agrees_with_apply)
{
    static const char *const bodies[] = {"{\"name\":\"Groep \\\"A\\\"\"}",
                                         "{\"name\":\"other\"}",
                                         "{\"description\":\"d \\u00e9\"}",
                                         "{\"description\":\"\"}",
                                         "{\"type\":\"class\"}",
                                         "{\"type\":\"course\"}",
                                         "{\"type\":null}",
                                         "{\"schoolYear\":2025}",
                                         "{\"schoolYear\":2026}",
                                         "{\"schoolYear\":null}",
                                         "{\"importLock\":true}",
                                         "{\"importLock\":false}",
                                         "{\"importLockOwner\":\"SIS\"}",
                                         "{\"importLockOwner\":null}",
                                         "{\"externalId\":\"e,\\\"type\\\":1\"}",
                                         "{\"externalId\":\"x\"}",
                                         "{}"};
    struct group_patch base;
    struct problem p;
    problem_init(&p);
    ck_assert(parse("{\"name\":\"Groep \\\"A\\\"\",\"description\":\"d \\u00e9\","
                    "\"type\":\"class\",\"schoolYear\":2025,\"importLock\":true,"
                    "\"importLockOwner\":\"SIS\",\"externalId\":\"e,\\\"type\\\":1\"}",
                    true, &base, &p));
    struct group g;
    memset(&g, 0, sizeof g);
    group_init_new(&g, &base, 101, 100, "key-1", 1617880221000);
    g.id = 7;
    struct buf json = BUF_INIT;
    group_write_json(&g, &json);
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct group_patch patch;
        ck_assert(parse(bodies[i], false, &patch, &p));
        struct group copy;
        group_copy(&copy, &g);
        bool applied = group_patch_apply(&copy, &patch);
        ck_assert_msg(group_patch_changes_json(&patch, json.data, json.len) == applied, "%s",
                      bodies[i]);
        group_free(&copy);
        group_patch_free(&patch);
    }
    buf_free(&json);
    group_free(&g);
    group_patch_free(&base);
    problem_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("group");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, create_needs_a_name);
    tcase_add_test(tc, every_problem_is_reported);
    tcase_add_test(tc, null_clears_optional_but_not_required);
    tcase_add_test(tc, json_round_trip);
    tcase_add_test(tc, patch_changes_json_agrees_with_apply);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
