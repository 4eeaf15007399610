#!/usr/bin/env python3
"""check.py - validate the hand-annotated facts set (tests/facts/README.md).

Usage: python3 tests/facts/check.py [DIR]   (DIR defaults to the folder of this script)

Checks that every NNN_topic.txt has a NNN_topic.facts.json beside it and the other way
round, that each JSON file is {"facts": [...]} with known keys, that types, assertions and
the closed-vocabulary fields use the words of docs/facts.md, that dates are ISO dates, and
that every `text` occurs in its source at least `occurrence` times. Prints one line per
problem as FILE: message, then a summary; exits 1 when there was any problem.
"""
import datetime
import json
import os
import re
import sys

ASSERTIONS = {'affirmed', 'negated', 'hypothetical', 'historical', 'other_person'}
FIELDS = {'type', 'assertion', 'text', 'occurrence', 'name', 'value', 'qualifier',
          'attributed_to', 'date', 'duration'}
BODY_PARTS = {'lumbar spine', 'cervical spine', 'thoracic spine', 'shoulder', 'knee', 'hip',
              'wrist', 'hand', 'elbow', 'ankle', 'foot', 'toe', 'lower extremity',
              'upper extremity', 'head'}
LATERALITY = {'left', 'right', 'bilateral'}
# Closed vocabularies per type and field (docs/facts.md). None: the type has no such
# normalized field; a set: the allowed values; '*': free text (checked only for type).
VOCAB = {
    'age': {'value': re.compile(r'^\d{1,3}$')},
    'sex': {'value': {'male', 'female'}},
    'date_of_injury': {'value': 'date'},
    'body_part': {'name': BODY_PARTS, 'value': LATERALITY},
    'diagnosis': {'name': '*'},
    'medication': {'name': re.compile(r'^[a-z][a-z0-9 .-]*(/[a-z][a-z0-9 .-]*)*$'),
                   'qualifier': '*', 'duration': '*', 'date': 'date'},
    'pain_score': {'name': BODY_PARTS,
                   'value': re.compile(r'^\d+(\.\d+)?(-\d+(\.\d+)?)?/10$'),
                   'qualifier': {'with_medication', 'without_medication', 'before', 'after',
                                 'current'},
                   'date': 'date', 'attributed_to': '*'},
    'improvement': {'name': {'pain', 'function'}, 'attributed_to': '*'},
    'functional_improvement': {'name': {'adl', 'work', 'activity', 'general'}},
    'work_status': {'value': {'working', 'modified duty', 'off work',
                              'temporarily totally disabled', 'retired',
                              'permanent and stationary'}},
    'urine_drug_screen': {'name': '*', 'value': {'consistent', 'inconsistent', 'performed'},
                          'date': 'date'},
    'opioid_agreement': {'value': {'signed'}},
    'side_effects': {'name': '*'},
    'aberrant_behavior': {'name': {'early refills', 'lost prescriptions',
                                   'multiple prescribers', 'diversion', 'escalation'}},
    'prior_treatment': {'name': {'physical therapy', 'chiropractic', 'acupuncture', 'massage',
                                 'injection', 'epidural steroid injection', 'facet injection',
                                 'trigger point injection', 'sympathetic block',
                                 'radiofrequency ablation', 'surgery', 'tens',
                                 'home exercise', 'medication', 'psychotherapy',
                                 'functional restoration program'},
                        'qualifier': {'improved', 'no_improvement', 'failed'}},
    'medication_trial': {'name': '*', 'qualifier': {'failed', 'tolerated', 'intolerant'}},
    'indication': {'name': {'spasticity', 'multiple sclerosis', 'spinal cord injury',
                            'neuropathic pain', 'radiculopathy', 'acute exacerbation',
                            'muscle spasm', 'crps', 'insomnia', 'gi risk', 'myofascial pain',
                            'trigeminal neuralgia', 'depression', 'anxiety', 'postoperative',
                            'osteoarthritis'},
                   'qualifier': {'imaging_corroborated', 'electrodiagnostic_corroborated'}},
    'exam_finding': {'name': {'tenderness', 'restricted range of motion',
                              'positive straight leg raise', 'negative straight leg raise',
                              'spurling', 'neurological deficit', 'normal neurological exam',
                              'weakness', 'sensory loss', 'reflex change', 'spasm'}},
    'imaging': {'name': {'mri', 'x-ray', 'ct', 'emg', 'ncv', 'bone scan'},
                'value': {'abnormal', 'normal', 'performed'}, 'qualifier': BODY_PARTS,
                'date': 'date'},
    'red_flag': {'name': {'cauda equina', 'progressive neurological deficit', 'fracture',
                          'infection', 'tumor', 'bowel or bladder dysfunction',
                          'unexplained weight loss'}},
    'second_opinion': {'name': {'surgical'}},
    'treatment_goals': {'value': {'set'}},
    'surgery_history': {'name': '*', 'date': 'date'},
    'homebound': {'value': {'yes'}},
    'psychosocial': {'name': '*'},
}


def iso_date(s):
    try:
        return re.match(r'^\d{4}-\d{2}-\d{2}$', s) and datetime.date.fromisoformat(s)
    except ValueError:
        return False


def check_fact(f, i, text, problems):
    where = 'facts[%d]' % i
    if not isinstance(f, dict):
        problems.append('%s: expected an object' % where)
        return
    for k in f:
        if k not in FIELDS:
            problems.append('%s: unknown key %r' % (where, k))
    t = f.get('type')
    if t not in VOCAB:
        problems.append('%s: unknown type %r' % (where, t))
        return
    if f.get('assertion') not in ASSERTIONS:
        problems.append('%s: assertion %r is not one of %s' % (where, f.get('assertion'),
                                                             sorted(ASSERTIONS)))
    for k in ('name', 'value', 'qualifier', 'attributed_to', 'date', 'duration'):
        if k not in f:
            continue
        v = f[k]
        rule = VOCAB[t].get(k)
        if not isinstance(v, str) or not v:
            problems.append('%s.%s: expected a non-empty string' % (where, k))
        elif rule is None:
            problems.append('%s.%s: type %s has no normalized %s' % (where, k, t, k))
        elif rule == 'date':
            if not iso_date(v):
                problems.append('%s.%s: %r is not an ISO date' % (where, k, v))
        elif isinstance(rule, set):
            if v not in rule:
                problems.append('%s.%s: %r is not in the vocabulary of %s' % (where, k, v, t))
        elif hasattr(rule, 'match') and not rule.match(v):
            problems.append('%s.%s: %r is not a valid %s %s' % (where, k, v, t, k))
    span = f.get('text')
    occ = f.get('occurrence', 1)
    if not isinstance(span, str) or not span:
        problems.append('%s.text: expected a non-empty string' % where)
        return
    if not isinstance(occ, int) or occ < 1:
        problems.append('%s.occurrence: expected a positive integer' % where)
        return
    pos = -1
    for _ in range(occ):
        pos = text.find(span, pos + 1)
        if pos < 0:
            problems.append('%s.text: %r does not occur %d time(s) in the source' %
                            (where, span, occ))
            return


def check_pair(base, problems):
    text = open(base + '.txt', encoding='utf-8').read()
    words = len(text.split())
    if not 80 <= words <= 250:
        problems.append('%d words (expected 80-250)' % words)
    try:
        doc = json.load(open(base + '.facts.json', encoding='utf-8'))
    except ValueError as e:
        problems.append('invalid JSON: %s' % e)
        return 0
    if not isinstance(doc, dict) or not isinstance(doc.get('facts'), list):
        problems.append('expected {"facts": [...]}')
        return 0
    for i, f in enumerate(doc['facts']):
        check_fact(f, i, text, problems)
    return len(doc['facts'])


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    names = sorted(os.listdir(d))
    texts = {n[:-4] for n in names if n.endswith('.txt')}
    facts = {n[:-len('.facts.json')] for n in names if n.endswith('.facts.json')}
    bad = 0
    nfacts = 0
    for base in sorted(texts ^ facts):
        print('%s: missing its %s' % (base, '.facts.json' if base in texts else '.txt'))
        bad += 1
    for base in sorted(texts & facts):
        if not re.match(r'^\d{3}_[a-z0-9_]+$', base):
            print('%s: name should be NNN_topic' % base)
            bad += 1
        problems = []
        nfacts += check_pair(os.path.join(d, base), problems)
        for p in problems:
            print('%s: %s' % (base, p))
        bad += len(problems)
    print('%d texts, %d facts, %d problem(s)' % (len(texts & facts), nfacts, bad))
    return 1 if bad or not texts else 0


if __name__ == '__main__':
    sys.exit(main())
