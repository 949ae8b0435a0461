/* groupd.c — the FastCGI application's entry point (API.md §8). */
#include <stdio.h>

#include "config.h"
#include "server.h"

int main(int argc, char **argv)
{
    struct config cfg;
    char err[512];
    int rc = config_parse(&cfg, argc, argv, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "groupd: %s\n", err);
        return 2;
    }
    rc = server_run(&cfg, argc, argv);
    config_free(&cfg);
    return rc;
}
