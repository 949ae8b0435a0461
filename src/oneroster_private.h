/*
 * oneroster_private.h — a OneRoster export read into tables, shared by the
 * reader (oneroster_read.c) and the import (oneroster.c).
 *
 * Each CSV is read in place (csv.h); a row is kept as cell offsets into
 * its file, as the other imports keep theirs, and each table is sorted by
 * sourcedId once, so a lookup is a binary search.
 */
#ifndef GROUPD_ONEROSTER_PRIVATE_H
#define GROUPD_ONEROSTER_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "csv.h"
#include "problem.h"
#include "roster_files.h"

/* How the manifest says a file is sent. */
enum ro_mode { RO_ABSENT, RO_BULK, RO_DELTA };

/* A row's status column. */
enum ro_status { RO_ACTIVE, RO_TOBEDELETED };

#define RO_MAX_COLS 10

struct ro_row {
    uint32_t at, line;
    struct csv_cell cell[RO_MAX_COLS];
    uint8_t status; /* enum ro_status */
    bool bad;       /* a problem was reported for it */
};

struct ro_table {
    const char *file; /* "classes.csv" */
    enum ro_mode mode;
    char *data; /* the file's bytes, rewritten in place */
    int col_of[RO_MAX_COLS];
    struct ro_row *rows;
    size_t n, cap;
    uint32_t *by_id; /* row indices sorted by sourcedId (rows without one left out) */
    size_t n_by_id;
};

enum ro_kind { RO_CLASSES, RO_USERS, RO_ENROLLMENTS, RO_SESSIONS, RO_COURSES, RO_N_TABLES };

/* The columns read from each file; sourcedId is always column 0 and status
 * column 1.  The names are those of the OneRoster 1.1 and 1.2 CSV binding. */
enum { CL_ID, CL_STATUS, CL_TITLE, CL_COURSE, CL_TYPE, CL_SCHOOL, CL_TERMS };
enum {
    US_ID,
    US_STATUS,
    US_ENABLED,
    US_GIVEN,
    US_FAMILY,
    US_EMAIL,
    US_PGIVEN,
    US_PFAMILY,
    US_PFIRST,
    US_PLAST
};
enum { EN_ID, EN_STATUS, EN_CLASS, EN_SCHOOL, EN_USER, EN_ROLE };
enum { SE_ID, SE_STATUS, SE_YEAR };
enum { CO_ID, CO_STATUS, CO_TITLE };

struct ro_export {
    char version[8];       /* "1.0" when there is no manifest */
    char system_name[256]; /* the manifest's source.systemName, or "" */
    struct ro_table t[RO_N_TABLES];
};

/* Reads the manifest and every file it names into x.  Problems (each with
 * its file and line) go to p, and the rows they are in are marked bad.
 * Returns false when the export cannot be read at all (a version other
 * than 1.0-1.2, a file the manifest names but the export lacks, a file
 * that is not UTF-8 text or whose header lacks a required column); with
 * true, p may still hold row problems: the caller goes on to find the
 * problems that need the database too, then refuses. */
bool ro_read(struct roster_files *rf, struct ro_export *x, struct problem *p);
void ro_free(struct ro_export *x);

/* A row's cell, trimmed; "" (len 0) when the column is absent or empty. */
const char *ro_cell(const struct ro_table *t, const struct ro_row *r, int col, size_t *len);
/* The row of t whose sourcedId is id[0..len), or NULL. */
struct ro_row *ro_find(const struct ro_table *t, const char *id, size_t len);
/* A user's name: the preferred given and family names when the export has
 * them (1.2: preferredGivenName/preferredFamilyName, or the
 * preferredFirstName/preferredLastName some exports write), else givenName
 * and familyName, joined by a space. */
void ro_user_name(const struct ro_table *u, const struct ro_row *r, struct buf *out);
/* Whether s[0..len) equals the lower-case word w, ignoring case. */
bool ro_is(const char *s, size_t len, const char *w);

/* Roles an enrollment may have (OneRoster 1.1 and 1.2), as bits. */
#define RO_ROLE_STUDENT (1u << 0)
/* The bit of role s[0..len), or 0 when it is none of the spec's. */
unsigned ro_role_bit(const char *s, size_t len);
/* The name of the single role in bit. */
const char *ro_role_name(unsigned bit);

#endif
