"""Integration tests: POST /group/bulkImportOneRoster and groupctl oneroster-import (API.md §5).

Every export is built here from the OneRoster 1.1 / 1.2 CSV binding (oneroster_export.py).
"""
import io
import os
import unittest
import zipfile

from harness import Stack, workers
from oneroster_export import Export, make_zip, manifest, rows_to_csv, small_export, COLUMNS
from test_participants import multipart


def forge_size(zip_bytes, name, size):
    """The zip with entry name's uncompressed size set to size in its local header and in the
    central directory (a zip bomb that lies about what it inflates to)."""
    import struct
    body = bytearray(zip_bytes)
    for sig, name_at, size_at in ((b"PK\x03\x04", 26, 22), (b"PK\x01\x02", 28, 24)):
        i = body.find(sig)
        while i >= 0:
            n = struct.unpack_from("<H", body, i + name_at)[0]
            start = i + (30 if sig == b"PK\x03\x04" else 46)
            if bytes(body[start:start + n]) == name.encode():
                struct.pack_into("<I", body, i + size_at, size)
            i = body.find(sig, i + 4)
    return bytes(body)


class OneRosterTest(unittest.TestCase):
    top = 900

    @classmethod
    def setUpClass(cls):
        cls.s = Stack(workers=2).start()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def setUp(self):
        OneRosterTest.top += 1
        t = self.top
        self.admin = self.s.key(t, "admin")
        self.writer = self.s.key(t, "write")
        self.reader = self.s.key(t, "read")

    def post(self, body, query="?organisation=101", key=None, ctype="application/zip"):
        return self.s.request("POST", "/group/bulkImportOneRoster" + query, key or self.writer,
                              raw=body, ctype=ctype)

    def ok(self, body, query="?organisation=101", key=None):
        r = self.post(body, query, key)
        self.assertEqual(r.status, 200, r)
        return r.json

    def group(self, ext):
        r = self.s.request("GET", f"/group/{ext}?external=true", self.admin)
        return r.json if r.status == 200 else None

    def members(self, ext):
        g = self.group(ext)
        return sorted((p["externalId"], p["email"], p["name"], [l["name"] for l in p["labels"]])
                      for p in g["participants"])

    def bad(self, body, field=None, file=None, line=None, status=400, code="invalid_csv", query="?organisation=101"):
        r = self.post(body, query)
        self.assertEqual((r.status, r.json["errorCode"]), (status, code), r)
        if field or file or line:
            hits = [c for c in r.json["context"]
                    if (field is None or c["field"] == field) and (file is None or c.get("file") == file)
                    and (line is None or c.get("line") == line)]
            self.assertTrue(hits, r.json)
        return r

    def assertNothingWritten(self):
        r = self.s.request("GET", "/group?limit=0", self.admin)
        self.assertEqual(r.json["results"], [])

    # ---- what an export becomes ----

    def test_a_bulk_1_2_export_becomes_groups_and_participants_and_again_changes_nothing(self):
        self.assertEqual(self.post(small_export().to_zip(), key=self.reader).status, 403)
        since = self.s.request("GET", "/changes?since=0&limit=1", self.admin).json["last"]
        out = self.ok(small_export().to_zip())
        self.assertEqual(out["imported"], {
            "version": "1.2", "groups": {"created": 2, "updated": 0, "unchanged": 0, "archived": 0},
            "participants": {"created": 4, "updated": 0, "unchanged": 0, "removed": 0}, "skipped": 0})
        self.assertEqual(out["skipped"], [])
        g = self.group("cls-2")
        self.assertEqual((g["name"], g["description"], g["type"], g["schoolYear"], g["organisation"]),
                         ("Maths 1B", "Mathematics", "homeroom", 2026, 101))
        self.assertEqual(g["integrations"], [{"type": "oneroster", "id": "cls-2"}])
        self.assertEqual(self.members("cls-1"), [("u-1", "ada@example.org", "Ada Lovelace", []),
                                                 ("u-2", "alan@example.org", "Alan Turing", [])])
        feed = self.s.request("GET", f"/changes?since={since}&limit=1000", self.admin).json["results"]
        types = sorted(e["type"] for e in feed)
        self.assertEqual(types.count("group.created"), 2)
        self.assertEqual(types.count("participant.added"), 4)
        again = self.ok(small_export().to_zip())["imported"]
        self.assertEqual(again["groups"], {"created": 0, "updated": 0, "unchanged": 2, "archived": 0})
        self.assertEqual(again["participants"], {"created": 0, "updated": 0, "unchanged": 4, "removed": 0})
        self.assertEqual(self.s.groupctl("check").returncode, 0)

    def test_a_1_1_export_in_a_folder_with_teachers_as_labels(self):
        body = small_export("1.1").to_zip(folder="export-2026-12-07/")
        out = self.ok(body, "?organisation=101&roles=student,teacher")
        self.assertEqual(out["imported"]["version"], "1.1")
        self.assertEqual(out["imported"]["participants"]["created"], 5)
        self.assertIn(("u-9", "tim@example.org", "Tim Teacher", ["teacher"]), self.members("cls-1"))
        r = self.post(body, "?organisation=101&roles=student,janitor")
        self.assertEqual((r.status, r.json["errorCode"]), (400, "invalid_query"))

    def test_multipart_upload_and_groupctl_from_a_directory(self):
        body, ctype = multipart([("file", "roster.zip", small_export().to_zip())])
        r = self.post(body, ctype=ctype)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["imported"]["groups"]["created"], 2)
        d = os.path.join(self.s.dir, f"export-{self.top}")
        os.makedirs(d)
        x = small_export()
        x.klass("cls-3", "Maths 1C", course="c-1")
        x.enroll("e-6", "cls-3", "u-1")
        for name, data in x.files().items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        r = self.s.groupctl("oneroster-import", d, "--top-organisation", str(self.top),
                            "--organisation", "101")
        self.assertIn('"created":1', r.stdout)
        self.assertEqual(self.group("cls-3")["createdBy"], "groupctl")

    def test_real_exports_are_not_clean(self):
        x = Export("1.2")
        x.term("t-1", 2025)
        x.term("t-2", 2026)
        x.klass("cls-1", 'Maths, "advanced"\nsecond line', terms="t-2,t-1")
        x.user("u-1", "Hanako", "Yamada", "hanako@example.jp", preferredGivenName="花子",
               preferredFamilyName="山田", **{"metadata.district.house": "Oak"})
        x.user("u-2", "Zoë", "Brontë", "zoe@example.org")
        x.user("u-3", "No", "Mail", "")
        x.user("u-4", "Dis", "Abled", "dis@example.org", enabled="FALSE")
        x.enroll("e-1", "cls-1", "u-1", beginDate="2025-08-15")
        x.enroll("e-2", "cls-1", "u-1", beginDate="2026-01-10")  # once per term: one participant
        x.enroll("e-3", "cls-1", "u-2")
        x.enroll("e-4", "cls-1", "u-3")
        x.enroll("e-5", "cls-1", "u-4")
        files = x.files()
        # A BOM, header names in another case, a trailing empty field beyond the header.
        enr = files["enrollments.csv"].decode().split("\r\n")
        enr[0] = enr[0].upper().replace("SOURCEDID", "SourcedId")
        enr[1] += ","
        files["enrollments.csv"] = ("\ufeff" + "\r\n".join(enr)).encode()
        out = self.ok(make_zip(files))
        self.assertEqual(out["imported"]["participants"]["created"], 2)
        self.assertEqual(out["imported"]["skipped"], 2)
        self.assertEqual(sorted(s["message"] for s in out["skipped"]),
                         ["user u-3 has no email", "user u-4 is disabled"])
        self.assertEqual({s["file"] for s in out["skipped"]}, {"enrollments.csv"})
        g = self.group("cls-1")
        self.assertEqual((g["name"], g["schoolYear"]), ('Maths, "advanced"\nsecond line', 2026))
        self.assertEqual(self.members("cls-1"), [("u-1", "hanako@example.jp", "花子 山田", []),
                                                 ("u-2", "zoe@example.org", "Zoë Brontë", [])])
        # Without a manifest: OneRoster 1.0, every file bulk.
        y = small_export("1.1")
        out = self.ok(y.to_zip(with_manifest=False))
        self.assertEqual(out["imported"]["version"], "1.0")

    def test_deltas_add_remove_and_archive(self):
        self.ok(small_export().to_zip(), "?organisation=101&roles=student,teacher")
        d = Export("1.2")
        d.modes = {"enrollments": "delta", "users": "delta", "classes": "delta"}
        d.user("u-5", "New", "Student", "new@example.org")
        d.user("u-4", "Edsger", "Dijkstra", "edsger@example.org", status="tobedeleted",
               dateLastModified="2026-12-07T10:00:00.000Z")
        d.enroll("e-7", "cls-1", "u-5", dateLastModified="2026-12-07T10:00:00.000Z", status="active")
        d.enroll("e-3", "cls-2", "u-3", status="tobedeleted", dateLastModified="2026-12-07T10:00:00.000Z")
        d.enroll("e-8", "cls-1", "u-3", status="active")  # u-3 not in this users.csv: imported before
        d.klass("cls-9", "Gone", status="tobedeleted")
        out = self.ok(d.to_zip(), "?organisation=101&roles=student,teacher")["imported"]
        self.assertEqual(out["participants"]["created"], 2)
        self.assertEqual(out["participants"]["removed"], 2)  # e-3, and u-4 from cls-2
        self.assertEqual([m[0] for m in self.members("cls-1")], ["u-1", "u-2", "u-3", "u-5", "u-9"])
        self.assertEqual(self.members("cls-2"), [])
        # A delta that deletes a class archives its group.
        d = Export("1.2")
        d.modes = {"classes": "delta"}
        d.klass("cls-2", "Maths 1B", status="tobedeleted")
        self.assertEqual(self.ok(d.to_zip())["imported"]["groups"]["archived"], 1)
        self.assertEqual(self.group("cls-2")["status"], "archived")
        # archiveMissing: a bulk classes file without cls-1 archives its group.
        x = Export("1.2")
        x.term("t-1", 2026)
        x.klass("cls-4", "New class")
        out = self.ok(x.to_zip(), "?organisation=101&archiveMissing=true")["imported"]
        self.assertEqual((out["groups"]["created"], out["groups"]["archived"]), (1, 1))
        self.assertEqual(self.group("cls-1")["status"], "archived")
        self.assertEqual(self.s.groupctl("check").returncode, 0)

    def test_a_tobedeleted_user_in_a_bulk_file_counts_as_absent(self):
        self.ok(small_export().to_zip())
        x = small_export()
        # u-2 is marked tobedeleted in this bulk users.csv, but still enrolled in cls-1: the
        # row counts as absent, so u-2 is the participant imported before, and stays.
        for u in x.rows["users.csv"]:
            if u["sourcedId"] == "u-2":
                u["status"] = "tobedeleted"
        out = self.ok(x.to_zip())["imported"]
        self.assertEqual(out["participants"]["removed"], 0)
        self.assertIn("u-2", [m[0] for m in self.members("cls-1")])
        # An enrollment of a user neither in the file (as active) nor imported before is refused.
        x.enroll("e-9", "cls-1", "u-404")
        r = self.bad(x.to_zip(), field="userSourcedId", file="enrollments.csv")
        self.assertIn("u-404", r.json["userMessage"])

    def test_schools_split_a_district_export(self):
        x = small_export()
        x.klass("cls-7", "Other school", school="sch-2")
        x.enroll("e-9", "cls-7", "u-1", school="sch-2")
        out = self.ok(x.to_zip(), "?organisation=101&school=sch-2")["imported"]
        self.assertEqual((out["groups"]["created"], out["participants"]["created"]), (1, 1))
        self.assertIsNone(self.group("cls-1"))

    def test_locks_need_an_admin(self):
        out = self.ok(small_export().to_zip(), "?organisation=101&lock=true")
        g = self.group("cls-1")
        self.assertEqual((g["importLock"], g["importLockOwner"]), (True, "Test SIS"))
        self.assertEqual(out["imported"]["groups"]["created"], 2)
        # Unchanged: fine; a change with a write key: 423; an admin key: fine.
        self.ok(small_export().to_zip(), "?organisation=101&lock=true")
        x = small_export()
        x.enroll("e-6", "cls-1", "u-3")
        r = self.post(x.to_zip(), "?organisation=101&lock=true")
        self.assertEqual((r.status, r.json["errorCode"]), (423, "locked"))
        self.assertEqual(len(self.members("cls-1")), 2)
        self.ok(x.to_zip(), "?organisation=101&lock=true", key=self.admin)
        self.assertEqual(len(self.members("cls-1")), 3)

    # ---- bad input: a clear 4xx, nothing written ----

    def test_bodies_that_are_not_a_usable_zip(self):
        self.assertEqual(self.post(b"x", ctype="text/csv").status, 415)
        good = small_export().to_zip()
        self.bad(b"PK\x03\x04 this is not a zip at all" * 10, field="file")
        self.bad(good[: len(good) // 2], field="file")
        self.bad(make_zip({}), field="classes.csv")
        self.bad(b"", field="file")
        self.assertNothingWritten()

    def test_a_manifest_that_cannot_be_followed(self):
        files = small_export().files()
        files["manifest.csv"] = files["manifest.csv"].replace(b"oneroster.version,1.2", b"oneroster.version,9.9")
        self.bad(make_zip(files), field="oneroster.version", file="manifest.csv")
        files = small_export().files()
        del files["classes.csv"]
        self.bad(make_zip(files), field="file.classes", file="manifest.csv")
        self.assertNothingWritten()

    def test_entry_names_that_leave_the_export_or_repeat(self):
        files = small_export().files()
        for evil in ("../users.csv", "/etc/users.csv"):
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as z:
                for n, d in files.items():
                    z.writestr(n, d)
                z.writestr(evil, b"x")
            r = self.bad(buf.getvalue(), field="file")
            self.assertIn("leaves the export", r.json["userMessage"])
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for n, d in files.items():
                z.writestr(n, d)
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                z.writestr("users.csv", files["users.csv"])
        r = self.bad(buf.getvalue(), field="file")
        self.assertIn("two entries", r.json["userMessage"])
        self.assertNothingWritten()

    def test_a_zip_bomb_is_413_before_it_is_inflated_and_the_worker_lives(self):
        s = Stack(workers=2, max_body=1 << 20).start()  # the bound: 16 MiB inflated
        try:
            key = s.key(1, "write")
            before = workers(s.groupd.pid)
            files = small_export().files()
            files["users.csv"] = files["users.csv"] + b"\n" * (80 << 20)
            body = make_zip(files)
            self.assertLess(len(body), 1 << 20)
            r = s.request("POST", "/group/bulkImportOneRoster?organisation=101", key, raw=body,
                          ctype="application/zip")
            self.assertEqual((r.status, r.json["errorCode"]), (413, "payload_too_large"), r)
            self.assertIn("16777216", r.json["userMessage"])
            # A forged header (users.csv says 1,000 bytes, holds 40 MiB) is stopped by the
            # read loop at the bound, not by the declaration.
            forged = forge_size(make_zip(dict(files, **{"users.csv": b"\n" * (40 << 20)})),
                                "users.csv", 1000)
            r = s.request("POST", "/group/bulkImportOneRoster?organisation=101", key, raw=forged,
                          ctype="application/zip")
            self.assertEqual((r.status, r.json["errorCode"]), (413, "payload_too_large"), r)
            self.assertEqual(workers(s.groupd.pid), before)
            # The worker's peak memory stayed near the bound, not near the 80 MiB.
            for pid in before:
                with open(f"/proc/{pid}/status") as f:
                    hwm = [l for l in f if l.startswith("VmHWM")][0]
                self.assertLess(int(hwm.split()[1]), 200 * 1024, hwm)
            self.assertEqual(s.request("GET", "/group?limit=0", key).json["results"], [])
        finally:
            s.stop()

    def test_files_that_are_not_clean_text(self):
        files = small_export().files()
        files["users.csv"] = files["users.csv"].replace(b"Alan", b"Al\x00n")
        self.bad(make_zip(files), field="file", file="users.csv", line=3)
        files = small_export().files()
        files["users.csv"] = files["users.csv"].replace(b"Alan", b"Al\xffn")
        self.bad(make_zip(files), field="file", file="users.csv", line=3)
        self.assertNothingWritten()

    def test_rows_that_are_wrong(self):
        x = small_export()
        cols = [c for c in COLUMNS["1.2"]["enrollments.csv"] if c != "userSourcedId"]
        files = x.files()
        files["enrollments.csv"] = rows_to_csv(cols, x.rows["enrollments.csv"])
        self.bad(make_zip(files), field="userSourcedId", file="enrollments.csv", line=1)
        x = small_export()
        x.user("u-2", "Again", "Twice", "again@example.org")
        self.bad(x.to_zip(), field="sourcedId", file="users.csv", line=7)
        x = small_export()
        x.enroll("e-6", "cls-404", "u-1")
        x.enroll("e-7", "cls-1", "u-404")
        x.enroll("e-8", "cls-1", "u-3", role="janitor")
        x.user("u-7", "Bad", "Mail", "not-an-email")
        x.enroll("e-9", "cls-1", "u-7")
        r = self.bad(x.to_zip())
        got = {(c.get("file"), c.get("line"), c["field"]) for c in r.json["context"]}
        self.assertLessEqual({("enrollments.csv", 7, "classSourcedId"),
                              ("enrollments.csv", 8, "userSourcedId"),
                              ("enrollments.csv", 9, "role"),
                              ("users.csv", 7, "email")}, got)
        d = Export("1.2")
        d.modes = {"enrollments": "delta"}
        d.enroll("e-1", "cls-1", "u-1", status="maybe")
        self.bad(d.to_zip(), field="status", file="enrollments.csv", line=2)
        self.assertNothingWritten()

    def test_a_million_enrollments_with_one_bad_row_at_the_end(self):
        x = Export("1.2")
        x.term("t-1", 2026)
        x.klass("cls-1", "Big")
        x.user("u-1", "A", "B", "a@example.org")
        cols = COLUMNS["1.2"]["enrollments.csv"]
        head = ",".join(cols) + "\n"
        row = "e-{0},,,cls-1,sch-1,u-1,student,,,\n"
        body = head + "".join(row.format(i) for i in range(1_000_000)) + "e-bad,,,cls-1,sch-1,u-1,janitor,,,\n"
        files = x.files()
        files["enrollments.csv"] = body.encode()
        files["manifest.csv"] = manifest("1.2", {"classes": "bulk", "users": "bulk", "enrollments": "bulk",
                                                 "academicSessions": "bulk"})
        r = self.bad(make_zip(files), field="role", file="enrollments.csv", line=1_000_002)
        self.assertIn("enrollments.csv line 1000002", r.json["userMessage"])
        self.assertNothingWritten()


if __name__ == "__main__":
    unittest.main()
