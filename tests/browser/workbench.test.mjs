// workbench.test.mjs - the reviewers' workbench (web/) end to end in Debian's headless
// Chromium, driven by playwright-core: `imr serve --demo` on a free loopback port with a
// fresh SQLite file; intake signs in, registers a case, screens it, reads how each panel
// member fits it (the affiliated one flagged as conflicted) and assigns a reviewer
// automatically; the assigned reviewer opens the engine's draft, follows a criterion to its
// highlighted evidence, decides by keyboard, rewrites the rationale, attests and issues;
// the letter is previewed and its PDF downloaded; the reviewer corrects the issued letter
// (a new version with its reason); an administrator assigns by hand and manages users and
// API tokens (created, shown once, revoked). A screenshot of every step goes to the
// artifacts folder. Any script error, Content-Security-Policy violation, breach of axe-core's
// WCAG 2.1 A/AA rules (labels, contrast, ARIA, ...) or unsafe request without the
// X-CSRF-Token header fails the test.
//
//   node workbench.test.mjs --imr PATH/TO/imr --source SOURCE_DIR [--artifacts DIR]
//
// Exit status: 0 passed, 1 failed, 77 skipped (no Chromium, or the npm packages are missing).

import {spawn} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';

const CHROMIUM = '/usr/bin/chromium';
const SKIP = 77;

// ---------------------------------------------------------------- arguments

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const here = path.dirname(new URL(import.meta.url).pathname);
const source = path.resolve(option('source', path.join(here, '..', '..')));
const imr = path.resolve(option('imr', path.join(source, 'build', 'imr')));
const artifacts = path.resolve(option('artifacts', path.join(here, 'artifacts')));

if (!existsSync(CHROMIUM)) {
  console.log(`SKIPPED: ${CHROMIUM} is missing (apt-get install chromium)`);
  process.exit(SKIP);
}
let chromium;
try {
  ({chromium} = await import('playwright-core'));
} catch (e) {
  console.log(`SKIPPED: playwright-core is not installed (cd tests/browser && npm ci): ${e.message}`);
  process.exit(SKIP);
}
const axePath = path.join(here, 'node_modules', 'axe-core', 'axe.min.js');
if (!existsSync(axePath)) {
  console.log('SKIPPED: axe-core is not installed (cd tests/browser && npm ci)');
  process.exit(SKIP);
}
if (!existsSync(imr)) {
  console.error(`FAILED: no imr binary at ${imr}`);
  process.exit(1);
}

// ---------------------------------------------------------------- the server

const scratch = mkdtempSync(path.join(tmpdir(), 'imr-workbench-'));
mkdirSync(artifacts, {recursive: true});

// Start `imr serve --demo --port 0`; resolve with its address and the demo logins it prints.
function startServer() {
  const db = path.join(scratch, 'workbench.db');
  const child = spawn(imr, ['serve', '--demo', '--db', db, '--address', '127.0.0.1', '--port', '0',
    '--threads', '2', '--web', path.join(source, 'web')], {
    env: {...process.env, IMR_RULES: process.env.IMR_RULES || path.join(source, 'rules')},
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logins = new Map(); // username -> {password, role, reviewerId}
  let out = '';
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`imr serve did not start in 30 s:\n${out}${log}`)), 30000);
    const early = (code) => {
      clearTimeout(timer);
      reject(new Error(`imr serve exited with status ${code} before listening:\n${out}${log}`));
    };
    child.stderr.on('data', (d) => { log += d; });
    child.on('exit', early);
    const reading = (d) => {
      out += d;
      const l = /listening on (http:\/\/\S+?)\/? /.exec(out);
      if (!l) return;
      for (const line of out.split('\n')) {
        const m = /^\s+(\S+)\s+(\S+)\s+(intake|administrator|analyst|reviewer)(?:\s+(\S+))?\s*$/.exec(line);
        if (m) logins.set(m[1], {password: m[2], role: m[3], reviewerId: m[4] || null});
      }
      clearTimeout(timer);
      child.off('exit', early);
      child.stdout.off('data', reading);
      child.stdout.on('data', (more) => { log += more; }); // keep draining, keep for the report
      resolve({child, base: l[1], logins, log: () => log});
    };
    child.stdout.on('data', reading);
  });
}

function stopServer(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(signal ? signal : code);
    });
    child.kill('SIGTERM');
  });
}

// ---------------------------------------------------------------- helpers

function isoDay(offsetDays) {
  const d = new Date(Date.now() + offsetDays * 86400000);
  return d.toISOString().slice(0, 10);
}

// The case: an example case file with a new number, recent dates (so its clock runs) and a
// clinical summary that opens with non-ASCII text (accents, dashes, curly quotes and a
// character outside the Basic Multilingual Plane), so that every evidence span after it
// has different UTF-8 byte and UTF-16 offsets. Its claims administrator is an organization a
// panel member is affiliated with, so that one reviewer has a conflict of interest.
function testCase(conflictingParty) {
  const c = JSON.parse(readFileSync(path.join(source, 'examples', 'cases', 'CM15-0000001.json'), 'utf8'));
  c.case_number = 'CM15-0999001';
  c.ur_decision_date = isoDay(-3);
  c.parties = [
    {role: 'employee', name: 'Rosa Delgado-Núñez'},
    {role: 'claims_administrator', name: conflictingParty},
  ];
  c.clinical_summary = 'Intake note from Clínica São José — “seguimiento” 🩺 translated by the claims office. '
    + c.clinical_summary;
  return c;
}

let step = 0;
async function shot(page, name) {
  step += 1;
  const file = path.join(artifacts, `${String(step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({path: file, fullPage: true});
  console.log(`  screenshot ${path.basename(file)}`);
}

// axe-core's WCAG 2 A and AA rules over the page as it stands (run through the debugging
// protocol, so the page's Content-Security-Policy is not loosened for it).
const axeSource = readFileSync(axePath, 'utf8');
async function assertAccessible(page, where) {
  const violations = await page.evaluate(async (src) => {
    if (!window.axe) (0, eval)(src);
    const r = await window.axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} - ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  }, axeSource);
  assert.deepEqual(violations, [], `${where}: accessibility violations`);
}

async function apiGet(page, url) {
  return page.evaluate(async (u) => {
    const r = await fetch(u, {headers: {Accept: 'application/json'}});
    return {status: r.status, body: await r.json()};
  }, url);
}

// The workbench routes by the address's fragment: no page load to wait for.
function waitForHash(page, prefix) {
  return page.waitForFunction((p) => location.hash.startsWith(p), prefix);
}

async function signIn(page, base, username, password) {
  await page.goto(`${base}/#/signin`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.locator('#whoami', {hasText: username}).waitFor();
}

async function signOut(page) {
  await page.getByRole('button', {name: 'Sign out'}).click();
  await page.getByRole('heading', {name: 'Sign in'}).waitFor();
}

// ---------------------------------------------------------------- the test

async function run(server) {
  const {base, logins} = server;
  const profile = path.join(scratch, 'chromium-profile');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: {width: 1360, height: 900},
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(15000);

  const problems = [];
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
    // 4xx answers are expected (the session probe before signing in, a refused assignment)
    else if (m.type() === 'error' && !/status of 4\d\d/.test(text)) problems.push(`console error: ${text}`);
  });
  const unsafe = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname.startsWith('/api/') && !['GET', 'HEAD'].includes(r.method()))
      unsafe.push({method: r.method(), path: url.pathname, csrf: r.headers()['x-csrf-token'] || ''});
  });

  try {
    // ------------------------------------------------------------ intake
    const intake = logins.get('intake');
    assert.ok(intake, 'imr serve --demo printed no intake login');
    await page.goto(base);
    await page.getByRole('heading', {name: 'Sign in'}).waitFor();
    await assertAccessible(page, 'sign-in');
    await shot(page, 'sign-in');
    await signIn(page, base, 'intake', intake.password);
    await page.locator('table.queue tbody tr').first().waitFor();
    await assertAccessible(page, 'queue');

    // j / k move the selection; / jumps to the case-number search
    await page.locator('h1').click();
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    const selectedRows = () => page.evaluate(() => [...document.querySelectorAll('table.queue tbody tr')]
      .flatMap((tr, i) => (tr.classList.contains('selected') ? [i] : [])));
    assert.deepEqual(await selectedRows(), [0], 'j, j, k should select the first row, and only it');
    await page.keyboard.press('j');
    assert.deepEqual(await selectedRows(), [1], 'j should move the selection down');
    assert.equal(await page.evaluate(() => document.activeElement.closest('tr.selected') !== null), true,
      'the focus should follow the selection');
    await page.keyboard.press('?');
    await page.locator('dialog#help[open]').waitFor();
    await assertAccessible(page, 'shortcut help');
    await shot(page, 'queue-with-shortcut-help');
    await page.keyboard.press('Escape');
    await page.locator('dialog#help[open]').waitFor({state: 'detached'});
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.name), 'q',
      '/ should move the focus to the case-number search');
    await page.keyboard.press('Escape');

    // filters: overdue only, then status
    await page.getByLabel('Overdue only').check();
    await page.waitForFunction(() => !document.querySelector('table.queue[aria-busy]'));
    await page.waitForTimeout(100);
    const overdueRows = await page.locator('table.queue tbody tr[data-id]').count();
    const flagged = await page.locator('table.queue tbody tr.is-overdue').count();
    assert.equal(flagged, overdueRows, 'with "Overdue only" every row should be flagged overdue');
    await page.getByLabel('Overdue only').uncheck();
    await page.waitForFunction(() => !document.querySelector('table.queue[aria-busy]'));
    await shot(page, 'queue');

    // register a case whose claims administrator a panel member is affiliated with
    const panel = (await apiGet(page, '/api/reviewers')).body.reviewers;
    const conflicted = panel.find((r) => ((r.profile || r).affiliations || []).length);
    assert.ok(conflicted, 'the demo panel should have a reviewer with an affiliation');
    const kase = testCase((conflicted.profile || conflicted).affiliations[0].name);
    await page.getByRole('link', {name: 'New case'}).click();
    await page.getByRole('heading', {name: 'New application'}).waitFor();
    await page.getByLabel('Case file (JSON)').fill(JSON.stringify(kase, null, 2));
    await page.getByLabel('Received', {exact: true}).fill(isoDay(-1));
    await page.getByLabel('Signed', {exact: true}).fill(isoDay(-2));
    await assertAccessible(page, 'new case');
    await shot(page, 'new-case');
    await page.getByRole('button', {name: 'Register the application'}).click();
    await waitForHash(page, '#/cases/CM15-0999001/eligibility');
    await page.getByRole('heading', {name: 'Eligibility screening'}).waitFor();

    // screen it
    await page.getByRole('button', {name: 'Screen eligibility'}).click();
    await page.locator('.badge.passed', {hasText: 'Eligible'}).waitFor();
    const screened = await apiGet(page, '/api/cases/CM15-0999001');
    assert.equal(screened.body.status, 'eligible', 'the case should be eligible after screening');
    const checks = await page.locator('ul.checks li').count();
    assert.equal(checks, screened.body.eligibility.checks.length, 'every eligibility check should be listed');
    await assertAccessible(page, 'eligibility');
    await shot(page, 'eligibility-screened');

    // before assigning: how each panel member fits this case, the affiliated one conflicted
    await page.getByRole('link', {name: 'Assignment', exact: true}).click();
    const partyName = kase.parties.find((p) => p.role === 'claims_administrator').name;
    const conflictRow = page.locator('table.candidates tbody tr', {has: page.locator('th', {hasText: conflicted.id})});
    await conflictRow.locator('td.conflicts li.q-no', {hasText: partyName}).waitFor();
    assert.match(await conflictRow.locator('td.qualifies').innerText(), /No[\s\S]*refused, even by hand/,
      'the conflicted reviewer should not qualify, not even by hand');
    const fit = (await apiGet(page, '/api/cases/CM15-0999001/candidates')).body;
    assert.equal(await page.locator('table.candidates tbody tr').count(), fit.candidates.length,
      'one row per active panel member');
    for (const r of fit.candidates) {
      const row = page.locator('table.candidates tbody tr', {has: page.locator('th', {hasText: r.id})});
      assert.equal((await row.locator('td.qualifies strong').innerText()).includes('Yes'), r.qualified,
        `${r.id}: the table should say what the server says of its qualification`);
    }
    assert.ok(fit.automatic_choice, 'someone on the demo panel should qualify for this case');
    await assertAccessible(page, 'candidates');
    await shot(page, 'candidates');

    // assign automatically
    await page.getByRole('button', {name: 'Assign automatically'}).click();
    await page.locator('dl.facts dt', {hasText: 'Why qualified'}).waitFor();
    const assigned = await apiGet(page, '/api/cases/CM15-0999001');
    assert.equal(assigned.body.status, 'assigned');
    const reviewerId = assigned.body.reviewer && assigned.body.reviewer.id;
    assert.ok(reviewerId, 'the case should have a reviewer after automatic assignment');
    await page.locator('dl.facts dd strong', {hasText: reviewerId}).waitFor();
    assert.notEqual(reviewerId, conflicted.id, 'automatic assignment must avoid the reviewer with a conflict');
    assert.equal(reviewerId, fit.automatic_choice, 'automatic assignment should choose whom the candidates named');
    await page.locator('table.candidates tr', {hasText: conflicted.id}).locator('td.conflicts li.q-no', {hasText: partyName}).waitFor();
    await assertAccessible(page, 'assignment');
    await shot(page, 'assigned');
    await signOut(page);

    // ------------------------------------------------------------ the reviewer
    const reviewer = [...logins.entries()].find(([, l]) => l.reviewerId === reviewerId);
    assert.ok(reviewer, `no demo login for reviewer ${reviewerId}`);
    await signIn(page, base, reviewer[0], reviewer[1].password);
    await page.getByRole('heading', {name: 'My cases'}).waitFor();
    await page.keyboard.press('/');
    await page.keyboard.type('CM15-0999');
    await page.waitForFunction(() => location.hash.includes('q=CM15-0999') && !document.querySelector('table.queue[aria-busy]')
      && document.querySelectorAll('table.queue tbody tr[data-id]').length === 1);
    await shot(page, 'reviewer-queue-search');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await waitForHash(page, '#/cases/CM15-0999001');
    await page.getByRole('heading', {name: 'Case CM15-0999001'}).waitFor();

    // the engine's draft
    await page.getByRole('link', {name: 'Review', exact: true}).click();
    await page.getByRole('button', {name: 'Draft with the engine'}).click();
    await page.locator('article.item').first().waitFor();
    await assertAccessible(page, 'review');
    const drafted = await apiGet(page, '/api/cases/CM15-0999001');
    const record = drafted.body.determination;
    assert.equal(record.status, 'draft');
    assert.equal(await page.locator('article.item').count(), record.items.length, 'one card per disputed item');
    await shot(page, 'draft');

    // every evidence span is highlighted over exactly its own text
    const evidence = [];
    record.items.forEach((it, i) => it.criteria.forEach((cr, j) => (cr.evidence || []).forEach((ev, k) =>
      evidence.push({id: `e${i}-${j}-${k}`, text: ev.text, source: ev.source}))));
    assert.ok(evidence.length > 0, 'the draft of this case should cite evidence from the records');
    const marked = await page.evaluate(() => {
      const byId = {};
      for (const m of document.querySelectorAll('mark.ev'))
        for (const id of m.dataset.spans.split(' ')) byId[id] = (byId[id] || '') + m.textContent;
      return byId;
    });
    for (const ev of evidence)
      if (ev.text) assert.equal(marked[ev.id], ev.text, `evidence ${ev.id} (${ev.source}) highlights the wrong text`);

    // the byte-offset conversion agrees with the browser's own UTF-8 encoder
    const conversion = await page.evaluate(async () => {
      const {utf16Offsets, utf8Length} = await import('/spans.js');
      const text = 'a\u00e9\u2014\u201cx\u201d \ud83e\ude7a b \ud835\udfd5 z';
      const enc = new TextEncoder();
      const bytes = [];
      const units = [];
      for (let i = 0; i <= text.length; i++) {
        const c = text.charCodeAt(i - 1);
        if (i > 0 && c >= 0xd800 && c <= 0xdbff) continue; // inside a surrogate pair
        bytes.push(enc.encode(text.slice(0, i)).length);
        units.push(i);
      }
      const map = utf16Offsets(text, bytes);
      return {ok: bytes.every((b, n) => map.get(b) === units[n]), total: utf8Length(text) === enc.encode(text).length};
    });
    assert.ok(conversion.ok && conversion.total, 'UTF-8 byte offsets should map to UTF-16 indexes');

    // a criterion with evidence scrolls to it and lights it up
    const withEvidence = page.locator('button.criterion', {hasText: /passage/}).first();
    await withEvidence.click();
    assert.equal(await withEvidence.getAttribute('aria-pressed'), 'true');
    const active = page.locator('mark.ev.active').first();
    await active.waitFor();
    const inView = await page.evaluate(() => {
      const m = document.querySelector('mark.ev.active').getBoundingClientRect();
      const p = document.querySelector('.records-pane').getBoundingClientRect();
      return m.top >= p.top && m.bottom <= p.bottom;
    });
    assert.ok(inView, 'the evidence of the selected criterion should be scrolled into view');
    await assertAccessible(page, 'review with evidence selected');
    await shot(page, 'evidence-highlighted');

    // decide by keyboard: the opposite of the engine, with the reviewer's own rationale
    const engine = record.items[0].decision;
    const mine = engine === 'Overturned' ? 'Upheld' : 'Overturned';
    await page.keyboard.press(mine === 'Upheld' ? 'u' : 'o');
    assert.ok(await page.locator(`article.item >> nth=0 >> input[value="${mine}"]`).isChecked(), `${mine} should be selected`);
    const rationale = 'Reviewer test rationale: the records were weighed against the cited guideline by the reviewer.';
    const rationaleBox = page.locator('article.item').first().getByLabel('Decision rationale');
    await rationaleBox.fill(rationale);
    for (let i = 1; i < record.items.length; i++) {
      await page.keyboard.press('Escape');
      await page.locator(`#item-${i}-title`).focus();
      await page.keyboard.press(record.items[i].decision === 'Upheld' ? 'u' : 'o');
    }
    await page.locator('.dirty-note', {hasText: 'Unsaved changes'}).waitFor();
    await rationaleBox.focus();
    await page.keyboard.press('Control+Enter');
    await page.locator('#toast', {hasText: 'Decisions saved'}).waitFor();
    await page.locator('article.item').first().waitFor();
    const decided = await apiGet(page, '/api/cases/CM15-0999001/determination');
    assert.equal(decided.body.items[0].decision, mine, 'the saved decision should be the one chosen by keyboard');
    assert.equal(decided.body.items[0].rationale, rationale, 'the saved rationale should be the edited one');
    await shot(page, 'decided');

    // attest and issue
    const issue = page.getByRole('button', {name: 'Issue the final letter'});
    await issue.click();
    await page.locator('.error', {hasText: 'Not ready to issue'}).waitFor();
    await page.getByLabel('I make the attestation above.').check();
    await page.getByLabel('Signature').fill(`Reviewer ${reviewerId}`);
    await page.locator('ul li.q-yes', {hasText: 'Ready to issue'}).waitFor();
    assert.equal(await page.locator('.error', {hasText: 'Not ready to issue'}).count(), 0, 'a stale "not ready" message stays');
    const statement = (await page.locator('#attestation-statement').textContent()).trim();
    await shot(page, 'attested');
    await issue.click();
    await waitForHash(page, '#/cases/CM15-0999001/letter');
    await page.locator('#toast', {hasText: 'issued'}).waitFor();
    const issued = await apiGet(page, '/api/cases/CM15-0999001');
    assert.equal(issued.body.status, 'issued');
    assert.equal(issued.body.determination.attestation.statement, statement, 'the letter carries the attestation shown');

    // the letter: preview in a sandboxed frame, then the PDF
    const frame = page.frameLocator('iframe.letter');
    await frame.locator('body', {hasText: 'CM15-0999001'}).waitFor();
    assert.equal(await page.locator('iframe.letter').getAttribute('sandbox'), '', 'the letter frame must be sandboxed');
    await assertAccessible(page, 'letter');
    await shot(page, 'letter');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', {name: 'Download PDF'}).click(),
    ]);
    const pdfPath = path.join(artifacts, 'letter.pdf');
    await download.saveAs(pdfPath);
    const pdf = readFileSync(pdfPath);
    assert.equal(pdf.subarray(0, 4).toString('latin1'), '%PDF', 'the download should be a PDF');
    console.log(`  letter.pdf: ${pdf.length} bytes`);

    // correct the issued letter: a new version with its reason; the issued one stays
    const issuedVersion = Math.max(...issued.body.determinations.map((v) => v.version));
    const issuedText = await page.evaluate(async (v) => (await fetch(`/api/cases/CM15-0999001/letter?format=text&version=${v}`)).text(),
      issuedVersion);
    await page.getByRole('button', {name: 'Correct this letter'}).click();
    await waitForHash(page, '#/cases/CM15-0999001/review');
    const saveCorrection = page.getByRole('button', {name: 'Save the correction'});
    await saveCorrection.waitFor();
    const correctedRationale = 'Corrected rationale: the reviewer read the last progress report again and restates the reasons.';
    await page.locator('article.item').first().getByLabel('Decision rationale').fill(correctedRationale);
    await saveCorrection.click();
    await page.locator('.error', {hasText: '/correction_reason'}).waitFor(); // no reason, no correction
    assert.equal(await page.getByLabel('Reason for the correction (required)').getAttribute('aria-invalid'), 'true');
    const correctionReason = 'Browser test: the rationale named the wrong progress report.';
    await page.getByLabel('Reason for the correction (required)').fill(correctionReason);
    await assertAccessible(page, 'correction');
    await shot(page, 'correction');
    await saveCorrection.click();
    await page.locator('#toast', {hasText: 'Correction saved'}).waitFor();
    await page.locator('.correction-note', {hasText: correctionReason}).waitFor();
    const correcting = (await apiGet(page, '/api/cases/CM15-0999001')).body;
    const draft = correcting.determinations[correcting.determinations.length - 1];
    assert.equal(correcting.status, 'correcting');
    assert.equal(draft.correction_of, issuedVersion, 'the correction should name the version it corrects');
    assert.equal(draft.correction_reason, correctionReason);
    await page.getByLabel('I make the attestation above.').check();
    await page.getByLabel('Signature').fill(`Reviewer ${reviewerId}`);
    await issue.click();
    await waitForHash(page, '#/cases/CM15-0999001/letter');
    const reissued = (await apiGet(page, '/api/cases/CM15-0999001')).body;
    const corrected = reissued.determinations[reissued.determinations.length - 1];
    assert.equal(reissued.status, 'issued');
    assert.deepEqual([corrected.status, corrected.version, corrected.correction_of, corrected.correction_reason],
      ['final', issuedVersion + 2, issuedVersion, correctionReason], 'the correction is issued as the next final version');
    await page.frameLocator('iframe.letter').locator('body', {hasText: 'Corrected rationale'}).waitFor();
    await page.locator('p', {hasText: `It corrects version ${issuedVersion}`}).waitFor();
    const stillIssued = await page.evaluate(async (v) => (await fetch(`/api/cases/CM15-0999001/letter?format=text&version=${v}`)).text(),
      issuedVersion);
    assert.equal(stillIssued, issuedText, 'the letter issued first must not change');
    await assertAccessible(page, 'corrected letter');
    await shot(page, 'corrected-letter');

    await signOut(page);

    // ------------------------------------------------------------ the administrator
    const admin = logins.get('admin');
    assert.ok(admin, 'imr serve --demo printed no admin login');
    await signIn(page, base, 'admin', admin.password);

    // an ineligible application: its checks, its reasons and the notice that closed it
    const ineligible = (await apiGet(page, '/api/cases?status=ineligible')).body.cases;
    assert.ok(ineligible.length > 0, 'the demo data should hold an ineligible application');
    const closed = (await apiGet(page, `/api/cases/${encodeURIComponent(ineligible[0].id)}`)).body;
    await page.goto(`${base}/#/cases/${encodeURIComponent(closed.id)}/eligibility`);
    await page.locator('.badge.failed', {hasText: 'Not eligible'}).waitFor();
    assert.equal(await page.locator('ul.checks .badge.failed').count(),
      closed.eligibility.checks.filter((c) => c.startsWith('failed')).length, 'every failed check should be flagged');
    for (const reason of closed.eligibility.reasons)
      await page.locator('li', {hasText: reason}).first().waitFor();
    await page.frameLocator('iframe.letter').locator('body', {hasText: closed.case_number}).waitFor();
    await assertAccessible(page, 'ineligible application');
    await shot(page, 'ineligible-notice');

    // a manual assignment needs a reason, and a reviewer with a conflict is refused
    const eligible = (await apiGet(page, '/api/cases?status=eligible')).body.cases;
    assert.ok(eligible.length > 0, 'the demo data should hold an eligible, unassigned application');
    const target = (await apiGet(page, `/api/cases/${encodeURIComponent(eligible[0].id)}`)).body;
    const parties = new Set((target.case_file.parties || []).map((p) => p.name));
    await page.goto(`${base}/#/cases/${encodeURIComponent(target.id)}/assignment`);
    const form = page.locator('form', {has: page.getByRole('heading', {name: 'Assign by hand'})});
    const qualified = panel.find((r) => r.active !== false && Object.values(r.qualifications || {}).every(Boolean)
      && !((r.profile || r).affiliations || []).some((a) => parties.has(a.name)));
    assert.ok(qualified, 'the demo panel should have a qualified reviewer without a conflict');
    await form.getByLabel('Reviewer').selectOption(qualified.id);
    await form.getByRole('button', {name: 'Assign this reviewer'}).click();
    await form.locator('.error', {hasText: '/reason'}).waitFor();
    assert.equal(await form.getByLabel('Reason (required)').getAttribute('aria-invalid'), 'true');
    await assertAccessible(page, 'manual assignment with an error');
    const unlicensed = panel.find((r) => r.qualifications && r.qualifications.licensed === false);
    if (unlicensed) {
      await form.getByLabel('Reviewer').selectOption(unlicensed.id);
      await form.getByLabel('Reason (required)').fill('Browser test: a reviewer the rules refuse');
      await form.getByRole('button', {name: 'Assign this reviewer'}).click();
      await form.locator('.error', {hasText: unlicensed.id}).waitFor();
      assert.equal((await apiGet(page, `/api/cases/${encodeURIComponent(target.id)}`)).body.status, 'eligible',
        'a refused manual assignment must leave the case unassigned');
    }
    const reason = 'Browser test: continuity with an earlier review of this worker';
    await form.getByLabel('Reviewer').selectOption(qualified.id);
    await form.getByLabel('Reason (required)').fill(reason);
    await form.getByRole('button', {name: 'Assign this reviewer'}).click();
    await page.locator('dl.facts dd', {hasText: reason}).waitFor();
    const manual = (await apiGet(page, `/api/cases/${encodeURIComponent(target.id)}`)).body;
    assert.equal(manual.assignment.reviewer_id, qualified.id);
    assert.equal(manual.assignment.method, 'manual');
    assert.equal(manual.assignment.reason, reason);
    await shot(page, 'manual-assignment');

    // users and API tokens
    await page.getByRole('link', {name: 'Users', exact: true}).click();
    await page.getByRole('heading', {name: 'Users and API tokens'}).waitFor();
    await assertAccessible(page, 'users');
    const userForm = page.locator('form', {has: page.getByRole('heading', {name: 'Create a user'})});
    await userForm.getByLabel('Username').fill('wb-reviewer');
    await userForm.getByLabel('Password').fill('browser-test-password');
    await userForm.getByLabel('Role').selectOption('reviewer');
    await userForm.getByRole('button', {name: 'Create the user'}).click();
    await userForm.locator('.error', {hasText: '/reviewer_id'}).waitFor(); // a reviewer account names its panel id
    await userForm.getByLabel('Username').fill('wb-analyst');
    await userForm.getByLabel('Role').selectOption('analyst');
    await userForm.getByRole('button', {name: 'Create the user'}).click();
    await page.locator('table.users tr[data-username="wb-analyst"]', {hasText: 'Analyst'}).waitFor();
    const analyst = (await apiGet(page, '/api/users')).body.users.find((u) => u.username === 'wb-analyst');
    assert.ok(analyst && analyst.role === 'analyst', 'the new user should exist on the server');
    const tokenForm = page.locator('form', {has: page.getByRole('heading', {name: 'Create an API token'})});
    await tokenForm.getByLabel('For user').selectOption(analyst.id);
    await tokenForm.getByLabel('Label').fill('browser test');
    await tokenForm.getByRole('button', {name: 'Create the token'}).click();
    const secret = (await page.locator('.secret .token-secret').innerText()).trim();
    assert.match(secret, /^imr_[0-9a-f]{64}$/, 'the new token is shown once, in full');
    await assertAccessible(page, 'new token');
    await shot(page, 'token-created');
    const asAnalyst = (t) => page.evaluate(async (tok) => {
      const r = await fetch('/api/session', {headers: {Authorization: `Bearer ${tok}`}, credentials: 'omit'});
      return {status: r.status, body: r.status === 200 ? await r.json() : null};
    }, t);
    const who = await asAnalyst(secret);
    assert.equal(who.status, 200, 'the token should work');
    assert.equal(who.body.user.username, 'wb-analyst');
    const listed = (await apiGet(page, '/api/tokens')).body.tokens.find((t) => t.label === 'browser test');
    assert.ok(listed && !JSON.stringify(listed).includes(secret), 'the token list never shows the secret');
    await page.getByRole('button', {name: 'I have copied it'}).click();
    assert.equal(await page.locator('.secret').count(), 0, 'the secret is gone once dismissed');
    await page.getByRole('button', {name: `Revoke token ${listed.id} of wb-analyst`}).click();
    await page.locator(`table.tokens tr[data-token="${listed.id}"] td.token-state`, {hasText: 'revoked'}).waitFor();
    assert.equal((await asAnalyst(secret)).status, 401, 'a revoked token must stop working');
    await shot(page, 'token-revoked');

    await signOut(page);
    await shot(page, 'signed-out');

    // every change carried the CSRF token of its session
    const missing = unsafe.filter((r) => !(r.method === 'POST' && r.path === '/api/session') && !r.csrf);
    assert.deepEqual(missing, [], 'unsafe requests without X-CSRF-Token');
    assert.ok(unsafe.length >= 8, `expected the workflow's changes to reach the server (saw ${unsafe.length})`);
    assert.deepEqual(problems, [], 'script errors or CSP violations in the page');
  } catch (err) {
    try {
      await page.screenshot({path: path.join(artifacts, 'failure.png'), fullPage: true});
      console.log('  screenshot failure.png');
    } catch (e) {
      // the page may be gone
    }
    if (problems.length) console.error(`page problems:\n  ${problems.join('\n  ')}`);
    throw err;
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------- main

let server = null;
let status = 0;
try {
  rmSync(artifacts, {recursive: true, force: true});
  mkdirSync(artifacts, {recursive: true});
  server = await startServer();
  console.log(`imr serve at ${server.base} (${server.logins.size} demo logins)`);
  await run(server);
  console.log('PASSED: the workbench took a case from intake to an issued letter');
} catch (err) {
  status = 1;
  console.error(`FAILED: ${err.stack || err}`);
  if (server) console.error(`server log:\n${server.log()}`);
} finally {
  if (server) {
    const code = await stopServer(server.child);
    if (code !== 0) {
      console.error(`FAILED: imr serve did not stop cleanly on SIGTERM (${code})`);
      status = 1;
    }
  }
  writeFileSync(path.join(artifacts, 'RESULT.txt'), status ? 'failed\n' : 'passed\n');
  rmSync(scratch, {recursive: true, force: true});
}
process.exit(status);
