"""Instructions per request (issue 14), run by hand: one groupd worker under
valgrind's callgrind, straight over FastCGI (no web server), on lookup_ab.py's data set:

    python3 tests/bench/instr_count.py --db DIR [--requests 1000] [--what lookup] BUILD ...

1. DIR is a database loaded by lookup_ab.py (100,000 groups, 1,000,000 participants).
2. For each BUILD: groupd with one worker and no writer under callgrind; 200 requests to
   warm it up, then callgrind is told to dump, and --requests requests are sent one at
   a time; callgrind's part after the warm-up gives the worker's instructions per request.
   A second run without the split gives the eight costliest functions (self cost, start-up
   and warm-up included: callgrind books every cost after a dump under main).
3. --what: lookup (GET /group/:externalId, lookup_ab.py's 10,000 externalIds), search (the
   two rare words of a random active group, as search_bench.py's (b)), list (archived groups
   by name), health (no key, no store read: the front alone).

Instruction counts do not drift with the machine's load the way req/s does: use them to
decide a change to the request path, two builds in one run.
Only unix sockets; every loop is bounded; it stops only what it started.
"""
import argparse
import glob
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import search_bench as sb

sys.path.insert(0, os.path.join(sb.ROOT, "tests", "integration"))
from harness import fcgi_request  # noqa: E402


def paths_for(what, groups, n):
    rng = random.Random(7)
    if what == "lookup":
        active = [g["externalId"] for g in groups if g["status"] == "active"]
        return ["/group/" + e for e in rng.sample(active, 10_000)][:n]
    if what == "search":  # search_bench.py's (b): the two rare words of an active group
        active = [g for g in groups if g["status"] == "active"]
        return [f"/group?q={g['_rare'][0]}+{g['_rare'][1]}" for g in rng.sample(active, n)]
    if what == "list":
        return ["/group?status=archived&sort=name"] * n
    return ["/health"] * n


def params(path, key):
    """What nginx sends for a GET with deploy/nginx/groupd_fastcgi_params (empty
    CONTENT_TYPE and CONTENT_LENGTH are left out, and no other request header)."""
    p = {"REQUEST_METHOD": "GET", "REQUEST_URI": path, "SCRIPT_NAME": ""}
    if key:
        p["HTTP_API_KEY"] = key
    return p


def worker_pid(master, timeout=60.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        kids = sb.children(master)
        if kids:
            return kids[0]
        time.sleep(0.05)
    raise RuntimeError("no worker started")


def run_worker(build, db, paths, key, warm, tmp, split):
    """Callgrind's annotation of one worker that served warm + len(paths) requests. With
    split, a dump after the warm-up, so the annotation covers only paths (but callgrind
    then books every cost under main); without, it covers the whole run, by function."""
    sock = os.path.join(tmp, "g.sock")
    out = os.path.join(tmp, "cg.%p")
    p = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                          "--trace-children=yes", "--dump-instr=no",
                          os.path.join(build, "src", "groupd"), "--db", db, "--listen",
                          "unix:" + sock, "--workers", "1", "--writer", "off", "--map-size",
                          str(16 << 30), "--log", os.path.join(tmp, "g.log")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    statuses = {}
    try:
        w = worker_pid(p.pid)
        t0 = time.monotonic()
        while not os.path.exists(sock) and time.monotonic() - t0 < 60:
            time.sleep(0.05)
        for path in paths[:warm]:
            fcgi_request(sock, params(path, key), timeout=120)
        if split:
            subprocess.run(["callgrind_control", "--dump", str(w)], check=True,
                           capture_output=True, timeout=120)
        for path in paths:
            st = fcgi_request(sock, params(path, key), timeout=120)[0]
            statuses[st] = statuses.get(st, 0) + 1
    finally:
        sb.stop(p)  # the worker writes its last part as it ends
    dump = os.path.join(tmp, f"cg.{w}")
    if not os.path.exists(dump):
        raise RuntimeError("callgrind wrote no dump for the worker")
    ann = subprocess.run(["callgrind_annotate", dump], capture_output=True, text=True,
                         timeout=120).stdout
    for f in glob.glob(os.path.join(tmp, "cg.*")):
        os.unlink(f)
    return ann, statuses


def annotation(ann):
    """(total, [(self cost, function)]) of callgrind_annotate's output."""
    total, top = 0, []
    row = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(\S+)(?:\s+\[(.*)\])?$")
    for line in ann.splitlines():
        if line.endswith("PROGRAM TOTALS"):
            total = int(line.split()[0].replace(",", ""))
            continue
        m = row.match(line)
        if m and total:
            where = os.path.basename(m.group(3) or "")
            top.append((int(m.group(1).replace(",", "")),
                        m.group(2).rsplit(":", 1)[-1] + (f" ({where})" if where else "")))
    return total, top


def measure(build, db, paths, key, warm, tmp):
    ann, statuses = run_worker(build, db, paths, key, warm, tmp, True)
    per = annotation(ann)[0] / len(paths)
    total, top = annotation(run_worker(build, db, paths, key, warm, tmp, False)[0])
    return per, statuses, [(fn, n / total) for n, fn in top[:8]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--what", choices=["lookup", "search", "list", "health"], default="lookup")
    ap.add_argument("builds", nargs="+")
    a = ap.parse_args()
    if not os.path.exists(os.path.join(a.db, "data.mdb")):
        raise SystemExit(f"{a.db} holds no database: load it with lookup_ab.py first")
    rng = random.Random(4)  # search_bench.py's seed and draw order
    groups = sb.generate_groups(rng, 100_000, sb.rare_words(rng, 2000))
    n = min(a.requests, 10_000)
    paths = paths_for(a.what, groups, n)
    tmp = tempfile.mkdtemp(prefix="groupd-instr-")
    try:
        key = None
        if a.what != "health":
            key = subprocess.run([os.path.join(os.path.abspath(a.builds[0]), "src", "groupctl"),
                                  "--db", a.db, "--map-size", str(16 << 30), "key", "create",
                                  "--top-organisation", str(sb.TOP), "--role", "read"],
                                 check=True, capture_output=True, text=True,
                                 timeout=120).stdout.splitlines()[0]
        for build in a.builds:
            per, statuses, top = measure(os.path.abspath(build), a.db, paths, key,
                                         min(200, n), tmp)
            print(f"{build}: {per:,.0f} instructions per {a.what} ({n} requests, statuses "
                  f"{statuses}); the costliest functions of the whole worker run (self):")
            for fn, share in top:
                print(f"    {share * 100:5.1f}%  {fn}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
