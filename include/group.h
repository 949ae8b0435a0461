/*
 * group.h — the group resource: model, validation, JSON form.
 *
 * A request body becomes a group_patch (every member checked, every
 * problem collected); the patch is applied to a group that is new (create)
 * or read from the store (update).  group_write_json produces the stored
 * and served form (API.md §3, without participants and events), so a read
 * is a copy of stored bytes; group_read_json turns that form back into a
 * group when it is about to change.
 */
#ifndef GROUPD_GROUP_H
#define GROUPD_GROUP_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "integration.h"
#include "problem.h"

#define GROUP_NAME_MAX 255
#define GROUP_DESCRIPTION_MAX 4096
#define GROUP_EXTERNAL_ID_MAX 255
#define GROUP_TYPE_MAX 64
#define GROUP_LOCK_OWNER_MAX 255
#define ACTOR_MAX 24 /* "key-" and a key id of any shard (16 digits) fit */

enum group_status { GROUP_ACTIVE = 1, GROUP_ARCHIVED = 2, GROUP_DELETED = 4 };

struct group {
    uint64_t id;
    char key[37];      /* UUID v4 */
    char *external_id; /* NULL when absent */
    char *name;
    char *description; /* NULL when absent */
    uint32_t organisation;
    uint32_t top_organisation;
    char *type;          /* NULL when absent */
    int32_t school_year; /* 0 when absent */
    bool archived, deleted, import_lock;
    char *import_lock_owner; /* NULL when absent */
    struct integration *integrations;
    size_t n_integrations;
    char created_by[ACTOR_MAX];
    char modified_by[ACTOR_MAX]; /* "" when never modified */
    int64_t created_at, updated_at;
    uint32_t total_participants;
};

/* Members a patch may carry (bit set in group_patch.present). */
enum group_member {
    GM_NAME = 1 << 0,
    GM_DESCRIPTION = 1 << 1,
    GM_EXTERNAL_ID = 1 << 2,
    GM_TYPE = 1 << 3,
    GM_SCHOOL_YEAR = 1 << 4,
    GM_IMPORT_LOCK = 1 << 5,
    GM_IMPORT_LOCK_OWNER = 1 << 6,
    GM_INTEGRATIONS = 1 << 7,
};

struct group_patch {
    unsigned present; /* enum group_member bits */
    struct group v;   /* the new values; NULL/0 where a member clears */
};

enum group_status group_status(const struct group *g);
const char *group_status_name(enum group_status s);

/* Validates body members into patch; for a create, name is required.
 * Returns false when problems were added. */
bool group_patch_parse(struct json_object *body, bool create, struct group_patch *patch,
                       struct problem *p);
/* The cells of one CSV row of a groups import (bulkImportGroups); a cell
 * that is NULL or only white space is "not given". */
struct group_text {
    const char *external_id, *name, *description, *type, *school_year, *import_lock,
        *import_lock_owner;
    size_t external_id_len, name_len, description_len, type_len, school_year_len, import_lock_len,
        import_lock_owner_len;
};
/* Validates a row into patch with the rules of a JSON body (externalId
 * required; name is the caller's to require for new groups); problems
 * are named by column.  Returns false when problems were added. */
bool group_patch_from_text(const struct group_text *t, struct group_patch *patch,
                           struct problem *p);

/* A new group (g zeroed) from a create's patch: a random UUID v4 key,
 * creator and times; the caller gives the id. */
void group_init_new(struct group *g, const struct group_patch *patch, uint32_t org, uint32_t top,
                    const char *actor, int64_t now);
/* Applies the patch; returns true when any value changed. */
bool group_patch_apply(struct group *g, const struct group_patch *patch);
void group_patch_free(struct group_patch *patch);

/* The served JSON object of a group (no participants/events). */
void group_write_json(const struct group *g, struct buf *out);
/* The members of the JSON form, in order; a `fields` list names them. */
#define GROUP_FIELDS 20
extern const char *const group_field_names[GROUP_FIELDS];
/* Index in group_field_names, or -1. */
int group_field_index(const char *name, size_t len);
/* Appends the JSON form json with only the members whose bit is set in
 * fields (id always); false if json is not an object. */
bool group_json_select(const char *json, size_t len, uint32_t fields, struct buf *out);
/* Whether applying patch to the group whose JSON form is json would change
 * it (false: the row of an import that repeats itself, decided without
 * parsing the form).  True whenever it cannot tell. */
bool group_patch_changes_json(const struct group_patch *patch, const char *json, size_t len);
/* True when the JSON form json has this type (NULL: no type). */
bool group_json_type_is(const char *json, size_t len, const char *type);
/* Reads group_write_json's output back; false if it is not that form. */
bool group_read_json(const char *json, size_t len, struct group *g);

void group_copy(struct group *dst, const struct group *src);
bool group_equal(const struct group *a, const struct group *b);
void group_free(struct group *g);

#endif
