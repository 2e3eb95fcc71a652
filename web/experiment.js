// experiment.js: the A/B test panel -- the two assignment rules being
// compared on the floor, each arm's walk-ins, deals, close rate and waits,
// the difference B − A with its 95% interval, and the verdict in words.
//
// Drawn from GET experiment (app.js fetches it with everything else, on
// every event and on the polling fallback); {"enabled": false} shows that
// no experiment runs and how to start one.

import { count, int, percentFine } from './format.js';
import { $, h } from './dom.js';

/** The assignment rules → words. */
export const RULE_WORDS = {
  network: 'Network (best fit)',
  'up-rotation': 'Up rotation',
  'round-robin': 'Round robin',
  'least-busy': 'Least busy',
};

/** The verdict's kind, from its text: not-enough, no-difference, b-more or a-more. */
export function verdictKind(text) {
  if (/^B closes more/.test(text)) return 'b-more';
  if (/^A closes more/.test(text)) return 'a-more';
  if (/^no difference/.test(text)) return 'no-difference';
  return 'not-enough';
}

const signed = (x, digits = 1) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
const minutes = (x) => (Number.isFinite(x) ? `${x < 10 ? x.toFixed(1) : int(x)} min` : '—');

/** "+4.2 points [−0.6, +9.0]" for an interval in units ("points", "min"), or "not yet". */
function interval(d, unit) {
  if (!d) return 'not known yet';
  return `${signed(d.estimate)} ${unit} [${signed(d.low)}, ${signed(d.high)}]`;
}

/**
 * The verdict as a sales manager reads it: "Network (best fit), arm B,
 * closes more: +4.2 points [+0.6, +7.7]" from "B closes more: +4.2 [+0.6, +7.7]".
 */
function verdictWords(x) {
  const kind = verdictKind(x.verdict);
  const rule = (k) => RULE_WORDS[x.arms[k].assignment] || x.arms[k].assignment;
  const lead = x.verdict.replace(/^[AB] closes more: (\S+) /, '$1 points ');
  if (kind === 'b-more') return `${rule(1)}, arm B, closes more: ${lead}`;
  if (kind === 'a-more') return `${rule(0)}, arm A, closes more: ${lead}`;
  if (kind === 'no-difference') return 'No difference detected between the two rules so far.';
  return 'Not enough data yet.';
}

function armRow(a) {
  const tr = h('tr');
  tr.dataset.arm = a.name;
  const name = h('th', 'name', a.name);
  name.scope = 'row';
  tr.append(name,
    h('td', 'rule', RULE_WORDS[a.assignment] || a.assignment),
    h('td', 'num walk-ins', int(a.walkIns)),
    h('td', 'num ended', int(a.ended)),
    h('td', 'num deals', int(a.deals)),
    h('td', 'num close-rate', a.closeRate === null ? '—' : percentFine(a.closeRate)),
    h('td', 'num wait-mean', minutes(a.waitMeanMinutes)),
    h('td', 'num wait-p95', minutes(a.waitP95Minutes)));
  return tr;
}

function note(x) {
  if (!x.floorTracked) return 'The floor is not tracked yet: walk-ins are split once someone clocks in.';
  const short = x.arms.filter((a) => a.ended < x.minimumEnded);
  if (short.length) {
    return `A verdict needs ${count(x.minimumEnded, 'ended walk-in')} in each arm (so far ${x.arms
      .map((a) => `${a.name} ${int(a.ended)}`).join(', ')}). Each walk-in is split at random when it arrives.`;
  }
  return 'Each walk-in is split at random when it arrives; figures count walk-ins whose visit ended.';
}

/** The panel. Returns { render(experiment) }. */
export function setupExperiment() {
  const section = $('experiment');
  return {
    render(x) {
      section.dataset.enabled = String(Boolean(x.enabled));
      $('experiment-off').hidden = Boolean(x.enabled);
      $('experiment-on').hidden = !x.enabled;
      if (!x.enabled) {
        $('experiment-since').textContent = '';
        return;
      }
      const since = new Date(x.since);
      $('experiment-since').textContent = Number.isNaN(since.getTime()) ? '' : `(since ${since.toLocaleDateString()})`;
      const v = $('experiment-verdict');
      v.dataset.verdict = verdictKind(x.verdict);
      v.textContent = verdictWords(x);
      $('experiment-note').textContent = note(x);
      $('experiment-arms').replaceChildren(...x.arms.map(armRow));
      $('experiment-diff-close').textContent = `Close rate, B − A: ${interval(x.difference.closeRatePoints, 'points')}`;
      $('experiment-diff-wait').textContent = `Mean wait, B − A: ${interval(x.difference.waitMeanMinutes, 'min')}`;
    },
  };
}
