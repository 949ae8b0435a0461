"""Integration tests: GET /metrics (API.md §7) from real workers behind real nginx."""
import os
import re
import shutil
import signal
import subprocess
import unittest

from harness import Stack, fcgi_request, wait_for, workers

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
SAMPLE = re.compile(r'^([a-z_]+)(?:\{(.*)\})? (\S+)$')


def parse(text):
    """{(name, frozenset(labels)): value} for every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


class MetricsTest(unittest.TestCase):
    def setUp(self):
        self.s = Stack(workers=2).start()
        self.key = self.s.key(100, "admin")
        r = self.s.request("POST", "/group?organisation=101", self.key,
                           {"name": "metrics", "externalId": "m-1"})
        self.assertEqual(r.status, 200, r)
        self.gid = r.json["id"]

    def tearDown(self):
        self.s.stop()

    def scrape(self):
        r = self.s.request("GET", "/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("content-type").startswith("text/plain; version=0.0.4"), r.headers)
        return r.body

    def scrape_worker(self):
        """A scrape straight over FastCGI, with the pid of the worker that answered."""
        st, h, body = fcgi_request(self.s.sock, {"REQUEST_METHOD": "GET", "REQUEST_URI": "/metrics",
                                                 "SCRIPT_NAME": ""})
        self.assertEqual(st, 200)
        return int(h["x-request-id"].split("-")[0], 16), parse(body.decode())

    def test_output_passes_promtool(self):
        self.assertTrue(os.access(PROMTOOL, os.X_OK), "promtool (Debian's prometheus) is not installed")
        self.s.request("GET", "/group/m-1", self.key)
        self.s.request("GET", "/no/such/route")
        self.s.request("POST", "/group/m-1/event", self.key, {"title": ""})
        text = self.scrape()
        r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + text)
        self.assertEqual(r.stdout + r.stderr, "", "promtool has remarks")
        for family in ("groupd_requests_total", "groupd_request_duration_seconds",
                       "groupd_requests_in_flight", "groupd_groups", "groupd_participants",
                       "groupd_events", "groupd_lmdb_map_size_bytes", "groupd_lmdb_map_used_bytes",
                       "groupd_lmdb_readers", "groupd_worker_restarts_total",
                       "groupd_last_import_timestamp_seconds", "groupd_last_import_rows"):
            self.assertIn(f"# TYPE {family} ", text)

    def test_requests_add_up_over_workers_and_survive_sigkill(self):
        before = parse(self.scrape())
        n, pids = 60, set()
        for i in range(n):
            r = self.s.request("GET", "/group/m-1", self.key)
            self.assertEqual(r.status, 200, r)
            pids.add(r.header("x-request-id").split("-")[0])
        # Whichever worker answers the scrape, it sees every worker's count.
        seen = set()
        for _ in range(20):
            pid, after = self.scrape_worker()
            seen.add(pid)
            got = value(after, "groupd_requests_total", route="/group/{id}", status="200") - \
                value(before, "groupd_requests_total", route="/group/{id}", status="200")
            self.assertEqual(got, n, f"worker {pid}")
            self.assertEqual(value(after, "groupd_request_duration_seconds_count", route="/group/{id}"),
                             value(after, "groupd_requests_total", route="/group/{id}", status="200"))
            self.assertEqual(value(after, "groupd_request_duration_seconds_bucket", route="/group/{id}", le="+Inf"),
                             value(after, "groupd_request_duration_seconds_count", route="/group/{id}"))
            self.assertEqual(value(after, "groupd_requests_in_flight"), 1)  # the scrape itself

        # SIGKILL every worker: the counts are in the shared segment, not in them.
        old = workers(self.s.groupd.pid)
        self.assertEqual(len(old), 2)
        for pid in old:
            os.kill(pid, signal.SIGKILL)
        self.assertTrue(wait_for(lambda: len(workers(self.s.groupd.pid)) == 2 and
                                 not set(workers(self.s.groupd.pid)) & set(old), 20))
        self.assertTrue(wait_for(lambda: self.s.request("GET", "/health").status == 200, 20))
        pid, after = self.scrape_worker()
        self.assertNotIn(pid, old)
        got = value(after, "groupd_requests_total", route="/group/{id}", status="200") - \
            value(before, "groupd_requests_total", route="/group/{id}", status="200")
        self.assertEqual(got, n)
        self.assertEqual(value(after, "groupd_worker_restarts_total"), 2)
        self.assertEqual(value(after, "groupd_requests_in_flight"), 1)

    def test_store_figures_follow_writes(self):
        k = self.key
        g2 = self.s.request("POST", "/group?organisation=101", k, {"name": "two", "externalId": "m-2"}).json
        for i in range(3):
            r = self.s.request("POST", "/group/m-1/participant", k, {"email": f"p{i}@example.org"})
            self.assertEqual(r.status, 200, r)
        r = self.s.request("POST", "/group/m-2/event", k,
                           {"title": "t", "day": "Monday", "startTime": "9:00", "endTime": "10:00", "weeks": [1]})
        self.assertEqual(r.status, 201, r)
        m = parse(self.scrape())
        self.assertEqual(value(m, "groupd_groups"), 2)
        self.assertEqual(value(m, "groupd_participants"), 3)
        self.assertEqual(value(m, "groupd_events"), 1)
        self.assertEqual(value(m, "groupd_lmdb_map_size_bytes"), 1 << 30)
        used = value(m, "groupd_lmdb_map_used_bytes")
        self.assertTrue(0 < used < (1 << 30), used)
        # A worker takes its reader slot at its first request, and keeps it.
        self.assertIn(value(m, "groupd_lmdb_readers"), (1, 2))
        self.assertEqual(value(m, "groupd_last_import_rows", **{"import": "participants"}), 0)

        csv = "groupId,email\nm-1,a@example.org\nm-2,b@example.org\nm-2,c@example.org\n"
        r = self.s.request("POST", "/group/bulkImportParticipants?external=true", k, raw=csv.encode(), ctype="text/csv")
        self.assertEqual(r.status, 200, r)
        r = self.s.request("POST", "/group/bulkImportGroups", k,
                           raw=b"externalId,name,organisation\nm-3,three,101\n", ctype="text/csv")
        self.assertEqual(r.status, 200, r)
        from oneroster_export import small_export
        r = self.s.request("POST", "/group/bulkImportOneRoster?organisation=101", k,
                           raw=small_export().to_zip(), ctype="application/zip")
        self.assertEqual(r.status, 200, r)
        m = parse(self.scrape())
        self.assertEqual(value(m, "groupd_participants"), 10)
        self.assertEqual(value(m, "groupd_groups"), 5)
        rows = {k2[1]: v for k2, v in m.items() if k2[0] == "groupd_last_import_rows"}
        self.assertEqual(rows, {frozenset({("import", "participants")}): 3,
                                frozenset({("import", "groups")}): 1,
                                frozenset({("import", "oneroster")}): 5})
        at = [v for k2, v in m.items() if k2[0] == "groupd_last_import_timestamp_seconds"]
        import time
        for v in at:
            self.assertLess(abs(v - time.time()), 60)
        self.assertEqual(g2["externalId"], "m-2")

    def test_a_scrape_while_every_worker_is_busy_waits_for_one_request_at_most(self):
        import socket
        import struct
        import threading
        import time

        def record(rtype, content):
            return struct.pack(">BBHHBx", 1, rtype, 1, len(content), 0) + content

        def pair(k, v):
            return bytes([len(k), len(v)]) + k + v

        def hold():
            """A request a worker has accepted and waits on: its parameters are not finished."""
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.settimeout(30)
            c.connect(self.s.sock)
            params = pair(b"REQUEST_METHOD", b"GET") + pair(b"REQUEST_URI", b"/health")
            c.sendall(record(1, struct.pack(">HB5x", 1, 0)) + record(4, params))
            return c

        def release(c):
            c.sendall(record(4, b"") + record(5, b""))
            out = b""
            while b"\r\n\r\n" not in out:
                chunk = c.recv(65536)
                if not chunk:
                    break
                out += chunk
            c.close()
            return out

        held = [hold(), hold()]  # one per worker
        time.sleep(0.5)
        done = {}

        def scrape():
            st, _, body = fcgi_request(self.s.sock, {"REQUEST_METHOD": "GET", "REQUEST_URI": "/metrics",
                                                     "SCRIPT_NAME": ""})
            done["at"], done["status"] = time.monotonic(), st
            done["samples"] = parse(body.decode())

        t = threading.Thread(target=scrape)
        t.start()
        time.sleep(1.0)
        self.assertNotIn("at", done, "a worker answered while both were busy: the test holds nothing")
        released = time.monotonic()
        self.assertIn(b"Status: 200", release(held[0]))
        t.join(10)
        # Answered by the worker that finished, while the other is still busy.
        self.assertEqual(done.get("status"), 200, done)
        self.assertLess(done["at"] - released, 5)
        # The other worker is still reading its request: not yet in flight.
        self.assertEqual(value(done["samples"], "groupd_requests_in_flight"), 1)
        self.assertIn(b"Status: 200", release(held[1]))

    def test_no_tenant_in_any_label(self):
        self.s.request("GET", f"/group/{self.gid}", self.key)
        self.s.request("GET", "/group?organisation=101", self.key)
        for (name, labels) in parse(self.scrape()):
            self.assertLessEqual({k for k, _ in labels}, {"route", "status", "le", "import"}, name)
            for _, v in labels:
                self.assertNotIn("101", v)
                self.assertNotIn("m-1", v)

    def test_bad_input(self):
        for path in ("/metrics", "/openapi.json"):
            for method in ("POST", "PUT", "PATCH", "DELETE"):
                r = self.s.request(method, path)
                self.assertEqual(r.status, 405, (method, path, r))
                self.assertEqual(r.json["errorCode"], "method_not_allowed")
                self.assertEqual(r.header("allow"), "GET, HEAD")
            # A query string is ignored, however many parameters it has.
            many = "&".join(f"p{i}=x" for i in range(400))
            for q in ("?x=1", "?limit=abc&since=-1", "?" + many):
                r = self.s.request("GET", path + q)
                self.assertEqual(r.status, 200, (path, q, r))
            r = self.s.request("HEAD", path)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.body, "")
            # No key is needed, and a wrong one changes nothing.
            self.assertEqual(self.s.request("GET", path, "not-a-key").status, 200)


if __name__ == "__main__":
    unittest.main()
