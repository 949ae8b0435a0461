/*
 * write_op.c — applying a validated write operation, and its bytes between
 * processes; see include/write_op.h.
 */
#include "write_op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "group_render.h"
#include "integration.h"
#include "write_wire.h"

void write_op_init(struct write_op *op, enum write_kind kind)
{
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->ev.start = op->ev.end = -1;
}

void write_op_free(struct write_op *op)
{
    buf_free(&op->prefix);
    buf_free(&op->group);
    group_patch_free(&op->patch);
    participant_list_free(op->parts, op->n_parts);
    participant_patch_free(&op->one);
    buf_free(&op->pick_text);
    event_free(&op->ev);
    buf_free(&op->email);
    memset(op, 0, sizeof *op);
}

bool write_op_frees(const struct write_op *op)
{
    switch (op->kind) {
    case WOP_GROUP_DELETE:
    case WOP_GROUP_RESTORE: /* DELETE ?undo=true: a DELETE all the same */
    case WOP_GROUP_PURGE:
    case WOP_PARTICIPANT_REMOVE:
    case WOP_PERSON_ERASE:
    case WOP_EVENT_REMOVE: return true;
    default: return false;
    }
}

/* ---- applying ---- */

/* The answer's body, and how conflicts are named in it. */
struct answer {
    struct buf body;
    const char *field;
    bool list;
    bool created; /* 201 with Location */
};

/* The full group as the operation left it, read inside its transaction:
 * the record's JSON as the operation wrote it (not rendered again), and
 * its participants. */
static void render_group(struct store *s, MDB_txn *txn, struct store_result *r, struct answer *a)
{
    a->field = "participants";
    a->list = true;
    if (r->status != STORE_OK)
        return;
    struct group_record rec;
    int rc = store_group_get(s, txn, r->group.id, &rec);
    if (!rc)
        rc = group_render_full(s, txn, rec.json, rec.json_len, rec.id, &a->body);
    if (rc) {
        r->status = STORE_FAILED;
        r->rc = rc;
        r->what = "reading participants";
    }
}

static void render_removed(const char *what, uint64_t id, uint64_t group, struct buf *out)
{
    buf_addf(out, "{\"%s\":{\"id\":\"%llu\"", what, (unsigned long long)id);
    if (group)
        buf_addf(out, ",\"group\":\"%llu\"", (unsigned long long)group);
    buf_adds(out, "}}");
}

static void render_erased(const struct store_result *r, struct buf *out)
{
    buf_adds(out, "{\"removed\":[");
    for (size_t i = 0; i < r->n_erased; i++)
        buf_addf(out, "%s{\"id\":\"%llu\",\"group\":\"%llu\"}", i ? "," : "",
                 (unsigned long long)r->erased[i].participant,
                 (unsigned long long)r->erased[i].group);
    buf_adds(out, "]}");
}

/* The store operation op is, inside txn, with its answer's body. */
static void apply(struct store *s, MDB_txn *txn, const struct write_op *op,
                  const struct store_writer *w, struct store_result *r, struct answer *a)
{
    struct store_name g = {0, op->group.data ? op->group.data : "", op->group.len, op->external, 0};
    struct store_group_body body = {&op->patch, op->has_participants, op->parts, op->n_parts,
                                    op->match};
    struct store_participant_name who = {
        op->pick, op->pick_id, op->pick_text.data ? op->pick_text.data : "", op->pick_text.len};
    switch (op->kind) {
    case WOP_GROUP_CREATE:
        store_create_group(s, txn, w, op->org, 0, &body, r);
        render_group(s, txn, r, a);
        break;
    case WOP_GROUP_EDIT:
        store_edit_group(s, txn, w, &g, &body, r);
        render_group(s, txn, r, a);
        break;
    case WOP_GROUP_DELETE:
    case WOP_GROUP_RESTORE:
        store_delete_group(s, txn, w, &g, op->kind == WOP_GROUP_DELETE, r);
        render_group(s, txn, r, a);
        break;
    case WOP_GROUP_ARCHIVE:
    case WOP_GROUP_UNARCHIVE:
        store_archive_group(s, txn, w, &g, op->kind == WOP_GROUP_ARCHIVE, r);
        render_group(s, txn, r, a);
        break;
    case WOP_GROUP_PURGE:
        if (store_purge_group(s, txn, w, &g, r) == STORE_OK)
            render_removed("purged", r->group.id, 0, &a->body);
        break;
    case WOP_PARTICIPANT_ADD:
        if (store_add_participant(s, txn, w, &g, &op->one, op->match, r) == STORE_OK)
            participant_write_json(&r->participant, &a->body);
        break;
    case WOP_PARTICIPANT_EDIT:
        a->field = "data";
        if (store_edit_participant(s, txn, w, &g, &who, &op->one, r) == STORE_OK) {
            buf_addc(&a->body, '[');
            participant_write_json(&r->participant, &a->body);
            buf_addc(&a->body, ']');
        }
        break;
    case WOP_PARTICIPANT_REMOVE:
        if (store_remove_participant(s, txn, w, &g, &who, r) == STORE_OK)
            render_removed("removed", r->participant.id, r->participant.group, &a->body);
        break;
    case WOP_PERSON_ERASE:
        if (store_erase_person(s, txn, w, op->email.data ? op->email.data : "", op->email.len, r) ==
            STORE_OK)
            render_erased(r, &a->body);
        break;
    case WOP_EVENT_CREATE:
        a->created = true;
        if (store_create_event(s, txn, w, &g, &op->ev, r) == STORE_OK)
            event_write_json(&r->event, &a->body);
        break;
    case WOP_EVENT_REPLACE:
        if (store_replace_event(s, txn, w, &g, op->eid, &op->ev, r) == STORE_OK)
            event_write_json(&r->event, &a->body);
        break;
    case WOP_EVENT_REMOVE:
        if (store_remove_event(s, txn, w, &g, op->eid, r) == STORE_OK)
            render_removed("removed", r->event.id, r->event.group, &a->body);
        break;
    }
}

void write_op_run(struct store *s, const struct write_op *op, struct reply *rep, store_log_fn *log)
{
    struct store_writer w = {op->top,   op->orgs,       op->n_orgs, op->admin,
                             op->actor, clock_now_ms(), false};
    store_may_use_reserve(s, write_op_frees(op));
    MDB_txn *txn;
    int rc = store_write_begin(s, &txn);
    if (rc) {
        if (log)
            log(op->request_id, "write transaction", rc);
        reply_store_error(rep, rc);
        store_may_use_reserve(s, false);
        return;
    }
    struct store_result r;
    store_result_init(&r);
    struct answer a = {BUF_INIT, NULL, false, false};
    apply(s, txn, op, &w, &r, &a);
    if (r.status != STORE_OK) {
        store_write_abort(txn);
        reply_store_result(rep, &r, a.field, a.list, log, op->request_id);
    } else if ((rc = store_write_commit(txn)) != 0) {
        if (log)
            log(op->request_id, "committing", rc);
        reply_store_error(rep, rc);
    } else {
        if (a.created) {
            rep->status = 201;
            reply_header(rep, "Location", "%s/group/%llu/event/%llu",
                         op->prefix.data ? op->prefix.data : "", (unsigned long long)r.event.group,
                         (unsigned long long)r.event.id);
        }
        reply_take(rep, &a.body);
    }
    buf_free(&a.body);
    store_result_free(&r);
    store_may_use_reserve(s, false);
}

/* ---- bytes ----
 *
 * An operation's frame holds, in this order (u32/u64 big-endian; str: u32
 * length and bytes; opt: a presence byte, then a str; list: u32 count,
 * then the items):
 *   u32 kind; str request id; str prefix;
 *   u32 top; u32 admin; str actor; list of u32 organisations;
 *   u32 org; str group; u32 external;
 *   the group patch: u32 present; opt externalId, name, description,
 *     type, importLockOwner; u32 schoolYear; u32 importLock; integrations
 *     (list of str type, str id);
 *   u32 has participants; list of participant patches: u32 present;
 *     u64 line; opt email, name, externalId; list of str labels;
 *     integrations;
 *   u32 match; the one participant patch;
 *   u32 pick; u64 pick id; str pick text;
 *   the event: opt title, location; u32 day; u32 start + 1; u32 end + 1;
 *     u64 weeks; u32 has tutors; list of str tutors;
 *   u64 event id; str e-mail.
 * Both ends are one build (the writer is the master's child), so there is
 * no version: a frame that does not decode is refused (a short or long
 * frame, a count beyond its limit, a string holding a NUL, a flag other
 * than 0 or 1, an unknown kind).  Encoding is canonical: an operation that
 * decodes encodes to the same bytes (tests/fuzz/fuzz_write_op.c).
 */

static void put_u64(struct buf *b, uint64_t v)
{
    buf_add_be64(b, v);
}

static uint64_t get_u64(struct wire_cursor *c)
{
    const char *at = wire_take(c, 8);
    return at ? be64_get(at) : 0;
}

/* A flag: 0 or 1, anything else is malformed. */
static bool get_flag(struct wire_cursor *c)
{
    uint32_t v = wire_get_u32(c);
    if (v > 1)
        c->bad = true;
    return v == 1;
}

static void put_str(struct buf *b, const char *s)
{
    wire_put_bytes(b, s, strlen(s));
}

/* A list's count, when that many items of at least `least` bytes can follow. */
static size_t get_count(struct wire_cursor *c, size_t least, size_t max)
{
    uint32_t n = wire_get_u32(c);
    if (c->bad || n > max || (size_t)n * least > c->left) {
        c->bad = true;
        return 0;
    }
    return n;
}

static void put_integrations(struct buf *b, const struct integration *v, size_t n)
{
    wire_put_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        put_str(b, v[i].type);
        put_str(b, v[i].id);
    }
}

static void get_integrations(struct wire_cursor *c, struct integration **v, size_t *n)
{
    *n = get_count(c, 8, INTEGRATIONS_MAX);
    *v = *n ? calloc(*n, sizeof **v) : NULL;
    if (*n && !*v)
        abort();
    for (size_t i = 0; i < *n; i++) {
        (*v)[i].type = wire_get_str(c);
        (*v)[i].id = wire_get_str(c);
        if (c->bad) {
            *n = i + 1; /* what was taken is freed */
            return;
        }
    }
}

static void put_strings(struct buf *b, char *const *v, size_t n)
{
    wire_put_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        put_str(b, v[i]);
}

static void get_strings(struct wire_cursor *c, char ***v, size_t *n, size_t max)
{
    *n = get_count(c, 4, max);
    *v = *n ? calloc(*n, sizeof **v) : NULL;
    if (*n && !*v)
        abort();
    for (size_t i = 0; i < *n && !c->bad; i++)
        (*v)[i] = wire_get_str(c);
}

static void put_group_patch(struct buf *b, const struct group_patch *p)
{
    const struct group *g = &p->v;
    wire_put_u32(b, p->present);
    wire_put_opt(b, g->external_id);
    wire_put_opt(b, g->name);
    wire_put_opt(b, g->description);
    wire_put_opt(b, g->type);
    wire_put_opt(b, g->import_lock_owner);
    wire_put_u32(b, (uint32_t)g->school_year);
    wire_put_u32(b, g->import_lock);
    put_integrations(b, g->integrations, g->n_integrations);
}

static void get_group_patch(struct wire_cursor *c, struct group_patch *p)
{
    struct group *g = &p->v;
    p->present = wire_get_u32(c);
    g->external_id = wire_get_opt(c);
    g->name = wire_get_opt(c);
    g->description = wire_get_opt(c);
    g->type = wire_get_opt(c);
    g->import_lock_owner = wire_get_opt(c);
    g->school_year = (int32_t)wire_get_u32(c);
    g->import_lock = get_flag(c);
    get_integrations(c, &g->integrations, &g->n_integrations);
}

static void put_participant_patch(struct buf *b, const struct participant_patch *p)
{
    const struct participant *v = &p->v;
    wire_put_u32(b, p->present);
    put_u64(b, (uint64_t)p->line);
    wire_put_opt(b, v->email);
    wire_put_opt(b, v->name);
    wire_put_opt(b, v->external_id);
    put_strings(b, v->labels, v->n_labels);
    put_integrations(b, v->integrations, v->n_integrations);
}

static void get_participant_patch(struct wire_cursor *c, struct participant_patch *p)
{
    struct participant *v = &p->v;
    p->present = wire_get_u32(c);
    p->line = (long)get_u64(c);
    v->email = wire_get_opt(c);
    v->name = wire_get_opt(c);
    v->external_id = wire_get_opt(c);
    get_strings(c, &v->labels, &v->n_labels, PARTICIPANT_LABELS_MAX);
    get_integrations(c, &v->integrations, &v->n_integrations);
}

static void put_event(struct buf *b, const struct event *ev)
{
    wire_put_opt(b, ev->title);
    wire_put_opt(b, ev->location);
    wire_put_u32(b, (uint32_t)ev->day);
    wire_put_u32(b, (uint32_t)ev->start + 1u);
    wire_put_u32(b, (uint32_t)ev->end + 1u);
    put_u64(b, ev->weeks);
    wire_put_u32(b, ev->has_tutors);
    put_strings(b, ev->tutors, ev->n_tutors);
}

static void get_event(struct wire_cursor *c, struct event *ev)
{
    ev->title = wire_get_opt(c);
    ev->location = wire_get_opt(c);
    ev->day = (int)wire_get_u32(c);
    ev->start = (int)(wire_get_u32(c) - 1u);
    ev->end = (int)(wire_get_u32(c) - 1u);
    ev->weeks = get_u64(c);
    ev->has_tutors = get_flag(c);
    get_strings(c, &ev->tutors, &ev->n_tutors, EVENT_TUTORS_MAX);
}

void write_op_encode(const struct write_op *op, struct buf *out)
{
    wire_put_u32(out, op->kind);
    put_str(out, op->request_id);
    wire_put_buf(out, &op->prefix);
    wire_put_u32(out, op->top);
    wire_put_u32(out, op->admin);
    put_str(out, op->actor);
    wire_put_u32(out, (uint32_t)op->n_orgs);
    for (size_t i = 0; i < op->n_orgs; i++)
        wire_put_u32(out, op->orgs[i]);
    wire_put_u32(out, op->org);
    wire_put_buf(out, &op->group);
    wire_put_u32(out, op->external);
    put_group_patch(out, &op->patch);
    wire_put_u32(out, op->has_participants);
    wire_put_u32(out, (uint32_t)op->n_parts);
    for (size_t i = 0; i < op->n_parts; i++)
        put_participant_patch(out, &op->parts[i]);
    wire_put_u32(out, op->match);
    put_participant_patch(out, &op->one);
    wire_put_u32(out, op->pick);
    put_u64(out, op->pick_id);
    wire_put_buf(out, &op->pick_text);
    put_event(out, &op->ev);
    put_u64(out, op->eid);
    wire_put_buf(out, &op->email);
}

bool write_op_decode(const char *in, size_t len, struct write_op *op)
{
    struct wire_cursor c = {in, len, false};
    write_op_init(op, (enum write_kind)wire_get_u32(&c));
    bool ok = op->kind >= WOP_GROUP_CREATE && op->kind <= WOP_KIND_MAX &&
              wire_get_fixed(&c, op->request_id, sizeof op->request_id);
    wire_get_buf(&c, &op->prefix);
    op->top = wire_get_u32(&c);
    op->admin = get_flag(&c);
    ok = ok && wire_get_fixed(&c, op->actor, sizeof op->actor);
    op->n_orgs = get_count(&c, 4, APIKEY_MAX_ORGS);
    for (size_t i = 0; i < op->n_orgs; i++)
        op->orgs[i] = wire_get_u32(&c);
    op->org = wire_get_u32(&c);
    wire_get_buf(&c, &op->group);
    op->external = get_flag(&c);
    get_group_patch(&c, &op->patch);
    op->has_participants = get_flag(&c);
    size_t n = get_count(&c, 20, SIZE_MAX / sizeof *op->parts);
    op->parts = n ? calloc(n, sizeof *op->parts) : NULL;
    if (n && !op->parts)
        abort();
    for (; op->n_parts < n && !c.bad; op->n_parts++)
        get_participant_patch(&c, &op->parts[op->n_parts]);
    op->match = (enum pkey)wire_get_u32(&c);
    get_participant_patch(&c, &op->one);
    op->pick = (enum store_pick)wire_get_u32(&c);
    op->pick_id = get_u64(&c);
    wire_get_buf(&c, &op->pick_text);
    get_event(&c, &op->ev);
    op->eid = get_u64(&c);
    wire_get_buf(&c, &op->email);
    ok = ok && !c.bad && c.left == 0 && op->pick <= PICK_SEGMENT &&
         (op->match == PKEY_EMAIL || op->match == PKEY_EXTID || op->match == 0);
    if (!ok)
        write_op_free(op);
    return ok;
}
