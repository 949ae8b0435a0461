/*
 * write_op.h — one validated write operation of the API, as a worker
 * hands it to whoever applies it (src/write_op.c).
 *
 * A worker routes the request, authenticates its key, parses and
 * validates its query and body (400s), and describes what is to be done
 * as a write_op: model values only (patches, lists, an event), who asks,
 * and how the group and participant are named.  The writer process (or
 * the worker itself, when no writer answers) applies it with
 * write_op_run: one store operation (include/store.h) in one write
 * transaction, and the answer rendered from the state right after it.
 * So the writer holds LMDB's write lock only to apply operations and
 * commit, never to parse JSON or check a key.
 *
 * Between the processes an operation travels as one frame of
 * include/write_wire.h (wire_send_op / wire_recv_op); its layout is
 * written down at write_op_encode in src/write_op.c.
 */
#ifndef GROUPD_WRITE_OP_H
#define GROUPD_WRITE_OP_H

#include <stdbool.h>
#include <stdint.h>

#include "apikey.h"
#include "event.h"
#include "group.h"
#include "http.h"
#include "participant.h"
#include "store.h"
#include "store_answer.h"

/* The numbers travel in frames between processes of one build. */
enum write_kind {
    WOP_GROUP_CREATE = 1,
    WOP_GROUP_EDIT,
    WOP_GROUP_DELETE,
    WOP_GROUP_RESTORE,
    WOP_GROUP_ARCHIVE,
    WOP_GROUP_UNARCHIVE,
    WOP_GROUP_PURGE,
    WOP_PARTICIPANT_ADD,
    WOP_PARTICIPANT_EDIT,
    WOP_PARTICIPANT_REMOVE,
    WOP_PERSON_ERASE,
    WOP_EVENT_CREATE,
    WOP_EVENT_REPLACE,
    WOP_EVENT_REMOVE,
};
#define WOP_KIND_MAX WOP_EVENT_REMOVE

struct write_op {
    enum write_kind kind;
    char request_id[REQUEST_ID_MAX];
    struct buf prefix; /* SCRIPT_NAME, for a Location */
    /* Who asks (the store's writer; its time is taken when applied). */
    uint32_t top;
    bool admin;
    char actor[ACTOR_MAX];
    size_t n_orgs; /* 0: every organisation of top */
    uint32_t orgs[APIKEY_MAX_ORGS];
    /* The group: a new one's organisation, or how the path names it. */
    uint32_t org;
    struct buf group;
    bool external;
    /* A group body (create, edit). */
    struct group_patch patch;
    bool has_participants;
    struct participant_patch *parts;
    size_t n_parts;
    enum pkey match; /* also: how an added participant is matched */
    /* One participant (add, edit) and how one is named (edit, remove). */
    struct participant_patch one;
    enum store_pick pick;
    uint64_t pick_id;
    struct buf pick_text;
    /* An event (create, replace) and its id (replace, remove). */
    struct event ev;
    uint64_t eid;
    /* A person to erase. */
    struct buf email;
};

/* Zeroes op; write_op_free frees what it holds (patches, lists, event). */
void write_op_init(struct write_op *op, enum write_kind kind);
void write_op_free(struct write_op *op);

/* Applies op to s in one write transaction (a batch's, in the writer:
 * store_write_begin) and writes the answer to rep: status, headers beyond
 * X-Request-Id, body.  A failure is logged through log. */
void write_op_run(struct store *s, const struct write_op *op, struct reply *rep, store_log_fn *log);

/* Whether applying op frees space (it may use the map's reserve). */
bool write_op_frees(const struct write_op *op);

/* op's bytes (appended to out) and back: false when in is not an op of
 * this build (a malformed frame). */
void write_op_encode(const struct write_op *op, struct buf *out);
bool write_op_decode(const char *in, size_t len, struct write_op *op);

#endif
