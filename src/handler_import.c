/*
 * handler_import.c — POST /group/bulkImportParticipants and
 * POST /group/bulkImportGroups (API.md §5).
 *
 * The HTTP side only: take the CSV out of the body (raw text/csv, or the
 * `file` part of a multipart/form-data upload), read the query, and hand
 * both to import.c, group_import.c or oneroster.c, which groupctl import,
 * import-groups and oneroster-import use as well.
 */
#include <string.h>

#include "config.h"

#include "group_import.h"
#include "handlers.h"
#include "import.h"
#include "multipart.h"
#include "oneroster.h"
#include "roster_files.h"

/* The file of the body: raw, or a multipart upload's `file` part. */
static void body_csv(struct call *c, char **csv, size_t *len, struct problem *p)
{
    *csv = c->req->body.data;
    *len = c->req->body.len;
    if (!problem_any(p) && content_type_is(c->req->content_type, "multipart/form-data")) {
        const char *why = multipart_find(c->req->content_type, c->req->body.data, c->req->body.len,
                                         "file", csv, len);
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

/* The organisation new groups go to: the parameter, or the key's only one. */
static bool target_org(struct call *c, uint32_t *org, struct problem *p)
{
    uint64_t v = 0;
    if (query_uint(&c->query, "organisation", UINT32_MAX, &v, p)) {
        *org = (uint32_t)v;
        return true;
    }
    if (problem_any(p))
        return false;
    if (c->who.n_orgs == 1) {
        *org = c->who.orgs[0];
        return true;
    }
    problem_bad_query(p, "organisation",
                      "is required: this key is not restricted to exactly one organisation");
    return false;
}

void group_bulk_import_oneroster(struct call *c)
{
    struct problem p;
    problem_init(&p);
    struct oneroster_options opt;
    memset(&opt, 0, sizeof opt);
    bool have_org = target_org(c, &opt.org, &p);
    size_t at = 0;
    const char *school;
    while ((school = query_next(&c->query, "school", &at)) != NULL) {
        if (opt.n_schools == ONEROSTER_MAX_SCHOOLS) {
            problem_bad_query(&p, "school", "may be given at most %d times", ONEROSTER_MAX_SCHOOLS);
            break;
        }
        opt.schools[opt.n_schools++] = school;
    }
    const char *roles = query_get(&c->query, "roles", &p);
    if (roles && !oneroster_roles(roles, &opt.roles))
        problem_bad_query(&p, "roles",
                          "must be OneRoster roles separated by commas (student, teacher, ...)");
    query_bool(&c->query, "lock", &opt.lock, &p);
    query_bool(&c->query, "archiveMissing", &opt.archive_missing, &p);
    char *zip;
    size_t len;
    body_csv(c, &zip, &len, &p);
    if (!problem_any(&p) && have_org && !principal_covers(&c->who, opt.org))
        problem_set(&p, 403, "forbidden", "organisation %u is outside this key's scope", opt.org);
    struct roster_files rf;
    memset(&rf, 0, sizeof rf);
    if (!problem_any(&p)) {
        size_t max_body = c->app->max_body ? c->app->max_body : CONFIG_DEFAULT_MAX_BODY;
        char why[320];
        switch (roster_files_from_zip(zip, len, 16 * max_body, &rf, why, sizeof why)) {
        case ROSTER_FILES_OK: break;
        case ROSTER_FILES_TOO_LARGE: problem_set(&p, 413, "payload_too_large", "%s", why); break;
        default: problem_add(&p, 400, "invalid_csv", 0, "file", "%s", why); break;
        }
    }
    int rc = 0;
    struct oneroster_summary sum;
    memset(&sum, 0, sizeof sum);
    struct buf out = BUF_INIT;
    if (!problem_any(&p))
        rc = oneroster_import(c->store, &c->who, &rf, &opt, &sum, &p);
    if (!rc && !problem_any(&p))
        oneroster_summary_json(&sum, &out);
    oneroster_summary_free(&sum);
    roster_files_free(&rf);
    import_reply(c, rc, &p, &out);
}
