/*
 * handler_import.c — POST /group/bulkImportParticipants and
 * POST /group/bulkImportGroups (API.md §5).
 *
 * The HTTP side only: take the CSV out of the body (raw text/csv, or the
 * `file` part of a multipart/form-data upload), read the query, and hand
 * both to import.c or group_import.c, which groupctl import and
 * import-groups use as well.
 */
#include <string.h>

#include "group_import.h"
#include "handlers.h"
#include "import.h"
#include "multipart.h"

/* The CSV of the body: raw, or a multipart upload's `file` part. */
static void body_csv(struct call *c, char **csv, size_t *len, struct problem *p)
{
    *csv = c->req->body.data;
    *len = c->req->body.len;
    if (!problem_any(p) && content_type_is(c->req->content_type, "multipart/form-data")) {
        const char *why = multipart_find(c->req->content_type, c->req->body.data,
                                         c->req->body.len, "file", csv, len);
        if (why)
            problem_add(p, 400, "invalid_csv", 0, "file", "%s", why);
    }
    if (!*csv)
        *csv = "";
}

/* Replies the import's outcome: its refusal, a store error, or out. */
static void import_reply(struct call *c, int rc, struct problem *p, struct buf *out)
{
    if (problem_any(p)) {
        buf_free(out);
        reply_problem(c->rep, p);
    } else if (rc) {
        buf_free(out);
        call_store_error(c, "importing", rc);
    } else {
        reply_buf(c, out);
    }
    problem_free(p);
}

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
    char *csv;
    size_t len;
    body_csv(c, &csv, &len, &p);
    int rc = 0;
    struct import_summary sum;
    struct buf out = BUF_INIT;
    if (!problem_any(&p))
        rc = import_csv(c->store, &c->who, csv, len, &opt, &sum, &p);
    if (!rc && !problem_any(&p))
        import_summary_json(&sum, &out);
    import_reply(c, rc, &p, &out);
}

void group_bulk_import_groups(struct call *c)
{
    struct problem p;
    problem_init(&p);
    struct group_import_options opt = {false, 0, false};
    uint64_t org = 0;
    opt.have_org = query_uint(&c->query, "organisation", UINT32_MAX, &org, &p);
    opt.org = (uint32_t)org;
    query_bool(&c->query, "archiveMissing", &opt.archive_missing, &p);
    char *csv;
    size_t len;
    body_csv(c, &csv, &len, &p);
    /* The contract's order: 400 before an organisation parameter's 403. */
    if (!problem_any(&p) && opt.have_org && !principal_covers(&c->who, opt.org))
        problem_set(&p, 403, "forbidden", "organisation %u is outside this key's scope", opt.org);
    int rc = 0;
    struct group_import_summary sum;
    struct buf out = BUF_INIT;
    if (!problem_any(&p))
        rc = group_import_csv(c->store, &c->who, csv, len, &opt, &sum, &p);
    if (!rc && !problem_any(&p))
        group_import_summary_json(&sum, &out);
    import_reply(c, rc, &p, &out);
}
