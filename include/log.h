/*
 * log.h — the access log and error lines.
 *
 * One line per request: time, method, path, status, body bytes,
 * microseconds, request id.  Access lines are gathered and written
 * LOG_FLUSH_AT bytes at a time, or when the worker has been idle for a
 * moment (log_flush, called by the front), or before an error line; each
 * write(2) holds whole lines on a descriptor opened with O_APPEND, so lines
 * from several workers never interleave.  A worker killed by SIGKILL loses
 * the access lines it had not written yet; error lines are written at once.
 */
#ifndef GROUPD_LOG_H
#define GROUPD_LOG_H

#include <stdbool.h>
#include <stddef.h>

#define LOG_FLUSH_AT 16384

/* path NULL: stderr.  Returns 0 or -1 (errno set). */
int log_open(const char *path);
void log_request(const char *method, const char *path, int status, size_t bytes, long long usec,
                 const char *request_id);
/* Writes the gathered access lines. */
void log_flush(void);
bool log_pending(void);
void log_message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Store failures with the request id (the 500's body says only "see the log"). */
void log_store_error(const char *request_id, const char *what, int rc);

#endif
