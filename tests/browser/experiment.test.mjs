// The A/B test panel in headless Chromium against a real `whaco serve`:
// "no experiment running" when the setting is off; with one running, the
// two arms, their figures as GET experiment gives them, the verdict, kept
// current live as walk-ins end, up to "B closes more"; and the phone view.
// Run: WHACO_BIN=build/whaco WHACO_WEB_DIR=build/web node --test experiment.test.mjs
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { armOf } from '../api/floorkit.mjs';
import { addTeam, api, closeBrowser, customer, eventually, openPage, screenshot, sleep, startServer } from './harness.mjs';

after(closeBrowser);

const text = (page, sel) => page.locator(sel).first().innerText();
const TEAM = [
  { id: 'sp-ann', name: 'Ann Lee', skillLevel: 0.8 },
  { id: 'sp-ben', name: 'Ben Cho', skillLevel: 0.6 },
];
const SEED = 20261208;

/** The arms' rows as the page shows them: [name, rule, walk-ins, ended, deals, close rate]. */
const rows = (page) => page.locator('#experiment-arms tr').evaluateAll((trs) => trs.map((tr) =>
  [...tr.children].slice(0, 6).map((c) => c.textContent.trim())));

/** Walk-in number n arrives and ends at once: a sale in arm B, no sale in arm A. */
async function walkInAndEnd(server, n) {
  const id = `w-${n}`;
  const a = await api(server, 'POST', '/analyze-customer', { ...customer(n + 1), customerId: id });
  assert.equal(a.status, 200, a.text);
  assert.ok(a.body.assignedTo, a.text);
  const r = armOf(SEED, n)
    ? await api(server, 'POST', '/deal-closed', { salespersonId: a.body.assignedTo, customerId: id })
    : await api(server, 'POST', '/customer-left', { customerId: id, outcome: 'no_sale' });
  assert.equal(r.status, 200, r.text);
}

test('with the setting off the panel says no experiment is running, and how to start one', async (t) => {
  const server = await startServer(t);
  const { page, errors } = await openPage(t, server);
  await page.waitForSelector('#experiment[data-enabled="false"]');
  assert.equal(await page.isVisible('#experiment-off'), true);
  assert.equal(await page.isVisible('#experiment-on'), false);
  assert.match(await text(page, '#experiment-off'), /No experiment running\..*experiment = up-rotation,network/s);
  await sleep(300);
  assert.deepEqual(errors, []);
});

test('a running experiment: the two arms as GET experiment gives them, updated live, up to a verdict', async (t) => {
  const server = await startServer(t, { args: ['--experiment', `up-rotation,network,${SEED}`] });
  await addTeam(server, TEAM);
  const { page, errors } = await openPage(t, server);

  // Before anyone clocks in: running, but nothing is split yet.
  await page.waitForSelector('#experiment[data-enabled="true"]');
  assert.equal(await page.isVisible('#experiment-off'), false);
  assert.match(await text(page, '#experiment-note'), /not tracked yet: walk-ins are split once someone clocks in/);
  assert.deepEqual(await rows(page), [
    ['A', 'Up rotation', '0', '0', '0', '—'],
    ['B', 'Network (best fit)', '0', '0', '0', '—'],
  ]);
  assert.equal(await text(page, '#experiment-verdict'), 'Not enough data yet.');
  assert.equal(await page.getAttribute('#experiment-verdict', 'data-verdict'), 'not-enough');
  assert.match(await text(page, '#experiment-diff-close'), /Close rate, B − A: not known yet/);

  // The floor opens; ten walk-ins come and go. The panel follows without a reload.
  for (const p of TEAM) assert.equal((await api(server, 'POST', '/clock-in', { salespersonId: p.id })).status, 200);
  await page.evaluate(() => { window.__sameDocument = true; });
  for (let n = 0; n < 10; n++) await walkInAndEnd(server, n);
  const x = (await api(server, 'GET', '/experiment')).body;
  const shown = (a) => [a.name, a.name === 'A' ? 'Up rotation' : 'Network (best fit)', String(a.walkIns), String(a.ended),
    String(a.deals), a.closeRate === null ? '—' : `${Math.round(a.closeRate * 100)}%`];
  await eventually(async () => assert.deepEqual(await rows(page), x.arms.map(shown)), 5000, 'the arms follow the floor');
  assert.match(await text(page, '#experiment-note'), /A verdict needs 30 ended walk-ins in each arm \(so far A \d+, B \d+\)/);
  assert.equal(await text(page, '#experiment-verdict'), 'Not enough data yet.');
  assert.match(await text(page, '#experiment-diff-close'), /^Close rate, B − A: \+100\.0 points \[\+\d+\.\d, \+100\.0\]$/);

  // Thirty ended in each arm, all of B's bought and none of A's: B closes more.
  let n = 10;
  const ended = [0, 0];
  for (let k = 0; k < n; k++) ended[armOf(SEED, k)]++;
  for (; ended[0] < 30 || ended[1] < 30; n++) {
    await walkInAndEnd(server, n);
    ended[armOf(SEED, n)]++;
  }
  const done = (await api(server, 'GET', '/experiment')).body;
  assert.match(done.verdict, /^B closes more: \+100\.0 \[\+\d+\.\d, \+100\.0\]$/);
  await eventually(async () => assert.equal(await page.getAttribute('#experiment-verdict', 'data-verdict'), 'b-more'), 5000, 'the verdict');
  const [, lead, range] = /^B closes more: (\S+) (\[.*\])$/.exec(done.verdict);
  assert.equal(await text(page, '#experiment-verdict'), `Network (best fit), arm B, closes more: ${lead} points ${range}`);
  assert.deepEqual(await rows(page), done.arms.map(shown));
  assert.match(await text(page, '#experiment-diff-wait'), /^Mean wait, B − A: \+0\.0 min \[\+0\.0, \+0\.0\]$/);
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload');
  await screenshot(page.locator('#experiment'), 'experiment-verdict');

  // On a 375 px phone the panel stays inside the window (its table scrolls).
  await page.setViewportSize({ width: 375, height: 800 });
  await sleep(200);
  const fit = await page.evaluate(() => ({
    doc: document.documentElement.scrollWidth,
    view: document.documentElement.clientWidth,
    panel: document.getElementById('experiment').getBoundingClientRect().right,
  }));
  assert.ok(fit.doc <= fit.view, `the page is ${fit.doc}px wide in a ${fit.view}px window`);
  assert.ok(fit.panel <= fit.view + 0.5, `the panel ends at ${fit.panel}px`);
  assert.deepEqual(errors, []);
});
