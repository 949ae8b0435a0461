"""Search and list through the indexes (API.md §4), ETags and groupctl check."""
import unittest

from harness import Stack


class SearchTest(unittest.TestCase):
    """Each test class works in its own topOrganisation so counts are exact."""

    @classmethod
    def setUpClass(cls):
        cls.s = Stack(workers=2).start()
        cls.addClassCleanup(cls.s.stop)  # also when setUpClass fails
        cls.key = cls.s.key(600, "admin")
        cls.narrow = cls.s.key(600, "read", orgs=[602])
        specs = [
            ("Économie 1A", "Straße van de economie", "ECO-2025-01", 601, "klas"),
            ("Wiskunde B", "rekenen en getallen", "WIS-B", 601, "vak"),
            ("Economische geschiedenis", None, "ECO-GES", 602, "vak"),
            ("Economie oud", "archief", "ECO-OLD", 602, None),
            ("Verwijderd economie", None, "DEL-1", 601, None),
        ]
        cls.g = {}
        for name, desc, ext, org, typ in specs:
            body = {"name": name, "externalId": ext}
            if desc:
                body["description"] = desc
            if typ:
                body["type"] = typ
            r = cls.s.request("POST", f"/group?organisation={org}", cls.key, body)
            assert r.status == 200, r
            cls.g[ext] = r.json
        cls.s.request("POST", f"/group/{cls.g['ECO-OLD']['id']}/archive", cls.key)
        cls.s.request("DELETE", f"/group/{cls.g['DEL-1']['id']}", cls.key)
        r = cls.s.request("POST", f"/group/{cls.g['WIS-B']['id']}/participant", cls.key,
                          {"email": "Piet@School.nl", "name": "Piet"})
        assert r.status == 200, r

    def search(self, query, key=None):
        r = self.s.request("GET", "/group" + query, key or self.key)
        self.assertEqual(r.status, 200, r)
        return r.json

    def exts(self, query, key=None):
        return sorted(g["externalId"] for g in self.search(query, key)["results"])

    def test_words_are_prefixes_folded_and_accent_free(self):
        self.assertEqual(self.exts("?q=econ"), ["ECO-2025-01", "ECO-GES"])
        self.assertEqual(self.exts("?q=ECONOMIE"), ["ECO-2025-01"])
        self.assertEqual(self.exts("?q=%C3%A9con"), ["ECO-2025-01", "ECO-GES"])  # éCon
        self.assertEqual(self.exts("?q=strasse"), ["ECO-2025-01"])
        self.assertEqual(self.exts("?q=stra%C3%9Fe"), ["ECO-2025-01"])  # Straße
        self.assertEqual(self.exts("?q=1a"), ["ECO-2025-01"])
        self.assertEqual(self.exts("?q=2025"), ["ECO-2025-01"])

    def test_every_word_must_match(self):
        self.assertEqual(self.exts("?q=eco+2025"), ["ECO-2025-01"])
        self.assertEqual(self.exts("?q=eco+ges"), ["ECO-GES"])
        self.assertEqual(self.exts("?q=econ+wis"), [])
        self.assertEqual(self.search("?q=econ+wis")["metadata"]["resultSet"]["count"], 0)

    def test_query_without_words_is_no_filter(self):
        everything = self.search("?limit=0")["metadata"]["resultSet"]["count"]
        body = self.search("?q=%21%21%21+--+%2A")
        self.assertEqual(body["metadata"]["resultSet"]["count"], everything)

    def test_huge_query_is_answered(self):
        body = self.search("?q=" + "a" * 10000)
        self.assertEqual(body["metadata"]["resultSet"]["count"], 0)
        body = self.search("?q=" + "+".join(["eco"] * 2000))  # one word, said 2000 times
        self.assertEqual(body["metadata"]["resultSet"]["count"], 2)
        words = "+".join(f"x{i:03d}" for i in range(65))  # none a prefix of another
        r = self.s.request("GET", "/group?q=" + words, self.key)
        self.assertEqual((r.status, r.json["errorCode"]), (400, "invalid_query"))

    def test_status_partitions(self):
        self.assertEqual(self.exts("?q=econ&status=archived"), ["ECO-OLD"])
        self.assertEqual(self.exts("?q=econ&status=deleted"), ["DEL-1"])
        self.assertEqual(self.exts("?q=econ&status=active,archived,deleted"),
                         ["DEL-1", "ECO-2025-01", "ECO-GES", "ECO-OLD"])
        r = self.s.request("GET", "/group?q=econ&status=bogus", self.key)
        self.assertEqual(r.status, 400)

    def test_search_with_filters_sort_and_paging(self):
        self.assertEqual(self.exts("?q=econ&organisation=602"), ["ECO-GES"])
        self.assertEqual(self.exts("?q=econ&type=klas"), ["ECO-2025-01"])
        self.assertEqual(self.exts("?type=vak"), ["ECO-GES", "WIS-B"])
        self.assertEqual(self.search("?type=vak")["metadata"]["resultSet"]["count"], 2)
        # Folded names: "economie 1a" < "economische geschiedenis".
        names = [g["name"] for g in self.search("?q=econ&sort=-name")["results"]]
        self.assertEqual(names, ["Economische geschiedenis", "Économie 1A"])
        page = self.search("?q=econ&limit=1&skip=1&sort=name")
        self.assertEqual([g["name"] for g in page["results"]], ["Economische geschiedenis"])
        self.assertEqual(page["metadata"]["resultSet"], {"count": 2, "limit": 1, "skip": 1})
        past = self.search("?q=econ&skip=10")
        self.assertEqual((past["results"], past["metadata"]["resultSet"]["count"]), ([], 2))
        ids = [g["id"] for g in self.search("?q=e&sort=-id")["results"]]
        self.assertEqual(ids, sorted(ids, reverse=True))

    def test_email_filter(self):
        self.assertEqual(self.exts("?email=piet%40school.nl"), ["WIS-B"])
        self.assertEqual(self.exts("?email=PIET%40SCHOOL.NL&q=wis"), ["WIS-B"])
        self.assertEqual(self.exts("?email=piet%40school.nl&q=econ"), [])
        self.assertEqual(self.exts("?email=nobody%40school.nl"), [])

    def test_restricted_key_sees_and_counts_its_organisations(self):
        self.assertEqual(self.exts("?q=econ", self.narrow), ["ECO-GES"])
        body = self.search("", self.narrow)
        self.assertEqual([g["externalId"] for g in body["results"]], ["ECO-GES"])
        self.assertEqual(body["metadata"]["resultSet"]["count"], 1)
        body = self.search("?status=active,archived&sort=-name", self.narrow)
        self.assertEqual([g["externalId"] for g in body["results"]], ["ECO-GES", "ECO-OLD"])
        self.assertEqual(body["metadata"]["resultSet"]["count"], 2)

    def test_fields_and_expand(self):
        res = self.search("?q=wis&fields=name,externalId")["results"]
        self.assertEqual(res, [{"id": self.g["WIS-B"]["id"], "externalId": "WIS-B",
                                "name": "Wiskunde B"}])
        res = self.search("?q=wis&expand=participants")["results"]
        self.assertEqual([p["email"] for p in res[0]["participants"]], ["Piet@School.nl"])
        self.assertEqual(res[0]["name"], "Wiskunde B")
        res = self.search("?q=wis&expand=participants&fields=name")["results"]
        self.assertEqual(set(res[0]), {"id", "name", "participants", "events"})
        for bad in ("?fields=name,colour", "?expand=events", "?sort=colour", "?limit=1000000"):
            r = self.s.request("GET", "/group" + bad, self.key)
            self.assertEqual(r.status, 400, bad)
            self.assertEqual(r.json["errorCode"], "invalid_query")

    def test_changes_move_index_entries(self):
        s, key = self.s, self.key
        g = s.request("POST", "/group?organisation=603", key,
                      {"name": "Tijdelijk project", "externalId": "TMP-1"}).json
        self.assertEqual(self.exts("?q=tijdel"), ["TMP-1"])
        s.request("PUT", f"/group/{g['id']}", key, {"name": "Blijvend project"})
        self.assertEqual(self.exts("?q=tijdel"), [])
        self.assertEqual(self.exts("?q=blijv+proj"), ["TMP-1"])
        self.assertEqual(self.exts("?organisation=603"), ["TMP-1"])
        s.request("POST", f"/group/{g['id']}/archive", key)
        self.assertEqual(self.exts("?q=blijv"), [])
        self.assertEqual(self.exts("?q=blijv&status=archived"), ["TMP-1"])
        self.assertEqual(self.search("?organisation=603&status=archived")
                         ["metadata"]["resultSet"]["count"], 1)
        r = s.request("DELETE", f"/group/{g['id']}?purge=true", key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.exts("?q=blijv&status=active,archived,deleted"), [])
        self.assertEqual(self.search("?organisation=603&status=active,archived,deleted")
                         ["metadata"]["resultSet"]["count"], 0)

    def test_group_etag_follows_group_and_participants(self):
        s, key = self.s, self.key
        g = s.request("POST", "/group?organisation=604", key, {"name": "Etag"}).json
        path = f"/group/{g['id']}"
        r = s.request("GET", path, key)
        tag = r.header("etag")
        self.assertTrue(tag and tag.startswith('"'), r.headers)
        same = s.request("GET", path, key, headers={"If-None-Match": tag})
        self.assertEqual((same.status, same.body), (304, ""))
        self.assertEqual(same.header("etag"), tag)
        listed = s.request("GET", path, key, headers={"If-None-Match": f'"x", W/{tag}'})
        self.assertEqual(listed.status, 304)
        s.request("POST", path + "/participant", key, {"email": "e@x.nl"})
        r = s.request("GET", path, key, headers={"If-None-Match": tag})
        self.assertEqual(r.status, 200)
        self.assertNotEqual(r.header("etag"), tag)
        self.assertEqual(r.json["totalParticipants"], 1)

    def test_list_etag_follows_the_top(self):
        s, key = self.s, self.key
        tag = s.request("GET", "/group?q=econ", key).header("etag")
        self.assertEqual(s.request("GET", "/group?q=econ", key,
                                   headers={"If-None-Match": tag}).status, 304)
        # Another query has another tag; another top's change leaves it.
        self.assertNotEqual(s.request("GET", "/group?q=wis", key).header("etag"), tag)
        other = s.key(699, "admin")
        s.request("POST", "/group?organisation=1", other, {"name": "elders"})
        self.assertEqual(s.request("GET", "/group?q=econ", key,
                                   headers={"If-None-Match": tag}).status, 304)
        s.request("POST", "/group?organisation=605", key, {"name": "nieuw"})
        r = s.request("GET", "/group?q=econ", key, headers={"If-None-Match": tag})
        self.assertEqual(r.status, 200)

    def test_create_groups_loads_lines_or_nothing(self):
        import json
        import os
        path = os.path.join(self.s.dir, "groups.jsonl")
        with open(path, "w") as f:
            f.write('{"name": "Geladen", "organisation": 651, "externalId": "LD-1"}\n')
            f.write('{"name": "", "organisation": 651}\n')
        r = self.s.groupctl("create-groups", path, "--top-organisation", "650", check=False)
        self.assertEqual(r.returncode, 1)
        err = json.loads(r.stderr)
        self.assertEqual(err["context"][0]["line"], 2)
        key = self.s.key(650, "admin")
        self.assertEqual(self.search("", key)["metadata"]["resultSet"]["count"], 0)
        with open(path, "w") as f:
            f.write('{"name": "Geladen", "organisation": 651, "externalId": "LD-1"}\n\n')
            f.write('{"name": "Oud", "organisation": 652, "status": "archived"}\n')
        r = self.s.groupctl("create-groups", path, "--top-organisation", "650")
        self.assertEqual(json.loads(r.stdout), {"created": 2})
        self.assertEqual([g["externalId"] for g in self.search("?q=gela", key)["results"]], ["LD-1"])
        self.assertEqual(self.search("?status=archived", key)["results"][0]["name"], "Oud")

    def test_create_groups_on_a_new_database_and_on_a_full_map(self):
        import json
        import os
        import subprocess
        import tempfile
        from harness import GROUPCTL
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "groups.jsonl")
            with open(path, "w") as f:
                for i in range(2000):  # ~3 MB of records and indexes: more than LMDB's 1 MiB default
                    f.write(json.dumps({"name": f"Groep {i}", "organisation": 2, "externalId": f"N{i}"}) + "\n")
            run = lambda db, *extra: subprocess.run(
                [GROUPCTL, "--db", os.path.join(d, db), *extra, "create-groups", path,
                 "--top-organisation", "1"], capture_output=True, text=True, timeout=60)
            r = run("new")
            self.assertEqual((r.returncode, json.loads(r.stdout)), (0, {"created": 2000}), r.stderr)
            r = run("small", "--map-size", str(1 << 20))
            self.assertEqual(r.returncode, 1)
            self.assertIn("create-groups: MDB_MAP_FULL", r.stderr)
            self.assertEqual(json.loads(r.stdout), {"created": 0})

    def test_zz_check_finds_the_indexes_consistent(self):
        r = self.s.groupctl("check", check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("check: 0 differences", r.stdout)
        stats = self.s.groupctl("stats").stdout
        self.assertRegex(stats, r"db_group_words_entries [1-9]")


if __name__ == "__main__":
    unittest.main()
