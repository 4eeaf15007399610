#!/usr/bin/env python3
"""setup.py - prepares a running `imr serve --demo` for the service benchmark (run.sh).

usage: setup.py PORT SOURCE_DIR WORK_DIR POOL_SIZE

Signs in as the demo administrator, makes an API token, registers POOL_SIZE more cases
with their engine drafts (the example case files in turn, new case numbers), and writes
  WORK_DIR/token      the bearer token
  WORK_DIR/pool.txt   the ids of the demo cases and the new ones, one per line (read.lua)
  WORK_DIR/body.json  the creation body (create.lua): the first example case file with
                      intake fields and two progress reports, case number "@CASE@"
Standard library only. Exits 1 with the failing request on any error.
"""
import datetime
import glob
import http.client
import json
import os
import re
import sys


def call(port, method, path, body=None, headers=None, want=(200, 201)):
    h = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        h["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        raw = r.read()
        if r.status not in want:
            sys.exit(f"setup: {method} {path}: {r.status} {raw[:300]!r}")
        return json.loads(raw) if raw else None, {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()


def case_body(example, number):
    c = json.loads(json.dumps(example))
    today = datetime.date.today()
    c["case_number"] = number
    c["ur_decision_date"] = (today - datetime.timedelta(days=6)).isoformat()
    c["application_received"] = (today - datetime.timedelta(days=3)).isoformat()
    c["application_signed"] = (today - datetime.timedelta(days=4)).isoformat()
    c["ur_decision_attached"] = True
    c["dispute_type"] = "medical_necessity"
    c["documents"] = [
        {"kind": "medical_record", "title": "Progress report", "date": (today - datetime.timedelta(days=20)).isoformat(),
         "author": "Treating physician",
         "text": "Neck pain 7/10 today, 4/10 an hour after the medication; walks 20 minutes with it, 5 without."},
        {"kind": "medical_record", "title": "Follow-up", "date": (today - datetime.timedelta(days=8)).isoformat(),
         "author": "Treating physician",
         "text": "Urine drug screen consistent with the prescriptions. Signed opioid agreement on file."},
    ]
    return c


def main():
    if len(sys.argv) != 5 or not sys.argv[1].isdigit() or not sys.argv[4].isdigit():
        print(__doc__, file=sys.stderr)
        return 64
    port, src, work, pool_size = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    res, hdrs = call(port, "POST", "/api/session", {"username": "admin", "password": "admin-demo-password"})
    cookie = re.match(r"imr_session=([0-9a-f]+);", hdrs.get("set-cookie", "")).group(1)
    tok, _ = call(port, "POST", "/api/tokens", {"label": "service benchmark"},
                  {"Cookie": "imr_session=" + cookie, "X-CSRF-Token": res["csrf_token"]})
    auth = {"Authorization": "Bearer " + tok["token"]}
    examples = []
    for path in sorted(glob.glob(os.path.join(src, "examples/cases/*.json"))):
        with open(path) as f:
            examples.append(json.load(f))
    listed, _ = call(port, "GET", "/api/cases?limit=500", headers=auth)
    ids = [c["id"] for c in listed["cases"]]
    run = datetime.datetime.now().strftime("%H%M%S")
    for i in range(pool_size):
        made, _ = call(port, "POST", "/api/cases?draft=1",
                       case_body(examples[i % len(examples)], f"POOL-{run}-{i:05d}"), auth, want=(201,))
        ids.append(made["id"])
    with open(os.path.join(work, "token"), "w") as f:
        f.write(tok["token"] + "\n")
    with open(os.path.join(work, "pool.txt"), "w") as f:
        f.write("\n".join(ids) + "\n")
    with open(os.path.join(work, "body.json"), "w") as f:
        json.dump(case_body(examples[0], "@CASE@"), f)
    print(f"setup: token made, {len(ids)} cases in the read pool ({len(listed['cases'])} demo)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
