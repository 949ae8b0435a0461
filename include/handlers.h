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

/* status=active,archived&status=deleted -> enum group_status bits; 0 when
 * absent (handler_group_list.c). */
unsigned query_statuses(struct call *c, struct problem *p);

/* handler_group.c */
handler_fn group_list, group_get, group_create, group_update, group_delete, group_archive;
/* handler_service.c */
handler_fn service_health;

#endif
