/* handler_service.c — service endpoints that need no key (API.md §7). */
#include "handlers.h"

void service_health(struct call *c)
{
    uint32_t version = 0;
    int rc = store_schema_version(c->store, c->rtxn, &version);
    if (rc) {
        reply_error(c->rep, 503, "unavailable", "the store cannot be read");
        return;
    }
    struct buf out = BUF_INIT;
    buf_addf(&out, "{\"status\":\"ok\",\"version\":\"%s\",\"schemaVersion\":%u}", PACKAGE_VERSION,
             version);
    reply_write(c->rep, out.data, out.len);
    buf_free(&out);
}

void service_metrics(struct call *c)
{
    struct store_figures f;
    int rc = store_figures(c->store, c->rtxn, &f);
    if (rc) {
        call_store_error(c, "metrics", rc);
        return;
    }
    const char *const *names;
    size_t n = router_route_names(&names);
    struct buf out = BUF_INIT;
    metrics_render(c->app->metrics, names, n, &f, &out);
    c->rep->content_type = "text/plain; version=0.0.4; charset=utf-8";
    reply_take(c->rep, &out);
}

/* docs/openapi.json, built into the program (src/openapi_doc.c is made
 * from it by tools/embed.sh). */
extern const char openapi_json[];
extern const size_t openapi_json_len;

void service_openapi(struct call *c)
{
    reply_write(c->rep, openapi_json, openapi_json_len);
}
