"""Regression tests for the faults of the red-team pass (issue 28), each through the real binary.

Each test is named after the fault it pins; each failed before its fix.
"""
import json
import os
import pwd
import signal
import socket
import subprocess
import threading
import time
import unittest

from harness import GROUPCTL, GROUPD, Stack, children, comm, wait_for, workers, writer


def metric(stack, name):
    for line in stack.request("GET", "/metrics").body.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def proc_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def writer_socket_name(master):
    """The abstract unix name the writer accepts on, read from /proc/net/unix by inode."""
    inodes = set()
    for fd in os.listdir(f"/proc/{master}/fd"):
        try:
            target = os.readlink(f"/proc/{master}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            parts = line.split()
            # Num RefCount Protocol Flags Type St Inode [Path]; flags 00010000: listening
            if len(parts) >= 8 and parts[6] in inodes and parts[7].startswith("@"):
                return parts[7][1:]
    return None


AS_NOBODY = r"""
import socket, sys, os
name = sys.argv[1]
os.setgid(65534); os.setuid(65534)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.bind("\0" + name)
    print("bound")
except OSError as e:
    print("bind refused", e.errno)
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.settimeout(10)
try:
    c.connect("\0" + name)
    c.sendall(b"x" * 64)
    print("read", len(c.recv(100)))
except OSError as e:  # closed at once: EPIPE or ECONNRESET, whichever comes first
    print("read error", e.errno)
"""


class WriterSocketTest(unittest.TestCase):
    """Fault 1: another local user could bind the writer's name while no writer ran."""

    def setUp(self):
        self.s = Stack(workers=2).start()
        self.key = self.s.key(100, "admin")

    def tearDown(self):
        self.s.stop()

    def test_another_user_can_neither_take_nor_feed_the_writer_socket(self):
        master = self.s.groupd.pid
        name = writer_socket_name(master)
        self.assertIsNotNone(name, "the master holds the writer's listening socket")
        # No writer runs: the master is stopped (it cannot start another), the writer killed.
        victim = writer(master)
        os.kill(master, signal.SIGSTOP)
        try:
            os.kill(victim, signal.SIGKILL)
            self.assertTrue(wait_for(lambda: proc_state(victim) in ("Z", None), 10))
            r = subprocess.run(["python3", "-c", AS_NOBODY, name], capture_output=True, text=True,
                               timeout=60)
            self.assertIn("bind refused 98", r.stdout, r.stderr)  # EADDRINUSE: still the master's
        finally:
            os.kill(master, signal.SIGCONT)
        self.assertTrue(wait_for(lambda: writer(master) not in (None, victim), 15))
        # The new writer refuses the other user's connection (SO_PEERCRED) and serves writes.
        r = subprocess.run(["python3", "-c", AS_NOBODY, name], capture_output=True, text=True,
                           timeout=60)
        # Refused: the writer closes the connection unread (no answer, whatever was sent).
        self.assertRegex(r.stdout, r"read (0|error (32|104))\n", r.stdout + r.stderr)
        self.assertIn("writer: refused a connection (another user)", self.s.read_log())
        r = self.s.request("POST", "/group?organisation=101", self.key, {"name": "stored", "externalId": "st-1"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.s.request("GET", "/group/st-1", self.key).status, 200)


class StopTest(unittest.TestCase):
    """Fault 2: SIGTERM under write load was not honoured for up to a minute."""

    def test_sigterm_under_write_load_stops_promptly_and_loses_no_acknowledged_write(self):
        s = Stack(workers=4).start()
        try:
            key = s.key(100, "admin")
            acked, other, stop = [], [], threading.Event()

            def writes(t):
                for i in range(3000):
                    if stop.is_set():
                        return
                    ext = f"w{t}-{i}"
                    try:
                        r = s.request("POST", "/group?organisation=101", key, {"name": "x", "externalId": ext})
                    except Exception as e:  # groupd gone: nginx may reset
                        other.append(repr(e))
                        time.sleep(0.05)
                        continue
                    if r.status == 200:
                        acked.append(ext)
                    else:
                        other.append(r.status)
                        time.sleep(0.05)

            ts = [threading.Thread(target=writes, args=(t,)) for t in range(12)]
            for t in ts:
                t.start()
            wait_for(lambda: len(acked) > 100, 30)
            s.groupd.send_signal(signal.SIGTERM)
            s.groupd.wait(timeout=120)  # a hang guard; the bound itself is the log's below
            stop.set()
            for t in ts:
                t.join(timeout=60)
            self.assertEqual(s.groupd.returncode, 0)
            log = s.read_log()
            # Every process ended by itself, inside its deadline (20 s for the workers, then
            # 10 s for the writer: within the unit's TimeoutStopSec of 40 s); none was killed.
            self.assertNotIn("did not stop", log)
            self.assertIn("stopped", log)
            # Only nginx's own answers once groupd is gone (no socket): 502.
            self.assertEqual(sorted({o for o in other if isinstance(o, int)} - {502}), [])
            # Every acknowledged write is there.
            s.start_groupd()
            r = s.request("GET", "/group?limit=0", key)
            stored = {g["externalId"] for g in r.json["results"]}
            self.assertEqual(set(acked) - stored, set())
        finally:
            s.stop()


class SecondInstanceTest(unittest.TestCase):
    """Fault 3: a second groupd on the same unix socket took it over."""

    def test_a_second_groupd_on_the_same_socket_refuses_to_start(self):
        s = Stack(workers=2).start()
        try:
            key = s.key(100, "admin")
            inode = os.stat(s.sock).st_ino
            log2 = os.path.join(s.dir, "second.log")
            second = subprocess.run([GROUPD, "--db", s.db, "--listen", "unix:" + s.sock,
                                     "--workers", "2", "--log", log2], timeout=60)
            self.assertNotEqual(second.returncode, 0)
            with open(log2) as f:
                self.assertIn("another process", f.read())
            self.assertEqual(os.stat(s.sock).st_ino, inode)
            self.assertEqual(s.request("GET", "/group?limit=1", key).status, 200)
        finally:
            s.stop()

    def test_a_socket_left_by_a_killed_groupd_is_taken_over(self):
        s = Stack(workers=2).start()
        try:
            key = s.key(100, "admin")
            master = s.groupd.pid
            procs = children(master)
            self.assertEqual(len(procs), 3)
            os.kill(master, signal.SIGKILL)
            s.groupd.wait(timeout=10)
            # Its workers and writer end by themselves (they are not left serving).
            self.assertTrue(wait_for(lambda: all(not os.path.exists(f"/proc/{p}") or
                                                 open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
                                                 for p in procs), 10))
            self.assertTrue(os.path.exists(s.sock))
            s.start_groupd()
            self.assertEqual(s.request("GET", "/group?limit=1", key).status, 200)
        finally:
            s.stop()


class CreateGroupsTest(unittest.TestCase):
    """Fault 4: groupctl create-groups dropped the participants of a line."""

    def test_create_groups_stores_participants_and_an_export_round_trips(self):
        s = Stack(workers=2)
        try:
            path = os.path.join(s.dir, "g.jsonl")
            with open(path, "w") as f:
                f.write(json.dumps({"name": "A", "externalId": "a-1", "organisation": 5,
                                    "participants": [{"email": "x@example.org", "name": "X"},
                                                     {"email": "y@example.org", "externalId": "y1"}]}) + "\n")
            out = s.groupctl("create-groups", path, "--top-organisation", "1").stdout
            self.assertEqual(json.loads(out), {"created": 1})
            exported = s.groupctl("export").stdout
            g = json.loads(exported.splitlines()[0])
            self.assertEqual(g["totalParticipants"], 2)
            self.assertEqual(sorted(p["email"] for p in g["participants"]), ["x@example.org", "y@example.org"])
            # The export fed back into another database keeps every participant.
            back = os.path.join(s.dir, "export.jsonl")
            with open(back, "w") as f:
                f.write(exported)
            other = os.path.join(s.dir, "db2")
            r = subprocess.run([GROUPCTL, "--db", other, "create-groups", back, "--top-organisation", "1"],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            r = subprocess.run([GROUPCTL, "--db", other, "export"], capture_output=True, text=True, timeout=60)
            g2 = json.loads(r.stdout.splitlines()[0])
            self.assertEqual(sorted((p["email"], p["name"], p["externalId"]) for p in g2["participants"]),
                             sorted((p["email"], p["name"], p["externalId"]) for p in g["participants"]))
            self.assertEqual(g2["totalParticipants"], 2)
            r = subprocess.run([GROUPCTL, "--db", other, "check"], capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout)
            # A line whose participants are bad is refused, and nothing is written.
            bad = os.path.join(s.dir, "bad.jsonl")
            with open(bad, "w") as f:
                f.write(json.dumps({"name": "B", "organisation": 5,
                                    "participants": [{"email": "z@example.org"}, {"email": "Z@example.org"}]}) + "\n")
                f.write(json.dumps({"name": "C", "organisation": 5, "participants": [{"name": "no e-mail"}]}) + "\n")
            r = s.groupctl("create-groups", bad, "--top-organisation", "1", check=False)
            self.assertEqual(r.returncode, 1)
            problem = json.loads(r.stderr.strip().splitlines()[-1])
            self.assertEqual([(e["line"], e["field"]) for e in problem["context"]],
                             [(1, "participants[1].email"), (2, "participants[0].email")])
            self.assertEqual(len(s.groupctl("export").stdout.splitlines()), 1)
        finally:
            s.stop()


class FullMapTest(unittest.TestCase):
    """Fault 5: once the map was full, deletes and purges failed too, and only a restart helped."""

    def test_a_full_map_can_be_emptied_and_grown_without_a_restart(self):
        conf_path = None
        s = Stack(workers=2)
        conf_path = os.path.join(s.dir, "groupd.conf")
        with open(conf_path, "w") as f:
            f.write(f"map-size = {4 << 20}\n")
        s.extra_args = ["--config", conf_path]
        s.start()
        try:
            key = s.key(100, "admin")
            made, status = [], 200
            for i in range(20000):
                r = s.request("POST", "/group?organisation=101", key,
                              {"name": f"filler {i}", "externalId": f"f-{i}", "description": "d" * 900})
                status = r.status
                if status != 200:
                    break
                made.append(r.json["id"])
            self.assertEqual(status, 503, "the map filled up")
            self.assertIn("full", r.json["userMessage"])
            self.assertGreater(len(made), 100)
            # Every soft delete and purge of the full database succeeds.
            for gid in made[:100]:
                self.assertEqual(s.request("DELETE", f"/group/{gid}", key).status, 200)
                r = s.request("DELETE", f"/group/{gid}?purge=true", key)
                self.assertIn(r.status, (200, 204), r)
            # The space is used again: creates succeed.
            for i in range(20):
                r = s.request("POST", "/group?organisation=101", key,
                              {"name": f"again {i}", "description": "d" * 900})
                self.assertEqual(r.status, 200, r)
            # Fill it again, then raise the map size: SIGHUP reads the file again, no request fails.
            for i in range(20000):
                r = s.request("POST", "/group?organisation=101", key, {"name": f"more {i}", "description": "d" * 900})
                if r.status != 200:
                    break
            self.assertEqual(r.status, 503)
            with open(conf_path, "w") as f:
                f.write(f"map-size = {64 << 20}\n")
            reads, stop = [], threading.Event()

            def read_loop():
                for _ in range(2000):
                    if stop.is_set():
                        return
                    reads.append(s.request("GET", f"/group/{made[-1]}", key).status)

            t = threading.Thread(target=read_loop)
            t.start()
            os.kill(s.groupd.pid, signal.SIGHUP)
            master = s.groupd.pid
            self.assertTrue(wait_for(lambda: "SIGHUP: --map-size" in s.read_log(), 30))
            ok = wait_for(lambda: s.request("POST", "/group?organisation=101", key,
                                            {"name": "after the resize", "description": "d" * 900}).status == 200, 60)
            stop.set()
            t.join(timeout=60)
            self.assertTrue(ok, s.read_log())
            self.assertEqual(set(reads), {200})
            for i in range(200):
                r = s.request("POST", "/group?organisation=101", key, {"name": f"grown {i}", "description": "d" * 900})
                self.assertEqual(r.status, 200, r)
            self.assertEqual(len(workers(master)), 2)
            self.assertEqual(s.groupctl("check").returncode, 0)
        finally:
            s.stop()


class StalledWriterTest(unittest.TestCase):
    """Fault 6: nothing noticed a stopped writer; writes waited 120 s and were applied later."""

    def test_a_stopped_writer_is_replaced_and_its_writes_answer_503_unapplied(self):
        s = Stack(workers=2).start()
        try:
            key = s.key(100, "admin")
            master = s.groupd.pid
            victim = writer(master)
            os.kill(victim, signal.SIGSTOP)
            r = s.request("POST", "/group?organisation=101", key, {"name": "held", "externalId": "held-1"})
            # groupd's own answer (nginx would have given 504 at its 60 s read timeout).
            self.assertIn(r.status, (200, 503), r)
            self.assertTrue(wait_for(lambda: writer(master) not in (None, victim), 30))
            self.assertIn(f"writer {victim} made no progress", s.read_log())
            got = s.request("GET", "/group/held-1", key).status
            if r.status == 503:
                self.assertEqual(r.json["errorCode"], "unavailable")
                self.assertEqual(got, 404)  # never applied, not even later
            else:
                self.assertEqual(got, 200)
            time.sleep(1)
            self.assertEqual(s.request("GET", "/group/held-1", key).status, got)
            r = s.request("POST", "/group?organisation=101", key, {"name": "next", "externalId": "next-1"})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(s.groupctl("check").returncode, 0)
        finally:
            s.stop()


class KilledWorkerTest(unittest.TestCase):
    """Fault 7: a worker killed soon after its start was replaced only after a back-off."""

    def test_a_worker_killed_right_after_it_became_ready_is_replaced_at_once(self):
        s = Stack(workers=2).start()
        try:
            master = s.groupd.pid
            for round_ in range(4):
                self.assertTrue(wait_for(lambda: len(workers(master)) == 2, 10))
                victim = workers(master)[0]
                # Ready: it answers requests (it opened the database and accepts).
                self.assertTrue(wait_for(lambda: s.request("GET", "/health").status == 200, 10))
                os.kill(victim, signal.SIGKILL)
                self.assertTrue(wait_for(lambda: victim not in workers(master) and len(workers(master)) == 2, 10))
            log = s.read_log()
            self.assertNotIn("trying again in", log)
            self.assertGreaterEqual(log.count("starting another"), 4)
        finally:
            s.stop()


class SmallFaultsTest(unittest.TestCase):
    """Fault 9: bounds that the messages did not match, and --listen values taken wrongly."""

    def test_query_bounds_are_the_ones_the_messages_give(self):
        s = Stack(workers=2).start()
        try:
            key = s.key(100, "admin")
            for since in ("18446744073709551609", "18446744073709551615"):
                self.assertEqual(s.request("GET", f"/changes?since={since}", key).status, 200)
            r = s.request("GET", "/changes?since=18446744073709551616", key)
            self.assertEqual(r.status, 400)
            self.assertIn("from 0 to 18446744073709551615", r.json["context"][0]["message"])
            for bad in ("0", "1001"):
                r = s.request("GET", f"/changes?limit={bad}", key)
                self.assertEqual(r.status, 400)
                self.assertEqual(r.json["context"][0]["message"], "must be a whole number from 1 to 1000")
        finally:
            s.stop()

    def test_listen_values_that_are_not_an_address_are_refused(self):
        for bad in ("127.0.0.1:99999", "127.0.0.1:abc", "127.0.0.1:", "127.0.0.1:0", "unix:", "just-a-name"):
            r = subprocess.run([GROUPD, "--db", "/nonexistent", "--listen", bad], capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn("--listen must be", r.stderr)
            self.assertFalse(os.path.exists(bad))


if __name__ == "__main__":
    unittest.main()
