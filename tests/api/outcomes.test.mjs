// outcomes.test.mjs: outcomes from a CRM (docs/outcomes.md) through the API
// and the CLI against real servers -- POST /api/intelligence/outcomes with
// a CSV file on a tracked floor: what each row came to (recorded, already
// recorded, unmatched with its row, reason and field), the walk-ins the
// freed slots hand out (in the answer and on the event stream), the close
// model learning; the same file again changing nothing (up-board,
// team-status, customer-segments, the log); every error with its status,
// code and field; `whaco outcomes import` while the server runs (picked up,
// the same rules, surviving kill -9); every answer checked against the
// OpenAPI document.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'node:test';

import { API, TEAM5, addTeam, checkError, customer, harness, runWhaco, sleep, TEST_TIMEOUT_MS } from './helpers.mjs';
import { FLOOR, collectEvents } from './floorkit.mjs';
import { fetchDoc, liveChecker } from './openapikit.mjs';

const OUTCOMES = `${API}/outcomes`;
const CSV = { 'content-type': 'text/csv' };
const TEAM3 = TEAM5.slice(0, 3);
const KEYS = ['alreadyRecorded', 'assignments', 'ignoredColumns', 'recorded', 'rows', 'timestamp', 'unmatched'];

/** POST text as an outcomes file (opts.token, opts.headers). */
const postCsv = (srv, text, opts = {}) => srv.request('POST', OUTCOMES, { body: text, headers: { ...CSV, ...(opts.headers || {}) }, token: opts.token });

/** Unix ms as ISO 8601 with the offset minutes given (-300: "-05:00"), to the second. */
function isoAt(ms, offsetMin = 0) {
  const local = new Date(ms + offsetMin * 60000).toISOString().slice(0, 19);
  if (offsetMin === 0) return `${local}Z`;
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** The board without what moves with the clock alone (its timestamp, the waits). */
function stableBoard(b) {
  const c = structuredClone(b);
  delete c.timestamp;
  for (const w of c.waiting) delete w.waitSeconds;
  return c;
}

/** Who has which walk-in, and who waits: {sp: [customers]}, [waiting]. */
async function floorOf(srv, opts) {
  const r = await srv.get(FLOOR.board, opts);
  assert.equal(r.status, 200, r.text);
  return {
    with: Object.fromEntries(r.body.salespeople.map((m) => [m.id, m.customers.map((c) => c.customerId)])),
    waiting: r.body.waiting.map((w) => w.customerId),
    board: r.body,
  };
}

async function readLog(dir) {
  const r = await runWhaco(['log', '--data', dir]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** The unmatched rows as "row reason field". */
const unmatchedOf = (body) => body.unmatched.map((u) => `${u.row} ${u.customerId} ${u.reason} ${u.field}`);

/**
 * A server (up-rotation, max-customers 1) with sp-1..sp-3, sp-1 and sp-2
 * clocked in, c-1 with sp-1, c-2 with sp-2, c-3 and c-4 waiting.
 */
async function busyFloor(t, { args = [] } = {}) {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const write = await h.token(dir, 'write');
  const read = await h.token(dir, 'read');
  const srv = await h.start({ dataDir: dir, args: ['--assignment', 'up-rotation', '--max-customers', '1', ...args] });
  await addTeam(srv, admin, TEAM3);
  const opts = { token: write };
  for (const id of ['sp-1', 'sp-2']) assert.equal((await srv.post(FLOOR.clockIn, { salespersonId: id }, opts)).status, 200);
  const clusters = {};
  for (let i = 1; i <= 4; i++) {
    const r = await srv.post(FLOOR.analyze, { ...customer(i), customerId: `c-${i}` }, opts);
    assert.equal(r.status, 200, r.text);
    clusters[`c-${i}`] = r.body.customerAnalysis.clusterId;
  }
  const f = await floorOf(srv, { token: read });
  assert.deepEqual(f.with['sp-1'], ['c-1']);
  assert.deepEqual(f.with['sp-2'], ['c-2']);
  assert.deepEqual(f.waiting, ['c-3', 'c-4']);
  return { h, dir, srv, admin, write, read, clusters };
}

/** The test file: every kind of row, times around now. */
function crmFile(now) {
  return [
    'time,Notes,customer id,OUTCOME,salespersonId,Deal-ID',
    `${isoAt(now)},"paid, cash",c-1,sold,sp-1,d-1`, // 2: recorded; c-3 goes to sp-1
    `${isoAt(now, -300)},,c-2,No Sale,sp-2,`, // 3: recorded; c-4 goes to sp-2
    '', // 4: blank
    `${isoAt(now)},,c-9,no_sale,,`, // 5
    `${isoAt(now)},,c-3,sold,sp-2,d-3`, // 6: c-3 is with sp-1
    `${isoAt(now)},,c-4,be_back,sp-9,`, // 7
    `${isoAt(now)},,c-1,no_sale,,`, // 8: c-1 bought
    `${isoAt(now + 3600_000)},,c-4,appointment,,`, // 9: an hour ahead
    `${isoAt(now)},,c-4,won,,`, // 10
    '2020-01-01T00:00:00Z,,c-4,appointment,,', // 11: before c-4 walked in
    `${isoAt(now)},,c-4,appointment,,,extra`, // 12
    `${isoAt(now)},,c-3,sold,,`, // 13
    '',
  ].join('\r\n');
}

const UNMATCHED = [
  '5 c-9 UNKNOWN_CUSTOMER customerId',
  '6 c-3 WRONG_SALESPERSON salespersonId',
  '7 c-4 UNKNOWN_SALESPERSON salespersonId',
  '8 c-1 OUTCOME_CONFLICT outcome',
  '9 c-4 INVALID_FIELD time',
  '10 c-4 INVALID_FIELD outcome',
  '11 c-4 BEFORE_ARRIVAL time',
  '12 c-4 INVALID_ROW null',
  '13 c-3 INVALID_FIELD salespersonId',
];

test('an import ends walk-ins as the desk would, the close model learns, and the same file again changes nothing', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { dir, srv, write, read, clusters } = await busyFloor(t);
  const doc = await fetchDoc(srv);
  const c = liveChecker(doc);
  const stream = await collectEvents(srv, { token: read });
  const segBefore = (await srv.get(`${API}/customer-segments`)).body.segments.clusters;
  assert.equal(segBefore.reduce((n, k) => n + k.outcomesRecorded, 0), 0);
  const logBefore = (await readLog(dir)).length;
  const text = crmFile(Date.now());

  const first = await postCsv(srv, text, { token: write });
  c.check('outcomes', OUTCOMES, first, 200);
  assert.deepEqual(Object.keys(first.body).sort(), KEYS, first.text);
  assert.equal(first.body.rows, 11);
  assert.equal(first.body.recorded, 2);
  assert.equal(first.body.alreadyRecorded, 0);
  assert.deepEqual(unmatchedOf(first.body), UNMATCHED);
  for (const u of first.body.unmatched) assert.ok(u.message.length > 10, JSON.stringify(u));
  assert.match(first.body.unmatched[1].message, /with 'sp-1', not 'sp-2'/);
  assert.deepEqual(first.body.ignoredColumns, ['Notes']);
  assert.deepEqual(first.body.assignments.map((a) => `${a.customerId}>${a.salespersonId}`), ['c-3>sp-1', 'c-4>sp-2']);

  // The floor moved as deal-closed and customer-left would have moved it.
  const after = await floorOf(srv);
  assert.deepEqual(after.with, { 'sp-1': ['c-3'], 'sp-2': ['c-4'], 'sp-3': [] });
  assert.deepEqual(after.waiting, []);
  const team = (await srv.get(FLOOR.teamStatus)).body;
  const sp1 = team.teamMembers.find((m) => m.id === 'sp-1');
  assert.equal(sp1.dealsToday, 1);
  // The close model learned both outcomes, the sale in c-1's segment.
  const seg = (await srv.get(`${API}/customer-segments`)).body.segments.clusters;
  assert.equal(seg.reduce((n, k) => n + k.outcomesRecorded, 0), 2);
  const k1 = seg.find((k) => k.id === clusters['c-1']);
  assert.equal(typeof k1.observedCloseRate, 'number');
  assert.ok(k1.observedCloseRate > 0, JSON.stringify(k1));
  // The dashboards heard of the walk-ins handed out.
  for (const id of ['c-3', 'c-4']) await stream.waitFor((e) => e.event === 'customer-assigned' && e.data.customerId === id);
  for (const e of stream.events.filter((x) => x.event === 'customer-assigned')) c.event('customer-assigned', 'CustomerAssignedEvent', e.data);
  stream.close();
  // Each recorded row is one outcome event with its deal, time and source.
  const log = await readLog(dir);
  assert.equal(log.length, logBefore + 2);
  const [o1, o2] = log.slice(-2);
  assert.deepEqual({ ...o1, seq: 0, timeMs: 0, outcomeTimeMs: 0 }, { seq: 0, timeMs: 0, type: 'outcome', customerId: 'c-1', outcome: 'sold', salespersonId: 'sp-1', dealId: 'd-1', outcomeTimeMs: 0, via: 'api', row: 2 });
  assert.equal(o2.customerId, 'c-2');
  assert.equal(o2.outcome, 'no_sale');
  assert.equal(o2.row, 3);
  assert.equal(o1.outcomeTimeMs, Date.parse(text.split('\r\n')[1].split(',')[0]));

  // The same file again: nothing changes.
  const boardBefore = stableBoard(after.board);
  const teamText = (await srv.get(FLOOR.teamStatus)).text;
  const segText = (await srv.get(`${API}/customer-segments`)).text;
  const seq = (await srv.get('/healthz')).body.lastSeq;
  const again = await postCsv(srv, text, { token: write });
  c.check('outcomes again', OUTCOMES, again, 200);
  assert.equal(again.body.rows, 11);
  assert.equal(again.body.recorded, 0);
  assert.equal(again.body.alreadyRecorded, 2);
  assert.deepEqual(unmatchedOf(again.body), UNMATCHED);
  assert.deepEqual(again.body.assignments, []);
  assert.deepEqual(stableBoard((await floorOf(srv)).board), boardBefore);
  assert.equal((await srv.get(FLOOR.teamStatus)).text, teamText);
  assert.equal((await srv.get(`${API}/customer-segments`)).text, segText);
  assert.equal((await srv.get('/healthz')).body.lastSeq, seq);
  assert.equal((await readLog(dir)).length, logBefore + 2);

  // A header alone is a file of no rows.
  const none = await postCsv(srv, 'customerId,outcome,time\n', { token: write });
  c.check('outcomes, no rows', OUTCOMES, none, 200);
  assert.deepEqual({ ...none.body, timestamp: 0 }, { rows: 0, recorded: 0, alreadyRecorded: 0, unmatched: [], ignoredColumns: [], assignments: [], timestamp: 0 });
  await srv.stop();
  assert.deepEqual(c.failures, []);
});

test('every error of POST outcomes: its status, code and field, and nothing applied', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { srv, write, read } = await busyFloor(t, { args: ['--require-auth', 'true', '--auth-failure-limit', '1000'] });
  const doc = await fetchDoc(srv);
  const c = liveChecker(doc);
  const W = { token: write };
  const now = isoAt(Date.now());
  const good = `customerId,outcome,time\nc-1,no_sale,${now}\n`;
  const seq = (await srv.get('/healthz')).body.lastSeq;
  const cases = [
    ['empty', '', 'CSV_NO_HEADER', null],
    ['blank', '\r\n\r\n,,\r\n', 'CSV_NO_HEADER', null],
    ['no header', `c-1,no_sale,${now}\n`, 'CSV_NO_HEADER', null],
    ['missing time', 'customerId,outcome\nc-1,no_sale\n', 'CSV_MISSING_COLUMN', 'time'],
    ['missing customerId', 'outcome,time,dealId\n', 'CSV_MISSING_COLUMN', 'customerId'],
    ['twice', 'customerId,outcome,time,Customer_ID\n', 'CSV_DUPLICATE_COLUMN', 'customerId'],
    ['open quote', `customerId,outcome,time\n"c-1,no_sale,${now}\n`, 'CSV_SYNTAX', null],
    ['after quote', `customerId,outcome,time\n"c-1"x,no_sale,${now}\n`, 'CSV_SYNTAX', null],
    ['1001 rows', `customerId,outcome,time\n${'c-1,no_sale,2026-03-01T14:30:00Z\n'.repeat(1001)}`, 'CSV_TOO_MANY_ROWS', null],
    ['257 columns', `customerId,outcome,time${',x'.repeat(254)}\n`, 'CSV_TOO_MANY_COLUMNS', null],
  ];
  for (const [label, body, code, field] of cases) {
    const r = await postCsv(srv, body, W);
    checkError(assert, r, 400, code, field);
    c.check(`400 ${label}`, OUTCOMES, r, 400);
  }
  for (const [label, headers] of [['json', { 'content-type': 'application/json' }], ['text', { 'content-type': 'text/plain' }]]) {
    const r = await srv.request('POST', OUTCOMES, { body: good, headers, token: write });
    checkError(assert, r, 415, 'UNSUPPORTED_MEDIA_TYPE');
    c.check(`415 ${label}`, OUTCOMES, r, 415);
  }
  const big = await postCsv(srv, `customerId,outcome,time\n${'x'.repeat(70000)}\n`, W);
  checkError(assert, big, 413, 'BODY_TOO_LARGE');
  c.check('413', OUTCOMES, big, 413);
  const anon = await postCsv(srv, good);
  checkError(assert, anon, 401, 'UNAUTHORIZED');
  c.check('401', OUTCOMES, anon, 401);
  const reader = await postCsv(srv, good, { token: read });
  checkError(assert, reader, 403, 'FORBIDDEN');
  c.check('403', OUTCOMES, reader, 403);
  const get = await srv.get(OUTCOMES, { token: read });
  checkError(assert, get, 405, 'METHOD_NOT_ALLOWED');
  assert.equal(get.headers.get('allow'), 'POST');
  c.check('405', OUTCOMES, get, 405);
  // charset and other parameters of the type are fine; refused requests changed nothing.
  assert.equal((await srv.get('/healthz')).body.lastSeq, seq);
  const ok = await postCsv(srv, good, { token: write, headers: { 'content-type': 'text/csv; charset=utf-8' } });
  c.check('200 with charset', OUTCOMES, ok, 200);
  assert.equal(ok.body.recorded, 1, ok.text);
  await srv.stop();

  // An untracked floor has no walk-ins: every valid row says so.
  const h = harness(t);
  const off = await h.start({ args: ['--floor-tracking', 'off'] });
  const r = await postCsv(off, `customerId,outcome,time\nc-1,no_sale,${now}\nc-2,sold,${now}\n`);
  c.check('untracked', OUTCOMES, r, 200);
  assert.deepEqual(unmatchedOf(r.body), ['2 c-1 FLOOR_NOT_TRACKED null', '3 c-2 INVALID_FIELD salespersonId']);
  await off.stop();
  assert.deepEqual(c.failures, []);
});

test('whaco outcomes import while the server runs: picked up at once, the same rules as the API, and kept across kill -9', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { h, dir, srv, write } = await busyFloor(t);
  const file = path.join(dir, 'crm.csv');
  const now = Date.now();
  await writeFile(file, `customerId,outcome,salespersonId,time\nc-1,be_back,sp-1,${isoAt(now)}\nc-2,sold,sp-2,${isoAt(now)}\nc-7,no_sale,,${isoAt(now)}\n`);
  const run1 = await runWhaco(['outcomes', 'import', file, '--data', dir]);
  assert.equal(run1.code, 0, run1.stderr);
  assert.match(run1.stdout, /^whaco outcomes: 3 rows: 2 recorded, 0 already recorded, 1 unmatched\nrow 4\tc-7\tUNKNOWN_CUSTOMER\t/);
  // The server reloads within its retry interval (1 s) when idle.
  let f;
  for (let i = 0; i < 100; i++) {
    f = await floorOf(srv);
    if (f.waiting.length === 0) break;
    await sleep(50);
  }
  assert.deepEqual(f.with, { 'sp-1': ['c-3'], 'sp-2': ['c-4'], 'sp-3': [] });
  // The same file through the API, and through the CLI again: already recorded.
  const api = await postCsv(srv, await readFile(file, 'utf8'), { token: write });
  assert.equal(api.status, 200, api.text);
  assert.equal(api.body.recorded, 0);
  assert.equal(api.body.alreadyRecorded, 2);
  assert.deepEqual(unmatchedOf(api.body), ['4 c-7 UNKNOWN_CUSTOMER customerId']);
  const run2 = await runWhaco(['outcomes', 'import', file, '--data', dir]);
  assert.equal(run2.code, 0, run2.stderr);
  assert.match(run2.stdout, /2 already recorded/);
  const log = await readLog(dir);
  assert.deepEqual(log.filter((e) => e.type === 'outcome').map((e) => `${e.customerId} ${e.outcome} ${e.via} ${e.row}`), ['c-1 be_back cli 2', 'c-2 sold cli 3']);
  // The server's next write follows the import in the log; kill -9 and a restart keep it all.
  assert.equal((await srv.post(FLOOR.analyze, { ...customer(5), customerId: 'c-5' }, { token: write })).status, 200);
  const board = stableBoard((await floorOf(srv)).board);
  await srv.kill9();
  const back = await h.start({ dataDir: dir, args: ['--assignment', 'up-rotation', '--max-customers', '1'] });
  assert.deepEqual(stableBoard((await floorOf(back)).board), board);
  await back.stop();
  const v = await runWhaco(['state', 'verify', '--data', dir]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  // A bad file and a missing data directory: 1 and 2, nothing done.
  const nodir = await runWhaco(['outcomes', 'import', file, '--data', path.join(dir, 'none')]);
  assert.equal(nodir.code, 2);
  assert.match(nodir.stderr, /No such file/);
  await writeFile(file, 'customerId,outcome\n');
  const bad = await runWhaco(['outcomes', 'import', file, '--data', dir]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /CSV_MISSING_COLUMN/);
  assert.equal((await readLog(dir)).filter((e) => e.type === 'outcome').length, 2);
});
