/*
 * roster_files.c — a roster export's files in memory; see include/roster_files.h.
 *
 * libarchive reads the zip (README: why libarchive).  One pass over the
 * entries: every name is checked (no absolute path, no "..", no name twice),
 * the wanted files are inflated chunk by chunk against the bound, the rest
 * is skipped.  Where the wanted files lie is decided at the end: at the
 * root if any is there, else in the one top-level folder that holds them.
 */
#include "roster_files.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *const wanted[ROSTER_N_FILES] = ROSTER_FILE_NAMES;

/* Entries a zip may have, read or skipped. */
#define MAX_ENTRIES 10000
#define CHUNK 65536

static void say(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int wanted_index(const char *base)
{
    for (int i = 0; i < ROSTER_N_FILES; i++)
        if (strcasecmp(base, wanted[i]) == 0)
            return i;
    return -1;
}

struct roster_file *roster_files_get(struct roster_files *rf, const char *name)
{
    int i = wanted_index(name);
    return i >= 0 && rf->f[i].data ? &rf->f[i] : NULL;
}

void roster_files_free(struct roster_files *rf)
{
    for (int i = 0; i < ROSTER_N_FILES; i++)
        free(rf->f[i].data);
    memset(rf, 0, sizeof *rf);
}

/* A wanted file found in the zip: at the root (folder "") or in a folder. */
struct found {
    char *folder;
    int which;
    char *data;
    size_t len;
};

struct reading {
    struct found *v;
    size_t n;
    char **names; /* every entry's name, for repeats */
    size_t n_names;
    size_t total; /* bytes inflated so far */
    size_t max_total;
};

static void reading_free(struct reading *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].folder);
        free(r->v[i].data);
    }
    free(r->v);
    for (size_t i = 0; i < r->n_names; i++)
        free(r->names[i]);
    free(r->names);
}

/* An entry name may not leave the export: no absolute path, no ".."
 * component, no backslash (a Windows path written as a name). */
static bool name_ok(const char *name)
{
    if (!*name || name[0] == '/' || strchr(name, '\\'))
        return false;
    for (const char *p = name; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return false;
        p += n;
        if (*p == '/')
            p++;
    }
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Inflates the current entry into a new buffer (NUL-terminated). */
static enum roster_files_status inflate_entry(struct archive *a, struct archive_entry *e,
                                              struct reading *r, const char *name, char **out,
                                              size_t *out_len, char *err, size_t errlen)
{
    if (archive_entry_size_is_set(e) && archive_entry_size(e) >= 0 &&
        (uint64_t)archive_entry_size(e) > r->max_total - r->total) {
        say(err, errlen, "the export's files inflate to more than %zu bytes (%s alone says %lld)",
            r->max_total, name, (long long)archive_entry_size(e));
        return ROSTER_FILES_TOO_LARGE;
    }
    size_t cap = CHUNK, len = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        abort();
    for (;;) {
        if (cap - len < CHUNK) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            if (!buf)
                abort();
        }
        la_ssize_t n = archive_read_data(a, buf + len, CHUNK);
        if (n == 0)
            break;
        if (n < 0) {
            say(err, errlen, "the zip entry %s cannot be read: %s", name,
                archive_error_string(a) ? archive_error_string(a) : "damaged");
            free(buf);
            return ROSTER_FILES_BAD;
        }
        len += (size_t)n;
        if (len > r->max_total - r->total) {
            say(err, errlen, "the export's files inflate to more than %zu bytes", r->max_total);
            free(buf);
            return ROSTER_FILES_TOO_LARGE;
        }
    }
    buf[len] = '\0';
    r->total += len;
    *out = buf;
    *out_len = len;
    return ROSTER_FILES_OK;
}

/* Notes one entry: checks its name, inflates it when wanted. */
static enum roster_files_status take_entry(struct archive *a, struct archive_entry *e,
                                           struct reading *r, char *err, size_t errlen)
{
    const char *name = archive_entry_pathname(e);
    if (!name || !name_ok(name)) {
        say(err, errlen, "the zip entry name %s leaves the export (an absolute path or ..)",
            name ? name : "(unreadable)");
        return ROSTER_FILES_BAD;
    }
    if (r->n_names == MAX_ENTRIES) {
        say(err, errlen, "the zip has more than %d entries", MAX_ENTRIES);
        return ROSTER_FILES_BAD;
    }
    r->names[r->n_names] = strdup(name);
    if (!r->names[r->n_names])
        abort();
    r->n_names++;
    if (archive_entry_filetype(e) != AE_IFREG || strncmp(name, "__MACOSX/", 9) == 0)
        return ROSTER_FILES_OK;
    const char *slash = strchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    int which = wanted_index(base);
    if (which < 0 || strchr(base, '/'))
        return ROSTER_FILES_OK; /* not a file we read, or deeper than one folder */
    struct found f = {strndup(name, slash ? (size_t)(slash - name) : 0), which, NULL, 0};
    if (!f.folder)
        abort();
    enum roster_files_status st = inflate_entry(a, e, r, name, &f.data, &f.len, err, errlen);
    if (st != ROSTER_FILES_OK) {
        free(f.folder);
        return st;
    }
    struct found *v = realloc(r->v, (r->n + 1) * sizeof *v);
    if (!v)
        abort();
    r->v = v;
    r->v[r->n++] = f;
    return ROSTER_FILES_OK;
}

/* Chooses where the files lie and moves them into out. */
static enum roster_files_status settle(struct reading *r, struct roster_files *out, char *err,
                                       size_t errlen)
{
    if (r->n_names > 1) {
        qsort(r->names, r->n_names, sizeof *r->names, cmp_str);
        for (size_t i = 1; i < r->n_names; i++) {
            if (strcmp(r->names[i - 1], r->names[i]) == 0) {
                say(err, errlen, "the zip holds two entries named %s", r->names[i]);
                return ROSTER_FILES_BAD;
            }
        }
    }
    /* The root when a wanted file is there; else the one folder. */
    const char *folder = "";
    bool at_root = false;
    for (size_t i = 0; i < r->n; i++)
        at_root |= !r->v[i].folder[0];
    for (size_t i = 0; !at_root && i < r->n; i++) {
        if (!folder[0]) {
            folder = r->v[i].folder;
        } else if (strcmp(r->v[i].folder, folder) != 0) {
            say(err, errlen, "the export's files lie in two folders (%s and %s)", folder,
                r->v[i].folder);
            return ROSTER_FILES_BAD;
        }
    }
    memset(out, 0, sizeof *out);
    for (int i = 0; i < ROSTER_N_FILES; i++)
        out->f[i].name = wanted[i];
    for (size_t i = 0; i < r->n; i++) {
        struct found *f = &r->v[i];
        if (strcmp(f->folder, folder) != 0)
            continue;
        if (out->f[f->which].data) {
            say(err, errlen, "the zip holds %s twice (names differing only in case)",
                wanted[f->which]);
            roster_files_free(out);
            return ROSTER_FILES_BAD;
        }
        out->f[f->which].data = f->data;
        out->f[f->which].len = f->len;
        f->data = NULL;
    }
    return ROSTER_FILES_OK;
}

enum roster_files_status roster_files_from_zip(const char *data, size_t len, size_t max_total,
                                               struct roster_files *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct archive *a = archive_read_new();
    if (!a)
        abort();
    struct reading r = {NULL, 0, calloc(MAX_ENTRIES, sizeof(char *)), 0, 0, max_total};
    if (!r.names)
        abort();
    enum roster_files_status st = ROSTER_FILES_OK;
    if (archive_read_support_format_zip(a) != ARCHIVE_OK ||
        archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
        say(err, errlen, "the body is not a zip file (%s)",
            archive_error_string(a) ? archive_error_string(a) : "unreadable");
        st = ROSTER_FILES_BAD;
    }
    struct archive_entry *e;
    while (st == ROSTER_FILES_OK) {
        int rc = archive_read_next_header(a, &e);
        if (rc == ARCHIVE_EOF)
            break;
        if (rc < ARCHIVE_WARN) {
            say(err, errlen, "the zip is damaged or cut short (%s)",
                archive_error_string(a) ? archive_error_string(a) : "unreadable");
            st = ROSTER_FILES_BAD;
            break;
        }
        st = take_entry(a, e, &r, err, errlen);
    }
    archive_read_free(a);
    if (st == ROSTER_FILES_OK)
        st = settle(&r, out, err, errlen);
    reading_free(&r);
    return st;
}

enum roster_files_status roster_files_from_dir(const char *dir, size_t max_total,
                                               struct roster_files *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < ROSTER_N_FILES; i++)
        out->f[i].name = wanted[i];
    DIR *d = opendir(dir);
    if (!d) {
        say(err, errlen, "%s: %s", dir, strerror(errno));
        return ROSTER_FILES_NO_DIR;
    }
    size_t total = 0;
    enum roster_files_status st = ROSTER_FILES_OK;
    struct dirent *de;
    while (st == ROSTER_FILES_OK && (de = readdir(d)) != NULL) {
        int which = wanted_index(de->d_name);
        if (which < 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        struct stat sb;
        if (!f || fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
            say(err, errlen, "%s: %s", path, f ? "not a regular file" : strerror(errno));
            st = ROSTER_FILES_NO_DIR;
        } else if (out->f[which].data) {
            say(err, errlen, "%s holds %s twice (names differing only in case)", dir,
                wanted[which]);
            st = ROSTER_FILES_BAD;
        } else if ((size_t)sb.st_size > max_total - total) {
            say(err, errlen, "the export's files are larger than %zu bytes", max_total);
            st = ROSTER_FILES_TOO_LARGE;
        } else {
            char *buf = malloc((size_t)sb.st_size + 1);
            if (!buf)
                abort();
            size_t n = fread(buf, 1, (size_t)sb.st_size, f);
            buf[n] = '\0';
            out->f[which].data = buf;
            out->f[which].len = n;
            total += n;
        }
        if (f)
            fclose(f);
    }
    closedir(d);
    if (st != ROSTER_FILES_OK)
        roster_files_free(out);
    return st;
}
