"""Integration test: a tenant's records copied from one shard to another with
`groupctl tenant send | groupctl tenant receive` (API.md §9), through the real binaries.

Shard 1 serves two tenants behind nginx; tenant 100 is copied, while shard 1 runs, into
shard 2's database, which then serves it: every group, participant, event, key, ETag and
feed entry reads back the same. A stream that is garbage, of another format version, cut
at any frame boundary or inside a frame, or of a tenant the destination holds, is refused
and leaves nothing. `send` freezes the tenant on the source first (the cut): from then on
the source answers its requests 503 with Retry-After, until `tenant drop` removes the copy
(its keys are then unknown: 401) or `tenant thaw` lifts a freeze whose move failed. (A
catch-up that keeps the freeze short is not built yet: lmdb-schema/tenant-stream.md.)
"""
import fcntl
import os
import re
import struct
import subprocess
import unittest

from harness import GROUPCTL, Stack, wait_for

HEADER = 14 + 12  # "GROUPD-TENANT\n", version, top, shard


def frames(stream):
    """The offsets where each frame of a stream begins, and its end."""
    at, out = HEADER, []
    while at < len(stream):
        out.append(at)
        (length,) = struct.unpack(">I", stream[at + 1:at + 5])
        at += 5 + length
    return out + [at]


def reads(stack, key, ids):
    """Everything a tenant reads: its groups with ETags, participants, events, the list, the
    feed (a list's metadata.timestamp is the time of the answer: left out)."""
    out = []
    same = lambda body: re.sub(r'"timestamp":"[^"]*"', "", body)
    for gid in ids:
        for path in (f"/group/{gid}?status=active,archived,deleted", f"/group/{gid}/participant",
                     f"/group/{gid}/event"):
            r = stack.request("GET", path, key=key)
            out.append((path, r.status, same(r.body), r.header("ETag")))
    r = stack.request("GET", "/group?status=active,archived,deleted&sort=name&limit=1000", key=key)
    out.append(("list", r.status, same(r.body), r.header("ETag")))
    r = stack.request("GET", "/changes?since=0&limit=1000", key=key)
    out.append(("changes", r.status, same(r.body)))
    return out


def sending(stack, top):
    """The command that sends tenant top of stack's database."""
    return [GROUPCTL, "--db", stack.db, "tenant", "send", "--top-organisation", str(top)]


def receive(stack, stream, *opts):
    """stream received into stack's database (opts: tenant receive's options)."""
    return subprocess.run([GROUPCTL, "--db", stack.db, "tenant", "receive", *opts], input=stream,
                          capture_output=True, timeout=120)


def parse(stream):
    """A stream's header and its frames, as (type, payload)."""
    out, at = [], HEADER
    while at < len(stream):
        (length,) = struct.unpack(">I", stream[at + 1:at + 5])
        out.append((stream[at], stream[at + 5:at + 5 + length]))
        at += 5 + length
    return stream[:HEADER], out


def compose(header, frames_):
    """A stream of these frames, with its end frame (count, FNV-1a of every byte before it)."""
    body = header + b"".join(bytes([t]) + struct.pack(">I", len(p)) + p for t, p in frames_)
    h = 0xcbf29ce484222325
    for c in body:
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return body + bytes([9]) + struct.pack(">I", 16) + struct.pack(">QQ", len(frames_), h)


class TenantMoveTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.src = Stack(extra_args=["--shard", "1"])
        cls.dst = Stack(extra_args=["--shard", "2"])
        try:
            cls.key = cls.src.groupctl("--shard", "1", "key", "create", "--top-organisation",
                                       "100", "--role", "admin", "--name", "a").stdout.split()[0]
            cls.other = cls.src.key(200, "admin")
            cls.dst.groupctl("--shard", "2", "stats")  # the destination is shard 2
            cls.src.start()
            cls.fill()
        except Exception:
            cls.src.stop()
            cls.dst.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.src.stop()
        cls.dst.stop()

    @classmethod
    def fill(cls):
        s, k = cls.src, cls.key
        cls.ids = []
        for i in range(3):
            r = s.request("POST", "/group?organisation=101", key=k,
                          body={"name": f"Groep {i}", "externalId": f"g-{i}",
                                "participants": [{"email": f"p{i}@x.nl", "externalId": f"s{i}",
                                                  "labels": [{"name": "docent"}]}]})
            assert r.status == 200, r
            cls.ids.append(r.json["id"])
        assert s.request("POST", "/group/g-0/participant?external=true", key=k,
                         body={"email": "extra@x.nl"}).status == 200
        assert s.request("POST", "/group/g-1/event?external=true", key=k,
                         body={"title": "Les", "tutors": ["T"]}).status == 201
        assert s.request("PATCH", "/group/g-2?external=true", key=k,
                         body={"description": "bijgewerkt"}).status == 200
        assert s.request("POST", "/group/g-2/archive?external=true", key=k).status == 200
        assert s.request("POST", "/group?organisation=201", key=cls.other,
                         body={"name": "Ander"}).status == 200

    def send(self, top=100):
        return subprocess.run(sending(self.src, top), capture_output=True, timeout=60)

    def receive(self, stream, *opts):
        return receive(self.dst, stream, *opts)

    def groups_on_dst(self):
        return self.dst.groupctl("stats").stdout

    def assertNothingReceived(self):
        self.assertIn("groups_active 0\ngroups_archived 0\ngroups_deleted 0\n", self.groups_on_dst())
        self.assertIn("0 differences", self.dst.groupctl("check").stdout
                      + self.dst.groupctl("check").stderr)

    def reads(self, stack, key):
        return reads(stack, key, self.ids)

    def test_a_tenant_moves_whole_and_the_bad_streams_leave_nothing(self):
        before = self.reads(self.src, self.key)
        sent = self.send()
        self.assertEqual(sent.returncode, 0, sent.stderr)
        stream = sent.stdout
        self.assertIn(b"sent topOrganisation 100: 1 keys, 3 groups, 4 participants, 1 events",
                      sent.stderr)
        # From the cut on, the source answers the tenant 503 with Retry-After; others as usual.
        for method, path, body in (("GET", "/group/g-0?external=true", None),
                                   ("POST", "/group?organisation=101", {"name": "late"}),
                                   ("GET", "/changes?since=0", None)):
            r = self.src.request(method, path, key=self.key, body=body)
            self.assertEqual((r.status, r.json["errorCode"], r.header("Retry-After")),
                             (503, "unavailable", "1"), path)
        self.assertEqual(self.src.request("GET", "/group", key=self.other).status, 200)
        # Bad streams first: each is refused and leaves nothing.
        for bad, why in ((b"", b"not a groupd tenant stream"),
                         (b"garbage\n" * 10, b"not a groupd tenant stream"),
                         (stream[:14] + struct.pack(">I", 3) + stream[18:],
                          b"format version 3; this groupd reads version 2"),
                         (stream + b"x", b"goes on after its end frame")):
            r = self.receive(bad)
            self.assertEqual(r.returncode, 1)
            self.assertIn(why, r.stderr)
            self.assertIn(b"nothing of it is kept", r.stderr)
        cuts = frames(stream)
        self.assertGreater(len(cuts), 12)
        for cut in cuts[:-1] + [c + 3 for c in cuts[:-1]] + [len(stream) - 1]:
            r = self.receive(stream[:cut])
            self.assertEqual(r.returncode, 1, cut)
            self.assertIn(b"cut short", r.stderr, cut)
        # One flipped byte in a record: the end frame's hash tells.
        damaged = bytearray(stream)
        damaged[cuts[3] + 20] ^= 0x01
        r = self.receive(bytes(damaged))
        self.assertEqual(r.returncode, 1)
        self.assertNothingReceived()
        # --busy takes a percentage from 1 to 100.
        for busy in ("0", "101", "x", "-5", ""):
            r = self.receive(stream, "--busy", busy)
            self.assertEqual(r.returncode, 2, busy)
            self.assertIn(b"--busy takes a percentage from 1 to 100", r.stderr)
        self.assertNothingReceived()

        # The whole stream (applied without pauses): received, then served as on the source.
        r = self.receive(stream, "--busy", "100")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"received topOrganisation 100", r.stderr)
        self.assertIn("0 differences", self.dst.groupctl("check").stdout)
        self.dst.start()
        self.assertEqual(before, self.reads(self.dst, self.key))
        self.assertEqual(self.dst.request("GET", "/group", key=self.other).status, 401)
        # Writes go on from the tenant's numbers; ids are the destination shard's.
        r = self.dst.request("POST", "/group/g-0/participant?external=true", key=self.key,
                             body={"email": "new@x.nl"})
        self.assertEqual(r.status, 200)
        self.assertTrue(2 * 10**12 <= int(r.json["id"]) < 3 * 10**12)
        last = [x for x in before if x[0] == "changes"][0][2]
        last = int(re.search(r'"last":(\d+)', last).group(1))
        more = self.dst.request("GET", f"/changes?since={last}", key=self.key).json
        self.assertEqual([e["seq"] for e in more["results"]], [int(last) + 1])
        # A tenant the destination holds is refused; one that is not on the source too.
        r = self.receive(stream)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"holds topOrganisation 100 already", r.stderr)
        r = self.send(top=300)
        self.assertEqual((r.returncode, r.stdout), (1, b""))
        self.assertIn(b"no topOrganisation 300", r.stderr)

        # The source's copy is dropped: the tenant's keys are unknown there now.
        drop = lambda top, *more: self.src.groupctl("tenant", "drop", "--top-organisation",
                                                    str(top), *more, check=False)
        r = drop(100)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("dropped topOrganisation 100: 1 keys, 3 groups, 4 participants, 1 events",
                      r.stderr)
        self.assertEqual(self.src.request("GET", "/group", key=self.key).status, 401)
        self.assertIn("0 differences", self.src.groupctl("check").stdout)
        # A tenant that was not moved is not dropped without --force.
        r = drop(200)
        self.assertEqual(r.returncode, 1)
        self.assertIn("was not moved", r.stderr)

        # A move that fails: the freeze is lifted with tenant thaw.
        r = self.send(top=200)
        self.assertEqual(r.returncode, 0)
        self.assertEqual(self.src.request("GET", "/group", key=self.other).status, 503)
        self.assertEqual(self.receive(r.stdout[:-1]).returncode, 1)
        thaw = self.src.groupctl("tenant", "thaw", "--top-organisation", "200", check=False)
        self.assertEqual(thaw.returncode, 0, thaw.stderr)
        self.assertEqual(self.src.request("GET", "/group", key=self.other).status, 200)
        self.assertEqual(self.src.groupctl("tenant", "thaw", "--top-organisation", "200",
                                           check=False).returncode, 1)


class CatchUpTest(unittest.TestCase):
    """A tenant changed while its snapshot is being sent: the catch-up rounds bring every
    change (a swap of two externalIds, a delete, a purge, new groups, participants, events);
    a receive killed halfway leaves the source whole and the next move succeeds; and a tenant
    moved A -> B -> A reads back the same, `groupctl check` clean on both after each step."""

    @classmethod
    def setUpClass(cls):
        cls.a = Stack(extra_args=["--shard", "3"])
        cls.b = Stack(extra_args=["--shard", "4"])
        try:
            cls.a.groupctl("--shard", "3", "stats")
            cls.b.groupctl("--shard", "4", "stats")
            cls.key300 = cls.a.key(300, "admin")
            cls.key400 = cls.a.key(400, "admin")
            cls.a.start()
            cls.b.start()
        except Exception:
            cls.a.stop()
            cls.b.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.a.stop()
        cls.b.stop()

    def create(self, stack, key, org, ext, participants):
        r = stack.request("POST", f"/group?organisation={org}", key=key,
                          body={"name": f"Groep {ext}", "externalId": ext,
                                "participants": [{"email": f"{ext}-{i}@x.nl",
                                                  "externalId": f"{ext}-s{i}"}
                                                 for i in range(participants)]})
        self.assertEqual(r.status, 200, r)
        return r.json["id"]

    def send(self, stack, top, **kw):
        return subprocess.Popen(sending(stack, top), stderr=subprocess.PIPE, **kw)

    def receive(self, stack, stream):
        return receive(stack, stream)

    def assertClean(self, *stacks):
        for st in stacks:
            r = st.groupctl("check", check=False)
            self.assertIn("0 differences", r.stdout, r.stdout[-2000:] + r.stderr)

    def held(self, stack, top):
        out = stack.groupctl("export").stdout.splitlines()
        return sum(1 for line in out if f'"topOrganisation":{top},' in line.replace(" ", ""))

    def test_changes_made_during_the_copy_arrive_with_it(self):
        a, k = self.a, self.key300
        ids = [self.create(a, k, 301, f"c-{i}", 60) for i in range(4)]
        # A pipe of one page: send blocks inside its snapshot, so what follows is after it.
        r, w = os.pipe()
        fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 4096)
        send = self.send(a, 300, stdout=w)
        os.close(w)
        with os.fdopen(r, "rb") as pipe:
            head = pipe.read(HEADER)
            self.assertEqual(head[:14], b"GROUPD-TENANT\n")
            # While it runs, a second send of the tenant is refused, writing nothing.
            second = self.send(a, 300, stdout=subprocess.PIPE)
            out, said = second.communicate(timeout=60)
            self.assertEqual((second.returncode, out), (1, b""))
            self.assertIn(b"another tenant send or receive of topOrganisation 300 runs", said)
            ok = lambda r, status=200: self.assertEqual(r.status, status, r)
            ok(a.request("PATCH", "/group/c-0?external=true", key=k, body={"description": "later"}))
            ok(a.request("POST", "/group/c-0/participant?external=true", key=k,
                         body={"email": "late@x.nl"}))
            # c-1 and c-2 swap their externalIds.
            ok(a.request("PATCH", f"/group/{ids[1]}", key=k, body={"externalId": "tmp"}))
            ok(a.request("PATCH", f"/group/{ids[2]}", key=k, body={"externalId": "c-1"}))
            ok(a.request("PATCH", f"/group/{ids[1]}", key=k, body={"externalId": "c-2"}))
            ok(a.request("POST", f"/group/{ids[2]}/event", key=k,
                         body={"title": "Later", "tutors": ["T"]}), 201)
            ok(a.request("DELETE", f"/group/{ids[3]}", key=k))
            ids.append(self.create(a, k, 301, "c-4", 3))
            gone = self.create(a, k, 301, "c-5", 2)
            ok(a.request("DELETE", f"/group/{gone}?purge=true", key=k))
            before = reads(a, k, ids + [gone])
            rest = pipe.read()
        self.assertEqual(send.wait(timeout=120), 0)
        said = send.stderr.read().decode()
        send.stderr.close()
        rounds = int(re.search(r"after (\d+) catch-up rounds", said).group(1))
        self.assertGreaterEqual(rounds, 1, said)
        got = self.receive(self.b, head + rest)
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(reads(self.b, k, ids + [gone]), before)
        self.assertEqual(a.request("GET", "/group", key=k).status, 503)
        self.assertClean(a, self.b)

    def test_a_stale_holder_of_an_external_id_gives_way(self):
        """The snapshot sends groups in id order from several read transactions: group A may
        come with externalId "dup", then (after A was renamed and B took "dup") B with "dup";
        A comes again later. A stream built that way from two real ones is taken in whole."""
        a, k = self.a, self.a.key(500, "admin")
        ida = self.create(a, k, 501, "dup", 0)
        old = self.send(a, 500, stdout=subprocess.PIPE).communicate(timeout=120)[0]
        a.groupctl("tenant", "thaw", "--top-organisation", "500")
        r = a.request("PATCH", f"/group/{ida}", key=k, body={"externalId": "dup-2"})
        self.assertEqual(r.status, 200, r)
        idb = self.create(a, k, 501, "dup", 0)
        before = reads(a, k, [ida, idb])
        new = self.send(a, 500, stdout=subprocess.PIPE).communicate(timeout=120)[0]
        header, fresh = parse(new)
        group = lambda fr, gid: next(p for t, p in fr if t == 2 and f'"id":{gid},'.encode() in p)
        counters = [f for f in fresh if f[0] == 6][:3]
        feed = [f for f in fresh if f[0] == 5]
        keys = [f for f in fresh if f[0] == 1]
        mark = lambda t: (t, struct.pack(">Q", 1))
        stream = compose(header, counters + feed + [(2, group(parse(old)[1], ida)), mark(8),
                                                    (2, group(fresh, idb)), mark(8),
                                                    (7, struct.pack(">Q", ida)),
                                                    (2, group(fresh, ida)), mark(8), mark(10)]
                         + counters + keys)
        # Keys come only after the cut (an arriving copy has none): one before is refused.
        early = compose(header, counters + keys + feed + [(2, group(fresh, idb)), mark(8),
                                                          mark(10)] + counters)
        got = self.receive(self.b, early)
        self.assertEqual(got.returncode, 1)
        self.assertIn(b"key before its cut; nothing of it is kept", got.stderr)
        self.assertEqual(self.b.request("GET", "/group", key=k).status, 401)
        got = self.receive(self.b, stream)
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(reads(self.b, k, [ida, idb]), before)
        self.assertEqual(self.b.request("GET", "/group/dup?external=true", key=k).json["id"], idb)
        self.assertClean(self.b)

    def test_receive_killed_halfway_then_moved_there_and_back(self):
        a, b, k = self.a, self.b, self.key400
        ids = [self.create(a, k, 401, f"k-{i}", 600) for i in range(40)]
        before = reads(a, k, ids)
        send = self.send(a, 400, stdout=subprocess.PIPE)
        stream, said = send.communicate(timeout=120)
        self.assertEqual(send.returncode, 0, said)
        self.assertGreater(len(stream), 2 << 20)
        # receive takes the snapshot in chunks of 1 MiB: killed once one is in.
        recv = subprocess.Popen([GROUPCTL, "--db", b.db, "tenant", "receive"],
                                stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        recv.stdin.write(stream[:len(stream) * 3 // 4])
        recv.stdin.flush()
        self.assertTrue(wait_for(lambda: self.held(b, 400) > 0, 60))
        recv.kill()
        recv.wait(timeout=30)
        recv.stdin.close()
        recv.stderr.close()
        # The partial copy takes no request and holds no key; check is clean on both.
        self.assertEqual(b.request("GET", "/group", key=k).status, 401)
        self.assertClean(a, b)
        # The move failed: thawed, the source serves the tenant whole.
        a.groupctl("tenant", "thaw", "--top-organisation", "400")
        self.assertEqual(reads(a, k, ids), before)
        # A second move succeeds; the next receive removed the partial copy first.
        send = self.send(a, 400, stdout=subprocess.PIPE)
        stream, said = send.communicate(timeout=120)
        self.assertEqual(send.returncode, 0, said)
        got = self.receive(b, stream)
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(reads(b, k, ids), before)
        self.assertClean(a, b)
        # And back: the source's copy is dropped, then B sends it to A.
        a.groupctl("tenant", "drop", "--top-organisation", "400")
        self.assertEqual(a.request("GET", "/group", key=k).status, 401)
        send = self.send(b, 400, stdout=subprocess.PIPE)
        stream, said = send.communicate(timeout=120)
        self.assertEqual(send.returncode, 0, said)
        got = self.receive(a, stream)
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(reads(a, k, ids), before)
        self.assertEqual(b.request("GET", "/group", key=k).status, 503)
        b.groupctl("tenant", "drop", "--top-organisation", "400")
        self.assertEqual(self.held(b, 400), 0)
        self.assertClean(a, b)


if __name__ == "__main__":
    unittest.main()
