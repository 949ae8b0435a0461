/* metrics.c — the shared request counters and their exposition; see include/metrics.h. */
#include "metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "store.h"

/* Statuses counted one by one; anything else is counted as "other". */
static const int statuses[] = {200, 201, 304, 400, 401, 403, 404, 405,
                               409, 410, 413, 415, 423, 500, 503};
#define N_STATUS (sizeof statuses / sizeof statuses[0] + 1)

/* Upper bounds of the latency buckets, in microseconds (the last is +Inf). */
static const int64_t bucket_us[] = {250,   500,    1000,   2500,    5000,    10000,   25000,
                                    50000, 100000, 250000, 1000000, 5000000, 30000000};
#define N_BUCKETS (sizeof bucket_us / sizeof bucket_us[0] + 1)

struct slot {
    _Atomic uint64_t requests[METRICS_MAX_ROUTES][N_STATUS];
    _Atomic uint64_t buckets[METRICS_MAX_ROUTES][N_BUCKETS]; /* not cumulative */
    _Atomic uint64_t sum_us[METRICS_MAX_ROUTES];
    _Atomic int64_t in_flight;
};

struct metrics {
    size_t bytes;
    unsigned n_slots;
    _Atomic uint64_t restarts;
    _Atomic uint64_t writes[METRICS_WRITE_KINDS]; /* the writer's (one at a time) */
    struct slot slots[];
};

/* The slot this process adds to: process memory, not the segment's. */
static unsigned mine;

struct metrics *metrics_map(unsigned workers)
{
    unsigned n = workers ? 2 * workers : 2;
    size_t bytes = sizeof(struct metrics) + n * sizeof(struct slot);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    struct metrics *m = p; /* an anonymous map starts zeroed */
    m->bytes = bytes;
    m->n_slots = n;
    return m;
}

void metrics_unmap(struct metrics *m)
{
    if (m)
        munmap(m, m->bytes);
}

static struct slot *slot_of(struct metrics *m, unsigned worker, unsigned generation)
{
    unsigned i = 2 * worker + (generation & 1);
    return i < m->n_slots ? &m->slots[i] : NULL;
}

void metrics_use_slot(struct metrics *m, unsigned worker, unsigned generation)
{
    unsigned i = 2 * worker + (generation & 1);
    mine = m && i < m->n_slots ? i : 0;
}

void metrics_worker_ended(struct metrics *m, unsigned worker, unsigned generation, int restarted)
{
    if (!m)
        return;
    struct slot *s = slot_of(m, worker, generation);
    /* The process is gone: whatever it had in flight will never end. */
    if (s)
        atomic_store_explicit(&s->in_flight, 0, memory_order_relaxed);
    if (restarted)
        atomic_fetch_add_explicit(&m->restarts, 1, memory_order_relaxed);
}

void metrics_writes(struct metrics *m, const uint64_t counts[METRICS_WRITE_KINDS])
{
    if (!m)
        return;
    for (int i = 0; i < METRICS_WRITE_KINDS; i++)
        if (counts[i])
            atomic_fetch_add_explicit(&m->writes[i], counts[i], memory_order_relaxed);
}

void metrics_request_begin(struct metrics *m)
{
    if (m)
        atomic_fetch_add_explicit(&m->slots[mine].in_flight, 1, memory_order_relaxed);
}

static size_t status_index(int status)
{
    for (size_t i = 0; i < N_STATUS - 1; i++)
        if (statuses[i] == status)
            return i;
    return N_STATUS - 1;
}

static size_t bucket_index(int64_t us)
{
    size_t i = 0;
    while (i < N_BUCKETS - 1 && us > bucket_us[i])
        i++;
    return i;
}

void metrics_request_end(struct metrics *m, size_t route, int status, int64_t micros)
{
    if (!m || route >= METRICS_MAX_ROUTES)
        return;
    struct slot *s = &m->slots[mine];
    if (micros < 0)
        micros = 0;
    atomic_fetch_add_explicit(&s->requests[route][status_index(status)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->buckets[route][bucket_index(micros)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_us[route], (uint64_t)micros, memory_order_relaxed);
    atomic_fetch_sub_explicit(&s->in_flight, 1, memory_order_relaxed);
}

/* ---- exposition ---- */

/* One route template's figures, summed over the slots and over the
 * router rows that share the template. */
struct route_sum {
    uint64_t requests[N_STATUS];
    uint64_t buckets[N_BUCKETS];
    uint64_t sum_us;
};

static uint64_t load(const _Atomic uint64_t *a)
{
    return atomic_load_explicit((_Atomic uint64_t *)a, memory_order_relaxed);
}

static void add_route(const struct metrics *m, size_t r, struct route_sum *sum)
{
    for (unsigned i = 0; m && i < m->n_slots; i++) {
        const struct slot *s = &m->slots[i];
        for (size_t k = 0; k < N_STATUS; k++)
            sum->requests[k] += load(&s->requests[r][k]);
        for (size_t k = 0; k < N_BUCKETS; k++)
            sum->buckets[k] += load(&s->buckets[r][k]);
        sum->sum_us += load(&s->sum_us[r]);
    }
}

static void family(struct buf *out, const char *name, const char *type, const char *help)
{
    buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void add_seconds_us(struct buf *out, uint64_t us)
{
    buf_addf(out, "%llu.%06llu", (unsigned long long)(us / 1000000),
             (unsigned long long)(us % 1000000));
}

/* A bucket bound: 0.00025, 1, 2.5 (no trailing zeros). */
static void add_bound_us(struct buf *out, uint64_t us)
{
    char frac[8];
    snprintf(frac, sizeof frac, "%06llu", (unsigned long long)(us % 1000000));
    size_t n = strlen(frac);
    while (n && frac[n - 1] == '0')
        frac[--n] = '\0';
    buf_addf(out, "%llu%s%s", (unsigned long long)(us / 1000000), n ? "." : "", frac);
}

/* Index of the first row with route r's template (rows sharing it are
 * rendered once, there). */
static size_t first_with(const char *const *names, size_t r)
{
    for (size_t i = 0; i < r; i++)
        if (strcmp(names[i], names[r]) == 0)
            return i;
    return r;
}

static void render_routes(const struct metrics *m, const char *const *names, size_t n_routes,
                          struct buf *out)
{
    if (n_routes > METRICS_MAX_ROUTES)
        n_routes = METRICS_MAX_ROUTES;
    struct route_sum sums[METRICS_MAX_ROUTES];
    memset(sums, 0, sizeof sums);
    for (size_t r = 0; r < n_routes; r++)
        add_route(m, r, &sums[first_with(names, r)]);

    family(out, "groupd_requests_total", "counter",
           "Requests answered, by route template and HTTP status.");
    for (size_t r = 0; r < n_routes; r++) {
        for (size_t k = 0; k < N_STATUS; k++) {
            if (!sums[r].requests[k])
                continue;
            buf_addf(out, "groupd_requests_total{route=\"%s\",status=\"", names[r]);
            if (k < N_STATUS - 1)
                buf_addf(out, "%d", statuses[k]);
            else
                buf_adds(out, "other");
            buf_addf(out, "\"} %llu\n", (unsigned long long)sums[r].requests[k]);
        }
    }
    family(out, "groupd_request_duration_seconds", "histogram",
           "Time from the request's arrival at the worker to its last byte, by route template.");
    for (size_t r = 0; r < n_routes; r++) {
        uint64_t count = 0;
        for (size_t k = 0; k < N_BUCKETS; k++)
            count += sums[r].buckets[k];
        if (!count)
            continue;
        uint64_t below = 0;
        for (size_t k = 0; k < N_BUCKETS; k++) {
            below += sums[r].buckets[k];
            buf_addf(out, "groupd_request_duration_seconds_bucket{route=\"%s\",le=\"", names[r]);
            if (k < N_BUCKETS - 1)
                add_bound_us(out, (uint64_t)bucket_us[k]);
            else
                buf_adds(out, "+Inf");
            buf_addf(out, "\"} %llu\n", (unsigned long long)below);
        }
        buf_addf(out, "groupd_request_duration_seconds_sum{route=\"%s\"} ", names[r]);
        add_seconds_us(out, sums[r].sum_us);
        buf_addf(out, "\ngroupd_request_duration_seconds_count{route=\"%s\"} %llu\n", names[r],
                 (unsigned long long)count);
    }
}

static void gauge(struct buf *out, const char *name, const char *help, unsigned long long v)
{
    family(out, name, "gauge", help);
    buf_addf(out, "%s %llu\n", name, v);
}

static void render_store(const struct store_figures *f, struct buf *out)
{
    const struct {
        const char *name, *help;
        unsigned long long v;
    } gauges[] = {
        {"groupd_groups", "Groups stored, soft-deleted ones included until purged.", f->groups},
        {"groupd_participants", "Participants stored, over all groups.", f->participants},
        {"groupd_events", "Events stored, over all groups.", f->events},
        {"groupd_lmdb_map_size_bytes", "The most the database may grow to (--map-size).",
         f->map_size},
        {"groupd_lmdb_map_used_bytes", "Bytes of the map in use (pages up to the last used).",
         f->map_used},
        {"groupd_lmdb_readers", "Reader slots held by live processes.", f->readers_used},
        {"groupd_lmdb_readers_max", "Reader slots the environment has.", f->readers_max},
    };
    for (size_t i = 0; i < sizeof gauges / sizeof gauges[0]; i++)
        gauge(out, gauges[i].name, gauges[i].help, gauges[i].v);
    static const char *kinds[STORE_IMPORT_KINDS] = {"participants", "groups", "oneroster"};
    family(out, "groupd_last_import_timestamp_seconds", "gauge",
           "When the last bulk import of that kind committed (0: never).");
    for (int k = 0; k < STORE_IMPORT_KINDS; k++)
        buf_addf(out, "groupd_last_import_timestamp_seconds{import=\"%s\"} %lld.%03lld\n", kinds[k],
                 (long long)(f->last_import[k].at_ms / 1000),
                 (long long)(f->last_import[k].at_ms % 1000));
    family(out, "groupd_last_import_rows", "gauge", "Rows of the last bulk import of that kind.");
    for (int k = 0; k < STORE_IMPORT_KINDS; k++)
        buf_addf(out, "groupd_last_import_rows{import=\"%s\"} %llu\n", kinds[k],
                 (unsigned long long)f->last_import[k].rows);
}

void metrics_render(const struct metrics *m, const char *const *route_names, size_t n_routes,
                    const struct store_figures *f, struct buf *out)
{
    render_routes(m, route_names, n_routes, out);
    int64_t in_flight = 0;
    for (unsigned i = 0; m && i < m->n_slots; i++)
        in_flight +=
            atomic_load_explicit((_Atomic int64_t *)&m->slots[i].in_flight, memory_order_relaxed);
    gauge(out, "groupd_requests_in_flight", "Requests being served by a worker, this one included.",
          (unsigned long long)(in_flight > 0 ? in_flight : 0));
    family(out, "groupd_worker_restarts_total", "counter",
           "Workers the master started again after one ended without being asked to.");
    buf_addf(out, "groupd_worker_restarts_total %llu\n",
             m ? (unsigned long long)load(&m->restarts) : 0ULL);
    static const struct {
        const char *name, *help;
    } writes[METRICS_WRITE_KINDS] = {
        {"groupd_write_batches_total",
         "Transactions in which the writer applied several requests with one flush."},
        {"groupd_write_batched_requests_total", "Requests applied in those transactions."},
        {"groupd_write_alone_total", "Requests the writer applied in a transaction of their own."},
        {"groupd_write_reruns_total",
         "Applications thrown away with a batch that a failing request spoilt, and done again."},
    };
    for (int i = 0; i < METRICS_WRITE_KINDS; i++) {
        family(out, writes[i].name, "counter", writes[i].help);
        buf_addf(out, "%s %llu\n", writes[i].name,
                 m ? (unsigned long long)load(&m->writes[i]) : 0ULL);
    }
    render_store(f, out);
}
