"""Integration tests: events (API.md §3 Event, §6) over real nginx."""
import unittest

from harness import Stack

GOOD = {"title": "Werkcollege", "day": "Wednesday", "startTime": "9:30", "endTime": "11:30",
        "weeks": [14, 8, 9, 8], "tutors": ["esunxx", "esudfs"], "location": "CS1.04"}


class EventsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Stack(workers=2).start()
        s = cls.s
        cls.admin = s.key(100, "admin")
        cls.writer = s.key(100, "write")
        cls.writer101 = s.key(100, "write", [101])
        cls.reader = s.key(100, "read")
        cls.other = s.key(200, "admin")
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def req(self, method, path, body=None, key=None, **kw):
        return self.s.request(method, path, key or self.writer, body, **kw)

    def group(self, org=101, **fields):
        EventsTest.n += 1
        body = {"name": f"g{self.n}", "externalId": f"ev-{self.n}", **fields}
        r = self.req("POST", f"/group?organisation={org}", body, key=self.admin)
        self.assertEqual(r.status, 200, r)
        return r.json

    def assertError(self, r, status, code):
        self.assertEqual(r.status, status, r)
        body = r.json
        self.assertEqual(body["errorCode"], code, body)
        self.assertIsInstance(body["context"], list)
        return body

    def test_create_answers_201_with_location_and_normalises(self):
        g = self.group()
        for prefix in ("", "/api"):
            # Named by externalId, located by internal id.
            r = self.req("POST", f"{prefix}/group/{g['externalId']}/event", GOOD)
            self.assertEqual(r.status, 201, r)
            ev = r.json
            self.assertEqual(r.header("location"), f"{prefix}/group/{g['id']}/event/{ev['id']}")
            self.assertEqual(ev["group"], g["id"])
            self.assertEqual(ev["day"], 3)
            self.assertEqual(ev["startTime"], "09:30")
            self.assertEqual(ev["endTime"], "11:30")
            self.assertEqual(ev["weeks"], [8, 9, 14])
            self.assertEqual(ev["tutors"], ["esunxx", "esudfs"])
            self.assertEqual(ev["location"], {"name": "CS1.04"})
            self.assertRegex(ev["createdAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            got = self.req("GET", r.header("location"))
            self.assertEqual(got.status, 200, got)
            self.assertEqual(got.json, ev)
        for day, want in (("1", 1), (7, 7), ("SUNDAY", 7), ("monday", 1)):
            r = self.req("POST", f"/group/{g['id']}/event", {**GOOD, "day": day})
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json["day"], want)
        r = self.req("POST", f"/group/{g['id']}/event", {**GOOD, "location": {"name": "Aula"}})
        self.assertEqual(r.json["location"], {"name": "Aula"})

    def test_tutors_waive_the_schedule_and_the_schedule_is_required_without(self):
        g = self.group()
        r = self.req("POST", f"/group/{g['id']}/event", {"tutors": ["t1"]})
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.json["day"], r.json["startTime"], r.json["weeks"]), (None, None, []))
        err = self.assertError(self.req("POST", f"/group/{g['id']}/event", {"title": "x"}),
                               400, "validation_failed")
        self.assertEqual(sorted(c["field"] for c in err["context"]),
                         ["day", "endTime", "startTime", "weeks"])

    def test_list_get_replace_delete(self):
        g = self.group()
        a = self.req("POST", f"/group/{g['id']}/event", GOOD).json
        b = self.req("POST", f"/group/{g['id']}/event", {**GOOD, "title": "B"}).json
        lst = self.req("GET", f"/group/{g['id']}/event", key=self.reader).json
        self.assertEqual(lst["metadata"]["resultSet"]["count"], 2)
        self.assertEqual([e["id"] for e in lst["results"]], [a["id"], b["id"]])
        page = self.req("GET", f"/group/{g['id']}/event?limit=1&skip=1").json
        self.assertEqual([e["id"] for e in page["results"]], [b["id"]])
        # PUT replaces the whole event: what is not given is gone.
        r = self.req("PUT", f"/group/{g['id']}/event/{a['id']}",
                     {"day": 5, "startTime": "13:00", "endTime": "14:00", "weeks": [1]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["title"], r.json["tutors"], r.json["location"]), (None, [], None))
        self.assertEqual(r.json["createdAt"], a["createdAt"])
        self.assertEqual(r.json["id"], a["id"])
        r = self.req("DELETE", f"/group/{g['id']}/event/{a['id']}")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"removed": {"id": str(a["id"]), "group": str(g["id"])}})
        self.assertError(self.req("GET", f"/group/{g['id']}/event/{a['id']}"), 404, "not_found")
        self.assertError(self.req("DELETE", f"/group/{g['id']}/event/{a['id']}"), 404, "not_found")
        self.assertError(self.req("PUT", f"/group/{g['id']}/event/{a['id']}", GOOD), 404, "not_found")

    def test_group_embeds_events_and_etags_follow_every_event_write(self):
        g = self.group()
        url = f"/group/{g['id']}"
        r0 = self.req("GET", url)
        self.assertEqual(r0.json["events"], [])
        list0 = self.req("GET", "/group").header("etag")
        a = self.req("POST", f"{url}/event", GOOD).json
        b = self.req("POST", f"{url}/event", {"tutors": ["x"]}).json
        r1 = self.req("GET", url)
        self.assertEqual([e["id"] for e in r1.json["events"]], [a["id"], b["id"]])
        self.assertEqual(r1.json["events"][0], a)
        self.assertNotEqual(r0.header("etag"), r1.header("etag"))
        self.assertNotEqual(list0, self.req("GET", "/group").header("etag"))
        self.req("PUT", f"{url}/event/{b['id']}", {"tutors": ["y"]})
        r2 = self.req("GET", url)
        self.assertNotEqual(r1.header("etag"), r2.header("etag"))
        # The same PUT again changes nothing: same ETag.
        self.req("PUT", f"{url}/event/{b['id']}", {"tutors": ["y"]})
        self.assertEqual(r2.header("etag"), self.req("GET", url).header("etag"))
        self.req("DELETE", f"{url}/event/{b['id']}")
        self.assertNotEqual(r2.header("etag"), self.req("GET", url).header("etag"))
        # groupctl export shows the same form.
        line = [x for x in self.s.groupctl("export").stdout.splitlines() if f'"id":{g["id"]},' in x]
        self.assertEqual(len(line), 1)
        self.assertIn('"events":[{"id":%d,' % a["id"], line[0])

    def test_bad_events_are_400_and_change_nothing(self):
        g = self.group()
        url = f"/group/{g['id']}"
        before = self.req("GET", url)
        bad = [({"day": 0}, "day"), ({"day": 8}, "day"), ({"day": "funday"}, "day"),
               ({"day": 1.5}, "day"), ({"startTime": "24:00"}, "startTime"),
               ({"startTime": "9:5"}, "startTime"), ({"endTime": "09:30"}, "endTime"),
               ({"weeks": [0]}, "weeks[0]"), ({"weeks": [54]}, "weeks[0]"),
               ({"weeks": ["8"]}, "weeks[0]"), ({"tutors": [f"t{i}" for i in range(101)]}, "tutors"),
               ({"location": 5}, "location"), ({"tutors": "x"}, "tutors"), ({"title": 3}, "title")]
        for change, field in bad:
            r = self.req("POST", f"{url}/event", {**GOOD, **change})
            err = self.assertError(r, 400, "validation_failed")
            self.assertIn(field, [c["field"] for c in err["context"]], (change, err))
        # A body that is not an object is malformed for every endpoint.
        self.assertError(self.req("POST", f"{url}/event", raw=b"[1]", ctype="application/json"),
                         400, "invalid_json")
        self.assertError(self.req("POST", f"{url}/event", raw=b"{", ctype="application/json"),
                         400, "invalid_json")
        # Every problem at once.
        err = self.assertError(self.req("POST", f"{url}/event", {"day": 9, "startTime": "x",
                                                                  "endTime": "y", "weeks": [0]}),
                               400, "validation_failed")
        self.assertEqual(len(err["context"]), 4)
        after = self.req("GET", url)
        self.assertEqual(after.header("etag"), before.header("etag"))
        self.assertEqual(after.json["events"], [])

    def test_error_order_scope_roles_locks_and_deleted_groups(self):
        # A body's 400 wins over an unknown group's 404.
        self.assertError(self.req("POST", "/group/no-such/event", {"day": 0}), 400, "validation_failed")
        self.assertError(self.req("POST", "/group/no-such/event", GOOD), 404, "not_found")
        g = self.group()
        ev = self.req("POST", f"/group/{g['id']}/event", GOOD).json
        self.assertError(self.req("POST", f"/group/{g['id']}/event", GOOD, key=self.reader),
                         403, "forbidden")
        self.assertEqual(self.req("GET", f"/group/{g['id']}/event", key=self.reader).status, 200)
        # An event of another group, or of another tenant, is 404.
        h = self.group()
        self.assertError(self.req("GET", f"/group/{h['id']}/event/{ev['id']}"), 404, "not_found")
        self.assertError(self.req("DELETE", f"/group/{h['id']}/event/{ev['id']}"), 404, "not_found")
        self.assertError(self.req("GET", f"/group/{g['id']}/event/{ev['id']}", key=self.other),
                         404, "not_found")
        self.assertError(self.req("GET", f"/group/{g['id']}/event/abc"), 404, "not_found")
        # A restricted key does not see other organisations' groups.
        g102 = self.group(org=102)
        e102 = self.req("POST", f"/group/{g102['id']}/event", GOOD).json
        self.assertError(self.req("GET", f"/group/{g102['id']}/event/{e102['id']}",
                                  key=self.writer101), 404, "not_found")
        self.assertError(self.req("POST", f"/group/{g102['id']}/event", GOOD, key=self.writer101),
                         404, "not_found")
        # Import lock: 423 for every event write without an admin key.
        locked = self.group(importLock=True)
        le = self.req("POST", f"/group/{locked['id']}/event", GOOD, key=self.admin).json
        for method, path, body in (("POST", "/event", GOOD), ("PUT", f"/event/{le['id']}", GOOD),
                                   ("DELETE", f"/event/{le['id']}", None)):
            self.assertError(self.req(method, f"/group/{locked['id']}{path}", body), 423, "locked")
        # A deleted group's events are 404; restored, they are back.
        self.req("DELETE", f"/group/{g['id']}")
        for method, path, body in (("GET", "/event", None), ("GET", f"/event/{ev['id']}", None),
                                   ("POST", "/event", GOOD), ("DELETE", f"/event/{ev['id']}", None)):
            self.assertError(self.req(method, f"/group/{g['id']}{path}", body), 404, "not_found")
        self.req("DELETE", f"/group/{g['id']}?undo=true")
        self.assertEqual(self.req("GET", f"/group/{g['id']}/event/{ev['id']}").status, 200)

    def test_purge_removes_events_and_check_stays_clean(self):
        g = self.group()
        ev = self.req("POST", f"/group/{g['id']}/event", GOOD).json
        r = self.req("DELETE", f"/group/{g['id']}?purge=true", key=self.admin)
        self.assertEqual(r.status, 200, r)
        g2 = self.group()
        self.assertError(self.req("GET", f"/group/{g2['id']}/event/{ev['id']}"), 404, "not_found")
        r = self.s.groupctl("check", check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # Event ids come from the shared counter: unique across the database.
        e2 = self.req("POST", f"/group/{g2['id']}/event", GOOD).json
        self.assertGreater(e2["id"], g2["id"])
        self.assertNotEqual(e2["id"], ev["id"])


if __name__ == "__main__":
    unittest.main()
