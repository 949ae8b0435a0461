/*
 * Unit tests for group commit: write_batch_apply (several operations, one
 * transaction; one that gives up spoils the batch and everything is
 * applied again, so each sees exactly what a lone one would), the
 * operations' bytes between worker and writer, the relay's answers when
 * the writer is missing or dies, and which requests become operations
 * (validation is the worker's: a bad body never reaches the writer).
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
#include "testops.h"
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
    struct write_op op[8];
    struct write_item it[8];
    size_t n;
    struct write_batch_stats stats;
};

/* The request's write operation, as the worker sends it, joins the batch. */
static void add(struct batch *b, const char *method, const char *uri, const char *body)
{
    struct request req;
    fill(&req, method, uri, body);
    int status;
    ck_assert_msg(testops_of(&app, &req, &b->op[b->n], &b->it[b->n].bytes, &status),
                  "%s %s was answered %d", method, uri, status);
    request_free(&req);
    b->it[b->n].op = &b->op[b->n];
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
        write_op_free(&b->op[i]);
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

/* An operation with something in every field. */
static void full_op(struct write_op *op)
{
    struct request req;
    fill(&req, "PUT", "/group/G-1?external=true&participantUpdateType=externalId",
         "{\"name\":\"n\",\"description\":\"d\",\"type\":\"t\",\"schoolYear\":2026,"
         "\"importLock\":true,\"importLockOwner\":\"o\",\"integrations\":[{\"type\":\"a\","
         "\"id\":\"1\"}],\"participants\":[{\"email\":\"p@x.nl\",\"externalId\":\"s1\","
         "\"name\":\"P\",\"labels\":[{\"name\":\"l1\"},{\"name\":\"l2\"}],\"integrations\":[{"
         "\"type\":\"b\","
         "\"id\":\"2\"}]}]}");
    size_t bytes;
    int status;
    ck_assert(testops_of(&app, &req, op, &bytes, &status));
    request_free(&req);
    op->eid = 77;
    op->pick = PICK_EMAIL;
    buf_adds(&op->pick_text, "q@x.nl");
    op->ev.title = strdup("Les");
    op->ev.day = 3;
    op->ev.start = 0;
    op->ev.end = 90;
    op->ev.weeks = 6;
    op->ev.has_tutors = true;
    op->ev.tutors = calloc(1, sizeof *op->ev.tutors);
    op->ev.tutors[0] = strdup("T");
    op->ev.n_tutors = 1;
}

START_TEST(operations_and_replies_cross_the_wire_whole)
{
    struct write_op op, back;
    full_op(&op);
    ck_assert_uint_eq(op.n_parts, 1);
    ck_assert_uint_eq(op.parts[0].v.n_labels, 2);
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct buf frame = BUF_INIT, bytes = BUF_INIT, again = BUF_INIT;
    wire_put_u32(&frame, 0);
    write_op_encode(&op, &frame);
    buf_add(&bytes, frame.data + 4, frame.len - 4);
    ck_assert_int_eq(wire_send_frame(sv[0], &frame), 0);
    struct buf in = BUF_INIT;
    ck_assert_int_eq(wire_recv_frame(sv[1], &in, 1000), 0);
    ck_assert(write_op_decode(in.data, in.len, &back));
    /* Every field came through: encoded again, the same bytes. */
    write_op_encode(&back, &again);
    ck_assert_uint_eq(again.len, bytes.len);
    ck_assert(memcmp(again.data, bytes.data, bytes.len) == 0);
    ck_assert_str_eq(back.actor, op.actor);
    ck_assert_str_eq(back.parts[0].v.labels[1], "l2");
    ck_assert_int_eq(back.ev.start, 0);
    /* Cut anywhere, or with a byte too many, it is refused. */
    for (size_t cut = 0; cut < bytes.len; cut++) {
        struct write_op bad;
        ck_assert_msg(!write_op_decode(bytes.data, cut, &bad), "cut at %zu", cut);
    }
    buf_addc(&bytes, 0);
    struct write_op bad;
    ck_assert(!write_op_decode(bytes.data, bytes.len, &bad));

    struct reply rep, got;
    reply_init(&rep);
    rep.status = 201;
    reply_header(&rep, "Location", "%s", "/x");
    reply_writes(&rep, "{\"ok\":true}");
    ck_assert_int_eq(wire_send_reply(sv[1], &rep, 7), 0);
    reply_init(&got);
    size_t route;
    struct buf ctype = BUF_INIT;
    ck_assert_int_eq(wire_recv_reply(sv[0], &got, &route, &ctype, 1000), 0);
    ck_assert_int_eq(got.status, 201);
    ck_assert_str_eq(got.body.data, "{\"ok\":true}");
    ck_assert_ptr_nonnull(strstr(got.headers.data, "Location: /x"));
    close(sv[0]);
    close(sv[1]);
    write_op_free(&op);
    write_op_free(&back);
    buf_free(&bytes);
    buf_free(&again);
    buf_free(&in);
    buf_free(&ctype);
    reply_free(&rep);
    reply_free(&got);
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
    struct buf frame = BUF_INIT;
    struct write_op op;
    if (wire_recv_frame(fd, &frame, 5000) != 0 || !write_op_decode(frame.data, frame.len, &op))
        _exit(3);
    if (what == TAKE_AND_DIE)
        _exit(0);
    struct reply rep;
    reply_init(&rep);
    rep.status = 201;
    reply_header(&rep, "Location", "%s", "/there");
    reply_writes(&rep, op.group.data);
    _exit(wire_send_reply(fd, &rep, 0) == 0 ? 0 : 4);
}

static enum relay_result relay_once(const char *name, int *status)
{
    struct relay r;
    relay_init(&r, name, 0);
    struct write_op op;
    write_op_init(&op, WOP_GROUP_ARCHIVE);
    buf_adds(&op.group, "G-7");
    struct reply rep;
    reply_init(&rep);
    reply_header(&rep, "X-Request-Id", "%s", "r-1");
    enum relay_result res = relay_call(&r, &op, &rep);
    *status = rep.status;
    if (res == RELAY_DONE) {
        /* The writer's answer, after the worker's own headers. */
        ck_assert_str_eq(rep.body.data, "G-7");
        ck_assert_str_eq(rep.headers.data, "X-Request-Id: r-1\r\nLocation: /there\r\n");
    }
    relay_close(&r);
    buf_free(&r.ctype);
    reply_free(&rep);
    write_op_free(&op);
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

START_TEST(only_valid_writes_become_operations)
{
    static const struct {
        const char *method, *path, *body;
        int status; /* 202: became an operation */
    } cases[] = {
        {"POST", "/group?organisation=1", "{\"name\":\"a\"}", 202},
        {"PATCH", "/group/12", "{\"name\":\"b\"}", 202},
        {"DELETE", "/group/12/participant/3", NULL, 202},
        {"DELETE", "/group/12?purge=true", NULL, 202},
        {"POST", "/group/12/event", "{\"title\":\"t\",\"tutors\":[\"x\"]}", 202},
        {"POST", "/group/participant/identifier/externalId",
         "{\"identifier\":{\"externalId\":\"G\"},\"data\":{\"email\":\"a@x.nl\","
         "\"externalId\":\"s\"}}",
         202},
        {"DELETE", "/participant?email=a@x.nl", NULL, 202},
        /* Answered by the worker: reads, bad input, imports, wrong routes. */
        {"GET", "/group", NULL, 200},
        {"POST", "/group?organisation=1", "{\"name\":", 400},
        {"POST", "/group?organisation=1", "{\"name\":\"a\",\"schoolYear\":\"x\"}", 400},
        {"PATCH", "/group/12?external=maybe", "{}", 400},
        {"POST", "/group/12/participant", "{\"name\":\"no e-mail\"}", 400},
        {"POST", "/group/bulkImportGroups", NULL, 415},
        {"POST", "/nope", NULL, 404},
        {"DELETE", "/group", NULL, 405},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct request req;
        fill(&req, cases[i].method, cases[i].path, cases[i].body);
        struct write_op op;
        size_t bytes;
        int status;
        bool made = testops_of(&app, &req, &op, &bytes, &status);
        ck_assert_msg(status == cases[i].status && made == (cases[i].status == 202), "%s %s: %d",
                      cases[i].method, cases[i].path, status);
        if (made)
            write_op_free(&op);
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
    tcase_add_checked_fixture(wire, setup, teardown);
    tcase_add_test(wire, operations_and_replies_cross_the_wire_whole);
    tcase_add_test(wire, the_relay_says_what_became_of_a_request);
    tcase_add_test(wire, only_valid_writes_become_operations);
    suite_add_tcase(s, wire);
    return run_suite(s);
}
