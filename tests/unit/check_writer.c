/*
 * Unit tests for group commit: write_batch_apply (several requests, one
 * transaction; a request that gives up spoils the batch and everything is
 * applied again, so each request sees exactly what a lone one would), the
 * wire format between worker and writer, the relay's answers when the
 * writer is missing or dies, and which requests go to the writer.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app.h"
#include "testdb.h"
#include "write_batch.h"
#include "write_relay.h"
#include "write_wire.h"
#include "writer.h"

static struct app app;
static char *admin;

static void setup(void)
{
    testdb_setup();
    app.store = &tdb;
    app.log_error = NULL;
    admin = testdb_add_key(100, ROLE_ADMIN, 0, NULL, false);
}

/* As the writer process opens it. */
static void setup_copied(void)
{
    testdb_open_as(0, STORE_WRITES_COPIED);
    app.store = &tdb;
    app.log_error = NULL;
    admin = testdb_add_key(100, ROLE_ADMIN, 0, NULL, false);
}

static void teardown(void)
{
    free(admin);
    testdb_teardown();
}

#define JSON "application/json"

static void fill(struct request *req, const char *method, const char *uri, const char *body)
{
    request_init(req);
    snprintf(req->method, sizeof req->method, "%s", method);
    const char *q = strchr(uri, '?');
    buf_add(&req->path, uri, q ? (size_t)(q - uri) : strlen(uri));
    buf_adds(&req->query_string, q ? q + 1 : "");
    req->api_key = admin ? strdup(admin) : NULL;
    if (body) {
        req->content_type = strdup(JSON);
        buf_adds(&req->body, body);
    }
    snprintf(req->request_id, sizeof req->request_id, "b-%s", method);
}

/* Applies the n requests as one batch; statuses and bodies in st/bodies. */
struct batch {
    struct request req[8];
    struct write_item it[8];
    size_t n;
    struct write_batch_stats stats;
};

static void add(struct batch *b, const char *method, const char *uri, const char *body)
{
    fill(&b->req[b->n], method, uri, body);
    b->it[b->n].req = &b->req[b->n];
    reply_init(&b->it[b->n].rep);
    b->n++;
}

static void apply(struct batch *b)
{
    memset(&b->stats, 0, sizeof b->stats);
    write_batch_apply(&app, b->it, b->n, &b->stats);
}

static void expect_statuses(const struct batch *b, const int *want)
{
    for (size_t i = 0; i < b->n; i++)
        ck_assert_msg(b->it[i].rep.status == want[i], "request %zu: %d %s", i, b->it[i].rep.status,
                      b->it[i].rep.body.data);
}

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        reply_free(&b->it[i].rep);
        request_free(&b->req[i]);
    }
    b->n = 0;
}

static int status_of(const char *method, const char *uri)
{
    struct request req;
    fill(&req, method, uri, NULL);
    struct reply rep;
    reply_init(&rep);
    app_handle(&app, &req, &rep);
    int st = rep.status;
    reply_free(&rep);
    request_free(&req);
    return st;
}

/* The body of a lone request's reply (valid until the next call). */
static struct buf body_of(const char *method, const char *uri)
{
    static struct buf body = BUF_INIT;
    struct request req;
    fill(&req, method, uri, NULL);
    struct reply rep;
    reply_init(&rep);
    app_handle(&app, &req, &rep);
    ck_assert_int_eq(rep.status, 200);
    buf_reset(&body);
    buf_add(&body, rep.body.data ? rep.body.data : "", rep.body.len);
    reply_free(&rep);
    request_free(&req);
    return body;
}

static size_t last_txnid(void)
{
    MDB_envinfo info;
    ck_assert_int_eq(mdb_env_info(tdb.env, &info), 0);
    return info.me_last_txnid;
}

/* Feed entries of top 100, after groupctl check found the database clean. */
static int feed_entries(void)
{
    MDB_txn *txn;
    ck_assert_int_eq(store_read_begin(&tdb, &txn), 0);
    size_t differences = 1;
    ck_assert_int_eq(store_check(&tdb, txn, NULL, NULL, &differences), 0);
    ck_assert_msg(differences == 0, "groupctl check found %zu differences", differences);
    store_read_end(&tdb);
    return testdb_feed_entries(100);
}

START_TEST(a_batch_is_one_transaction)
{
    struct batch b = {.n = 0};
    add(&b, "POST", "/group?organisation=1", "{\"name\":\"a\",\"externalId\":\"A\"}");
    add(&b, "POST", "/group?organisation=1", "{\"name\":\"b\",\"externalId\":\"B\"}");
    add(&b, "POST", "/group?organisation=1", "{\"name\":\"c\",\"externalId\":\"C\"}");
    /* The fourth sees the third's group, as it would after its reply. */
    add(&b, "POST", "/group/C/archive", NULL);
    size_t before = last_txnid();
    apply(&b);
    for (size_t i = 0; i < b.n; i++)
        ck_assert_msg(b.it[i].rep.status == 200, "request %zu: %d %s", i, b.it[i].rep.status,
                      b.it[i].rep.body.data);
    ck_assert_ptr_nonnull(strstr(b.it[3].rep.body.data, "\"archived\":true"));
    ck_assert_uint_eq(last_txnid(), before + 1);
    ck_assert_uint_eq(b.stats.batches, 1);
    ck_assert_uint_eq(b.stats.batched, 4);
    ck_assert_uint_eq(b.stats.alone + b.stats.reruns, 0);
    ck_assert_int_eq(status_of("GET", "/group/B"), 200);
    ck_assert_int_eq(feed_entries(), 4);
    batch_free(&b);
}
END_TEST

START_TEST(a_request_that_gives_up_before_writing_leaves_the_batch)
{
    struct batch b = {.n = 0};
    add(&b, "POST", "/group?organisation=1", "{\"name\":\"a\",\"externalId\":\"A\"}");
    /* A 404 found inside its write transaction, before any write ... */
    add(&b, "POST", "/group/NOPE/archive", NULL);
    add(&b, "POST", "/group?organisation=1", "{\"name\":\"b\",\"externalId\":\"B\"}");
    /* ... and a delete of a group that is not there either. */
    add(&b, "DELETE", "/group/NOPE", NULL);
    add(&b, "POST", "/group?organisation=1", "{\"name\":\"c\",\"externalId\":\"C\"}");
    size_t before = last_txnid();
    apply(&b);
    expect_statuses(&b, (const int[]){200, 404, 200, 404, 200});
    ck_assert_uint_eq(last_txnid(), before + 1);
    ck_assert_uint_eq(b.stats.batches, 1);
    ck_assert_uint_eq(b.stats.batched, 5);
    ck_assert_uint_eq(b.stats.alone + b.stats.reruns, 0);
    ck_assert_int_eq(feed_entries(), 3);
    batch_free(&b);
}
END_TEST

START_TEST(a_request_that_gives_up_after_writing_is_applied_alone)
{
    struct batch b = {.n = 0};
    add(&b, "POST", "/group?organisation=1",
        "{\"name\":\"g\",\"externalId\":\"G\",\"participants\":[{\"email\":\"a@x.nl\","
        "\"externalId\":\"s1\"}]}");
    apply(&b);
    ck_assert_int_eq(b.it[0].rep.status, 200);
    batch_free(&b);
    int entries = feed_entries(); /* group.created, participant.added */

    add(&b, "POST", "/group?organisation=1", "{\"name\":\"p\",\"externalId\":\"P\"}");
    /* A new participant whose externalId another one holds: ids are
     * reserved and an index entry written before the clash (409). */
    add(&b, "POST", "/group/G/participant", "{\"email\":\"b@x.nl\",\"externalId\":\"s1\"}");
    add(&b, "POST", "/group?organisation=1", "{\"name\":\"q\",\"externalId\":\"Q\"}");
    add(&b, "POST", "/group?organisation=1", "{\"name\":\"r\",\"externalId\":\"R\"}");
    size_t before = last_txnid();
    apply(&b);
    expect_statuses(&b, (const int[]){200, 409, 200, 200});
    /* The batch was thrown away: p again alone (1), the 409 alone
     * (aborted), q and r in one batch (1). */
    ck_assert_uint_eq(last_txnid(), before + 2);
    ck_assert_uint_eq(b.stats.batches, 1);
    ck_assert_uint_eq(b.stats.batched, 2);
    ck_assert_uint_eq(b.stats.alone, 2);
    ck_assert_uint_eq(b.stats.reruns, 2);
    /* Exactly one group per successful create, and no participant b. */
    ck_assert_int_eq(feed_entries(), entries + 3);
    struct buf list = body_of("GET", "/group/G/participant");
    ck_assert_ptr_nonnull(strstr(list.data, "a@x.nl"));
    ck_assert_ptr_null(strstr(list.data, "b@x.nl"));
    ck_assert_int_eq(status_of("GET", "/group/R"), 200);
    batch_free(&b);
}
END_TEST

/* ---- the wire ---- */

START_TEST(requests_and_replies_cross_the_wire_whole)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct request in;
    request_init(&in);
    strcpy(in.method, "PATCH");
    strcpy(in.request_id, "1a-2b");
    buf_adds(&in.path, "/group/ext%2F1");
    buf_adds(&in.prefix, "/api");
    buf_adds(&in.query_string, "externalId=true");
    in.api_key = strdup("gdk_1_secret");
    in.if_none_match = NULL;
    in.content_type = strdup(JSON);
    buf_add(&in.body, "{\"a\":\"\0b\"}", 10); /* a NUL inside stays */
    in.body_cut = true;
    ck_assert_int_eq(wire_send_request(sv[0], &in), 0);
    struct request out;
    request_init(&out);
    ck_assert_int_eq(wire_recv_request(sv[1], &out, 1000), 0);
    ck_assert_str_eq(out.method, "PATCH");
    ck_assert_str_eq(out.request_id, "1a-2b");
    ck_assert_str_eq(out.path.data, "/group/ext%2F1");
    ck_assert_str_eq(out.prefix.data, "/api");
    ck_assert_str_eq(out.query_string.data, "externalId=true");
    ck_assert_str_eq(out.api_key, "gdk_1_secret");
    ck_assert_str_eq(out.content_type, JSON);
    ck_assert_ptr_null(out.if_none_match);
    ck_assert_uint_eq(out.body.len, 10);
    ck_assert_mem_eq(out.body.data, "{\"a\":\"\0b\"}", 10);
    ck_assert(out.body_cut && !out.body_too_large);

    struct reply rep;
    reply_init(&rep);
    rep.status = 409;
    reply_header(&rep, "X-Request-Id", "%s", "1a-2b");
    reply_writes(&rep, "{\"errorCode\":\"conflict\"}");
    ck_assert_int_eq(wire_send_reply(sv[1], &rep, 7), 0);
    struct reply back;
    reply_init(&back);
    struct buf ctype = BUF_INIT;
    size_t route = 0;
    ck_assert_int_eq(wire_recv_reply(sv[0], &back, &route, &ctype, 1000), 0);
    ck_assert_int_eq(back.status, 409);
    ck_assert_uint_eq(route, 7);
    ck_assert_ptr_null(back.content_type);
    ck_assert_str_eq(back.headers.data, "X-Request-Id: 1a-2b\r\n");
    ck_assert_str_eq(back.body.data, "{\"errorCode\":\"conflict\"}");
    ck_assert_uint_eq(back.body_bytes, back.body.len);

    /* A frame cut short is an error, a close before any frame is WIRE_EOF. */
    ck_assert_int_eq(write(sv[1],
                           "\0\0\0\x10"
                           "abc",
                           7),
                     7);
    close(sv[1]);
    reply_reset(&back);
    ck_assert_int_eq(wire_recv_reply(sv[0], &back, &route, &ctype, 1000), EPROTO);
    ck_assert_int_eq(wire_recv_reply(sv[0], &back, &route, &ctype, 1000), WIRE_EOF);
    close(sv[0]);
    request_free(&in);
    request_free(&out);
    reply_free(&rep);
    reply_free(&back);
    buf_free(&ctype);
}
END_TEST

/* ---- the relay ---- */

/* A stand-in writer on `name` that does `what` with the first request. */
enum stand_in { ANSWER, TAKE_AND_DIE, CLOSE_UNREAD_THEN_ANSWER };

static pid_t stand_in(const char *name, enum stand_in what)
{
    struct sockaddr_un addr;
    socklen_t len = write_relay_sockaddr(name, &addr);
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(lfd, 0);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&addr, len), 0);
    ck_assert_int_eq(listen(lfd, 8), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid) {
        close(lfd);
        return pid;
    }
    int fd = accept(lfd, NULL, NULL);
    if (what == CLOSE_UNREAD_THEN_ANSWER) {
        /* Wait until the request is there, then close without reading. */
        char c;
        if (recv(fd, &c, 1, MSG_PEEK) != 1)
            _exit(2);
        close(fd);
        fd = accept(lfd, NULL, NULL);
    }
    struct request req;
    request_init(&req);
    if (wire_recv_request(fd, &req, 5000) != 0)
        _exit(3);
    if (what == TAKE_AND_DIE)
        _exit(0);
    struct reply rep;
    reply_init(&rep);
    rep.status = 201;
    reply_writes(&rep, req.body.data);
    _exit(wire_send_reply(fd, &rep, 3) == 0 ? 0 : 4);
}

static enum relay_result relay_once(const char *name, int *status)
{
    struct relay r;
    relay_init(&r, name, 0);
    struct request req;
    fill(&req, "POST", "/group", "{\"name\":\"x\"}");
    struct reply rep;
    reply_init(&rep);
    size_t route = 0;
    enum relay_result res = relay_call(&r, &req, &rep, &route);
    *status = rep.status;
    if (res == RELAY_DONE) {
        ck_assert_str_eq(rep.body.data, "{\"name\":\"x\"}");
        ck_assert_uint_eq(route, 3);
    }
    relay_close(&r);
    buf_free(&r.ctype);
    reply_free(&rep);
    request_free(&req);
    return res;
}

START_TEST(the_relay_says_what_became_of_a_request)
{
    char name[64];
    snprintf(name, sizeof name, "groupd-test-%d", (int)getpid());
    int status = 0, ws;
    /* Nobody listening: the worker applies it itself. */
    ck_assert_int_eq(relay_once(name, &status), RELAY_UNREACHED);

    pid_t pid = stand_in(name, ANSWER);
    ck_assert_int_eq(relay_once(name, &status), RELAY_DONE);
    ck_assert_int_eq(status, 201);
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    ck_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);

    /* Closed with the request unread: it was never taken, so it is sent
     * again on a new connection. */
    pid = stand_in(name, CLOSE_UNREAD_THEN_ANSWER);
    ck_assert_int_eq(relay_once(name, &status), RELAY_DONE);
    ck_assert_int_eq(status, 201);
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    ck_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);

    /* Taken, then the writer ended: lost, never sent twice. */
    pid = stand_in(name, TAKE_AND_DIE);
    ck_assert_int_eq(relay_once(name, &status), RELAY_LOST);
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    ck_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
}
END_TEST

START_TEST(only_json_writes_go_to_the_writer)
{
    static const struct {
        const char *method, *path;
        bool batch;
    } cases[] = {
        {"POST", "/group", true},
        {"PATCH", "/group/12", true},
        {"DELETE", "/group/12/participant/3", true},
        {"POST", "/group/participant/identifier/externalId", true},
        {"GET", "/group", false},
        {"HEAD", "/group/12", false},
        {"POST", "/group/bulkImportGroups", false},
        {"POST", "/group/bulkImportParticipants", false},
        {"POST", "/nope", false},
        {"DELETE", "/group", false}, /* 405: answered where it arrived */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct request req;
        request_init(&req);
        snprintf(req.method, sizeof req.method, "%s", cases[i].method);
        buf_adds(&req.path, cases[i].path);
        ck_assert_msg(app_is_batch_write(&req) == cases[i].batch, "%s %s", cases[i].method,
                      cases[i].path);
        request_free(&req);
    }
}
END_TEST

START_TEST(the_writer_opens_its_store_again_after_a_big_batch)
{
    unsigned flags = 0;
    ck_assert_int_eq(mdb_env_get_flags(tdb.env, &flags), 0);
    ck_assert_uint_eq(flags & MDB_WRITEMAP, 0);
    struct batch b = {.n = 0};
    add(&b, "POST", "/group?organisation=1", "{\"name\":\"a\",\"externalId\":\"A\"}");
    add(&b, "POST", "/group/A/participant", "{\"email\":\"p@x.nl\"}");
    apply(&b);
    expect_statuses(&b, (const int[]){200, 200});
    batch_free(&b);
    size_t txnid = last_txnid();
    ck_assert_int_eq(status_of("GET", "/group/A"), 200); /* the read txn is open */
    ck_assert_ptr_nonnull(tdb.rtxn);
    ck_assert_int_eq(writer_give_back(&tdb, WRITER_GIVE_BACK_AT), 0);
    ck_assert_ptr_nonnull(tdb.rtxn);
    /* Closing the environment is what frees LMDB's page copies. */
    ck_assert_int_eq(writer_give_back(&tdb, WRITER_GIVE_BACK_AT + 1), 1);
    ck_assert_ptr_null(tdb.rtxn);
    /* The same database, opened the same way, and it goes on. */
    ck_assert_int_eq(mdb_env_get_flags(tdb.env, &flags), 0);
    ck_assert_uint_eq(flags & MDB_WRITEMAP, 0);
    ck_assert_uint_eq(last_txnid(), txnid);
    ck_assert_ptr_nonnull(strstr(body_of("GET", "/group/A").data, "p@x.nl"));
    add(&b, "POST", "/group?organisation=1", "{\"name\":\"b\",\"externalId\":\"B\"}");
    apply(&b);
    expect_statuses(&b, (const int[]){200});
    batch_free(&b);
    ck_assert_int_eq(status_of("GET", "/group/B"), 200);
    ck_assert_int_eq(feed_entries(), 3);
}
END_TEST

/* The batch tests on a store opened by `open`: as the workers open it, or as
 * the writer process does (pages copied). */
static TCase *batch_case(const char *name, void (*open)(void))
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, open, teardown);
    tcase_add_test(tc, a_batch_is_one_transaction);
    tcase_add_test(tc, a_request_that_gives_up_before_writing_leaves_the_batch);
    tcase_add_test(tc, a_request_that_gives_up_after_writing_is_applied_alone);
    return tc;
}

int main(void)
{
    Suite *s = suite_create("writer");
    suite_add_tcase(s, batch_case("batch", setup));
    TCase *copied = batch_case("batch, pages copied", setup_copied);
    tcase_add_test(copied, the_writer_opens_its_store_again_after_a_big_batch);
    suite_add_tcase(s, copied);
    TCase *wire = tcase_create("wire");
    tcase_add_test(wire, requests_and_replies_cross_the_wire_whole);
    tcase_add_test(wire, the_relay_says_what_became_of_a_request);
    tcase_add_test(wire, only_json_writes_go_to_the_writer);
    suite_add_tcase(s, wire);
    return run_suite(s);
}
