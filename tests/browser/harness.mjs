// harness.mjs: a real `whaco serve` and Debian's Chromium for the dashboard tests.
//
// startServer(t) starts whaco on 127.0.0.1:0 (or a given port) with a fresh
// data directory and an admin token, serving the dashboard from
// $WHACO_WEB_DIR; openPage(t, server) opens the dashboard in a fresh browser
// context and records console errors. Everything is stopped and removed when
// the test ends, pass or fail.
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { API, FRAUD_CUSTOMER, QUIET_DEFAULTS, WHACO_BIN, createToken, customer, sleep } from '../api/helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');

export const WEB_DIR = process.env.WHACO_WEB_DIR || path.join(repo, 'build/web');
export const ARTIFACTS = process.env.WHACO_ARTIFACTS || path.join(repo, 'build/browser-artifacts');
export const CHROMIUM = process.env.WHACO_CHROMIUM || '/usr/bin/chromium';

const START_TIMEOUT_MS = 10_000;

/** The data directories startServer made, each with the stops of the servers on it. */
const serversOn = new Map();

/**
 * Start whaco serve. opts.args: extra flags (later ones win); opts.data: reuse
 * a data directory; opts.port: listen on this port (to come back after a stop).
 * Resolves to { base, port, data, token, stop() }.
 */
export async function startServer(t, opts = {}) {
  let data = opts.data;
  if (!data) {
    data = await mkdtemp(path.join(os.tmpdir(), 'whaco-browser-'));
    const dir = data;
    serversOn.set(dir, new Set());
    // Every server on the directory stops first: a stop writes the last
    // snapshot, and would leave a removed directory behind with a database.
    t.after(async () => {
      for (const stopOne of serversOn.get(dir)) await stopOne();
      serversOn.delete(dir);
      await rm(dir, { recursive: true, force: true });
    });
  }
  const token = opts.token || (await createToken(data, 'admin'));
  const args = ['serve', '--listen', `127.0.0.1:${opts.port || 0}`, '--data', data, '--web-dir', WEB_DIR,
    ...QUIET_DEFAULTS, ...(opts.args || [])];
  const child = spawn(WHACO_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise((r) => child.on('exit', r));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const done = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
    if (!done) child.kill('SIGKILL');
  };
  if (serversOn.has(data)) serversOn.get(data).add(stop);
  t.after(stop);
  let stderr = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`whaco did not start in time:\n${stderr}`)), START_TIMEOUT_MS);
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`whaco exited (${code}) before listening:\n${stderr}`));
    });
  });
  return { base: `http://127.0.0.1:${port}`, port, data, token, stop, stderr: () => stderr };
}

/** A JSON request from Node (not through the page). */
export async function api(server, method, urlPath, body, { auth = true } = {}) {
  const headers = {};
  if (auth) headers.authorization = `Bearer ${server.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(server.base + API + urlPath, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, body: json, text };
}

/** Add salespeople through the API; each { id, name, skillLevel, phase?, ... }. */
export async function addTeam(server, people) {
  for (const p of people) {
    const r = await api(server, 'POST', '/add-salesperson', { naturalFrequency: 0.9, ...p });
    if (r.status !== 201) throw new Error(`add-salesperson ${p.id}: ${r.status} ${r.text}`);
  }
}

let browser = null;

/** One Chromium for the whole file (each test gets its own context). */
export async function launchBrowser() {
  if (!browser) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }
  return browser;
}

export async function closeBrowser() {
  if (browser) await browser.close();
  browser = null;
}

/**
 * Open the dashboard of server in a fresh context (fresh storage).
 * Resolves to { page, context, errors }: errors collects console errors and
 * uncaught exceptions. opts.viewport, opts.context (more options for the
 * browser context, e.g. { hasTouch: true, isMobile: true } for a phone),
 * opts.init (a function run before the page's scripts), opts.waitLive
 * (default true: wait until the stream is open).
 */
export async function openPage(t, server, opts = {}) {
  const b = await launchBrowser();
  const context = await b.newContext({ viewport: opts.viewport || { width: 1280, height: 900 }, ...opts.context });
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  if (opts.init) await page.addInitScript(opts.init);
  await page.goto(`${server.base}/`);
  if (opts.waitLive !== false) await page.waitForSelector('#connection[data-state="live"]');
  return { page, context, errors };
}

/** Save a screenshot as ARTIFACTS/name.png; returns its path. */
export async function screenshot(page, name, { copyTo, ...opts } = {}) {
  await mkdir(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, ...opts });
  if (copyTo) await copyFile(file, copyTo);
  return file;
}

/** Retry fn (which asserts) until it passes or ms have passed. */
export async function eventually(fn, ms = 5000, what = 'condition') {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      last.message = `${what} not met within ${ms} ms: ${last.message}`;
      throw last;
    }
    await sleep(100);
  }
}

export { FRAUD_CUSTOMER, customer, repo, sleep };
