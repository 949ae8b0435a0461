/*
 * Fault injection (built with --enable-fault-injection): every write
 * operation of the API is run with its N-th store write call failing, for
 * N = 1, 2, ... until the operation no longer reaches a failing call, first
 * with MDB_MAP_FULL, then with ENOSPC, then with EIO.  After each failure
 * the answer must be 503 (500 for EIO), the database exactly as before (every group's full
 * form, the change feed and the counters), groupctl check clean, and the
 * next request must work.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "app.h"
#include "group_render.h"
#include "store_calls.h"
#include "testdb.h"
#include "testops.h"
#include "write_batch.h"

static struct app app;
static char *admin;

static void setup(void)
{
    testdb_setup();
    app.store = &tdb;
    app.log_error = NULL;
    admin = testdb_add_key(100, ROLE_ADMIN, 0, NULL, false);
}

static void teardown(void)
{
    store_fault_arm(0, 0);
    free(admin);
    testdb_teardown();
}

struct result {
    int status;
    struct buf body;
};

static struct result call(const char *method, const char *uri, const char *ctype, const char *body)
{
    struct request req;
    request_init(&req);
    snprintf(req.method, sizeof req.method, "%s", method);
    const char *q = strchr(uri, '?');
    buf_add(&req.path, uri, q ? (size_t)(q - uri) : strlen(uri));
    buf_adds(&req.query_string, q ? q + 1 : "");
    req.api_key = strdup(admin);
    req.content_type = ctype ? strdup(ctype) : NULL;
    if (body)
        buf_adds(&req.body, body);
    strcpy(req.request_id, "fault");
    struct reply rep;
    reply_init(&rep);
    app_handle(&app, &req, &rep);
    struct result r = {rep.status, BUF_INIT};
    buf_add(&r.body, rep.body.data ? rep.body.data : "", rep.body.len);
    reply_free(&rep);
    request_free(&req);
    return r;
}

/* ---- what "the database as before" means ---- */

struct dump {
    MDB_txn *txn;
    struct buf *out;
};

static int add_group(void *ctx, const struct group_record *r)
{
    struct dump *d = ctx;
    int rc = group_render_full(&tdb, d->txn, r->json, r->json_len, r->id, d->out);
    buf_addc(d->out, '\n');
    return rc;
}

static int add_entry(void *ctx, const struct change_entry *e)
{
    buf_addf(ctx, "%llu %u %llu %llu\n", (unsigned long long)e->seq, e->type,
             (unsigned long long)e->group, (unsigned long long)e->id);
    return 0;
}

static void snapshot(struct buf *out)
{
    buf_reset(out);
    MDB_txn *txn;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    struct dump d = {txn, out};
    ck_assert_int_eq(store_group_each(&tdb, txn, add_group, &d), 0);
    uint64_t oldest, last;
    ck_assert_int_eq(store_changes_each(&tdb, txn, 100, 0, add_entry, out, &oldest), 0);
    ck_assert_int_eq(store_last_seq(&tdb, txn, 100, &last), 0);
    buf_addf(out, "last seq %llu\n", (unsigned long long)last);
    size_t differences = 1;
    ck_assert_int_eq(store_check(&tdb, txn, NULL, NULL, &differences), 0);
    ck_assert_msg(differences == 0, "groupctl check found %zu differences", differences);
    store_read_end(&tdb);
}

/* Runs one operation under every possible failing write call: for N = 1,
 * 2, ... the N-th write call fails with MDB_MAP_FULL, then (the same N)
 * with ENOSPC, then with EIO; each must answer 503 / 503 / 500 and change
 * nothing.  The first N the
 * operation does not reach, it runs whole and must succeed. */
static void under_faults(const char *method, const char *uri, const char *ctype, const char *body,
                         int ok_status)
{
    static const struct {
        int rc, status;
        const char *code;
    } faults[] = {{MDB_MAP_FULL, 503, "unavailable"},
                  {ENOSPC, 503, "unavailable"}, /* a write of the commit meets a full disk */
                  {EIO, 500, "internal_error"}};
    struct buf before = BUF_INIT, after = BUF_INIT;
    snapshot(&before);
    long n = 1;
    for (bool done = false; !done && n < 100000; n++) {
        for (size_t f = 0; f < sizeof faults / sizeof faults[0] && !done; f++) {
            store_fault_arm(n, faults[f].rc);
            struct result r = call(method, uri, ctype, body);
            bool fired = store_fault_fired();
            store_fault_arm(0, 0);
            if (!fired) {
                /* Fewer than n write calls: the operation ran whole. */
                ck_assert_msg(r.status == ok_status, "%s %s: %d %s", method, uri, r.status,
                              r.body.data);
                done = true;
            } else {
                ck_assert_msg(r.status == faults[f].status && strstr(r.body.data, faults[f].code),
                              "%s %s, write call %ld failing with %d: %d %s", method, uri, n,
                              faults[f].rc, r.status, r.body.data);
                snapshot(&after);
                ck_assert_msg(after.len == before.len &&
                                  memcmp(after.data, before.data, after.len) == 0,
                              "%s %s: write call %ld failing with %d changed the database", method,
                              uri, n, faults[f].rc);
                struct result h = call("GET", "/health", NULL, NULL);
                ck_assert_int_eq(h.status, 200);
                buf_free(&h.body);
            }
            buf_free(&r.body);
        }
    }
    ck_assert_msg(n > 2, "%s %s never wrote", method, uri);
    buf_free(&before);
    buf_free(&after);
}

#define JSON "application/json"

START_TEST(every_write_survives_every_failing_write_call)
{
    under_faults("POST", "/group?organisation=101", JSON,
                 "{\"name\":\"G\",\"externalId\":\"g1\",\"participants\":[{\"email\":\"a@x.nl\"},"
                 "{\"email\":\"b@x.nl\",\"externalId\":\"s2\"}]}",
                 200);
    under_faults(
        "POST", "/group/g1", JSON,
        "{\"name\":\"G2\",\"participants\":[{\"email\":\"b@x.nl\"},{\"email\":\"c@x.nl\"}]}", 200);
    under_faults("POST", "/group/g1/participant", JSON, "{\"email\":\"d@x.nl\",\"name\":\"D\"}",
                 200);
    under_faults("PUT", "/group/g1/participant", JSON,
                 "{\"identifier\":{\"email\":\"d@x.nl\"},\"data\":{\"name\":\"Dee\"}}", 200);
    under_faults("POST", "/group/g1/event", JSON,
                 "{\"day\":1,\"startTime\":\"09:00\",\"endTime\":\"10:00\",\"weeks\":[1]}", 201);
    under_faults("POST", "/group/bulkImportParticipants?external=true&mode=replace", "text/csv",
                 "groupId,email,name\ng1,b@x.nl,B\ng1,e@x.nl,E\n", 200);
    under_faults("POST", "/group/bulkImportGroups?organisation=101", "text/csv",
                 "externalId,name\ng1,G3\ng9,Nieuw\n", 200);
    under_faults("POST", "/group/g1/archive", NULL, NULL, 200);
    under_faults("DELETE", "/group/g9", NULL, NULL, 200);
    under_faults("DELETE", "/group/g1/participant/e@x.nl", NULL, NULL, 200);
    under_faults("DELETE", "/participant?email=b@x.nl", NULL, NULL, 200);
    under_faults("DELETE", "/group/g1?purge=true", NULL, NULL, 200);
}
END_TEST

START_TEST(event_writes_survive_every_failing_write_call)
{
    struct result r =
        call("POST", "/group?organisation=101", JSON, "{\"name\":\"E\",\"externalId\":\"e1\"}");
    ck_assert_int_eq(r.status, 200);
    buf_free(&r.body);
    r = call("POST", "/group/e1/event", JSON, "{\"tutors\":[\"t\"]}");
    ck_assert_int_eq(r.status, 201);
    const char *id = strstr(r.body.data, "\"id\":");
    ck_assert_ptr_nonnull(id);
    char uri[64];
    snprintf(uri, sizeof uri, "/group/e1/event/%llu", strtoull(id + 5, NULL, 10));
    buf_free(&r.body);
    under_faults("PUT", uri, JSON, "{\"tutors\":[\"u\"],\"title\":\"x\"}", 200);
    under_faults("DELETE", uri, NULL, NULL, 200);
}
END_TEST

/* The writer's batches: whichever write call of the batch fails, either
 * the batch's commit failed and every request answers 503 with nothing
 * changed, or a request's failure spoilt the batch and, applied again (the
 * fault fires once), every request succeeds, each change exactly once. */
START_TEST(a_batch_survives_every_failing_write_call)
{
    struct result r =
        call("POST", "/group?organisation=101", JSON, "{\"name\":\"P\",\"externalId\":\"p\"}");
    ck_assert_int_eq(r.status, 200);
    buf_free(&r.body);
    bool commit_failed = false, reran = false, done = false;
    enum { N_REQ = 4 };
    long n = 1;
    for (; !done && n < 100000; n++) {
        struct request req[N_REQ];
        struct write_op op[N_REQ];
        struct write_item it[N_REQ];
        char body[N_REQ][96];
        for (int j = 0; j < N_REQ; j++) {
            request_init(&req[j]);
            strcpy(req[j].method, "POST");
            bool add = j == N_REQ - 1;
            buf_adds(&req[j].path, add ? "/group/p/participant" : "/group");
            buf_adds(&req[j].query_string, add ? "" : "organisation=101");
            if (add)
                snprintf(body[j], sizeof body[j], "{\"email\":\"p%ld@x.nl\"}", n);
            else
                snprintf(body[j], sizeof body[j], "{\"name\":\"B\",\"externalId\":\"b%ld-%d\"}", n,
                         j);
            buf_adds(&req[j].body, body[j]);
            req[j].api_key = strdup(admin);
            req[j].content_type = strdup(JSON);
            strcpy(req[j].request_id, "batch");
            int status;
            ck_assert(testops_of(&app, &req[j], &op[j], &it[j].bytes, &status));
            it[j].op = &op[j];
            reply_init(&it[j].rep);
        }
        struct buf before = BUF_INIT, after = BUF_INIT;
        snapshot(&before);
        int entries = testdb_feed_entries(100);
        struct write_batch_stats st = {0, 0, 0, 0};
        store_fault_arm(n, MDB_MAP_FULL);
        write_batch_apply(&app, it, N_REQ, &st);
        bool fired = store_fault_fired();
        store_fault_arm(0, 0);
        int ok = 0, unavailable = 0;
        for (int j = 0; j < N_REQ; j++) {
            ok += it[j].rep.status == 200;
            unavailable += it[j].rep.status == 503;
        }
        snapshot(&after); /* groupctl check runs in it */
        if (!fired) {
            ck_assert_int_eq(ok, N_REQ);
            ck_assert_uint_eq(st.batches, 1);
            done = true;
        } else if (unavailable == N_REQ) {
            ck_assert_msg(after.len == before.len &&
                              memcmp(after.data, before.data, after.len) == 0,
                          "write call %ld: a failed batch changed the database", n);
            commit_failed = true;
        } else {
            ck_assert_msg(ok == N_REQ, "write call %ld: %d of %d succeeded", n, ok, N_REQ);
            ck_assert_int_eq(testdb_feed_entries(100), entries + N_REQ);
            ck_assert_uint_gt(st.reruns, 0);
            reran = true;
        }
        for (int j = 0; j < N_REQ; j++) {
            reply_free(&it[j].rep);
            request_free(&req[j]);
            write_op_free(&op[j]);
        }
        buf_free(&before);
        buf_free(&after);
    }
    ck_assert(done && commit_failed && reran);
    ck_assert_int_gt(n, N_REQ);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, every_write_survives_every_failing_write_call);
    tcase_add_test(tc, event_writes_survive_every_failing_write_call);
    tcase_add_test(tc, a_batch_survives_every_failing_write_call);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
