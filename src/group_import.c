/*
 * group_import.c — bulk import of groups; see include/group_import.h.
 *
 * The steps, each over the whole file before the next:
 *   1. read the header and every record, checking each row's cells with
 *      the rules of a JSON group body (group_patch_from_text);
 *   2. sort the rows by externalId: a repeat is a row error naming the
 *      line it repeats;
 *   3. in the write transaction, look each externalId up: a deleted group,
 *      a group outside a restricted key's organisations, a new group
 *      without a name or an organisation, or an organisation that would
 *      change are row errors; then 400 (every row problem), 403 (an
 *      organisation outside the key's scope);
 *   4. with archiveMissing, collect the active groups in scope whose
 *      externalId the file does not name;
 *   5. write each row in file order (a create, an update, or nothing when
 *      the row changes nothing) and archive what step 4 collected, every
 *      one through store_group_write; an import-locked group that would
 *      change, or be archived, with a non-admin key aborts the whole
 *      transaction with 423.
 * Rows are kept as offsets into the file (56 bytes each); a row's patch is
 * rebuilt when it is written, so memory stays at the file plus the rows.
 */
#include "group_import.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "csv.h"
#include "text.h"

enum column {
    COL_EXTID,
    COL_NAME,
    COL_DESCRIPTION,
    COL_TYPE,
    COL_YEAR,
    COL_ORG,
    COL_LOCK,
    COL_LOCK_OWNER,
    N_COLUMNS
};

static const char *const column_names[N_COLUMNS] = {"externalId", "name",           "description",
                                                    "type",       "schoolYear",     "organisation",
                                                    "importLock", "importLockOwner"};

/* Disk reserved per byte of CSV before the import writes: a group's record
 * and index entries take many times its row. */
#define GROUP_IMPORT_DISK_PER_BYTE 40

struct row {
    uint32_t at, line;
    struct csv_cell cell[N_COLUMNS];
    uint64_t gid; /* the existing group, 0 for a new one */
    uint32_t org; /* the organisation the row names or defaults to, 0 if none */
    bool bad;
};

struct gimport {
    struct store *store;
    const struct principal *who;
    const struct group_import_options *opt;
    char *csv;
    struct row *rows;
    size_t n_rows, cap_rows;
    uint32_t *by_ext; /* row indices sorted by externalId */
    struct problem *p;
    const int *col_of; /* the header's column map */
};

static const char *cell_s(const struct gimport *im, const struct row *r, enum column c)
{
    return im->csv + r->at + r->cell[c].off;
}

static struct group_text row_text(const struct gimport *im, const struct row *r)
{
    struct group_text t = {
        cell_s(im, r, COL_EXTID),      cell_s(im, r, COL_NAME),     cell_s(im, r, COL_DESCRIPTION),
        cell_s(im, r, COL_TYPE),       cell_s(im, r, COL_YEAR),     cell_s(im, r, COL_LOCK),
        cell_s(im, r, COL_LOCK_OWNER), r->cell[COL_EXTID].len,      r->cell[COL_NAME].len,
        r->cell[COL_DESCRIPTION].len,  r->cell[COL_TYPE].len,       r->cell[COL_YEAR].len,
        r->cell[COL_LOCK].len,         r->cell[COL_LOCK_OWNER].len,
    };
    return t;
}

/* The row's trimmed externalId (valid once the row is not bad). */
static const char *ext_of(const struct gimport *im, const struct row *r, size_t *len)
{
    *len = r->cell[COL_EXTID].len;
    return text_trim(cell_s(im, r, COL_EXTID), len);
}

/* ---- step 1 ---- */

/* The organisation cell, or the request's default, or the key's only one. */
static void read_org(struct gimport *im, struct row *r)
{
    const char *s = cell_s(im, r, COL_ORG);
    size_t len = r->cell[COL_ORG].len;
    if (!csv_cell_given(s, len)) {
        if (im->opt->have_org)
            r->org = im->opt->org;
        else if (im->who->n_orgs == 1)
            r->org = im->who->orgs[0];
        return;
    }
    s = text_trim(s, &len);
    uint64_t v = 0;
    bool ok = len > 0 && len <= 10;
    for (size_t i = 0; ok && i < len; i++) {
        ok = s[i] >= '0' && s[i] <= '9';
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (!ok || v == 0 || v > UINT32_MAX)
        problem_invalid(im->p, "organisation", "must be a number from 1 to %u", UINT32_MAX);
    else
        r->org = (uint32_t)v;
}

static void add_row(void *ctx, const struct csv_field *f, size_t n, long line)
{
    struct gimport *im = ctx;
    if (im->n_rows == im->cap_rows) {
        im->cap_rows = im->cap_rows ? 2 * im->cap_rows : 1024;
        im->rows = realloc(im->rows, im->cap_rows * sizeof *im->rows);
        if (!im->rows)
            abort();
    }
    struct row *r = &im->rows[im->n_rows++];
    memset(r, 0, sizeof *r);
    r->line = (uint32_t)line;
    r->at = csv_cells(im->csv, f, n, im->col_of, N_COLUMNS, r->cell);
    im->p->line = line;
    size_t before = im->p->entries;
    struct group_text t = row_text(im, r);
    struct group_patch patch;
    group_patch_from_text(&t, &patch, im->p);
    group_patch_free(&patch);
    read_org(im, r);
    im->p->line = 0;
    r->bad = im->p->entries != before;
}

/* ---- step 2 ---- */

static int cmp_ext(const void *a, const void *b, void *ctx)
{
    const struct gimport *im = ctx;
    const struct row *x = &im->rows[*(const uint32_t *)a], *y = &im->rows[*(const uint32_t *)b];
    size_t xl, yl;
    const char *xs = ext_of(im, x, &xl), *ys = ext_of(im, y, &yl);
    int c = memcmp(xs, ys, xl < yl ? xl : yl);
    if (!c)
        c = (xl > yl) - (xl < yl);
    /* Equal externalIds stay in file order: the repeat is the later line. */
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

static size_t find_repeats(struct gimport *im)
{
    size_t k = 0;
    for (size_t i = 0; i < im->n_rows; i++)
        if (!im->rows[i].bad)
            im->by_ext[k++] = (uint32_t)i;
    if (k > 1)
        qsort_r(im->by_ext, k, sizeof *im->by_ext, cmp_ext, im);
    for (size_t i = 1; i < k; i++) {
        const struct row *a = &im->rows[im->by_ext[i - 1]];
        struct row *b = &im->rows[im->by_ext[i]];
        size_t al, bl;
        const char *as = ext_of(im, a, &al), *bs = ext_of(im, b, &bl);
        if (al != bl || memcmp(as, bs, al) != 0)
            continue;
        im->p->line = b->line;
        problem_invalid(im->p, "externalId", "repeats the externalId of line %u", a->line);
        im->p->line = 0;
        b->bad = true;
    }
    return k;
}

/* Whether the file names externalId ext (by_ext sorted, bad rows out). */
static bool in_file(const struct gimport *im, size_t n_sorted, const char *ext, size_t len)
{
    size_t lo = 0, hi = n_sorted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        size_t ml;
        const char *ms = ext_of(im, &im->rows[im->by_ext[mid]], &ml);
        int c = memcmp(ms, ext, ml < len ? ml : len);
        if (!c)
            c = (ml > len) - (ml < len);
        if (!c)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* ---- step 3 ---- */

static void row_problem(struct gimport *im, struct row *r, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void row_problem(struct gimport *im, struct row *r, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    problem_vinvalid_at(im->p, r->line, field, fmt, ap);
    va_end(ap);
    r->bad = true;
}

static int resolve(struct gimport *im, MDB_txn *txn, struct row *r, long *outside)
{
    size_t len;
    const char *ext = ext_of(im, r, &len);
    uint64_t id;
    int rc = store_group_by_extid(im->store, txn, im->who->top_organisation, ext, len, &id);
    if (rc == STORE_ABSENT) {
        if (!csv_cell_given(cell_s(im, r, COL_NAME), r->cell[COL_NAME].len))
            row_problem(im, r, "name", "is required for a new group");
        else if (!r->org)
            row_problem(im, r, "organisation",
                        "is required for a new group (a column, or the organisation parameter)");
        else if (!principal_covers(im->who, r->org) && !*outside)
            *outside = r->line;
        return 0;
    }
    struct group_record rec;
    if (!rc)
        rc = store_group_get(im->store, txn, id, &rec);
    if (rc)
        return rc;
    if (!principal_covers(im->who, rec.organisation))
        row_problem(im, r, "externalId", "is held by a group outside this key's organisations");
    else if (rec.flags & GROUP_FLAG_DELETED)
        row_problem(im, r, "externalId", "names deleted group %llu: restore or purge it first",
                    (unsigned long long)rec.id);
    else if (csv_cell_given(cell_s(im, r, COL_ORG), r->cell[COL_ORG].len) &&
             r->org != rec.organisation)
        row_problem(im, r, "organisation", "cannot change: the group belongs to organisation %u",
                    rec.organisation);
    r->gid = rec.id;
    r->org = rec.organisation;
    return 0;
}

/* ---- step 4 ---- */

struct ids {
    uint64_t *v;
    size_t n, cap;
};

static void ids_push(struct ids *x, uint64_t id)
{
    if (x->n == x->cap) {
        x->cap = x->cap ? 2 * x->cap : 256;
        x->v = realloc(x->v, x->cap * sizeof *x->v);
        if (!x->v)
            abort();
    }
    x->v[x->n++] = id;
}

/* The active groups of one partition whose externalId the file lacks. */
struct missing {
    struct gimport *im;
    size_t n_sorted;
    struct ids *out;
};

static int no_count(void *ctx, uint64_t n)
{
    (void)ctx;
    (void)n;
    return 0;
}

static int missing_one(void *ctx, const struct group_record *rec)
{
    struct missing *m = ctx;
    struct gimport *im = m->im;
    if (!rec->external_id_len || in_file(im, m->n_sorted, rec->external_id, rec->external_id_len))
        return 0;
    if ((rec->flags & GROUP_FLAG_IMPORT_LOCK) && im->who->role < ROLE_ADMIN) {
        problem_set(im->p, 423, "locked",
                    "group %llu is import-locked and would be archived; only an admin "
                    "key may change it",
                    (unsigned long long)rec->id);
        return -1;
    }
    ids_push(m->out, rec->id);
    return 0;
}

static int missing_in(struct gimport *im, MDB_txn *txn, const uint32_t *org, size_t n_sorted,
                      struct ids *out)
{
    struct store_query q = {0};
    q.top = im->who->top_organisation;
    q.statuses = GROUP_ACTIVE;
    q.org = org;
    q.sort = GROUP_SORT_ID;
    struct missing m = {im, n_sorted, out};
    struct store_rows rows = {no_count, missing_one, &m};
    return store_search(im->store, txn, &q, &rows);
}

static int find_missing(struct gimport *im, MDB_txn *txn, size_t n_sorted, struct ids *out)
{
    if (im->opt->have_org)
        return missing_in(im, txn, &im->opt->org, n_sorted, out);
    if (!im->who->n_orgs)
        return missing_in(im, txn, NULL, n_sorted, out);
    int rc = 0;
    for (size_t i = 0; i < im->who->n_orgs && !rc; i++)
        rc = missing_in(im, txn, &im->who->orgs[i], n_sorted, out);
    return rc;
}

/* ---- step 5 ---- */

void import_writer(const struct principal *who, int64_t now, struct store_writer *w)
{
    *w = (struct store_writer){who->top_organisation,
                               who->orgs,
                               who->n_orgs,
                               who->role >= ROLE_ADMIN,
                               who->actor,
                               now,
                               true};
}

int import_result(const struct store_result *r, struct problem *p)
{
    switch (r->status) {
    case STORE_OK: return 0;
    case STORE_LOCKED:
        problem_set(p, 423, "locked",
                    "group %llu is import-locked; only an admin key may change it",
                    (unsigned long long)r->group.id);
        return -1;
    case STORE_CONFLICT: store_conflict_problems(r, NULL, false, p); return -1;
    case STORE_NO_GROUP:
    case STORE_NO_PARTICIPANT:
    case STORE_NO_EVENT:
        /* The import resolved its groups in this transaction. */
        problem_set(p, 500, "internal_error", "a group of the import disappeared");
        return -1;
    case STORE_FROZEN:
        problem_set(p, 503, "unavailable",
                    "this tenant is being moved to another shard; try again in a moment");
        return -1;
    case STORE_FULL:
    case STORE_FAILED: break;
    }
    return r->rc ? r->rc : -1;
}

int import_participants(struct store *s, MDB_txn *txn, const struct store_writer *w, uint64_t gid,
                        const struct participant_patch *parts, size_t n, enum pkey match,
                        bool replace, struct store_counts *counts, struct problem *conflicts,
                        struct problem *p)
{
    struct store_name g = {gid, NULL, 0, false, GROUP_ACTIVE | GROUP_ARCHIVED | GROUP_DELETED};
    struct store_result r;
    store_result_init(&r);
    store_sync_participants(s, txn, w, &g, parts, n, match, replace, &r);
    int rc = 0;
    if (r.status == STORE_CONFLICT)
        store_conflict_problems(&r, NULL, false, conflicts);
    else
        rc = import_result(&r, p);
    if (r.status == STORE_OK)
        *counts = r.counts;
    store_result_free(&r);
    return rc;
}

int group_import_upsert(struct store *s, MDB_txn *txn, const struct principal *who, uint64_t gid,
                        uint32_t org, const struct group_patch *patch, int64_t now,
                        enum group_upsert *out, struct problem *p)
{
    struct store_writer w;
    import_writer(who, now, &w);
    struct store_name g = {gid, NULL, 0, false, GROUP_ACTIVE | GROUP_ARCHIVED | GROUP_DELETED};
    struct store_result r;
    store_result_init(&r);
    store_upsert_group(s, txn, &w, &g, org, patch, &r);
    *out = r.counts.created   ? GROUP_UPSERT_CREATED
           : r.counts.updated ? GROUP_UPSERT_UPDATED
                              : GROUP_UPSERT_UNCHANGED;
    int rc = import_result(&r, p);
    store_result_free(&r);
    return rc;
}

int group_import_archive(struct store *s, MDB_txn *txn, const struct principal *who, uint64_t gid,
                         int64_t now, struct problem *p)
{
    struct group_record rec;
    int rc = store_group_get(s, txn, gid, &rec);
    if (rc || (rec.flags & GROUP_FLAG_ARCHIVED))
        return rc; /* archived already: nothing to do, locked or not */
    struct store_writer w;
    import_writer(who, now, &w);
    struct store_name g = {gid, NULL, 0, false, GROUP_ACTIVE | GROUP_ARCHIVED | GROUP_DELETED};
    struct store_result r;
    store_result_init(&r);
    store_archive_group(s, txn, &w, &g, true, &r);
    rc = import_result(&r, p);
    store_result_free(&r);
    return rc;
}

static int write_row(struct gimport *im, MDB_txn *txn, const struct row *r, int64_t now,
                     struct group_import_summary *sum)
{
    struct group_text t = row_text(im, r);
    struct group_patch patch;
    struct problem ignore;
    problem_init(&ignore);
    group_patch_from_text(&t, &patch, &ignore);
    problem_free(&ignore);
    enum group_upsert how;
    int rc = group_import_upsert(im->store, txn, im->who, r->gid, r->org, &patch, now, &how, im->p);
    group_patch_free(&patch);
    if (!rc) {
        sum->created += how == GROUP_UPSERT_CREATED;
        sum->updated += how == GROUP_UPSERT_UPDATED;
        sum->unchanged += how == GROUP_UPSERT_UNCHANGED;
    }
    return rc;
}

/* ---- the whole import ---- */

/* Steps 3 to 5 inside txn: 0 when written, -1 when p holds the refusal. */
static int import_in(struct gimport *im, MDB_txn *txn, size_t n_sorted,
                     struct group_import_summary *sum)
{
    long outside = 0;
    int rc = 0;
    for (size_t i = 0; i < im->n_rows && !rc; i++)
        if (!im->rows[i].bad)
            rc = resolve(im, txn, &im->rows[i], &outside);
    if (rc)
        return rc;
    if (problem_any(im->p))
        return -1;
    if (outside) {
        problem_set(im->p, 403, "forbidden",
                    "line %ld names an organisation outside this key's scope", outside);
        return -1;
    }
    struct ids missing = {NULL, 0, 0};
    if (im->opt->archive_missing)
        rc = find_missing(im, txn, n_sorted, &missing);
    int64_t now = clock_now_ms();
    for (size_t i = 0; i < im->n_rows && !rc; i++)
        rc = write_row(im, txn, &im->rows[i], now, sum);
    for (size_t i = 0; i < missing.n && !rc; i++)
        rc = group_import_archive(im->store, txn, im->who, missing.v[i], now, im->p);
    if (!rc)
        sum->archived = missing.n;
    free(missing.v);
    return rc;
}

int group_import_csv(struct store *s, const struct principal *who, char *csv_text, size_t len,
                     const struct group_import_options *opt, struct group_import_summary *sum,
                     struct problem *p)
{
    memset(sum, 0, sizeof *sum);
    struct gimport im;
    memset(&im, 0, sizeof im);
    im.store = s;
    im.who = who;
    im.opt = opt;
    im.csv = csv_text;
    im.p = p;
    const char *saved_code = p->invalid_code;
    p->invalid_code = "invalid_csv";
    struct csv csv;
    csv_open(&csv, csv_text, len);
    int col_of[N_COLUMNS];
    int rc = -1;
    if (!csv_read_header(&csv, column_names, N_COLUMNS, 1, col_of, p))
        goto out;
    im.col_of = col_of;
    csv_each_record(&csv, add_row, &im, p);
    im.by_ext = malloc((im.n_rows ? im.n_rows : 1) * sizeof *im.by_ext);
    if (!im.by_ext)
        abort();
    /* by_ext[0..n_sorted): the rows that were good when sorted. */
    size_t n_sorted = find_repeats(&im);
    MDB_txn *txn;
    rc = store_import_begin(s, GROUP_IMPORT_DISK_PER_BYTE * len, &txn);
    if (rc)
        goto out;
    rc = import_in(&im, txn, n_sorted, sum);
    if (rc) {
        store_write_abort(txn);
        goto out;
    }
    rc = store_import_commit(s, txn, STORE_IMPORT_GROUPS, im.n_rows);
    sum->rows = im.n_rows;
out:
    p->line = 0;
    p->invalid_code = saved_code;
    free(im.rows);
    free(im.by_ext);
    return rc;
}

void group_import_summary_json(const struct group_import_summary *sum, struct buf *out)
{
    buf_addf(out,
             "{\"imported\":{\"rows\":%zu,\"created\":%zu,\"updated\":%zu,\"unchanged\":%zu,"
             "\"archived\":%zu}}",
             sum->rows, sum->created, sum->updated, sum->unchanged, sum->archived);
}
