// format.js: numbers and model words as a sales manager reads them.

const pctFmt = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 0 });
const moneyFmt = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });
const intFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

const pct1Fmt = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });

/** 0.823 → "82%". */
export const percent = (x) => (Number.isFinite(x) ? pctFmt.format(x) : '—');
/** Like percent, but small shares keep a decimal (0.0033 → "0.3%"). */
export const percentFine = (x) => (Number.isFinite(x) ? (x !== 0 && Math.abs(x) < 0.1 ? pct1Fmt : pctFmt).format(x) : '—');
export const money = (x) => (Number.isFinite(x) ? moneyFmt.format(x) : '—');
export const int = (x) => (Number.isFinite(x) ? intFmt.format(x) : '—');

/** count(3, 'active deal') → "3 active deals". */
export function count(n, singular, plural = `${singular}s`) {
  return `${int(n)} ${n === 1 ? singular : plural}`;
}

/** An ISO timestamp as "14:30" today, "Nov 27, 14:30" otherwise. */
export function when(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const today = new Date();
  return d.toDateString() === today.toDateString() ? timeFmt.format(d) : dateTimeFmt.format(d);
}

export const clock = (d) => timeFmt.format(d);

/** The coherence bands: the API's status string → words. */
export const BANDS = {
  excellent: { label: 'Excellent', meaning: 'Team running smoothly' },
  good: { label: 'Good', meaning: 'Normal operations' },
  needs_attention: { label: 'Needs attention', meaning: 'Some issues: check bottlenecks below' },
  critical: { label: 'Critical', meaning: 'Team disorganised: check bottlenecks and workloads' },
};

/** Member status strings → words, in the order the legend shows them. */
export const STATUSES = {
  crushing_it: 'Crushing it',
  ready: 'Ready for a customer',
  on_track: 'On track',
  slow_day: 'Slow day',
  behind: 'Behind the team',
  overloaded: 'Overloaded',
};

/** The four quarters of the sales cycle. */
export const PHASES = {
  ready: 'Ready',
  negotiating: 'Negotiating',
  closing: 'Closing',
  paperwork: 'Paperwork',
};

/** A phase in rad → its quarter (as the API's phaseLabel). */
export function phaseLabel(theta) {
  const q = Math.PI / 4;
  const t = ((theta % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);
  if (t < q || t >= 7 * q) return 'ready';
  if (t < 3 * q) return 'negotiating';
  if (t < 5 * q) return 'closing';
  return 'paperwork';
}

/** A segment priority (0–1) → "High", "Medium" or "Low". */
export function priorityWord(p) {
  if (p >= 0.8) return 'High';
  if (p >= 0.5) return 'Medium';
  return 'Low';
}

/**
 * A colour for a segment priority: low priority grey-blue, high a strong
 * green, through amber. Stays readable on white.
 */
export function priorityColor(p) {
  const x = Math.min(1, Math.max(0, p));
  const stops = [
    [0.0, [148, 163, 184]],
    [0.45, [148, 163, 184]],
    [0.55, [217, 119, 6]],
    [0.7, [234, 179, 8]],
    [0.82, [20, 184, 166]],
    [0.9, [22, 163, 74]],
    [1.0, [21, 128, 61]],
  ];
  for (let i = 1; i < stops.length; i++) {
    const [x1, c1] = stops[i];
    const [x0, c0] = stops[i - 1];
    if (x <= x1) {
      const t = (x - x0) / (x1 - x0);
      const c = c0.map((v, k) => Math.round(v + t * (c1[k] - v)));
      return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
    }
  }
  return 'rgb(21, 128, 61)';
}
