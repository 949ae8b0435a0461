/*
 * search_inproc.c — groupd's search against SQLite FTS5, both in-process on one core, run
 * by hand (tests/bench/search_peers.py builds and runs it):
 *
 *   search_inproc DB_DIR QUERIES TOP [SECONDS]
 *
 * 1. Reads every group of DB_DIR (a groupd database: search_bench.py's data set) and puts
 *    the same documents in an in-memory SQLite FTS5 table: name, description and
 *    externalId, tokenize 'unicode61 remove_diacritics 2', the status beside them
 *    (UNINDEXED), rowid = groupd's id.
 * 2. QUERIES holds one query a line (words separated by spaces). Each query is answered
 *    the way GET /group?q= answers it with the default status and sort: the active
 *    groups where every word is a prefix of a word, the first 30 ids in id order and the
 *    total count. groupd: the words folded (words.c), each word's ids from the group_words
 *    index (store_word_ids), intersected, inside one renewed read transaction per query,
 *    as a worker does. SQLite: MATCH '"w1"* AND "w2"*' with status = 'active', a
 *    prepared count(*) and a prepared ORDER BY rowid LIMIT 30.
 * 3. Checks that both give the same count for every query (and reports the ones that
 *    differ: the two fold text differently, e.g. "ß"), then runs each engine over the
 *    queries round robin for SECONDS (default 5), alternating which goes first, and
 *    prints queries per second for each and their ratio.
 */
#include <json-c/json.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"
#include "words.h"

#define MAX_QUERIES 4096
#define FIRST 30

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "search_inproc: %s: %s\n", what, why);
    exit(1);
}

/* ---- SQLite ---- */

struct lite {
    sqlite3 *db;
    sqlite3_stmt *insert, *count, *first;
};

static int add_doc(void *ctx, const struct group_record *r)
{
    struct lite *l = ctx;
    const char *status = r->flags & 2 ? "deleted" : r->flags & 1 ? "archived" : "active";
    struct json_object *j = json_tokener_parse(r->json ? r->json : "{}");
    struct json_object *d = NULL;
    const char *desc =
        j && json_object_object_get_ex(j, "description", &d) && d ? json_object_get_string(d) : "";
    sqlite3_reset(l->insert);
    sqlite3_bind_int64(l->insert, 1, (sqlite3_int64)r->id);
    sqlite3_bind_text(l->insert, 2, r->name, (int)r->name_len, SQLITE_TRANSIENT);
    sqlite3_bind_text(l->insert, 3, desc, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(l->insert, 4, r->external_id ? r->external_id : "", (int)r->external_id_len,
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(l->insert, 5, status, -1, SQLITE_STATIC);
    if (sqlite3_step(l->insert) != SQLITE_DONE)
        die("insert", sqlite3_errmsg(l->db));
    json_object_put(j);
    return 0;
}

static void lite_open(struct lite *l)
{
    if (sqlite3_open(":memory:", &l->db) != SQLITE_OK)
        die("sqlite3_open", "failed");
    char *err = NULL;
    if (sqlite3_exec(l->db,
                     "CREATE VIRTUAL TABLE g USING fts5(name, description, external_id, "
                     "status UNINDEXED, tokenize = 'unicode61 remove_diacritics 2');"
                     "BEGIN",
                     NULL, NULL, &err) != SQLITE_OK)
        die("create", err);
    const char *ins = "INSERT INTO g (rowid, name, description, external_id, status) "
                      "VALUES (?, ?, ?, ?, ?)";
    const char *cnt = "SELECT count(*) FROM g WHERE g MATCH ? AND status = 'active'";
    const char *fst = "SELECT rowid FROM g WHERE g MATCH ? AND status = 'active' "
                      "ORDER BY rowid LIMIT 30";
    if (sqlite3_prepare_v2(l->db, ins, -1, &l->insert, NULL) ||
        sqlite3_prepare_v2(l->db, cnt, -1, &l->count, NULL) ||
        sqlite3_prepare_v2(l->db, fst, -1, &l->first, NULL))
        die("prepare", sqlite3_errmsg(l->db));
}

static void lite_loaded(struct lite *l)
{
    char *err = NULL;
    if (sqlite3_exec(l->db, "COMMIT; INSERT INTO g(g) VALUES ('optimize')", NULL, NULL, &err))
        die("commit", err);
}

/* "w1 w2" -> "\"w1\"* AND \"w2\"*" */
static void fts_query(const char *q, char *out, size_t cap)
{
    size_t at = 0;
    out[0] = '\0';
    char copy[512];
    snprintf(copy, sizeof copy, "%s", q);
    for (char *save = NULL, *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
        at += (size_t)snprintf(out + at, cap - at, "%s\"%s\"*", at ? " AND " : "", w);
}

static uint64_t lite_search(struct lite *l, const char *match, uint64_t first[FIRST], size_t *nf)
{
    sqlite3_reset(l->count);
    sqlite3_bind_text(l->count, 1, match, -1, SQLITE_STATIC);
    uint64_t n =
        sqlite3_step(l->count) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(l->count, 0) : 0;
    sqlite3_reset(l->first);
    sqlite3_bind_text(l->first, 1, match, -1, SQLITE_STATIC);
    *nf = 0;
    while (sqlite3_step(l->first) == SQLITE_ROW && *nf < FIRST)
        first[(*nf)++] = (uint64_t)sqlite3_column_int64(l->first, 0);
    return n;
}

/* ---- groupd ---- */

/* GET /group?q=... with the default status (active) and sort (id), through the
 * store's planner (store_search: only q is given, so the word index decides). */
struct firsts {
    uint64_t *v, count;
    size_t n;
};

static int count_of(void *ctx, uint64_t n)
{
    ((struct firsts *)ctx)->count = n;
    return 0;
}

static int first_of(void *ctx, const struct group_record *r)
{
    struct firsts *f = ctx;
    if (f->n < FIRST)
        f->v[f->n++] = r->id;
    return 0;
}

static uint64_t groupd_search(struct store *s, uint32_t top, const char *q, uint64_t first[FIRST],
                              size_t *nf)
{
    MDB_txn *txn;
    if (store_read_begin(s, &txn))
        die("read txn", "failed");
    struct words w = WORDS_INIT;
    words_add(&w, q, strlen(q));
    words_drop_implied(&w);
    struct store_query sq = {0};
    sq.top = top;
    sq.statuses = GROUP_ACTIVE;
    sq.words = &w;
    sq.sort = GROUP_SORT_ID;
    sq.limit = FIRST;
    if (store_top_rev(s, txn, top, &sq.rev))
        die("store_top_rev", "failed");
    struct firsts f = {first, 0, 0};
    struct store_rows rows = {count_of, first_of, &f};
    if (store_search(s, txn, &sq, &rows))
        die("store_search", "failed");
    *nf = f.n;
    words_free(&w);
    store_read_end(s);
    return f.count;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        die("usage", "search_inproc DB_DIR QUERIES TOP [SECONDS]");
    double seconds = argc > 4 ? atof(argv[4]) : 5.0;
    uint32_t top = (uint32_t)strtoul(argv[3], NULL, 10);
    struct store *s = store_new();
    if (store_open(s, argv[1], (size_t)16 << 30))
        die("store_open", store_errmsg(s));

    static char queries[MAX_QUERIES][256];
    static char matches[MAX_QUERIES][600];
    size_t nq = 0;
    FILE *f = fopen(argv[2], "r");
    if (!f)
        die(argv[2], "cannot open");
    while (nq < MAX_QUERIES && fgets(queries[nq], sizeof queries[nq], f)) {
        queries[nq][strcspn(queries[nq], "\n")] = '\0';
        if (queries[nq][0]) {
            fts_query(queries[nq], matches[nq], sizeof matches[nq]);
            nq++;
        }
    }
    fclose(f);

    struct lite l;
    lite_open(&l);
    double t0 = now();
    MDB_txn *txn;
    if (store_read_begin(s, &txn))
        die("read txn", "failed");
    store_group_each(s, txn, add_doc, &l);
    store_read_end(s);
    lite_loaded(&l);
    printf("SQLite %s: FTS5 table of every group built in %.1f s\n", sqlite3_libversion(),
           now() - t0);

    /* Same answers? */
    size_t same = 0, matched = 0;
    uint64_t a[FIRST], b[FIRST];
    for (size_t i = 0; i < nq; i++) {
        size_t na, nb;
        uint64_t ca = groupd_search(s, top, queries[i], a, &na);
        uint64_t cb = lite_search(&l, matches[i], b, &nb);
        matched += ca > 0;
        if (ca == cb && na == nb && memcmp(a, b, na * sizeof *a) == 0)
            same++;
        else if (nq - same < 5 + (nq - i))
            fprintf(stderr, "  differs: '%s': groupd %llu, SQLite %llu\n", queries[i],
                    (unsigned long long)ca, (unsigned long long)cb);
    }
    printf("%zu queries, %zu with matches; the same count and first ids from both: %zu\n", nq,
           matched, same);

    double qps[2] = {0, 0};
    const char *name[2] = {"groupd", "SQLite FTS5"};
    for (int round = 0; round < 4; round++) {
        for (int k = 0; k < 2; k++) {
            int e = round % 2 ? 1 - k : k;
            uint64_t sink = 0;
            size_t n = 0, nf;
            double start = now(), end = start + seconds / 2;
            while (now() < end && n < 50000000) {
                for (size_t i = 0; i < 64; i++, n++) {
                    size_t q = n % nq;
                    sink += e == 0 ? groupd_search(s, top, queries[q], a, &nf)
                                   : lite_search(&l, matches[q], a, &nf);
                }
            }
            double rate = (double)n / (now() - start);
            qps[e] += rate / 4;
            printf("  round %d %-12s %9.0f queries/s (sink %llu)\n", round, name[e], rate,
                   (unsigned long long)sink);
        }
    }
    printf("groupd %.0f queries/s, SQLite FTS5 %.0f queries/s: groupd / SQLite = %.2f\n", qps[0],
           qps[1], qps[0] / qps[1]);
    sqlite3_close(l.db);
    store_close(s);
    return 0;
}
