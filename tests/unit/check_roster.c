/* Unit tests for roster_files.c (a roster export's zip, bounded) and oneroster_read.c
 * (the manifest and CSV files into tables).  The zips are written here with
 * libarchive's writer, from file names and contents made up for each case. */
#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "oneroster_private.h"
#include "roster_files.h"
#include "testdb.h"

struct entry {
    const char *name, *data;
    size_t repeat; /* data written this many times (0: once) */
};

/* A zip (deflated) of entries[0..n); *len its size. */
static char *zip_of(const struct entry *e, size_t n, size_t *len)
{
    size_t cap = 1 << 20;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    struct archive *a = archive_write_new();
    ck_assert_int_eq(archive_write_set_format_zip(a), ARCHIVE_OK);
    ck_assert_int_eq(archive_write_open_memory(a, buf, cap, len), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        size_t times = e[i].repeat ? e[i].repeat : 1, dl = strlen(e[i].data);
        struct archive_entry *ae = archive_entry_new();
        archive_entry_set_pathname(ae, e[i].name);
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, 0644);
        archive_entry_set_size(ae, (la_int64_t)(dl * times));
        ck_assert_int_eq(archive_write_header(a, ae), ARCHIVE_OK);
        for (size_t k = 0; k < times; k++)
            ck_assert_int_eq(archive_write_data(a, e[i].data, dl), (la_ssize_t)dl);
        archive_entry_free(ae);
    }
    ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    return buf;
}

static enum roster_files_status read_zip(const struct entry *e, size_t n, size_t bound,
                                         struct roster_files *rf, char *err)
{
    size_t len;
    char *zip = zip_of(e, n, &len);
    enum roster_files_status st = roster_files_from_zip(zip, len, bound, rf, err, 320);
    free(zip);
    return st;
}

#define CLASSES "sourcedId,title,courseSourcedId,classType,schoolSourcedId,termSourcedIds\n"

START_TEST(files_at_the_root_or_in_one_folder_and_nothing_else)
{
    struct roster_files rf;
    char err[320];
    const struct entry root[] = {{"classes.csv", CLASSES, 0},
                                 {"Users.CSV", "sourcedId\n", 0},
                                 {"orgs.csv", "ignored\n", 0},
                                 {"__MACOSX/._classes.csv", "junk", 0},
                                 {"deep/er/classes.csv", "elsewhere", 0}};
    ck_assert_int_eq(read_zip(root, 5, 1 << 20, &rf, err), ROSTER_FILES_OK);
    ck_assert_str_eq(roster_files_get(&rf, "classes.csv")->data, CLASSES);
    ck_assert_str_eq(roster_files_get(&rf, "users.csv")->data, "sourcedId\n");
    ck_assert_ptr_null(roster_files_get(&rf, "enrollments.csv"));
    roster_files_free(&rf);

    const struct entry folder[] = {{"export-2026/", "", 0},
                                   {"export-2026/classes.csv", CLASSES, 0},
                                   {"export-2026/manifest.csv", "propertyName,value\n", 0}};
    ck_assert_int_eq(read_zip(folder, 3, 1 << 20, &rf, err), ROSTER_FILES_OK);
    ck_assert_str_eq(roster_files_get(&rf, "classes.csv")->data, CLASSES);
    ck_assert_ptr_nonnull(roster_files_get(&rf, "manifest.csv"));
    roster_files_free(&rf);

    const struct entry two[] = {{"a/classes.csv", CLASSES, 0}, {"b/users.csv", "x\n", 0}};
    ck_assert_int_eq(read_zip(two, 2, 1 << 20, &rf, err), ROSTER_FILES_BAD);
    ck_assert_ptr_nonnull(strstr(err, "two folders"));
}
END_TEST

START_TEST(names_that_leave_the_export_or_repeat_are_refused)
{
    struct roster_files rf;
    char err[320];
    /* (A backslash cannot be tested this way: libarchive reads it as a separator.) */
    static const char *const bad[] = {"../classes.csv", "/etc/classes.csv", "a/../../x.csv"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const struct entry e[] = {{"classes.csv", CLASSES, 0}, {bad[i], "x", 0}};
        ck_assert_msg(read_zip(e, 2, 1 << 20, &rf, err) == ROSTER_FILES_BAD, "%s", bad[i]);
        ck_assert_ptr_nonnull(strstr(err, "leaves the export"));
    }
    const struct entry twice[] = {{"classes.csv", CLASSES, 0}, {"classes.csv", CLASSES, 0}};
    ck_assert_int_eq(read_zip(twice, 2, 1 << 20, &rf, err), ROSTER_FILES_BAD);
    ck_assert_ptr_nonnull(strstr(err, "two entries named classes.csv"));
    const struct entry cased[] = {{"classes.csv", CLASSES, 0}, {"CLASSES.csv", CLASSES, 0}};
    ck_assert_int_eq(read_zip(cased, 2, 1 << 20, &rf, err), ROSTER_FILES_BAD);
}
END_TEST

START_TEST(the_bound_holds_for_all_files_together)
{
    struct roster_files rf;
    char err[320];
    /* 600 KiB and 600 KiB of files: each under a 1 MiB bound, not both. */
    const struct entry e[] = {{"users.csv", "0123456789abcdef", 600 * 64},
                              {"enrollments.csv", "0123456789abcdef", 600 * 64}};
    ck_assert_int_eq(read_zip(e, 2, 1 << 20, &rf, err), ROSTER_FILES_TOO_LARGE);
    ck_assert_int_eq(read_zip(e, 2, 2 << 20, &rf, err), ROSTER_FILES_OK);
    ck_assert_uint_eq(roster_files_get(&rf, "users.csv")->len, 600 * 1024);
    roster_files_free(&rf);
    /* Entries that are not read do not count. */
    const struct entry other[] = {{"results.csv", "0123456789abcdef", 200 * 1024},
                                  {"classes.csv", CLASSES, 0}};
    ck_assert_int_eq(read_zip(other, 2, 1 << 20, &rf, err), ROSTER_FILES_OK);
    roster_files_free(&rf);
}
END_TEST

START_TEST(what_is_not_a_zip)
{
    struct roster_files rf;
    char err[320];
    ck_assert_int_eq(roster_files_from_zip("", 0, 1 << 20, &rf, err, sizeof err), ROSTER_FILES_BAD);
    ck_assert_int_eq(roster_files_from_zip("classes.csv,x\n", 14, 1 << 20, &rf, err, sizeof err),
                     ROSTER_FILES_BAD);
    const struct entry e[] = {{"classes.csv", CLASSES, 0}, {"users.csv", "sourcedId\nu-1\n", 0}};
    size_t len;
    char *zip = zip_of(e, 2, &len);
    ck_assert_int_eq(roster_files_from_zip(zip, len / 2, 1 << 20, &rf, err, sizeof err),
                     ROSTER_FILES_BAD);
    free(zip);
}
END_TEST

/* ---- oneroster_read ---- */

static void files_of(struct roster_files *rf, const char *manifest, const char *classes,
                     const char *users, const char *enrollments)
{
    memset(rf, 0, sizeof *rf);
    const char *data[ROSTER_N_FILES] = {manifest, classes, users, enrollments, NULL, NULL};
    static const char *const names[ROSTER_N_FILES] = ROSTER_FILE_NAMES;
    for (int i = 0; i < ROSTER_N_FILES; i++) {
        rf->f[i].name = names[i];
        if (data[i]) {
            rf->f[i].data = strdup(data[i]);
            rf->f[i].len = strlen(data[i]);
        }
    }
}

START_TEST(the_manifest_says_the_version_and_how_each_file_is_sent)
{
    struct roster_files rf;
    struct ro_export x;
    struct problem p;
    problem_init(&p);
    files_of(&rf, "propertyName,value\noneroster.version,9.9\n", CLASSES, NULL, NULL);
    ck_assert(!ro_read(&rf, &x, &p));
    ck_assert_ptr_nonnull(strstr(p.message.data, "oneroster.version must be 1.0, 1.1 or 1.2"));
    ro_free(&x);
    roster_files_free(&rf);
    problem_free(&p);

    problem_init(&p);
    files_of(&rf,
             "propertyName,value\noneroster.version,1.2\nfile.classes,bulk\nfile.users,delta\n",
             CLASSES, NULL, NULL);
    ck_assert(!ro_read(&rf, &x, &p));
    ck_assert_ptr_nonnull(strstr(p.context.data, "\"field\":\"file.users\""));
    ro_free(&x);
    roster_files_free(&rf);
    problem_free(&p);

    /* No manifest: 1.0, every file present in bulk. */
    problem_init(&p);
    files_of(&rf, NULL, CLASSES "c-1,Maths,crs,scheduled,sch,t-1\n", NULL, NULL);
    ck_assert(ro_read(&rf, &x, &p));
    ck_assert_str_eq(x.version, "1.0");
    ck_assert_int_eq(x.t[RO_CLASSES].mode, RO_BULK);
    ck_assert_int_eq(x.t[RO_USERS].mode, RO_ABSENT);
    ck_assert_uint_eq(x.t[RO_CLASSES].n, 1);
    ro_free(&x);
    roster_files_free(&rf);
    problem_free(&p);
}
END_TEST

START_TEST(rows_are_found_by_sourced_id_and_checked)
{
    struct roster_files rf;
    struct ro_export x;
    struct problem p;
    problem_init(&p);
    /* A BOM, CRLF, headers in another case and order, an extension column, a quoted title
     * with a comma and a line end, a repeated sourcedId, a bad status and a bad year. */
    files_of(&rf, "propertyName,value\r\noneroster.version,1.1\r\nfile.classes,delta\r\n",
             "\xef\xbb\xbfTITLE,SourcedID,status,metadata.x,courseSourcedId,classType,"
             "schoolSourcedId,termSourcedIds\r\n"
             "\"Maths, \"\"A\"\"\r\nline 2\",c-2,active,1,crs,scheduled,sch,t-1\r\n"
             "Art,c-1,,2,crs,scheduled,sch,t-1\r\n"
             "Art again,c-1,active,3,crs,scheduled,sch,t-1\r\n"
             "Gone,c-3,tobedeleted,,,,,\r\n"
             "Odd,c-4,archived,,crs,scheduled,sch,t-1\r\n",
             NULL, NULL);
    ck_assert(ro_read(&rf, &x, &p));
    const struct ro_table *t = &x.t[RO_CLASSES];
    ck_assert_uint_eq(t->n, 5);
    struct ro_row *r = ro_find(t, "c-2", 3);
    ck_assert_ptr_nonnull(r);
    size_t len;
    const char *title = ro_cell(t, r, CL_TITLE, &len);
    ck_assert_int_eq((int)len, (int)strlen("Maths, \"A\"\r\nline 2"));
    ck_assert(memcmp(title, "Maths, \"A\"\r\nline 2", len) == 0);
    ck_assert_uint_eq(ro_find(t, "c-1", 3)->line, 4); /* the first of the two */
    ck_assert_int_eq(ro_find(t, "c-3", 3)->status, RO_TOBEDELETED);
    ck_assert_ptr_null(ro_find(t, "c-9", 3));
    ck_assert_uint_eq(p.entries, 2);
    ck_assert_ptr_nonnull(strstr(p.context.data, "\"file\":\"classes.csv\",\"line\":5,"
                                                 "\"field\":\"sourcedId\""));
    ck_assert_ptr_nonnull(strstr(p.context.data, "\"line\":7,\"field\":\"status\""));
    ro_free(&x);
    roster_files_free(&rf);
    problem_free(&p);
}
END_TEST

START_TEST(roles_are_the_specs)
{
    ck_assert_uint_eq(ro_role_bit("Student", 7), RO_ROLE_STUDENT);
    ck_assert_uint_ne(ro_role_bit("districtAdministrator", 21), 0);
    ck_assert_uint_eq(ro_role_bit("janitor", 7), 0);
    ck_assert_str_eq(ro_role_name(ro_role_bit("teacher", 7)), "teacher");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("roster");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, files_at_the_root_or_in_one_folder_and_nothing_else);
    tcase_add_test(tc, names_that_leave_the_export_or_repeat_are_refused);
    tcase_add_test(tc, the_bound_holds_for_all_files_together);
    tcase_add_test(tc, what_is_not_a_zip);
    tcase_add_test(tc, the_manifest_says_the_version_and_how_each_file_is_sent);
    tcase_add_test(tc, rows_are_found_by_sourced_id_and_checked);
    tcase_add_test(tc, roles_are_the_specs);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
