/*
 * liveness.h — what the master knows of its processes' progress.
 *
 * The master maps one small shared anonymous segment before it forks
 * (like the metrics segment, include/metrics.h).  Two facts live there:
 *
 * - Which process of each pool slot became ready: a worker that opened
 *   the database and began to accept, or a writer that began to serve,
 *   writes its generation into its slot.  A process that ends after it
 *   was ready is replaced at once; only one that never became ready counts
 *   as a failed start and is retried after a growing pause
 *   (src/server.c), so a worker killed by the OOM killer or an operator,
 *   however soon after its start, leaves no gap in the pool.
 * - When the writer last made progress (its heartbeat): the writer beats
 *   every time it wakes, before each request it applies, and every 1024
 *   write calls of a long one (store_on_progress), so a group created with
 *   tens of thousands of participants is not taken for a stall.  The master
 *   kills a writer whose heartbeat is older than LIVENESS_STALL_MS and
 *   starts another; the workers waiting on it answer 503 (the killed
 *   transaction is never committed) instead of waiting longer than the web
 *   server would.
 *
 * Relaxed atomics: a worker's request path never touches the segment.
 */
#ifndef GROUPD_LIVENESS_H
#define GROUPD_LIVENESS_H

#include <stdbool.h>
#include <stdint.h>

/* A writer silent this long has stalled (a stopped process, a hung
 * disk): it beats at least once a second while it is idle. */
#define LIVENESS_STALL_MS 5000
/* How often the idle writer wakes to beat. */
#define LIVENESS_BEAT_MS 1000

struct liveness;

/* Maps a segment for `slots` pool slots; NULL when mmap fails. */
struct liveness *liveness_map(unsigned slots);
void liveness_unmap(struct liveness *l);

/* In a child: the slot it fills and its generation (set once, after fork). */
void liveness_use_slot(struct liveness *l, unsigned slot, unsigned generation);
/* In a child: it is ready (it opened the database and serves). */
void liveness_ready(struct liveness *l);
/* In the master: whether the process of `slot` with `generation` became ready. */
bool liveness_was_ready(const struct liveness *l, unsigned slot, unsigned generation);

/* In the writer: it makes progress now. */
void liveness_beat(struct liveness *l);
/* In the master: milliseconds since the writer's last beat (or since
 * liveness_expect_beat), measured on CLOCK_MONOTONIC. */
int64_t liveness_silence_ms(const struct liveness *l);
/* In the master, when it starts a writer: its silence counts from now. */
void liveness_expect_beat(struct liveness *l);

#endif
