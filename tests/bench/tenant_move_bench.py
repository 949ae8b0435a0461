"""Tenant move benchmark (issue 31), run by hand:

    python3 tests/bench/tenant_move_bench.py [--groups 100000] [--participants 10]
        [--rate 200] [--warmup 30] [--baseline 60] [--build DIR] [--busy PERCENT] [--no-move SECONDS]

Two shards (groupd --shard 1 and 2, 2 workers each, on unix sockets) behind one nginx with
the shipped deploy/nginx/shards files on 127.0.0.1. Shard 1 holds tenant 100 (--groups
groups of --participants participants, loaded with groupctl create-groups) and tenant 200;
shard 2 holds tenant 300. tests/integration/tenant_load.py writes to tenant 100 at --rate
writes/s (retrying on 503), reads and follows it; a second tenant_load.py process (the probe:
its own interpreter, no cycle collector) writes to and reads tenants 200 and 300 and times
each request. After --warmup seconds (not measured), then --baseline seconds, deploy/nginx/shards/move-tenant moves tenant 100 to shard 2;
the load goes on 10 s more. Prints:
- the freeze: the first to the last 503 the writers saw, and send's own figure (the cut to
  the end of the stream); the catch-up rounds; the whole move's time;
- the source's extra disk: data.mdb's allocated bytes before and after the move;
- the other tenants' p99 latency during the move against the --baseline seconds before it;
- errors of any kind (none expected) and `groupctl check` of both shards.
--no-move SECONDS is the control: nothing moves, and the SECONDS after the baseline are
compared with it as a move's time would be (the ratio the measurement gives by itself).
--shadow is the counter-experiment: the receive's work runs beside the shards (into a database
of its own), sharing the CPUs and the disk but no write lock with them.
Only 127.0.0.1 and unix sockets; the load is bounded in count and time.
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARDS = os.path.join(ROOT, "deploy", "nginx", "shards")
LOAD = os.path.join(ROOT, "tests", "integration", "tenant_load.py")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import NGINX, shards_nginx  # noqa: E402


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def p99(values):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * 0.99))]


def cpu_busy():
    """(busy, all) jiffies of every CPU so far, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]  # idle, iowait
    return sum(v) - idle, sum(v)


def share(a, b):
    return (b[0] - a[0]) / max(1, b[1] - a[1])


def disk(path):
    return os.stat(os.path.join(path, "data.mdb")).st_blocks * 512


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--groups", type=int, default=100000)
    ap.add_argument("--participants", type=int, default=10)
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--baseline", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=30, help="seconds of load before the "
                    "baseline starts")
    ap.add_argument("--no-move", type=float, default=0, metavar="SECONDS",
                    help="the control: move nothing, and compare the SECONDS after the "
                    "baseline with it as a move's would be")
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "src"))
    ap.add_argument("--dest-dir", default=None, help="where shard 2's database goes (default: "
                    "beside shard 1's; another file system shows what the two shards sharing "
                    "one disk costs)")
    ap.add_argument("--wrap", default="", help="a prefix for the move's groupctl commands, "
                    "e.g. 'nice -n 19'")
    ap.add_argument("--busy", type=int, default=None, help="move-tenant's --busy (default: "
                    "groupctl's)")
    ap.add_argument("--shadow", action="store_true",
                    help="the counter-experiment: instead of the move, receive a stream of the "
                    "tenant (sent before groupd started) into a third database that no groupd "
                    "serves: the receive's CPU and disk work beside the shards, without their "
                    "write locks")
    a = ap.parse_args()
    groupd, groupctl = (os.path.join(a.build, x) for x in ("groupd", "groupctl"))
    d = tempfile.mkdtemp(prefix="groupd-move-bench-")
    os.chmod(d, 0o755)
    procs, nginx, load, probe = [], None, None, None
    try:
        db = {n: os.path.join(d, f"db{n}") for n in (1, 2)}
        if a.dest_dir:
            db[2] = tempfile.mkdtemp(prefix="groupd-move-bench-db2-", dir=a.dest_dir)
        ctl = lambda n, *args: subprocess.run([groupctl, "--db", db[n], *args], check=True,
                                              capture_output=True, text=True, timeout=3600)
        seed = os.path.join(d, "seed.jsonl")
        with open(seed, "w") as f:
            for g in range(a.groups):
                f.write(json.dumps({"name": f"Groep {g}", "externalId": f"s-{g}",
                                    "organisation": 101,
                                    "participants": [{"email": f"s{g}-{i}@x.nl",
                                                      "externalId": f"s{g}-{i}"}
                                                     for i in range(a.participants)]}) + "\n")
        keys = {}
        for n, tops in ((1, (100, 200)), (2, (300,))):
            ctl(n, "--shard", str(n), "stats")
            for top in tops:
                keys[top] = ctl(n, "key", "create", "--top-organisation", str(top), "--role",
                                "admin").stdout.split()[0]
        t = time.monotonic()
        ctl(1, "create-groups", seed, "--top-organisation", "100")
        os.unlink(seed)
        print(f"tenant 100: {a.groups} groups of {a.participants} participants loaded in "
              f"{time.monotonic() - t:.1f} s")
        # The follower starts at the feed's end: reading the load's million entries would be
        # a heavy load of its own in the baseline only.
        last_seq = re.search(r"^changes_last_seq (\d+)$", ctl(1, "stats").stdout, re.M).group(1)
        stream = os.path.join(d, "tenant-100.stream")
        if a.shadow:
            with open(stream, "wb") as f:
                subprocess.run([groupctl, "--db", db[1], "tenant", "send", "--top-organisation",
                                "100"], stdout=f, stderr=subprocess.DEVNULL, check=True,
                               timeout=3600)
            ctl(1, "tenant", "thaw", "--top-organisation", "100")
        for n in (1, 2):
            sock = os.path.join(d, f"groupd-{n}.sock")
            procs.append(subprocess.Popen([groupd, "--db", db[n], "--listen", "unix:" + sock,
                                           "--workers", "2", "--shard", str(n), "--log",
                                           os.path.join(d, f"groupd-{n}.log")],
                                          stdin=subprocess.DEVNULL))
        for n in (1, 2):
            for _ in range(200):
                if os.path.exists(os.path.join(d, f"groupd-{n}.sock")):
                    break
                time.sleep(0.05)
        port = free_port()
        tmap = os.path.join(d, "tenants.map")
        conf = shards_nginx(d, port, {n: "unix:" + os.path.join(d, f"groupd-{n}.sock")
                                      for n in (1, 2)},
                            {"hosts.map": "", "tenants.map": "100 groupd_shard_1;\n"
                             "200 groupd_shard_1;\n300 groupd_shard_2;\n"}, workers=2)
        subprocess.run([NGINX, "-c", conf, "-p", d], check=True, timeout=30)
        time.sleep(0.5)
        nginx = int(open(os.path.join(d, "nginx.pid")).read())
        started, stop, out = (os.path.join(d, x) for x in ("started", "stop", "load.json"))
        # The moving tenant's load, and the other tenants' probe in a process of its own.
        probe_started, probe_out = os.path.join(d, "probe-started"), os.path.join(d, "probe.json")
        load = subprocess.Popen([sys.executable, LOAD, "--port", str(port), "--key", keys[100],
                                 "--org", "101", "--since", last_seq, "--rate", str(a.rate),
                                 "--warm", "50",
                                 "--max-writes", "1000000", "--max-seconds", "3600",
                                 "--started", started, "--stop", stop, "--out", out])
        while not os.path.exists(started) and load.poll() is None:
            time.sleep(0.1)
        probe = subprocess.Popen([sys.executable, LOAD, "--port", str(port), "--other",
                                  f"{keys[200]},201", "--other", f"{keys[300]},301",
                                  "--max-seconds", "3600", "--started", probe_started, "--stop",
                                  stop, "--out", probe_out])
        while not os.path.exists(probe_started) and probe.poll() is None:
            time.sleep(0.1)
        # Not measured: the workers' first touches of the freshly loaded map, the first
        # connections, the interpreters' start.
        time.sleep(a.warmup)
        start_src, t_base, cpu_base = disk(db[1]), time.monotonic(), cpu_busy()
        time.sleep(a.baseline)
        before_src = disk(db[1])
        base_growth = (before_src - start_src) / (time.monotonic() - t_base)
        t0, ru0, cpu0 = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN), cpu_busy()
        if a.no_move:
            time.sleep(a.no_move)
            moved = subprocess.CompletedProcess([], 0, "", "no move (--no-move): the control")
        elif a.shadow:
            with open(stream, "rb") as f:
                moved = subprocess.run(
                    [*a.wrap.split(), groupctl, "--db", os.path.join(d, "db3"), "--shard", "3",
                     "tenant", "receive", *(["--busy", str(a.busy)] if a.busy else [])],
                    stdin=f, capture_output=True, text=True, timeout=3600)
        else:
            moved = subprocess.run(
                [os.path.join(SHARDS, "move-tenant"), "--top-organisation", "100", "--from",
                 f"{a.wrap} {groupctl} --db {db[1]}", "--to", f"{a.wrap} {groupctl} --db {db[2]}",
                 "--to-upstream", "groupd_shard_2", "--map", tmap, "--nginx",
                 f"{NGINX} -c {conf} -p {d}", *(["--busy", str(a.busy)] if a.busy else [])],
                capture_output=True, text=True, timeout=3600)
        t1, ru1, cpu1 = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN), cpu_busy()
        after_src = disk(db[1])
        time.sleep(10)
        open(stop, "w").close()
        load.wait(timeout=600)
        probe.wait(timeout=600)
        with open(out) as f:
            got = json.load(f)
        with open(probe_out) as f:
            other = json.load(f)
        got["errors"] += other["errors"]
        print(moved.stderr.strip())
        user, sys_ = ru1.ru_utime - ru0.ru_utime, ru1.ru_stime - ru0.ru_stime
        print(f"move: exit {moved.returncode}, {t1 - t0:.1f} s in all; send and receive used "
              f"{user:.1f} s user + {sys_:.1f} s system CPU ({(user + sys_) / (t1 - t0):.0%} "
              f"of one core); the machine's {os.cpu_count()} CPUs were busy "
              f"{share(cpu_base, cpu0):.0%} of the time in the baseline, {share(cpu0, cpu1):.0%} "
              f"during the move")
        print(f"freeze seen by the writers: {got['writes_503']} answers 503, first to last "
              f"{got['longest_503_run_s']:.3f} s; {got['writes']} writes acknowledged; "
              f"{got['reads']} reads of the tenant, {got['reads_503']} of them 503")
        print(f"source data.mdb: {before_src / 2**20:.1f} MiB before the move, "
              f"{after_src / 2**20:.1f} MiB after (+{(after_src - before_src) / 2**20:.1f} MiB; "
              f"in the baseline it grew {base_growth * (t1 - t0) / 2**20:.1f} MiB per "
              f"{t1 - t0:.1f} s)")
        lat = other["other_latency"]
        for org, method in ((None, None), (201, "POST"), (201, "GET"), (301, "POST"),
                            (301, "GET")):
            pick = [x for x in lat if org is None or (x[2], x[3]) == (org, method)]
            during = [x[1] for x in pick if t0 <= x[0] <= t1]
            base = [x[1] for x in pick if t0 - a.baseline <= x[0] < t0]
            what = "other tenants" if org is None else f"  organisation {org} {method}"
            print(f"{what}: p99 {p99(base) * 1000:.1f} ms in the {a.baseline:.0f} s before "
                  f"the move ({len(base)} requests), {p99(during) * 1000:.1f} ms during it "
                  f"({len(during)} requests): ratio {p99(during) / p99(base):.2f}")
        print(f"errors: {len(got['errors'])} {got['errors'][:5]}")
        seqs = got["seqs"]
        print(f"feed follower: {len(seqs)} seqs, in order and each once: "
              f"{seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else 'none'}")
        for n in (1, 2):
            r = subprocess.run([groupctl, "--db", db[n], "check"], capture_output=True,
                               text=True, timeout=3600)
            print(f"shard {n}: {r.stdout.strip().splitlines()[-1]}")
    finally:
        for p in (load, probe):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        if nginx:
            os.kill(nginx, signal.SIGQUIT)
        for p in procs:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=120)
        shutil.rmtree(d, ignore_errors=True)
        if a.dest_dir:
            shutil.rmtree(db[2], ignore_errors=True)


if __name__ == "__main__":
    main()
