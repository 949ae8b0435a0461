/*
 * log.h — the access log and error lines.
 *
 * One line per request: time, method, path, status, body bytes,
 * microseconds, request id.  Each line is one write(2) on a descriptor
 * opened with O_APPEND, so lines from several workers never interleave.
 */
#ifndef GROUPD_LOG_H
#define GROUPD_LOG_H

#include <stddef.h>

/* path NULL: stderr.  Returns 0 or -1 (errno set). */
int log_open(const char *path);
void log_request(const char *method, const char *path, int status, size_t bytes, long long usec,
                 const char *request_id);
void log_message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Store failures with the request id (the 500's body says only "see the log"). */
void log_store_error(const char *request_id, const char *what, int rc);

#endif
