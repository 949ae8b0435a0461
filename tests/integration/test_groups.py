"""Integration tests: the groups API (API.md §1, §2, §4, §7) over real nginx."""
import threading
import unittest

from harness import Stack

J = "application/json"


class GroupsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Stack(workers=2, max_body=65536).start()
        s = cls.s
        cls.admin = s.key(100, "admin")
        cls.writer = s.key(100, "write", [101])          # exactly one organisation
        cls.writer_all = s.key(100, "write")              # every organisation of 100
        cls.reader = s.key(100, "read")
        cls.other = s.key(200, "admin")                   # another institution
        cls.revoked = s.key(100, "admin")
        key_id = "key-" + cls.revoked.split("_")[2]  # gdk_<top>_<id>_<secret>
        s.groupctl("key", "revoke", key_id)

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def create(self, body, key=None, org=101, expect=200):
        q = f"?organisation={org}" if org else ""
        r = self.s.request("POST", "/group" + q, key or self.admin, body)
        self.assertEqual(r.status, expect, r)
        return r.json

    def assertError(self, r, status, code):
        self.assertEqual(r.status, status, r)
        self.assertTrue(r.header("content-type").startswith("application/json"), r.headers)
        body = r.json
        self.assertEqual(body["status"], status)
        self.assertEqual(body["errorCode"], code, body)
        self.assertIsInstance(body["context"], list)
        self.assertTrue(body["userMessage"])
        return body

    # ---- service ----
    def test_health_needs_no_key(self):
        r = self.s.request("GET", "/health")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["status"], "ok")
        self.assertEqual(r.json["schemaVersion"], 5)
        self.assertEqual(r.header("content-type"), "application/json; charset=utf-8")

    # ---- create / get ----
    def test_create_and_get_by_id_and_external_id(self):
        g = self.create({"name": "  Groep voorbeeld ", "description": "Groep voorbeeld omschrijving",
                         "externalId": "abcd-1", "type": "class", "schoolYear": 2025,
                         "integrations": [{"type": "lti", "id": "course-v1:12"}], "unknown": 1})
        self.assertEqual(g["name"], "Groep voorbeeld")
        self.assertEqual(g["organisation"], 101)
        self.assertEqual(g["topOrganisation"], 100)
        self.assertEqual(g["status"], "active")
        self.assertEqual(g["createdBy"], "key-1")
        self.assertIsNone(g["modifiedBy"])
        self.assertEqual(g["createdAt"], g["updatedAt"])
        self.assertRegex(g["createdAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertRegex(g["key"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        self.assertEqual(g["participants"], [])
        self.assertEqual(g["events"], [])
        self.assertEqual(g["totalParticipants"], 0)
        by_id = self.s.request("GET", f"/group/{g['id']}", self.reader)
        by_ext = self.s.request("GET", "/group/abcd-1", self.reader, bearer=True)
        self.assertEqual(by_id.status, 200)
        self.assertEqual(by_id.json, g)
        self.assertEqual(by_ext.json, g)
        prefixed = self.s.request("GET", "/api/group/abcd-1", self.reader)
        self.assertEqual(prefixed.json, g)

    def test_create_defaults_organisation_only_for_single_org_keys(self):
        g = self.create({"name": "x"}, key=self.writer, org=None)
        self.assertEqual(g["organisation"], 101)
        r = self.s.request("POST", "/group", self.writer_all, {"name": "x"})
        body = self.assertError(r, 400, "invalid_query")
        self.assertEqual(body["context"][0]["field"], "organisation")

    def test_encoded_slash_in_external_id(self):
        g = self.create({"name": "slash", "externalId": "ext/12"})
        r = self.s.request("GET", "/group/ext%2F12", self.reader)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["id"], g["id"])
        r = self.s.request("GET", "/api/group/ext%2F12", self.reader)
        self.assertEqual(r.json["id"], g["id"])
        self.assertEqual(self.s.request("GET", "/group/ext/12", self.reader).status, 404)
        g2 = self.create({"name": "spaces", "externalId": "a b+c"})
        self.assertEqual(self.s.request("GET", "/group/a%20b%2Bc", self.reader).json["id"], g2["id"])

    def test_digits_name_an_id_first_then_an_external_id(self):
        a = self.create({"name": "a"})
        b = self.create({"name": "b", "externalId": str(a["id"])})
        c = self.create({"name": "c", "externalId": "987654321"})
        self.assertEqual(self.s.request("GET", f"/group/{a['id']}", self.reader).json["id"], a["id"])
        self.assertEqual(self.s.request("GET", f"/group/{a['id']}?external=true", self.reader).json["id"], b["id"])
        self.assertEqual(self.s.request("GET", "/group/987654321", self.reader).json["id"], c["id"])
        # An id of another tenant is not "in scope": the digits fall through to externalIds.
        o = self.s.request("POST", "/group?organisation=1", self.other, {"name": "o"}).json
        d = self.create({"name": "d", "externalId": str(o["id"])})
        self.assertEqual(self.s.request("GET", f"/group/{o['id']}", self.reader).json["id"], d["id"])

    # ---- update ----
    def test_update_is_partial_and_null_clears(self):
        g = self.create({"name": "u", "description": "d", "type": "course", "externalId": "upd-1"})
        r = self.s.request("PATCH", "/group/upd-1?updateEvaluations=true", self.writer_all,
                           {"description": None, "schoolYear": 2030})
        self.assertEqual(r.status, 200, r)
        u = r.json
        self.assertIsNone(u["description"])
        self.assertEqual(u["type"], "course")
        self.assertEqual(u["schoolYear"], 2030)
        self.assertEqual(u["modifiedBy"], "key-3")
        self.assertGreaterEqual(u["updatedAt"], g["updatedAt"])
        for method in ("POST", "PUT"):
            r = self.s.request(method, f"/group/{g['id']}", self.admin, {"name": method})
            self.assertEqual(r.json["name"], method)
        r = self.s.request("PUT", f"/group/{g['id']}", self.admin, {"name": None})
        self.assertError(r, 400, "validation_failed")
        self.assertEqual(self.s.request("GET", f"/group/{g['id']}", self.admin).json["name"], "PUT")

    def test_external_id_conflict_names_the_holder(self):
        a = self.create({"name": "a", "externalId": "dup-1"})
        r = self.s.request("POST", "/group?organisation=101", self.admin, {"name": "b", "externalId": "dup-1"})
        body = self.assertError(r, 409, "conflict")
        self.assertEqual(body["context"][0]["id"], a["id"])
        self.assertEqual(body["context"][0]["status"], "active")
        # Another institution may use the same externalId.
        self.assertEqual(self.s.request("POST", "/group?organisation=1", self.other,
                                        {"name": "b", "externalId": "dup-1"}).status, 200)
        # A deleted group keeps its externalId until purged.
        self.s.request("DELETE", "/group/dup-1", self.admin)
        body = self.assertError(self.s.request("POST", "/group?organisation=101", self.admin,
                                               {"name": "c", "externalId": "dup-1"}), 409, "conflict")
        self.assertEqual(body["context"][0]["status"], "deleted")
        r = self.s.request("DELETE", f"/group/{a['id']}?purge=true", self.admin)
        self.assertEqual(r.json, {"purged": {"id": str(a["id"])}})
        self.create({"name": "c", "externalId": "dup-1"})

    # ---- delete / archive ----
    def test_soft_delete_undo_and_purge(self):
        g = self.create({"name": "del", "externalId": "del-1"})
        r = self.s.request("DELETE", "/group/del-1", self.writer_all)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["status"], "deleted")
        self.assertTrue(r.json["deleted"])
        self.assertEqual(self.s.request("DELETE", "/group/del-1", self.writer_all).status, 200)  # no-op
        self.assertEqual(self.s.request("GET", "/group/del-1", self.reader).status, 404)
        self.assertEqual(self.s.request("GET", "/group/del-1?status=deleted", self.reader).json["id"], g["id"])
        self.assertEqual(self.s.request("POST", "/group/del-1", self.admin, {"name": "x"}).status, 404)
        self.assertEqual(self.s.request("POST", "/group/del-1/archive", self.admin).status, 404)
        r = self.s.request("DELETE", "/group/del-1?undo=true", self.writer_all)
        self.assertEqual(r.json["status"], "active")
        self.assertError(self.s.request("DELETE", "/group/del-1?purge=true", self.writer_all), 403, "forbidden")
        self.assertEqual(self.s.request("DELETE", "/group/del-1?purge=true", self.admin).status, 200)
        self.assertEqual(self.s.request("GET", f"/group/{g['id']}?status=deleted", self.admin).status, 404)
        self.assertError(self.s.request("DELETE", "/group/del-1?purge=maybe", self.admin), 400, "invalid_query")

    def test_archive_and_undo(self):
        g = self.create({"name": "arch"})
        r = self.s.request("POST", f"/group/{g['id']}/archive", self.writer_all)
        self.assertEqual(r.json["status"], "archived")
        self.assertTrue(r.json["archived"])
        self.assertEqual(self.s.request("GET", f"/group/{g['id']}", self.reader).json["status"], "archived")
        r = self.s.request("POST", f"/group/{g['id']}/archive?undo=true", self.writer_all)
        self.assertEqual(r.json["status"], "active")
        self.assertError(self.s.request("GET", f"/group/{g['id']}/archive", self.reader), 405, "method_not_allowed")

    def test_import_lock(self):
        g = self.create({"name": "lock", "importLock": True, "importLockOwner": "SIS"}, key=self.writer_all)
        self.assertTrue(g["importLock"])
        self.assertEqual(g["importLockOwner"], "SIS")
        for method, path, body in (("POST", f"/group/{g['id']}", {"name": "x"}),
                                   ("DELETE", f"/group/{g['id']}", None),
                                   ("POST", f"/group/{g['id']}/archive", None)):
            self.assertError(self.s.request(method, path, self.writer_all, body), 423, "locked")
        r = self.s.request("POST", f"/group/{g['id']}", self.admin, {"importLock": False})
        self.assertFalse(r.json["importLock"])
        self.assertEqual(self.s.request("POST", f"/group/{g['id']}", self.writer_all, {"name": "y"}).status, 200)

    # ---- errors ----
    def test_every_error_status(self):
        self.assertError(self.s.request("GET", "/nothing-here", self.admin), 404, "not_found")
        r = self.s.request("PATCH", "/group", self.admin, {})
        self.assertError(r, 405, "method_not_allowed")
        self.assertEqual(r.header("allow"), "GET, HEAD, POST")
        # HEAD is GET without the body: the same status and headers.
        g = self.s.request("GET", "/group", self.admin)
        h = self.s.request("HEAD", "/group", self.admin)
        self.assertEqual((h.status, h.body, h.header("etag")), (200, "", g.header("etag")))
        self.assertEqual(self.s.request("HEAD", "/group").status, 401)
        self.assertError(self.s.request("GET", "/group"), 401, "unauthenticated")
        self.assertError(self.s.request("GET", "/group", "gdk_1_nope"), 401, "unauthenticated")
        self.assertError(self.s.request("GET", "/group", self.revoked), 401, "unauthenticated")
        # An empty api-key header is no key: the Bearer token is used, or the key is missing.
        empty = {"api-key": ""}
        self.assertEqual(self.s.request("GET", "/group", self.reader, headers=empty, bearer=True).status, 200)
        r = self.s.request("GET", "/group", headers=empty)
        self.assertError(r, 401, "unauthenticated")
        self.assertIn("required", r.json["userMessage"])
        self.assertError(self.s.request("POST", "/group?organisation=101", self.reader, {"name": "x"}), 403, "forbidden")
        self.assertError(self.s.request("POST", "/group?organisation=101", self.admin, raw=b"{" + b" " * 70000 + b"}",
                                        ctype=J), 413, "payload_too_large")
        self.assertError(self.s.request("POST", "/group?organisation=101", self.admin, raw=b"name=x",
                                        ctype="application/x-www-form-urlencoded"), 415, "unsupported_media_type")
        self.assertError(self.s.request("GET", "/group/424242", self.admin), 404, "not_found")
        self.assertError(self.s.request("POST", "/group?organisation=102", self.writer, {"name": "x"}), 403, "forbidden")

    def test_bad_input_is_400_and_changes_nothing(self):
        before = self.s.request("GET", "/group?limit=0&status=active,archived,deleted", self.admin).json["metadata"]["resultSet"]["count"]
        cases = [
            (b'{"name": "x"', "invalid_json"),
            (b"{'name': 'x'}", "invalid_json"),
            (b'["name"]', "invalid_json"),
            (b'{"name": 5}', "validation_failed"),
            (b'{"name": ""}', "validation_failed"),
            (b'{"name": "   "}', "validation_failed"),
            (('{"name": "%s"}' % ("n" * 256)).encode(), "validation_failed"),
            (b'{"name": "a\xff"}', "invalid_json"),
            (b'{"name": "a\\u0000b"}', "validation_failed"),
            (b'{"name": "a\\ud800"}', "validation_failed"),
            (b'{"name": "x", "schoolYear": 2025.0}', "validation_failed"),
            (b'{"name": "x", "schoolYear": 1e3}', "validation_failed"),
            (b'{"name": "x", "importLock": "true"}', "validation_failed"),
            (b'{"name": "x", "integrations": {}}', "validation_failed"),
            (b'{"name": "x", "externalId": "a\\nb"}', "validation_failed"),
            (b'{"a":' + b"[" * 100 + b"]" * 100 + b"}", "invalid_json"),
            (b"", "invalid_json"),
        ]
        for raw, code in cases:
            with self.subTest(raw=raw[:40]):
                r = self.s.request("POST", "/group?organisation=101", self.admin, raw=raw, ctype=J)
                self.assertError(r, 400, code)
        # All problems are reported at once.
        r = self.s.request("POST", "/group?organisation=101", self.admin,
                           {"name": "", "schoolYear": 1, "type": "t" * 65, "description": 3})
        body = self.assertError(r, 400, "validation_failed")
        self.assertEqual(sorted(c["field"] for c in body["context"]), ["description", "name", "schoolYear", "type"])
        after = self.s.request("GET", "/group?limit=0&status=active,archived,deleted", self.admin).json["metadata"]["resultSet"]["count"]
        self.assertEqual(before, after)

    # ---- tenancy ----
    def test_tenant_isolation(self):
        g = self.create({"name": "mine", "externalId": "tenant-1"})
        for method, path in (("GET", f"/group/{g['id']}"), ("GET", "/group/tenant-1"),
                             ("POST", f"/group/{g['id']}/archive"), ("DELETE", f"/group/{g['id']}?purge=true")):
            self.assertError(self.s.request(method, path, self.other), 404, "not_found")
        listed = self.s.request("GET", "/group?limit=0", self.other).json["results"]
        self.assertNotIn(g["id"], [x["id"] for x in listed])
        # Same institution, organisation outside a restricted key's scope: the
        # group does not exist for it (404), however it is named; an
        # organisation parameter outside the scope stays 403.
        h = self.create({"name": "theirs", "externalId": "theirs-1"}, org=102)
        for method, path in (("GET", f"/group/{h['id']}"), ("GET", "/group/theirs-1"),
                             ("POST", f"/group/{h['id']}"), ("DELETE", f"/group/{h['id']}"),
                             ("GET", f"/group/{h['id']}/participant"),
                             ("GET", f"/group/{h['id']}/event")):
            body = {"name": "x"} if method == "POST" else None
            self.assertError(self.s.request(method, path, self.writer, body), 404, "not_found")
        self.assertError(self.s.request("GET", "/group?organisation=102", self.writer), 403, "forbidden")
        ids = [x["id"] for x in self.s.request("GET", "/group?limit=0", self.writer).json["results"]]
        self.assertNotIn(h["id"], ids)


class ListTest(unittest.TestCase):
    """Lists run on their own institution (top 300) so counts are exact."""

    @classmethod
    def setUpClass(cls):
        cls.s = Stack(workers=2).start()
        cls.key = cls.s.key(300, "admin")
        names = ["banaan", "Appel", "Éclair", "citroen", "appel", "Zebra", "durian"]
        cls.groups = []
        for i, n in enumerate(names):
            r = cls.s.request("POST", f"/group?organisation={301 + i % 2}", cls.key,
                              {"name": n, "externalId": f"L-{7 - i}", "schoolYear": 2020 + i % 3})
            cls.groups.append(r.json)
        cls.s.request("POST", f"/group/{cls.groups[1]['id']}/archive", cls.key)
        cls.s.request("DELETE", f"/group/{cls.groups[2]['id']}", cls.key)

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def list(self, query=""):
        r = self.s.request("GET", "/group" + query, self.key)
        self.assertEqual(r.status, 200, r)
        return r.json

    def names(self, query):
        return [g["name"] for g in self.list(query)["results"]]

    def test_envelope_and_default_status(self):
        body = self.list()
        meta = body["metadata"]
        self.assertEqual(meta["resultSet"], {"count": 5, "limit": 30, "skip": 0})
        self.assertRegex(meta["timestamp"], r"Z$")
        self.assertNotIn("participants", body["results"][0])
        self.assertEqual([g["status"] for g in body["results"]], ["active"] * 5)

    def test_status_and_archived_filters(self):
        self.assertEqual(self.names("?status=archived"), ["Appel"])
        self.assertEqual(self.names("?archived=true"), ["Appel"])
        self.assertEqual(len(self.names("?archived=false")), 5)
        self.assertEqual(len(self.names("?status=active,archived&status=deleted")), 7)
        self.assertEqual(self.list("?status=deleted")["metadata"]["resultSet"]["count"], 1)
        for bad in ("?status=bogus", "?archived=true&status=active", "?archived=maybe"):
            r = self.s.request("GET", "/group" + bad, self.key)
            self.assertEqual(r.status, 400, bad)
            self.assertEqual(r.json["errorCode"], "invalid_query")

    def test_sorts(self):
        self.assertEqual(self.names("?sort=name&status=active,archived,deleted"),
                         ["Appel", "appel", "banaan", "citroen", "durian", "Éclair", "Zebra"])
        self.assertEqual(self.names("?sort=-name"), ["Zebra", "durian", "citroen", "banaan", "appel"])
        ids = [g["id"] for g in self.list("?sort=-id")["results"]]
        self.assertEqual(ids, sorted(ids, reverse=True))
        ext = [g["externalId"] for g in self.list("?sort=externalId")["results"]]
        self.assertEqual(ext, sorted(ext))
        self.assertEqual(len(self.names("?sort=createdAt")), 5)
        r = self.s.request("GET", "/group?sort=colour", self.key)
        self.assertEqual(r.status, 400)

    def test_ties_break_by_id_ascending(self):
        # Groups created in the same millisecond share createdAt; ids decide.
        for direction in ("createdAt", "-createdAt", "updatedAt"):
            res = self.list("?sort=" + direction + "&limit=0")["results"]
            key = direction.lstrip("-")
            for a, b in zip(res, res[1:]):
                if a[key] == b[key]:
                    self.assertLess(a["id"], b["id"], direction)

    def test_paging(self):
        all_ids = [g["id"] for g in self.list("?limit=0")["results"]]
        self.assertEqual(len(all_ids), 5)
        page = self.list("?limit=2&skip=2")
        self.assertEqual([g["id"] for g in page["results"]], all_ids[2:4])
        self.assertEqual(page["metadata"]["resultSet"], {"count": 5, "limit": 2, "skip": 2})
        page = self.list("?page=3&pageSize=2")
        self.assertEqual([g["id"] for g in page["results"]], all_ids[4:])
        self.assertEqual(page["metadata"]["resultSet"], {"count": 5, "limit": 2, "skip": 4})
        past = self.list("?skip=50")
        self.assertEqual(past["results"], [])
        self.assertEqual(past["metadata"]["resultSet"]["count"], 5)
        for bad in ("?limit=1001", "?limit=-1", "?limit=x", "?skip=-3", "?page=1&limit=2",
                    "?pageSize=0", "?page=0", "?limit=1000000"):
            r = self.s.request("GET", "/group" + bad, self.key)
            self.assertEqual(r.status, 400, bad)

    def test_filters(self):
        self.assertEqual(self.names("?organisation=302&sort=name"), ["citroen", "Zebra"])
        orgs = {g["organisation"] for g in self.list("?organisation=301")["results"]}
        self.assertEqual(orgs, {301})
        self.assertEqual(self.names("?externalId=L-7"), ["banaan"])
        self.assertEqual(self.names("?externalId=l-7"), [])
        years = {g["schoolYear"] for g in self.list("?schoolYear=2021")["results"]}
        self.assertEqual(years, {2021})

    def test_limit_zero_streams_everything(self):
        s = self.s
        key = s.key(399, "admin")  # its own institution: the other tests count theirs
        for i in range(400):
            s.request("POST", "/group?organisation=1", key,
                      {"name": f"bulk {i}", "description": "x" * 200})
        body = s.request("GET", "/group?limit=0", key).json
        self.assertEqual(len(body["results"]), 400)
        self.assertEqual(body["metadata"]["resultSet"]["count"], 400)
        self.assertEqual(body["metadata"]["resultSet"]["limit"], 0)


class Fd0Test(unittest.TestCase):
    """groupd without --listen serves the socket it is handed on fd 0."""

    def test_fd0_mode(self):
        s = Stack(workers=1)
        try:
            s.start()
            s.start_fd0()
            key = s.key(100, "write", [101])
            r = s.request("POST", "/fd0/group", key, {"name": "via fd 0", "externalId": "x/y"})
            self.assertEqual(r.status, 200, r)
            r = s.request("GET", "/fd0/group/x%2Fy", key)
            self.assertEqual(r.json["name"], "via fd 0")
            # The same database, served by the master/worker groupd too.
            self.assertEqual(s.request("GET", "/group/x%2Fy", key).json["name"], "via fd 0")
            s.fd0.send_signal(15)
            self.assertEqual(s.fd0.wait(timeout=10), 0)
        finally:
            s.stop()


if __name__ == "__main__":
    unittest.main()
