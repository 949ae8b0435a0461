/*
 * participant.c — participant validation and its JSON form; see
 * include/participant.h.
 */
#include "participant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "email.h"
#include "csv.h"
#include "jsonin.h"
#include "text.h"

static void field_name(char *out, size_t size, const char *prefix, const char *member)
{
    snprintf(out, size, "%s%s%s", prefix, prefix[0] ? "." : "", member);
}

/* Adds name to the label list unless it is there already. */
static void label_add(struct participant *v, char *name)
{
    for (size_t i = 0; i < v->n_labels; i++) {
        if (strcmp(v->labels[i], name) == 0) {
            free(name);
            return;
        }
    }
    char **grown = realloc(v->labels, (v->n_labels + 1) * sizeof *grown);
    if (!grown)
        abort();
    v->labels = grown;
    v->labels[v->n_labels++] = name;
}

static void labels_free(char **labels, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(labels[i]);
    free(labels);
}

/* Checks one e-mail value (already taken as text) into *out. */
static bool check_email(const char *s, size_t len, const char *field, char **out, struct problem *p)
{
    if (!jsonin_check_text(s, len, field, 1, EMAIL_MAX, out, p))
        return false;
    const char *why = email_problem(*out, strlen(*out));
    if (why) {
        problem_invalid(p, field, "%s", why);
        free(*out);
        *out = NULL;
        return false;
    }
    return true;
}

static bool check_external_id(const char *field, char *v, struct problem *p)
{
    if (v && text_has_control(v, strlen(v))) {
        problem_invalid(p, field, "must not contain control characters");
        return false;
    }
    return true;
}

static bool parse_labels(struct json_object *arr, const char *field, struct participant *v,
                         struct problem *p)
{
    if (!json_object_is_type(arr, json_type_array)) {
        problem_invalid(p, field, "must be an array of {\"name\": ...} objects");
        return false;
    }
    size_t n = json_object_array_length(arr);
    if (n > PARTICIPANT_LABELS_MAX) {
        problem_invalid(p, field, "must have at most %d entries", PARTICIPANT_LABELS_MAX);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        struct json_object *item = json_object_array_get_idx(arr, i);
        char f[200];
        snprintf(f, sizeof f, "%s[%zu].name", field, i);
        char *name = NULL;
        enum jsonin_state st = json_object_is_type(item, json_type_object)
                                   ? jsonin_string(item, "name", f, 1, LABEL_NAME_MAX, &name, p)
                                   : JSONIN_INVALID;
        if (!json_object_is_type(item, json_type_object))
            problem_invalid(p, f, "is required: a label is an object {\"name\": ...}");
        else if (st == JSONIN_ABSENT || st == JSONIN_NULL)
            problem_invalid(p, f, "is required");
        if (st != JSONIN_VALUE) {
            ok = false;
            continue;
        }
        label_add(v, name);
    }
    return ok;
}

bool participant_patch_parse(struct json_object *obj, const char *prefix, unsigned required,
                             struct participant_patch *patch, struct problem *p)
{
    memset(patch, 0, sizeof *patch);
    size_t before = p->entries;
    struct participant *v = &patch->v;
    char f[160];
    if (!json_object_is_type(obj, json_type_object)) {
        problem_invalid(p, prefix[0] ? prefix : "body", "must be an object");
        return false;
    }
    struct json_object *val;

    field_name(f, sizeof f, prefix, "email");
    bool given = json_object_object_get_ex(obj, "email", &val);
    if (given && val) {
        if (!json_object_is_type(val, json_type_string))
            problem_invalid(p, f, "must be a string");
        else if (check_email(json_object_get_string(val), (size_t)json_object_get_string_len(val),
                             f, &v->email, p))
            patch->present |= PM_EMAIL;
    } else if (given) {
        problem_invalid(p, f, "is required and cannot be null");
    } else if (required & PM_EMAIL) {
        problem_invalid(p, f, "is required");
    }

    /* name: null clears it to "" (its absent value). */
    field_name(f, sizeof f, prefix, "name");
    switch (jsonin_string(obj, "name", f, 0, PARTICIPANT_NAME_MAX, &v->name, p)) {
    case JSONIN_VALUE: patch->present |= PM_NAME; break;
    case JSONIN_NULL:
        v->name = xstrdup("");
        patch->present |= PM_NAME;
        break;
    default: break;
    }

    field_name(f, sizeof f, prefix, "externalId");
    enum jsonin_state st =
        jsonin_string(obj, "externalId", f, 1, PARTICIPANT_EXTERNAL_ID_MAX, &v->external_id, p);
    if (st == JSONIN_VALUE && check_external_id(f, v->external_id, p))
        patch->present |= PM_EXTERNAL_ID;
    else if (st == JSONIN_NULL)
        patch->present |= PM_EXTERNAL_ID;
    if ((required & PM_EXTERNAL_ID) && (st == JSONIN_ABSENT || st == JSONIN_NULL))
        problem_invalid(p, f, st == JSONIN_NULL ? "is required and cannot be null" : "is required");

    field_name(f, sizeof f, prefix, "labels");
    if (json_object_object_get_ex(obj, "labels", &val))
        if (!val || parse_labels(val, f, v, p))
            patch->present |= PM_LABELS;

    field_name(f, sizeof f, prefix, "integrations");
    if (json_object_object_get_ex(obj, "integrations", &val))
        if (!val || integrations_parse(val, f, &v->integrations, &v->n_integrations, p))
            patch->present |= PM_INTEGRATIONS;
    return p->entries == before;
}

bool participant_patch_from_text(const struct participant_text *t, struct participant_patch *patch,
                                 struct problem *p)
{
    memset(patch, 0, sizeof *patch);
    patch->line = p->line;
    size_t before = p->entries;
    struct participant *v = &patch->v;
    if (csv_cell_given(t->email, t->email_len)) {
        if (check_email(t->email, t->email_len, "email", &v->email, p))
            patch->present |= PM_EMAIL;
    } else {
        problem_invalid(p, "email", "is required");
    }
    if (csv_cell_given(t->name, t->name_len) &&
        jsonin_check_text(t->name, t->name_len, "name", 0, PARTICIPANT_NAME_MAX, &v->name, p))
        patch->present |= PM_NAME;
    if (csv_cell_given(t->external_id, t->external_id_len) &&
        jsonin_check_text(t->external_id, t->external_id_len, "externalId", 1,
                          PARTICIPANT_EXTERNAL_ID_MAX, &v->external_id, p) &&
        check_external_id("externalId", v->external_id, p))
        patch->present |= PM_EXTERNAL_ID;
    if (csv_cell_given(t->labels, t->labels_len)) {
        /* Pieces that are empty after trimming ("a||b", a trailing '|')
         * are skipped: spreadsheet formulas leave them. */
        bool ok = true;
        const char *s = t->labels, *end = t->labels + t->labels_len;
        /* Refused at the first label past the limit: a label is compared
         * with at most PARTICIPANT_LABELS_MAX others, so a cell of any
         * size costs time linear in its length. */
        while (s <= end && ok) {
            const char *bar = memchr(s, '|', (size_t)(end - s));
            const char *stop = bar ? bar : end;
            size_t len = (size_t)(stop - s);
            const char *trimmed = text_valid_utf8(s, len) ? text_trim(s, &len) : s;
            if (len) {
                char *name;
                ok = jsonin_check_text(trimmed, len, "labels", 1, LABEL_NAME_MAX, &name, p);
                if (ok)
                    label_add(v, name);
            }
            if (ok && v->n_labels > PARTICIPANT_LABELS_MAX) {
                problem_invalid(p, "labels", "must have at most %d entries",
                                PARTICIPANT_LABELS_MAX);
                ok = false;
            }
            s = stop + 1;
        }
        if (ok)
            patch->present |= PM_LABELS;
    }
    return p->entries == before;
}

static bool labels_equal(const struct participant *a, const struct participant *b)
{
    if (a->n_labels != b->n_labels)
        return false;
    for (size_t i = 0; i < a->n_labels; i++)
        if (strcmp(a->labels[i], b->labels[i]) != 0)
            return false;
    return true;
}

static void labels_copy(struct participant *dst, const struct participant *src)
{
    dst->n_labels = src->n_labels;
    dst->labels = NULL;
    if (!src->n_labels)
        return;
    dst->labels = calloc(src->n_labels, sizeof *dst->labels);
    if (!dst->labels)
        abort();
    for (size_t i = 0; i < src->n_labels; i++)
        dst->labels[i] = xstrdup(src->labels[i]);
}

bool participant_patch_apply(struct participant *pt, const struct participant_patch *patch)
{
    const struct participant *v = &patch->v;
    bool changed = false;
    if (patch->present & PM_EMAIL)
        changed |= str_set(&pt->email, v->email);
    if (patch->present & PM_NAME)
        changed |= str_set(&pt->name, v->name);
    if (!pt->name)
        pt->name = xstrdup("");
    if (patch->present & PM_EXTERNAL_ID)
        changed |= str_set(&pt->external_id, v->external_id);
    if ((patch->present & PM_LABELS) && !labels_equal(pt, v)) {
        labels_free(pt->labels, pt->n_labels);
        labels_copy(pt, v);
        changed = true;
    }
    if ((patch->present & PM_INTEGRATIONS) &&
        !integrations_equal(pt->integrations, pt->n_integrations, v->integrations,
                            v->n_integrations)) {
        integrations_free(pt->integrations, pt->n_integrations);
        integrations_copy(&pt->integrations, &pt->n_integrations, v->integrations,
                          v->n_integrations);
        changed = true;
    }
    return changed;
}

void participant_patch_free(struct participant_patch *patch)
{
    participant_free(&patch->v);
}

static bool plain(const char *s)
{
    return !s || json_plain(s, strlen(s));
}

bool participant_plain(const struct participant *pt)
{
    bool ok = plain(pt->email) && plain(pt->name) && plain(pt->external_id) &&
              plain(pt->created_by) && plain(pt->modified_by);
    for (size_t i = 0; ok && i < pt->n_labels; i++)
        ok = plain(pt->labels[i]);
    for (size_t i = 0; ok && i < pt->n_integrations; i++)
        ok = plain(pt->integrations[i].type) && plain(pt->integrations[i].id);
    return ok;
}

/* A string, escaped unless the record has said it needs no escape.  These
 * two are always inlined: a literal member name's length then folds, as in
 * buf.h's appends (out of line, they were a third of a participant's cost). */
static inline __attribute__((always_inline)) void add_string(struct buf *out, const char *s,
                                                             bool verbatim)
{
    if (verbatim)
        buf_add_quoted(out, s, strlen(s));
    else
        buf_add_json_string(out, s, strlen(s));
}

/* buf_add_member_string, with the record's word on escaping. */
static inline __attribute__((always_inline)) void add_member(struct buf *out, const char *name,
                                                             const char *value, bool verbatim)
{
    if (!verbatim || !value) {
        buf_add_member_string(out, name, value);
        return;
    }
    buf_add_member(out, name);
    buf_add_quoted(out, value, strlen(value));
}

void participant_write_json(const struct participant *pt, struct buf *out)
{
    char created[ISO_TIME_LEN + 1], updated[ISO_TIME_LEN + 1];
    bool verbatim = pt->json_plain;
    clock_format_iso(pt->created_at, created);
    clock_format_iso(pt->updated_at, updated);
    buf_adds(out, "{\"id\":");
    buf_add_u64(out, pt->id);
    buf_adds(out, ",\"group\":");
    buf_add_u64(out, pt->group);
    add_member(out, "email", pt->email, verbatim);
    add_member(out, "name", pt->name ? pt->name : "", verbatim);
    add_member(out, "externalId", pt->external_id, verbatim);
    buf_adds(out, ",\"labels\":[");
    for (size_t i = 0; i < pt->n_labels; i++) {
        buf_adds(out, i ? ",{\"name\":" : "{\"name\":");
        add_string(out, pt->labels[i], verbatim);
        buf_addc(out, '}');
    }
    buf_addc(out, ']');
    integrations_write_json(pt->integrations, pt->n_integrations, out);
    buf_adds(out, ",\"deleted\":false");
    add_member(out, "createdBy", pt->created_by, verbatim);
    add_member(out, "modifiedBy", pt->modified_by[0] ? pt->modified_by : NULL, verbatim);
    buf_adds(out, ",\"createdAt\":\"");
    buf_add(out, created, ISO_TIME_LEN);
    buf_adds(out, "\",\"updatedAt\":\"");
    buf_add(out, updated, ISO_TIME_LEN);
    buf_adds(out, "\"}");
}

void participant_copy(struct participant *dst, const struct participant *src)
{
    *dst = *src;
    dst->json_plain = false;
    dst->email = xstrdup(src->email);
    dst->name = xstrdup(src->name);
    dst->external_id = xstrdup(src->external_id);
    labels_copy(dst, src);
    integrations_copy(&dst->integrations, &dst->n_integrations, src->integrations,
                      src->n_integrations);
}

void participant_free(struct participant *pt)
{
    free(pt->email);
    free(pt->name);
    free(pt->external_id);
    labels_free(pt->labels, pt->n_labels);
    integrations_free(pt->integrations, pt->n_integrations);
    memset(pt, 0, sizeof *pt);
}

/* ---- lists ---- */

struct keyed {
    const char *key;
    size_t len;
    size_t index;
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);
    if (c)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Reports every entry whose e-mail (case-insensitively) or externalId
 * repeats an earlier entry's. */
static void check_repeats(const struct participant_patch *v, size_t n, const char *field,
                          struct problem *p)
{
    struct keyed *k = calloc(n ? n : 1, sizeof *k);
    struct buf folded = BUF_INIT;
    if (!k)
        abort();
    for (int pass = 0; pass < 2; pass++) {
        size_t m = 0;
        buf_reset(&folded);
        for (size_t i = 0; i < n; i++) {
            const char *s = pass == 0 ? v[i].v.email : v[i].v.external_id;
            if (!s)
                continue;
            k[m].index = i;
            k[m].key =
                (const char *)(uintptr_t)folded.len; /* an offset until folded stops moving */
            if (pass == 0)
                email_key(s, strlen(s), &folded);
            else
                buf_adds(&folded, s);
            k[m].len = folded.len - (size_t)(uintptr_t)k[m].key;
            m++;
        }
        for (size_t i = 0; i < m; i++)
            k[i].key = folded.data + (uintptr_t)k[i].key;
        qsort(k, m, sizeof *k, cmp_keyed);
        const char *member = pass == 0 ? "email" : "externalId";
        /* Sorted by key then index: the first of a run is the earliest. */
        size_t first = 0;
        for (size_t i = 1; i < m; i++) {
            if (k[i].len != k[i - 1].len || memcmp(k[i].key, k[i - 1].key, k[i].len) != 0) {
                first = i;
                continue;
            }
            char f[200];
            snprintf(f, sizeof f, "%s[%zu].%s", field, k[i].index, member);
            problem_invalid(p, f, "repeats %s[%zu].%s", field, k[first].index, member);
        }
    }
    buf_free(&folded);
    free(k);
}

bool participant_list_parse(struct json_object *arr, const char *field, unsigned required,
                            struct participant_patch **out, size_t *n_out, struct problem *p)
{
    *out = NULL;
    *n_out = 0;
    if (!json_object_is_type(arr, json_type_array)) {
        problem_invalid(p, field, "must be an array");
        return false;
    }
    size_t before = p->entries, n = json_object_array_length(arr);
    struct participant_patch *v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        abort();
    for (size_t i = 0; i < n; i++) {
        char f[160];
        snprintf(f, sizeof f, "%s[%zu]", field, i);
        participant_patch_parse(json_object_array_get_idx(arr, i), f, required, &v[i], p);
    }
    if (p->entries == before)
        check_repeats(v, n, field, p);
    *out = v;
    *n_out = n;
    return p->entries == before;
}

void participant_list_free(struct participant_patch *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        participant_patch_free(&v[i]);
    free(v);
}
