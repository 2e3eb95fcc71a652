// experiment.test.mjs: the A/B test of assignment rules through the API
// (include/whaco/experiment.h, docs/experiment.md) -- GET experiment off
// and on, its roles; the split recomputed here from the seed (splitmix64);
// each walk-in given out by its arm's rule; the counts, the close-rate
// interval recomputed here (Newcombe) and the verdict at its thresholds;
// an untracked floor; the setting across restarts and kill -9, `whaco log`
// and `whaco state verify`; settings the server refuses.
import assert from 'node:assert/strict';
import test from 'node:test';

import { API, ISO_RE, TEAM5, addTeam, checkError, customer, harness, runWhaco, TEST_TIMEOUT_MS } from './helpers.mjs';
import { FLOOR, armOf } from './floorkit.mjs';

const EXPERIMENT = `${API}/experiment`;
const RUNNING_KEYS = ['arms', 'difference', 'enabled', 'floorTracked', 'minimumEnded', 'seed', 'since', 'timestamp', 'verdict'];
const ARM_KEYS = ['assignment', 'closeRate', 'deals', 'ended', 'name', 'waitMeanMinutes', 'waitP95Minutes', 'walkIns'];

// ------------------------------------------------------------ helpers

/** A seed (from 1 up) whose walk-ins 0..want.length-1 go to the arms in want. */
function seedFor(want) {
  for (let seed = 1; ; seed++) if (want.every((a, n) => armOf(seed, n) === a)) return seed;
}

/** Wilson's 95% interval of x / n. */
function wilson(x, n) {
  const z = 1.959963984540054;
  const p = x / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Newcombe's hybrid score interval of pB - pA, in points. */
function newcombe(xb, nb, xa, na) {
  const pa = xa / na;
  const pb = xb / nb;
  const [la, ua] = wilson(xa, na);
  const [lb, ub] = wilson(xb, nb);
  const d = pb - pa;
  return [100 * d, 100 * (d - Math.hypot(pb - lb, ua - pa)), 100 * (d + Math.hypot(ub - pb, pa - la))];
}

/** GET experiment: status 200, JSON; the body. */
async function getExperiment(srv, opts) {
  const r = await srv.get(EXPERIMENT, opts);
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type') || '', /^application\/json/);
  return r.body;
}

/** A running experiment's answer: its keys and shapes; returns it. */
function checkRunning(x) {
  assert.deepEqual(Object.keys(x).sort(), RUNNING_KEYS, JSON.stringify(x));
  assert.equal(x.enabled, true);
  assert.match(x.since, ISO_RE);
  assert.match(x.timestamp, ISO_RE);
  assert.equal(x.minimumEnded, 30);
  assert.deepEqual(x.arms.map((a) => a.name), ['A', 'B']);
  for (const a of x.arms) {
    assert.deepEqual(Object.keys(a).sort(), ARM_KEYS, JSON.stringify(a));
    assert.ok(a.deals <= a.ended && a.ended <= a.walkIns, JSON.stringify(a));
    for (const k of ['closeRate', 'waitMeanMinutes', 'waitP95Minutes']) assert.equal(a[k] === null, a.ended === 0, `${k}: ${JSON.stringify(a)}`);
  }
  assert.deepEqual(Object.keys(x.difference).sort(), ['closeRatePoints', 'waitMeanMinutes']);
  return x;
}

async function ok(res) {
  assert.equal(res.status, 200, res.text);
  return res.body;
}

async function clockIn(srv, ids) {
  for (const id of ids) await ok(await srv.post(FLOOR.clockIn, { salespersonId: id }));
}

/** Walk-in id arrives; its answer. */
async function arrive(srv, id, i = 1) {
  return ok(await srv.post(FLOOR.analyze, { ...customer(i), customerId: id }));
}

async function readLog(dir) {
  const r = await runWhaco(['log', '--data', dir]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** A server with an admin token, the first n of TEAM5 clocked in; { srv, dir, admin }. */
async function floorServer(t, n, args, dataDir) {
  const h = harness(t);
  const dir = dataDir || (await h.tmpdir());
  const admin = await h.token(dir, 'admin');
  const srv = await h.start({ dataDir: dir, args });
  await addTeam(srv, admin, TEAM5.slice(0, n));
  await clockIn(srv, TEAM5.slice(0, n).map((m) => m.id));
  return { h, srv, dir, admin };
}

// ------------------------------------------------------------ tests

test('GET experiment with the setting off: {"enabled": false}; read role; GET only', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const read = await h.token(dir, 'read');
  let srv = await h.start({ dataDir: dir });
  assert.deepEqual(await getExperiment(srv), { enabled: false });
  checkError(assert, await srv.post(EXPERIMENT, {}), 405, 'METHOD_NOT_ALLOWED');
  await srv.stop();
  srv = await h.start({ dataDir: dir, args: ['--require-auth', 'true', '--experiment', 'up-rotation,network'] });
  checkError(assert, await srv.get(EXPERIMENT), 401, 'UNAUTHORIZED');
  const x = checkRunning(await getExperiment(srv, { token: read }));
  assert.deepEqual(x.arms.map((a) => a.assignment), ['up-rotation', 'network']);
  await srv.stop();
});

test('the split is the seed\'s: walk-ins per arm as splitmix64 says; outcomes, waits, the Newcombe interval and the verdict at 30 ended per arm', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const seed = 1795827749783;
  const { srv } = await floorServer(t, 3, ['--experiment', `up-rotation,least-busy,${seed}`]);
  let x = checkRunning(await getExperiment(srv));
  assert.equal(x.seed, seed);
  assert.equal(x.floorTracked, true);
  assert.equal(x.verdict, 'not enough data yet');
  assert.deepEqual(x.difference, { closeRatePoints: null, waitMeanMinutes: null });

  // One walk-in at a time, ended at once: arm B's all buy, arm A's all leave.
  const count = [0, 0];
  for (let n = 0; count[0] < 30 || count[1] < 30; n++) {
    const arm = armOf(seed, n);
    const id = `w-${n}`;
    const a = await arrive(srv, id, n + 1);
    assert.ok(a.assignedTo, JSON.stringify(a)); // nobody is busy: no wait
    if (arm === 1) await ok(await srv.post(FLOOR.deal, { salespersonId: a.assignedTo, customerId: id, dealId: `d-${n}` }));
    else await ok(await srv.post(FLOOR.left, { customerId: id, outcome: n % 2 ? 'no_sale' : 'be_back' }));
    count[arm]++;
    x = checkRunning(await getExperiment(srv));
    assert.deepEqual(x.arms.map((r) => r.walkIns), count, `walk-in ${n}`);
    assert.deepEqual(x.arms.map((r) => r.ended), count);
    assert.deepEqual(x.arms.map((r) => r.deals), [0, count[1]]);
    if (count[0] < 30 || count[1] < 30) assert.equal(x.verdict, 'not enough data yet', `walk-in ${n}`);
  }
  assert.deepEqual(x.arms.map((r) => r.closeRate), [0, 1]);
  assert.deepEqual(x.arms.map((r) => r.waitMeanMinutes), [0, 0]);
  assert.deepEqual(x.arms.map((r) => r.waitP95Minutes), [0, 0]);
  const [est, low, high] = newcombe(count[1], count[1], 0, count[0]);
  const d = x.difference.closeRatePoints;
  assert.equal(d.estimate, 100);
  assert.ok(Math.abs(d.low - low) < 1e-3 && Math.abs(d.high - high) < 1e-3, `${JSON.stringify(d)} vs ${[est, low, high]}`);
  assert.deepEqual(x.difference.waitMeanMinutes, { estimate: 0, low: 0, high: 0 });
  const f = (v) => `${v >= 0 ? '+' : ''}${v.toFixed(1)}`;
  assert.equal(x.verdict, `B closes more: +100.0 [${f(low)}, +100.0]`);

  // A walk-in still in the store counts as split, not as ended.
  const n = count[0] + count[1];
  await arrive(srv, 'w-last', 99);
  x = checkRunning(await getExperiment(srv));
  assert.equal(x.arms[armOf(seed, n)].walkIns, count[armOf(seed, n)] + 1);
  assert.equal(x.arms[armOf(seed, n)].ended, count[armOf(seed, n)]);
  await srv.stop();
});

test('each walk-in is given out by its arm\'s rule: up-rotation in A, least-busy in B', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  // sp-1, sp-2, sp-3 on the floor; w0 goes to sp-1 by either rule; a manager
  // moves it to sp-2 (no turn: sp-2 stays first up, now with a walk-in).
  // w1 then goes to sp-2 by up-rotation, to sp-3 by least-busy.
  for (const [arm, want] of [[0, 'sp-2'], [1, 'sp-3']]) {
    const seed = seedFor([0, arm]);
    const { srv, admin } = await floorServer(t, 3, ['--experiment', `up-rotation,least-busy,${seed}`]);
    assert.equal((await arrive(srv, 'w0', 1)).assignedTo, 'sp-1');
    await ok(await srv.post(FLOOR.assign, { customerId: 'w0', salespersonId: 'sp-2' }, { token: admin }));
    assert.equal((await arrive(srv, 'w1', 2)).assignedTo, want, `w1 in arm ${'AB'[arm]}`);
    const x = checkRunning(await getExperiment(srv));
    assert.deepEqual(x.arms.map((a) => a.walkIns), arm ? [1, 1] : [2, 0]);
    await srv.stop();
  }
});

test('waits count from arrival to the first salesperson, or to leaving; per arm', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  // One salesperson, one walk-in at a time: w1 and w2 wait for w0.
  const seed = seedFor([0, 1, 1]);
  const { srv } = await floorServer(t, 1, ['--experiment', `network,up-rotation,${seed}`, '--max-customers', '1']);
  await arrive(srv, 'w0', 1);
  assert.equal((await arrive(srv, 'w1', 2)).queuePosition, 1);
  assert.equal((await arrive(srv, 'w2', 3)).queuePosition, 2);
  await ok(await srv.post(FLOOR.left, { customerId: 'w2', outcome: 'no_sale' })); // gave up, waiting
  await ok(await srv.post(FLOOR.deal, { salespersonId: 'sp-1', customerId: 'w0' })); // w1's turn
  await ok(await srv.post(FLOOR.left, { customerId: 'w1', outcome: 'no_sale', salespersonId: 'sp-1' }));
  const x = checkRunning(await getExperiment(srv));
  const [a, b] = x.arms;
  assert.deepEqual([a.walkIns, a.ended, a.deals, a.closeRate, a.waitMeanMinutes], [1, 1, 1, 1, 0]);
  assert.deepEqual([b.walkIns, b.ended, b.deals, b.closeRate], [2, 2, 0, 0]);
  assert.ok(b.waitMeanMinutes > 0 && b.waitMeanMinutes < 1, JSON.stringify(b)); // milliseconds here
  // Both waits are in the (0, 1] minute bin: its upper edge, but never above the longest wait.
  assert.ok(b.waitP95Minutes >= b.waitMeanMinutes && b.waitP95Minutes < 1, JSON.stringify(b));
  assert.deepEqual(x.difference.closeRatePoints.estimate, -100);
  assert.equal(x.difference.waitMeanMinutes, null, 'A has one ended walk-in: no variance');
  await srv.stop();
});

test('an untracked floor is not split: enabled, floorTracked false, no walk-ins', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const srv = await h.start({ dataDir: dir, args: ['--experiment', 'up-rotation,network'] });
  await addTeam(srv, admin, TEAM5.slice(0, 2));
  const a = await arrive(srv, 'u-1');
  assert.ok(a.assignedTo); // the seed's assignment at arrival
  let x = checkRunning(await getExperiment(srv));
  assert.equal(x.floorTracked, false);
  assert.deepEqual(x.arms.map((r) => r.walkIns), [0, 0]);
  await clockIn(srv, ['sp-1']);
  await arrive(srv, 'u-2');
  x = checkRunning(await getExperiment(srv));
  assert.equal(x.floorTracked, true);
  assert.equal(x.arms[0].walkIns + x.arms[1].walkIns, 1);
  await srv.stop();
});

test('the experiment across restarts and kill -9: the same setting goes on with its seed and counts; new rules start afresh; off ends it; the log and verify', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { h, srv: first, dir } = await floorServer(t, 2, ['--experiment', 'up-rotation,network']);
  let srv = first;
  for (let i = 0; i < 6; i++) await arrive(srv, `r-${i}`, i + 1);
  await ok(await srv.post(FLOOR.left, { customerId: 'r-0', outcome: 'no_sale' }));
  const before = checkRunning(await getExperiment(srv));
  assert.ok(before.seed > 1.7e12, `seeded with the start's time: ${before.seed}`);
  const started = Date.parse(before.since);
  assert.ok(Math.abs(before.seed - started) < 1000, `${before.seed} vs ${before.since}`);
  const arms = before.arms.map((a) => a.walkIns);
  assert.deepEqual(arms, [0, 1].map((k) => [0, 1, 2, 3, 4, 5].filter((n) => armOf(before.seed, n) === k).length));
  await srv.stop();

  // The same setting: nothing new, the same experiment (and after kill -9, the same again).
  srv = await h.start({ dataDir: dir, env: { WHACO_EXPERIMENT: 'up-rotation,network' } });
  const same = (x) => ({ ...x, timestamp: null });
  assert.deepEqual(same(await getExperiment(srv)), same(before));
  await arrive(srv, 'r-6', 7);
  const after6 = checkRunning(await getExperiment(srv));
  assert.equal(after6.arms[armOf(before.seed, 6)].walkIns, arms[armOf(before.seed, 6)] + 1);
  await srv.kill9();
  srv = await h.start({ dataDir: dir, args: ['--experiment', 'up-rotation,network'] });
  assert.deepEqual(same(await getExperiment(srv)), same(after6));
  await srv.stop();

  // Other rules: a new experiment, counts from zero, its own seed.
  srv = await h.start({ dataDir: dir, args: ['--experiment', 'least-busy,network,77'] });
  const fresh = checkRunning(await getExperiment(srv));
  assert.equal(fresh.seed, 77);
  assert.deepEqual(fresh.arms.map((a) => [a.assignment, a.walkIns, a.ended]), [['least-busy', 0, 0], ['network', 0, 0]]);
  assert.ok(Date.parse(fresh.since) > started);
  // The walk-ins of the old experiment still in the store count in neither arm when they end.
  await ok(await srv.post(FLOOR.left, { customerId: 'r-1', outcome: 'no_sale' }));
  assert.deepEqual(checkRunning(await getExperiment(srv)).arms.map((a) => a.ended), [0, 0]);
  await srv.stop();

  // Off: nothing runs any more.
  srv = await h.start({ dataDir: dir });
  assert.deepEqual(await getExperiment(srv), { enabled: false });
  await srv.stop();

  const log = (await readLog(dir)).filter((e) => e.type === 'experiment_settings').map(({ seq, timeMs, ...r }) => r);
  assert.deepEqual(log, [
    { type: 'experiment_settings', enabled: true, assignmentA: 'up-rotation', assignmentB: 'network', seed: before.seed },
    { type: 'experiment_settings', enabled: true, assignmentA: 'least-busy', assignmentB: 'network', seed: 77 },
    { type: 'experiment_settings', enabled: false },
  ]);
  const v = await runWhaco(['state', 'verify', '--data', dir]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /state equals a full replay of the log: yes/);
});

test('a setting the server cannot run is refused at start, naming experiment and what is allowed', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  for (const [value, says] of [
    ['network,network', /experiment = 'network,network': the rules A and B must differ \(network twice\)/],
    ['network', /experiment = 'network': expected off, or two different rules A,B/],
    ['up-rotation,fastest', /experiment = 'up-rotation,fastest': expected off, or two different rules A,B from network, up-rotation, round-robin, least-busy/],
    ['up-rotation,network,0', /experiment = 'up-rotation,network,0': .*SEED \(1 to 9007199254740991\)/],
  ]) {
    const dir = await h.tmpdir();
    const r = await h.startExpectingFailure(dir, { args: ['--experiment', value] });
    assert.equal(r.running, false, `${value}: started`);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, says);
  }
  const dir = await h.tmpdir();
  const r = await h.startExpectingFailure(dir, { env: { WHACO_EXPERIMENT: 'a,b' } });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /WHACO_EXPERIMENT: experiment = 'a,b'/);
});
