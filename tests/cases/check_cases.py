#!/usr/bin/env python3
"""check_cases.py - consistency check of the engine's test cases (tests/cases/).

Not a test of the engine: it checks that every case file follows docs/case-file.md, that each
NAME.expected.json matches its case item by item, that every rationale_mentions entry is a fact
actually stated in the case, and prints the counts quoted in README.md.

    python3 tests/cases/check_cases.py [DIR]      exit 0 when all is consistent, 1 otherwise
"""
import collections, datetime, json, os, re, sys

DECISIONS = ("Upheld", "Overturned", "Undetermined")
ROLES = ("employee", "employer", "claims_administrator", "requesting_provider", "representative")


def date_ok(s):
    if not isinstance(s, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return False
    try:
        datetime.date.fromisoformat(s)
        return True
    except ValueError:
        return False


def case_text(c):
    parts = [c.get("clinical_summary") or ""]
    parts += [r.get("text", "") for r in c.get("records", [])]
    parts += [d.get("request", "") for d in c.get("disputed_items", [])]
    text = " ".join(parts)
    # Pain scores may be quoted normalized: "7 of 10" / "7 out of 10" count as "7/10".
    text += " " + " ".join(m.group(1) + "/10" for m in
                           re.finditer(r"(\d+(?:\.\d+)?(?:-\d+)?) (?:out )?of 10\b", text))
    return text.lower()


def check_case(name, c, errs):
    def bad(path, msg):
        errs.append(f"{name}.json: {path}: {msg}")
    for k in ("case_number", "claimant", "date_of_injury", "disputed_items"):
        if k not in c:
            bad(k, "missing")
    if not isinstance(c.get("case_number"), str) or not re.fullmatch(r"CM\d{2}-\d{7}", c.get("case_number", "")):
        bad("case_number", "expected CMyy-nnnnnnn")
    cl = c.get("claimant", {})
    if "age" in cl and not (isinstance(cl["age"], int) and 14 <= cl["age"] <= 120):
        bad("claimant.age", "expected an integer 14-120")
    if "sex" in cl and cl["sex"] not in ("male", "female"):
        bad("claimant.sex", "expected male or female")
    if c.get("priority", "standard") not in ("standard", "expedited"):
        bad("priority", "expected standard or expedited")
    for k in ("date_of_injury", "ur_decision_date", "application_received", "application_signed"):
        if k in c and not date_ok(c[k]):
            bad(k, "expected a YYYY-MM-DD date")
    doi, ur = c.get("date_of_injury", ""), c.get("ur_decision_date")
    if ur and ur < doi:
        bad("ur_decision_date", "before date_of_injury")
    if ur and "application_received" in c and not (ur <= c["application_received"]):
        bad("application_received", "before ur_decision_date")
    items = c.get("disputed_items")
    if not isinstance(items, list) or not items:
        bad("disputed_items", "expected a non-empty array")
        items = []
    for i, d in enumerate(items):
        if not isinstance(d.get("request"), str) or not d["request"].strip():
            bad(f"disputed_items[{i}].request", "expected a string")
        for k in ("ur_decision", "claims_administrator_guideline"):
            if k in d and not isinstance(d[k], str):
                bad(f"disputed_items[{i}].{k}", "expected a string")
    if "clinical_summary" not in c and "records" not in c:
        bad("clinical_summary", "neither clinical_summary nor records")
    for i, r in enumerate(c.get("records", [])):
        if not isinstance(r.get("text"), str):
            bad(f"records[{i}].text", "expected a string")
        if "date" in r:
            if not date_ok(r["date"]):
                bad(f"records[{i}].date", "expected a YYYY-MM-DD date")
            elif ur and r["date"] > ur:
                bad(f"records[{i}].date", "after ur_decision_date")
    for i, p in enumerate(c.get("parties", [])):
        if p.get("role") not in ROLES:
            bad(f"parties[{i}].role", "unknown role")


def check_expected(name, c, e, errs):
    def bad(path, msg):
        errs.append(f"{name}.expected.json: {path}: {msg}")
    items = e.get("items")
    cases = c.get("disputed_items", [])
    if not isinstance(items, list) or len(items) != len(cases):
        bad("items", f"expected {len(cases)} items, one per disputed item")
        return
    text = case_text(c)
    for i, (x, d) in enumerate(zip(items, cases)):
        if set(x) != {"request", "decision", "section", "rationale_mentions", "reason"}:
            bad(f"items[{i}]", f"keys {sorted(x)}")
        if x.get("request") != d.get("request"):
            bad(f"items[{i}].request", "differs from the case's disputed item")
        if x.get("decision") not in DECISIONS:
            bad(f"items[{i}].decision", "expected Upheld, Overturned or Undetermined")
        # An Undetermined item may cite nothing: its section may be "".
        if not isinstance(x.get("section"), str) or (not x["section"] and x.get("decision") != "Undetermined"):
            bad(f"items[{i}].section", "expected a non-empty string")
        m = x.get("rationale_mentions")
        if not isinstance(m, list) or not 1 <= len(m) <= 3:
            bad(f"items[{i}].rationale_mentions", "expected 1-3 facts")
            m = []
        for j, s in enumerate(m):
            if s.lower() not in text:
                bad(f"items[{i}].rationale_mentions[{j}]", f"{s!r} is not stated in the case")
        if not isinstance(x.get("reason"), str) or len(x["reason"]) < 40:
            bad(f"items[{i}].reason", "expected a sentence citing the criterion")


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    errs = []
    names = sorted(f[:-5] for f in os.listdir(d)
                   if f.endswith(".json") and not f.endswith(".expected.json"))
    stats = collections.Counter()
    kinds, sections, years = set(), collections.Counter(), collections.Counter()
    case_decisions = collections.Counter()
    for n in names:
        try:
            c = json.load(open(os.path.join(d, n + ".json")))
            e = json.load(open(os.path.join(d, n + ".expected.json")))
        except (OSError, ValueError) as ex:
            errs.append(f"{n}: {ex}")
            continue
        check_case(n, c, errs)
        check_expected(n, c, e, errs)
        team = not n.startswith("seed_")
        key = "team" if team else "seed"
        stats[key + "_cases"] += 1
        decs = [x.get("decision") for x in e.get("items", [])]
        for x in decs:
            stats[f"{key}_{x}"] += 1
            stats[key + "_items"] += 1
        if team:
            kind = n.split("_")[1]
            if kind not in ("multi", "noinfo", "unaddressed"):
                kinds.add(kind)
            for x in e.get("items", []):
                sections[x.get("section")] += 1
            years[(c.get("ur_decision_date") or "none")[:4]] += 1
            stats["multi_item"] += len(decs) > 1
            stats["with_records"] += "records" in c
            stats["records_only"] += "records" in c and "clinical_summary" not in c
            stats["expedited"] += c.get("priority") == "expedited"
            case_decisions["with an Overturned item" if "Overturned" in decs else "no Overturned item"] += 1
    for f in sorted(os.listdir(d)):
        if f.endswith(".expected.json") and f[:-len(".expected.json")] not in names:
            errs.append(f"{f}: no case file beside it")
    for x in errs:
        print(x)
    ti = stats["team_items"] or 1
    print(f"seed cases: {stats['seed_cases']}, items: {stats['seed_items']} "
          f"(Upheld {stats['seed_Upheld']}, Overturned {stats['seed_Overturned']}, "
          f"Undetermined {stats['seed_Undetermined']})")
    print(f"team cases: {stats['team_cases']}, items: {stats['team_items']} "
          f"(Upheld {stats['team_Upheld']}, Overturned {stats['team_Overturned']} = "
          f"{100.0 * stats['team_Overturned'] / ti:.1f}% of items, Undetermined {stats['team_Undetermined']})")
    print(f"team cases {dict(case_decisions)}; multi-item {stats['multi_item']}, with records "
          f"{stats['with_records']} (records only {stats['records_only']}), expedited {stats['expedited']}")
    print(f"treatment kinds of single-item cases ({len(kinds)}): {' '.join(sorted(kinds))}")
    print(f"sections ({len(sections)}): " + ", ".join(f"{k or '(none)'} {v}" for k, v in sorted(sections.items())))
    print("UR decision years: " + ", ".join(f"{k} {v}" for k, v in sorted(years.items())))
    print("OK" if not errs else f"{len(errs)} problem(s)")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
