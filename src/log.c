/* log.c — access and error log lines; see include/log.h. */
#include "log.h"

#include <fcntl.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"

static int log_fd = 2;
static struct buf pending; /* access lines not yet written */

int log_open(const char *path)
{
    if (!path)
        return 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    log_fd = fd;
    return 0;
}

static void emit(struct buf *line)
{
    buf_addc(line, '\n');
    ssize_t n = write(log_fd, line->data, line->len);
    (void)n; /* nowhere to report a failing log */
    buf_free(line);
}

void log_request(const char *method, const char *path, int status, size_t bytes, long long usec,
                 const char *request_id)
{
    char now[ISO_TIME_LEN + 1];
    clock_format_iso(clock_now_ms(), now);
    /* By hand, not buf_addf: one line per request is on every request's path. */
    buf_add(&pending, now, ISO_TIME_LEN);
    buf_addc(&pending, ' ');
    buf_adds(&pending, method);
    buf_addc(&pending, ' ');
    buf_adds(&pending, path);
    buf_addc(&pending, ' ');
    buf_add_u64(&pending, status > 0 ? (uint64_t)status : 0);
    buf_addc(&pending, ' ');
    buf_add_u64(&pending, bytes);
    buf_addc(&pending, ' ');
    buf_add_u64(&pending, usec > 0 ? (uint64_t)usec : 0);
    buf_add(&pending, "us ", 3);
    buf_adds(&pending, request_id);
    buf_addc(&pending, '\n');
    if (pending.len >= LOG_FLUSH_AT)
        log_flush();
}

bool log_pending(void)
{
    return pending.len > 0;
}

void log_flush(void)
{
    if (!pending.len)
        return;
    ssize_t n = write(log_fd, pending.data, pending.len);
    (void)n; /* nowhere to report a failing log */
    buf_reset(&pending);
}

void log_message(const char *fmt, ...)
{
    char now[ISO_TIME_LEN + 1], text[1024];
    clock_format_iso(clock_now_ms(), now);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    struct buf line = BUF_INIT;
    buf_addf(&line, "%s groupd[%d]: %s", now, (int)getpid(), text);
    log_flush(); /* keep the order of events */
    emit(&line);
}

void log_store_error(const char *request_id, const char *what, int rc)
{
    log_message("request %s: %s failed: %s", request_id, what, mdb_strerror(rc));
}
