"""Checks every answer the integration suite receives against docs/openapi.json.

http_request and fcgi_request (harness.py) call check() on each answer, so the
document cannot drift from the code: an answer whose status is not documented for
its operation, or whose JSON does not match that status's schema, fails the test
that received it.  Paths no route matches must be a 404 error, methods a path does
not list a 405 error, both in the Error shape.
"""
import json
import os
import urllib.parse

import jsonschema  # Debian's python3-jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC_PATH = os.path.join(ROOT, "docs", "openapi.json")
# The prefixes the test web servers mount groupd under (SCRIPT_NAME).
PREFIXES = ("/api", "/fd0", "/groupd")
METHODS = ("get", "put", "post", "delete", "patch")

with open(DOC_PATH) as f:
    DOC = json.load(f)
COMPONENTS = DOC["components"]

# Literal routes before those with parameters, as groupd's router tries them.
TEMPLATES = sorted(((t, t.strip("/").split("/")) for t in DOC["paths"]),
                   key=lambda ts: (sum(s.startswith("{") for s in ts[1]), ts[0]))

_validators = {}
checked = {"answers": 0}


class ContractError(AssertionError):
    pass


def _deref(obj):
    while "$ref" in obj:
        node = DOC
        for part in obj["$ref"].lstrip("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def _validator(key, schema):
    v = _validators.get(key)
    if v is None:
        root = dict(schema)
        root["components"] = COMPONENTS  # so "#/components/..." resolves
        jsonschema.Draft202012Validator.check_schema(root)
        v = jsonschema.Draft202012Validator(root, format_checker=jsonschema.FormatChecker())
        _validators[key] = v
    return v


def template_of(path):
    """The document's path template for a request path (prefix and query removed), or None."""
    segs = [urllib.parse.unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []
    for template, parts in TEMPLATES:
        if len(parts) != len(segs):
            continue
        if all(p.startswith("{") and s != "" or p == s for p, s in zip(parts, segs)):
            return template
    return None


def strip_prefix(path):
    path = path.split("?", 1)[0]
    for p in PREFIXES:
        if path == p or path.startswith(p + "/"):
            return path[len(p):] or "/"
    return path


def check(method, path, status, content_type, body):
    """Raises ContractError when the answer is not what the document says."""
    method = method.upper()
    if status == 304 or method == "HEAD":
        if body:
            raise ContractError(f"{method} {path}: {status} with a body")
        return
    template = template_of(strip_prefix(path))
    where = f"{method} {path} -> {status}"
    ops = DOC["paths"].get(template, {}) if template else {}
    op = ops.get(method.lower()) if method.lower() in METHODS else None
    if template is None:
        if status != 404:
            raise ContractError(f"{where}: no documented path matches, so it must be 404")
        schema, key = {"$ref": "#/components/schemas/Error"}, "Error"
        media = "application/json"
    elif op is None:
        if status != 405:
            raise ContractError(f"{where}: the method is not documented for {template}, so it must be 405")
        schema, key = {"$ref": "#/components/schemas/Error"}, "Error"
        media = "application/json"
    else:
        responses = op["responses"]
        resp = responses.get(str(status)) or responses.get("default")
        if resp is None:
            raise ContractError(f"{where}: status {status} is not documented for {method} {template}")
        resp = _deref(resp)
        content = resp.get("content", {})
        media = (content_type or "").split(";")[0].strip()
        if media not in content:
            raise ContractError(f"{where}: Content-Type {content_type!r} is not one of {list(content)}")
        schema, key = content[media].get("schema", {}), (template, method, status, media)
    checked["answers"] += 1
    if media != "application/json":
        return
    try:
        data = json.loads(body)
    except ValueError as e:
        raise ContractError(f"{where}: the body is not JSON ({e}): {body[:200]!r}")
    errors = sorted(_validator(key, schema).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        raise ContractError(f"{where}: does not match docs/openapi.json at "
                            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}\n"
                            f"body: {body[:500]!r}")
