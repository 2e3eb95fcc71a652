// openapi.test.mjs: GET /api/openapi.json is the repository's OpenAPI 3
// document, lists every endpoint with the method the server answers, and
// every live response (success and error) matches the schema documented for
// its status, with no undocumented fields.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

import { API, FRAUD_CUSTOMER, SEED_CUSTOMER, TEAM5, addTeam, customer, harness, sleep, TEST_TIMEOUT_MS } from './helpers.mjs';
import { armOf, collectEvents } from './floorkit.mjs';
import { METHODS, deref, fetchDoc, liveChecker, makeValidator, undocumented } from './openapikit.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO_DOC = path.resolve(here, '../../api/openapi.json');

/** Every endpoint (OpenAPI path template) and the one method it answers. */
const ENDPOINTS = {
  [`${API}/analyze-customer`]: 'post',
  [`${API}/team-status`]: 'get',
  [`${API}/customer-segments`]: 'get',
  [`${API}/anomalies`]: 'get',
  [`${API}/deal-closed`]: 'post',
  [`${API}/insights`]: 'get',
  [`${API}/add-salesperson`]: 'post',
  [`${API}/salesperson/{id}`]: 'delete',
  [`${API}/reset`]: 'post',
  [`${API}/salespeople`]: 'get',
  [`${API}/coherence-history`]: 'get',
  [`${API}/clock-in`]: 'post',
  [`${API}/clock-out`]: 'post',
  [`${API}/salesperson-status`]: 'post',
  [`${API}/customer-left`]: 'post',
  [`${API}/assign`]: 'post',
  [`${API}/up-board`]: 'get',
  [`${API}/outcomes`]: 'post',
  [`${API}/experiment`]: 'get',
  '/healthz': 'get',
  '/metrics': 'get',
  '/api/openapi.json': 'get',
};

/** Up to 20 JSON-pointer-like paths where a and b differ. */
function diff(a, b, where = '', out = []) {
  if (out.length >= 20) return out;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!(k in a)) out.push(`${where}/${k} (only in the repository)`);
      else if (!(k in b)) out.push(`${where}/${k} (only in the served document)`);
      else diff(a[k], b[k], `${where}/${k}`, out);
      if (out.length >= 20) break;
    }
  } else if (JSON.stringify(a) !== JSON.stringify(b)) out.push(where || '/');
  return out;
}

test('GET /api/openapi.json: an OpenAPI 3.x document with every endpoint, its method, parameters and bearer auth', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const srv = await h.start();
  const doc = await fetchDoc(srv);
  assert.match(String(doc.openapi), /^3\.(0|1)\.\d+$/, `openapi: ${doc.openapi}`);
  assert.equal(typeof doc.info?.title, 'string');
  assert.equal(typeof doc.info?.version, 'string');
  assert.ok(doc.paths && typeof doc.paths === 'object');
  const missing = Object.keys(ENDPOINTS).filter((p) => !(p in doc.paths));
  assert.deepEqual(missing, [], 'endpoints missing from the document');
  // Paths documented beyond this list must at least exist on the server.
  for (const p of Object.keys(doc.paths).filter((x) => !(x in ENDPOINTS))) {
    const method = Object.keys(doc.paths[p]).find((k) => METHODS.includes(k));
    assert.ok(method, `${p}: no operation`);
    const url = p.replace(/\{[^}]+\}/g, 'x');
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 5000);
    const r = await fetch(srv.base + url, { method: method.toUpperCase(), signal: ac.signal });
    const status = r.status;
    ac.abort(); // a stream (e.g. Server-Sent Events) need not be read
    clearTimeout(timer);
    assert.notEqual(status, 404, `${p} is documented but the server has no such endpoint`);
  }
  await srv.stop();
  for (const [p, method] of Object.entries(ENDPOINTS)) {
    const item = doc.paths[p];
    const ops = Object.keys(item).filter((k) => METHODS.includes(k));
    assert.deepEqual(ops, [method], `${p}: documented methods`);
    const op = item[method];
    const ok = method === 'post' && p.endsWith('add-salesperson') ? '201' : '200';
    assert.ok(op.responses?.[ok], `${p}: no ${ok} response`);
    for (const status of Object.keys(op.responses)) {
      const resp = deref(doc, op.responses[status]);
      assert.equal(typeof resp.description, 'string', `${p} ${status}: description`);
    }
    if (method === 'post' && !p.endsWith('/reset')) {
      const body = deref(doc, op.requestBody);
      const type = p.endsWith('/outcomes') ? 'text/csv' : 'application/json'; // a CRM's CSV file
      assert.ok(body?.content?.[type]?.schema, `${p}: request body schema`);
    }
  }
  // All $refs resolve.
  const walk = (o) => {
    if (Array.isArray(o)) o.forEach(walk);
    else if (o && typeof o === 'object') {
      if (typeof o.$ref === 'string') deref(doc, o);
      Object.values(o).forEach(walk);
    }
  };
  walk(doc);
  // Query parameters as the server applies them.
  const param = (p, name) => deref(doc, (doc.paths[p].get.parameters || []).map((x) => deref(doc, x)).find((x) => x.name === name));
  const limit = param(`${API}/anomalies`, 'limit');
  assert.ok(limit, 'anomalies: limit parameter');
  assert.equal(limit.in, 'query');
  assert.equal(limit.schema.default, 20);
  assert.equal(limit.schema.minimum, 1);
  assert.equal(limit.schema.maximum, 256);
  const hours = param(`${API}/coherence-history`, 'hours');
  assert.ok(hours, 'coherence-history: hours parameter');
  assert.equal(hours.schema.default, 24);
  assert.equal(hours.schema.minimum, 1);
  assert.equal(hours.schema.maximum, 168);
  // Bearer auth is described.
  const schemes = Object.values(doc.components?.securitySchemes || {});
  assert.ok(schemes.some((s) => s.type === 'http' && /^bearer$/i.test(s.scheme)), 'bearer security scheme');
});

test('the served document is api/openapi.json as committed in the repository (the binary is not stale)', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const srv = await h.start();
  const doc = await fetchDoc(srv);
  await srv.stop();
  const repo = JSON.parse(await readFile(REPO_DOC, 'utf8'));
  const diffs = diff(doc, repo);
  assert.deepEqual(diffs, [], `the served document differs from api/openapi.json at ${diffs.join(', ')}: rebuild whaco`);
});

test('request schemas agree with the server on the seed examples and on range rules', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const srv = await h.start();
  const doc = await fetchDoc(srv);
  await srv.stop();
  const validate = makeValidator(doc);
  const reqSchema = (p) => deref(doc, doc.paths[p].post.requestBody).content['application/json'].schema;
  const analyze = reqSchema(`${API}/analyze-customer`);
  assert.equal(validate(analyze, SEED_CUSTOMER), null);
  const { tradeValue, ...noTrade } = SEED_CUSTOMER;
  assert.equal(tradeValue, 5000);
  assert.equal(validate(analyze, noTrade), null, 'tradeValue is optional');
  for (const bad of [{ creditScore: 299 }, { creditScore: 851 }, { annualIncome: -1 }, { engagement: 1.5 }, { visitCount: 1.5 }, { creditScore: '720' }]) {
    assert.notEqual(validate(analyze, { ...SEED_CUSTOMER, ...bad }), null, `schema accepts ${JSON.stringify(bad)}`);
  }
  // Any of the eight may be unknown (absent or null) since issue 13 -- this
  // asserted that a missing creditScore was refused -- but one must be known.
  const { creditScore, ...missing } = SEED_CUSTOMER;
  assert.equal(creditScore, 720);
  assert.equal(validate(analyze, missing), null, 'schema refuses a missing creditScore');
  assert.equal(validate(analyze, { ...SEED_CUSTOMER, creditScore: null, timeOnLot: null }), null, 'schema refuses null fields');
  assert.equal(validate(analyze, { visitCount: 1 }), null, 'schema refuses a web lead');
  for (const nothing of [{}, { customerId: 'c-1' }, { downPayment: 3000, tradeValue: 5000 }, { creditScore: null, visitCount: null }]) {
    assert.notEqual(validate(analyze, nothing), null, `schema accepts ${JSON.stringify(nothing)}, which knows nothing`);
  }
  const deal = reqSchema(`${API}/deal-closed`);
  assert.equal(validate(deal, { salespersonId: 'sp-123', dealId: 'deal-456' }), null);
  assert.notEqual(validate(deal, { dealId: 'deal-456' }), null);
  // The checks below are not vacuous: a wrong or extended body is caught.
  const okSchema = (p) => deref(doc, doc.paths[p].post.responses['200']).content['application/json'].schema;
  const recorded = okSchema(`${API}/deal-closed`);
  const good = { status: 'recorded', salespersonId: 'sp-1', dealId: 'd-1', timestamp: '2025-01-17T14:35:00.000Z' };
  assert.equal(validate(recorded, good), null);
  assert.notEqual(validate(recorded, { status: 'recorded' }), null, 'missing fields pass');
  assert.notEqual(validate(recorded, { ...good, timestamp: 5 }), null, 'a wrong type passes');
  assert.deepEqual(undocumented(doc, recorded, { ...good, bogus: 1 }), ['$.bogus']);
  const add = reqSchema(`${API}/add-salesperson`);
  assert.equal(validate(add, { id: 'sp-999', name: 'New Salesperson', skillLevel: 0.6, naturalFrequency: 0.9 }), null);
  assert.notEqual(validate(add, { id: 'sp-999', name: 'New Salesperson', skillLevel: 1.6 }), null);
});

test('every live response matches its documented status, content type and schema, with no undocumented fields', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const read = await h.token(dir, 'read');
  const srv = await h.start({ dataDir: dir, args: ['--tick-interval', '200ms'] });
  const doc = await fetchDoc(srv);
  const validate = makeValidator(doc);
  const failures = [];
  let checked = 0;

  /** Check res against the operation at template p (its one method). */
  const check = (label, p, res) => {
    checked++;
    const item = doc.paths?.[p];
    if (!item) return failures.push(`${label}: path ${p} not documented`);
    const method = ENDPOINTS[p];
    const op = item[method];
    if (!op) return failures.push(`${label}: ${method.toUpperCase()} ${p} not documented`);
    const resp0 = op.responses?.[String(res.status)] ?? op.responses?.default;
    if (!resp0) return failures.push(`${label}: status ${res.status} not documented for ${method.toUpperCase()} ${p}`);
    const resp = deref(doc, resp0);
    const ct = (res.headers.get('content-type') || '').split(';')[0].trim();
    const media = resp.content?.[ct];
    if (!resp.content && res.text === '') return undefined;
    if (!media) return failures.push(`${label}: content type ${ct} not documented for ${res.status} (has ${Object.keys(resp.content || {})})`);
    if (!media.schema) return undefined;
    const value = ct === 'application/json' ? res.body : res.text;
    const err = validate(media.schema, value);
    if (err) failures.push(`${label}: ${res.status} body does not match the schema:\n  ${err}\n  body: ${res.text.slice(0, 400)}`);
    if (ct === 'application/json') {
      const extra = undocumented(doc, media.schema, value);
      if (extra.length) failures.push(`${label}: undocumented fields ${extra.slice(0, 10).join(', ')}`);
    }
    return undefined;
  };
  const A = (s) => `${API}/${s}`;

  // Empty state first.
  check('analyze, no team', A('analyze-customer'), await srv.post(A('analyze-customer'), SEED_CUSTOMER));
  check('team-status, empty', A('team-status'), await srv.get(A('team-status')));
  check('salespeople, empty', A('salespeople'), await srv.get(A('salespeople')));
  check('insights, empty', A('insights'), await srv.get(A('insights')));

  // A team with a bottleneck and mentoring pairs; customers; outliers; deals.
  const add = await srv.post(A('add-salesperson'), { id: 'sp-999', name: 'New Salesperson', skillLevel: 0.6, naturalFrequency: 0.9 }, { token: admin });
  check('add-salesperson', A('add-salesperson'), add);
  await addTeam(srv, admin, [
    ...TEAM5,
    { id: 'sp-busy', name: 'John Doe', skillLevel: 0.3, naturalFrequency: 0.9, phase: 3, activeDeals: 7 },
  ]);
  for (let i = 0; i < 10; i++) check(`analyze ${i}`, A('analyze-customer'), await srv.post(A('analyze-customer'), customer(i)));
  const fraud = await srv.post(A('analyze-customer'), FRAUD_CUSTOMER);
  assert.equal(fraud.body?.customerAnalysis?.isOutlier, true, fraud.text);
  check('analyze, outlier', A('analyze-customer'), fraud);
  check('deal-closed', A('deal-closed'), await srv.post(A('deal-closed'), { salespersonId: 'sp-1', dealId: 'deal-456' }));
  check('deal-closed, no dealId', A('deal-closed'), await srv.post(A('deal-closed'), { salespersonId: 'sp-2' }));
  await sleep(700); // a few ticks: coherence history samples
  const ts = await srv.get(A('team-status'));
  assert.ok(ts.body.bottlenecks.length > 0 && ts.body.mentoringOpportunities.length > 0, ts.text);
  check('team-status', A('team-status'), ts);
  check('customer-segments', A('customer-segments'), await srv.get(A('customer-segments')));
  check('anomalies', A('anomalies'), await srv.get(A('anomalies')));
  check('anomalies?limit=1', A('anomalies'), await srv.get(`${A('anomalies')}?limit=1`));
  check('insights', A('insights'), await srv.get(A('insights')));
  check('salespeople', A('salespeople'), await srv.get(A('salespeople')));
  const hist = await srv.get(`${A('coherence-history')}?hours=2`);
  assert.ok(hist.body.samples.length > 0, hist.text);
  check('coherence-history', A('coherence-history'), hist);
  check('healthz', '/healthz', await srv.get('/healthz'));
  check('metrics', '/metrics', await srv.get('/metrics'));
  check('openapi', '/api/openapi.json', await srv.get('/api/openapi.json'));

  // Errors.
  const json = { 'content-type': 'application/json' };
  check('400 analyze', A('analyze-customer'), await srv.post(A('analyze-customer'), { ...SEED_CUSTOMER, creditScore: 299 }));
  check('400 analyze JSON', A('analyze-customer'), await srv.request('POST', A('analyze-customer'), { body: '{', headers: json }));
  check('400 deal-closed', A('deal-closed'), await srv.post(A('deal-closed'), {}));
  check('400 add-salesperson', A('add-salesperson'), await srv.post(A('add-salesperson'), { id: 'x' }, { token: admin }));
  check('400 anomalies', A('anomalies'), await srv.get(`${A('anomalies')}?limit=0`));
  check('400 coherence-history', A('coherence-history'), await srv.get(`${A('coherence-history')}?hours=999`));
  check('401 reset', A('reset'), await srv.post(A('reset')));
  check('401 add-salesperson', A('add-salesperson'), await srv.post(A('add-salesperson'), { id: 'y', name: 'Y', skillLevel: 0.5 }));
  check('401 DELETE', A('salesperson/{id}'), await srv.del(A('salesperson/sp-1')));
  check('403 reset', A('reset'), await srv.post(A('reset'), undefined, { token: read }));
  check('404 deal-closed', A('deal-closed'), await srv.post(A('deal-closed'), { salespersonId: 'nobody' }));
  check('404 DELETE', A('salesperson/{id}'), await srv.del(A('salesperson/nobody'), { token: admin }));
  check('409 add-salesperson', A('add-salesperson'), await srv.post(A('add-salesperson'), { id: 'sp-1', name: 'Again', skillLevel: 0.5 }, { token: admin }));
  check('413 analyze', A('analyze-customer'), await srv.request('POST', A('analyze-customer'), { body: 'x'.repeat(70000), headers: json }));
  check('413 deal-closed', A('deal-closed'), await srv.request('POST', A('deal-closed'), { body: 'x'.repeat(70000), headers: json }));
  check('415 analyze', A('analyze-customer'), await srv.request('POST', A('analyze-customer'), { body: '{}', headers: { 'content-type': 'text/plain' } }));
  check('415 deal-closed', A('deal-closed'), await srv.request('POST', A('deal-closed'), { body: '{}', headers: { 'content-type': 'text/plain' } }));
  check('415 add-salesperson', A('add-salesperson'), await srv.request('POST', A('add-salesperson'), { body: '{}', token: admin, headers: { 'content-type': 'text/plain' } }));
  for (const [p, method] of Object.entries(ENDPOINTS)) {
    const wrong = method === 'get' ? 'POST' : 'GET';
    const url = p.replace('{id}', 'sp-1');
    check(`405 ${wrong} ${p}`, p, await srv.request(wrong, url, wrong === 'POST' ? { body: '{}', headers: json } : {}));
  }
  const del = await srv.del(A('salesperson/sp-999'), { token: admin });
  check('DELETE', A('salesperson/{id}'), del);
  check('reset', A('reset'), await srv.post(A('reset'), undefined, { token: admin }));
  check('customer-segments after reset', A('customer-segments'), await srv.get(A('customer-segments')));

  // The 404 for an unknown route has no operation; its body is still an Error.
  const nf = await srv.get(A('nope'));
  const errSchema = doc.components?.schemas?.Error;
  assert.ok(errSchema, 'components.schemas.Error');
  const e = validate(errSchema, nf.body);
  if (e) failures.push(`404 unknown route: ${e}`);

  await srv.stop();
  t.diagnostic(`${checked} live responses checked`);
  assert.deepEqual(failures, []);
});

test('the floor: every live answer of every floor endpoint (success and each error) and the floor events match the document', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const write = await h.token(dir, 'write');
  const read = await h.token(dir, 'read');
  const srv = await h.start({ dataDir: dir, args: ['--require-auth', 'true', '--auth-failure-limit', '1000'] });
  const doc = await fetchDoc(srv);
  const c = liveChecker(doc);
  const A = (s) => `${API}/${s}`;
  const W = { token: write };
  const json = { 'content-type': 'application/json' };
  const post = (s, body, opts = W) => srv.post(A(s), body, opts);
  await addTeam(srv, admin, TEAM5.slice(0, 3));
  const stream = await collectEvents(srv, { token: read });
  assert.equal(stream.status, 200);

  // An untracked floor: the seed's shapes, the floor's 409.
  c.check('up-board, untracked', A('up-board'), await srv.get(A('up-board'), { token: read }), 200);
  c.check('team-status, untracked', A('team-status'), await srv.get(A('team-status'), { token: read }), 200);
  c.check('analyze, untracked', A('analyze-customer'), await post('analyze-customer', customer(0)), 200);
  c.check('customer-left, untracked', A('customer-left'), await post('customer-left', { customerId: 'c-0', outcome: 'no_sale' }), 409);
  c.check('deal-closed with customerId, untracked', A('deal-closed'), await post('deal-closed', { salespersonId: 'sp-1', customerId: 'c-0' }), 200);

  // Requests every floor write refuses alike.
  for (const [s, body, opts] of [
    ['clock-in', { salespersonId: 'sp-1' }, W],
    ['clock-out', { salespersonId: 'sp-1' }, W],
    ['salesperson-status', { salespersonId: 'sp-1', status: 'break' }, W],
    ['customer-left', { customerId: 'c-0', outcome: 'no_sale' }, W],
    ['assign', { customerId: 'c-0', salespersonId: 'sp-1' }, { token: admin }],
  ]) {
    c.check(`401 ${s}`, A(s), await post(s, body, {}), 401);
    c.check(`403 ${s}`, A(s), await post(s, body, { token: read }), 403);
    c.check(`400 ${s} JSON`, A(s), await srv.request('POST', A(s), { body: '{', headers: json, token: opts.token }), 400);
    c.check(`400 ${s} missing`, A(s), await post(s, {}, opts), 400);
    c.check(`413 ${s}`, A(s), await srv.request('POST', A(s), { body: 'x'.repeat(70000), headers: json, token: opts.token }), 413);
    c.check(`415 ${s}`, A(s), await srv.request('POST', A(s), { body: '{}', headers: { 'content-type': 'text/plain' }, token: opts.token }), 415);
  }
  c.check('403 assign (write)', A('assign'), await post('assign', { customerId: 'c-0', salespersonId: 'sp-1' }), 403);
  c.check('401 up-board', A('up-board'), await srv.get(A('up-board')), 401);

  // Clock-ins; walk-ins beyond max-customers (2) wait at the desk.
  c.check('clock-in', A('clock-in'), await post('clock-in', { salespersonId: 'sp-1' }), 200);
  c.check('clock-in again', A('clock-in'), await post('clock-in', { salespersonId: 'sp-1' }), 200);
  c.check('404 clock-in', A('clock-in'), await post('clock-in', { salespersonId: 'nobody' }), 404);
  c.check('400 clock-in id', A('clock-in'), await post('clock-in', { salespersonId: 'has space' }), 400);
  c.check('404 clock-out', A('clock-out'), await post('clock-out', { salespersonId: 'nobody' }), 404);
  for (let i = 1; i <= 4; i++) c.check(`analyze ${i}, tracked`, A('analyze-customer'), await post('analyze-customer', customer(i)), 200);
  const { customerId, ...anonymous } = customer(5);
  assert.equal(customerId, 'c-5');
  const anon = await post('analyze-customer', anonymous);
  c.check('analyze without customerId, tracked', A('analyze-customer'), anon, 200);
  assert.equal(anon.body.queuePosition, 3, anon.text);
  c.check('team-status, tracked', A('team-status'), await srv.get(A('team-status'), { token: read }), 200);
  c.check('insights, tracked', A('insights'), await srv.get(A('insights'), { token: read }), 200);
  c.check('up-board, a line', A('up-board'), await srv.get(A('up-board'), { token: read }), 200);

  // salesperson-status
  c.check('status break', A('salesperson-status'), await post('salesperson-status', { salespersonId: 'sp-1', status: 'break' }), 200);
  c.check('status available', A('salesperson-status'), await post('salesperson-status', { salespersonId: 'sp-1', status: 'available' }), 200);
  c.check('400 status value', A('salesperson-status'), await post('salesperson-status', { salespersonId: 'sp-1', status: 'lunch' }), 400);
  c.check('404 status', A('salesperson-status'), await post('salesperson-status', { salespersonId: 'nobody', status: 'break' }), 404);
  c.check('409 status, clocked out', A('salesperson-status'), await post('salesperson-status', { salespersonId: 'sp-2', status: 'break' }), 409);

  // customer-left: the slot frees and the line moves.
  c.check('customer-left', A('customer-left'), await post('customer-left', { customerId: 'c-1', outcome: 'be_back', salespersonId: 'sp-1' }), 200);
  c.check('customer-left, no salesperson', A('customer-left'), await post('customer-left', { customerId: 'c-2', outcome: 'appointment' }), 200);
  c.check('400 outcome', A('customer-left'), await post('customer-left', { customerId: 'c-3', outcome: 'sold' }), 400);
  c.check('400 customerId', A('customer-left'), await post('customer-left', { customerId: '', outcome: 'no_sale' }), 400);
  c.check('404 customer-left', A('customer-left'), await post('customer-left', { customerId: 'never', outcome: 'no_sale' }), 404);
  c.check('409 customer-left ended', A('customer-left'), await post('customer-left', { customerId: 'c-1', outcome: 'no_sale' }), 409);
  c.check('409 customer-left wrong', A('customer-left'), await post('customer-left', { customerId: 'c-3', outcome: 'no_sale', salespersonId: 'sp-2' }), 409);

  // assign (admin)
  const AD = { token: admin };
  c.check('clock-in sp-2', A('clock-in'), await post('clock-in', { salespersonId: 'sp-2' }), 200);
  c.check('assign', A('assign'), await post('assign', { customerId: 'c-3', salespersonId: 'sp-2' }, AD), 200);
  c.check('404 assign salesperson', A('assign'), await post('assign', { customerId: 'c-3', salespersonId: 'nobody' }, AD), 404);
  c.check('404 assign customer', A('assign'), await post('assign', { customerId: 'never', salespersonId: 'sp-2' }, AD), 404);
  c.check('409 assign off floor', A('assign'), await post('assign', { customerId: 'c-3', salespersonId: 'sp-3' }, AD), 409);
  c.check('409 assign ended', A('assign'), await post('assign', { customerId: 'c-1', salespersonId: 'sp-2' }, AD), 409);

  // deal-closed with customerId on a tracked floor
  c.check('deal-closed, customerId', A('deal-closed'), await post('deal-closed', { salespersonId: 'sp-2', customerId: 'c-3', dealId: 'd-3' }), 200);
  c.check('deal-closed, oldest walk-in', A('deal-closed'), await post('deal-closed', { salespersonId: 'sp-1' }), 200);
  c.check('404 deal-closed customer', A('deal-closed'), await post('deal-closed', { salespersonId: 'sp-1', customerId: 'never' }), 404);
  c.check('409 deal-closed ended', A('deal-closed'), await post('deal-closed', { salespersonId: 'sp-2', customerId: 'c-3' }), 409);
  c.check('400 deal-closed customerId', A('deal-closed'), await post('deal-closed', { salespersonId: 'sp-2', customerId: 'c'.repeat(64) }), 400);
  const board = await srv.get(A('up-board'), { token: read });
  c.check('up-board, busy', A('up-board'), board, 200);
  const someone = board.body.salespeople.flatMap((m) => m.customers.map((x) => ({ sp: m.id, id: x.customerId })))[0];
  assert.ok(someone, board.text);
  const other = someone.sp === 'sp-1' ? 'sp-2' : 'sp-1';
  c.check('409 deal-closed wrong', A('deal-closed'), await post('deal-closed', { salespersonId: other, customerId: someone.id }), 409);

  // clock-out sends walk-ins back to the desk, to whoever is free.
  c.check('clock-out', A('clock-out'), await post('clock-out', { salespersonId: someone.sp }), 200);
  c.check('clock-out again', A('clock-out'), await post('clock-out', { salespersonId: someone.sp }), 200);
  c.check('up-board, after clock-out', A('up-board'), await srv.get(A('up-board'), { token: read }), 200);

  // The events: customer-assigned and floor-changed.
  await stream.waitFor((e) => e.event === 'customer-assigned' && e.data.override === true);
  await stream.waitFor((e) => e.event === 'floor-changed' && e.data.status === 'clocked-out');
  let n = 0;
  for (const e of stream.events) {
    if (e.event === 'customer-assigned') c.event(`event ${n++} customer-assigned`, 'CustomerAssignedEvent', e.data);
    else if (e.event === 'floor-changed') c.event(`event ${n++} floor-changed`, 'FloorDone', e.data);
    else if (e.event === 'analyzed-customer') c.event(`event ${n++} analyzed-customer`, 'AnalyzedCustomerEvent', e.data);
  }
  stream.close();
  await srv.stop();

  // 128 walk-ins in the store: the next is 409 FLOOR_FULL.
  const full = await h.start({ args: ['--floor-tracking', 'on'] });
  for (let i = 0; i < 128; i++) {
    const r = await full.post(A('analyze-customer'), customer(i));
    assert.equal(r.status, 200, r.text);
  }
  c.check('409 analyze, floor full', A('analyze-customer'), await full.post(A('analyze-customer'), customer(128)), 409);
  c.check('analyze, floor full, a walk-in in the store', A('analyze-customer'), await full.post(A('analyze-customer'), customer(5)), 200);
  c.check('up-board, full', A('up-board'), await full.get(A('up-board')), 200);
  await full.stop();

  // floor-tracking off: the floor's writes are 409, the board is empty.
  const offDir = await h.tmpdir();
  const offAdmin = await h.token(offDir, 'admin');
  const off = await h.start({ dataDir: offDir, args: ['--floor-tracking', 'off'] });
  await addTeam(off, offAdmin, TEAM5.slice(0, 1));
  for (const [s, body, opts] of [
    ['clock-in', { salespersonId: 'sp-1' }, {}],
    ['clock-out', { salespersonId: 'sp-1' }, {}],
    ['salesperson-status', { salespersonId: 'sp-1', status: 'break' }, {}],
    ['customer-left', { customerId: 'c-0', outcome: 'no_sale' }, {}],
    ['assign', { customerId: 'c-0', salespersonId: 'sp-1' }, { token: offAdmin }],
  ]) {
    c.check(`409 ${s}, floor off`, A(s), await off.post(A(s), body, opts), 409);
  }
  c.check('up-board, floor off', A('up-board'), await off.get(A('up-board')), 200);
  c.check('analyze, floor off', A('analyze-customer'), await off.post(A('analyze-customer'), customer(1)), 200);
  await off.stop();

  t.diagnostic(`${c.checked} live floor answers and events checked`);
  assert.deepEqual(c.failures, []);
});

test('the A/B test: every live answer of GET experiment (off, running with nothing ended, with figures, 401) matches the document', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const read = await h.token(dir, 'read');
  const seed = 4242;
  const srv = await h.start({ dataDir: dir, args: ['--require-auth', 'true', '--experiment', `up-rotation,network,${seed}`, '--max-customers', '1'] });
  const doc = await fetchDoc(srv);
  const c = liveChecker(doc);
  const A = (s) => `${API}/${s}`;
  const W = { token: admin };
  const get = () => srv.get(A('experiment'), { token: read });
  c.check('401 experiment', A('experiment'), await srv.get(A('experiment')), 401);
  c.check('experiment, untracked', A('experiment'), await get(), 200);
  await addTeam(srv, admin, TEAM5.slice(0, 2));
  for (const id of ['sp-1', 'sp-2']) assert.equal((await srv.post(A('clock-in'), { salespersonId: id }, W)).status, 200);
  c.check('experiment, nothing ended', A('experiment'), await get(), 200);
  // Walk-ins in both arms, some waiting (one each at a time), some buying.
  for (let n = 0; n < 12; n++) {
    const r = await srv.post(A('analyze-customer'), { ...customer(n), customerId: `x-${n}` }, W);
    assert.equal(r.status, 200, r.text);
    if (n % 3 === 2) {
      const board = (await srv.get(A('up-board'), W)).body;
      for (const m of board.salespeople) {
        for (const v of m.customers) {
          const k = Number(v.customerId.slice(2));
          const body = armOf(seed, k) ? { salespersonId: m.id, customerId: v.customerId } : null;
          const res = body ? await srv.post(A('deal-closed'), body, W) : await srv.post(A('customer-left'), { customerId: v.customerId, outcome: 'no_sale' }, W);
          assert.equal(res.status, 200, res.text);
        }
      }
    }
    c.check(`experiment after walk-in ${n}`, A('experiment'), await get(), 200);
  }
  const x = (await get()).body;
  assert.ok(x.arms.every((a) => a.ended >= 2), JSON.stringify(x));
  assert.ok(x.difference.closeRatePoints && x.difference.waitMeanMinutes, JSON.stringify(x));
  await srv.stop();
  const off = await h.start();
  c.check('experiment, off', A('experiment'), await off.get(A('experiment')), 200);
  await off.stop();
  t.diagnostic(`${c.checked} live experiment answers checked`);
  assert.deepEqual(c.failures, []);
});
