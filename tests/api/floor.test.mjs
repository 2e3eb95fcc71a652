// floor.test.mjs: the sales floor through the API (include/whaco/floor.h)
// -- clock-in, clock-out, salesperson-status, customer-left, assign,
// up-board, deal-closed with customerId, analyze-customer on a tracked
// floor: every endpoint and error, the roles, the floor-tracking,
// assignment, max-customers and be-back-to-original settings, a whole
// floor day with the up board checked at each step, the event stream, the
// settings and the floor across restarts and kill -9, `whaco log` and
// `whaco state verify`.
import assert from 'node:assert/strict';
import test from 'node:test';

import { API, ISO_RE, SEED_CUSTOMER, TEAM5, addTeam, checkError, customer, harness, runWhaco, TEST_TIMEOUT_MS } from './helpers.mjs';
import { FLOOR, collectEvents } from './floorkit.mjs';

const TEAM3 = TEAM5.slice(0, 3);
const SEED_ANALYSIS_KEYS = ['assignedTo', 'customerAnalysis', 'recommendedActions', 'teamStatus'];
const BOARD_KEYS = ['assignment', 'floorTracked', 'floorTracking', 'maxCustomers', 'salespeople', 'timestamp', 'upOrder', 'waiting'];
const BOARD_MEMBER_KEYS = ['customers', 'freeSlots', 'id', 'name', 'observedSkill', 'overridesToday', 'position', 'since', 'state', 'walkInsToday'];
const WAITING_KEYS = ['arrived', 'clusterId', 'clusterName', 'customerId', 'position', 'priorityScore', 'returningTo', 'waitSeconds'];
const DONE_KEYS = ['assignments', 'salespersonId', 'status', 'timestamp'];

/** A walk-in: customer(i) of the shared stream under the customerId id. */
const walkIn = (id, i = 1) => ({ ...customer(i), customerId: id });

/** The status must be `status`; the parsed body. */
function expectStatus(res, status = 200) {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers.get('content-type') || '', /^application\/json/);
  return res.body;
}

/** A tracked-floor analysis: the seed's keys plus queuePosition and customerId. */
function checkTrackedAnalysis(a, { customerId, assignedTo, queuePosition }) {
  assert.deepEqual(Object.keys(a).filter((k) => k !== 'warning').sort(), [...SEED_ANALYSIS_KEYS, 'customerId', 'queuePosition'].sort(), JSON.stringify(a));
  if (customerId !== undefined) assert.equal(a.customerId, customerId);
  if (assignedTo !== undefined) assert.equal(a.assignedTo, assignedTo, JSON.stringify(a));
  if (queuePosition !== undefined) assert.equal(a.queuePosition, queuePosition, JSON.stringify(a));
  assert.ok((a.assignedTo === null) !== (a.queuePosition === null), `exactly one of assignedTo and queuePosition: ${JSON.stringify(a)}`);
}

/** A floor write's answer: its keys, status and assignments. */
function checkDone(body, status, { assignments = [], extra = [] } = {}) {
  assert.deepEqual(Object.keys(body).sort(), [...DONE_KEYS, ...extra].sort(), JSON.stringify(body));
  assert.equal(body.status, status);
  assert.match(body.timestamp, ISO_RE);
  assert.deepEqual(
    body.assignments.map((a) => `${a.customerId}>${a.salespersonId}${a.override ? '*' : ''}`),
    assignments,
    JSON.stringify(body.assignments),
  );
  for (const a of body.assignments) assert.ok(typeof a.waitSeconds === 'number' && a.waitSeconds >= 0, JSON.stringify(a));
}

/**
 * GET up-board, check everything that must hold of any board, and return
 * it. The invariants: the clocked-in come first, in the up order, with
 * positions 1..n; the others are off, with no position, walk-in or slot;
 * each state says what the salesperson does; freeSlots is what is left of
 * max-customers for the available; the line's positions are 1..k; no
 * walk-in is in two places.
 */
async function getBoard(srv, opts) {
  const r = await srv.get(FLOOR.board, opts);
  const b = expectStatus(r);
  assert.deepEqual(Object.keys(b).sort(), BOARD_KEYS, r.text);
  assert.match(b.timestamp, ISO_RE);
  const on = b.salespeople.filter((m) => m.state !== 'off');
  assert.deepEqual(b.salespeople.slice(0, on.length), on, `the clocked-in come first: ${r.text}`);
  assert.deepEqual(on.map((m) => m.id), b.upOrder, r.text);
  const seen = new Set();
  b.salespeople.forEach((m, i) => {
    assert.deepEqual(Object.keys(m).sort(), BOARD_MEMBER_KEYS, JSON.stringify(m));
    for (const c of m.customers) {
      assert.deepEqual(Object.keys(c).sort(), ['customerId', 'override', 'since']);
      assert.match(c.since, ISO_RE);
      assert.ok(!seen.has(c.customerId), `${c.customerId} twice: ${r.text}`);
      seen.add(c.customerId);
    }
    if (m.state === 'off') {
      assert.equal(m.position, null, JSON.stringify(m));
      assert.deepEqual(m.customers, [], JSON.stringify(m));
      assert.equal(m.freeSlots, 0, JSON.stringify(m));
    } else {
      assert.equal(m.position, i + 1, JSON.stringify(m));
      assert.match(m.since, ISO_RE);
      const available = m.state === 'available' || m.state === 'with_customer';
      assert.equal(m.state === 'with_customer', available && m.customers.length > 0, JSON.stringify(m));
      assert.equal(m.freeSlots, available ? Math.max(0, b.maxCustomers - m.customers.length) : 0, JSON.stringify(m));
    }
  });
  b.waiting.forEach((w, i) => {
    assert.deepEqual(Object.keys(w).sort(), WAITING_KEYS, JSON.stringify(w));
    assert.equal(w.position, i + 1);
    assert.match(w.arrived, ISO_RE);
    assert.ok(w.waitSeconds >= 0);
    assert.ok(!seen.has(w.customerId), `${w.customerId} twice: ${r.text}`);
    seen.add(w.customerId);
  });
  return b;
}

/**
 * The board in a few words: upOrder; per salesperson "state position
 * [customers, * = override] f<freeSlots> w<walkInsToday> o<overridesToday>";
 * the line as "customerId" or "customerId>returningTo".
 */
function summary(b) {
  return {
    up: b.upOrder,
    people: Object.fromEntries(
      b.salespeople.map((m) => [
        m.id,
        `${m.state} ${m.position ?? '-'} [${m.customers.map((c) => c.customerId + (c.override ? '*' : '')).sort().join(',')}] f${m.freeSlots} w${m.walkInsToday} o${m.overridesToday}`,
      ]),
    ),
    waiting: b.waiting.map((w) => (w.returningTo ? `${w.customerId}>${w.returningTo}` : w.customerId)),
  };
}

/** The board without what moves with the clock alone (its timestamp, the waits). */
function stable(b) {
  const c = structuredClone(b);
  delete c.timestamp;
  for (const w of c.waiting) delete w.waitSeconds;
  return c;
}

/** `whaco log` of dir as parsed lines. */
async function readLog(dir) {
  const r = await runWhaco(['log', '--data', dir]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

const FLOOR_TYPES = new Set(['clock_in', 'clock_out', 'status', 'customer_left', 'override', 'floor_settings']);
/** The floor's lines of a log (and deal_closed with a customerId), without seq and time. */
const floorLines = (log) =>
  log
    .filter((e) => FLOOR_TYPES.has(e.type) || (e.type === 'deal_closed' && e.customerId))
    .map(({ seq, timeMs, ...rest }) => rest);

async function verifyState(dir) {
  const v = await runWhaco(['state', 'verify', '--data', dir]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /state equals a full replay of the log: yes/);
  return v.stdout;
}

/** lastSeq of /healthz. */
async function lastSeq(srv) {
  return expectStatus(await srv.get('/healthz')).lastSeq;
}

/** A server on a fresh directory with an admin token and team (TEAM3 unless given). */
async function floorServer(t, { args = [], team = TEAM3, env } = {}) {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const srv = await h.start({ dataDir: dir, args, env });
  await addTeam(srv, admin, team);
  return { h, dir, admin, srv };
}

// ------------------------------------------------------------ errors

test('every floor error: its status, code and field; a refused request changes nothing', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { admin, srv } = await floorServer(t, { args: ['--assignment', 'up-rotation', '--max-customers', '1'] });
  const AD = { token: admin };
  expectStatus(await srv.post(FLOOR.clockIn, { salespersonId: 'sp-1' }));
  checkTrackedAnalysis(expectStatus(await srv.post(FLOOR.analyze, walkIn('c-1'))), { assignedTo: 'sp-1', queuePosition: null });
  checkTrackedAnalysis(expectStatus(await srv.post(FLOOR.analyze, walkIn('c-2', 2))), { assignedTo: null, queuePosition: 1 });
  checkTrackedAnalysis(expectStatus(await srv.post(FLOOR.analyze, walkIn('c-done', 3))), { assignedTo: null, queuePosition: 2 });
  expectStatus(await srv.post(FLOOR.left, { customerId: 'c-done', outcome: 'no_sale' }));
  const before = stable(await getBoard(srv));
  const seq = await lastSeq(srv);
  assert.deepEqual(summary(before).waiting, ['c-2']);

  const json = { 'content-type': 'application/json' };
  const raw = (url, body, opts = {}) => srv.request('POST', url, { body, headers: json, ...opts });
  const long = 'x'.repeat(64);
  // [label, request, status, code, field]
  const cases = [];
  for (const url of [FLOOR.clockIn, FLOOR.clockOut]) {
    const p = url.split('/').pop();
    cases.push(
      [`${p}: {}`, () => srv.post(url, {}), 400, 'MISSING_FIELD', 'salespersonId'],
      [`${p}: salespersonId null`, () => srv.post(url, { salespersonId: null }), 400, 'MISSING_FIELD', 'salespersonId'],
      [`${p}: salespersonId a number`, () => srv.post(url, { salespersonId: 1 }), 400, 'WRONG_TYPE', 'salespersonId'],
      [`${p}: salespersonId empty`, () => srv.post(url, { salespersonId: '' }), 400, 'ID_LENGTH', 'salespersonId'],
      [`${p}: salespersonId of 64 bytes`, () => srv.post(url, { salespersonId: long }), 400, 'ID_LENGTH', 'salespersonId'],
      [`${p}: salespersonId with a space`, () => srv.post(url, { salespersonId: 'sp 1' }), 400, 'ID_LENGTH', 'salespersonId'],
      [`${p}: not JSON`, () => raw(url, '{"salespersonId":'), 400, 'INVALID_JSON', null],
      [`${p}: an array`, () => raw(url, '["sp-1"]'), 400, 'NOT_AN_OBJECT', null],
      [`${p}: not JSON by type`, () => raw(url, '{}', { headers: { 'content-type': 'text/plain' } }), 415, 'UNSUPPORTED_MEDIA_TYPE', null],
      [`${p}: unknown salesperson`, () => srv.post(url, { salespersonId: 'nobody' }), 404, 'NOT_FOUND', 'salespersonId'],
      [`${p}: GET`, () => srv.get(url), 405, 'METHOD_NOT_ALLOWED', null],
    );
  }
  const S = FLOOR.status;
  cases.push(
    ['status: no status', () => srv.post(S, { salespersonId: 'sp-1' }), 400, 'MISSING_FIELD', 'status'],
    ['status: no salespersonId', () => srv.post(S, { status: 'break' }), 400, 'MISSING_FIELD', 'salespersonId'],
    ['status: off (that is clock-out)', () => srv.post(S, { salespersonId: 'sp-1', status: 'off' }), 400, 'STATUS_VALUE', 'status'],
    ['status: lunch', () => srv.post(S, { salespersonId: 'sp-1', status: 'lunch' }), 400, 'STATUS_VALUE', 'status'],
    ['status: BREAK', () => srv.post(S, { salespersonId: 'sp-1', status: 'BREAK' }), 400, 'STATUS_VALUE', 'status'],
    ['status: with_customer (a board state)', () => srv.post(S, { salespersonId: 'sp-1', status: 'with_customer' }), 400, 'STATUS_VALUE', 'status'],
    ['status: a number', () => srv.post(S, { salespersonId: 'sp-1', status: 2 }), 400, 'WRONG_TYPE', 'status'],
    ['status: salespersonId too long', () => srv.post(S, { salespersonId: long, status: 'break' }), 400, 'ID_LENGTH', 'salespersonId'],
    ['status: unknown salesperson', () => srv.post(S, { salespersonId: 'nobody', status: 'break' }), 404, 'NOT_FOUND', 'salespersonId'],
    ['status: clocked out', () => srv.post(S, { salespersonId: 'sp-2', status: 'break' }), 409, 'OFF_FLOOR', 'salespersonId'],
    ['status: clocked out, available', () => srv.post(S, { salespersonId: 'sp-2', status: 'available' }), 409, 'OFF_FLOOR', 'salespersonId'],
  );
  const L = FLOOR.left;
  cases.push(
    ['customer-left: {}', () => srv.post(L, {}), 400, 'MISSING_FIELD', 'customerId'],
    ['customer-left: no outcome', () => srv.post(L, { customerId: 'c-2' }), 400, 'MISSING_FIELD', 'outcome'],
    ['customer-left: outcome sold (that is deal-closed)', () => srv.post(L, { customerId: 'c-2', outcome: 'sold' }), 400, 'OUTCOME_VALUE', 'outcome'],
    ['customer-left: outcome walked', () => srv.post(L, { customerId: 'c-2', outcome: 'walked' }), 400, 'OUTCOME_VALUE', 'outcome'],
    ['customer-left: outcome a boolean', () => srv.post(L, { customerId: 'c-2', outcome: true }), 400, 'WRONG_TYPE', 'outcome'],
    ['customer-left: customerId empty', () => srv.post(L, { customerId: '', outcome: 'no_sale' }), 400, 'ID_LENGTH', 'customerId'],
    ['customer-left: customerId of 64 bytes', () => srv.post(L, { customerId: long, outcome: 'no_sale' }), 400, 'ID_LENGTH', 'customerId'],
    ['customer-left: customerId with a tab', () => srv.post(L, { customerId: 'c\t2', outcome: 'no_sale' }), 400, 'ID_LENGTH', 'customerId'],
    ['customer-left: customerId a number', () => srv.post(L, { customerId: 2, outcome: 'no_sale' }), 400, 'WRONG_TYPE', 'customerId'],
    ['customer-left: salespersonId with a space', () => srv.post(L, { customerId: 'c-1', outcome: 'no_sale', salespersonId: 'sp 1' }), 400, 'ID_LENGTH', 'salespersonId'],
    ['customer-left: never seen', () => srv.post(L, { customerId: 'never', outcome: 'no_sale' }), 404, 'CUSTOMER_NOT_FOUND', 'customerId'],
    ['customer-left: already left', () => srv.post(L, { customerId: 'c-done', outcome: 'be_back' }), 409, 'VISIT_ENDED', 'customerId'],
    ['customer-left: with another salesperson', () => srv.post(L, { customerId: 'c-1', outcome: 'no_sale', salespersonId: 'sp-2' }), 409, 'WRONG_SALESPERSON', 'salespersonId'],
    ['customer-left: waiting, a salesperson named', () => srv.post(L, { customerId: 'c-2', outcome: 'no_sale', salespersonId: 'sp-1' }), 409, 'WRONG_SALESPERSON', 'salespersonId'],
    // floor.h: a salespersonId must be the one they are with; an unknown one is not.
    ['customer-left: an unknown salesperson named', () => srv.post(L, { customerId: 'c-1', outcome: 'no_sale', salespersonId: 'nobody' }), 409, 'WRONG_SALESPERSON', 'salespersonId'],
  );
  const G = FLOOR.assign;
  cases.push(
    ['assign: no token', () => srv.post(G, { customerId: 'c-2', salespersonId: 'sp-1' }), 401, 'UNAUTHORIZED', null],
    ['assign: {}', () => srv.post(G, {}, AD), 400, 'MISSING_FIELD', 'customerId'],
    ['assign: no salespersonId', () => srv.post(G, { customerId: 'c-2' }, AD), 400, 'MISSING_FIELD', 'salespersonId'],
    ['assign: customerId too long', () => srv.post(G, { customerId: long, salespersonId: 'sp-1' }, AD), 400, 'ID_LENGTH', 'customerId'],
    ['assign: salespersonId empty', () => srv.post(G, { customerId: 'c-2', salespersonId: '' }, AD), 400, 'ID_LENGTH', 'salespersonId'],
    ['assign: unknown salesperson', () => srv.post(G, { customerId: 'c-2', salespersonId: 'nobody' }, AD), 404, 'NOT_FOUND', 'salespersonId'],
    ['assign: never seen', () => srv.post(G, { customerId: 'never', salespersonId: 'sp-1' }, AD), 404, 'CUSTOMER_NOT_FOUND', 'customerId'],
    ['assign: already left', () => srv.post(G, { customerId: 'c-done', salespersonId: 'sp-1' }, AD), 409, 'VISIT_ENDED', 'customerId'],
    ['assign: to someone clocked out', () => srv.post(G, { customerId: 'c-2', salespersonId: 'sp-2' }, AD), 409, 'OFF_FLOOR', 'salespersonId'],
  );
  const D = FLOOR.deal;
  cases.push(
    ['deal-closed: customerId empty', () => srv.post(D, { salespersonId: 'sp-1', customerId: '' }), 400, 'ID_LENGTH', 'customerId'],
    ['deal-closed: customerId of 64 bytes', () => srv.post(D, { salespersonId: 'sp-1', customerId: long }), 400, 'ID_LENGTH', 'customerId'],
    ['deal-closed: customerId a number', () => srv.post(D, { salespersonId: 'sp-1', customerId: 1 }), 400, 'WRONG_TYPE', 'customerId'],
    ['deal-closed: unknown salesperson', () => srv.post(D, { salespersonId: 'nobody', customerId: 'c-1' }), 404, 'NOT_FOUND', 'salespersonId'],
    ['deal-closed: never seen', () => srv.post(D, { salespersonId: 'sp-1', customerId: 'never' }), 404, 'CUSTOMER_NOT_FOUND', 'customerId'],
    ['deal-closed: already left', () => srv.post(D, { salespersonId: 'sp-1', customerId: 'c-done' }), 409, 'VISIT_ENDED', 'customerId'],
    ['deal-closed: with another salesperson', () => srv.post(D, { salespersonId: 'sp-2', customerId: 'c-1' }), 409, 'WRONG_SALESPERSON', 'salespersonId'],
    ['deal-closed: waiting at the desk', () => srv.post(D, { salespersonId: 'sp-1', customerId: 'c-2' }), 409, 'WRONG_SALESPERSON', 'salespersonId'],
    ['up-board: POST', () => srv.post(FLOOR.board, {}), 405, 'METHOD_NOT_ALLOWED', null],
  );
  for (const [label, send, status, code, field] of cases) {
    await t.test(label, async () => checkError(assert, await send(), status, code, field));
  }
  assert.deepEqual(stable(await getBoard(srv)), before, 'a refused request changed the floor');
  assert.equal(await lastSeq(srv), seq, 'a refused request was logged');
  await srv.stop();
});

// ------------------------------------------------------------ roles

/** One request of each floor endpoint; ids are fresh so each may succeed. */
function floorOps(srv) {
  let n = 0;
  return {
    'clock-in': (token) => srv.post(FLOOR.clockIn, { salespersonId: 'sp-1' }, { token }),
    'clock-out': (token) => srv.post(FLOOR.clockOut, { salespersonId: 'sp-3' }, { token }),
    'salesperson-status': (token) => srv.post(FLOOR.status, { salespersonId: 'sp-1', status: 'available' }, { token }),
    'customer-left': async (token) => {
      const id = `role-${++n}`;
      expectStatus(await srv.post(FLOOR.analyze, walkIn(id, n), { token: srv.writeToken }));
      return srv.post(FLOOR.left, { customerId: id, outcome: 'no_sale' }, { token });
    },
    assign: async (token) => {
      const id = `role-${++n}`;
      expectStatus(await srv.post(FLOOR.analyze, walkIn(id, n), { token: srv.writeToken }));
      return srv.post(FLOOR.assign, { customerId: id, salespersonId: 'sp-1' }, { token });
    },
  };
}
const FLOOR_WRITES = ['clock-in', 'clock-out', 'salesperson-status', 'customer-left'];

async function roleServer(t, args, listen) {
  const h = harness(t);
  const dir = await h.tmpdir();
  const tokens = { admin: await h.token(dir, 'admin'), write: await h.token(dir, 'write'), read: await h.token(dir, 'read') };
  const srv = await h.start({ dataDir: dir, args: ['--auth-failure-limit', '1000', ...args], listen });
  srv.writeToken = tokens.write;
  await addTeam(srv, tokens.admin, TEAM3);
  expectStatus(await srv.post(FLOOR.clockIn, { salespersonId: 'sp-1' }, { token: tokens.write }));
  return { tokens, srv };
}

test('roles on loopback (default): the floor writes and the up board are open like analyze-customer; assign needs an admin token', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { tokens, srv } = await roleServer(t, []);
  const ops = floorOps(srv);
  for (const op of FLOOR_WRITES) expectStatus(await ops[op](undefined));
  expectStatus(await srv.get(FLOOR.board));
  checkError(assert, await ops.assign(undefined), 401, 'UNAUTHORIZED');
  for (const role of ['read', 'write']) {
    const r = await ops.assign(tokens[role]);
    checkError(assert, r, 403, 'FORBIDDEN');
    assert.ok(r.body.error.message.includes(role), r.text);
  }
  expectStatus(await ops.assign(tokens.admin));
  // DNS rebinding: a Host that is a domain name needs a token, as for the seed's endpoints.
  const rebound = async (method, url, body, token) => {
    const auth = token ? `Authorization: Bearer ${token}\r\n` : '';
    const head = `${method} ${url} HTTP/1.1\r\nHost: evil.example:${srv.port}\r\n${auth}Connection: close\r\n`;
    return srv.raw(body === undefined ? `${head}\r\n` : `${head}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  };
  const asFetch = (r) => ({ ...r, headers: { get: (k) => r.headers[k.toLowerCase()] } });
  checkError(assert, asFetch(await rebound('POST', FLOOR.clockIn, JSON.stringify({ salespersonId: 'sp-2' }))), 401, 'UNAUTHORIZED');
  checkError(assert, asFetch(await rebound('GET', FLOOR.board)), 401, 'UNAUTHORIZED');
  assert.equal((await rebound('GET', FLOOR.board, undefined, tokens.read)).status, 200);
  assert.equal((await rebound('POST', FLOOR.clockIn, JSON.stringify({ salespersonId: 'sp-2' }), tokens.write)).status, 200);
  await srv.stop();
});

test('roles with --require-auth true: floor writes need write, assign admin, up-board read', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { tokens, srv } = await roleServer(t, ['--require-auth', 'true']);
  const ops = floorOps(srv);
  for (const op of [...FLOOR_WRITES, 'assign']) {
    checkError(assert, await ops[op](undefined), 401, 'UNAUTHORIZED');
    checkError(assert, await ops[op]('whaco_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), 401, 'UNAUTHORIZED');
    const r = await ops[op](tokens.read);
    checkError(assert, r, 403, 'FORBIDDEN');
    assert.ok(r.body.error.message.includes('read'), r.text);
  }
  for (const op of FLOOR_WRITES) {
    expectStatus(await ops[op](tokens.write));
    expectStatus(await ops[op](tokens.admin));
  }
  checkError(assert, await ops.assign(tokens.write), 403, 'FORBIDDEN');
  expectStatus(await ops.assign(tokens.admin));
  checkError(assert, await srv.get(FLOOR.board), 401, 'UNAUTHORIZED');
  for (const role of ['read', 'write', 'admin']) expectStatus(await srv.get(FLOOR.board, { token: tokens[role] }));
  await srv.stop();
});

test('roles off loopback (--listen 0.0.0.0:0): tokens everywhere, the same roles', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { tokens, srv } = await roleServer(t, [], '0.0.0.0:0');
  const ops = floorOps(srv);
  for (const op of FLOOR_WRITES) {
    checkError(assert, await ops[op](undefined), 401, 'UNAUTHORIZED');
    checkError(assert, await ops[op](tokens.read), 403, 'FORBIDDEN');
    expectStatus(await ops[op](tokens.write));
  }
  checkError(assert, await ops.assign(tokens.write), 403, 'FORBIDDEN');
  expectStatus(await ops.assign(tokens.admin));
  checkError(assert, await srv.get(FLOOR.board), 401, 'UNAUTHORIZED');
  expectStatus(await srv.get(FLOOR.board, { token: tokens.read }));
  await srv.stop();
});

// ------------------------------------------------------------ clock-in and clock-out

test('clock-in and clock-out are idempotent: the same answer, no change, the place in the up order kept', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { srv } = await floorServer(t, { args: ['--assignment', 'up-rotation'] });
  // Clocking out on an untracked floor changes nothing, and does not start tracking.
  checkDone(expectStatus(await srv.post(FLOOR.clockOut, { salespersonId: 'sp-1' })), 'clocked-out');
  assert.equal((await getBoard(srv)).floorTracked, false);
  assert.equal(expectStatus(await srv.get(FLOOR.teamStatus)).floorTracked, false);

  for (const id of ['sp-1', 'sp-2', 'sp-3']) checkDone(expectStatus(await srv.post(FLOOR.clockIn, { salespersonId: id })), 'clocked-in');
  const b1 = await getBoard(srv);
  assert.deepEqual(b1.upOrder, ['sp-1', 'sp-2', 'sp-3']);
  // sp-1 again: still first, same since.
  const again = expectStatus(await srv.post(FLOOR.clockIn, { salespersonId: 'sp-1' }));
  checkDone(again, 'clocked-in');
  assert.equal(again.salespersonId, 'sp-1');
  const b2 = await getBoard(srv);
  assert.deepEqual(stable(b2), stable(b1));
  // Out twice: the second is the same answer and nothing changes.
  checkDone(expectStatus(await srv.post(FLOOR.clockOut, { salespersonId: 'sp-2' })), 'clocked-out');
  const b3 = await getBoard(srv);
  assert.deepEqual(b3.upOrder, ['sp-1', 'sp-3']);
  checkDone(expectStatus(await srv.post(FLOOR.clockOut, { salespersonId: 'sp-2' })), 'clocked-out');
  assert.deepEqual(stable(await getBoard(srv)), stable(b3));
  // Back in: at the back of the up order.
  expectStatus(await srv.post(FLOOR.clockIn, { salespersonId: 'sp-2' }));
  assert.deepEqual((await getBoard(srv)).upOrder, ['sp-1', 'sp-3', 'sp-2']);
  await srv.stop();
});

// ------------------------------------------------------------ floor-tracking

test('floor-tracking auto (the default): untracked and the seed\'s answers until the first clock-in, tracked from it on', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { srv } = await floorServer(t);
  const b0 = await getBoard(srv);
  assert.deepEqual(
    { tracked: b0.floorTracked, tracking: b0.floorTracking, rule: b0.assignment, max: b0.maxCustomers, up: b0.upOrder, waiting: b0.waiting },
    { tracked: false, tracking: 'auto', rule: 'network', max: 2, up: [], waiting: [] },
  );
  assert.deepEqual(summary(b0).people, { 'sp-1': 'off - [] f0 w0 o0', 'sp-2': 'off - [] f0 w0 o0', 'sp-3': 'off - [] f0 w0 o0' });
  let ts = expectStatus(await srv.get(FLOOR.teamStatus));
  assert.equal(ts.floorTracked, false);
  assert.ok(ts.coverage > 0 && ts.coverage <= 1, `coverage ${ts.coverage}`);
  // The seed's analysis: its keys only, a salesperson of the whole team.
  const a = expectStatus(await srv.post(FLOOR.analyze, SEED_CUSTOMER));
  assert.deepEqual(Object.keys(a).sort(), SEED_ANALYSIS_KEYS);
  assert.ok(TEAM3.some((m) => m.id === a.assignedTo), a.assignedTo);
  ts = expectStatus(await srv.get(FLOOR.teamStatus));
  assert.equal(ts.teamMembers.find((m) => m.id === a.assignedTo).activeDeals, 1);
  // The floor knows no walk-in yet: its events about one are 409 FLOOR_OFF; a status needs a clock-in.
  checkError(assert, await srv.post(FLOOR.left, { customerId: 'cust_123', outcome: 'no_sale' }), 409, 'FLOOR_OFF');
  checkError(assert, await srv.post(FLOOR.status, { salespersonId: 'sp-1', status: 'break' }), 409, 'OFF_FLOOR', 'salespersonId');
  // An unknown id starts nothing.
  checkError(assert, await srv.post(FLOOR.clockIn, { salespersonId: 'nobody' }), 404, 'NOT_FOUND', 'salespersonId');
  assert.equal((await getBoard(srv)).floorTracked, false);

  // The first clock-in: tracked; the untracked floor's open leads are forgotten.
  checkDone(expectStatus(await srv.post(FLOOR.clockIn, { salespersonId: 'sp-2' })), 'clocked-in');
  const b1 = await getBoard(srv);
  assert.equal(b1.floorTracked, true);
  assert.deepEqual(summary(b1), {
    up: ['sp-2'],
    people: { 'sp-2': 'available 1 [] f2 w0 o0', 'sp-1': 'off - [] f0 w0 o0', 'sp-3': 'off - [] f0 w0 o0' },
    waiting: [],
  });
  ts = expectStatus(await srv.get(FLOOR.teamStatus));
  assert.equal(ts.floorTracked, true);
  assert.deepEqual(ts.teamMembers.map((m) => m.activeDeals), [0, 0, 0]);
  const sp2 = ts.teamMembers.find((m) => m.id === 'sp-2');
  assert.equal(sp2.phaseLabel, 'ready');
  // Now walk-ins go to the floor: only sp-2 is on it.
  const w = expectStatus(await srv.post(FLOOR.analyze, walkIn('w-1')));
  checkTrackedAnalysis(w, { customerId: 'w-1', assignedTo: 'sp-2', queuePosition: null });
  assert.equal(w.warning, undefined);
  ts = expectStatus(await srv.get(FLOOR.teamStatus));
  assert.equal(ts.teamMembers.find((m) => m.id === 'sp-2').phaseLabel, 'negotiating');
  assert.equal(ts.teamMembers.find((m) => m.id === 'sp-2').activeDeals, 1);
  // Everyone clocking out leaves the floor tracked.
  checkDone(expectStatus(await srv.post(FLOOR.clockOut, { salespersonId: 'sp-2' })), 'clocked-out');
  const b2 = await getBoard(srv);
  assert.equal(b2.floorTracked, true);
  assert.deepEqual(summary(b2).waiting, ['w-1']);
  checkTrackedAnalysis(expectStatus(await srv.post(FLOOR.analyze, walkIn('w-2', 2))), { assignedTo: null, queuePosition: 2 });
  await srv.stop();
});

test('floor-tracking on: tracked from the start, walk-ins wait until someone clocks in; with no team the seed\'s warning too', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { srv } = await floorServer(t, { args: ['--floor-tracking', 'on'] });
  const b0 = await getBoard(srv);
  assert.equal(b0.floorTracked, true);
  assert.equal(b0.floorTracking, 'on');
  assert.equal(expectStatus(await srv.get(FLOOR.teamStatus)).floorTracked, true);
  checkTrackedAnalysis(expectStatus(await srv.post(FLOOR.analyze, walkIn('w-1'))), { customerId: 'w-1', assignedTo: null, queuePosition: 1 });
  const { customerId, ...anonymous } = walkIn('unused', 2);
  assert.equal(customerId, 'unused');
  const anon = expectStatus(await srv.post(FLOOR.analyze, anonymous));
  checkTrackedAnalysis(anon, { assignedTo: null, queuePosition: 2 });
  assert.match(anon.customerId, /^walk-in-\d+$/);
  assert.deepEqual(summary(await getBoard(srv)).waiting, ['w-1', anon.customerId]);
  // With nobody clocked in, nobody can move: coverage 0.
  assert.equal(expectStatus(await srv.get(FLOOR.teamStatus)).coverage, 0);
  const inn = expectStatus(await srv.post(FLOOR.clockIn, { salespersonId: 'sp-3' }));
  checkDone(inn, 'clocked-in', { assignments: ['w-1>sp-3', `${anon.customerId}>sp-3`] });
  // The walk-in's generated id is the one the floor's endpoints take.
  checkDone(expectStatus(await srv.post(FLOOR.left, { customerId: anon.customerId, outcome: 'no_sale', salespersonId: 'sp-3' })), 'recorded', { extra: ['customerId', 'outcome'] });
  await srv.stop();

  // An empty team on a tracked floor: the walk-in waits, and the answer warns as the seed's does.
  const h = harness(t);
  const empty = await h.start({ args: ['--floor-tracking', 'on'] });
  const e = expectStatus(await empty.post(FLOOR.analyze, SEED_CUSTOMER));
  checkTrackedAnalysis(e, { customerId: 'cust_123', assignedTo: null, queuePosition: 1 });
  assert.equal(e.warning, 'No salespeople in network');
  await empty.stop();
});

test('floor-tracking off: every floor write is 409 FLOOR_OFF, the board is empty, analyze-customer and deal-closed answer as the seed\'s', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { admin, srv } = await floorServer(t, { args: ['--floor-tracking', 'off'] });
  const refused = [
    () => srv.post(FLOOR.clockIn, { salespersonId: 'sp-1' }),
    () => srv.post(FLOOR.clockOut, { salespersonId: 'sp-1' }),
    () => srv.post(FLOOR.status, { salespersonId: 'sp-1', status: 'break' }),
    () => srv.post(FLOOR.status, { salespersonId: 'sp-1', status: 'available' }),
    () => srv.post(FLOOR.left, { customerId: 'cust_123', outcome: 'no_sale' }),
    () => srv.post(FLOOR.left, { customerId: 'cust_123', outcome: 'be_back', salespersonId: 'sp-1' }),
    () => srv.post(FLOOR.assign, { customerId: 'cust_123', salespersonId: 'sp-1' }, { token: admin }),
  ];
  const seq = await lastSeq(srv);
  for (const send of refused) checkError(assert, await send(), 409, 'FLOOR_OFF');
  // The request's own errors come first: they are the same whatever the floor.
  checkError(assert, await srv.post(FLOOR.clockIn, {}), 400, 'MISSING_FIELD', 'salespersonId');
  checkError(assert, await srv.post(FLOOR.clockIn, { salespersonId: 'nobody' }), 404, 'NOT_FOUND', 'salespersonId');
  checkError(assert, await srv.post(FLOOR.status, { salespersonId: 'sp-1', status: 'lunch' }), 400, 'STATUS_VALUE', 'status');
  assert.equal(await lastSeq(srv), seq);
  const b = await getBoard(srv);
  assert.deepEqual({ tracked: b.floorTracked, tracking: b.floorTracking, up: b.upOrder, waiting: b.waiting }, { tracked: false, tracking: 'off', up: [], waiting: [] });
  const a = expectStatus(await srv.post(FLOOR.analyze, SEED_CUSTOMER));
  assert.deepEqual(Object.keys(a).sort(), SEED_ANALYSIS_KEYS);
  assert.ok(TEAM3.some((m) => m.id === a.assignedTo));
  const d = expectStatus(await srv.post(FLOOR.deal, { salespersonId: a.assignedTo, dealId: 'd-1' }));
  assert.deepEqual(Object.keys(d).sort(), ['dealId', 'salespersonId', 'status', 'timestamp']);
  // A customerId is ignored on an untracked floor: the seed's rule applies, the answer echoes it.
  const dc = expectStatus(await srv.post(FLOOR.deal, { salespersonId: a.assignedTo, customerId: 'cust_123' }));
  assert.equal(dc.customerId, 'cust_123');
  const ts = expectStatus(await srv.get(FLOOR.teamStatus));
  assert.equal(ts.floorTracked, false);
  assert.equal(ts.teamMembers.find((m) => m.id === a.assignedTo).dealsToday, 2);
  await srv.stop();
});

// ------------------------------------------------------------ settings

/** Clock in ids in order (each answer checked). */
async function clockIn(srv, ids) {
  for (const id of ids) checkDone(expectStatus(await srv.post(FLOOR.clockIn, { salespersonId: id })), 'clocked-in');
}

/** Analyze walk-ins ids; their assignedTo (null while waiting). */
async function arrive(srv, ids) {
  const out = [];
  for (const [k, id] of ids.entries()) {
    const a = expectStatus(await srv.post(FLOOR.analyze, walkIn(id, k + 1)));
    checkTrackedAnalysis(a, { customerId: id });
    out.push(a.assignedTo);
  }
  return out;
}

test('assignment up-rotation and max-customers (flags): the first in the up order, one walk-in each, then the line', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { srv } = await floorServer(t, { args: ['--assignment', 'up-rotation', '--max-customers', '1'] });
  const b0 = await getBoard(srv);
  assert.deepEqual([b0.assignment, b0.maxCustomers], ['up-rotation', 1]);
  await clockIn(srv, ['sp-3', 'sp-1', 'sp-2']);
  assert.deepEqual(await arrive(srv, ['w1', 'w2', 'w3', 'w4', 'w5']), ['sp-3', 'sp-1', 'sp-2', null, null]);
  assert.deepEqual(summary(await getBoard(srv)), {
    up: ['sp-3', 'sp-1', 'sp-2'],
    people: { 'sp-3': 'with_customer 1 [w1] f0 w1 o0', 'sp-1': 'with_customer 2 [w2] f0 w1 o0', 'sp-2': 'with_customer 3 [w3] f0 w1 o0' },
    waiting: ['w4', 'w5'],
  });
  // sp-1's slot frees: w4 to sp-1, who goes to the back.
  checkDone(expectStatus(await srv.post(FLOOR.left, { customerId: 'w2', outcome: 'no_sale' })), 'recorded', { assignments: ['w4>sp-1'], extra: ['customerId', 'outcome'] });
  assert.deepEqual(summary(await getBoard(srv)).up, ['sp-3', 'sp-2', 'sp-1']);
  await srv.stop();
});

test('assignment round-robin (flag): the next after the last one chosen, in team order, whatever the up order', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { srv } = await floorServer(t, { args: ['--assignment', 'round-robin', '--max-customers', '1'] });
  await clockIn(srv, ['sp-3', 'sp-1', 'sp-2']);
  assert.deepEqual(await arrive(srv, ['w1', 'w2', 'w3']), ['sp-1', 'sp-2', 'sp-3']);
  for (const id of ['w1', 'w2', 'w3']) expectStatus(await srv.post(FLOOR.left, { customerId: id, outcome: 'no_sale' }));
  assert.deepEqual(await arrive(srv, ['w4', 'w5']), ['sp-1', 'sp-2']);
  assert.equal((await getBoard(srv)).assignment, 'round-robin');
  await srv.stop();
});

test('assignment least-busy (flag): the fewest walk-ins now, ties by the up order', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { srv } = await floorServer(t, { args: ['--assignment', 'least-busy', '--max-customers', '3'] });
  await clockIn(srv, ['sp-1', 'sp-2', 'sp-3']);
  assert.deepEqual(await arrive(srv, ['w1', 'w2', 'w3']), ['sp-1', 'sp-2', 'sp-3']);
  assert.deepEqual(summary(await getBoard(srv)).up, ['sp-1', 'sp-2', 'sp-3']);
  expectStatus(await srv.post(FLOOR.left, { customerId: 'w2', outcome: 'no_sale', salespersonId: 'sp-2' }));
  // up-rotation would give sp-1 (first up); least-busy gives sp-2, with nobody.
  assert.deepEqual(await arrive(srv, ['w4', 'w5']), ['sp-2', 'sp-1']);
  await srv.stop();
});

test('assignment network (the default): a walk-in goes to someone clocked in and available, never to anyone else', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { srv } = await floorServer(t, { team: TEAM5 });
  await clockIn(srv, ['sp-2', 'sp-4', 'sp-5']);
  expectStatus(await srv.post(FLOOR.status, { salespersonId: 'sp-5', status: 'delivery' }));
  const got = await arrive(srv, ['w1', 'w2', 'w3', 'w4', 'w5']);
  assert.deepEqual(got.slice(4), [null], 'two free salespeople, two walk-ins each: the fifth waits');
  for (const id of got.slice(0, 4)) assert.ok(['sp-2', 'sp-4'].includes(id), `network gave a walk-in to ${id}`);
  const b = await getBoard(srv);
  assert.equal(b.assignment, 'network');
  assert.deepEqual(b.salespeople.filter((m) => m.customers.length).map((m) => m.id).sort(), ['sp-2', 'sp-4']);
  await srv.stop();
});

test('be-back-to-original false (flag): a returning be-back goes by the rule, not to their salesperson of last time', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { srv } = await floorServer(t, { args: ['--assignment', 'up-rotation', '--be-back-to-original', 'false'] });
  await clockIn(srv, ['sp-1', 'sp-2']);
  assert.deepEqual(await arrive(srv, ['b1']), ['sp-1']);
  expectStatus(await srv.post(FLOOR.left, { customerId: 'b1', outcome: 'be_back', salespersonId: 'sp-1' }));
  assert.deepEqual(await arrive(srv, ['b1']), ['sp-2']);
  await srv.stop();
});

test('the settings from the environment (WHACO_ASSIGNMENT, WHACO_MAX_CUSTOMERS, WHACO_FLOOR_TRACKING), and a flag wins over it', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const env = { WHACO_ASSIGNMENT: 'up-rotation', WHACO_MAX_CUSTOMERS: '1', WHACO_FLOOR_TRACKING: 'on' };
  const { srv } = await floorServer(t, { env });
  const b = await getBoard(srv);
  assert.deepEqual([b.floorTracked, b.floorTracking, b.assignment, b.maxCustomers], [true, 'on', 'up-rotation', 1]);
  await clockIn(srv, ['sp-2', 'sp-1']);
  assert.deepEqual(await arrive(srv, ['w1', 'w2', 'w3']), ['sp-2', 'sp-1', null]);
  await srv.stop();
  const { srv: s2 } = await floorServer(t, { env, args: ['--assignment', 'least-busy'] });
  assert.equal((await getBoard(s2)).assignment, 'least-busy');
  await s2.stop();
});

test('an invalid floor setting is refused at start with a message naming it and its values (flag or environment)', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const bad = [
    [{ args: ['--max-customers', '0'] }, /max-customers = '0': expected 1 to 16/],
    [{ args: ['--max-customers', '17'] }, /max-customers = '17': expected 1 to 16/],
    [{ args: ['--max-customers', 'two'] }, /max-customers = 'two'/],
    [{ args: ['--assignment', 'fastest'] }, /assignment = 'fastest': expected network, up-rotation, round-robin or least-busy/],
    [{ args: ['--floor-tracking', 'maybe'] }, /floor-tracking = 'maybe': expected auto, on or off/],
    [{ args: ['--be-back-to-original', 'perhaps'] }, /be-back-to-original = 'perhaps': expected true or false/],
    [{ env: { WHACO_ASSIGNMENT: 'random' } }, /assignment = 'random'/],
    [{ env: { WHACO_MAX_CUSTOMERS: '99' } }, /max-customers = '99'/],
  ];
  for (const [opts, re] of bad) {
    const r = await h.startExpectingFailure(dir, opts);
    assert.equal(r.running, false, `${JSON.stringify(opts)} started: ${r.stderr}`);
    assert.equal(r.code, 2, `${JSON.stringify(opts)}: ${r.stderr}`);
    assert.match(r.stderr, re, JSON.stringify(opts));
    assert.ok(!/listening on/.test(r.stderr), r.stderr);
  }
});

// ------------------------------------------------------------ a floor day

test('a whole floor day through the API, the up board checked at each step; then whaco log and state verify', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  // up-rotation makes every choice predictable: the first free one in the up order.
  const { dir, admin, srv } = await floorServer(t, { team: TEAM5, args: ['--assignment', 'up-rotation'] });
  const AD = { token: admin };
  const stream = await collectEvents(srv);
  const off = (w = 0, o = 0) => `off - [] f0 w${w} o${o}`;
  const expectBoard = async (label, want) => {
    const b = await getBoard(srv);
    assert.deepEqual(summary(b), want, `${label}: ${JSON.stringify(summary(b), null, 1)}`);
    return b;
  };
  const left = async (customerId, outcome, salespersonId, assignments = []) => {
    const body = { customerId, outcome, ...(salespersonId ? { salespersonId } : {}) };
    const r = expectStatus(await srv.post(FLOOR.left, body));
    checkDone(r, 'recorded', { assignments, extra: ['customerId', 'outcome'] });
    assert.deepEqual([r.customerId, r.outcome, r.salespersonId], [customerId, outcome, salespersonId ?? null]);
  };
  const status = async (salespersonId, s, assignments = []) => {
    const r = expectStatus(await srv.post(FLOOR.status, { salespersonId, status: s }));
    checkDone(r, 'updated', { assignments, extra: ['floorStatus'] });
    assert.deepEqual([r.salespersonId, r.floorStatus], [salespersonId, s]);
  };
  const deal = async (salespersonId, customerId, dealId) => {
    const r = expectStatus(await srv.post(FLOOR.deal, { salespersonId, ...(customerId ? { customerId } : {}), dealId }));
    const keys = ['dealId', 'salespersonId', 'status', 'timestamp', ...(customerId ? ['customerId'] : [])];
    assert.deepEqual(Object.keys(r).sort(), keys.sort());
    assert.deepEqual([r.status, r.salespersonId, r.dealId, r.customerId], ['recorded', salespersonId, dealId, customerId]);
  };
  const clock = async (path, salespersonId, assignments = []) => {
    const r = expectStatus(await srv.post(path, { salespersonId }));
    checkDone(r, path === FLOOR.clockIn ? 'clocked-in' : 'clocked-out', { assignments });
    assert.equal(r.salespersonId, salespersonId);
  };
  const walkInIs = async (id, i, assignedTo, queuePosition = null) => {
    const a = expectStatus(await srv.post(FLOOR.analyze, walkIn(id, i)));
    checkTrackedAnalysis(a, { customerId: id, assignedTo, queuePosition });
  };

  // Morning: three clock in, in this order.
  for (const id of ['sp-1', 'sp-2', 'sp-3']) await clock(FLOOR.clockIn, id);
  await expectBoard('clock-ins', {
    up: ['sp-1', 'sp-2', 'sp-3'],
    people: { 'sp-1': 'available 1 [] f2 w0 o0', 'sp-2': 'available 2 [] f2 w0 o0', 'sp-3': 'available 3 [] f2 w0 o0', 'sp-4': off(), 'sp-5': off() },
    waiting: [],
  });
  // Six walk-ins: each goes to the first up, who goes to the back; two each.
  await walkInIs('a1', 1, 'sp-1');
  await walkInIs('a2', 2, 'sp-2');
  await walkInIs('a3', 3, 'sp-3');
  await expectBoard('three walk-ins', {
    up: ['sp-1', 'sp-2', 'sp-3'],
    people: { 'sp-1': 'with_customer 1 [a1] f1 w1 o0', 'sp-2': 'with_customer 2 [a2] f1 w1 o0', 'sp-3': 'with_customer 3 [a3] f1 w1 o0', 'sp-4': off(), 'sp-5': off() },
    waiting: [],
  });
  await walkInIs('a4', 4, 'sp-1');
  await walkInIs('a5', 5, 'sp-2');
  await walkInIs('a6', 6, 'sp-3');
  // Nobody is free: the line.
  await walkInIs('a7', 7, null, 1);
  await walkInIs('a8', 8, null, 2);
  const full = await expectBoard('the line', {
    up: ['sp-1', 'sp-2', 'sp-3'],
    people: { 'sp-1': 'with_customer 1 [a1,a4] f0 w2 o0', 'sp-2': 'with_customer 2 [a2,a5] f0 w2 o0', 'sp-3': 'with_customer 3 [a3,a6] f0 w2 o0', 'sp-4': off(), 'sp-5': off() },
    waiting: ['a7', 'a8'],
  });
  assert.deepEqual(full.waiting.map((w) => [w.clusterId, w.clusterName, w.priorityScore].map((x) => typeof x)), [['number', 'string', 'number'], ['number', 'string', 'number']]);
  // sp-2 goes on a break: keeps a2 and a5 and the place in the up order.
  await status('sp-2', 'break');
  await expectBoard('a break', {
    up: ['sp-1', 'sp-2', 'sp-3'],
    people: { 'sp-1': 'with_customer 1 [a1,a4] f0 w2 o0', 'sp-2': 'break 2 [a2,a5] f0 w2 o0', 'sp-3': 'with_customer 3 [a3,a6] f0 w2 o0', 'sp-4': off(), 'sp-5': off() },
    waiting: ['a7', 'a8'],
  });
  // a1 buys from sp-1 (customerId): the slot frees, a7 (first in line) goes to sp-1.
  await deal('sp-1', 'a1', 'd-a1');
  await stream.waitFor((e) => e.event === 'customer-assigned' && e.data.customerId === 'a7');
  await expectBoard('a sale with customerId', {
    up: ['sp-2', 'sp-3', 'sp-1'],
    people: { 'sp-2': 'break 1 [a2,a5] f0 w2 o0', 'sp-3': 'with_customer 2 [a3,a6] f0 w2 o0', 'sp-1': 'with_customer 3 [a4,a7] f0 w3 o0', 'sp-4': off(), 'sp-5': off() },
    waiting: ['a8'],
  });
  // sp-3 sells without customerId: their oldest walk-in (a3) bought; a8 goes to sp-3 (sp-2 is on a break).
  await deal('sp-3', undefined, 'd-sp3');
  await stream.waitFor((e) => e.event === 'customer-assigned' && e.data.customerId === 'a8');
  await expectBoard('a sale without customerId', {
    up: ['sp-2', 'sp-1', 'sp-3'],
    people: { 'sp-2': 'break 1 [a2,a5] f0 w2 o0', 'sp-1': 'with_customer 2 [a4,a7] f0 w3 o0', 'sp-3': 'with_customer 3 [a6,a8] f0 w3 o0', 'sp-4': off(), 'sp-5': off() },
    waiting: [],
  });
  let ts = expectStatus(await srv.get(FLOOR.teamStatus));
  assert.deepEqual(ts.teamMembers.map((m) => [m.id, m.activeDeals, m.dealsToday]), [['sp-1', 2, 1], ['sp-2', 2, 0], ['sp-3', 2, 1], ['sp-4', 0, 0], ['sp-5', 0, 0]]);
  // Customers leave with each outcome.
  await left('a4', 'no_sale', 'sp-1');
  await left('a6', 'be_back', 'sp-3');
  await left('a5', 'appointment'); // no salespersonId: the answer says null
  await expectBoard('three left', {
    up: ['sp-2', 'sp-1', 'sp-3'],
    people: { 'sp-2': 'break 1 [a2] f0 w2 o0', 'sp-1': 'with_customer 2 [a7] f1 w3 o0', 'sp-3': 'with_customer 3 [a8] f1 w3 o0', 'sp-4': off(), 'sp-5': off() },
    waiting: [],
  });
  // sp-2 back from the break, still first up: the next walk-in is theirs.
  await status('sp-2', 'available');
  await walkInIs('a9', 9, 'sp-2');
  // The be-back a6 returns: to sp-3, who had them, although sp-1 is up first --
  // not a turn taken (docs/floor.md): sp-3 keeps their place and walkInsToday.
  await walkInIs('a6', 10, 'sp-3');
  await expectBoard('a be-back back', {
    up: ['sp-1', 'sp-3', 'sp-2'],
    people: { 'sp-1': 'with_customer 1 [a7] f1 w3 o0', 'sp-3': 'with_customer 2 [a6,a8] f0 w3 o0', 'sp-2': 'with_customer 3 [a2,a9] f0 w3 o0', 'sp-4': off(), 'sp-5': off() },
    waiting: [],
  });
  // A manager's override: not to someone clocked out; sp-4 clocks in and gets a9 from sp-2,
  // keeping the place at the back of the up order (an override is not a turn).
  checkError(assert, await srv.post(FLOOR.assign, { customerId: 'a9', salespersonId: 'sp-4' }, AD), 409, 'OFF_FLOOR', 'salespersonId');
  await clock(FLOOR.clockIn, 'sp-4');
  const ov = expectStatus(await srv.post(FLOOR.assign, { customerId: 'a9', salespersonId: 'sp-4' }, AD));
  checkDone(ov, 'assigned', { assignments: ['a9>sp-4*'], extra: ['customerId'] });
  await stream.waitFor((e) => e.event === 'customer-assigned' && e.data.customerId === 'a9' && e.data.override);
  await expectBoard('an override', {
    up: ['sp-1', 'sp-3', 'sp-2', 'sp-4'],
    people: { 'sp-1': 'with_customer 1 [a7] f1 w3 o0', 'sp-3': 'with_customer 2 [a6,a8] f0 w3 o0', 'sp-2': 'with_customer 3 [a2] f1 w3 o0', 'sp-4': 'with_customer 4 [a9*] f1 w0 o1', 'sp-5': off() },
    waiting: [],
  });
  // The afternoon rush: a10 to sp-1, a11 to sp-2, a12 to sp-4 (sp-3 is full), a13 waits.
  await walkInIs('a10', 11, 'sp-1');
  await walkInIs('a11', 12, 'sp-2');
  await walkInIs('a12', 13, 'sp-4');
  await walkInIs('a13', 14, null, 1);
  await expectBoard('the rush', {
    up: ['sp-3', 'sp-1', 'sp-2', 'sp-4'],
    people: { 'sp-3': 'with_customer 1 [a6,a8] f0 w3 o0', 'sp-1': 'with_customer 2 [a10,a7] f0 w4 o0', 'sp-2': 'with_customer 3 [a11,a2] f0 w4 o0', 'sp-4': 'with_customer 4 [a12,a9*] f0 w1 o1', 'sp-5': off() },
    waiting: ['a13'],
  });
  // sp-3 clocks out: a8 and a6 go back to the head of the line (their arrival order); a6 still returns to sp-3.
  await clock(FLOOR.clockOut, 'sp-3');
  await expectBoard('a clock-out with customers', {
    up: ['sp-1', 'sp-2', 'sp-4'],
    people: { 'sp-1': 'with_customer 1 [a10,a7] f0 w4 o0', 'sp-2': 'with_customer 2 [a11,a2] f0 w4 o0', 'sp-4': 'with_customer 3 [a12,a9*] f0 w1 o1', 'sp-3': off(3), 'sp-5': off() },
    waiting: ['a8', 'a6>sp-3', 'a13'],
  });
  // sp-5 clocks in and takes the first two of the line at once.
  await clock(FLOOR.clockIn, 'sp-5', ['a8>sp-5', 'a6>sp-5']);
  await expectBoard('a clock-in takes from the line', {
    up: ['sp-1', 'sp-2', 'sp-4', 'sp-5'],
    people: { 'sp-1': 'with_customer 1 [a10,a7] f0 w4 o0', 'sp-2': 'with_customer 2 [a11,a2] f0 w4 o0', 'sp-4': 'with_customer 3 [a12,a9*] f0 w1 o1', 'sp-5': 'with_customer 4 [a6,a8] f0 w2 o0', 'sp-3': off(3) },
    waiting: ['a13'],
  });
  // sp-1 clocks out: a7 and a10 back to the head of the line, ahead of a13.
  await clock(FLOOR.clockOut, 'sp-1');
  await expectBoard('another clock-out', {
    up: ['sp-2', 'sp-4', 'sp-5'],
    people: { 'sp-2': 'with_customer 1 [a11,a2] f0 w4 o0', 'sp-4': 'with_customer 2 [a12,a9*] f0 w1 o1', 'sp-5': 'with_customer 3 [a6,a8] f0 w2 o0', 'sp-1': off(4), 'sp-3': off(3) },
    waiting: ['a7', 'a10', 'a13'],
  });
  // a13 gives up waiting; a second end of the same visit is refused.
  await left('a13', 'no_sale');
  checkError(assert, await srv.post(FLOOR.left, { customerId: 'a13', outcome: 'no_sale' }), 409, 'VISIT_ENDED', 'customerId');
  // sp-2 sells to a2: a7 goes to sp-2.
  await deal('sp-2', 'a2', 'd-a2');
  await stream.waitFor((e) => e.event === 'customer-assigned' && e.data.customerId === 'a7' && e.data.salespersonId === 'sp-2');
  await status('sp-4', 'delivery');
  await status('sp-5', 'appointment');
  await expectBoard('a delivery and an appointment', {
    up: ['sp-4', 'sp-5', 'sp-2'],
    people: { 'sp-4': 'delivery 1 [a12,a9*] f0 w1 o1', 'sp-5': 'appointment 2 [a6,a8] f0 w2 o0', 'sp-2': 'with_customer 3 [a11,a7] f0 w5 o0', 'sp-1': off(4), 'sp-3': off(3) },
    waiting: ['a10'],
  });
  ts = expectStatus(await srv.get(FLOOR.teamStatus));
  assert.deepEqual(ts.teamMembers.map((m) => [m.id, m.activeDeals, m.dealsToday]), [['sp-1', 0, 1], ['sp-2', 2, 1], ['sp-3', 0, 1], ['sp-4', 2, 0], ['sp-5', 2, 0]]);
  // Closing time: everyone clocks out; every walk-in goes back to the desk.
  await clock(FLOOR.clockOut, 'sp-2');
  await clock(FLOOR.clockOut, 'sp-4');
  await clock(FLOOR.clockOut, 'sp-5');
  const night = await expectBoard('closing', {
    up: [],
    people: { 'sp-1': off(4), 'sp-2': off(5), 'sp-3': off(3), 'sp-4': off(1, 1), 'sp-5': off(2) },
    waiting: ['a7', 'a8', 'a9', 'a6>sp-3', 'a10', 'a11', 'a12'], // back at the desk in arrival order (docs/floor.md)
  });
  assert.equal(night.floorTracked, true);
  ts = expectStatus(await srv.get(FLOOR.teamStatus));
  assert.deepEqual(ts.teamMembers.map((m) => m.activeDeals), [0, 0, 0, 0, 0]);
  assert.equal(ts.coverage, 0, 'nobody on the floor: nobody can be ready');
  stream.close();
  await srv.stop();

  // The log tells the day: every floor event with its fields, in order.
  const log = await readLog(dir);
  const kinds = log.map((e) => e.type);
  for (const type of ['clock_in', 'clock_out', 'status', 'customer_left', 'override', 'deal_closed']) assert.ok(kinds.includes(type), type);
  // The start with --assignment up-rotation: the settings event comes first, before the team.
  assert.deepEqual(log.filter((e) => e.type === 'floor_settings').map(({ timeMs, ...r }) => r), [
    { seq: 1, type: 'floor_settings', floorTracking: 'auto', assignment: 'up-rotation', maxCustomers: 2, beBackToOriginal: true },
  ]);
  assert.deepEqual(floorLines(log).filter((e) => e.type !== 'floor_settings'), [
    ...['sp-1', 'sp-2', 'sp-3'].map((id) => ({ type: 'clock_in', salespersonId: id })),
    { type: 'status', salespersonId: 'sp-2', status: 'break' },
    { type: 'deal_closed', salespersonId: 'sp-1', dealId: 'd-a1', customerId: 'a1' },
    { type: 'customer_left', customerId: 'a4', outcome: 'no_sale', salespersonId: 'sp-1' },
    { type: 'customer_left', customerId: 'a6', outcome: 'be_back', salespersonId: 'sp-3' },
    { type: 'customer_left', customerId: 'a5', outcome: 'appointment', salespersonId: '' },
    { type: 'status', salespersonId: 'sp-2', status: 'available' },
    { type: 'clock_in', salespersonId: 'sp-4' },
    { type: 'override', customerId: 'a9', salespersonId: 'sp-4' },
    { type: 'clock_out', salespersonId: 'sp-3' },
    { type: 'clock_in', salespersonId: 'sp-5' },
    { type: 'clock_out', salespersonId: 'sp-1' },
    { type: 'customer_left', customerId: 'a13', outcome: 'no_sale', salespersonId: '' },
    { type: 'deal_closed', salespersonId: 'sp-2', dealId: 'd-a2', customerId: 'a2' },
    { type: 'status', salespersonId: 'sp-4', status: 'delivery' },
    { type: 'status', salespersonId: 'sp-5', status: 'appointment' },
    ...['sp-2', 'sp-4', 'sp-5'].map((id) => ({ type: 'clock_out', salespersonId: id })),
  ]);
  // The seed's events print as they always did: a deal without customerId has no such key.
  assert.deepEqual(
    log.filter((e) => e.type === 'deal_closed' && e.dealId === 'd-sp3').map(({ seq, timeMs, ...r }) => r),
    [{ type: 'deal_closed', salespersonId: 'sp-3', dealId: 'd-sp3' }],
  );
  assert.deepEqual(Object.keys(log.find((e) => e.type === 'analyze')), ['seq', 'timeMs', 'type', 'customerId']);
  assert.deepEqual(Object.keys(log.find((e) => e.type === 'add_salesperson')), ['seq', 'timeMs', 'type', 'id']);
  await verifyState(dir);
});

// ------------------------------------------------------------ the event stream

test('the event stream: customer-assigned for each walk-in handed out when a slot frees or by an override, floor-changed for each floor write', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { admin, srv } = await floorServer(t, { args: ['--assignment', 'up-rotation', '--max-customers', '1'] });
  const stream = await collectEvents(srv);
  assert.equal(stream.status, 200);
  const assigned = () => stream.events.filter((e) => e.event === 'customer-assigned').map((e) => `${e.data.customerId}>${e.data.salespersonId}${e.data.override ? '*' : ''}`);
  const checkAssigned = (e) => {
    assert.deepEqual(Object.keys(e.data).sort(), ['customerId', 'override', 'salespersonId', 'timestamp', 'waitSeconds']);
    assert.match(e.data.timestamp, ISO_RE);
    assert.ok(e.data.waitSeconds >= 0);
  };
  await clockIn(srv, ['sp-1']);
  const inEvent = await stream.waitFor((e) => e.event === 'floor-changed' && e.data.status === 'clocked-in');
  checkDone(inEvent.data, 'clocked-in');
  // Assigned at arrival: analyzed-customer says so; no customer-assigned.
  assert.deepEqual(await arrive(srv, ['e1', 'e2', 'e3']), ['sp-1', null, null]);
  const an = await stream.waitFor((e) => e.event === 'analyzed-customer' && e.data.customerId === 'e1');
  assert.equal(an.data.assignedTo, 'sp-1');
  await stream.waitFor((e) => e.event === 'analyzed-customer' && e.data.customerId === 'e3');
  assert.deepEqual(assigned(), []);
  // A customer leaves: the slot frees, e2 goes to sp-1.
  await srv.post(FLOOR.left, { customerId: 'e1', outcome: 'no_sale' });
  const e2 = await stream.waitFor((e) => e.event === 'customer-assigned' && e.data.customerId === 'e2');
  checkAssigned(e2);
  assert.deepEqual([e2.data.salespersonId, e2.data.override], ['sp-1', false]);
  const leftEvent = await stream.waitFor((e) => e.event === 'floor-changed' && e.data.status === 'recorded');
  checkDone(leftEvent.data, 'recorded', { assignments: ['e2>sp-1'], extra: ['customerId', 'outcome'] });
  // A clock-in: e3 to sp-2.
  checkDone(expectStatus(await srv.post(FLOOR.clockIn, { salespersonId: 'sp-2' })), 'clocked-in', { assignments: ['e3>sp-2'] });
  checkAssigned(await stream.waitFor((e) => e.event === 'customer-assigned' && e.data.customerId === 'e3' && e.data.salespersonId === 'sp-2'));
  // A break, the return from it: the line moves on the return.
  assert.deepEqual(await arrive(srv, ['e4']), [null]);
  expectStatus(await srv.post(FLOOR.status, { salespersonId: 'sp-1', status: 'break' }));
  expectStatus(await srv.post(FLOOR.deal, { salespersonId: 'sp-1', customerId: 'e2' })); // sold while on the break: no one free yet
  await stream.waitFor((e) => e.event === 'deal-closed' && e.data.customerId === 'e2');
  assert.deepEqual(assigned(), ['e2>sp-1', 'e3>sp-2']);
  expectStatus(await srv.post(FLOOR.status, { salespersonId: 'sp-1', status: 'available' }));
  checkAssigned(await stream.waitFor((e) => e.event === 'customer-assigned' && e.data.customerId === 'e4' && e.data.salespersonId === 'sp-1'));
  // A sale frees a slot: e5 to sp-2.
  assert.deepEqual(await arrive(srv, ['e5']), [null]);
  expectStatus(await srv.post(FLOOR.deal, { salespersonId: 'sp-2' }));
  checkAssigned(await stream.waitFor((e) => e.event === 'customer-assigned' && e.data.customerId === 'e5' && e.data.salespersonId === 'sp-2'));
  // An override, then the freed slot to the line: e6 waits, sp-1's e4 moves to sp-2, e6 to sp-1.
  assert.deepEqual(await arrive(srv, ['e6']), [null]);
  expectStatus(await srv.post(FLOOR.assign, { customerId: 'e4', salespersonId: 'sp-2' }, { token: admin }));
  checkAssigned(await stream.waitFor((e) => e.event === 'customer-assigned' && e.data.customerId === 'e6' && e.data.salespersonId === 'sp-1'));
  const assignEvent = await stream.waitFor((e) => e.event === 'floor-changed' && e.data.status === 'assigned');
  checkDone(assignEvent.data, 'assigned', { assignments: ['e4>sp-2*', 'e6>sp-1'], extra: ['customerId'] });
  // Removing a salesperson sends their walk-ins to the desk and on.
  expectStatus(await srv.post(FLOOR.status, { salespersonId: 'sp-1', status: 'break' }));
  await clockIn(srv, ['sp-3']);
  const rm = await srv.del(`${API}/salesperson/sp-2`, { token: admin });
  expectStatus(rm);
  checkAssigned(await stream.waitFor((e) => e.event === 'customer-assigned' && e.data.salespersonId === 'sp-3'));
  // A clock-out too.
  expectStatus(await srv.post(FLOOR.status, { salespersonId: 'sp-1', status: 'available' }));
  await srv.post(FLOOR.clockOut, { salespersonId: 'sp-3' });
  await stream.waitFor((e) => e.event === 'floor-changed' && e.data.status === 'clocked-out');
  const after = assigned();
  assert.deepEqual(after.slice(0, 6), ['e2>sp-1', 'e3>sp-2', 'e4>sp-1', 'e5>sp-2', 'e4>sp-2*', 'e6>sp-1']);
  assert.equal(after.length, 7, `sp-2's two walk-ins: one to sp-3, one waits; sp-3's back at the desk, nobody free: ${after}`);
  // floor-changed for each floor write: in, left, in, break, available, assign, break, in, available, out.
  assert.deepEqual(stream.events.filter((e) => e.event === 'floor-changed').map((e) => e.data.status),
    ['clocked-in', 'recorded', 'clocked-in', 'updated', 'updated', 'assigned', 'updated', 'clocked-in', 'updated', 'clocked-out']);
  // A walk-in sent without customerId is named in analyzed-customer as the answer and the
  // floor's events name it (walk-in-N), so a dashboard can follow it.
  const { customerId, ...anonymous } = customer(40);
  assert.equal(customerId, 'c-40');
  const anon = expectStatus(await srv.post(FLOOR.analyze, anonymous));
  assert.match(anon.customerId, /^walk-in-\d+$/);
  const anonEvent = await stream.waitFor((e) => e.event === 'analyzed-customer' && e.data.customerId !== null && !/^e\d+$/.test(e.data.customerId));
  assert.equal(anonEvent.data.customerId, anon.customerId);
  stream.close();
  await srv.stop();
});

// ------------------------------------------------------------ a second analysis

test('analyzing a walk-in still in the store again is not a new walk-in (its analysis is replaced, its place kept); after they left it is', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { srv } = await floorServer(t, { args: ['--assignment', 'up-rotation', '--max-customers', '1'] });
  await clockIn(srv, ['sp-1', 'sp-2']);
  assert.deepEqual(await arrive(srv, ['c-1', 'c-2', 'c-3', 'c-4']), ['sp-1', 'sp-2', null, null]);
  const before = stable(await getBoard(srv));
  const team = expectStatus(await srv.get(FLOOR.teamStatus));
  // With a salesperson: the same one, no new turn.
  const again = expectStatus(await srv.post(FLOOR.analyze, walkIn('c-1', 7)));
  checkTrackedAnalysis(again, { customerId: 'c-1', assignedTo: 'sp-1', queuePosition: null });
  // Waiting: the same place in the line.
  const waiting = expectStatus(await srv.post(FLOOR.analyze, walkIn('c-4', 8)));
  checkTrackedAnalysis(waiting, { customerId: 'c-4', assignedTo: null, queuePosition: 2 });
  // The new analysis replaces the walk-in's segment and priority (more may be
  // known now); its place, and everyone else's, stays.
  const after = stable(await getBoard(srv));
  const c4 = after.waiting.find((w) => w.customerId === 'c-4');
  assert.deepEqual([c4.clusterId, c4.priorityScore], [waiting.customerAnalysis.clusterId, waiting.customerAnalysis.priorityScore]);
  const place = (b) => ({ ...b, waiting: b.waiting.map(({ clusterId, clusterName, priorityScore, ...w }) => w) });
  assert.deepEqual(place(after), place(before), 'a second analysis moved someone on the floor');
  const team2 = expectStatus(await srv.get(FLOOR.teamStatus));
  assert.deepEqual(team2.teamMembers.map((m) => [m.activeDeals, m.leadsToday]), team.teamMembers.map((m) => [m.activeDeals, m.leadsToday]));
  // After c-1 left, c-1 is a new walk-in: sp-1 took c-3 meanwhile, so c-1 queues behind c-4.
  expectStatus(await srv.post(FLOOR.left, { customerId: 'c-1', outcome: 'no_sale' }));
  const back = expectStatus(await srv.post(FLOOR.analyze, walkIn('c-1', 9)));
  checkTrackedAnalysis(back, { customerId: 'c-1', assignedTo: null, queuePosition: 2 });
  assert.deepEqual(summary(await getBoard(srv)).waiting, ['c-4', 'c-1']);
  await srv.stop();
});

// ------------------------------------------------------------ restarts

test('the floor settings across restarts: the same settings log nothing new; a changed one applies at start and is a floor_settings event in the log', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const first = ['--assignment', 'up-rotation', '--max-customers', '3', '--be-back-to-original', 'false'];
  let srv = await h.start({ dataDir: dir, args: first });
  await addTeam(srv, admin, TEAM3);
  const settings = (b) => [b.floorTracking, b.assignment, b.maxCustomers];
  assert.deepEqual(settings(await getBoard(srv)), ['auto', 'up-rotation', 3]);
  await clockIn(srv, ['sp-1', 'sp-2']);
  assert.deepEqual(await arrive(srv, ['r1', 'r2', 'r3', 'r4']), ['sp-1', 'sp-2', 'sp-1', 'sp-2']);
  await srv.stop();
  const settingLines = async () => (await readLog(dir)).filter((e) => e.type === 'floor_settings').map(({ seq, timeMs, ...r }) => r);
  assert.deepEqual(await settingLines(), [{ type: 'floor_settings', floorTracking: 'auto', assignment: 'up-rotation', maxCustomers: 3, beBackToOriginal: false }]);

  // The same settings (from the environment this time): nothing new is logged, the floor is as it was.
  srv = await h.start({ dataDir: dir, env: { WHACO_ASSIGNMENT: 'up-rotation', WHACO_MAX_CUSTOMERS: '3', WHACO_BE_BACK_TO_ORIGINAL: 'false' } });
  const b1 = await getBoard(srv);
  assert.deepEqual(settings(b1), ['auto', 'up-rotation', 3]);
  assert.deepEqual(summary(b1).people, { 'sp-1': 'with_customer 1 [r1,r3] f1 w2 o0', 'sp-2': 'with_customer 2 [r2,r4] f1 w2 o0', 'sp-3': 'off - [] f0 w0 o0' });
  await srv.stop();
  assert.equal((await settingLines()).length, 1, 'a restart with the same settings logged a change');

  // max-customers lowered to 1 and least-busy: the walk-ins stay, nobody is free, the next waits.
  srv = await h.start({ dataDir: dir, args: [...first, '--max-customers', '1', '--assignment', 'least-busy'] });
  const b2 = await getBoard(srv);
  assert.deepEqual(settings(b2), ['auto', 'least-busy', 1]);
  assert.deepEqual(summary(b2).people, { 'sp-1': 'with_customer 1 [r1,r3] f0 w2 o0', 'sp-2': 'with_customer 2 [r2,r4] f0 w2 o0', 'sp-3': 'off - [] f0 w0 o0' });
  assert.deepEqual(await arrive(srv, ['r5']), [null]);
  expectStatus(await srv.post(FLOOR.left, { customerId: 'r1', outcome: 'no_sale' }));
  assert.deepEqual(summary(await getBoard(srv)).waiting, ['r5'], 'sp-1 still has r3: at max-customers 1 nobody is free');
  await srv.stop();
  assert.deepEqual((await settingLines()).slice(1), [{ type: 'floor_settings', floorTracking: 'auto', assignment: 'least-busy', maxCustomers: 1, beBackToOriginal: false }]);

  // floor-tracking off at a restart: the floor is forgotten, its endpoints refuse, the log says so.
  srv = await h.start({ dataDir: dir, args: ['--floor-tracking', 'off'] });
  const b3 = await getBoard(srv);
  assert.deepEqual([b3.floorTracked, ...settings(b3)], [false, 'off', 'network', 2]);
  assert.deepEqual(summary(b3), { up: [], people: { 'sp-1': 'off - [] f0 w2 o0', 'sp-2': 'off - [] f0 w2 o0', 'sp-3': 'off - [] f0 w0 o0' }, waiting: [] });
  assert.deepEqual(expectStatus(await srv.get(FLOOR.teamStatus)).teamMembers.map((m) => m.activeDeals), [0, 0, 0]);
  checkError(assert, await srv.post(FLOOR.clockIn, { salespersonId: 'sp-1' }), 409, 'FLOOR_OFF');
  await srv.stop();
  // And on again (the defaults: auto): tracked again from the first clock-in.
  srv = await h.start({ dataDir: dir });
  assert.deepEqual(settings(await getBoard(srv)), ['auto', 'network', 2]);
  assert.equal((await getBoard(srv)).floorTracked, false);
  expectStatus(await srv.post(FLOOR.clockIn, { salespersonId: 'sp-3' }));
  assert.equal((await getBoard(srv)).floorTracked, true);
  await srv.stop();
  assert.deepEqual((await settingLines()).slice(2).map((e) => e.floorTracking), ['off', 'auto']);
  const out = await verifyState(dir);
  assert.match(out, /start-up state: loads \(3 salespeople/);
});

/** Every read body of the floor, without what moves with the clock alone. */
async function floorBodies(srv) {
  const board = stable(await getBoard(srv));
  const team = expectStatus(await srv.get(FLOOR.teamStatus));
  const people = expectStatus(await srv.get(`${API}/salespeople`));
  return { board, team, people };
}

test('persistence: the floor (up order, the line, who is with whom, the be-backs) is identical after a graceful restart and after kill -9, and every acknowledged floor event is in the log', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const args = ['--assignment', 'up-rotation'];
  let srv = await h.start({ dataDir: dir, args });
  await addTeam(srv, admin, TEAM5);
  const acked = []; // the floor lines `whaco log` must show, in order
  const send = async (url, body, line, opts) => {
    expectStatus(await srv.post(url, body, opts));
    acked.push(line);
  };
  const clockInOut = (url, id) => send(url, { salespersonId: id }, { type: url === FLOOR.clockIn ? 'clock_in' : 'clock_out', salespersonId: id });
  for (const id of ['sp-4', 'sp-1', 'sp-3', 'sp-2']) await clockInOut(FLOOR.clockIn, id);
  assert.deepEqual(await arrive(srv, ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9', 'p10']), ['sp-4', 'sp-1', 'sp-3', 'sp-2', 'sp-4', 'sp-1', 'sp-3', 'sp-2', null, null]);
  await send(FLOOR.status, { salespersonId: 'sp-3', status: 'break' }, { type: 'status', salespersonId: 'sp-3', status: 'break' });
  await send(FLOOR.left, { customerId: 'p1', outcome: 'be_back', salespersonId: 'sp-4' }, { type: 'customer_left', customerId: 'p1', outcome: 'be_back', salespersonId: 'sp-4' });
  await send(FLOOR.assign, { customerId: 'p10', salespersonId: 'sp-3' }, { type: 'override', customerId: 'p10', salespersonId: 'sp-3' }, { token: admin });
  await send(FLOOR.deal, { salespersonId: 'sp-1', customerId: 'p6', dealId: 'pd-6' }, { type: 'deal_closed', salespersonId: 'sp-1', dealId: 'pd-6', customerId: 'p6' });
  // p9 went to sp-4 when p1 left; p6's sale freed sp-1: p11 goes there at once.
  assert.deepEqual(await arrive(srv, ['p11']), ['sp-1']);
  const before = await floorBodies(srv);
  assert.deepEqual(summary(before.board), {
    up: ['sp-3', 'sp-2', 'sp-4', 'sp-1'],
    people: {
      'sp-3': 'break 1 [p10*,p3,p7] f0 w2 o1',
      'sp-2': 'with_customer 2 [p4,p8] f0 w2 o0',
      'sp-4': 'with_customer 3 [p5,p9] f0 w3 o0',
      'sp-1': 'with_customer 4 [p11,p2] f0 w3 o0',
      'sp-5': 'off - [] f0 w0 o0',
    },
    waiting: [],
  });
  await srv.stop();
  srv = await h.start({ dataDir: dir, args });
  assert.deepEqual(await floorBodies(srv), before, 'after a graceful restart');

  // More floor events after the snapshot, then kill -9: the log's replay must agree.
  await send(FLOOR.status, { salespersonId: 'sp-3', status: 'available' }, { type: 'status', salespersonId: 'sp-3', status: 'available' });
  await send(FLOOR.left, { customerId: 'p2', outcome: 'appointment' }, { type: 'customer_left', customerId: 'p2', outcome: 'appointment', salespersonId: '' });
  await clockInOut(FLOOR.clockOut, 'sp-2'); // p4 to sp-1, p8 waits
  await clockInOut(FLOOR.clockIn, 'sp-5'); // p8 to sp-5
  await send(FLOOR.deal, { salespersonId: 'sp-4', dealId: 'pd-4' }, null); // sp-4's oldest, p5, bought
  assert.deepEqual(await arrive(srv, ['p12', 'p13', 'p14']), ['sp-4', 'sp-5', null]);
  const before2 = await floorBodies(srv);
  assert.deepEqual(summary(before2.board), {
    up: ['sp-3', 'sp-1', 'sp-4', 'sp-5'],
    people: {
      'sp-3': 'with_customer 1 [p10*,p3,p7] f0 w2 o1',
      'sp-1': 'with_customer 2 [p11,p4] f0 w4 o0',
      'sp-4': 'with_customer 3 [p12,p9] f0 w4 o0',
      'sp-5': 'with_customer 4 [p13,p8] f0 w2 o0',
      'sp-2': 'off - [] f0 w2 o0',
    },
    waiting: ['p14'],
  });
  await srv.kill9();
  srv = await h.start({ dataDir: dir, args });
  assert.deepEqual(await floorBodies(srv), before2, 'after kill -9');

  // The be-back is remembered across both: p14 moves to sp-4 when p9 leaves; then with
  // sp-1 up before sp-4 and both free, p1 returns to sp-4.
  await send(FLOOR.left, { customerId: 'p9', outcome: 'no_sale', salespersonId: 'sp-4' }, { type: 'customer_left', customerId: 'p9', outcome: 'no_sale', salespersonId: 'sp-4' });
  await send(FLOOR.left, { customerId: 'p14', outcome: 'no_sale', salespersonId: 'sp-4' }, { type: 'customer_left', customerId: 'p14', outcome: 'no_sale', salespersonId: 'sp-4' });
  await send(FLOOR.left, { customerId: 'p11', outcome: 'no_sale', salespersonId: 'sp-1' }, { type: 'customer_left', customerId: 'p11', outcome: 'no_sale', salespersonId: 'sp-1' });
  const b = await getBoard(srv);
  assert.deepEqual(summary(b).up, ['sp-3', 'sp-1', 'sp-5', 'sp-4']);
  assert.deepEqual([1, 2, 3].map((i) => b.salespeople[i].freeSlots), [1, 0, 1]);
  assert.deepEqual(await arrive(srv, ['p1']), ['sp-4']);
  await srv.kill9();

  const log = await readLog(dir);
  assert.deepEqual(floorLines(log).filter((e) => e.type !== 'floor_settings'), acked.filter(Boolean));
  await verifyState(dir);
});

test('a walk-in without customerId never gets the id of a walk-in in the store (a client may name its own "walk-in-N"), and the floor survives a restart', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  let srv = await h.start({ dataDir: dir, args: ['--floor-tracking', 'on'] });
  const { customerId, ...anonymous } = customer(1);
  assert.equal(customerId, 'c-1');
  const ids = [];
  for (const body of [anonymous, { ...customer(2), customerId: 'walk-in-3' }, { ...customer(3), customerId: 'walk-in-4' }, anonymous, anonymous]) {
    const a = expectStatus(await srv.post(FLOOR.analyze, body));
    checkTrackedAnalysis(a, { assignedTo: null });
    ids.push(a.customerId);
  }
  assert.deepEqual(ids.slice(0, 3), ['walk-in-1', 'walk-in-3', 'walk-in-4']);
  assert.equal(new Set(ids).size, 5, `duplicate walk-in ids: ${ids}`);
  const before = stable(await getBoard(srv));
  assert.deepEqual(before.waiting.map((w) => w.customerId), ids);
  await srv.stop();
  // The stop's snapshot must load as it is (no "unreadable", no fallback to an older one).
  srv = await h.start({ dataDir: dir, args: ['--floor-tracking', 'on'] });
  assert.ok(!/unreadable/.test(srv.stderr), srv.stderr);
  assert.deepEqual(stable(await getBoard(srv)), before);
  // Each is its own walk-in: ending one leaves the others.
  expectStatus(await srv.post(FLOOR.left, { customerId: 'walk-in-3', outcome: 'no_sale' }));
  assert.deepEqual((await getBoard(srv)).waiting.map((w) => w.customerId), ids.filter((x) => x !== 'walk-in-3'));
  await srv.stop();
  await verifyState(dir);
});

// ------------------------------------------------------------ resets

test('the daily reset (simulated midnight) zeroes walkInsToday and overridesToday and keeps the floor; POST reset empties it, keeping its settings', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const now = new Date();
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  const offset = midnight - Date.now() - 3000;
  const srv = await h.start({ dataDir: dir, args: ['--assignment', 'up-rotation', '--daily-reset', 'true', '--test-clock-offset', String(offset)] });
  await addTeam(srv, admin, TEAM3);
  await clockIn(srv, ['sp-1', 'sp-2']);
  assert.deepEqual(await arrive(srv, ['n1', 'n2', 'n3', 'n4', 'n5']), ['sp-1', 'sp-2', 'sp-1', 'sp-2', null]);
  expectStatus(await srv.post(FLOOR.assign, { customerId: 'n5', salespersonId: 'sp-1' }, { token: admin }));
  const want = (w1, o1, w2) => ({
    up: ['sp-1', 'sp-2'],
    people: { 'sp-1': `with_customer 1 [n1,n3,n5*] f0 w${w1} o${o1}`, 'sp-2': `with_customer 2 [n2,n4] f0 w${w2} o0`, 'sp-3': 'off - [] f0 w0 o0' },
    waiting: [],
  });
  const before = await getBoard(srv);
  assert.ok(Date.parse(before.timestamp) < midnight, `setup too slow: ${before.timestamp}`);
  assert.deepEqual(summary(before), want(2, 1, 2));
  let after = before;
  for (let i = 0; i < 100 && summary(after).people['sp-1'] !== want(0, 0, 0).people['sp-1']; i++) {
    await new Promise((r) => setTimeout(r, 100));
    after = await getBoard(srv);
  }
  assert.deepEqual(summary(after), want(0, 0, 0), 'the daily reset did not zero the day\'s counts');
  assert.ok(Date.parse(after.timestamp) >= midnight);
  // The rest of the board is as it was.
  const keep = (b) => stable({ ...b, salespeople: b.salespeople.map(({ walkInsToday, overridesToday, ...m }) => m) });
  assert.deepEqual(keep(after), keep(before));

  // POST reset: the team and the floor are emptied; the settings stay; under auto, untracked again.
  expectStatus(await srv.post(`${API}/reset`, undefined, { token: admin }));
  const b = await getBoard(srv);
  assert.deepEqual([b.floorTracked, b.floorTracking, b.assignment, b.maxCustomers, b.upOrder, b.salespeople, b.waiting], [false, 'auto', 'up-rotation', 2, [], [], []]);
  assert.equal(expectStatus(await srv.get(FLOOR.teamStatus)).floorTracked, false);
  checkError(assert, await srv.post(FLOOR.left, { customerId: 'n1', outcome: 'no_sale' }), 409, 'FLOOR_OFF');
  await srv.stop();
  await verifyState(dir);
});
