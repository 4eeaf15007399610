#!/usr/bin/env python3
"""score.py - precision and recall of `imr extract` on the hand-annotated facts set.

Usage: python3 tests/facts/score.py PATH/TO/imr [DIR] [-v]

Runs `imr extract --json` on every NNN_topic.txt of DIR (default: the folder of this
script) and matches the extracted facts with NNN_topic.facts.json by the rule of README.md:
same type and assertion, equal values for every normalized field the expectation gives,
overlapping spans (byte offsets), one-to-one, greedy in order of span start. Prints
precision and recall over the whole set and per fact type; -v also lists every missed
expected fact and every unmatched extracted fact. Exits 0 when both reach 0.95, 1 when not,
2 when extraction itself fails.
"""
import collections
import json
import os
import subprocess
import sys

FIELDS = ('name', 'value', 'qualifier', 'attributed_to', 'date', 'duration')
TARGET = 0.95


def expected_spans(text, facts):
    """Byte span of each expected fact: the occurrence-th match of its text."""
    out = []
    for f in facts:
        needle = f['text'].encode()
        pos = -1
        for _ in range(f.get('occurrence', 1)):
            pos = text.find(needle, pos + 1)
            if pos < 0:
                raise SystemExit('score: %r not found in the source' % f['text'])
        out.append((pos, pos + len(needle)))
    return out


def matches(exp, span, got):
    if exp['type'] != got.get('type') or exp['assertion'] != got.get('assertion'):
        return False
    if any(k in exp and exp[k] != got.get(k) for k in FIELDS):
        return False
    return got['start'] < span[1] and span[0] < got['end']


def score_text(base, imr):
    text = open(base + '.txt', 'rb').read()
    expected = json.load(open(base + '.facts.json'))['facts']
    spans = expected_spans(text, expected)
    run = subprocess.run([imr, 'extract', '--json', '--compact', base + '.txt'],
                         capture_output=True)
    if run.returncode != 0:
        sys.stderr.write(run.stderr.decode(errors='replace'))
        raise SystemExit(2)
    got = json.loads(run.stdout)['facts']
    order = sorted(range(len(expected)), key=lambda i: spans[i][0])
    used = set()
    hit = [False] * len(expected)
    for i in order:
        for j, g in enumerate(got):
            if j not in used and matches(expected[i], spans[i], g):
                used.add(j)
                hit[i] = True
                break
    missed = [(expected[i], spans[i]) for i in range(len(expected)) if not hit[i]]
    extra = [g for j, g in enumerate(got) if j not in used]
    return expected, hit, got, used, missed, extra


def main():
    args = [a for a in sys.argv[1:] if a != '-v']
    verbose = '-v' in sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    imr = args[0]
    d = args[1] if len(args) > 1 else os.path.dirname(os.path.abspath(__file__))
    bases = sorted(os.path.join(d, n[:-4]) for n in os.listdir(d) if n.endswith('.txt'))
    exp_n = collections.Counter()
    exp_hit = collections.Counter()
    got_n = collections.Counter()
    got_hit = collections.Counter()
    for base in bases:
        expected, hit, got, used, missed, extra = score_text(base, imr)
        for e, h in zip(expected, hit):
            exp_n[e['type']] += 1
            exp_hit[e['type']] += h
        for j, g in enumerate(got):
            got_n[g['type']] += 1
            got_hit[g['type']] += j in used
        if verbose:
            name = os.path.basename(base)
            for e, span in missed:
                print('%s: missed   %s %s "%s" @%d %s' % (
                    name, e['type'], e['assertion'], e['text'], span[0],
                    {k: e[k] for k in FIELDS if k in e}))
            for g in extra:
                print('%s: extra    %s %s "%s" @%d %s' % (
                    name, g['type'], g['assertion'], g.get('text'), g['start'],
                    {k: g[k] for k in FIELDS if g.get(k) is not None}))
    print('%-24s %9s %9s %9s %9s' % ('type', 'expected', 'recall', 'extracted', 'precision'))
    for t in sorted(set(exp_n) | set(got_n)):
        r = exp_hit[t] / exp_n[t] if exp_n[t] else float('nan')
        p = got_hit[t] / got_n[t] if got_n[t] else float('nan')
        print('%-24s %9d %9.3f %9d %9.3f' % (t, exp_n[t], r, got_n[t], p))
    recall = sum(exp_hit.values()) / max(1, sum(exp_n.values()))
    precision = sum(got_hit.values()) / max(1, sum(got_n.values()))
    print('%-24s %9d %9.3f %9d %9.3f' % ('all', sum(exp_n.values()), recall,
                                          sum(got_n.values()), precision))
    print('%d texts: precision %.3f, recall %.3f (target %.2f each)' % (
        len(bases), precision, recall, TARGET))
    return 0 if precision >= TARGET and recall >= TARGET else 1


if __name__ == '__main__':
    sys.exit(main())
