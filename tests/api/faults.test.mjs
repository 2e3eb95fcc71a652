// faults.test.mjs: storage faults while `whaco serve` runs -- the disk full,
// the file system read-only, the data directory removed, the database locked
// by another process. For each: concurrent writes run; the fault starts;
// writes must get 503 with a message naming the problem, the log must say
// it once, reads must still answer and /healthz must say degraded; the fault
// clears; writes must succeed again without a restart; then a restart must
// show exactly the acknowledged events (every 2xx customer and deal, and no
// refused one).
//
// Disk full and read-only come from tests/fault/libwhacofault.so, loaded
// with LD_PRELOAD (we run as root, so chmod cannot make a file read-only):
// while a control file exists, writes under the data directory fail with
// the errno written in it. The lock is held by the sqlite3 shell.
//
// Where a tmpfs can be mounted (as root, as CI runs), two faults are also
// made for real, with no shim: the data directory on a small tmpfs filled
// to the last page by another file while whaco writes (then the file is
// removed), and a start on a tmpfs remounted read-only. Where it cannot,
// those two tests are skipped and say why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { API, TEAM5, WHACO_BIN, addTeam, customer, harness, runWhaco, sleep } from './helpers.mjs';

const FAULT_LIB = path.join(path.dirname(WHACO_BIN), 'libwhacofault.so');
// Faults run long (a lock is waited for 5 s), so more than the usual bound.
const FAULT_TEST_TIMEOUT_MS = 90_000;
// Liveness bounds (never a measurement): how long we wait for a state.
const WAIT_MS = 30_000;

/**
 * The environment that loads the fault library into whaco. Under ASan the
 * sanitizer's runtime must come first in the list of loaded libraries, so
 * it is preloaded before ours (found with ldd, as the binary links it).
 */
function faultEnv(dataDir, ctl) {
  assert.ok(existsSync(FAULT_LIB), `${FAULT_LIB} is missing: build the whacofault target (tests/fault)`);
  let preload = FAULT_LIB;
  const libs = execFileSync('ldd', [WHACO_BIN], { encoding: 'utf8' });
  const asan = /^\s*libasan\.so\S*\s+=>\s+(\S+)/m.exec(libs);
  if (asan) preload = `${asan[1]} ${FAULT_LIB}`;
  return { LD_PRELOAD: preload, WHACO_FAULT_DIR: dataDir, WHACO_FAULT_CTL: ctl };
}

/** Start the fault: the control file appears with its content at once. */
async function setFault(ctl, text) {
  await writeFile(`${ctl}.tmp`, text);
  await rename(`${ctl}.tmp`, ctl);
}

async function waitFor(what, fn) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Writers: `width` loops sending analyze-customer (unique ids) and, every
 * third request, a deal-closed for sp-1 (unique deal ids). Every answer is
 * recorded: 2xx are acknowledged, 503s are kept with their message; any
 * other status or a network error fails the test.
 */
function startWriters(srv, tag, width = 4) {
  const w = { acked: { customers: new Set(), deals: new Set() }, refused: [], errors: [], stop: false, sent: 0 };
  let next = 0;
  const one = async () => {
    const i = next++;
    const isDeal = i % 3 === 2;
    const res = isDeal
      ? await srv.post(`${API}/deal-closed`, { salespersonId: 'sp-1', dealId: `${tag}-d${i}` })
      : await srv.post(`${API}/analyze-customer`, { ...customer(i), customerId: `${tag}-c${i}` });
    w.sent++;
    if (res.status === 200) {
      if (isDeal) w.acked.deals.add(`${tag}-d${i}`);
      else w.acked.customers.add(`${tag}-c${i}`);
    } else if (res.status === 503) {
      w.refused.push(res.body?.error?.message ?? res.text);
    } else {
      w.errors.push(`${res.status} ${res.text}`);
    }
  };
  w.done = Promise.all(
    Array.from({ length: width }, async () => {
      while (!w.stop) {
        try {
          await one();
        } catch (e) {
          w.errors.push(String(e));
        }
        // Refused writes come back at once: do not spin on them.
        if (w.refused.length) await sleep(5);
      }
    }),
  );
  w.acknowledged = () => w.acked.customers.size + w.acked.deals.size;
  return w;
}

/**
 * The sqlite3 shell, holding the write lock on db (BEGIN EXCLUSIVE, waiting
 * up to 10 s for whaco's own transaction to end) until its stdin gets
 * ROLLBACK. -bail: if it cannot get the lock it exits, and we fail.
 */
async function holdLock(db) {
  const p = spawn('sqlite3', ['-bail', db], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (out += d));
  p.stdin.write(".timeout 10000\nBEGIN EXCLUSIVE;\nSELECT 'locked';\n");
  await waitFor('the sqlite3 shell to hold the lock', () => {
    if (p.exitCode !== null) throw new Error(`sqlite3 could not lock ${db}: ${out}`);
    return out === 'locked\n';
  });
  return p;
}

const metric = (text, name) => {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
};

const count = (text, re) => (text.match(new RegExp(re, 'g')) || []).length;

/**
 * One fault, end to end. f: { name, shim (load the fault library), data
 * (the data directory; default a new one), begin(ctx), end(ctx), message: RegExp
 * for the first 503's message, reason: RegExp for the health reason while
 * it lasts (default: message), log: RegExp for the log }.
 */
async function runFault(t, f) {
  const h = harness(t);
  const data = f.data || (await h.tmpdir());
  const scratch = await h.tmpdir();
  const ctx = { data, ctl: path.join(scratch, 'fault.ctl'), db: path.join(data, 'whaco.db') };
  const admin = await h.token(data, 'admin');
  const srv = await h.start({ dataDir: data, env: f.shim ? faultEnv(data, ctx.ctl) : undefined });
  ctx.srv = srv;
  await addTeam(srv, admin, TEAM5.slice(0, 2));

  const w = startWriters(srv, f.name);
  try {
    await waitFor('writes before the fault', () => w.acknowledged() >= 20);
    const ackedBefore = w.acknowledged();
    await f.begin(ctx);

    // The fault is seen: a 503 that names it, /healthz degraded, the log.
    await waitFor('a refused write', () => w.refused.length > 0);
    assert.match(w.refused[0], /^storage failed: /, w.refused[0]);
    assert.match(w.refused[0], f.message, w.refused[0]);
    const hz = await waitFor('/healthz degraded', async () => {
      const r = await srv.get('/healthz');
      return r.status === 503 && r.body.status === 'degraded' ? r : null;
    });
    assert.match(hz.body.reason, f.reason || f.message);
    assert.ok(!Number.isNaN(Date.parse(hz.body.since)), hz.text);
    assert.match(srv.stderr, f.log);
    // Reads still answer, from the last committed state.
    const seg = await srv.get(`${API}/customer-segments`);
    assert.equal(seg.status, 200);
    assert.ok(seg.body.segments.totalCustomersProcessed >= 1);
    assert.equal((await srv.get(`${API}/team-status`)).status, 200);
    const m = (await srv.get('/metrics')).text;
    assert.equal(metric(m, 'whaco_storage_failed'), 1);
    assert.ok(metric(m, 'whaco_storage_failures_total') >= 1);

    // Let it retry (and fail) a few times: still one log line, no spinning.
    await sleep(2500);
    assert.equal(count(srv.stderr, 'storage failed:'), 1, srv.stderr);
    const refusedDuring = w.refused.length;

    await f.end(ctx);
    await waitFor('/healthz ok again', async () => (await srv.get('/healthz')).status === 200);
    const ackedAtRecovery = w.acknowledged();
    await waitFor('writes after recovery', () => w.acknowledged() >= ackedAtRecovery + 20);
    assert.match(srv.stderr, /storage recovered after \d+\.\d s: writes are accepted again/);
    const m2 = (await srv.get('/metrics')).text;
    assert.equal(metric(m2, 'whaco_storage_failed'), 0);
    assert.equal(metric(m2, 'whaco_storage_recoveries_total'), metric(m2, 'whaco_storage_failures_total'));
    t.diagnostic(
      `${f.name}: ${ackedBefore} acknowledged before, ${refusedDuring} refused during the fault, ` +
        `${w.acknowledged()} acknowledged in all`,
    );
  } finally {
    w.stop = true;
    await w.done;
    if (f.cleanup) await f.cleanup(ctx);
  }
  assert.deepEqual(w.errors, [], 'every write got 2xx or 503');

  // Restart: the state is exactly what the acknowledged requests imply.
  await srv.stop();
  const again = await h.start({ dataDir: data });
  const seg = await again.get(`${API}/customer-segments`);
  assert.equal(seg.body.segments.totalCustomersProcessed, w.acked.customers.size, 'customers after restart');
  const team = (await again.get(`${API}/team-status`)).body.teamMembers;
  assert.equal(team.reduce((s, m) => s + m.dealsToday, 0), w.acked.deals.size, 'deals after restart');
  await again.stop();
}

test('disk full (ENOSPC): writes 503 "database or disk is full", reads answer, recovers when space is back', { timeout: FAULT_TEST_TIMEOUT_MS }, async (t) => {
  await runFault(t, {
    name: 'full',
    shim: true,
    begin: (c) => setFault(c.ctl, 'ENOSPC write truncate\n'),
    end: (c) => rm(c.ctl),
    message: /database or disk is full/,
    log: /whaco: storage failed: .*whaco\.db: .*database or disk is full/,
  });
});

test('read-only file system (EROFS): writes 503 naming it, recovers when writable again', { timeout: FAULT_TEST_TIMEOUT_MS }, async (t) => {
  await runFault(t, {
    name: 'rofs',
    shim: true,
    begin: (c) => setFault(c.ctl, 'EROFS\n'),
    end: (c) => rm(c.ctl),
    message: /Read-only file system/,
    log: /whaco: storage failed: .*Read-only file system/,
  });
});

test('failing device (EIO on fsync): writes 503 "disk I/O error", recovers', { timeout: FAULT_TEST_TIMEOUT_MS }, async (t) => {
  await runFault(t, {
    name: 'eio',
    shim: true,
    begin: (c) => setFault(c.ctl, 'EIO sync\n'),
    end: (c) => rm(c.ctl),
    message: /disk I\/O error \(Input\/output error\)/,
    log: /whaco: storage failed: .*disk I\/O error/,
  });
});

test('data directory removed while running: writes 503 naming it, the database is re-created with every acknowledged event', { timeout: FAULT_TEST_TIMEOUT_MS }, async (t) => {
  await runFault(t, {
    name: 'rmdir',
    // Removed and kept away (a file where the directory was) for a while,
    // so that the failure is seen, then the way is cleared.
    begin: async (c) => {
      await rm(c.data, { recursive: true, force: true });
      await writeFile(c.data, 'not a directory');
    },
    end: async (c) => {
      await rm(c.data, { force: true });
      await waitFor('the database re-created', () =>
        /re-created .*whaco\.db from the database whaco had open/.test(c.srv.stderr),
      );
      assert.ok(existsSync(c.db));
    },
    message: /the database file is no longer there/,
    // While a file stands where the directory was, the retries say that.
    reason: /the database file is no longer there|the data directory .* exists but is not a directory/,
    log: /whaco: storage failed: .*the data directory was removed/,
  });
});

test('database locked by another process: writes 503 "database is locked" after the busy timeout, recovers when released', { timeout: FAULT_TEST_TIMEOUT_MS }, async (t) => {
  let holder;
  await runFault(t, {
    name: 'lock',
    begin: async (c) => {
      holder = await holdLock(c.db);
    },
    end: async () => {
      const exited = new Promise((r) => holder.on('exit', r));
      holder.stdin.end('ROLLBACK;\n');
      await exited;
    },
    cleanup: () => {
      if (holder && holder.exitCode === null) holder.kill('SIGKILL');
    },
    message: /database is locked \(another process holds a lock on it/,
    log: /whaco: storage failed: .*database is locked/,
  });
});

test('a database locked by another process at start-up: a clear error, exit 1', { timeout: FAULT_TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const data = await h.tmpdir();
  await h.token(data, 'admin'); // creates the database
  const holder = await holdLock(path.join(data, 'whaco.db'));
  t.after(() => holder.exitCode === null && holder.kill('SIGKILL'));
  const res = await h.startExpectingFailure(data, { ms: 20_000 });
  assert.equal(res.code, 1, res.stderr);
  assert.match(res.stderr, /cannot start: .*whaco\.db: .*database is locked \(another process holds a lock on it/);
  holder.stdin.end('ROLLBACK;\n');
});

test('a write refused because its fsync failed does not come back after a kill -9 that follows at once', { timeout: FAULT_TEST_TIMEOUT_MS }, async (t) => {
  // The failed commit had written its whole transaction into the WAL, past
  // its committed end; a restart's WAL recovery would find it valid. whaco
  // writes a probe over it before it answers 503.
  const h = harness(t);
  const data = await h.tmpdir();
  const ctl = path.join(await h.tmpdir(), 'fault.ctl');
  const srv = await h.start({ dataDir: data, env: faultEnv(data, ctl) });
  const acked = [];
  for (let i = 0; i < 5; i++) {
    const r = await srv.post(`${API}/analyze-customer`, { ...customer(i), customerId: `ok-${i}` });
    assert.equal(r.status, 200, r.text);
    acked.push(`ok-${i}`);
  }
  await setFault(ctl, 'EIO sync\n');
  const refused = await srv.post(`${API}/analyze-customer`, { ...customer(9), customerId: 'refused-1' });
  assert.equal(refused.status, 503, refused.text);
  srv.proc.kill('SIGKILL'); // at once: before any retry
  await srv.exited;
  await rm(ctl);

  const log = await runWhaco(['log', '--data', data]);
  assert.equal(log.code, 0, log.stderr);
  const ids = log.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.type === 'analyze').map((e) => e.customerId);
  assert.deepEqual(ids, acked, 'the log after the kill holds exactly the acknowledged customers');
  const again = await h.start({ dataDir: data });
  assert.equal((await again.get(`${API}/customer-segments`)).body.segments.totalCustomersProcessed, acked.length);
  await again.stop();
});

// ------------------------------------------------- real file-system faults

/**
 * Mount a tmpfs of `size` at a new directory for this test, unmounted
 * (lazily: a failed test may leave whaco running) and removed when the test
 * ends. Call it before harness(t), so that this runs first. Returns the
 * directory, or null after t.skip() where mounting is not allowed.
 */
async function tmpfs(t, size) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'whaco-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    t.skip(`cannot mount a tmpfs here (${String(e.stderr || e.message).trim()}); the LD_PRELOAD tests cover the fault`);
    return null;
  }
  t.after(async () => {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Fill the file system of `file` to its last page with `file`. */
function fillUp(file) {
  const fd = openSync(file, 'w');
  try {
    for (const size of [1 << 20, 4096]) {
      const chunk = Buffer.alloc(size, 0x55);
      for (;;) {
        try {
          if (writeSync(fd, chunk) < size) break;
        } catch (e) {
          if (e.code !== 'ENOSPC') throw e;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

test('disk full for real (a 16 MB tmpfs filled by another file): writes 503 "database or disk is full", reads answer, recovers when the file is removed', { timeout: FAULT_TEST_TIMEOUT_MS }, async (t) => {
  const data = await tmpfs(t, '16m');
  if (!data) return;
  const filler = path.join(data, 'filler');
  await runFault(t, {
    name: 'tmpfs-full',
    data,
    begin: () => fillUp(filler),
    end: () => rm(filler),
    message: /database or disk is full/,
    log: /whaco: storage failed: .*whaco\.db: .*database or disk is full/,
  });
});

test('a read-only file system at start-up (a tmpfs remounted ro): a clear error naming it, exit 1', { timeout: FAULT_TEST_TIMEOUT_MS }, async (t) => {
  const data = await tmpfs(t, '4m');
  if (!data) return;
  const h = harness(t);
  await h.token(data, 'admin'); // creates the database
  execFileSync('mount', ['-o', 'remount,ro', data], { stdio: 'pipe' });
  const res = await h.startExpectingFailure(data, { ms: 20_000 });
  assert.equal(res.code, 1, res.stderr);
  assert.match(res.stderr, /cannot start: .*cannot write in the data directory .*: Read-only file system/);
  // The tools that open the store say the same, rather than "cannot open".
  const list = await runWhaco(['token', 'list', '--data', data]);
  assert.equal(list.code, 2, list.stdout);
  assert.match(list.stderr, /cannot write in the data directory .*: Read-only file system/);
});

