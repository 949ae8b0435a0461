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
#include "store.h"

struct app {
    struct store *store;
    void (*log_error)(const char *request_id, const char *what, int rc);
};

void app_handle(struct app *app, struct request *req, struct reply *rep);

#endif
