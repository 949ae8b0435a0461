/* problem.c — collecting and rendering contract errors; see include/problem.h. */
#include "problem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void problem_init(struct problem *p)
{
    memset(p, 0, sizeof *p);
}

void problem_free(struct problem *p)
{
    buf_free(&p->message);
    buf_free(&p->context);
}

bool problem_any(const struct problem *p)
{
    return p->status != 0;
}

void problem_set(struct problem *p, int status, const char *code, const char *fmt, ...)
{
    p->status = status;
    p->code = code;
    buf_reset(&p->message);
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    buf_adds(&p->message, text);
}

void problem_add(struct problem *p, int status, const char *code, long line, const char *field,
                 const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);

    if (!p->status) {
        p->status = status;
        p->code = code;
    }
    p->entries++;
    if (p->entries == 1) {
        buf_reset(&p->message);
        if (p->file && line > 0)
            buf_addf(&p->message, "%s line %ld: ", p->file, line);
        else if (p->file)
            buf_addf(&p->message, "%s: ", p->file);
        else if (line > 0)
            buf_addf(&p->message, "line %ld: ", line);
        buf_addf(&p->message, "%s %s", field, text);
    }
    if (p->entries > PROBLEM_MAX_CONTEXT)
        return;
    if (p->context.len)
        buf_addc(&p->context, ',');
    buf_addc(&p->context, '{');
    if (p->file) {
        buf_adds(&p->context, "\"file\":");
        buf_add_json_string(&p->context, p->file, strlen(p->file));
        buf_addc(&p->context, ',');
    }
    if (line > 0)
        buf_addf(&p->context, "\"line\":%ld,", line);
    buf_adds(&p->context, "\"field\":");
    buf_add_json_string(&p->context, field, strlen(field));
    buf_adds(&p->context, ",\"message\":");
    buf_add_json_string(&p->context, text, strlen(text));
    buf_addc(&p->context, '}');
}

void problem_render(const struct problem *p, struct buf *out)
{
    buf_addf(out, "{\"status\":%d,\"errorCode\":", p->status);
    buf_add_json_string(out, p->code, strlen(p->code));
    buf_adds(out, ",\"userMessage\":");
    struct buf msg = BUF_INIT;
    buf_add(&msg, p->message.data ? p->message.data : "", p->message.len);
    if (p->entries > 1)
        buf_addf(&msg, " (and %zu more problem%s)", p->entries - 1, p->entries > 2 ? "s" : "");
    buf_add_json_string(out, msg.data, msg.len);
    buf_free(&msg);
    buf_adds(out, ",\"context\":[");
    if (p->context.len)
        buf_add(out, p->context.data, p->context.len);
    buf_adds(out, "]}");
}

void problem_conflict(struct problem *p, const char *field, uint64_t holder,
                      const char *holder_status)
{
    problem_add(p, 409, "conflict", 0, field, "is already used by group %llu (%s)",
                (unsigned long long)holder, holder_status);
    if (p->entries > PROBLEM_MAX_CONTEXT)
        return;
    /* Name the holder in the entry itself: drop the closing brace, add members. */
    p->context.len--;
    buf_addf(&p->context, ",\"id\":%llu,\"status\":\"%s\"}", (unsigned long long)holder,
             holder_status);
}

void problem_conflict_participant(struct problem *p, long line, const char *field, uint64_t holder)
{
    problem_add(p, 409, "conflict", line, field, "is already used by participant %llu",
                (unsigned long long)holder);
    if (p->entries > PROBLEM_MAX_CONTEXT)
        return;
    p->context.len--;
    buf_addf(&p->context, ",\"id\":%llu}", (unsigned long long)holder);
}

void problem_vinvalid_at(struct problem *p, long line, const char *field, const char *fmt,
                         va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    problem_add(p, 400, p->invalid_code ? p->invalid_code : "validation_failed", line, field, "%s",
                msg);
}

void problem_invalid_at(struct problem *p, long line, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    problem_vinvalid_at(p, line, field, fmt, ap);
    va_end(ap);
}
