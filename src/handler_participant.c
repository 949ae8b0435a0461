/*
 * handler_participant.c — the participant endpoints (API.md §5).
 *
 * Writes go the way of every group change (group_change.c): the query and
 * body are checked here (400) into a write operation (include/write_op.h),
 * then one store operation in one write transaction finds the group
 * (404), checks its import lock (423), writes the participant (409 on a
 * taken e-mail or externalId) and records the change with the group's new
 * totalParticipants; the answer is rendered and the transaction committed.
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

/* POST /group/:id/participant: adds a participant, or updates the one
 * with its e-mail (or externalId), and answers with it. */
void participant_add(struct call *c)
{
    struct problem p;
    problem_init(&p);
    struct write_op op;
    call_op_begin(c, &op, WOP_PARTICIPANT_ADD);
    call_op_group(&op, &c->seg[1], query_flag(c, "external", &p));
    op.match = query_match(c, &p);
    struct json_object *body = jsonin_parse(c->req->body.data, c->req->body.len, &p);
    if (body) {
        participant_patch_parse(body, "", PM_EMAIL | (op.match == PKEY_EXTID ? PM_EXTERNAL_ID : 0),
                                &op.one, &p);
        json_object_put(body);
    }
    if (call_failed(c, &p))
        write_op_free(&op);
    else
        call_write(c, &op);
}

/* POST /group/participant/identifier/externalId */
void participant_add_by_identifier(struct call *c)
{
    struct problem p;
    problem_init(&p);
    struct write_op op;
    call_op_begin(c, &op, WOP_PARTICIPANT_ADD);
    op.match = PKEY_EXTID;
    op.external = true;
    struct json_object *body = jsonin_parse(c->req->body.data, c->req->body.len, &p), *v;
    if (body) {
        json_object_object_get_ex(body, "identifier", &v);
        char *group = identifier_string(v, "externalId", "identifier.externalId", &p);
        if (group)
            buf_adds(&op.group, group);
        free(group);
        if (json_object_object_get_ex(body, "data", &v) && v)
            participant_patch_parse(v, "data", PM_EMAIL | PM_EXTERNAL_ID, &op.one, &p);
        else
            problem_invalid(&p, "data", "is required");
        json_object_put(body);
    }
    if (call_failed(c, &p))
        write_op_free(&op);
    else
        call_write(c, &op);
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
    struct write_op op;
    call_op_begin(c, &op, WOP_PARTICIPANT_EDIT);
    call_op_group(&op, &c->seg[1], query_flag(c, "external", &p));
    struct identifier who;
    memset(&who, 0, sizeof who);
    struct json_object *body = jsonin_parse(c->req->body.data, c->req->body.len, &p), *v = NULL;
    if (body) {
        json_object_object_get_ex(body, "identifier", &v);
        parse_identifier(v, &who, &p);
        if (json_object_object_get_ex(body, "data", &v) && v)
            participant_patch_parse(v, "data", 0, &op.one, &p);
        else
            problem_invalid(&p, "data", "is required");
        json_object_put(body);
    }
    op.pick = who.kind;
    op.pick_id = who.id;
    if (who.value)
        buf_adds(&op.pick_text, who.value);
    free(who.value);
    if (call_failed(c, &p))
        write_op_free(&op);
    else
        call_write(c, &op);
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
    struct write_op op;
    call_op_begin(c, &op, WOP_PARTICIPANT_REMOVE);
    call_op_group(&op, &c->seg[1], external);
    op.pick = PICK_SEGMENT;
    buf_add(&op.pick_text, c->seg[3].data ? c->seg[3].data : "", c->seg[3].len);
    call_write(c, &op);
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
    if (!call_failed(c, &p)) {
        struct write_op op;
        call_op_begin(c, &op, WOP_PARTICIPANT_REMOVE);
        op.external = true;
        buf_adds(&op.group, group);
        /* The participant is named by externalId only, whatever it looks like. */
        op.pick = PICK_EXTID;
        buf_adds(&op.pick_text, member);
        call_write(c, &op);
    }
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
    if (call_failed(c, &p)) {
        free(trimmed);
        return;
    }
    struct write_op op;
    call_op_begin(c, &op, WOP_PERSON_ERASE);
    buf_adds(&op.email, trimmed);
    free(trimmed);
    call_write(c, &op);
}
