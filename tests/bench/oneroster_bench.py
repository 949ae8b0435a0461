"""OneRoster import benchmark (issue 30), run by hand: python3 tests/bench/oneroster_bench.py

Starts groupd (2 workers) behind nginx on 127.0.0.1 with the integration harness (the
optimised build in build/ by default) and, through nginx, imports a district-sized OneRoster
1.2 bulk export, zipped:
  1. 5,000 classes, 100,000 users, 250,000 student enrollments (and a teacher per class,
     not imported), into an empty database;
  2. the same export again (everything unchanged);
  3. a delta export changing 1% of the enrollments (half of them removed, half added);
then prints each time, the answers, the export's sizes, and the importing workers' peak
memory (VmHWM reset before the imports, and sampled RssAnon/RssFile at the peak) against
the budget.  Every loop is bounded in count; only loopback is used.
Options: --classes N --users N --enrollments N --build DIR
"""
import argparse
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, HERE)

FIRST = ["Jan", "Anna", "Pieter", "Sanne", "Daan", "Emma", "Lucas", "Zoë", "Jörg", "Fatima",
         "Mohammed", "Lotte", "Bram", "Noor", "Sem", "Julia", "Thijs", "Eva", "Hanako"]
LAST = ["de Vries", "Jansen", "van der Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer",
        "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Dijk", "山田"]


def district(n_classes, n_users, n_enrollments, seed=7):
    from oneroster_export import Export
    rnd = random.Random(seed)
    x = Export("1.2")
    x.term("t-2026", 2026)
    for c in range(n_classes // 10):
        x.course(f"crs-{c}", f"Course {c}")
    for c in range(n_classes):
        x.klass(f"cls-{c:05d}", f"Class {c}", course=f"crs-{c // 10}", terms="t-2026",
                school=f"sch-{c % 20}")
    for u in range(n_users):
        x.user(f"usr-{u:06d}", rnd.choice(FIRST), rnd.choice(LAST), f"student{u}@district.example.org")
    for c in range(n_classes):
        x.user(f"tch-{c:05d}", "Teacher", f"{c}", f"teacher{c}@district.example.org", role="teacher")
        x.enroll(f"te-{c:05d}", f"cls-{c:05d}", f"tch-{c:05d}", role="teacher")
    pairs = set()
    while len(pairs) < n_enrollments:
        pairs.add((rnd.randrange(n_classes), rnd.randrange(n_users)))
    pairs = sorted(pairs)
    for i, (c, u) in enumerate(pairs):
        x.enroll(f"enr-{i:07d}", f"cls-{c:05d}", f"usr-{u:06d}")
    return x, pairs


def delta(pairs, n_classes, n_users, share=0.01, seed=8):
    from oneroster_export import Export
    rnd = random.Random(seed)
    d = Export("1.2")
    d.modes = {"enrollments": "delta"}
    n = int(len(pairs) * share)
    for i in rnd.sample(range(len(pairs)), n // 2):
        c, u = pairs[i]
        d.enroll(f"enr-{i:07d}", f"cls-{c:05d}", f"usr-{u:06d}", status="tobedeleted",
                 dateLastModified="2026-12-07T02:00:00.000Z")
    have = set(pairs)
    # A delta without users.csv names users imported before: those with an enrollment.
    enrolled = sorted({u for _, u in pairs})
    added = 0
    for k in range(10 * n):
        if added == n - n // 2:
            break
        c, u = rnd.randrange(n_classes), rnd.choice(enrolled)
        if (c, u) in have:
            continue
        have.add((c, u))
        d.enroll(f"new-{k:07d}", f"cls-{c:05d}", f"usr-{u:06d}", status="active",
                 dateLastModified="2026-12-07T02:00:00.000Z")
        added += 1
    return d, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--classes", type=int, default=5_000)
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--enrollments", type=int, default=250_000)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    os.environ["GROUPD_BIN_DIR"] = os.path.join(os.path.abspath(a.build), "src")
    from harness import Stack, children
    from import_bench import PeakSampler, worker_memory

    t = time.monotonic()
    x, pairs = district(a.classes, a.users, a.enrollments)
    files = x.files()
    body = x.to_zip()
    unzipped = sum(len(v) for v in files.values())
    d, changed = delta(pairs, a.classes, a.users)
    delta_body = d.to_zip()
    print(f"export: {a.classes} classes, {a.users} users, {a.enrollments} student enrollments; "
          f"zip {len(body) / 2**20:.1f} MiB, files {unzipped / 2**20:.1f} MiB "
          f"(built in {time.monotonic() - t:.1f} s); delta: {changed} enrollments, "
          f"zip {len(delta_body) / 1024:.0f} KiB")

    s = Stack(workers=2, max_body=64 << 20, extra_args=["--map-size", str(8 << 30)]).start()
    try:
        key = s.key(100, "write")
        for pid in children(s.groupd.pid):
            with open(f"/proc/{pid}/clear_refs", "w") as f:
                f.write("5")
        sampler = PeakSampler(children(s.groupd.pid))
        sampler.thread.start()
        for label, data in (("bulk import", body), ("same export again", body),
                            ("delta (1% of enrollments)", delta_body)):
            t = time.monotonic()
            r = s.request("POST", "/group/bulkImportOneRoster?organisation=101", key, raw=data,
                          ctype="application/zip")
            dt = time.monotonic() - t
            assert r.status == 200, (r, s.read_log()[-2000:])
            print(f"{label}: {dt:.2f} s  {r.json['imported']}")
        sampler.stop.set()
        sampler.thread.join()
        for pid, hwm, anon, file_ in worker_memory(s.groupd.pid):
            rss, panon, pfile = sampler.peak.get(pid, (0, 0, 0))
            print(f"worker {pid}: VmHWM {hwm}; sampled peak VmRSS {rss} kB = RssAnon {panon} kB "
                  f"+ RssFile {pfile} kB")
        print(f"budget: 64 MiB + zip {len(body) / 2**20:.1f} MiB + files {unzipped / 2**20:.1f} MiB "
              f"+ 64 B per enrollment ({a.enrollments * 64 / 2**20:.1f} MiB) = "
              f"{64 + (len(body) + unzipped + a.enrollments * 64) / 2**20:.1f} MiB of RssAnon")
        print(s.groupctl("stats").stdout.rstrip())
        r = s.groupctl("check", check=False)
        print("groupctl check:", r.stdout.strip().splitlines()[-1] if r.stdout else r.returncode)
    finally:
        s.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
