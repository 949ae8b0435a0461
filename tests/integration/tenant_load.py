"""The load of test_tenant_move_load.py, run by it inside the router's network namespace.

Threads, each bounded in count and time, stopped by the stop file or the deadline:
- --writers writers of the moving tenant, at about --rate writes/s together: each write creates a group
  (externalId w-<i>) or adds a participant (w<i>@x.nl) to its group `hot`, and is retried on
  503 until acknowledged; a write whose answer was lost is retried, and a 409 then means the
  lost one was applied;
- a reader of the moving tenant's group `read` (made at the start and never changed, so that a
  read costs the same all along: `hot` grows by every participant add);
- a follower of the moving tenant's change feed (`GET /changes?since=N`, from --since);
- for each other tenant, a writer and reader that must never see an error (each request's
  start and duration are kept, for tests/bench/tenant_move_bench.py's p99).
What happened goes to --out as JSON; the file --started appears once --warm writes of the
moving tenant were acknowledged.

Without --key, only the other tenants' writers and readers run (a probe of their latency in a
process of its own, with Python's cycle collector off, so that neither the moving tenant's
threads nor collections of their growing lists delay it); --started appears at once.
"""
import argparse
import gc
import http.client
import json
import os
import threading
import time


def request(port, method, path, key, body=None):
    """(status, body, X-Request-Id); status None when no answer came."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    headers = {"api-key": key, "Connection": "close"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        c.request(method, path, body=data, headers=headers)
        r = c.getresponse()
        return r.status, r.read(), r.getheader("X-Request-Id")
    except OSError:
        return None, b"", None
    finally:
        c.close()


class Load:
    def __init__(self, a):
        self.a = a
        self.deadline = time.monotonic() + a.max_seconds
        self.lock = threading.Lock()
        self.out = {"acked_groups": [], "acked_emails": [], "errors": [], "seqs": [],
                    "feed_pids": [], "t503": [], "writes": 0, "reads": 0, "other_requests": 0,
                    "reads_503": 0, "other_latency": []}

    def going(self):
        return time.monotonic() < self.deadline and not os.path.exists(self.a.stop)

    def error(self, what):
        with self.lock:
            if len(self.out["errors"]) < 100:
                self.out["errors"].append(what)

    def writer(self, first):
        a, start = self.a, time.monotonic()
        for i in range(first, a.max_writes, a.writers):
            if not self.going():
                return
            pause = start + i / a.rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            if i % 2 == 0:
                method, path = "POST", f"/group?organisation={a.org}"
                body, done = {"name": f"w{i}", "externalId": f"w-{i}"}, ("acked_groups", f"w-{i}")
            else:
                method, path = "POST", "/group/hot/participant?external=true"
                body, done = {"email": f"w{i}@x.nl"}, ("acked_emails", f"w{i}@x.nl")
            lost = False
            while self.going():
                status, text, _ = request(a.port, method, path, a.key, body)
                if status == 503:
                    with self.lock:
                        self.out["t503"].append(time.monotonic())
                    time.sleep(0.02)
                    continue
                if status is None:
                    lost = True
                    time.sleep(0.02)
                    continue
                if status in (200, 201) or (status == 409 and lost and i % 2 == 0):
                    with self.lock:
                        self.out[done[0]].append(done[1])
                        self.out["writes"] += 1
                        if self.out["writes"] == a.warm:
                            open(a.started, "w").close()
                else:
                    self.error(f"write {i}: {status} {text[:200]!r}")
                break

    def reader(self):
        for _ in range(100000):
            if not self.going():
                return
            status, text, _ = request(self.a.port, "GET", "/group/read?external=true", self.a.key)
            with self.lock:
                self.out["reads"] += 1
                self.out["reads_503"] += status == 503
            if status not in (200, 503):
                self.error(f"read: {status} {text[:200]!r}")
            time.sleep(0.01)

    def follower(self):
        since = self.a.since
        for _ in range(100000):
            if not self.going():
                break
            status, text, rid = request(self.a.port, "GET", f"/changes?since={since}&limit=1000",
                                        self.a.key)
            if status == 200:
                page = json.loads(text)
                with self.lock:
                    self.out["seqs"] += [e["seq"] for e in page["results"]]
                    self.out["feed_pids"].append(int(rid.split("-")[0], 16))
                since = page["last"]
            elif status != 503:
                self.error(f"feed: {status} {text[:200]!r}")
            time.sleep(0.05)

    def other(self, key, org):
        for i in range(100000):
            if not self.going():
                return
            ext = f"o{org}-{i}"
            t0 = time.monotonic()
            status, text, _ = request(self.a.port, "POST", f"/group?organisation={org}", key,
                                      {"name": ext, "externalId": ext})
            if status != 200:
                self.error(f"other tenant {org} write: {status} {text[:200]!r}")
            t1 = time.monotonic()
            status, text, _ = request(self.a.port, "GET", f"/group/{ext}?external=true", key)
            if status != 200:
                self.error(f"other tenant {org} read: {status} {text[:200]!r}")
            t2 = time.monotonic()
            with self.lock:
                self.out["other_requests"] += 2
                # (when, seconds, organisation, method) of each request; when is
                # CLOCK_MONOTONIC, as every process reads it
                self.out["other_latency"] += [(t0, t1 - t0, org, "POST"), (t1, t2 - t1, org, "GET")]
            time.sleep(0.02)

    def run(self):
        threads = []
        if self.a.key:
            for ext in ("hot", "read"):
                status, text, _ = request(self.a.port, "POST", f"/group?organisation={self.a.org}",
                                          self.a.key, {"name": ext, "externalId": ext})
                if status != 200:
                    raise SystemExit(f"cannot create the {ext} group: {status} {text!r}")
            threads = [threading.Thread(target=self.writer, args=(w,))
                       for w in range(self.a.writers)]
            threads += [threading.Thread(target=self.reader), threading.Thread(target=self.follower)]
        else:
            gc.disable()
            open(self.a.started, "w").close()
        for pair in self.a.other:
            key, org = pair.split(",")
            threads.append(threading.Thread(target=self.other, args=(key, int(org))))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        t = self.out.pop("t503")
        self.out["longest_503_run_s"] = (t[-1] - t[0]) if t else 0.0
        self.out["writes_503"] = len(t)
        with open(self.a.out, "w") as f:
            json.dump(self.out, f)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--key", help="the moving tenant's key (none: only the other tenants)")
    p.add_argument("--org", type=int, help="the moving tenant's organisation")
    p.add_argument("--other", action="append", default=[], help="KEY,ORGANISATION")
    p.add_argument("--since", type=int, default=0, help="where the follower starts")
    p.add_argument("--rate", type=float, default=200, help="writes/s of all writers together")
    p.add_argument("--writers", type=int, default=4)
    p.add_argument("--warm", type=int, default=50)
    p.add_argument("--max-writes", type=int, default=20000)
    p.add_argument("--max-seconds", type=float, default=120)
    p.add_argument("--started", required=True)
    p.add_argument("--stop", required=True)
    p.add_argument("--out", required=True)
    Load(p.parse_args()).run()


if __name__ == "__main__":
    main()
