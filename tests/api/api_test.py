#!/usr/bin/env python3
"""api_test.py - end-to-end tests of the REST API of `imr serve` (docs/api.md).

usage: python3 tests/api/api_test.py PATH/TO/imr SOURCE_DIR [DATABASE_URL]

Starts `imr serve` on a free loopback port against a fresh database (a new SQLite file in a
temporary folder, or DATABASE_URL when given: a fresh PostgreSQL database), talks to it
with http.client the way the workbench and API clients do, and stops it at the end
(SIGTERM, checking that it stops cleanly), whatever happens. Standard library only.

Prints one line per check and a final "N passed, M failed" line; exits 1 on any failure.
"""
import base64
import datetime
import glob
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time

MAX_BODY = 65536  # the limit the server is started with (--max-body)
SECURITY_HEADERS = {
    "content-security-policy": None,
    "x-content-type-options": "nosniff",
    "x-frame-options": None,
    "referrer-policy": "no-referrer",
    "strict-transport-security": None,
}


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> list of values
        self.body = body

    def header(self, name):
        v = self.headers.get(name.lower())
        return v[0] if v else None

    def json(self):
        return json.loads(self.body.decode("utf-8"))


class OpenApi:
    """A small validator for the subset of JSON Schema that web/openapi.json uses (OpenAPI
    3.0 flavour: `nullable`, `$ref` into #/components). A keyword it does not know is an
    error, so that the file cannot use what this test would silently not check."""

    KEYWORDS = {"type", "properties", "required", "additionalProperties", "items", "enum", "$ref", "allOf",
                "nullable", "minItems", "minLength", "maxLength", "minimum", "maximum", "format",
                "description", "example", "default", "title"}
    TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}
    FORMATS = {"date": re.compile(r"\d{4}-\d{2}-\d{2}$"),
               "date-time": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")}

    def __init__(self, doc):
        self.doc = doc

    def resolve(self, obj):
        seen = 0
        while isinstance(obj, dict) and "$ref" in obj:
            ref = obj["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"unsupported $ref {ref}")
            node = self.doc
            for part in ref[2:].split("/"):
                node = node[part]
            obj, seen = node, seen + 1
            if seen > 20:
                raise ValueError(f"$ref loop at {ref}")
        return obj

    def schema(self, name):
        return self.doc["components"]["schemas"][name]

    def errors(self, value, schema, where="$"):
        """Every way `value` breaks `schema`, as "where: what" lines."""
        unknown = set(schema) - self.KEYWORDS
        if unknown:
            raise ValueError(f"{where}: keywords the test does not check: {sorted(unknown)}")
        if "$ref" in schema:
            target = self.resolve(schema)
            if value is None and schema.get("nullable"):
                return []
            return self.errors(value, target, where)
        if value is None:
            return [] if schema.get("nullable") or not ("type" in schema or "allOf" in schema) else \
                [f"{where}: null is not allowed"]
        out = []
        for sub in schema.get("allOf", []):
            out += self.errors(value, sub, where)
        t = schema.get("type")
        if t:
            if t == "integer":
                ok = isinstance(value, int) and not isinstance(value, bool)
            elif t == "number":
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            elif t in self.TYPES:
                ok = isinstance(value, self.TYPES[t])
            else:
                raise ValueError(f"{where}: unknown type {t}")
            if not ok:
                return out + [f"{where}: expected {t}, found {type(value).__name__} {json.dumps(value)[:60]}"]
        if "enum" in schema and value not in schema["enum"]:
            out.append(f"{where}: {json.dumps(value)[:60]} is not one of {schema['enum']}")
        if isinstance(value, dict):
            props = schema.get("properties", {})
            for k in schema.get("required", []):
                if k not in value:
                    out.append(f"{where}: the required member {k!r} is missing")
            extra = schema.get("additionalProperties", True)
            for k, v in value.items():
                if k in props:
                    out += self.errors(v, props[k], f"{where}.{k}")
                elif extra is False:
                    out.append(f"{where}: member {k!r} is not in the schema")
                elif isinstance(extra, dict):
                    out += self.errors(v, extra, f"{where}.{k}")
        if isinstance(value, list):
            if len(value) < schema.get("minItems", 0):
                out.append(f"{where}: fewer than {schema['minItems']} items")
            for i, v in enumerate(value):
                if "items" in schema:
                    out += self.errors(v, schema["items"], f"{where}[{i}]")
        if isinstance(value, str):
            if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", 1 << 62):
                out.append(f"{where}: length {len(value)} outside the schema's bounds")
            f = self.FORMATS.get(schema.get("format"))
            if f and not f.match(value):
                out.append(f"{where}: {value!r} is not a {schema['format']}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"] or "maximum" in schema and value > schema["maximum"]:
                out.append(f"{where}: {value} outside [{schema.get('minimum')}, {schema.get('maximum')}]")
        return out

    def operation(self, method, path):
        """(template, operation) of the request, or (None, None) for routes outside the API."""
        segs = path.split("?", 1)[0].split("/")
        for tpl, ops in self.doc.get("paths", {}).items():
            t = tpl.split("/")
            if len(t) == len(segs) and all(a == b or (a.startswith("{") and a.endswith("}") and b) for a, b in zip(t, segs)):
                op = ops.get(method.lower())
                if op:
                    return tpl, op
        return None, None

    def exchange_errors(self, method, path, res):
        """What in one request and its response the OpenAPI description does not say."""
        tpl, op = self.operation(method, path)
        if not op:
            return None, []
        out = []
        resp = op.get("responses", {}).get(str(res.status)) or op.get("responses", {}).get("default")
        if resp is None:
            return tpl, [f"status {res.status} is not among the documented answers"]
        resp = self.resolve(resp)
        ctype = (res.header("content-type") or "").split(";")[0].strip()
        content = resp.get("content", {})
        if res.body and ctype:
            if ctype not in content:
                out.append(f"status {res.status}: content type {ctype} is not documented")
            elif ctype.endswith("json"):
                sch = content[ctype].get("schema")
                if sch:
                    out += [f"answer {res.status} {e}" for e in self.errors(json.loads(res.body.decode("utf-8")), sch)]
        elif content and res.status != 204 and not res.body:
            out.append(f"status {res.status}: an empty body where content is documented")
        body = getattr(res, "sent", None)
        rb = self.resolve(op.get("requestBody", {}))
        if 200 <= res.status < 300 and isinstance(body, dict) and rb:
            sch = rb.get("content", {}).get("application/json", {}).get("schema")
            if sch:
                out += [f"request body {e}" for e in self.errors(body, sch)]
        return tpl, out


class Client:
    """A tiny HTTP client: explicit headers, bodies and cookies (http.cookiejar would not
    send the Secure session cookie over plain HTTP, which is what the test must see)."""

    def __init__(self, port):
        self.port = port
        self.seen = []  # every (method, path, response), for the header checks

    def request(self, method, path, body=None, headers=None, raw=None):
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            h.setdefault("Content-Type", "application/json")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            hdrs = {}
            for k, v in r.getheaders():
                hdrs.setdefault(k.lower(), []).append(v)
            res = Response(r.status, hdrs, r.read())
        finally:
            conn.close()
        res.sent = body  # the JSON body of the request, for the OpenAPI checks
        self.seen.append((method, path, res))
        return res


class Auth:
    """Credentials: a bearer token, or a session cookie (+ CSRF token)."""

    def __init__(self, token=None, cookie=None, csrf=None):
        self.token, self.cookie, self.csrf = token, cookie, csrf

    def headers(self, csrf=True):
        h = {}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        if self.cookie:
            h["Cookie"] = "imr_session=" + self.cookie
            if csrf and self.csrf:
                h["X-CSRF-Token"] = self.csrf
        return h


class Suite:
    def __init__(self, imr, src, db_url, label):
        self.imr, self.src, self.db_url, self.label = imr, src, db_url, label
        self.passed = self.failed = 0
        self.proc = None
        self.c = None
        self.tmp = None
        self.log = None

    # -- bookkeeping ------------------------------------------------------------------
    def check(self, name, cond, why=""):
        if cond:
            self.passed += 1
            print(f"ok   [{self.label}] {name}")
        else:
            self.failed += 1
            print(f"FAIL [{self.label}] {name}: {why}")
        return cond

    def problem(self, name, r, status, pointer=None, slug=None):
        """r is a problem document with this status (and this field pointer / type)."""
        why = ""
        try:
            p = r.json()
        except Exception:
            p = None
        if r.status != status:
            why = f"status {r.status}, expected {status}: {r.body[:300]!r}"
        elif r.header("content-type") != "application/problem+json":
            why = f"content type {r.header('content-type')}"
        elif not isinstance(p, dict) or not all(k in p for k in ("type", "title", "status", "detail", "instance")):
            why = f"not a full problem document: {r.body[:300]!r}"
        elif p["status"] != status:
            why = f"problem status {p['status']}"
        elif slug and p["type"] != "/problems/" + slug:
            why = f"type {p['type']}, expected /problems/{slug}"
        elif pointer is not None:
            ptrs = [e.get("pointer") for e in p.get("errors", [])]
            if pointer not in ptrs:
                why = f"errors pointers {ptrs}, expected {pointer!r}; detail {p.get('detail')!r}"
        return self.check(name, not why, why)

    # -- the server -------------------------------------------------------------------
    def start(self, *extra):
        if not self.tmp:
            self.tmp = tempfile.mkdtemp(prefix="imr-api-test.")
        db = self.db_url or os.path.join(self.tmp, "api.db")
        args = [self.imr, "serve", "--db", db, "--port", "0", "--threads", "2",
                "--max-body", str(MAX_BODY), "--web", os.path.join(self.src, "web"), *extra]
        if not self.log:
            self.log = open(os.path.join(self.tmp, "server.log"), "a+")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        port = None
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
            if m:
                port = int(m.group(1))
                break
        if not port:
            self.stop()
            self.log.seek(0)
            raise RuntimeError("the server did not start: " + self.log.read()[-2000:])
        seen = self.c.seen if self.c else []
        self.c = Client(port)
        self.c.seen = seen  # the header checks look at every response of the run

    def stop(self):
        """SIGTERM, and the server must exit 0 on its own (a clean stop)."""
        if not self.proc or self.proc.poll() is not None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "killed"
        rest = self.proc.stdout.read() if self.proc.stdout else ""
        return rc, rest

    # -- helpers ----------------------------------------------------------------------
    def login(self, username, password):
        r = self.c.request("POST", "/api/session", {"username": username, "password": password})
        if r.status != 200:
            raise RuntimeError(f"login {username}: {r.status} {r.body[:200]!r}")
        cookie = re.match(r"imr_session=([0-9a-f]+);", r.header("set-cookie") or "")
        return Auth(cookie=cookie.group(1), csrf=r.json()["csrf_token"]), r

    def token_for(self, admin, user_id, label):
        r = self.c.request("POST", "/api/tokens", {"user_id": user_id, "label": label}, admin.headers())
        if r.status != 201:
            raise RuntimeError(f"token for {user_id}: {r.status} {r.body[:200]!r}")
        return Auth(token=r.json()["token"])

    def case_file(self, number, received_days_ago=3):
        with open(os.path.join(self.src, "examples/cases/CM15-0000001.json")) as f:
            c = json.load(f)
        today = datetime.date.today()
        c["case_number"] = number
        c["ur_decision_date"] = (today - datetime.timedelta(days=received_days_ago + 3)).isoformat()
        c["application_received"] = (today - datetime.timedelta(days=received_days_ago)).isoformat()
        c["application_signed"] = (today - datetime.timedelta(days=received_days_ago + 1)).isoformat()
        c["ur_decision_attached"] = True
        c["dispute_type"] = "medical_necessity"
        c["parties"] = [{"role": "employee", "name": "Test Worker " + number},
                        {"role": "employer", "name": "Test Employer Inc."},
                        {"role": "claims_administrator", "name": "Test Claims LLC"}]
        return c

    # -- the checks -------------------------------------------------------------------
    def run(self):
        self.start()
        try:
            self.checks()
        finally:
            res = self.stop()
            if res is not None:
                rc, out = res
                self.check("SIGTERM stops the server cleanly (exit 0)", rc == 0 and "stopping" in out,
                           f"exit {rc}, output {out!r}")
            self.log.seek(0)
            log = self.log.read()
            self.check("the server's log has no sanitizer report or crash",
                       not re.search(r"AddressSanitizer|LeakSanitizer|runtime error|Segmentation", log), log[-2000:])
            if self.failed and log:
                print(f"--- server log ({self.label}) ---\n{log[-3000:]}")

    def checks(self):
        c = self.c
        # service routes
        r = c.request("GET", "/healthz")
        self.check("GET /healthz answers ok", r.status == 200 and r.json().get("status") == "ok", r.body[:200])
        self.check("healthz names the backend", r.json().get("database") == ("postgresql" if self.db_url else "sqlite"),
                   r.body[:200])
        self.openapi_checks()
        self.anonymous_checks()

        # a fresh database has no users: the demo data brings the first administrator
        admin = self.bootstrap_admin()
        self.session_checks(admin)
        admin_tok = self.token_checks(admin)
        users = self.user_checks(admin_tok)
        self.case_input_checks(users["intake"])
        self.size_checks(users["intake"])
        self.analyst_checks(users["analyst"])
        self.workflow(admin_tok, users)
        self.rate_limit_checks()
        self.logout_checks(admin)
        self.header_checks()
        self.schema_checks()

    def bootstrap_admin(self):
        """Stop the server, load the demo accounts into the same database, start again:
        the demo's administrator signs in (also checks that --demo is idempotent)."""
        for _ in range(2):  # the second load must change nothing and still start
            res = self.stop()
            self.check("the server stops cleanly between runs", res is not None and res[0] == 0, repr(res))
            self.start("--demo")
        r = self.c.request("GET", "/api/cases?limit=500", headers={})
        self.check("a second --demo start works", r.status == 401, f"{r.status}")
        admin, r = self.login("admin", "admin-demo-password")
        self.check("login answers the user and a CSRF token",
                   r.json()["user"]["role"] == "administrator" and len(r.json()["csrf_token"]) >= 32, r.body[:200])
        cookie = r.header("set-cookie") or ""
        attrs = [a.strip().lower() for a in cookie.split(";")[1:]]
        self.check("session cookie is HttpOnly; Secure; SameSite=Strict; Path=/",
                   all(a in attrs for a in ("httponly", "secure", "samesite=strict", "path=/")), cookie)
        self.check("session token is 256 bits of hex", re.match(r"imr_session=[0-9a-f]{64};", cookie) is not None,
                   cookie)
        r = self.c.request("GET", "/api/cases?limit=500", headers=admin.headers())
        cases = r.json().get("cases", []) if r.status == 200 else []
        statuses = {x.get("status") for x in cases}
        self.check("demo data: 10+ cases in several states", len(cases) >= 10 and len(statuses) >= 4,
                   f"{len(cases)} cases, statuses {statuses}")
        r = self.c.request("GET", "/api/reviewers", headers=admin.headers())
        self.check("demo data: a panel of 6+ reviewers",
                   r.status == 200 and len(r.json().get("reviewers", [])) >= 6, r.body[:200])
        return admin

    def openapi_checks(self):
        r = self.c.request("GET", "/openapi.json")
        try:
            doc = r.json()
        except Exception as e:
            self.check("/openapi.json is valid JSON", False, str(e))
            return
        self.api = OpenApi(doc)
        self.doc_checks(doc)
        self.check("/openapi.json is valid JSON served as application/json",
                   r.status == 200 and (r.header("content-type") or "").startswith("application/json"),
                   r.header("content-type"))
        self.check("/openapi.json is OpenAPI 3", str(doc.get("openapi", "")).startswith("3."), doc.get("openapi"))
        routes = subprocess.run([self.imr, "serve", "--list-routes"], capture_output=True, text=True).stdout.split("\n")
        routes = [l.split(" ", 1) for l in routes if l.strip()]
        missing = [f"{m} {p}" for m, p in routes if m.lower() not in doc.get("paths", {}).get(p, {})]
        self.check(f"every route of the server ({len(routes)}) is in /openapi.json", routes and not missing,
                   f"missing: {missing}")
        served = {(m.upper(), p) for m, p in routes}
        extra = [f"{m.upper()} {p}" for p, ops in doc.get("paths", {}).items() for m in ops
                 if m in ("get", "post", "put", "patch", "delete") and p != "/openapi.json"
                 and (m.upper(), p) not in served]
        self.check("every operation of /openapi.json is a route of the server", not extra, f"extra: {extra}")

    def doc_checks(self, doc):
        """docs/api.md and the OpenAPI file agree: every route of the server is explained in
        the page, and each example the page marks with <!-- schema: Name --> is valid JSON
        that the schema of that name accepts."""
        with open(os.path.join(self.src, "docs/api.md"), encoding="utf-8") as f:
            page = f.read()
        routes = subprocess.run([self.imr, "serve", "--list-routes"], capture_output=True, text=True).stdout.split("\n")
        routes = [l.split(" ", 1) for l in routes if l.strip()]
        unexplained = [f"{m} {p}" for m, p in routes
                       if not re.search(r"`" + re.escape(f"{m} {p}") + r"[`?\s]", page)]
        self.check(f"docs/api.md explains every route of the server ({len(routes)})", routes and not unexplained,
                   f"not in the page: {unexplained}")
        examples = re.findall(r"<!-- schema: (\w+) -->\s*```json\n(.*?)```", page, re.S)
        bad = []
        for name, text in examples:
            try:
                value = json.loads(text)
                if name not in doc["components"]["schemas"]:
                    bad.append(f"{name}: no such schema")
                    continue
                bad += [f"{name} {e}" for e in self.api.errors(value, self.api.schema(name))]
            except (ValueError, KeyError) as e:
                bad.append(f"{name}: {e}")
        self.check(f"the examples of docs/api.md match the OpenAPI schemas ({len(examples)})",
                   len(examples) >= 5 and not bad, "; ".join(bad[:6]) or f"only {len(examples)} marked examples")

    def schema_checks(self):
        """Every request this run made and every answer it got, held against web/openapi.json:
        the status is documented for the operation, the JSON answer matches its schema, and a
        request body the server accepted matches the request schema."""
        by_op, exercised = {}, set()
        for method, path, res in self.c.seen:
            try:
                tpl, errs = self.api.exchange_errors(method, path, res)
            except ValueError as e:
                tpl, errs = "(the OpenAPI file)", [str(e)]
            if not tpl:
                continue
            key = f"{method} {tpl}"
            exercised.add(key)
            n, found = by_op.get(key, (0, []))
            by_op[key] = (n + 1, found + [f"{path}: {e}" for e in errs])
        for key in sorted(by_op):
            n, errs = by_op[key]
            self.check(f"OpenAPI: {key} ({n} exchanges) as documented", not errs, "; ".join(errs[:4]))
        # the schemas are strict enough to catch the shapes that once drifted apart
        case = next((r.json() for m, p, r in self.c.seen
                     if m == "GET" and re.fullmatch(r"/api/cases/[^/?]+", p) and r.status == 200), None)
        if case:
            old = dict(case)
            old["case"] = old.pop("case_file")
            self.check("the Case schema refuses a case file sent as `case`",
                       self.api.errors(old, self.api.schema("Case")) != [], "accepted")
        self.check("the CaseList schema needs `total`",
                   self.api.errors({"cases": [], "limit": 1, "offset": 0, "sort": "due_date"},
                                   self.api.schema("CaseList")) != [], "accepted")
        self.check("the Attestation schema needs a signature and knows no `agree`",
                   self.api.errors({"statement": "x", "agree": True}, self.api.schema("Attestation")) != [], "accepted")
        documented = {f"{m.upper()} {p}" for p, ops in self.api.doc["paths"].items() for m in ops
                      if m in ("get", "post", "put", "patch", "delete")}
        self.check("every operation of the OpenAPI file was exercised", documented <= exercised,
                   f"never called: {sorted(documented - exercised)}")

    def anonymous_checks(self):
        c = self.c
        r = c.request("GET", "/api/cases")
        self.problem("no credentials: 401 problem", r, 401, slug="unauthorized")
        self.check("401 says how to authenticate (WWW-Authenticate)", (r.header("www-authenticate") or "").startswith("Bearer"),
                   r.header("www-authenticate"))
        self.problem("unknown API route: 404 problem", c.request("GET", "/api/nothing-here"), 404)
        r = c.request("PATCH", "/api/cases")
        self.problem("wrong method: 405 problem", r, 405)
        self.check("405 lists the allowed methods", "GET" in (r.header("allow") or "") and "POST" in (r.header("allow") or ""),
                   r.header("allow"))
        self.problem("forged bearer token: 401", c.request("GET", "/api/cases", headers={"Authorization": "Bearer imr_" + secrets.token_hex(32)}), 401)
        self.problem("malformed Authorization header: 401", c.request("GET", "/api/cases", headers={"Authorization": "Basic YWRtaW46eA=="}), 401)
        self.problem("forged session cookie: 401", c.request("GET", "/api/session", headers={"Cookie": "imr_session=" + secrets.token_hex(32)}), 401)
        self.problem("static path escaping the web folder: 404", c.request("GET", "/../../etc/passwd"), 404)
        self.problem("hidden static file: 404", c.request("GET", "/.git/config"), 404)

    def session_checks(self, admin):
        c = self.c
        r = c.request("GET", "/api/session", headers=admin.headers())
        self.check("whoami by cookie: the user, auth=cookie and the same CSRF token",
                   r.status == 200 and r.json()["user"]["username"] == "admin" and r.json()["auth"] == "cookie"
                   and r.json()["csrf_token"] == admin.csrf, r.body[:300])
        self.problem("wrong password: 401", c.request("POST", "/api/session", {"username": "admin", "password": "not the password"}), 401)
        self.problem("unknown user: 401", c.request("POST", "/api/session", {"username": "nobody-at-all", "password": "whatever-password"}), 401)
        self.problem("login without password: 422 with pointer", c.request("POST", "/api/session", {"username": "admin"}), 422, "/password")
        body = {"label": "csrf check"}
        self.problem("cookie POST without X-CSRF-Token: 403", c.request("POST", "/api/tokens", body, admin.headers(csrf=False)), 403, slug="csrf")
        bad = Auth(cookie=admin.cookie, csrf=secrets.token_hex(32))
        self.problem("cookie POST with a wrong X-CSRF-Token: 403", c.request("POST", "/api/tokens", body, bad.headers()), 403, slug="csrf")
        r = c.request("POST", "/api/tokens", body, admin.headers())
        self.check("cookie POST with the right X-CSRF-Token works", r.status == 201, r.body[:200])
        r = c.request("GET", "/api/cases", headers=admin.headers(csrf=False))
        self.check("cookie GET needs no CSRF token", r.status == 200, r.body[:200])

    def token_checks(self, admin):
        c = self.c
        r = c.request("POST", "/api/tokens", {"label": "api test"}, admin.headers())
        tok = r.json().get("token", "") if r.status == 201 else ""
        self.check("token created (imr_ + 256 bits)", re.fullmatch(r"imr_[0-9a-f]{64}", tok) is not None, r.body[:200])
        bearer = Auth(token=tok)
        r = c.request("GET", "/api/session", headers=bearer.headers())
        self.check("bearer token works (whoami auth=bearer, no CSRF token)",
                   r.status == 200 and r.json().get("auth") == "bearer" and "csrf_token" not in r.json(), r.body[:200])
        r = c.request("POST", "/api/tokens", {"label": "by bearer"}, bearer.headers())
        self.check("bearer POST needs no CSRF token", r.status == 201, r.body[:200])
        # revocation
        r = c.request("POST", "/api/tokens", {"label": "to revoke"}, bearer.headers())
        victim = r.json()
        r = c.request("DELETE", "/api/tokens/" + victim["id"], headers=bearer.headers())
        self.check("token revoked: 204", r.status == 204, r.body[:200])
        self.problem("revoked token: 401", c.request("GET", "/api/session", headers={"Authorization": "Bearer " + victim["token"]}), 401)
        r = c.request("GET", "/api/tokens", headers=bearer.headers())
        listed = {t["id"]: t for t in r.json().get("tokens", [])} if r.status == 200 else {}
        self.check("token list shows the revocation and no secrets",
                   listed.get(victim["id"], {}).get("revoked") is True and victim["token"] not in r.body.decode(),
                   r.body[:300])
        # expiry
        soon = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
        r = c.request("POST", "/api/tokens", {"label": "short", "expires_at": soon}, bearer.headers())
        short = r.json().get("token") if r.status == 201 else None
        self.check("short-lived token created", short is not None, r.body[:200])
        if short:
            ok_before = c.request("GET", "/api/session", headers={"Authorization": "Bearer " + short}).status == 200
            time.sleep(4.2)
            r = c.request("GET", "/api/session", headers={"Authorization": "Bearer " + short})
            self.check("expired token: 401 (it worked before expiring)", ok_before and r.status == 401, f"{ok_before} {r.status}")
        past = "2001-01-01T00:00:00Z"
        self.problem("token expiring in the past: 422", c.request("POST", "/api/tokens", {"expires_at": past}, bearer.headers()), 422, "/expires_at")
        return bearer

    def user_checks(self, admin):
        c = self.c
        # a small panel of our own, so the test knows who qualifies
        panel = {
            "T-2001": {"specialties": ["Physical Medicine and Rehabilitation"], "subspecialties": ["Pain Medicine"],
                       "board_certified": True, "licensure": ["California"], "years_in_practice": 12,
                       "hours_per_week": 30, "capacity": 50, "affiliations": []},
            # affiliated with the claims administrator of every test case (spelled otherwise)
            "T-2002": {"specialties": ["Anesthesiology"], "subspecialties": ["Pain Medicine"],
                       "board_certified": True, "licensure": ["California"], "years_in_practice": 15,
                       "hours_per_week": 30, "capacity": 50,
                       "affiliations": [{"kind": "claims_administrator", "name": "TEST CLAIMS, L.L.C."}]},
        }
        for rid, prof in panel.items():
            r = c.request("POST", "/api/reviewers", dict(prof, id=rid), admin.headers())
            self.check(f"reviewer {rid} added to the panel: 201", r.status == 201, r.body[:300])
        r = c.request("PUT", "/api/reviewers/T-2002", dict(panel["T-2002"], hours_per_week=32), admin.headers())
        self.check("reviewer profile replaced with PUT: 200", r.status == 200, r.body[:300])
        made = {}
        specs = [("t-intake", "intake", None), ("t-analyst", "analyst", None),
                 ("t-rev1", "reviewer", "T-2001"), ("t-rev2", "reviewer", "T-2002")]
        for name, role, rid in specs:
            body = {"username": name, "password": name + "-long-password", "role": role}
            if rid:
                body["reviewer_id"] = rid
            r = c.request("POST", "/api/users", body, admin.headers())
            ok = r.status == 201 and r.json().get("role") == role and "password_hash" not in r.json()
            self.check(f"user {name} ({role}) created", ok, r.body[:300])
            if ok:
                made[name] = r.json()["id"]
        self.problem("taken username: 409", c.request("POST", "/api/users", {"username": "t-intake", "password": "another-long-password", "role": "intake"}, admin.headers()), 409)
        self.problem("short password: 422 at /password", c.request("POST", "/api/users", {"username": "t-short", "password": "short", "role": "intake"}, admin.headers()), 422, "/password")
        self.problem("unknown role: 422 at /role", c.request("POST", "/api/users", {"username": "t-role", "password": "a-long-password", "role": "boss"}, admin.headers()), 422, "/role")
        self.problem("reviewer account without panel id: 422", c.request("POST", "/api/users", {"username": "t-rev9", "password": "a-long-password", "role": "reviewer"}, admin.headers()), 422, "/reviewer_id")
        r = c.request("GET", "/api/users", headers=admin.headers())
        self.check("user list has the users and no password hashes",
                   r.status == 200 and all(n in r.body.decode() for n in made) and "argon2" not in r.body.decode(), r.body[:200])
        out = {"intake": self.token_for(admin, made["t-intake"], "intake"),
               "analyst": self.token_for(admin, made["t-analyst"], "analyst"),
               "rev1": self.token_for(admin, made["t-rev1"], "rev1"),
               "rev2": self.token_for(admin, made["t-rev2"], "rev2")}
        out["reviewer_of"] = {"T-2001": out["rev1"], "T-2002": out["rev2"]}
        r = c.request("POST", "/api/tokens", {"user_id": made["t-intake"]}, out["rev1"].headers())
        self.problem("a reviewer cannot make tokens for others: 403", r, 403)
        self.problem("a non-administrator cannot create users: 403",
                     c.request("POST", "/api/users", {"username": "t-x", "password": "a-long-password", "role": "intake"}, out["intake"].headers()), 403)
        return out

    def case_input_checks(self, intake):
        c = self.c
        h = intake.headers()
        good = self.case_file("CM26-9000001")
        bad = dict(good, disputed_items=[{"request": 5}])
        self.problem("case with a wrong type: 422 at /disputed_items/0/request", c.request("POST", "/api/cases", bad, h), 422, "/disputed_items/0/request")
        bad = {k: v for k, v in good.items() if k != "case_number"}
        self.problem("case without case_number: 422 at /case_number", c.request("POST", "/api/cases", bad, h), 422, "/case_number")
        bad = dict(good, date_of_injury="2015-02-30")
        self.problem("case with an impossible date: 422 at /date_of_injury", c.request("POST", "/api/cases", bad, h), 422, "/date_of_injury")
        bad = dict(good, claimant={"age": "forty"})
        self.problem("case with a string age: 422 at /claimant/age", c.request("POST", "/api/cases", bad, h), 422, "/claimant/age")
        bad = dict(good, disputed_items=[])
        self.problem("case without disputed items: 422 at /disputed_items", c.request("POST", "/api/cases", bad, h), 422, "/disputed_items")
        r = c.request("POST", "/api/cases", raw=b'{"case_number": "CM26-1", ', headers=dict(h, **{"Content-Type": "application/json"}))
        self.problem("malformed JSON: 400", r, 400, "")
        r = c.request("POST", "/api/cases", raw=b"[1, 2]", headers=dict(h, **{"Content-Type": "application/json"}))
        self.problem("JSON that is not an object: 400", r, 400)
        r = c.request("POST", "/api/cases", raw=json.dumps(good).encode(), headers=dict(h, **{"Content-Type": "text/plain"}))
        self.problem("body that is not declared JSON: 415", r, 415)
        self.problem("bad query parameter: 400", c.request("GET", "/api/cases?limit=zero", headers=h), 400)

    def size_checks(self, intake):
        c = self.c
        big = self.case_file("CM26-9000002")
        big["clinical_summary"] = "x" * (MAX_BODY + 10)
        self.problem("body above the limit: 413", c.request("POST", "/api/cases", big, intake.headers()), 413, slug="payload-too-large")
        # a declared length far beyond the limit is refused before any body is read
        conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=30)
        try:
            conn.putrequest("POST", "/api/cases")
            for k, v in dict(intake.headers(), **{"Content-Type": "application/json", "Content-Length": str(10 ** 9)}).items():
                conn.putheader(k, v)
            conn.endheaders()
            r = conn.getresponse()
            status, ctype = r.status, r.getheader("Content-Type")
        except Exception as e:
            status, ctype = str(e), None
        finally:
            conn.close()
        self.check("declared 1 GB body: 413 at once", status == 413 and ctype == "application/problem+json", f"{status} {ctype}")
        r = c.request("GET", "/healthz")
        self.check("the server still answers after the oversized bodies", r.status == 200, r.status)

    def analyst_checks(self, analyst):
        c = self.c
        r = c.request("GET", "/api/cases", headers=analyst.headers())
        self.check("an analyst can read the case list", r.status == 200, r.body[:200])
        self.problem("an analyst cannot create a case: 403", c.request("POST", "/api/cases", self.case_file("CM26-9000003"), analyst.headers()), 403)
        self.problem("an analyst cannot change the panel: 403", c.request("PUT", "/api/reviewers/T-2001", {"specialties": ["Neurology"], "licensure": ["California"]}, analyst.headers()), 403)

    def workflow(self, admin, users):
        c = self.c
        intake = users["intake"]
        body = self.case_file("CM26-9000010")
        r = c.request("POST", "/api/cases", body, intake.headers())
        if not self.check("intake registers a case: 201 with Location", r.status == 201 and r.header("location"), r.body[:300]):
            return
        case = r.json()
        cid = case["id"]
        self.check("Location names the case", r.header("location") == "/api/cases/" + cid, r.header("location"))
        self.check("the new case has a due date and days left",
                   case.get("status") == "received" and case.get("due_date") and isinstance(case.get("days_left"), int), r.body[:300])
        r = c.request("POST", f"/api/cases/{cid}/documents",
                      {"kind": "medical_record", "title": "Progress report", "date": datetime.date.today().isoformat(),
                       "author": "Treating physician", "text": "Pain 6/10 with medication, 9/10 without."}, intake.headers())
        self.check("a document is attached: 201", r.status == 201, r.body[:300])
        r = c.request("POST", f"/api/cases/{cid}/screen", None, intake.headers())
        self.check("screening finds the application eligible", r.status == 200 and r.json().get("status") == "eligible", r.body[:400])
        self.problem("screening twice: 409", c.request("POST", f"/api/cases/{cid}/screen", None, intake.headers()), 409)
        self.problem("manual assignment without a reason: 422 at /reason",
                     c.request("POST", f"/api/cases/{cid}/assign", {"reviewer_id": "T-2001"}, admin.headers()), 422, "/reason")
        cand = self.candidate_checks(cid, admin, intake, users)
        r = c.request("POST", f"/api/cases/{cid}/assign", {}, admin.headers())
        rid = (r.json().get("assignment") or {}).get("reviewer_id") if r.status == 200 else None
        if not self.check("automatic assignment picks a panel reviewer", r.status == 200 and rid, r.body[:400]):
            return
        self.check("automatic assignment chose whom the candidates named", cand.get("automatic_choice") == rid,
                   f"{cand.get('automatic_choice')} != {rid}")
        r = c.request("GET", f"/api/cases/{cid}/candidates", headers=users["reviewer_of"].get(rid, admin).headers())
        if rid in users["reviewer_of"]:
            rows = r.json().get("candidates", []) if r.status == 200 else []
            self.check("the assigned reviewer sees only their own row of the candidates",
                       [x["id"] for x in rows] == [rid] and rows[0]["current"] is True, r.body[:300])
        # the panel holds the demo reviewers and the test's own: act as whoever was chosen
        r = c.request("GET", "/api/users", headers=admin.headers())
        uid = [u["id"] for u in r.json().get("users", []) if u.get("reviewer_id") == rid] if r.status == 200 else []
        if not self.check("the assigned reviewer has an account", len(uid) == 1, f"{rid}: {uid}"):
            return
        reviewer = self.token_for(admin, uid[0], "assigned reviewer")
        other = users["reviewer_of"]["T-2002" if rid == "T-2001" else "T-2001"]
        self.problem("another reviewer cannot read the case: 404", c.request("GET", f"/api/cases/{cid}", headers=other.headers()), 404)
        r = c.request("GET", "/api/cases?limit=500", headers=other.headers())
        self.check("another reviewer's queue does not list it", r.status == 200 and cid not in [x["id"] for x in r.json()["cases"]], r.body[:200])
        self.problem("another reviewer cannot draft it: 404", c.request("POST", f"/api/cases/{cid}/draft", None, other.headers()), 404)
        r = c.request("GET", f"/api/cases/{cid}", headers=reviewer.headers())
        self.check("the assigned reviewer reads the case", r.status == 200 and r.json()["id"] == cid, r.body[:200])
        r = c.request("POST", f"/api/cases/{cid}/draft", None, reviewer.headers())
        self.check("the engine drafts: 201", r.status == 201, r.body[:400])
        r = c.request("GET", f"/api/cases/{cid}/determination", headers=reviewer.headers())
        rec = r.json() if r.status == 200 else {}
        items = rec.get("items", [])
        self.check("the draft record has the disputed items with criteria",
                   len(items) == len(body["disputed_items"]) and all("criteria" in it for it in items), r.body[:300])
        edits = {"items": [{"decision": it["decision"] if it.get("decision") in ("Upheld", "Overturned") else "Upheld",
                            "rationale": it.get("rationale") or "The records do not document what the guideline requires."}
                           for it in items]}
        self.problem("issuing with an item undecided or no attestation: 422",
                     c.request("POST", f"/api/cases/{cid}/issue", {"statement": " ", "signature": "x"}, reviewer.headers()), 422)
        r = c.request("POST", f"/api/cases/{cid}/decisions", edits, reviewer.headers())
        self.check("the reviewer decides every item: 200", r.status == 200, r.body[:400])
        self.problem("an administrator cannot sign for the reviewer: 403",
                     c.request("POST", f"/api/cases/{cid}/issue", {"statement": "I attest.", "signature": "admin"}, admin.headers()), 403)
        r = c.request("POST", f"/api/cases/{cid}/issue",
                      {"statement": "I have reviewed the records and attest to this determination.", "signature": "t-rev"},
                      reviewer.headers())
        self.check("the reviewer issues the letter: 201, status issued", r.status == 201 and r.json().get("status") == "issued", r.body[:400])
        r = c.request("GET", f"/api/cases/{cid}/letter?format=pdf", headers=reviewer.headers())
        cd = r.header("content-disposition") or ""
        self.check("PDF download: application/pdf, starts %PDF, attachment",
                   r.status == 200 and r.header("content-type") == "application/pdf" and r.body.startswith(b"%PDF")
                   and cd.startswith("attachment;") and ".pdf" in cd, f"{r.status} {r.header('content-type')} {cd} {r.body[:20]!r}")
        r = c.request("GET", f"/api/cases/{cid}/letter?format=text", headers=admin.headers())
        self.check("text letter: text/plain with the decision", r.status == 200 and r.header("content-type", ).startswith("text/plain")
                   and any(d.encode() in r.body for d in ("Upheld", "Overturned")), f"{r.status} {r.body[:200]!r}")
        r = c.request("GET", f"/api/cases/{cid}/letter?format=html&download=1", headers=admin.headers())
        csp = r.header("content-security-policy") or ""
        style = re.search(rb"<style[^>]*>(.*?)</style>", r.body, re.S)
        want = "'sha256-" + base64.b64encode(hashlib.sha256(style.group(1)).digest()).decode() + "'" if style else "'none'"
        self.check("HTML letter: its CSP allows exactly its own style sheet, no unsafe-inline",
                   r.status == 200 and want in csp and "unsafe-inline" not in csp and "attachment" in (r.header("content-disposition") or ""),
                   f"{r.status} {csp}")
        self.problem("unknown letter format: 400", c.request("GET", f"/api/cases/{cid}/letter?format=docx", headers=admin.headers()), 400)
        self.problem("an issued case cannot be issued again: 409",
                     c.request("POST", f"/api/cases/{cid}/issue", {"statement": "again", "signature": "x"}, reviewer.headers()), 409)
        self.correction_checks(cid, admin, intake, reviewer)
        r = c.request("GET", f"/api/cases/{cid}/audit", headers=admin.headers())
        text = r.body.decode()
        wanted = ["case.create", "document.add", "case.screen", "determination.decide", "determination.issue"]
        self.check("the case's audit trail has every step", r.status == 200 and all(w in text for w in wanted),
                   f"missing {[w for w in wanted if w not in text]}: {text[:300]}")
        r = c.request("GET", "/api/audit?limit=1000", headers=admin.headers())
        text = r.body.decode()
        wanted = ["session.login", "user.create", "token.create", "token.revoke"]
        self.check("the audit log has logins, users and tokens", r.status == 200 and all(w in text for w in wanted),
                   f"missing {[w for w in wanted if w not in text]}")
        self.problem("a reviewer cannot read the whole audit log", c.request("GET", "/api/audit", headers=reviewer.headers()), 403)
        self.problem("?draft=1 by intake (who may not draft): 403, nothing stored",
                     c.request("POST", "/api/cases?draft=1", self.case_file("CM26-9000012"), intake.headers()), 403)
        r = c.request("GET", "/api/cases?q=CM26-9000012", headers=admin.headers())
        self.check("the refused ?draft=1 case was not stored", r.status == 200 and r.json()["cases"] == [], r.body[:200])
        # creation with the engine's draft in one request
        r = c.request("POST", "/api/cases?draft=1", self.case_file("CM26-9000011"), admin.headers())
        self.check("case created with its draft in one request (?draft=1)",
                   r.status == 201 and len(r.json().get("determinations", [])) == 1, r.body[:300])
        # the queue's filters
        r = c.request("GET", "/api/cases?status=issued&limit=500", headers=admin.headers())
        ids = [x["id"] for x in r.json().get("cases", [])] if r.status == 200 else []
        self.check("filter by status", cid in ids and all(x["status"] == "issued" for x in r.json()["cases"]), r.body[:300])
        r = c.request("GET", "/api/cases?q=CM26-90000&limit=500", headers=admin.headers())
        ids = [x["id"] for x in r.json().get("cases", [])] if r.status == 200 else []
        self.check("filter by case number prefix", set(ids) >= {cid} and all(i.startswith("CM26-90000") for i in ids), ids)
        r = c.request("GET", "/api/cases?overdue=1&limit=500", headers=admin.headers())
        self.check("filter overdue: only overdue cases", r.status == 200 and all(x["overdue"] for x in r.json()["cases"]), r.body[:300])

    def correction_checks(self, cid, admin, intake, reviewer):
        """An issued letter is corrected as a new version: started by the assigned reviewer or
        an administrator with a reason, attested and issued by the assigned reviewer only."""
        c = self.c
        r = c.request("GET", f"/api/cases/{cid}", headers=admin.headers())
        issued = max(v["version"] for v in r.json()["determinations"]) if r.status == 200 else 0
        before = c.request("GET", f"/api/cases/{cid}/letter?format=text&version={issued}", headers=admin.headers()).body
        edit = {"items": [{"index": 0, "rationale": "Corrected rationale: the records were read again in full."}]}
        self.problem("changing an issued letter without a reason: 422 at /correction_reason",
                     c.request("POST", f"/api/cases/{cid}/decisions", edit, reviewer.headers()), 422, "/correction_reason")
        self.problem("intake cannot start a correction: 403",
                     c.request("POST", f"/api/cases/{cid}/decisions", dict(edit, correction_reason="x"), intake.headers()), 403)
        reason = "The rationale misread the date of the last urine drug screen."
        r = c.request("POST", f"/api/cases/{cid}/decisions", dict(edit, correction_reason=reason), admin.headers())
        newest = r.json()["determinations"][-1] if r.status == 200 else {}
        self.check("an administrator starts a correction: status correcting, a draft that names what it corrects",
                   r.status == 200 and r.json()["status"] == "correcting" and newest.get("status") == "draft"
                   and newest.get("correction_of") == issued and newest.get("correction_reason") == reason, r.body[:300])
        self.problem("an administrator cannot issue the correction for the reviewer: 403",
                     c.request("POST", f"/api/cases/{cid}/issue", {"statement": "I attest.", "signature": "admin"}, admin.headers()), 403)
        r = c.request("POST", f"/api/cases/{cid}/issue",
                      {"statement": "I have reviewed the correction and attest to it.", "signature": "t-rev"}, reviewer.headers())
        final = r.json()["determinations"][-1] if r.status == 201 else {}
        self.check("the reviewer issues the correction as the next final version",
                   r.status == 201 and r.json()["status"] == "issued" and final.get("status") == "final"
                   and final.get("version") == issued + 2 and final.get("correction_of") == issued
                   and final.get("correction_reason") == reason, r.body[:300])
        after = c.request("GET", f"/api/cases/{cid}/letter?format=text&version={issued}", headers=admin.headers()).body
        newest_text = c.request("GET", f"/api/cases/{cid}/letter?format=text", headers=admin.headers()).body
        self.check("the letter issued first is unchanged; the newest carries the correction",
                   before and after == before and b"Corrected rationale" in newest_text and b"Corrected rationale" not in before,
                   f"{len(before)} {len(after)}")

    def candidate_checks(self, cid, admin, intake, users):
        """Before assignment: how each panel member fits the case, rule by rule."""
        c = self.c
        r = c.request("GET", f"/api/cases/{cid}/candidates", headers=intake.headers())
        if not self.check("intake reads the candidates of an eligible case", r.status == 200, r.body[:300]):
            return {}
        cand = r.json()
        rows = {x["id"]: x for x in cand.get("candidates", [])}
        t2 = rows.get("T-2002", {})
        self.check("a reviewer affiliated with the claims administrator is flagged, refused even by hand",
                   t2.get("rules", {}).get("conflict_free") is False and t2.get("qualified") is False
                   and t2.get("manual_allowed") is False
                   and any("Test Claims LLC" in x for x in t2.get("conflicts", [])), json.dumps(t2)[:400])
        chiro = [x for x in rows.values() if "Chiropractic" in x.get("specialties", [])]
        self.check("a chiropractor does not qualify for an opioid (Norco) but may be chosen by hand",
                   chiro and all(x["rules"]["specialty"] is False and x["manual_allowed"] for x in chiro),
                   json.dumps(chiro)[:400])
        unlicensed = [x for x in rows.values() if x["rules"]["licensed"] is False]
        self.check("a reviewer not licensed in California is refused",
                   unlicensed and all(not x["manual_allowed"] and x["reasons"] for x in unlicensed), json.dumps(unlicensed)[:300])
        self.check("the candidates name an automatic choice who qualifies",
                   rows.get(cand.get("automatic_choice"), {}).get("qualified") is True, json.dumps(cand)[:300])
        other = users["reviewer_of"]["T-2001"]
        self.problem("a reviewer cannot read the candidates of a case not theirs: 404",
                     c.request("GET", f"/api/cases/{cid}/candidates", headers=other.headers()), 404)
        self.problem("candidates of no such case: 404",
                     c.request("GET", "/api/cases/CM26-0000000/candidates", headers=admin.headers()), 404)
        return cand

    def rate_limit_checks(self):
        c = self.c
        name = "ratelimit-" + secrets.token_hex(4)
        codes = [c.request("POST", "/api/session", {"username": name, "password": "wrong-password-%d" % i}).status for i in range(6)]
        r = c.request("POST", "/api/session", {"username": name, "password": "wrong-password"})
        self.problem("repeated failed logins for one username: 429", r, 429)
        self.check("429 says when to retry and the first five were 401",
                   (r.header("retry-after") or "").isdigit() and codes[:5] == [401] * 5, f"{codes} {r.header('retry-after')}")

    def logout_checks(self, admin):
        c = self.c
        self.problem("logout needs the CSRF token", c.request("DELETE", "/api/session", headers=admin.headers(csrf=False)), 403)
        r = c.request("DELETE", "/api/session", headers=admin.headers())
        self.check("logout: 204 and the cookie cleared", r.status == 204 and "Max-Age=0" in (r.header("set-cookie") or ""), r.header("set-cookie"))
        self.problem("the ended session no longer works: 401", c.request("GET", "/api/session", headers=admin.headers()), 401)

    def header_checks(self):
        c = self.c
        c.request("GET", "/")  # the workbench (or a 404 when web/ has no index.html yet)
        c.request("GET", "/openapi.json")
        bad = []
        for method, path, r in c.seen:
            for name, value in SECURITY_HEADERS.items():
                got = r.header(name)
                if not got or (value and got != value):
                    bad.append(f"{method} {path} ({r.status}): {name}={got!r}")
            csp = r.header("content-security-policy") or ""
            if "unsafe-inline" in csp or ("default-src 'self'" not in csp and "default-src 'none'" not in csp):
                bad.append(f"{method} {path}: CSP {csp!r}")
            if "frame-ancestors" not in csp:
                bad.append(f"{method} {path}: CSP without frame-ancestors")
            if path.startswith("/api/") and r.header("cache-control") != "no-store":
                bad.append(f"{method} {path}: Cache-Control {r.header('cache-control')!r}")
            if r.status >= 400 and r.header("content-type") != "application/problem+json":
                bad.append(f"{method} {path} ({r.status}): content type {r.header('content-type')!r}")
        self.check(f"security headers, no-store and problem bodies on every response ({len(c.seen)})", not bad,
                   "; ".join(bad[:5]))
        r = c.request("GET", "/")
        if r.status == 200:
            self.check("/ serves the workbench as text/html", (r.header("content-type") or "").startswith("text/html"),
                       r.header("content-type"))


def fresh_pg_database(url):
    """A new, empty database next to the one in `url` (dropped by the caller)."""
    name = "imr_api_test_%d_%s" % (os.getpid(), secrets.token_hex(3))
    subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", f"CREATE DATABASE {name}"],
                   check=True, capture_output=True)
    base = url.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 64
    imr, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    url = sys.argv[3] if len(sys.argv) == 4 else None
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))  # so that `finally` stops the server
    label = "postgresql" if url else "sqlite"
    dropname = None
    if url:
        dropname, url = fresh_pg_database(url)
    s = Suite(imr, src, url, label)
    try:
        s.run()
    except Exception as e:  # a crash of the test itself is a failure, never a pass
        s.check("the test ran to the end", False, repr(e))
        s.stop()
    finally:
        if dropname:
            subprocess.run(["psql", sys.argv[3], "-q", "-c", f"DROP DATABASE IF EXISTS {dropname}"], capture_output=True)
        if s.log:
            s.log.close()
        if s.tmp:
            shutil.rmtree(s.tmp, ignore_errors=True)
    print(f"{s.passed} passed, {s.failed} failed")
    return 1 if s.failed else 0


if __name__ == "__main__":
    sys.exit(main())
