// crashloop.mjs: kill whaco at random moments under write load, again and
// again, and check that nothing acknowledged is lost and the state always
// equals a replay of the log (issue #7, "Crash loop"). `make crashloop`.
//
//   node tests/crash/crashloop.mjs [--iterations 50] [--sync full|normal]
//        [--powerloss] [--clients 8] [--rate 0] [--bin build/whaco]
//        [--sync-interval-ms 1000] [--keep]
//
// One data directory for the whole run. Per iteration: start `whaco serve`
// on 127.0.0.1:0 (snapshot every 2 s and a network tick every 1 s, so kills
// also land in snapshots and ticks), run N clients sending analyze-customer
// (a unique customerId each) and deal-closed (a unique dealId each), and one
// admin client adding a salesperson with a fresh id and removing it again,
// over and over (so kills land in team changes too), and the sales floor's
// events: the floor is tracked (two of the team clock in before the first
// kill); each analysed walk-in is then ended by its client, with
// customer-left (an outcome of no_sale, be_back, appointment) or
// deal-closed naming it (customerId, to the salesperson it was assigned
// to); one floor client clocks the team in and out and sets their status
// (available, break, delivery, appointment); and each iteration begins by
// ending the walk-ins a kill left in the store (so it never fills). A
// floor write refused for a race of the load (409 VISIT_ENDED: a deal
// without customerId ended that walk-in first; WRONG_SALESPERSON: a
// clock-out sent it back to the desk) is not acknowledged, and is no
// failure. SIGKILL the server after a uniform 0.2-3 s, then:
//   - with --powerloss, roll the data files back to their last fsync first
//     (tests/crash/powerloss.c: the server ran with the shim preloaded);
//   - `whaco log`: every acknowledged (2xx) id must be in the log, and every
//     id seen in the log before must still be there; a floor event without
//     an id of its own (clock-in, clock-out, status) must be there with its
//     salesperson, its status and the time its answer gave, as many times
//     as it was acknowledged;
//   - `whaco state verify`: the start-up state must equal a full replay of
//     the log (retention stays 30 days, so compaction deletes no event and
//     the full replay is always possible; the harness fails if verify says
//     "not checked");
//   - the next iteration's start must succeed (and a last start after the
//     loop).
// A lost acknowledged event is a failure under --sync full. Under --sync
// normal with --powerloss the lost ones must all have been acknowledged
// within the window before the kill: the sync interval plus a slack for
// the fsync itself and one engine round (SLACK_MS); the report gives the
// largest age seen. --rate R paces the clients to R requests a second in
// all (0: as fast as they go): at a dealership's pace SQLite's own
// checkpoints (every 1000 WAL pages, which fsync) are minutes apart and only
// the sync interval bounds the loss; flat out they come every second or so.
// Exit 0 if every check held, 1 otherwise.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { API, TEAM5, call, customer, runTool, sleep, startServer } from '../api/helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SLACK_MS = 500;
const KILL_MIN_MS = 200;
const KILL_MAX_MS = 3000;

function parseArgs(argv) {
  const o = {
    iterations: Number(process.env.ITER || 50),
    sync: process.env.SYNC || 'full',
    powerloss: !!process.env.POWERLOSS && process.env.POWERLOSS !== '0',
    clients: 8,
    rate: Number(process.env.RATE || 0),
    bin: process.env.WHACO_BIN || path.resolve(here, '../../build/whaco'),
    syncIntervalMs: 1000,
    keep: false,
  };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--iterations') o.iterations = Number(v());
    else if (a === '--sync') o.sync = v();
    else if (a === '--powerloss') o.powerloss = true;
    else if (a === '--clients') o.clients = Number(v());
    else if (a === '--rate') o.rate = Number(v());
    else if (a === '--bin') o.bin = path.resolve(v());
    else if (a === '--sync-interval-ms') o.syncIntervalMs = Number(v());
    else if (a === '--keep') o.keep = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!(o.iterations >= 1) || !['full', 'normal'].includes(o.sync) || !(o.clients >= 1) || !(o.rate >= 0)) {
    throw new Error('usage: crashloop.mjs [--iterations N] [--sync full|normal] [--powerloss] [--clients N] [--rate R]');
  }
  o.shim = path.join(path.dirname(o.bin), 'libpowerloss.so');
  o.revert = path.join(path.dirname(o.bin), 'powerloss_revert');
  return o;
}

/** Start `whaco serve` (the shared harness); resolves to a Server once /healthz is 200. */
function startWhaco(o, dataDir, undoLog) {
  const env = o.powerloss
    ? { LD_PRELOAD: o.shim, WHACO_POWERLOSS_DIR: dataDir, WHACO_POWERLOSS_LOG: undoLog }
    : undefined;
  const args = ['--sync', o.sync, '--sync-interval', `${o.syncIntervalMs}ms`,
    '--snapshot-interval', '2s', '--tick-interval', '1s'];
  return startServer(dataDir, { bin: o.bin, env, args, timeoutMs: 15_000 });
}

/** The key of a floor event that has no id of its own: what it says and its time. */
const floorMatch = (type, salespersonId, status, timeMs) => `${type}|${salespersonId}|${status ?? ''}|${timeMs}`;

/**
 * Read the log: keys, a Map of key ('c:ID' / 'd:ID' / 'sp:ID' / 'rm:ID';
 * 'dc:DEAL|CUSTOMER' for a deal naming its walk-in, 'l:CUSTOMER|OUTCOME' for
 * customer-left; 'f:SEQ|...' for each clock-in, clock-out and status, so
 * that one vanishing or changing is seen) -> seq; and floor, a Map of
 * floorMatch -> how many such events the log holds.
 */
async function readLog(o, dataDir) {
  const r = await runTool(o.bin, ['log', '--data', dataDir]);
  if (r.code !== 0) throw new Error(`whaco log failed (${r.code}): ${r.stderr}`);
  const keys = new Map();
  const floor = new Map();
  let events = 0;
  for (const line of r.stdout.split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line);
    events++;
    if (e.type === 'analyze') keys.set(`c:${e.customerId}`, e.seq);
    else if (e.type === 'deal_closed') {
      keys.set(`d:${e.dealId}`, e.seq);
      if (e.customerId) keys.set(`dc:${e.dealId}|${e.customerId}`, e.seq);
    } else if (e.type === 'add_salesperson') keys.set(`sp:${e.id}`, e.seq);
    else if (e.type === 'remove_salesperson') keys.set(`rm:${e.id}`, e.seq);
    else if (e.type === 'customer_left') keys.set(`l:${e.customerId}|${e.outcome}`, e.seq);
    else if (e.type === 'clock_in' || e.type === 'clock_out' || e.type === 'status') {
      const m = floorMatch(e.type, e.salespersonId, e.status, e.timeMs);
      keys.set(`f:${e.seq}|${m}`, e.seq);
      floor.set(m, (floor.get(m) || 0) + 1);
    }
  }
  return { keys, floor, events };
}

const OUTCOMES = ['no_sale', 'be_back', 'appointment'];
const STATUSES = ['available', 'break', 'delivery', 'appointment'];
/** The refusals a floor write may get from a race of the load (see the top). */
const RACES = new Set(['VISIT_ENDED', 'WRONG_SALESPERSON']);

/**
 * The load: o.clients loops, each sending analyze-customer (70%) -- then
 * ending that walk-in with deal-closed naming it (half of those assigned)
 * or customer-left -- or deal-closed (30%) with fresh ids until stopped;
 * one admin loop adding salesperson tmp-itI-K and then removing it; one
 * floor loop clocking TEAM5 in and out and setting statuses (onFloor: who
 * it knows to be clocked in). Every request is recorded in `ops` (key ->
 * {sentAt, ackAt|null, status, match?}: match, for a floor event without an
 * id of its own, is its floorMatch once acknowledged); an answer other than
 * 2xx (or a floor race's 409) before the kill goes into `unexpected`.
 */
function startLoad(o, base, iter, ops, unexpected, token, onFloor) {
  let stopped = false;
  let n = 0;
  const loops = [];
  /**
   * Send one request recorded under key; the answer's body if it was
   * acknowledged, else null. floor: {type, salespersonId, status} of a floor
   * event without an id of its own (its floorMatch is set from the answer's
   * timestamp); races: refusals that are no failure.
   */
  const send = async (key, path, req, { floor, races } = {}) => {
    const op = { sentAt: Date.now(), ackAt: null, status: 0 };
    ops.set(key, op);
    try {
      const r = await call(base, req.method || 'POST', path, req);
      op.status = r.status;
      if (r.status >= 200 && r.status < 300) {
        op.ackAt = Date.now();
        if (floor) op.match = floorMatch(floor.type, floor.salespersonId, floor.status, Date.parse(r.body.timestamp));
        return r.body;
      }
      if (races && r.status === 409 && races.has(r.body?.error?.code)) {
        op.race = true;
        return null;
      }
      if (!stopped) unexpected.push(`${key}: unexpected ${r.status} ${r.text}`);
    } catch (e) {
      if (!stopped) throw e;
    }
    return null;
  };
  const gapMs = o.rate > 0 ? (o.clients * 1000) / o.rate : 0; // per loop
  loops.push((async () => {
    // Paced like one more client, so team changes stay a ninth of the load.
    for (let k = 0; !stopped; k++) {
      const id = `tmp-it${iter}-${k}`;
      const member = { id, name: `Temp ${k}`, skillLevel: 0.5 };
      if (gapMs) await sleep(gapMs);
      if (stopped || !(await send(`sp:${id}`, `${API}/add-salesperson`, { json: member, token }))) break;
      if (gapMs) await sleep(gapMs);
      if (stopped) break;
      await send(`rm:${id}`, `${API}/salesperson/${id}`, { method: 'DELETE', token });
    }
  })());
  for (let c = 0; c < o.clients; c++) {
    loops.push((async () => {
      let nextAt = Date.now() + Math.random() * gapMs;
      while (!stopped) {
        if (gapMs) {
          await sleep(Math.max(0, nextAt - Date.now()));
          nextAt += gapMs;
          if (stopped) break;
        }
        const i = n++;
        if (Math.random() < 0.3) {
          await send(`d:it${iter}-d${i}`, `${API}/deal-closed`, {
            json: { salespersonId: TEAM5[i % TEAM5.length].id, dealId: `it${iter}-d${i}` },
          });
        } else {
          const customerId = `it${iter}-c${i}`;
          const a = await send(`c:${customerId}`, `${API}/analyze-customer`, {
            json: { ...customer(iter * 100_000 + i), customerId },
          });
          if (!a || stopped) continue;
          // The walk-in ends: a sale to whom it was assigned, or it leaves.
          if (a.assignedTo && Math.random() < 0.5) {
            const dealId = `it${iter}-dc${i}`;
            const sold = await send(`dc:${dealId}|${customerId}`, `${API}/deal-closed`, {
              json: { salespersonId: a.assignedTo, customerId, dealId },
            }, { races: RACES });
            if (sold || stopped) continue;
          }
          const outcome = OUTCOMES[i % OUTCOMES.length];
          await send(`l:${customerId}|${outcome}`, `${API}/customer-left`, { json: { customerId, outcome } }, { races: RACES });
        }
      }
    })());
  }
  // The floor: clock in whoever is off, clock out (keeping two on the
  // floor), set a status; paced like one more client.
  loops.push((async () => {
    for (let k = 0; !stopped; k++) {
      if (gapMs) await sleep(gapMs);
      if (stopped) break;
      const m = TEAM5[Math.floor(Math.random() * TEAM5.length)].id;
      const roll = Math.random();
      if (!onFloor.has(m)) {
        if (await send(`fl:${iter}:${k}`, `${API}/clock-in`, { json: { salespersonId: m } }, { floor: { type: 'clock_in', salespersonId: m } })) onFloor.add(m);
      } else if (roll < 0.3 && onFloor.size > 2) {
        if (await send(`fl:${iter}:${k}`, `${API}/clock-out`, { json: { salespersonId: m } }, { floor: { type: 'clock_out', salespersonId: m } })) onFloor.delete(m);
      } else {
        const status = STATUSES[k % STATUSES.length];
        await send(`fl:${iter}:${k}`, `${API}/salesperson-status`, { json: { salespersonId: m, status } }, { floor: { type: 'status', salespersonId: m, status } });
      }
    }
  })());
  return {
    stop() { stopped = true; },
    done: Promise.allSettled(loops),
  };
}

async function main() {
  const o = parseArgs(process.argv);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'whaco-crash-'));
  const undoLog = `${dataDir}.undo`;
  const label = `sync ${o.sync}${o.powerloss ? ' + simulated power loss' : ', kill -9'}`;
  const pace = o.rate > 0 ? `${o.rate} requests/s` : 'unpaced';
  console.log(`crashloop: ${o.iterations} iterations, ${label}, ${o.clients} clients (${pace}), ${o.bin}`);
  const t0 = Date.now();
  const totals = { acked: 0, ackedTeam: 0, ackedSeats: 0, ackedEnds: 0, floorRaces: 0, cleanedUp: 0, lost: 0, lostOutsideWindow: 0,
    unackedPresent: 0, unacked: 0, verifyFailed: 0, vanished: 0, maxLostAgeMs: 0, killMs: [], iterMs: [] };
  const failures = [];
  const seen = new Map(); // key -> seq, everything confirmed in the log so far
  let srv;
  try {
    // The team, once, made durable before the first kill.
    const token = (await runTool(o.bin, ['token', 'create', '--role', 'admin', '--data', dataDir])).stdout.trim();
    srv = await startWhaco(o, dataDir, undoLog);
    const team = new Map(); // 'sp:ID' -> ack time
    for (const m of TEAM5) {
      const r = await call(srv.base, 'POST', `${API}/add-salesperson`, { json: m, token });
      if (r.status !== 201) throw new Error(`add-salesperson ${m.id}: ${r.status} ${r.text}`);
      team.set(`sp:${m.id}`, Date.now());
    }
    // Two clock in: the floor is tracked from here on (floor-tracking auto).
    const setupFloor = []; // floorMatch of each acknowledged setup clock-in
    for (const m of TEAM5.slice(0, 2)) {
      const r = await call(srv.base, 'POST', `${API}/clock-in`, { json: { salespersonId: m.id } });
      if (r.status !== 200) throw new Error(`clock-in ${m.id}: ${r.status} ${r.text}`);
      setupFloor.push(floorMatch('clock_in', m.id, undefined, Date.parse(r.body.timestamp)));
    }
    // Under sync normal, let the sync interval pass so the team is durable.
    await sleep(o.syncIntervalMs + SLACK_MS);

    for (let iter = 1; iter <= o.iterations; iter++) {
      const ti = Date.now();
      if (!srv) srv = await startWhaco(o, dataDir, undoLog);
      const ops = new Map();
      const unexpected = [];
      // The floor as the kill left it: who is clocked in; the walk-ins left in the store leave.
      const board = await call(srv.base, 'GET', `${API}/up-board`);
      if (board.status !== 200 || !board.body.floorTracked) throw new Error(`up-board: ${board.status} ${board.text}`);
      const onFloor = new Set(board.body.upOrder);
      const open = [...board.body.salespeople.flatMap((m) => m.customers), ...board.body.waiting].map((c) => c.customerId);
      for (const customerId of open) {
        const key = `l:${customerId}|appointment`;
        const op = { sentAt: Date.now(), ackAt: null, status: 0 };
        ops.set(key, op);
        const r = await call(srv.base, 'POST', `${API}/customer-left`, { json: { customerId, outcome: 'appointment' } });
        op.status = r.status;
        if (r.status !== 200) throw new Error(`customer-left ${customerId} (clean-up): ${r.status} ${r.text}`);
        op.ackAt = Date.now();
        totals.cleanedUp++;
      }
      const load = startLoad(o, srv.base, iter, ops, unexpected, token, onFloor);
      const killAfter = KILL_MIN_MS + Math.random() * (KILL_MAX_MS - KILL_MIN_MS);
      let loadError = null;
      await Promise.race([sleep(killAfter), load.done.then((rs) => {
        const bad = rs.find((x) => x.status === 'rejected');
        if (bad) loadError = bad.reason;
      })]);
      const killAt = Date.now();
      srv.proc.kill('SIGKILL');
      load.stop();
      const ex = await srv.exited;
      await load.done;
      if (loadError) throw loadError;
      if (ex.signal !== 'SIGKILL') throw new Error(`server ended on its own (${JSON.stringify(ex)}):\n${srv.stderr}`);
      srv = null;
      totals.killMs.push(killAt - ti);
      for (const u of unexpected.slice(0, 3)) failures.push(`iteration ${iter}: ${u}`);

      if (o.powerloss) {
        const r = await runTool(o.revert, [undoLog]);
        if (r.code !== 0) throw new Error(`powerloss_revert failed: ${r.stderr}`);
        await rm(undoLog, { force: true });
      }

      const { keys, floor } = await readLog(o, dataDir);
      /** Whether the log holds one more floor event matching m (each counts once). */
      const takeFloor = (m) => {
        const n = floor.get(m) || 0;
        if (n > 0) floor.set(m, n - 1);
        return n > 0;
      };
      for (const m of setupFloor) {
        if (!takeFloor(m)) {
          totals.lost++;
          totals.lostOutsideWindow++;
          failures.push(`iteration ${iter}: the setup's acknowledged ${m} lost`);
        }
      }
      for (const [k, ackAt] of team) {
        if (!keys.has(k)) {
          totals.lost++;
          totals.lostOutsideWindow++;
          failures.push(`iteration ${iter}: acknowledged ${k} lost (acknowledged ${killAt - ackAt} ms before the kill)`);
          team.delete(k);
        }
      }
      // Nothing that was in the log before may disappear.
      for (const [k, seq] of seen) {
        if (keys.get(k) !== seq) {
          totals.vanished++;
          failures.push(`iteration ${iter}: ${k} (seq ${seq}) was in the log and is gone`);
        }
      }
      for (const [k, op] of ops) {
        if (op.race) {
          totals.floorRaces++; // refused, as it may be: neither acknowledged nor in doubt
          continue;
        }
        const floorOp = k.startsWith('fl:');
        const present = floorOp ? (op.match ? takeFloor(op.match) : undefined) : keys.has(k);
        if (op.ackAt !== null) {
          totals.acked++;
          if (/^(sp|rm):/.test(k)) totals.ackedTeam++;
          if (floorOp) totals.ackedSeats++;
          if (/^(l|dc):/.test(k)) totals.ackedEnds++;
          if (!present) {
            totals.lost++;
            const age = killAt - op.ackAt;
            totals.maxLostAgeMs = Math.max(totals.maxLostAgeMs, age);
            const allowed = o.sync === 'normal' && o.powerloss && age <= o.syncIntervalMs + SLACK_MS;
            if (!allowed) {
              totals.lostOutsideWindow++;
              failures.push(`iteration ${iter}: acknowledged ${k} lost (acknowledged ${age} ms before the kill)`);
            }
          }
        } else {
          totals.unacked++;
          if (present) totals.unackedPresent++;
        }
      }
      for (const [k, seq] of keys) seen.set(k, seq);

      const v = await runTool(o.bin, ['state', 'verify', '--data', dataDir]);
      if (v.code !== 0 || !v.stdout.includes('state equals a full replay of the log: yes')) {
        totals.verifyFailed++;
        failures.push(`iteration ${iter}: state verify (${v.code}):\n${v.stdout}${v.stderr}`);
      }
      totals.iterMs.push(Date.now() - ti);
      if (failures.length > 20) break;
    }
    // (c) for the last kill too: the server starts, answers, and stops cleanly.
    srv = await startWhaco(o, dataDir, undoLog);
    srv.proc.kill('SIGTERM');
    const ex = await srv.exited;
    if (ex.code !== 0) failures.push(`final graceful stop: ${JSON.stringify(ex)}\n${srv.stderr}`);
    srv = null;
    const v = await runTool(o.bin, ['state', 'verify', '--data', dataDir]);
    if (v.code !== 0 || !v.stdout.includes('state equals a full replay of the log: yes')) {
      failures.push(`after the final stop: state verify:\n${v.stdout}${v.stderr}`);
    }
    const { events } = await readLog(o, dataDir);
    totals.events = events;
  } finally {
    if (srv) {
      srv.proc.kill('SIGKILL');
      await srv.exited;
    }
    if (!o.keep) {
      await rm(dataDir, { recursive: true, force: true });
      await rm(undoLog, { force: true });
    } else {
      console.log(`crashloop: data kept in ${dataDir}`);
    }
  }

  const secs = (Date.now() - t0) / 1000;
  const mean = (a) => a.reduce((x, y) => x + y, 0) / (a.length || 1);
  console.log(`crashloop: ${label}, ${o.clients} clients (${pace})`);
  console.log(`  iterations:                          ${totals.iterMs.length}`);
  console.log(`  acknowledged events:                 ${totals.acked} (${totals.ackedTeam} of them salespeople added or removed)`);
  console.log(`    floor: clock-in, clock-out, status ${totals.ackedSeats}; walk-ins ended ${totals.ackedEnds} (customer-left, deal-closed naming one; ${totals.cleanedUp} left by a kill)`);
  console.log(`  floor writes refused by a race:      ${totals.floorRaces} (409 VISIT_ENDED or WRONG_SALESPERSON)`);
  console.log(`  acknowledged events lost:            ${totals.lost}`);
  if (o.sync === 'normal' && o.powerloss) {
    console.log(`    of which outside the window:       ${totals.lostOutsideWindow} (window ${o.syncIntervalMs} ms sync interval + ${SLACK_MS} ms slack)`);
    console.log(`    largest age at the kill:           ${totals.maxLostAgeMs} ms`);
  }
  console.log(`  unacknowledged but present:          ${totals.unackedPresent} of ${totals.unacked} unacknowledged`);
  console.log(`  log entries that vanished later:     ${totals.vanished}`);
  console.log(`  state verify failures:               ${totals.verifyFailed}`);
  console.log(`  events in the log at the end:        ${totals.events}`);
  console.log(`  mean kill after start of load:       ${Math.round(mean(totals.killMs))} ms`);
  console.log(`  mean iteration:                      ${Math.round(mean(totals.iterMs))} ms; total ${secs.toFixed(1)} s`);
  if (failures.length) {
    console.log(`crashloop: FAILED\n  ${failures.slice(0, 20).join('\n  ')}`);
    process.exit(1);
  }
  console.log('crashloop: ok');
}

main().catch((e) => {
  console.error(`crashloop: error: ${e.stack || e}`);
  process.exit(1);
});
