/*
 * Unit tests for the router and group handlers, driven through app_handle
 * with in-memory requests: the contract's order of checks and the write
 * rules that are easiest to pin here.  The integration suite drives the
 * same paths over real nginx.
 */
#include <check.h>
#include <string.h>

#include "app.h"
#include "testdb.h"

static struct app app;

static char *admin, *writer, *reader, *other_top;

static void setup(void)
{
    testdb_setup();
    app.store = &tdb;
    app.log_error = NULL;
    static const uint32_t org101 = 101;
    admin = testdb_add_key(100, ROLE_ADMIN, 0, NULL, false);
    writer = testdb_add_key(100, ROLE_WRITE, 1, &org101, false);
    reader = testdb_add_key(100, ROLE_READ, 0, NULL, false);
    other_top = testdb_add_key(200, ROLE_ADMIN, 0, NULL, false);
}

static void teardown(void)
{
    free(admin);
    free(writer);
    free(reader);
    free(other_top);
    testdb_teardown();
}

struct result {
    int status;
    char body[8192];
};

static struct result call(const char *method, const char *uri, const char *key, const char *ctype,
                          const char *body, bool too_large)
{
    struct request req;
    request_init(&req);
    snprintf(req.method, sizeof req.method, "%s", method);
    const char *q = strchr(uri, '?');
    buf_add(&req.path, uri, q ? (size_t)(q - uri) : strlen(uri));
    buf_adds(&req.query_string, q ? q + 1 : "");
    req.api_key = key ? strdup(key) : NULL;
    req.content_type = ctype ? strdup(ctype) : NULL;
    if (body)
        buf_adds(&req.body, body);
    req.body_too_large = too_large;
    strcpy(req.request_id, "test");
    struct reply rep;
    reply_init(&rep);
    app_handle(&app, &req, &rep);
    struct result r;
    r.status = rep.status;
    snprintf(r.body, sizeof r.body, "%s", rep.body.data ? rep.body.data : "");
    reply_free(&rep);
    request_free(&req);
    return r;
}

#define JSON "application/json"
#define CODE(r, c) ck_assert_msg(strstr((r).body, "\"errorCode\":\"" c "\""), "%d %s", (r).status, (r).body)

START_TEST(order_of_checks)
{
    struct result r = call("GET", "/nope", NULL, NULL, NULL, false);
    ck_assert_int_eq(r.status, 404);
    CODE(r, "not_found");
    r = call("DELETE", "/group", NULL, NULL, NULL, false); /* 405 before 401 */
    ck_assert_int_eq(r.status, 405);
    r = call("POST", "/group", NULL, JSON, "{", false); /* 401 before 400 */
    ck_assert_int_eq(r.status, 401);
    r = call("POST", "/group", "gdk_1_forged", JSON, "{}", false);
    ck_assert_int_eq(r.status, 401);
    r = call("POST", "/group", reader, "text/plain", "x", true); /* 403 before 413 */
    ck_assert_int_eq(r.status, 403);
    CODE(r, "forbidden");
    r = call("POST", "/group", writer, "text/plain", "", true); /* 413 before 415 */
    ck_assert_int_eq(r.status, 413);
    r = call("POST", "/group", writer, "text/plain", "{", false); /* 415 before 400 */
    ck_assert_int_eq(r.status, 415);
    r = call("POST", "/group", writer, NULL, "{\"name\":\"a\"}", false);
    ck_assert_int_eq(r.status, 415);
    r = call("POST", "/group/999", writer, JSON, "{", false); /* 400 before object 404 */
    ck_assert_int_eq(r.status, 400);
    CODE(r, "invalid_json");
    r = call("POST", "/group/999", writer, "application/json; charset=utf-8", "{}", false);
    ck_assert_int_eq(r.status, 404);
    r = call("POST", "/group?organisation=102", writer, JSON, "{}", false); /* 400 before scope 403 */
    ck_assert_int_eq(r.status, 400);
    r = call("POST", "/group?organisation=102", writer, JSON, "{\"name\":\"a\"}", false);
    ck_assert_int_eq(r.status, 403);
}
END_TEST

START_TEST(lock_before_conflict)
{
    struct result r = call("POST", "/group?organisation=101", admin, JSON,
                           "{\"name\":\"a\",\"externalId\":\"A\",\"importLock\":true}", false);
    ck_assert_int_eq(r.status, 200);
    r = call("POST", "/group?organisation=101", admin, JSON, "{\"name\":\"b\",\"externalId\":\"B\"}",
             false);
    ck_assert_int_eq(r.status, 200);
    r = call("POST", "/group/A", writer, JSON, "{\"externalId\":\"B\"}", false);
    ck_assert_int_eq(r.status, 423);
    r = call("POST", "/group/A", admin, JSON, "{\"externalId\":\"B\"}", false);
    ck_assert_int_eq(r.status, 409);
    ck_assert_ptr_nonnull(strstr(r.body, "\"id\":2,\"status\":\"active\""));
}
END_TEST

START_TEST(no_op_update_keeps_updated_at)
{
    struct result a = call("POST", "/group", writer, JSON, "{\"name\":\"a\",\"type\":\"class\"}", false);
    ck_assert_int_eq(a.status, 200);
    ck_assert_ptr_nonnull(strstr(a.body, "\"organisation\":101")); /* the key's only organisation */
    struct result b = call("PATCH", "/group/1", writer, JSON, "{\"name\":\" a \",\"type\":\"class\"}",
                           false);
    ck_assert_int_eq(b.status, 200);
    ck_assert_str_eq(a.body, b.body);
    struct result c = call("PUT", "/group/1", writer, JSON, "{\"type\":null}", false);
    ck_assert_int_eq(c.status, 200);
    ck_assert_ptr_nonnull(strstr(c.body, "\"type\":null"));
    ck_assert_ptr_nonnull(strstr(c.body, "\"modifiedBy\":\"key-2\""));
}
END_TEST

START_TEST(other_tenants_do_not_exist)
{
    struct result r = call("POST", "/group?organisation=101", admin, JSON,
                           "{\"name\":\"a\",\"externalId\":\"T\"}", false);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(call("GET", "/group/1", other_top, NULL, NULL, false).status, 404);
    ck_assert_int_eq(call("GET", "/group/T", other_top, NULL, NULL, false).status, 404);
    ck_assert_int_eq(call("DELETE", "/group/1?purge=true", other_top, NULL, NULL, false).status, 404);
    r = call("GET", "/group", other_top, NULL, NULL, false);
    ck_assert_ptr_nonnull(strstr(r.body, "\"count\":0"));
    ck_assert_int_eq(call("GET", "/group/1", admin, NULL, NULL, false).status, 200);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("app");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, order_of_checks);
    tcase_add_test(tc, lock_before_conflict);
    tcase_add_test(tc, no_op_update_keeps_updated_at);
    tcase_add_test(tc, other_tenants_do_not_exist);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
