/*
 * null_fcgi.c — the benchmark's floor: a libfcgi responder that answers
 * every request with the bytes of one file, with the same worker model as
 * groupd (a master opens the socket, N forked workers accept on it).
 *
 *   null_fcgi SOCKET_PATH WORKERS BODY_FILE [detach]
 *
 * With "detach" it closes each connection as groupd does (src/fcgi_front.c,
 * finish_request): at once when the request's input was read to its end,
 * instead of libfcgi's half-close and wait for the web server's close.
 *
 * Built and started by tests/bench/search_bench.py; stops on SIGTERM.
 */
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *read_all(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    rewind(f);
    char *b = malloc((size_t)*len + 1);
    if (b && fread(b, 1, (size_t)*len, f) != (size_t)*len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

static void serve(int fd, const char *body, long len, int detach)
{
    FCGX_Request req;
    if (FCGX_InitRequest(&req, fd, 0) != 0)
        _exit(1);
    while (FCGX_Accept_r(&req) >= 0) {
        FCGX_FPrintF(req.out,
                     "Status: 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                     "Content-Length: %ld\r\n\r\n",
                     len);
        FCGX_PutStr(body, (int)len, req.out);
        if (detach && FCGX_GetChar(req.in) == EOF && FCGX_GetError(req.in) == 0)
            FCGX_Detach(&req);
        FCGX_Finish_r(&req);
    }
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "detach") != 0)) {
        fprintf(stderr, "usage: null_fcgi SOCKET_PATH WORKERS BODY_FILE [detach]\n");
        return 2;
    }
    long len = 0;
    char *body = read_all(argv[3], &len);
    int workers = atoi(argv[2]);
    if (!body || workers < 1 || FCGX_Init() != 0) {
        fprintf(stderr, "null_fcgi: cannot start\n");
        return 1;
    }
    unlink(argv[1]);
    int fd = FCGX_OpenSocket(argv[1], 1024);
    if (fd < 0 || chmod(argv[1], 0666) != 0) {
        fprintf(stderr, "null_fcgi: cannot listen on %s\n", argv[1]);
        return 1;
    }
    pid_t pids[64];
    for (int i = 0; i < workers && i < 64; i++) {
        pids[i] = fork();
        if (pids[i] == 0)
            serve(fd, body, len, argc == 5);
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sig;
    sigwait(&set, &sig);
    for (int i = 0; i < workers && i < 64; i++)
        kill(pids[i], SIGTERM);
    while (wait(NULL) > 0)
        ;
    return 0;
}
