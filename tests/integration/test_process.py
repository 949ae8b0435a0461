"""Integration tests: groupd's process model (API.md §8) under real nginx."""
import os
import signal
import threading
import time
import unittest

from harness import Stack, children, fcgi_request, wait_for, workers, writer


def load(stack, key, seconds, results, stop):
    """Bounded request loop: at most `seconds` and 5000 requests."""
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline and n < 5000 and not stop.is_set():
        try:
            results.append(stack.request("GET", "/group/load-1", key).status)
        except Exception as e:  # a dropped connection counts as a failure
            results.append(repr(e))
        n += 1


def under_load(loop, args_of, threads, seconds, action):
    """Runs action() while `threads` threads run loop(*args_of(i)); returns when all ended."""
    ts = [threading.Thread(target=loop, args=args_of(i)) for i in range(threads)]
    for t in ts:
        t.start()
    try:
        action()
    finally:
        for t in ts:
            t.join(timeout=seconds + 60)


class ProcessTest(unittest.TestCase):
    def setUp(self):
        self.s = Stack(workers=2).start()
        self.key = self.s.key(100, "admin")
        r = self.s.request("POST", "/group?organisation=101", self.key, {"name": "load", "externalId": "load-1"})
        self.assertEqual(r.status, 200, r)

    def tearDown(self):
        self.s.stop()

    def run_load(self, action, seconds=3.0, threads=4):
        results, stop = [], threading.Event()
        try:
            under_load(load, lambda i: (self.s, self.key, seconds, results, stop), threads,
                       seconds, action)
        finally:
            stop.set()
        return results

    def test_sighup_replaces_workers_without_dropping_requests(self):
        master = self.s.groupd.pid
        before = workers(master)
        self.assertEqual(len(before), 2)

        def hup():
            time.sleep(0.5)
            os.kill(master, signal.SIGHUP)
            self.assertTrue(wait_for(lambda: not set(before) & set(workers(master)), 20))
            time.sleep(0.3)
            os.kill(master, signal.SIGHUP)

        results = self.run_load(hup)
        self.assertGreater(len(results), 100)
        self.assertEqual([r for r in results if r != 200], [])
        self.assertTrue(wait_for(lambda: len(workers(master)) == 2, 20))
        self.assertFalse(set(before) & set(workers(master)))

    def test_a_killed_worker_is_replaced(self):
        master = self.s.groupd.pid
        victim = workers(master)[0]
        os.kill(victim, signal.SIGKILL)
        self.assertTrue(wait_for(lambda: victim not in workers(master) and len(workers(master)) == 2, 10))
        for _ in range(20):
            self.assertEqual(self.s.request("GET", "/group/load-1", self.key).status, 200)

    def test_a_worker_that_cannot_start_is_retried_with_backoff(self):
        master = self.s.groupd.pid
        # Where the database was, a file: a new worker cannot open it.
        os.rename(self.s.db, self.s.db + ".away")
        with open(self.s.db, "w") as f:
            f.write("not a directory")
        victims = workers(master)
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        time.sleep(6.5)
        log = self.s.read_log()
        tries = log.count("cannot open the database")
        # Tries at once, then after 1, 2 and 4 s (two slots): not one a second.
        self.assertGreaterEqual(tries, 4, log)
        self.assertLessEqual(tries, 8, log)
        self.assertIn("trying again in 1 s", log)
        self.assertIn("trying again in 2 s", log)
        self.assertIn("trying again in 4 s", log)
        # Put the database back: the next try serves again.
        os.unlink(self.s.db)
        os.rename(self.s.db + ".away", self.s.db)
        self.assertTrue(wait_for(lambda: len(workers(master)) == 2, 20))
        self.assertTrue(wait_for(
            lambda: self.s.request("GET", "/group/load-1", self.key).status == 200, 20))

    def test_acknowledged_writes_survive_sigkill(self):
        ids = []
        for i in range(20):
            r = self.s.request("POST", "/group?organisation=101", self.key, {"name": f"durable {i}"})
            self.assertEqual(r.status, 200)
            ids.append(r.json["id"])
        master = self.s.groupd.pid
        for pid in children(master) + [master]:  # the writer too
            os.kill(pid, signal.SIGKILL)
        self.s.groupd.wait(timeout=10)
        wait_for(lambda: not children(master), 10)
        os.unlink(self.s.sock)
        self.s.start_groupd()  # stale reader slots are cleared at start
        for gid in ids:
            self.assertEqual(self.s.request("GET", f"/group/{gid}", self.key).status, 200)

    def test_sigterm_finishes_and_exits_zero(self):
        master = self.s.groupd.pid
        procs = children(master)  # the writer too: it stops last

        def term():
            time.sleep(0.5)
            os.kill(master, signal.SIGTERM)

        results = self.run_load(term, seconds=1.5, threads=2)
        self.assertEqual(self.s.groupd.wait(timeout=40), 0)
        self.assertFalse(os.path.exists(self.s.sock))
        for pid in procs:
            self.assertFalse(os.path.exists(f"/proc/{pid}/stat") and
                             open(f"/proc/{pid}/stat").read().split()[2] != "Z")
        # Before the signal every request was answered; after it, nginx
        # reports the missing upstream as 502 (never a truncated answer).
        self.assertIn(200, results)
        self.assertEqual([r for r in results if r not in (200, 502)], [])
        self.assertIn("stopped", self.s.read_log())

    def test_access_log_has_one_line_per_request(self):
        for _ in range(3):
            self.s.request("GET", "/group/load-1?x=1", self.key)
        # Access lines are written in batches, at the latest 250 ms after the last request.
        logged = lambda: [l for l in self.s.read_log().splitlines() if " GET /group/load-1 " in l]
        wait_for(lambda: len(logged()) >= 3, timeout=5)
        lines = logged()
        self.assertEqual(len(lines), 3)
        parts = lines[0].split()
        # time method path status bytes microseconds request-id
        self.assertEqual(parts[1:4], ["GET", "/group/load-1", "200"])
        self.assertTrue(parts[4].isdigit() and parts[5].endswith("us"))
        self.assertTrue(parts[6])


def create_load(stack, key, tag, seconds, results):
    """Bounded create loop: at most `seconds` and 2000 requests."""
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline and n < 2000:
        try:
            r = stack.request("POST", "/group?organisation=101", key,
                              {"name": "w", "externalId": f"{tag}-{n}"})
            results.append((r.status, r.json, f"{tag}-{n}"))
        except Exception as e:  # a dropped connection counts as a failure
            results.append((repr(e), None, f"{tag}-{n}"))
        n += 1


def comm_state(pid):
    """The process state letter (Z: a zombie), or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def metric(stack, name):
    text = stack.request("GET", "/metrics").body
    for line in text.splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    raise AssertionError(f"{name} is not in /metrics")


class WriterTest(unittest.TestCase):
    """The writer process: the workers' writes in shared transactions (group commit)."""

    def setUp(self):
        self.s = Stack(workers=8).start()
        self.key = self.s.key(100, "admin")

    def tearDown(self):
        self.s.stop()

    def load(self, action, seconds=3.0, threads=8):
        results = []
        under_load(create_load, lambda i: (self.s, self.key, f"t{i}", seconds, results), threads,
                   seconds, action)
        return results

    def signal_under_load(self, pid, sig, after, seconds):
        def send():
            time.sleep(after)
            os.kill(pid, sig)
        return self.load(send, seconds=seconds)

    def check_clean(self):
        r = self.s.groupctl("check", check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_the_writer_maps_the_file_read_only_and_the_workers_writable(self):
        # lmdb-schema/README.md "Durability": the writer's pages are copies written with
        # pwrite (no MDB_WRITEMAP); a worker's imports change pages in its map.
        def data_map(pid):
            with open(f"/proc/{pid}/maps") as f:
                rows = [l.split() for l in f if l.rstrip().endswith("/data.mdb")]
            self.assertEqual(len(rows), 1, rows)
            return rows[0][1]
        master = self.s.groupd.pid
        self.assertEqual(data_map(writer(master)), "r--s")
        for pid in workers(master):
            self.assertEqual(data_map(pid), "rw-s")

    def test_concurrent_writes_share_commits_and_every_one_lands(self):
        master = self.s.groupd.pid
        self.assertIsNotNone(writer(master))
        self.assertEqual(len(workers(master)), 8)
        results = self.load(lambda: None, seconds=2.0)
        self.assertGreater(len(results), 50)
        self.assertEqual([r for r in results if r[0] != 200], [])
        ids = [r[1]["id"] for r in results]
        self.assertEqual(len(set(ids)), len(ids))
        # Several requests shared a transaction: fewer commits than writes.
        batches = metric(self.s, "groupd_write_batches_total")
        batched = metric(self.s, "groupd_write_batched_requests_total")
        alone = metric(self.s, "groupd_write_alone_total")
        self.assertGreater(batches, 0)
        self.assertGreaterEqual(batched, 2 * batches)
        self.assertEqual(batched + alone, len(results))
        whole = self.s.request("GET", "/group?limit=0", self.key)
        self.assertEqual(whole.json["metadata"]["resultSet"]["count"], len(results))
        created, since = 0, 0
        for _ in range(100):
            page = self.s.request("GET", f"/changes?since={since}&limit=1000", self.key).json
            if not page["results"]:
                break
            created += len([c for c in page["results"] if c["type"] == "group.created"])
            since = page["results"][-1]["seq"]
        self.assertEqual(created, len(results))
        self.check_clean()

    def test_a_killed_writer_is_replaced_and_no_acknowledged_write_is_lost(self):
        master = self.s.groupd.pid
        victim = writer(master)
        results = self.signal_under_load(victim, signal.SIGKILL, 1.0, 3.0)
        self.assertTrue(wait_for(lambda: writer(master) not in (None, victim), 10))
        # The requests the writer had taken when it died answer 503 (never
        # acknowledged); every other one is served, by the new writer.
        self.assertEqual([r for r in results if r[0] not in (200, 503)], [])
        for status, body, _ in results:
            if status == 503:
                self.assertEqual(body["errorCode"], "unavailable")
        ok = [r for r in results if r[0] == 200]
        self.assertGreater(len(ok), 50)
        for _, body, ext in ok:
            r = self.s.request("GET", f"/group/{body['id']}", self.key)
            self.assertEqual((r.status, r.json["externalId"]), (200, ext))
        self.assertEqual(self.s.request("POST", "/group?organisation=101", self.key,
                                        {"name": "after"}).status, 200)
        self.check_clean()

    def test_while_no_writer_runs_the_workers_write_themselves(self):
        master = self.s.groupd.pid
        victim = writer(master)
        os.kill(master, signal.SIGSTOP)  # it cannot start another meanwhile
        try:
            os.kill(victim, signal.SIGKILL)
            self.assertTrue(wait_for(lambda: comm_state(victim) in ("Z", None), 10))
            # The workers write themselves once the writer has been silent
            # for the stall window (5 s, src/liveness.h).
            time.sleep(6)
            alone = metric(self.s, "groupd_write_alone_total")
            for i in range(5):
                r = self.s.request("POST", "/group?organisation=101", self.key,
                                   {"name": "no writer", "externalId": f"nw-{i}"})
                self.assertEqual(r.status, 200, r)
            self.assertEqual(metric(self.s, "groupd_write_alone_total"), alone)
        finally:
            os.kill(master, signal.SIGCONT)
        self.assertTrue(wait_for(lambda: writer(master) not in (None, victim), 10))
        self.assertTrue(wait_for(lambda: self.s.request(
            "POST", "/group?organisation=101", self.key, {"name": "again"}).status == 200 and
            metric(self.s, "groupd_write_alone_total") > alone, 10))
        for i in range(5):
            self.assertEqual(self.s.request("GET", f"/group/nw-{i}", self.key).status, 200)
        self.check_clean()

    def test_sighup_replaces_the_writer_without_failing_a_write(self):
        master = self.s.groupd.pid
        before = writer(master)
        results = self.signal_under_load(master, signal.SIGHUP, 0.5, 4.0)
        self.assertEqual([r for r in results if r[0] != 200], [])
        self.assertTrue(wait_for(lambda: writer(master) not in (None, before), 20))
        self.assertIn("then the writer", self.s.read_log())
        self.check_clean()

    def test_writes_without_a_writer(self):
        s = Stack(workers=2, extra_args=["--writer", "off"]).start()
        try:
            self.assertIsNone(writer(s.groupd.pid))
            key = s.key(100, "admin")
            r = s.request("POST", "/group?organisation=1", key, {"name": "alone"})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(metric(s, "groupd_write_batches_total"), 0)
            self.assertEqual(metric(s, "groupd_write_alone_total"), 0)
            self.assertEqual(s.request("GET", f"/group/{r.json['id']}", key).status, 200)
        finally:
            s.stop()


class ConnectionTest(unittest.TestCase):
    """A worker closes a connection whose request it has read to the end at once, instead
    of libfcgi's half-close and wait (up to 2 s) for the web server to close its end."""

    def setUp(self):
        self.s = Stack(workers=1)
        self.s.start_groupd()
        self.params = {"REQUEST_METHOD": "GET", "REQUEST_URI": "/health", "SCRIPT_NAME": ""}

    def tearDown(self):
        self.s.stop()

    def test_the_worker_does_not_wait_for_the_web_server_to_close(self):
        held = []
        try:
            st, _, body = fcgi_request(self.s.sock, self.params, keep_open=held)
            self.assertEqual(st, 200, body)
            conn = held[0]
            conn.settimeout(10)
            self.assertEqual(conn.recv(1), b"", "the worker ended the connection")
            # conn stays open: the only worker must take the next request while it does
            t0 = time.monotonic()
            st, _, body = fcgi_request(self.s.sock, self.params, timeout=10)
            waited = time.monotonic() - t0
            self.assertEqual(st, 200, body)
            self.assertLess(waited, 1.0, "the next request waited for the first connection")
        finally:
            for c in held:
                c.close()


class ConfigTest(unittest.TestCase):
    def test_config_file_and_command_line(self):
        s = Stack(workers=1)
        try:
            conf = os.path.join(s.dir, "groupd.conf")
            with open(conf, "w") as f:
                f.write("# groupd settings\nmax-body = 100   # bytes\nworkers = 3\n")
            s.extra_args = ["--config", conf]
            s.workers = 1  # the command line wins over the file
            s.start()
            self.assertEqual(len(workers(s.groupd.pid)), 1)
            key = s.key(100, "admin")
            r = s.request("POST", "/group?organisation=1", key, {"name": "x" * 200})
            self.assertEqual(r.status, 413, r)
        finally:
            s.stop()


if __name__ == "__main__":
    unittest.main()
