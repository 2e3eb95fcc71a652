// persistence.test.mjs: state survives a graceful restart and a kill -9
// (every acknowledged write is there, for --sync full and --sync normal);
// a damaged or foreign data file is refused and left untouched.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'node:test';

import { API, FRAUD_CUSTOMER, SEED_CUSTOMER, TEAM5, addTeam, customer, harness, sleep, TEST_TIMEOUT_MS } from './helpers.mjs';

const READS = [
  `${API}/team-status`,
  `${API}/customer-segments`,
  `${API}/salespeople`,
  `${API}/anomalies?limit=256`,
  `${API}/insights`,
  `${API}/coherence-history?hours=168`,
];

async function bodies(srv) {
  const out = {};
  for (const p of READS) {
    const r = await srv.get(p);
    assert.equal(r.status, 200, `${p}: ${r.text}`);
    out[p] = r.text;
  }
  return out;
}

test('graceful restart, then kill -9 at rest: every read body is identical', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  let srv = await h.start({ dataDir: dir });
  await addTeam(srv, admin, TEAM5);
  for (let i = 0; i < 40; i++) {
    const r = await srv.post(`${API}/analyze-customer`, customer(i));
    assert.equal(r.status, 200, r.text);
    if (i % 5 === 0) {
      const d = await srv.post(`${API}/deal-closed`, { salespersonId: TEAM5[i % 5].id, dealId: `d-${i}` });
      assert.equal(d.status, 200, d.text);
    }
  }
  await srv.post(`${API}/analyze-customer`, FRAUD_CUSTOMER);
  await srv.del(`${API}/salesperson/sp-4`, { token: admin });
  const before = await bodies(srv);
  const hz = (await srv.get('/healthz')).body;
  assert.equal(JSON.parse(before[`${API}/customer-segments`]).segments.totalCustomersProcessed, 41);

  const ms = await srv.stop(); // exit 0 within 5 s
  assert.ok(ms < 5000);
  assert.match(srv.stderr, /stopped/);

  srv = await h.start({ dataDir: dir });
  const hz2 = (await srv.get('/healthz')).body;
  assert.equal(hz2.lastSeq, hz.lastSeq);
  const after = await bodies(srv);
  for (const p of READS) assert.equal(after[p], before[p], `${p} after a graceful restart`);

  // More events after the snapshot, then kill -9: replay of the log must agree.
  await srv.post(`${API}/analyze-customer`, SEED_CUSTOMER);
  await srv.post(`${API}/deal-closed`, { salespersonId: 'sp-2', dealId: 'after-snap' });
  const before2 = await bodies(srv);
  await srv.kill9();
  srv = await h.start({ dataDir: dir });
  const after2 = await bodies(srv);
  for (const p of READS) assert.equal(after2[p], before2[p], `${p} after kill -9 at rest`);
  assert.equal(JSON.parse(after2[`${API}/customer-segments`]).segments.totalCustomersProcessed, 42);
  await srv.stop();
});

/**
 * 16 clients post analyze-customer and deal-closed as fast as they can;
 * after ~1.5 s the server is killed with SIGKILL (how = 'kill') or stopped
 * with SIGTERM (how = 'term'). On restart every acknowledged (200) write
 * must be there, and nothing that was never sent. A graceful stop finishes
 * what is in flight, so then the counts are exact.
 */
async function crashUnderLoad(t, sync, how = 'kill') {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  let srv = await h.start({ dataDir: dir, args: ['--sync', sync] });
  await addTeam(srv, admin, TEAM5);

  const sent = { analyze: 0, deal: 0 };
  const acked = { analyze: 0, deal: 0 };
  const bad = [];
  let killed = false;
  let refused = 0;
  const client = async (c) => {
    // With SIGTERM the clients keep going into the drain: they must get
    // answers (200, or 503 while shutting down) or a refused connection.
    for (let i = 0; i < 100_000 && (!killed || how === 'term'); i++) {
      const kind = i % 3 === 2 ? 'deal' : 'analyze';
      sent[kind]++;
      try {
        const r =
          kind === 'analyze'
            ? await srv.post(`${API}/analyze-customer`, customer(c * 1000 + i), { timeout: 5000 })
            : await srv.post(`${API}/deal-closed`, { salespersonId: TEAM5[(c + i) % 5].id, dealId: `d-${c}-${i}` }, { timeout: 5000 });
        if (r.status === 200) acked[kind]++;
        else if (r.status === 503 && killed && how === 'term') {
          refused++;
          return; // draining: "the service is shutting down"
        } else bad.push(`${kind} ${r.status} ${r.text}`);
      } catch (e) {
        if (!killed) bad.push(`${kind}: ${e.message}`);
        return; // the connection died with the server
      }
    }
  };
  const clients = Array.from({ length: 16 }, (_, c) => client(c));
  await sleep(1500);
  killed = true;
  if (how === 'kill') await srv.kill9();
  else await srv.stop(); // exit 0 within 5 s, or this throws
  await Promise.all(clients);
  assert.deepEqual(bad, [], 'no errors before the kill');
  assert.ok(acked.analyze > 50, `only ${acked.analyze} analyzes acknowledged`);
  assert.ok(acked.deal > 20, `only ${acked.deal} deals acknowledged`);

  srv = await h.start({ dataDir: dir, args: ['--sync', sync] });
  const seg = (await srv.get(`${API}/customer-segments`)).body.segments;
  const team = (await srv.get(`${API}/team-status`)).body;
  const deals = team.teamMembers.reduce((s, m) => s + m.dealsToday, 0);
  const msg = `sync ${sync}, ${how}: ${refused} refused with 503; sent ${JSON.stringify(sent)} acked ${JSON.stringify(acked)} found analyze ${seg.totalCustomersProcessed} deals ${deals}`;
  t.diagnostic(msg);
  assert.equal(team.totalSalespeople, 5, msg);
  assert.ok(seg.totalCustomersProcessed >= acked.analyze, `lost acknowledged analyzes: ${msg}`);
  assert.ok(seg.totalCustomersProcessed <= sent.analyze, `more analyzes than sent: ${msg}`);
  assert.ok(deals >= acked.deal, `lost acknowledged deals: ${msg}`);
  assert.ok(deals <= sent.deal, `more deals than sent: ${msg}`);
  // at most the 16 requests in flight at the kill can be in doubt
  assert.ok(seg.totalCustomersProcessed - acked.analyze + deals - acked.deal <= 16, msg);
  if (how === 'term') {
    // graceful: requests in flight were finished and answered
    assert.equal(seg.totalCustomersProcessed, acked.analyze, `graceful stop: ${msg}`);
    assert.equal(deals, acked.deal, `graceful stop: ${msg}`);
  }
  // and the restarted server works
  const r = await srv.post(`${API}/analyze-customer`, SEED_CUSTOMER);
  assert.equal(r.status, 200, r.text);
  const seg2 = (await srv.get(`${API}/customer-segments`)).body.segments;
  assert.equal(seg2.totalCustomersProcessed, seg.totalCustomersProcessed + 1);
  await srv.stop();
}

test('kill -9 under load, --sync full: every acknowledged write survives', { timeout: TEST_TIMEOUT_MS }, (t) => crashUnderLoad(t, 'full'));
test('kill -9 under load, --sync normal: every acknowledged write survives a process crash', { timeout: TEST_TIMEOUT_MS }, (t) => crashUnderLoad(t, 'normal'));
test('SIGTERM under load: exit 0 within 5 s, in-flight requests answered, counts exact after restart', { timeout: TEST_TIMEOUT_MS }, (t) =>
  crashUnderLoad(t, 'full', 'term'));

async function refusesFile(t, makeFile) {
  const h = harness(t);
  const dir = await h.tmpdir();
  const file = path.join(dir, 'whaco.db');
  await makeFile(file);
  const original = await readFile(file);
  const res = await h.startExpectingFailure(dir);
  assert.equal(res.running, false, `still running with a bad data file; stderr:\n${res.stderr}`);
  assert.notEqual(res.code, 0, res.stderr);
  assert.notEqual(res.code, null, `killed by ${res.signal}: ${res.stderr}`);
  assert.match(res.stderr, /whaco serve: cannot start: .*whaco\.db/, res.stderr);
  assert.ok(!/listening on/.test(res.stderr), res.stderr);
  const now = await readFile(file);
  assert.ok(now.equals(original), 'the data file was modified');
  return res.stderr;
}

test('a data file of random bytes: refuses to start, says why, leaves it unchanged', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const stderr = await refusesFile(t, (f) => writeFile(f, randomBytes(64 * 1024)));
  assert.match(stderr, /not a (whaco|database)|damaged|corrupt|unreadable/i);
});

test("another application's SQLite database: refuses to start, leaves it unchanged", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  let hasSqlite = true;
  try {
    execFileSync('sqlite3', ['-version'], { stdio: 'ignore' });
  } catch {
    hasSqlite = false;
  }
  if (!hasSqlite) {
    t.skip('sqlite3 command not installed');
    return;
  }
  const stderr = await refusesFile(t, async (f) => {
    execFileSync('sqlite3', [f, 'CREATE TABLE invoices(id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices(total) VALUES (12.5), (99);'], {
      timeout: 10_000,
    });
  });
  assert.match(stderr, /not a whaco|another application|foreign|application_id|unknown|schema/i);
});

test('a whaco data file with a damaged page: refuses to start, leaves it unchanged', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const srv = await h.start({ dataDir: dir });
  await addTeam(srv, admin, TEAM5);
  for (let i = 0; i < 200; i++) await srv.post(`${API}/analyze-customer`, customer(i));
  await srv.stop();
  const file = path.join(dir, 'whaco.db');
  const buf = await readFile(file);
  assert.ok(buf.length >= 4 * 4096, `data file only ${buf.length} bytes`);
  // Overwrite every page after the first (schema) page with garbage headers.
  const page = buf.readUInt16BE(16) === 1 ? 65536 : buf.readUInt16BE(16);
  for (let off = page; off + 16 <= buf.length; off += page) randomBytes(16).copy(buf, off);
  await writeFile(file, buf);
  const res = await h.startExpectingFailure(dir);
  assert.equal(res.running, false, res.stderr);
  assert.notEqual(res.code, 0, res.stderr);
  assert.notEqual(res.code, null, res.stderr);
  assert.match(res.stderr, /whaco serve: cannot start: .*(damaged|corrupt|malformed)/i, res.stderr);
  assert.ok((await readFile(file)).equals(buf), 'the data file was modified');
});
