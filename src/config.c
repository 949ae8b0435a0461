/* config.c — command line and config file; see include/config.h. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

enum opt {
    O_DB,
    O_LISTEN,
    O_WORKERS,
    O_MAP_SIZE,
    O_MAX_BODY,
    O_LOG,
    O_CONFIG,
    O_CHANGES_RETAIN,
    O_WRITER,
    O_SHARD,
    O_COUNT
};

static const char *const names[O_COUNT] = {"db",       "listen", "workers", "map-size",
                                           "max-body", "log",    "config",  "changes-retain",
                                           "writer",   "shard"};

static int parse_size(const char *v, size_t min, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-' || n < min)
        return -1;
    *out = (size_t)n;
    return 0;
}

/* A duration: a whole number with the unit s, m, h or d (seconds when
 * none is given), at least one second and at most 100 years; in ms. */
int config_parse_duration(const char *v, int64_t *ms)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || v[0] == '-')
        return -1;
    static const struct {
        char unit;
        unsigned long long seconds;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
    unsigned long long per = *end ? 0 : 1;
    for (size_t i = 0; *end && i < sizeof units / sizeof units[0]; i++)
        if (end[0] == units[i].unit && end[1] == '\0')
            per = units[i].seconds;
    if (!per || n == 0 || n > 36500ULL * 86400 / per)
        return -1;
    *ms = (int64_t)(n * per * 1000);
    return 0;
}

/* unix:PATH, or HOST:PORT with a port from 1 to 65535 (libfcgi would read
 * any other text after the last colon as port 0, or take the whole string
 * for a socket file's name). */
static bool listen_ok(const char *v)
{
    if (strncmp(v, "unix:", 5) == 0)
        return v[5] != '\0' && strlen(v + 5) < 108;
    const char *colon = strrchr(v, ':');
    if (!colon || colon[1] == '\0' || strlen(colon + 1) > 5)
        return false;
    unsigned long port = 0;
    for (const char *c = colon + 1; *c; c++) {
        if (*c < '0' || *c > '9')
            return false;
        port = port * 10 + (unsigned long)(*c - '0');
    }
    return port >= 1 && port <= 65535;
}

static int set(struct config *cfg, enum opt o, const char *v, char *err, size_t errlen)
{
    size_t n;
    switch (o) {
    case O_DB:
        free(cfg->db);
        cfg->db = strdup(v);
        break;
    case O_LISTEN:
        if (!listen_ok(v)) {
            snprintf(err, errlen,
                     "--listen must be unix:/path/to.sock or HOST:PORT with a port from 1 to "
                     "65535, not %s",
                     v);
            return -1;
        }
        free(cfg->listen);
        cfg->listen = strdup(v);
        break;
    case O_LOG:
        free(cfg->log);
        cfg->log = strdup(v);
        break;
    case O_CONFIG:
        free(cfg->config);
        cfg->config = strdup(v);
        break;
    case O_WORKERS:
        if (parse_size(v, 1, &n) || n > 256) {
            snprintf(err, errlen, "--workers must be from 1 to 256");
            return -1;
        }
        cfg->workers = (int)n;
        break;
    case O_MAP_SIZE:
        if (parse_size(v, STORE_MIN_MAP_SIZE, &cfg->map_size)) {
            snprintf(err, errlen, "--map-size must be a number of bytes, at least %zu",
                     STORE_MIN_MAP_SIZE);
            return -1;
        }
        break;
    case O_MAX_BODY:
        if (parse_size(v, 1, &cfg->max_body)) {
            snprintf(err, errlen, "--max-body must be a positive number of bytes");
            return -1;
        }
        break;
    case O_CHANGES_RETAIN:
        if (config_parse_duration(v, &cfg->changes_retain_ms)) {
            snprintf(err, errlen,
                     "--changes-retain must be a duration such as 30d, 12h, 90m or 3600s");
            return -1;
        }
        break;
    case O_WRITER:
        if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0) {
            snprintf(err, errlen, "--writer must be on or off");
            return -1;
        }
        cfg->writer = strcmp(v, "on") == 0;
        break;
    case O_SHARD:
        if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 4 ||
            atoi(v) > STORE_SHARD_MAX) {
            snprintf(err, errlen, "--shard must be a number from 0 to %d", STORE_SHARD_MAX);
            return -1;
        }
        cfg->shard = atoi(v);
        break;
    case O_COUNT: break;
    }
    return 0;
}

static int find(const char *name, size_t len)
{
    for (int i = 0; i < O_COUNT; i++)
        if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0)
            return i;
    return -1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static int load_file(struct config *cfg, const bool given[O_COUNT], char *err, size_t errlen)
{
    FILE *f = fopen(cfg->config, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open config file %s: %s", cfg->config, strerror(errno));
        return -1;
    }
    char line[4096];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected name = value", cfg->config, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *name = trim(s), *value = trim(eq + 1);
        int o = find(name, strlen(name));
        if (o < 0 || o == O_CONFIG) {
            snprintf(err, errlen, "%s:%d: unknown option %s", cfg->config, lineno, name);
            rc = -1;
        } else if (!given[o]) {
            rc = set(cfg, (enum opt)o, value, err, errlen);
        }
    }
    fclose(f);
    return rc;
}

static void usage(void)
{
    printf(
        "usage: groupd --db DIR [--listen unix:/path.sock | HOST:PORT] [--workers N]\n"
        "              [--map-size BYTES] [--max-body BYTES] [--changes-retain DURATION]\n"
        "              [--writer on|off] [--shard K] [--log FILE] [--config FILE]\n"
        "       groupd --help | --version\n"
        "Without --listen, groupd serves the FastCGI socket on standard input; see groupd(8).\n");
}

static int parse_into(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    /* Writes need many requests in flight to share a flush, and a worker
     * waiting for the writer holds no CPU: at least CONFIG_MIN_WORKERS. */
    cfg->workers = cpus > 0 && 2 * cpus > CONFIG_MIN_WORKERS ? (int)(2 * cpus) : CONFIG_MIN_WORKERS;
    if (cfg->workers > 256)
        cfg->workers = 256;
    cfg->writer = true;
    cfg->map_size = STORE_DEFAULT_MAP_SIZE;
    cfg->max_body = CONFIG_DEFAULT_MAX_BODY;
    cfg->changes_retain_ms = STORE_DEFAULT_RETAIN_MS;
    cfg->shard = -1;
    bool given[O_COUNT] = {false};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 1;
        }
        if (strcmp(a, "--version") == 0) {
            printf("groupd %s (database schema %d)\n", PACKAGE_VERSION, STORE_SCHEMA_VERSION);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument %s", a);
            return -1;
        }
        const char *eq = strchr(a + 2, '=');
        size_t nlen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        int o = find(a + 2, nlen);
        if (o < 0) {
            snprintf(err, errlen, "unknown option %s", a);
            return -1;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v) {
            snprintf(err, errlen, "option --%s needs a value", names[o]);
            return -1;
        }
        if (set(cfg, (enum opt)o, v, err, errlen))
            return -1;
        given[o] = true;
    }
    if (cfg->config && load_file(cfg, given, err, errlen))
        return -1;
    if (!cfg->db) {
        snprintf(err, errlen, "--db DIR is required");
        return -1;
    }
    return 0;
}

int config_parse(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    int rc = parse_into(cfg, argc, argv, err, errlen);
    if (rc != 0)
        config_free(cfg); /* nothing half-read is kept (SIGHUP keeps the running one) */
    return rc;
}

void config_free(struct config *cfg)
{
    free(cfg->db);
    free(cfg->listen);
    free(cfg->log);
    free(cfg->config);
    memset(cfg, 0, sizeof *cfg);
}
