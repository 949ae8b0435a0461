"""Integration tests: the change feed, GET /changes (API.md §7), over real nginx.

Each test works on its own topOrganisation, so the feed it reads holds only
its own changes.
"""
import time
import unittest

from harness import Stack


class ChangesTest(unittest.TestCase):
    top = 500

    @classmethod
    def setUpClass(cls):
        cls.s = Stack(workers=2).start()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def setUp(self):
        ChangesTest.top += 1
        self.admin = self.s.key(self.top, "admin")
        self.key101 = self.s.key(self.top, "read", [101])

    def req(self, method, path, body=None, key=None, **kw):
        return self.s.request(method, path, key or self.admin, body, **kw)

    def feed(self, since=None, key=None, limit=None):
        q = []
        if since is not None:
            q.append(f"since={since}")
        if limit is not None:
            q.append(f"limit={limit}")
        r = self.req("GET", "/changes" + ("?" + "&".join(q) if q else ""), key=key)
        self.assertEqual(r.status, 200, r)
        return r.json

    def types(self, since=0, key=None):
        return [(e["type"], e["id"], e.get("group")) for e in self.feed(since, key, 1000)["results"]]

    def last(self):
        return self.feed(0, limit=1000)["last"]

    def group(self, org=101, **fields):
        r = self.req("POST", f"/group?organisation={org}", {"name": "g", **fields})
        self.assertEqual(r.status, 200, r)
        return r.json

    def test_every_write_the_contract_names_in_order(self):
        g = self.group(externalId="c-1", participants=[{"email": "a@x.nl"}])
        pa = g["participants"][0]["id"]
        gid = g["id"]
        self.req("POST", f"/group/{gid}", {"name": "renamed"})
        pb = self.req("POST", f"/group/{gid}/participant", {"email": "b@x.nl"}).json["id"]
        self.req("POST", f"/group/{gid}/participant", {"email": "b@x.nl", "name": "B"})
        self.req("DELETE", f"/group/{gid}/participant/{pb}")
        ev = self.req("POST", f"/group/{gid}/event", {"tutors": ["t"]}).json["id"]
        self.req("PUT", f"/group/{gid}/event/{ev}", {"tutors": ["u"]})
        self.req("DELETE", f"/group/{gid}/event/{ev}")
        self.req("POST", f"/group/{gid}/archive")
        self.req("POST", f"/group/{gid}/archive?undo=true")
        self.req("DELETE", f"/group/{gid}")
        self.req("DELETE", f"/group/{gid}?undo=true")
        self.req("DELETE", f"/group/{gid}?purge=true")
        self.assertEqual(self.types(), [
            ("group.created", gid, None), ("participant.added", pa, gid),
            ("group.updated", gid, None), ("participant.added", pb, gid),
            ("participant.updated", pb, gid), ("participant.removed", pb, gid),
            ("event.created", ev, gid), ("event.updated", ev, gid), ("event.removed", ev, gid),
            ("group.archived", gid, None), ("group.unarchived", gid, None),
            ("group.deleted", gid, None), ("group.restored", gid, None), ("group.purged", gid, None)])
        results = self.feed()["results"]
        seqs = [e["seq"] for e in results]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(set(seqs)), len(seqs))
        for e in results:
            self.assertRegex(e["at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

    def test_no_op_and_failed_writes_leave_no_entry(self):
        g = self.group(externalId="noop-1")
        self.group(externalId="noop-2")
        before = self.last()
        # The same values again, a soft delete of a deleted group's twin, a
        # 409 and a 400: nothing is written, so nothing is in the feed.
        self.assertEqual(self.req("POST", f"/group/{g['id']}", {"name": "g"}).status, 200)
        self.assertEqual(self.req("POST", f"/group/{g['id']}", {"externalId": "noop-2"}).status, 409)
        self.assertEqual(self.req("POST", f"/group/{g['id']}", {"name": ""}).status, 400)
        self.assertEqual(self.req("POST", f"/group/{g['id']}/event", {"day": 9}).status, 400)
        self.assertEqual(self.last(), before)
        self.req("DELETE", f"/group/{g['id']}")
        after = self.last()
        self.req("DELETE", f"/group/{g['id']}")  # a no-op 200
        self.assertEqual(self.last(), after)

    def test_import_writes_one_entry_per_participant_changed(self):
        g = self.group()
        csv = f"groupId,email,name\n{g['id']},a@x.nl,A\n{g['id']},b@x.nl,B\n"
        r = self.req("POST", "/group/bulkImportParticipants", raw=csv.encode(), ctype="text/csv")
        self.assertEqual(r.status, 200, r)
        since = self.last()
        csv = f"groupId,email,name\n{g['id']},a@x.nl,A\n{g['id']},c@x.nl,C\n"
        r = self.req("POST", "/group/bulkImportParticipants?mode=replace", raw=csv.encode(),
                     ctype="text/csv")
        self.assertEqual(r.json["imported"]["unchanged"], 1, r)
        got = sorted(t for t, _, _ in self.types(since))
        self.assertEqual(got, ["participant.added", "participant.removed"])
        # A re-import of the same file writes nothing.
        since = self.last()
        self.req("POST", "/group/bulkImportParticipants?mode=replace", raw=csv.encode(),
                 ctype="text/csv")
        self.assertEqual(self.types(since), [])

    def test_erasing_a_person_writes_one_removal_per_group(self):
        g1 = self.group(participants=[{"email": "gone@x.nl"}, {"email": "stay@x.nl"}])
        g2 = self.group(participants=[{"email": "Gone@X.nl"}])
        since = self.last()
        r = self.req("DELETE", "/participant?email=gone@x.nl")
        self.assertEqual(r.status, 200, r)
        got = self.types(since)
        self.assertEqual(sorted((t, g) for t, _, g in got),
                         [("participant.removed", g1["id"]), ("participant.removed", g2["id"])])

    def test_scope_follows_the_key(self):
        mine = self.group(org=101)
        theirs = self.group(org=102)
        ids = {i for _, i, _ in self.types(key=self.key101)}
        self.assertIn(mine["id"], ids)
        self.assertNotIn(theirs["id"], ids)
        other = self.s.key(self.top + 1000, "read")
        self.assertEqual(self.feed(key=other)["results"], [])
        self.assertIn(theirs["id"], {i for _, i, _ in self.types()})

    def test_paging_since_limit_and_last(self):
        for _ in range(5):
            self.group()
        all5 = self.feed()
        self.assertEqual(len(all5["results"]), 5)
        self.assertEqual(all5["last"], all5["results"][-1]["seq"])
        page = self.feed(0, limit=2)
        self.assertEqual(page["results"], all5["results"][:2])
        self.assertEqual(self.feed(page["last"], limit=2)["results"], all5["results"][2:4])
        empty = self.feed(all5["last"])
        self.assertEqual(empty, {"results": [], "last": all5["last"]})
        self.assertEqual(self.feed(10 ** 15)["last"], 10 ** 15)
        for i in range(120):
            self.req("POST", "/group?organisation=101", {"name": f"n{i}"})
        self.assertEqual(len(self.feed()["results"]), 100)  # the default limit
        self.assertEqual(len(self.feed(limit=1000)["results"]), 125)
        for q in ("since=-1", "since=abc", "limit=0", "limit=1001", "limit=x", "since="):
            r = self.req("GET", "/changes?" + q)
            self.assertEqual(r.status, 400, (q, r))
            self.assertEqual(r.json["errorCode"], "invalid_query", q)
        self.assertEqual(self.s.request("GET", "/changes").status, 401)
        self.assertEqual(self.req("POST", "/changes").status, 405)

    def test_paging_inside_one_write(self):
        g = self.group(participants=[{"email": f"p{i}@x.nl"} for i in range(5)])
        whole = self.feed()["results"]
        self.assertEqual(len(whole), 6)
        got, since = [], 0
        for _ in range(10):
            page = self.feed(since, limit=2)
            if not page["results"]:
                break
            got += page["results"]
            since = page["last"]
        self.assertEqual(got, whole)
        self.assertEqual([e["id"] for e in got[1:]], [p["id"] for p in g["participants"]])

    def test_stats_and_check_know_the_feed(self):
        self.group()
        stats = self.s.groupctl("stats").stdout
        self.assertRegex(stats, r"changes_entries [1-9]")
        self.assertRegex(stats, r"changes_oldest \d{4}-")
        self.assertIn("changes_retain_seconds 2592000", stats)
        r = self.s.groupctl("check", check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


class RetentionTest(unittest.TestCase):
    def test_old_entries_are_pruned_and_an_older_since_is_410(self):
        s = Stack(workers=1, extra_args=["--changes-retain", "1s"]).start()
        try:
            key = s.key(100, "admin")
            first = s.request("POST", "/group?organisation=1", key, {"name": "old"}).json
            time.sleep(1.5)
            s.request("POST", "/group?organisation=1", key, {"name": "new"})
            r = s.request("GET", "/changes?since=0", key)
            self.assertEqual(r.status, 410, r)
            self.assertEqual(r.json["errorCode"], "gone")
            self.assertEqual(r.json["context"][0]["field"], "since")
            r = s.request("GET", "/changes?since=1", key)
            self.assertEqual(r.status, 200, r)
            self.assertEqual([e["type"] for e in r.json["results"]], ["group.created"])
            self.assertNotEqual(r.json["results"][0]["id"], first["id"])
            self.assertIn("changes_retain_seconds 1\n", s.groupctl("stats").stdout)
            self.assertEqual(s.groupctl("check", check=False).returncode, 0)
        finally:
            s.stop()

    def test_a_bad_retention_is_refused_at_start(self):
        import subprocess
        from harness import GROUPD
        for bad in ("0s", "5x", "-1d", "d"):
            r = subprocess.run([GROUPD, "--db", "/nonexistent", "--changes-retain", bad],
                               capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0, bad)
            self.assertIn("--changes-retain", r.stderr, bad)


if __name__ == "__main__":
    unittest.main()
