// upboard.js: the up board for the desk and the lot -- who is on the floor,
// in the up order, who is with which walk-in and for how long, who is away,
// and the customers waiting at the desk; with one-click clock in/out,
// break/back, "customer left" (with the outcome) and "sold".
//
// Drawn from GET up-board (app.js fetches it with everything else, on the
// floor's events and on the polling fallback). The clocks tick here, every
// second, from the board's timestamps, corrected for the difference between
// the server's clock and the browser's. A redraw keeps the keyboard focus on
// the same control (data-key), or on the row it was in.

import { ApiError, getToken, post } from './api.js';
import { count, priorityWord, when } from './format.js';
import { $, h } from './dom.js';

/** The board's states → words. */
export const FLOOR_STATES = {
  available: 'Available',
  with_customer: 'With a customer',
  break: 'On break',
  delivery: 'On a delivery',
  appointment: 'At an appointment',
  off: 'Off the floor',
};

/** How a walk-in ended without a sale: [API outcome, button text, words for the toast]. */
const OUTCOMES = [
  ['no_sale', 'No sale', 'no sale'],
  ['be_back', 'Be-back', 'will be back'],
  ['appointment', 'Appointment', 'booked an appointment'],
];

/** The assignment rules → how the board explains who gets the next walk-in. */
const RULES = {
  'up-rotation': 'Walk-ins go to the first free salesperson in the up order.',
  network: 'Walk-ins go to the best fit among the free salespeople (the team model); the up order breaks ties.',
  'round-robin': 'Walk-ins go round the team in turn, among the free salespeople.',
  'least-busy': 'Walk-ins go to the free salesperson with the fewest customers; the up order breaks ties.',
};

const FRESH_MS = 15000; // how long a walk-in just handed out stays highlighted

/** 7 s → "7 s", 245 s → "4 min 05 s", 3725 s → "1 h 02 min". */
export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** A message for an answer other than 2xx, as the rest of the page words them. */
function problem(e) {
  if (!(e instanceof ApiError)) return String(e && e.message ? e.message : e);
  if (e.status === 0) return 'Service unreachable: nothing was recorded, try again.';
  if (e.status === 401) {
    return getToken()
      ? 'The server did not accept the token: enter a valid one under Admin.'
      : 'This server needs a token for that: enter one under Admin (whaco token create --role write).';
  }
  if (e.status === 403) return 'This token may only read: enter a write or admin token under Admin.';
  return e.message;
}

/**
 * The up board. ctx: { toast(message, isError), refresh() → Promise }.
 * Returns { render(board), onAssigned(event), tracked() }.
 */
export function setupUpBoard(ctx) {
  const section = $('floor');
  const seatsEl = $('floor-seats');
  const waitingEl = $('floor-waiting');
  const offEl = $('floor-off');

  let board = null; // the last GET up-board
  let skew = 0; // server clock − browser clock, ms
  let drawn = ''; // what the DOM shows (signature), so an unchanged board is not redrawn
  const leaving = new Set(); // customerIds whose "customer left" outcome buttons are open
  const armed = new Map(); // salespersonId → timer: a clock-out that waits for a second click
  const fresh = new Map(); // customerId → browser ms until which it shows as just assigned
  const told = new Map(); // "customer>salesperson" → ms: assignments already announced

  const names = () => new Map((board ? board.salespeople : []).map((p) => [p.id, p.name]));
  const nameOf = (id) => names().get(id) || id;
  const serverNow = () => Date.now() + skew;

  // ---- writes ------------------------------------------------------------

  /** Words for the assignments an answer or event reports, and remember them as told. */
  function assignedWords(list) {
    const now = Date.now();
    return (list || []).map((a) => {
      told.set(`${a.customerId}>${a.salespersonId}`, now);
      fresh.set(a.customerId, now + FRESH_MS);
      const wait = a.waitSeconds > 0 ? ` after waiting ${duration(a.waitSeconds * 1000)}` : '';
      return `${a.customerId} goes to ${nameOf(a.salespersonId)}${wait}.`;
    }).join(' ');
  }

  /**
   * POST path body from button; toast done(answer) or the problem; redraw
   * either way. The button is marked busy with aria-disabled, not disabled:
   * a disabled button drops the keyboard focus, which the redraw keeps.
   */
  async function act(button, path, body, done) {
    button.setAttribute('aria-disabled', 'true');
    try {
      const res = await post(path, body);
      const more = assignedWords(res && res.assignments);
      ctx.toast(more ? `${done(res)} ${more}` : done(res));
    } catch (e) {
      ctx.toast(problem(e), true);
    } finally {
      button.removeAttribute('aria-disabled');
      await ctx.refresh();
    }
  }

  function button(text, key, label, onClick, cls) {
    const b = h('button', cls || '', text);
    b.type = 'button';
    b.dataset.key = key;
    if (label) b.setAttribute('aria-label', label);
    b.addEventListener('click', (ev) => {
      if (b.getAttribute('aria-disabled') !== 'true') onClick(ev); // busy: one request at a time
    });
    return b;
  }

  const clockIn = (p) => (ev) => act(ev.currentTarget, '/clock-in', { salespersonId: p.id },
    () => `${p.name} is on the floor.`);

  const setStatus = (p, status, words) => (ev) => act(ev.currentTarget, '/salesperson-status',
    { salespersonId: p.id, status }, () => `${p.name} ${words}.`);

  function clockOut(p) {
    return (ev) => {
      const b = ev.currentTarget;
      if (p.customers.length && !armed.has(p.id)) {
        // Their walk-ins go back to the desk: a second click confirms.
        armed.set(p.id, setTimeout(() => {
          armed.delete(p.id);
          redraw(true);
        }, 5000));
        redraw(true);
        return;
      }
      clearTimeout(armed.get(p.id));
      armed.delete(p.id);
      act(b, '/clock-out', { salespersonId: p.id }, () => `${p.name} clocked out.`);
    };
  }

  const sold = (p, c) => (ev) => act(ev.currentTarget, '/deal-closed',
    { salespersonId: p.id, customerId: c.customerId },
    () => `Sale recorded: ${c.customerId} bought from ${p.name}. Well done!`);

  function left(cid, spId, outcome, words) {
    return (ev) => {
      leaving.delete(cid);
      const body = { customerId: cid, outcome };
      if (spId) body.salespersonId = spId;
      act(ev.currentTarget, '/customer-left', body, () => `${cid} left: ${words}.`);
    };
  }

  function openOutcomes(cid) {
    leaving.add(cid);
    redraw(true, `outcome:${cid}:${OUTCOMES[0][0]}`);
  }

  function closeOutcomes(cid) {
    leaving.delete(cid);
    redraw(true, `left:${cid}`);
  }

  /** "Customer left" for walk-in cid (with spId, or waiting): the button, or the outcome buttons. */
  function leftControls(cid, spId) {
    if (!leaving.has(cid)) {
      return [button('Customer left', `left:${cid}`, `Customer left: ${cid}`, () => openOutcomes(cid), 'secondary')];
    }
    const group = h('div', 'outcomes');
    group.setAttribute('role', 'group');
    group.setAttribute('aria-label', `How did ${cid} leave?`);
    group.append(h('span', 'outcomes-q', `How did ${cid} leave?`));
    for (const [outcome, text, words] of OUTCOMES) {
      group.append(button(text, `outcome:${cid}:${outcome}`, `${text}: ${cid} left`, left(cid, spId, outcome, words)));
    }
    group.append(button('Cancel', `cancel:${cid}`, `Cancel: ${cid} has not left`, () => closeOutcomes(cid), 'secondary'));
    group.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') closeOutcomes(cid);
    });
    return [group];
  }

  // ---- drawing -----------------------------------------------------------

  /** A ticking "for 4 min 05 s" from an ISO time. */
  function since(iso, prefix = 'for ') {
    const s = h('span', 'since');
    const t = h('span', 'clock');
    t.dataset.since = iso;
    t.textContent = duration(serverNow() - Date.parse(iso));
    s.append(document.createTextNode(prefix), t);
    return s;
  }

  function visitItem(p, c) {
    const li = h('li', 'visit');
    li.dataset.customerId = c.customerId;
    const until = fresh.get(c.customerId);
    if (until && until > Date.now()) {
      li.classList.add('fresh');
      li.dataset.freshUntil = String(until);
    }
    const who = h('p', 'visit-who');
    who.append(h('strong', '', c.customerId), document.createTextNode(' '), since(c.since));
    if (c.override) who.append(h('span', 'badge fl-override', 'Manager’s pick'));
    const actions = h('div', 'visit-actions');
    if (leaving.has(c.customerId)) {
      actions.append(...leftControls(c.customerId, p.id));
    } else {
      actions.append(button('Sold', `sold:${c.customerId}`, `Sold to ${c.customerId}`, sold(p, c)),
        ...leftControls(c.customerId, p.id));
    }
    li.append(who, actions);
    return li;
  }

  function seatItem(p, upNext) {
    const li = h('li', `seat fl-${p.state}`);
    li.dataset.id = p.id;
    li.dataset.state = p.state;
    li.dataset.key = `seat:${p.id}`;
    li.tabIndex = -1;
    if (upNext) li.classList.add('up-next');

    const head = h('div', 'seat-head');
    // The list is ordered: a screen reader says the place; the number is for the eyes.
    const pos = h('span', 'up-pos', String(p.position));
    pos.title = `Place ${p.position} in the up order`;
    pos.setAttribute('aria-hidden', 'true');
    const who = h('p', 'seat-who');
    who.append(h('strong', 'seat-name', p.name), document.createTextNode(' '),
      h('span', `badge fl-state fl-${p.state}`, FLOOR_STATES[p.state] || p.state));
    if (upNext) who.append(document.createTextNode(' '), h('span', 'badge fl-upnext', 'Up next'));
    const meta = h('p', 'muted small seat-meta');
    if (p.state !== 'with_customer' && p.since) meta.append(since(p.since), document.createTextNode(' · '));
    meta.append(document.createTextNode(`${count(p.walkInsToday, 'walk-in')} today`));
    if (p.overridesToday) meta.append(document.createTextNode(` (+${p.overridesToday} by a manager)`));
    who.append(meta);
    head.append(pos, who);
    li.append(head);

    if (p.customers.length) {
      const ul = h('ul', 'visits');
      ul.setAttribute('aria-label', `${p.name}’s customers`);
      ul.append(...p.customers.map((c) => visitItem(p, c)));
      li.append(ul);
    }

    const actions = h('div', 'seat-actions');
    const away = p.state === 'break' || p.state === 'delivery' || p.state === 'appointment';
    if (away) {
      actions.append(button('Back', `status:${p.id}`, `Back on the floor: ${p.name}`, setStatus(p, 'available', 'is back on the floor')));
    } else {
      actions.append(
        button('Break', `status:${p.id}`, `Break for ${p.name}`, setStatus(p, 'break', 'is on a break'), 'secondary'),
        button('Delivery', `delivery:${p.id}`, `Delivery for ${p.name}`, setStatus(p, 'delivery', 'is on a delivery'), 'secondary'),
        button('Appointment', `appointment:${p.id}`, `Appointment for ${p.name}`, setStatus(p, 'appointment', 'is at an appointment'), 'secondary'),
      );
    }
    const out = armed.has(p.id)
      ? button('Click again to clock out', `out:${p.id}`,
        `Click again to clock out ${p.name} (${count(p.customers.length, 'customer')} back to the desk)`, clockOut(p), 'danger')
      : button('Clock out', `out:${p.id}`, `Clock out ${p.name}`, clockOut(p), 'secondary');
    actions.append(out);
    li.append(actions);
    return li;
  }

  function waitingItem(w) {
    const li = h('li', 'waiting-row');
    li.dataset.customerId = w.customerId;
    li.dataset.key = `waiting:${w.customerId}`;
    li.tabIndex = -1;
    const pos = h('span', 'up-pos q-pos', String(w.position));
    pos.title = `Position ${w.position} at the desk`;
    pos.setAttribute('aria-hidden', 'true');
    const who = h('div', 'waiting-who');
    const line = h('p');
    line.append(h('strong', '', w.customerId), document.createTextNode(' '), since(w.arrived, 'waiting '));
    const about = h('p', 'muted small', `${w.clusterName} · ${priorityWord(w.priorityScore)} priority`);
    if (w.returningTo) about.append(document.createTextNode(` · be-back for ${nameOf(w.returningTo)}`));
    who.append(line, about);
    const actions = h('div', 'visit-actions');
    actions.append(...leftControls(w.customerId, null));
    li.append(pos, who, actions);
    return li;
  }

  function offItem(p) {
    const li = h('li', 'off-row');
    li.dataset.id = p.id;
    li.dataset.key = `seat:${p.id}`;
    li.tabIndex = -1;
    const who = h('p');
    who.append(h('strong', '', p.name));
    if (p.since && board.floorTracked) who.append(h('span', 'muted small', ` · clocked out ${when(p.since)}`));
    li.append(who);
    if (board.floorTracking !== 'off') li.append(button('Clock in', `in:${p.id}`, `Clock in ${p.name}`, clockIn(p)));
    return li;
  }

  function note(b, onFloor) {
    if (b.floorTracking === 'off') {
      return 'Floor tracking is off on this server (floor-tracking = off): walk-ins are assigned among the whole team as they arrive.';
    }
    if (!b.salespeople.length) return 'No salespeople in network — add one under Admin.';
    if (!b.floorTracked) return 'Nobody has clocked in yet: walk-ins go to the whole team as they arrive. Clock people in to run the up board.';
    const rule = RULES[b.assignment] || '';
    const max = `Up to ${count(b.maxCustomers, 'customer')} each at once.`;
    if (onFloor.length && !onFloor.some((p) => p.freeSlots > 0)) return `Everyone on the floor is busy: the next walk-in waits at the desk. ${rule}`;
    if (!onFloor.length) return 'Nobody is on the floor: walk-ins wait at the desk until someone clocks in.';
    return `${rule} ${max}`;
  }

  /** Draw the board; force redraws even when the data did not change (local state did). */
  function redraw(force, focusKey) {
    const b = board;
    if (!b) return;
    const sig = JSON.stringify([b.floorTracked, b.floorTracking, b.assignment, b.maxCustomers, b.upOrder,
      b.salespeople, b.waiting.map((w) => ({ ...w, waitSeconds: 0 }))]);
    if (!force && sig === drawn) return;
    drawn = sig;

    // The control (or row) that has the focus now gets it back after the redraw.
    const active = document.activeElement;
    const hadFocus = Boolean(active && active !== section && section.contains(active));
    let want = focusKey || null;
    let fallback = null;
    if (!want && hadFocus) {
      want = active.dataset.key || null;
      const row = active.closest('[data-key^="seat:"], [data-key^="waiting:"]');
      fallback = row ? row.dataset.key : null;
      if (want && want.startsWith('in:')) fallback = `seat:${want.slice(3)}`;
    }

    for (const cid of [...leaving]) {
      const open = b.waiting.some((w) => w.customerId === cid)
        || b.salespeople.some((p) => p.customers.some((c) => c.customerId === cid));
      if (!open) leaving.delete(cid);
    }
    for (const id of [...armed.keys()]) {
      const p = b.salespeople.find((x) => x.id === id);
      if (!p || p.state === 'off' || !p.customers.length) {
        clearTimeout(armed.get(id));
        armed.delete(id);
      }
    }

    const onFloor = b.salespeople.filter((p) => p.position !== null);
    const off = b.salespeople.filter((p) => p.position === null);
    const next = onFloor.find((p) => p.freeSlots > 0);
    seatsEl.replaceChildren(...onFloor.map((p) => seatItem(p, p === next)));
    waitingEl.replaceChildren(...b.waiting.map(waitingItem));
    offEl.replaceChildren(...off.map(offItem));

    $('floor-seats-empty').hidden = onFloor.length > 0;
    $('floor-waiting-empty').hidden = b.waiting.length > 0;
    $('floor-off-h').hidden = off.length === 0;
    $('floor-note').textContent = note(b, onFloor);
    $('floor-summary').textContent = b.salespeople.length
      ? `(${onFloor.length} on the floor · ${b.waiting.length} waiting)` : '';
    section.dataset.tracked = String(b.floorTracked);

    if (want || hadFocus) {
      const find = (k) => (k ? section.querySelector(`[data-key="${CSS.escape(k)}"]`) : null);
      const el = find(want) || find(fallback) || section; // the section when its row is gone
      el.focus({ preventScroll: !focusKey });
    }
  }

  /** The clocks: every second, from the timestamps. */
  function tick() {
    const now = serverNow();
    for (const t of section.querySelectorAll('[data-since]')) {
      t.textContent = duration(now - Date.parse(t.dataset.since));
    }
    for (const li of section.querySelectorAll('.visit.fresh')) {
      if (Number(li.dataset.freshUntil) <= Date.now()) li.classList.remove('fresh');
    }
    for (const [k, at] of told) if (Date.now() - at > 60000) told.delete(k);
  }
  setInterval(tick, 1000);

  return {
    render(b) {
      skew = Date.parse(b.timestamp) - Date.now();
      if (!Number.isFinite(skew)) skew = 0;
      board = b;
      redraw(false);
    },
    /** A "customer-assigned" event: say so once, and highlight the walk-in. */
    onAssigned(a) {
      const key = `${a.customerId}>${a.salespersonId}`;
      if (told.has(key)) return;
      ctx.toast(assignedWords([a]));
      // Already drawn (the board came first): highlight it now.
      const li = seatsEl.querySelector(`li.seat[data-id="${CSS.escape(a.salespersonId)}"] li.visit[data-customer-id="${CSS.escape(a.customerId)}"]`);
      if (li) {
        li.classList.add('fresh');
        li.dataset.freshUntil = String(fresh.get(a.customerId));
      }
    },
    tracked: () => Boolean(board && board.floorTracked),
  };
}
