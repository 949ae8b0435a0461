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
import os
import re
import struct
import subprocess
import unittest

from harness import GROUPCTL, Stack

HEADER = 14 + 12  # "GROUPD-TENANT\n", version, top, shard


def frames(stream):
    """The offsets where each frame of a stream begins, and its end."""
    at, out = HEADER, []
    while at < len(stream):
        out.append(at)
        (length,) = struct.unpack(">I", stream[at + 1:at + 5])
        at += 5 + length
    return out + [at]


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
        r = subprocess.run([GROUPCTL, "--db", self.src.db, "tenant", "send",
                            "--top-organisation", str(top)], capture_output=True, timeout=60)
        return r

    def receive(self, stream):
        return subprocess.run([GROUPCTL, "--db", self.dst.db, "tenant", "receive"], input=stream,
                              capture_output=True, timeout=60)

    def groups_on_dst(self):
        return self.dst.groupctl("stats").stdout

    def assertNothingReceived(self):
        self.assertIn("groups_active 0\ngroups_archived 0\ngroups_deleted 0\n", self.groups_on_dst())
        self.assertIn("0 differences", self.dst.groupctl("check").stdout
                      + self.dst.groupctl("check").stderr)

    def reads(self, stack, key):
        """Everything tenant 100 reads: groups with ETags, participants, events, the feed
        (a list's metadata.timestamp is the time of the answer: left out)."""
        out = []
        same = lambda body: re.sub(r'"timestamp":"[^"]*"', "", body)
        for gid in self.ids:
            for path in (f"/group/{gid}?status=active,archived", f"/group/{gid}/participant",
                         f"/group/{gid}/event"):
                r = stack.request("GET", path, key=key)
                out.append((path, r.status, same(r.body), r.header("ETag")))
        r = stack.request("GET", "/group?status=active,archived&sort=name", key=key)
        out.append(("list", r.status, same(r.body), r.header("ETag")))
        r = stack.request("GET", "/changes?since=0", key=key)
        out.append(("changes", r.status, same(r.body)))
        return out

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

        # The whole stream: received, then served as on the source.
        r = self.receive(stream)
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


if __name__ == "__main__":
    unittest.main()
