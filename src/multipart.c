/* multipart.c — one field of a multipart/form-data body; see include/multipart.h. */
#include "multipart.h"

#include <string.h>
#include <strings.h>

#define BOUNDARY_MAX 70

/* Finds parameter `name` in a header value "type; a=b; name="v"" and
 * copies its value (unquoted) to out.  False when absent or too long. */
static bool header_param(const char *value, const char *end, const char *name, char *out,
                         size_t out_size)
{
    size_t nlen = strlen(name);
    const char *p = value;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        if (!semi)
            return false;
        p = semi + 1;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if ((size_t)(end - p) <= nlen || strncasecmp(p, name, nlen) != 0 || p[nlen] != '=')
            continue;
        p += nlen + 1;
        size_t n = 0;
        if (p < end && *p == '"') {
            p++;
            while (p < end && *p != '"' && n + 1 < out_size)
                out[n++] = *p++;
            if (p >= end || *p != '"')
                return false;
        } else {
            while (p < end && *p != ';' && *p != ' ' && *p != '\t' && n + 1 < out_size)
                out[n++] = *p++;
            if (p < end && *p != ';' && *p != ' ' && *p != '\t')
                return false;
        }
        out[n] = '\0';
        return n > 0;
    }
    return false;
}

/* The field name of a part from its headers [h, end), into name. */
static bool part_name(const char *h, const char *end, char *name, size_t size)
{
    while (h < end) {
        const char *eol = memchr(h, '\n', (size_t)(end - h));
        const char *line_end = eol ? eol : end;
        static const char cd[] = "content-disposition:";
        if ((size_t)(line_end - h) > sizeof cd - 1 && strncasecmp(h, cd, sizeof cd - 1) == 0) {
            const char *stop = line_end;
            if (stop > h && stop[-1] == '\r')
                stop--;
            return header_param(h, stop, "name", name, size);
        }
        h = eol ? eol + 1 : end;
    }
    return false;
}

const char *multipart_find(const char *content_type, char *body, size_t len, const char *name,
                           char **out, size_t *out_len)
{
    char boundary[BOUNDARY_MAX + 1];
    const char *ct_end = content_type + strlen(content_type);
    if (!header_param(content_type, ct_end, "boundary", boundary, sizeof boundary))
        return "the multipart Content-Type has no boundary parameter";
    char delim[BOUNDARY_MAX + 3] = "--";
    strcat(delim, boundary);
    size_t dlen = strlen(delim);
    const char *end = body + len;

    /* The first delimiter starts the body or a line. */
    char *p = body;
    if (!(len >= dlen && memcmp(body, delim, dlen) == 0)) {
        char *d = memmem(body, len, delim, dlen);
        while (d && d[-1] != '\n')
            d = memmem(d + 1, (size_t)(end - d - 1), delim, dlen);
        if (!d)
            return "the multipart body does not contain its boundary";
        p = d;
    }
    for (;;) {
        p += dlen;
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return "the multipart body has no part named \"file\"";
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p < end && *p == '\r')
            p++;
        if (p >= end || *p != '\n')
            return "the multipart body is malformed after a boundary";
        p++;
        /* Headers end at an empty line. */
        char *headers = p, *content = NULL;
        for (char *q = p; q < end;) {
            char *eol = memchr(q, '\n', (size_t)(end - q));
            if (!eol)
                break;
            if (eol == q || (eol == q + 1 && *q == '\r')) {
                content = eol + 1;
                break;
            }
            q = eol + 1;
        }
        if (!content)
            return "a multipart part has no end of headers";
        /* The content runs to the next line that starts with the delimiter. */
        char *next = memmem(content, (size_t)(end - content), delim, dlen);
        while (next && next > content && next[-1] != '\n')
            next = memmem(next + 1, (size_t)(end - next - 1), delim, dlen);
        if (next == content)
            next = NULL; /* the delimiter must follow a line end */
        if (!next)
            return "the multipart body ends before its closing boundary";
        char *content_end = next - 1; /* drop the line end before the delimiter */
        if (content_end > content && content_end[-1] == '\r')
            content_end--;
        char field[256];
        if (part_name(headers, content, field, sizeof field) && strcmp(field, name) == 0) {
            *out = content;
            *out_len = (size_t)(content_end - content);
            return NULL;
        }
        p = next;
    }
}
