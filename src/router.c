/*
 * router.c — matching a path to a handler and the checks every route
 * shares; see include/app.h.
 *
 * The path is the request's REQUEST_URI minus SCRIPT_NAME (web servers
 * have already decoded PATH_INFO, which would turn ext%2F12 into two
 * segments); it is split on '/' and each segment percent-decoded.  Routes
 * are tried in table order, literal ones before those with parameters, so
 * the first row that matches path and method wins.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "handlers.h"

enum method { M_GET = 1, M_POST = 2, M_PUT = 4, M_PATCH = 8, M_DELETE = 16 };

enum body { BODY_NONE, BODY_JSON, BODY_CSV, BODY_ZIP };

struct route {
    const char *pattern[CALL_MAX_SEGMENTS]; /* NULL-terminated; ":x" matches any segment */
    unsigned methods;
    enum role role; /* 0: no key needed */
    enum body body;
    handler_fn *fn;
};

static const struct route routes[] = {
    {{"health"}, M_GET, 0, BODY_NONE, service_health},
    {{"metrics"}, M_GET, 0, BODY_NONE, service_metrics},
    {{"openapi.json"}, M_GET, 0, BODY_NONE, service_openapi},
    {{"changes"}, M_GET, ROLE_READ, BODY_NONE, changes_list},
    {{"group"}, M_GET, ROLE_READ, BODY_NONE, group_list},
    {{"group"}, M_POST, ROLE_WRITE, BODY_JSON, group_create},
    {{"group", "bulkImportParticipants"}, M_POST, ROLE_WRITE, BODY_CSV, group_bulk_import},
    {{"group", "bulkImportGroups"}, M_POST, ROLE_WRITE, BODY_CSV, group_bulk_import_groups},
    {{"group", "bulkImportOneRoster"}, M_POST, ROLE_WRITE, BODY_ZIP, group_bulk_import_oneroster},
    {{"group", "participant", "identifier", "externalId"},
     M_POST,
     ROLE_WRITE,
     BODY_JSON,
     participant_add_by_identifier},
    {{"group", "participant", "identifier", "externalId"},
     M_DELETE,
     ROLE_WRITE,
     BODY_JSON,
     participant_remove_by_identifier},
    {{"participant"}, M_DELETE, ROLE_ADMIN, BODY_NONE, participant_erase},
    {{"group", ":id", "archive"}, M_POST, ROLE_WRITE, BODY_NONE, group_archive},
    {{"group", ":id", "participant"}, M_GET, ROLE_READ, BODY_NONE, participant_list},
    {{"group", ":id", "participant"}, M_POST, ROLE_WRITE, BODY_JSON, participant_add},
    {{"group", ":id", "participant"}, M_PUT, ROLE_WRITE, BODY_JSON, participant_update},
    {{"group", ":id", "participant", ":pid"}, M_DELETE, ROLE_WRITE, BODY_NONE, participant_remove},
    {{"group", ":id", "event"}, M_GET, ROLE_READ, BODY_NONE, event_list},
    {{"group", ":id", "event"}, M_POST, ROLE_WRITE, BODY_JSON, event_create},
    {{"group", ":id", "event", ":eid"}, M_GET, ROLE_READ, BODY_NONE, event_get},
    {{"group", ":id", "event", ":eid"}, M_PUT, ROLE_WRITE, BODY_JSON, event_replace},
    {{"group", ":id", "event", ":eid"}, M_DELETE, ROLE_WRITE, BODY_NONE, event_remove},
    {{"group", ":id"}, M_GET, ROLE_READ, BODY_NONE, group_get},
    {{"group", ":id"}, M_POST | M_PUT | M_PATCH, ROLE_WRITE, BODY_JSON, group_update},
    {{"group", ":id"}, M_DELETE, ROLE_WRITE, BODY_NONE, group_delete},
};

#define N_ROUTES (sizeof routes / sizeof routes[0])
_Static_assert(N_ROUTES + 1 <= METRICS_MAX_ROUTES, "metrics count each route row");

/* "/group/{id}/event/{eid}" for the pattern group, :id, event, :eid. */
static void route_template(const struct route *r, char *out, size_t len)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < CALL_MAX_SEGMENTS && r->pattern[i]; i++) {
        const char *seg = r->pattern[i];
        int n = seg[0] == ':' ? snprintf(out + at, len - at, "/{%s}", seg + 1)
                              : snprintf(out + at, len - at, "/%s", seg);
        if (n < 0 || (size_t)n >= len - at)
            break;
        at += (size_t)n;
    }
}

size_t router_route_names(const char *const **names)
{
    static char text[N_ROUTES][64];
    static const char *list[N_ROUTES + 1];
    if (!list[0]) {
        for (size_t i = 0; i < N_ROUTES; i++) {
            route_template(&routes[i], text[i], sizeof text[i]);
            list[i] = text[i];
        }
        list[N_ROUTES] = "other"; /* no route matched the path */
    }
    *names = list;
    return N_ROUTES + 1;
}

static unsigned method_bit(const char *m)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {
        {"GET", M_GET}, {"POST", M_POST}, {"PUT", M_PUT}, {"PATCH", M_PATCH}, {"DELETE", M_DELETE}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(m, names[i].name) == 0)
            return names[i].bit;
    return 0;
}

static void allow_header(struct reply *rep, unsigned methods)
{
    static const char *names[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    char allow[64] = "";
    for (unsigned i = 0; i < 5; i++) {
        if (!(methods & (1u << i)))
            continue;
        if (allow[0])
            strcat(allow, ", ");
        strcat(allow, names[i]);
        if (i == 0)
            strcat(allow, ", HEAD");
    }
    reply_header(rep, "Allow", "%s", allow);
}

/* Splits the encoded path into decoded segments; false when there are too
 * many.  A leading '/' and one trailing '/' are ignored. */
static bool split_path(struct call *c)
{
    const char *p = c->req->path.data ? c->req->path.data : "";
    size_t len = c->req->path.len;
    if (len && p[0] == '/')
        p++, len--;
    if (len && p[len - 1] == '/')
        len--;
    while (len) {
        if (c->n_seg == CALL_MAX_SEGMENTS)
            return false;
        const char *slash = memchr(p, '/', len);
        size_t n = slash ? (size_t)(slash - p) : len;
        pct_decode(p, n, false, &c->seg[c->n_seg]);
        c->n_seg++;
        if (!slash)
            break;
        p = slash + 1;
        len -= n + 1;
    }
    return true;
}

static bool pattern_matches(const struct route *r, const struct call *c)
{
    /* A pattern's length decides most rows without comparing a string. */
    size_t n = 0;
    while (n < CALL_MAX_SEGMENTS && r->pattern[n])
        n++;
    if (n != c->n_seg)
        return false;
    size_t i = 0;
    for (; i < n; i++) {
        if (r->pattern[i][0] == ':') {
            if (c->seg[i].len == 0)
                return false;
        } else if (strcmp(r->pattern[i], c->seg[i].data ? c->seg[i].data : "") != 0 ||
                   c->seg[i].len != strlen(r->pattern[i])) {
            return false;
        }
    }
    return true;
}

static bool is_json(const char *ct)
{
    return content_type_is(ct, "application/json");
}

void call_store_error(struct call *c, const char *what, int rc)
{
    if (c->app->log_error)
        c->app->log_error(c->req->request_id, what, rc);
    reply_store_error(c->rep, rc);
}

bool call_failed(struct call *c, struct problem *p)
{
    bool any = problem_any(p);
    if (any)
        reply_problem(c->rep, p);
    problem_free(p);
    return any;
}

/* Returns the index of the row that matched the path (N_ROUTES: none). */
static size_t dispatch(struct call *c)
{
    struct request *req = c->req;
    if (!split_path(c)) {
        reply_error(c->rep, 404, "not_found", "no such route");
        return N_ROUTES;
    }
    unsigned want = method_bit(req->method), allowed = 0;
    /* HEAD is GET without the body. */
    if (strcmp(req->method, "HEAD") == 0) {
        want = M_GET;
        c->rep->head = true;
    }
    const struct route *route = NULL;
    size_t matched = N_ROUTES;
    for (size_t i = 0; i < N_ROUTES && !route; i++) {
        if (!pattern_matches(&routes[i], c))
            continue;
        if (matched == N_ROUTES)
            matched = i;
        allowed |= routes[i].methods;
        if (routes[i].methods & want) {
            route = &routes[i];
            matched = i;
        }
    }
    if (!allowed) {
        reply_error(c->rep, 404, "not_found", "no such route");
        return matched;
    }
    if (!route) {
        allow_header(c->rep, allowed);
        /* The method is echoed only when it is a plain token. */
        bool token = req->method[0] != '\0';
        for (const char *m = req->method; token && *m; m++)
            token = (*m >= 'A' && *m <= 'Z') || *m == '-' || *m == '_';
        if (token)
            reply_error(c->rep, 405, "method_not_allowed", "method %s is not allowed here",
                        req->method);
        else
            reply_error(c->rep, 405, "method_not_allowed", "this method is not allowed here");
        return matched;
    }
    int rc = store_read_begin(c->store, &c->rtxn);
    if (rc) {
        c->rtxn = NULL;
        if (c->app->log_error)
            c->app->log_error(req->request_id, "read transaction", rc);
        reply_error(c->rep, 503, "unavailable", "the store cannot be read");
        return matched;
    }
    if (route->role) {
        if (!req->api_key) {
            reply_error(c->rep, 401, "unauthenticated",
                        "an API key is required (api-key header or Authorization: Bearer)");
            return matched;
        }
        bool known;
        rc = apikey_authenticate(c->store, c->rtxn, req->api_key, &c->who, &known);
        if (rc) {
            call_store_error(c, "authentication", rc);
            return matched;
        }
        if (!known) {
            reply_error(c->rep, 401, "unauthenticated", "the API key is unknown or revoked");
            return matched;
        }
        bool frozen;
        rc = store_tenant_frozen(c->store, c->rtxn, c->who.top_organisation, &frozen);
        if (rc) {
            call_store_error(c, "reading the tenant's freeze", rc);
            return matched;
        }
        if (frozen) {
            reply_tenant_moving(c->rep);
            return matched;
        }
        if (c->who.role < route->role) {
            reply_error(c->rep, 403, "forbidden", "a %s key may not do this",
                        role_name(c->who.role));
            return matched;
        }
    }
    if (req->body_too_large) {
        reply_error(c->rep, 413, "payload_too_large", "the request body is larger than allowed");
        return matched;
    }
    if (route->body == BODY_JSON && (req->content_type || req->body.len) &&
        !is_json(req->content_type)) {
        reply_error(c->rep, 415, "unsupported_media_type",
                    "the request body must be sent as Content-Type: application/json");
        return matched;
    }
    if (route->body == BODY_CSV && !content_type_is(req->content_type, "text/csv") &&
        !content_type_is(req->content_type, "multipart/form-data")) {
        reply_error(c->rep, 415, "unsupported_media_type",
                    "the file must be sent as multipart/form-data (field \"file\") or as text/csv");
        return matched;
    }
    if (route->body == BODY_ZIP && !content_type_is(req->content_type, "application/zip") &&
        !content_type_is(req->content_type, "application/x-zip-compressed") &&
        !content_type_is(req->content_type, "multipart/form-data")) {
        reply_error(c->rep, 415, "unsupported_media_type",
                    "the export must be sent as application/zip, or as multipart/form-data "
                    "(field \"file\")");
        return matched;
    }
    if (req->body_cut) {
        reply_error(c->rep, 400, route->body == BODY_JSON ? "invalid_json" : "invalid_csv",
                    "the request body ended before the length it announced; nothing was done");
        return matched;
    }
    /* The service endpoints (no key) take no parameters: their query
     * string is not read. */
    if (!route->role) {
        route->fn(c);
        return matched;
    }
    query_parse(&c->query, req->query_string.data);
    if (c->query.too_many) {
        reply_error(c->rep, 400, "invalid_query", "the query string has more than %d parameters",
                    QUERY_MAX_PARAMS);
        return matched;
    }
    /* A DELETE frees space (a participant, an event, a group soft-deleted
     * or purged): it may use the part of the map kept for that, so a full
     * database can always be emptied (store_write_commit). */
    store_may_use_reserve(c->store, want == M_DELETE);
    route->fn(c);
    store_may_use_reserve(c->store, false);
    return matched;
}

size_t app_handle(struct app *app, struct request *req, struct reply *rep)
{
    struct call c;
    memset(&c, 0, sizeof c);
    c.app = app;
    c.store = app->store;
    c.req = req;
    c.rep = rep;
    reply_header(rep, "X-Request-Id", "%s", req->request_id);
    size_t route = dispatch(&c);
    if (c.rtxn)
        store_read_end(c.store);
    query_free(&c.query);
    for (size_t i = 0; i < CALL_MAX_SEGMENTS; i++)
        buf_free(&c.seg[i]);
    return route;
}
