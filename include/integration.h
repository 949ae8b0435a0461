/*
 * integration.h — `integrations`: {type, id} string pairs that groups and
 * participants carry for other systems (an LTI course, a SIS id), and the
 * small string helpers the resource models share.
 */
#ifndef GROUPD_INTEGRATION_H
#define GROUPD_INTEGRATION_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "problem.h"

#define INTEGRATIONS_MAX 20
#define INTEGRATION_FIELD_MAX 255

struct integration {
    char *type;
    char *id;
};

/* Reads a JSON array of at most INTEGRATIONS_MAX {type, id} objects;
 * problems are reported under `field` ("integrations",
 * "participants[3].integrations").  On false *v may hold a partial list
 * (free it). */
bool integrations_parse(struct json_object *arr, const char *field, struct integration **v,
                        size_t *n, struct problem *p);
bool integrations_equal(const struct integration *a, size_t na, const struct integration *b,
                        size_t nb);
void integrations_copy(struct integration **dst, size_t *ndst, const struct integration *src,
                       size_t n);
void integrations_free(struct integration *v, size_t n);
/* Appends ,"integrations":[...] */
void integrations_write_json(const struct integration *v, size_t n, struct buf *out);

/* strdup that aborts on ENOMEM and passes NULL through. */
char *xstrdup(const char *s);
/* Equal strings, or both NULL. */
bool str_eq(const char *a, const char *b);
/* Replaces *dst with a copy of src; true when the value changed. */
bool str_set(char **dst, const char *src);

#endif
