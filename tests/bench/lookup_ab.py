"""Lookup A/B benchmark (issue 4), run by hand: one or more groupd builds against the null
FastCGI responder, on one loaded database, behind one nginx:

    python3 tests/bench/lookup_ab.py --db DIR [--seconds 5] [--rounds 4] BUILD[:DB] ...

1. DIR holds search_bench.py's data set (100,000 groups, 1,000,000 participants, same seed).
   When DIR has no database yet it is loaded the same way (groupctl create-groups, then
   HTTP imports of 100,000 rows) with the first BUILD, and kept for later runs.
   BUILD:DB serves another database (for instance a copy migrated by a newer build).
2. Each BUILD runs 2 workers under its own prefix (/g0, /g1, ...); the null responder
   (tests/bench/null_fcgi.c) returns the bytes of a lookup's answer, once with libfcgi's own
   close ("null") and once closing as groupd does ("null2"). Every build must give
   the same bytes for the same lookup, or the run stops.
3. After a 2 s warm-up round, each round times every target for --seconds with wrk -t2 -c32
   on 10,000 random active externalIds, alternating the order from round to round. It prints
   each run's req/s with the workers' user and system CPU per request, then each build's mean
   req/s and its ratios to both null responders of the same rounds.

Use it to decide a change to the read path: the difference between two builds in one run
is what the change does; ratios from separate runs drift by +-5% on a shared machine.
Only 127.0.0.1 and unix sockets; every loop is bounded; it stops only what it started.
"""
import argparse
import os
import random
import signal
import types

import search_bench as sb


def cpu_ticks(pid):
    fields = sb.proc_stat(pid)
    return fields[11], fields[12], fields[7]  # utime, stime, minflt


def load(bench, db, rng, groups):
    """search_bench.py's data set into an empty directory db."""
    jsonl = db + ".jsonl"
    sb.write_jsonl(groups, jsonl)
    bench.groupctl(db, "create-groups", jsonl, "--top-organisation", str(sb.TOP))
    os.unlink(jsonl)
    key = bench.groupctl(db, "key", "create", "--top-organisation", str(sb.TOP), "--role",
                         "admin").stdout.splitlines()[0]
    sock, gd = bench.start_groupd("loader", db)
    bench.start_nginx([("", sock)])
    sb.wait_ready(bench.port, "/health", None)
    sb.import_participants(bench.port, key, rng, groups, 1_000_000)
    sb.stop(gd)
    del bench.procs["loader"]
    os.kill(bench.nginx_pid, signal.SIGQUIT)
    bench.nginx_pid = None
    os.sync()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("builds", nargs="+", help="build directory, optionally :database")
    a = ap.parse_args()
    targets = [(os.path.abspath(b.partition(":")[0]), b.partition(":")[2] or a.db)
               for b in a.builds]
    bench = sb.Bench(types.SimpleNamespace(build=targets[0][0], map_size=16 << 30, keep=False))
    try:
        rng = random.Random(4)  # search_bench.py's seed and draw order
        groups = sb.generate_groups(rng, 100_000, sb.rare_words(rng, 2000))
        if not os.path.exists(os.path.join(a.db, "data.mdb")):
            print(f"loading {a.db} (once)")
            load(bench, a.db, rng, groups)
        routes, workers, keys = [], [], []
        for i, (build, db) in enumerate(targets):
            bench.bin = os.path.join(build, "src")
            keys.append(bench.groupctl(db, "key", "create", "--top-organisation", str(sb.TOP),
                                       "--role", "read").stdout.splitlines()[0])
            sock, gd = bench.start_groupd(f"g{i}", db)
            routes.append((f"/g{i}", sock))
            workers.append(gd)
        os.makedirs(os.path.join(bench.dir, "static"))
        bench.start_nginx(routes + [("/null", os.path.join(bench.dir, "null.sock")),
                                    ("/null2", os.path.join(bench.dir, "null2.sock"))])
        sb.wait_ready(bench.port, "/g0/health", None)
        active = [g for g in groups if g["status"] == "active"]
        sample = [g["externalId"] for g in random.Random(7).sample(active, 10_000)]
        answer = sb.get(bench.port, "/g0/group/" + sample[0], keys[0])[1]
        for i in range(1, len(targets)):
            got = sb.get(bench.port, f"/g{i}/group/" + sample[0], keys[i])[1]
            if got != answer:
                raise SystemExit(f"build {i} answers differently:\n{got[:300]!r}\n"
                                 f"build 0:\n{answer[:300]!r}")
        body = os.path.join(bench.dir, "static", "answer.json")
        with open(body, "wb") as f:
            f.write(answer)
        bench.start_null(body)
        sb.wait_ready(bench.port, "/null/", None)
        sb.wait_ready(bench.port, "/null2/", None)
        print(f"answer: {len(answer)} bytes; wrk -t2 -c32, 2 workers each")

        names = [f"g{i}" for i in range(len(targets))] + ["null", "null2"]
        rps = {n: [] for n in names}
        for rnd in range(a.rounds + 1):
            secs = a.seconds if rnd else 2
            for n in (names if rnd % 2 == 0 else names[::-1]):
                if n.startswith("null"):
                    paths, key, parent = [f"/{n}/"], None, bench.procs[n].pid
                else:
                    i = int(n[1:])
                    paths, key, parent = [f"/{n}/group/{e}" for e in sample], keys[i], workers[i].pid
                pids = sb.children(parent)
                before = [cpu_ticks(p) for p in pids]
                r = sb.wrk(bench, n + (" (warm-up)" if rnd == 0 else ""), paths, key, secs)
                after = [cpu_ticks(p) for p in pids]
                per = 1e6 / os.sysconf("SC_CLK_TCK") / max(1.0, r["rps"] * secs)
                user = sum(x[0] - y[0] for x, y in zip(after, before)) * per
                system = sum(x[1] - y[1] for x, y in zip(after, before)) * per
                faults = sum(x[2] - y[2] for x, y in zip(after, before)) / max(1.0, r["rps"] * secs)
                print(f"    workers' CPU per request: user {user:5.1f} us, system {system:5.1f} us; "
                      f"minor faults per request {faults:.2f}")
                if rnd:
                    rps[n].append(r["rps"])
        null = sum(rps["null"]) / len(rps["null"])
        null2 = sum(rps["null2"]) / len(rps["null2"])
        print("means:")
        for i, (build, db) in enumerate(targets):
            mean = sum(rps[f"g{i}"]) / len(rps[f"g{i}"])
            print(f"  g{i} {build} on {db}: {mean:.0f} req/s, {mean / null:.3f} of null, "
                  f"{mean / null2:.3f} of null2")
        print(f"  null: {null:.0f} req/s; null2 (closing as groupd does): {null2:.0f} req/s")
    finally:
        bench.stop_all()


if __name__ == "__main__":
    main()
