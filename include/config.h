/*
 * config.h — groupd's options (API.md §8).
 *
 * Options come from the command line (--name value or --name=value) and
 * from --config FILE, which holds "name = value" lines with the same names
 * ('#' starts a comment).  The command line wins.
 */
#ifndef GROUPD_CONFIG_H
#define GROUPD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config {
    char *db;
    char *listen; /* NULL: serve the socket on fd 0 */
    int workers;
    size_t map_size;
    size_t max_body;
    char *log; /* NULL: stderr */
    char *config;
    int64_t changes_retain_ms; /* how long the change feed keeps entries */
    bool writer; /* with --listen: writes go through the writer process (group commit) */
    int shard;   /* --shard: the database's shard number (API.md §9); -1: the database's own */
};

/* The default --workers: twice the CPUs, and no fewer than this. */
#define CONFIG_MIN_WORKERS 16

#define CONFIG_DEFAULT_MAX_BODY ((size_t)32 << 20)

/* Returns 0, 1 when --help or --version was asked for (printed), or -1
 * with err filled. */
int config_parse(struct config *cfg, int argc, char **argv, char *err, size_t errlen);
void config_free(struct config *cfg);
/* "30d", "12h", "90m", "3600s" or "3600" (seconds) into ms; -1 when it is
 * not one, or below a second or above 100 years. */
int config_parse_duration(const char *v, int64_t *ms);

#endif
