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
#include "word_cache.h"

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
#define CODE(r, c)                                                                                 \
    ck_assert_msg(strstr((r).body, "\"errorCode\":\"" c "\""), "%d %s", (r).status, (r).body)

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
    r = call("POST", "/group?organisation=102", writer, JSON, "{}",
             false); /* 400 before scope 403 */
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
    r = call("POST", "/group?organisation=101", admin, JSON,
             "{\"name\":\"b\",\"externalId\":\"B\"}", false);
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
    struct result a =
        call("POST", "/group", writer, JSON, "{\"name\":\"a\",\"type\":\"class\"}", false);
    ck_assert_int_eq(a.status, 200);
    ck_assert_ptr_nonnull(strstr(a.body, "\"organisation\":101")); /* the key's only organisation */
    struct result b =
        call("PATCH", "/group/1", writer, JSON, "{\"name\":\" a \",\"type\":\"class\"}", false);
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
    ck_assert_int_eq(call("DELETE", "/group/1?purge=true", other_top, NULL, NULL, false).status,
                     404);
    r = call("GET", "/group", other_top, NULL, NULL, false);
    ck_assert_ptr_nonnull(strstr(r.body, "\"count\":0"));
    ck_assert_int_eq(call("GET", "/group/1", admin, NULL, NULL, false).status, 200);
}
END_TEST

static int count_of(struct result r)
{
    const char *p = strstr(r.body, "\"count\":");
    ck_assert_msg(p, "%d %s", r.status, r.body);
    return atoi(p + 8);
}

/* A kept word set is used only at the revision it was read at: every
 * change to the tenant's groups shows in the next search, and another
 * tenant's changes keep it. */
START_TEST(kept_word_sets_follow_every_change)
{
    word_cache_min_ids = 1; /* keep every set */
    char body[128];
    for (int i = 0; i < 3; i++) {
        snprintf(body, sizeof body, "{\"name\":\"Excursie %d\",\"externalId\":\"x%d\"}", i, i);
        ck_assert_int_eq(call("POST", "/group?organisation=101", admin, JSON, body, false).status,
                         200);
    }
    ck_assert_int_eq(count_of(call("GET", "/group?q=ex", reader, NULL, NULL, false)), 3);
    ck_assert_int_eq(count_of(call("GET", "/group?q=ex", reader, NULL, NULL, false)), 3);
    /* Another tenant writes: this one's set stays right. */
    ck_assert_int_eq(
        call("POST", "/group?organisation=201", other_top, JSON, "{\"name\":\"Expo\"}", false)
            .status,
        200);
    ck_assert_int_eq(count_of(call("GET", "/group?q=ex", reader, NULL, NULL, false)), 3);
    ck_assert_int_eq(count_of(call("GET", "/group?q=ex", other_top, NULL, NULL, false)), 1);
    /* Create, rename, archive, delete, purge: each shows at once. */
    ck_assert_int_eq(
        call("POST", "/group?organisation=101", admin, JSON, "{\"name\":\"Examen\"}", false).status,
        200);
    ck_assert_int_eq(count_of(call("GET", "/group?q=ex", reader, NULL, NULL, false)), 4);
    ck_assert_int_eq(call("PATCH", "/group/x0", admin, JSON, "{\"name\":\"Stage\"}", false).status,
                     200);
    ck_assert_int_eq(count_of(call("GET", "/group?q=ex", reader, NULL, NULL, false)), 3);
    ck_assert_int_eq(call("POST", "/group/x1/archive", admin, NULL, NULL, false).status, 200);
    ck_assert_int_eq(count_of(call("GET", "/group?q=ex", reader, NULL, NULL, false)), 2);
    ck_assert_int_eq(
        count_of(call("GET", "/group?q=ex&status=archived", reader, NULL, NULL, false)), 1);
    ck_assert_int_eq(call("DELETE", "/group/x2", admin, NULL, NULL, false).status, 200);
    ck_assert_int_eq(count_of(call("GET", "/group?q=ex", reader, NULL, NULL, false)), 1);
    ck_assert_int_eq(count_of(call("GET", "/group?q=ex&status=deleted", reader, NULL, NULL, false)),
                     1);
    ck_assert_int_eq(call("DELETE", "/group/x2?purge=true", admin, NULL, NULL, false).status, 200);
    ck_assert_int_eq(count_of(call("GET", "/group?q=ex&status=deleted", reader, NULL, NULL, false)),
                     0);
    /* A key restricted to organisation 101 filters the kept set too. */
    ck_assert_int_eq(
        call("POST", "/group?organisation=102", admin, JSON, "{\"name\":\"Extra\"}", false).status,
        200);
    ck_assert_int_eq(count_of(call("GET", "/group?q=ex", reader, NULL, NULL, false)), 2);
    ck_assert_int_eq(count_of(call("GET", "/group?q=ex", writer, NULL, NULL, false)), 1);
    word_cache_clear();
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
    tcase_add_test(tc, kept_word_sets_follow_every_change);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
