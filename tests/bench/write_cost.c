/*
 * write_cost.c — what a durable write costs without HTTP: the floor under write_bench.py's
 * single-client figure.  write_bench.py --floor builds and runs it; by hand:
 *
 *   gcc -O2 -pthread -Iinclude -I/usr/include/json-c -o /tmp/write_cost \
 *       tests/bench/write_cost.c build/libgroupd.a -llmdb -ljson-c -lsodium -lutf8proc -lfcgi
 *   /tmp/write_cost EMPTY_DIR [N]
 *
 * In a new database in EMPTY_DIR, through app_handle as the writer applies them:
 *  1. N creates (POST /group with a unique externalId), each its own durable transaction;
 *  2. N more in batches of 16 (write_batch_apply, one transaction and one flush pair each);
 *  3. N participant adds, each its own transaction, spread over 16 groups.
 * For each: requests per second, and disk pages written per request (this process's
 * write_bytes in /proc/self/io over 4096).  Then the disk itself: a 4 KiB pwrite and
 * fdatasync in a file already written (PostgreSQL's WAL flush at best), 8 and 16
 * scattered pages with one fdatasync, and 16 pages in one file and 1 in another flushed one
 * after the other and at once.  Last, LMDB alone (the floor of any write groupd can
 * make): one 100-byte put per durable transaction into a database of its own, with the
 * workers' flags (MDB_WRITEMAP | MDB_NOMETASYNC, then mdb_env_sync), the writer's
 * (MDB_NOMETASYNC, then mdb_env_sync) and LMDB's defaults (the meta page written through an
 * O_DSYNC descriptor).
 */
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "apikey.h"
#include "bench_app.h"
#include "store.h"
#include "write_batch.h"
#include "write_op.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long long written(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    char line[128];
    long long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "write_bytes: %lld", &v) == 1)
            break;
    if (f)
        fclose(f);
    return v;
}

static char key[APIKEY_STRING_MAX];

static void fill(struct request *req, const char *path, const char *query, const char *body)
{
    request_init(req);
    strcpy(req->method, "POST");
    buf_adds(&req->path, path);
    buf_adds(&req->query_string, query);
    req->api_key = strdup(key);
    req->content_type = strdup("application/json");
    buf_adds(&req->body, body);
    strcpy(req->request_id, "cost");
}

static void report(const char *what, int n, double t, long long bytes)
{
    printf("  %-40s %8.0f req/s  %6.1f us/req  %5.1f pages/req\n", what, n / t, t / n * 1e6,
           (double)bytes / 4096 / n);
}

/* Runs n requests made by make(i), `per` at a time (1: alone). */

/* per 1: each request through app_handle, applied in its own transaction;
 * per 16: each made into its write operation by app_handle, as a worker
 * does, then 16 applied as the writer does (write_batch_apply). */
static void series(struct app *app, const char *what, int n, int per,
                   void (*make)(struct request *, int))
{
    struct request req[16];
    struct write_op op[16];
    struct write_item it[16];
    struct buf frame = BUF_INIT;
    long long w0 = written();
    double t0 = now();
    for (int i = 0; i < n; i += per) {
        for (int j = 0; j < per; j++) {
            make(&req[j], i + j);
            reply_init(&it[j].rep);
            if (per == 1)
                continue;
            app->relay = bench_keep_op;
            app->relay_ctx = &frame;
            app_handle(app, &req[j], &it[j].rep);
            app->relay = NULL;
            if (!write_op_decode(frame.data, frame.len, &op[j])) {
                fprintf(stderr, "%s: no operation\n", what);
                exit(1);
            }
            it[j].op = &op[j];
            it[j].bytes = frame.len;
        }
        if (per == 1)
            app_handle(app, &req[0], &it[0].rep);
        else
            write_batch_apply(app, it, (size_t)per, NULL);
        for (int j = 0; j < per; j++) {
            if (it[j].rep.status != 200) {
                fprintf(stderr, "%s: %d %s\n", what, it[j].rep.status, it[j].rep.body.data);
                exit(1);
            }
            reply_free(&it[j].rep);
            request_free(&req[j]);
            if (per > 1)
                write_op_free(&op[j]);
        }
    }
    buf_free(&frame);
    report(what, n, now() - t0, written() - w0);
}

static void make_create(struct request *r, int i)
{
    char body[96];
    snprintf(body, sizeof body, "{\"name\":\"g\",\"externalId\":\"c-%d\"}", i);
    fill(r, "/group", "organisation=1", body);
}

static int batch_base;

static void make_batched_create(struct request *r, int i)
{
    make_create(r, batch_base + i);
}

static void make_add(struct request *r, int i)
{
    char body[96], path[64];
    snprintf(body, sizeof body, "{\"email\":\"p%d@x.nl\"}", i);
    snprintf(path, sizeof path, "/group/c-%d/participant", i % 16);
    fill(r, path, "", body);
}

static char page[4096];

/* A file of 4096 written pages (no flush in it changes the file's extents). */
static int written_file(const char *dir, const char *name, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", dir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        exit(1);
    memset(page, 1, sizeof page);
    for (int i = 0; i < 4096; i++)
        if (pwrite(fd, page, sizeof page, (off_t)i * 4096) != (ssize_t)sizeof page)
            exit(1);
    if (fsync(fd))
        exit(1);
    return fd;
}

static void report_disk(const char *what, int n, double t)
{
    printf("  %-40s %8.0f per s  %6.1f us each\n", what, n / t, t / n * 1e6);
}

/* The i-th of a series: `pages` scattered pages, then one fdatasync. */
static void flush_pages(int fd, int pages, int i)
{
    for (int j = 0; j < pages; j++) {
        off_t at = (off_t)((i * 16 + j * 251) % 4096) * 4096;
        if (pwrite(fd, page, sizeof page, at) != (ssize_t)sizeof page)
            exit(1);
    }
    if (fdatasync(fd))
        exit(1);
}

/* One of flush_pair's two threads: n flushes of its file, each when main says. */
struct flusher {
    int fd, pages, n;
    pthread_barrier_t *start, *done;
};

static void *flusher_run(void *arg)
{
    struct flusher *f = arg;
    for (int i = 0; i < f->n; i++) {
        pthread_barrier_wait(f->start);
        flush_pages(f->fd, f->pages, i);
        pthread_barrier_wait(f->done);
    }
    return NULL;
}

/* Two flushes in two files (16 pages and 1), as LMDB's data flush and a log record of our
 * own would be made: one after the other, and at once from two threads.  If the disk
 * overlapped them, a design flushing both at once would cost one flush.  The two ways are
 * alternated in four rounds, so that a disk whose speed drifts weighs on both alike. */
static void flush_pair(const char *dir, int n)
{
    enum { ROUNDS = 4 };
    char pa[4096], pb[4096];
    int fa = written_file(dir, "flush-a", pa, sizeof pa);
    int fb = written_file(dir, "flush-b", pb, sizeof pb);
    n -= n % ROUNDS;
    pthread_barrier_t start, done;
    if (pthread_barrier_init(&start, NULL, 3) || pthread_barrier_init(&done, NULL, 3))
        exit(1);
    struct flusher f[2] = {{fa, 16, n, &start, &done}, {fb, 1, n, &start, &done}};
    pthread_t t[2];
    for (int k = 0; k < 2; k++)
        if (pthread_create(&t[k], NULL, flusher_run, &f[k]))
            exit(1);
    double apart = 0, together = 0;
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now();
        for (int i = r * (n / ROUNDS); i < (r + 1) * (n / ROUNDS); i++) {
            flush_pages(fa, 16, i);
            flush_pages(fb, 1, i);
        }
        double t1 = now();
        for (int i = 0; i < n / ROUNDS; i++) {
            pthread_barrier_wait(&start);
            pthread_barrier_wait(&done);
        }
        apart += t1 - t0;
        together += now() - t1;
    }
    for (int k = 0; k < 2; k++)
        if (pthread_join(t[k], NULL))
            exit(1);
    pthread_barrier_destroy(&start);
    pthread_barrier_destroy(&done);
    report_disk("disk: 16 pages, then 1 in another file", n, apart);
    report_disk("disk: the same two at once (2 threads)", n, together);
    close(fa);
    close(fb);
    unlink(pa);
    unlink(pb);
}

static void disk(const char *dir, int n)
{
    char path[4096];
    int fd = written_file(dir, "flush-test", path, sizeof path);
    static const int counts[] = {1, 8, 16};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        int pages = counts[c];
        double t0 = now();
        for (int i = 0; i < n; i++)
            flush_pages(fd, pages, i);
        double t = now() - t0;
        char what[64];
        snprintf(what, sizeof what,
                 pages == 1 ? "disk: 1 page + fdatasync" : "disk: %d scattered pages + fdatasync",
                 pages);
        report_disk(what, n, t);
    }
    close(fd);
    unlink(path);
}

/* One put per durable transaction, nothing else: LMDB's commit protocol alone. */
static void lmdb_alone(const char *dir, int n, unsigned flags, const char *what)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/alone-%x", dir, flags);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    if (mkdir(path, 0700) || mdb_env_create(&env) || mdb_env_set_mapsize(env, (size_t)1 << 30) ||
        mdb_env_open(env, path, flags, 0600) || mdb_txn_begin(env, NULL, 0, &txn) ||
        mdb_dbi_open(txn, NULL, 0, &dbi) || mdb_txn_commit(txn))
        exit(1);
    static char value[100];
    long long w0 = written();
    double t0 = now();
    for (int i = 0; i < n; i++) {
        uint64_t k = __builtin_bswap64((uint64_t)i);
        MDB_val key = {sizeof k, &k}, val = {sizeof value, value};
        if (mdb_txn_begin(env, NULL, 0, &txn) || mdb_put(txn, dbi, &key, &val, 0) ||
            mdb_txn_commit(txn) || ((flags & MDB_NOMETASYNC) && mdb_env_sync(env, 1)))
            exit(1);
    }
    report(what, n, now() - t0, written() - w0);
    mdb_env_close(env);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: write_cost EMPTY_DIR [N]\n");
        return 2;
    }
    int n = argc > 2 ? atoi(argv[2]) : 2000;
    n -= n % 16;
    struct store *s = store_new();
    if (apikey_init() != 0 || store_open(s, argv[1], (size_t)1 << 30) != 0) {
        fprintf(stderr, "cannot open %s\n", argv[1]);
        return 1;
    }
    if (bench_admin_key(s, key))
        return 1;
    struct app app = {s, NULL, NULL, NULL, 0, NULL, NULL};
    printf("in-process, %d requests each:\n", n);
    series(&app, "create, one transaction each", n, 1, make_create);
    batch_base = n;
    series(&app, "create, 16 per transaction (writer)", n, 16, make_batched_create);
    series(&app, "participant add, one transaction each", n, 1, make_add);
    disk(argv[1], n / 4);
    flush_pair(argv[1], n / 4);
    lmdb_alone(argv[1], n, MDB_WRITEMAP | MDB_NOMETASYNC,
               "LMDB alone, one put, the workers' flags");
    lmdb_alone(argv[1], n, MDB_NOMETASYNC, "LMDB alone, one put, the writer's flags");
    lmdb_alone(argv[1], n, 0, "LMDB alone, one put, LMDB's defaults");
    store_close(s);
    return 0;
}
