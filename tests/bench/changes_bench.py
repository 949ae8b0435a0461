"""Change feed benchmark (issue 11), run by hand:

    python3 tests/bench/changes_bench.py [--tenants 10] [--per-tenant 100000] [--duration 10]

1. Loads a database through the product's own paths: for each of --tenants tenants,
   10% of --per-tenant as groups (`groupctl create-groups`, one feed entry each) and the
   rest as participants (HTTP bulk imports, one entry per participant), so the feed holds
   tenants x per-tenant entries (1,000,000 by default), plus one small tenant of 1,100.
2. Behind one nginx (worker_processes 1, FastCGI without keep_conn), wrk -t2 -c32:
   (f) GET /changes?since=<random seq of tenant 1>&limit=1000, (g) the same page size
   from the small tenant, (d) the null FastCGI responder (tests/bench/null_fcgi.c, 2
   workers) returning as many bytes as (f)'s median answer. Each is warmed up for 2 s,
   then timed forward and in reverse order; prints req/s, p99, Little's law factor per
   run and the ratios of the means (target: f/d >= 0.5).
Uses search_bench.py's harness; only 127.0.0.1 and unix sockets; every loop is bounded.
"""
import argparse
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import search_bench as sb  # noqa: E402

FIRST_TOP = 2001


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tenants", type=int, default=10)
    ap.add_argument("--per-tenant", type=int, default=100_000)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--map-size", type=int, default=16 << 30)
    ap.add_argument("--build", default=os.path.join(sb.ROOT, "build"))
    a = ap.parse_args()
    rng = random.Random(11)
    b = sb.Bench(a)
    try:
        db = os.path.join(b.dir, "db")
        rare = sb.rare_words(rng, 200)
        tenants = []
        t = time.monotonic()
        small = FIRST_TOP + a.tenants
        for top in list(range(FIRST_TOP, FIRST_TOP + a.tenants)) + [small]:
            n_groups = 1_100 if top == small else a.per_tenant // 10
            groups = sb.generate_groups(random.Random(top), n_groups, rare)
            for g in groups:
                g["status"] = "active"
            path = os.path.join(b.dir, f"t{top}.jsonl")
            sb.write_jsonl(groups, path)
            b.groupctl(db, "create-groups", path, "--top-organisation", str(top))
            key = b.groupctl(db, "key", "create", "--top-organisation", str(top), "--role",
                             "admin").stdout.splitlines()[0]
            tenants.append((top, key, groups))
        print(f"create-groups for {len(tenants)} tenants: {time.monotonic() - t:.1f} s")
        sock, gd = b.start_groupd("groupd", db)
        null_body = os.path.join(b.dir, "static", "answer.json")
        os.makedirs(os.path.dirname(null_body))
        b.start_nginx([("", sock), ("/null", os.path.join(b.dir, "null.sock"))])
        sb.wait_ready(b.port, "/health", None)
        t = time.monotonic()
        for top, key, groups in tenants:
            if top != small:
                sb.import_participants(b.port, key, rng, groups, a.per_tenant - len(groups))
        print(f"participant imports: {time.monotonic() - t:.1f} s")
        stats = b.groupctl(db, "stats").stdout
        print("  " + " ".join(l for l in stats.splitlines() if l.startswith(("changes_", "map_used"))))

        top, key, _ = tenants[0]
        first = json.loads(sb.get(b.port, "/changes?since=0&limit=1", key)[1])["results"][0]["seq"]
        # The tenant's seqs are not contiguous (others' changes interleave): sample
        # positions by walking its feed once, 1000 entries at a time.
        seqs, since = [], first - 1
        for _ in range(a.per_tenant // 1000 + 2):
            page = json.loads(sb.get(b.port, f"/changes?since={since}&limit=1000", key)[1])
            if not page["results"]:
                break
            seqs += [e["seq"] for e in page["results"]]
            since = page["last"]
        print(f"  tenant {top}: {len(seqs)} entries, seqs {seqs[0]}..{seqs[-1]}")
        starts = [seqs[i] for i in (rng.randrange(0, len(seqs) - 1000) for _ in range(2000))]
        paths = [f"/changes?since={s}&limit=1000" for s in starts]
        sizes = sorted(len(sb.get(b.port, p, key)[1]) for p in paths[:100])
        median = sizes[len(sizes) // 2]
        answer = sb.get(b.port, paths[0], key)[1]
        with open(null_body, "wb") as f:
            f.write((answer * (median // len(answer) + 1))[:median])
        b.start_null(null_body)
        sb.wait_ready(b.port, "/null/", None)
        print(f"  answer size (median of 100 pages of 1000): {median} bytes")
        stop, skey, _ = tenants[-1]
        targets = [("f", "f changes limit=1000", paths, key),
                   ("g", "g small tenant limit=1000", ["/changes?since=0&limit=1000"], skey),
                   ("d", "d null FastCGI", ["/null/"], None)]
        print("warm-up, 2 s each:")
        for _, name, p, k in targets:
            sb.wrk(b, name, p, k, 2)
        os.sync()
        print(f"wrk -t2 -c32 -d{a.duration}s, forward then reverse order:")
        runs = {}
        for order in (targets, targets[::-1]):
            for tag, name, p, k in order:
                runs.setdefault(tag, []).append(sb.wrk(b, name, p, k, a.duration))
        res = {tag: {"rps": sum(r["rps"] for r in rs) / len(rs),
                     "p99": sum(r["p99"] for r in rs) / len(rs)} for tag, rs in runs.items()}
        print("means:")
        for tag, name, _, _ in targets:
            print(f"  {name:<28} {res[tag]['rps']:>9.0f} req/s  p99 {res[tag]['p99'] * 1e3:6.2f} ms")
        print(f"ratios: f/d {res['f']['rps'] / res['d']['rps']:.2f} (>= 0.5), "
              f"g/f {res['g']['rps'] / res['f']['rps']:.2f}")
    finally:
        b.stop_all()


if __name__ == "__main__":
    main()
