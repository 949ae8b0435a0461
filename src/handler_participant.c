/*
 * handler_participant.c — the participant endpoints (API.md §5).
 *
 * Writes go the way of every group change (group_change.c): the body is
 * checked first (400), then one store operation in one write transaction
 * finds the group (404), checks its import lock (423), writes the
 * participant (409 on a taken e-mail or externalId) and records the
 * change with the group's new totalParticipants; the answer is rendered
 * and the transaction committed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "email.h"
#include "handlers.h"
#include "jsonin.h"
#include "words.h"

/* A string member of an identifier object, required. */
static char *identifier_string(struct json_object *obj, const char *member, const char *field,
                               struct problem *p)
{
    char *v = NULL;
    enum jsonin_state st = json_object_is_type(obj, json_type_object)
                               ? jsonin_string(obj, member, field, 1, 255, &v, p)
                               : JSONIN_ABSENT;
    if (st == JSONIN_ABSENT || st == JSONIN_NULL)
        problem_invalid(p, field, "is required");
    return v;
}

/* Runs one participant operation on the group seg names; the answer
 * is the participant it wrote (as an array when `array`) or removed. */
enum pop { POP_ADD, POP_EDIT, POP_REMOVE };
struct pop_args {
    enum pop op;
    const struct participant_patch *patch;
    enum pkey match;
    const struct store_participant_name *who;
    bool array;
    const char *field; /* conflicts: NULL for a body's members, "data" for data.* */
};

static void participant_op(struct call *c, const struct buf *seg, bool external,
                           const struct pop_args *a)
{
    MDB_txn *txn;
    if (!call_write_begin(c, &txn))
        return;
    struct store_writer w;
    call_writer(c, &w);
    struct store_name name = call_group_name(seg, external, 0);
    struct store_result r;
    store_result_init(&r);
    switch (a->op) {
    case POP_ADD: store_add_participant(c->store, txn, &w, &name, a->patch, a->match, &r); break;
    case POP_EDIT: store_edit_participant(c->store, txn, &w, &name, a->who, a->patch, &r); break;
    case POP_REMOVE: store_remove_participant(c->store, txn, &w, &name, a->who, &r); break;
    }
    struct buf out = BUF_INIT;
    if (r.status == STORE_OK && a->op == POP_REMOVE) {
        buf_addf(&out, "{\"removed\":{\"id\":\"%llu\",\"group\":\"%llu\"}}",
                 (unsigned long long)r.participant.id, (unsigned long long)r.participant.group);
    } else if (r.status == STORE_OK) {
        if (a->array)
            buf_addc(&out, '[');
        participant_write_json(&r.participant, &out);
        if (a->array)
            buf_addc(&out, ']');
    }
    call_write_end(c, txn, &r, &out, a->field, false);
    store_result_free(&r);
}

/* ---- GET /group/:id/participant ---- */

struct plist {
    const char *label;
    struct words query, text;
    uint64_t limit, skip;
    size_t count;
    struct buf page;
};

static int list_one(void *ctx, const struct participant *pt)
{
    struct plist *l = ctx;
    if (l->label) {
        bool has = false;
        for (size_t i = 0; i < pt->n_labels && !has; i++)
            has = strcmp(pt->labels[i], l->label) == 0;
        if (!has)
            return 0;
    }
    if (l->query.n) {
        words_reset(&l->text);
        words_add(&l->text, pt->name, strlen(pt->name));
        words_add(&l->text, pt->email, strlen(pt->email));
        if (pt->external_id)
            words_add(&l->text, pt->external_id, strlen(pt->external_id));
        if (!words_match(&l->query, &l->text))
            return 0;
    }
    size_t i = l->count++;
    if (i < l->skip || (l->limit && i >= l->skip + l->limit))
        return 0;
    if (l->page.len)
        buf_addc(&l->page, ',');
    participant_write_json(pt, &l->page);
    return 0;
}

void participant_list(struct call *c)
{
    struct problem p;
    problem_init(&p);
    struct plist l;
    memset(&l, 0, sizeof l);
    bool external = query_flag(c, "external", &p);
    l.label = query_get(&c->query, "label", &p);
    size_t q_len = 0;
    const char *q = query_get_text(&c->query, "q", &q_len, &p);
    list_paging(c, &l.limit, &l.skip, &p);
    if (call_failed(c, &p))
        return;
    if (q)
        words_add(&l.query, q, q_len);
    struct group_record rec;
    int rc;
    if (group_find(c, c->rtxn, &c->seg[1], external, GROUP_NOT_DELETED, &rec)) {
        if ((rc = store_participant_each(c->store, c->rtxn, rec.id, list_one, &l))) {
            call_store_error(c, "listing participants", rc);
        } else {
            list_head(c, l.count, l.limit, l.skip);
            reply_write(c->rep, l.page.data, l.page.len);
            reply_writes(c->rep, "]}");
        }
    }
    words_free(&l.query);
    words_free(&l.text);
    buf_free(&l.page);
}

/* ---- adding (upsert) ---- */

/* Adds or updates one participant in the group seg names and replies
 * with it.  Consumes patch. */
static void add_one(struct call *c, const struct buf *seg, bool external,
                    struct participant_patch *patch, enum pkey match)
{
    struct pop_args a = {POP_ADD, patch, match, NULL, false, NULL};
    participant_op(c, seg, external, &a);
    participant_patch_free(patch);
}

/* POST /group/:id/participant */
void participant_add(struct call *c)
{
    struct problem p;
    problem_init(&p);
    bool external = query_flag(c, "external", &p);
    enum pkey match = query_match(c, &p);
    struct participant_patch patch;
    memset(&patch, 0, sizeof patch);
    struct json_object *body = jsonin_parse(c->req->body.data, c->req->body.len, &p);
    if (body) {
        participant_patch_parse(body, "", PM_EMAIL | (match == PKEY_EXTID ? PM_EXTERNAL_ID : 0),
                                &patch, &p);
        json_object_put(body);
    }
    if (call_failed(c, &p)) {
        participant_patch_free(&patch);
        return;
    }
    add_one(c, &c->seg[1], external, &patch, match);
}

/* POST /group/participant/identifier/externalId */
void participant_add_by_identifier(struct call *c)
{
    struct problem p;
    problem_init(&p);
    struct participant_patch patch;
    memset(&patch, 0, sizeof patch);
    char *group = NULL;
    struct json_object *body = jsonin_parse(c->req->body.data, c->req->body.len, &p), *v;
    if (body) {
        json_object_object_get_ex(body, "identifier", &v);
        group = identifier_string(v, "externalId", "identifier.externalId", &p);
        if (json_object_object_get_ex(body, "data", &v) && v)
            participant_patch_parse(v, "data", PM_EMAIL | PM_EXTERNAL_ID, &patch, &p);
        else
            problem_invalid(&p, "data", "is required");
        json_object_put(body);
    }
    if (call_failed(c, &p)) {
        participant_patch_free(&patch);
        free(group);
        return;
    }
    struct buf seg = BUF_INIT;
    buf_adds(&seg, group);
    free(group);
    add_one(c, &seg, true, &patch, PKEY_EXTID);
    buf_free(&seg);
}

/* ---- PUT /group/:id/participant ---- */

struct identifier {
    enum store_pick kind;
    uint64_t id;
    char *value;
};

/* {"id": n} | {"externalId": s} | {"email": s}: exactly one. */
static void parse_identifier(struct json_object *obj, struct identifier *who, struct problem *p)
{
    memset(who, 0, sizeof *who);
    if (!obj || !json_object_is_type(obj, json_type_object)) {
        problem_invalid(p, "identifier", "is required: an object with id, externalId or email");
        return;
    }
    struct json_object *v;
    int given = 0;
    int64_t id;
    if (jsonin_int(obj, "id", "identifier.id", 1, INT64_MAX - 1, &id, p) == JSONIN_VALUE) {
        who->kind = PICK_ID;
        who->id = (uint64_t)id;
    }
    if (json_object_object_get_ex(obj, "id", &v)) {
        given++;
        if (!v)
            problem_invalid(p, "identifier.id", "must not be null");
    }
    if (json_object_object_get_ex(obj, "externalId", &v)) {
        given++;
        who->kind = PICK_EXTID;
        jsonin_string(obj, "externalId", "identifier.externalId", 1, 255, &who->value, p);
    }
    if (json_object_object_get_ex(obj, "email", &v)) {
        given++;
        who->kind = PICK_EMAIL;
        jsonin_string(obj, "email", "identifier.email", 1, 254, &who->value, p);
    }
    if (given != 1)
        problem_invalid(p, "identifier", "must have exactly one of id, externalId and email");
    else if (who->kind != PICK_ID && !who->value && !problem_any(p))
        problem_invalid(p, "identifier", "must not be null");
}

void participant_update(struct call *c)
{
    struct problem p;
    problem_init(&p);
    bool external = query_flag(c, "external", &p);
    struct participant_patch patch;
    memset(&patch, 0, sizeof patch);
    struct identifier who;
    memset(&who, 0, sizeof who);
    struct json_object *body = jsonin_parse(c->req->body.data, c->req->body.len, &p), *v = NULL;
    if (body) {
        json_object_object_get_ex(body, "identifier", &v);
        parse_identifier(v, &who, &p);
        if (json_object_object_get_ex(body, "data", &v) && v)
            participant_patch_parse(v, "data", 0, &patch, &p);
        else
            problem_invalid(&p, "data", "is required");
        json_object_put(body);
    }
    if (!call_failed(c, &p)) {
        struct store_participant_name pick = {who.kind, who.id, who.value,
                                              who.value ? strlen(who.value) : 0};
        struct pop_args a = {POP_EDIT, &patch, 0, &pick, true, "data"};
        participant_op(c, &c->seg[1], external, &a);
    }
    participant_patch_free(&patch);
    free(who.value);
}

/* ---- removing ---- */

/* DELETE /group/:id/participant/:participantId.  '@' makes the segment
 * an e-mail; digits name a participant id of this group when there is
 * one, else an externalId; anything else is an externalId. */
void participant_remove(struct call *c)
{
    struct problem p;
    problem_init(&p);
    bool external = query_flag(c, "external", &p);
    if (call_failed(c, &p))
        return;
    struct store_participant_name pick = {PICK_SEGMENT, 0, c->seg[3].data ? c->seg[3].data : "",
                                          c->seg[3].len};
    struct pop_args a = {POP_REMOVE, NULL, 0, &pick, false, NULL};
    participant_op(c, &c->seg[1], external, &a);
}

/* DELETE /group/participant/identifier/externalId */
void participant_remove_by_identifier(struct call *c)
{
    struct problem p;
    problem_init(&p);
    char *group = NULL, *member = NULL;
    struct json_object *body = jsonin_parse(c->req->body.data, c->req->body.len, &p), *id = NULL,
                       *part = NULL;
    if (body) {
        json_object_object_get_ex(body, "identifier", &id);
        group = identifier_string(id, "externalId", "identifier.externalId", &p);
        if (id && json_object_is_type(id, json_type_object))
            json_object_object_get_ex(id, "participant", &part);
        member = identifier_string(part, "externalId", "identifier.participant.externalId", &p);
        json_object_put(body);
    }
    struct buf seg = BUF_INIT;
    if (!call_failed(c, &p)) {
        buf_adds(&seg, group);
        /* The participant is named by externalId only, whatever it looks like. */
        struct store_participant_name pick = {PICK_EXTID, 0, member, strlen(member)};
        struct pop_args a = {POP_REMOVE, NULL, 0, &pick, false, NULL};
        participant_op(c, &seg, true, &a);
    }
    buf_free(&seg);
    free(group);
    free(member);
}

/* ---- DELETE /participant?email= ---- */

void participant_erase(struct call *c)
{
    struct problem p;
    problem_init(&p);
    const char *email = query_get(&c->query, "email", &p);
    char *trimmed = NULL;
    if (!email && !problem_any(&p))
        problem_bad_query(&p, "email", "is required");
    p.invalid_code = "invalid_query";
    if (email && jsonin_check_text(email, strlen(email), "email", 1, EMAIL_MAX, &trimmed, &p)) {
        const char *why = email_problem(trimmed, strlen(trimmed));
        if (why)
            problem_bad_query(&p, "email", "%s", why);
    }
    MDB_txn *txn;
    if (call_failed(c, &p) || !call_write_begin(c, &txn)) {
        free(trimmed);
        return;
    }
    struct store_writer w;
    call_writer(c, &w);
    struct store_result r;
    store_result_init(&r);
    store_erase_person(c->store, txn, &w, trimmed, strlen(trimmed), &r);
    free(trimmed);
    struct buf out = BUF_INIT;
    buf_adds(&out, "{\"removed\":[");
    for (size_t i = 0; i < r.n_erased; i++)
        buf_addf(&out, "%s{\"id\":\"%llu\",\"group\":\"%llu\"}", i ? "," : "",
                 (unsigned long long)r.erased[i].participant,
                 (unsigned long long)r.erased[i].group);
    buf_adds(&out, "]}");
    call_write_end(c, txn, &r, &out, NULL, false);
    store_result_free(&r);
}
