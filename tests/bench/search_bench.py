"""Lookup and search benchmark (issue 4), run by hand:

    python3 tests/bench/search_bench.py [--groups 100000] [--participants 1000000]
                                        [--duration 10] [--scale] [--pg]

1. Generates a data set (seeded): groups with Dutch-looking names, descriptions and
   externalIds in 100 organisations, 10% archived, 2% deleted; participants spread over
   the groups. Loads it through the product's own paths: `groupctl create-groups`
   (POST /group's model code) and bulk CSV imports over HTTP (100,000 rows a request).
2. Behind one nginx (worker_processes 1, FastCGI without keep_conn), with wrk -t2 -c32
   in one run: (a) GET /group/:externalId for random externalIds, (b) GET /group?q= with
   two random words that each match ~100 groups, and with one two-letter prefix matching
   ~10% of groups, (c) GET /group?status=archived&sort=name, (d) a null FastCGI responder
   (tests/bench/null_fcgi.c, same worker count) returning as many bytes as (a)'s answer,
   (d2) the same null responder closing each connection as groupd does (at once, when the
   request's input was read to its end; libfcgi's own close waits for the web server's),
   (e) nginx serving that answer as a static file. Each is warmed up for 2 s, then timed
   twice, in forward and then reverse order, so drift weighs on all alike. Prints req/s,
   p50, p99, Little's law (req/s x mean latency / connections, ~1 when no request hung)
   for each run, and the ratios of the means.
3. Each groupd worker's Private_Dirty after the run; start-up time to the first answered
   lookup on the loaded database; then issue 14's bad input: lookups of unknown externalIds
   (404), of a 255-character one and of one with %2F (200) against (a), same run.
4. --scale: (a) on a 1,000,000-group database against a 10,000-group one, same run.
5. --pg: PostgreSQL 15 (a private cluster on a unix socket) with the same groups, the
   search as full text (to_tsvector('simple', unaccent(...)), GIN, prefix to_tsquery
   terms, status filter, LIMIT 30, count(*) OVER ()), timed with pgbench -M prepared
   -c4 -j2, against groupd's (b) two-word figure.
6. --peers (implies --pg): CPU per query, PostgreSQL's backends (their CPU over the
   pgbench run, read from /proc as the postmaster's reaped children's time, once every
   backend of the run has been reaped) against
   groupd's workers during (b) two words (their user + system time per request, HTTP
   included), in 3 pairs, each a groupd run right before a pgbench run; and
   tests/bench/search_inproc.c: groupd's search and SQLite FTS5 in-process on one core over
   the same documents (read from the loaded database) and the same queries, queries per
   second.
Only 127.0.0.1 and unix sockets; every loop is bounded; it stops only what it started.
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PARAMS = os.path.join(ROOT, "deploy", "nginx", "groupd_fastcgi_params")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TOP = 1000

SUBJECTS = ["Wiskunde", "Nederlands", "Engels", "Duits", "Frans", "Economie", "Geschiedenis",
            "Aardrijkskunde", "Biologie", "Scheikunde", "Natuurkunde", "Informatica",
            "Filosofie", "Bedrijfskunde", "Rechten", "Psychologie", "Sociologie",
            "Verpleegkunde", "Techniek", "Bouwkunde", "Communicatie", "Marketing", "Logistiek",
            "Muziek", "Tekenen", "Lichamelijke opvoeding", "Maatschappijleer", "Levensbeschouwing",
            "Culturele vorming", "Bestuurskunde", "Financiën", "Zorg en welzijn", "Onderwijskunde",
            "Pedagogiek", "Sport en bewegen", "Voeding", "Elektrotechniek", "Werktuigbouwkunde",
            "Ruimtelijke ordening", "Kunstgeschiedenis"]
TOPICS = ["projectweek", "tentamentraining", "werkcollege", "hoorcollege", "practicum",
          "stage", "excursie", "bijspijkercursus", "masterclass", "scriptiekring"]
SYLLABLES = ["ber", "gen", "hof", "lan", "dijk", "sto", "vel", "kamp", "wol", "mer", "ster",
             "broek", "horst", "zand", "rijn", "wijk", "dal", "veen", "kerk", "hui"]
FIRST = ["Jan", "Anna", "Pieter", "Sanne", "Daan", "Emma", "Lucas", "Zoë", "Fatima", "Mohammed",
         "Lotte", "Bram", "Noor", "Sem", "Julia", "Thijs", "Eva", "Jesse", "Mila", "Ruben"]
LAST = ["de Vries", "Jansen", "van der Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer",
        "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Dijk", "Dekker"]
TYPES = ["klas", "vak", "cursus", "training"]


# ---------------------------------------------------------------- data

def rare_words(rng, n):
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(3)))
    return sorted(words)


def generate_groups(rng, n, rare):
    groups = []
    for i in range(n):
        subj = rng.choice(SUBJECTS)
        r1, r2 = rng.sample(rare, 2)
        year = rng.randint(2020, 2026)
        ext = f"{subj[:3].upper()}-{year}-{i:07d}"
        u = rng.random()
        status = "archived" if u < 0.10 else "deleted" if u < 0.12 else "active"
        groups.append({
            "name": f"{subj} {rng.randint(1, 6)}{rng.choice('ABCDEF')}",
            "description": f"{rng.choice(TOPICS).capitalize()} {subj.lower()} bij {r1} en {r2}, "
                           f"docent {rng.choice(LAST)}",
            "externalId": ext, "organisation": 1001 + i % 100, "type": rng.choice(TYPES),
            "schoolYear": year, "status": status, "_rare": (r1, r2)})
    return groups


def fold_words(text):
    import unicodedata
    t = unicodedata.normalize("NFKD", text).casefold()
    t = "".join(c for c in t if not unicodedata.combining(c))
    return re.findall(r"\w+", t)


def prefix_coverage(groups):
    """Fraction of active groups matched by each two-letter prefix."""
    counts, active = {}, 0
    for g in groups:
        if g["status"] != "active":
            continue
        active += 1
        seen = set()
        for w in fold_words(" ".join([g["name"], g["description"], g["externalId"]])):
            if len(w) >= 2:
                seen.add(w[:2])
        for p in seen:
            counts[p] = counts.get(p, 0) + 1
    return {p: c / active for p, c in counts.items()}


def write_jsonl(groups, path):
    with open(path, "w") as f:
        for g in groups:
            f.write(json.dumps({k: v for k, v in g.items() if not k.startswith("_")},
                               ensure_ascii=False) + "\n")


def participant_csv(rng, groups, start, count):
    """Rows for groups that are not deleted (an import does not reach those)."""
    lines = ["groupId,email,name,externalId"]
    for n in range(start, start + count):
        g = groups[n % len(groups)]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        lines.append(f"{g['externalId']},{first.lower()}.{n}@student.example.nl,"
                     f"{first} {last},S{n:07d}")
    return ("\n".join(lines) + "\n").encode()


def import_participants(port, key, rng, groups, total, chunk=100_000):
    """total participants spread over the groups that are not deleted, by HTTP imports."""
    living = [g for g in groups if g["status"] != "deleted"]
    for start in range(0, total, chunk):
        body = participant_csv(rng, living, start, min(chunk, total - start))
        st, data = get(port, "/group/bulkImportParticipants?external=true", key, "POST",
                       body, "text/csv")
        assert st == 200, (st, data[:300])


# ---------------------------------------------------------------- processes

def run(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def get(port, path, key=None, method="GET", body=None, ctype=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    h = {"api-key": key} if key else {}
    if ctype:
        h["Content-Type"] = ctype
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def stop(proc):
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return sorted(out)


def private_dirty_kib(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Private_Dirty:"):
                return int(line.split()[1])
    return -1


class Bench:
    def __init__(self, a):
        self.a = a
        self.dir = tempfile.mkdtemp(prefix="groupd-bench-")
        os.chmod(self.dir, 0o755)
        self.bin = os.path.join(os.path.abspath(a.build), "src")
        self.port = None
        self.procs = {}

    def groupctl(self, db, *args):
        return run(os.path.join(self.bin, "groupctl"), "--db", db, "--map-size",
                   str(self.a.map_size), *args, timeout=3600)

    def start_groupd(self, name, db, workers=2, *extra):
        sock = os.path.join(self.dir, name + ".sock")
        p = subprocess.Popen([os.path.join(self.bin, "groupd"), "--db", db, "--listen",
                              "unix:" + sock, "--workers", str(workers), "--map-size",
                              str(self.a.map_size), "--log", os.path.join(self.dir, name + ".log"),
                              *extra],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs[name] = p
        return sock, p

    def start_null(self, body_file):
        """Two null responders: "null" with libfcgi's own close, "null2" closing as groupd
        does (null_fcgi.c's "detach")."""
        src = os.path.join(HERE, "null_fcgi.c")
        exe = os.path.join(self.dir, "null_fcgi")
        run("gcc", "-O2", "-o", exe, src, "-lfcgi")
        for name, extra in (("null", []), ("null2", ["detach"])):
            sock = os.path.join(self.dir, name + ".sock")
            self.procs[name] = subprocess.Popen([exe, sock, "2", body_file, *extra])

    def start_nginx(self, routes):
        """routes: (prefix, socket); prefix "" is the root."""
        tmp = os.path.join(self.dir, "nginx-tmp")
        os.makedirs(tmp, exist_ok=True)
        os.chmod(tmp, 0o777)
        self.port = free_port()
        locs = []
        for prefix, sock in routes:
            where = f"location {prefix}/" if prefix else "location /"
            locs.append(f"{where} {{ include {PARAMS}; fastcgi_param SCRIPT_NAME \"{prefix}\"; "
                        f"fastcgi_pass unix:{sock}; fastcgi_read_timeout 60s; }}")
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_max_body_size 512m;
  large_client_header_buffers 4 64k;
  client_body_temp_path {tmp}/body; fastcgi_temp_path {tmp}/fastcgi; proxy_temp_path {tmp}/proxy;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{self.port};
    location /static/ {{ alias {self.dir}/static/; default_type application/json; }}
    {chr(10).join(locs)}
  }}
}}
""")
        run(NGINX, "-c", conf, "-p", self.dir)
        with open(os.path.join(self.dir, "nginx.pid")) as f:
            self.nginx_pid = int(f.read())

    def stop_all(self):
        for p in self.procs.values():
            stop(p)
        if getattr(self, "nginx_pid", None):
            try:
                os.kill(self.nginx_pid, signal.SIGQUIT)
            except ProcessLookupError:
                pass
        if not self.a.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_ready(port, path, key, timeout=30.0):
    """Seconds until path answers 200 (polled every 2 ms, bounded)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            if get(port, path, key)[0] == 200:
                return time.monotonic() - t0
        except OSError:
            pass
        time.sleep(0.002)
    raise RuntimeError(f"{path} did not answer within {timeout} s")


# ---------------------------------------------------------------- wrk

LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
wrk.headers["api-key"] = "%s"
init = function(args) math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6)) end
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
"""


def to_seconds(v):
    m = re.match(r"([\d.]+)(us|ms|s|m)", v)
    if not m:
        raise ValueError(f"not a wrk duration: {v!r}")
    n, unit = float(m.group(1)), m.group(2)
    return n * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def machine_cpu():
    """/proc/stat's first line: the machine's CPU time by kind (user, nice, system, idle,
    iowait, irq, softirq, steal, ...). Steal is time the hypervisor gave to others: a run
    that shows it was slowed by the host, not by what it measured."""
    with open("/proc/stat") as f:
        return [int(x) for x in f.readline().split()[1:]]


def steal_note(cpu0):
    """"  steal N%" when the host took at least 1% of the machine's time since the
    machine_cpu() sample cpu0, else ""."""
    delta = [y - x for x, y in zip(cpu0, machine_cpu())]
    steal = delta[7] / max(1, sum(delta[:8]))
    return f"  steal {steal * 100:.0f}%" if steal >= 0.01 else ""


def wrk(bench, name, paths, key, duration, conns=32):
    pf = os.path.join(bench.dir, name + ".paths")
    with open(pf, "w") as f:
        f.write("\n".join(paths) + "\n")
    lua = os.path.join(bench.dir, name + ".lua")
    with open(lua, "w") as f:
        f.write(LUA % (pf, key or ""))
    cpu0 = machine_cpu()
    out = run("wrk", f"-t{min(2, conns)}", f"-c{conns}", f"-d{duration}s", "--latency",
              "-s", lua, f"http://127.0.0.1:{bench.port}", timeout=duration + 60).stdout
    steal = steal_note(cpu0)
    if "Latency Distribution" not in out:
        raise RuntimeError("wrk said:\n" + out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    mean = to_seconds(re.search(r"Latency\s+(\S+)", out).group(1))
    p50 = to_seconds(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = to_seconds(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock_err = re.search(r"Socket errors: (.*)", out)
    r = {"name": name, "rps": rps, "p50": p50, "p99": p99, "little": rps * mean / conns,
         "non2xx": int(errors.group(1)) if errors else 0,
         "socket_errors": sock_err.group(1) if sock_err else ""}
    print(f"  {name:<28} {rps:>9.0f} req/s  p50 {p50 * 1e3:6.2f} ms  p99 {p99 * 1e3:6.2f} ms  "
          f"little {r['little']:.2f}  non-2xx {r['non2xx']}"
          + (f"  socket errors: {r['socket_errors']}" if r["socket_errors"] else "")
          + steal)
    return r


def bad_input_lookups(b, key, lookups, d):
    """Issue 14's bad input: lookups of externalIds that do not exist, of one 255 characters
    long and of one holding '/' (sent as %2F) answer 404, 200 and 200, at the speed of (a)."""
    long_ext = "L" * 255
    for ext in (long_ext, "sis/2026/slash"):
        st, data = get(b.port, "/group?organisation=1001", key, "POST",
                       json.dumps({"name": "bad input", "externalId": ext}).encode(),
                       "application/json")
        if st != 200:
            raise RuntimeError(f"creating the group {ext[:20]}... gave {st}: {data[:200]!r}")
    cases = [("a", "a lookup by externalId", lookups, 200),
             ("unknown", "a unknown externalIds (404)",
              [f"/group/NOPE-{i:07d}" for i in range(10_000)], 404),
             ("long", "a 255-character externalId", ["/group/" + long_ext], 200),
             ("slash", "a externalId with %2F", ["/group/sis%2F2026%2Fslash"], 200)]
    for tag, _, paths, want in cases:
        st, data = get(b.port, paths[0], key)
        if st != want:
            raise RuntimeError(f"{paths[0][:40]} gave {st}, not {want}: {data[:200]!r}")
    print(f"bad input: lookups, wrk -t2 -c32 -d{d}s, forward then reverse order "
          f"(statuses checked first: 200, 404, 200, 200):")
    runs = {}
    for order in (cases, cases[::-1]):
        for tag, name, paths, _ in order:
            runs.setdefault(tag, []).append(wrk(b, name, paths, key, d)["rps"])
    base = sum(runs["a"]) / 2
    for tag, name, _, _ in cases[1:]:
        print(f"  {tag:<8} / a  {sum(runs[tag]) / 2 / base:5.2f}  (>= 0.9: the same speed)")


# ---------------------------------------------------------------- PostgreSQL peer

def proc_stat(pid):
    """/proc/PID/stat's fields after the command name: [7] minflt, [11] utime, [12] stime,
    [13] cutime, [14] cstime (times in clock ticks)."""
    with open(f"/proc/{pid}/stat") as f:
        return [int(x) if x.lstrip("-").isdigit() else x for x in f.read().rsplit(")", 1)[1].split()]


def cpu_seconds(pid, children=False):
    """utime + stime of pid (children: of its reaped children), in seconds."""
    fields = proc_stat(pid)
    i = 13 if children else 11
    return (fields[i] + fields[i + 1]) / os.sysconf("SC_CLK_TCK")


def wait_backends_reaped(postmaster, timeout=30.0):
    """Waits until the postmaster has no client backend left, running, exiting or a zombie:
    a backend's CPU reaches the postmaster's cutime only once it has been reaped, which
    happens some time after pgbench (or psql) has gone. Returns the seconds waited."""
    t0 = time.monotonic()
    while True:
        busy = []
        for kid in children(postmaster):
            try:
                with open(f"/proc/{kid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
                with open(f"/proc/{kid}/cmdline", "rb") as f:
                    title = f.read()
            except OSError:
                continue  # gone between the listing and the read
            if state == "Z" or b"[local]" in title:
                busy.append(kid)
        if not busy:
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"PostgreSQL backends {busy} still there after {timeout:.0f} s")
        time.sleep(0.01)


def pg_peer(bench, groups, two_word, duration, groupd_b=None, pairs=3):
    """PostgreSQL's two-word search with pgbench: TPS and its backends' CPU per query. With
    groupd_b (a function that times groupd's (b) and returns its workers' CPU per search),
    `pairs` pgbench runs alternate with groupd's, so both CPU figures of a pair come from the
    same minutes of a machine whose speed drifts; returns a list of (tps, pg_cpu, groupd_cpu)."""
    pgbin = "/usr/lib/postgresql/15/bin"
    data = os.path.join(bench.dir, "pg")
    os.makedirs(data)
    import pwd
    pg = pwd.getpwnam("postgres")
    os.chown(bench.dir, pg.pw_uid, pg.pw_gid)
    os.chown(data, pg.pw_uid, pg.pw_gid)

    def as_pg(*args, **kw):
        return subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True,
                              capture_output=True, text=True, **kw)

    as_pg(f"{pgbin}/initdb", "-D", data, "-A", "trust", "-E", "UTF8", "--no-sync")
    as_pg(f"{pgbin}/pg_ctl", "-D", data, "-w", "-l", os.path.join(data, "log"), "-o",
          f"-c listen_addresses='' -c unix_socket_directories={data} -c shared_buffers=1GB "
          f"-c fsync=off", "start", timeout=120)
    try:
        tsv = os.path.join(data, "groups.tsv")
        with open(tsv, "w") as f:
            for i, g in enumerate(groups, 1):
                f.write("\t".join([str(i), g["status"], g["name"], g["description"],
                                   g["externalId"]]) + "\n")
        os.chown(tsv, pg.pw_uid, pg.pw_gid)
        psql = ["psql", "-h", data, "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c"]
        as_pg(*psql, "CREATE EXTENSION unaccent")
        as_pg(*psql, "CREATE TABLE groups (id bigint PRIMARY KEY, status text, name text, "
                     "description text, external_id text, doc tsvector)")
        as_pg(*psql, f"COPY groups (id, status, name, description, external_id) FROM '{tsv}'")
        as_pg(*psql, "UPDATE groups SET doc = to_tsvector('simple', unaccent(name || ' ' || "
                     "description || ' ' || external_id))", timeout=600)
        as_pg(*psql, "CREATE INDEX groups_doc ON groups USING gin (doc)", timeout=600)
        as_pg(*psql, "VACUUM ANALYZE")
        # One script per query, each with its tsquery as a constant (a sub-select would
        # hide it from the planner and cost the GIN index); pgbench picks one at random.
        scripts = []
        for n, (w1, w2) in enumerate(two_word[:100], 1):
            script = os.path.join(data, f"search{n}.sql")
            with open(script, "w") as f:
                f.write("SELECT id, name, count(*) OVER () FROM groups WHERE status = 'active' "
                        f"AND doc @@ to_tsquery('simple', unaccent('{w1}:* & {w2}:*')) "
                        "ORDER BY id LIMIT 30;\n")
            os.chown(script, pg.pw_uid, pg.pw_gid)
            scripts += ["-f", script]
        with open(os.path.join(data, "postmaster.pid")) as f:
            postmaster = int(f.readline())
        # pgbench's backends end with the run: their CPU is then the postmaster's
        # reaped children's (autovacuum is off for the run, so nothing else adds to it),
        # once every one of them has been reaped, before and after each run: read at once,
        # a run's last backends fell into the next run's figure or none (22.9 to 158 us).
        as_pg(*psql, "ALTER SYSTEM SET autovacuum = off")
        as_pg(*psql, "SELECT pg_reload_conf()")
        results = []
        for _ in range(pairs if groupd_b else 1):
            mine = groupd_b() if groupd_b else None
            wait_backends_reaped(postmaster)
            cpu0 = cpu_seconds(postmaster, children=True)
            out = as_pg("pgbench", "-h", data, "-n", "-M", "prepared", "-c4", "-j2",
                        f"-T{duration}", *scripts, "postgres", timeout=duration + 120).stdout
            waited = wait_backends_reaped(postmaster)
            cpu = cpu_seconds(postmaster, children=True) - cpu0
            tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
            done = int(re.search(r"number of transactions actually processed: (\d+)", out).group(1))
            per = cpu / max(1, done) * 1e6
            print(f"  PostgreSQL 15 two-word search (pgbench -M prepared -c4 -j2): {tps:.0f} TPS, "
                  f"backends' CPU {per:.1f} us per query (reaped {waited * 1000:.0f} ms after)"
                  + (f"; groupd's workers just before: {mine:.1f} us, ratio {mine / per:.2f}"
                     if mine else ""))
            results.append((tps, per, mine))
        return results
    finally:
        as_pg(f"{pgbin}/pg_ctl", "-D", data, "-m", "fast", "stop", timeout=120)


def inproc_peer(bench, db, two_word, prefixes):
    """tests/bench/search_inproc.c on the loaded database: groupd's search and SQLite FTS5,
    in-process, one core."""
    exe = os.path.join(bench.dir, "search_inproc")
    lib = os.path.join(os.path.dirname(bench.bin), "libgroupd.a")
    run("gcc", "-O2", "-I" + os.path.join(ROOT, "include"), "-I/usr/include/json-c", "-o", exe,
        os.path.join(HERE, "search_inproc.c"), lib, "-llmdb", "-ljson-c", "-lsodium", "-lutf8proc",
        "-lfcgi", "-larchive", "-lsqlite3")
    for label, queries in (("two words", [f"{w1} {w2}" for w1, w2 in two_word]),
                           ("two-letter prefix ~10%", prefixes)):
        path = os.path.join(bench.dir, "queries.txt")
        with open(path, "w") as f:
            f.write("\n".join(queries) + "\n")
        r = subprocess.run(["taskset", "-c", "0", exe, db, path, str(TOP), "4"], check=True,
                           capture_output=True, text=True, timeout=600)
        print(f"  in-process, one core, {label}:")
        for line in r.stdout.splitlines():
            if not line.startswith("  round"):
                print("    " + line)
        differ = [line.strip() for line in r.stderr.splitlines() if "differs" in line]
        for line in differ[:5]:  # the two engines fold some text differently
            print("    " + line)
        if len(differ) > 5:
            print(f"    ... and {len(differ) - 5} more")


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--groups", type=int, default=100_000)
    ap.add_argument("--participants", type=int, default=1_000_000)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--scale", action="store_true")
    ap.add_argument("--pg", action="store_true")
    ap.add_argument("--peers", action="store_true", help="--pg, CPU per query, and SQLite FTS5")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--map-size", type=int, default=16 << 30)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    rng = random.Random(4)
    b = Bench(a)
    try:
        print(f"data: {a.groups} groups, {a.participants} participants ({b.dir})")
        rare = rare_words(rng, max(20, a.groups * 2 // 100))
        groups = generate_groups(rng, a.groups, rare)
        jsonl = os.path.join(b.dir, "groups.jsonl")
        write_jsonl(groups, jsonl)
        db = os.path.join(b.dir, "db")
        t = time.monotonic()
        b.groupctl(db, "create-groups", jsonl, "--top-organisation", str(TOP))
        print(f"  create-groups: {time.monotonic() - t:.1f} s")
        key = b.groupctl(db, "key", "create", "--top-organisation", str(TOP), "--role",
                         "admin").stdout.splitlines()[0]

        sock, gd = b.start_groupd("groupd", db)
        null_body = os.path.join(b.dir, "static", "answer.json")
        os.makedirs(os.path.dirname(null_body))
        routes = [("", sock), ("/null", os.path.join(b.dir, "null.sock")),
                  ("/null2", os.path.join(b.dir, "null2.sock"))]
        extra = []
        if a.scale:
            small, big = os.path.join(b.dir, "small"), os.path.join(b.dir, "big")
            for path, n in ((small, 10_000), (big, 1_000_000)):
                sg = generate_groups(random.Random(n), n, rare)
                write_jsonl(sg, path + ".jsonl")
                t = time.monotonic()
                b.groupctl(path, "create-groups", path + ".jsonl", "--top-organisation", str(TOP))
                print(f"  scale database of {n} groups: {time.monotonic() - t:.1f} s")
                skey = b.groupctl(path, "key", "create", "--top-organisation", str(TOP),
                                  "--role", "read").stdout.splitlines()[0]
                name = os.path.basename(path)
                ssock, _ = b.start_groupd(name, path)
                routes.append(("/" + name, ssock))
                extra.append((name, n, sg, skey))
        b.start_nginx(routes)
        wait_ready(b.port, "/health", None)

        t = time.monotonic()
        import_participants(b.port, key, rng, groups, a.participants)
        print(f"  import of {a.participants} participants: {time.monotonic() - t:.1f} s")

        active = [g for g in groups if g["status"] == "active"]
        lookups = ["/group/" + g["externalId"] for g in rng.sample(active, min(10_000, len(active)))]
        sizes = sorted(len(get(b.port, p, key)[1]) for p in lookups[:200])
        answer = get(b.port, lookups[0], key)[1]
        answer = (answer * (sizes[len(sizes) // 2] // len(answer) + 1))[:sizes[len(sizes) // 2]]
        with open(null_body, "wb") as f:
            f.write(answer)
        b.start_null(null_body)
        wait_ready(b.port, "/null/", None)
        wait_ready(b.port, "/null2/", None)
        print(f"  answer size (median of 200 lookups): {len(answer)} bytes")

        two_word = [g["_rare"] for g in rng.sample(active, min(2000, len(active)))]
        cover = prefix_coverage(groups)
        near = sorted(cover, key=lambda p: abs(cover[p] - 0.10))[:5]
        print("  two-letter prefixes near 10%: " +
              ", ".join(f"{p} {cover[p] * 100:.1f}%" for p in near))
        st, data = get(b.port, f"/group?q={two_word[0][0]}", key)
        print(f"  '{two_word[0][0]}' matches {json.loads(data)['metadata']['resultSet']['count']}"
              f" groups; '{near[0]}' matches "
              f"{json.loads(get(b.port, '/group?q=' + near[0], key)[1])['metadata']['resultSet']['count']}")

        d = a.duration
        os.sync()  # the import's pages are written back before anything is timed
        targets = [("a", "a lookup by externalId", lookups, key),
                   ("b2", "b q= two words", [f"/group?q={w1}+{w2}" for w1, w2 in two_word], key),
                   ("b1", "b q= 2-letter prefix ~10%", [f"/group?q={p}" for p in near[:3]], key),
                   ("c", "c archived by name", ["/group?status=archived&sort=name"], key),
                   ("d", "d null FastCGI", ["/null/"], None),
                   ("d2", "d2 null, closing as groupd", ["/null2/"], None),
                   ("e", "e nginx static", ["/static/answer.json"], None)]
        # Each target is warmed up for 2 s (page tables, caches), then timed twice: once in
        # the order above and once in reverse, so drift over the run (the machine's other
        # work, clock boost) weighs on every target alike. The figure is the mean of both.
        print("warm-up, 2 s each:")
        for _, name, paths, k in targets:
            wrk(b, name, paths, k, 2)
        print(f"wrk -t2 -c32 -d{d}s, nginx worker_processes 1, 2 workers each, "
              f"forward then reverse order:")
        runs, cpu = {}, {}
        for order in (targets, targets[::-1]):
            for tag, name, paths, k in order:
                pids = children(gd.pid) if tag in ("a", "b2", "b1", "c") else []
                before = sum(cpu_seconds(p) for p in pids)
                r = wrk(b, name, paths, k, d)
                if pids:
                    per = (sum(cpu_seconds(p) for p in pids) - before) / max(1.0, r["rps"] * d) * 1e6
                    cpu.setdefault(tag, []).append(per)
                    print(f"    workers' CPU per request: {per:.1f} us")
                runs.setdefault(tag, []).append(r)
        res = {tag: {"rps": sum(r["rps"] for r in rs) / len(rs),
                     "p99": sum(r["p99"] for r in rs) / len(rs)} for tag, rs in runs.items()}
        print("means:")
        for tag, name, _, _ in targets:
            print(f"  {name:<28} {res[tag]['rps']:>9.0f} req/s  p99 {res[tag]['p99'] * 1e3:6.2f} ms")
        print("ratios (targets):")
        for name, num, den, target in (("a/d", "a", "d", 0.90), ("b2/d", "b2", "d", 0.80),
                                       ("b1/d", "b1", "d", 0.40), ("c/d", "c", "d", 0.70),
                                       ("a/d2", "a", "d2", None), ("b2/d2", "b2", "d2", None),
                                       ("b1/d2", "b1", "d2", None), ("c/d2", "c", "d2", None),
                                       ("a/e", "a", "e", None)):
            r = res[num]["rps"] / res[den]["rps"]
            print(f"  {name:<5} {r:5.2f}" + (f"  (>= {target})" if target else ""))
        print(f"  p99 a / p99 d {res['a']['p99'] / res['d']['p99']:.2f}  (<= 1.3)")

        for pid in children(gd.pid):
            print(f"  worker {pid}: Private_Dirty {private_dirty_kib(pid)} kB  (<= 16384)")

        # Start-up: a fresh groupd on the loaded database, exec to the first lookup answered.
        stop(gd)
        t0 = time.monotonic()
        sock, gd = b.start_groupd("groupd", db)
        wait_ready(b.port, lookups[1], key)
        print(f"  start-up to first lookup answered: {(time.monotonic() - t0) * 1e3:.0f} ms"
              f"  (<= 200; includes the poll's own request)")

        bad_input_lookups(b, key, lookups, d)

        if a.scale:
            print("scale: (a) on 10,000 vs 1,000,000 groups, alternating twice:")
            runs = {}
            for rep in range(3):  # the first round warms each worker's page tables
                for name, n, sg, skey in extra:
                    living = [g for g in sg if g["status"] != "deleted"]
                    paths = [f"/{name}/group/" + g["externalId"]
                             for g in random.Random(rep).sample(living, min(10_000, len(living)))]
                    r = wrk(b, f"a {n} groups" + (" (warm-up)" if rep == 0 else ""), paths, skey, d)
                    if rep:
                        runs.setdefault(name, []).append(r["rps"])
            small_rps = sum(runs["small"]) / 2
            big_rps = sum(runs["big"]) / 2
            print(f"  big/small {big_rps / small_rps:.2f}  (>= 0.90)")

        if a.pg or a.peers:
            b2_paths = [f"/group?q={w1}+{w2}" for w1, w2 in two_word]

            def groupd_b():
                pids = children(gd.pid)
                before = sum(cpu_seconds(p) for p in pids)
                r = wrk(b, "b q= two words", b2_paths, key, d)
                return (sum(cpu_seconds(p) for p in pids) - before) / max(1.0, r["rps"] * d) * 1e6

            pairs = pg_peer(b, groups, two_word, d, groupd_b if a.peers else None)
            tps = sum(t for t, _, _ in pairs) / len(pairs)
            print(f"  groupd (b) two words over HTTP / PostgreSQL TPS: {res['b2']['rps'] / tps:.2f}")
            if a.peers:
                mine = sum(m for _, _, m in pairs) / len(pairs)
                pg_cpu = sum(c for _, c, _ in pairs) / len(pairs)
                print(f"  CPU per two-word search, means of {len(pairs)} alternated pairs: "
                      f"groupd's workers {mine:.1f} us (HTTP included), PostgreSQL's backends "
                      f"{pg_cpu:.1f} us: groupd / PostgreSQL = {mine / pg_cpu:.2f}  (<= 0.33); "
                      f"pairs " + ", ".join(f"{m / c:.2f}" for _, c, m in pairs))
        if a.peers:
            inproc_peer(b, db, two_word, near[:3])
    finally:
        b.stop_all()


if __name__ == "__main__":
    main()
