/*
 * metrics.h — request counters shared by all of groupd's processes, and
 * the Prometheus text exposition of them (GET /metrics, API.md §7).
 *
 * The master maps one shared anonymous segment before it forks; every
 * worker adds to its own slot with relaxed atomics, so the request path
 * takes no lock and makes no system call, and a scrape, whichever worker
 * answers it, sums all slots.  The counts live in the segment, not in a
 * worker: a worker killed with SIGKILL takes none of them along.  Each
 * worker slot of the pool has two metrics slots, used by alternate
 * generations, so a replacement started while its predecessor still
 * finishes (SIGHUP) never shares a slot with it, and the master can clear
 * a dead worker's "in flight" mark without touching a live one's.
 *
 * Without a master (one process on fd 0, as mod_fcgid runs it) the
 * segment has one slot and counts that process only.
 */
#ifndef GROUPD_METRICS_H
#define GROUPD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Routes a slot counts separately: the router's table rows and one for
 * paths that match none. */
#define METRICS_MAX_ROUTES 32

struct metrics;

/* Maps a segment for `workers` pool slots (two metrics slots each); NULL
 * when mmap fails. */
struct metrics *metrics_map(unsigned workers);
void metrics_unmap(struct metrics *m);

/* In a worker: the slot this process adds to, for pool slot `worker` and
 * its generation (alternating 0, 1). */
void metrics_use_slot(struct metrics *m, unsigned worker, unsigned generation);
/* In the master, when a worker ended: clears its in-flight mark and
 * counts the restart when `restarted`. */
void metrics_worker_ended(struct metrics *m, unsigned worker, unsigned generation, int restarted);

/* The writer's group commits (include/write_batch.h): batches, requests
 * in them, requests alone, reruns, in that order; added to the totals. */
#define METRICS_WRITE_KINDS 4
void metrics_writes(struct metrics *m, const uint64_t counts[METRICS_WRITE_KINDS]);

/* Around each request, in the worker.  `route` < METRICS_MAX_ROUTES. */
void metrics_request_begin(struct metrics *m);
void metrics_request_end(struct metrics *m, size_t route, int status, int64_t micros);

/* The figures the store keeps, as store_figures gives them. */
struct store_figures;

/* Appends the exposition: requests by route template and status, the
 * latency histogram by route, requests in flight, worker restarts, and
 * the store's figures.  route_names[i] is route i's template
 * ("/group/{id}"); routes with the same template are summed. */
void metrics_render(const struct metrics *m, const char *const *route_names, size_t n_routes,
                    const struct store_figures *f, struct buf *out);

#endif
