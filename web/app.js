// app.js: the dashboard. Fetches the up board, the team, segments, anomalies,
// coherence history and the A/B test, draws them, and keeps them current
// (live.js). The up board is in upboard.js, the A/B test panel in
// experiment.js, the forms in forms.js, the phase circle in circle.js, the
// charts in charts.js.

import { ApiError, get, post } from './api.js';
import { drawCircle } from './circle.js';
import { drawHistory, drawSegments } from './charts.js';
import { BANDS, PHASES, STATUSES, count, int, money, percent, percentFine, priorityColor, priorityWord, when } from './format.js';
import { setupAdmin, setupIntake } from './forms.js';
import { POLL_MS, startLive } from './live.js';
import { setupExperiment } from './experiment.js';
import { setupUpBoard } from './upboard.js';
import { $, h } from './dom.js';

const state = {
  team: null, // last GET team-status
  anomalyKeys: new Set(),
  anomaliesLoaded: false,
};

// ---- toast and banners -------------------------------------------------------

let toastTimer = null;
function toast(message, isError = false) {
  const t = $('toast');
  t.textContent = message;
  t.classList.toggle('toast-error', isError);
  t.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove('show'), 4000);
}

function showServiceError(message) {
  const b = $('service-error');
  b.textContent = message || '';
  b.hidden = !message;
}

const CONNECTION_TEXT = {
  live: 'Live',
  polling: `Updating every ${POLL_MS / 1000} s`,
  down: 'Service unreachable, retrying',
};

function onState(s) {
  const c = $('connection');
  c.dataset.state = s;
  c.textContent = CONNECTION_TEXT[s] || s;
  if (s === 'down') {
    showServiceError(`Service unreachable, retrying every ${POLL_MS / 1000} seconds. Check that whaco is running on the dealership’s server.`);
  } else if ($('service-error').dataset.kind !== 'auth') {
    showServiceError('');
  }
}

// ---- team --------------------------------------------------------------------

function renderMeter(ts) {
  const empty = !ts.totalSalespeople;
  const band = BANDS[ts.status] || { label: ts.status, meaning: '' };
  const bandEl = $('coherence-band');
  bandEl.dataset.status = empty ? '' : ts.status;
  $('coherence').dataset.status = empty ? 'empty' : ts.status;
  $('coherence-value').textContent = empty ? '—' : percent(ts.coherence);
  bandEl.textContent = empty ? 'No team yet' : band.label;
  $('coherence-meaning').textContent = empty
    ? 'No salespeople in network — add one under Admin.'
    : `${band.meaning}. ${count(ts.totalSalespeople, 'salesperson', 'salespeople')}.`;
  const meter = $('coherence-meter');
  meter.setAttribute('aria-valuenow', String(Math.round((ts.coherence || 0) * 100)));
  meter.setAttribute('aria-valuetext', empty ? 'No team yet' : `${percent(ts.coherence)}, ${band.label}`);
  const marker = $('coherence-marker');
  marker.hidden = empty;
  marker.style.left = `${Math.max(0, Math.min(1, ts.coherence || 0)) * 100}%`;
}

function badge(status) {
  return h('span', `badge st-${status}`, STATUSES[status] || status);
}

function renderTable(members) {
  const body = $('team-body');
  body.replaceChildren(...members.map((m) => {
    const tr = h('tr');
    tr.dataset.id = m.id;
    const name = h('th', 'name');
    name.scope = 'row';
    name.append(h('span', '', m.name), h('span', 'muted small id', m.id));
    const st = h('td');
    st.append(badge(m.status));
    const btnCell = h('td', 'action');
    const b = h('button', 'deal-btn', 'Deal closed');
    b.type = 'button';
    b.setAttribute('aria-label', `Deal closed for ${m.name}`);
    b.addEventListener('click', () => dealClosed(m, b));
    btnCell.append(b);
    const active = h('td', 'num active-deals', count(m.activeDeals, 'active deal'));
    const today = h('td', 'num deals-today', count(m.dealsToday, 'deal'));
    const skill = h('td', 'num skill', percent(m.skillLevel));
    const phase = h('td', 'phase', PHASES[m.phaseLabel] || m.phaseLabel);
    tr.append(name, st, active, today, skill, phase, btnCell);
    return tr;
  }));
  $('team-table').hidden = members.length === 0;
  $('team-empty').hidden = members.length > 0;
  $('team-count').textContent = members.length ? `(${count(members.length, 'person', 'people')})` : '';
}

function renderAttention(ts) {
  const bl = $('bottlenecks');
  if (!ts.totalSalespeople) {
    bl.replaceChildren(h('li', 'empty', 'No salespeople in network — add one under Admin.'));
  } else if (!ts.bottlenecks.length) {
    bl.replaceChildren(h('li', 'empty ok', 'No bottlenecks: everyone is keeping pace.'));
  } else {
    bl.replaceChildren(...ts.bottlenecks.map((b) => {
      const li = h('li', 'alert');
      li.setAttribute('role', 'alert');
      li.append(h('strong', '', `${b.name}: `), h('span', 'issue', b.issue),
        h('span', 'muted small', ` (${count(b.activeDeals, 'active deal')})`));
      return li;
    }));
  }
  const ml = $('mentoring');
  if (!ts.mentoringOpportunities.length) {
    ml.replaceChildren(h('li', 'empty', ts.totalSalespeople > 1
      ? 'No mentoring pairs right now.'
      : 'Mentoring needs two or more salespeople.'));
  } else {
    ml.replaceChildren(...ts.mentoringOpportunities.map((m) => {
      const li = h('li', 'mentor-card');
      li.append(h('p', '', `💡 ${m.recommendation}`),
        h('p', 'muted small', `${m.mentorName} is ${percent(m.skillGap)} more skilled and further along in the cycle.`));
      return li;
    }));
  }
}

function renderLegend() {
  $('status-legend').replaceChildren(...Object.entries(STATUSES).map(([k, label]) => {
    const li = h('li');
    li.append(h('span', `swatch st-${k}`), document.createTextNode(label));
    return li;
  }));
}

function renderTeam(ts) {
  state.team = ts;
  renderMeter(ts);
  drawCircle($('phase-circle'), ts);
  renderTable(ts.teamMembers);
  renderAttention(ts);
  admin.renderRemoveList(ts.teamMembers);
}

async function dealClosed(m, button) {
  button.disabled = true;
  try {
    await post('/deal-closed', { salespersonId: m.id });
    toast(`Deal recorded for ${m.name}. Well done!`);
    await refresh();
  } catch (e) {
    toast(e.status === 0 ? 'Service unreachable: the deal was not recorded, try again.' : e.message, true);
  } finally {
    button.disabled = false;
  }
}

// ---- segments ------------------------------------------------------------------

function renderSegments(s) {
  const total = s.totalCustomersProcessed;
  const share = total ? ` (${percent(s.outliersDetected / total)})` : '';
  $('segments-totals').textContent =
    `${count(total, 'customer')} analysed · ${count(s.outliersDetected, 'unusual customer')} detected${share}`;
  $('segments-empty').hidden = total > 0;
  $('segments-chart').parentElement.hidden = total === 0;
  if (total > 0) drawSegments($('segments-chart'), s.clusters);
  $('segment-list').replaceChildren(...s.clusters.map((k) => {
    const li = h('li', 'segment');
    const sw = h('span', 'swatch');
    sw.style.background = priorityColor(k.profile.priority);
    const head = h('p', 'segment-head');
    head.append(sw, h('strong', '', k.profile.name),
      h('span', 'badge prio', `${priorityWord(k.profile.priority)} priority`),
      h('span', 'muted small', count(k.sizeEstimate, 'customer')));
    li.append(head, h('p', 'small', k.profile.description), h('p', 'small approach', `Approach: ${k.profile.approach}`));
    return li;
  }));
}

// ---- anomalies -----------------------------------------------------------------

const anomalyKey = (a) => `${a.timestamp}|${a.customerId}|${a.outlierScore}`;

function anomalyItem(a, fresh) {
  const li = h('li', fresh ? 'anomaly fresh' : 'anomaly');
  li.dataset.customerId = a.customerId || '';
  const head = h('p', 'anomaly-head');
  head.append(h('strong', '', a.customerId ? `Customer ${a.customerId}` : 'Unnamed customer'),
    h('span', 'muted small', ` · ${a.clusterName} · ${when(a.timestamp)}`));
  const reasons = h('ul', 'reasons');
  for (const r of String(a.reason || '').split(' | ').filter(Boolean)) reasons.append(h('li', '', r));
  const f = a.features || {};
  const figures = [
    `FICO ${int(f.ficoScore)}`,
    `income ${money(f.income)}`,
    `car ${money(f.vehiclePrice)}`,
    `${percentFine(f.downPaymentPercent)} down`,
    `trade-in ${money(f.tradeValue)}`,
    count(f.visitCount, 'visit'),
    `${int(f.timeOnLot)} min on the lot`,
    `engagement ${percent(f.engagement)}`,
  ].join(' · ');
  li.append(head, reasons, h('p', 'muted small', figures));
  return li;
}

function alertText(a) {
  const who = a.customerId ? `customer ${a.customerId}` : 'a customer';
  return `⚠️ Unusual customer: ${who} (${a.clusterName}) — ${a.reason}. Verify the details before going further.`;
}

function raiseAnomalyAlert(a) {
  $('anomaly-alert-text').textContent = alertText(a);
  $('anomaly-alert').hidden = false;
  if ('Notification' in window && Notification.permission === 'granted') {
    try {
      new Notification('whaco: unusual customer', { body: `${a.customerId || 'A customer'}: ${a.reason}`, tag: anomalyKey(a) });
    } catch {
      /* some browsers only allow notifications from a service worker */
    }
  }
}

/** Put anomalies (newest first) at the top of the feed; alert for new ones after the first load. */
function addAnomalies(list, fromStream) {
  const feed = $('anomaly-feed');
  const fresh = list.filter((a) => !state.anomalyKeys.has(anomalyKey(a)));
  if (!fresh.length) return;
  for (const a of fresh) state.anomalyKeys.add(anomalyKey(a));
  const alert = state.anomaliesLoaded || fromStream;
  feed.prepend(...fresh.map((a) => anomalyItem(a, alert)));
  while (feed.children.length > 50) feed.lastElementChild.remove();
  $('anomalies-empty').hidden = true;
  if (alert) raiseAnomalyAlert(fresh[0]);
}

function renderAnomalies(res) {
  addAnomalies(res.anomalies, false);
  state.anomaliesLoaded = true;
  $('anomalies-empty').hidden = $('anomaly-feed').children.length > 0;
}

// ---- loading -------------------------------------------------------------------

let inflight = null;
let again = null; // a refresh asked for while one runs: it starts when that one ends

/**
 * Fetch everything and draw it; true when the service answered. A call
 * while a refresh runs does not share its answers (they may predate the
 * change the caller was told of): one more refresh follows it.
 */
function refresh() {
  if (inflight) {
    if (!again) again = inflight.then(() => { again = null; return refresh(); });
    return again;
  }
  inflight = (async () => {
    const parts = await Promise.allSettled([
      get('/up-board').then((b) => {
        board.render(b);
        intake.onBoard(b);
      }),
      get('/team-status').then(renderTeam),
      get('/experiment').then((x) => experiment.render(x)),
      get('/customer-segments').then((r) => renderSegments(r.segments)),
      get('/anomalies?limit=20').then(renderAnomalies),
      get('/coherence-history?hours=24').then((r) => {
        const samples = r.samples || [];
        $('history-empty').hidden = samples.length > 0;
        $('history-chart').parentElement.hidden = samples.length === 0;
        if (samples.length) drawHistory($('history-chart'), samples);
      }),
    ]);
    const errors = parts.filter((p) => p.status === 'rejected').map((p) => p.reason);
    const down = errors.some((e) => !(e instanceof ApiError) || e.status === 0 || e.status >= 500);
    const auth = errors.find((e) => e instanceof ApiError && (e.status === 401 || e.status === 403));
    const banner = $('service-error');
    if (auth) {
      banner.dataset.kind = 'auth';
      showServiceError('This server needs a token to show the dashboard: enter one under Admin (whaco token create --role read).');
    } else if (banner.dataset.kind === 'auth') {
      banner.dataset.kind = '';
      showServiceError('');
    }
    for (const e of errors) if (!(e instanceof ApiError)) console.warn('dashboard:', e);
    return !down;
  })().finally(() => {
    inflight = null;
  });
  return inflight;
}

let soon = null;
/** Refresh once shortly after a burst of events. */
function refreshSoon() {
  clearTimeout(soon);
  soon = setTimeout(refresh, 250);
}

function onEvent(name, data) {
  if (name === 'anomaly') addAnomalies([data], true);
  if (name === 'customer-assigned') {
    board.onAssigned(data);
    intake.onAssigned(data);
  }
  if (name === 'team-status' && state.team) {
    renderMeter({ ...state.team, ...data });
    renderAttention({ ...state.team, ...data });
  }
  refreshSoon();
}

// ---- start ---------------------------------------------------------------------

const admin = setupAdmin({
  onChanged: refresh,
  onTokenChanged: () => {
    live.restart();
    refresh();
  },
  toast,
});
const board = setupUpBoard({ toast, refresh });
const experiment = setupExperiment();
const intake = setupIntake({
  memberName: (id) => {
    const m = state.team && state.team.teamMembers.find((x) => x.id === id);
    return m ? m.name : null;
  },
  floorTracked: board.tracked,
  onDone: refresh,
});
renderLegend();

$('anomaly-alert-dismiss').addEventListener('click', () => {
  $('anomaly-alert').hidden = true;
  for (const li of document.querySelectorAll('.anomaly.fresh')) li.classList.remove('fresh');
});

const notifyBtn = $('notify-btn');
if ('Notification' in window && Notification.permission === 'default') {
  notifyBtn.hidden = false;
  notifyBtn.addEventListener('click', async () => {
    const p = await Notification.requestPermission();
    notifyBtn.hidden = true;
    toast(p === 'granted' ? 'Desktop alerts on for unusual customers.' : 'Desktop alerts stay off.');
  });
}

const live = startLive({ onEvent, refresh, onState });
