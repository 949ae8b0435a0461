/*
 * import.c — bulk import of participants; see include/import.h.
 *
 * The steps, each over the whole file before the next:
 *   1. read the header and every record, checking each row's cells with
 *      the same rules as a JSON participant (participant.c);
 *   2. in the write transaction, resolve each distinct groupId once
 *      (unknown groups are row errors), then find rows that repeat an
 *      e-mail or externalId within a group;
 *   3. refuse with 400 (all row problems: a group the key may not see is
 *      an unknown group) or 423 (an import-locked group, non-admin key);
 *   4. per group, hand its rows to pwrite_sync (the code path of every
 *      other participant write) and rewrite the group's record once.
 * Rows are kept as offsets into the file, not as parsed patches: a patch
 * is rebuilt for one group at a time in step 4, so memory stays at 48
 * bytes per row beyond the file itself.  Of an e-mail only a hash of its
 * comparison form is kept; the few rows whose hashes meet are compared in
 * full.  Each group's rows are written in file order.
 */
#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "csv.h"
#include "email.h"
#include "jsonin.h"
#include "group_import.h"
#include "text.h"

enum column { COL_GROUP, COL_EMAIL, COL_NAME, COL_EXTID, COL_LABELS, N_COLUMNS };

static const char *const column_names[N_COLUMNS] = {"groupId", "email", "name", "externalId",
                                                    "labels"};

/* Disk reserved per byte of CSV before an import writes (store_reserve_disk). */
#define IMPORT_DISK_PER_BYTE 8

struct row {
    uint64_t email_hash; /* fnv1a of the e-mail's comparison form */
    uint32_t at;         /* the record's first byte in the file */
    uint32_t line;
    uint32_t slot; /* index into import.slots */
    struct csv_cell cell[N_COLUMNS];
    bool bad; /* a cell was reported already */
};

struct slot {
    uint64_t gid;
    bool found;
    uint32_t organisation;
    unsigned flags;
};

struct import {
    struct store *store;
    const struct principal *who;
    const struct import_options *opt;
    char *csv;
    struct row *rows;
    size_t n_rows, cap_rows;
    struct buf scratch; /* one comparison form at a time */
    struct slot *slots;
    size_t n_slots;
    uint32_t *order; /* row indices, sorted as a step needs */
    struct problem *p;
    const int *col_of; /* the header's column map */
    MDB_txn *txn;      /* the import's write transaction, while it writes */
};

static const char *cell_s(const struct import *im, const struct row *r, enum column c)
{
    return im->csv + r->at + r->cell[c].off;
}

/* ---- step 1: the header and the rows ---- */

static struct participant_text row_text(const struct import *im, const struct row *r)
{
    struct participant_text t = {
        cell_s(im, r, COL_EMAIL),  cell_s(im, r, COL_NAME), cell_s(im, r, COL_EXTID),
        cell_s(im, r, COL_LABELS), r->cell[COL_EMAIL].len,  r->cell[COL_NAME].len,
        r->cell[COL_EXTID].len,    r->cell[COL_LABELS].len,
    };
    return t;
}

/* Checks the groupId cell: digits (an internal id) or, with external, an
 * externalId. */
static void check_group_cell(const struct import *im, struct row *r)
{
    const char *s = cell_s(im, r, COL_GROUP);
    size_t len = r->cell[COL_GROUP].len;
    if (!len) {
        problem_invalid(im->p, "groupId", "is required");
        return;
    }
    if (im->opt->external) {
        char *v;
        if (!jsonin_check_text(s, len, "groupId", 1, GROUP_EXTERNAL_ID_MAX, &v, im->p))
            return;
        free(v);
        /* Keep the trimmed value: it is what is looked up. */
        const char *t = text_trim(s, &len);
        r->cell[COL_GROUP].off += (uint16_t)(t - s);
        r->cell[COL_GROUP].len = (uint16_t)len;
        return;
    }
    bool digits = len <= 19;
    for (size_t i = 0; digits && i < len; i++)
        digits = s[i] >= '0' && s[i] <= '9';
    if (!digits)
        problem_invalid(im->p, "groupId",
                        "must be a group id (digits); send external=true for externalIds");
}

static void add_row(void *ctx, const struct csv_field *f, size_t n, long line)
{
    struct import *im = ctx;
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
    check_group_cell(im, r);
    struct participant_text t = row_text(im, r);
    struct participant_patch patch;
    participant_patch_from_text(&t, &patch, im->p);
    if (patch.v.email) {
        buf_reset(&im->scratch);
        email_key(patch.v.email, strlen(patch.v.email), &im->scratch);
        r->email_hash = fnv1a(FNV1A_INIT, im->scratch.data, im->scratch.len);
    }
    participant_patch_free(&patch);
    im->p->line = 0;
    r->bad = im->p->entries != before;
}

/* ---- step 2: groups and repeats ---- */

/* Byte order, a prefix first. */
static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

static int cmp_group_cell(const void *a, const void *b, void *ctx)
{
    const struct import *im = ctx;
    const struct row *x = &im->rows[*(const uint32_t *)a], *y = &im->rows[*(const uint32_t *)b];
    const char *xs = cell_s(im, x, COL_GROUP), *ys = cell_s(im, y, COL_GROUP);
    size_t xl = x->cell[COL_GROUP].len, yl = y->cell[COL_GROUP].len;
    if (!im->opt->external) {
        /* Digits: compare as numbers ("012" is group 12). */
        while (xl > 1 && *xs == '0')
            xs++, xl--;
        while (yl > 1 && *ys == '0')
            ys++, yl--;
    }
    if (xl != yl && !im->opt->external)
        return xl < yl ? -1 : 1;
    return cmp_bytes(xs, xl, ys, yl);
}

static int resolve(struct import *im, MDB_txn *txn, const struct row *r, struct slot *slot)
{
    const char *s = cell_s(im, r, COL_GROUP);
    size_t len = r->cell[COL_GROUP].len;
    uint64_t gid = 0;
    int rc;
    if (im->opt->external) {
        rc = store_group_by_extid(im->store, txn, im->who->top_organisation, s, len, &gid);
    } else {
        rc = len && len <= 19 ? 0 : STORE_ABSENT;
        for (size_t i = 0; !rc && i < len; i++) {
            if (s[i] < '0' || s[i] > '9')
                rc = STORE_ABSENT;
            gid = gid * 10 + (uint64_t)(s[i] - '0');
        }
    }
    struct group_record rec;
    if (!rc)
        rc = store_group_get(im->store, txn, gid, &rec);
    if (rc == STORE_ABSENT)
        return 0;
    if (rc)
        return rc;
    /* Other tenants' groups, groups outside a restricted key's
     * organisations and deleted groups do not exist here. */
    if (rec.top_organisation != im->who->top_organisation ||
        !principal_covers(im->who, rec.organisation) || (rec.flags & GROUP_FLAG_DELETED))
        return 0;
    slot->found = true;
    slot->gid = gid;
    slot->organisation = rec.organisation;
    slot->flags = rec.flags;
    return 0;
}

static int resolve_groups(struct import *im, MDB_txn *txn)
{
    for (size_t i = 0; i < im->n_rows; i++)
        im->order[i] = (uint32_t)i;
    qsort_r(im->order, im->n_rows, sizeof *im->order, cmp_group_cell, im);
    im->slots = calloc(im->n_rows ? im->n_rows : 1, sizeof *im->slots);
    if (!im->slots)
        abort();
    for (size_t i = 0; i < im->n_rows; i++) {
        struct row *r = &im->rows[im->order[i]];
        if (i == 0 || cmp_group_cell(&im->order[i - 1], &im->order[i], im) != 0) {
            int rc = resolve(im, txn, r, &im->slots[im->n_slots++]);
            if (rc)
                return rc;
        }
        r->slot = (uint32_t)(im->n_slots - 1);
    }
    return 0;
}

/* Repeats within a group are found in two sorts: rows by group, then by a
 * sort key (the e-mail's hash, or the trimmed externalId), then by line;
 * then each run of rows sharing group and sort key is sorted again by its
 * full key, so a hash collision costs a sort of its run, never a
 * comparison of every pair. */
struct by_key {
    const struct import *im;
    enum column col; /* COL_EMAIL or COL_EXTID */
};

static const char *extid_of(const struct import *im, const struct row *r, size_t *len)
{
    *len = r->cell[COL_EXTID].len;
    const char *s = cell_s(im, r, COL_EXTID);
    return *len ? text_trim(s, len) : s;
}

static int cmp_sort_key(const struct by_key *k, const struct row *x, const struct row *y)
{
    if (x->slot != y->slot)
        return x->slot < y->slot ? -1 : 1;
    if (k->col == COL_EMAIL)
        return (x->email_hash > y->email_hash) - (x->email_hash < y->email_hash);
    size_t xl, yl;
    const char *xs = extid_of(k->im, x, &xl), *ys = extid_of(k->im, y, &yl);
    return cmp_bytes(xs, xl, ys, yl);
}

static int cmp_key(const void *a, const void *b, void *ctx)
{
    const struct by_key *k = ctx;
    const struct row *x = &k->im->rows[*(const uint32_t *)a],
                     *y = &k->im->rows[*(const uint32_t *)b];
    int c = cmp_sort_key(k, x, y);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Appends a row's full key: the e-mail's comparison form, computed again
 * as step 1 did, or the trimmed externalId. */
static void add_full_key(const struct import *im, const struct row *r, enum column col,
                         struct buf *out)
{
    if (col == COL_EXTID) {
        size_t len;
        const char *s = extid_of(im, r, &len);
        buf_add(out, s, len);
        return;
    }
    struct participant_text t = row_text(im, r);
    struct participant_patch patch;
    struct problem ignore;
    problem_init(&ignore);
    participant_patch_from_text(&t, &patch, &ignore);
    problem_free(&ignore);
    if (patch.v.email)
        email_key(patch.v.email, strlen(patch.v.email), out);
    participant_patch_free(&patch);
}

struct run_key {
    uint32_t off, len, line;
};

static int cmp_run_key(const void *a, const void *b, void *ctx)
{
    const char *keys = ctx;
    const struct run_key *x = a, *y = b;
    int c = cmp_bytes(keys + x->off, x->len, keys + y->off, y->len);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Reports every row of rows[0..n) (one group, one sort key, good rows
 * only) whose full key an earlier line has. */
static void report_run(struct import *im, enum column col, const uint32_t *rows, size_t n)
{
    struct run_key *rk = malloc(n * sizeof *rk);
    if (!rk)
        abort();
    struct buf keys = BUF_INIT;
    buf_reserve(&keys, 64);
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &im->rows[rows[i]];
        rk[i].off = (uint32_t)keys.len;
        add_full_key(im, r, col, &keys);
        rk[i].len = (uint32_t)(keys.len - rk[i].off);
        rk[i].line = r->line;
    }
    qsort_r(rk, n, sizeof *rk, cmp_run_key, keys.data);
    for (size_t i = 1; i < n; i++) {
        if (!rk[i].len || cmp_bytes(keys.data + rk[i - 1].off, rk[i - 1].len, keys.data + rk[i].off,
                                    rk[i].len) != 0)
            continue;
        im->p->line = rk[i].line;
        problem_invalid(im->p, column_names[col], "repeats line %u for the same group",
                        (unsigned)rk[i - 1].line);
        im->p->line = 0;
    }
    buf_free(&keys);
    free(rk);
}

static void find_repeats(struct import *im, enum column col)
{
    struct by_key k = {im, col};
    if (im->n_rows > 1)
        qsort_r(im->order, im->n_rows, sizeof *im->order, cmp_key, &k);
    uint32_t *run = malloc((im->n_rows ? im->n_rows : 1) * sizeof *run);
    if (!run)
        abort();
    for (size_t i = 0, j; i < im->n_rows; i = j) {
        const struct row *first = &im->rows[im->order[i]];
        size_t n = 0;
        for (j = i; j < im->n_rows; j++) {
            const struct row *r = &im->rows[im->order[j]];
            if (j > i && cmp_sort_key(&k, first, r) != 0)
                break;
            if (!r->bad)
                run[n++] = im->order[j];
        }
        bool keyed = col == COL_EMAIL || first->cell[COL_EXTID].len;
        if (n > 1 && keyed)
            report_run(im, col, run, n);
    }
    free(run);
}

/* Rows by group, then in file order: how step 4 writes them. */
static int cmp_file_order(const void *a, const void *b, void *ctx)
{
    const struct import *im = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (im->rows[x].slot != im->rows[y].slot)
        return im->rows[x].slot < im->rows[y].slot ? -1 : 1;
    return (x > y) - (x < y);
}

/* ---- step 4: writing ---- */

static int write_group(struct import *im, const struct store_writer *w, const struct slot *slot,
                       const uint32_t *rows, size_t n, struct import_summary *sum,
                       struct problem *conflicts)
{
    struct participant_patch *patches = calloc(n, sizeof *patches);
    if (!patches)
        abort();
    struct problem ignore;
    problem_init(&ignore);
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &im->rows[rows[i]];
        struct participant_text t = row_text(im, r);
        ignore.line = r->line;
        participant_patch_from_text(&t, &patches[i], &ignore);
    }
    problem_free(&ignore);
    struct store_counts counts = {0};
    int rc = import_participants(im->store, im->txn, w, slot->gid, patches, n, PKEY_EMAIL,
                                 im->opt->replace, &counts, conflicts, im->p);
    participant_list_free(patches, n);
    if (!rc) {
        sum->created += counts.created;
        sum->updated += counts.updated;
        sum->unchanged += counts.unchanged;
        sum->removed += counts.removed;
    }
    return rc;
}

static int write_all(struct import *im, MDB_txn *txn, struct import_summary *sum,
                     struct problem *conflicts)
{
    struct store_writer w;
    import_writer(im->who, clock_now_ms(), &w);
    im->txn = txn;
    /* order is by group, then file order (check_groups). */
    int rc = 0;
    for (size_t i = 0; i < im->n_rows && !rc;) {
        size_t j = i;
        uint32_t slot = im->rows[im->order[i]].slot;
        while (j < im->n_rows && im->rows[im->order[j]].slot == slot)
            j++;
        rc = write_group(im, &w, &im->slots[slot], im->order + i, j - i, sum, conflicts);
        i = j;
    }
    return rc;
}

/* ---- the whole import ---- */

static void import_free(struct import *im)
{
    free(im->rows);
    free(im->slots);
    free(im->order);
    buf_free(&im->scratch);
}

/* Steps 2 and 3 inside txn: 0 to go on, -1 when p holds the refusal. */
static int check_groups(struct import *im, MDB_txn *txn)
{
    int rc = resolve_groups(im, txn);
    if (rc)
        return rc;
    for (size_t i = 0; i < im->n_rows; i++) {
        const struct row *r = &im->rows[im->order[i]];
        if (im->slots[r->slot].found || r->bad)
            continue;
        im->p->line = r->line;
        problem_invalid(im->p, "groupId", "names no group of this organisation");
        im->p->line = 0;
    }
    find_repeats(im, COL_EXTID);
    find_repeats(im, COL_EMAIL);
    if (problem_any(im->p))
        return -1;
    if (im->n_rows > 1)
        qsort_r(im->order, im->n_rows, sizeof *im->order, cmp_file_order, im);
    for (size_t i = 0; i < im->n_slots; i++) {
        if ((im->slots[i].flags & GROUP_FLAG_IMPORT_LOCK) && im->who->role < ROLE_ADMIN) {
            problem_set(im->p, 423, "locked",
                        "group %llu is import-locked; only an admin key may change it",
                        (unsigned long long)im->slots[i].gid);
            return -1;
        }
    }
    return 0;
}

int import_csv(struct store *s, const struct principal *who, char *csv_text, size_t len,
               const struct import_options *opt, struct import_summary *sum, struct problem *p)
{
    memset(sum, 0, sizeof *sum);
    struct import im;
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
    /* Without a usable header (groupId and email are required) there are
     * no rows to speak of; bad rows are reported together with unknown
     * groups and repeats below. */
    if (!csv_read_header(&csv, column_names, N_COLUMNS, 2, col_of, p))
        goto out;
    im.col_of = col_of;
    csv_each_record(&csv, add_row, &im, p);
    im.order = malloc((im.n_rows ? im.n_rows : 1) * sizeof *im.order);
    if (!im.order)
        abort();
    MDB_txn *txn;
    /* The records and index entries of a row take a few times its bytes. */
    rc = store_import_begin(s, IMPORT_DISK_PER_BYTE * len, &txn);
    if (rc)
        goto out;
    rc = check_groups(&im, txn);
    struct problem conflicts;
    problem_init(&conflicts);
    if (!rc)
        rc = write_all(&im, txn, sum, &conflicts);
    if (!rc && problem_any(&conflicts)) {
        problem_free(p);
        *p = conflicts;
        problem_init(&conflicts);
        rc = -1;
    }
    problem_free(&conflicts);
    if (rc) {
        store_write_abort(txn);
        goto out;
    }
    rc = store_import_commit(s, txn, STORE_IMPORT_PARTICIPANTS, im.n_rows);
    sum->rows = im.n_rows;
    sum->groups = im.n_slots;
out:
    p->invalid_code = saved_code;
    import_free(&im);
    return rc;
}

void import_summary_json(const struct import_summary *sum, struct buf *out)
{
    buf_addf(out,
             "{\"imported\":{\"rows\":%zu,\"created\":%zu,\"updated\":%zu,\"unchanged\":%zu,"
             "\"removed\":%zu,\"groups\":%zu}}",
             sum->rows, sum->created, sum->updated, sum->unchanged, sum->removed, sum->groups);
}
