/*
 * writer_instr.c — the writer's work per create, in instructions (issue 29), run by hand
 * under callgrind:
 *
 *   gcc -O2 -pthread -D_GNU_SOURCE -Iinclude -I/usr/include/json-c \
 *       -o /tmp/writer_instr tests/bench/writer_instr.c BUILD/libgroupd.a \
 *       -llmdb -ljson-c -lsodium -lutf8proc -lfcgi -larchive
 *   valgrind --tool=callgrind --toggle-collect=apply_batches \
 *       /tmp/writer_instr EMPTY_DIR 2000 request|operation
 *
 * In a new database in EMPTY_DIR, opened as the writer opens it (pages copied), N
 * group creates are applied in batches of 16, one transaction each, as the writer
 * applies what its workers send:
 *  - request: each batch member is the whole request, routed, its key checked, its JSON
 *    parsed and validated, then applied (app_handle inside the batch): what the writer
 *    did before it only applied;
 *  - operation: the requests are first made into write operations outside the measured
 *    part (app_handle with a relay that keeps the operation's bytes: a worker's part),
 *    then each batch member is decoded and applied (write_op_decode, write_op_run): what
 *    the writer does now.
 * Only apply_batches is counted (--toggle-collect), so callgrind's total over N is the
 * writer's instructions per create; the kernel's part of a commit is not in it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apikey.h"
#include "bench_app.h"
#include "app.h"
#include "store.h"
#include "write_batch.h"
#include "write_op.h"

#define BATCH 16

static char key[APIKEY_STRING_MAX];

static void make_create(struct request *r, int i)
{
    request_init(r);
    strcpy(r->method, "POST");
    buf_adds(&r->path, "/group");
    buf_adds(&r->query_string, "organisation=101");
    buf_addf(&r->body,
             "{\"name\":\"Wiskunde %d\",\"externalId\":\"w-%d\",\"description\":\"Groep %d van "
             "het eerste jaar\",\"type\":\"course\",\"schoolYear\":2026}",
             i, i, i);
    r->content_type = strdup("application/json");
    r->api_key = strdup(key);
    snprintf(r->request_id, sizeof r->request_id, "w-%d", i);
}

struct work {
    struct request *req;
    struct buf *frames;
    int n;
    bool ops;
};

static void check(const struct reply *rep)
{
    if (rep->status != 200) {
        fprintf(stderr, "writer_instr: %d %s\n", rep->status, rep->body.data);
        exit(1);
    }
}

/* The measured part: every batch, applied and committed. */
__attribute__((noinline)) static void apply_batches(struct app *app, const struct work *w)
{
    for (int i = 0; i < w->n; i += BATCH) {
        if (store_batch_begin(app->store, 0) != 0) {
            fprintf(stderr, "writer_instr: no batch\n");
            exit(1);
        }
        for (int j = i; j < i + BATCH && j < w->n; j++) {
            struct reply rep;
            reply_init(&rep);
            if (w->ops) {
                struct write_op op;
                if (!write_op_decode(w->frames[j].data, w->frames[j].len, &op)) {
                    fprintf(stderr, "writer_instr: a frame does not decode\n");
                    exit(1);
                }
                write_op_run(app->store, &op, &rep, NULL);
                write_op_free(&op);
            } else {
                app_handle(app, &w->req[j], &rep);
            }
            check(&rep);
            reply_free(&rep);
        }
        if (store_batch_commit(app->store) != 0) {
            fprintf(stderr, "writer_instr: commit failed\n");
            exit(1);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[3], "request") && strcmp(argv[3], "operation"))) {
        fprintf(stderr, "usage: writer_instr EMPTY_DIR N request|operation\n");
        return 2;
    }
    int n = atoi(argv[2]);
    struct store *s = store_new();
    if (apikey_init() != 0 || store_open_as(s, argv[1], (size_t)1 << 30, STORE_WRITES_COPIED)) {
        fprintf(stderr, "writer_instr: %s\n", store_errmsg(s));
        return 1;
    }
    if (bench_admin_key(s, key))
        return 1;
    struct app app = {s, NULL, NULL, NULL, 0, NULL, NULL};
    struct work w = {calloc((size_t)n, sizeof *w.req), calloc((size_t)n, sizeof *w.frames), n,
                     strcmp(argv[3], "operation") == 0};
    if (!w.req || !w.frames)
        return 1;
    for (int i = 0; i < n; i++) {
        make_create(&w.req[i], i);
        if (!w.ops)
            continue;
        struct reply rep;
        reply_init(&rep);
        app.relay = bench_keep_op;
        app.relay_ctx = &w.frames[i];
        app_handle(&app, &w.req[i], &rep);
        app.relay = NULL;
        check(&rep);
        reply_free(&rep);
    }
    apply_batches(&app, &w);
    printf("%s: %d creates applied in batches of %d\n", argv[3], n, BATCH);
    for (int i = 0; i < n; i++) {
        request_free(&w.req[i]);
        buf_free(&w.frames[i]);
    }
    free(w.req);
    free(w.frames);
    store_close(s);
    store_delete(s);
    return 0;
}
