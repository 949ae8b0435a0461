"""Write benchmark (issue 15), run by hand:

    python3 tests/bench/write_bench.py [--duration 5] [--bulk 100000] [--no-pg]

1. Single requests: groupd (2 workers behind nginx, as the quick start runs it) with wrk and
   a Lua script: POST /group with a unique externalId, then POST /group/:id/participant
   with a unique e-mail spread over 16 groups, each with 1, 4 and 16 connections for
   --duration seconds; Little's law factor per run.
2. The peer: PostgreSQL 15 in its own cluster on a unix socket, fsync and
   synchronous_commit at their defaults, one row per transaction into a table with a unique
   index on (top, ext) and a jsonb body, through pgbench -M prepared with 1, 4 and 16 clients.
3. Bulk: --bulk groups in one POST /group/bulkImportGroups request, then the same file again
   (every row unchanged), with the importing worker's peak resident memory (VmHWM, reset
   before the import, and what the peak was made of).
4. --floor: the same writes in-process (tests/bench/write_cost.c) and the disk's flushes,
   and the HTTP floors at one client: the null FastCGI responder, a GET of a group, and one
   client updating a group without participants to what it already is (the whole write path,
   but LMDB commits nothing and nothing is flushed); each plus one 1-page flush, and plus
   LMDB's durable commit of one put, against PostgreSQL's one client; and whether the disk
   overlaps two flushes made at once in two files.
Prints each rate and the ratios. Only 127.0.0.1 and unix sockets; every loop is bounded.
"""
import argparse
import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import search_bench as sb  # noqa: E402

LUA = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", "%(run)s-t" .. threads)
end
local counter = 0
local paths = {%(paths)s}
local bodies = {%(bodies)s}
request = function()
  counter = counter + 1
  local i = counter %% #paths + 1
  local body = string.format(bodies[(i - 1) %% #bodies + 1], tid, counter)
  return wrk.format("POST", paths[i],
                    {["api-key"] = "%(key)s", ["Content-Type"] = "application/json"}, body)
end
"""


def write_counts(b):
    st, text = sb.get(b.port, "/metrics")
    out = {}
    for name in ("batches", "batched_requests", "alone", "reruns"):
        m = re.search(rf"^groupd_write_{name}_total (\d+)$", text.decode(), re.M)
        out[name] = int(m.group(1)) if m else 0
    return out


def cpu_by_role(b, gd):
    """CPU seconds so far of nginx's workers, groupd's workers and its writer, and of the
    writer in user mode alone (its own code, LMDB and libc: what the kernel's flushes do
    not hide)."""
    out = {"nginx": 0.0, "workers": 0.0, "writer": 0.0, "writer user": 0.0}
    for pid in sb.children(b.nginx_pid):
        out["nginx"] += sb.cpu_seconds(pid)
    for pid in sb.children(gd.pid):
        with open(f"/proc/{pid}/comm") as f:
            role = "writer" if f.read().strip() == "groupd-writer" else "workers"
        out[role] += sb.cpu_seconds(pid)
        if role == "writer":
            out["writer user"] += sb.proc_stat(pid)[11] / os.sysconf("SC_CLK_TCK")
    return out


def wrk_post(b, name, key, paths, body, conns, duration, gd=None):
    """wrk POSTing to paths in turn; body is a format (thread, counter), or a list of
    them, one per path."""
    bodies = body if isinstance(body, list) else [body]
    lua = os.path.join(b.dir, re.sub(r"\W", "_", name) + f"-{conns}.lua")
    with open(lua, "w") as f:
        f.write(LUA % {"run": re.sub(r"\W", "", name) + f"{conns}-{time.monotonic_ns()}", "key": key,
                       "paths": ", ".join(f'"{p}"' for p in paths),
                       "bodies": ", ".join(f"'{x}'" for x in bodies)})
    before = write_counts(b)
    cpu0 = cpu_by_role(b, gd) if gd else None
    machine0 = sb.machine_cpu()
    out = sb.run("wrk", f"-t{min(conns, 2)}", f"-c{conns}", f"-d{duration}s", "--latency",
                 "-s", lua, f"http://127.0.0.1:{b.port}", timeout=duration + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    mean = sb.to_seconds(re.search(r"Latency\s+(\S+)", out).group(1))
    p99 = sb.to_seconds(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    bad = int(bad.group(1)) if bad else 0
    steal = sb.steal_note(machine0)
    if gd:
        cpu1 = cpu_by_role(b, gd)
        n = rps * duration
        print("    CPU per request: " + ", ".join(
            f"{k} {(cpu1[k] - cpu0[k]) / n * 1e6:.0f} us" for k in cpu1))
    w = {k: v - before[k] for k, v in write_counts(b).items()}
    per = w["batched_requests"] / w["batches"] if w["batches"] else 0
    print(f"  {name:<22} c={conns:<3} {rps:>8.0f} req/s  p99 {p99 * 1e3:7.2f} ms  "
          f"little {rps * mean / conns:.2f}  non-2xx {bad}  "
          f"batches {w['batches']} of {per:.1f}, alone {w['alone']}, reruns {w['reruns']}"
          + steal)
    if bad:
        raise RuntimeError(f"{name}: {bad} requests failed")
    return rps


def floor(b):
    """tests/bench/write_cost.c: the writes without HTTP, in a database of their own."""
    exe = os.path.join(b.dir, "write_cost")
    lib = os.path.join(os.path.dirname(b.bin), "libgroupd.a")
    sb.run("gcc", "-O2", "-pthread", "-D_GNU_SOURCE", "-I" + os.path.join(sb.ROOT, "include"),
           "-I/usr/include/json-c", "-o", exe, os.path.join(HERE, "write_cost.c"), lib, "-llmdb",
           "-ljson-c", "-lsodium", "-lutf8proc", "-lfcgi", "-larchive")
    db = os.path.join(b.dir, "floor-db")
    os.makedirs(db)
    out = sb.run(exe, db, "2000", timeout=600).stdout
    print(out.rstrip())
    return {"create": float(re.search(r"create, one transaction each\s+(\d+) req/s",
                                      out).group(1)),
            "page_sync": float(re.search(r"1 page \+ fdatasync\s+\d+ per s\s+([\d.]+) us",
                                         out).group(1)) * 1e-6,
            "lmdb_alone": float(re.search(r"LMDB alone, one put, the writer's flags\s+(\d+)",
                                          out).group(1)),
            "apart": float(re.search(r"then 1 in another file\s+\d+ per s\s+([\d.]+) us",
                                     out).group(1)),
            "together": float(re.search(r"the same two at once \(2 threads\)\s+\d+ per s"
                                        r"\s+([\d.]+) us", out).group(1))}


def http_floors(b, key, duration, gd):
    """Requests per second at one client of what every durable write at one client must
    pass at least: the null FastCGI responder behind the same nginx (answering the bytes of a
    no-op update), a GET of a group through groupd, and a no-op update of it (the whole write
    path: worker, relay, writer, a batch, but LMDB commits nothing and nothing is flushed).
    Groups of their own without participants: the answer is the group alone."""
    empty = create_groups(b, key, "noop")
    body = os.path.join(b.dir, "noop-answer.json")
    with open(body, "wb") as f:
        f.write(sb.get(b.port, f"/group/{empty[0]}", key)[1])
    b.start_null(body)
    sb.wait_ready(b.port, "/null/", None)
    return {
        "null FastCGI": sb.wrk(b, "null FastCGI c=1", ["/null/"], None, duration,
                               conns=1)["rps"],
        "GET /group/:id": sb.wrk(b, "GET group c=1", [f"/group/{g}" for g in empty], key,
                                 duration, conns=1)["rps"],
        "no-op update": wrk_post(b, "POST /group/:id no-op", key,
                                 [f"/group/{g}" for g in empty],
                                 [f'{{"name":"noop {i}"}}' for i in range(len(empty))], 1,
                                 duration, gd),
    }


def print_ceilings(floors, disk, pg1):
    """The best any design could reach at one client: a floor plus the cheapest flush (one
    page, a record in a log of our own, as PostgreSQL's commit is), and each floor plus LMDB's
    own durable commit of one put (data flush, then meta flush)."""
    print("ceilings at one client (a floor plus the least a durable write adds), "
          "/ PostgreSQL c=1 (target 0.5):")
    rows = [(f"{k} + one 1-page fdatasync", 1 / (1 / v + disk["page_sync"]))
            for k, v in floors.items()]
    rows += [(f"{k} + LMDB alone (one put, durable)", 1 / (1 / v + 1 / disk["lmdb_alone"]))
             for k, v in floors.items()]
    for what, rate in rows:
        print(f"  {what:<46} {rate:7.0f}/s  {rate / pg1:.2f}x")
    print(f"two flushes in two files at once / one after the other: "
          f"{disk['together'] / disk['apart']:.2f} (1.00: the disk does not overlap them)")


def create_groups(b, key, prefix, n=16):
    """n groups named "<prefix> <i>", without participants; their ids."""
    ids = []
    for i in range(n):
        st, data = sb.get(b.port, "/group?organisation=1", key, "POST",
                          f'{{"name": "{prefix} {i}"}}'.encode(), "application/json")
        assert st == 200, (st, data[:300])
        ids.append(int(re.search(rb'"id":(\d+)', data).group(1)))
    return ids


def pg_inserts(b, duration, clients):
    pgbin = "/usr/lib/postgresql/15/bin"
    data = os.path.join(b.dir, "pg")
    os.makedirs(data)
    import pwd
    pg = pwd.getpwnam("postgres")
    os.chown(b.dir, pg.pw_uid, pg.pw_gid)
    os.chown(data, pg.pw_uid, pg.pw_gid)

    def as_pg(*args, **kw):
        return subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True,
                              capture_output=True, text=True, **kw)

    as_pg(f"{pgbin}/initdb", "-D", data, "-A", "trust", "-E", "UTF8")
    as_pg(f"{pgbin}/pg_ctl", "-D", data, "-w", "-l", os.path.join(data, "log"), "-o",
          f"-c listen_addresses='' -c unix_socket_directories={data}", "start", timeout=120)
    try:
        psql = ["psql", "-h", data, "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c"]
        as_pg(*psql, "CREATE TABLE g (id bigserial PRIMARY KEY, top int, ext text, body jsonb)")
        as_pg(*psql, "CREATE UNIQUE INDEX g_ext ON g (top, ext)")
        as_pg(*psql, "CREATE SEQUENCE s")
        script = os.path.join(data, "ins.sql")
        with open(script, "w") as f:
            f.write("INSERT INTO g (top, ext, body) VALUES (100, 'e' || nextval('s'), "
                    "'{\"name\": \"g\", \"externalId\": \"x\"}');\n")
        os.chown(script, pg.pw_uid, pg.pw_gid)
        tps = {}
        for c in clients:
            machine0 = sb.machine_cpu()
            out = as_pg("pgbench", "-h", data, "-n", "-M", "prepared", f"-c{c}",
                        f"-j{min(c, 2)}", f"-T{duration}", "-f", script, "postgres",
                        timeout=duration + 120).stdout
            tps[c] = float(re.search(r"tps = ([\d.]+)", out).group(1))
            print(f"  PostgreSQL INSERT       c={c:<3} {tps[c]:>8.0f} tps"
                  + sb.steal_note(machine0))
        return tps
    finally:
        as_pg(f"{pgbin}/pg_ctl", "-D", data, "-m", "fast", "stop", timeout=120)


def map_used(b):
    st, text = sb.get(b.port, "/metrics")
    m = re.search(r"^groupd_lmdb_map_used_bytes (\d+)$", text.decode(), re.M)
    return int(m.group(1))


def sample_peak(pids, stop, peak):
    for _ in range(200_000):
        if stop.is_set():
            return
        for pid in pids:
            f = {}
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    k, _, v = line.partition(":")
                    if k in ("VmRSS", "RssAnon", "RssFile"):
                        f[k] = int(v.split()[0])
            if f["VmRSS"] > peak.get(pid, (0,))[0]:
                peak[pid] = (f["VmRSS"], f["RssAnon"], f["RssFile"])
        time.sleep(0.002)


def bulk(b, key, n, gd):
    lines = ["externalId,name,description,type,schoolYear"]
    for i in range(n):
        lines.append(f"BULK-{i:07d},Groep {i % 997} {chr(65 + i % 26)},Werkcollege {i},class,"
                     f"{2020 + i % 7}")
    csv = ("\n".join(lines) + "\n").encode()
    print(f"bulk: {n} groups, {len(csv) / 1e6:.1f} MB")
    for label in ("import", "re-import"):
        pids = sb.children(gd.pid)
        for pid in pids:
            with open(f"/proc/{pid}/clear_refs", "w") as f:
                f.write("5")
        used0 = map_used(b)
        peak, stop = {}, threading.Event()
        t = threading.Thread(target=sample_peak, args=(pids, stop, peak), daemon=True)
        t.start()
        t0 = time.monotonic()
        st, data = sb.get(b.port, "/group/bulkImportGroups?organisation=1", key, "POST", csv,
                          "text/csv")
        took = time.monotonic() - t0
        stop.set()
        t.join()
        assert st == 200, (st, data[:300])
        print(f"  {label}: {took:.2f} s  {data.decode()}")
        # The importing worker is the one whose peak rose most; the others idle.
        grown = []
        for pid in pids:
            with open(f"/proc/{pid}/status") as f:
                hwm = int([l.split()[1] for l in f if l.startswith("VmHWM")][0])
            grown.append((hwm, pid))
        hwm, pid = max(grown)
        rss, anon, file_ = peak.get(pid, (0, 0, 0))
        # The budget.  The worker's own memory (RssAnon): issue 3's 64 MiB + the file.  Its
        # mapped database pages (RssFile): at most the database's used pages.  Those are the
        # page cache, shared with every process and reclaimable once written back, and an
        # all-or-nothing import touches every page it reads or writes in one transaction
        # (LMDB writes each dirty page's header once more at commit).
        used = map_used(b) // 1024
        anon_budget = 64 * 1024 + len(csv) // 1024
        ok = anon <= anon_budget and file_ <= used
        print(f"    importing worker {pid}: VmHWM {hwm} kB (sampled peak {rss} kB = RssAnon {anon}"
              f" + RssFile {file_}); budget RssAnon <= 64 MiB + file = {anon_budget} kB, "
              f"RssFile <= database used {used} kB "
              f"(grew {max(used - used0 // 1024, 0) * 1024 / n:.0f} B/row): "
              f"{'within' if ok else 'OVER'}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--bulk", type=int, default=100_000)
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--floor", action="store_true",
                    help="also tests/bench/write_cost.c: the same writes in-process, and the disk")
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--writer", choices=("on", "off"), default="on")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--map-size", type=int, default=8 << 30)
    ap.add_argument("--build", default=os.path.join(sb.ROOT, "build"))
    a = ap.parse_args()
    b = sb.Bench(a)
    try:
        db = os.path.join(b.dir, "db")
        os.makedirs(db)
        key = b.groupctl(db, "key", "create", "--top-organisation", "100", "--role",
                         "admin").stdout.splitlines()[0]
        sock, gd = b.start_groupd("groupd", db, a.workers, "--writer", a.writer)
        b.start_nginx([("", sock), ("/null", os.path.join(b.dir, "null.sock"))])
        sb.wait_ready(b.port, "/health", None)
        gids = create_groups(b, key, "add")
        clients = (1, 4, 16)
        res = {}
        print(f"groupd, {a.workers} workers and --writer {a.writer} behind nginx, "
              f"wrk -d{a.duration}s:")
        for c in clients:
            res[("create", c)] = wrk_post(b, "POST /group", key, ["/group?organisation=1"],
                                          '{"name":"g","externalId":"%s-%d"}', c, a.duration, gd)
        for c in clients:
            res[("add", c)] = wrk_post(b, "POST participant", key,
                                       [f"/group/{g}/participant" for g in gids],
                                       '{"email":"%s-%d@x.nl"}', c, a.duration, gd)
        floors = disk = None
        if a.floor:
            floors = http_floors(b, key, a.duration, gd)
            disk = floor(b)
        if not a.no_pg:
            pg = pg_inserts(b, a.duration, clients)
            if disk:
                print(f"in-process create, one transaction each / PostgreSQL c=1: "
                      f"{disk['create'] / pg[1]:.2f} (the ceiling of groupd's c=1 ratio)")
                print_ceilings(floors, disk, pg[1])
            print("ratios to PostgreSQL (targets: c=1 >= 0.5, c=16 >= 0.3):")
            for c in clients:
                print(f"  c={c:<3} create {res[('create', c)] / pg[c]:.2f}   "
                      f"add {res[('add', c)] / pg[c]:.2f}")
        print(f"  c=16 / c=1: create {res[('create', 16)] / res[('create', 1)]:.2f}, "
              f"add {res[('add', 16)] / res[('add', 1)]:.2f}")
        if a.bulk:
            bulk(b, key, a.bulk, gd)
        out = b.groupctl(db, "check")
        print("  groupctl check: clean" if out.returncode == 0 else out.stdout)
    finally:
        b.stop_all()


if __name__ == "__main__":
    main()
