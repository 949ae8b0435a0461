/*
 * handler_import.c — POST /group/bulkImportParticipants (API.md §5).
 *
 * The HTTP side only: take the CSV out of the body (raw text/csv, or the
 * `file` part of a multipart/form-data upload), read the query, and hand
 * both to import.c, which groupctl import uses as well.
 */
#include <string.h>

#include "handlers.h"
#include "import.h"
#include "multipart.h"

void group_bulk_import(struct call *c)
{
    struct problem p;
    problem_init(&p);
    struct import_options opt = {false, false};
    query_bool(&c->query, "external", &opt.external, &p);
    const char *mode = query_get(&c->query, "mode", &p);
    if (mode && strcmp(mode, "replace") == 0)
        opt.replace = true;
    else if (mode && strcmp(mode, "merge") != 0)
        problem_bad_query(&p, "mode", "must be replace or merge");
    char *csv = c->req->body.data;
    size_t len = c->req->body.len;
    if (!problem_any(&p) && content_type_is(c->req->content_type, "multipart/form-data")) {
        const char *why = multipart_find(c->req->content_type, c->req->body.data, c->req->body.len,
                                         "file", &csv, &len);
        if (why)
            problem_add(&p, 400, "invalid_csv", 0, "file", "%s", why);
    }
    int rc = 0;
    struct import_summary sum;
    if (!problem_any(&p))
        rc = import_csv(c->store, &c->who, csv ? csv : "", len, &opt, &sum, &p);
    if (problem_any(&p)) {
        reply_problem(c->rep, &p);
    } else if (rc) {
        call_store_error(c, "importing", rc);
    } else {
        struct buf out = BUF_INIT;
        import_summary_json(&sum, &out);
        reply_buf(c, &out);
    }
    problem_free(&p);
}
