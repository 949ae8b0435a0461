/*
 * oneroster.c — a OneRoster export into groups and participants; see
 * include/oneroster.h and API.md §5.
 *
 * The steps, each over the whole export before the next:
 *   1. read and check every file (oneroster_read.c);
 *   2. in the write transaction, gather the classes to write: those of
 *      classes.csv (of the ?school= schools) and those the enrollments
 *      name, each resolved to its group by externalId; an enrollment of a
 *      class or user neither in the export nor imported before is a
 *      problem, one whose user has no e-mail or is disabled is skipped and
 *      reported;
 *   3. refuse with every problem (400), or go on;
 *   4. write: each class's group (group_import_upsert), the archives
 *      (delta tobedeleted, archiveMissing), each group's participants
 *      (pwrite_sync_group: replace mode for a bulk enrollments file), and
 *      the removals of a delta; a change to an import-locked group with a
 *      non-admin key aborts everything with 423.
 * What marks a group as one a roster import made: the integration
 * {"type": "oneroster", "id": <class sourcedId>} it is created with.
 * archiveMissing, and a delta's user removal, look only at such groups of
 * the target organisation.
 */
#include "oneroster.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "group_import.h"
#include "oneroster_private.h"
#include "text.h"

/* Disk reserved per byte of export before the import writes. */
#define ONEROSTER_DISK_PER_BYTE 8

#define SKIPPED_MAX 1000

bool oneroster_roles(const char *list, unsigned *bits)
{
    *bits = 0;
    for (const char *s = list; *s;) {
        size_t n = strcspn(s, ",");
        size_t len = n;
        const char *w = text_trim(s, &len);
        unsigned b = ro_role_bit(w, len);
        if (!b)
            return false;
        *bits |= b;
        s += n;
        if (*s == ',')
            s++;
    }
    return *bits != 0;
}

/* A class the import writes or reads: from classes.csv, or named by an
 * enrollment and imported before. */
struct klass {
    const char *id;
    size_t id_len;
    struct ro_row *row; /* its classes.csv row, or NULL */
    uint64_t gid;       /* its group, 0 while there is none */
    bool created;       /* this import made the group (its lock does not bind the import) */
    size_t first, n;    /* its enrollments: enr[first .. first + n) */
};

/* One enrollment to apply. */
struct enr {
    const char *class_id, *user_id;
    size_t class_len, user_len;
    struct ro_row *row;  /* in enrollments.csv */
    struct ro_row *user; /* in users.csv, or NULL: a participant imported before */
    unsigned role;
};

/* A participant imported before, found by its externalId. */
struct known {
    char *extid, *email, *name;
};

struct roster {
    struct store *store;
    const struct principal *who;
    const struct oneroster_options *opt;
    struct ro_export *x;
    struct problem *p;
    struct oneroster_summary *sum;
    MDB_txn *txn;
    int64_t now;
    struct klass *k;
    size_t n_k, cap_k;
    struct enr *e;
    size_t n_e;
    uint64_t *scope; /* the target organisation's groups that a roster import made */
    size_t n_scope, cap_scope;
    bool have_scope;
    struct known *known; /* their participants, by externalId (sorted) */
    size_t n_known, cap_known;
    bool have_known;
};

static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

static void at_row(struct roster *r, enum ro_kind kind, const struct ro_row *row)
{
    r->p->file = r->x->t[kind].file;
    r->p->line = row ? row->line : 0;
}

static void no_row(struct roster *r)
{
    r->p->file = NULL;
    r->p->line = 0;
}

/* ---- the groups a roster import made ---- */

static bool made_by_roster(const struct group *g)
{
    for (size_t i = 0; i < g->n_integrations; i++)
        if (str_eq(g->integrations[i].type, "oneroster"))
            return true;
    return false;
}

static int no_count(void *ctx, uint64_t n)
{
    (void)ctx;
    (void)n;
    return 0;
}

static int scope_one(void *ctx, const struct group_record *rec)
{
    struct roster *r = ctx;
    struct group g;
    int rc = store_group_load(rec, &g);
    if (rc)
        return rc;
    if (made_by_roster(&g)) {
        if (r->n_scope == r->cap_scope) {
            r->cap_scope = r->cap_scope ? 2 * r->cap_scope : 256;
            r->scope = realloc(r->scope, r->cap_scope * sizeof *r->scope);
            if (!r->scope)
                abort();
        }
        r->scope[r->n_scope++] = g.id;
    }
    group_free(&g);
    return 0;
}

/* The target organisation's active groups that a roster import made. */
static int find_scope(struct roster *r)
{
    if (r->have_scope)
        return 0;
    r->have_scope = true;
    struct store_query q = {0};
    q.top = r->who->top_organisation;
    q.statuses = GROUP_ACTIVE;
    q.org = &r->opt->org;
    q.sort = GROUP_SORT_ID;
    struct store_rows rows = {no_count, scope_one, r};
    return store_search(r->store, r->txn, &q, &rows);
}

static int collect_known(void *ctx, const struct participant *pt)
{
    struct roster *r = ctx;
    if (!pt->external_id)
        return 0;
    if (r->n_known == r->cap_known) {
        r->cap_known = r->cap_known ? 2 * r->cap_known : 1024;
        r->known = realloc(r->known, r->cap_known * sizeof *r->known);
        if (!r->known)
            abort();
    }
    r->known[r->n_known++] =
        (struct known){xstrdup(pt->external_id), xstrdup(pt->email), xstrdup(pt->name)};
    return 0;
}

static int cmp_known(const void *a, const void *b)
{
    return strcmp(((const struct known *)a)->extid, ((const struct known *)b)->extid);
}

/* The participants of the scope's groups, for users an enrollment names
 * but users.csv does not hold (a delta that sends enrollments only). */
static int find_known(struct roster *r)
{
    if (r->have_known)
        return 0;
    r->have_known = true;
    int rc = find_scope(r);
    for (size_t i = 0; i < r->n_scope && !rc; i++)
        rc = store_participant_each(r->store, r->txn, r->scope[i], collect_known, r);
    if (r->n_known > 1)
        qsort(r->known, r->n_known, sizeof *r->known, cmp_known);
    return rc;
}

static const struct known *known_user(const struct roster *r, const char *id, size_t len)
{
    size_t lo = 0, hi = r->n_known;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_bytes(r->known[mid].extid, strlen(r->known[mid].extid), id, len);
        if (!c)
            return &r->known[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- step 2: classes and enrollments ---- */

static bool school_wanted(const struct roster *r, const char *s, size_t len)
{
    if (!r->opt->n_schools)
        return true;
    for (size_t i = 0; i < r->opt->n_schools; i++)
        if (cmp_bytes(r->opt->schools[i], strlen(r->opt->schools[i]), s, len) == 0)
            return true;
    return false;
}

static struct klass *add_class(struct roster *r, const char *id, size_t len, struct ro_row *row)
{
    if (r->n_k == r->cap_k) {
        r->cap_k = r->cap_k ? 2 * r->cap_k : 256;
        r->k = realloc(r->k, r->cap_k * sizeof *r->k);
        if (!r->k)
            abort();
    }
    struct klass *k = &r->k[r->n_k++];
    memset(k, 0, sizeof *k);
    k->id = id;
    k->id_len = len;
    k->row = row;
    return k;
}

/* The group of class id, if one of this tenant's exists (0 otherwise).  A
 * group outside the key's organisations, in another organisation than the
 * import's, or deleted, is a problem at the current row. */
static int resolve_group(struct roster *r, struct klass *k, const char *field)
{
    uint64_t gid;
    int rc =
        store_group_by_extid(r->store, r->txn, r->who->top_organisation, k->id, k->id_len, &gid);
    if (rc == STORE_ABSENT)
        return 0;
    struct group_record rec;
    if (!rc)
        rc = store_group_get(r->store, r->txn, gid, &rec);
    if (rc)
        return rc;
    if (!principal_covers(r->who, rec.organisation) || rec.organisation != r->opt->org)
        problem_invalid(r->p, field,
                        "names class %.*s, whose group %llu belongs to organisation %u",
                        (int)k->id_len, k->id, (unsigned long long)gid, rec.organisation);
    else if (rec.flags & GROUP_FLAG_DELETED)
        problem_invalid(r->p, field,
                        "names class %.*s, whose group %llu is deleted: restore or "
                        "purge it first",
                        (int)k->id_len, k->id, (unsigned long long)gid);
    k->gid = gid;
    return 0;
}

static int gather_classes(struct roster *r)
{
    struct ro_table *t = &r->x->t[RO_CLASSES];
    int rc = 0;
    for (size_t i = 0; i < t->n_by_id && !rc; i++) {
        struct ro_row *row = &t->rows[t->by_id[i]];
        size_t len, sl;
        const char *id = ro_cell(t, row, CL_ID, &len);
        const char *school = ro_cell(t, row, CL_SCHOOL, &sl);
        /* In a bulk file a tobedeleted row counts as absent. */
        if (row->bad || !school_wanted(r, school, sl) ||
            (row->status == RO_TOBEDELETED && t->mode == RO_BULK))
            continue;
        struct klass *k = add_class(r, id, len, row);
        at_row(r, RO_CLASSES, row);
        rc = resolve_group(r, k, "sourcedId");
    }
    no_row(r);
    return rc;
}

static int cmp_class(const void *a, const void *b)
{
    const struct klass *x = a, *y = b;
    return cmp_bytes(x->id, x->id_len, y->id, y->id_len);
}

static struct klass *find_class(struct roster *r, const char *id, size_t len)
{
    struct klass key = {id, len, NULL, 0, false, 0, 0};
    return bsearch(&key, r->k, r->n_k, sizeof *r->k, cmp_class);
}

static int cmp_enr(const void *a, const void *b)
{
    const struct enr *x = a, *y = b;
    int c = cmp_bytes(x->class_id, x->class_len, y->class_id, y->class_len);
    if (!c)
        c = cmp_bytes(x->user_id, x->user_len, y->user_id, y->user_len);
    return c ? c : (x->row->line > y->row->line) - (x->row->line < y->row->line);
}

static void skip(struct roster *r, const struct ro_row *row, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void skip(struct roster *r, const struct ro_row *row, const char *fmt, ...)
{
    r->sum->skipped++;
    if (r->sum->skipped > SKIPPED_MAX)
        return;
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct buf *b = &r->sum->skipped_list;
    if (b->len)
        buf_addc(b, ',');
    buf_addf(b, "{\"file\":\"enrollments.csv\",\"line\":%u,\"message\":", row->line);
    buf_add_json_string(b, msg, strlen(msg));
    buf_addc(b, '}');
}

/* Whether a user can be a participant: an e-mail, and not disabled. */
static bool usable(struct roster *r, const struct enr *e)
{
    if (!e->user) {
        const struct known *k = known_user(r, e->user_id, e->user_len);
        return k && k->email;
    }
    const struct ro_table *u = &r->x->t[RO_USERS];
    size_t len;
    const char *en = ro_cell(u, e->user, US_ENABLED, &len);
    if (ro_is(en, len, "false")) {
        skip(r, e->row, "user %.*s is disabled", (int)e->user_len, e->user_id);
        return false;
    }
    ro_cell(u, e->user, US_EMAIL, &len);
    if (!len) {
        skip(r, e->row, "user %.*s has no email", (int)e->user_len, e->user_id);
        return false;
    }
    return true;
}

/* Reads the enrollments of the imported roles; returns an LMDB code. */
static int gather_enrollments(struct roster *r)
{
    struct ro_table *t = &r->x->t[RO_ENROLLMENTS];
    struct ro_table *users = &r->x->t[RO_USERS];
    unsigned wanted = r->opt->roles ? r->opt->roles : RO_ROLE_STUDENT;
    r->e = calloc(t->n ? t->n : 1, sizeof *r->e);
    if (!r->e)
        abort();
    int rc = 0;
    for (size_t i = 0; i < t->n && !rc; i++) {
        struct ro_row *row = &t->rows[i];
        size_t len;
        const char *role = ro_cell(t, row, EN_ROLE, &len);
        if (row->bad || (row->status == RO_TOBEDELETED && t->mode == RO_BULK))
            continue;
        unsigned bit = ro_role_bit(role, len);
        if (!(bit & wanted))
            continue;
        struct enr e = {0};
        e.row = row;
        e.role = bit;
        e.class_id = ro_cell(t, row, EN_CLASS, &e.class_len);
        e.user_id = ro_cell(t, row, EN_USER, &e.user_len);
        at_row(r, RO_ENROLLMENTS, row);
        /* The class: in classes.csv, or a group imported before. */
        struct ro_row *crow = r->x->t[RO_CLASSES].mode
                                  ? ro_find(&r->x->t[RO_CLASSES], e.class_id, e.class_len)
                                  : NULL;
        if (crow) {
            if (crow->bad || crow->status == RO_TOBEDELETED)
                continue; /* reported there, or the class goes */
            size_t sl;
            const char *school = ro_cell(&r->x->t[RO_CLASSES], crow, CL_SCHOOL, &sl);
            if (!school_wanted(r, school, sl))
                continue;
        } else {
            size_t sl;
            const char *school = ro_cell(t, row, EN_SCHOOL, &sl);
            if (!school_wanted(r, school, sl))
                continue;
            uint64_t gid;
            rc = store_group_by_extid(r->store, r->txn, r->who->top_organisation, e.class_id,
                                      e.class_len, &gid);
            if (rc == STORE_ABSENT) {
                rc = 0;
                if (row->status == RO_TOBEDELETED)
                    continue; /* nothing to remove from */
                problem_invalid(r->p, "classSourcedId",
                                "names class %.*s, which is neither in classes.csv nor "
                                "imported before",
                                (int)e.class_len, e.class_id);
                continue;
            }
            if (rc)
                break;
        }
        /* The user: in users.csv, or a participant imported before. */
        e.user = users->mode ? ro_find(users, e.user_id, e.user_len) : NULL;
        if (e.user && e.user->status == RO_TOBEDELETED && users->mode == RO_BULK)
            e.user = NULL; /* a bulk file's tobedeleted row counts as absent from it */
        if (e.user && (e.user->bad || e.user->status == RO_TOBEDELETED)) {
            if (e.user->status == RO_TOBEDELETED && row->status == RO_ACTIVE)
                skip(r, row, "user %.*s is to be deleted", (int)e.user_len, e.user_id);
            continue;
        }
        if (!e.user && row->status == RO_ACTIVE) {
            rc = find_known(r);
            if (!rc && !known_user(r, e.user_id, e.user_len)) {
                problem_invalid(r->p, "userSourcedId",
                                "names user %.*s, who is neither in users.csv nor imported "
                                "before",
                                (int)e.user_len, e.user_id);
                continue;
            }
        }
        if (row->status == RO_ACTIVE && !usable(r, &e))
            continue;
        r->e[r->n_e++] = e;
    }
    no_row(r);
    return rc;
}

/* Adds the classes the enrollments name that classes.csv does not, and
 * gives every class its run of enrollments (sorted by class, then user). */
static int join(struct roster *r)
{
    if (r->n_e > 1)
        qsort(r->e, r->n_e, sizeof *r->e, cmp_enr);
    if (r->n_k > 1)
        qsort(r->k, r->n_k, sizeof *r->k, cmp_class);
    size_t from_file = r->n_k;
    int rc = 0;
    for (size_t i = 0; i < r->n_e && !rc; i++) {
        if (i && cmp_bytes(r->e[i - 1].class_id, r->e[i - 1].class_len, r->e[i].class_id,
                           r->e[i].class_len) == 0)
            continue;
        struct klass key = {r->e[i].class_id, r->e[i].class_len, NULL, 0, false, 0, 0};
        if (bsearch(&key, r->k, from_file, sizeof *r->k, cmp_class))
            continue;
        struct klass *k = add_class(r, r->e[i].class_id, r->e[i].class_len, NULL);
        at_row(r, RO_ENROLLMENTS, r->e[i].row);
        rc = resolve_group(r, k, "classSourcedId");
    }
    no_row(r);
    if (r->n_k > 1)
        qsort(r->k, r->n_k, sizeof *r->k, cmp_class);
    for (size_t i = 0; i < r->n_e;) {
        struct klass *k = find_class(r, r->e[i].class_id, r->e[i].class_len);
        size_t j = i + 1;
        while (j < r->n_e && cmp_bytes(r->e[j].class_id, r->e[j].class_len, r->e[i].class_id,
                                       r->e[i].class_len) == 0)
            j++;
        if (k) {
            k->first = i;
            k->n = j - i;
        }
        i = j;
    }
    return rc;
}

/* ---- step 4: writing ---- */

/* The group of a classes.csv row, as a groups import row would give it. */
static int write_class(struct roster *r, struct klass *k, struct buf *scratch)
{
    const struct ro_table *t = &r->x->t[RO_CLASSES];
    struct ro_row *row = k->row;
    if (row->status == RO_TOBEDELETED) {
        if (!k->gid)
            return 0;
        int rc = group_import_archive(r->store, r->txn, r->who, k->gid, r->now, r->p);
        r->sum->groups_archived += !rc;
        return rc;
    }
    size_t tl, cl, yl = 0;
    const char *title = ro_cell(t, row, CL_TITLE, &tl);
    const char *type = ro_cell(t, row, CL_TYPE, &cl);
    /* description: the course's title; schoolYear: that of the first term. */
    const char *desc = "", *year = "";
    size_t dl = 0;
    size_t course_len;
    const char *course = ro_cell(t, row, CL_COURSE, &course_len);
    const struct ro_table *courses = &r->x->t[RO_COURSES];
    struct ro_row *crow = courses->mode && course_len ? ro_find(courses, course, course_len) : NULL;
    if (crow && !crow->bad)
        desc = ro_cell(courses, crow, CO_TITLE, &dl);
    size_t terms_len;
    const char *terms = ro_cell(t, row, CL_TERMS, &terms_len);
    size_t first_len = strcspn(terms, ",");
    if (first_len > terms_len)
        first_len = terms_len;
    const struct ro_table *sessions = &r->x->t[RO_SESSIONS];
    const char *first = text_trim(terms, &first_len);
    struct ro_row *srow = sessions->mode && first_len ? ro_find(sessions, first, first_len) : NULL;
    if (srow && !srow->bad)
        year = ro_cell(sessions, srow, SE_YEAR, &yl);
    buf_reset(scratch);
    for (size_t i = 0; i < cl; i++)
        buf_addc(scratch, (char)(type[i] >= 'A' && type[i] <= 'Z' ? type[i] + 32 : type[i]));
    buf_addc(scratch, '\0');
    const char *owner = r->x->system_name[0] ? r->x->system_name : "OneRoster";
    struct group_text gt = {k->id,
                            title,
                            desc,
                            scratch->data,
                            year,
                            r->opt->lock ? "true" : "",
                            r->opt->lock ? owner : "",
                            k->id_len,
                            tl,
                            dl,
                            cl,
                            yl,
                            r->opt->lock ? 4 : 0,
                            r->opt->lock ? strlen(owner) : 0};
    struct group_patch patch;
    at_row(r, RO_CLASSES, row);
    bool ok = group_patch_from_text(&gt, &patch, r->p);
    no_row(r);
    if (!ok) {
        group_patch_free(&patch);
        return -1;
    }
    if (!k->gid) {
        /* The mark of a group a roster import made. */
        patch.v.integrations = calloc(1, sizeof *patch.v.integrations);
        if (!patch.v.integrations)
            abort();
        patch.v.integrations[0].type = xstrdup("oneroster");
        patch.v.integrations[0].id = strndup(k->id, k->id_len);
        if (!patch.v.integrations[0].id)
            abort();
        patch.v.n_integrations = 1;
        patch.present |= GM_INTEGRATIONS;
    }
    enum group_upsert how;
    int rc = group_import_upsert(r->store, r->txn, r->who, k->gid, r->opt->org, &patch, r->now,
                                 &how, r->p);
    group_patch_free(&patch);
    k->created = !k->gid;
    if (!rc && !k->gid)
        rc = store_group_by_extid(r->store, r->txn, r->who->top_organisation, k->id, k->id_len,
                                  &k->gid);
    if (!rc) {
        r->sum->groups_created += how == GROUP_UPSERT_CREATED;
        r->sum->groups_updated += how == GROUP_UPSERT_UPDATED;
        r->sum->groups_unchanged += how == GROUP_UPSERT_UNCHANGED;
    }
    return rc;
}

/* The participant an enrollment (with the roles of the same user's other
 * enrollments in the class) makes. */
static void user_patch(struct roster *r, const struct enr *e, unsigned roles, struct buf *name,
                       struct buf *labels, struct participant_patch *out)
{
    const char *email = "", *nm = "";
    size_t el = 0, nl = 0;
    buf_reset(name);
    if (e->user) {
        const struct ro_table *u = &r->x->t[RO_USERS];
        ro_user_name(u, e->user, name);
        email = ro_cell(u, e->user, US_EMAIL, &el);
        nm = name->data ? name->data : "";
        nl = name->len;
    } else {
        const struct known *k = known_user(r, e->user_id, e->user_len);
        email = k->email;
        el = strlen(email);
        nm = k->name ? k->name : "";
        nl = strlen(nm);
    }
    buf_reset(labels);
    for (unsigned bit = 1; bit; bit <<= 1) {
        if (!(roles & bit) || bit == RO_ROLE_STUDENT)
            continue;
        if (labels->len)
            buf_addc(labels, '|');
        buf_adds(labels, ro_role_name(bit));
    }
    struct participant_text pt = {email, nm, e->user_id,  labels->data ? labels->data : "",
                                  el,    nl, e->user_len, labels->len};
    at_row(r, e->user ? RO_USERS : RO_ENROLLMENTS, e->user ? e->user : e->row);
    participant_patch_from_text(&pt, out, r->p);
    no_row(r);
}

static int remove_user(struct roster *r, const struct store_writer *w, uint64_t gid, const char *id,
                       size_t len, size_t *removed)
{
    struct store_name g = {gid, NULL, 0, false, GROUP_ACTIVE | GROUP_ARCHIVED | GROUP_DELETED};
    struct store_participant_name who = {PICK_EXTID, 0, id, len};
    struct store_result res;
    store_result_init(&res);
    store_remove_participant(r->store, r->txn, w, &g, &who, &res);
    int rc = res.status == STORE_NO_PARTICIPANT ? 0 : import_result(&res, r->p);
    if (res.status == STORE_OK)
        ++*removed;
    store_result_free(&res);
    return rc;
}

/* A class's participants: its enrollments, one participant per user. */
static int write_members(struct roster *r, const struct store_writer *w, struct klass *k,
                         struct problem *conflicts)
{
    const struct ro_table *t = &r->x->t[RO_ENROLLMENTS];
    bool replace = t->mode == RO_BULK;
    if (!k->gid || (!k->n && !(replace && k->row)))
        return 0;
    /* A group this import created (and perhaps locked) takes its
     * participants from the same import. */
    struct store_writer mine = *w;
    mine.admin = w->admin || k->created;
    w = &mine;
    struct participant_patch *patches = calloc(k->n ? k->n : 1, sizeof *patches);
    if (!patches)
        abort();
    struct buf name = BUF_INIT, labels = BUF_INIT;
    size_t n = 0, removed = 0;
    int rc = 0;
    for (size_t i = k->first; i < k->first + k->n && !rc;) {
        const struct enr *e = &r->e[i];
        size_t j = i;
        unsigned roles = 0;
        bool active = false;
        for (; j < k->first + k->n &&
               cmp_bytes(r->e[j].user_id, r->e[j].user_len, e->user_id, e->user_len) == 0;
             j++) {
            if (r->e[j].row->status == RO_ACTIVE) {
                roles |= r->e[j].role;
                active = true;
            }
        }
        if (active)
            user_patch(r, e, roles, &name, &labels, &patches[n++]);
        else if (!replace)
            rc = remove_user(r, w, k->gid, e->user_id, e->user_len, &removed);
        i = j;
    }
    buf_free(&name);
    buf_free(&labels);
    struct store_counts counts = {0};
    size_t clashes = conflicts->entries;
    if (!rc && !problem_any(r->p))
        rc = import_participants(r->store, r->txn, w, k->gid, patches, n, PKEY_EXTID, replace,
                                 &counts, conflicts, r->p);
    participant_list_free(patches, n);
    if (conflicts->entries != clashes)
        return 0; /* in conflicts: the import is refused */
    counts.removed += removed;
    r->sum->created += counts.created;
    r->sum->updated += counts.updated;
    r->sum->unchanged += counts.unchanged;
    r->sum->removed += counts.removed;
    return rc;
}

/* A delta's users to be deleted leave every group of the scope. */
static int remove_users(struct roster *r, const struct store_writer *w)
{
    const struct ro_table *u = &r->x->t[RO_USERS];
    if (u->mode != RO_DELTA)
        return 0;
    int rc = 0;
    for (size_t i = 0; i < u->n && !rc; i++) {
        const struct ro_row *row = &u->rows[i];
        if (row->bad || row->status != RO_TOBEDELETED)
            continue;
        if ((rc = find_scope(r)) != 0)
            break;
        size_t len;
        const char *id = ro_cell(u, row, US_ID, &len);
        for (size_t g = 0; g < r->n_scope && !rc; g++)
            rc = remove_user(r, w, r->scope[g], id, len, &r->sum->removed);
    }
    return rc;
}

/* archiveMissing: the scope's groups that a bulk classes file lacks. */
static int archive_missing(struct roster *r)
{
    if (!r->opt->archive_missing || r->x->t[RO_CLASSES].mode != RO_BULK)
        return 0;
    int rc = find_scope(r);
    for (size_t i = 0; i < r->n_scope && !rc; i++) {
        struct group_record rec;
        rc = store_group_get(r->store, r->txn, r->scope[i], &rec);
        if (rc)
            break;
        struct klass *k = find_class(r, rec.external_id, rec.external_id_len);
        if (k && k->row && k->row->status == RO_ACTIVE)
            continue;
        if ((rec.flags & GROUP_FLAG_ARCHIVED))
            continue;
        rc = group_import_archive(r->store, r->txn, r->who, rec.id, r->now, r->p);
        r->sum->groups_archived += !rc;
    }
    return rc;
}

static int write_all(struct roster *r)
{
    struct buf scratch = BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < r->n_k && !rc; i++)
        if (r->k[i].row)
            rc = write_class(r, &r->k[i], &scratch);
    buf_free(&scratch);
    if (!rc)
        rc = archive_missing(r);
    struct store_writer w;
    import_writer(r->who, r->now, &w);
    struct problem conflicts;
    problem_init(&conflicts);
    for (size_t i = 0; i < r->n_k && !rc; i++)
        rc = write_members(r, &w, &r->k[i], &conflicts);
    if (!rc)
        rc = remove_users(r, &w);
    if (!rc && problem_any(&conflicts)) {
        problem_free(r->p);
        *r->p = conflicts;
        problem_init(&conflicts);
        rc = -1;
    }
    problem_free(&conflicts);
    if (!rc && problem_any(r->p))
        rc = -1;
    return rc;
}

/* ---- the whole import ---- */

static size_t export_bytes(const struct roster_files *rf)
{
    size_t n = 0;
    for (int i = 0; i < ROSTER_N_FILES; i++)
        n += rf->f[i].len;
    return n;
}

int oneroster_import(struct store *s, const struct principal *who, struct roster_files *rf,
                     const struct oneroster_options *opt, struct oneroster_summary *sum,
                     struct problem *p)
{
    memset(sum, 0, sizeof *sum);
    struct ro_export x;
    struct roster r;
    memset(&r, 0, sizeof r);
    r.store = s;
    r.who = who;
    r.opt = opt;
    r.x = &x;
    r.p = p;
    r.sum = sum;
    r.now = clock_now_ms();
    const char *saved_code = p->invalid_code;
    p->invalid_code = "invalid_csv";
    int rc = -1;
    if (!ro_read(rf, &x, p))
        goto out;
    snprintf(sum->version, sizeof sum->version, "%s", x.version);
    rc = store_import_begin(s, ONEROSTER_DISK_PER_BYTE * export_bytes(rf), &r.txn);
    if (rc)
        goto out;
    rc = gather_classes(&r);
    if (!rc)
        rc = gather_enrollments(&r);
    if (!rc)
        rc = join(&r);
    if (!rc && problem_any(p))
        rc = -1;
    if (!rc)
        rc = write_all(&r);
    if (rc) {
        store_write_abort(r.txn);
        goto out;
    }
    rc = store_import_commit(s, r.txn, STORE_IMPORT_ONEROSTER, x.t[RO_ENROLLMENTS].n);
out:
    p->invalid_code = saved_code;
    p->file = NULL;
    p->line = 0;
    ro_free(&x);
    free(r.k);
    free(r.e);
    free(r.scope);
    for (size_t i = 0; i < r.n_known; i++) {
        free(r.known[i].extid);
        free(r.known[i].email);
        free(r.known[i].name);
    }
    free(r.known);
    return rc;
}

void oneroster_summary_json(const struct oneroster_summary *sum, struct buf *out)
{
    buf_addf(out,
             "{\"imported\":{\"version\":\"%s\",\"groups\":{\"created\":%zu,\"updated\":%zu,"
             "\"unchanged\":%zu,\"archived\":%zu},\"participants\":{\"created\":%zu,"
             "\"updated\":%zu,\"unchanged\":%zu,\"removed\":%zu},\"skipped\":%zu},\"skipped\":[",
             sum->version, sum->groups_created, sum->groups_updated, sum->groups_unchanged,
             sum->groups_archived, sum->created, sum->updated, sum->unchanged, sum->removed,
             sum->skipped);
    if (sum->skipped_list.len)
        buf_add(out, sum->skipped_list.data, sum->skipped_list.len);
    buf_adds(out, "]}");
}

void oneroster_summary_free(struct oneroster_summary *sum)
{
    buf_free(&sum->skipped_list);
}
