// errors.test.mjs: a catalogue of bad requests, each with its exact status,
// error code and field; then proof that none of them changed the state.
import assert from 'node:assert/strict';
import test from 'node:test';

import { API, SEED_CUSTOMER, TEAM5, addTeam, checkError, harness, TEST_TIMEOUT_MS } from './helpers.mjs';

const ANALYZE = `${API}/analyze-customer`;
const DEAL = `${API}/deal-closed`;
const ADD = `${API}/add-salesperson`;

/** The seed's customer with fields overridden (undefined removes one). */
const seedWith = (over) => JSON.stringify({ ...SEED_CUSTOMER, ...over });
/** The seed's customer with field's value replaced by a raw JSON literal. */
const seedLiteral = (field, literal) =>
  JSON.stringify({ ...SEED_CUSTOMER, [field]: '@@' }).replace('"@@"', literal);
const member = (over) => JSON.stringify({ id: 'sp-new', name: 'New Person', skillLevel: 0.6, naturalFrequency: 0.9, ...over });

// Each case: name, [method = POST], [path = analyze], [body], [type =
// application/json, null for none], [admin: send the admin token], status,
// code, [field], [allow: the expected Allow header].
const CASES = [
  // ---- malformed JSON
  { name: 'truncated object', body: '{"creditScore": 720', status: 400, code: 'INVALID_JSON' },
  { name: 'empty body', body: '', status: 400, code: 'INVALID_JSON' },
  { name: 'trailing comma', body: seedWith({}).replace(/}$/, ',}'), status: 400, code: 'INVALID_JSON' },
  { name: 'trailing garbage', body: `${seedWith({})} x`, status: 400, code: 'INVALID_JSON' },
  { name: 'single quotes', body: "{'creditScore': 720}", status: 400, code: 'INVALID_JSON' },
  { name: 'top-level array', body: `[${seedWith({})}]`, status: 400, code: 'NOT_AN_OBJECT' },
  { name: 'top-level number', body: '42', status: 400, code: 'NOT_AN_OBJECT' },
  { name: 'top-level null', body: 'null', status: 400, code: 'NOT_AN_OBJECT' },
  { name: 'NaN literal', body: seedLiteral('creditScore', 'NaN'), status: 400, code: 'INVALID_JSON' },
  { name: 'Infinity literal', body: seedLiteral('annualIncome', 'Infinity'), status: 400, code: 'INVALID_JSON' },
  { name: '-Infinity literal', body: seedLiteral('tradeValue', '-Infinity'), status: 400, code: 'INVALID_JSON' },
  { name: 'hex number', body: seedLiteral('visitCount', '0x1'), status: 400, code: 'INVALID_JSON' },
  { name: 'number overflowing a double (1e999)', body: seedLiteral('annualIncome', '1e999'), status: 400, code: 'INVALID_JSON' },
  { name: 'integer beyond int64', body: seedLiteral('annualIncome', '99999999999999999999'), status: 400, code: 'INVALID_JSON' },
  { name: 'duplicate key', body: seedWith({}).replace(/}$/, ',"creditScore":500}'), status: 400, code: 'INVALID_JSON' },
  {
    name: 'invalid UTF-8 bytes in a string',
    body: Buffer.concat([Buffer.from(seedWith({ customerId: undefined }).replace(/}$/, ',"customerId":"')), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('"}')]),
    status: 400,
    code: 'INVALID_JSON',
  },
  {
    name: 'overlong UTF-8 encoding of "/"',
    body: Buffer.concat([Buffer.from(seedWith({ customerId: undefined }).replace(/}$/, ',"customerId":"')), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]),
    status: 400,
    code: 'INVALID_JSON',
  },
  { name: '"\\u0000" in a string', body: seedLiteral('customerId', '"a\\u0000b"'), status: 400, code: 'INVALID_JSON' },
  { name: 'lone surrogate escape', body: seedLiteral('customerId', '"\\ud800"'), status: 400, code: 'INVALID_JSON' },
  { name: 'nesting 3000 deep', body: seedLiteral('extra', `${'['.repeat(3000)}${']'.repeat(3000)}`), status: 400, code: 'INVALID_JSON' },

  // ---- nothing known, and wrong types. (A missing or null field of the eight is
  // unknown, not an error, since issue 13: unknown-fields.test.mjs. These rows
  // were MISSING_FIELD for creditScore and engagement before.)
  { name: 'empty object', body: '{}', status: 400, code: 'NO_KNOWN_FEATURE' },
  { name: 'customerId only', body: '{"customerId":"c-1"}', status: 400, code: 'NO_KNOWN_FEATURE' },
  {
    name: 'every field null',
    body: seedWith(Object.fromEntries(Object.keys(SEED_CUSTOMER).filter((k) => k !== 'customerId').map((k) => [k, null]))),
    status: 400,
    code: 'NO_KNOWN_FEATURE',
  },
  { name: 'a down payment and a trade-in without the price', body: '{"downPayment":3000,"tradeValue":5000}', status: 400, code: 'NO_KNOWN_FEATURE' },
  { name: 'creditScore as a string', body: seedWith({ creditScore: '720' }), status: 400, code: 'WRONG_TYPE', field: 'creditScore' },
  { name: 'creditScore as a boolean', body: seedWith({ creditScore: true }), status: 400, code: 'WRONG_TYPE', field: 'creditScore' },
  { name: 'annualIncome as an array', body: seedWith({ annualIncome: [75000] }), status: 400, code: 'WRONG_TYPE', field: 'annualIncome' },
  { name: 'vehiclePrice as an object', body: seedWith({ vehiclePrice: { v: 1 } }), status: 400, code: 'WRONG_TYPE', field: 'vehiclePrice' },
  { name: 'visitCount as a string', body: seedWith({ visitCount: '1' }), status: 400, code: 'WRONG_TYPE', field: 'visitCount' },
  { name: 'customerId as a number', body: seedWith({ customerId: 123 }), status: 400, code: 'WRONG_TYPE', field: 'customerId' },
  { name: 'customerId empty', body: seedWith({ customerId: '' }), status: 400, code: 'ID_LENGTH', field: 'customerId' },
  { name: 'customerId of 64 bytes', body: seedWith({ customerId: 'c'.repeat(64) }), status: 400, code: 'ID_LENGTH', field: 'customerId' },
  { name: 'customerId with a control character', body: seedWith({ customerId: 'a\tb' }), status: 400, code: 'ID_LENGTH', field: 'customerId' },

  // ---- every range rule
  { name: 'creditScore 299', body: seedWith({ creditScore: 299 }), status: 400, code: 'CREDIT_SCORE_RANGE', field: 'creditScore' },
  { name: 'creditScore 851', body: seedWith({ creditScore: 851 }), status: 400, code: 'CREDIT_SCORE_RANGE', field: 'creditScore' },
  { name: 'annualIncome negative', body: seedWith({ annualIncome: -1 }), status: 400, code: 'NEGATIVE_MONEY', field: 'annualIncome' },
  { name: 'downPayment negative', body: seedWith({ downPayment: -0.01 }), status: 400, code: 'NEGATIVE_MONEY', field: 'downPayment' },
  { name: 'tradeValue negative', body: seedWith({ tradeValue: -5000 }), status: 400, code: 'NEGATIVE_MONEY', field: 'tradeValue' },
  { name: 'vehiclePrice 0', body: seedWith({ vehiclePrice: 0, downPayment: 0 }), status: 400, code: 'VEHICLE_PRICE', field: 'vehiclePrice' },
  { name: 'vehiclePrice negative', body: seedWith({ vehiclePrice: -28000 }), status: 400, code: 'VEHICLE_PRICE', field: 'vehiclePrice' },
  { name: 'downPayment > vehiclePrice', body: seedWith({ downPayment: 28000.01 }), status: 400, code: 'DOWN_EXCEEDS_PRICE', field: 'downPayment' },
  { name: 'engagement 1.01', body: seedWith({ engagement: 1.01 }), status: 400, code: 'ENGAGEMENT_RANGE', field: 'engagement' },
  { name: 'engagement negative', body: seedWith({ engagement: -0.1 }), status: 400, code: 'ENGAGEMENT_RANGE', field: 'engagement' },
  { name: 'visitCount 1.5', body: seedWith({ visitCount: 1.5 }), status: 400, code: 'NOT_INTEGER', field: 'visitCount' },
  { name: 'visitCount 1e10 (beyond 32 bits)', body: seedLiteral('visitCount', '1e10'), status: 400, code: 'NOT_INTEGER', field: 'visitCount' },
  { name: 'visitCount -1', body: seedWith({ visitCount: -1 }), status: 400, code: 'NEGATIVE_COUNT', field: 'visitCount' },
  { name: 'timeOnLot -1', body: seedWith({ timeOnLot: -1 }), status: 400, code: 'NEGATIVE_COUNT', field: 'timeOnLot' },

  // ---- deal-closed
  { name: 'deal-closed without salespersonId', path: DEAL, body: '{"dealId":"d-1"}', status: 400, code: 'MISSING_FIELD', field: 'salespersonId' },
  { name: 'deal-closed salespersonId as a number', path: DEAL, body: '{"salespersonId":5}', status: 400, code: 'WRONG_TYPE', field: 'salespersonId' },
  { name: 'deal-closed salespersonId empty', path: DEAL, body: '{"salespersonId":""}', status: 400, code: 'ID_LENGTH', field: 'salespersonId' },
  { name: 'deal-closed salespersonId with a space', path: DEAL, body: '{"salespersonId":"sp 1"}', status: 400, code: 'ID_LENGTH', field: 'salespersonId' },
  { name: 'deal-closed dealId as a number', path: DEAL, body: '{"salespersonId":"sp-1","dealId":7}', status: 400, code: 'WRONG_TYPE', field: 'dealId' },
  { name: 'deal-closed malformed JSON', path: DEAL, body: '{"salespersonId":', status: 400, code: 'INVALID_JSON' },
  { name: 'deal-closed for an unknown salesperson', path: DEAL, body: '{"salespersonId":"sp-nobody","dealId":"d-9"}', status: 404, code: 'NOT_FOUND', field: 'salespersonId' },

  // ---- add-salesperson and DELETE (admin token)
  { name: 'add-salesperson without name', path: ADD, admin: true, body: member({ name: undefined }), status: 400, code: 'MISSING_FIELD', field: 'name' },
  { name: 'add-salesperson skillLevel 1.5', path: ADD, admin: true, body: member({ skillLevel: 1.5 }), status: 400, code: 'SKILL_RANGE', field: 'skillLevel' },
  { name: 'add-salesperson skillLevel as a string', path: ADD, admin: true, body: member({ skillLevel: 'high' }), status: 400, code: 'WRONG_TYPE', field: 'skillLevel' },
  { name: 'add-salesperson naturalFrequency negative', path: ADD, admin: true, body: member({ naturalFrequency: -1 }), status: 400, code: 'FREQUENCY_RANGE', field: 'naturalFrequency' },
  { name: 'add-salesperson activeDeals -1', path: ADD, admin: true, body: member({ activeDeals: -1 }), status: 400, code: 'NEGATIVE_COUNT', field: 'activeDeals' },
  { name: 'add-salesperson id of 64 bytes', path: ADD, admin: true, body: member({ id: 's'.repeat(64) }), status: 400, code: 'ID_LENGTH', field: 'id' },
  { name: 'add-salesperson duplicate id', path: ADD, admin: true, body: member({ id: 'sp-1' }), status: 409, code: 'DUPLICATE', field: 'id' },
  { name: 'DELETE an unknown salesperson', method: 'DELETE', path: `${API}/salesperson/sp-nobody`, admin: true, status: 404, code: 'NOT_FOUND', field: 'id' },

  // ---- routes and methods
  { name: 'unknown route', method: 'GET', path: `${API}/nope`, status: 404, code: 'NOT_FOUND' },
  { name: 'unknown path under /api/', method: 'GET', path: '/api/nope', status: 404, code: 'NOT_FOUND' },
  { name: 'DELETE salesperson/ with no id', method: 'DELETE', path: `${API}/salesperson/`, admin: true, status: 404, code: 'NOT_FOUND' },
  { name: 'GET analyze-customer', method: 'GET', path: ANALYZE, status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'POST' },
  { name: 'POST team-status', method: 'POST', path: `${API}/team-status`, body: '{}', status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'GET, HEAD' },
  { name: 'PUT deal-closed', method: 'PUT', path: DEAL, body: '{"salespersonId":"sp-1"}', status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'POST' },
  { name: 'GET salesperson/:id', method: 'GET', path: `${API}/salesperson/sp-1`, status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'DELETE' },
  { name: 'DELETE reset', method: 'DELETE', path: `${API}/reset`, admin: true, status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'POST' },

  // ---- content type
  { name: 'text/plain body', body: seedWith({}), type: 'text/plain', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'no Content-Type', body: seedWith({}), type: null, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'application/jsonx', body: seedWith({}), type: 'application/jsonx', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'form-encoded deal-closed', path: DEAL, body: 'salespersonId=sp-1', type: 'application/x-www-form-urlencoded', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },

  // ---- query parameters
  { name: 'anomalies limit=0', method: 'GET', path: `${API}/anomalies?limit=0`, status: 400, code: 'INVALID_QUERY', field: 'limit' },
  { name: 'anomalies limit=abc', method: 'GET', path: `${API}/anomalies?limit=abc`, status: 400, code: 'INVALID_QUERY', field: 'limit' },
  { name: 'anomalies limit=-1', method: 'GET', path: `${API}/anomalies?limit=-1`, status: 400, code: 'INVALID_QUERY', field: 'limit' },
  { name: 'anomalies limit=257', method: 'GET', path: `${API}/anomalies?limit=257`, status: 400, code: 'INVALID_QUERY', field: 'limit' },
  { name: 'anomalies limit=5x', method: 'GET', path: `${API}/anomalies?limit=5x`, status: 400, code: 'INVALID_QUERY', field: 'limit' },
  { name: 'coherence-history hours=999', method: 'GET', path: `${API}/coherence-history?hours=999`, status: 400, code: 'INVALID_QUERY', field: 'hours' },
  { name: 'coherence-history hours=0', method: 'GET', path: `${API}/coherence-history?hours=0`, status: 400, code: 'INVALID_QUERY', field: 'hours' },
  { name: 'coherence-history hours=1.5', method: 'GET', path: `${API}/coherence-history?hours=1.5`, status: 400, code: 'INVALID_QUERY', field: 'hours' },
];

/** The read endpoints whose bodies must not change. */
const STATE_READS = [
  `${API}/team-status`,
  `${API}/customer-segments`,
  `${API}/anomalies?limit=256`,
  `${API}/salespeople`,
  `${API}/insights`,
  `${API}/coherence-history?hours=168`,
];

async function stateOf(srv) {
  const out = {};
  for (const p of STATE_READS) {
    const r = await srv.get(p);
    assert.equal(r.status, 200, `${p}: ${r.text}`);
    out[p] = r.text;
  }
  const h = await srv.get('/healthz');
  out.lastSeq = h.body.lastSeq;
  return out;
}

test(`bad-input catalogue (${CASES.length} cases): exact status, code and field; state unchanged`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
  assert.ok(CASES.length >= 40);
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const srv = await h.start({ dataDir: dir });
  await addTeam(srv, admin, TEAM5);
  const ok = await srv.post(ANALYZE, SEED_CUSTOMER);
  assert.equal(ok.status, 200, ok.text);
  const before = await stateOf(srv);

  for (const c of CASES) {
    await t.test(c.name, async () => {
      const headers = {};
      const type = c.type === undefined ? 'application/json' : c.type;
      if (c.body !== undefined && type !== null) headers['content-type'] = type;
      const res = await srv.request(c.method || 'POST', c.path || ANALYZE, {
        body: c.body,
        headers,
        token: c.admin ? admin : undefined,
      });
      checkError(assert, res, c.status, c.code, c.field ?? null);
      if (c.allow) assert.equal(res.headers.get('allow'), c.allow);
      if (c.status === 404 && c.field) {
        // names the id that was not found
        const id = (c.path || '').split('/').pop();
        const sent = c.body ? JSON.parse(c.body).salespersonId : id;
        assert.ok(res.body.error.message.includes(sent), res.text);
      }
      if (c.code === 'DUPLICATE') assert.ok(res.body.error.message.includes('sp-1'), res.text);
      if (c.code === 'INVALID_JSON') assert.match(res.body.error.message, /line \d+, column \d+/);
    });
  }

  await t.test('413 with Content-Length over 64 KiB (no body sent)', async () => {
    const r = await srv.raw(
      `POST ${ANALYZE} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 70000\r\n\r\n`,
    );
    checkError(assert, r, 413, 'BODY_TOO_LARGE');
  });

  await t.test('413 with a 70 000-byte body sent with Content-Length (fetch)', async () => {
    const big = seedWith({ pad: 'x'.repeat(70000) });
    const r = await srv.request('POST', ANALYZE, { body: big, headers: { 'content-type': 'application/json' } });
    checkError(assert, r, 413, 'BODY_TOO_LARGE');
  });

  await t.test('413 with a chunked body over 64 KiB', async () => {
    const big = seedWith({ pad: 'y'.repeat(70000) });
    const parts = [
      `POST ${ANALYZE} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
    ];
    for (let i = 0; i < big.length; i += 4096) {
      const c = big.slice(i, i + 4096);
      parts.push(`${c.length.toString(16)}\r\n${c}\r\n`);
    }
    parts.push('0\r\n\r\n');
    const r = await srv.raw(parts);
    checkError(assert, r, 413, 'BODY_TOO_LARGE');
  });

  await t.test('a body of exactly 65 537 bytes is refused, but not with a bad field', async () => {
    const base = seedWith({ pad: '' });
    const body = seedWith({ pad: 'z'.repeat(65537 - base.length) });
    assert.equal(Buffer.byteLength(body), 65537);
    const r = await srv.request('POST', DEAL, { body, headers: { 'content-type': 'application/json' } });
    checkError(assert, r, 413, 'BODY_TOO_LARGE');
  });

  await t.test('after the catalogue: healthy and nothing changed', async () => {
    const hz = await srv.get('/healthz');
    assert.equal(hz.status, 200);
    assert.equal(hz.body.status, 'ok');
    const after = await stateOf(srv);
    assert.deepEqual(after, before);
    const seg = JSON.parse(after[`${API}/customer-segments`]);
    assert.equal(seg.segments.totalCustomersProcessed, 1);
    // the refusals are counted as such
    const m = await srv.get('/metrics');
    assert.match(m.text, /^whaco_http_requests_total\{route="\/api\/intelligence\/analyze-customer",status="400"\} \d+$/m);
    assert.match(m.text, /^whaco_http_requests_total\{route="unmatched",status="404"\} 3$/m);
  });

  await srv.stop();
});

test('a body of exactly 64 KiB is accepted (the limit is inclusive)', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const srv = await h.start();
  const base = seedWith({ pad: '' });
  const body = seedWith({ pad: 'p'.repeat(65536 - base.length) });
  assert.equal(Buffer.byteLength(body), 65536);
  const r = await srv.request('POST', ANALYZE, { body, headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 200, r.text);
  const seg = await srv.get(`${API}/customer-segments`);
  assert.equal(seg.body.segments.totalCustomersProcessed, 1);
  await srv.stop();
});

test('valid edge values are accepted (bounds are inclusive; visitCount 1.0 is whole)', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const srv = await h.start();
  const good = [
    { creditScore: 300 },
    { creditScore: 850 },
    { engagement: 0 },
    { engagement: 1 },
    { downPayment: 28000 },
    { visitCount: 1.0, customerId: undefined },
    { tradeValue: undefined },
    { annualIncome: 0, timeOnLot: 0, visitCount: 0 },
    { customerId: 'c'.repeat(63) },
  ];
  for (const over of good) {
    const r = await srv.request('POST', ANALYZE, { body: seedWith(over), headers: { 'content-type': 'application/json; charset=utf-8' } });
    assert.equal(r.status, 200, `${JSON.stringify(over)}: ${r.text}`);
  }
  const seg = await srv.get(`${API}/customer-segments`);
  assert.equal(seg.body.segments.totalCustomersProcessed, good.length);
  await srv.stop();
});

test('broken HTTP, truncated uploads and dropped connections leave the server healthy and the state unchanged', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const srv = await h.start();
  const ok = await srv.post(ANALYZE, SEED_CUSTOMER);
  assert.equal(ok.status, 200, ok.text);
  const before = await stateOf(srv);
  const net = await import('node:net');
  const send = (payload, { end = true } = {}) =>
    new Promise((resolve) => {
      const s = net.connect({ port: srv.port, host: '127.0.0.1' }, () => {
        s.write(payload);
        if (end) s.end();
        else setTimeout(() => s.destroy(), 50); // drop it mid-request
      });
      s.on('error', () => resolve());
      s.on('close', () => resolve());
      s.resume();
      setTimeout(() => {
        s.destroy();
        resolve();
      }, 3000);
    });
  const body = seedWith({});
  const head = `POST ${ANALYZE} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n`;
  await send('GARBAGE\r\n\r\n');
  await send('GET /healthz HTTP/9.9\r\n\r\n');
  await send(`${head}Content-Length: ${body.length}\r\n\r\n${body.slice(0, 40)}`, { end: false }); // truncated, then reset
  await send(`${head}Transfer-Encoding: chunked\r\n\r\nzz\r\n`); // bad chunk size
  await send(`${head}Content-Length: -5\r\n\r\n`);
  await send(`${head}Content-Length: 99999999999999999999999\r\n\r\n`);
  // 200 connections opened and dropped at once
  await Promise.all(Array.from({ length: 200 }, (_, i) => send(i % 2 ? `${head}Content-Length: 10\r\n\r\n{` : 'GET /healthz HTTP/1.1\r\n', { end: false })));
  const hz = await srv.get('/healthz');
  assert.equal(hz.status, 200);
  assert.equal(hz.body.status, 'ok');
  assert.deepEqual(await stateOf(srv), before);
  const again = await srv.post(ANALYZE, SEED_CUSTOMER);
  assert.equal(again.status, 200, again.text);
  await srv.stop();
});

test('truncated uploads whose client half-closes are closed within the connection timeout and do not hold up SIGTERM', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  // 50 clients each send the headers and part of the body of an
  // analyze-customer request, then shut down their side (FIN): the request
  // can never complete. libmicrohttpd usually closes such a connection at
  // once, but in about a third of server processes it keeps some until the
  // connection timeout; so the server runs with --connection-timeout 1s and
  // every connection must be closed by the server within 3 s. SIGTERM must
  // not wait for them (exit 0 within 5 s, checked by stop()). Up to 4 fresh
  // servers, as the late case is per process.
  const h = harness(t);
  const net = await import('node:net');
  const body = seedWith({});
  const payload = `POST ${ANALYZE} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 40)}`;
  const N = 50;
  for (let run = 1; run <= 4; run++) {
    const srv = await h.start({ args: ['--connection-timeout', '1s'] });
    const outcomes = await Promise.all(
      Array.from({ length: N }, () =>
        new Promise((resolve) => {
          const s = net.connect({ port: srv.port, host: '127.0.0.1' }, () => s.end(payload));
          s.resume();
          s.on('close', () => resolve('closed'));
          s.on('error', () => resolve('closed'));
          setTimeout(() => {
            s.destroy(); // give up: a full close (RST) now
            resolve('left open');
          }, 3000);
        }),
      ),
    );
    const open = outcomes.filter((x) => x === 'left open').length;
    // On a new connection: with a 1 s connection timeout the server has
    // closed the keep-alive socket fetch would otherwise reuse.
    const status = await new Promise((resolve, reject) => {
      const s = net.connect({ port: srv.port, host: '127.0.0.1' }, () =>
        s.end('GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'),
      );
      let text = '';
      s.on('data', (d) => (text += d));
      s.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1])));
      s.on('error', reject);
    });
    assert.equal(status, 200);
    const ms = await srv.stop(); // must exit 0 within 5 s
    t.diagnostic(`run ${run}: ${open}/${N} connections still open after 3 s; SIGTERM to exit ${ms} ms`);
    assert.equal(open, 0, `run ${run}: ${open} of ${N} half-closed truncated uploads outlived a 1 s connection timeout`);
  }
});

test('SIGTERM does not wait for clients still sending a body', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  // 20 clients send headers and half a body and then stall, connections
  // open: the server drops them rather than wait (it waits only for
  // requests the engine owes an answer), so it exits 0 well within 5 s --
  // under 2 s here; waiting for them used to cost the full 4 s drain.
  const h = harness(t);
  const net = await import('node:net');
  const body = seedWith({});
  const payload = `POST ${ANALYZE} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 40)}`;
  const srv = await h.start();
  const socks = await Promise.all(
    Array.from({ length: 20 }, () =>
      new Promise((resolve) => {
        const s = net.connect({ port: srv.port, host: '127.0.0.1' }, () => {
          s.write(payload);
          resolve(s);
        });
        s.on('error', () => {});
      }),
    ),
  );
  await new Promise((r) => setTimeout(r, 200));
  const ms = await srv.stop();
  t.diagnostic(`SIGTERM to exit with 20 stalled uploads: ${ms} ms`);
  assert.ok(ms < 2000, `stop took ${ms} ms`);
  for (const s of socks) s.destroy();
});

test('two thousand open connections, half of them stalled mid-body, do not stop the server answering', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  // From 40 client addresses (127.0.0.10 to .49, all loopback on Linux), 50
  // connections each: under the default per-address limit (64), so every
  // connection is held open with the default settings.
  const h = harness(t);
  const net = await import('node:net');
  const srv = await h.start();
  const partial = `POST ${ANALYZE} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"cre`;
  const socks = [];
  let closedByServer = 0;
  for (let i = 0; i < 2000; i++) {
    socks.push(
      await new Promise((resolve, reject) => {
        const localAddress = `127.0.0.${10 + (i % 40)}`;
        const s = net.connect({ port: srv.port, host: '127.0.0.1', localAddress }, () => {
          if (i % 2) s.write(partial);
          resolve(s);
        });
        s.on('error', reject);
        s.on('close', () => closedByServer++);
      }),
    );
  }
  const hz = await srv.get('/healthz');
  assert.equal(hz.status, 200);
  const r = await srv.post(ANALYZE, SEED_CUSTOMER);
  assert.equal(r.status, 200);
  assert.equal(closedByServer, 0, 'the server closed connections it should have held');
  for (const s of socks) s.destroy();
  const ms = await srv.stop();
  t.diagnostic(`2000 connections open: healthz and analyze answered; stop in ${ms} ms`);
});
