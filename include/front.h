/*
 * front.h — the FastCGI front: requests in, replies out, one at a time.
 *
 * front_serve accepts on listen_fd until stop_fd (a signalfd of SIGTERM
 * and SIGINT, both blocked) becomes readable.  It polls that descriptor
 * with its sockets, so a stop is seen between two requests however busy
 * the worker is, and never interrupts one half-way.  It then stops taking
 * new work but answers every connection already waiting for it (on the
 * listen socket's queue, or a kept-alive one holding a request) for up to
 * FRONT_DRAIN_SECONDS: the master has removed the unix socket first, so
 * that queue only shrinks.
 *
 * With a writer, each validated write operation (include/write_op.h) is
 * handed to it (app->relay) and its answer sent back; without one, or when
 * it cannot be reached, the worker applies the operation itself, through
 * the same call.
 */
#ifndef GROUPD_FRONT_H
#define GROUPD_FRONT_H

#include <signal.h>
#include <stddef.h>

#include "app.h"

/* How long a stopping worker goes on answering connections already made. */
#define FRONT_DRAIN_SECONDS 10

struct front_opts {
    size_t max_body;
    int stop_fd;        /* readable: stop (see above) */
    const char *writer; /* the writer's name (write_relay.h); NULL: none */
    long writer_owner;  /* the pid that listens on it (the master); 0: not checked */
};

int front_serve(int listen_fd, struct app *app, const struct front_opts *o);

#endif
