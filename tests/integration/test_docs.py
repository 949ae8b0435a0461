"""Integration test: the quick start, and the /docs/ page it serves, in headless Chromium.

deploy/quickstart.sh (the README's first command) runs with its own port and
directories; the page must load from its nginx with nothing from outside
127.0.0.1 (Chromium resolves every other host to nothing) and list the group
endpoints, and the printed demo key must create and read a group.
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import ROOT, free_port, http_request

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
QUICKSTART = os.path.join(ROOT, "deploy", "quickstart.sh")


class QuickStartDocsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="groupd-qs-")
        os.chmod(cls.dir, 0o755)
        cls.port = free_port()
        cls.env = dict(os.environ, GROUPD_DEMO_PORT=str(cls.port), GROUPD_DEMO_RUN=os.path.join(cls.dir, "run"),
                       GROUPD_DEMO_VAR=os.path.join(cls.dir, "var"))
        r = subprocess.run([QUICKSTART], env=cls.env, capture_output=True, text=True, timeout=900)
        cls.out = r.stdout
        if r.returncode != 0:
            cls.tearDownClass()
            raise RuntimeError(f"quickstart failed: {r.stdout}{r.stderr}")

    @classmethod
    def tearDownClass(cls):
        subprocess.run([QUICKSTART, "stop"], env=cls.env, capture_output=True, timeout=60)
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_prints_the_docs_address_and_a_working_key(self):
        self.assertIn(f"API reference: http://127.0.0.1:{self.port}/docs/", self.out)
        key = re.search(r"^(gdk_\S+)$", self.out, re.M).group(1)
        r = http_request(self.port, "POST", "/group", key, {"name": "Klas 1A", "externalId": "1A-qs"})
        self.assertEqual(r.status, 200, r)
        r = http_request(self.port, "GET", "/group/1A-qs", key)
        self.assertEqual((r.status, r.json["name"]), (200, "Klas 1A"))

    def test_docs_files_have_their_content_types(self):
        for path, ctype in (("/docs/", "text/html"), ("/docs/index.html", "text/html"),
                            ("/docs/redoc.standalone.js", "application/javascript")):
            r = http_request(self.port, "GET", path)
            self.assertEqual(r.status, 200, (path, r))
            self.assertEqual(r.header("content-type").split(";")[0], ctype, path)
        page = http_request(self.port, "GET", "/docs/").body
        # Every script and stylesheet is one of ours, beside the page.
        for src in re.findall(r'(?:src|href)="([^"]+)"', page):
            self.assertFalse(re.match(r"^[a-z]+:|^//", src), src)

    def test_page_lists_the_group_endpoints_without_internet(self):
        self.assertTrue(os.access(CHROMIUM, os.X_OK), "chromium is not installed")
        profile = tempfile.mkdtemp(prefix="chromium-", dir=self.dir)
        r = subprocess.run([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            f"--user-data-dir={profile}",
                            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                            "--virtual-time-budget=20000", "--dump-dom",
                            f"http://127.0.0.1:{self.port}/docs/"],
                           capture_output=True, text=True, timeout=180)
        dom = r.stdout
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        # Redoc rendered the document it fetched from groupd beside the page.
        for text in ("List and search groups", "Create a group", "One group with its participants and events",
                     "Bulk import of groups (CSV)", "/group/{id}", "/group/{id}/participant",
                     "/group/{id}/event/{eventId}", "/changes"):
            self.assertIn(text, dom)
        self.assertNotIn("Something went wrong", dom)


if __name__ == "__main__":
    unittest.main()
