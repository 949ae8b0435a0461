/*
 * app.h — the application: one request in, one reply out.
 *
 * app_handle routes the request and applies the contract's order of
 * checks (API.md §1): unknown route 404, method 405 (with Allow),
 * authentication 401, role 403, body size 413, Content-Type 415; the
 * handler then does 400, object 404, organisation-scope 403, 423, 409.
 */
#ifndef GROUPD_APP_H
#define GROUPD_APP_H

#include "http.h"
#include "liveness.h"
#include "metrics.h"
#include "store.h"

struct write_op;

/* What became of a write operation handed to the writer process. */
enum app_relay {
    APP_RELAYED,    /* rep holds the writer's answer */
    APP_APPLY_HERE, /* no writer took it: the worker applies it itself */
    APP_RELAY_LOST, /* the writer ended before it answered: it may or may not be applied */
};

struct app {
    struct store *store;
    void (*log_error)(const char *request_id, const char *what, int rc);
    struct metrics *metrics; /* NULL: not counted (GET /metrics shows no requests) */
    struct liveness *alive;  /* the writer beats here per request it applies; NULL: none */
    size_t max_body;         /* --max-body (0: the default): a roster export inflates to 16x */
    /* Hands a validated write to the writer process (fcgi_front.c); NULL:
     * every write is applied in this process. */
    enum app_relay (*relay)(void *ctx, const struct write_op *op, struct reply *rep);
    void *relay_ctx;
};

/* Returns the route the request was counted under: a row of the route
 * table, or the last index for a path no route matches. */
size_t app_handle(struct app *app, struct request *req, struct reply *rep);
/* Every route's template ("/group/{id}"), by the index app_handle returns;
 * the last is "other".  Returns how many. */
size_t router_route_names(const char *const **names);

#endif
