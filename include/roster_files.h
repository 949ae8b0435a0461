/*
 * roster_files.h — the files of a roster export, read into memory: from a
 * zip (the body of POST /group/bulkImportOneRoster) or from a directory
 * (groupctl oneroster-import DIR).
 *
 * Only the files a roster import reads are kept (ROSTER_FILE_NAMES, found
 * without regard to case); every other entry is skipped without being
 * inflated.  The files lie at the zip's root or all inside one top-level
 * folder (an export zipped with its folder); a macOS zip's __MACOSX tree is
 * ignored.  Nothing is written to disk.
 *
 * The bound: what the kept entries inflate to, together, may not pass
 * max_total.  An entry whose declared size would pass it is refused before
 * any of it is inflated, and an entry that inflates past its declaration
 * (a forged header) is refused as soon as it passes the bound, so a zip
 * bomb never costs more than max_total bytes of memory.
 *
 * Each file's bytes are followed by a NUL (not counted in len), and may be
 * rewritten in place by the CSV reader.
 */
#ifndef GROUPD_ROSTER_FILES_H
#define GROUPD_ROSTER_FILES_H

#include <stddef.h>

/* The files a roster import reads, as OneRoster names them. */
#define ROSTER_FILE_NAMES                                                                          \
    {                                                                                              \
        "manifest.csv", "classes.csv", "users.csv", "enrollments.csv", "academicSessions.csv",     \
            "courses.csv"                                                                          \
    }
#define ROSTER_N_FILES 6

struct roster_file {
    const char *name; /* one of ROSTER_FILE_NAMES */
    char *data;       /* NULL when the export has no such file */
    size_t len;
};

struct roster_files {
    struct roster_file f[ROSTER_N_FILES];
};

enum roster_files_status {
    ROSTER_FILES_OK,
    ROSTER_FILES_BAD,       /* not a zip, a damaged zip, a bad or repeated entry name (400) */
    ROSTER_FILES_TOO_LARGE, /* the files would inflate past max_total (413) */
    ROSTER_FILES_NO_DIR,    /* the directory cannot be read (errno in the message) */
};

/* Reads the zip data[0..len).  On an error, err says what (for the
 * answer's userMessage) and nothing is kept. */
enum roster_files_status roster_files_from_zip(const char *data, size_t len, size_t max_total,
                                               struct roster_files *out, char *err, size_t errlen);
/* Reads the files of directory dir, with the same bound. */
enum roster_files_status roster_files_from_dir(const char *dir, size_t max_total,
                                               struct roster_files *out, char *err, size_t errlen);
/* The file called name (one of ROSTER_FILE_NAMES), or NULL when absent. */
struct roster_file *roster_files_get(struct roster_files *rf, const char *name);
void roster_files_free(struct roster_files *rf);

#endif
