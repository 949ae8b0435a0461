/*
 * multipart.h — finding one part of a multipart/form-data body (RFC 7578).
 *
 * Only what an upload form or curl -F sends is needed: the
 * boundary from the Content-Type, parts separated by CRLF and "--boundary",
 * part headers up to an empty line, and a Content-Disposition naming the
 * field.  The part's bytes are returned where they lie in the body.
 */
#ifndef GROUPD_MULTIPART_H
#define GROUPD_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

/* Finds the part whose field name is `name`.  Returns NULL and sets
 * out and out_len on success, or a message saying what is wrong. */
const char *multipart_find(const char *content_type, char *body, size_t len, const char *name,
                           char **out, size_t *out_len);

#endif
