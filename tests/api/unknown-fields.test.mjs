// unknown-fields.test.mjs: analyze-customer with what is known (issue 13).
// Any of the eight numbers may be unknown -- absent or null, but an absent
// tradeValue keeps the seed's meaning (no trade-in) -- the answer lists
// missingFields, a customer with no known feature is refused, the anomaly
// feed shows unknown features as null, and all of it survives a restart
// (the event log's and the snapshot's formats carry the unknown fields).
import assert from 'node:assert/strict';
import test from 'node:test';

import { API, SEED_CUSTOMER, TEAM5, addTeam, checkError, harness, runWhaco, TEST_TIMEOUT_MS } from './helpers.mjs';
import { collectEvents } from './floorkit.mjs';

const ANALYZE = `${API}/analyze-customer`;
const FIELDS = ['creditScore', 'annualIncome', 'vehiclePrice', 'downPayment', 'tradeValue', 'visitCount', 'timeOnLot', 'engagement'];

/** The seed's customer with fields overridden (undefined removes one). */
function seedWith(over) {
  const c = { ...SEED_CUSTOMER, ...over };
  for (const [k, v] of Object.entries(over)) if (v === undefined) delete c[k];
  return c;
}

/** A server with a team and the admin token (for reset, which also empties the team). */
async function start(t, opts = {}) {
  const h = harness(t);
  const dir = opts.dataDir || (await h.tmpdir());
  const admin = await h.token(dir, 'admin');
  const srv = await h.start({ dataDir: dir });
  await addTeam(srv, admin, TEAM5);
  return { h, dir, admin, srv };
}

/** analyze-customer on a fresh model (reset first): its customerAnalysis. */
async function fresh(srv, admin, body) {
  const reset = await srv.post(`${API}/reset`, undefined, { token: admin });
  assert.equal(reset.status, 200, reset.text);
  const r = await srv.post(ANALYZE, body);
  assert.equal(r.status, 200, r.text);
  return r.body.customerAnalysis;
}

test("the seed's full request is answered as before, with missingFields []; an absent tradeValue is still 0", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { srv, admin } = await start(t);
  const full = await fresh(srv, admin, SEED_CUSTOMER);
  assert.deepEqual(full.missingFields, []);
  assert.equal(full.clusterId, 0);
  assert.equal(full.clusterName, 'Prime Buyers');
  assert.equal(full.isOutlier, false);
  assert.ok(full.confidence > 0.9, `confidence ${full.confidence}`);
  // Every field of the seed's customerAnalysis, then the addition.
  assert.deepEqual(Object.keys(full), [
    'clusterId', 'clusterName', 'clusterDescription', 'isOutlier', 'outlierReason', 'confidence',
    'recommendedApproach', 'priorityScore', 'outlierScore', 'missingFields', 'closeProbability',
  ]);

  // No tradeValue: no trade-in, as in the seed -- exactly tradeValue 0.
  const zero = await fresh(srv, admin, seedWith({ tradeValue: 0 }));
  const absent = await fresh(srv, admin, seedWith({ tradeValue: undefined }));
  assert.deepEqual(absent, zero);
  assert.deepEqual(absent.missingFields, []);
  // An explicit null is unknown.
  const unknown = await fresh(srv, admin, seedWith({ tradeValue: null }));
  assert.deepEqual(unknown.missingFields, ['tradeValue']);
  assert.notDeepEqual(unknown, zero);
  await srv.stop();
});

test('absent or null fields are unknown: the customer is segmented on the rest and missingFields lists them', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { srv, admin } = await start(t);
  const full = await fresh(srv, admin, SEED_CUSTOMER);

  // At the desk on arrival: no credit, income, time on the lot or engagement.
  const arrival = await fresh(srv, admin, seedWith({ creditScore: undefined, annualIncome: null, timeOnLot: undefined, engagement: null }));
  assert.deepEqual(arrival.missingFields, ['creditScore', 'annualIncome', 'timeOnLot', 'engagement']);
  assert.ok(arrival.confidence >= 0 && arrival.confidence <= 1);
  assert.ok(arrival.outlierScore >= 0);
  assert.equal(arrival.isOutlier, false);

  // A web lead: one visit and nothing else. With one feature the model can say little.
  const r = await srv.post(ANALYZE, { customerId: 'lead-1', visitCount: 1 });
  assert.equal(r.status, 200, r.text);
  const lead = r.body.customerAnalysis;
  assert.deepEqual(lead.missingFields, FIELDS.filter((f) => f !== 'visitCount' && f !== 'tradeValue'));
  assert.ok(lead.confidence < full.confidence, `one feature: confidence ${lead.confidence}, all eight: ${full.confidence}`);
  assert.ok(lead.confidence < 0.9, `one feature: confidence ${lead.confidence}`);
  assert.ok(Array.isArray(r.body.recommendedActions) && r.body.recommendedActions.length >= 3);

  // Every field null but one: the same as every field absent but one.
  const nulls = Object.fromEntries(FIELDS.map((f) => [f, null]));
  const viaNull = await fresh(srv, admin, { ...nulls, vehiclePrice: 28000 });
  const viaAbsent = await fresh(srv, admin, { vehiclePrice: 28000, tradeValue: null });
  assert.deepEqual(viaNull, viaAbsent);
  assert.deepEqual(viaNull.missingFields, FIELDS.filter((f) => f !== 'vehiclePrice'));

  // Known fields are checked as before; an unknown one is not looked at.
  checkError(assert, await srv.post(ANALYZE, { visitCount: 1, engagement: 2 }), 400, 'ENGAGEMENT_RANGE', 'engagement');
  checkError(assert, await srv.post(ANALYZE, { vehiclePrice: 20000, downPayment: 30000 }), 400, 'DOWN_EXCEEDS_PRICE', 'downPayment');
  checkError(assert, await srv.post(ANALYZE, { visitCount: '1' }), 400, 'WRONG_TYPE', 'visitCount');
  const noPrice = await srv.post(ANALYZE, { downPayment: 30000, visitCount: 2 });
  assert.equal(noPrice.status, 200, noPrice.text);
  assert.deepEqual(noPrice.body.customerAnalysis.missingFields, ['creditScore', 'annualIncome', 'vehiclePrice', 'timeOnLot', 'engagement']);
  await srv.stop();
});

test('a customer with no known feature is refused (400 NO_KNOWN_FEATURE, no field) and changes nothing', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { srv } = await start(t);
  const ok = await srv.post(ANALYZE, SEED_CUSTOMER);
  assert.equal(ok.status, 200, ok.text);
  const before = (await srv.get(`${API}/customer-segments`)).text;
  const hz = (await srv.get('/healthz')).body;
  const nulls = Object.fromEntries(FIELDS.map((f) => [f, null]));
  for (const body of [
    {},
    { customerId: 'c-1' },
    { customerId: 'c-1', ...nulls },
    { downPayment: 3000, tradeValue: 5000 }, // shares of a price nobody gave
    { vehiclePrice: null, downPayment: 3000, creditScore: null },
  ]) {
    const r = await srv.post(ANALYZE, body);
    checkError(assert, r, 400, 'NO_KNOWN_FEATURE');
    assert.match(r.body.error.message, /no feature of the customer is known/);
    assert.match(r.body.error.message, /creditScore, annualIncome, vehiclePrice, visitCount, timeOnLot, engagement/);
  }
  assert.equal((await srv.get(`${API}/customer-segments`)).text, before);
  assert.equal((await srv.get('/healthz')).body.lastSeq, hz.lastSeq);
  await srv.stop();
});

test('an anomaly with unknown fields: null features in the feed, missingFields in the event, and both after a restart', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { h, dir, srv: first } = await start(t);
  let srv = first;
  const stream = await collectEvents(srv);
  assert.equal(stream.status, 200);

  const odd = { customerId: 'odd-1', annualIncome: 5000000, vehiclePrice: 400000 };
  const r = await srv.post(ANALYZE, odd);
  assert.equal(r.status, 200, r.text);
  const ca = r.body.customerAnalysis;
  assert.equal(ca.isOutlier, true, JSON.stringify(ca));
  assert.deepEqual(ca.missingFields, ['creditScore', 'downPayment', 'visitCount', 'timeOnLot', 'engagement']);
  // Only known features can stand out.
  assert.match(ca.outlierReason, /^(Income|Price) significantly different( \| (Income|Price) significantly different)?$/);

  const ev = await stream.waitFor((e) => e.event === 'analyzed-customer' && e.data.customerId === 'odd-1');
  assert.deepEqual(ev.data.missingFields, ca.missingFields);
  const evFull = srv.post(ANALYZE, { ...SEED_CUSTOMER, customerId: 'full-1' });
  assert.equal((await evFull).status, 200);
  const ev2 = await stream.waitFor((e) => e.event === 'analyzed-customer' && e.data.customerId === 'full-1');
  assert.deepEqual(ev2.data.missingFields, []);
  stream.close();

  const feed = await srv.get(`${API}/anomalies`);
  assert.equal(feed.status, 200);
  const a = feed.body.anomalies.find((x) => x.customerId === 'odd-1');
  assert.ok(a, feed.text);
  assert.deepEqual(a.features, {
    ficoScore: null,
    income: 5000000,
    vehiclePrice: 400000,
    downPayment: null,
    downPaymentPercent: null,
    tradeValue: 0, // absent: no trade-in
    visitCount: null,
    timeOnLot: null,
    engagement: null,
  });

  // The log and the snapshot keep what was unknown.
  const reads = [`${API}/anomalies?limit=256`, `${API}/customer-segments`];
  const before = await Promise.all(reads.map(async (p) => (await srv.get(p)).text));
  await srv.stop();
  srv = await h.start({ dataDir: dir });
  const after = await Promise.all(reads.map(async (p) => (await srv.get(p)).text));
  assert.deepEqual(after, before);
  await srv.stop();
  // ...and the state is what replaying the whole log gives.
  const verify = await runWhaco(['state', 'verify', '--data', dir]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  const log = await runWhaco(['log', '--data', dir]);
  assert.equal(log.code, 0, log.stderr);
  assert.match(log.stdout, /"customerId":"odd-1","missingFields":\["creditScore","downPayment","visitCount","timeOnLot","engagement"\]/);
});
