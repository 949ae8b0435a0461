/*
 * csv.h — an RFC 4180 reader that works in place.
 *
 * The body of an import is parsed where it lies: a quoted field is
 * unescaped over its own bytes (the unescaped form is never longer), so
 * reading a 100,000-row file allocates nothing per field.  The reader
 * accepts what spreadsheet programs write: an optional UTF-8 byte order
 * mark, ',' or ';' (whichever the header line uses outside quotes), LF or
 * CRLF line ends, quoted fields with "" escapes and embedded newlines.
 * Blank lines are skipped.  Each record reports the physical line on
 * which it starts (the header is line 1).
 */
#ifndef GROUPD_CSV_H
#define GROUPD_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "problem.h"

#define CSV_MAX_RECORD 65535 /* bytes in one record, newlines included */
#define CSV_MAX_FIELDS 256   /* columns a header may have */

struct csv_field {
    char *s; /* not NUL-terminated */
    size_t len;
};

struct csv {
    char *p, *end;
    char delim;
    long line; /* physical line the next record starts on */
};

enum csv_status {
    CSV_RECORD, /* a record was read */
    CSV_END,    /* no more records */
    CSV_BAD,    /* this record is malformed (error says why); reading may go on */
    CSV_FATAL,  /* the rest of the input cannot be read (an unterminated quote) */
};

/* Starts reading data[0..len), which the reader will rewrite in place. */
void csv_open(struct csv *c, char *data, size_t len);

/* Reads the next record into at most max fields; *n is the number of
 * fields the record has (fields past max are read and dropped).  *line is
 * where the record starts.  On CSV_BAD / CSV_FATAL *error is set. */
enum csv_status csv_next(struct csv *c, struct csv_field *fields, size_t max, size_t *n, long *line,
                         const char **error);

/* Reads the header record and finds the columns named names[0..n)
 * (compared trimmed and without case): col_of[i] is the field index of
 * names[i], or -1.  The first n_required names must be there.  Problems
 * (an empty file, a bad header, a column named twice, a required one
 * missing) are added to p as invalid_csv at the header's line; returns
 * false when there were any. */
bool csv_read_header(struct csv *c, const char *const *names, int n, int n_required, int *col_of,
                     struct problem *p);

/* A row kept as offsets into the file: a cell per known column, from the
 * record's first byte (CSV_MAX_RECORD fits 16 bits); len 0 = empty. */
struct csv_cell {
    uint16_t off, len;
};
/* Fills cells[0..n_cols) from the record's fields f[0..n) and the column
 * map col_of (csv_read_header's); returns the record's first byte as an
 * offset from base. */
uint32_t csv_cells(const char *base, const struct csv_field *f, size_t n, const int *col_of,
                   int n_cols, struct csv_cell *cells);
/* Reads every remaining record, calling row for each; a malformed record
 * adds an invalid_csv problem ("record"), and one that ends the input
 * stops the reading. */
void csv_each_record(struct csv *c,
                     void (*row)(void *ctx, const struct csv_field *f, size_t n, long line),
                     void *ctx, struct problem *p);

/* A cell is given when it holds more than white space. */
bool csv_cell_given(const char *s, size_t len);

#endif
