// The up board in headless Chromium against a real `whaco serve`: the desk's
// whole flow through the page, break/back and sold, the phone view, errors.
// Run: WHACO_BIN=build/whaco WHACO_WEB_DIR=build/web node --test upboard.test.mjs
// Screenshots go to $WHACO_ARTIFACTS (default build/browser-artifacts);
// WHACO_UPDATE_DOCS=1 also copies the desk's busy board to docs/upboard.png.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import { createToken } from '../api/helpers.mjs';
import { ARTIFACTS, addTeam, api, closeBrowser, openPage, repo, screenshot, sleep, startServer, eventually } from './harness.mjs';

after(closeBrowser);


const text = (page, sel) => page.locator(sel).first().innerText();
const button = (page, name) => page.getByRole('button', { name, exact: true });
const board = async (server) => (await api(server, 'GET', '/up-board')).body;
const seatOf = (b, id) => b.salespeople.find((p) => p.id === id);

const TEAM = [
  { id: 'sp-ann', name: 'Ann Lee', skillLevel: 0.8 },
  { id: 'sp-ben', name: 'Ben Cho', skillLevel: 0.6 },
  { id: 'sp-cal', name: 'Cal Ruiz', skillLevel: 0.7 },
];
const NAME = Object.fromEntries(TEAM.map((p) => [p.id, p.name]));

/** A walk-in's figures for the intake form (i varies them). */
const WALK_IN = (i) => ({
  creditScore: 640 + 40 * i, annualIncome: 60000 + 10000 * i, vehiclePrice: 26000 + 2000 * i,
  downPayment: 2500, tradeValue: 0, visitCount: 1, timeOnLot: 30 + 5 * i, engagement: 0.6,
});

async function fillIntake(page, values) {
  for (const [k, v] of Object.entries(values)) await page.fill(`#f-${k}`, String(v));
}

/** Send the intake form as it is; resolves to the service's answer. */
async function submitIntake(page) {
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/intelligence/analyze-customer') && r.request().method() === 'POST'),
    page.click('#intake-submit'),
  ]);
  assert.equal(res.status(), 200, await res.text());
  return { sent: res.request().postDataJSON(), got: await res.json() };
}

/** Every button of the board is at least 44×44 CSS px and nothing sticks out of the window. */
async function checkPhoneFit(page) {
  const m = await page.evaluate(() => {
    const view = document.documentElement.clientWidth;
    const floor = document.getElementById('floor');
    const visible = (e) => e.getClientRects().length > 0;
    return {
      view,
      doc: document.documentElement.scrollWidth,
      floor: [floor.scrollWidth, floor.clientWidth],
      wide: [...floor.querySelectorAll('*')].filter(visible)
        .filter((e) => e.getBoundingClientRect().right > view + 0.5 || e.getBoundingClientRect().left < -0.5)
        .map((e) => e.outerHTML.slice(0, 80)),
      small: [...floor.querySelectorAll('button')].filter(visible)
        .map((b) => ({ name: b.getAttribute('aria-label') || b.textContent, ...b.getBoundingClientRect().toJSON() }))
        .filter((b) => b.width < 44 || b.height < 44)
        .map((b) => `${b.name}: ${b.width}×${b.height}`),
      buttons: [...floor.querySelectorAll('button')].filter(visible).length,
    };
  });
  assert.ok(m.doc <= m.view, `the page is ${m.doc}px wide in a ${m.view}px window`);
  assert.ok(m.floor[0] <= m.floor[1], `the up board needs ${m.floor[0]}px of ${m.floor[1]}px`);
  assert.deepEqual(m.wide, [], 'nothing of the board outside the window');
  assert.deepEqual(m.small, [], 'buttons of at least 44×44 px');
  return m;
}

test('the desk: three clock in, four walk-ins (the fourth waits), one leaves, and the fourth goes to the freed salesperson, live', async (t) => {
  // One customer each at a time, so the fourth walk-in finds nobody free.
  const server = await startServer(t, { args: ['--max-customers', '1'] });
  await addTeam(server, TEAM);
  const { page, errors } = await openPage(t, server);
  await page.evaluate(() => { window.__sameDocument = true; });

  // Nobody has clocked in: everyone is off the floor with a Clock in button.
  await page.locator('#floor-off li[data-id="sp-cal"]').waitFor();
  assert.match(await text(page, '#floor-note'), /Nobody has clocked in yet/);
  assert.equal(await page.isVisible('#floor-seats-empty'), true);

  // Three clock in through the page's buttons (the last one from the keyboard).
  for (const p of TEAM.slice(0, 2)) {
    await button(page, `Clock in ${p.name}`).click();
    await page.locator(`#floor-seats li[data-id="${p.id}"]`).waitFor();
  }
  await button(page, 'Clock in Cal Ruiz').focus();
  await page.keyboard.press('Enter');
  await page.locator('#floor-seats li[data-id="sp-cal"]').waitFor();
  // The focus followed Cal to the floor.
  assert.equal(await page.evaluate(() => document.activeElement.dataset.key), 'seat:sp-cal');

  let b = await board(server);
  assert.equal(b.floorTracked, true);
  assert.deepEqual(b.upOrder, TEAM.map((p) => p.id));
  const order = () => page.locator('#floor-seats > li').evaluateAll((ls) => ls.map((l) => l.dataset.id));
  assert.deepEqual(await order(), b.upOrder);
  assert.equal(await page.locator('#floor-seats li[data-state="available"]').count(), 3);
  assert.equal(await page.getAttribute('#floor-seats > li:first-child', 'class'), 'seat fl-available up-next');
  assert.match(await text(page, '#floor-seats > li:first-child'), /Up next/);
  assert.equal(await page.locator('#floor-off > li').count(), 0);
  assert.equal(await page.isVisible('#floor-off-h'), false);

  // Four walk-ins through the intake form, with no reference: the service
  // names them, and the page shows the name it got.
  const walkIns = [];
  for (let i = 0; i < 4; i++) {
    await page.click('#intake-form button[type="reset"]');
    await fillIntake(page, WALK_IN(i));
    const { sent, got } = await submitIntake(page);
    assert.equal(sent.customerId, undefined, 'the page lets the service name a walk-in on a tracked floor');
    assert.match(got.customerId, /^walk-in-\d+$/);
    await eventually(async () => assert.equal(await page.getAttribute('#result-customer', 'data-customer-id'), got.customerId));
    assert.equal(await text(page, '#result-customer'), `Customer ${got.customerId}`);
    if (i < 3) {
      assert.equal(got.queuePosition, null);
      assert.ok(got.assignedTo, `walk-in ${i} is assigned`);
      assert.equal(await text(page, '#result-assigned'), NAME[got.assignedTo]);
      assert.equal(await page.isVisible('#result-waiting'), false);
    } else {
      assert.equal(got.assignedTo, null);
      assert.equal(got.queuePosition, 1);
      assert.equal(await text(page, '#result-assigned'), 'Waiting — position 1 at the desk');
      assert.match(await text(page, '#result-waiting'), /waits at the desk/);
    }
    walkIns.push(got);
  }
  assert.equal(new Set(walkIns.map((w) => w.customerId)).size, 4);
  assert.deepEqual(new Set(walkIns.slice(0, 3).map((w) => w.assignedTo)), new Set(TEAM.map((p) => p.id)));
  const fourth = walkIns[3].customerId;

  // The board: everyone with their walk-in, the fourth waiting with its wait ticking.
  const waiting = page.locator(`#floor-waiting li[data-customer-id="${fourth}"]`);
  await waiting.waitFor();
  for (const w of walkIns.slice(0, 3)) {
    await page.locator(`#floor-seats li[data-id="${w.assignedTo}"] li.visit[data-customer-id="${w.customerId}"]`).waitFor();
  }
  assert.equal(await page.locator('#floor-seats li[data-state="with_customer"]').count(), 3);
  assert.equal(await page.locator('#floor-seats li.up-next').count(), 0, 'nobody is free');
  assert.match(await text(page, '#floor-note'), /Everyone on the floor is busy/);
  assert.match(await waiting.innerText(), /^1\b/m);
  assert.match(await text(page, '#floor-summary'), /3 on the floor · 1 waiting/);
  // (The clocks are redrawn every second: 2.2 s later one has shown at least a second more.)
  const wait1 = await waiting.locator('.clock').innerText();
  await sleep(2200);
  const wait2 = await waiting.locator('.clock').innerText();
  assert.notEqual(wait2, wait1, 'the wait ticks');
  assert.match(wait2, /^\d+ s$/);

  // One customer leaves through the page's button, with the outcome.
  const leaver = walkIns[1];
  const freed = leaver.assignedTo;
  await button(page, `Customer left: ${leaver.customerId}`).click();
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'No sale', 'the outcomes get the focus');
  await button(page, `No sale: ${leaver.customerId} left`).click();

  // The fourth is assigned to the freed salesperson: the board and the
  // intake result follow, without a reload.
  await page.locator(`#floor-seats li[data-id="${freed}"] li.visit[data-customer-id="${fourth}"]`).waitFor();
  await page.waitForSelector('#floor-waiting-empty', { state: 'visible' });
  await eventually(async () => assert.equal(await text(page, '#result-assigned'), NAME[freed]), 5000, 'the intake result follows');
  assert.match(await text(page, '#result-waiting'), new RegExp(`Now with ${NAME[freed]}`));
  assert.match(await text(page, '#toast'), new RegExp(`${fourth} goes to ${NAME[freed]} after waiting`));
  assert.equal(await page.locator(`li.visit[data-customer-id="${leaver.customerId}"]`).count(), 0);
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload');

  b = await board(server);
  assert.deepEqual(seatOf(b, freed).customers.map((c) => c.customerId), [fourth]);
  assert.deepEqual(b.waiting, []);
  await screenshot(page, 'upboard-desk-flow');
  assert.deepEqual(errors, []);
});

test('a walk-in handed out by someone else shows up on an open page at once (the event stream)', async (t) => {
  const server = await startServer(t, { args: ['--max-customers', '1'] });
  await addTeam(server, TEAM.slice(0, 1));
  assert.equal((await api(server, 'POST', '/clock-in', { salespersonId: 'sp-ann' })).status, 200);
  const { page, errors } = await openPage(t, server);
  await page.evaluate(() => { window.__sameDocument = true; });
  await page.locator('#floor-seats li[data-id="sp-ann"][data-state="available"]').waitFor();

  // Ann takes one; the next waits; the page, which polls only every 60 s
  // while the stream is open, follows each change from the stream.
  for (const id of ['cust-1', 'cust-2']) {
    const r = await api(server, 'POST', '/analyze-customer', { customerId: id, ...WALK_IN(1) });
    assert.equal(r.status, 200, r.text);
  }
  await page.locator('#floor-seats li[data-id="sp-ann"] li.visit[data-customer-id="cust-1"]').waitFor();
  await page.locator('#floor-waiting li[data-customer-id="cust-2"]').waitFor();
  assert.equal((await api(server, 'POST', '/customer-left', { customerId: 'cust-1', outcome: 'be_back' })).status, 200);
  const visit = page.locator('#floor-seats li[data-id="sp-ann"] li.visit[data-customer-id="cust-2"]');
  await visit.waitFor();
  assert.match(await visit.getAttribute('class'), /\bfresh\b/, 'a walk-in just handed out is highlighted');
  await eventually(async () => assert.match(await text(page, '#toast'), /cust-2 goes to Ann Lee after waiting/));
  assert.equal(await page.evaluate(() => window.__sameDocument), true);
  assert.deepEqual(errors, []);
});

test('without the event stream, polling keeps the board and the intake result current', async (t) => {
  const server = await startServer(t, { args: ['--max-customers', '1'] });
  await addTeam(server, TEAM.slice(0, 1));
  assert.equal((await api(server, 'POST', '/clock-in', { salespersonId: 'sp-ann' })).status, 200);
  const { page, errors } = await openPage(t, server, {
    waitLive: false,
    init: { content: 'window.EventSource = undefined;' }, // a browser (or proxy) without it
  });
  await page.waitForSelector('#connection[data-state="polling"]');
  await page.locator('#floor-seats li[data-id="sp-ann"]').waitFor();
  await page.evaluate(() => { window.__sameDocument = true; });

  const got = [];
  for (let i = 0; i < 2; i++) {
    await fillIntake(page, WALK_IN(i));
    got.push((await submitIntake(page)).got);
  }
  assert.equal(got[0].assignedTo, 'sp-ann');
  assert.equal(got[1].queuePosition, 1);
  assert.equal(await text(page, '#result-assigned'), 'Waiting — position 1 at the desk');

  // Someone else records that the first left: within a poll (5 s) the page shows the second with Ann.
  assert.equal((await api(server, 'POST', '/customer-left', { customerId: got[0].customerId, outcome: 'no_sale' })).status, 200);
  await page.locator(`#floor-seats li[data-id="sp-ann"] li.visit[data-customer-id="${got[1].customerId}"]`).waitFor({ timeout: 8000 });
  await eventually(async () => assert.equal(await text(page, '#result-assigned'), 'Ann Lee'));
  assert.equal(await text(page, '#result-waiting'), 'Now with Ann Lee.');
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload');
  assert.deepEqual(errors, []);
});

test('break and back, delivery, sold and clock-out from the board, by mouse and keyboard', async (t) => {
  const server = await startServer(t);
  await addTeam(server, TEAM.slice(0, 2));
  for (const p of TEAM.slice(0, 2)) {
    assert.equal((await api(server, 'POST', '/clock-in', { salespersonId: p.id })).status, 200);
  }
  const first = await api(server, 'POST', '/analyze-customer', { customerId: 'cust-a', ...WALK_IN(2) });
  assert.equal(first.status, 200, first.text);
  const seller = first.body.assignedTo;
  const other = TEAM.find((p) => p.id !== seller).id;
  const { page, errors } = await openPage(t, server);
  await page.locator(`#floor-seats li[data-id="${seller}"] li.visit[data-customer-id="cust-a"]`).waitFor();
  const otherRow = page.locator(`#floor-seats li[data-id="${other}"]`);

  // Break from the keyboard: the focus stays on the same button, now "Back".
  await button(page, `Break for ${NAME[other]}`).focus();
  await page.keyboard.press('Enter');
  await page.locator(`#floor-seats li[data-id="${other}"][data-state="break"]`).waitFor();
  assert.equal(await otherRow.locator('.fl-state').innerText(), 'On break');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), `Back on the floor: ${NAME[other]}`);
  assert.equal(seatOf(await board(server), other).state, 'break');
  assert.match(await text(page, '#toast'), new RegExp(`${NAME[other]} is on a break`));
  const c1 = await otherRow.locator('.seat-meta .clock').innerText();
  await sleep(2200);
  assert.notEqual(await otherRow.locator('.seat-meta .clock').innerText(), c1, 'the break ticks');
  // On a break nobody new comes to them: the next walk-in goes to the seller.
  const second = await api(server, 'POST', '/analyze-customer', { customerId: 'cust-b', ...WALK_IN(0) });
  assert.equal(second.body.assignedTo, seller);
  await page.locator(`#floor-seats li[data-id="${seller}"] li.visit[data-customer-id="cust-b"]`).waitFor();

  // Back, by the keyboard again.
  await page.keyboard.press('Enter');
  await page.locator(`#floor-seats li[data-id="${other}"][data-state="available"]`).waitFor();
  assert.equal(seatOf(await board(server), other).state, 'available');

  // A delivery, then back with a click.
  await button(page, `Delivery for ${NAME[other]}`).click();
  await page.locator(`#floor-seats li[data-id="${other}"][data-state="delivery"]`).waitFor();
  assert.equal(await otherRow.locator('.fl-state').innerText(), 'On a delivery');
  await button(page, `Back on the floor: ${NAME[other]}`).click();
  await page.locator(`#floor-seats li[data-id="${other}"][data-state="available"]`).waitFor();

  // Sold: the walk-in ends as a sale for the seller.
  await button(page, 'Sold to cust-a').click();
  await page.locator('li.visit[data-customer-id="cust-a"]').waitFor({ state: 'detached' });
  assert.match(await text(page, '#toast'), new RegExp(`Sale recorded: cust-a bought from ${NAME[seller]}`));
  const sp = (await api(server, 'GET', '/salespeople')).body.salespeople.find((p) => p.id === seller);
  assert.equal(sp.dealsToday, 1);
  await eventually(async () => assert.equal(await text(page, `#team-body tr[data-id="${seller}"] .deals-today`), '1 deal'));
  assert.deepEqual(seatOf(await board(server), seller).customers.map((c) => c.customerId), ['cust-b']);

  // The outcome buttons close with Escape, and the focus goes back.
  await button(page, 'Customer left: cust-b').click();
  await page.keyboard.press('Escape');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Customer left: cust-b');
  assert.equal(await page.locator('.outcomes').count(), 0);

  // Clocking out someone with a customer takes a second click; the customer goes back to the desk
  // and at once to the other (free) salesperson.
  await button(page, `Clock out ${NAME[seller]}`).click();
  await button(page, `Click again to clock out ${NAME[seller]} (1 customer back to the desk)`).click();
  await page.locator(`#floor-off li[data-id="${seller}"]`).waitFor();
  await page.locator(`#floor-seats li[data-id="${other}"] li.visit[data-customer-id="cust-b"]`).waitFor();
  assert.equal(seatOf(await board(server), seller).state, 'off');
  assert.deepEqual(errors, []);
});

test('an action the service refuses is shown in the toast, and the board stays as the service has it', async (t) => {
  // (No lockout while the test waits for the server to load its new token.)
  const server = await startServer(t, { args: ['--require-auth', 'true', '--auth-failure-limit', '0'] });
  await addTeam(server, TEAM.slice(0, 1));
  const read = await createToken(server.data, 'read');
  // The server reloads its tokens within a few seconds.
  await eventually(async () => assert.equal((await fetch(`${server.base}/api/intelligence/up-board`, {
    headers: { authorization: `Bearer ${read}` },
  })).status, 200), 8000, 'the read token works');
  const { page, errors } = await openPage(t, server, {
    init: { content: `sessionStorage.setItem('whaco.token', ${JSON.stringify(read)})` },
  });
  await button(page, 'Clock in Ann Lee').click();
  await eventually(async () => {
    assert.match(await text(page, '#toast'), /This token may only read/);
    assert.match(await page.getAttribute('#toast', 'class'), /toast-error/);
  });
  assert.equal(seatOf(await board(server), 'sp-ann').state, 'off');
  assert.equal(await page.locator('#floor-off li[data-id="sp-ann"]').count(), 1);
  // The refused request is the only console error (Chromium logs a failed fetch).
  assert.ok(errors.every((e) => /403/.test(e)), errors.join('\n'));
});

test('the phone: 375×667 with touch, no horizontal scrolling, buttons of at least 44×44 px', async (t) => {
  const server = await startServer(t, { args: ['--max-customers', '1'] });
  await addTeam(server, TEAM);
  for (const p of TEAM.slice(0, 2)) {
    assert.equal((await api(server, 'POST', '/clock-in', { salespersonId: p.id })).status, 200);
  }
  for (const id of ['cust-long-reference-from-the-crm-0001', 'cust-2', 'cust-3']) {
    const r = await api(server, 'POST', '/analyze-customer', { customerId: id, ...WALK_IN(1) });
    assert.equal(r.status, 200, r.text);
  }
  const { page, errors } = await openPage(t, server, {
    viewport: { width: 375, height: 667 },
    context: { hasTouch: true, isMobile: true, deviceScaleFactor: 2 },
  });
  await page.locator('#floor-waiting li[data-customer-id="cust-3"]').waitFor();
  await page.locator('#floor-off li[data-id="sp-cal"]').waitFor();
  // The board comes first on the page: a salesperson on the lot sees it at once.
  const top = await page.locator('#floor').boundingBox();
  assert.ok(top.y < 200, `the up board starts at y=${top.y}`);

  const m = await checkPhoneFit(page);
  assert.ok(m.buttons >= 8, `${m.buttons} buttons measured`);
  await screenshot(page, 'upboard-phone');
  await screenshot(page, 'upboard-phone-full', { fullPage: true });

  // Touch: the outcome buttons (measured too), then a tap records it.
  await button(page, 'Customer left: cust-2').tap();
  await button(page, 'Be-back: cust-2 left').waitFor();
  await checkPhoneFit(page);
  await screenshot(page, 'upboard-phone-outcomes');
  await button(page, 'Be-back: cust-2 left').tap();
  // cust-3, waiting, goes to whoever had cust-2.
  await page.locator('#floor-waiting-empty').waitFor({ state: 'visible' });
  await page.locator('li.visit[data-customer-id="cust-3"]').waitFor();
  await button(page, 'Clock in Cal Ruiz').tap();
  await page.locator('#floor-seats li[data-id="sp-cal"]').waitFor();
  await checkPhoneFit(page);
  const b = await board(server);
  assert.deepEqual(b.waiting, []);
  assert.equal(seatOf(b, 'sp-cal').state, 'available');
  assert.deepEqual(errors, []);
});

test('the desk screen: a busy floor at 1280×900 and 1024×768, labelled controls, no console errors', async (t) => {
  const server = await startServer(t, { args: ['--max-customers', '1'] });
  const team = [...TEAM,
    { id: 'sp-dee', name: 'Dee Moss', skillLevel: 0.5 },
    { id: 'sp-eve', name: 'Eve Park', skillLevel: 0.9 },
  ];
  await addTeam(server, team);
  for (const p of team.slice(0, 4)) {
    assert.equal((await api(server, 'POST', '/clock-in', { salespersonId: p.id })).status, 200);
  }
  // One walk-in each; Ann's leaves as a be-back and Ann takes the next, so
  // when the be-back returns, Ann is busy: they wait, returning to Ann.
  for (const [i, id] of ['cust-1', 'cust-2', 'cust-3', 'cust-4'].entries()) {
    const r = await api(server, 'POST', '/analyze-customer', { customerId: id, ...WALK_IN(i) });
    assert.equal(r.status, 200, r.text);
  }
  const beBack = seatOf(await board(server), 'sp-ann').customers[0].customerId;
  assert.equal((await api(server, 'POST', '/customer-left', { customerId: beBack, outcome: 'be_back' })).status, 200);
  const walkIn = async (id, i, extra = {}) => {
    const r = await api(server, 'POST', '/analyze-customer', { customerId: id, ...WALK_IN(i), ...extra });
    assert.equal(r.status, 200, r.text);
    return r.body;
  };
  assert.equal((await walkIn('cust-5', 1)).assignedTo, 'sp-ann');
  assert.equal((await walkIn(beBack, 0, { visitCount: 2 })).queuePosition, 1);
  assert.equal((await walkIn('cust-6', 2)).queuePosition, 2);
  // A manager hands cust-6 to Dee over her limit; Ben goes on a break with his customer.
  assert.equal((await api(server, 'POST', '/assign', { customerId: 'cust-6', salespersonId: 'sp-dee' })).status, 200);
  assert.equal((await walkIn('cust-7', 3)).queuePosition, 2);
  assert.equal((await api(server, 'POST', '/salesperson-status', { salespersonId: 'sp-ben', status: 'break' })).status, 200);
  await sleep(1500); // waits of a second or two
  const b = await board(server);
  assert.deepEqual(b.waiting.map((w) => [w.customerId, w.returningTo]), [[beBack, 'sp-ann'], ['cust-7', null]]);

  const { page, errors } = await openPage(t, server, { viewport: { width: 1280, height: 900 } });
  await page.locator(`#floor-waiting li[data-customer-id="${b.waiting[b.waiting.length - 1].customerId}"]`).waitFor();
  await sleep(1100); // the clocks have ticked once

  // What the page shows is the service's board.
  assert.deepEqual(await page.locator('#floor-seats > li').evaluateAll((ls) => ls.map((l) => [l.dataset.id, l.dataset.state])),
    b.salespeople.filter((p) => p.position !== null).map((p) => [p.id, p.state]));
  assert.deepEqual(await page.locator('#floor-waiting > li').evaluateAll((ls) => ls.map((l) => l.dataset.customerId)),
    b.waiting.map((w) => w.customerId));
  assert.deepEqual(await page.locator('#floor-off > li').evaluateAll((ls) => ls.map((l) => l.dataset.id)), ['sp-eve']);
  assert.match(await text(page, `#floor-waiting li[data-customer-id="${beBack}"]`), /be-back for Ann Lee/);
  assert.match(await text(page, '#floor-seats li[data-id="sp-dee"] li.visit[data-customer-id="cust-6"]'), /Manager’s pick/);
  assert.equal(await text(page, '#floor-seats li[data-id="sp-ben"] .fl-state'), 'On break');

  // Two columns on the desk's screen; every button named; nothing wider than the window.
  const cols = await page.evaluate(() => getComputedStyle(document.querySelector('.floor-cols')).gridTemplateColumns.split(' ').length);
  assert.equal(cols, 2);
  const nameless = await page.evaluate(() => [...document.querySelectorAll('#floor button')]
    .filter((x) => !(x.getAttribute('aria-label') || x.textContent).trim()).map((x) => x.outerHTML));
  assert.deepEqual(nameless, []);
  const labelled = await page.evaluate(() => [...document.querySelectorAll('#floor button[aria-label]')]
    .filter((x) => !x.getAttribute('aria-label').includes(x.textContent)).map((x) => x.outerHTML));
  assert.deepEqual(labelled, [], 'every label contains the visible text');
  await screenshot(page, 'upboard-desk');
  await page.locator('#floor').screenshot({ path: path.join(ARTIFACTS, 'upboard.png') });
  if (process.env.WHACO_UPDATE_DOCS) await page.locator('#floor').screenshot({ path: path.join(repo, 'docs/upboard.png') });

  await page.setViewportSize({ width: 1024, height: 768 });
  await sleep(200);
  const w = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(w[0] <= w[1], `the page is ${w[0]}px wide in a ${w[1]}px window`);
  await screenshot(page, 'upboard-desk-1024x768');
  assert.deepEqual(errors, []);
});
