/*
 * group.c — group validation and its JSON form; see include/group.h.
 *
 * The JSON written here is stored as it is and served by copying, so its
 * member order is the contract's (API.md §3) and it is produced by hand
 * rather than through json-c, which is used only to read it back on the
 * (rare) write path.
 */
#include "group.h"

#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "csv.h"
#include "jsonin.h"
#include "text.h"

enum group_status group_status(const struct group *g)
{
    if (g->deleted)
        return GROUP_DELETED;
    return g->archived ? GROUP_ARCHIVED : GROUP_ACTIVE;
}

const char *group_status_name(enum group_status s)
{
    switch (s) {
    case GROUP_DELETED: return "deleted";
    case GROUP_ARCHIVED: return "archived";
    default: return "active";
    }
}

/* Reads an optional string member into patch: absent leaves it out, null
 * clears it, a value sets it. */
static void optional_string(struct json_object *body, const char *name, unsigned bit, size_t max_cp,
                            char **dst, struct group_patch *patch, struct problem *p)
{
    enum jsonin_state st = jsonin_string(body, name, name, 1, max_cp, dst, p);
    if (st == JSONIN_VALUE || st == JSONIN_NULL)
        patch->present |= bit;
}

bool group_patch_parse(struct json_object *body, bool create, struct group_patch *patch,
                       struct problem *p)
{
    memset(patch, 0, sizeof *patch);
    size_t before = p->entries;
    struct group *v = &patch->v;

    switch (jsonin_string(body, "name", "name", 1, GROUP_NAME_MAX, &v->name, p)) {
    case JSONIN_VALUE: patch->present |= GM_NAME; break;
    case JSONIN_NULL: problem_invalid(p, "name", "is required and cannot be null"); break;
    case JSONIN_ABSENT:
        if (create)
            problem_invalid(p, "name", "is required");
        break;
    case JSONIN_INVALID: break;
    }
    /* An empty description is kept as "" (the member was given). */
    switch (jsonin_string(body, "description", "description", 0, GROUP_DESCRIPTION_MAX,
                          &v->description, p)) {
    case JSONIN_VALUE:
    case JSONIN_NULL: patch->present |= GM_DESCRIPTION; break;
    default: break;
    }
    optional_string(body, "externalId", GM_EXTERNAL_ID, GROUP_EXTERNAL_ID_MAX, &v->external_id,
                    patch, p);
    if (v->external_id && text_has_control(v->external_id, strlen(v->external_id)))
        problem_invalid(p, "externalId", "must not contain control characters");
    optional_string(body, "type", GM_TYPE, GROUP_TYPE_MAX, &v->type, patch, p);
    optional_string(body, "importLockOwner", GM_IMPORT_LOCK_OWNER, GROUP_LOCK_OWNER_MAX,
                    &v->import_lock_owner, patch, p);

    int64_t year;
    switch (jsonin_int(body, "schoolYear", "schoolYear", 1900, 2999, &year, p)) {
    case JSONIN_VALUE:
        v->school_year = (int32_t)year;
        patch->present |= GM_SCHOOL_YEAR;
        break;
    case JSONIN_NULL: patch->present |= GM_SCHOOL_YEAR; break;
    default: break;
    }
    switch (jsonin_bool(body, "importLock", "importLock", &v->import_lock, p)) {
    case JSONIN_VALUE: patch->present |= GM_IMPORT_LOCK; break;
    case JSONIN_NULL: problem_invalid(p, "importLock", "must be true or false, not null"); break;
    default: break;
    }
    struct json_object *integ;
    if (json_object_object_get_ex(body, "integrations", &integ)) {
        if (!integ ||
            integrations_parse(integ, "integrations", &v->integrations, &v->n_integrations, p))
            patch->present |= GM_INTEGRATIONS;
    }
    return p->entries == before;
}

/* An optional text cell into *dst (min_cp code points at least). */
static void text_cell(const char *s, size_t len, const char *field, size_t min_cp, size_t max_cp,
                      unsigned bit, char **dst, struct group_patch *patch, struct problem *p)
{
    if (csv_cell_given(s, len) && jsonin_check_text(s, len, field, min_cp, max_cp, dst, p))
        patch->present |= bit;
}

bool group_patch_from_text(const struct group_text *t, struct group_patch *patch, struct problem *p)
{
    memset(patch, 0, sizeof *patch);
    size_t before = p->entries;
    struct group *v = &patch->v;
    if (!csv_cell_given(t->external_id, t->external_id_len))
        problem_invalid(p, "externalId", "is required");
    text_cell(t->external_id, t->external_id_len, "externalId", 1, GROUP_EXTERNAL_ID_MAX,
              GM_EXTERNAL_ID, &v->external_id, patch, p);
    if (v->external_id && text_has_control(v->external_id, strlen(v->external_id)))
        problem_invalid(p, "externalId", "must not contain control characters");
    text_cell(t->name, t->name_len, "name", 1, GROUP_NAME_MAX, GM_NAME, &v->name, patch, p);
    text_cell(t->description, t->description_len, "description", 0, GROUP_DESCRIPTION_MAX,
              GM_DESCRIPTION, &v->description, patch, p);
    text_cell(t->type, t->type_len, "type", 1, GROUP_TYPE_MAX, GM_TYPE, &v->type, patch, p);
    text_cell(t->import_lock_owner, t->import_lock_owner_len, "importLockOwner", 1,
              GROUP_LOCK_OWNER_MAX, GM_IMPORT_LOCK_OWNER, &v->import_lock_owner, patch, p);
    if (csv_cell_given(t->school_year, t->school_year_len)) {
        size_t len = t->school_year_len;
        const char *s = text_trim(t->school_year, &len);
        int year = 0;
        bool ok = len == 4;
        for (size_t i = 0; ok && i < len; i++) {
            ok = s[i] >= '0' && s[i] <= '9';
            year = year * 10 + (s[i] - '0');
        }
        if (!ok || year < 1900 || year > 2999)
            problem_invalid(p, "schoolYear", "must be a year from 1900 to 2999");
        else {
            v->school_year = year;
            patch->present |= GM_SCHOOL_YEAR;
        }
    }
    if (csv_cell_given(t->import_lock, t->import_lock_len)) {
        size_t len = t->import_lock_len;
        const char *s = text_trim(t->import_lock, &len);
        bool yes = len == 4 && strncasecmp(s, "true", 4) == 0;
        if (yes || (len == 5 && strncasecmp(s, "false", 5) == 0)) {
            v->import_lock = yes;
            patch->present |= GM_IMPORT_LOCK;
        } else {
            problem_invalid(p, "importLock", "must be true or false");
        }
    }
    return p->entries == before;
}

bool group_patch_apply(struct group *g, const struct group_patch *patch)
{
    const struct group *v = &patch->v;
    bool changed = false;
    if (patch->present & GM_NAME)
        changed |= str_set(&g->name, v->name);
    if (patch->present & GM_DESCRIPTION)
        changed |= str_set(&g->description, v->description);
    if (patch->present & GM_EXTERNAL_ID)
        changed |= str_set(&g->external_id, v->external_id);
    if (patch->present & GM_TYPE)
        changed |= str_set(&g->type, v->type);
    if (patch->present & GM_IMPORT_LOCK_OWNER)
        changed |= str_set(&g->import_lock_owner, v->import_lock_owner);
    if ((patch->present & GM_SCHOOL_YEAR) && g->school_year != v->school_year) {
        g->school_year = v->school_year;
        changed = true;
    }
    if ((patch->present & GM_IMPORT_LOCK) && g->import_lock != v->import_lock) {
        g->import_lock = v->import_lock;
        changed = true;
    }
    if ((patch->present & GM_INTEGRATIONS) &&
        !integrations_equal(g->integrations, g->n_integrations, v->integrations,
                            v->n_integrations)) {
        integrations_free(g->integrations, g->n_integrations);
        integrations_copy(&g->integrations, &g->n_integrations, v->integrations, v->n_integrations);
        changed = true;
    }
    return changed;
}

void group_patch_free(struct group_patch *patch)
{
    group_free(&patch->v);
}

static void uuid_v4(char out[37])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    static const char hex[] = "0123456789abcdef";
    char *at = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *at++ = '-';
        *at++ = hex[b[i] >> 4];
        *at++ = hex[b[i] & 0x0F];
    }
    *at = '\0';
}

void group_init_new(struct group *g, const struct group_patch *patch, uint32_t org, uint32_t top,
                    const char *actor, int64_t now)
{
    group_patch_apply(g, patch);
    g->organisation = org;
    g->top_organisation = top;
    uuid_v4(g->key);
    snprintf(g->created_by, sizeof g->created_by, "%s", actor);
    g->created_at = g->updated_at = now;
}

static void add_bool(struct buf *out, const char *member, bool v)
{
    buf_adds(out, member);
    buf_adds(out, v ? "true" : "false");
}

/* Built with appends only: every write renders a group (the record's JSON)
 * and printf's formatting was a fifth of the writer's instructions. */
void group_write_json(const struct group *g, struct buf *out)
{
    char created[ISO_TIME_LEN + 1], updated[ISO_TIME_LEN + 1];
    clock_format_iso(g->created_at, created);
    clock_format_iso(g->updated_at, updated);

    buf_adds(out, "{\"id\":");
    buf_add_u64(out, g->id);
    buf_adds(out, ",\"key\":\"");
    buf_adds(out, g->key);
    buf_addc(out, '"');
    buf_add_member_string(out, "externalId", g->external_id);
    buf_add_member_string(out, "name", g->name);
    buf_add_member_string(out, "description", g->description);
    buf_adds(out, ",\"organisation\":");
    buf_add_u64(out, g->organisation);
    buf_adds(out, ",\"topOrganisation\":");
    buf_add_u64(out, g->top_organisation);
    buf_add_member_string(out, "type", g->type);
    buf_adds(out, ",\"schoolYear\":");
    if (g->school_year > 0)
        buf_add_u64(out, (uint64_t)g->school_year);
    else
        buf_adds(out, "null");
    add_bool(out, ",\"archived\":", g->archived);
    add_bool(out, ",\"deleted\":", g->deleted);
    buf_adds(out, ",\"status\":\"");
    buf_adds(out, group_status_name(group_status(g)));
    buf_addc(out, '"');
    add_bool(out, ",\"importLock\":", g->import_lock);
    buf_add_member_string(out, "importLockOwner", g->import_lock_owner);
    integrations_write_json(g->integrations, g->n_integrations, out);
    buf_add_member_string(out, "createdBy", g->created_by);
    buf_add_member_string(out, "modifiedBy", g->modified_by[0] ? g->modified_by : NULL);
    buf_adds(out, ",\"createdAt\":\"");
    buf_adds(out, created);
    buf_adds(out, "\",\"updatedAt\":\"");
    buf_adds(out, updated);
    buf_adds(out, "\",\"totalParticipants\":");
    buf_add_u64(out, g->total_participants);
    buf_addc(out, '}');
}

const char *const group_field_names[GROUP_FIELDS] = {"id",
                                                     "key",
                                                     "externalId",
                                                     "name",
                                                     "description",
                                                     "organisation",
                                                     "topOrganisation",
                                                     "type",
                                                     "schoolYear",
                                                     "archived",
                                                     "deleted",
                                                     "status",
                                                     "importLock",
                                                     "importLockOwner",
                                                     "integrations",
                                                     "createdBy",
                                                     "modifiedBy",
                                                     "createdAt",
                                                     "updatedAt",
                                                     "totalParticipants"};

int group_field_index(const char *name, size_t len)
{
    for (int i = 0; i < GROUP_FIELDS; i++)
        if (strlen(group_field_names[i]) == len && memcmp(group_field_names[i], name, len) == 0)
            return i;
    return -1;
}

bool group_json_select(const char *json, size_t len, uint32_t fields, struct buf *out)
{
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        abort();
    struct json_object *o = json_tokener_parse_ex(tok, json, (int)len);
    json_tokener_free(tok);
    if (!o || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return false;
    }
    fields |= 1; /* id */
    buf_addc(out, '{');
    bool first = true;
    json_object_object_foreach(o, name, value)
    {
        int i = group_field_index(name, strlen(name));
        if (i < 0 || !(fields & (UINT32_C(1) << i)))
            continue;
        if (!first)
            buf_addc(out, ',');
        first = false;
        buf_add_json_string(out, name, strlen(name));
        buf_addc(out, ':');
        buf_adds(out, json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE));
    }
    buf_addc(out, '}');
    json_object_put(o);
    return true;
}

/* group_write_json puts `,"type":` right after topOrganisation, and every
 * string before it is escaped (a quote inside it is \"), so the first
 * occurrence of that text is the member. */
/* Whether top-level member `name` of the JSON form json has exactly the
 * value text want.  A member name with its quotes, after a comma, cannot
 * occur inside a string value (quotes are escaped there), and every member
 * asked for here comes before the only nested objects (integrations). */
static bool member_is(const char *json, size_t len, const char *name, const struct buf *want)
{
    char tag[40];
    int n = snprintf(tag, sizeof tag, ",\"%s\":", name);
    const char *at = memmem(json, len, tag, (size_t)n);
    if (!at)
        return false;
    at += n;
    size_t rest = len - (size_t)(at - json);
    return rest >= want->len && memcmp(at, want->data, want->len) == 0 &&
           (rest == want->len || at[want->len] == ',' || at[want->len] == '}');
}

static bool string_member_is(const char *json, size_t len, const char *name, const char *v)
{
    struct buf want = BUF_INIT;
    if (v)
        buf_add_json_string(&want, v, strlen(v));
    else
        buf_adds(&want, "null");
    bool same = member_is(json, len, name, &want);
    buf_free(&want);
    return same;
}

bool group_json_type_is(const char *json, size_t len, const char *type)
{
    return string_member_is(json, len, "type", type);
}

bool group_patch_changes_json(const struct group_patch *patch, const char *json, size_t len)
{
    const struct group *v = &patch->v;
    static const struct {
        unsigned bit;
        const char *name;
        size_t offset;
    } strings[] = {
        {GM_NAME, "name", offsetof(struct group, name)},
        {GM_DESCRIPTION, "description", offsetof(struct group, description)},
        {GM_EXTERNAL_ID, "externalId", offsetof(struct group, external_id)},
        {GM_TYPE, "type", offsetof(struct group, type)},
        {GM_IMPORT_LOCK_OWNER, "importLockOwner", offsetof(struct group, import_lock_owner)},
    };
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        const char *value = *(char *const *)((const char *)v + strings[i].offset);
        if ((patch->present & strings[i].bit) &&
            !string_member_is(json, len, strings[i].name, value))
            return true;
    }
    struct buf want = BUF_INIT;
    bool changed = false;
    if (patch->present & GM_SCHOOL_YEAR) {
        if (v->school_year)
            buf_add_u64(&want, (uint64_t)v->school_year);
        else
            buf_adds(&want, "null");
        changed = !member_is(json, len, "schoolYear", &want);
    }
    if (!changed && (patch->present & GM_IMPORT_LOCK)) {
        buf_reset(&want);
        buf_adds(&want, v->import_lock ? "true" : "false");
        changed = !member_is(json, len, "importLock", &want);
    }
    buf_free(&want);
    /* Integrations are compared on the model only. */
    return changed || (patch->present & GM_INTEGRATIONS);
}

static const char *get_str(struct json_object *o, const char *name)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int64_t get_int(struct json_object *o, const char *name)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, name, &v) || !v)
        return 0;
    return json_object_get_int64(v);
}

static bool get_bool(struct json_object *o, const char *name)
{
    struct json_object *v;
    return json_object_object_get_ex(o, name, &v) && json_object_get_boolean(v);
}

/* Parses "YYYY-MM-DDTHH:MM:SS.mmmZ" as written by clock_format_iso. */
static int64_t parse_iso(const char *s)
{
    if (!s)
        return 0;
    struct tm tm = {0};
    int ms = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &ms) != 7)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

static void copy_actor(char dst[ACTOR_MAX], const char *src)
{
    dst[0] = '\0';
    if (src)
        snprintf(dst, ACTOR_MAX, "%s", src);
}

bool group_read_json(const char *json, size_t len, struct group *g)
{
    memset(g, 0, sizeof *g);
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        abort();
    struct json_object *o = json_tokener_parse_ex(tok, json, (int)len);
    json_tokener_free(tok);
    if (!o)
        return false;
    bool ok = json_object_is_type(o, json_type_object) && get_str(o, "name") && get_str(o, "key");
    if (ok) {
        g->id = (uint64_t)get_int(o, "id");
        snprintf(g->key, sizeof g->key, "%s", get_str(o, "key"));
        g->external_id = xstrdup(get_str(o, "externalId"));
        g->name = xstrdup(get_str(o, "name"));
        g->description = xstrdup(get_str(o, "description"));
        g->organisation = (uint32_t)get_int(o, "organisation");
        g->top_organisation = (uint32_t)get_int(o, "topOrganisation");
        g->type = xstrdup(get_str(o, "type"));
        g->school_year = (int32_t)get_int(o, "schoolYear");
        g->archived = get_bool(o, "archived");
        g->deleted = get_bool(o, "deleted");
        g->import_lock = get_bool(o, "importLock");
        g->import_lock_owner = xstrdup(get_str(o, "importLockOwner"));
        copy_actor(g->created_by, get_str(o, "createdBy"));
        copy_actor(g->modified_by, get_str(o, "modifiedBy"));
        g->created_at = parse_iso(get_str(o, "createdAt"));
        g->updated_at = parse_iso(get_str(o, "updatedAt"));
        g->total_participants = (uint32_t)get_int(o, "totalParticipants");
        struct json_object *arr;
        if (json_object_object_get_ex(o, "integrations", &arr) &&
            json_object_is_type(arr, json_type_array)) {
            size_t n = json_object_array_length(arr);
            g->integrations = n ? calloc(n, sizeof *g->integrations) : NULL;
            if (n && !g->integrations)
                abort();
            g->n_integrations = n;
            for (size_t i = 0; i < n; i++) {
                struct json_object *it = json_object_array_get_idx(arr, i);
                g->integrations[i].type = xstrdup(get_str(it, "type"));
                g->integrations[i].id = xstrdup(get_str(it, "id"));
            }
        }
    }
    json_object_put(o);
    return ok;
}

void group_copy(struct group *dst, const struct group *src)
{
    *dst = *src;
    dst->external_id = xstrdup(src->external_id);
    dst->name = xstrdup(src->name);
    dst->description = xstrdup(src->description);
    dst->type = xstrdup(src->type);
    dst->import_lock_owner = xstrdup(src->import_lock_owner);
    integrations_copy(&dst->integrations, &dst->n_integrations, src->integrations,
                      src->n_integrations);
}

bool group_equal(const struct group *a, const struct group *b)
{
    return a->id == b->id && strcmp(a->key, b->key) == 0 &&
           str_eq(a->external_id, b->external_id) && str_eq(a->name, b->name) &&
           str_eq(a->description, b->description) && a->organisation == b->organisation &&
           a->top_organisation == b->top_organisation && str_eq(a->type, b->type) &&
           a->school_year == b->school_year && a->archived == b->archived &&
           a->deleted == b->deleted && a->import_lock == b->import_lock &&
           str_eq(a->import_lock_owner, b->import_lock_owner) &&
           integrations_equal(a->integrations, a->n_integrations, b->integrations,
                              b->n_integrations) &&
           strcmp(a->created_by, b->created_by) == 0 &&
           strcmp(a->modified_by, b->modified_by) == 0 && a->created_at == b->created_at &&
           a->updated_at == b->updated_at && a->total_participants == b->total_participants;
}

void group_free(struct group *g)
{
    free(g->external_id);
    free(g->name);
    free(g->description);
    free(g->type);
    free(g->import_lock_owner);
    integrations_free(g->integrations, g->n_integrations);
    memset(g, 0, sizeof *g);
}
