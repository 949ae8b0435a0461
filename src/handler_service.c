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
