#!/usr/bin/env python3
"""crash_test.py - kill -9 `imr serve` in the middle of a stream of writes, restart it on the
same database and check that every acknowledged write survived whole (tests/cli/crash_service.sh).

usage: python3 tests/crash/crash_test.py PATH/TO/imr SOURCE_DIR [DATABASE_URL]
environment: IMR_CRASH_SEED (the kill moments; default 4610), IMR_CRASH_ROUNDS (5),
             IMR_CRASH_WRITERS (client threads, 3), IMR_CRASH_KEEP=1 (keep the temporary
             folder: server log and the acknowledgement log)

One server, one database (a new SQLite file, or DATABASE_URL: a fresh PostgreSQL database
made next to it), several rounds. Each round, writer threads sign in with bearer tokens and
loop: register a case with several documents and the engine's draft (POST /api/cases?draft=1),
and for every other case carry it on to an issued letter (screen, assign, decide, issue). Each
request answered 2xx is recorded as acknowledged. After a seeded random delay the server gets
SIGKILL; it is restarted on the same database and the whole database is checked, through the
API and with SQL (sqlite3 module, or psql):

  - every acknowledged case exists, with all its documents (same titles and texts) and its
    draft; every acknowledged issued letter exists as text, HTML and PDF;
  - no case exists without its documents, or with only some of them (a create is one
    transaction), and no case is missing its stored view;
  - no determination version is half-written: versions run 1..n, every record is JSON,
    every final version has its text, HTML and PDF, issued cases have one;
  - the audit log has an entry for every acknowledged change, and exactly one entry per
    case version (what was committed was logged, nothing logged was lost);
  - the reviewers' open-case counts agree with the cases; SQLite's integrity check passes.

Rounds accumulate: round r verifies everything acknowledged in rounds 1..r. The kill moment
is seeded (a delay after the round's first acknowledgement); what is in flight at that moment
still depends on timing, so the seed makes a run comparable, not bit-for-bit repeatable.
Prints one line per check and "N passed, M failed"; exits 1 on any failure.
"""
import datetime
import http.client
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

REVIEWER_ID = "CR-0001"
OPEN_STATUSES = ("assigned", "in_review", "correcting")
# How far each acknowledged step takes a case (statuses a later step may have moved it to).
AT_LEAST = {
    "create": {"received", "eligible", "assigned", "in_review", "issued"},
    "screen": {"eligible", "assigned", "in_review", "issued"},
    "assign": {"assigned", "in_review", "issued"},
    "decide": {"in_review", "issued"},
    "issue": {"issued"},
}
# The audit action each acknowledged step must have left behind.
ACTIONS = {"screen": ["case.screen"], "assign": ["case.assign"],
           "decide": ["determination.decide"], "issue": ["determination.issue"],
           "create": ["case.create", "determination.draft"]}


class ServerGone(Exception):
    """The connection failed: the server is (being) killed."""


def request(port, method, path, body=None, token=None, timeout=60):
    h = {}
    data = None
    if token:
        h["Authorization"] = "Bearer " + token
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        h["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        return r.status, r.read(), {k.lower(): v for k, v in r.getheaders()}
    except (OSError, http.client.HTTPException) as e:
        raise ServerGone(repr(e))
    finally:
        conn.close()


def documents_of(number):
    """The documents a case is registered with: 2 to 4, derived from its number so that the
    checker knows what every case (acknowledged or not) must hold."""
    n = 2 + int(number.rsplit("-", 1)[1]) % 3
    return [{"kind": "medical_record", "title": f"Progress report {i + 1} of {number}",
             "date": datetime.date.today().isoformat(), "author": "Treating physician",
             "text": f"Visit {i + 1} for {number}: neck pain 6/10 with medication, 8/10 without; "
                     f"no new deficits."} for i in range(n)]


class Database:
    """Read-only SQL on the server's database: sqlite3 module or psql, same statements."""

    def __init__(self, url):
        self.url = url

    def rows(self, sql):
        if self.url.startswith(("postgresql://", "postgres://")):
            q = f"SELECT coalesce(json_agg(t), '[]'::json) FROM ({sql}) t"
            out = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", self.url, "-c", q],
                                 capture_output=True, text=True, check=True).stdout
            return json.loads(out)
        con = sqlite3.connect(self.url, timeout=30)
        try:
            con.row_factory = sqlite3.Row
            return [dict(r) for r in con.execute(sql).fetchall()]
        finally:
            con.close()

    def sqlite_checks(self):
        """integrity_check and foreign_key_check results (SQLite only; None on PostgreSQL)."""
        if self.url.startswith(("postgresql://", "postgres://")):
            return None
        con = sqlite3.connect(self.url, timeout=30)
        try:
            integrity = [r[0] for r in con.execute("PRAGMA integrity_check").fetchall()]
            fks = con.execute("PRAGMA foreign_key_check").fetchall()
            return integrity, fks
        finally:
            con.close()


class CrashTest:
    def __init__(self, imr, src, db_url, label, seed, rounds, writers):
        self.imr, self.src, self.label = imr, src, label
        self.seed, self.rounds, self.writers = seed, rounds, writers
        self.tmp = tempfile.mkdtemp(prefix="imr-crash.")
        self.db_url = db_url or os.path.join(self.tmp, "crash.db")
        self.db = Database(self.db_url)
        self.log = open(os.path.join(self.tmp, "server.log"), "a+")
        self.proc = None
        self.port = None
        self.passed = self.failed = 0
        self.acks = []            # every acknowledged write: {"op", "case", "round"}
        self.acks_lock = threading.Lock()
        self.early_errors = []    # non-2xx answers, or lost connections, before the kill
        self.in_flight = 0
        self.probe = None         # check name -> outcome, while the checker itself is tested
        with open(os.path.join(src, "examples/cases/CM15-0000001.json")) as f:
            self.example = json.load(f)

    # -- bookkeeping ----------------------------------------------------------------------
    def check(self, name, cond, why=""):
        if self.probe is not None:  # the tamper run: note the outcome, count nothing
            self.probe[re.sub(r" \([^)]*\)", "", name.split(": ", 1)[-1])] = bool(cond)
            return cond
        if cond:
            self.passed += 1
            print(f"ok   [{self.label}] {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL [{self.label}] {name}: {why}", flush=True)
        return cond

    def ack(self, op, case, rnd):
        with self.acks_lock:
            self.acks.append({"op": op, "case": case, "round": rnd})

    # -- the server -----------------------------------------------------------------------
    def start(self, *extra):
        args = [self.imr, "serve", "--db", self.db_url, "--port", "0", "--threads", "2",
                "--web", os.path.join(self.src, "web"), *extra]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
            if m:
                self.port = int(m.group(1))
                # keep draining stdout so the server never blocks on a full pipe
                threading.Thread(target=self.proc.stdout.read, daemon=True).start()
                return
        self.kill()
        self.log.seek(0)
        raise RuntimeError("the server did not start: " + self.log.read()[-2000:])

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        """SIGTERM: the server must exit 0 on its own."""
        if not self.proc or self.proc.poll() is not None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            return "hung"

    def call(self, method, path, body=None, token=None, want=(200, 201)):
        s, b, _ = request(self.port, method, path, body, token)
        if s not in want:
            raise RuntimeError(f"{method} {path}: {s} {b[:300]!r}")
        return json.loads(b) if b else None

    # -- set-up: an administrator's token, a reviewer of our own and the reviewer's token ----
    def setup(self):
        s, b, h = request(self.port, "POST", "/api/session",
                          {"username": "admin", "password": "admin-demo-password"})
        if s != 200:
            raise RuntimeError(f"demo administrator login: {s} {b[:200]!r}")
        cookie = re.match(r"imr_session=([0-9a-f]+);", h.get("set-cookie", "")).group(1)
        csrf = json.loads(b)["csrf_token"]
        conn_h = {"Cookie": "imr_session=" + cookie, "X-CSRF-Token": csrf,
                  "Content-Type": "application/json"}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request("POST", "/api/tokens", body=json.dumps({"label": "crash test"}), headers=conn_h)
        r = conn.getresponse()
        tok = json.loads(r.read())
        conn.close()
        if r.status != 201:
            raise RuntimeError(f"administrator token: {r.status} {tok}")
        self.admin = tok["token"]
        self.setup_acks = [("token.create", tok["id"])]
        profile = {"id": REVIEWER_ID, "specialties": ["Physical Medicine and Rehabilitation"],
                   "subspecialties": ["Pain Medicine"], "board_certified": True,
                   "licensure": ["California"], "years_in_practice": 14, "hours_per_week": 30,
                   "capacity": 100000, "affiliations": []}
        self.call("POST", "/api/reviewers", profile, self.admin)
        self.setup_acks.append(("reviewer.create", REVIEWER_ID))
        user = self.call("POST", "/api/users", {"username": "crash-reviewer", "password": "crash-reviewer-password",
                                                "role": "reviewer", "reviewer_id": REVIEWER_ID}, self.admin)
        self.setup_acks.append(("user.create", user["id"]))
        tok = self.call("POST", "/api/tokens", {"user_id": user["id"], "label": "crash reviewer"}, self.admin)
        self.setup_acks.append(("token.create", tok["id"]))
        self.reviewer = tok["token"]

    # -- the writers ----------------------------------------------------------------------
    def case_file(self, number):
        c = json.loads(json.dumps(self.example))
        today = datetime.date.today()
        c["case_number"] = number
        c["ur_decision_date"] = (today - datetime.timedelta(days=6)).isoformat()
        c["application_received"] = (today - datetime.timedelta(days=3)).isoformat()
        c["application_signed"] = (today - datetime.timedelta(days=4)).isoformat()
        c["ur_decision_attached"] = True
        c["dispute_type"] = "medical_necessity"
        c["parties"] = [{"role": "employee", "name": "Crash Worker " + number},
                        {"role": "claims_administrator", "name": "Crash Claims LLC"}]
        c["documents"] = documents_of(number)
        return c

    def step(self, rnd, op, number, method, path, body, token, stop):
        """One write; 2xx is recorded as acknowledged. Returns False once the server is gone."""
        with self.acks_lock:
            self.in_flight += 1
        try:
            s, b, _ = request(self.port, method, path, body, token)
        except ServerGone as e:
            if not stop.is_set():
                self.early_errors.append(f"{method} {path}: connection lost before the kill: {e}")
            return False
        finally:
            with self.acks_lock:
                self.in_flight -= 1
        if 200 <= s < 300:
            self.ack(op, number, rnd)
            return True
        if not stop.is_set():
            self.early_errors.append(f"{method} {path}: {s} {b[:200]!r}")
        return False

    def writer(self, rnd, t, stop):
        n_items = len(self.example["disputed_items"])
        edits = {"items": [{"index": i, "decision": "Upheld",
                            "rationale": "The records give no measured gain in pain or function on "
                                         "this treatment, which the guideline requires to continue it."}
                           for i in range(n_items)]}
        attest = {"statement": "I reviewed the case file and attest to this determination.",
                  "signature": "crash-reviewer"}
        seq = 0
        while not stop.is_set():
            seq += 1
            number = f"CX-{rnd}{t}-{seq:05d}"
            base = "/api/cases/" + number
            steps = [("create", "POST", "/api/cases?draft=1", self.case_file(number), self.admin)]
            if seq % 2 == 0:
                steps += [("screen", "POST", base + "/screen", None, self.admin),
                          ("assign", "POST", base + "/assign",
                           {"reviewer_id": REVIEWER_ID, "reason": "crash test: one reviewer takes every case"},
                           self.admin),
                          ("decide", "POST", base + "/decisions", edits, self.reviewer),
                          ("issue", "POST", base + "/issue", attest, self.reviewer)]
            for op, method, path, body, token in steps:
                if stop.is_set() or not self.step(rnd, op, number, method, path, body, token, stop):
                    return

    def round(self, rnd, delay):
        stop = threading.Event()
        before = len(self.acks)
        threads = [threading.Thread(target=self.writer, args=(rnd, t, stop)) for t in range(self.writers)]
        for th in threads:
            th.start()
        deadline = time.time() + 120
        while len(self.acks) == before and time.time() < deadline and all(th.is_alive() for th in threads):
            time.sleep(0.005)
        time.sleep(delay)
        in_flight = self.in_flight
        stop.set()
        self.kill()
        for th in threads:
            th.join(timeout=90)
        got = len(self.acks) - before
        print(f"---- [{self.label}] round {rnd}: SIGKILL {delay:.2f} s after the first acknowledgement; "
              f"{got} writes acknowledged this round, {in_flight} request(s) in flight", flush=True)
        self.check(f"round {rnd}: writes were acknowledged before the kill", got > 0, "none")
        errs, self.early_errors = self.early_errors, []
        self.check(f"round {rnd}: every write before the kill succeeded", not errs, "; ".join(errs[:3]))

    # -- verification ---------------------------------------------------------------------
    def verify(self, rnd):
        p = f"round {rnd}:"
        acked = {}
        for a in self.acks:
            acked.setdefault(a["case"], []).append(a["op"])
        cases = {r["id"]: r for r in self.db.rows(
            "SELECT c.id, c.status, c.version, c.reviewer_id,"
            " (SELECT COUNT(*) FROM documents d WHERE d.case_id = c.id) AS n_docs,"
            " (SELECT COUNT(*) FROM case_views v WHERE v.case_id = c.id) AS n_views"
            " FROM cases c WHERE c.id LIKE 'CX-%'")}
        dets = {}
        for r in self.db.rows(
                "SELECT case_id, version, status, record_json, issued_at,"
                " CASE WHEN letter_text IS NULL THEN -1 ELSE length(letter_text) END AS text_len,"
                " CASE WHEN letter_html IS NULL THEN -1 ELSE length(letter_html) END AS html_len,"
                " CASE WHEN letter_pdf IS NULL THEN -1 ELSE length(letter_pdf) END AS pdf_len"
                " FROM determinations WHERE case_id LIKE 'CX-%'"):
            dets.setdefault(r["case_id"], []).append(r)
        docs = {}
        for r in self.db.rows("SELECT case_id, title, text FROM documents WHERE case_id LIKE 'CX-%'"):
            docs.setdefault(r["case_id"], []).append((r["title"], r["text"]))
        audit = {}
        for r in self.db.rows("SELECT entity_id, action, after_json FROM audit_log"
                              " WHERE entity = 'case' AND entity_id LIKE 'CX-%'"):
            audit.setdefault(r["entity_id"], []).append(r)

        # acknowledged cases, through the API: documents, draft, state, letters
        missing, bad_docs, no_draft, behind, bad_letters = [], [], [], [], []
        api_cases = {}
        for number in cases:
            s, b, _ = request(self.port, "GET", "/api/cases/" + number, token=self.admin)
            api_cases[number] = json.loads(b) if s == 200 else {"_status": s}
        for number, ops in acked.items():
            c = api_cases.get(number)
            if c is None or "_status" in c:
                missing.append(f"{number} ({c['_status'] if c else 'not in the database'})")
                continue
            want = sorted((d["title"], d["text"]) for d in documents_of(number))
            got = sorted((d.get("title"), d.get("text")) for d in c.get("documents", []))
            if got != want or sorted(docs.get(number, [])) != want:
                bad_docs.append(f"{number}: {len(got)} (view) and {len(docs.get(number, []))} (table) "
                                f"of {len(want)} documents")
            if not any(d["version"] == 1 and d["status"] == "draft" for d in c.get("determinations", [])):
                no_draft.append(f"{number}: {c.get('determinations')}")
            last = ops[-1]
            if c.get("status") not in AT_LEAST[last]:
                behind.append(f"{number}: acknowledged {last}, status {c.get('status')}")
            if "issue" in ops:
                why = self.letters_ok(number)
                if why:
                    bad_letters.append(f"{number}: {why}")
        n_issued = sum(1 for ops in acked.values() if "issue" in ops)
        self.check(f"{p} every acknowledged case exists ({len(acked)})", not missing, "; ".join(missing[:5]))
        self.check(f"{p} every acknowledged case has all its documents", not bad_docs, "; ".join(bad_docs[:5]))
        self.check(f"{p} every acknowledged case has its engine draft (version 1)", not no_draft,
                   "; ".join(no_draft[:5]))
        self.check(f"{p} every acknowledged step is reflected in the case's status", not behind,
                   "; ".join(behind[:5]))
        self.check(f"{p} every acknowledged issued letter ({n_issued}) is there as text, HTML and PDF",
                   not bad_letters, "; ".join(bad_letters[:5]))

        # every case in the database, acknowledged or not: nothing half-written
        partial, no_view, view_off = [], [], []
        for number, r in cases.items():
            n = len(documents_of(number))
            if r["n_docs"] != n:
                partial.append(f"{number}: {r['n_docs']} of {n} documents")
            if r["n_views"] != 1:
                no_view.append(number)
            c = api_cases[number]
            vers = sorted(d["version"] for d in dets.get(number, []))
            if "_status" in c:
                view_off.append(f"{number}: GET answered {c['_status']}")
            elif (len(c.get("documents", [])) != n or c.get("version") != r["version"]
                  or sorted(d["version"] for d in c.get("determinations", [])) != vers
                  or c.get("status") != r["status"]):
                view_off.append(f"{number}: view and tables differ")
        self.check(f"{p} no case without all its documents ({len(cases)} cases in the database)", not partial,
                   "; ".join(partial[:5]))
        self.check(f"{p} every case has its stored view, in step with the tables", not no_view and not view_off,
                   "; ".join((no_view + view_off)[:5]))

        half = []
        for number, rows in dets.items():
            rows.sort(key=lambda r: r["version"])
            if [r["version"] for r in rows] != list(range(1, len(rows) + 1)):
                half.append(f"{number}: versions {[r['version'] for r in rows]}")
            for r in rows:
                try:
                    rec = json.loads(r["record_json"])
                    ok = isinstance(rec, dict) and isinstance(rec.get("items"), list) and rec["items"]
                except ValueError:
                    ok = False
                if not ok:
                    half.append(f"{number} v{r['version']}: record is not a whole determination")
                if r["status"] == "final" and (min(r["text_len"], r["html_len"], r["pdf_len"]) <= 0
                                               or not r["issued_at"]):
                    half.append(f"{number} v{r['version']}: final without its letters "
                                f"(text {r['text_len']}, html {r['html_len']}, pdf {r['pdf_len']})")
            issued = cases.get(number, {}).get("status") == "issued"
            if issued != any(r["status"] == "final" for r in rows):
                half.append(f"{number}: status {cases.get(number, {}).get('status')} but "
                            f"{sum(r['status'] == 'final' for r in rows)} final version(s)")
        for number in cases:
            if number not in dets and (number in acked):
                half.append(f"{number}: acknowledged but no determination")
        self.check(f"{p} no determination version is half-written", not half, "; ".join(half[:5]))

        # the audit log: an entry for every acknowledged change; one per case version
        unlogged, drift = [], []
        for number, ops in acked.items():
            actions = [e["action"] for e in audit.get(number, [])]
            for op in ops:
                for action in ACTIONS[op]:
                    if action not in actions:
                        unlogged.append(f"{number}: no {action}")
        for number, r in cases.items():
            versions = sorted(json.loads(e["after_json"] or "{}").get("version", -1) for e in audit.get(number, []))
            if versions != list(range(1, r["version"] + 1)):
                drift.append(f"{number}: case version {r['version']}, audit versions {versions}")
            n_det = sum(1 for e in audit.get(number, []) if e["action"].startswith("determination."))
            if n_det != len(dets.get(number, [])):
                drift.append(f"{number}: {len(dets.get(number, []))} determination versions, {n_det} logged")
        for action, entity_id in self.setup_acks:
            s, b, _ = request(self.port, "GET", f"/api/audit?entity_id={entity_id}&limit=100", token=self.admin)
            if s != 200 or action not in [e["action"] for e in json.loads(b).get("entries", [])]:
                unlogged.append(f"{entity_id}: no {action} ({s})")
        self.check(f"{p} the audit log has an entry for every acknowledged change", not unlogged,
                   "; ".join(unlogged[:5]))
        self.check(f"{p} the audit log has exactly one entry per committed case version", not drift,
                   "; ".join(drift[:5]))

        counts = self.db.rows(
            "SELECT r.id, r.open_cases, (SELECT COUNT(*) FROM cases c WHERE c.reviewer_id = r.id AND"
            " c.status IN ('assigned', 'in_review', 'correcting')) AS actual FROM reviewers r")
        off = [f"{r['id']}: open_cases {r['open_cases']}, actually {r['actual']}" for r in counts
               if r["open_cases"] != r["actual"]]
        self.check(f"{p} the reviewers' open-case counts agree with the cases", not off, "; ".join(off[:5]))
        sq = self.db.sqlite_checks()
        if sq is not None:
            integrity, fks = sq
            self.check(f"{p} SQLite integrity_check and foreign_key_check pass", integrity == ["ok"] and not fks,
                       f"{integrity[:3]} {fks[:3]}")

    def letters_ok(self, number):
        """'' when the issued letter is there in all three formats, else what is wrong."""
        for fmt, ctype in (("text", "text/plain"), ("html", "text/html"), ("pdf", "application/pdf")):
            s, b, h = request(self.port, "GET", f"/api/cases/{number}/letter?format={fmt}", token=self.admin)
            if s != 200 or not h.get("content-type", "").startswith(ctype):
                return f"{fmt}: {s} {h.get('content-type')}"
            if fmt == "pdf":
                if not (b.startswith(b"%PDF-") and b.rstrip().endswith(b"%%EOF")):
                    return "pdf: not a whole PDF file"
            elif number.encode() not in b or b"Upheld" not in b:
                return f"{fmt}: no case number or decision in the letter"
        return ""

    # -- the run ----------------------------------------------------------------------------
    def run(self):
        rng = random.Random(f"{self.seed}:{self.label}")
        delays = [rng.uniform(0.2, 3.0) for _ in range(self.rounds)]
        print(f"---- [{self.label}] seed {self.seed}, {self.rounds} rounds, {self.writers} writers, "
              f"database {self.db_url}", flush=True)
        self.start("--demo")
        self.setup()
        for rnd, delay in enumerate(delays, 1):
            self.round(rnd, delay)
            self.start()
            self.verify(rnd)
        rc = self.stop()
        self.check("after the last round, SIGTERM stops the server cleanly (exit 0)", rc == 0, f"exit {rc}")
        if self.label == "sqlite":
            self.tamper()

    # -- the checker must be able to fail ---------------------------------------------------
    def tamper(self):
        """Damage a copy of the final database in the ways a crash could, and check that the
        verification notices each one (with SQL straight on the file; the store's triggers
        that protect issued letters and the audit log are dropped in the copy first)."""
        issued = [a["case"] for a in self.acks if a["op"] == "issue"]
        drafted = [a["case"] for a in self.acks if a["op"] == "create" and a["case"] not in issued]
        if len(issued) < 3 or len(drafted) < 1:
            self.check("the tamper run has enough cases to damage", False, f"{len(issued)} issued")
            return
        copy = os.path.join(self.tmp, "tampered.db")
        src = sqlite3.connect(self.db_url)
        dst = sqlite3.connect(copy)
        src.backup(dst)
        src.close()
        harm = {
            "an acknowledged case that is missing": ([], ["every acknowledged case exists"]),
            "a lost document": (
                [f"DELETE FROM documents WHERE id = (SELECT MIN(id) FROM documents WHERE case_id = '{drafted[0]}')"],
                ["every acknowledged case has all its documents", "no case without all its documents"]),
            "an issued letter without its PDF": (
                ["DROP TRIGGER final_determination_immutable",
                 f"UPDATE determinations SET letter_pdf = NULL WHERE case_id = '{issued[0]}' AND status = 'final'"],
                ["no determination version is half-written"]),
            "a lost audit entry": (
                ["DROP TRIGGER audit_no_delete",
                 f"DELETE FROM audit_log WHERE entity_id = '{issued[1]}' AND action = 'determination.issue'"],
                ["the audit log has an entry for every acknowledged change",
                 "the audit log has exactly one entry per committed case version"]),
            "a half-written determination": (
                [f"UPDATE determinations SET record_json = '{{\"items\": [' WHERE case_id = '{issued[2]}'"
                 " AND version = 2"],
                ["no determination version is half-written"]),
            "a wrong open-case count": (
                [f"UPDATE reviewers SET open_cases = open_cases + 1 WHERE id = '{REVIEWER_ID}'"],
                ["the reviewers' open-case counts agree with the cases"]),
        }
        for sqls, _ in harm.values():
            for sql in sqls:
                dst.execute(sql)
        dst.commit()
        dst.close()
        real_url, real_acks = self.db_url, self.acks
        self.db_url, self.db = copy, Database(copy)
        self.acks = real_acks + [{"op": "create", "case": "CX-99-99999", "round": 99}]
        self.probe = {}
        try:
            self.start()
            self.verify(0)
        finally:
            self.stop()
            outcome, self.probe = self.probe, None
            self.db_url, self.db, self.acks = real_url, Database(real_url), real_acks
        for what, (_, must_fail) in harm.items():
            missed = [name for name in must_fail if outcome.get(name, True)]
            self.check(f"the checker notices {what}", not missed, f"these checks still passed: {missed}")

    def finish(self):
        self.kill()
        self.log.seek(0)
        log = self.log.read()
        self.check("the server's log has no sanitizer report or crash",
                   not re.search(r"AddressSanitizer|LeakSanitizer|runtime error|Segmentation", log), log[-2000:])
        if self.failed and log:
            print(f"--- server log ({self.label}) ---\n{log[-3000:]}")
        self.log.close()
        with open(os.path.join(self.tmp, "acks.json"), "w") as f:
            json.dump(self.acks, f)
        if os.environ.get("IMR_CRASH_KEEP") == "1":
            print(f"---- [{self.label}] kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def fresh_pg_database(url):
    name = "imr_crash_test_%d_%d" % (os.getpid(), random.randrange(1 << 24))
    subprocess.run(["psql", "-X", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", f"CREATE DATABASE {name}"],
                   check=True, capture_output=True)
    return name, url.rsplit("/", 1)[0] + "/" + name


def env_int(name, default, low, high):
    v = os.environ.get(name, "")
    if not v:
        return default
    if not v.isdigit() or not low <= int(v) <= high:
        print(f"crash_test: {name} must be a number from {low} to {high}, found {v!r}", file=sys.stderr)
        sys.exit(64)
    return int(v)


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 64
    imr, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    url = sys.argv[3] if len(sys.argv) == 4 else None
    seed = env_int("IMR_CRASH_SEED", 4610, 0, 2 ** 62)
    rounds = env_int("IMR_CRASH_ROUNDS", 5, 1, 100)
    writers = env_int("IMR_CRASH_WRITERS", 3, 1, 32)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))  # so that `finally` kills the server
    dropname = None
    if url:
        dropname, url = fresh_pg_database(url)
    t = CrashTest(imr, src, url, "postgresql" if url else "sqlite", seed, rounds, writers)
    try:
        t.run()
    except Exception as e:  # a crash of the test itself is a failure, never a pass
        t.check("the crash test ran to the end", False, repr(e))
    finally:
        t.finish()
        if dropname:
            subprocess.run(["psql", "-X", sys.argv[3], "-q", "-c", f"DROP DATABASE IF EXISTS {dropname}"],
                           capture_output=True)
    print(f"{t.passed} passed, {t.failed} failed")
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
