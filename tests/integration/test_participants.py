"""Integration tests: participants and bulk import (API.md §4 participants, §5) over real nginx."""
import unittest

from harness import Stack

J = "application/json"


def multipart(fields, boundary="----groupd-test-7MA4YWxk"):
    """A multipart/form-data body: fields is a list of (name, filename, bytes)."""
    out = b""
    for name, filename, data in fields:
        out += f"--{boundary}\r\n".encode()
        disp = f'Content-Disposition: form-data; name="{name}"'
        if filename:
            disp += f'; filename="{filename}"'
        out += disp.encode() + b"\r\nContent-Type: text/csv\r\n\r\n" + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


class ParticipantsTest(unittest.TestCase):
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
        ParticipantsTest.n += 1
        body = {"name": f"Groep {self.n}", "externalId": f"g-{self.n}"}
        body.update(fields)
        r = self.req("POST", f"/group?organisation={org}", body)
        self.assertEqual(r.status, 200, r)
        return r.json

    def get(self, gid, key=None):
        r = self.req("GET", f"/group/{gid}", key=key)
        self.assertEqual(r.status, 200, r)
        return r.json

    def assertError(self, r, status, code):
        self.assertEqual(r.status, status, r)
        body = r.json
        self.assertEqual(body["errorCode"], code, body)
        self.assertIsInstance(body["context"], list)
        return body

    # ---- add / upsert ----
    def test_add_is_an_idempotent_upsert_by_email(self):
        g = self.group()
        r = self.req("POST", f"/group/{g['id']}/participant",
                     {"email": "Jan@Example.nl", "name": "Jan", "labels": [{"name": "deeltijd"}]})
        self.assertEqual(r.status, 200, r)
        p = r.json
        self.assertEqual(p["group"], g["id"])
        self.assertEqual(p["email"], "Jan@Example.nl")
        self.assertEqual(p["labels"], [{"name": "deeltijd"}])
        self.assertIsNone(p["externalId"])
        self.assertFalse(p["deleted"])
        self.assertEqual(self.get(g["id"])["totalParticipants"], 1)
        before = self.get(g["id"])
        # the same call again: same participant, nothing changes
        again = self.req("POST", f"/group/{g['id']}/participant",
                         {"email": "Jan@Example.nl", "name": "Jan", "labels": [{"name": "deeltijd"}]}).json
        self.assertEqual(again, p)
        self.assertEqual(self.get(g["id"]), before)
        # e-mail compares case-insensitively; given members overwrite, absent ones are kept
        upd = self.req("POST", f"/group/{g['id']}/participant",
                       {"email": "jan@example.NL", "externalId": "s1"}).json
        self.assertEqual(upd["id"], p["id"])
        self.assertEqual(upd["externalId"], "s1")
        self.assertEqual(upd["name"], "Jan")
        self.assertEqual(upd["labels"], [{"name": "deeltijd"}])
        self.assertIsNotNone(upd["modifiedBy"])
        full = self.get(g["id"])
        self.assertEqual(full["totalParticipants"], 1)
        self.assertEqual([x["id"] for x in full["participants"]], [p["id"]])

    def test_add_by_external_id_mode(self):
        g = self.group()
        path = f"/group/{g['id']}/participant?participantUpdateType=externalId"
        a = self.req("POST", path, {"email": "a@x.nl", "externalId": "s-1"}).json
        b = self.req("POST", path, {"email": "a2@x.nl", "externalId": "s-1", "name": "A"}).json
        self.assertEqual(a["id"], b["id"])
        self.assertEqual(b["email"], "a2@x.nl")
        self.assertError(self.req("POST", path, {"email": "c@x.nl"}), 400, "validation_failed")
        self.assertEqual(self.get(g["id"])["totalParticipants"], 1)

    def test_add_conflicting_external_id_is_409(self):
        g = self.group()
        path = f"/group/{g['id']}/participant"
        first = self.req("POST", path, {"email": "a@x.nl", "externalId": "s-1"}).json
        body = self.assertError(self.req("POST", path, {"email": "b@x.nl", "externalId": "s-1"}),
                                409, "conflict")
        self.assertEqual(body["context"][0]["id"], first["id"])
        self.assertEqual(self.get(g["id"])["totalParticipants"], 1)

    def test_bad_emails_are_all_reported(self):
        g = self.group()
        bad = ["no-at.example.nl", "two@@x.nl", "a@b@x.nl", "@x.nl", "a@localhost", "a b@x.nl",
               "a@x..nl", "x" * 250 + "@x.nl", "a@.x.nl"]
        body = {"name": "G", "participants": [{"email": e} for e in bad]}
        r = self.req("POST", f"/group/{g['id']}", body)
        err = self.assertError(r, 400, "validation_failed")
        self.assertEqual(sorted(c["field"] for c in err["context"]),
                         sorted(f"participants[{i}].email" for i in range(len(bad))))
        self.assertEqual(self.get(g["id"])["totalParticipants"], 0)

    def test_another_tenant_and_unknown_groups_are_404(self):
        g = self.group()
        r = self.req("POST", f"/group/{g['id']}/participant", {"email": "a@x.nl"}, key=self.other)
        self.assertError(r, 404, "not_found")
        p = self.req("POST", f"/group/{g['id']}/participant", {"email": "a@x.nl"}).json
        r = self.req("DELETE", f"/group/{g['id']}/participant/{p['id']}", key=self.other)
        self.assertError(r, 404, "not_found")
        r = self.req("DELETE", f"/group/{g['id']}/participant/999999999")
        self.assertError(r, 404, "not_found")
        self.assertError(self.req("POST", "/group/999999999/participant", {"email": "a@x.nl"}),
                         404, "not_found")

    def test_reader_may_list_but_not_add(self):
        g = self.group()
        self.assertError(self.req("POST", f"/group/{g['id']}/participant", {"email": "a@x.nl"},
                                  key=self.reader), 403, "forbidden")
        self.assertEqual(self.req("GET", f"/group/{g['id']}/participant", key=self.reader).status, 200)

    def test_import_lock_is_423_for_non_admin(self):
        g = self.group(importLock=True)
        self.assertError(self.req("POST", f"/group/{g['id']}/participant", {"email": "a@x.nl"}),
                         423, "locked")
        r = self.req("POST", f"/group/{g['id']}/participant", {"email": "a@x.nl"}, key=self.admin)
        self.assertEqual(r.status, 200, r)

    # ---- identifier endpoints ----
    def test_add_and_remove_by_identifier(self):
        g = self.group()
        body = {"identifier": {"externalId": g["externalId"]},
                "data": {"email": "p@x.nl", "externalId": "P1", "name": "P"}}
        p = self.req("POST", "/group/participant/identifier/externalId", body).json
        self.assertEqual(p["group"], g["id"])
        p2 = self.req("POST", "/group/participant/identifier/externalId",
                      {"identifier": {"externalId": g["externalId"]},
                       "data": {"email": "p-new@x.nl", "externalId": "P1"}}).json
        self.assertEqual(p2["id"], p["id"])
        self.assertEqual(p2["email"], "p-new@x.nl")
        r = self.req("POST", "/group/participant/identifier/externalId",
                     {"identifier": {"externalId": g["externalId"]}, "data": {"email": "q@x.nl"}})
        self.assertError(r, 400, "validation_failed")
        r = self.req("DELETE", "/group/participant/identifier/externalId",
                     {"identifier": {"externalId": g["externalId"], "participant": {"externalId": "P1"}}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"removed": {"id": str(p["id"]), "group": str(g["id"])}})
        self.assertEqual(self.get(g["id"])["totalParticipants"], 0)
        r = self.req("DELETE", "/group/participant/identifier/externalId",
                     {"identifier": {"externalId": g["externalId"], "participant": {"externalId": "P1"}}})
        self.assertError(r, 404, "not_found")

    def test_update_by_identifier_returns_an_array(self):
        g = self.group()
        p = self.req("POST", f"/group/{g['id']}/participant", {"email": "u@x.nl", "externalId": "U"}).json
        for ident in ({"id": p["id"]}, {"externalId": "U"}, {"email": "U@X.NL"}):
            r = self.req("PUT", f"/group/{g['id']}/participant",
                         {"identifier": ident, "data": {"name": "Naam " + list(ident)[0]}})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(len(r.json), 1)
            self.assertEqual(r.json[0]["id"], p["id"])
            self.assertEqual(r.json[0]["name"], "Naam " + list(ident)[0])
        r = self.req("PUT", f"/group/{g['id']}/participant",
                     {"identifier": {"email": "nobody@x.nl"}, "data": {"name": "x"}})
        self.assertError(r, 404, "not_found")
        r = self.req("PUT", f"/group/{g['id']}/participant",
                     {"identifier": {"id": p["id"], "email": "u@x.nl"}, "data": {"name": "x"}})
        self.assertError(r, 400, "validation_failed")
        r = self.req("PUT", f"/group/{g['id']}/participant",
                     {"identifier": {"id": p["id"]}, "data": {"email": None}})
        self.assertError(r, 400, "validation_failed")

    def test_remove_by_email_id_and_external_id(self):
        g = self.group()
        path = f"/group/{g['id']}/participant"
        a = self.req("POST", path, {"email": "a@x.nl"}).json
        b = self.req("POST", path, {"email": "b@x.nl", "externalId": "123"}).json
        c = self.req("POST", path, {"email": "c@x.nl", "externalId": "ext-c"}).json
        self.assertEqual(self.req("DELETE", f"{path}/A@X.NL").json["removed"]["id"], str(a["id"]))
        self.assertEqual(self.req("DELETE", f"{path}/123").json["removed"]["id"], str(b["id"]))
        self.assertEqual(self.req("DELETE", f"{path}/{c['id']}").json["removed"]["id"], str(c["id"]))
        full = self.get(g["id"])
        self.assertEqual(full["totalParticipants"], 0)
        self.assertEqual(full["participants"], [])

    # ---- list ----
    def test_list_with_label_q_and_paging(self):
        g = self.group()
        path = f"/group/{g['id']}/participant"
        self.req("POST", path, {"email": "zoe@x.nl", "name": "Zoë van der Berg",
                                "labels": [{"name": "deeltijd"}]})
        self.req("POST", path, {"email": "jorg@x.nl", "name": "Ångström, Jörg", "externalId": "S-77"})
        self.req("POST", path, {"email": "piet@x.nl", "name": "Piet", "labels": [{"name": "deeltijd"}]})
        r = self.req("GET", path).json
        self.assertEqual(r["metadata"]["resultSet"]["count"], 3)
        self.assertEqual([p["email"] for p in r["results"]], ["zoe@x.nl", "jorg@x.nl", "piet@x.nl"])
        r = self.req("GET", path + "?label=deeltijd").json
        self.assertEqual([p["email"] for p in r["results"]], ["zoe@x.nl", "piet@x.nl"])
        r = self.req("GET", path + "?q=zoe+berg").json
        self.assertEqual([p["email"] for p in r["results"]], ["zoe@x.nl"])
        r = self.req("GET", path + "?q=angstr").json
        self.assertEqual([p["email"] for p in r["results"]], ["jorg@x.nl"])
        r = self.req("GET", path + "?q=s-77").json
        self.assertEqual([p["email"] for p in r["results"]], ["jorg@x.nl"])
        r = self.req("GET", path + "?limit=1&skip=1").json
        self.assertEqual(r["metadata"]["resultSet"], {"count": 3, "limit": 1, "skip": 1})
        self.assertEqual([p["email"] for p in r["results"]], ["jorg@x.nl"])
        self.assertError(self.req("GET", path + "?limit=5000"), 400, "invalid_query")

    # ---- group create / update with participants ----
    def test_group_update_makes_the_set_exactly_the_list(self):
        g = self.group(participants=[{"email": "a@x.nl"}, {"email": "b@x.nl"}, {"email": "c@x.nl"}])
        full = self.get(g["id"])
        self.assertEqual(full["totalParticipants"], 3)
        ids = {p["email"]: p["id"] for p in full["participants"]}
        body = {"participants": [{"email": "B@x.nl", "name": "Bee"}, {"email": "d@x.nl"}]}
        r = self.req("PUT", f"/group/{g['id']}", body)
        self.assertEqual(r.status, 200, r)
        after = {p["email"]: p for p in r.json["participants"]}
        self.assertEqual(sorted(after), ["B@x.nl", "d@x.nl"])
        self.assertEqual(after["B@x.nl"]["id"], ids["b@x.nl"])   # matched: keeps its id
        self.assertEqual(after["B@x.nl"]["name"], "Bee")
        self.assertEqual(r.json["totalParticipants"], 2)
        # the same update twice: the same state
        again = self.req("PUT", f"/group/{g['id']}", body).json
        self.assertEqual(again, self.get(g["id"]))
        self.assertEqual(again["participants"], r.json["participants"])

    def test_duplicate_emails_in_one_request_are_400_and_change_nothing(self):
        g = self.group(participants=[{"email": "a@x.nl"}])
        before = self.get(g["id"])
        r = self.req("PUT", f"/group/{g['id']}",
                     {"name": "Renamed", "participants": [{"email": "x@x.nl"}, {"email": "X@X.nl"}]})
        err = self.assertError(r, 400, "validation_failed")
        self.assertEqual(err["context"][0]["field"], "participants[1].email")
        self.assertEqual(self.get(g["id"]), before)

    def test_failed_group_update_leaves_participants_as_they_were(self):
        taken = self.group()
        g = self.group(participants=[{"email": "a@x.nl"}, {"email": "b@x.nl"}])
        before = self.get(g["id"])
        # the group's new externalId collides: 409, and the participant list is not applied
        r = self.req("PUT", f"/group/{g['id']}",
                     {"externalId": taken["externalId"], "participants": [{"email": "z@x.nl"}]})
        self.assertError(r, 409, "conflict")
        self.assertEqual(self.get(g["id"]), before)

    def test_swapping_external_ids_within_one_list_is_allowed(self):
        g = self.group(participants=[{"email": "a@x.nl", "externalId": "1"},
                                     {"email": "b@x.nl", "externalId": "2"}])
        r = self.req("PUT", f"/group/{g['id']}",
                     {"participants": [{"email": "a@x.nl", "externalId": "2"},
                                       {"email": "b@x.nl", "externalId": "1"}]})
        self.assertEqual(r.status, 200, r)
        got = {p["email"]: p["externalId"] for p in r.json["participants"]}
        self.assertEqual(got, {"a@x.nl": "2", "b@x.nl": "1"})
        # and the index followed: removing by externalId 2 removes a
        a_id = next(p["id"] for p in r.json["participants"] if p["email"] == "a@x.nl")
        r = self.req("DELETE", f"/group/{g['id']}/participant/2")
        self.assertEqual(r.json["removed"]["id"], str(a_id))
        left = [p["email"] for p in self.get(g["id"])["participants"]]
        self.assertEqual(left, ["b@x.nl"])

    # ---- erase ----
    def test_erase_removes_the_person_from_every_group_in_scope(self):
        g1 = self.group(participants=[{"email": "gone@x.nl"}, {"email": "stay@x.nl"}])
        g2 = self.group(org=102, participants=[{"email": "GONE@x.nl"}])
        g3 = self.group(participants=[{"email": "gone@x.nl"}])
        self.req("DELETE", f"/group/{g3['id']}")  # deleted groups are erased from too
        r = self.s.request("POST", "/group?organisation=101", self.other, {"name": "elders",
                           "participants": [{"email": "gone@x.nl"}]})
        self.assertEqual(r.status, 200, r)
        self.assertError(self.req("DELETE", "/participant?email=gone@x.nl"), 403, "forbidden")
        self.assertError(self.req("DELETE", "/participant?email=nonsense", key=self.admin), 400,
                         "invalid_query")
        r = self.req("DELETE", "/participant?email=Gone@X.nl", key=self.admin)
        self.assertEqual(r.status, 200, r)
        groups = sorted(int(x["group"]) for x in r.json["removed"])
        self.assertEqual(groups, sorted([g1["id"], g2["id"], g3["id"]]))
        self.assertEqual([p["email"] for p in self.get(g1["id"])["participants"]], ["stay@x.nl"])
        self.assertEqual(self.get(g1["id"])["totalParticipants"], 1)
        # the other tenant's group is untouched
        other = self.s.request("GET", "/group?limit=0", self.other).json["results"]
        self.assertEqual(other[0]["totalParticipants"], 1)
        r = self.req("DELETE", "/participant?email=gone@x.nl", key=self.admin)
        self.assertEqual(r.json, {"removed": []})

    def test_purge_frees_participant_indexes(self):
        g = self.group(participants=[{"email": "p@x.nl", "externalId": "e"}])
        r = self.req("DELETE", f"/group/{g['id']}?purge=true", key=self.admin)
        self.assertEqual(r.status, 200, r)
        r = self.req("DELETE", "/participant?email=p@x.nl", key=self.admin)
        self.assertEqual(r.json, {"removed": []})

    # ---- bulk import ----
    def import_csv(self, text, query="", key=None, ctype="text/csv"):
        data = text.encode() if isinstance(text, str) else text
        return self.s.request("POST", "/group/bulkImportParticipants" + query, key or self.writer,
                              raw=data, ctype=ctype)

    def test_import_csv_and_reimport_is_unchanged(self):
        g1, g2 = self.group(), self.group()
        csv = (f"groupId,email,name,externalId,labels\n"
               f"{g1['id']},a@x.nl,Anna,s1,deeltijd|avond\n"
               f"{g1['id']},b@x.nl,Bert,,\n"
               f"{g2['id']},a@x.nl,Anna,s1,\n")
        r = self.import_csv(csv)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"imported": {"rows": 3, "created": 3, "updated": 0, "unchanged": 0,
                                               "removed": 0, "groups": 2}})
        before = self.get(g1["id"])
        self.assertEqual(before["totalParticipants"], 2)
        anna = next(p for p in before["participants"] if p["email"] == "a@x.nl")
        self.assertEqual(anna["labels"], [{"name": "deeltijd"}, {"name": "avond"}])
        r = self.import_csv(csv)
        self.assertEqual(r.json["imported"]["unchanged"], 3)
        self.assertEqual(r.json["imported"]["created"], 0)
        self.assertEqual(self.get(g1["id"]), before)

    def test_import_reports_every_repeat_and_writes_in_file_order(self):
        g1, g2 = self.group(), self.group()
        # a repeat is an error naming the line it repeats; another group may repeat freely
        csv = (f"groupId,email,externalId\n"
               f"{g1['id']},a@x.nl,s1\n"      # line 2
               f"{g1['id']},b@x.nl,s2\n"      # 3
               f"{g2['id']},A@x.nl,s1\n"      # 4: another group
               f"{g1['id']},A@X.NL,s3\n"      # 5: e-mail of line 2
               f"{g1['id']},c@x.nl, s2 \n"    # 6: externalId of line 3 (trimmed)
               f"{g1['id']},a@x.nl,\n")       # 7: e-mail of line 5
        err = self.assertError(self.import_csv(csv), 400, "invalid_csv")
        got = sorted((c["line"], c["field"], c["message"]) for c in err["context"])
        self.assertEqual(got, [(5, "email", "repeats line 2 for the same group"),
                               (6, "externalId", "repeats line 3 for the same group"),
                               (7, "email", "repeats line 5 for the same group")])
        self.assertEqual(self.get(g1["id"])["totalParticipants"], 0)
        # a group's new participants are created in the order of the file
        csv = f"groupId,email\n{g1['id']},c@x.nl\n{g1['id']},a@x.nl\n{g1['id']},b@x.nl\n"
        self.assertEqual(self.import_csv(csv).status, 200)
        self.assertEqual([p["email"] for p in self.get(g1["id"])["participants"]],
                         ["c@x.nl", "a@x.nl", "b@x.nl"])

    def test_import_replace_and_external(self):
        g = self.group(participants=[{"email": "old@x.nl"}, {"email": "keep@x.nl", "name": "K"}])
        csv = f"groupId;email\n{g['externalId']};keep@x.nl\n{g['externalId']};new@x.nl\n"
        r = self.import_csv(csv, "?external=true&mode=replace")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["imported"], {"rows": 2, "created": 1, "updated": 0, "unchanged": 1,
                                              "removed": 1, "groups": 1})
        full = self.get(g["id"])
        self.assertEqual(sorted(p["email"] for p in full["participants"]), ["keep@x.nl", "new@x.nl"])
        self.assertEqual(next(p for p in full["participants"] if p["email"] == "keep@x.nl")["name"], "K")

    def test_import_one_bad_row_imports_nothing(self):
        g = self.group()
        csv = (f"groupId,email\n{g['id']},ok@x.nl\n{g['id']},not-an-email\n999999999,x@x.nl\n"
               f"{g['id']},OK@x.nl\n")
        r = self.import_csv(csv)
        err = self.assertError(r, 400, "invalid_csv")
        got = sorted((c["line"], c["field"]) for c in err["context"])
        self.assertEqual(got, [(3, "email"), (4, "groupId"), (5, "email")])
        self.assertEqual(self.get(g["id"])["totalParticipants"], 0)

    def test_import_excel_export(self):
        g = self.group()
        gid = g["id"]
        text = ("\ufeffGroupID;Name;Email;labels\r\n" +
                f'{gid};"Zoë van der Berg";zoe@x.nl;"a;b"\r\n'
                f'{gid};"Ångström, Jörg";jorg@x.nl;\r\n'
                f'{gid};"Quote ""Q"" Person\r\nsecond line";q@x.nl;x\r\n')
        r = self.import_csv(text.encode("utf-8"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["imported"]["created"], 3)
        ps = {p["email"]: p for p in self.get(gid)["participants"]}
        self.assertEqual(ps["zoe@x.nl"]["name"], "Zoë van der Berg")
        self.assertEqual(ps["zoe@x.nl"]["labels"], [{"name": "a;b"}])
        self.assertEqual(ps["jorg@x.nl"]["name"], "Ångström, Jörg")
        # an embedded line end is data, kept as it was sent; the next record's line is right
        self.assertEqual(ps["q@x.nl"]["name"], 'Quote "Q" Person\r\nsecond line')

    def test_import_multipart(self):
        g = self.group()
        body, ctype = multipart([("note", None, b"ignored"),
                                 ("file", "x.csv", f"groupId,email\n{g['id']},m@x.nl\n".encode())])
        r = self.import_csv(body, ctype=ctype)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["imported"]["created"], 1)
        body, _ = multipart([("other", "x.csv", b"groupId,email\n")])
        self.assertError(self.import_csv(body, ctype="multipart/form-data; boundary=----groupd-test-7MA4YWxk"),
                         400, "invalid_csv")
        self.assertError(self.import_csv(body, ctype="multipart/form-data"), 400, "invalid_csv")
        self.assertError(self.import_csv("x", ctype="application/json"), 415, "unsupported_media_type")

    def test_import_bad_files(self):
        g = self.group()
        self.assertError(self.import_csv("email\na@x.nl\n"), 400, "invalid_csv")          # no groupId
        self.assertError(self.import_csv(""), 400, "invalid_csv")
        err = self.assertError(self.import_csv(f"groupId,email\n{g['id']},a@x.nl\n{g['id']},A@x.nl\n"),
                               400, "invalid_csv")
        self.assertEqual(err["context"][0]["line"], 3)
        long_line = f"groupId,email,name\n{g['id']},a@x.nl," + "n" * 1_000_000 + "\n"
        err = self.assertError(self.import_csv(long_line), 400, "invalid_csv")
        self.assertEqual(err["context"][0]["line"], 2)
        err = self.assertError(self.import_csv(f'groupId,email\n{g["id"]},"a@x.nl\n'), 400, "invalid_csv")
        self.assertEqual(self.get(g["id"])["totalParticipants"], 0)

    def test_import_locked_group_is_423_and_outside_scope_unknown(self):
        locked = self.group(importLock=True)
        self.assertError(self.import_csv(f"groupId,email\n{locked['id']},a@x.nl\n"), 423, "locked")
        r = self.import_csv(f"groupId,email\n{locked['id']},a@x.nl\n", key=self.admin)
        self.assertEqual(r.status, 200, r)
        g102 = self.group(org=102)
        err = self.assertError(self.import_csv(f"groupId,email\n{g102['id']},a@x.nl\n",
                                               key=self.writer101), 400, "invalid_csv")
        self.assertEqual(err["context"][0]["line"], 2)
        self.assertEqual(err["context"][0]["field"], "groupId")

    def test_groupctl_import_uses_the_same_path(self):
        g = self.group()
        import os
        path = os.path.join(self.s.dir, "ctl.csv")
        with open(path, "w") as f:
            f.write(f"groupId,email,name\n{g['externalId']},ctl@x.nl,Ctl\n")
        r = self.s.groupctl("import", path, "--top-organisation", "100", "--external")
        self.assertIn('"created":1', r.stdout)
        p = self.get(g["id"])["participants"][0]
        self.assertEqual((p["email"], p["createdBy"]), ("ctl@x.nl", "groupctl"))
        with open(path, "w") as f:
            f.write(f"groupId,email\n{g['externalId']},bad\n")
        r = self.s.groupctl("import", path, "--top-organisation", "100", "--external", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("invalid_csv", r.stderr)


if __name__ == "__main__":
    unittest.main()
