/* integration.c — {type, id} pairs and shared string helpers; see include/integration.h. */
#include "integration.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonin.h"

char *xstrdup(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

bool str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

bool str_set(char **dst, const char *src)
{
    if (str_eq(*dst, src))
        return false;
    free(*dst);
    *dst = xstrdup(src);
    return true;
}

void integrations_free(struct integration *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].type);
        free(v[i].id);
    }
    free(v);
}

static bool required_string(struct json_object *obj, const char *name, const char *field,
                            char **out, struct problem *p)
{
    enum jsonin_state st = jsonin_string(obj, name, field, 1, INTEGRATION_FIELD_MAX, out, p);
    if (st == JSONIN_ABSENT || st == JSONIN_NULL)
        problem_invalid(p, field, "is required");
    return st == JSONIN_VALUE;
}

bool integrations_parse(struct json_object *arr, const char *field, struct integration **v,
                        size_t *n_out, struct problem *p)
{
    *v = NULL;
    *n_out = 0;
    if (!json_object_is_type(arr, json_type_array)) {
        problem_invalid(p, field, "must be an array");
        return false;
    }
    size_t n = json_object_array_length(arr);
    if (n > INTEGRATIONS_MAX) {
        problem_invalid(p, field, "must have at most %d entries", INTEGRATIONS_MAX);
        return false;
    }
    *v = n ? calloc(n, sizeof **v) : NULL;
    if (n && !*v)
        abort();
    *n_out = n;
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        struct json_object *item = json_object_array_get_idx(arr, i);
        char f[160], tf[170], idf[170];
        snprintf(f, sizeof f, "%s[%zu]", field, i);
        if (!json_object_is_type(item, json_type_object)) {
            problem_invalid(p, f, "must be an object with type and id");
            ok = false;
            continue;
        }
        snprintf(tf, sizeof tf, "%s.type", f);
        snprintf(idf, sizeof idf, "%s.id", f);
        ok &= required_string(item, "type", tf, &(*v)[i].type, p);
        ok &= required_string(item, "id", idf, &(*v)[i].id, p);
    }
    return ok;
}

bool integrations_equal(const struct integration *a, size_t na, const struct integration *b,
                        size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (!str_eq(a[i].type, b[i].type) || !str_eq(a[i].id, b[i].id))
            return false;
    return true;
}

void integrations_copy(struct integration **dst, size_t *ndst, const struct integration *src,
                       size_t n)
{
    *ndst = n;
    *dst = NULL;
    if (!n)
        return;
    *dst = calloc(n, sizeof **dst);
    if (!*dst)
        abort();
    for (size_t i = 0; i < n; i++) {
        (*dst)[i].type = xstrdup(src[i].type);
        (*dst)[i].id = xstrdup(src[i].id);
    }
}

void integrations_write_json(const struct integration *v, size_t n, struct buf *out)
{
    buf_adds(out, ",\"integrations\":[");
    for (size_t i = 0; i < n; i++) {
        buf_adds(out, i ? ",{\"type\":" : "{\"type\":");
        buf_add_json_string(out, v[i].type, strlen(v[i].type));
        buf_adds(out, ",\"id\":");
        buf_add_json_string(out, v[i].id, strlen(v[i].id));
        buf_addc(out, '}');
    }
    buf_addc(out, ']');
}
