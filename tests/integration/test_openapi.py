"""Integration tests: GET /openapi.json (API.md §7) and the document itself.

Every answer the suite receives is validated against docs/openapi.json by
contract.py; these tests show that the document is the one served, that it lists
exactly the router's routes, that it lints clean, and that the validation fails
when an answer differs from it.
"""
import copy
import json
import os
import re
import subprocess
import unittest

import contract
from harness import ROOT, Stack

REDOCLY = os.path.join(ROOT, "docs", "site", "node_modules", ".bin", "redocly")
METHOD_BITS = {"M_GET": "get", "M_POST": "post", "M_PUT": "put", "M_PATCH": "patch", "M_DELETE": "delete"}


def router_routes():
    """(template, method) for every row of the route table in src/router.c."""
    with open(os.path.join(ROOT, "src", "router.c")) as f:
        src = f.read()
    table = src[src.index("static const struct route routes[] = {"):]
    table = table[:table.index("\n};")]
    out = set()
    for pattern, methods in re.findall(r'\{\{([^}]*)\},\s*([A-Z_| ]+),', table):
        segs = [s.strip().strip('"') for s in pattern.split(",")]
        template = "/" + "/".join("{" + s[1:] + "}" if s.startswith(":") else s for s in segs)
        for bit in methods.split("|"):
            out.add((template, METHOD_BITS[bit.strip()]))
    return out


class OpenApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Stack(workers=1).start()
        cls.key = cls.s.key(100, "admin")

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def test_served_document_is_the_file(self):
        with open(contract.DOC_PATH, "rb") as f:
            want = f.read()
        for prefix in ("", "/api"):
            r = self.s.request("GET", prefix + "/openapi.json")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("content-type"), "application/json; charset=utf-8")
            self.assertEqual(r.body.encode(), want)
        doc = json.loads(want)
        self.assertEqual(doc["openapi"], "3.1.0")

    def test_document_lists_exactly_the_routes(self):
        # The route templates the paths use are the router's; params names aside.
        norm = lambda t: re.sub(r"\{[^}]*\}", "{}", t)
        documented = {(norm(t), m) for t, ops in contract.DOC["paths"].items() for m in ops
                      if m in contract.METHODS}
        self.assertEqual(documented, {(norm(t), m) for t, m in router_routes()})
        for template, ops in contract.DOC["paths"].items():
            for method, op in ops.items():
                if method not in contract.METHODS:
                    continue
                self.assertTrue(op.get("summary") and op.get("operationId"), (template, method))
                # Every success has an example, inline or on its schema.
                for status, resp in op["responses"].items():
                    if status.startswith("2"):
                        self.assertIn("description", contract._deref(resp))

    def test_lint_is_clean(self):
        self.assertTrue(os.access(REDOCLY, os.X_OK),
                        "@redocly/cli is not installed: npm ci --prefix docs/site")
        r = subprocess.run([REDOCLY, "lint", "--config", os.path.join(ROOT, "docs", "site", "redocly.yaml"),
                            "--format", "stylish", contract.DOC_PATH],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn(" error ", r.stdout)
        self.assertNotIn(" warning ", r.stdout)

    def test_validation_fails_on_a_drifted_answer(self):
        r = self.s.request("POST", "/group?organisation=101", self.key,
                           {"name": "doc", "externalId": "doc-1", "participants": [{"email": "a@b.nl"}]})
        self.assertEqual(r.status, 200, r)
        good = r.json
        check = lambda status, body, method="GET", path="/group/doc-1": contract.check(
            method, path, status, "application/json; charset=utf-8", json.dumps(body))
        check(200, good)  # as received: fine
        drifted = []
        extra = copy.deepcopy(good); extra["colour"] = "red"; drifted.append(extra)
        missing = copy.deepcopy(good); del missing["status"]; drifted.append(missing)
        wrong = copy.deepcopy(good); wrong["schoolYear"] = "2025"; drifted.append(wrong)
        member = copy.deepcopy(good); member["participants"][0]["email"] = None; drifted.append(member)
        status = copy.deepcopy(good); status["status"] = "gone"; drifted.append(status)
        for body in drifted:
            with self.assertRaises(contract.ContractError, msg=body):
                check(200, body)
        # A status the operation does not document, an error in the wrong shape,
        # a known path answering 404 without a route, a wrong Content-Type.
        with self.assertRaises(contract.ContractError):
            check(418, {"status": 418, "errorCode": "not_found", "userMessage": "x", "context": []})
        with self.assertRaises(contract.ContractError):
            check(404, {"status": 404, "errorCode": "no_such_thing", "userMessage": "x", "context": []})
        with self.assertRaises(contract.ContractError):
            check(404, {"status": 404, "errorCode": "not_found", "userMessage": "x"})
        with self.assertRaises(contract.ContractError):
            check(200, good, path="/no/such/path")
        with self.assertRaises(contract.ContractError):
            check(200, good, method="TRACE")
        with self.assertRaises(contract.ContractError):
            contract.check("GET", "/group/doc-1", 200, "text/html", json.dumps(good))
        # A list answer: fields= subsets are fine, unknown members are not.
        r = self.s.request("GET", "/group?fields=name", self.key)
        self.assertEqual(set(r.json["results"][0]), {"id", "name"})
        bad = r.json
        bad["results"][0]["secret"] = 1
        with self.assertRaises(contract.ContractError):
            check(200, bad, path="/group")

    def test_every_documented_error_code_is_the_contracts(self):
        codes = set(contract.DOC["components"]["schemas"]["Error"]["properties"]["errorCode"]["enum"])
        with open(os.path.join(ROOT, "..", "shared", "API.md")) as f:
            api = f.read()
        table = api[api.index("| status | errorCode | when |"):api.index("When several apply")]
        in_contract = set()
        for cell in re.findall(r"^\| \d{3} \| ([^|]+)\|", table, re.M):
            in_contract |= set(re.findall(r"`([a-z_]+)`", cell))
        self.assertEqual(len(in_contract), 15)
        self.assertEqual(codes, in_contract)

if __name__ == "__main__":
    unittest.main()
