/* Unit tests for multipart.c: finding the file part of a form upload. */
#include <check.h>
#include <string.h>

#include "multipart.h"
#include "testdb.h"

static const char *find(const char *ct, const char *body, char *out, size_t size)
{
    char *copy = strdup(body), *part;
    size_t len;
    ck_assert_ptr_nonnull(copy);
    const char *err = multipart_find(ct, copy, strlen(copy), "file", &part, &len);
    if (!err)
        snprintf(out, size, "%.*s", (int)len, part);
    free(copy);
    return err;
}

START_TEST(file_part_among_others)
{
    const char *body = "preamble\r\n"
                       "--XyZ\r\n"
                       "Content-Disposition: form-data; name=\"note\"\r\n\r\n"
                       "hello\r\n"
                       "--XyZ\r\n"
                       "Content-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n"
                       "Content-Type: text/csv\r\n\r\n"
                       "groupId,email\r\n1,a@x.nl\r\n"
                       "--XyZ--\r\n";
    char out[128];
    ck_assert_ptr_null(find("multipart/form-data; boundary=XyZ", body, out, sizeof out));
    ck_assert_str_eq(out, "groupId,email\r\n1,a@x.nl");
}
END_TEST

START_TEST(quoted_boundary_and_dashes_inside_content)
{
    const char *body = "--a'b c\r\n"
                       "content-disposition: form-data; name=file\r\n\r\n"
                       "x\r\n--a'b not the boundary line\r\n--a'bc\r\n"
                       "--a'b c--\r\n";
    char out[128];
    ck_assert_ptr_null(
        find("multipart/form-data; charset=utf-8; boundary=\"a'b c\"", body, out, sizeof out));
    ck_assert_str_eq(out, "x\r\n--a'b not the boundary line\r\n--a'bc");
}
END_TEST

START_TEST(empty_file_part)
{
    const char *body = "--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n\r\n--B--\r\n";
    char out[16] = "unset";
    ck_assert_ptr_null(find("multipart/form-data; boundary=B", body, out, sizeof out));
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(errors)
{
    char out[16];
    const char *ok = "--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--B--\r\n";
    ck_assert_ptr_nonnull(find("multipart/form-data", ok, out, sizeof out)); /* no boundary */
    ck_assert_ptr_nonnull(find("multipart/form-data; boundary=C", ok, out, sizeof out));
    const char *other =
        "--B\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\nx\r\n--B--\r\n";
    ck_assert_ptr_nonnull(find("multipart/form-data; boundary=B", other, out, sizeof out));
    const char *unclosed = "--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n";
    ck_assert_ptr_nonnull(find("multipart/form-data; boundary=B", unclosed, out, sizeof out));
    const char *no_headers_end = "--B\r\nContent-Disposition: form-data; name=\"file\"\r\n";
    ck_assert_ptr_nonnull(find("multipart/form-data; boundary=B", no_headers_end, out, sizeof out));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("multipart");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, file_part_among_others);
    tcase_add_test(tc, quoted_boundary_and_dashes_inside_content);
    tcase_add_test(tc, empty_file_part);
    tcase_add_test(tc, errors);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
