/* server.c — master and workers; see include/server.h. */
#include "server.h"

#include <errno.h>
#include <fcgiapp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apikey.h"
#include "front.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "write_relay.h"
#include "writer.h"

#define LISTEN_BACKLOG 4096
#define STOP_GRACE_SECONDS 30
#define MAX_WORKERS 256

static volatile sig_atomic_t got_term, got_hup, got_chld;

static void on_signal(int sig)
{
    switch (sig) {
    case SIGTERM:
    case SIGINT:
        got_term = 1;
        FCGX_ShutdownPending();
        break;
    case SIGHUP: got_hup = 1; break;
    case SIGCHLD: got_chld = 1; break;
    }
}

/* Installs on_signal for the given signals, without SA_RESTART. */
static void handle(const int *sigs, size_t n)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < n; i++)
        sigaction(sigs[i], &sa, NULL);
}

static void ignore(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(sig, &sa, NULL);
}

/* ---- one worker, or the writer ---- */

/* What the master hands to each process it starts. */
struct proc_opts {
    int listen_fd;        /* the FastCGI socket */
    const char *writer;   /* the writer's socket name, or NULL: no writer */
};

static int process_run(const struct config *cfg, const struct proc_opts *po,
                       struct metrics *metrics, bool writer)
{
    static const int sigs[] = {SIGTERM, SIGINT};
    sigset_t blocked, idle;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGINT);
    sigprocmask(SIG_BLOCK, &blocked, &idle);
    sigdelset(&idle, SIGTERM);
    sigdelset(&idle, SIGINT);
    handle(sigs, 2);
    ignore(SIGHUP);
    ignore(SIGPIPE);

    struct store store;
    if (apikey_init() != 0) {
        log_message("libsodium could not be initialised");
        return 1;
    }
    if (store_open_as(&store, cfg->db, cfg->map_size,
                      writer ? STORE_WRITES_COPIED : STORE_WRITES_MAPPED) != 0) {
        log_message("cannot open the database: %s", store.errmsg);
        return 1;
    }
    int set = store_set_retention(&store, cfg->changes_retain_ms);
    if (set) {
        log_message("cannot record --changes-retain: %s", mdb_strerror(set));
        store_close(&store);
        return 1;
    }
    struct app app = {&store, log_store_error, metrics};
    int rc;
    if (writer) {
        /* ps and top tell it from the workers. */
        if (prctl(PR_SET_NAME, "groupd-writer", 0, 0, 0) != 0)
            log_message("writer: cannot set its name: %s", strerror(errno));
        rc = writer_serve(po->writer, &app, &got_term, &idle);
    } else {
        struct front_opts o = {cfg->max_body, &idle, po->writer};
        rc = front_serve(po->listen_fd, &app, &o, &got_term);
    }
    store_close(&store);
    return rc == 0 ? 0 : 1;
}

/* ---- the master ---- */

/* A worker that ends this soon after its start failed to start: it is
 * tried again after 1, 2, 4, ... up to MAX_BACKOFF seconds. */
#define START_WINDOW_SECONDS 5
#define MAX_BACKOFF_SECONDS 64

/* Slots 0..n-1 are the workers; slot n, when there is one, the writer. */
struct pool {
    const struct config *cfg;
    struct proc_opts po;
    struct metrics *metrics;
    pid_t pid[MAX_WORKERS + 1]; /* 0: the slot waits for due[] */
    unsigned gen[MAX_WORKERS + 1]; /* the process's generation: which metrics slot it has */
    time_t started[MAX_WORKERS + 1];
    time_t due[MAX_WORKERS + 1];      /* when a waiting slot is tried again */
    unsigned fails[MAX_WORKERS + 1];  /* failed starts in a row */
    int n;      /* workers */
    int slots;  /* n, and one more with a writer */
    unsigned long restarts;
};

static const char *slot_name(const struct pool *p, int slot)
{
    return slot == p->n ? "writer" : "worker";
}

static pid_t spawn(struct pool *p, int slot)
{
    unsigned gen = p->gen[slot] + 1;
    pid_t pid = fork();
    if (pid < 0) {
        log_message("fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        sigaction(SIGCHLD, &sa, NULL);
        metrics_use_slot(p->metrics, (unsigned)slot, gen);
        _exit(process_run(p->cfg, &p->po, p->metrics, slot == p->n));
    }
    p->gen[slot] = gen;
    p->pid[slot] = pid;
    p->started[slot] = time(NULL);
    return pid;
}

static int slot_of(const struct pool *p, pid_t pid)
{
    for (int i = 0; i < p->slots; i++)
        if (p->pid[i] == pid)
            return i;
    return -1;
}

/* Notes workers that died and when each slot is to be filled again: at
 * once after a worker that ran, with a growing pause after one that
 * failed to start (a broken setup does not spin, and its reason, which
 * the worker logs, appears once per step). */
static void reap(struct pool *p)
{
    int status;
    pid_t pid;
    time_t now = time(NULL);
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        int slot = slot_of(p, pid);
        if (slot < 0)
            continue;
        p->pid[slot] = 0;
        p->restarts++;
        metrics_worker_ended(p->metrics, (unsigned)slot, p->gen[slot], 1);
        const char *how = WIFSIGNALED(status) ? "signal" : "status";
        int code = WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status);
        if (now - p->started[slot] >= START_WINDOW_SECONDS) {
            p->fails[slot] = 0;
            p->due[slot] = now;
            log_message("%s %d ended (%s %d); starting another", slot_name(p, slot), (int)pid,
                        how, code);
            continue;
        }
        unsigned f = p->fails[slot]++;
        time_t wait = f >= 6 ? MAX_BACKOFF_SECONDS : (time_t)1 << f;
        p->due[slot] = now + wait;
        log_message("%s %d ended %ld s after it started (%s %d), %u time(s) in a row; "
                    "trying again in %ld s",
                    slot_name(p, slot), (int)pid, (long)(now - p->started[slot]), how, code,
                    f + 1, (long)wait);
    }
}

/* Starts the waiting slots that are due; returns the seconds until the
 * next one is (-1: none waits). */
static long fill_due(struct pool *p)
{
    time_t now = time(NULL);
    long next = -1;
    for (int i = 0; i < p->slots; i++) {
        if (p->pid[i])
            continue;
        if (p->due[i] <= now && spawn(p, i) > 0)
            continue;
        long in = p->due[i] > now ? (long)(p->due[i] - now) : 1;
        if (next < 0 || in < next)
            next = in;
    }
    return next;
}

/* Waits for pid to end, up to seconds; true when it did. */
static bool wait_for(pid_t pid, int seconds)
{
    for (int i = 0; i < seconds * 20; i++) {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return true;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return false;
}

/* Asks pid to stop; kills it after the grace period. */
static void stop_one(pid_t pid)
{
    kill(pid, SIGTERM);
    if (!wait_for(pid, STOP_GRACE_SECONDS)) {
        kill(pid, SIGKILL);
        wait_for(pid, 5);
    }
}

static void replace_all(struct pool *p)
{
    log_message("SIGHUP: replacing %d workers one by one%s", p->n,
                p->slots > p->n ? ", then the writer" : "");
    for (int i = 0; i < p->slots; i++) {
        pid_t old = p->pid[i];
        unsigned old_gen = p->gen[i];
        if (i == p->n && old) {
            /* The writer's socket has one owner at a time: the old writer
             * stops first, and meanwhile the workers write themselves. */
            stop_one(old);
            metrics_worker_ended(p->metrics, (unsigned)i, old_gen, 0);
            p->pid[i] = old = 0;
        }
        if (spawn(p, i) < 0) {
            p->pid[i] = old;
            continue;
        }
        if (!old)
            continue; /* the slot was waiting to be filled again */
        stop_one(old);
        metrics_worker_ended(p->metrics, (unsigned)i, old_gen, 0);
    }
}

/* Stops slots [from, to): asks all, then waits for each. */
static void stop_slots(struct pool *p, int from, int to)
{
    for (int i = from; i < to; i++)
        if (p->pid[i])
            kill(p->pid[i], SIGTERM);
    for (int i = from; i < to; i++) {
        if (p->pid[i] && !wait_for(p->pid[i], STOP_GRACE_SECONDS)) {
            log_message("%s %d did not stop in %d s; killing it", slot_name(p, i),
                        (int)p->pid[i], STOP_GRACE_SECONDS);
            kill(p->pid[i], SIGKILL);
            wait_for(p->pid[i], 5);
        }
    }
}

/* The workers first: those with a write in flight wait for the writer. */
static void stop_all(struct pool *p)
{
    stop_slots(p, 0, p->n);
    stop_slots(p, p->n, p->slots);
}

static int open_listen(const char *listen, char *unix_path, size_t len)
{
    unix_path[0] = '\0';
    const char *addr = listen;
    if (strncmp(listen, "unix:", 5) == 0) {
        addr = listen + 5;
        snprintf(unix_path, len, "%s", addr);
        unlink(addr); /* a socket left by a previous run */
    }
    int fd = FCGX_OpenSocket(addr, LISTEN_BACKLOG);
    if (fd < 0)
        return -1;
    /* The web server's workers (www-data) must be able to connect. */
    if (unix_path[0] && chmod(unix_path, 0666) != 0)
        log_message("chmod %s: %s", unix_path, strerror(errno));
    return fd;
}

static int master_run(const struct config *cfg)
{
    char unix_path[4096];
    if (FCGX_Init() != 0) {
        log_message("FCGX_Init failed");
        return 1;
    }
    int fd = open_listen(cfg->listen, unix_path, sizeof unix_path);
    if (fd < 0) {
        log_message("cannot listen on %s: %s", cfg->listen, strerror(errno));
        return 1;
    }
    /* Check the database once before forking, so a bad --db fails fast;
     * the environment is closed again: it must not cross a fork. */
    struct store probe;
    if (store_open(&probe, cfg->db, cfg->map_size) != 0) {
        log_message("cannot open the database: %s", probe.errmsg);
        return 1;
    }
    store_close(&probe);

    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD};
    sigset_t blocked, idle;
    sigemptyset(&blocked);
    for (size_t i = 0; i < 4; i++)
        sigaddset(&blocked, sigs[i]);
    sigprocmask(SIG_BLOCK, &blocked, &idle);
    handle(sigs, 4);
    ignore(SIGPIPE);

    static struct pool p;
    memset(&p, 0, sizeof p);
    p.cfg = cfg;
    p.po.listen_fd = fd;
    p.n = p.slots = cfg->workers;
    char writer[64];
    if (cfg->writer) {
        write_relay_address(writer, sizeof writer, (long)getpid());
        p.po.writer = writer;
        p.slots++;
    }
    /* Mapped before the first fork: every process adds to the same segment. */
    p.metrics = metrics_map((unsigned)p.slots);
    if (!p.metrics) {
        log_message("cannot map the metrics segment: %s", strerror(errno));
        close(fd);
        return 1;
    }
    for (int i = 0; i < p.slots; i++)
        spawn(&p, i);
    log_message("listening on %s with %d workers%s", cfg->listen, p.n,
                cfg->writer ? " and a writer" : "");

    long next = -1;
    while (!got_term) {
        /* Signals arrive only here (they are blocked elsewhere). */
        struct timespec ts = {next, 0};
        ppoll(NULL, 0, next >= 0 ? &ts : NULL, &idle);
        if (got_chld) {
            got_chld = 0;
            reap(&p);
        }
        if (got_hup) {
            got_hup = 0;
            replace_all(&p);
        }
        next = fill_due(&p);
    }
    log_message("stopping: letting requests in flight finish");
    close(fd);
    stop_all(&p);
    if (unix_path[0])
        unlink(unix_path);
    metrics_unmap(p.metrics);
    log_message("stopped");
    return 0;
}

int server_run(const struct config *cfg)
{
    if (log_open(cfg->log) != 0) {
        fprintf(stderr, "groupd: cannot open log %s: %s\n", cfg->log, strerror(errno));
        return 1;
    }
    if (cfg->listen)
        return master_run(cfg);
    struct metrics *m = metrics_map(1);
    struct proc_opts po = {0, NULL};
    int rc = process_run(cfg, &po, m, false);
    metrics_unmap(m);
    return rc;
}
