#!/usr/bin/env python3
"""pyparse.py - the benchmark's baseline: a plain Python regex parser of the FDL letters.

Usage: pyparse.py FILE...   (prints one JSON object per letter, JSON Lines)

Reads the Final Determination Letter layout the way a careful script would: re-flows the
PDF-shaped text into paragraphs, splits it at the section headings and picks out the main
fields with compiled regular expressions: case number, organization, reviewer specialties
and licensure, claimant age and sex, date of injury, clinical summary, and each disputed
item's request, decision, guideline texts and rationale. It is written to be reasonable,
not slow on purpose: each file is read once and every regex is compiled once.
"""
import json
import re
import sys

HEADINGS = {'HOW THE IMR FINAL DETERMINATION WAS MADE': 'method',
            'DOCUMENTS REVIEWED': 'documents',
            'CLINICAL CASE SUMMARY': 'summary'}
DECISIONS_RE = re.compile(r'^IMR [A-Z(), ]*DECISION[A-Z(), ]*$')
SPACES_RE = re.compile(r'\s+')
HEADER_LABELS = ['Case Number', 'Date Assigned', 'Date of Injury', 'Decision Date',
                 'UR Denial Date', 'Priority', 'Application Received', 'Employee', 'Employer',
                 'Claim Number']
HEADER_RE = re.compile(r'(%s):\s*(.*?)\s*(?=(?:%s):|$)' % ('|'.join(HEADER_LABELS),
                                                          '|'.join(HEADER_LABELS)))
ORG_RE = re.compile(r'(?:^|\.\s+)([^.]*?) sent the complete case file')
BOARD_RE = re.compile(r'Board Certified in (.+?)(?:, has a subspecialty in (.+?))?'
                      r' and is licensed to practice in (.+?)\.(?:\s|$)')
LICENSURE_RE = re.compile(r'State\(s\) of Licensure:\s*(.*)')
SPECIALTY_RE = re.compile(r'Certification\(s\)/Specialty:\s*(.*)')
AGE_SEX_RE = re.compile(r'\b(\d{1,3})[ -]years?[ -]old,?\s+(male|female|man|woman|gentleman|lady)\b',
                        re.I)
MONTHS = {m: i + 1 for i, m in enumerate(['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug',
                                          'sep', 'oct', 'nov', 'dec'])}
DATE_RE = (r'(?:(\d{1,2})[-/](\d{1,2})[-/](\d{2,4})'
           r'|([A-Z][a-z]{2,8})\.? (\d{1,2}), (\d{4})'
           r'|(\d{4})-(\d{2})-(\d{2}))')
DOI_RE = re.compile(r'(?:injury on|injured on|date of injury|\bDOI\b)[\s:(,]*(?:(?:of|on|or about) )?'
                    + DATE_RE, re.I)
TITLE_RE = re.compile(r'^(.*\S):\s+(Upheld|Overturned|Undetermined)$')
CA_RE = re.compile(r'^Claims Administrator guideline:\s*(.*)')
ORG_LABEL_RE = re.compile(r'^([^:]{1,60}) guideline:\s*(.*)')
RATIONALE_RE = re.compile(r'^Decision rationale:\s*(.*)')


def iso_date(g):
    """ISO date from the groups of DATE_RE, or None when impossible."""
    if g[0]:
        m, d, y = int(g[0]), int(g[1]), int(g[2])
        if len(g[2]) == 2:
            y += 1900 if y > 30 else 2000
    elif g[3]:
        m = MONTHS.get(g[3][:3].lower())
        d, y = int(g[4]), int(g[5])
        if not m:
            return None
    else:
        y, m, d = int(g[6]), int(g[7]), int(g[8])
    if not (1 <= m <= 12 and 1 <= d <= 31):
        return None
    return '%04d-%02d-%02d' % (y, m, d)


def paragraphs(lines):
    """Join cleaned lines into paragraphs; a line holding only spaces ends a paragraph, an
    empty line is PDF noise. A line ending in '-' joins the next without a space."""
    out, cur = [], ''
    for raw in lines:
        if raw == '':
            continue
        line = SPACES_RE.sub(' ', raw).strip()
        if not line:
            if cur:
                out.append(cur)
                cur = ''
            continue
        cur = line if not cur else (cur + line if cur.endswith('-') else cur + ' ' + line)
    if cur:
        out.append(cur)
    return out


def sections(text):
    """Split the letter into named runs of raw lines at the heading lines."""
    secs = {'header': []}
    name = 'header'
    for raw in text.split('\n'):
        key = raw.strip()
        if key in HEADINGS:
            name = HEADINGS[key]
            secs[name] = []
        elif DECISIONS_RE.match(key):
            name = 'decisions'
            secs[name] = []
        else:
            secs[name].append(raw)
    return secs


def split_list(s, and_too):
    parts = re.split(r',| and ' if and_too else r',', s)
    return [p.strip() for p in parts if p.strip()]


def items_of(lines):
    """The disputed items: a title line '<request>: <Decision>' then the labelled fields."""
    items, cur, field = [], None, None
    org_label = None
    for para in paragraphs(lines):
        m = TITLE_RE.match(para)
        if m and not CA_RE.match(para) and not RATIONALE_RE.match(para):
            cur = {'request': m.group(1), 'decision': m.group(2),
                   'claims_administrator_guideline': None, 'reviewer_guideline': None,
                   'rationale': None}
            items.append(cur)
            field = None
            continue
        if cur is None:
            continue
        m = CA_RE.match(para)
        if m:
            field = 'claims_administrator_guideline'
            cur[field] = m.group(1)
            continue
        m = RATIONALE_RE.match(para)
        if m:
            field = 'rationale'
            cur[field] = m.group(1)
            continue
        m = ORG_LABEL_RE.match(para)
        if m and field == 'claims_administrator_guideline' and (org_label in (None, m.group(1))):
            org_label = m.group(1)
            field = 'reviewer_guideline'
            cur[field] = m.group(2)
            continue
        if field:
            cur[field] = cur[field] + '\n\n' + para if cur[field] else para
    return items


def parse(text):
    secs = sections(text)
    rec = {'case_number': None, 'organization': None, 'age': None, 'sex': None,
           'date_of_injury': None, 'specialties': [], 'licensure': [],
           'clinical_case_summary': None, 'items': []}
    for line in secs['header']:
        for label, value in HEADER_RE.findall(SPACES_RE.sub(' ', line).strip()):
            if label == 'Case Number':
                rec['case_number'] = value or None
            elif label == 'Date of Injury':
                m = re.match(DATE_RE, value)
                rec['date_of_injury'] = iso_date(m.groups()) if m else None
    method = ' '.join(paragraphs(secs.get('method', [])))
    m = ORG_RE.search(method)
    if m:
        rec['organization'] = m.group(1).strip()
    m = BOARD_RE.search(method)
    if m:
        rec['specialties'] = split_list(m.group(1), False)
        rec['licensure'] = split_list(m.group(3), True)
    else:
        for line in secs.get('method', []):
            line = SPACES_RE.sub(' ', line).strip()
            lm = LICENSURE_RE.match(line)
            sm = SPECIALTY_RE.match(line)
            if lm:
                rec['licensure'] = split_list(lm.group(1), False)
            if sm:
                rec['specialties'] = split_list(sm.group(1), False)
    summary = paragraphs(secs.get('summary', []))
    if summary and (summary[0].endswith(':') or 'summary' in summary[0].lower()) and len(summary) > 1:
        summary = summary[1:]
    rec['clinical_case_summary'] = '\n\n'.join(summary) or None
    body = rec['clinical_case_summary'] or ''
    m = AGE_SEX_RE.search(body)
    if m:
        rec['age'] = int(m.group(1))
        rec['sex'] = 'male' if m.group(2).lower() in ('male', 'man', 'gentleman') else 'female'
    if rec['date_of_injury'] is None:
        m = DOI_RE.search(body)
        if m:
            rec['date_of_injury'] = iso_date(m.groups())
    rec['items'] = items_of(secs.get('decisions', []))
    return rec


def main():
    status = 0
    out = sys.stdout
    for path in sys.argv[1:]:
        try:
            with open(path, encoding='utf-8') as fp:
                text = fp.read()
        except (OSError, UnicodeDecodeError) as e:
            print('pyparse: %s: %s' % (path, e), file=sys.stderr)
            status = 65
            continue
        rec = parse(text)
        rec['file'] = path
        out.write(json.dumps(rec, separators=(',', ':')) + '\n')
    return status


if __name__ == '__main__':
    sys.exit(main())
