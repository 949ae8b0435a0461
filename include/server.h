/*
 * server.h — groupd's process model (API.md §8).
 *
 * With --listen, a master opens the socket and keeps --workers worker
 * processes accepting on it: a worker that dies is replaced; SIGHUP
 * replaces the workers one at a time (the new one is accepting before the
 * old one is asked to stop, so no request is dropped) after reading the
 * configuration again; SIGTERM or SIGINT removes the unix socket (no new
 * connections), lets the workers answer every connection already made and
 * the writer apply what they sent, and exits 0 within 30 s.  A second
 * groupd on a unix socket that a live one listens on refuses to start.
 * Without --listen, one process serves the socket it was given on fd 0
 * (mod_fcgid, spawn-fcgi) and stops the same way on SIGTERM.
 *
 * Each worker opens the LMDB environment itself, after fork.
 */
#ifndef GROUPD_SERVER_H
#define GROUPD_SERVER_H

#include "config.h"

/* Runs until stopped; returns the process exit status.  argc and argv are
 * the command line cfg was parsed from: SIGHUP reads them (and the config
 * file) again. */
int server_run(struct config *cfg, int argc, char **argv);

#endif
