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
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/un.h>
#include <unistd.h>

#include "apikey.h"
#include "front.h"
#include "liveness.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "write_relay.h"
#include "writer.h"

#define LISTEN_BACKLOG 4096
#define MAX_WORKERS 256
/* A stop (SIGTERM) takes at most STOP_WORKERS_SECONDS for the workers to
 * answer what they hold, then STOP_WRITER_SECONDS for the writer to apply
 * what they sent; the sum stays below the unit's TimeoutStopSec (40 s). */
#define STOP_WORKERS_SECONDS 20
#define STOP_WRITER_SECONDS 10
/* SIGHUP replaces one process at a time; each gets this long to finish. */
#define REPLACE_GRACE_SECONDS 30

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
    int listen_fd;          /* the FastCGI socket */
    int writer_fd;          /* the writer's listening socket, held by the master; -1: no writer */
    const char *writer;     /* its (abstract) name, or NULL: no writer */
    long master;            /* the master's pid: the only listener a worker hands writes to */
    struct liveness *alive; /* readiness and the writer's heartbeat */
};

/* A descriptor that becomes readable when SIGTERM or SIGINT is pending.
 * Both stay blocked in workers and the writer: a busy process polls its
 * sockets and this one together, so a stop is seen at the next request,
 * not only when the process finds nothing to do (a ppoll that returns a
 * ready socket leaves a pending signal undelivered). */
static int stop_signal_fd(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static int process_run(const struct config *cfg, const struct proc_opts *po,
                       struct metrics *metrics, bool writer)
{
    ignore(SIGHUP);
    ignore(SIGPIPE);
    int stop_fd = stop_signal_fd();
    if (stop_fd < 0) {
        log_message("signalfd: %s", strerror(errno));
        return 1;
    }
    /* The writer's socket is the writer's to accept on, nobody else's. */
    if (!writer && po->writer_fd >= 0)
        close(po->writer_fd);

    if (apikey_init() != 0) {
        log_message("libsodium could not be initialised");
        return 1;
    }
    struct store *store = store_new();
    if (store_open_as(store, cfg->db, cfg->map_size,
                      writer ? STORE_WRITES_COPIED : STORE_WRITES_MAPPED) != 0) {
        log_message("cannot open the database: %s", store_errmsg(store));
        store_delete(store);
        return 1;
    }
    int set = store_set_retention(store, cfg->changes_retain_ms);
    if (set) {
        log_message("cannot record --changes-retain: %s", mdb_strerror(set));
        store_close(store);
        store_delete(store);
        return 1;
    }
    struct app app = {store, log_store_error, metrics, po->alive, cfg->max_body, NULL, NULL};
    int rc;
    liveness_ready(po->alive);
    if (writer) {
        /* ps and top tell it from the workers. */
        if (prctl(PR_SET_NAME, "groupd-writer", 0, 0, 0) != 0)
            log_message("writer: cannot set its name: %s", strerror(errno));
        rc = writer_serve(po->writer_fd, &app, stop_fd);
    } else {
        struct front_opts o = {cfg->max_body, stop_fd, po->writer, po->master};
        rc = front_serve(po->listen_fd, &app, &o);
    }
    store_close(store);
    store_delete(store);
    close(stop_fd);
    return rc == 0 ? 0 : 1;
}

/* ---- the master ---- */

/* A process that ended before it became ready (liveness.h) failed to
 * start: it is tried again after 1, 2, 4, ... up to MAX_BACKOFF seconds. */
#define MAX_BACKOFF_SECONDS 64

/* Slots 0..n-1 are the workers; slot n, when there is one, the writer. */
struct pool {
    const struct config *cfg;
    struct proc_opts po;
    struct metrics *metrics;
    pid_t pid[MAX_WORKERS + 1];      /* 0: the slot waits for due[] */
    unsigned gen[MAX_WORKERS + 1];   /* the process's generation: which metrics slot it has */
    time_t due[MAX_WORKERS + 1];     /* when a waiting slot is tried again */
    unsigned fails[MAX_WORKERS + 1]; /* failed starts in a row */
    int n;                           /* workers */
    int slots;                       /* n, and one more with a writer */
    unsigned long restarts;
    struct liveness *alive;
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
        /* A master killed outright (SIGKILL) takes its processes along:
         * they finish what they hold, as at a stop, and end. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) != 0 || getppid() != p->po.master)
            _exit(1);
        metrics_use_slot(p->metrics, (unsigned)slot, gen);
        liveness_use_slot(p->alive, (unsigned)slot, gen);
        _exit(process_run(p->cfg, &p->po, p->metrics, slot == p->n));
    }
    if (slot == p->n)
        liveness_expect_beat(p->alive);
    p->gen[slot] = gen;
    p->pid[slot] = pid;
    return pid;
}

static int slot_of(const struct pool *p, pid_t pid)
{
    for (int i = 0; i < p->slots; i++)
        if (p->pid[i] == pid)
            return i;
    return -1;
}

/* Notes processes that died and when each slot is to be filled again: at
 * once after one that had become ready, however short its life (killed by
 * the OOM killer or an operator), with a growing pause after one that
 * failed to start (a broken setup does not spin, and its reason, which
 * the process logs, appears once per step). */
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
        if (liveness_was_ready(p->alive, (unsigned)slot, p->gen[slot])) {
            p->fails[slot] = 0;
            p->due[slot] = now;
            log_message("%s %d ended (%s %d); starting another", slot_name(p, slot), (int)pid, how,
                        code);
            continue;
        }
        unsigned f = p->fails[slot]++;
        time_t wait = f >= 6 ? MAX_BACKOFF_SECONDS : (time_t)1 << f;
        p->due[slot] = now + wait;
        log_message("%s %d ended before it was ready (%s %d), %u time(s) in a row; "
                    "trying again in %ld s",
                    slot_name(p, slot), (int)pid, how, code, f + 1, (long)wait);
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
    if (!wait_for(pid, REPLACE_GRACE_SECONDS)) {
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
        /* Both writers may accept on the master's socket at once: the old
         * one stops taking connections at SIGTERM and finishes what it
         * took, the new one takes the rest, and LMDB's write lock keeps
         * their transactions apart. */
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

/* Stops slots [from, to): asks all, then waits for them together until
 * the deadline, and kills what is left. */
static void stop_slots(struct pool *p, int from, int to, int seconds)
{
    for (int i = from; i < to; i++)
        if (p->pid[i])
            kill(p->pid[i], SIGTERM);
    struct timespec step = {0, 20 * 1000 * 1000};
    for (int tick = 0; tick < seconds * 50; tick++) {
        int left = 0;
        for (int i = from; i < to; i++) {
            if (!p->pid[i])
                continue;
            pid_t r = waitpid(p->pid[i], NULL, WNOHANG);
            if (r == p->pid[i] || (r < 0 && errno == ECHILD))
                p->pid[i] = 0;
            else
                left++;
        }
        if (!left)
            return;
        nanosleep(&step, NULL);
    }
    for (int i = from; i < to; i++) {
        if (!p->pid[i])
            continue;
        log_message("%s %d did not stop in %d s; killing it", slot_name(p, i), (int)p->pid[i],
                    seconds);
        kill(p->pid[i], SIGKILL);
        wait_for(p->pid[i], 5);
        p->pid[i] = 0;
    }
}

/* The workers first (each answers what it holds, waiting for the writer
 * where it must), then the writer with nothing left to come. */
static void stop_all(struct pool *p)
{
    stop_slots(p, 0, p->n, STOP_WORKERS_SECONDS);
    stop_slots(p, p->n, p->slots, STOP_WRITER_SECONDS);
}

/* The writer made no progress for LIVENESS_STALL_MS (stopped, or stuck in
 * a system call): it is killed, its transaction never commits, the
 * workers waiting on it answer 503, and reap() starts another at once. */
static void watch_writer(struct pool *p)
{
    pid_t w = p->slots > p->n ? p->pid[p->n] : 0;
    /* Silence before it is ready (opening the database) is no stall. */
    if (!w || !liveness_was_ready(p->alive, (unsigned)p->n, p->gen[p->n]))
        return;
    int64_t silent = liveness_silence_ms(p->alive);
    if (silent < LIVENESS_STALL_MS)
        return;
    log_message("writer %d made no progress for %lld ms; killing it and starting another", (int)w,
                (long long)silent);
    kill(w, SIGKILL);
    liveness_expect_beat(p->alive); /* one kill per stall */
}

/* ---- the listening sockets ---- */

struct listener {
    int fd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* "": TCP */
    dev_t dev; /* the socket file this master made, so that it removes */
    ino_t ino; /* only its own at the end */
};

/* A socket file at path that someone still listens on: a second groupd
 * (or anything else) that must not be robbed of it.  A connect that is
 * refused means a socket left by a run that ended. */
static bool socket_in_use(const char *path)
{
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    bool used = connect(fd, (struct sockaddr *)&a, sizeof a) == 0 || errno == EAGAIN;
    close(fd);
    return used;
}

static int open_listen(const char *listen, struct listener *l)
{
    memset(l, 0, sizeof *l);
    const char *addr = listen;
    if (strncmp(listen, "unix:", 5) == 0) {
        addr = listen + 5;
        snprintf(l->path, sizeof l->path, "%s", addr);
        struct stat st;
        if (lstat(addr, &st) == 0) {
            if (!S_ISSOCK(st.st_mode)) {
                log_message("cannot listen on %s: it exists and is not a socket", listen);
                return -1;
            }
            if (socket_in_use(addr)) {
                log_message("cannot listen on %s: another process (a groupd already running?) "
                            "listens on it; not starting",
                            listen);
                return -1;
            }
            unlink(addr); /* a socket left by a run that ended */
        }
    }
    l->fd = FCGX_OpenSocket(addr, LISTEN_BACKLOG);
    if (l->fd < 0) {
        log_message("cannot listen on %s: %s", listen, strerror(errno));
        return -1;
    }
    if (l->path[0]) {
        struct stat st;
        if (stat(l->path, &st) == 0) {
            l->dev = st.st_dev;
            l->ino = st.st_ino;
        }
        /* The web server's workers (www-data) must be able to connect. */
        if (chmod(l->path, 0666) != 0)
            log_message("chmod %s: %s", l->path, strerror(errno));
    }
    return 0;
}

/* Removes the socket file, if it is still the one this master made: no
 * new connection can reach the workers, which answer those already made. */
static void unlink_listen(struct listener *l)
{
    struct stat st;
    if (l->path[0] && stat(l->path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino)
        unlink(l->path);
    l->path[0] = '\0';
}

/* ---- the master ---- */

/* SIGHUP: the command line and the config file are read again.  What the
 * new processes open with (--map-size, --max-body, --changes-retain) takes
 * effect as they replace the old ones; what the master itself holds
 * (--db, --listen, --workers, --writer, --shard, --log) needs a restart, and a
 * change to it is logged and ignored.  A file that no longer parses keeps
 * the running configuration. */
static void reload_config(struct config *cur, int argc, char **argv)
{
    struct config next;
    char err[512];
    if (config_parse(&next, argc, argv, err, sizeof err) != 0) {
        log_message("SIGHUP: the configuration was not read again (%s); keeping the running one",
                    err);
        return;
    }
#define KEEP_STR(f, opt)                                                                           \
    if ((next.f == NULL) != (cur->f == NULL) || (next.f && strcmp(next.f, cur->f) != 0))           \
        log_message("SIGHUP: " opt " changes only at a restart; keeping %s",                       \
                    cur->f ? cur->f : "(none)");                                                   \
    free(next.f);                                                                                  \
    next.f = cur->f;                                                                               \
    cur->f = NULL;
    KEEP_STR(db, "--db")
    KEEP_STR(listen, "--listen")
    KEEP_STR(log, "--log")
#undef KEEP_STR
    if (next.workers != cur->workers || next.writer != cur->writer || next.shard != cur->shard)
        log_message(
            "SIGHUP: --workers, --writer and --shard change only at a restart; keeping them");
    next.workers = cur->workers;
    next.writer = cur->writer;
    next.shard = cur->shard;
    if (next.map_size != cur->map_size)
        log_message("SIGHUP: --map-size %zu bytes (was %zu)", next.map_size, cur->map_size);
    config_free(cur);
    *cur = next;
}

static int master_run(struct config *cfg, int argc, char **argv)
{
    if (FCGX_Init() != 0) {
        log_message("FCGX_Init failed");
        return 1;
    }
    struct listener l;
    if (open_listen(cfg->listen, &l) != 0)
        return 1;

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
    p.po.listen_fd = l.fd;
    p.po.writer_fd = -1;
    p.po.master = (long)getpid();
    p.n = p.slots = cfg->workers;
    char writer[WRITE_RELAY_NAME_MAX];
    if (cfg->writer) {
        /* The master holds the writer's socket for its whole life: no
         * other process can take its name, even while no writer runs. */
        p.po.writer_fd = write_relay_listen(writer, sizeof writer);
        if (p.po.writer_fd < 0) {
            log_message("cannot make the writer's socket: %s", strerror(errno));
            unlink_listen(&l);
            return 1;
        }
        p.po.writer = writer;
        p.slots++;
    }
    /* Mapped before the first fork: every process adds to the same segment. */
    p.metrics = metrics_map((unsigned)p.slots);
    p.alive = liveness_map((unsigned)p.slots);
    p.po.alive = p.alive;
    if (!p.metrics || !p.alive) {
        log_message("cannot map the shared segments: %s", strerror(errno));
        close(l.fd);
        unlink_listen(&l);
        return 1;
    }
    for (int i = 0; i < p.slots; i++)
        spawn(&p, i);
    log_message("listening on %s with %d workers%s", cfg->listen, p.n,
                cfg->writer ? " and a writer" : "");

    long next = -1;
    while (!got_term) {
        /* Signals arrive only here (they are blocked elsewhere).  With a
         * writer, the master wakes at least once a second to watch it. */
        long wait = next;
        if (p.slots > p.n && (wait < 0 || wait > 1))
            wait = 1;
        struct timespec ts = {wait, 0};
        ppoll(NULL, 0, wait >= 0 ? &ts : NULL, &idle);
        if (got_chld) {
            got_chld = 0;
            reap(&p);
        }
        if (got_hup) {
            got_hup = 0;
            reload_config(cfg, argc, argv);
            replace_all(&p);
        }
        watch_writer(&p);
        next = fill_due(&p);
    }
    log_message("stopping: no new connections; answering those already made");
    unlink_listen(&l);
    close(l.fd);
    stop_all(&p);
    if (p.po.writer_fd >= 0)
        close(p.po.writer_fd);
    metrics_unmap(p.metrics);
    liveness_unmap(p.alive);
    log_message("stopped");
    return 0;
}

/* Opens the database once before anything starts, so a bad --db fails
 * fast, and records or checks its shard number (--shard); the environment
 * is closed again: it must not cross a fork. */
static int check_database(const struct config *cfg)
{
    struct store *s = store_new();
    int rc = store_open(s, cfg->db, cfg->map_size);
    if (rc) {
        log_message("cannot open the database: %s", store_errmsg(s));
    } else {
        if ((rc = store_claim_shard(s, cfg->shard)) != 0)
            log_message("%s", store_errmsg(s));
        store_close(s);
    }
    store_delete(s);
    return rc;
}

int server_run(struct config *cfg, int argc, char **argv)
{
    if (log_open(cfg->log) != 0) {
        fprintf(stderr, "groupd: cannot open log %s: %s\n", cfg->log, strerror(errno));
        return 1;
    }
    if (check_database(cfg) != 0) {
        log_flush();
        return 1;
    }
    if (cfg->listen)
        return master_run(cfg, argc, argv);
    struct metrics *m = metrics_map(1);
    struct proc_opts po = {0, -1, NULL, 0, NULL};
    int rc = process_run(cfg, &po, m, false);
    metrics_unmap(m);
    return rc;
}
