// concurrency.test.mjs: 32 parallel clients writing and reading; final
// counts exact, no 5xx, no errors, and every read sees every write that was
// acknowledged before it started.
import assert from 'node:assert/strict';
import test from 'node:test';

import { API, TEAM5, addTeam, customer, harness, TEST_TIMEOUT_MS } from './helpers.mjs';

const CLIENTS = 32;
const PER_CLIENT = 20; // analyzes per client
const READS = [`${API}/team-status`, `${API}/customer-segments`, `${API}/anomalies?limit=50`, `${API}/insights`, `${API}/salespeople`];

test(`${CLIENTS} parallel clients × ${PER_CLIENT} analyze + deal-closed + reads: exact counts, no 5xx`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const srv = await h.start({ dataDir: dir });
  await addTeam(srv, admin, TEAM5);

  const errors = [];
  let acked = 0; // analyzes acknowledged so far (all clients)
  let deals = 0;
  let outliers = 0;
  let requests = 0;
  const client = async (c) => {
    for (let i = 0; i < PER_CLIENT; i++) {
      const r = await srv.post(`${API}/analyze-customer`, customer(c * PER_CLIENT + i));
      requests++;
      if (r.status !== 200) {
        errors.push(`analyze ${r.status} ${r.text}`);
        continue;
      }
      acked++;
      if (r.body.customerAnalysis.isOutlier) outliers++;
      if (i % 4 === 0) {
        const d = await srv.post(`${API}/deal-closed`, { salespersonId: TEAM5[(c + i) % 5].id, dealId: `d-${c}-${i}` });
        requests++;
        if (d.status !== 200) errors.push(`deal ${d.status} ${d.text}`);
        else deals++;
      }
      const floor = acked;
      const p = READS[(c + i) % READS.length];
      const g = await srv.get(p);
      requests++;
      if (g.status !== 200) {
        errors.push(`GET ${p} ${g.status} ${g.text}`);
        continue;
      }
      if (p.endsWith('customer-segments') && g.body.segments.totalCustomersProcessed < floor) {
        errors.push(`stale read: ${g.body.segments.totalCustomersProcessed} < ${floor} acknowledged`);
      }
      if (p.endsWith('insights') && g.body.customerSegments.totalCustomersProcessed < floor) {
        errors.push(`stale insights: ${g.body.customerSegments.totalCustomersProcessed} < ${floor}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  assert.deepEqual(errors, []);

  const seg = (await srv.get(`${API}/customer-segments`)).body.segments;
  assert.equal(seg.totalCustomersProcessed, CLIENTS * PER_CLIENT);
  assert.equal(seg.outliersDetected, outliers);
  assert.equal(seg.clusters.reduce((s, c) => s + c.sizeEstimate, 0), CLIENTS * PER_CLIENT - outliers);
  const team = (await srv.get(`${API}/team-status`)).body;
  assert.equal(team.teamMembers.reduce((s, m) => s + m.dealsToday, 0), deals);
  assert.equal(deals, CLIENTS * Math.ceil(PER_CLIENT / 4));
  assert.equal(team.teamMembers.reduce((s, m) => s + m.leadsToday, 0), CLIENTS * PER_CLIENT, 'every analyzed customer was assigned once');
  const an = (await srv.get(`${API}/anomalies?limit=256`)).body;
  assert.equal(an.total, Math.min(outliers, 256));

  const m = (await srv.get('/metrics')).text;
  const value = (re) => Number(new RegExp(`^${re} (\\S+)$`, 'm').exec(m)?.[1]);
  assert.equal(value('whaco_events_applied_total\\{type="analyze"\\}'), CLIENTS * PER_CLIENT);
  assert.equal(value('whaco_events_applied_total\\{type="deal_closed"\\}'), deals);
  assert.equal(value('whaco_http_requests_total\\{route="/api/intelligence/analyze-customer",status="200"\\}'), CLIENTS * PER_CLIENT);
  assert.doesNotMatch(m, /^whaco_http_requests_total\{[^}]*status="5\d\d"\}/m);
  assert.doesNotMatch(m, /^whaco_http_requests_total\{[^}]*status="other"\}/m);
  // Group commit: fewer transactions than events under concurrent load.
  assert.ok(value('whaco_commit_batch_size_count') < CLIENTS * PER_CLIENT + deals + 5, m);
  t.diagnostic(`${requests} requests; ${value('whaco_commit_batch_size_count')} commits for ${CLIENTS * PER_CLIENT + deals + 5} events`);
  await srv.stop();
});
