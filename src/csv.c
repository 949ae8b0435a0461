/* csv.c — the in-place RFC 4180 reader; see include/csv.h. */
#include "csv.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "text.h"

/* The delimiter of the first line: ';' when it has more semicolons than
 * commas outside quotes, else ','. */
static char detect(const char *p, const char *end)
{
    size_t commas = 0, semis = 0;
    bool quoted = false;
    for (; p < end; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (!quoted && *p == '\n')
            break;
        else if (!quoted && *p == ',')
            commas++;
        else if (!quoted && *p == ';')
            semis++;
    }
    return semis > commas ? ';' : ',';
}

void csv_open(struct csv *c, char *data, size_t len)
{
    c->p = data;
    c->end = data + len;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        c->p += 3;
    c->delim = detect(c->p, c->end);
    c->line = 1;
}

static bool at_line_end(const struct csv *c, const char *p)
{
    return p < c->end && (*p == '\n' || (*p == '\r' && p + 1 < c->end && p[1] == '\n'));
}

/* Moves past one line end at p (which at_line_end accepted). */
static char *skip_line_end(struct csv *c, char *p)
{
    c->line++;
    return p + (*p == '\r' ? 2 : 1);
}

/* Skips the rest of a malformed record: to the next line end outside
 * quotes as best it can be told, which is the next line end. */
static void skip_record(struct csv *c, char *p)
{
    while (p < c->end && !at_line_end(c, p))
        p++;
    c->p = p < c->end ? skip_line_end(c, p) : p;
}

/* Reads a quoted field starting after its opening quote, unescaping it in
 * place to dst.  Returns the position after the closing quote, or NULL
 * when the input ends first. */
static char *read_quoted(struct csv *c, char *p, char *dst, size_t *len)
{
    char *start = dst;
    while (p < c->end) {
        if (*p == '"') {
            if (p + 1 < c->end && p[1] == '"') {
                *dst++ = '"';
                p += 2;
                continue;
            }
            *len = (size_t)(dst - start);
            return p + 1;
        }
        if (*p == '\n')
            c->line++;
        *dst++ = *p++;
    }
    return NULL;
}

enum csv_status csv_next(struct csv *c, struct csv_field *fields, size_t max, size_t *n, long *line,
                         const char **error)
{
    /* Blank lines are not records. */
    while (at_line_end(c, c->p))
        c->p = skip_line_end(c, c->p);
    *n = 0;
    *line = c->line;
    if (c->p >= c->end)
        return CSV_END;
    char *p = c->p, *record = c->p;
    for (;;) {
        struct csv_field f = {p, 0};
        if (p < c->end && *p == '"') {
            p = read_quoted(c, p + 1, f.s, &f.len);
            if (!p) {
                c->p = c->end;
                *error = "a quoted field is not closed before the end of the file";
                return CSV_FATAL;
            }
            if (p < c->end && *p != c->delim && !at_line_end(c, p)) {
                *error = "a quoted field is followed by text before the next delimiter";
                skip_record(c, p);
                return CSV_BAD;
            }
        } else {
            while (p < c->end && *p != c->delim && !at_line_end(c, p))
                p++;
            f.len = (size_t)(p - f.s);
        }
        if (*n < max)
            fields[*n] = f;
        (*n)++;
        if (p - record > CSV_MAX_RECORD) {
            *error = "the record is longer than 65535 bytes";
            skip_record(c, p);
            return CSV_BAD;
        }
        if (p < c->end && *p == c->delim) {
            p++;
            continue;
        }
        c->p = p < c->end ? skip_line_end(c, p) : p;
        return CSV_RECORD;
    }
}

bool csv_read_header(struct csv *c, const char *const *names, int n, int n_required, int *col_of,
                     struct problem *p)
{
    struct csv_field f[CSV_MAX_FIELDS];
    size_t nf;
    long line;
    const char *error = NULL;
    for (int i = 0; i < n; i++)
        col_of[i] = -1;
    enum csv_status st = csv_next(c, f, CSV_MAX_FIELDS, &nf, &line, &error);
    if (st == CSV_END) {
        problem_add(p, 400, "invalid_csv", 1, "file", "is empty: a header line is required");
        return false;
    }
    if (st != CSV_RECORD) {
        problem_add(p, 400, "invalid_csv", line, "header", "%s", error);
        return false;
    }
    if (nf > CSV_MAX_FIELDS) {
        problem_add(p, 400, "invalid_csv", line, "header", "has more than %d columns",
                    CSV_MAX_FIELDS);
        return false;
    }
    size_t before = p->entries;
    for (size_t i = 0; i < nf; i++) {
        size_t len = f[i].len;
        const char *name = text_valid_utf8(f[i].s, len) ? text_trim(f[i].s, &len) : f[i].s;
        for (int k = 0; k < n; k++) {
            if (len != strlen(names[k]) || strncasecmp(name, names[k], len) != 0)
                continue;
            if (col_of[k] >= 0)
                problem_add(p, 400, "invalid_csv", line, names[k],
                            "column appears more than once in the header");
            col_of[k] = (int)i;
        }
    }
    for (int k = 0; k < n_required; k++)
        if (col_of[k] < 0)
            problem_add(p, 400, "invalid_csv", line, names[k],
                        "is a required column and the header does not have it");
    return p->entries == before;
}

bool csv_cell_given(const char *s, size_t len)
{
    if (len && text_valid_utf8(s, len))
        text_trim(s, &len);
    return len > 0;
}

_Static_assert(CSV_MAX_RECORD <= UINT16_MAX, "cell offsets are 16 bits");

uint32_t csv_cells(const char *base, const struct csv_field *f, size_t n, const int *col_of,
                   int n_cols, struct csv_cell *cells)
{
    uint32_t at = (uint32_t)(f[0].s - base);
    for (int c = 0; c < n_cols; c++) {
        cells[c] = (struct csv_cell){0, 0};
        if (col_of[c] < 0 || (size_t)col_of[c] >= n)
            continue;
        const struct csv_field *cf = &f[col_of[c]];
        cells[c].off = (uint16_t)(cf->s - base - at);
        cells[c].len = (uint16_t)cf->len;
    }
    return at;
}

void csv_each_record(struct csv *c,
                     void (*row)(void *ctx, const struct csv_field *f, size_t n, long line),
                     void *ctx, struct problem *p)
{
    struct csv_field f[CSV_MAX_FIELDS];
    size_t n;
    long line;
    const char *error;
    for (;;) {
        enum csv_status st = csv_next(c, f, CSV_MAX_FIELDS, &n, &line, &error);
        if (st == CSV_END)
            break;
        if (st == CSV_RECORD) {
            row(ctx, f, n < CSV_MAX_FIELDS ? n : CSV_MAX_FIELDS, line);
            continue;
        }
        problem_add(p, 400, "invalid_csv", line, "record", "%s", error);
        if (st == CSV_FATAL)
            break;
    }
}
