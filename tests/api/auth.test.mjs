// auth.test.mjs: the auth matrix -- no token, a wrong token, read, write and
// admin tokens; loopback (admin endpoints only), --require-auth true,
// non-loopback (0.0.0.0) with and without --allow-anonymous-remote; tokens
// created, listed and revoked while the server runs.
import assert from 'node:assert/strict';
import path from 'node:path';
import test from 'node:test';

import { API, SEED_CUSTOMER, checkError, harness, openEventStream, runWhaco, sleep, TEST_TIMEOUT_MS } from './helpers.mjs';

const READS = [
  `${API}/team-status`,
  `${API}/customer-segments`,
  `${API}/anomalies`,
  `${API}/insights`,
  `${API}/salespeople`,
  `${API}/coherence-history`,
  '/metrics',
];
const OPEN = ['/healthz', '/api/openapi.json'];

let nextId = 0;
/** The requests of each kind; ids are unique so admin writes never collide. */
const ops = {
  analyze: (srv, token) => srv.post(`${API}/analyze-customer`, SEED_CUSTOMER, { token }),
  deal: (srv, token) => srv.post(`${API}/deal-closed`, { salespersonId: 'sp-base', dealId: 'd-1' }, { token }),
  add: (srv, token) => srv.post(`${API}/add-salesperson`, { id: `sp-${++nextId}`, name: 'A Person', skillLevel: 0.5 }, { token }),
  remove: async (srv, token, admin) => {
    const id = `sp-rm-${++nextId}`;
    const a = await srv.post(`${API}/add-salesperson`, { id, name: 'To Remove', skillLevel: 0.5 }, { token: admin });
    assert.equal(a.status, 201, a.text);
    return srv.del(`${API}/salesperson/${id}`, { token });
  },
  reset: (srv, token) => srv.post(`${API}/reset`, undefined, { token }),
};
const OK_STATUS = { analyze: 200, deal: 200, add: 201, remove: 200, reset: 200 };
const ADMIN_OPS = ['add', 'remove', 'reset'];

async function setup(t, args = [], listen) {
  // This file is the token matrix: it presents bad tokens on purpose, more
  // than the default failed-auth limit (10 a minute per address) allows.
  // The limit itself is tested in security.test.mjs.
  args = ['--auth-failure-limit', '1000', ...args];
  const h = harness(t);
  const dir = await h.tmpdir();
  const tokens = {
    admin: await h.token(dir, 'admin'),
    write: await h.token(dir, 'write'),
    read: await h.token(dir, 'read'),
  };
  const srv = await h.start({ dataDir: dir, args, listen });
  const base = await srv.post(`${API}/add-salesperson`, { id: 'sp-base', name: 'Base Person', skillLevel: 0.7 }, { token: tokens.admin });
  assert.equal(base.status, 201, base.text);
  return { h, dir, tokens, srv };
}

function check401(res, hasHeader) {
  checkError(assert, res, 401, 'UNAUTHORIZED');
  assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="whaco"');
  assert.match(res.body.error.message, hasHeader ? /not valid/ : /Authorization: Bearer/);
}

function check403(res, role) {
  checkError(assert, res, 403, 'FORBIDDEN');
  assert.ok(res.body.error.message.includes(role), res.text);
}

const BAD = 'whaco_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

test('loopback (default): only admin endpoints need a token', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { tokens, srv } = await setup(t);
  assert.match(srv.stderr, /tokens required for admin endpoints only/);
  for (const op of ADMIN_OPS) {
    check401(await ops[op](srv, undefined, tokens.admin), false);
    check401(await ops[op](srv, BAD, tokens.admin), true);
    check401(await ops[op](srv, tokens.admin.slice(0, -1), tokens.admin), true);
    const basic = await srv.post(`${API}/reset`, undefined, { headers: { authorization: `Basic ${tokens.admin}` } });
    check401(basic, true);
    check403(await ops[op](srv, tokens.read, tokens.admin), 'read');
    check403(await ops[op](srv, tokens.write, tokens.admin), 'write');
  }
  for (const op of ['analyze', 'deal']) {
    const r = await ops[op](srv, undefined);
    assert.equal(r.status, OK_STATUS[op], `${op}: ${r.text}`);
  }
  for (const p of [...READS, ...OPEN]) {
    const r = await srv.get(p);
    assert.equal(r.status, 200, `${p}: ${r.text}`);
  }
  // Admin can do everything; reset last.
  for (const op of ['add', 'remove', 'analyze', 'deal', 'reset']) {
    const r = await ops[op](srv, tokens.admin, tokens.admin);
    assert.equal(r.status, OK_STATUS[op], `${op}: ${r.text}`);
  }
  await srv.stop();
});

test('--require-auth true: every endpoint but /healthz and /api/openapi.json needs a token; roles apply', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { tokens, srv } = await setup(t, ['--require-auth', 'true']);
  assert.match(srv.stderr, /tokens required\)/);
  for (const p of OPEN) {
    const r = await srv.get(p);
    assert.equal(r.status, 200, `${p}: ${r.text}`);
  }
  for (const p of READS) {
    check401(await srv.get(p), false);
    check401(await srv.get(p, { token: BAD }), true);
    for (const role of ['read', 'write', 'admin']) {
      const r = await srv.get(p, { token: tokens[role] });
      assert.equal(r.status, 200, `${role} GET ${p}: ${r.text}`);
    }
  }
  for (const op of Object.keys(ops)) {
    check401(await ops[op](srv, undefined, tokens.admin), false);
    check401(await ops[op](srv, BAD, tokens.admin), true);
  }
  // read: no writes at all
  for (const op of Object.keys(ops)) check403(await ops[op](srv, tokens.read, tokens.admin), 'read');
  // write: analyze and deal-closed, no admin endpoints
  for (const op of ['analyze', 'deal']) {
    const r = await ops[op](srv, tokens.write);
    assert.equal(r.status, OK_STATUS[op], `write ${op}: ${r.text}`);
  }
  for (const op of ADMIN_OPS) check403(await ops[op](srv, tokens.write, tokens.admin), 'write');
  // admin: everything
  for (const op of ['analyze', 'deal', 'add', 'remove', 'reset']) {
    const r = await ops[op](srv, tokens.admin, tokens.admin);
    assert.equal(r.status, OK_STATUS[op], `admin ${op}: ${r.text}`);
  }
  // Nothing refused changed state: 2 analyzes (write, admin) before the reset, which zeroed them.
  const seg = await srv.get(`${API}/customer-segments`, { token: tokens.read });
  assert.equal(seg.body.segments.totalCustomersProcessed, 0);
  await srv.stop();
});

test('a token created while the server runs is accepted within a few seconds', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { h, dir, srv } = await setup(t, ['--require-auth', 'true']);
  const fresh = await h.token(dir, 'read');
  const t0 = Date.now();
  let status = 0;
  for (let i = 0; i < 60 && Date.now() - t0 < 6000; i++) {
    status = (await srv.get(`${API}/team-status`, { token: fresh })).status;
    if (status === 200) break;
    assert.equal(status, 401);
    await sleep(100);
  }
  assert.equal(status, 200, 'new token never accepted');
  assert.ok(Date.now() - t0 < 4500, `accepted only after ${Date.now() - t0} ms`);
  // and it has the role it was created with
  check403(await srv.post(`${API}/analyze-customer`, SEED_CUSTOMER, { token: fresh }), 'read');
  await srv.stop();
});

/** `whaco token list` of dir as rows {id, role, created, label}. */
async function listTokens(dir) {
  const r = await runWhaco(['token', 'list', '--data', dir]);
  assert.equal(r.code, 0, r.stderr);
  const [head, ...rows] = r.stdout.trimEnd().split('\n');
  assert.match(head, /^ID\s+ROLE\s+CREATED\s+LABEL$/);
  return {
    text: r.stdout,
    rows: rows.map((line) => {
      const m = /^([0-9a-f]{12}) {2}(admin|write|read) +(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)(?: {2}(.+))?$/.exec(line);
      assert.ok(m, `a malformed list line: ${JSON.stringify(line)}`);
      return { id: m[1], role: m[2], created: m[3], label: m[4] ?? '' };
    }),
  };
}

test('token list and revoke: ids, roles and labels but no token listed; a revoked token is refused within a few seconds, also after a restart; the others keep working', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { h, dir, tokens, srv } = await setup(t, ['--require-auth', 'true']);
  const made = await runWhaco(['token', 'create', '--role', 'write', '--label', 'front desk', '--data', dir]);
  assert.equal(made.code, 0, made.stderr);
  const desk = made.stdout.trim();
  const madeId = /id ([0-9a-f]{12})/.exec(made.stderr)?.[1];
  assert.ok(madeId, `create names no id: ${made.stderr}`);

  const before = await listTokens(dir);
  // (Oldest first; tokens made within the same second in any order.)
  assert.deepEqual(before.rows.map((r) => r.role).sort(), ['admin', 'read', 'write', 'write']);
  assert.equal(before.rows.find((r) => r.id === madeId)?.label, 'front desk');
  assert.equal(new Set(before.rows.map((r) => r.id)).size, 4);
  for (const tok of [...Object.values(tokens), desk]) {
    assert.equal(before.text.indexOf(tok.slice('whaco_'.length, 20)), -1, 'a token is in the list');
  }
  assert.equal((await srv.get(`${API}/team-status`, { token: tokens.read })).status, 200);
  const readStream = await openEventStream(srv, { token: tokens.read });
  const adminStream = await openEventStream(srv, { token: tokens.admin });
  assert.equal(readStream.status, 200);
  assert.equal(adminStream.status, 200);

  // Revoke the read token by a prefix of its id; it stops working, the rest go on.
  const readId = before.rows.find((r) => r.role === 'read').id;
  const rv = await runWhaco(['token', 'revoke', readId.slice(0, 8), '--data', dir]);
  assert.equal(rv.code, 0, rv.stderr);
  assert.match(rv.stderr, new RegExp(`revoked the read token ${readId}`));
  const t0 = Date.now();
  let status = 200;
  for (let i = 0; i < 60 && Date.now() - t0 < 6000 && status === 200; i++) {
    status = (await srv.get(`${API}/team-status`, { token: tokens.read })).status;
    if (status === 200) await sleep(100);
  }
  assert.equal(status, 401, 'the revoked token was still accepted after 6 s');
  assert.ok(Date.now() - t0 < 4500, `refused only after ${Date.now() - t0} ms`);
  // Its event stream is ended too (checked once a second); the admin's goes on.
  let timer;
  const streamEnded = await Promise.race([readStream.ended.then(() => true), new Promise((r) => (timer = setTimeout(() => r(false), 6000)))]);
  clearTimeout(timer);
  assert.ok(streamEnded, 'the event stream of a revoked token was still open 6 s after it was refused');
  assert.equal(adminStream.isEnded(), false, 'the event stream of a valid token was ended');
  adminStream.close();
  assert.equal((await srv.get(`${API}/team-status`, { token: tokens.admin })).status, 200);
  assert.equal((await srv.post(`${API}/analyze-customer`, SEED_CUSTOMER, { token: desk })).status, 200);
  assert.deepEqual((await listTokens(dir)).rows.map((r) => r.id), before.rows.filter((r) => r.id !== readId).map((r) => r.id));

  // Errors: the same id again, an id that is not hex digits, no id, no data directory.
  const again = await runWhaco(['token', 'revoke', readId, '--data', dir]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /no token has the id/);
  const bad = await runWhaco(['token', 'revoke', 'whaco_', '--data', dir]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /ID must be 6 to 12 hex digits/);
  assert.equal((await runWhaco(['token', 'revoke', '--data', dir])).code, 2);
  const missing = await runWhaco(['token', 'list', '--data', path.join(dir, 'nope')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /No such file/);

  // After a restart it is still refused.
  await srv.stop();
  const again2 = await h.start({ dataDir: dir, args: ['--require-auth', 'true'] });
  assert.equal((await again2.get(`${API}/team-status`, { token: tokens.read })).status, 401);
  assert.equal((await again2.get(`${API}/team-status`, { token: tokens.admin })).status, 200);
  await again2.stop();
});

test('a token of another data directory is not valid here', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { h, srv } = await setup(t);
  const other = await h.tmpdir();
  const foreign = await h.token(other, 'admin');
  check401(await srv.post(`${API}/reset`, undefined, { token: foreign }), true);
  await srv.stop();
});

test('non-loopback (--listen 0.0.0.0:0): tokens are required everywhere', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { tokens, srv } = await setup(t, [], '0.0.0.0:0');
  assert.match(srv.stderr, /listening on http:\/\/0\.0\.0\.0:\d+ .*tokens required\)/);
  for (const p of OPEN) assert.equal((await srv.get(p)).status, 200, p);
  for (const p of READS) {
    check401(await srv.get(p), false);
    assert.equal((await srv.get(p, { token: tokens.read })).status, 200, p);
  }
  check401(await ops.analyze(srv, undefined), false);
  check401(await ops.deal(srv, undefined), false);
  check403(await ops.analyze(srv, tokens.read), 'read');
  assert.equal((await ops.analyze(srv, tokens.write)).status, 200);
  check403(await ops.reset(srv, tokens.write), 'write');
  assert.equal((await ops.reset(srv, tokens.admin)).status, 200);
  await srv.stop();
});

test('non-loopback with --allow-anonymous-remote true: no token needed, except for admin endpoints', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { tokens, srv } = await setup(t, ['--allow-anonymous-remote', 'true'], '0.0.0.0:0');
  assert.match(srv.stderr, /tokens required for admin endpoints only/);
  for (const p of [...READS, ...OPEN]) assert.equal((await srv.get(p)).status, 200, p);
  assert.equal((await ops.analyze(srv, undefined)).status, 200);
  assert.equal((await ops.deal(srv, undefined)).status, 200);
  for (const op of ADMIN_OPS) {
    check401(await ops[op](srv, undefined, tokens.admin), false);
    check403(await ops[op](srv, tokens.write, tokens.admin), 'write');
  }
  assert.equal((await ops.add(srv, tokens.admin)).status, 201);
  await srv.stop();
});
