// floorkit.mjs: what the sales floor's API tests share (floor.test.mjs,
// openapi.test.mjs, experiment.test.mjs): the floor's endpoints, an
// event-stream reader that keeps the events (helpers.mjs's openEventStream
// discards them), and an A/B test's split recomputed from its seed.
import http from 'node:http';

import { API, sleep } from './helpers.mjs';

export const FLOOR = Object.freeze({
  clockIn: `${API}/clock-in`,
  clockOut: `${API}/clock-out`,
  status: `${API}/salesperson-status`,
  left: `${API}/customer-left`,
  assign: `${API}/assign`,
  board: `${API}/up-board`,
  analyze: `${API}/analyze-customer`,
  deal: `${API}/deal-closed`,
  teamStatus: `${API}/team-status`,
});

/**
 * Open the event stream (opts.token as a bearer header) and collect its
 * events as {event, data} (data parsed from JSON). Resolves, once the
 * answer's headers are in, to {status, events, waitFor(pred, ms), close()}:
 * waitFor resolves to the first collected event (from the start) that
 * satisfies pred, or throws after ms.
 */
export function collectEvents(srv, { token } = {}) {
  return new Promise((resolve, reject) => {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const req = http.request(
      { host: '127.0.0.1', port: srv.port, path: `${API}/events`, headers, agent: false, timeout: 10_000 },
      (res) => {
        const events = [];
        let buf = '';
        res.setEncoding('utf8');
        res.on('error', () => {}); // ended by close() or by the server
        res.on('data', (chunk) => {
          buf += chunk;
          for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            let event = 'message';
            const data = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
            }
            if (data.length === 0) continue; // a keepalive comment
            const text = data.join('\n');
            let parsed;
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = text;
            }
            events.push({ event, data: parsed });
          }
        });
        resolve({
          status: res.statusCode,
          events,
          async waitFor(pred, ms = 5000) {
            const deadline = Date.now() + ms;
            for (;;) {
              const hit = events.find(pred);
              if (hit) return hit;
              if (Date.now() > deadline) {
                throw new Error(`no such event within ${ms} ms; got ${JSON.stringify(events.map((e) => e.event))}`);
              }
              await sleep(10);
            }
          },
          close: () => req.destroy(),
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('the event stream did not answer in 10 s')));
    req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
    req.end();
  });
}

const MASK = (1n << 64n) - 1n;

/**
 * The A/B test's arm (0 A, 1 B) of walk-in number n (0, 1, 2, ...) under
 * seed, as whaco computes it (whaco_experiment_arm_of): the top bit of
 * splitmix64's output n + 1 from seed.
 */
export function armOf(seed, n) {
  let z = (BigInt(seed) + BigInt(n + 1) * 0x9e3779b97f4a7c15n) & MASK;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
  z ^= z >> 31n;
  return Number(z >> 63n);
}
