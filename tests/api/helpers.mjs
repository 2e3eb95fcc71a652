// helpers.mjs: start and stop real `whaco serve` processes for the API tests
// (the browser harness imports its constants and customer streams too).
//
// Every test calls harness(t) and starts its servers through it. Each server
// gets a fresh data directory (mkdtemp under os.tmpdir()) unless the test
// passes one (to restart on the same data), listens on 127.0.0.1:0 (or
// 0.0.0.0:0 when asked) and is ready when GET /healthz answers 200. When the
// test ends, pass or fail, the harness SIGKILLs any server still running and
// removes the directories it created. Every fetch has a timeout.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The binary under test: $WHACO_BIN, else the default build. */
export const WHACO_BIN = process.env.WHACO_BIN || path.resolve(here, '../../build/whaco');

export const FETCH_TIMEOUT_MS = 10_000;
/** Per-test bound (each test normally takes well under 10 s). */
export const TEST_TIMEOUT_MS = 45_000;
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/**
 * Flags every test server gets before its own: no background event can
 * change state behind a test's back unless the test asks for it (a later
 * flag of the same name wins).
 */
export const QUIET_DEFAULTS = [
  '--timezone', 'UTC',
  '--tick-interval', '1h',
  '--snapshot-interval', '1h',
  '--daily-reset', 'false',
  '--log-requests', 'false',
];

export const API = '/api/intelligence';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The seed's analyze-customer request example (API Reference). */
export const SEED_CUSTOMER = Object.freeze({
  customerId: 'cust_123',
  creditScore: 720,
  annualIncome: 75000,
  vehiclePrice: 28000,
  downPayment: 3000,
  tradeValue: 5000,
  visitCount: 1,
  timeOnLot: 45,
  engagement: 0.7,
});

/** An obvious fraud-like customer: poor credit, huge income, nothing down. */
export const FRAUD_CUSTOMER = Object.freeze({
  customerId: 'cust_fraud',
  creditScore: 450,
  annualIncome: 1500000,
  vehiclePrice: 30000,
  downPayment: 100,
  tradeValue: 0,
  visitCount: 1,
  timeOnLot: 30,
  engagement: 0.9,
});

/** A valid customer number i of a deterministic, varied stream. */
export function customer(i) {
  const price = 18000 + (i * 7919) % 40000;
  return {
    customerId: `c-${i}`,
    creditScore: 560 + (i * 37) % 260,
    annualIncome: 40000 + (i * 104729) % 90000,
    vehiclePrice: price,
    downPayment: Math.round(price * (((i * 13) % 30) / 100)),
    tradeValue: (i * 611) % 6000,
    visitCount: 1 + (i % 4),
    timeOnLot: 15 + (i * 17) % 120,
    engagement: ((i * 29) % 90) / 100 + 0.05,
  };
}

/** One HTTP request with a timeout; the body is read and parsed if JSON. */
export async function call(base, method, urlPath, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  let body = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
  }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(base + urlPath, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(opts.timeout || FETCH_TIMEOUT_MS),
  });
  const text = await res.text();
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    data = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: data };
}

/**
 * Send raw bytes over a fresh TCP connection and read the reply until the
 * server closes it or a complete response (by Content-Length) has arrived.
 * For what fetch cannot send: invalid UTF-8 framing tricks, chunked bodies
 * with chosen chunk sizes, a Content-Length with no body.
 */
export function rawRequest(port, payload, { timeout = FETCH_TIMEOUT_MS, host = '127.0.0.1' } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host });
    const chunks = [];
    let done = false;
    const finish = (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const buf = Buffer.concat(chunks);
      const parsed = parseResponse(buf);
      if (parsed) resolve(parsed);
      else reject(err || new Error(`no complete HTTP response (got ${buf.length} bytes)`));
    };
    const timer = setTimeout(() => finish(new Error('raw request timed out')), timeout);
    sock.on('data', (d) => {
      chunks.push(d);
      const p = parseResponse(Buffer.concat(chunks));
      if (p && p.complete) finish();
    });
    sock.on('end', () => finish());
    sock.on('close', () => finish());
    sock.on('error', (e) => {
      // A reset after the response arrived is fine (the server may close
      // while we are still sending a body it refused).
      finish(e);
    });
    const parts = Array.isArray(payload) ? payload : [payload];
    for (const p of parts) {
      if (!sock.destroyed) sock.write(p, () => {});
    }
  });
}

function parseResponse(buf) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
  if (!m) return null;
  const headers = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const rest = buf.subarray(end + 4);
  const len = headers['content-length'] !== undefined ? Number(headers['content-length']) : NaN;
  const complete = Number.isFinite(len) && rest.length >= len;
  const text = (Number.isFinite(len) ? rest.subarray(0, len) : rest).toString('utf8');
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: Number(m[1]), headers, text, body, complete };
}

/** Run `whaco ARGS...` (runTool on WHACO_BIN): {code, stdout, stderr}. */
export const runWhaco = (args) => runTool(WHACO_BIN, args, { timeout: 10_000 });

/**
 * Open the event stream and keep it: opts.token (sent as a bearer header),
 * opts.localAddress, opts.path (default the events route). Resolves once
 * the answer's headers arrive to {status, ended: Promise, isEnded(), close()}.
 */
export function openEventStream(srv, { token, localAddress, path: urlPath = `${API}/events` } = {}) {
  return new Promise((resolve, reject) => {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const req = http.request(
      { host: '127.0.0.1', port: srv.port, path: urlPath, headers, localAddress, agent: false, timeout: 10_000 },
      (res) => {
        let ended = false;
        const endedP = new Promise((r) => res.on('close', () => ((ended = true), r())));
        res.resume();
        resolve({ status: res.statusCode, ended: endedP, isEnded: () => ended, close: () => req.destroy() });
      },
    );
    req.on('timeout', () => req.destroy(new Error('the event stream did not answer in 10 s')));
    req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
    req.end();
  });
}

/** Run `whaco token create` and return the printed token. */
export async function createToken(dataDir, role) {
  const r = await runWhaco(['token', 'create', '--role', role, '--data', dataDir]);
  if (r.code !== 0) throw new Error(`token create failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

/** A running `whaco serve`. */
export class Server {
  constructor(proc, dataDir) {
    this.proc = proc;
    this.dataDir = dataDir;
    this.stderr = '';
    this.exitInfo = null;
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      proc.on('error', (err) => {
        // could not be spawned (missing binary, EACCES while being rebuilt)
        this.stderr += `spawn failed: ${err.message}\n`;
        this.exitInfo = { code: null, signal: null, error: err.message };
        resolve(this.exitInfo);
      });
    });
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d) => {
      this.stderr += d;
    });
    proc.stdout.resume();
  }

  get running() {
    return this.exitInfo === null;
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  request(method, urlPath, opts) {
    return call(this.base, method, urlPath, opts);
  }

  get(urlPath, opts) {
    return call(this.base, 'GET', urlPath, opts);
  }

  post(urlPath, json, opts = {}) {
    return call(this.base, 'POST', urlPath, json === undefined ? opts : { ...opts, json });
  }

  del(urlPath, opts) {
    return call(this.base, 'DELETE', urlPath, opts);
  }

  raw(payload, opts) {
    return rawRequest(this.port, payload, opts);
  }

  /** Wait up to ms for the process to exit; null if it did not. */
  async waitExit(ms) {
    let timer;
    const t = new Promise((r) => {
      timer = setTimeout(() => r(null), ms);
    });
    const res = await Promise.race([this.exited, t]);
    clearTimeout(timer);
    return res;
  }

  /**
   * Graceful stop: SIGTERM, then the process must exit with status 0
   * within 5 s. Throws (with its stderr) otherwise.
   */
  async stop() {
    if (!this.running) throw new Error(`server already exited: ${JSON.stringify(this.exitInfo)}\n${this.stderr}`);
    const t0 = Date.now();
    this.proc.kill('SIGTERM');
    const res = await this.waitExit(STOP_TIMEOUT_MS);
    if (!res) {
      this.proc.kill('SIGKILL');
      await this.exited;
      throw new Error(`server did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM\n${this.stderr}`);
    }
    if (res.code !== 0) {
      throw new Error(`server exited with ${JSON.stringify(res)} after SIGTERM\n${this.stderr}`);
    }
    return Date.now() - t0;
  }

  /** kill -9, and wait for the process to be gone. */
  async kill9() {
    if (this.running) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

// Safety net: if this test process exits without its tests' cleanup (a
// crash, a runner timeout), no server it started outlives it.
const live = new Set();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

function spawnServe(args, env, bin = WHACO_BIN) {
  const proc = spawn(bin, ['serve', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: env ? { ...process.env, ...env } : process.env,
  });
  live.add(proc);
  proc.on('exit', () => live.delete(proc));
  return proc;
}

/**
 * Start `whaco serve` on dataDir and wait until it listens and /healthz is
 * 200. Resolves to a Server; rejects (killing it) on failure. env: extra
 * environment variables for the process (e.g. LD_PRELOAD); bin: another
 * whaco binary; quiet: false to start without QUIET_DEFAULTS (the server's
 * own defaults); timeoutMs: how long it may take to answer.
 */
export async function startServer(
  dataDir,
  { args = [], listen = '127.0.0.1:0', env, bin = WHACO_BIN, quiet = true, timeoutMs = START_TIMEOUT_MS } = {},
) {
  const defaults = quiet ? QUIET_DEFAULTS : [];
  const proc = spawnServe(['--listen', listen, '--data', dataDir, ...defaults, ...args], env, bin);
  const srv = new Server(proc, dataDir);
  const deadline = Date.now() + timeoutMs;
  try {
    while (srv.port === undefined) {
      const m = /listening on http:\/\/(\[[^\]]+\]|[^\s:]+):(\d+)/.exec(srv.stderr);
      if (m) {
        srv.port = Number(m[2]);
        srv.host = m[1];
        break;
      }
      if (!srv.running) throw new Error(`whaco serve exited ${JSON.stringify(srv.exitInfo)}`);
      if (Date.now() > deadline) throw new Error('whaco serve did not report its port');
      await sleep(10);
    }
    for (;;) {
      try {
        const r = await call(srv.base, 'GET', '/healthz', { timeout: 2000 });
        if (r.status === 200) break;
      } catch {
        /* not yet */
      }
      if (!srv.running) throw new Error(`whaco serve exited ${JSON.stringify(srv.exitInfo)}`);
      if (Date.now() > deadline) throw new Error('/healthz never answered 200');
      await sleep(20);
    }
  } catch (e) {
    if (srv.running) srv.proc.kill('SIGKILL');
    await srv.exited;
    e.message += `\nstderr:\n${srv.stderr}`;
    throw e;
  }
  return srv;
}

/**
 * Run a command to its end (60 s at most by default). Resolves to
 * {code, stdout, stderr}; code is -1 if it was killed or could not start.
 */
export function runTool(file, args, { timeout = 60_000, maxBuffer = 1 << 30 } = {}) {
  return new Promise((resolve) => {
    execFile(file, args, { timeout, maxBuffer }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/**
 * Run `whaco serve` expecting it to refuse to start. Resolves to
 * {code, signal, stderr}; if it is still running after ms it is killed and
 * the result has code null and running true.
 */
export async function startExpectingFailure(dataDir, { args = [], ms = 8000, env } = {}) {
  const proc = spawnServe(['--listen', '127.0.0.1:0', '--data', dataDir, ...QUIET_DEFAULTS, ...args], env);
  const srv = new Server(proc, dataDir);
  const res = await srv.waitExit(ms);
  if (!res) {
    proc.kill('SIGKILL');
    await srv.exited;
    return { code: null, signal: 'SIGKILL', stderr: srv.stderr, running: true };
  }
  return { ...res, stderr: srv.stderr, running: false };
}

/**
 * Per-test resources. Everything started or created through it is cleaned
 * up when the test ends, whether it passed or not.
 */
export function harness(t) {
  const servers = [];
  const dirs = [];
  t.after(async () => {
    for (const s of servers) {
      if (s.running) s.proc.kill('SIGKILL');
      await s.exited;
    }
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const h = {
    async tmpdir() {
      const d = await mkdtemp(path.join(os.tmpdir(), 'whaco-api-'));
      dirs.push(d);
      return d;
    },
    /** Start a server on opts.dataDir (default: a fresh directory). */
    async start(opts = {}) {
      const dataDir = opts.dataDir || (await h.tmpdir());
      const srv = await startServer(dataDir, opts);
      servers.push(srv);
      return srv;
    },
    async startExpectingFailure(dataDir, opts) {
      return startExpectingFailure(dataDir, opts);
    },
    token: createToken,
  };
  return h;
}

/** Add salespeople (admin) and check each was added. */
export async function addTeam(srv, token, members) {
  for (const m of members) {
    const r = await srv.post(`${API}/add-salesperson`, m, { token });
    if (r.status !== 201) throw new Error(`add-salesperson ${m.id}: ${r.status} ${r.text}`);
  }
}

export const TEAM5 = Object.freeze([
  { id: 'sp-1', name: 'Jane Smith', skillLevel: 0.9, naturalFrequency: 0.9 },
  { id: 'sp-2', name: 'Bob Johnson', skillLevel: 0.5, naturalFrequency: 0.85 },
  { id: 'sp-3', name: 'Ana Lopez', skillLevel: 0.7, naturalFrequency: 0.95 },
  { id: 'sp-4', name: 'Sam Lee', skillLevel: 0.6, naturalFrequency: 0.9 },
  { id: 'sp-5', name: 'Kim Park', skillLevel: 0.8, naturalFrequency: 0.88 },
]);

/** Run fn(i) for i in [0, n) with at most `width` in flight. */
export async function pool(n, width, fn) {
  let next = 0;
  const workers = [];
  for (let w = 0; w < Math.min(width, n); w++) {
    workers.push(
      (async () => {
        while (next < n) await fn(next++);
      })(),
    );
  }
  await Promise.all(workers);
}

export const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Check an error response: the status, Content-Type JSON, a body that is
 * exactly {"error":{"code","message","field"?}}, the code, and the field
 * (absent when field is null). For a 400 with a field, the message must
 * name the field (the contract: "the message names the field").
 */
export function checkError(assert, res, status, code, field = null, { messageNamesField = status === 400 } = {}) {
  const where = `(${res.status} ${res.text})`;
  assert.equal(res.status, status, `status ${where}`);
  const ct = typeof res.headers.get === 'function' ? res.headers.get('content-type') : res.headers['content-type'];
  assert.match(ct || '', /^application\/json/, `content-type ${where}`);
  assert.ok(res.body && typeof res.body === 'object', `JSON body ${where}`);
  assert.deepEqual(Object.keys(res.body), ['error'], `only "error" at the top ${where}`);
  const e = res.body.error;
  for (const k of Object.keys(e)) assert.ok(['code', 'message', 'field'].includes(k), `unexpected key ${k} ${where}`);
  assert.equal(e.code, code, `code ${where}`);
  assert.equal(typeof e.message, 'string', `message ${where}`);
  assert.ok(e.message.length > 0, `message not empty ${where}`);
  if (field === null) {
    assert.equal(e.field, undefined, `no field ${where}`);
  } else {
    assert.equal(e.field, field, `field ${where}`);
    if (messageNamesField) assert.ok(e.message.includes(field), `message names the field "${field}" ${where}`);
  }
}
