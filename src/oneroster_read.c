/*
 * oneroster_read.c — a OneRoster CSV export into tables; see
 * src/oneroster_private.h.
 *
 * The manifest (propertyName,value) gives the version and how each file is
 * sent (file.<name> = bulk, delta or absent); an export without one is
 * OneRoster 1.0, every file it holds in bulk.  Each file is then checked
 * whole: valid UTF-8 without NUL bytes, a header naming every required
 * column (found by name, in any case and order; other columns, metadata.*
 * and the other version's, are ignored), and each row's values.  A
 * sourcedId twice in one file is a problem at its second line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oneroster_private.h"
#include "participant.h"
#include "text.h"

struct spec {
    const char *key; /* the manifest's file.<key> */
    const char *cols[RO_MAX_COLS];
    int n_cols;
    unsigned required; /* bits of the columns a header must name */
};

/* The CSV binding's column names; required: what OneRoster 1.1 and 1.2
 * both require among the columns read (users' role columns differ, so
 * neither is read from users.csv: the enrollment carries the role). */
static const struct spec specs[RO_N_TABLES] = {
    [RO_CLASSES] = {"classes",
                    {"sourcedId", "status", "title", "courseSourcedId", "classType",
                     "schoolSourcedId", "termSourcedIds"},
                    7,
                    1u << CL_ID | 1u << CL_TITLE | 1u << CL_COURSE | 1u << CL_TYPE |
                        1u << CL_SCHOOL | 1u << CL_TERMS},
    [RO_USERS] = {"users",
                  {"sourcedId", "status", "enabledUser", "givenName", "familyName", "email",
                   "preferredGivenName", "preferredFamilyName", "preferredFirstName",
                   "preferredLastName"},
                  10,
                  1u << US_ID | 1u << US_ENABLED | 1u << US_GIVEN | 1u << US_FAMILY},
    [RO_ENROLLMENTS] = {"enrollments",
                        {"sourcedId", "status", "classSourcedId", "schoolSourcedId",
                         "userSourcedId", "role"},
                        6,
                        1u << EN_ID | 1u << EN_CLASS | 1u << EN_SCHOOL | 1u << EN_USER |
                            1u << EN_ROLE},
    [RO_SESSIONS] = {"academicSessions",
                     {"sourcedId", "status", "schoolYear"},
                     3,
                     1u << SE_ID | 1u << SE_YEAR},
    [RO_COURSES] = {"courses", {"sourcedId", "status", "title"}, 3, 1u << CO_ID | 1u << CO_TITLE},
};

static const char *const roles[] = {
    "student",   "teacher",           "administrator",
    "aide",      "guardian",          "parent",
    "proctor",   "relative",          "districtAdministrator",
    "principal", "siteAdministrator", "systemAdministrator",
};
#define N_ROLES (sizeof roles / sizeof roles[0])

bool ro_is(const char *s, size_t len, const char *w)
{
    return strlen(w) == len && strncasecmp(s, w, len) == 0;
}

unsigned ro_role_bit(const char *s, size_t len)
{
    for (size_t i = 0; i < N_ROLES; i++)
        if (ro_is(s, len, roles[i]))
            return 1u << i;
    return 0;
}

const char *ro_role_name(unsigned bit)
{
    for (size_t i = 0; i < N_ROLES; i++)
        if (bit == 1u << i)
            return roles[i];
    return "";
}

const char *ro_cell(const struct ro_table *t, const struct ro_row *r, int col, size_t *len)
{
    *len = r->cell[col].len;
    const char *s = t->data + r->at + r->cell[col].off;
    return *len ? text_trim(s, len) : s;
}

/* ---- the rows of one file ---- */

struct reading {
    struct ro_table *t;
    enum ro_kind kind;
    struct problem *p;
    struct buf name; /* scratch for a user's name */
};

void ro_user_name(const struct ro_table *u, const struct ro_row *r, struct buf *out)
{
    size_t gl, fl;
    const char *given = ro_cell(u, r, US_PGIVEN, &gl);
    if (!gl)
        given = ro_cell(u, r, US_PFIRST, &gl);
    if (!gl)
        given = ro_cell(u, r, US_GIVEN, &gl);
    const char *family = ro_cell(u, r, US_PFAMILY, &fl);
    if (!fl)
        family = ro_cell(u, r, US_PLAST, &fl);
    if (!fl)
        family = ro_cell(u, r, US_FAMILY, &fl);
    buf_reset(out);
    buf_add(out, given, gl);
    if (gl && fl)
        buf_addc(out, ' ');
    buf_add(out, family, fl);
}

static void row_problem(struct reading *rd, struct ro_row *r, const char *field, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));

static void row_problem(struct reading *rd, struct ro_row *r, const char *field, const char *fmt,
                        ...)
{
    va_list ap;
    va_start(ap, fmt);
    problem_vinvalid_at(rd->p, r->line, field, fmt, ap);
    va_end(ap);
    r->bad = true;
}

/* The checks of one row that need no other file. */
static void check_row(struct reading *rd, struct ro_row *r)
{
    const struct ro_table *t = rd->t;
    const char *const *cols = specs[rd->kind].cols;
    size_t len;
    const char *s = ro_cell(t, r, 1, &len);
    if (!len || ro_is(s, len, "active"))
        r->status = RO_ACTIVE;
    else if (ro_is(s, len, "tobedeleted") || ro_is(s, len, "inactive"))
        r->status = RO_TOBEDELETED; /* inactive: OneRoster 1.0's word for it */
    else
        row_problem(rd, r, "status", "must be active or tobedeleted, not %.*s", (int)len, s);
    ro_cell(t, r, 0, &len);
    if (!len)
        row_problem(rd, r, cols[0], "is required");
    if (r->status == RO_TOBEDELETED)
        return; /* only its sourcedId counts */
    switch (rd->kind) {
    case RO_CLASSES:
        ro_cell(t, r, CL_TITLE, &len);
        if (!len)
            row_problem(rd, r, "title", "is required");
        break;
    case RO_USERS: {
        s = ro_cell(t, r, US_ENABLED, &len);
        if (len && !ro_is(s, len, "true") && !ro_is(s, len, "false"))
            row_problem(rd, r, "enabledUser", "must be true or false");
        /* The participant it would become, checked by a participant's rules. */
        size_t el, il;
        const char *email = ro_cell(t, r, US_EMAIL, &el);
        const char *id = ro_cell(t, r, US_ID, &il);
        if (!el)
            break;
        ro_user_name(t, r, &rd->name);
        struct participant_text pt = {
            email, rd->name.data ? rd->name.data : "", id, "", el, rd->name.len, il, 0};
        struct participant_patch patch;
        size_t before = rd->p->entries;
        rd->p->line = r->line;
        participant_patch_from_text(&pt, &patch, rd->p);
        rd->p->line = 0;
        participant_patch_free(&patch);
        r->bad |= rd->p->entries != before;
        break;
    }
    case RO_ENROLLMENTS:
        ro_cell(t, r, EN_CLASS, &len);
        if (!len)
            row_problem(rd, r, "classSourcedId", "is required");
        ro_cell(t, r, EN_USER, &len);
        if (!len)
            row_problem(rd, r, "userSourcedId", "is required");
        s = ro_cell(t, r, EN_ROLE, &len);
        if (!ro_role_bit(s, len))
            row_problem(rd, r, "role",
                        "must be one of OneRoster's roles (student, teacher, ...), "
                        "not \"%.*s\"",
                        (int)(len > 64 ? 64 : len), s);
        break;
    case RO_SESSIONS: {
        s = ro_cell(t, r, SE_YEAR, &len);
        int year = 0;
        bool ok = len == 4;
        for (size_t i = 0; ok && i < len; i++) {
            ok = s[i] >= '0' && s[i] <= '9';
            year = year * 10 + (s[i] - '0');
        }
        if (len && (!ok || year < 1900 || year > 2999))
            row_problem(rd, r, "schoolYear", "must be a year from 1900 to 2999");
        break;
    }
    default: break;
    }
}

static void add_row(void *ctx, const struct csv_field *f, size_t n, long line)
{
    struct reading *rd = ctx;
    struct ro_table *t = rd->t;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 1024;
        t->rows = realloc(t->rows, t->cap * sizeof *t->rows);
        if (!t->rows)
            abort();
    }
    struct ro_row *r = &t->rows[t->n++];
    memset(r, 0, sizeof *r);
    r->line = (uint32_t)line;
    r->at = csv_cells(t->data, f, n, t->col_of, specs[rd->kind].n_cols, r->cell);
    check_row(rd, r);
}

/* The line of data[at] (the header is line 1). */
static long line_of(const char *data, size_t at)
{
    long line = 1;
    for (size_t i = 0; i < at; i++)
        line += data[i] == '\n';
    return line;
}

/* A file must be UTF-8 text without NUL bytes; the first bad line is named. */
static bool text_ok(struct ro_table *t, size_t len, struct problem *p)
{
    const char *nul = memchr(t->data, '\0', len);
    if (nul) {
        problem_add(p, 400, "invalid_csv", line_of(t->data, (size_t)(nul - t->data)), "file",
                    "holds a NUL byte");
        return false;
    }
    if (text_valid_utf8(t->data, len))
        return true;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(t->data + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - t->data) : len;
        if (!text_valid_utf8(t->data + at, end - at)) {
            problem_add(p, 400, "invalid_csv", line_of(t->data, at), "file", "is not valid UTF-8");
            return false;
        }
        at = end + 1;
    }
    return false;
}

static int cmp_id(const void *a, const void *b, void *ctx)
{
    const struct ro_table *t = ctx;
    const struct ro_row *x = &t->rows[*(const uint32_t *)a], *y = &t->rows[*(const uint32_t *)b];
    size_t xl, yl;
    const char *xs = ro_cell(t, x, 0, &xl), *ys = ro_cell(t, y, 0, &yl);
    int c = memcmp(xs, ys, xl < yl ? xl : yl);
    if (!c)
        c = (xl > yl) - (xl < yl);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Sorts the rows by sourcedId; a repeat is a problem at its later line. */
static void index_ids(struct reading *rd)
{
    struct ro_table *t = rd->t;
    t->by_id = malloc((t->n ? t->n : 1) * sizeof *t->by_id);
    if (!t->by_id)
        abort();
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++) {
        size_t len;
        ro_cell(t, &t->rows[i], 0, &len);
        if (len)
            t->by_id[k++] = (uint32_t)i;
    }
    if (k > 1)
        qsort_r(t->by_id, k, sizeof *t->by_id, cmp_id, t);
    size_t out = 0;
    for (size_t i = 0; i < k; i++) {
        struct ro_row *r = &t->rows[t->by_id[i]];
        if (out) {
            const struct ro_row *prev = &t->rows[t->by_id[out - 1]];
            size_t pl, rl;
            const char *ps = ro_cell(t, prev, 0, &pl), *rs = ro_cell(t, r, 0, &rl);
            if (pl == rl && memcmp(ps, rs, pl) == 0) {
                row_problem(rd, r, "sourcedId", "repeats the sourcedId of line %u", prev->line);
                continue;
            }
        }
        t->by_id[out++] = t->by_id[i];
    }
    t->n_by_id = out;
}

struct ro_row *ro_find(const struct ro_table *t, const char *id, size_t len)
{
    size_t lo = 0, hi = t->n_by_id;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        struct ro_row *r = &t->rows[t->by_id[mid]];
        size_t ml;
        const char *ms = ro_cell(t, r, 0, &ml);
        int c = memcmp(ms, id, ml < len ? ml : len);
        if (!c)
            c = (ml > len) - (ml < len);
        if (!c)
            return r;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Reads one file; false when it cannot be read at all (its text, its
 * header), as opposed to rows with problems. */
static bool read_table(struct ro_table *t, enum ro_kind kind, size_t len, struct problem *p)
{
    p->file = t->file;
    struct reading rd = {t, kind, p, BUF_INIT};
    bool readable = false;
    if (text_ok(t, len, p)) {
        const struct spec *sp = &specs[kind];
        struct csv csv;
        csv_open(&csv, t->data, len);
        size_t before = p->entries;
        csv_read_header(&csv, sp->cols, sp->n_cols, 1, t->col_of, p);
        for (int c = 1; c < sp->n_cols && p->entries == before; c++) {
            bool needed = (sp->required >> c & 1) || (c == 1 && t->mode == RO_DELTA);
            if (needed && t->col_of[c] < 0)
                problem_add(p, 400, "invalid_csv", 1, sp->cols[c], "is a required column%s",
                            c == 1 ? " in a delta file" : "");
        }
        if (p->entries == before) {
            readable = true;
            csv_each_record(&csv, add_row, &rd, p);
            index_ids(&rd);
        }
    }
    buf_free(&rd.name);
    p->file = NULL;
    return readable;
}

/* ---- the manifest ---- */

static bool read_manifest(struct roster_file *mf, struct ro_export *x, enum ro_mode modes[],
                          struct problem *p)
{
    static const char *const cols[] = {"propertyName", "value"};
    p->file = "manifest.csv";
    struct csv csv;
    csv_open(&csv, mf->data, mf->len);
    int col_of[2];
    bool ok = !memchr(mf->data, '\0', mf->len) && text_valid_utf8(mf->data, mf->len);
    if (!ok)
        problem_add(p, 400, "invalid_csv", 0, "file", "is not UTF-8 text");
    else
        ok = csv_read_header(&csv, cols, 2, 2, col_of, p);
    struct csv_field f[CSV_MAX_FIELDS];
    size_t n;
    long line;
    const char *error;
    enum csv_status st;
    while (ok && (st = csv_next(&csv, f, CSV_MAX_FIELDS, &n, &line, &error)) != CSV_END) {
        if (st != CSV_RECORD) {
            problem_add(p, 400, "invalid_csv", line, "record", "%s", error);
            ok = false;
            break;
        }
        if ((size_t)col_of[0] >= n || (size_t)col_of[1] >= n)
            continue;
        size_t kl = f[col_of[0]].len, vl = f[col_of[1]].len;
        const char *k = text_trim(f[col_of[0]].s, &kl), *v = text_trim(f[col_of[1]].s, &vl);
        if (ro_is(k, kl, "oneroster.version")) {
            if (!ro_is(v, vl, "1.0") && !ro_is(v, vl, "1.1") && !ro_is(v, vl, "1.2")) {
                problem_add(p, 400, "invalid_csv", line, "oneroster.version",
                            "must be 1.0, 1.1 or 1.2, not \"%.*s\"", (int)(vl > 32 ? 32 : vl), v);
                ok = false;
            } else {
                snprintf(x->version, sizeof x->version, "%.*s", (int)vl, v);
            }
        } else if (ro_is(k, kl, "source.systemName")) {
            snprintf(x->system_name, sizeof x->system_name, "%.*s", (int)vl, v);
        } else if (kl > 5 && strncasecmp(k, "file.", 5) == 0) {
            for (int i = 0; i < RO_N_TABLES; i++) {
                if (!ro_is(k + 5, kl - 5, specs[i].key))
                    continue;
                if (ro_is(v, vl, "bulk"))
                    modes[i] = RO_BULK;
                else if (ro_is(v, vl, "delta"))
                    modes[i] = RO_DELTA;
                else if (vl && !ro_is(v, vl, "absent")) {
                    problem_add(p, 400, "invalid_csv", line, "value",
                                "file.%s must be bulk, delta or absent", specs[i].key);
                    ok = false;
                }
            }
        }
    }
    p->file = NULL;
    return ok;
}

bool ro_read(struct roster_files *rf, struct ro_export *x, struct problem *p)
{
    memset(x, 0, sizeof *x);
    snprintf(x->version, sizeof x->version, "1.0");
    static const char *const files[RO_N_TABLES] = {"classes.csv", "users.csv", "enrollments.csv",
                                                   "academicSessions.csv", "courses.csv"};
    enum ro_mode modes[RO_N_TABLES] = {RO_ABSENT};
    struct roster_file *mf = roster_files_get(rf, "manifest.csv");
    if (mf) {
        if (!read_manifest(mf, x, modes, p))
            return false;
    } else {
        for (int i = 0; i < RO_N_TABLES; i++)
            modes[i] = roster_files_get(rf, files[i]) ? RO_BULK : RO_ABSENT;
    }
    for (int i = 0; i < RO_N_TABLES; i++) {
        struct ro_table *t = &x->t[i];
        t->file = files[i];
        t->mode = modes[i];
        for (int c = 0; c < RO_MAX_COLS; c++)
            t->col_of[c] = -1;
        struct roster_file *f = roster_files_get(rf, files[i]);
        if (t->mode != RO_ABSENT && !f) {
            char field[64];
            snprintf(field, sizeof field, "file.%s", specs[i].key);
            p->file = "manifest.csv";
            problem_add(p, 400, "invalid_csv", 0, field, "is %s but the export has no %s",
                        t->mode == RO_BULK ? "bulk" : "delta", files[i]);
            p->file = NULL;
            return false;
        }
    }
    if (!x->t[RO_CLASSES].mode && !x->t[RO_ENROLLMENTS].mode && !x->t[RO_USERS].mode) {
        problem_add(p, 400, "invalid_csv", 0, "classes.csv",
                    "is missing: the export has no classes, enrollments or users to import");
        return false;
    }
    bool readable = true;
    for (int i = 0; i < RO_N_TABLES; i++) {
        struct ro_table *t = &x->t[i];
        if (t->mode == RO_ABSENT)
            continue;
        struct roster_file *f = roster_files_get(rf, files[i]);
        t->data = f->data;
        readable &= read_table(t, (enum ro_kind)i, f->len, p);
    }
    return readable;
}

void ro_free(struct ro_export *x)
{
    for (int i = 0; i < RO_N_TABLES; i++) {
        free(x->t[i].rows);
        free(x->t[i].by_id);
    }
    memset(x, 0, sizeof *x);
}
