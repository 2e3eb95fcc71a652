// contract.test.mjs: every endpoint and every field of the seed's API
// Reference (INTELLIGENCE_README.md), with names, types and values, and the
// seed's four integration examples run as client code.
import assert from 'node:assert/strict';
import test from 'node:test';

import { API, FETCH_TIMEOUT_MS, FRAUD_CUSTOMER, ISO_RE, SEED_CUSTOMER, TEAM5, addTeam, customer, harness, TEST_TIMEOUT_MS } from './helpers.mjs';

const SEGMENTS = [
  {
    id: 0,
    name: 'Prime Buyers',
    priority: 0.95,
    description: 'High credit, strong income, serious buyers',
    approach: 'Premium vehicles, competitive rates, quick close',
  },
  { id: 1, name: 'Motivated Shoppers', priority: 0.85 },
  { id: 2, name: 'Tire Kickers', priority: 0.3 },
  { id: 3, name: 'Credit Challenged', priority: 0.6 },
  { id: 4, name: 'Cash Strong Buyers', priority: 0.8 },
];
const BANDS = ['excellent', 'good', 'needs_attention', 'critical'];
const MEMBER_STATES = ['overloaded', 'behind', 'slow_day', 'crushing_it', 'ready', 'on_track'];
const ISSUES = ['Overloaded - too many active deals', 'Slow day - no deals closed yet', 'Significantly behind team rhythm'];
const FEATURE_NAMES = ['FICO', 'Income', 'Price', 'Down%', 'Trade%', 'Visits', 'Time on lot', 'Engagement'];
// The seed's outlier reason: "X significantly different | Y significantly different"
const REASON_RE = new RegExp(
  `^(${FEATURE_NAMES.map((f) => f.replace(/[%]/g, '%')).join('|')}) significantly different` +
    `( \\| (${FEATURE_NAMES.join('|')}) significantly different)*$`,
);
const PRIME_ACTIONS = [
  'Show premium inventory',
  'Offer competitive financing rates',
  'Quick close approach - minimal back and forth',
  '🔥 HIGH PRIORITY - Assign experienced salesperson',
];

const isNum = (x) => typeof x === 'number' && Number.isFinite(x);
const isInt = (x) => Number.isInteger(x);

function checkJsonResponse(r, status = 200) {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.ok(r.body !== undefined, `not JSON: ${r.text}`);
}

function checkShortTeamStatus(ts, n) {
  assert.ok(isNum(ts.coherence) && ts.coherence >= 0 && ts.coherence <= 1, `coherence ${ts.coherence}`);
  assert.ok(BANDS.includes(ts.status), `status ${ts.status}`);
  const band = ts.coherence > 0.8 ? 'excellent' : ts.coherence >= 0.6 ? 'good' : ts.coherence >= 0.4 ? 'needs_attention' : 'critical';
  if (Math.abs(ts.coherence - 0.8) > 1e-3 && Math.abs(ts.coherence - 0.6) > 1e-3 && Math.abs(ts.coherence - 0.4) > 1e-3) {
    assert.equal(ts.status, band, `band of coherence ${ts.coherence}`);
  }
  assert.equal(ts.totalSalespeople, n);
  assert.ok(Array.isArray(ts.bottlenecks));
  assert.ok(Array.isArray(ts.mentoringOpportunities));
  for (const b of ts.bottlenecks) {
    assert.equal(typeof b.salespersonId, 'string');
    assert.equal(typeof b.name, 'string');
    assert.ok(isNum(b.phaseDifference));
    assert.ok(isInt(b.activeDeals) && b.activeDeals >= 0);
    assert.ok(ISSUES.includes(b.issue), b.issue);
  }
  for (const m of ts.mentoringOpportunities) {
    for (const k of ['mentorId', 'mentorName', 'menteeId', 'menteeName', 'recommendation']) assert.equal(typeof m[k], 'string', k);
    assert.ok(isNum(m.skillGap) && m.skillGap >= 0.2 - 1e-9, `skillGap ${m.skillGap}`);
    assert.ok(isNum(m.phaseLead));
    assert.equal(m.recommendation, `${m.mentorName} can help ${m.menteeName} move deals faster`);
  }
}

function checkCustomerAnalysis(ca) {
  assert.ok(isInt(ca.clusterId) && ca.clusterId >= 0 && ca.clusterId <= 4);
  const seg = SEGMENTS[ca.clusterId];
  assert.equal(ca.clusterName, seg.name);
  assert.equal(typeof ca.clusterDescription, 'string');
  assert.equal(typeof ca.isOutlier, 'boolean');
  if (ca.isOutlier) assert.match(ca.outlierReason, REASON_RE);
  else assert.equal(ca.outlierReason, null);
  assert.ok(isNum(ca.confidence) && ca.confidence >= 0 && ca.confidence <= 1, `confidence ${ca.confidence}`);
  assert.equal(typeof ca.recommendedApproach, 'string');
  assert.equal(ca.priorityScore, seg.priority);
}

test('analyze-customer: the seed example gives the seed response shape and values', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const srv = await h.start({ dataDir: dir });
  await addTeam(srv, admin, TEAM5);

  const r = await srv.post(`${API}/analyze-customer`, SEED_CUSTOMER);
  checkJsonResponse(r);
  const a = r.body;
  for (const k of ['customerAnalysis', 'assignedTo', 'teamStatus', 'recommendedActions']) assert.ok(k in a, k);
  const ca = a.customerAnalysis;
  for (const k of ['clusterId', 'clusterName', 'clusterDescription', 'isOutlier', 'outlierReason', 'confidence', 'recommendedApproach', 'priorityScore']) {
    assert.ok(k in ca, `customerAnalysis.${k}`);
  }
  checkCustomerAnalysis(ca);
  assert.equal(ca.clusterId, 0);
  assert.equal(ca.clusterName, 'Prime Buyers');
  assert.equal(ca.clusterDescription, 'High credit, strong income, serious buyers');
  assert.equal(ca.isOutlier, false);
  assert.equal(ca.outlierReason, null);
  assert.equal(ca.recommendedApproach, 'Premium vehicles, competitive rates, quick close');
  assert.equal(ca.priorityScore, 0.95);
  assert.ok(TEAM5.some((m) => m.id === a.assignedTo), `assignedTo ${a.assignedTo}`);
  checkShortTeamStatus(a.teamStatus, 5);
  assert.deepEqual(a.recommendedActions, PRIME_ACTIONS);

  // The lead counts against the salesperson it was assigned to.
  const ts = await srv.get(`${API}/team-status`);
  const m = ts.body.teamMembers.find((x) => x.id === a.assignedTo);
  assert.equal(m.leadsToday, 1);
  assert.equal(ts.body.teamMembers.reduce((s, x) => s + x.leadsToday, 0), 1);
  await srv.stop();
});

test('analyze-customer without a team: assignedTo null, a warning, the short status says so', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const srv = await h.start();
  const r = await srv.post(`${API}/analyze-customer`, SEED_CUSTOMER);
  checkJsonResponse(r);
  assert.equal(r.body.assignedTo, null);
  assert.equal(r.body.warning, 'No salespeople in network');
  checkShortTeamStatus(r.body.teamStatus, 0);
  assert.equal(r.body.teamStatus.status, 'critical');
  assert.deepEqual(r.body.recommendedActions, PRIME_ACTIONS);
  await srv.stop();
});

test('a fraud-like customer is an outlier with the seed-format reason and is listed in /anomalies', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const srv = await h.start();
  for (let i = 0; i < 20; i++) {
    const r = await srv.post(`${API}/analyze-customer`, customer(i));
    assert.equal(r.status, 200, r.text);
  }
  const r = await srv.post(`${API}/analyze-customer`, FRAUD_CUSTOMER);
  checkJsonResponse(r);
  const ca = r.body.customerAnalysis;
  checkCustomerAnalysis(ca);
  assert.equal(ca.isOutlier, true);
  assert.match(ca.outlierReason, REASON_RE);
  assert.ok(ca.outlierReason.includes('Income significantly different'), ca.outlierReason);
  assert.ok(r.body.recommendedActions.some((x) => /verif/i.test(x)), JSON.stringify(r.body.recommendedActions));
  assert.ok(r.body.recommendedActions.some((x) => /manager approval/i.test(x)), JSON.stringify(r.body.recommendedActions));

  const an = await srv.get(`${API}/anomalies`);
  checkJsonResponse(an);
  assert.deepEqual(Object.keys(an.body).sort(), ['anomalies', 'total']);
  const fraud = an.body.anomalies.find((x) => x.customerId === 'cust_fraud');
  assert.ok(fraud, an.text);
  assert.match(fraud.timestamp, ISO_RE);
  assert.ok(Math.abs(Date.parse(fraud.timestamp) - Date.now()) < 60_000);
  assert.equal(fraud.features.ficoScore, 450);
  assert.equal(fraud.features.income, 1500000);
  assert.ok(Math.abs(fraud.features.downPaymentPercent - 100 / 30000) < 1e-5, `${fraud.features.downPaymentPercent}`);
  assert.equal(fraud.clusterId, ca.clusterId);
  assert.equal(fraud.reason, ca.outlierReason);
  assert.ok(isInt(an.body.total) && an.body.total >= 1);

  const seg = await srv.get(`${API}/customer-segments`);
  assert.equal(seg.body.segments.totalCustomersProcessed, 21);
  assert.equal(seg.body.segments.outliersDetected, an.body.total);
  await srv.stop();
});

test('anomalies: ?limit defaults to 20, newest first, total counts all', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const srv = await h.start();
  for (let i = 0; i < 25; i++) {
    const r = await srv.post(`${API}/analyze-customer`, { ...FRAUD_CUSTOMER, customerId: `fraud-${i}` });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.customerAnalysis.isOutlier, true, `fraud-${i}: ${r.text}`);
  }
  const all = await srv.get(`${API}/anomalies`);
  checkJsonResponse(all);
  assert.equal(all.body.total, 25);
  assert.equal(all.body.anomalies.length, 20);
  assert.deepEqual(
    all.body.anomalies.map((x) => x.customerId),
    Array.from({ length: 20 }, (_, i) => `fraud-${24 - i}`),
  );
  for (let i = 1; i < 20; i++) assert.ok(all.body.anomalies[i - 1].timestamp >= all.body.anomalies[i].timestamp);
  const five = await srv.get(`${API}/anomalies?limit=5`);
  assert.deepEqual(five.body.anomalies, all.body.anomalies.slice(0, 5));
  assert.equal(five.body.total, 25);
  const many = await srv.get(`${API}/anomalies?limit=256`);
  assert.equal(many.body.anomalies.length, 25);
  await srv.stop();
});

test('team-status: every field of the seed example, bottlenecks and mentoring', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const srv = await h.start({ dataDir: dir });

  const empty = await srv.get(`${API}/team-status`);
  checkJsonResponse(empty);
  checkShortTeamStatus(empty.body, 0);
  assert.deepEqual(empty.body.teamMembers, []);

  await addTeam(srv, admin, [
    { id: 'sp-123', name: 'Jane Smith', skillLevel: 0.9, naturalFrequency: 0.9, phase: 1.0 },
    { id: 'sp-789', name: 'Bob Johnson', skillLevel: 0.5, naturalFrequency: 0.9 },
    { id: 'sp-456', name: 'John Doe', skillLevel: 0.85, naturalFrequency: 0.9, phase: 0.3, activeDeals: 6 },
  ]);
  const r = await srv.get(`${API}/team-status`);
  checkJsonResponse(r);
  const ts = r.body;
  checkShortTeamStatus(ts, 3);
  const john = ts.bottlenecks.find((b) => b.salespersonId === 'sp-456');
  assert.ok(john, r.text);
  assert.equal(john.name, 'John Doe');
  assert.equal(john.activeDeals, 6);
  assert.equal(john.issue, 'Overloaded - too many active deals');
  const pair = ts.mentoringOpportunities.find((m) => m.mentorId === 'sp-123' && m.menteeId === 'sp-789');
  assert.ok(pair, r.text);
  assert.equal(pair.mentorName, 'Jane Smith');
  assert.equal(pair.menteeName, 'Bob Johnson');
  assert.ok(Math.abs(pair.skillGap - 0.4) < 1e-6);
  assert.ok(pair.phaseLead > 0);
  assert.equal(pair.recommendation, 'Jane Smith can help Bob Johnson move deals faster');

  assert.equal(ts.teamMembers.length, 3);
  for (const m of ts.teamMembers) {
    assert.equal(typeof m.id, 'string');
    assert.equal(typeof m.name, 'string');
    assert.ok(isNum(m.phase) && m.phase >= 0 && m.phase < 2 * Math.PI);
    assert.ok(isInt(m.activeDeals) && m.activeDeals >= 0);
    assert.ok(isInt(m.dealsToday) && m.dealsToday >= 0);
    assert.ok(isNum(m.skillLevel) && m.skillLevel >= 0 && m.skillLevel <= 1);
    assert.ok(MEMBER_STATES.includes(m.status), m.status);
  }
  assert.deepEqual(ts.teamMembers.map((m) => m.id), ['sp-123', 'sp-789', 'sp-456']);
  assert.equal(ts.teamMembers[2].status, 'overloaded');
  assert.equal(ts.teamMembers[1].status, 'ready');
  assert.equal(ts.teamMembers[0].skillLevel, 0.9);
  await srv.stop();
});

test('deal-closed: {status:"recorded",salespersonId,dealId,timestamp}; phase +π/2, activeDeals -1, dealsToday +1', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const srv = await h.start({ dataDir: dir });
  await addTeam(srv, admin, [{ id: 'sp-123', name: 'Jane Smith', skillLevel: 0.9, naturalFrequency: 0.9, phase: 0.5, activeDeals: 3 }]);
  const before = (await srv.get(`${API}/team-status`)).body.teamMembers[0];

  const t0 = Date.now();
  const r = await srv.post(`${API}/deal-closed`, { salespersonId: 'sp-123', dealId: 'deal-456' });
  checkJsonResponse(r);
  assert.deepEqual(Object.keys(r.body), ['status', 'salespersonId', 'dealId', 'timestamp']);
  assert.equal(r.body.status, 'recorded');
  assert.equal(r.body.salespersonId, 'sp-123');
  assert.equal(r.body.dealId, 'deal-456');
  assert.match(r.body.timestamp, ISO_RE);
  assert.ok(Math.abs(Date.parse(r.body.timestamp) - t0) < 10_000);

  const after = (await srv.get(`${API}/team-status`)).body.teamMembers[0];
  assert.equal(after.activeDeals, before.activeDeals - 1);
  assert.equal(after.dealsToday, before.dealsToday + 1);
  const adv = (((after.phase - before.phase) % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);
  assert.ok(Math.abs(adv - Math.PI / 2) < 0.05, `phase advanced by ${adv}`);

  // dealId is optional
  const r2 = await srv.post(`${API}/deal-closed`, { salespersonId: 'sp-123' });
  checkJsonResponse(r2);
  assert.equal(r2.body.status, 'recorded');
  const again = (await srv.get(`${API}/salespeople`)).body.salespeople[0];
  assert.equal(again.dealsToday, 2);
  assert.equal(again.status, 'crushing_it');
  await srv.stop();
});

test('customer-segments: five named segments with the seed priorities, 8-number centroids, sizes', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const srv = await h.start();
  const N = 30;
  let outliers = 0;
  for (let i = 0; i < N; i++) {
    const r = await srv.post(`${API}/analyze-customer`, customer(i));
    assert.equal(r.status, 200, r.text);
    checkCustomerAnalysis(r.body.customerAnalysis);
    if (r.body.customerAnalysis.isOutlier) outliers++;
  }
  const r = await srv.get(`${API}/customer-segments`);
  checkJsonResponse(r);
  const s = r.body.segments;
  assert.equal(s.totalCustomersProcessed, N);
  assert.equal(s.outliersDetected, outliers);
  assert.equal(s.clusters.length, 5);
  let sizes = 0;
  s.clusters.forEach((c, i) => {
    assert.equal(c.id, i);
    assert.equal(c.profile.name, SEGMENTS[i].name);
    assert.equal(c.profile.priority, SEGMENTS[i].priority);
    assert.equal(typeof c.profile.description, 'string');
    assert.equal(typeof c.profile.approach, 'string');
    assert.ok(c.profile.description.length > 0 && c.profile.approach.length > 0);
    assert.equal(c.centroid.length, 8);
    assert.ok(c.centroid.every(isNum));
    assert.ok(isInt(c.sizeEstimate) && c.sizeEstimate >= 0);
    sizes += c.sizeEstimate;
  });
  assert.equal(s.clusters[0].profile.description, SEGMENTS[0].description);
  assert.equal(s.clusters[0].profile.approach, SEGMENTS[0].approach);
  // outliers teach the model nothing: only normal customers are counted in a segment
  assert.equal(sizes, N - outliers);
  await srv.stop();
});

test('insights: teamStatus, customerSegments and recentAnomalies agree with their own endpoints', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const srv = await h.start({ dataDir: dir });
  await addTeam(srv, admin, TEAM5);
  await srv.post(`${API}/analyze-customer`, SEED_CUSTOMER);
  await srv.post(`${API}/analyze-customer`, FRAUD_CUSTOMER);
  const r = await srv.get(`${API}/insights`);
  checkJsonResponse(r);
  assert.deepEqual(Object.keys(r.body).sort(), ['customerSegments', 'recentAnomalies', 'teamStatus']);
  const ts = await srv.get(`${API}/team-status`);
  const seg = await srv.get(`${API}/customer-segments`);
  const an = await srv.get(`${API}/anomalies`);
  assert.deepEqual(r.body.teamStatus, ts.body);
  assert.deepEqual(r.body.customerSegments, seg.body.segments);
  assert.ok(Array.isArray(r.body.recentAnomalies));
  assert.ok(r.body.recentAnomalies.length >= 1);
  assert.deepEqual(r.body.recentAnomalies, an.body.anomalies.slice(0, r.body.recentAnomalies.length));
  await srv.stop();
});

test('add-salesperson (201), salespeople, DELETE salesperson/:id, reset', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const srv = await h.start({ dataDir: dir });

  const add = await srv.post(`${API}/add-salesperson`, { id: 'sp-999', name: 'New Salesperson', skillLevel: 0.6, naturalFrequency: 0.9 }, { token: admin });
  checkJsonResponse(add, 201);
  assert.deepEqual(add.body, { status: 'added', id: 'sp-999', name: 'New Salesperson' });
  // naturalFrequency is optional (default 0.9)
  const add2 = await srv.post(`${API}/add-salesperson`, { id: 'sp-1000', name: 'Défaut Ñame', skillLevel: 0.4 }, { token: admin });
  checkJsonResponse(add2, 201);
  assert.deepEqual(add2.body, { status: 'added', id: 'sp-1000', name: 'Défaut Ñame' });

  const list = await srv.get(`${API}/salespeople`);
  checkJsonResponse(list);
  assert.equal(list.body.total, 2);
  assert.deepEqual(list.body.salespeople.map((x) => x.id), ['sp-999', 'sp-1000']);
  const sp = list.body.salespeople[1];
  assert.equal(sp.name, 'Défaut Ñame');
  assert.equal(sp.skillLevel, 0.4);
  assert.equal(sp.naturalFrequency, 0.9);
  assert.equal(sp.activeDeals, 0);
  assert.equal(sp.dealsToday, 0);
  assert.equal((await srv.get(`${API}/team-status`)).body.totalSalespeople, 2);

  const del = await srv.del(`${API}/salesperson/sp-999`, { token: admin });
  checkJsonResponse(del);
  assert.deepEqual(del.body, { status: 'removed', id: 'sp-999' });
  const list2 = await srv.get(`${API}/salespeople`);
  assert.deepEqual(list2.body.salespeople.map((x) => x.id), ['sp-1000']);
  assert.equal((await srv.get(`${API}/team-status`)).body.totalSalespeople, 1);
  const gone = await srv.post(`${API}/deal-closed`, { salespersonId: 'sp-999' });
  assert.equal(gone.status, 404);

  await srv.post(`${API}/analyze-customer`, SEED_CUSTOMER);
  await srv.post(`${API}/analyze-customer`, FRAUD_CUSTOMER);
  const reset = await srv.post(`${API}/reset`, undefined, { token: admin });
  checkJsonResponse(reset);
  assert.equal(reset.body.status, 'reset');
  assert.match(reset.body.timestamp, ISO_RE);
  const seg = await srv.get(`${API}/customer-segments`);
  assert.equal(seg.body.segments.totalCustomersProcessed, 0);
  assert.equal(seg.body.segments.outliersDetected, 0);
  assert.ok(seg.body.segments.clusters.every((c) => c.sizeEstimate === 0));
  assert.equal((await srv.get(`${API}/anomalies`)).body.total, 0);
  await srv.stop();
});

test('coherence-history: {hours, samples[]} with the default and a given window', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const srv = await h.start();
  const d = await srv.get(`${API}/coherence-history`);
  checkJsonResponse(d);
  assert.equal(d.body.hours, 24);
  assert.deepEqual(d.body.samples, []);
  const w = await srv.get(`${API}/coherence-history?hours=168`);
  checkJsonResponse(w);
  assert.equal(w.body.hours, 168);
  assert.ok(Array.isArray(w.body.samples));
  await srv.stop();
});

test('/healthz, /metrics (Prometheus text with its metric names and counts), /api/openapi.json, HEAD', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const srv = await h.start();
  const hz = await srv.get('/healthz');
  checkJsonResponse(hz);
  assert.equal(hz.body.status, 'ok');
  assert.ok(isInt(hz.body.lastSeq) && isInt(hz.body.snapshots));

  for (let i = 0; i < 3; i++) await srv.post(`${API}/analyze-customer`, customer(i));
  await srv.post(`${API}/analyze-customer`, FRAUD_CUSTOMER);
  await srv.post(`${API}/analyze-customer`, { ...SEED_CUSTOMER, creditScore: 10 });
  const hz2 = await srv.get('/healthz');
  assert.equal(hz2.body.lastSeq, hz.body.lastSeq + 4);

  const m = await srv.get('/metrics');
  assert.equal(m.status, 200);
  assert.match(m.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const names = [
    'whaco_http_requests_total',
    'whaco_http_request_duration_seconds',
    'whaco_events_applied_total',
    'whaco_events_rejected_total',
    'whaco_commit_batch_size',
    'whaco_commit_seconds',
    'whaco_snapshots_total',
    'whaco_log_sequence',
    'whaco_storage_failed',
    'whaco_storage_failures_total',
    'whaco_storage_recoveries_total',
    'whaco_customers_processed_total',
    'whaco_outliers_detected_total',
    'whaco_salespeople',
    'whaco_team_coherence',
  ];
  for (const n of names) {
    assert.match(m.text, new RegExp(`^# TYPE ${n} (counter|gauge|histogram)$`, 'm'), n);
    assert.match(m.text, new RegExp(`^# HELP ${n} .+$`, 'm'), n);
  }
  // Every sample line is valid exposition text.
  const sample = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? -?[0-9.e+-]+$/;
  for (const line of m.text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    assert.match(line, sample);
  }
  const value = (re) => {
    const mm = new RegExp(`^${re} (\\S+)$`, 'm').exec(m.text);
    assert.ok(mm, re);
    return Number(mm[1]);
  };
  assert.equal(value('whaco_customers_processed_total'), 4);
  assert.equal(value('whaco_outliers_detected_total'), 1);
  assert.equal(value('whaco_salespeople'), 0);
  assert.equal(value('whaco_log_sequence'), hz2.body.lastSeq);
  assert.equal(value('whaco_events_applied_total\\{type="analyze"\\}'), 4);
  assert.equal(value('whaco_events_rejected_total'), 0);
  assert.equal(value('whaco_http_requests_total\\{route="/api/intelligence/analyze-customer",status="200"\\}'), 4);
  assert.equal(value('whaco_http_requests_total\\{route="/api/intelligence/analyze-customer",status="400"\\}'), 1);
  assert.equal(value('whaco_storage_failed'), 0);
  assert.equal(value('whaco_storage_failures_total'), 0);

  const o = await srv.get('/api/openapi.json');
  checkJsonResponse(o);

  const head = await srv.request('HEAD', `${API}/team-status`);
  assert.equal(head.status, 200);
  assert.equal(head.text, '');
  await srv.stop();
});

// ---- The seed's four integration examples, as client code ---------------

/** The seed's fetch(path, init), aimed at srv and bounded by the fetch timeout. */
const seedFetch = (srv) => (p, init) => globalThis.fetch(srv.base + p, { ...init, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });

test('seed example 1: new customer arrives (no tradeValue sent)', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const srv = await h.start({ dataDir: dir });
  await addTeam(srv, admin, TEAM5);
  const fetch = seedFetch(srv);
  const printed = [];
  const alerts = [];
  const console = { log: (s) => printed.push(s) };
  const alert = (s) => alerts.push(s);

  // ---- the seed's code
  const analysis = await fetch('/api/intelligence/analyze-customer', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      customerId: 'cust-123',
      creditScore: 720,
      annualIncome: 75000,
      vehiclePrice: 28000,
      downPayment: 3000,
      visitCount: 1,
      timeOnLot: 30,
      engagement: 0.7,
    }),
  }).then((r) => r.json());

  console.log(`Segment: ${analysis.customerAnalysis.clusterName}`);
  console.log(`Priority: ${analysis.customerAnalysis.priorityScore}`);
  console.log(`Assign to: ${analysis.assignedTo}`);

  if (analysis.customerAnalysis.isOutlier) {
    alert(`⚠️ ANOMALY: ${analysis.customerAnalysis.outlierReason}`);
  }

  // Show recommended actions
  analysis.recommendedActions.forEach((action) => {
    console.log(`• ${action}`);
  });
  // ---- end of the seed's code

  assert.equal(printed[0], 'Segment: Prime Buyers');
  assert.equal(printed[1], 'Priority: 0.95');
  assert.match(printed[2], /^Assign to: sp-[1-5]$/);
  assert.deepEqual(alerts, []);
  assert.deepEqual(printed.slice(3), PRIME_ACTIONS.map((a) => `• ${a}`));
  await srv.stop();
});

test('seed example 2: monitor team status (dashboard rendering)', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const srv = await h.start({ dataDir: dir });
  await addTeam(srv, admin, [
    { id: 'sp-123', name: 'Jane Smith', skillLevel: 0.9, naturalFrequency: 0.9, phase: 1.0 },
    { id: 'sp-789', name: 'Bob Johnson', skillLevel: 0.5, naturalFrequency: 0.9 },
    { id: 'sp-456', name: 'John Doe', skillLevel: 0.85, naturalFrequency: 0.9, phase: 0.3, activeDeals: 6 },
  ]);
  const fetch = seedFetch(srv);
  // A tiny stand-in for react-query and JSX: run the query, render to text.
  const useQuery = async ({ queryFn }) => ({ data: await queryFn() });
  const rendered = [];
  const TeamCoherenceMeter = ({ coherence, status }) => rendered.push(`meter ${coherence} ${status}`);
  const Alert = ({ variant, children }) => rendered.push(`alert(${variant}) ${children.join('')}`);
  const Card = ({ children }) => rendered.push(`card ${children}`);

  // ---- the seed's code
  const { data: teamStatus } = await useQuery({
    queryKey: ['team-status'],
    queryFn: () => fetch('/api/intelligence/team-status').then((r) => r.json()),
    refetchInterval: 60000, // Refresh every minute
  });

  TeamCoherenceMeter({ coherence: teamStatus.coherence, status: teamStatus.status });

  teamStatus.bottlenecks.map((bottleneck) => Alert({ variant: 'warning', children: [bottleneck.name, ': ', bottleneck.issue] }));

  teamStatus.mentoringOpportunities.map((rec) => Card({ children: `💡 ${rec.recommendation}` }));
  // ---- end of the seed's code

  assert.match(rendered[0], /^meter 0\.\d+ (excellent|good|needs_attention|critical)$/);
  assert.ok(rendered.includes('alert(warning) John Doe: Overloaded - too many active deals'), rendered.join('\n'));
  assert.ok(rendered.includes('card 💡 Jane Smith can help Bob Johnson move deals faster'), rendered.join('\n'));
  assert.ok(!rendered.some((x) => x.includes('undefined')), rendered.join('\n'));
  await srv.stop();
});

test('seed example 3: record deal outcome', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const srv = await h.start({ dataDir: dir });
  await addTeam(srv, admin, TEAM5);
  const fetch = seedFetch(srv);
  const responses = [];
  const spy = async (p, init) => {
    const r = await fetch(p, init);
    responses.push(r.status);
    return r;
  };

  // ---- the seed's code (with the spy standing in for fetch)
  async function handleDealClosed(dealId, salespersonId) {
    await spy('/api/intelligence/deal-closed', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ dealId, salespersonId }),
    });
  }
  // ---- end of the seed's code

  await handleDealClosed('deal-456', 'sp-3');
  await handleDealClosed('deal-457', 'sp-3');
  await handleDealClosed('deal-458', 'sp-1');
  assert.deepEqual(responses, [200, 200, 200]);
  const ts = (await srv.get(`${API}/team-status`)).body;
  const by = Object.fromEntries(ts.teamMembers.map((m) => [m.id, m]));
  assert.equal(by['sp-3'].dealsToday, 2);
  assert.equal(by['sp-1'].dealsToday, 1);
  assert.equal(by['sp-2'].dealsToday, 0);
  assert.equal(by['sp-3'].status, 'crushing_it');
  await srv.stop();
});

test('seed example 4: view customer segments (pie chart and segment cards)', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const srv = await h.start();
  for (let i = 0; i < 12; i++) await srv.post(`${API}/analyze-customer`, customer(i));
  const fetch = seedFetch(srv);
  const getColorForPriority = (p) => (p >= 0.9 ? 'green' : p >= 0.7 ? 'blue' : p >= 0.5 ? 'orange' : 'grey');
  const charts = [];
  const cards = [];
  const PieChart = ({ data }) => charts.push(data);
  const SegmentCard = (props) => cards.push(props);

  // ---- the seed's code
  const segments = await fetch('/api/intelligence/customer-segments').then((r) => r.json());

  PieChart({
    data: segments.segments.clusters.map((cluster) => ({
      name: cluster.profile.name,
      value: cluster.sizeEstimate,
      color: getColorForPriority(cluster.profile.priority),
    })),
  });

  segments.segments.clusters.map((cluster) =>
    SegmentCard({
      name: cluster.profile.name,
      description: cluster.profile.description,
      size: cluster.sizeEstimate,
      priority: cluster.profile.priority,
      approach: cluster.profile.approach,
    }),
  );
  // ---- end of the seed's code

  assert.equal(charts.length, 1);
  assert.deepEqual(charts[0].map((d) => d.name), SEGMENTS.map((s) => s.name));
  assert.deepEqual(charts[0].map((d) => d.color), ['green', 'blue', 'grey', 'orange', 'blue']);
  const total = charts[0].reduce((s, d) => s + d.value, 0);
  assert.equal(total, segments.segments.totalCustomersProcessed - segments.segments.outliersDetected);
  assert.equal(segments.segments.totalCustomersProcessed, 12);
  assert.equal(cards.length, 5);
  for (const c of cards) {
    for (const k of ['name', 'description', 'approach']) assert.ok(typeof c[k] === 'string' && c[k].length > 0, k);
    assert.ok(Number.isInteger(c.size));
    assert.ok(typeof c.priority === 'number');
  }
  assert.deepEqual(cards.map((c) => c.priority), [0.95, 0.85, 0.3, 0.6, 0.8]);
  await srv.stop();
});
