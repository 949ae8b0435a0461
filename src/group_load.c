/*
 * group_load.c — groupctl create-groups: many groups from JSON lines.
 *
 * Each line is a POST /group body plus "organisation" (a number) and,
 * optionally, "status" ("active", "archived" or "deleted"), for loading a
 * data set or restoring an export.  The same model code as POST /group
 * checks and builds each group (group_patch_parse, group_init_new) and
 * the same store call writes it with every index and its feed entry
 * (store_group_write).
 *
 * Every line is checked before anything is written; a bad line stops the
 * load with all problems reported and nothing changed.  Writing then goes
 * in transactions of GROUP_LOAD_BATCH groups (one LMDB transaction cannot
 * hold millions); an externalId already taken stops the load at its
 * batch, and the batches before it stay.
 */
#include "group_load.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "jsonin.h"
#include "store_answer.h"

#define GROUP_LOAD_BATCH 10000

struct line {
    struct group_patch patch;
    uint32_t org;
    unsigned status;
    struct participant_patch *parts; /* the line's "participants", matched by e-mail */
    size_t n_parts;
};

static void line_free(struct line *l)
{
    group_patch_free(&l->patch);
    participant_list_free(l->parts, l->n_parts);
    l->parts = NULL;
    l->n_parts = 0;
}

/* Reads one line into l; problems go to p under the line number. */
static void read_line(const char *text, size_t len, struct line *l, struct problem *p)
{
    memset(l, 0, sizeof *l);
    l->status = GROUP_ACTIVE;
    struct problem syntax;
    problem_init(&syntax);
    struct json_object *o = jsonin_parse(text, len, &syntax);
    if (!o) {
        problem_invalid(p, "line", "%s", syntax.message.data ? syntax.message.data : "bad JSON");
        problem_free(&syntax);
        return;
    }
    problem_free(&syntax);
    group_patch_parse(o, true, &l->patch, p);
    struct json_object *v;
    if (!json_object_object_get_ex(o, "organisation", &v) ||
        !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1 ||
        json_object_get_int64(v) > UINT32_MAX)
        problem_invalid(p, "organisation", "must be a number from 1 to %u", UINT32_MAX);
    else
        l->org = (uint32_t)json_object_get_int64(v);
    if (json_object_object_get_ex(o, "status", &v)) {
        const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
        if (strcmp(s, "archived") == 0)
            l->status = GROUP_ARCHIVED;
        else if (strcmp(s, "deleted") == 0)
            l->status = GROUP_DELETED;
        else if (strcmp(s, "active") != 0)
            problem_invalid(p, "status", "must be active, archived or deleted");
    }
    /* As in POST /group: each participant needs an e-mail, none repeats. */
    if (json_object_object_get_ex(o, "participants", &v) && v)
        participant_list_parse(v, "participants", PM_EMAIL, &l->parts, &l->n_parts, p);
    json_object_put(o);
}

static int write_one(struct store *s, MDB_txn *txn, const struct line *l, uint32_t top, int64_t now,
                     struct problem *p)
{
    struct store_writer w = {top, NULL, 0, true, "groupctl", now, false};
    struct store_group_body b = {&l->patch, l->n_parts > 0, l->parts, l->n_parts, PKEY_EMAIL};
    struct store_result r;
    store_result_init(&r);
    store_create_group(s, txn, &w, l->org, l->status, &b, &r);
    int rc = 0;
    if (r.status == STORE_CONFLICT && r.n_conflicts && !r.conflicts[0].key) {
        problem_invalid(p, "externalId", "\"%s\" is taken by another group",
                        l->patch.v.external_id ? l->patch.v.external_id : "");
        rc = -1;
    } else if (r.status == STORE_CONFLICT) {
        store_conflict_problems(&r, "participants", true, p);
        rc = -1;
    } else if (r.status != STORE_OK) {
        rc = r.rc ? r.rc : -1;
    }
    store_result_free(&r);
    return rc;
}

/* Calls fn for each non-blank line; stops at the first non-zero. */
static int each_line(const char *text, size_t len,
                     int (*fn)(void *ctx, long no, const char *s, size_t n), void *ctx)
{
    long no = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        no++;
        size_t n = end - i;
        if (n && text[i + n - 1] == '\r')
            n--;
        size_t j = 0;
        while (j < n && (text[i + j] == ' ' || text[i + j] == '\t'))
            j++;
        if (j < n) {
            int rc = fn(ctx, no, text + i, n);
            if (rc)
                return rc;
        }
        i = end + 1;
    }
    return 0;
}

struct load {
    struct store *s;
    uint32_t top;
    struct problem *p;
    bool write;
    MDB_txn *txn;
    size_t in_batch, created;
    int64_t now;
};

static int one(void *ctx, long no, const char *text, size_t n)
{
    struct load *ld = ctx;
    struct line l;
    ld->p->line = no;
    read_line(text, n, &l, ld->p);
    int rc = 0;
    if (ld->write && !problem_any(ld->p)) {
        if (!ld->txn)
            rc = store_write_begin(ld->s, &ld->txn);
        if (!rc)
            rc = write_one(ld->s, ld->txn, &l, ld->top, ld->now, ld->p);
        if (!rc && ++ld->in_batch == GROUP_LOAD_BATCH) {
            rc = store_write_commit(ld->txn);
            ld->txn = NULL;
            ld->created += ld->in_batch;
            ld->in_batch = 0;
        }
    }
    line_free(&l);
    /* Checking goes on to report every bad line (up to the cap). */
    return rc ? rc : (ld->p->entries >= PROBLEM_MAX_CONTEXT ? -1 : 0);
}

int group_load_jsonl(struct store *s, uint32_t top, const char *text, size_t len, size_t *created,
                     struct problem *p)
{
    struct load ld = {s, top, p, false, NULL, 0, 0, clock_now_ms()};
    p->invalid_code = "invalid_line";
    each_line(text, len, one, &ld);
    int rc = problem_any(p) ? -1 : 0;
    if (!rc) {
        ld.write = true;
        rc = each_line(text, len, one, &ld);
        if (!rc && ld.txn) {
            rc = store_write_commit(ld.txn);
            ld.created += ld.in_batch;
        } else if (ld.txn) {
            store_write_abort(ld.txn);
        }
    }
    p->line = 0;
    *created = ld.created;
    return rc;
}
