/*
 * writer.h — the writer process: group commit for the workers' writes.
 *
 * The master starts it beside the workers (API.md §8 process model) and
 * restarts it like one.  Each worker connects to it (include/write_relay.h)
 * and sends the write requests it receives; the writer takes one request
 * from every connection that has one, applies them in one transaction with
 * a single flush pair (include/write_batch.h), and replies to all of them.
 * While it flushes, the next requests queue on their connections, so the
 * busier the service, the larger the batches: the cost of a flush is
 * shared by every request that waited for it.
 *
 * Connections from another user are refused (SO_PEERCRED).  On SIGTERM it
 * stops accepting, applies what its connections still hold, and stops.
 */
#ifndef GROUPD_WRITER_H
#define GROUPD_WRITER_H

#include "app.h"
#include "store.h"

/* The most connections (workers) one writer serves. */
#define WRITER_MAX_CLIENTS 512

/* The writer opens the store STORE_WRITES_COPIED (store.h): LMDB keeps the
 * copies of the pages a transaction changed for the next one until the
 * environment is closed, so a batch that changed many pages would hold
 * that memory for good.  After a batch that carried more than this many
 * bytes (request and reply bodies), the writer opens the store again
 * (store_reopen) and trims its heap, as a worker trims after a big request. */
#define WRITER_GIVE_BACK_AT ((size_t)1 << 20)

/* 1: it gave memory back; 0: the batch was small; -1: the store could not
 * be opened again (the writer stops, and the master starts another). */
int writer_give_back(struct store *s, size_t carried);

/* Accepts on listen_fd (write_relay_listen: the master made it and holds
 * it, so no other process can take its name while no writer runs, and
 * connections made meanwhile wait for the next writer) and serves until
 * stop_fd (a signalfd of the stop signals) is readable.  It beats
 * (liveness.h) at least every LIVENESS_BEAT_MS and before each request
 * it applies.  A request whose worker closed its connection before the
 * writer took it (the worker gave up waiting) is dropped unapplied. */
int writer_serve(int listen_fd, struct app *app, int stop_fd);

#endif
