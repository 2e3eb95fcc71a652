// soak.mjs: whaco under a steady mixed load for a long time (issue #7,
// "Soak"): memory, file descriptors and latency must stay flat. `make soak`.
//
//   node tests/soak/soak.mjs [--minutes 30] [--rate 100] [--bin build/whaco]
//
// The server: `whaco serve` on 127.0.0.1:0, sync full, default intervals but
// a snapshot every minute and a retention of 5 minutes, so snapshots,
// compaction (deleting events, vacuum, WAL truncation) and network ticks all
// happen many times. The load, from 127.0.0.1 and bounded: WORKERS clients
// sharing a fixed rate (default 100 requests/s, far below capacity), each
// request drawn as 15% team-status, 15% customer-segments, 15% anomalies,
// 15% insights, 10% salespeople, 20% analyze-customer (1 in 20 an obvious
// anomaly), 10% deal-closed; every 20 s a salesperson is added and the one
// added before removed (admin token); one Server-Sent Events client stays
// connected throughout and must keep receiving.
//
// Every SAMPLE_S seconds: the server's RSS (VmRSS, /proc/PID/status), its
// open descriptors (/proc/PID/fd), and the p50/p99 latency and count of the
// requests of that interval. At the end a table and a verdict against the
// bounds below; exit 0 if all hold, 1 if not (a performance harness, not a
// test: the figures go into docs/reliability.md).
//
// Bounds, after a warm-up (the first 3 minutes, or the first third of a
// shorter run):
//   RSS:  the largest sample after warm-up at most RSS_BOUND_MIB above the
//         sample at the end of warm-up. Everything the state holds is fixed
//         in size (five segments, the 256-entry anomaly ring, the 2016-entry
//         coherence ring, a team kept at six by the add/remove cycle); SQLite
//         caches at most 2000 KiB per connection (two connections); HTTP
//         connections are bounded by the client count. So growth beyond
//         allocator noise means a leak: 16 MiB over 27 minutes at 100
//         requests/s is about 100 bytes a request.
//   fds:  the largest count in the last third at most FD_SLACK above the
//         largest count in the first third after warm-up (connections come
//         and go; a leak grows without bound).
//   p99:  the median of the per-interval p99s of the last third at most
//         P99_FACTOR times that of the first third (after warm-up).
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { API, FRAUD_CUSTOMER, TEAM5, call, customer, runTool, sleep, startServer } from '../api/helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const WORKERS = 8;
const RSS_BOUND_MIB = 16;
const FD_SLACK = 4;
const P99_FACTOR = 2;

function parseArgs(argv) {
  const o = {
    minutes: Number(process.env.SOAK_MINUTES || 30),
    rate: Number(process.env.SOAK_RATE || 100),
    sampleS: Number(process.env.SOAK_SAMPLE_S || 30),
    bin: process.env.WHACO_BIN || path.resolve(here, '../../build/whaco'),
  };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--minutes') o.minutes = Number(v());
    else if (a === '--rate') o.rate = Number(v());
    else if (a === '--sample-seconds') o.sampleS = Number(v());
    else if (a === '--bin') o.bin = path.resolve(v());
    else throw new Error(`unknown argument ${a}`);
  }
  if (!(o.minutes > 0) || !(o.rate > 0) || !(o.sampleS >= 1)) {
    throw new Error('usage: soak.mjs [--minutes M] [--rate R] [--sample-seconds S]');
  }
  return o;
}

/** Start `whaco serve` (the shared harness) with the server's own defaults but these. */
function startWhaco(o, dataDir) {
  const args = ['--timezone', 'UTC', '--log-requests', 'false', '--sync', 'full',
    '--snapshot-interval', '1m', '--retention', '5m'];
  return startServer(dataDir, { bin: o.bin, quiet: false, args, timeoutMs: 15_000 });
}

async function sampleProc(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  const fds = (await readdir(`/proc/${pid}/fd`)).length;
  return { rssKiB, fds };
}

function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const median = (a) => quantile([...a].sort((x, y) => x - y), 0.5);

/** One SSE client for the whole run; counts the events it receives. */
function sseClient(port) {
  const st = { events: 0, bytes: 0, open: false, error: null, req: null };
  st.req = http.get({ host: '127.0.0.1', port, path: `${API}/events` }, (res) => {
    st.open = res.statusCode === 200;
    if (!st.open) st.error = `status ${res.statusCode}`;
    res.setEncoding('utf8');
    res.on('data', (d) => {
      st.bytes += d.length;
      st.events += (d.match(/\n\n/g) || []).length;
    });
    res.on('end', () => { st.open = false; });
  });
  st.req.on('error', (e) => { st.open = false; st.error = e.message; });
  return st;
}

async function main() {
  const o = parseArgs(process.argv);
  const durationMs = o.minutes * 60_000;
  const warmMs = Math.min(3 * 60_000, durationMs / 3);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'whaco-soak-'));
  let srv;
  let stopLoad = false;
  try {
    const token = (await runTool(o.bin, ['token', 'create', '--role', 'admin', '--data', dataDir])).stdout.trim();
    srv = await startWhaco(o, dataDir);
    for (const m of TEAM5) {
      const r = await call(srv.base, 'POST', `${API}/add-salesperson`, { json: m, token });
      if (r.status !== 201) throw new Error(`add-salesperson: ${r.status} ${r.text}`);
    }
    const sse = sseClient(srv.port);
    console.log(`soak: ${o.minutes} min at ${o.rate} requests/s from ${WORKERS} clients + 1 SSE client; pid ${srv.proc.pid}; sample every ${o.sampleS} s`);

    let lat = []; // this interval's latencies, ms
    let errors = 0;
    let errorText = '';
    let n = 0;
    const t0 = Date.now();
    const workers = [];
    for (let w = 0; w < WORKERS; w++) {
      workers.push((async () => {
        const gap = (WORKERS * 1000) / o.rate;
        let next = Date.now() + Math.random() * gap;
        while (!stopLoad) {
          await sleep(Math.max(0, next - Date.now()));
          next += gap;
          if (stopLoad) break;
          const i = n++;
          const p = Math.random();
          let method = 'GET';
          let url;
          let json;
          if (p < 0.15) url = `${API}/team-status`;
          else if (p < 0.30) url = `${API}/customer-segments`;
          else if (p < 0.45) url = `${API}/anomalies?limit=20`;
          else if (p < 0.60) url = `${API}/insights`;
          else if (p < 0.70) url = `${API}/salespeople`;
          else if (p < 0.90) {
            method = 'POST';
            url = `${API}/analyze-customer`;
            json = i % 20 === 0 ? { ...FRAUD_CUSTOMER, customerId: `soak-${i}` } : { ...customer(i), customerId: `soak-${i}` };
          } else {
            method = 'POST';
            url = `${API}/deal-closed`;
            json = { salespersonId: TEAM5[i % TEAM5.length].id, dealId: `deal-${i}` };
          }
          const ts = performance.now();
          try {
            const r = await call(srv.base, method, url, json ? { json } : {});
            lat.push(performance.now() - ts);
            if (r.status >= 300) {
              errors++;
              errorText = `${method} ${url}: ${r.status} ${r.text}`;
            }
          } catch (e) {
            errors++;
            errorText = `${method} ${url}: ${e.message}`;
          }
        }
      })());
    }
    // The admin cycle: add one, remove the previous one.
    const admin = (async () => {
      let k = 0;
      while (!stopLoad) {
        await sleep(20_000);
        if (stopLoad) break;
        const id = `sp-soak-${k}`;
        const r = await call(srv.base, 'POST', `${API}/add-salesperson`, { json: { id, name: `Soak ${k}`, skillLevel: 0.6 }, token });
        if (r.status !== 201) { errors++; errorText = `add ${id}: ${r.status}`; }
        if (k > 0) {
          const d = await call(srv.base, 'DELETE', `${API}/salesperson/sp-soak-${k - 1}`, { token });
          if (d.status !== 200) { errors++; errorText = `remove: ${d.status} ${d.text}`; }
        }
        k++;
      }
    })();

    const rows = [];
    console.log(' minute   RSS MiB   fds  requests  p50 ms  p99 ms  errors  SSE events');
    while (Date.now() - t0 < durationMs) {
      await sleep(Math.min(o.sampleS * 1000, durationMs - (Date.now() - t0)));
      const s = await sampleProc(srv.proc.pid);
      const sorted = lat.sort((x, y) => x - y);
      const row = {
        tMs: Date.now() - t0,
        rssMiB: s.rssKiB / 1024,
        fds: s.fds,
        count: sorted.length,
        p50: quantile(sorted, 0.5),
        p99: quantile(sorted, 0.99),
        errors,
        sse: sse.events,
      };
      lat = [];
      errors = 0;
      rows.push(row);
      console.log(`${(row.tMs / 60000).toFixed(1).padStart(7)} ${row.rssMiB.toFixed(1).padStart(9)} ${String(row.fds).padStart(5)} ${String(row.count).padStart(9)} ${row.p50.toFixed(2).padStart(7)} ${row.p99.toFixed(2).padStart(7)} ${String(row.errors).padStart(7)} ${String(row.sse).padStart(11)}${row.errors ? `  last: ${errorText.slice(0, 100)}` : ''}`);
    }
    stopLoad = true;
    await Promise.all(workers);
    await admin;
    sse.req.destroy();

    // Verdict.
    const after = rows.filter((r) => r.tMs > warmMs);
    const warmEnd = rows.filter((r) => r.tMs <= warmMs).at(-1) || rows[0];
    const third = Math.max(1, Math.floor(after.length / 3));
    const first = after.slice(0, third);
    const last = after.slice(-third);
    const rssGrowth = Math.max(...after.map((r) => r.rssMiB)) - warmEnd.rssMiB;
    const fdFirst = Math.max(...first.map((r) => r.fds));
    const fdLast = Math.max(...last.map((r) => r.fds));
    const p99First = median(first.map((r) => r.p99));
    const p99Last = median(last.map((r) => r.p99));
    const totalErrors = rows.reduce((x, r) => x + r.errors, 0);
    const sseOk = sse.error === null && rows.at(-1).sse > rows[0].sse;
    const checks = [
      [`RSS growth after warm-up ${rssGrowth.toFixed(1)} MiB <= ${RSS_BOUND_MIB} MiB (from ${warmEnd.rssMiB.toFixed(1)} MiB)`, rssGrowth <= RSS_BOUND_MIB],
      [`fds: last third max ${fdLast} <= first third max ${fdFirst} + ${FD_SLACK}`, fdLast <= fdFirst + FD_SLACK],
      [`p99: last third median ${p99Last.toFixed(2)} ms <= ${P99_FACTOR} x first third ${p99First.toFixed(2)} ms`, p99Last <= P99_FACTOR * p99First],
      [`no failed request (${totalErrors})`, totalErrors === 0],
      [`the SSE client stayed connected and kept receiving (${sse.events} events${sse.error ? `, ${sse.error}` : ''})`, sseOk],
    ];

    const stopT = Date.now();
    srv.proc.kill('SIGTERM');
    const ex = await srv.exited;
    checks.push([`graceful stop: exit ${ex.code} in ${Date.now() - stopT} ms`, ex.code === 0]);
    srv = null;
    const v = await runTool(o.bin, ['state', 'verify', '--data', dataDir]);
    checks.push([`state verify after the stop exits 0 (${v.stdout.split('\n').find((l) => l.startsWith('state equals')) || v.stderr.trim()})`, v.code === 0]);

    console.log(`soak: warm-up ${(warmMs / 60000).toFixed(1)} min; ${rows.reduce((x, r) => x + r.count, 0)} requests`);
    for (const [text, ok] of checks) console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${text}`);
    const pass = checks.every(([, ok]) => ok);
    console.log(`soak: ${pass ? 'ok' : 'FAILED'}`);
    process.exitCode = pass ? 0 : 1;
  } finally {
    stopLoad = true;
    if (srv) {
      srv.proc.kill('SIGKILL');
      await srv.exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`soak: error: ${e.stack || e}`);
  process.exit(1);
});
