#!/usr/bin/env python3
"""compare.py - check a parser's output against the fields gen_letters.py wrote.

Usage: compare.py TRUTH.jsonl OUTPUT.jsonl [--limit N]

OUTPUT is JSON Lines in the order of TRUTH's files: either determination records
(`imr parse --compact`) or the flat objects of pyparse.py. Compares case number,
organization, claimant age and sex, date of injury, reviewer specialties and licensure, and
each item's request and decision. Prints per-field agreement and exits 1 when any field
disagrees on any letter.
"""
import json
import sys


def flatten(rec):
    """The compared fields of an imr record or a pyparse object."""
    if 'claimant' in rec:  # imr determination record
        rv = rec.get('reviewer') or {}
        return {
            'case_number': rec.get('case_number'),
            'organization': rec.get('organization'),
            'age': (rec.get('claimant') or {}).get('age'),
            'sex': (rec.get('claimant') or {}).get('sex'),
            'date_of_injury': rec.get('date_of_injury'),
            'specialties': (rv.get('specialties') or []) + (rv.get('subspecialties') or [])
            if rv.get('credentials_style') == 'lines' else rv.get('specialties') or [],
            'licensure': rv.get('licensure') or [],
            'items': [(i.get('request'), i.get('decision')) for i in rec.get('items') or []],
        }
    return {k: rec.get(k) for k in ('case_number', 'organization', 'age', 'sex',
                                     'date_of_injury', 'specialties', 'licensure')} | {
        'items': [(i.get('request'), i.get('decision')) for i in rec.get('items') or []]}


def main():
    args = sys.argv[1:]
    limit = None
    if '--limit' in args:
        k = args.index('--limit')
        limit = int(args[k + 1])
        del args[k:k + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    truth = [json.loads(l) for l in open(args[0])]
    out = [json.loads(l) for l in open(args[1])]
    if limit is not None:
        truth = truth[:limit]
        out = out[:limit]
    if len(out) != len(truth):
        print('compare: %d letters in the truth, %d records in the output' % (len(truth), len(out)))
        return 1
    fields = ['case_number', 'organization', 'age', 'sex', 'date_of_injury', 'specialties',
              'licensure', 'items']
    bad = {f: 0 for f in fields}
    shown = 0
    for t, o in zip(truth, out):
        got = flatten(o)
        want = dict(t)
        want['items'] = [(i['request'], i['decision']) for i in t['items']]
        for f in fields:
            if got[f] != want[f]:
                bad[f] += 1
                if shown < 10:
                    print('%s: %s: expected %r, found %r' % (t.get('file'), f, want[f], got[f]))
                    shown += 1
    for f in fields:
        print('%-15s %d/%d agree' % (f, len(truth) - bad[f], len(truth)))
    return 1 if any(bad.values()) else 0


if __name__ == '__main__':
    sys.exit(main())
