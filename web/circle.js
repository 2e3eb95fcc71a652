// circle.js: the team as oscillators, drawn as an SVG "sales cycle clock".
//
// Ready is at the top and the cycle runs clockwise: Ready (0), Negotiating
// (π/2, right), Closing (π, bottom), Paperwork (3π/2, left). Each salesperson
// is a dot at their phase, coloured by status; the arrow from the centre
// points at the team's mean phase ψ and its length is the coherence r.

import { PHASES, STATUSES, percent, phaseLabel } from './format.js';

const NS = 'http://www.w3.org/2000/svg';
const R = 100; // circle radius in SVG units
const RING_STEP = 13; // how far inwards a dot moves when it would overlap another
const MIN_GAP = 0.16; // rad: dots closer than this on one ring overlap

function el(name, attrs = {}, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Phase θ and radius ρ → SVG x, y (0 at the top, clockwise). */
const xy = (theta, rho) => [rho * Math.sin(theta), -rho * Math.cos(theta)];

/** The ring each member is drawn on, so that dots at nearly one phase stack inwards. */
function rings(members) {
  const order = members.map((m, i) => i).sort((a, b) => members[a].phase - members[b].phase);
  const lastOnRing = []; // ring → phase of the last dot placed on it
  const firstOnRing = [];
  const ring = new Array(members.length).fill(0);
  for (const i of order) {
    const th = members[i].phase;
    let k = 0;
    for (;; k++) {
      const last = lastOnRing[k];
      const first = firstOnRing[k];
      const clearLast = last === undefined || th - last >= MIN_GAP;
      const clearWrap = first === undefined || first + 2 * Math.PI - th >= MIN_GAP;
      if ((clearLast && clearWrap) || k >= 5) break;
    }
    if (firstOnRing[k] === undefined) firstOnRing[k] = th;
    lastOnRing[k] = th;
    ring[i] = k;
  }
  return ring;
}

/**
 * Draw the circle into container for a team-status answer.
 * Returns nothing; replaces the container's content.
 */
export function drawCircle(container, status) {
  const members = status.teamMembers || [];
  const svg = el('svg', {
    viewBox: '-190 -135 380 270',
    role: 'img',
    'aria-labelledby': 'phase-circle-title',
    class: 'circle-svg',
  });
  const names = members.map((m) => `${m.name}: ${PHASES[m.phaseLabel] || m.phaseLabel}`).join('; ');
  svg.append(el('title', { id: 'phase-circle-title' },
    members.length ? `The sales cycle. ${names}.` : 'The sales cycle: nobody on the team yet.'));

  // The four quarters, lightly shaded, with their names outside the circle.
  const quarters = [
    ['ready', 0, 'middle', 0, -R - 14],
    ['negotiating', Math.PI / 2, 'start', R + 8, 4],
    ['closing', Math.PI, 'middle', 0, R + 22],
    ['paperwork', (3 * Math.PI) / 2, 'end', -R - 8, 4],
  ];
  for (const [key, centre] of quarters) {
    const a0 = centre - Math.PI / 4;
    const a1 = centre + Math.PI / 4;
    const [x0, y0] = xy(a0, R);
    const [x1, y1] = xy(a1, R);
    svg.append(el('path', { d: `M0 0 L${x0} ${y0} A${R} ${R} 0 0 1 ${x1} ${y1} Z`, class: `quarter q-${key}` }));
  }
  svg.append(el('circle', { cx: 0, cy: 0, r: R, class: 'rim' }));
  for (const [key, , anchor, x, y] of quarters) {
    svg.append(el('text', { x, y, 'text-anchor': anchor, class: 'quarter-label' }, PHASES[key]));
  }
  // Direction of travel.
  const [ax, ay] = xy(Math.PI / 4 - 0.12, R + 9);
  const [bx, by] = xy(Math.PI / 4 + 0.12, R + 9);
  svg.append(el('path', { d: `M${ax} ${ay} A${R + 9} ${R + 9} 0 0 1 ${bx} ${by}`, class: 'travel', 'marker-end': 'url(#travel-head)' }));

  const defs = el('defs');
  const head = el('marker', { id: 'arrow-head', viewBox: '0 0 10 10', refX: 8, refY: 5, markerWidth: 5, markerHeight: 5, orient: 'auto-start-reverse' });
  head.append(el('path', { d: 'M0 0 L10 5 L0 10 Z', class: 'arrow-head' }));
  const thead = el('marker', { id: 'travel-head', viewBox: '0 0 10 10', refX: 5, refY: 5, markerWidth: 4, markerHeight: 4, orient: 'auto' });
  thead.append(el('path', { d: 'M0 0 L10 5 L0 10 Z', class: 'travel-head' }));
  defs.append(head, thead);
  svg.prepend(defs);

  // The team's mean phase, length r.
  if (members.length) {
    const r = Math.max(0, Math.min(1, status.coherence || 0));
    const [tx, ty] = xy(status.meanPhase || 0, r * R);
    const g = el('g', { class: 'mean', 'data-coherence': r.toFixed(3) });
    g.append(el('title', {}, `The team as a whole: ${PHASES[phaseLabel(status.meanPhase || 0)]}, moving together ${percent(r)}`));
    const line = el('line', { x1: 0, y1: 0, x2: tx.toFixed(2), y2: ty.toFixed(2), class: 'mean-arrow' });
    if (r > 0.05) line.setAttribute('marker-end', 'url(#arrow-head)');
    g.append(line);
    g.append(el('circle', { cx: 0, cy: 0, r: 3, class: 'mean-hub' }));
    svg.append(g);
  }

  const ring = rings(members);
  const pos = members.map((m, i) => xy(m.phase, R - ring[i] * RING_STEP));
  const labels = members.length <= 12 ? placeLabels(members, pos) : [];
  members.forEach((m, i) => {
    const [x, y] = pos[i];
    const g = el('g', { class: `member st-${m.status}`, 'data-id': m.id, 'data-name': m.name });
    g.append(el('title', {}, `${m.name}: ${PHASES[m.phaseLabel] || ''}, ${STATUSES[m.status] || m.status}`));
    g.append(el('circle', { cx: x.toFixed(2), cy: y.toFixed(2), r: 6, class: 'dot' }));
    const l = labels[i];
    if (l) {
      g.append(el('text', { x: l.x.toFixed(2), y: l.y.toFixed(2), 'text-anchor': l.anchor, class: 'dot-label' }, l.text));
    }
    svg.append(g);
  });

  if (!members.length) {
    svg.append(el('text', { x: 0, y: 4, 'text-anchor': 'middle', class: 'circle-empty' }, 'No salespeople yet'));
  }
  container.replaceChildren(svg);
}


const CHAR_W = 5.2; // approximate width of a 9px label character, SVG units
const LABEL_H = 10;

/**
 * Name labels beside the dots, placed greedily so that none covers another
 * label or a dot: right of the dot, else left, else a line up or down.
 * A member whose label fits nowhere gets none (the table and the dot's
 * tooltip still name them).
 */
function placeLabels(members, pos) {
  const boxes = pos.map(([x, y]) => ({ x0: x - 6, x1: x + 6, y0: y - 6, y1: y + 6 }));
  const clear = (b) => boxes.every((o) => b.x1 <= o.x0 || b.x0 >= o.x1 || b.y1 <= o.y0 || b.y0 >= o.y1);
  const out = [];
  members.forEach((m, i) => {
    const [x, y] = pos[i];
    const text = m.name.length > 14 ? `${m.name.slice(0, 13)}…` : m.name;
    const w = text.length * CHAR_W;
    const prefer = x >= 0 ? [1, -1] : [-1, 1];
    for (const dy of [0, -LABEL_H, LABEL_H]) {
      for (const side of prefer) {
        const lx = x + side * 9;
        const base = y + 3.5 + dy;
        const b = side > 0
          ? { x0: lx, x1: lx + w, y0: base - LABEL_H + 2, y1: base + 1 }
          : { x0: lx - w, x1: lx, y0: base - LABEL_H + 2, y1: base + 1 };
        if (clear(b)) {
          boxes.push(b);
          out[i] = { x: lx, y: base, anchor: side > 0 ? 'start' : 'end', text };
          return;
        }
      }
    }
  });
  return out;
}
