/*
 * handlers.h — what every request handler receives, and the handlers.
 *
 * A handler speaks in model terms: it reads the query and body, asks the
 * store, and writes the reply.  It never touches a cursor and never sees
 * FastCGI.  The read transaction in `rtxn` is open for the whole call
 * (authentication used it); writers open their own write transaction.
 */
#ifndef GROUPD_HANDLERS_H
#define GROUPD_HANDLERS_H

#include "apikey.h"
#include "app.h"
#include "query.h"
#include "store_answer.h"
#include "write_op.h"

#define CALL_MAX_SEGMENTS 8

struct call {
    struct app *app;
    struct store *store;
    struct request *req;
    struct reply *rep;
    MDB_txn *rtxn;
    struct principal who;
    struct query query;
    size_t n_seg;
    struct buf seg[CALL_MAX_SEGMENTS]; /* percent-decoded path segments */
};

typedef void handler_fn(struct call *c);

/* Logs a store failure with the request id and answers 500/503. */
void call_store_error(struct call *c, const char *what, int rc);
/* When p holds a problem, replies it and returns true; frees p either way. */
bool call_failed(struct call *c, struct problem *p);

/* status=active,archived&status=deleted -> enum group_status bits; 0 when
 * absent (handler_group_list.c). */
unsigned query_statuses(struct call *c, struct problem *p);

/* ---- one group: finding it and changing it (group_change.c) ---- */

/* A boolean query parameter (false when absent; a bad value adds a problem). */
bool query_flag(struct call *c, const char *name, struct problem *p);
/* participantUpdateType: how participants are matched (email by default). */
enum pkey query_match(struct call *c, struct problem *p);

/* Finds the group a path segment names, or replies 404 / 500 and returns
 * false: the one place that answers "no such group".  A digits-only
 * segment names the group with that internal id when the caller may see it
 * (its topOrganisation and, for a restricted key, its organisations);
 * otherwise the segment is an externalId of the caller's topOrganisation.
 * A group the caller may not see, or whose status is not among `statuses`
 * (enum group_status bits), does not exist for it: 404, whichever way it
 * was named. */
#define GROUP_ANY_STATUS (GROUP_ACTIVE | GROUP_ARCHIVED | GROUP_DELETED)
#define GROUP_NOT_DELETED (GROUP_ACTIVE | GROUP_ARCHIVED)
bool group_find(struct call *c, MDB_txn *txn, const struct buf *seg, bool external,
                unsigned statuses, struct group_record *rec);

/* Sends b as the reply body and frees it. */
void reply_buf(struct call *c, struct buf *b);

/* ---- writing through the store's operations (group_change.c) ---- */

/* The caller as the store's operations know it (its top, organisations,
 * role and actor, and now). */
void call_writer(const struct call *c, struct store_writer *w);
/* How the path's group segment names a group, for the statuses given (0:
 * active or archived). */
struct store_name call_group_name(const struct buf *seg, bool external, unsigned statuses);
/* A write operation of the caller (who, request id, prefix) of this kind. */
void call_op_begin(struct call *c, struct write_op *op, enum write_kind kind);
/* The group the path's segment names. */
void call_op_group(struct write_op *op, const struct buf *seg, bool external);
/* Hands op to the writer process (app->relay), or applies it here when no
 * writer takes it (write_op_run), and frees it.  The one write path. */
void call_write(struct call *c, struct write_op *op);

/* ---- what a store status means in HTTP (store_answer.c): the one place ---- */

/* Answers a result whose status is not STORE_OK: 404 for a group,
 * participant or event that is not there, 423 for a lock, 409 for the
 * conflicts (store_conflict_problems), 503 for a full database, 500
 * (logged with r->what and r->rc) for anything else. */
void call_store_answer(struct call *c, const struct store_result *r, const char *field, bool list);

/* ---- list paging shared by the list endpoints (list_page.c) ---- */

#define LIST_DEFAULT_LIMIT 30
#define LIST_MAX_LIMIT 1000

/* limit/skip or page/pageSize into *limit and *skip (API.md §4). */
void list_paging(struct call *c, uint64_t *limit, uint64_t *skip, struct problem *p);
/* Writes the envelope up to the opening bracket of "results". */
void list_head(struct call *c, size_t count, uint64_t limit, uint64_t skip);

/* handler_group.c */
handler_fn group_list, group_get, group_create, group_update, group_delete, group_archive;
/* handler_participant.c */
handler_fn participant_list, participant_add, participant_add_by_identifier, participant_update,
    participant_remove, participant_remove_by_identifier, participant_erase;
/* handler_import.c */
handler_fn group_bulk_import, group_bulk_import_groups, group_bulk_import_oneroster;
/* handler_event.c */
handler_fn event_list, event_create, event_get, event_replace, event_remove;
/* handler_changes.c */
handler_fn changes_list;
/* handler_service.c */
handler_fn service_health, service_metrics, service_openapi;

#endif
