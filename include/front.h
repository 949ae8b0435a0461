/*
 * front.h — the FastCGI front: requests in, replies out, one at a time.
 *
 * front_serve accepts on listen_fd until *stop becomes true.  Signals are
 * let through only while it waits for a connection (ppoll with the
 * caller's blocked set lifted, on a non-blocking listen socket), so a
 * SIGTERM never interrupts a request half-way: the request in flight is
 * answered, then the loop ends.  The caller blocks the signals it handles
 * before calling.
 *
 * With a writer, a write request (app_is_batch_write) is handed to it and
 * its reply sent back; without one, or when it cannot be reached, the
 * worker applies the request itself.
 */
#ifndef GROUPD_FRONT_H
#define GROUPD_FRONT_H

#include <signal.h>
#include <stddef.h>

#include "app.h"

struct front_opts {
    size_t max_body;
    const sigset_t *wait_mask; /* the signal mask while idle */
    const char *writer;        /* the writer's name (write_relay.h); NULL: none */
};

int front_serve(int listen_fd, struct app *app, const struct front_opts *o,
                volatile sig_atomic_t *stop);

#endif
