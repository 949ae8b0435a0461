/*
 * groupctl.c — administration on a groupd database (API.md §8).
 *
 * Safe while groupd runs: every command is one LMDB transaction, and LMDB
 * serialises writers across processes.
 *
 *   groupctl --db DIR key create --top-organisation N [--organisation N ...]
 *                                --role read|write|admin [--name TEXT]
 *   groupctl --db DIR key list
 *   groupctl --db DIR key revoke ID
 *   groupctl --db DIR import FILE.csv --top-organisation N [--organisation N ...]
 *                                [--external] [--replace]
 *   groupctl --db DIR import-groups FILE.csv --top-organisation N [--organisation N]
 *                                [--archive-missing]
 *   groupctl --db DIR oneroster-import ZIP|DIR --top-organisation N [--organisation N]
 *                                [--school ID ...] [--roles LIST] [--lock] [--archive-missing]
 *   groupctl --db DIR create-groups FILE.jsonl --top-organisation N
 *   groupctl --db SRC tenant send --top-organisation N | groupctl --db DST tenant receive
 *   groupctl --db DIR tenant thaw --top-organisation N
 *   groupctl --db DIR tenant drop --top-organisation N [--force]
 *   groupctl --db DIR backup DIR
 *   groupctl --db DIR export
 *   groupctl --db DIR stats
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "apikey.h"
#include "clock.h"
#include "config.h"
#include "group_import.h"
#include "group_load.h"
#include "group_render.h"
#include "import.h"
#include "oneroster.h"
#include "roster_files.h"
#include "store.h"

static void print_usage(FILE *to)
{
    fprintf(to,
            "usage: groupctl --db DIR [--map-size BYTES] [--shard K] COMMAND\n"
            "commands:\n"
            "  key create --top-organisation N [--organisation N ...] --role read|write|admin "
            "[--name TEXT]\n"
            "  key list\n"
            "  key revoke ID\n"
            "  import FILE.csv --top-organisation N [--organisation N ...] [--external] "
            "[--replace]\n"
            "  import-groups FILE.csv --top-organisation N [--organisation N] [--archive-missing]\n"
            "  oneroster-import ZIP|DIR --top-organisation N [--organisation N] [--school ID ...]\n"
            "                   [--roles LIST] [--lock] [--archive-missing]\n"
            "  create-groups FILE.jsonl --top-organisation N\n"
            "  tenant send --top-organisation N   (the tenant's records to standard output)\n"
            "  tenant receive [--busy PERCENT]    (a tenant from standard input)\n"
            "  tenant thaw --top-organisation N   (lifts the freeze of a move that failed)\n"
            "  tenant drop --top-organisation N [--force]   (removes a moved tenant's copy)\n"
            "  backup DIR\n"
            "  export\n"
            "  stats\n"
            "  check     (exit 1 and a report when an index differs from the records)\n"
            "groupctl --help | --version; see groupctl(8)\n");
}

static int usage(void)
{
    print_usage(stderr);
    return 2;
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "groupctl: %s: %s\n", what, mdb_strerror(rc));
    return 1;
}

static bool parse_u32(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* --organisation 101 --organisation 102 or --organisation 101,102 */
static bool add_orgs(struct apikey_record *k, const char *list)
{
    char *copy = strdup(list), *save = NULL;
    bool ok = copy != NULL;
    for (char *t = strtok_r(copy, ",", &save); ok && t; t = strtok_r(NULL, ",", &save)) {
        uint32_t org;
        ok = parse_u32(t, &org) && k->n_orgs < APIKEY_MAX_ORGS;
        if (ok)
            k->orgs[k->n_orgs++] = org;
    }
    free(copy);
    return ok;
}

static int key_create(struct store *s, int argc, char **argv)
{
    struct apikey_record k;
    memset(&k, 0, sizeof k);
    bool have_top = false;
    for (int i = 0; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return usage();
        if (strcmp(argv[i], "--top-organisation") == 0) {
            if (!parse_u32(v, &k.top_organisation)) {
                fprintf(stderr, "groupctl: --top-organisation must be a number\n");
                return 2;
            }
            have_top = true;
        } else if (strcmp(argv[i], "--organisation") == 0) {
            if (!add_orgs(&k, v)) {
                fprintf(stderr, "groupctl: --organisation takes numbers (at most %d)\n",
                        APIKEY_MAX_ORGS);
                return 2;
            }
        } else if (strcmp(argv[i], "--role") == 0) {
            k.role = role_parse(v);
            if (!k.role) {
                fprintf(stderr, "groupctl: --role must be read, write or admin\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--name") == 0) {
            if (strlen(v) > APIKEY_NAME_MAX || strpbrk(v, "\t\r\n")) {
                fprintf(stderr, "groupctl: --name must be one line of at most %d bytes\n",
                        APIKEY_NAME_MAX);
                return 2;
            }
            snprintf(k.name, sizeof k.name, "%s", v);
        } else {
            return usage();
        }
        i++;
    }
    if (!have_top || !k.role)
        return usage();
    MDB_txn *txn;
    int rc = store_write_begin(s, &txn);
    if (rc)
        return fail("write transaction", rc);
    char key[APIKEY_STRING_MAX];
    rc = store_key_next_id(s, txn, &k.id);
    if (!rc) {
        k.created_at = clock_now_ms();
        apikey_generate(k.top_organisation, k.id, key, k.hash);
        rc = store_key_put(s, txn, &k);
    }
    if (rc) {
        store_write_abort(txn);
        return fail("storing the key", rc);
    }
    rc = store_write_commit(txn);
    if (rc)
        return fail("commit", rc);
    printf("%s\n", key);
    fprintf(stderr, "created key-%llu (%s, topOrganisation %u)\n", (unsigned long long)k.id,
            role_name(k.role), k.top_organisation);
    return 0;
}

static int print_key(void *ctx, const struct apikey_record *k)
{
    (void)ctx;
    printf("key-%llu\t%s\t%u\t", (unsigned long long)k->id, role_name(k->role),
           k->top_organisation);
    if (!k->n_orgs)
        printf("all");
    for (size_t i = 0; i < k->n_orgs; i++)
        printf(i ? ",%u" : "%u", k->orgs[i]);
    printf("\t%s\t%s\n", k->revoked ? "revoked" : "active", k->name);
    return 0;
}

static int key_list(struct store *s)
{
    MDB_txn *txn;
    int rc = store_read_begin(s, &txn);
    if (rc)
        return fail("read transaction", rc);
    rc = store_key_each(s, txn, print_key, NULL);
    store_read_end(s);
    return rc ? fail("listing keys", rc) : 0;
}

static int key_revoke(struct store *s, const char *arg)
{
    uint64_t id;
    if (strncmp(arg, "key-", 4) == 0)
        arg += 4;
    char *end;
    errno = 0;
    id = strtoull(arg, &end, 10);
    if (errno || end == arg || *end || arg[0] == '-') {
        fprintf(stderr, "groupctl: key ids look like key-7 (or 7)\n");
        return 2;
    }
    MDB_txn *txn;
    int rc = store_write_begin(s, &txn);
    if (rc)
        return fail("write transaction", rc);
    struct apikey_record k;
    bool found;
    rc = store_key_find(s, txn, id, &k, &found);
    if (!rc && !found) {
        store_write_abort(txn);
        fprintf(stderr, "groupctl: no key key-%llu\n", (unsigned long long)id);
        return 1;
    }
    if (!rc) {
        k.revoked = true;
        rc = store_key_put(s, txn, &k);
    }
    if (rc) {
        store_write_abort(txn);
        return fail("revoking", rc);
    }
    rc = store_write_commit(txn);
    if (rc)
        return fail("commit", rc);
    fprintf(stderr, "revoked key-%llu\n", (unsigned long long)id);
    return 0;
}

struct export_ctx {
    struct store *s;
    MDB_txn *txn;
};

static int print_group(void *ctx, const struct group_record *r)
{
    struct export_ctx *e = ctx;
    struct buf out = BUF_INIT;
    int rc = group_render_full(e->s, e->txn, r->json, r->json_len, r->id, &out);
    buf_addc(&out, '\n');
    if (!rc)
        fwrite(out.data, 1, out.len, stdout);
    buf_free(&out);
    return rc;
}

static int export_all(struct store *s)
{
    struct export_ctx e = {s, NULL};
    int rc = store_read_begin(s, &e.txn);
    if (rc)
        return fail("read transaction", rc);
    rc = store_group_each(s, e.txn, print_group, &e);
    store_read_end(s);
    if (fflush(stdout) != 0) {
        perror("groupctl: export");
        return 1;
    }
    return rc ? fail("export", rc) : 0;
}

/* Reads a whole file into memory (the importer rewrites it in place). */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b = BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_add(&b, chunk, n);
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.data ? b.data : calloc(1, 1);
}

/* The imports run as the operator: an admin principal of the top (import
 * locks do not stop it), recorded as "groupctl".  For `import`,
 * --organisation restricts it to those organisations; for
 * `import-groups` it is the request's organisation parameter (the
 * default of rows without one, and archiveMissing's scope). */
struct import_args {
    const char *path;
    struct apikey_record k;
    bool have_top, external, replace, archive_missing;
};

static int parse_import_args(int argc, char **argv, struct import_args *a)
{
    memset(a, 0, sizeof *a);
    if (argc < 1)
        return usage();
    a->path = argv[0];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--external") == 0) {
            a->external = true;
        } else if (strcmp(argv[i], "--replace") == 0) {
            a->replace = true;
        } else if (strcmp(argv[i], "--archive-missing") == 0) {
            a->archive_missing = true;
        } else if (i + 1 < argc && strcmp(argv[i], "--top-organisation") == 0) {
            a->have_top = parse_u32(argv[++i], &a->k.top_organisation);
            if (!a->have_top) {
                fprintf(stderr, "groupctl: --top-organisation must be a number\n");
                return 2;
            }
        } else if (i + 1 < argc && strcmp(argv[i], "--organisation") == 0) {
            if (!add_orgs(&a->k, argv[++i])) {
                fprintf(stderr, "groupctl: --organisation takes numbers\n");
                return 2;
            }
        } else {
            return usage();
        }
    }
    return a->have_top ? 0 : usage();
}

static void operator_of(const struct import_args *a, bool restricted, struct principal *who)
{
    memset(who, 0, sizeof *who);
    who->role = ROLE_ADMIN;
    who->top_organisation = a->k.top_organisation;
    if (restricted) {
        who->n_orgs = a->k.n_orgs;
        memcpy(who->orgs, a->k.orgs, a->k.n_orgs * sizeof *a->k.orgs);
    }
    snprintf(who->actor, sizeof who->actor, "groupctl");
}

/* Prints the summary (stdout, exit 0) or the refusal (stderr, exit 1). */
static int import_outcome(int rc, struct problem *p, struct buf *out, const char *what)
{
    if (problem_any(p)) {
        buf_reset(out);
        problem_render(p, out);
    }
    problem_free(p);
    if (out->len && (rc == 0 || rc == -1)) {
        fprintf(rc ? stderr : stdout, "%s\n", out->data);
        buf_free(out);
        return rc ? 1 : 0;
    }
    buf_free(out);
    return fail(what, rc);
}

static int import_file(struct store *s, int argc, char **argv)
{
    struct import_args a;
    int bad = parse_import_args(argc, argv, &a);
    if (bad || a.archive_missing)
        return bad ? bad : usage();
    struct principal who;
    operator_of(&a, true, &who);
    size_t len = 0;
    char *csv = read_file(a.path, &len);
    if (!csv) {
        fprintf(stderr, "groupctl: %s: %s\n", a.path, strerror(errno));
        return 1;
    }
    struct import_options opt = {a.external, a.replace};
    struct problem p;
    problem_init(&p);
    struct import_summary sum;
    struct buf out = BUF_INIT;
    int rc = import_csv(s, &who, csv, len, &opt, &sum, &p);
    free(csv);
    if (!rc)
        import_summary_json(&sum, &out);
    return import_outcome(rc, &p, &out, "import");
}

static int import_groups_file(struct store *s, int argc, char **argv)
{
    struct import_args a;
    int bad = parse_import_args(argc, argv, &a);
    if (bad || a.external || a.replace || a.k.n_orgs > 1)
        return bad ? bad : usage();
    struct principal who;
    operator_of(&a, false, &who);
    struct group_import_options opt = {a.k.n_orgs == 1, a.k.n_orgs ? a.k.orgs[0] : 0,
                                       a.archive_missing};
    size_t len = 0;
    char *csv = read_file(a.path, &len);
    if (!csv) {
        fprintf(stderr, "groupctl: %s: %s\n", a.path, strerror(errno));
        return 1;
    }
    struct problem p;
    problem_init(&p);
    struct group_import_summary sum;
    struct buf out = BUF_INIT;
    int rc = group_import_csv(s, &who, csv, len, &opt, &sum, &p);
    free(csv);
    if (!rc)
        group_import_summary_json(&sum, &out);
    return import_outcome(rc, &p, &out, "import-groups");
}

/* oneroster-import ZIP|DIR: the export as POST /group/bulkImportOneRoster
 * takes it, bounded by 16 times the default --max-body. */
static int oneroster_file(struct store *s, int argc, char **argv)
{
    if (argc < 1)
        return usage();
    struct oneroster_options opt;
    memset(&opt, 0, sizeof opt);
    uint32_t top = 0;
    bool have_top = false, have_org = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--lock") == 0) {
            opt.lock = true;
        } else if (strcmp(a, "--archive-missing") == 0) {
            opt.archive_missing = true;
        } else if (v && strcmp(a, "--top-organisation") == 0 && parse_u32(v, &top)) {
            have_top = true;
            i++;
        } else if (v && strcmp(a, "--organisation") == 0 && parse_u32(v, &opt.org)) {
            have_org = true;
            i++;
        } else if (v && strcmp(a, "--school") == 0 && opt.n_schools < ONEROSTER_MAX_SCHOOLS) {
            opt.schools[opt.n_schools++] = v;
            i++;
        } else if (v && strcmp(a, "--roles") == 0 && oneroster_roles(v, &opt.roles)) {
            i++;
        } else {
            return usage();
        }
    }
    if (!have_top || !have_org || !opt.org)
        return usage();
    struct principal who;
    memset(&who, 0, sizeof who);
    who.role = ROLE_ADMIN;
    who.top_organisation = top;
    snprintf(who.actor, sizeof who.actor, "groupctl");
    struct roster_files rf;
    char why[320];
    struct stat st;
    enum roster_files_status got;
    size_t bound = 16 * CONFIG_DEFAULT_MAX_BODY;
    if (stat(argv[0], &st) == 0 && S_ISDIR(st.st_mode)) {
        got = roster_files_from_dir(argv[0], bound, &rf, why, sizeof why);
    } else {
        size_t len = 0;
        char *zip = read_file(argv[0], &len);
        if (!zip) {
            fprintf(stderr, "groupctl: %s: %s\n", argv[0], strerror(errno));
            return 1;
        }
        got = roster_files_from_zip(zip, len, bound, &rf, why, sizeof why);
        free(zip);
    }
    if (got != ROSTER_FILES_OK) {
        fprintf(stderr, "groupctl: %s: %s\n", argv[0], why);
        return 1;
    }
    struct problem p;
    problem_init(&p);
    struct oneroster_summary sum;
    struct buf out = BUF_INIT;
    int rc = oneroster_import(s, &who, &rf, &opt, &sum, &p);
    roster_files_free(&rf);
    if (!rc)
        oneroster_summary_json(&sum, &out);
    oneroster_summary_free(&sum);
    return import_outcome(rc, &p, &out, "oneroster-import");
}

struct counts {
    unsigned long status[8];
    unsigned long long participants;
};

static int count_group(void *ctx, const struct group_record *r)
{
    struct counts *c = ctx;
    c->status[group_record_status(r)]++;
    c->participants += r->total_participants;
    return 0;
}

/* create-groups FILE.jsonl --top-organisation N */
static int create_groups(struct store *s, int argc, char **argv)
{
    uint32_t top;
    if (argc != 3 || strcmp(argv[1], "--top-organisation") != 0 || !parse_u32(argv[2], &top))
        return usage();
    size_t len = 0;
    char *text = read_file(argv[0], &len);
    if (!text) {
        fprintf(stderr, "groupctl: %s: %s\n", argv[0], strerror(errno));
        return 1;
    }
    struct problem p;
    problem_init(&p);
    size_t created = 0;
    int rc = group_load_jsonl(s, top, text, len, &created, &p);
    free(text);
    if (rc == -1) {
        struct buf out = BUF_INIT;
        problem_render(&p, &out);
        fprintf(stderr, "%s\n", out.data);
        buf_free(&out);
    }
    problem_free(&p);
    if (rc && rc != -1) /* LMDB's errors are negative; -1 is the report above */
        fail("create-groups", rc);
    printf("{\"created\":%zu}\n", created);
    return rc ? 1 : 0;
}

/* Entries and pages of each named database. */
static int db_stats(struct store *s)
{
    struct store_db_size dbs[STORE_MAX_DBS];
    size_t n;
    MDB_txn *txn;
    int rc = store_read_begin(s, &txn);
    if (rc)
        return fail("read transaction", rc);
    rc = store_db_sizes(s, txn, dbs, &n);
    for (size_t i = 0; i < n && !rc; i++)
        printf("db_%s_entries %zu\ndb_%s_pages %zu\n", dbs[i].name, dbs[i].entries, dbs[i].name,
               dbs[i].pages);
    store_read_end(s);
    return rc ? fail("stats", rc) : 0;
}

static int stats(struct store *s)
{
    MDB_txn *txn;
    int rc = store_read_begin(s, &txn);
    if (rc)
        return fail("read transaction", rc);
    struct counts c;
    memset(&c, 0, sizeof c);
    uint32_t version = 0;
    size_t feed = 0;
    int64_t oldest = 0;
    uint64_t last_seq = 0;
    rc = store_group_each(s, txn, count_group, &c);
    if (!rc)
        rc = store_schema_version(s, txn, &version);
    if (!rc)
        rc = store_changes_stat(s, txn, &feed, &oldest);
    if (!rc)
        rc = store_last_seq_any(s, txn, &last_seq);
    store_read_end(s);
    if (rc)
        return fail("stats", rc);
    size_t map_size = 0, used = 0;
    rc = store_usage(s, &map_size, &used);
    if (rc)
        return fail("stats", rc);
    printf("schema_version %u\n", version);
    printf("groups_active %lu\ngroups_archived %lu\ngroups_deleted %lu\n", c.status[GROUP_ACTIVE],
           c.status[GROUP_ARCHIVED], c.status[GROUP_DELETED]);
    printf("participants %llu\n", c.participants);
    printf("map_size_bytes %zu\nmap_used_bytes %zu\n", map_size, used);
    char at[ISO_TIME_LEN + 1] = "none";
    if (feed)
        clock_format_iso(oldest, at);
    printf("changes_entries %zu\nchanges_oldest %s\nchanges_last_seq %llu\n"
           "changes_retain_seconds %lld\n",
           feed, at, (unsigned long long)last_seq, (long long)(store_retention(s) / 1000));
    return db_stats(s);
}

static void print_line(void *ctx, const char *line)
{
    (void)ctx;
    printf("%s\n", line);
}

/* Exit 0: every index is what the records imply; 1: differences, listed. */
static int check(struct store *s)
{
    MDB_txn *txn;
    int rc = store_read_begin(s, &txn);
    if (rc)
        return fail("read transaction", rc);
    size_t differences = 0;
    rc = store_check(s, txn, print_line, NULL, &differences);
    store_read_end(s);
    if (rc)
        return fail("check", rc);
    printf("check: %zu difference%s\n", differences, differences == 1 ? "" : "s");
    return differences ? 1 : 0;
}

/* "sent topOrganisation 100: 1 keys, ..." on standard error. */
static void print_counts(const char *done, uint32_t top, const struct store_tenant_counts *n)
{
    fprintf(stderr,
            "%s topOrganisation %u: %llu keys, %llu groups, %llu participants, %llu events, "
            "%llu feed records\n",
            done, top, (unsigned long long)n->keys, (unsigned long long)n->groups,
            (unsigned long long)n->participants, (unsigned long long)n->events,
            (unsigned long long)n->feed_records);
}

/* tenant send --top-organisation N: the stream on standard output. */
static int tenant_send(struct store *s, int argc, char **argv)
{
    uint32_t top;
    if (argc != 2 || strcmp(argv[0], "--top-organisation") != 0 || !parse_u32(argv[1], &top) ||
        !top)
        return usage();
    if (isatty(STDOUT_FILENO)) {
        fprintf(stderr, "groupctl: tenant send writes a stream: pipe it into tenant receive\n");
        return 2;
    }
    /* A receiver gone is a write error to handle (the freeze is lifted
     * when the end was not sent), not a signal that ends groupctl. */
    signal(SIGPIPE, SIG_IGN);
    struct store_tenant_counts n;
    if (store_tenant_send(s, top, stdout, &n) != 0) {
        fprintf(stderr, "groupctl: %s%s\n", store_errmsg(s),
                n.thawed ? "; the freeze is lifted: the tenant is served here again" : "");
        return 1;
    }
    print_counts("sent", top, &n);
    fprintf(stderr,
            "sent topOrganisation %u after %llu catch-up rounds; frozen %llu ms before its end "
            "was out\n",
            top, (unsigned long long)n.rounds, (unsigned long long)n.cut_to_end_ms);
    return 0;
}

/* tenant receive [--busy PERCENT]: a stream of tenant send from standard
 * input, applying at most PERCENT of the time (1-100). */
static int tenant_receive(struct store *s, int argc, char **argv)
{
    uint32_t busy = STORE_TENANT_BUSY;
    if (argc == 2 && strcmp(argv[0], "--busy") == 0) {
        if (!parse_u32(argv[1], &busy) || busy < 1 || busy > 100) {
            fprintf(stderr, "groupctl: tenant receive: --busy takes a percentage from 1 to 100\n");
            return 2;
        }
    } else if (argc != 0) {
        return usage();
    }
    struct store_tenant_counts n;
    uint32_t top = 0;
    if (store_tenant_receive(s, stdin, busy, &top, &n) != 0) {
        fprintf(stderr, "groupctl: tenant receive: %s\n", store_errmsg(s));
        return 1;
    }
    print_counts("received", top, &n);
    return 0;
}

/* tenant thaw --top-organisation N */
static int tenant_thaw(struct store *s, int argc, char **argv)
{
    uint32_t top;
    if (argc != 2 || strcmp(argv[0], "--top-organisation") != 0 || !parse_u32(argv[1], &top))
        return usage();
    if (store_tenant_thaw(s, top) != 0) {
        fprintf(stderr, "groupctl: %s\n", store_errmsg(s));
        return 1;
    }
    fprintf(stderr, "thawed topOrganisation %u: it takes requests again here\n", top);
    return 0;
}

/* tenant drop --top-organisation N [--force] */
static int tenant_drop(struct store *s, int argc, char **argv)
{
    uint32_t top;
    bool force = argc == 3 && strcmp(argv[2], "--force") == 0;
    if ((argc != 2 && !force) || strcmp(argv[0], "--top-organisation") != 0 ||
        !parse_u32(argv[1], &top))
        return usage();
    struct store_tenant_counts n;
    if (store_tenant_drop(s, top, force, &n) != 0) {
        fprintf(stderr, "groupctl: %s\n", store_errmsg(s));
        return 1;
    }
    print_counts("dropped", top, &n);
    return 0;
}

int main(int argc, char **argv)
{
    const char *db = NULL;
    size_t map_size = 0;
    int shard = -1;
    int i = 1;
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("groupctl %s (database schema %d)\n", PACKAGE_VERSION, STORE_SCHEMA_VERSION);
        return 0;
    }
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (i + 1 >= argc)
            return usage();
        if (strcmp(argv[i], "--db") == 0)
            db = argv[i + 1];
        else if (strcmp(argv[i], "--map-size") == 0)
            map_size = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--shard") == 0) {
            const char *v = argv[i + 1];
            if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 4 ||
                atoi(v) > STORE_SHARD_MAX) {
                fprintf(stderr, "groupctl: --shard must be a number from 0 to %d\n",
                        STORE_SHARD_MAX);
                return 2;
            }
            shard = atoi(v);
        } else
            return usage();
    }
    if (!db || i >= argc)
        return usage();
    /* A database groupctl creates gets groupd's default map; an existing
     * one keeps the size it has unless --map-size says otherwise. */
    char data_file[PATH_MAX];
    struct stat st;
    snprintf(data_file, sizeof data_file, "%s/data.mdb", db);
    if (!map_size && stat(data_file, &st) != 0)
        map_size = STORE_DEFAULT_MAP_SIZE;
    if (apikey_init() != 0) {
        fprintf(stderr, "groupctl: libsodium could not be initialised\n");
        return 1;
    }
    struct store *s = store_new();
    if (store_open(s, db, map_size) != 0) {
        fprintf(stderr, "groupctl: cannot open the database: %s\n", store_errmsg(s));
        store_delete(s);
        return 1;
    }
    if (store_claim_shard(s, shard) != 0) {
        fprintf(stderr, "groupctl: %s\n", store_errmsg(s));
        store_close(s);
        store_delete(s);
        return 1;
    }
    int rc;
    const char *cmd = argv[i];
    if (strcmp(cmd, "key") == 0 && i + 1 < argc && strcmp(argv[i + 1], "create") == 0)
        rc = key_create(s, argc - i - 2, argv + i + 2);
    else if (strcmp(cmd, "key") == 0 && i + 1 < argc && strcmp(argv[i + 1], "list") == 0)
        rc = key_list(s);
    else if (strcmp(cmd, "key") == 0 && i + 2 < argc && strcmp(argv[i + 1], "revoke") == 0)
        rc = key_revoke(s, argv[i + 2]);
    else if (strcmp(cmd, "create-groups") == 0)
        rc = create_groups(s, argc - i - 1, argv + i + 1);
    else if (strcmp(cmd, "import") == 0)
        rc = import_file(s, argc - i - 1, argv + i + 1);
    else if (strcmp(cmd, "oneroster-import") == 0)
        rc = oneroster_file(s, argc - i - 1, argv + i + 1);
    else if (strcmp(cmd, "import-groups") == 0)
        rc = import_groups_file(s, argc - i - 1, argv + i + 1);
    else if (strcmp(cmd, "backup") == 0 && i + 1 < argc) {
        rc = store_backup(s, argv[i + 1]);
        if (rc)
            rc = fail("backup", rc);
    } else if (strcmp(cmd, "export") == 0)
        rc = export_all(s);
    else if (strcmp(cmd, "stats") == 0)
        rc = stats(s);
    else if (strcmp(cmd, "check") == 0)
        rc = check(s);
    else if (strcmp(cmd, "tenant") == 0 && i + 1 < argc && strcmp(argv[i + 1], "send") == 0)
        rc = tenant_send(s, argc - i - 2, argv + i + 2);
    else if (strcmp(cmd, "tenant") == 0 && i + 1 < argc && strcmp(argv[i + 1], "receive") == 0)
        rc = tenant_receive(s, argc - i - 2, argv + i + 2);
    else if (strcmp(cmd, "tenant") == 0 && i + 1 < argc && strcmp(argv[i + 1], "thaw") == 0)
        rc = tenant_thaw(s, argc - i - 2, argv + i + 2);
    else if (strcmp(cmd, "tenant") == 0 && i + 1 < argc && strcmp(argv[i + 1], "drop") == 0)
        rc = tenant_drop(s, argc - i - 2, argv + i + 2);
    else
        rc = usage();
    store_close(s);
    store_delete(s);
    return rc;
}
