// security.test.mjs: the defences of docs/security.md against real servers.
//
//   - tokens: only their SHA-256 is on disk (whaco.db and its WAL are read
//     byte by byte), and no token reaches the server's log, whatever the
//     request carries it in;
//   - the failed-auth limit per client address: the lockout, its 429 with
//     Retry-After, its scope, its end, its log line, and its bound under
//     concurrent guessing; DNS rebinding on the open loopback default;
//   - request limits: body (413), headers (431), URL (414), and slow
//     clients: a request dribbled byte by byte is cut at request-timeout;
//   - connection limits per address and in all (slowloris);
//   - CORS closed by default, the allow-list from flags, environment and
//     config file, preflights;
//   - security headers on API answers and on the dashboard's files.
//
// Every API test comes from 127.0.0.1; where a test needs clients at other
// addresses it binds its sockets to other loopback addresses (127.0.0.2 and
// up: the whole of 127.0.0.0/8 is loopback on Linux).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import test from 'node:test';

import { API, SEED_CUSTOMER, checkError, harness, openEventStream, runWhaco, sleep, TEST_TIMEOUT_MS } from './helpers.mjs';

const TEAM_STATUS = `${API}/team-status`;
const ANALYZE = `${API}/analyze-customer`;

/**
 * One HTTP request from a chosen local (client) address, on a connection of
 * its own. Resolves to {status, headers, text, body}; rejects if the server
 * closes the connection without an answer.
 */
function fromAddr(srv, localAddress, method, urlPath, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: srv.port, localAddress, method, path: urlPath, headers, agent: false, timeout: 10_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let parsed;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, text, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** A Headers-like view of a plain headers object, for checkError. */
const asFetch = (r) => ({ ...r, headers: { get: (k) => r.headers[k.toLowerCase()] } });

/** A bad token of the right shape: 'whaco_' and 43 characters. */
const badToken = (i) => `whaco_${String(i).padStart(43, 'Z')}`;

/**
 * Open a TCP connection from localAddress and send `first` (may be empty).
 * Resolves once connected to {sock, closed: Promise, isClosed()}.
 */
function openConn(srv, localAddress, first = '') {
  return new Promise((resolve, reject) => {
    let closed = false;
    let onClose;
    const closedP = new Promise((r) => (onClose = r));
    const sock = net.connect({ host: '127.0.0.1', port: srv.port, localAddress }, () => {
      if (first) sock.write(first);
      resolve({ sock, closed: closedP, isClosed: () => closed });
    });
    sock.on('error', (e) => {
      if (!sock.connecting) return; // a reset after connecting is a close
      reject(e);
    });
    sock.on('close', () => {
      closed = true;
      onClose();
    });
    sock.resume();
  });
}

/**
 * openConn, then one complete keep-alive request, answered: once this
 * resolves the server has accepted the connection and counts it, so a later
 * connection cannot overtake it. (A connect completes in the kernel's listen
 * queue; with several worker threads the server may accept two queued
 * connections in either order.) `then` is sent after the answer.
 */
async function openServedConn(srv, localAddress, then = '') {
  const c = await openConn(srv, localAddress, 'GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n');
  await new Promise((resolve, reject) => {
    c.sock.once('data', resolve);
    c.closed.then(() => reject(new Error(`a connection from ${localAddress} closed before its answer`)));
  });
  if (then) c.sock.write(then);
  return c;
}

/** Whether the server closed c within ms (a bounded wait, not a measurement). */
async function closedWithin(c, ms) {
  let timer;
  const r = await Promise.race([c.closed.then(() => true), new Promise((res) => (timer = setTimeout(() => res(false), ms)))]);
  clearTimeout(timer);
  return r;
}

// ---------------------------------------------------------------- tokens

/** Every byte of the data directory's database files (db, WAL, journal). */
async function dbBytes(dir) {
  const out = [];
  for (const f of await readdir(dir)) {
    if (f.startsWith('whaco.db')) out.push({ name: f, bytes: await readFile(path.join(dir, f)) });
  }
  return out;
}

function checkNoToken(files, token, when) {
  const raw = Buffer.from(token.slice('whaco_'.length), 'base64url');
  const hash = createHash('sha256').update(token).digest();
  assert.equal(raw.length, 32, 'a token carries 32 random bytes');
  let hashFound = false;
  for (const { name, bytes } of files) {
    assert.equal(bytes.indexOf(token), -1, `${when}: the token's text is in ${name}`);
    assert.equal(bytes.indexOf(token.slice(6)), -1, `${when}: the token's characters are in ${name}`);
    assert.equal(bytes.indexOf(raw), -1, `${when}: the token's raw bytes are in ${name}`);
    if (bytes.indexOf(hash) >= 0) hashFound = true;
  }
  // The positive control: the files read are where the tokens are kept.
  assert.ok(hashFound, `${when}: the token's SHA-256 is in none of ${files.map((f) => f.name)}`);
}

test('tokens are stored hashed: neither their text nor their bytes are in whaco.db or its WAL, only their SHA-256', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const read = await h.token(dir, 'read');
  checkNoToken(await dbBytes(dir), admin, 'after token create');
  const srv = await h.start({ dataDir: dir, args: ['--require-auth', 'true'] });
  // Use them: a write, reads, and a token created while the server runs.
  assert.equal((await srv.post(`${API}/add-salesperson`, { id: 'sp-1', name: 'Jane Smith', skillLevel: 0.9 }, { token: admin })).status, 201);
  assert.equal((await srv.post(ANALYZE, SEED_CUSTOMER, { token: admin })).status, 200);
  assert.equal((await srv.get(TEAM_STATUS, { token: read })).status, 200);
  const late = await h.token(dir, 'write');
  const files = await dbBytes(dir);
  assert.ok(files.some((f) => f.name === 'whaco.db-wal'), `expected a WAL beside whaco.db: ${files.map((f) => f.name)}`);
  for (const tok of [admin, read, late]) checkNoToken(files, tok, 'while serving');
  await srv.stop();
  for (const tok of [admin, read, late]) checkNoToken(await dbBytes(dir), tok, 'after the stop');
});

test('no token reaches the log: valid, invalid, in the header, in ?token= and ?access_token=, in a path, and on lockout; a valid token is named by its id', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const good = await h.token(dir, 'admin');
  const srv = await h.start({
    dataDir: dir,
    args: ['--log-requests', 'true', '--require-auth', 'true', '--auth-failure-limit', '3'],
  });
  const bad = badToken(1);
  const q = (tok) => encodeURIComponent(tok);
  let sent = 0;
  const expect = async (p, status) => {
    const r = await p;
    sent++;
    assert.equal(r.status, status, r.text);
  };
  // A valid token in the header; both tokens in the query of reads (only
  // /events reads ?token=; ?access_token= is read nowhere) and in a path.
  await expect(srv.get(TEAM_STATUS, { token: good }), 200);
  await expect(srv.get(`${TEAM_STATUS}?token=${q(good)}`), 401);
  await expect(srv.get(`${TEAM_STATUS}?access_token=${q(good)}&token=${q(bad)}`), 401);
  await expect(srv.get(`${API}/anomalies?limit=5&access_token=${q(good)}`, { token: good }), 200);
  await expect(srv.get(`/api/${good}`), 404);
  await expect(srv.del(`${API}/salesperson/${bad}`, { token: good }), 404);
  await expect(srv.post(ANALYZE, { ...SEED_CUSTOMER, customerId: good }, { token: good }), 200);
  await expect(srv.request('GET', TEAM_STATUS, { headers: { authorization: `Basic ${good}` } }), 401);
  // The event stream takes ?token=: a valid one (stream opened, then dropped)...
  const stream = await openEventStream(srv, { localAddress: '127.0.0.1', path: `${API}/events?token=${q(good)}` });
  stream.close();
  assert.equal(stream.status, 200);
  sent++;
  // ...and invalid ones from another address, until it is locked out.
  for (let i = 0; i < 3; i++) {
    const r = await fromAddr(srv, '127.0.0.2', 'GET', `${API}/events?token=${q(badToken(i))}`);
    assert.equal(r.status, 401, r.text);
    sent++;
  }
  const locked = await fromAddr(srv, '127.0.0.2', 'GET', TEAM_STATUS, { headers: { authorization: `Bearer ${good}` } });
  assert.equal(locked.status, 429, locked.text);
  sent++;
  await srv.stop();
  const log = srv.stderr;
  for (const secret of [good, good.slice(6), bad, bad.slice(6), badToken(0), badToken(2), q(good)]) {
    assert.ok(!log.includes(secret), `the log holds a token: ${secret.slice(0, 12)}...\n${log}`);
  }
  // The positive control: the lines were written, failures and lockout included.
  const lines = log.split('\n').filter((l) => l.startsWith('{'));
  const requests = lines.map((l) => JSON.parse(l)).filter((e) => e.event === 'request');
  assert.ok(requests.length >= sent, `${requests.length} request lines for ${sent} requests`);
  assert.ok(requests.some((e) => e.status === 401) && requests.some((e) => e.status === 429), log);
  const lockouts = lines.map((l) => JSON.parse(l)).filter((e) => e.event === 'auth-lockout');
  assert.deepEqual(lockouts, [{ event: 'auth-lockout', client: '127.0.0.2', failures: 3, seconds: 60 }]);
  // Who did it: a request with a valid token names the token's id (as
  // `whaco token list` shows it), never the token; the others name none.
  const listed = await runWhaco(['token', 'list', '--data', dir]);
  const id = /^([0-9a-f]{12}) /m.exec(listed.stdout)?.[1];
  assert.ok(id, listed.stdout + listed.stderr);
  const withToken = requests.filter((e) => 'token' in e);
  assert.ok(withToken.length >= 4, `${withToken.length} lines name a token:\n${log}`);
  assert.ok(withToken.every((e) => e.token === id && e.status !== 401 && e.status !== 429), log);
  assert.ok(requests.filter((e) => e.status === 401 || e.status === 429).every((e) => !('token' in e)), log);
});

// ------------------------------------------------------- failed-auth limit

test('the default failed-auth limit: the 11th request after 10 bad tokens in a minute gets 429 with Retry-After, even with a valid token; other addresses are untouched', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const read = await h.token(dir, 'read');
  const admin = await h.token(dir, 'admin');
  const srv = await h.start({ dataDir: dir, args: ['--require-auth', 'true', '--log-requests', 'false'] });
  const attacker = '127.0.0.3';
  const bearer = (tok) => ({ headers: { authorization: `Bearer ${tok}` } });
  for (let i = 0; i < 10; i++) {
    const r = await fromAddr(srv, attacker, 'GET', TEAM_STATUS, bearer(badToken(i)));
    checkError(assert, asFetch(r), 401, 'UNAUTHORIZED');
  }
  for (const tok of [read, badToken(99)]) {
    const r = await fromAddr(srv, attacker, 'GET', TEAM_STATUS, bearer(tok));
    checkError(assert, asFetch(r), 429, 'TOO_MANY_AUTH_FAILURES');
    const after = Number(r.headers['retry-after']);
    assert.ok(Number.isInteger(after) && after >= 1 && after <= 60, `Retry-After ${r.headers['retry-after']}`);
    assert.match(r.body.error.message, new RegExp(`${after} s`));
  }
  // A write is refused before its body is read; a valid admin token too.
  const w = await fromAddr(srv, attacker, 'POST', ANALYZE, {
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify(SEED_CUSTOMER),
  });
  checkError(assert, asFetch(w), 429, 'TOO_MANY_AUTH_FAILURES');
  // Endpoints that check no token still answer the address.
  assert.equal((await fromAddr(srv, attacker, 'GET', '/healthz')).status, 200);
  // Another address is not affected, and nothing was written.
  const ok = await srv.get(`${API}/customer-segments`, { token: read });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.segments.totalCustomersProcessed, 0);
  assert.equal((await fromAddr(srv, '127.0.0.4', 'GET', TEAM_STATUS, bearer(read))).status, 200);
  // Missing tokens are not guesses: they never lock an address out.
  for (let i = 0; i < 25; i++) {
    const r = await fromAddr(srv, '127.0.0.5', 'GET', TEAM_STATUS);
    checkError(assert, asFetch(r), 401, 'UNAUTHORIZED');
  }
  assert.equal((await fromAddr(srv, '127.0.0.5', 'GET', TEAM_STATUS, bearer(read))).status, 200);
  const m = (await srv.get('/metrics', { token: read })).text;
  assert.match(m, /^whaco_http_requests_total\{route="\/api\/intelligence\/team-status",status="429"\} 2$/m);
  await srv.stop();
  assert.equal(srv.stderr.match(/"event":"auth-lockout"/g)?.length, 1, srv.stderr);
  assert.match(srv.stderr, /\{"event":"auth-lockout","client":"127\.0\.0\.3","failures":10,"seconds":60\}/);
});

test('the lockout ends when the window has passed (--auth-failure-limit 2 --auth-failure-window 1s), and applies to admin endpoints on loopback', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const srv = await h.start({ dataDir: dir, args: ['--auth-failure-limit', '2', '--auth-failure-window', '1s'] });
  const addr = '127.0.0.6';
  const add = (tok, id) =>
    fromAddr(srv, addr, 'POST', `${API}/add-salesperson`, {
      headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id, name: 'A Person', skillLevel: 0.5 }),
    });
  checkError(assert, asFetch(await add(badToken(1), 'sp-x')), 401, 'UNAUTHORIZED');
  checkError(assert, asFetch(await add(badToken(2), 'sp-x')), 401, 'UNAUTHORIZED');
  const locked = await add(admin, 'sp-1');
  checkError(assert, asFetch(locked), 429, 'TOO_MANY_AUTH_FAILURES');
  assert.equal(locked.headers['retry-after'], '1');
  // On loopback analyze-customer needs no token: the lockout does not touch it.
  const an = await fromAddr(srv, addr, 'POST', ANALYZE, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(SEED_CUSTOMER) });
  assert.equal(an.status, 200, an.text);
  await sleep(1100); // the window (1 s) is over
  const again = await add(admin, 'sp-1');
  assert.equal(again.status, 201, again.text);
  const team = await srv.get(`${API}/salespeople`);
  assert.deepEqual(team.body.salespeople.map((s) => s.id), ['sp-1']);
  await srv.stop();
});

test('concurrent guessing from one address gets at most limit + threads - 1 answers before the lockout', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  // The lockout is checked before a token and recorded after it: with T
  // request threads, at most T - 1 other guesses can be between the two
  // when the limit is reached.
  const h = harness(t);
  const dir = await h.tmpdir();
  const read = await h.token(dir, 'read');
  const srv = await h.start({ dataDir: dir, args: ['--require-auth', 'true', '--threads', '2', '--auth-failure-limit', '10'] });
  const results = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      fromAddr(srv, '127.0.0.7', 'GET', TEAM_STATUS, { headers: { authorization: `Bearer ${badToken(i)}` } }),
    ),
  );
  const by = (s) => results.filter((r) => r.status === s).length;
  t.diagnostic(`60 parallel guesses: ${by(401)} answered 401, ${by(429)} refused 429`);
  assert.equal(by(401) + by(429), 60, results.map((r) => r.status).join(' '));
  assert.ok(by(401) >= 10 && by(401) <= 11, `${by(401)} guesses answered`);
  assert.equal((await srv.get(TEAM_STATUS, { token: read })).status, 200);
  await srv.stop();
});

test('DNS rebinding: on loopback the open endpoints need a token when Host is a domain name other than localhost', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  // A page of evil.example that rebinds its name to 127.0.0.1 reaches the
  // server from the victim's browser with "Host: evil.example[:port]".
  const h = harness(t);
  const dir = await h.tmpdir();
  const read = await h.token(dir, 'read');
  const srv = await h.start({ dataDir: dir });
  const get = (host, headers = {}) => fromAddr(srv, '127.0.0.1', 'GET', `${API}/anomalies`, { headers: { host, ...headers } });
  // IP literals cannot be rebound, single-label names are not public domains.
  for (const host of ['127.0.0.1', `127.0.0.1:${srv.port}`, 'localhost', `LOCALHOST:${srv.port}`, 'localhost.', 'app.localhost:80', '10.0.0.1', `[::1]:${srv.port}`, 'whaco']) {
    const r = await get(host);
    assert.equal(r.status, 200, `Host ${host}: ${r.text}`);
  }
  for (const host of [`evil.example:${srv.port}`, 'evil.example', 'EVIL.example.', '127.0.0.1.evil.example', 'localhost.evil.example', 'whaco.local']) {
    checkError(assert, asFetch(await get(host)), 401, 'UNAUTHORIZED');
    const w = await fromAddr(srv, '127.0.0.1', 'POST', ANALYZE, { headers: { host, 'content-type': 'application/json' }, body: JSON.stringify(SEED_CUSTOMER) });
    checkError(assert, asFetch(w), 401, 'UNAUTHORIZED');
    // With a token it is served; open endpoints stay open.
    assert.equal((await get(host, { authorization: `Bearer ${read}` })).status, 200, host);
    assert.equal((await fromAddr(srv, '127.0.0.1', 'GET', '/healthz', { headers: { host } })).status, 200);
  }
  const seg = await srv.get(`${API}/customer-segments`);
  assert.equal(seg.body.segments.totalCustomersProcessed, 0, 'a refused write was applied');
  await srv.stop();
});

// ---------------------------------------------------------- request limits

test('request limits: body over --body-limit 413, headers over 32 KiB 431, URL over 32 KiB 414', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const srv = await h.start({ args: ['--body-limit', '2048'] });
  const body = JSON.stringify({ ...SEED_CUSTOMER, pad: 'x'.repeat(2048) });
  const big = await srv.request('POST', ANALYZE, { body, headers: { 'content-type': 'application/json' } });
  checkError(assert, big, 413, 'BODY_TOO_LARGE');
  assert.match(big.body.error.message, /2048 bytes/);
  const fits = await srv.post(ANALYZE, SEED_CUSTOMER);
  assert.equal(fits.status, 200, fits.text);

  const headers = await srv.raw(`GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: ${'a'.repeat(40000)}\r\nConnection: close\r\n\r\n`);
  assert.equal(headers.status, 431);
  const url = await srv.raw(`GET /healthz?${'a'.repeat(40000)} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
  assert.equal(url.status, 414);
  // Below the limit both are fine.
  const ok = await srv.raw(`GET /healthz?${'a'.repeat(8000)} HTTP/1.1\r\nHost: t\r\nX-Big: ${'a'.repeat(8000)}\r\nConnection: close\r\n\r\n`);
  assert.equal(ok.status, 200);
  assert.equal((await srv.get('/healthz')).status, 200);
  await srv.stop();
});

/** Dribble `text` one byte every `every` ms on c until done or closed; true if closed first. */
async function dribble(c, text, every) {
  for (const ch of text) {
    if (c.isClosed()) return true;
    c.sock.write(ch);
    await sleep(every);
  }
  return c.isClosed();
}

test('slow clients: headers or a body dribbled a byte at a time are cut at --request-timeout; an idle connection at --connection-timeout', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  // 1 s for a whole request; the inactivity timeout alone (30 s) would
  // never fire, as a byte arrives every 150 ms.
  const srv = await h.start({ args: ['--request-timeout', '1s', '--connection-timeout', '30s'] });
  const headers = `GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ${'a'.repeat(40)}\r\n\r\n`; // ~60 bytes: 9 s
  const bodyText = JSON.stringify(SEED_CUSTOMER);
  const postHead = `POST ${ANALYZE} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${bodyText.length}\r\n\r\n`;
  const [h1, b1] = await Promise.all([openConn(srv, '127.0.0.8'), openConn(srv, '127.0.0.8', postHead)]);
  const [cutHeaders, cutBody] = await Promise.all([dribble(h1, headers, 150), dribble(b1, bodyText, 150)]);
  assert.ok(cutHeaders, 'a request whose headers were dribbled for 9 s was not cut');
  assert.ok(cutBody, 'a request whose body was dribbled for 20 s was not cut');
  // A client that is quick is served on the same server meanwhile and after.
  assert.equal((await srv.post(ANALYZE, SEED_CUSTOMER)).status, 200);
  const seg = await srv.get(`${API}/customer-segments`);
  assert.equal(seg.body.segments.totalCustomersProcessed, 1, 'the dribbled write was not applied');
  await srv.stop();

  const idle = await h.start({ args: ['--connection-timeout', '1s'] });
  const c = await openConn(idle, '127.0.0.8');
  assert.ok(await closedWithin(c, 5000), 'an idle connection outlived a 1 s connection timeout by 4 s');
  await idle.stop();
});

test('without a request deadline (--request-timeout 0) a dribbling client holds its connection: the deadline is what cuts it', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const srv = await h.start({ args: ['--request-timeout', '0', '--connection-timeout', '30s'] });
  const c = await openConn(srv, '127.0.0.9');
  const cut = await dribble(c, `GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ${'a'.repeat(4)}\r\n`, 150); // ~3.5 s
  assert.equal(cut, false, 'closed with no deadline set');
  c.sock.write('\r\n'); // finish the request: it is answered
  c.sock.destroy();
  await srv.stop();
});

// ------------------------------------------------------- connection limits

test('per-address connection limit (--max-connections-per-address 8): the 9th connection of an address is closed at once, other addresses are served', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const srv = await h.start({ args: ['--max-connections-per-address', '8'] });
  const stalled = `GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: a`; // then a request whose headers never finish
  const held = [];
  for (let i = 0; i < 8; i++) held.push(await openServedConn(srv, '127.0.0.20', stalled));
  const extra = await openConn(srv, '127.0.0.20', 'GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n');
  assert.ok(await closedWithin(extra, 5000), 'the 9th connection of one address was not closed');
  await assert.rejects(fromAddr(srv, '127.0.0.20', 'GET', '/healthz'), 'a 10th request was answered');
  assert.ok(held.every((c) => !c.isClosed()), 'a connection within the limit was closed');
  // Legitimate clients at other addresses are served meanwhile.
  assert.equal((await srv.get('/healthz')).status, 200);
  assert.equal((await srv.post(ANALYZE, SEED_CUSTOMER)).status, 200);
  assert.equal((await fromAddr(srv, '127.0.0.21', 'GET', '/healthz')).status, 200);
  // Once its connections close, the address is served again.
  for (const c of held) c.sock.destroy();
  await Promise.all(held.map((c) => c.closed));
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i++) {
    status = await fromAddr(srv, '127.0.0.20', 'GET', '/healthz').then((r) => r.status, () => 0);
    if (status !== 200) await sleep(20);
  }
  assert.equal(status, 200);
  await srv.stop();
});

test('the default per-address limit is 64 connections', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const srv = await h.start();
  const held = [];
  for (let i = 0; i < 64; i++) held.push(await openServedConn(srv, '127.0.0.22', 'GET /healthz HTTP/1.1\r\n'));
  const extra = await openConn(srv, '127.0.0.22', 'GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n');
  assert.ok(await closedWithin(extra, 5000), 'the 65th connection was not closed');
  assert.ok(held.every((c) => !c.isClosed()), 'one of the first 64 was closed');
  assert.equal((await srv.get('/healthz')).status, 200);
  for (const c of held) c.sock.destroy();
  await srv.stop();
});

test('global connection limit (--max-connections 16, one thread): a 17th connection waits, unserved, until one of the 16 closes', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  // At the limit libmicrohttpd stops accepting: further connections wait in
  // the kernel's listen queue (bounded by its backlog) rather than being
  // refused, and are served in turn as slots free up.
  const h = harness(t);
  const srv = await h.start({ args: ['--max-connections', '16', '--threads', '1'] });
  const held = [];
  for (let i = 0; i < 16; i++) held.push(await openConn(srv, `127.0.1.${i + 1}`, 'GET /healthz HTTP/1.1\r\n'));
  const open = held.filter((c) => !c.isClosed());
  // (The harness's readiness check may still hold a keep-alive connection;
  // then one of the 16 is waiting too.)
  const extra = await openConn(srv, '127.0.1.100', 'GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
  let reply = '';
  extra.sock.setEncoding('latin1');
  extra.sock.on('data', (d) => (reply += d));
  await sleep(500);
  assert.equal(reply, '', 'a connection over the global limit was served');
  assert.equal(extra.isClosed(), false);
  for (const c of open) c.sock.destroy();
  assert.ok(await closedWithin(extra, 5000), 'the waiting connection was never served');
  assert.match(reply, /^HTTP\/1\.1 200 /);
  for (const c of held) c.sock.destroy();
  assert.equal((await srv.get('/healthz')).status, 200);
  await srv.stop();
});

// ------------------------------------------------------------------- CORS

const DESK = 'https://desk.example:8443';
const OTHER = 'http://10.0.0.5:3000';
const EVIL = 'https://evil.example';

function noCors(r, what) {
  const names = Object.keys(r.headers).filter((k) => k.startsWith('access-control-'));
  assert.deepEqual(names, [], `${what}: CORS headers ${names}`);
}

const preflight = (srv, origin, p, method) =>
  fromAddr(srv, '127.0.0.1', 'OPTIONS', p, {
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' },
  });

test('CORS is closed by default: no Access-Control-* header for any origin, preflights refused', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const srv = await h.start();
  for (const origin of [DESK, EVIL, 'null']) {
    const g = await fromAddr(srv, '127.0.0.1', 'GET', TEAM_STATUS, { headers: { origin } });
    assert.equal(g.status, 200);
    noCors(g, `GET from ${origin}`);
    const p = await preflight(srv, origin, ANALYZE, 'POST');
    checkError(assert, asFetch(p), 403, 'CORS_ORIGIN_NOT_ALLOWED');
    noCors(p, `preflight from ${origin}`);
  }
  // An OPTIONS that is not a preflight is a method the API does not answer.
  const o = await srv.request('OPTIONS', TEAM_STATUS);
  checkError(assert, o, 405, 'METHOD_NOT_ALLOWED');
  await srv.stop();
});

test('CORS allow-list (--cors-origin, repeated and comma-separated): exact origins only; preflights name the route method and the headers', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const admin = await h.token(dir, 'admin');
  const srv = await h.start({ dataDir: dir, args: ['--cors-origin', `${DESK}/`, '--cors-origin', `${OTHER}, http://127.0.0.1:9999`] });
  for (const origin of [DESK, OTHER, 'http://127.0.0.1:9999']) {
    const g = await fromAddr(srv, '127.0.0.1', 'GET', TEAM_STATUS, { headers: { origin } });
    assert.equal(g.status, 200);
    assert.equal(g.headers['access-control-allow-origin'], origin);
    assert.match(g.headers.vary || '', /Origin/);
    assert.equal(g.headers['access-control-allow-credentials'], undefined, 'bearer tokens need no credentials mode');
  }
  for (const origin of [EVIL, 'https://desk.example', 'http://desk.example:8443', `${DESK}.evil.example`, 'null']) {
    const g = await fromAddr(srv, '127.0.0.1', 'GET', TEAM_STATUS, { headers: { origin } });
    assert.equal(g.headers['access-control-allow-origin'], undefined, origin);
    const p = await preflight(srv, origin, ANALYZE, 'POST');
    checkError(assert, asFetch(p), 403, 'CORS_ORIGIN_NOT_ALLOWED');
    assert.equal(p.headers['access-control-allow-origin'], undefined, origin);
  }
  const routes = [
    [ANALYZE, 'POST', 'POST'],
    [TEAM_STATUS, 'GET', 'GET, HEAD'],
    [`${API}/salesperson/sp-1`, 'DELETE', 'DELETE'],
    [`${API}/events`, 'GET', 'GET, HEAD'],
  ];
  for (const [p, method, allow] of routes) {
    const r = await preflight(srv, DESK, p, method);
    assert.equal(r.status, 204, `${p}: ${r.text}`);
    assert.equal(r.headers['access-control-allow-origin'], DESK);
    assert.equal(r.headers['access-control-allow-methods'], allow);
    assert.match(r.headers['access-control-allow-headers'], /Authorization/);
    assert.match(r.headers['access-control-allow-headers'], /Content-Type/);
    assert.ok(Number(r.headers['access-control-max-age']) > 0);
    assert.match(r.headers.vary || '', /Origin/);
  }
  // A write and its refusals carry CORS too, so the page can read the error.
  const w = await fromAddr(srv, '127.0.0.1', 'POST', ANALYZE, { headers: { origin: DESK, 'content-type': 'application/json' }, body: JSON.stringify(SEED_CUSTOMER) });
  assert.equal(w.status, 200);
  assert.equal(w.headers['access-control-allow-origin'], DESK);
  const e = await fromAddr(srv, '127.0.0.1', 'POST', `${API}/reset`, { headers: { origin: DESK, authorization: 'Bearer nope' } });
  checkError(assert, asFetch(e), 401, 'UNAUTHORIZED');
  assert.equal(e.headers['access-control-allow-origin'], DESK);
  assert.match(e.headers['access-control-expose-headers'], /Retry-After/);
  const ok = await fromAddr(srv, '127.0.0.1', 'POST', `${API}/reset`, { headers: { origin: DESK, authorization: `Bearer ${admin}` } });
  assert.equal(ok.status, 200);
  await srv.stop();
});

test('CORS from the environment and the config file; a later source replaces an earlier one; * is refused', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dir = await h.tmpdir();
  const conf = path.join(dir, 'whaco.conf');
  await writeFile(conf, `cors-origin = ${OTHER}\ncors-origin = ${DESK}\n`);
  const allowed = async (srv, origin) =>
    (await fromAddr(srv, '127.0.0.1', 'GET', TEAM_STATUS, { headers: { origin } })).headers['access-control-allow-origin'] === origin;

  const fromFile = await h.start({ args: ['--config', conf] });
  assert.ok(await allowed(fromFile, OTHER));
  assert.ok(await allowed(fromFile, DESK));
  await fromFile.stop();

  const saved = process.env.WHACO_CORS_ORIGIN;
  process.env.WHACO_CORS_ORIGIN = `${EVIL.replace('evil', 'env')},${OTHER}`;
  try {
    const fromEnv = await h.start({ args: ['--config', conf] });
    assert.ok(await allowed(fromEnv, 'https://env.example'));
    assert.ok(await allowed(fromEnv, OTHER));
    assert.ok(!(await allowed(fromEnv, DESK)), 'the environment replaces the file');
    await fromEnv.stop();
    const fromFlag = await h.start({ args: ['--config', conf, '--cors-origin', DESK] });
    assert.ok(await allowed(fromFlag, DESK));
    assert.ok(!(await allowed(fromFlag, OTHER)), 'flags replace the environment');
    await fromFlag.stop();
  } finally {
    if (saved === undefined) delete process.env.WHACO_CORS_ORIGIN;
    else process.env.WHACO_CORS_ORIGIN = saved;
  }
  for (const bad of ['*', 'https://desk.example/app', 'desk.example']) {
    const r = await h.startExpectingFailure(await h.tmpdir(), { args: ['--cors-origin', bad] });
    assert.equal(r.running, false, `started with --cors-origin ${bad}`);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cors-origin/);
  }
});

// -------------------------------------------------------- security headers

test('security headers: every API answer is nosniff, not framable, same-origin only, and not cached', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const srv = await h.start();
  const answers = [
    await srv.get(TEAM_STATUS),
    await srv.post(ANALYZE, SEED_CUSTOMER),
    await srv.get('/metrics'),
    await srv.get('/healthz'),
    await srv.post(ANALYZE, { ...SEED_CUSTOMER, creditScore: 5 }), // 400
    await srv.post(`${API}/reset`), // 401
    await srv.get(`${API}/nope`), // 404
  ];
  for (const r of answers) {
    const what = `${r.status} ${r.text.slice(0, 60)}`;
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', what);
    assert.equal(r.headers.get('x-frame-options'), 'DENY', what);
    assert.equal(r.headers.get('cross-origin-resource-policy'), 'same-origin', what);
    assert.equal(r.headers.get('cache-control'), 'no-store', what);
  }
  await srv.stop();
});

test('the dashboard directory: web-dir from WHACO_WEB_DIR (a flag wins over it); a missing index.html is named at start, and / is 404', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const dirs = [];
  for (const name of ['env', 'flag']) {
    const web = path.join(await h.tmpdir(), name);
    await mkdir(web);
    await writeFile(path.join(web, 'index.html'), `<!doctype html><title>${name}</title>\n`);
    dirs.push(web);
  }
  const fromEnv = await h.start({ env: { WHACO_WEB_DIR: dirs[0] } });
  assert.match((await fromEnv.get('/')).text, /<title>env<\/title>/);
  assert.doesNotMatch(fromEnv.stderr, /no dashboard/);
  await fromEnv.stop();
  const fromFlag = await h.start({ env: { WHACO_WEB_DIR: dirs[0] }, args: ['--web-dir', dirs[1]] });
  assert.match((await fromFlag.get('/')).text, /<title>flag<\/title>/);
  await fromFlag.stop();
  const none = await h.start({ env: { WHACO_WEB_DIR: path.join(dirs[0], 'missing') } });
  for (let i = 0; i < 100 && !/no dashboard/.test(none.stderr); i++) await sleep(20); // the line after 'listening'
  assert.match(none.stderr, /no dashboard: cannot read .*missing\/index\.html \(No such file or directory\); set web-dir/);
  assert.equal((await none.get('/')).status, 404);
  assert.equal((await none.get('/healthz')).status, 200);
  await none.stop();
});

test("security headers on the dashboard's files: a strict CSP without inline code, no framing, COOP and CORP same-origin, nosniff, no referrer", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const h = harness(t);
  const web = path.join(await h.tmpdir(), 'web');
  await mkdir(web);
  await writeFile(path.join(web, 'index.html'), '<!doctype html><title>t</title><script src="app.js"></script>\n');
  await writeFile(path.join(web, 'app.js'), 'export {};\n');
  const srv = await h.start({ args: ['--web-dir', web] });
  for (const p of ['/', '/index.html', '/app.js']) {
    const r = await srv.get(p);
    assert.equal(r.status, 200, p);
    const csp = r.headers.get('content-security-policy') || '';
    const directive = (name) => csp.split(';').map((d) => d.trim()).find((d) => d.startsWith(`${name} `));
    assert.equal(directive('default-src'), "default-src 'self'", p);
    assert.equal(directive('script-src'), "script-src 'self'", p);
    assert.equal(directive('frame-ancestors'), "frame-ancestors 'none'", p);
    assert.equal(directive('object-src'), "object-src 'none'", p);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/, p);
    assert.equal(r.headers.get('x-frame-options'), 'DENY', p);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', p);
    assert.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin', p);
    assert.equal(r.headers.get('cross-origin-resource-policy'), 'same-origin', p);
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer', p);
  }
  await srv.stop();
});
