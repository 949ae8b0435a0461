/*
 * server.h — groupd's process model (API.md §8).
 *
 * With --listen, a master opens the socket and keeps --workers worker
 * processes accepting on it: a worker that dies is replaced; SIGHUP
 * replaces the workers one at a time (the new one is accepting before the
 * old one is asked to stop, so no request is dropped); SIGTERM or SIGINT
 * stops accepting, lets requests in flight finish and exits 0.
 * Without --listen, one process serves the socket it was given on fd 0
 * (mod_fcgid, spawn-fcgi) and stops the same way on SIGTERM.
 *
 * Each worker opens the LMDB environment itself, after fork.
 */
#ifndef GROUPD_SERVER_H
#define GROUPD_SERVER_H

#include "config.h"

/* Runs until stopped; returns the process exit status. */
int server_run(const struct config *cfg);

#endif
