/*
 * participant.h — the participant resource: model, validation, JSON form.
 *
 * A participant arrives as a JSON object (the participant endpoints, the
 * `participants` member of a group) or as a CSV row (bulk import); both
 * become a participant_patch through the same field checks, so a rule is
 * written once.  A patch is applied to a new participant or to a stored
 * one; what is absent from the patch is kept.
 */
#ifndef GROUPD_PARTICIPANT_H
#define GROUPD_PARTICIPANT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "group.h"
#include "problem.h"

#define PARTICIPANT_NAME_MAX 255
#define PARTICIPANT_EXTERNAL_ID_MAX 255
#define PARTICIPANT_LABELS_MAX 50
#define LABEL_NAME_MAX 100
#define PARTICIPANT_INTEGRATIONS_MAX 20

struct participant {
    uint64_t id;
    uint64_t group;
    char *email;       /* as given (trimmed); compared case-insensitively */
    char *name;        /* "" when absent */
    char *external_id; /* NULL when absent */
    char **labels;     /* distinct names, in the order first given */
    size_t n_labels;
    struct integration *integrations;
    size_t n_integrations;
    char created_by[ACTOR_MAX];
    char modified_by[ACTOR_MAX]; /* "" when never modified */
    int64_t created_at, updated_at;
    /* True only on a participant just read from the store whose record says
     * that none of its strings needs a JSON escape (participant_plain), so
     * they are served as they are; participant_copy clears it, since a copy
     * is there to be changed. */
    bool json_plain;
};

enum participant_member {
    PM_EMAIL = 1 << 0,
    PM_NAME = 1 << 1,
    PM_EXTERNAL_ID = 1 << 2,
    PM_LABELS = 1 << 3,
    PM_INTEGRATIONS = 1 << 4,
};

struct participant_patch {
    unsigned present; /* enum participant_member bits */
    struct participant v;
    long line; /* CSV line it came from (0 for JSON) */
};

/* Reads a JSON object into patch; problems are reported under
 * "<prefix>.<member>" (prefix "" for a top-level body).  `required` is a
 * set of PM_ bits that must be present with a value.  Returns false when
 * problems were added. */
bool participant_patch_parse(struct json_object *obj, const char *prefix, unsigned required,
                             struct participant_patch *patch, struct problem *p);

/* The text form of the same members (a CSV row): a NULL or empty value
 * means "not given".  labels are separated by '|'.  Problems are reported
 * under the plain member names, at p->line. */
struct participant_text {
    const char *email, *name, *external_id, *labels;
    size_t email_len, name_len, external_id_len, labels_len;
};
bool participant_patch_from_text(const struct participant_text *t, struct participant_patch *patch,
                                 struct problem *p);

/* Applies the patch; returns true when any value changed. */
bool participant_patch_apply(struct participant *pt, const struct participant_patch *patch);
void participant_patch_free(struct participant_patch *patch);

/* Reads a JSON array of participants (each with the `required` members)
 * into a new array of patches; entries repeating an e-mail (compared
 * case-insensitively) or an externalId are reported too.  Free the array
 * with participant_list_free, also on false. */
bool participant_list_parse(struct json_object *arr, const char *field, unsigned required,
                            struct participant_patch **out, size_t *n, struct problem *p);
void participant_list_free(struct participant_patch *v, size_t n);

/* True when none of pt's strings needs a JSON escape (json_plain). */
bool participant_plain(const struct participant *pt);

/* The served JSON object (API.md §3). */
void participant_write_json(const struct participant *pt, struct buf *out);

void participant_copy(struct participant *dst, const struct participant *src);
void participant_free(struct participant *pt);

#endif
