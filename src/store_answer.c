/*
 * store_answer.c — what a store status means in HTTP: the one place that
 * turns the result of a store operation into an answer (include/
 * handlers.h).
 */
#include <stdio.h>

#include "handlers.h"

void store_conflict_problems(const struct store_result *r, const char *field, bool list,
                             struct problem *p)
{
    for (size_t i = 0; i < r->n_conflicts; i++) {
        const struct store_conflict *k = &r->conflicts[i];
        if (!k->key) {
            problem_conflict(p, "externalId", k->holder, group_status_name(k->holder_status));
            continue;
        }
        const char *member = k->key == PKEY_EMAIL ? "email" : "externalId";
        char name[200];
        if (list)
            snprintf(name, sizeof name, "%s[%zu].%s", field, k->index, member);
        else if (field)
            snprintf(name, sizeof name, "%s.%s", field, member);
        else
            snprintf(name, sizeof name, "%s", member);
        problem_conflict_participant(p, k->line, name, k->holder);
    }
}

void reply_store_error(struct reply *r, int rc)
{
    if (store_full(rc))
        reply_error(r, 503, "unavailable", "the database is full; the change was not applied");
    else
        reply_error(r, 500, "internal_error", "internal error; see the server log");
}

void reply_tenant_moving(struct reply *rep)
{
    reply_header(rep, "Retry-After", "%s", "1");
    reply_error(rep, 503, "unavailable",
                "this tenant is being moved to another shard; try again in a moment");
}

void reply_store_result(struct reply *rep, const struct store_result *r, const char *field,
                        bool list, store_log_fn *log, const char *request_id)
{
    struct problem p;
    switch (r->status) {
    case STORE_OK: break;
    case STORE_NO_GROUP: reply_error(rep, 404, "not_found", "no such group"); break;
    case STORE_NO_PARTICIPANT:
        reply_error(rep, 404, "not_found", "no such participant in this group");
        break;
    case STORE_NO_EVENT: reply_error(rep, 404, "not_found", "no such event in this group"); break;
    case STORE_LOCKED:
        reply_error(rep, 423, "locked",
                    "the group is import-locked; only an admin key may change it");
        break;
    case STORE_CONFLICT:
        problem_init(&p);
        store_conflict_problems(r, field, list, &p);
        reply_problem(rep, &p);
        problem_free(&p);
        break;
    case STORE_FROZEN: reply_tenant_moving(rep); break;
    case STORE_FULL:
    case STORE_FAILED:
        if (log)
            log(request_id, r->what ? r->what : "writing", r->rc);
        reply_store_error(rep, r->rc);
        break;
    }
}

void call_store_answer(struct call *c, const struct store_result *r, const char *field, bool list)
{
    reply_store_result(c->rep, r, field, list, c->app->log_error, c->req->request_id);
}
