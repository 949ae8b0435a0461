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

struct app {
    struct store *store;
    void (*log_error)(const char *request_id, const char *what, int rc);
    struct metrics *metrics; /* NULL: not counted (GET /metrics shows no requests) */
    struct liveness *alive;  /* the writer beats here per request it applies; NULL: none */
    size_t max_body;         /* --max-body (0: the default): a roster export inflates to 16x */
};

/* Returns the route the request was counted under: a row of the route
 * table, or the last index for a path no route matches. */
size_t app_handle(struct app *app, struct request *req, struct reply *rep);
/* True when the request is one the writer process applies in a batch
 * (include/write_batch.h): a method that writes, on a route that takes a
 * JSON body or none.  The bulk imports (CSV) run in their worker: they
 * are batches of their own. */
bool app_is_batch_write(const struct request *req);
/* Every route's template ("/group/{id}"), by the index app_handle returns;
 * the last is "other".  Returns how many. */
size_t router_route_names(const char *const **names);

#endif
