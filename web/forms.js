// forms.js: the walk-in intake form and the admin panel (token, add, remove).
// Field errors from the API ({"error":{"message","field"}}) are shown next to
// the field they name; others at the end of the form.

import { ApiError, del, getToken, post, setToken } from './api.js';
import { count, percent, priorityWord } from './format.js';
import { $, h } from './dom.js';

const INTAKE_NUMBERS = ['creditScore', 'annualIncome', 'vehiclePrice', 'downPayment', 'tradeValue', 'visitCount', 'timeOnLot', 'engagement'];

function clearErrors(form) {
  for (const p of form.querySelectorAll('.field-error')) p.textContent = '';
  for (const i of form.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
}

/** Show message next to the input named field in form (or at formErrorId). */
function showError(form, field, message, formErrorId) {
  const input = field ? form.querySelector(`[name="${CSS.escape(field)}"]`) : null;
  const slot = input ? $(`e-${field}`) : null;
  if (input && slot) {
    slot.textContent = message;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', slot.id);
    input.focus();
  } else {
    $(formErrorId).textContent = message;
  }
}

function unreachable(e) {
  return e instanceof ApiError && e.status === 0
    ? 'Service unreachable: check that whaco is running, then try again.'
    : e.message;
}

function walkInId() {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `walkin-${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}

/**
 * The intake form. ctx: { memberName(id) → string|null, floorTracked() → bool, onDone() }.
 * Returns { onAssigned(event), onBoard(upBoard) }: a "customer-assigned"
 * event, or a fresh up board (which the polling fallback brings too), update
 * the result shown while its walk-in waits at the desk.
 */
export function setupIntake(ctx) {
  const form = $('intake-form');
  const result = $('intake-result');
  const submit = $('intake-submit');
  form.addEventListener('reset', () => {
    clearErrors(form);
    result.hidden = true;
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = {};
    const ref = form.elements.customerId.value.trim();
    // On a tracked floor a walk-in without a reference is named by the
    // service ("walk-in-N", unique); a made-up one could repeat within a
    // second, and a second walk-in with the id of one in the store is not
    // a new walk-in.
    if (ref) body.customerId = ref;
    else if (!ctx.floorTracked()) body.customerId = walkInId();
    for (const name of INTAKE_NUMBERS) {
      const input = form.elements[name];
      if (input.validity.badInput) {
        showError(form, name, 'Enter a number here.', 'e-intake-form');
        return;
      }
      if (input.value.trim() !== '') body[name] = Number(input.value);
    }
    submit.disabled = true;
    try {
      const res = await post('/analyze-customer', body);
      showResult(result, res.customerId || body.customerId, res, ctx);
      ctx.onDone();
    } catch (e) {
      showError(form, e.field, unreachable(e), 'e-intake-form');
    } finally {
      submit.disabled = false;
    }
  });
  const waitingFor = () => (result.hidden ? null : result.dataset.waiting || null);
  function assigned(salespersonId, waitSeconds) {
    delete result.dataset.waiting;
    const who = ctx.memberName(salespersonId) || salespersonId;
    $('result-assigned').textContent = who;
    const n = $('result-waiting');
    if (n) {
      const wait = !Number.isFinite(waitSeconds) ? ''
        : `, after waiting ${waitSeconds >= 60 ? `${Math.round(waitSeconds / 60)} min` : `${Math.round(waitSeconds)} s`} at the desk`;
      n.className = 'notice notice-ok';
      n.textContent = `Now with ${who}${wait}.`;
    }
  }
  return {
    onAssigned(a) {
      if (waitingFor() === a.customerId) assigned(a.salespersonId, a.waitSeconds);
    },
    onBoard(b) {
      const cid = waitingFor();
      if (!cid) return;
      const w = b.waiting.find((x) => x.customerId === cid);
      if (w) {
        $('result-assigned').textContent = `Waiting — position ${w.position} at the desk`;
        return;
      }
      const p = b.salespeople.find((x) => x.customers.some((c) => c.customerId === cid));
      if (p) assigned(p.id, NaN); // the event, if it comes, has the wait: this one does not
    },
  };
}

function showResult(box, customerId, res, ctx) {
  const a = res.customerAnalysis;
  box.replaceChildren();
  const head = h('div', 'result-head');
  const title = h('h3', 'result-segment', a.clusterName);
  title.id = 'result-segment';
  const cust = h('p', 'muted small', `Customer ${customerId}`);
  cust.id = 'result-customer';
  cust.dataset.customerId = customerId || '';
  head.append(cust, title, h('p', 'muted', a.clusterDescription));
  box.append(head);

  const facts = h('dl', 'facts');
  const fact = (label, value, id) => {
    const d = h('div', 'fact');
    const dd = h('dd', '', value);
    if (id) dd.id = id;
    d.append(h('dt', '', label), dd);
    facts.append(d);
  };
  fact('Confidence', percent(a.confidence), 'result-confidence');
  fact('Priority', `${priorityWord(a.priorityScore)} (${percent(a.priorityScore)})`, 'result-priority');
  const waiting = !res.assignedTo && Number.isInteger(res.queuePosition);
  let who = res.assignedTo ? ctx.memberName(res.assignedTo) || res.assignedTo : 'Nobody yet';
  if (waiting) who = `Waiting — position ${res.queuePosition} at the desk`;
  fact('Assigned to', who, 'result-assigned');
  box.append(facts);

  if (waiting) {
    box.dataset.waiting = customerId;
    const n = h('p', 'notice notice-wait', 'Everyone on the floor is busy: this customer waits at the desk and goes to the next salesperson who is free (see the up board).');
    n.id = 'result-waiting'; // #intake-result is a live region: no role of its own
    box.append(n);
  } else {
    delete box.dataset.waiting;
    if (res.warning || !res.assignedTo) {
      box.append(h('p', 'notice', 'No salespeople in network — add one under Admin, then assign this customer.'));
    }
  }
  if (a.isOutlier) {
    const w = h('p', 'outlier-warning');
    w.id = 'result-outlier';
    w.append(h('strong', '', '⚠️ Unusual customer — verify the details and get a manager’s approval. '),
      document.createTextNode(a.outlierReason || ''));
    box.append(w);
  }
  box.append(h('p', 'small muted', `Approach: ${a.recommendedApproach}`));
  box.append(h('h4', '', 'Recommended actions'));
  const ul = h('ul', 'actions-list');
  ul.id = 'result-actions';
  for (const act of res.recommendedActions || []) ul.append(h('li', '', act));
  box.append(ul);
  box.hidden = false;
}

/** An id made from a name: "Jane Smith" → "sp-jane-smith". */
function idFromName(name) {
  const slug = name.normalize('NFKD').replace(/[^\x20-\x7e]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return `sp-${slug || Date.now().toString(36)}`;
}

function tokenProblem(e) {
  if (e.status === 401) {
    return getToken()
      ? 'The server did not accept this token: enter a valid admin token above (whaco token create --role admin).'
      : 'An admin token is needed: enter it above (whaco token create --role admin).';
  }
  if (e.status === 403) return 'This token is not an admin token: create one with --role admin.';
  return null;
}

/**
 * The admin panel. ctx: { onChanged(), onTokenChanged() }.
 * Returns { renderRemoveList(members) }.
 */
export function setupAdmin(ctx) {
  const tokenForm = $('token-form');
  const addForm = $('add-form');
  const forget = $('token-forget');
  const tokenState = $('token-state');

  const showTokenState = () => {
    const has = Boolean(getToken());
    forget.hidden = !has;
    tokenState.textContent = has
      ? 'Admin token set for this browser tab (forgotten when the tab closes).'
      : 'No token set. The token is kept only in this browser tab until you close it.';
    tokenState.dataset.hasToken = String(has);
  };
  showTokenState();

  tokenForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearErrors(tokenForm);
    const t = tokenForm.elements.token.value.trim();
    if (!t) {
      showError(tokenForm, 'token', 'Paste the token printed by: whaco token create --role admin', 'e-token');
      return;
    }
    setToken(t);
    tokenForm.elements.token.value = '';
    showTokenState();
    ctx.onTokenChanged();
    addForm.elements.name.focus();
  });
  forget.addEventListener('click', () => {
    setToken('');
    showTokenState();
    ctx.onTokenChanged();
  });

  addForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(addForm);
    clearErrors(tokenForm);
    const name = addForm.elements.name.value.trim();
    if (!name) {
      showError(addForm, 'name', 'Enter the salesperson’s name.', 'e-add-form');
      return;
    }
    if (!getToken()) {
      showError(tokenForm, 'token', 'Enter the admin token first.', 'e-token');
      return;
    }
    const body = { id: addForm.elements.id.value.trim() || idFromName(name), name };
    for (const f of ['skillLevel', 'naturalFrequency']) {
      const v = addForm.elements[f].value.trim();
      if (addForm.elements[f].validity.badInput) {
        showError(addForm, f, 'Enter a number here.', 'e-add-form');
        return;
      }
      if (v !== '') body[f] = Number(v);
    }
    const button = $('add-submit');
    button.disabled = true;
    try {
      await post('/add-salesperson', body);
      addForm.elements.name.value = '';
      addForm.elements.id.value = '';
      ctx.toast(`${name} added to the team.`);
      ctx.onChanged();
    } catch (e) {
      const tp = tokenProblem(e);
      if (tp) showError(tokenForm, 'token', tp, 'e-token');
      else if (e.code === 'DUPLICATE') showError(addForm, 'id', `${e.message}: choose another ID.`, 'e-add-form');
      else showError(addForm, e.field, unreachable(e), 'e-add-form');
    } finally {
      button.disabled = false;
    }
  });

  const list = $('remove-list');
  const armed = new Map(); // id → timer: a Remove button clicked once waits for a second click

  async function remove(m, button) {
    if (!armed.has(m.id)) {
      button.textContent = `Click again to remove ${m.name}`;
      button.setAttribute('aria-label', button.textContent);
      button.classList.add('danger');
      armed.set(m.id, setTimeout(() => {
        armed.delete(m.id);
        button.textContent = 'Remove';
        button.setAttribute('aria-label', `Remove ${m.name}`);
        button.classList.remove('danger');
      }, 5000));
      return;
    }
    clearTimeout(armed.get(m.id));
    armed.delete(m.id);
    button.disabled = true;
    clearErrors(tokenForm);
    try {
      await del(`/salesperson/${encodeURIComponent(m.id)}`);
      ctx.toast(`${m.name} removed from the team.`);
      ctx.onChanged();
    } catch (e) {
      const tp = tokenProblem(e);
      if (tp) showError(tokenForm, 'token', tp, 'e-token');
      else ctx.toast(unreachable(e), true);
      button.disabled = false;
      button.textContent = 'Remove';
      button.setAttribute('aria-label', `Remove ${m.name}`);
      button.classList.remove('danger');
    }
  }

  return {
    renderRemoveList(members) {
      $('remove-empty').hidden = members.length > 0;
      const keep = new Set(members.map((m) => m.id));
      for (const id of [...armed.keys()]) if (!keep.has(id)) armed.delete(id);
      if (armed.size) return; // do not redraw under a pending confirmation
      list.replaceChildren(...members.map((m) => {
        const li = h('li');
        li.append(h('span', '', `${m.name} `), h('span', 'muted small', `(${m.id}, ${count(m.activeDeals, 'active deal')})`));
        const b = h('button', 'secondary', 'Remove');
        b.type = 'button';
        b.setAttribute('aria-label', `Remove ${m.name}`);
        b.addEventListener('click', () => remove(m, b));
        li.append(b);
        return li;
      }));
    },
  };
}
