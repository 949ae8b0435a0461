/* query.c — form-urlencoded query strings; see include/query.h. */
#include "query.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "text.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void pct_decode(const char *s, size_t len, bool plus_is_space, struct buf *out)
{
    buf_reserve(out, len);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            buf_addc(out, (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2])));
            i += 2;
        } else if (s[i] == '+' && plus_is_space) {
            buf_addc(out, ' ');
        } else {
            buf_addc(out, s[i]);
        }
    }
}

void query_parse(struct query *q, const char *qs)
{
    q->params = NULL;
    q->count = 0;
    q->too_many = false;
    if (!qs)
        return;
    size_t cap = 0;
    const char *p = qs;
    while (*p) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len && q->count == QUERY_MAX_PARAMS) {
            q->too_many = true;
            break;
        }
        if (len) {
            const char *eq = memchr(p, '=', len);
            size_t nlen = eq ? (size_t)(eq - p) : len;
            struct buf name = BUF_INIT, value = BUF_INIT;
            pct_decode(p, nlen, true, &name);
            if (eq)
                pct_decode(eq + 1, len - nlen - 1, true, &value);
            else
                buf_reserve(&value, 0);
            if (q->count == cap) {
                cap = cap ? cap * 2 : 8;
                q->params = realloc(q->params, cap * sizeof *q->params);
                if (!q->params)
                    abort();
            }
            q->params[q->count].name = name.data;
            q->params[q->count].value = value.data;
            q->params[q->count].value_len = value.len;
            q->count++;
        }
        if (!end)
            break;
        p = end + 1;
    }
}

void query_free(struct query *q)
{
    for (size_t i = 0; i < q->count; i++) {
        free(q->params[i].name);
        free(q->params[i].value);
    }
    free(q->params);
    q->params = NULL;
    q->count = 0;
}

static const struct query_param *nth(const struct query *q, const char *name, size_t k)
{
    for (size_t i = 0; i < q->count; i++)
        if (strcmp(q->params[i].name, name) == 0 && k-- == 0)
            return &q->params[i];
    return NULL;
}

const char *query_next(const struct query *q, const char *name, size_t *at)
{
    for (; *at < q->count; (*at)++)
        if (strcmp(q->params[*at].name, name) == 0)
            return q->params[(*at)++].value;
    return NULL;
}

const char *query_get(const struct query *q, const char *name, struct problem *p)
{
    const struct query_param *qp = nth(q, name, 0);
    if (!qp)
        return NULL;
    if (nth(q, name, 1)) {
        problem_bad_query(p, name, "is given more than once");
        return NULL;
    }
    if (memchr(qp->value, '\0', qp->value_len) || !text_valid_utf8(qp->value, qp->value_len)) {
        problem_bad_query(p, name, "is not valid UTF-8 text");
        return NULL;
    }
    return qp->value;
}

const char *query_get_text(const struct query *q, const char *name, size_t *len, struct problem *p)
{
    const struct query_param *qp = nth(q, name, 0);
    if (!qp)
        return NULL;
    if (nth(q, name, 1)) {
        problem_bad_query(p, name, "is given more than once");
        return NULL;
    }
    if (!text_valid_utf8(qp->value, qp->value_len)) {
        problem_bad_query(p, name, "is not valid UTF-8 text");
        return NULL;
    }
    *len = qp->value_len;
    return qp->value;
}

bool query_bool(const struct query *q, const char *name, bool *out, struct problem *p)
{
    const char *v = query_get(q, name, p);
    if (!v)
        return false;
    if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0) {
        *out = true;
        return true;
    }
    if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0) {
        *out = false;
        return true;
    }
    problem_bad_query(p, name, "must be true or false");
    return false;
}

bool query_uint_range(const struct query *q, const char *name, uint64_t min, uint64_t max,
                      uint64_t *out, struct problem *p)
{
    const char *v = query_get(q, name, p);
    if (!v)
        return false;
    uint64_t n = 0;
    bool ok = *v != '\0';
    for (const char *c = v; ok && *c; c++) {
        uint64_t d = (uint64_t)(*c - '0');
        /* n * 10 + d stays within UINT64_MAX exactly when n <= (UINT64_MAX - d) / 10. */
        if (*c < '0' || *c > '9' || n > (UINT64_MAX - d) / 10)
            ok = false;
        else
            n = n * 10 + d;
    }
    if (!ok || n < min || n > max) {
        problem_bad_query(p, name, "must be a whole number from %llu to %llu",
                          (unsigned long long)min, (unsigned long long)max);
        return false;
    }
    *out = n;
    return true;
}

bool query_uint(const struct query *q, const char *name, uint64_t max, uint64_t *out,
                struct problem *p)
{
    return query_uint_range(q, name, 0, max, out, p);
}
