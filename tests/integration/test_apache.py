"""Integration test: groupd under Apache 2.4 with mod_fcgid (fd-0 mode)."""
import os
import shutil
import tempfile
import unittest

from harness import GROUPCTL, ApacheStack
import subprocess


class ApacheTest(unittest.TestCase):
    def test_groups_over_mod_fcgid(self):
        work = tempfile.mkdtemp(prefix="groupd-apache-db-")
        os.chmod(work, 0o755)
        db = os.path.join(work, "db")
        key = subprocess.run([GROUPCTL, "--db", db, "key", "create", "--top-organisation", "100",
                              "--organisation", "101", "--role", "write"],
                             capture_output=True, text=True, check=True).stdout.splitlines()[0]
        a = ApacheStack(db, os.path.join(work, "groupd.log"))
        try:
            a.start()
            r = a.request("POST", "/groupd/group", key, {"name": "Apache", "externalId": "ap/1"})
            self.assertEqual(r.status, 200, r)
            gid = r.json["id"]
            r = a.request("GET", "/groupd/group/ap%2F1", key, bearer=True)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["id"], gid)
            r = a.request("GET", "/groupd/group", key)
            self.assertEqual(r.json["metadata"]["resultSet"]["count"], 1)
            r = a.request("GET", "/groupd/group?q=apa", key)
            self.assertEqual(r.json["metadata"]["resultSet"]["count"], 1)
            r = a.request("GET", "/groupd/group?q=" + "apache+" * 1500, key)  # 10,500 characters
            self.assertEqual((r.status, r.json["metadata"]["resultSet"]["count"]), (200, 1), r)
            # Apache passes an empty api-key header on: groupd takes it as no key.
            r = a.request("GET", "/groupd/group", key, headers={"api-key": ""}, bearer=True)
            self.assertEqual(r.status, 200, r)
            r = a.request("GET", "/groupd/group")
            self.assertEqual(r.status, 401)
            self.assertEqual(r.json["errorCode"], "unauthenticated")
            self.assertEqual(a.request("GET", "/groupd/health").json["status"], "ok")
            # The docs page beside the API, as deploy/apache/groupd.conf serves it.
            r = a.request("GET", "/groupd/docs/")
            self.assertEqual((r.status, r.header("content-type").split(";")[0]), (200, "text/html"), r)
            self.assertIn('spec-url="../openapi.json"', r.body)
            r = a.request("GET", "/groupd/docs/redoc.standalone.js")
            self.assertEqual(r.status, 200)
            # RFC 9239's text/javascript (Debian's mime.types) or nginx's application/javascript.
            self.assertIn(r.header("content-type"), ("text/javascript", "application/javascript"))
            r = a.request("GET", "/groupd/openapi.json")
            self.assertEqual((r.status, r.json["openapi"]), (200, "3.1.0"))
        finally:
            a.stop()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
