/* Unit tests for the shared request counters and their exposition (metrics.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"
#include "store.h"
#include "testdb.h"

static const char *const names[] = {"/health", "/group/{id}", "/group/{id}", "other"};
#define N_NAMES 4

static struct store_figures figures(void)
{
    struct store_figures f;
    memset(&f, 0, sizeof f);
    f.groups = 7;
    f.participants = 11;
    f.events = 2;
    f.map_size = 1 << 20;
    f.map_used = 8192;
    f.readers_used = 3;
    f.readers_max = 512;
    f.last_import[STORE_IMPORT_GROUPS].at_ms = 1700000000123;
    f.last_import[STORE_IMPORT_GROUPS].rows = 5;
    return f;
}

static char *render(const struct metrics *m)
{
    struct store_figures f = figures();
    struct buf out = BUF_INIT;
    metrics_render(m, names, N_NAMES, &f, &out);
    return out.data; /* NUL-terminated by buf */
}

static void expect_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p += n)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return;
    ck_abort_msg("no line \"%s\" in:\n%s", line, text);
}

START_TEST(counts_from_every_process_add_up)
{
    struct metrics *m = metrics_map(2);
    ck_assert_ptr_nonnull(m);
    /* Three processes in three slots, as forked workers would be. */
    for (unsigned w = 0; w < 3; w++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            metrics_use_slot(m, w / 2, w % 2);
            for (int i = 0; i < 10; i++) {
                metrics_request_begin(m);
                metrics_request_end(m, 1, 200, 300);
            }
            metrics_request_begin(m);
            metrics_request_end(m, 2, 404, 40000000); /* past the last bound */
            _exit(0);
        }
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    char *t = render(m);
    /* Rows 1 and 2 share a template: one series each. */
    expect_line(t, "groupd_requests_total{route=\"/group/{id}\",status=\"200\"} 30");
    expect_line(t, "groupd_requests_total{route=\"/group/{id}\",status=\"404\"} 3");
    expect_line(t,
                "groupd_request_duration_seconds_bucket{route=\"/group/{id}\",le=\"0.00025\"} 0");
    expect_line(t,
                "groupd_request_duration_seconds_bucket{route=\"/group/{id}\",le=\"0.0005\"} 30");
    expect_line(t, "groupd_request_duration_seconds_bucket{route=\"/group/{id}\",le=\"30\"} 30");
    expect_line(t, "groupd_request_duration_seconds_bucket{route=\"/group/{id}\",le=\"+Inf\"} 33");
    expect_line(t, "groupd_request_duration_seconds_sum{route=\"/group/{id}\"} 120.009000");
    expect_line(t, "groupd_request_duration_seconds_count{route=\"/group/{id}\"} 33");
    expect_line(t, "groupd_requests_in_flight 0");
    ck_assert_ptr_null(strstr(t, "route=\"/health\"")); /* nothing counted: no series */
    free(t);
    metrics_unmap(m);
}
END_TEST

START_TEST(a_dead_workers_request_is_no_longer_in_flight)
{
    struct metrics *m = metrics_map(1);
    metrics_use_slot(m, 0, 1);
    metrics_request_begin(m); /* and then the process "dies" */
    metrics_use_slot(m, 0, 2);
    metrics_request_begin(m); /* its replacement, in the other slot, is busy */
    char *t = render(m);
    expect_line(t, "groupd_requests_in_flight 2");
    free(t);
    metrics_worker_ended(m, 0, 1, 1);
    t = render(m);
    expect_line(t, "groupd_requests_in_flight 1");
    expect_line(t, "groupd_worker_restarts_total 1");
    free(t);
    metrics_unmap(m);
}
END_TEST

START_TEST(unknown_statuses_and_the_store_figures)
{
    struct metrics *m = metrics_map(1);
    metrics_use_slot(m, 0, 0);
    metrics_request_begin(m);
    metrics_request_end(m, 0, 418, 10);
    metrics_request_begin(m);
    metrics_request_end(m, 3, 404, 10);
    char *t = render(m);
    expect_line(t, "groupd_requests_total{route=\"/health\",status=\"other\"} 1");
    expect_line(t, "groupd_requests_total{route=\"other\",status=\"404\"} 1");
    expect_line(t, "groupd_groups 7");
    expect_line(t, "groupd_participants 11");
    expect_line(t, "groupd_events 2");
    expect_line(t, "groupd_lmdb_map_size_bytes 1048576");
    expect_line(t, "groupd_lmdb_map_used_bytes 8192");
    expect_line(t, "groupd_lmdb_readers 3");
    expect_line(t, "groupd_last_import_timestamp_seconds{import=\"groups\"} 1700000000.123");
    expect_line(t, "groupd_last_import_timestamp_seconds{import=\"participants\"} 0.000");
    expect_line(t, "groupd_last_import_rows{import=\"groups\"} 5");
    /* Every family is declared once, before its samples. */
    ck_assert_ptr_nonnull(strstr(t, "# TYPE groupd_requests_total counter\n"));
    ck_assert_ptr_nonnull(strstr(t, "# TYPE groupd_request_duration_seconds histogram\n"));
    free(t);
    metrics_unmap(m);
}
END_TEST

START_TEST(no_segment_renders_the_store_alone)
{
    char *t = render(NULL);
    expect_line(t, "groupd_requests_in_flight 0");
    expect_line(t, "groupd_groups 7");
    ck_assert_ptr_null(strstr(t, "groupd_requests_total{"));
    free(t);
    metrics_request_begin(NULL);
    metrics_request_end(NULL, 0, 200, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, counts_from_every_process_add_up);
    tcase_add_test(tc, a_dead_workers_request_is_no_longer_in_flight);
    tcase_add_test(tc, unknown_statuses_and_the_store_figures);
    tcase_add_test(tc, no_segment_renders_the_store_alone);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
