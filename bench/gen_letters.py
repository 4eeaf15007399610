#!/usr/bin/env python3
"""gen_letters.py - a deterministic generator of synthetic Final Determination Letters.

Usage: gen_letters.py --seed 1 --count N --out DIR [--truth FILE] [--min-items 1]

Writes DIR/NNNNNN.txt: letters in the published FDL layout (docs/letter-layouts.md), shaped
like text pulled out of the published PDFs: a blank line after every line, a line holding a
single space between paragraphs, page-break gaps (also inside paragraphs), words broken at
their hyphen across lines, stray leading spaces and double spaces. Both credential styles,
1-6 disputed items, a header block and a documents list in some letters. Letter i depends
only on (seed, i), so a bigger corpus starts with the letters of a smaller one.

All wording here is our own: the word lists and sentence patterns below were written for
this benchmark. Guideline names, chapters and page numbers are facts about the guidelines;
the clinical content is invented and describes nobody.

With --truth, also writes one JSON line per letter with the fields a parser should find
(case number, reviewer, claimant, date of injury, items with decisions), for checking
parsers against the generator.
"""
import argparse
import datetime
import json
import os
import random
import sys

MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
          'September', 'October', 'November', 'December']
DAYS_IN = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

ORGS = [('MAXIMUS Federal Services', 'MAXIMUS', 20),
        ('Pacific Coast Independent Review', 'PCIR', 2),
        ('Sierra Medical Review Organization', 'SMRO', 1)]
SPECIALTIES = ['Family Practice', 'Internal Medicine', 'Orthopedic Surgery',
               'Physical Medicine and Rehabilitation', 'Anesthesiology', 'Neurology',
               'Occupational Medicine', 'Emergency Medicine', 'Preventive Medicine',
               'Psychiatry', 'Neurological Surgery', 'Rheumatology', 'Chiropractic Medicine',
               'Plastic Surgery', 'General Surgery']
SUBSPECIALTIES = ['Pain Medicine', 'Sports Medicine', 'Spine Surgery', 'Hand Surgery',
                  'Neuromuscular Medicine', 'Addiction Medicine', 'Clinical Neurophysiology']
STATES = ['Arizona', 'Texas', 'New York', 'Florida', 'Oregon', 'Washington', 'Nevada',
          'Colorado', 'Illinois', 'Ohio', 'Georgia', 'Maryland', 'New Jersey', 'Michigan',
          'Pennsylvania', 'Utah', 'Minnesota', 'Virginia', 'Tennessee', 'Massachusetts']
SEX_WORDS = {'male': ['male', 'male', 'man', 'gentleman'],
             'female': ['female', 'female', 'woman', 'lady']}
OCCUPATIONS = ['warehouse worker', 'truck driver', 'nurse', 'cashier', 'electrician',
               'carpenter', 'custodian', 'correctional officer', 'firefighter',
               'machine operator', 'home health aide', 'grocery clerk', 'laborer',
               'police officer', 'bus driver', 'teacher', 'landscaper', 'cook',
               'office worker', 'delivery driver', 'housekeeper', 'mechanic']
MECHANISMS = ['lifting a heavy box', 'slipping on a wet floor', 'falling from a ladder',
              'pulling a loaded pallet jack', 'restraining a combative patient',
              'stepping down from a truck cab', 'repetitive work at a keyboard',
              'driving a company van that was struck from behind', 'tripping over a hose',
              'carrying bags of cement', 'moving furniture', 'reaching overhead to stock shelves']

# Body regions: name in prose, diagnoses, exam findings, imaging wording.
REGIONS = {
    'lumbar': ('low back', ['lumbar sprain/strain', 'lumbar disc protrusion at L4-5',
                            'lumbar radiculopathy', 'lumbar degenerative disc disease',
                            'lumbar facet arthropathy', 'chronic low back pain',
                            'lumbar spinal stenosis'],
               ['tenderness over the lumbar paraspinal muscles', 'reduced lumbar flexion',
                'a positive straight leg raise on the left', 'a negative straight leg raise',
                'diminished sensation in the L5 dermatome', 'paraspinal muscle spasm'],
               'lumbar spine'),
    'cervical': ('neck', ['cervical strain', 'cervical disc disease', 'cervical radiculopathy',
                          'cervical spondylosis', 'cervicogenic headaches'],
                 ['tenderness of the cervical paraspinal muscles',
                  'restricted cervical range of motion', 'a positive Spurling test on the right',
                  'trapezius spasm', 'decreased grip strength'],
                 'cervical spine'),
    'shoulder': ('shoulder', ['rotator cuff tendinitis', 'shoulder impingement syndrome',
                              'a partial-thickness rotator cuff tear', 'adhesive capsulitis'],
                 ['a positive Neer sign', 'painful arc of motion', 'weakness of external rotation',
                  'tenderness at the acromioclavicular joint'],
                 'shoulder'),
    'knee': ('knee', ['a medial meniscus tear', 'knee osteoarthritis', 'chondromalacia patella',
                      'a knee sprain'],
             ['joint line tenderness', 'a small effusion', 'crepitus with flexion',
              'flexion limited to 110 degrees'],
             'knee'),
    'wrist': ('wrist', ['carpal tunnel syndrome', 'de Quervain tenosynovitis', 'wrist sprain'],
              ['a positive Tinel sign', 'a positive Phalen test', 'thenar weakness',
               'tenderness over the first dorsal compartment'],
              'wrist'),
    'thoracic': ('mid back', ['thoracic strain', 'thoracic disc bulging'],
                 ['tenderness of the thoracic paraspinal muscles', 'rhomboid spasm'],
                 'thoracic spine'),
}
LATERAL = ['left', 'right', 'bilateral']

# Drugs: (name as requested, strengths, category, usual frequency words).
DRUGS = [
    ('Norco', ['5/325mg', '7.5/325mg', '10/325mg'], 'opioid', ['every 6 hours as needed', 'twice a day']),
    ('Percocet', ['5/325mg', '10/325mg'], 'opioid', ['every 4-6 hours as needed']),
    ('Tramadol ER', ['100mg', '150mg', '200mg'], 'opioid', ['once a day']),
    ('Ultracet', ['37.5/325mg'], 'opioid', ['three times a day as needed']),
    ('OxyContin', ['10mg', '20mg', '40mg'], 'opioid', ['every 12 hours']),
    ('Butrans patch', ['5mcg/hr', '10mcg/hr'], 'opioid', ['one patch weekly']),
    ('Nucynta', ['50mg', '75mg'], 'opioid', ['three times a day']),
    ('Soma', ['350mg'], 'relaxant', ['at bedtime', 'three times a day']),
    ('Flexeril', ['7.5mg', '10mg'], 'relaxant', ['at bedtime']),
    ('Cyclobenzaprine', ['7.5mg'], 'relaxant', ['twice a day as needed']),
    ('Zanaflex', ['2mg', '4mg'], 'relaxant', ['at night']),
    ('Baclofen', ['10mg', '20mg'], 'relaxant', ['three times a day']),
    ('Lyrica', ['50mg', '75mg', '150mg'], 'anticonvulsant', ['twice a day']),
    ('Gabapentin', ['300mg', '600mg', '800mg'], 'anticonvulsant', ['three times a day']),
    ('Naproxen sodium', ['550mg'], 'nsaid', ['twice a day']),
    ('Celebrex', ['200mg'], 'nsaid', ['once a day']),
    ('Meloxicam', ['7.5mg', '15mg'], 'nsaid', ['once a day']),
    ('Omeprazole', ['20mg'], 'ppi', ['once a day']),
    ('Prilosec', ['20mg'], 'ppi', ['once a day']),
    ('Lidoderm 5% patch', [''], 'topical', ['12 hours on, 12 hours off']),
    ('Terocin lotion', [''], 'topical', ['apply twice daily']),
    ('Ambien', ['5mg', '10mg'], 'sleep', ['at bedtime']),
    ('Cymbalta', ['30mg', '60mg'], 'antidepressant', ['once a day']),
    ('Amitriptyline', ['25mg'], 'antidepressant', ['at bedtime']),
]
OTHER_REQUESTS = [
    ('Physical therapy {n} sessions for the {region}', 'pt'),
    ('Physical therapy 2x{k} for the {lat} {region}', 'pt'),
    ('Chiropractic treatment 1x{k} for the {region}', 'chiro'),
    ('Acupuncture {n} sessions', 'acu'),
    ('MRI of the {region} without contrast', 'mri'),
    ('EMG/NCV of the bilateral lower extremities', 'emg'),
    ('Lumbar epidural steroid injection at L4-5 and L5-S1', 'esi'),
    ('Consultation with a pain management specialist', 'consult'),
    ('Orthopedic surgical consultation', 'consult'),
    ('TENS unit purchase', 'tens'),
    ('Functional restoration program evaluation', 'frp'),
    ('Home health care 4 hours a day for 6 weeks', 'home'),
    ('Urine drug screen', 'uds'),
    ('{lat} knee arthroscopy with partial meniscectomy', 'surgery'),
    ('Cervical traction unit for home use', 'dme'),
]

# Guideline citations per category: (source, section, pages) -- facts, not prose.
CITES = {
    'opioid': [('MTUS Chronic Pain Medical Treatment Guidelines (2009)', 'Opioids, criteria for use', '76-80'),
               ('MTUS Chronic Pain Medical Treatment Guidelines (2009)', 'Opioids for chronic pain', '80-82'),
               ('MTUS Chronic Pain Medical Treatment Guidelines (2009)', 'Opioids, on-going management', '78'),
               ('Official Disability Guidelines (ODG), Pain chapter', 'Opioids', None)],
    'relaxant': [('MTUS Chronic Pain Medical Treatment Guidelines (2009)', 'Muscle relaxants (for pain)', '63-66')],
    'anticonvulsant': [('MTUS Chronic Pain Medical Treatment Guidelines (2009)', 'Antiepilepsy drugs (AEDs)', '16-22')],
    'nsaid': [('MTUS Chronic Pain Medical Treatment Guidelines (2009)', 'NSAIDs (non-steroidal anti-inflammatory drugs)', '67-73')],
    'ppi': [('MTUS Chronic Pain Medical Treatment Guidelines (2009)', 'NSAIDs, GI symptoms & cardiovascular risk', '68-69')],
    'topical': [('MTUS Chronic Pain Medical Treatment Guidelines (2009)', 'Topical analgesics', '111-113'),
                ('MTUS Chronic Pain Medical Treatment Guidelines (2009)', 'Lidoderm (lidocaine patch)', '56-57')],
    'sleep': [('Official Disability Guidelines (ODG), Pain chapter', 'Insomnia treatment', None),
              ('Official Disability Guidelines (ODG), Mental Illness & Stress chapter', 'Zolpidem (Ambien)', None)],
    'antidepressant': [('MTUS Chronic Pain Medical Treatment Guidelines (2009)', 'Antidepressants for chronic pain', '13-16')],
    'pt': [('MTUS Chronic Pain Medical Treatment Guidelines (2009)', 'Physical Medicine', '98-99')],
    'chiro': [('MTUS Chronic Pain Medical Treatment Guidelines (2009)', 'Manual therapy & manipulation', '58-60')],
    'acu': [('MTUS Acupuncture Medical Treatment Guidelines', '9792.24.1', None)],
    'mri': [('ACOEM Practice Guidelines, 2nd Edition (2004)', 'Chapter 12, Low Back Complaints', '303-304'),
            ('ACOEM Practice Guidelines, 2nd Edition (2004)', 'Chapter 8, Neck and Upper Back Complaints', '177-178')],
    'emg': [('ACOEM Practice Guidelines, 2nd Edition (2004)', 'Chapter 12, Low Back Complaints', '303')],
    'esi': [('MTUS Chronic Pain Medical Treatment Guidelines (2009)', 'Epidural steroid injections (ESIs)', '46')],
    'consult': [('ACOEM Practice Guidelines, 2nd Edition (2004)', 'Chapter 7, Independent Medical Examinations and Consultations', '127')],
    'tens': [('MTUS Chronic Pain Medical Treatment Guidelines (2009)', 'Transcutaneous electrotherapy', '114-116')],
    'frp': [('MTUS Chronic Pain Medical Treatment Guidelines (2009)', 'Functional restoration programs (FRPs)', '30-34')],
    'home': [('MTUS Chronic Pain Medical Treatment Guidelines (2009)', 'Home health services', '51')],
    'uds': [('MTUS Chronic Pain Medical Treatment Guidelines (2009)', 'Drug testing', '43')],
    'surgery': [('ACOEM Practice Guidelines, 2nd Edition (2004)', 'Chapter 13, Knee Complaints', '344-345'),
                ('Official Disability Guidelines (ODG), Knee & Leg chapter', 'Meniscectomy', None)],
    'dme': [('Official Disability Guidelines (ODG), Neck and Upper Back chapter', 'Traction', None)],
}

# What the guideline asks for, per category, in our own words.
GUIDE_SENTENCES = {
    'opioid': ['Continued opioid therapy calls for regular review of pain relief, side effects, physical and psychosocial function, and any drug-related behaviour that is not as prescribed.',
               'Opioids are to be continued when the claimant has returned to work or when pain and function have clearly improved on them.',
               'A written treatment agreement, random urine drug testing and a single prescriber are expected during long-term use.',
               'Short-acting opioids are meant for moderate to severe pain, at the lowest dose that works, for the shortest time.'],
    'relaxant': ['Muscle relaxants are a second-line choice for short courses during acute flare-ups of chronic low back pain.',
                 'Their benefit fades with time, and longer use brings sedation and a risk of dependence.',
                 'Use beyond two or three weeks is not supported.'],
    'anticonvulsant': ['Anticonvulsants are a first-line choice for neuropathic pain.',
                       'A good response is a 30-50% reduction in pain; each visit should record the change in pain and function and any side effects.'],
    'nsaid': ['Anti-inflammatory drugs are advised at the lowest dose for the shortest time for osteoarthritis and for acute flare-ups of back pain.',
              'Long-term use calls for monitoring of blood pressure, kidney function and gastrointestinal symptoms.'],
    'ppi': ['A proton pump inhibitor is indicated with anti-inflammatory drugs when the claimant is at intermediate or high risk of gastrointestinal events: age over 65, a history of ulcer or bleeding, or use of aspirin, steroids or anticoagulants.'],
    'topical': ['Topical analgesics are largely experimental; a compound with one unsupported ingredient is unsupported as a whole.',
                'The lidocaine patch is considered for localized neuropathic pain only after a trial of first-line therapy such as an antidepressant or an anticonvulsant.'],
    'sleep': ['Sleep medicines such as zolpidem are meant for short-term treatment of insomnia, usually two to six weeks, after the causes of poor sleep have been looked at.',
              'Long-term use risks dependence and impaired memory and alertness.'],
    'antidepressant': ['Antidepressants are a first-line option for neuropathic pain and a possible option for non-neuropathic pain.',
                       'The assessment should include pain, function, sleep, medication use and side effects.'],
    'pt': ['Physical medicine favours a fading of treatment frequency toward an active home exercise program.',
           'Up to 10 visits over 8 weeks are suggested for myalgia and radiculitis; more visits need documented functional improvement.'],
    'chiro': ['Manual therapy is recommended as a trial of 6 visits over 2 weeks, with more visits only when objective functional improvement is shown.',
              'Elective or maintenance care is not medically necessary.'],
    'acu': ['Acupuncture may be used when pain medication is reduced or not tolerated, or as an adjunct to physical rehabilitation.',
            'Functional improvement should appear within 3 to 6 treatments; further treatments depend on it.'],
    'mri': ['Imaging is warranted when there are unequivocal objective findings of nerve compromise on the neurological examination and the claimant has not responded to treatment.',
            'Imaging is also appropriate when surgery is being considered or red flags are present.'],
    'emg': ['Electrodiagnostic studies can help identify subtle focal neurological dysfunction when low back symptoms last more than three or four weeks.'],
    'esi': ['Radiculopathy must be documented by examination and corroborated by imaging or electrodiagnostic testing, and the pain must have failed conservative treatment.',
            'A repeat block needs at least 50% pain relief with less medication for six to eight weeks.'],
    'consult': ['Referral to a specialist may be made when a diagnosis is uncertain or complex, when psychosocial factors are present, or when added expertise would help the plan of care.'],
    'tens': ['A one-month home trial of TENS may be considered as an adjunct to a program of functional restoration for neuropathic pain, CRPS, spasticity or phantom limb pain.',
             'The trial should document how often the unit was used and its effect on pain and function.'],
    'frp': ['Admission requires an adequate evaluation, failure of previous methods, significant loss of the ability to function independently, motivation to change, and no option likely to bring clinical improvement.'],
    'home': ['Home health services are for medical treatment of claimants who are homebound, generally up to 35 hours a week; homemaker services and personal care are not covered when they are the only care needed.'],
    'uds': ['Drug testing is an option to assess for the use or presence of illegal drugs, and as part of the monitoring of claimants on opioids.'],
    'surgery': ['Arthroscopic meniscectomy is an option when there are mechanical symptoms, clear signs of a tear on examination and consistent findings on MRI, after conservative care.'],
    'dme': ['Home traction devices have not been shown to give lasting benefit and are not recommended.'],
}
# Case facts a rationale applies the guideline to, per kind of request, upheld or overturned.
FACTS = {
    'drug': (['The records do not document pain scores with and without the medication.',
              'No objective functional improvement is described in the notes provided.',
              'The claimant has taken this medication for {dur} without a measurable change in pain or function.',
              'The notes give a pain level of {score}/10 at each visit with no change over time.',
              'The claimant remains off work and the daily activities have not improved.',
              'The records do not show a trial of first-line treatment.'],
             ['The progress notes record pain of {score}/10 without and {score2}/10 with the medication.',
              'The claimant has returned to modified duty and walks for 30 minutes a day since starting this medication.',
              'The notes describe better sleep and more household activity on this medication, with no side effects.']),
    'opioid': (['There is no urine drug screen in the records, and no treatment agreement is mentioned.',
                'The most recent drug screen was inconsistent with the prescribed medications and this was not addressed.',
                'The total daily dose is not stated, so the morphine equivalent dose cannot be checked.'],
               ['A urine drug screen was consistent with the prescribed medications and a signed agreement is on file.',
                'The prescription database shows a single prescriber and no early refills.']),
    'relaxant': (['There is no documentation of an acute flare-up; the pain is described as constant.',
                  'The medication has been prescribed for {dur}, far longer than a short course.'],
                 ['The notes describe a recent flare-up with palpable spasm on examination.',
                  'This is a first, short course for a documented acute exacerbation.']),
    'ppi': (['There are no risk factors for gastrointestinal events in the records provided.',
             'The claimant is under 65 and takes no aspirin, steroid or anticoagulant.'],
            ['The claimant is over 65 and takes aspirin with an anti-inflammatory drug.',
             'The records describe a past gastrointestinal bleed while on anti-inflammatory drugs.']),
    'sleep': (['The records do not describe the causes of the poor sleep or a trial of sleep hygiene.',
               'The medication has been used nightly for {dur}, beyond the short course supported.'],
              ['The notes document a new sleep disturbance after a recent flare-up and a short course is planned.']),
    'sessions': (['The number of prior sessions and the response to them are not stated.',
                  'The request exceeds the number of visits the guideline supports.',
                  'The claimant has completed {n} sessions without documented functional improvement.'],
                 ['The claimant has not had this treatment before, so an initial trial is within the guideline.',
                  'After the first sessions the claimant could lift more and returned to modified duty.']),
    'diagnostic': (['No neurological deficit is documented on the most recent examination.',
                    'There are no red flags and no change in symptoms since the last study.',
                    'Surgery is not being considered.'],
                   ['The examination shows radicular signs that match the MRI findings, and six weeks of therapy have failed.',
                    'New weakness and reflex loss were found on the last examination.']),
    'other': (['The records do not explain how this request would change the plan of care.',
               'The claimant is not described as homebound.',
               'A trial of the less invasive options has not been documented.'],
              ['The treating physician documents failure of conservative care and a clear plan.',
               'The diagnosis remains uncertain after a year of treatment.']),
}
FACT_GROUPS = {'opioid': ['drug', 'opioid'], 'relaxant': ['drug', 'relaxant'],
               'anticonvulsant': ['drug'], 'nsaid': ['drug'], 'ppi': ['ppi'],
               'topical': ['drug'], 'sleep': ['sleep', 'drug'], 'antidepressant': ['drug'],
               'pt': ['sessions'], 'chiro': ['sessions'], 'acu': ['sessions'],
               'mri': ['diagnostic'], 'emg': ['diagnostic'], 'esi': ['diagnostic', 'sessions'],
               'consult': ['other'], 'tens': ['sessions', 'other'], 'frp': ['other'],
               'home': ['other'], 'uds': ['other'], 'surgery': ['diagnostic', 'other'],
               'dme': ['other']}
CONCLUDE_UPHELD = ['Therefore, the request for {req} is not medically necessary.',
                   'As a result, {req} is not medically necessary.',
                   'For these reasons the request for {req} is not medically necessary.']
CONCLUDE_OVERTURNED = ['Therefore, the request for {req} is medically necessary.',
                       'The request for {req} is medically necessary.',
                       'Given this documentation, {req} is medically necessary.']

METHOD_SENTENCES = [
    '{org} sent the complete case file to an expert reviewer for an independent opinion.',
    'The reviewer is not affiliated with the employer, the employee, the treating providers or the claims administrator.',
    '{cred}',
    'The reviewer has practiced medicine for more than five years and still treats patients at least 24 hours a week.',
    'The reviewer was chosen for training and experience in a specialty that evaluates and treats the condition and the disputed items, and knows the laws and regulations that govern Independent Medical Review, including the strength of evidence hierarchy.',
]
SUMMARY_INTROS = [
    'The expert reviewer prepared the following clinical case summary after reviewing the case file and all of the medical records:',
    'Clinical case summary, written by the expert reviewer from the case file and the medical records provided:',
    'The following summary of the case was developed by the expert reviewer from the complete case file:',
]
HISTORY = [
    'Earlier notes describe a gradual onset of symptoms over the weeks after the injury.',
    'The claimant reports that standing or sitting for more than thirty minutes makes the pain worse.',
    'Sleep is interrupted two or three times a night because of pain.',
    'The claimant lives with family and drives short distances.',
    'The claimant does light household chores but needs help with shopping.',
    'An agreed medical evaluator saw the claimant the previous year and recommended continued conservative care.',
    'The treating physician plans to reassess the claimant in four to six weeks.',
    'Prior notes mention a trial of a lower dose that was not tolerated because pain increased.',
    'The claimant walks for exercise on most days and uses a cane on longer walks.',
    'There is no report of a new injury since the original date of injury.',
    'Vital signs were within normal limits at the last visit.',
    'The claimant asked about returning to work in a position with lighter lifting.',
]
DECISIONS_INTRO = 'The Final Determination was based on decisions for the disputed items/services set forth below:'
DOCUMENTS = ['Application for Independent Medical Review', 'Utilization Review determination',
             'Progress reports from the primary treating physician',
             'Request for authorization', 'Agreed medical evaluation report',
             'Physical therapy progress notes', 'Imaging reports', 'Pharmacy records']


def join_list(words):
    """'a', 'a and b', 'a, b and c'."""
    return words[0] if len(words) == 1 else ', '.join(words[:-1]) + ' and ' + words[-1]


def rdate(rng, lo, hi):
    y = rng.randint(lo, hi)
    m = rng.randint(1, 12)
    d = rng.randint(1, DAYS_IN[m - 1])
    return y, m, d


def iso(y, m, d):
    return '%04d-%02d-%02d' % (y, m, d)


def date_text(rng, y, m, d):
    """A date of injury written as in published summaries (formats imr_date_parse reads)."""
    k = rng.randrange(6)
    if k == 0:
        return '%s %d, %d' % (MONTHS[m - 1], d, y)
    if k == 1:
        return '%d-%d-%02d' % (m, d, y % 100)
    if k == 2:
        return '%02d-%02d-%04d' % (m, d, y)
    if k == 3:
        return '%d/%d/%d' % (m, d, y)
    if k == 4:
        return '%d/%d/%02d' % (m, d, y % 100)
    return '%s. %d, %d' % (MONTHS[m - 1][:3], d, y) if m != 5 else 'May %d, %d' % (d, y)


def mdy(y, m, d):
    return '%02d/%02d/%04d' % (m, d, y)


def pick_weighted(rng, items):
    total = sum(w for *_, w in items)
    x = rng.uniform(0, total)
    for it in items:
        x -= it[-1]
        if x <= 0:
            return it
    return items[-1]


def make_request(rng, region):
    if rng.random() < 0.62:
        name, strengths, cat, freqs = rng.choice(DRUGS)
        strength = rng.choice(strengths)
        qty = rng.choice([15, 30, 60, 90, 120, 180])
        sp = (' ' + strength) if strength else ''
        form = rng.randrange(5)
        if form == 0:
            req = '%s%s #%d' % (name, sp, qty)
        elif form == 1:
            refills = rng.randint(1, 3)
            req = '%s%s #%d with %d refill%s' % (name, sp, qty, refills, 's' if refills > 1 else '')
        elif form == 2:
            req = '%d tablets of %s%s' % (qty, name, sp) if 'patch' not in name and 'lotion' not in name \
                else '%s #%d' % (name, qty)
        elif form == 3:
            req = '%s%s, %s, #%d' % (name, sp, rng.choice(freqs), qty)
        else:
            req = '%s%s quantity %d' % (name, sp, qty)
        return req, cat, name
    pattern, cat = rng.choice(OTHER_REQUESTS)
    req = pattern.format(n=rng.choice([6, 8, 12, 18]), k=rng.choice([3, 4, 6]),
                         region=REGIONS[region][3], lat=rng.choice(LATERAL).capitalize()
                         if pattern.startswith('{lat}') else rng.choice(LATERAL))
    return req, cat, req.split(' ')[0]


def cite_text(rng, cat, reviewer):
    src, section, pages = rng.choice(CITES[cat])
    pg = (', page(s) %s' % pages) if pages else ''
    if reviewer:
        forms = ['The expert reviewer relied on the %s, %s%s.' % (src, section, pg),
                 'Guideline relied on: %s, %s%s.' % (src, section, pg),
                 '%s: %s%s.' % (src, section, pg)]
    else:
        if rng.random() < 0.12:
            return rng.choice(['No guideline was cited by the Claims Administrator.',
                               'The utilization review named no guideline for this item.'])
        forms = ['The utilization review relied on the %s, %s%s.' % (src, section, pg),
                 'Cited by utilization review: %s, %s%s.' % (src, section, pg),
                 '%s, %s%s.' % (src, section, pg)]
    return rng.choice(forms)


def rationale(rng, cat, req, name, upheld):
    parts = []
    guide = GUIDE_SENTENCES[cat][:]
    rng.shuffle(guide)
    intro = rng.choice(['Per the cited guideline, ', 'According to the MTUS, ', 'The guideline states that ',
                        'Under the applicable guideline, ', ''])
    first = guide[0]
    parts.append(intro + (first[0].lower() + first[1:] if intro else first))
    parts.extend(guide[1:rng.randint(1, len(guide))])
    pool = [f for g in FACT_GROUPS[cat] for f in FACTS[g][0 if upheld else 1]]
    facts = rng.sample(pool, k=min(len(pool), rng.randint(2, 4)))
    lead = rng.choice(['In this case, ', 'Here, ', 'For this claimant, ', ''])
    for i, f in enumerate(facts):
        s = f.format(dur=rng.choice(['several months', 'more than a year', 'since at least 2014',
                                     'on and off for two years']),
                     score=rng.randint(6, 9), score2=rng.randint(2, 5), n=rng.choice([6, 8, 12, 24]))
        if i == 0 and lead:
            s = lead + s[0].lower() + s[1:]
        parts.append(s)
    if upheld and cat == 'opioid' and rng.random() < 0.4:
        parts.append('If the medication is stopped, it should be tapered to avoid withdrawal.')
    parts.append(rng.choice(CONCLUDE_UPHELD if upheld else CONCLUDE_OVERTURNED).format(req=req))
    text = ' '.join(parts)
    if rng.random() < 0.25:  # a second paragraph now and then
        cut = text.find('. ', len(text) // 2)
        if cut > 0:
            text = text[:cut + 1] + '\n' + text[cut + 2:]
    return text


def summary(rng, age, sexw, doi_txt, doi_iso, region, lat, meds):
    prose, dxs, exams, _ = REGIONS[region]
    dx = rng.sample(dxs, k=min(len(dxs), rng.randint(1, 3)))
    occupation = rng.choice(OCCUPATIONS)
    opening = rng.choice([
        'The injured worker is a {age} year old {sex} {occ} who sustained an industrial injury on {doi} while {mech}.',
        'This {age}-year-old {sex} {occ} was injured on {doi} while {mech}.',
        'The claimant is a {age} year old {sex} with a date of injury of {doi}, when the injury occurred while {mech}.',
        'According to the records, this {age} year old {sex} {occ} reported an industrial injury on {doi} after {mech}.',
    ]).format(age=age, sex=sexw if sexw in ('male', 'female') else sexw + ',', occ=occupation if sexw in ('male', 'female') else 'a ' + occupation + ',',
              doi=doi_txt, mech=rng.choice(MECHANISMS))
    s = [opening]
    s.append('The diagnoses include %s.' % join_list(dx) if len(dx) > 1 else 'The diagnosis is %s.' % dx[0])
    y, m, d = rdate(rng, max(2013, int(doi_iso[:4]) + 1), 2016)
    visit = rng.choice(['%d/%d/%d' % (m, d, y), '%s %d, %d' % (MONTHS[m - 1], d, y), '%d-%d-%02d' % (m, d, y % 100)])
    s.append(rng.choice([
        'On {v}, the claimant reported ongoing {p} pain rated {a}/10, {b}/10 at best with medication.',
        'The progress report dated {v} describes {lat} {p} pain of {a} out of 10 on a visual analog scale.',
        'At the visit of {v}, pain in the {p} was {a}/10 and the claimant described trouble sleeping.',
        'Per the note of {v}, {p} pain was rated {a} of 10, unchanged from the prior visit.',
    ]).format(v=visit, p=prose, a=rng.randint(4, 9), b=rng.randint(2, 5), lat=lat))
    ex = rng.sample(exams, k=min(len(exams), rng.randint(1, 3)))
    s.append('Examination showed %s.' % join_list(ex))
    if meds:
        s.append(rng.choice(['Current medications include %s.', 'The claimant has been taking %s.',
                             'The medication list includes %s.']) % join_list(meds))
    treat = rng.sample(['physical therapy', 'chiropractic care', 'acupuncture', 'a home exercise program',
                        'injections', 'activity modification', 'a TENS unit', 'medications',
                        'a functional capacity evaluation', 'work restrictions'], k=rng.randint(2, 4))
    s.append('Treatment to date has included %s.' % join_list(treat))
    extra = [
        'A urine drug screen dated %d/%d/%d was %s.' % (rng.randint(1, 12), rng.randint(1, 28), rng.randint(2013, 2016),
                                                         rng.choice(['consistent with the prescribed medications',
                                                                     'inconsistent, with no opioid detected',
                                                                     'positive for an unprescribed benzodiazepine'])),
        'The claimant is %s.' % rng.choice(['working modified duty', 'off work', 'temporarily totally disabled',
                                            'working full duty', 'retired', 'permanent and stationary']),
        'An MRI of the %s showed %s.' % (REGIONS[region][3], rng.choice(
            ['a disc protrusion with mild foraminal narrowing', 'degenerative changes without nerve root compression',
             'no acute findings'] if region in ('lumbar', 'cervical', 'thoracic') else
            ['a partial tear', 'a small joint effusion', 'degenerative changes', 'no acute findings'])),
        'The claimant denies bowel or bladder symptoms, and there is no history of fracture, infection or tumor.',
        'Side effects were described as %s.' % rng.choice(['mild constipation', 'none', 'daytime drowsiness', 'nausea']),
        'A psychological evaluation noted %s.' % rng.choice(['mild depression', 'anxiety about returning to work',
                                                             'fear-avoidance beliefs', 'no psychiatric disorder']),
        'The claimant had a %s in %d.' % (rng.choice(['lumbar microdiscectomy', 'right carpal tunnel release',
                                                      'left knee arthroscopy', 'cervical fusion at C5-6']),
                                          rng.randint(2005, 2014)),
        'The treating physician requested authorization for the items now in dispute, and utilization review non-certified or modified them on %s.' % visit,
    ]
    s.extend(rng.sample(extra, k=rng.randint(2, 6)))
    paras = []
    cur = []
    for sent in s:
        cur.append(sent)
        if len(cur) >= 3 and rng.random() < 0.35:
            paras.append(' '.join(cur))
            cur = []
    if cur:
        paras.append(' '.join(cur))
    return paras


def credentials(rng):
    n_spec = 1 if rng.random() < 0.85 else 2
    specs = rng.sample(SPECIALTIES, k=n_spec)
    sub = rng.choice(SUBSPECIALTIES) if rng.random() < 0.25 else None
    states = rng.sample(STATES, k=rng.choice([0, 1, 1, 2])) + ['California']
    return specs, sub, states


def build_letter(seed, index, min_items):
    rng = random.Random('%s:%d' % (seed, index))
    org, short, _ = pick_weighted(rng, ORGS)
    sex = rng.choice(['male', 'female'])
    sexw = rng.choice(SEX_WORDS[sex])
    age = rng.randint(22, 79)
    y, m, d = rdate(rng, 1995, 2015)
    doi_iso = iso(y, m, d)
    doi_txt = date_text(rng, y, m, d)
    region = rng.choice(list(REGIONS))
    lat = rng.choice(LATERAL)
    n_items = max(min_items, pick_weighted(rng, [(1, 35), (2, 30), (3, 15), (4, 10), (5, 6), (6, 4)])[0])
    items = []
    seen = set()
    while len(items) < n_items:
        req, cat, name = make_request(rng, region)
        if req in seen:
            continue
        seen.add(req)
        upheld = rng.random() < 0.86
        items.append({'request': req, 'cat': cat, 'name': name,
                      'decision': 'Upheld' if upheld else 'Overturned'})
    meds = [it['name'] for it in items if it['cat'] in CITES and it['name'][0].isupper()
            and any(it['name'] == dname for dname, *_ in DRUGS)]
    specs, sub, states = credentials(rng)
    sentence_style = rng.random() < 0.45
    case_no = 'CM%02d-%07d' % (rng.randint(13, 16), rng.randint(0, 9999999))

    blocks = []  # (kind, text): 'line' = a line on its own, 'para' = wrapped paragraph, 'sep'
    header = rng.random() < 0.35
    if header:
        ur = datetime.date(max(y + 1, 2014), rng.randint(1, 12), rng.randint(1, 28))
        received = ur + datetime.timedelta(days=rng.randint(3, 30))
        assigned = received + datetime.timedelta(days=rng.randint(1, 10))
        decided = assigned + datetime.timedelta(days=rng.randint(10, 30))
        fields = [('Case Number', case_no),
                  ('Date Assigned', assigned.strftime('%m/%d/%Y')),
                  ('Date of Injury', mdy(y, m, d)),
                  ('Decision Date', decided.strftime('%m/%d/%Y')),
                  ('UR Denial Date', ur.strftime('%m/%d/%Y')),
                  ('Priority', rng.choice(['Standard', 'Standard', 'Expedited'])),
                  ('Application Received', received.strftime('%m/%d/%Y'))]
        two = rng.random() < 0.5
        i = 0
        while i < len(fields):
            if two and i + 1 < len(fields):
                blocks.append(('line', '%s: %s    %s: %s' % (fields[i] + fields[i + 1])))
                i += 2
            else:
                blocks.append(('line', '%s: %s' % fields[i]))
                i += 1
        blocks.append(('sep', ''))
    blocks.append(('line', 'HOW THE IMR FINAL DETERMINATION WAS MADE'))
    if sentence_style:
        cred = 'The expert reviewer is Board Certified in %s%s and is licensed to practice in %s.' % (
            specs[0], (', has a subspecialty in %s' % sub) if sub else '', join_list(states))
    else:
        cred = ''
    method = ' '.join(s.format(org=org, cred=cred) for s in METHOD_SENTENCES if s != '{cred}' or cred)
    blocks.append(('para', method))
    blocks.append(('sep', ''))
    if not sentence_style:
        blocks.append(('line', 'The Expert Reviewer has the following credentials:'))
        blocks.append(('line', 'State(s) of Licensure: %s' % ', '.join(states)))
        blocks.append(('line', 'Certification(s)/Specialty: %s' % ', '.join(specs + ([sub] if sub else []))))
        blocks.append(('sep', ''))
    if rng.random() < 0.15:
        blocks.append(('line', 'DOCUMENTS REVIEWED'))
        for doc in rng.sample(DOCUMENTS, k=rng.randint(2, 5)):
            blocks.append(('line', doc))
        blocks.append(('sep', ''))
    blocks.append(('line', 'CLINICAL CASE SUMMARY'))
    blocks.append(('para', rng.choice(SUMMARY_INTROS)))
    blocks.append(('sep', ''))
    for p in summary(rng, age, sexw, doi_txt, doi_iso, region, lat, meds):
        blocks.append(('para', p))
        blocks.append(('sep', ''))
    summary_end = len(blocks)
    blocks.append(('line', rng.choice(['IMR ISSUES, DECISIONS AND RATIONALES'] * 4 +
                                      ['IMR DECISION(S) AND RATIONALE(S)'])))
    blocks.append(('para', DECISIONS_INTRO))
    blocks.append(('sep', ''))
    truth_items = []
    for it in items:
        upheld = it['decision'] == 'Upheld'
        gap = '  ' if rng.random() < 0.5 else ' '
        blocks.append(('para', '%s:%s%s' % (it['request'], gap, it['decision'])))
        blocks.append(('sep', ''))
        ca = cite_text(rng, it['cat'], False)
        blocks.append(('para', 'Claims Administrator guideline: ' + ca))
        blocks.append(('sep', ''))
        rg = cite_text(rng, it['cat'], True)
        blocks.append(('para', '%s guideline: %s' % (short, rg)))
        blocks.append(('sep', ''))
        rat = rationale(rng, it['cat'], it['request'], it['name'], upheld)
        paras = rat.split('\n')
        blocks.append(('para', 'Decision rationale: ' + paras[0]))
        for p in paras[1:]:
            blocks.append(('sep', ''))
            blocks.append(('para', p))
        blocks.append(('sep', ''))
        truth_items.append({'request': it['request'], 'decision': it['decision']})
    # Published letters run to a few kilobytes; short ones get more history in the summary.
    while sum(len(t) + 3 for _, t in blocks) * 1.06 < 3200:
        blocks[summary_end:summary_end] = [('para', ' '.join(rng.sample(HISTORY, k=3))), ('sep', '')]
    text = render_pdf_shape(rng, blocks)
    truth = {'case_number': case_no if header else None,
             'organization': org,
             'specialties': specs[:1] if sentence_style else specs + ([sub] if sub else []),
             'licensure': states,
             'age': age, 'sex': sex, 'date_of_injury': doi_iso,
             'items': truth_items}
    return text, truth


def wrap(rng, text, width):
    """Greedy word wrap; a word too long for the line is broken after one of its hyphens."""
    words = text.split(' ')
    lines = []
    cur = ''
    for w in words:
        if not cur:
            cur = w
            continue
        if len(cur) + 1 + len(w) <= width:
            cur += ' ' + w
            continue
        room = width - len(cur) - 1
        cut = w.rfind('-', 0, room)
        if cut > 0 and cut < len(w) - 1 and rng.random() < 0.8:
            lines.append(cur + ' ' + w[:cut + 1])
            cur = w[cut + 1:]
        else:
            lines.append(cur)
            cur = w
    if cur:
        lines.append(cur)
    return lines


def render_pdf_shape(rng, blocks):
    width = rng.randint(88, 98)
    page = rng.randint(40, 50)
    out = []
    count = 0

    def emit(line):
        nonlocal count
        lead = ' ' if (not out or rng.random() < 0.02) else ''
        trail = ' ' if rng.random() < 0.9 else ''
        if rng.random() < 0.05:
            line = line.replace('. ', '.  ', 1)
        out.append(lead + line + trail + '\n\n')
        count += 1
        if count % page == 0:
            out.append('\n' * rng.choice([2, 2, 4]))

    for kind, text in blocks:
        if kind == 'sep':
            out.append(' \n\n')
        elif kind == 'line':
            emit(text)
        else:
            for line in wrap(rng, text, width):
                emit(line)
    out.append(' \n\n' * rng.randint(0, 3) + '\n')
    return ''.join(out)


def main():
    ap = argparse.ArgumentParser(description='Generate synthetic Final Determination Letters.')
    ap.add_argument('--seed', default='1')
    ap.add_argument('--count', type=int, required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--start', type=int, default=0, help='index of the first letter')
    ap.add_argument('--truth', help='write the expected fields as JSON Lines to this file')
    ap.add_argument('--min-items', type=int, default=1)
    args = ap.parse_args()
    if args.count < 0 or args.min_items < 1 or args.min_items > 6:
        ap.error('--count must be >= 0 and --min-items 1-6')
    os.makedirs(args.out, exist_ok=True)
    digits = max(6, len(str(args.start + args.count)))
    truth = open(args.truth, 'w') if args.truth else None
    total = 0
    for i in range(args.start, args.start + args.count):
        text, t = build_letter(args.seed, i, args.min_items)
        name = '%0*d.txt' % (digits, i)
        with open(os.path.join(args.out, name), 'w') as fp:
            fp.write(text)
        total += len(text.encode())
        if truth:
            t['file'] = name
            truth.write(json.dumps(t) + '\n')
    if truth:
        truth.close()
    print('gen_letters: %d letters, %d bytes in %s' % (args.count, total, args.out), file=sys.stderr)


if __name__ == '__main__':
    main()
