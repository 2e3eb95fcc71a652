// learning.test.mjs: what whaco learns from the floor's outcomes, through the
// API (docs/learning.md): closeProbability starts at the industry's 20% and
// moves with the dealership's own outcomes; customer-segments' observedCloseRate
// and outcomesRecorded, and observedSkill on team-status and the up board,
// count each ended walk-in once; a walk-in analysed again in its visit is
// learned by the segmenter once; all of it survives a restart.
import assert from 'node:assert/strict';
import test from 'node:test';

import { API, SEED_CUSTOMER, TEAM5, addTeam, harness, TEST_TIMEOUT_MS } from './helpers.mjs';
import { FLOOR } from './floorkit.mjs';

const SEGMENTS = `${API}/customer-segments`;

async function ok(resPromise, status = 200) {
  const res = await resPromise;
  assert.equal(res.status, status, res.text);
  return res.body;
}

/** The seed's customer as walk-in id. */
function walkIn(id, extra = {}) {
  return { ...SEED_CUSTOMER, customerId: id, ...extra };
}

async function segments(srv) {
  const s = (await ok(srv.get(SEGMENTS))).segments;
  return {
    total: s.totalCustomersProcessed,
    outcomes: s.clusters.reduce((n, c) => n + c.outcomesRecorded, 0),
    byName: Object.fromEntries(s.clusters.map((c) => [c.profile.name, c])),
  };
}

test('closeProbability, observedCloseRate and observedSkill learn from outcomes, once per walk-in, and survive a restart', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  let srv = await h.start({ dataDir: dir });
  await addTeam(srv, admin, TEAM5.slice(0, 2));
  await ok(srv.post(FLOOR.clockIn, { salespersonId: 'sp-1' }));

  // Before any outcome: the prior everywhere.
  const first = await ok(srv.post(FLOOR.analyze, walkIn('w-0')));
  const segName = first.customerAnalysis.clusterName;
  assert.equal(first.customerAnalysis.closeProbability, 0.2);
  assert.equal(first.assignedTo, 'sp-1');
  let seg = await segments(srv);
  assert.equal(seg.outcomes, 0);
  for (const c of Object.values(seg.byName)) assert.equal(c.observedCloseRate, null);
  let team = await ok(srv.get(FLOOR.teamStatus));
  for (const m of team.teamMembers) {
    for (const cell of Object.values(m.observedSkill)) assert.deepEqual(cell, { rate: 0.2, outcomes: 0 });
  }

  // A linked sale: one outcome, sold, counted for sp-1.
  await ok(srv.post(FLOOR.deal, { salespersonId: 'sp-1', customerId: 'w-0', dealId: 'd-1' }));
  seg = await segments(srv);
  assert.equal(seg.outcomes, 1);
  assert.equal(seg.byName[segName].observedCloseRate, 1);
  team = await ok(srv.get(FLOOR.teamStatus));
  const sp1 = team.teamMembers.find((m) => m.id === 'sp-1');
  assert.equal(sp1.observedSkill[segName].outcomes, 1);
  assert.ok(sp1.observedSkill[segName].rate > 0.2 && sp1.observedSkill[segName].rate < 1, JSON.stringify(sp1.observedSkill));
  const board = await ok(srv.get(FLOOR.board));
  assert.deepEqual(board.salespeople.find((p) => p.id === 'sp-1').observedSkill, sp1.observedSkill);
  const afterSale = (await ok(srv.post(FLOOR.analyze, walkIn('probe-1')))).customerAnalysis.closeProbability;
  assert.ok(afterSale > 0.2, `one sale should raise the chance: ${afterSale}`);
  await ok(srv.post(FLOOR.left, { customerId: 'probe-1', outcome: 'no_sale' }));

  // Ten walk-ins like it leave without buying: the chance falls, the rate is 1 of 12.
  for (let k = 0; k < 10; k++) {
    await ok(srv.post(FLOOR.analyze, walkIn(`n-${k}`)));
    await ok(srv.post(FLOOR.left, { customerId: `n-${k}`, outcome: k % 2 ? 'be_back' : 'no_sale' }));
  }
  seg = await segments(srv);
  assert.equal(seg.outcomes, 12);
  assert.equal(seg.byName[segName].outcomesRecorded, 12);
  assert.ok(Math.abs(seg.byName[segName].observedCloseRate - 1 / 12) < 1e-4, String(seg.byName[segName].observedCloseRate));
  const afterLosses = (await ok(srv.post(FLOOR.analyze, walkIn('probe-2')))).customerAnalysis.closeProbability;
  assert.ok(afterLosses < afterSale, `${afterLosses} should be below ${afterSale}`);

  // A second answer for an ended walk-in is refused and teaches nothing.
  const again = await srv.post(FLOOR.left, { customerId: 'n-0', outcome: 'no_sale' });
  assert.equal(again.status, 409);
  assert.equal((await segments(srv)).outcomes, 12);

  // Re-analysis: an incomplete first look is not learned; the complete one is, once.
  const before = (await segments(srv)).total;
  const partial = await ok(srv.post(FLOOR.analyze, { customerId: 'r-1', engagement: 0.7, visitCount: 2 }));
  // (an absent tradeValue still means no trade-in: known, 0)
  assert.deepEqual(partial.customerAnalysis.missingFields, ['creditScore', 'annualIncome', 'vehiclePrice', 'downPayment', 'timeOnLot']);
  assert.equal((await segments(srv)).total, before);
  const full = await ok(srv.post(FLOOR.analyze, walkIn('r-1')));
  assert.deepEqual(full.customerAnalysis.missingFields, []);
  assert.equal(full.assignedTo, partial.assignedTo);
  assert.equal(full.queuePosition, partial.queuePosition);
  assert.equal((await segments(srv)).total, before + 1);
  await ok(srv.post(FLOOR.analyze, walkIn('r-1', { engagement: 0.9 })));
  assert.equal((await segments(srv)).total, before + 1);

  // Everything learned is in the saved state.
  const probe = (await ok(srv.post(FLOOR.analyze, walkIn('probe-3')))).customerAnalysis.closeProbability;
  const segBefore = (await ok(srv.get(SEGMENTS))).segments;
  const teamBefore = (await ok(srv.get(FLOOR.teamStatus))).teamMembers.map((m) => m.observedSkill);
  await srv.stop();
  srv = await h.start({ dataDir: dir });
  const segAfter = (await ok(srv.get(SEGMENTS))).segments;
  assert.deepEqual(segAfter.clusters, segBefore.clusters);
  assert.deepEqual((await ok(srv.get(FLOOR.teamStatus))).teamMembers.map((m) => m.observedSkill), teamBefore);
  const reprobe = (await ok(srv.post(FLOOR.analyze, walkIn('probe-3')))).customerAnalysis.closeProbability;
  assert.equal(reprobe, probe);
  await srv.stop();
});
