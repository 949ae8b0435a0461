"""Bulk import benchmark (issue 3), run by hand: python3 tests/bench/import_bench.py

Starts groupd (2 workers) behind nginx on 127.0.0.1 with the integration harness, creates
10,000 groups, then through nginx:
  1. imports 100,000 rows into them in one request (external=true),
  2. imports the same file again (every row unchanged),
  3. reads each worker's peak RSS during the imports (VmHWM, reset before them) and its
     anonymous and file-backed memory,
  4. times adding one participant to a group of 10,000 and to a group of 10
     (the same number of adds, alternating, so drift hits both alike).
Prints the figures; exits 0.  Every loop is bounded in count; only loopback is used.
Options: --groups N --rows N --adds N --build DIR (where src/groupd lives; default build).
"""
import argparse
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

FIRST = ["Jan", "Anna", "Pieter", "Sanne", "Daan", "Emma", "Lucas", "Zoë", "Jörg", "Fatima",
         "Mohammed", "Lotte", "Bram", "Noor", "Sem", "Julia", "Thijs", "Eva", "Ångström"]
LAST = ["de Vries", "Jansen", "van der Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer",
        "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Dijk", "Dekker"]


def worker_memory(master_pid):
    from harness import children
    out = []
    for pid in children(master_pid):
        fields = {}
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                fields[k] = v.strip()
        out.append((pid, fields.get("VmHWM"), fields.get("RssAnon"), fields.get("RssFile")))
    return out


class PeakSampler:
    """Polls the workers' /proc/PID/status every 2 ms (bounded by a stop flag and a count)
    and keeps, per worker, the RssAnon and RssFile of the moment VmRSS was highest: the
    high-water mark says how much, this says of what."""

    def __init__(self, pids):
        import threading
        self.pids = pids
        self.peak = {pid: (0, 0, 0) for pid in pids}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        for _ in range(100_000):
            if self.stop.is_set():
                return
            for pid in self.pids:
                f = {}
                with open(f"/proc/{pid}/status") as fh:
                    for line in fh:
                        k, _, v = line.partition(":")
                        if k in ("VmRSS", "RssAnon", "RssFile"):
                            f[k] = int(v.split()[0])
                if f.get("VmRSS", 0) > self.peak[pid][0]:  # a process that ended has none
                    self.peak[pid] = (f["VmRSS"], f.get("RssAnon", 0), f.get("RssFile", 0))
            time.sleep(0.002)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--groups", type=int, default=10_000)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--adds", type=int, default=300)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    os.environ["GROUPD_BIN_DIR"] = os.path.join(os.path.abspath(a.build), "src")
    from harness import Stack
    s = Stack(workers=2, max_body=256 << 20, extra_args=["--map-size", str(8 << 30)]).start()
    try:
        key = s.key(100, "write")
        t = time.monotonic()
        for i in range(a.groups):
            r = s.request("POST", "/group?organisation=101", key, {"name": f"Groep {i}",
                          "externalId": f"G-{i:05d}"})
            assert r.status == 200, r
        print(f"created {a.groups} groups in {time.monotonic() - t:.1f} s")

        rnd = random.Random(42)
        lines = ["groupId;email;name;externalId;labels"]
        per = a.rows // a.groups
        for i in range(a.rows):
            g = i // per if per else i % a.groups
            name = f"{rnd.choice(FIRST)} {rnd.choice(LAST)}"
            lines.append(f"G-{g:05d};student{i}@uni.example.nl;\"{name}\";s{i};"
                         f"{rnd.choice(['deeltijd', 'voltijd'])}")
        body = ("\r\n".join(lines) + "\r\n").encode()
        print(f"file: {a.rows} rows, {len(body) / 1e6:.1f} MB")

        # The peak that counts is the import's: creating the groups above went through
        # the same workers, so reset each one's high-water mark to its current RSS
        # ("5" to /proc/PID/clear_refs, proc(5)) and show where it starts.
        from harness import children
        for pid in children(s.groupd.pid):
            with open(f"/proc/{pid}/clear_refs", "w") as f:
                f.write("5")
        for pid, hwm, anon, file_ in worker_memory(s.groupd.pid):
            print(f"before the import, worker {pid}: VmHWM {hwm}, RssAnon {anon}, RssFile {file_}")
        sampler = PeakSampler(children(s.groupd.pid))
        sampler.thread.start()
        for label in ("import", "re-import"):
            t = time.monotonic()
            r = s.request("POST", "/group/bulkImportParticipants?external=true", key, raw=body,
                          ctype="text/csv")
            dt = time.monotonic() - t
            assert r.status == 200, r
            print(f"{label}: {dt:.2f} s, {a.rows / dt:,.0f} rows/s  {r.json['imported']}")
        sampler.stop.set()
        sampler.thread.join()
        for pid, hwm, anon, file_ in worker_memory(s.groupd.pid):
            print(f"worker {pid}: VmHWM {hwm}, RssAnon {anon}, RssFile {file_}")
            rss, anon, file_ = sampler.peak[pid]
            print(f"  sampled peak: VmRSS {rss} kB = RssAnon {anon} kB + RssFile {file_} kB")
        print(s.groupctl("stats").stdout.rstrip())
        print(f"budget: 64 MiB + body {len(body) / 2**20:.1f} MiB = {64 + len(body) / 2**20:.1f} MiB")

        # one group of 10,000 and one of 10
        big_lines = ["groupId,email"] + [f"BIG,big{i}@uni.example.nl" for i in range(10_000)]
        small_lines = ["groupId,email"] + [f"SMALL,small{i}@uni.example.nl" for i in range(10)]
        for ext, ls in (("BIG", big_lines), ("SMALL", small_lines)):
            r = s.request("POST", "/group?organisation=101", key, {"name": ext, "externalId": ext})
            assert r.status == 200, r
            r = s.request("POST", "/group/bulkImportParticipants?external=true", key,
                          raw="\n".join(ls).encode(), ctype="text/csv")
            assert r.status == 200, r
        times = {"BIG": [], "SMALL": []}
        for i in range(a.adds):
            for ext in ("BIG", "SMALL") if i % 2 == 0 else ("SMALL", "BIG"):
                t = time.monotonic()
                r = s.request("POST", f"/group/{ext}/participant?external=true", key,
                              {"email": f"new{i}@uni.example.nl", "name": "Nieuw"})
                times[ext].append(time.monotonic() - t)
                assert r.status == 200, r
        for ext in times:
            v = sorted(times[ext])
            print(f"add to {ext}: median {v[len(v) // 2] * 1e3:.2f} ms, "
                  f"mean {sum(v) / len(v) * 1e3:.2f} ms over {len(v)}")
        mb = sorted(times["BIG"])[len(times["BIG"]) // 2]
        ms = sorted(times["SMALL"])[len(times["SMALL"]) // 2]
        print(f"ratio big/small (median): {mb / ms:.2f}")
    finally:
        s.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
