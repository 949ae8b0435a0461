"""Integration test: deploy/nginx/shards/ routes each request to its tenant's shard (API.md §9).

Two groupd instances, each with a database of its own, on unix sockets, and one real nginx
with the shipped configuration files (their paths rewritten into a temporary directory).
"""
import os
import shutil
import signal
import subprocess
import tempfile
import unittest

from harness import (GROUPCTL, GROUPD, NGINX, SHARDS, children, free_port, http_request,
                     shards_nginx, stop_pid, wait_for)



class ShardRoutingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="groupd-shards-")
        os.chmod(cls.dir, 0o755)
        cls.procs = []
        cls.nginx = None
        try:
            cls.start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def start(cls):
        d = cls.dir
        cls.db = {}
        for n in (1, 2):
            cls.db[n] = os.path.join(d, f"db{n}")
            sock = os.path.join(d, f"groupd-{n}.sock")
            p = subprocess.Popen([GROUPD, "--db", cls.db[n], "--listen", "unix:" + sock,
                                  "--workers", "2", "--shard", str(n),
                                  "--log", os.path.join(d, f"groupd-{n}.log")],
                                 stdin=subprocess.DEVNULL)
            cls.procs.append(p)
            assert wait_for(lambda: os.path.exists(sock) and len(children(p.pid)) >= 2, 10)
        # The shipped files, with their /run and /etc paths moved here.
        cls.port = free_port()
        conf = cls.conf = shards_nginx(d, cls.port, {n: "unix:" + os.path.join(d, f"groupd-{n}.sock")
                                                     for n in (1, 2)})
        subprocess.run([NGINX, "-c", conf, "-p", d], check=True, timeout=30, capture_output=True)
        pidfile = os.path.join(d, "nginx.pid")
        assert wait_for(lambda: os.path.exists(pidfile) and open(pidfile).read().strip())
        cls.nginx = int(open(pidfile).read())
        # Tenant 100 lives on shard 1, tenant 200 on shard 2 (tenants.map).
        cls.key100 = cls.key(1, 100)
        cls.key200 = cls.key(2, 200)

    @classmethod
    def key(cls, shard, top):
        r = subprocess.run([GROUPCTL, "--db", cls.db[shard], "key", "create", "--top-organisation",
                            str(top), "--role", "admin"], capture_output=True, text=True, timeout=60,
                           check=True)
        return r.stdout.splitlines()[0]

    @classmethod
    def tearDownClass(cls):
        if cls.nginx:
            stop_pid(cls.nginx, signal.SIGQUIT)
        for p in cls.procs:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=60)
        shutil.rmtree(cls.dir, ignore_errors=True)

    def req(self, method, path, key=None, body=None, headers=None, bearer=False):
        return http_request(self.port, method, path, key, body, headers=headers, bearer=bearer)

    def externals(self, shard, top):
        r = subprocess.run([GROUPCTL, "--db", self.db[shard], "export"], capture_output=True,
                           text=True, timeout=60, check=True)
        import json
        return sorted(json.loads(line)["externalId"] for line in r.stdout.splitlines()
                      if json.loads(line)["topOrganisation"] == top)

    def test_each_tenant_reaches_its_own_shard(self):
        r = self.req("POST", "/group?organisation=101", self.key100, {"name": "a", "externalId": "on-1"})
        self.assertEqual(r.status, 200, r)
        r = self.req("POST", "/group?organisation=201", self.key200, {"name": "b", "externalId": "on-2"},
                     bearer=True)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.externals(1, 100), ["on-1"])
        self.assertEqual(self.externals(2, 200), ["on-2"])
        self.assertEqual(self.externals(1, 200), [])
        # Each key reads its tenant back through the same router.
        self.assertEqual(self.req("GET", "/group/on-2", self.key200).status, 200)
        self.assertEqual(self.req("GET", "/group/on-1", self.key100, bearer=True).status, 200)

    def shard_of(self, r):
        """Which shard answered: X-Request-Id begins with the worker's pid in hex."""
        pid = int(r.header("x-request-id").split("-")[0], 16)
        return next(n for n, p in enumerate(self.procs, 1) if pid in children(p.pid))

    def test_a_host_of_its_own_and_requests_without_a_tenant(self):
        # No key, but the institution's host: its shard answers (401, as it asks for a key).
        r = self.req("GET", "/group", headers={"Host": "uni-b.groups.example.edu"})
        self.assertEqual((r.status, self.shard_of(r)), (401, 2))
        r = self.req("GET", "/health", headers={"Host": "uni-b.groups.example.edu"})
        self.assertEqual((r.status, self.shard_of(r)), (200, 2))
        # The key's tenant wins over the host's.
        r = self.req("GET", "/group", self.key100, headers={"Host": "uni-b.groups.example.edu"})
        self.assertEqual((r.status, self.shard_of(r)), (200, 1))
        # A key of the older form names no tenant: the default shard, where such keys live.
        r = self.req("GET", "/group", "gdk_1_" + "x" * 43)
        self.assertEqual((r.status, self.shard_of(r)), (401, 1))
        r = self.req("GET", "/health")
        self.assertEqual((r.status, self.shard_of(r)), (200, 1))

    def test_each_shard_is_scraped_on_its_own(self):
        import http.client
        for n in (1, 2):
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            c.request("GET", f"/groupd_shard_{n}/metrics")
            r = c.getresponse()
            body = r.read().decode()
            c.close()
            self.assertEqual(r.status, 200, body[:300])
            self.assertIn("groupd_groups", body)
            pid = int(r.getheader("X-Request-Id").split("-")[0], 16)
            self.assertIn(pid, children(self.procs[n - 1].pid))

    def move(self, top, to, *opts):
        return subprocess.run(
            [os.path.join(SHARDS, "move-tenant"), "--top-organisation", str(top),
             "--from", f"{GROUPCTL} --db {self.db[1]}", "--to", f"{GROUPCTL} --db {self.db[to]}",
             "--to-upstream", f"groupd_shard_{to}", "--map", os.path.join(self.dir, "tenants.map"),
             "--nginx", f"{NGINX} -c {self.conf} -p {self.dir}", "--drop-after", "1", *opts],
            capture_output=True, text=True, timeout=120)

    def test_zz_move_tenant_moves_a_tenant_and_nginx_follows(self):
        body = {"name": "Verhuizen", "externalId": "mv-1", "participants": [{"email": "m@x.nl"}]}
        self.assertEqual(self.req("POST", "/group?organisation=101", self.key100, body).status, 200)
        before = self.req("GET", "/group/mv-1", self.key100)
        self.assertEqual(self.shard_of(before), 1)
        # --busy (receive's share of its time) is checked before anything happens.
        for busy in ("0", "101", "x"):
            r = self.move(100, 2, "--busy", busy)
            self.assertEqual(r.returncode, 2, busy)
        self.assertEqual(self.shard_of(self.req("GET", "/group/mv-1", self.key100)), 1)
        r = self.move(100, 2, "--busy", "100")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("topOrganisation 100 is served by groupd_shard_2", r.stderr)
        self.assertIn("dropped topOrganisation 100", r.stderr)
        with open(os.path.join(self.dir, "tenants.map")) as f:
            self.assertIn("\n100 groupd_shard_2;\n", f.read())
        # nginx's new workers send the tenant to shard 2, with its key, group and ETag.
        assert wait_for(lambda: self.shard_of(self.req("GET", "/group/mv-1", self.key100)) == 2, 30)
        after = self.req("GET", "/group/mv-1", self.key100)
        self.assertEqual((after.status, after.body, after.header("ETag")),
                         (200, before.body, before.header("ETag")))
        r = self.req("POST", "/group/mv-1/participant?external=true", self.key100,
                     {"email": "n@x.nl"})
        self.assertEqual(r.status, 200)
        self.assertTrue(2 * 10**12 <= int(r.json["id"]) < 3 * 10**12)
        self.assertEqual(self.externals(1, 100), [])
        self.assertIn("mv-1", self.externals(2, 100))
        # A move the destination refuses (it holds tenant 400 too): the freeze is lifted,
        # the map and nginx stay as they were, and the tenant is served where it was.
        key400 = self.key(1, 400)
        self.key(2, 400)
        with open(os.path.join(self.dir, "tenants.map")) as f:
            map_before = f.read()
        r = self.move(400, 2)
        self.assertEqual(r.returncode, 1)
        self.assertIn("holds topOrganisation 400 already", r.stderr)
        # The freeze is lifted: by send itself when the receiver went away after its cut,
        # else by the script.
        self.assertRegex(r.stderr, "thawed topOrganisation 400|the freeze is lifted")
        with open(os.path.join(self.dir, "tenants.map")) as f:
            self.assertEqual(f.read(), map_before)
        r = self.req("GET", "/group", key400)
        self.assertEqual((r.status, self.shard_of(r)), (200, 1))
        # A tenant that is nowhere: nothing happens.
        r = self.move(500, 2)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no topOrganisation 500", r.stderr)


class ShardNumberTest(unittest.TestCase):
    """groupd --shard K and groupctl --shard K (API.md §9): ids of every kind in
    [K * 10^12, (K + 1) * 10^12), the number kept in the database, another refused."""

    K = 7
    LO, HI = 7 * 10**12, 8 * 10**12

    def setUp(self):
        from harness import Stack
        self.stack = Stack(extra_args=["--shard", str(self.K)])

    def tearDown(self):
        self.stack.stop()

    def test_ids_of_every_kind_are_in_the_shards_range(self):
        s = self.stack
        key = s.groupctl("--shard", str(self.K), "key", "create", "--top-organisation", "100",
                         "--role", "admin", "--name", "t").stdout.splitlines()[0]
        self.assertTrue(key.startswith(f"gdk_100_{self.LO}_"), key)
        s.start()
        r = s.request("POST", "/group?organisation=101", key=key,
                      body={"name": "Wiskunde", "externalId": "w-1",
                            "participants": [{"email": "a@x.nl"}]})
        self.assertEqual(r.status, 200, r)
        g = r.json
        p = s.request("POST", "/group/w-1/participant?external=true", key=key,
                      body={"email": "b@x.nl"}).json
        e = s.request("POST", "/group/w-1/event?external=true", key=key,
                      body={"title": "Les", "tutors": ["T"]})
        self.assertEqual(e.status, 201, e)
        ids = [int(g["id"]), int(p["id"]), int(e.json["id"])]
        ids += [int(x["id"]) for x in s.request("GET", "/group/w-1/participant?external=true",
                                                key=key).json["results"]]
        for i in ids:
            self.assertTrue(self.LO <= i < self.HI, ids)
        # Without --shard, groupctl uses the database's number.
        other = s.groupctl("key", "create", "--top-organisation", "200", "--role", "read",
                           "--name", "u").stdout.splitlines()[0]
        self.assertTrue(other.startswith(f"gdk_200_{self.LO + 1}_"), other)
        self.assertEqual(s.request("GET", "/group", key=other).status, 200)
        self.assertIn("groups_active 1", s.groupctl("stats").stdout)
        self.assertEqual(s.groupctl("check").returncode, 0)

    def test_another_number_is_refused_naming_both(self):
        s = self.stack
        s.groupctl("--shard", str(self.K), "stats")
        r = s.groupctl("--shard", "8", "stats", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("shard 7", r.stderr)
        self.assertIn("shard 8", r.stderr)
        g = subprocess.run([GROUPD, "--db", s.db, "--listen", "unix:" + s.sock, "--shard", "8",
                            "--log", s.log], stdin=subprocess.DEVNULL, timeout=60)
        self.assertEqual(g.returncode, 1)
        log = s.read_log()
        self.assertIn("shard 7", log)
        self.assertIn("shard 8", log)
        self.assertFalse(os.path.exists(s.sock))

    def test_bad_numbers_are_refused(self):
        s = self.stack
        for bad in ("9000", "x", "-1", "", "07x", "12345"):
            r = subprocess.run([GROUPD, "--db", s.db, "--shard", bad], stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn("--shard must be a number from 0 to 8999", r.stderr)
            c = s.groupctl("--shard", bad, "stats", check=False)
            self.assertEqual(c.returncode, 2, bad)
        # Nothing was written: the database takes any number still.
        self.assertEqual(s.groupctl("--shard", "8999", "stats").returncode, 0)


if __name__ == "__main__":
    unittest.main()
