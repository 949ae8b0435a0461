"""Integration tests: POST /group/bulkImportGroups and groupctl import-groups (API.md §5)."""
import os
import unittest

from harness import Stack
from test_participants import multipart


class GroupImportTest(unittest.TestCase):
    top = 700

    @classmethod
    def setUpClass(cls):
        cls.s = Stack(workers=2).start()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def setUp(self):
        GroupImportTest.top += 1
        t = self.top
        self.admin = self.s.key(t, "admin")
        self.writer = self.s.key(t, "write")
        self.writer101 = self.s.key(t, "write", [101])
        self.reader = self.s.key(t, "read")

    def imp(self, text, query="?organisation=101", key=None, ctype="text/csv"):
        data = text.encode() if isinstance(text, str) else text
        return self.s.request("POST", "/group/bulkImportGroups" + query, key or self.writer,
                              raw=data, ctype=ctype)

    def ok(self, *args, **kw):
        r = self.imp(*args, **kw)
        self.assertEqual(r.status, 200, r)
        return r.json["imported"]

    def get(self, ext, key=None):
        return self.s.request("GET", f"/group/{ext}?external=true", key or self.admin)

    def feed_since(self, since):
        r = self.s.request("GET", f"/changes?since={since}&limit=1000", self.admin)
        return [(e["type"], e["id"]) for e in r.json["results"]], r.json["last"]

    def assertRowError(self, r, line, field, code="invalid_csv"):
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["errorCode"], code, r)
        hits = [c for c in r.json["context"] if c.get("line") == line and c["field"] == field]
        self.assertTrue(hits, r.json)
        return hits[0]

    def test_create_update_unchanged_and_archive_missing_with_the_feed(self):
        csv = ("externalId,name,description,type,schoolYear,importLock,importLockOwner\n"
               "K-1,Klas 1A,eerste,class,2025,false,\n"
               "K-2,Klas 1B,,class,,true,SIS\n"
               "K-3,Klas 1C,,,,,\n")
        _, since = self.feed_since(0)
        self.assertEqual(self.ok(csv), {"rows": 3, "created": 3, "updated": 0, "unchanged": 0,
                                        "archived": 0})
        g1 = self.get("K-1").json
        self.assertEqual((g1["name"], g1["description"], g1["type"], g1["schoolYear"],
                          g1["organisation"], g1["status"]),
                         ("Klas 1A", "eerste", "class", 2025, 101, "active"))
        g2 = self.get("K-2").json
        self.assertEqual((g2["importLock"], g2["importLockOwner"], g2["description"]),
                         (True, "SIS", None))
        got, since = self.feed_since(since)
        self.assertEqual(sorted(t for t, _ in got), ["group.created"] * 3)
        # The same file again: all unchanged, nothing in the feed.
        self.assertEqual(self.ok(csv)["unchanged"], 3)
        got, since2 = self.feed_since(since)
        self.assertEqual(got, [])
        # One change; an empty cell keeps the value.
        csv2 = "externalId,name,description\nK-1,Klas 1A,tweede\nK-3,,\n"
        self.assertEqual(self.ok(csv2), {"rows": 2, "created": 0, "updated": 1, "unchanged": 1,
                                         "archived": 0})
        self.assertEqual(self.get("K-1").json["description"], "tweede")
        self.assertEqual(self.get("K-1").json["type"], "class")
        got, since = self.feed_since(since2)
        self.assertEqual(got, [("group.updated", g1["id"])])
        # End of term: K-2 is missing from the file (and locked: an admin key may archive it).
        plain = self.s.request("POST", "/group?organisation=101", self.admin, {"name": "no ext"})
        self.assertEqual(plain.status, 200)
        r = self.imp(csv2, "?organisation=101&archiveMissing=true")
        self.assertEqual(r.status, 423, r)
        self.assertEqual(self.get("K-2").json["status"], "active")
        self.assertEqual(self.ok(csv2, "?organisation=101&archiveMissing=true", key=self.admin),
                         {"rows": 2, "created": 0, "updated": 0, "unchanged": 2, "archived": 1})
        self.assertEqual(self.get("K-2").json["status"], "archived")
        self.assertEqual(self.s.request("GET", f"/group/{plain.json['id']}", self.admin)
                         .json["status"], "active")
        got, _ = self.feed_since(since)
        self.assertEqual(got, [("group.created", plain.json["id"]), ("group.archived", g2["id"])])
        # An archived group is updated in place and stays archived.
        self.assertEqual(self.ok("externalId,name\nK-2,Klas 1B oud\n", key=self.admin)["updated"], 1)
        self.assertEqual(self.get("K-2").json["status"], "archived")
        self.assertEqual(self.s.groupctl("check", check=False).returncode, 0)

    def test_excel_style_file_and_multipart(self):
        csv = ('\ufeffExternalID;Name;SchoolYear\r\n"X;1";"Groep ""A""";2024\r\n'
               'X-2;"twee\r\nregels";\r\n')
        self.assertEqual(self.ok(csv.encode("utf-8"))["created"], 2)
        self.assertEqual(self.get("X;1").json["name"], 'Groep "A"')
        self.assertEqual(self.get("X-2").json["name"], "twee\r\nregels")
        body, ctype = multipart([("file", "g.csv", b"externalId,name\nM-1,Multi\n")])
        self.assertEqual(self.ok(body, ctype=ctype)["created"], 1)

    def test_organisation_column_default_and_scope(self):
        csv = "externalId,name,organisation\nO-1,a,102\nO-2,b,\n"
        self.assertEqual(self.ok(csv)["created"], 2)
        self.assertEqual(self.get("O-1").json["organisation"], 102)
        self.assertEqual(self.get("O-2").json["organisation"], 101)
        # No default: a new group without an organisation is a row error.
        r = self.imp("externalId,name\nO-3,c\n", query="")
        self.assertRowError(r, 2, "organisation")
        # A key restricted to one organisation needs none.
        self.assertEqual(self.ok("externalId,name\nO-4,d\n", query="", key=self.writer101)
                         ["created"], 1)
        # Outside the key: 403; the organisation of a group does not change.
        r = self.imp("externalId,name,organisation\nO-5,e,102\n", query="", key=self.writer101)
        self.assertEqual(r.status, 403, r)
        r = self.imp("externalId,name\nO-1,x\n", query="", key=self.writer101)
        self.assertRowError(r, 2, "externalId")
        r = self.imp("externalId,name,organisation\nO-1,x,101\n")
        self.assertRowError(r, 2, "organisation")
        self.assertEqual(self.imp("externalId,name\nO-9,z\n", "?organisation=999",
                                  key=self.writer101).status, 403)

    def test_bad_files_change_nothing(self):
        self.ok("externalId,name\nB-1,one\n")
        gone = self.ok("externalId,name\nB-del,x\n")
        gid = self.get("B-del").json["id"]
        self.assertEqual(self.s.request("DELETE", f"/group/{gid}", self.admin).status, 200)
        _, since = self.feed_since(0)
        cases = [
            ("name,type\nx,y\n", 1, "externalId"),
            ("externalId,name\nB-2," + "n" * 256 + "\n", 2, "name"),
            ("externalId,name,schoolYear\nB-3,x,abc\n", 2, "schoolYear"),
            ("externalId,name,importLock\nB-4,x,maybe\n", 2, "importLock"),
            ("externalId,name\nB-5,x\nB-6,y\nB-5,z\n", 4, "externalId"),
            ("externalId,name\nB-del,x\n", 2, "externalId"),
            ("externalId,name\nB-7,\n", 2, "name"),
            ("externalId,name\n,x\n", 2, "externalId"),
            ('externalId,name\nB-8,"x\n', 2, "record"),
        ]
        for csv, line, field in cases:
            hit = self.assertRowError(self.imp(csv + "B-1,changed\n" if line > 1 else csv),
                                      line, field)
            if field == "externalId" and "B-5" in csv:
                self.assertIn("line 2", hit["message"])
        self.assertEqual(self.get("B-1").json["name"], "one")
        self.assertEqual(self.feed_since(since)[0], [])
        r = self.imp("externalId,name\nB-9,x\n", "?organisation=101&archiveMissing=yes")
        self.assertEqual((r.status, r.json["errorCode"]), (400, "invalid_query"))
        self.assertEqual(self.imp("externalId\nB-9\n", key=self.reader).status, 403)
        self.assertEqual(self.imp("x", ctype="application/json").status, 415)
        self.assertEqual(self.get("B-9").status, 404)
        self.assertEqual(gone["created"], 1)

    def test_a_million_rows_with_one_bad_row_at_the_end_write_nothing(self):
        rows = [f"M{n},g{n}" for n in range(1_000_000)]
        rows.append("M-bad," + "n" * 300)
        csv = "externalId,name\n" + "\n".join(rows) + "\n"
        r = self.imp(csv)
        hit = self.assertRowError(r, 1_000_002, "name")
        self.assertTrue(hit["message"])
        self.assertEqual(self.get("M0").status, 404)

    def test_locks_need_an_admin_to_change_but_not_to_leave_alone(self):
        self.ok("externalId,name,importLock\nL-1,locked,true\n")
        self.assertEqual(self.ok("externalId,name\nL-1,locked\n")["unchanged"], 1)
        r = self.imp("externalId,name\nL-1,renamed\n")
        self.assertEqual((r.status, r.json["errorCode"]), (423, "locked"))
        self.assertEqual(self.get("L-1").json["name"], "locked")
        self.assertEqual(self.ok("externalId,name,importLock\nL-1,renamed,false\n", key=self.admin)
                         ["updated"], 1)

    def test_groupctl_import_groups_takes_the_same_path(self):
        path = os.path.join(self.s.dir, f"groups-{self.top}.csv")
        with open(path, "wb") as f:
            f.write("\ufeffexternalId;name\r\nC-1;\"Via groupctl\"\r\n".encode())
        r = self.s.groupctl("import-groups", path, "--top-organisation", str(self.top),
                            "--organisation", "101")
        self.assertIn('"created":1', r.stdout)
        g = self.get("C-1").json
        self.assertEqual((g["name"], g["createdBy"], g["organisation"]), ("Via groupctl", "groupctl", 101))
        with open(path, "w") as f:
            f.write("externalId,name\nC-1,\n")
        r = self.s.groupctl("import-groups", path, "--top-organisation", str(self.top),
                            "--archive-missing", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('"unchanged":1', r.stdout)
        with open(path, "w") as f:
            f.write("externalId,name,schoolYear\nC-2,x,abc\n")
        r = self.s.groupctl("import-groups", path, "--top-organisation", str(self.top),
                            "--organisation", "101", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("schoolYear", r.stderr)


if __name__ == "__main__":
    unittest.main()
