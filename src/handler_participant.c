/*
 * handler_participant.c — the participant endpoints (API.md §5).
 *
 * Writes go the way of every group change (group_change.c): the body is
 * checked first (400), then one write transaction finds the group
 * (404/403), checks its import lock (423), writes the participant through
 * participant_write.c (409 on a taken e-mail or externalId), records the
 * change with the group's new totalParticipants (change_save), renders
 * the answer and commits.
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

static void reply_removed(struct call *c, struct change *ch, const struct participant *pt)
{
    struct buf out = BUF_INIT;
    buf_addf(&out, "{\"removed\":{\"id\":\"%llu\",\"group\":\"%llu\"}}", (unsigned long long)pt->id,
             (unsigned long long)pt->group);
    change_finish(c, ch, &out);
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
    struct change ch;
    if (!change_begin(c, &ch, seg, external, false)) {
        participant_patch_free(patch);
        return;
    }
    struct pwrite_counts counts = {0};
    struct participant result;
    struct problem p;
    problem_init(&p);
    int rc = pwrite_sync(&ch.pw, ch.g.id, patch, 1, match, false, NULL, &counts, &result, &p);
    participant_patch_free(patch);
    if (rc == MDB_KEYEXIST)
        participant_free(&result);
    bool bad = change_members_failed(c, &ch, rc, &p);
    problem_free(&p);
    if (bad)
        return;
    ch.g.total_participants += (uint32_t)counts.created;
    if (change_save(c, &ch, false)) {
        struct buf out = BUF_INIT;
        participant_write_json(&result, &out);
        change_finish(c, &ch, &out);
    }
    participant_free(&result);
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
    enum { BY_ID, BY_EXTID, BY_EMAIL } kind;
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
        who->kind = BY_ID;
        who->id = (uint64_t)id;
    }
    if (json_object_object_get_ex(obj, "id", &v)) {
        given++;
        if (!v)
            problem_invalid(p, "identifier.id", "must not be null");
    }
    if (json_object_object_get_ex(obj, "externalId", &v)) {
        given++;
        who->kind = BY_EXTID;
        jsonin_string(obj, "externalId", "identifier.externalId", 1, 255, &who->value, p);
    }
    if (json_object_object_get_ex(obj, "email", &v)) {
        given++;
        who->kind = BY_EMAIL;
        jsonin_string(obj, "email", "identifier.email", 1, 254, &who->value, p);
    }
    if (given != 1)
        problem_invalid(p, "identifier", "must have exactly one of id, externalId and email");
    else if (who->kind != BY_ID && !who->value && !problem_any(p))
        problem_invalid(p, "identifier", "must not be null");
}

/* Finds the participant an identifier names in group gid (MDB_NOTFOUND). */
static int find_identified(struct call *c, MDB_txn *txn, uint64_t gid, const struct identifier *who,
                           struct participant *out)
{
    uint64_t pid = who->id;
    int rc = 0;
    if (who->kind != BY_ID)
        rc = store_participant_find(c->store, txn, gid,
                                    who->kind == BY_EMAIL ? PKEY_EMAIL : PKEY_EXTID, who->value,
                                    strlen(who->value), &pid);
    return rc ? rc : store_participant_get(c->store, txn, gid, pid, out);
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
    struct change ch;
    if (call_failed(c, &p) || !change_begin(c, &ch, &c->seg[1], external, false)) {
        participant_patch_free(&patch);
        free(who.value);
        return;
    }
    struct participant old, pt;
    int rc = find_identified(c, ch.txn, ch.g.id, &who, &old);
    free(who.value);
    if (rc) {
        participant_patch_free(&patch);
        change_abort(&ch);
        if (rc == MDB_NOTFOUND)
            reply_error(c->rep, 404, "not_found", "no such participant in this group");
        else
            call_store_error(c, "finding a participant", rc);
        return;
    }
    participant_copy(&pt, &old);
    bool changed = participant_patch_apply(&pt, &patch);
    participant_patch_free(&patch);
    rc = 0;
    if (changed) {
        pt.updated_at = ch.pw.now;
        snprintf(pt.modified_by, sizeof pt.modified_by, "%s", c->who.actor);
        enum pkey clash = 0;
        rc = pwrite_update(&ch.pw, &old, &pt, &clash);
        problem_init(&p);
        if (rc == MDB_KEYEXIST)
            pwrite_conflict(&ch.pw, &pt, clash, 0,
                            clash == PKEY_EMAIL ? "data.email" : "data.externalId", &p);
        bool bad = change_members_failed(c, &ch, rc, &p);
        problem_free(&p);
        if (bad) {
            participant_free(&old);
            participant_free(&pt);
            return;
        }
    }
    if (change_save(c, &ch, false)) {
        struct buf out = BUF_INIT;
        buf_addc(&out, '[');
        participant_write_json(&pt, &out);
        buf_addc(&out, ']');
        change_finish(c, &ch, &out);
    }
    participant_free(&old);
    participant_free(&pt);
}

/* ---- removing ---- */

/* Removes the participant seg names from the open change's group and
 * replies.  '@' makes it an e-mail; digits name a participant id of this
 * group when there is one, else an externalId; anything else is an
 * externalId. */
static void remove_one(struct call *c, struct change *ch, const char *seg, size_t len)
{
    uint64_t gid = ch->g.id, pid = 0;
    int rc = MDB_NOTFOUND;
    struct participant pt;
    bool digits = len > 0 && len <= 19;
    for (size_t i = 0; digits && i < len; i++)
        digits = seg[i] >= '0' && seg[i] <= '9';
    if (memchr(seg, '@', len)) {
        rc = store_participant_find(c->store, ch->txn, gid, PKEY_EMAIL, seg, len, &pid);
    } else {
        if (digits) {
            pid = strtoull(seg, NULL, 10);
            rc = store_participant_get(c->store, ch->txn, gid, pid, &pt);
            if (!rc)
                participant_free(&pt);
        }
        if (rc == MDB_NOTFOUND)
            rc = store_participant_find(c->store, ch->txn, gid, PKEY_EXTID, seg, len, &pid);
    }
    if (!rc)
        rc = store_participant_get(c->store, ch->txn, gid, pid, &pt);
    if (rc) {
        change_abort(ch);
        if (rc == MDB_NOTFOUND)
            reply_error(c->rep, 404, "not_found", "no such participant in this group");
        else
            call_store_error(c, "finding a participant", rc);
        return;
    }
    rc = pwrite_remove(&ch->pw, &pt);
    if (rc) {
        participant_free(&pt);
        change_abort(ch);
        call_store_error(c, "removing a participant", rc);
        return;
    }
    ch->g.total_participants--;
    if (change_save(c, ch, false))
        reply_removed(c, ch, &pt);
    participant_free(&pt);
}

/* DELETE /group/:id/participant/:participantId */
void participant_remove(struct call *c)
{
    struct problem p;
    problem_init(&p);
    bool external = query_flag(c, "external", &p);
    struct change ch;
    if (call_failed(c, &p) || !change_begin(c, &ch, &c->seg[1], external, false))
        return;
    remove_one(c, &ch, c->seg[3].data, c->seg[3].len);
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
    struct change ch;
    if (!call_failed(c, &p)) {
        buf_adds(&seg, group);
        if (change_begin(c, &ch, &seg, true, false)) {
            /* The participant is named by externalId only, whatever it looks like. */
            uint64_t pid;
            int rc = store_participant_find(c->store, ch.txn, ch.g.id, PKEY_EXTID, member,
                                            strlen(member), &pid);
            if (rc == MDB_NOTFOUND) {
                change_abort(&ch);
                reply_error(c->rep, 404, "not_found", "no such participant in this group");
            } else if (rc) {
                change_abort(&ch);
                call_store_error(c, "finding a participant", rc);
            } else {
                char digits[24];
                snprintf(digits, sizeof digits, "%llu", (unsigned long long)pid);
                remove_one(c, &ch, digits, strlen(digits));
            }
        }
    }
    buf_free(&seg);
    free(group);
    free(member);
}

/* ---- DELETE /participant?email= ---- */

struct erase {
    uint64_t *gids;
    size_t n, cap;
};

static int collect_gid(void *ctx, uint64_t gid)
{
    struct erase *e = ctx;
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 8;
        e->gids = realloc(e->gids, e->cap * sizeof *e->gids);
        if (!e->gids)
            abort();
    }
    e->gids[e->n++] = gid;
    return 0;
}

/* Removes the participant with email from group gid when the key covers
 * the group; appends {"id","group"} to out.  The removal is recorded
 * through the store's door with the group's new count. */
static int erase_from(struct call *c, const struct pwrite *m, uint64_t gid, const char *email,
                      struct buf *out)
{
    struct group_record rec;
    int rc = store_group_get(c->store, m->txn, gid, &rec);
    if (rc || !principal_covers(&c->who, rec.organisation))
        return rc;
    /* Load the group first: rec points into the map, which the removal
     * below may change. */
    struct group g, old;
    rc = store_group_load(&rec, &g);
    if (rc)
        return rc;
    group_copy(&old, &g);
    struct change_list removed = {0};
    struct pwrite one = *m;
    one.changes = &removed;
    uint64_t pid;
    struct participant pt;
    rc = store_participant_find(c->store, m->txn, gid, PKEY_EMAIL, email, strlen(email), &pid);
    if (!rc)
        rc = store_participant_get(c->store, m->txn, gid, pid, &pt);
    if (!rc) {
        rc = pwrite_remove(&one, &pt);
        participant_free(&pt);
    }
    if (!rc) {
        g.total_participants--;
        rc = store_group_write(c->store, m->txn, &g, &old, 0, &removed, m->now);
    }
    change_list_free(&removed);
    group_free(&g);
    group_free(&old);
    if (!rc)
        buf_addf(out, "%s{\"id\":\"%llu\",\"group\":\"%llu\"}",
                 out->data[out->len - 1] == '[' ? "" : ",", (unsigned long long)pid,
                 (unsigned long long)gid);
    return rc;
}

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
    struct change ch;
    if (call_failed(c, &p) || !change_open(c, &ch)) {
        free(trimmed);
        return;
    }
    struct erase e = {NULL, 0, 0};
    struct buf out = BUF_INIT;
    buf_adds(&out, "{\"removed\":[");
    int rc = store_email_groups(c->store, ch.txn, c->who.top_organisation, trimmed, strlen(trimmed),
                                collect_gid, &e);
    for (size_t i = 0; i < e.n && !rc; i++)
        rc = erase_from(c, &ch.pw, e.gids[i], trimmed, &out);
    free(e.gids);
    free(trimmed);
    if (rc) {
        buf_free(&out);
        change_abort(&ch);
        call_store_error(c, "erasing a participant", rc);
        return;
    }
    buf_adds(&out, "]}");
    change_finish(c, &ch, &out);
}
