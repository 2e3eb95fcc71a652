// charts.js: the two chart.js charts (loaded as vendor/chart.umd.js, window.Chart).
// Each chart is created once and updated in place.

import { percent, int, priorityColor, priorityWord } from './format.js';

const charts = {};
let segClusters = []; // the clusters the segments chart shows now (for its tooltip)
const haveChart = () => typeof window.Chart === 'function';

const HOUR = 3600 * 1000;

/** "14:30", or "14:30:05" when the samples span only a few minutes. */
function tickFormat(spanMs) {
  const opts = spanMs < 10 * 60 * 1000
    ? { hour: '2-digit', minute: '2-digit', second: '2-digit' }
    : { hour: '2-digit', minute: '2-digit' };
  const f = new Intl.DateTimeFormat(undefined, opts);
  return (v) => f.format(new Date(v));
}

/**
 * Coherence samples (oldest first) as a line on a time axis: from the first
 * sample of the last 24 hours to now.
 */
export function drawHistory(canvas, samples, hours = 24) {
  if (!haveChart()) return;
  const points = samples.map((s) => ({ x: Date.parse(s.timestamp), y: s.coherence }));
  const now = Math.max(Date.now(), points.length ? points[points.length - 1].x : 0);
  const min = Math.max(now - hours * HOUR, points.length ? points[0].x : now - hours * HOUR);
  const fmt = tickFormat(now - min);
  let c = charts.history;
  if (!c) {
    c = charts.history = new window.Chart(canvas, {
      type: 'line',
      data: { datasets: [{ label: 'Team coherence', data: points, borderColor: '#2563eb', backgroundColor: 'rgba(37, 99, 235, 0.12)', fill: true, pointRadius: 0, pointHitRadius: 6, borderWidth: 2, tension: 0.25 }] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        parsing: false,
        scales: {
          y: {
            min: 0,
            max: 1,
            ticks: { stepSize: 0.2, callback: (v) => percent(v) },
            grid: { color: (ctx) => (ctx.tick && [0.4, 0.6, 0.8].includes(Math.round(ctx.tick.value * 10) / 10) ? '#94a3b8' : '#f1f5f9') },
          },
          x: { type: 'linear', min, max: now, ticks: { maxTicksLimit: 7, maxRotation: 0, callback: (v, i, ticks) => {
              const label = historyFmt(v);
              return i > 0 && historyFmt(ticks[i - 1].value) === label ? '' : label;
            } } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: (items) => (items.length ? historyFmt(items[0].parsed.x) : ''),
              label: (ctx) => `Coherence ${percent(ctx.parsed.y)}`,
            },
          },
        },
      },
    });
    historyFmt = fmt;
    return;
  }
  historyFmt = fmt;
  c.options.scales.x.min = min;
  c.options.scales.x.max = now;
  c.data.datasets[0].data = points;
  c.update();
}

let historyFmt = tickFormat(HOUR);

/** Segment sizes as a doughnut, each slice coloured by the segment's priority. */
export function drawSegments(canvas, clusters) {
  if (!haveChart()) return;
  const labels = clusters.map((k) => k.profile.name);
  const values = clusters.map((k) => k.sizeEstimate);
  const colors = clusters.map((k) => priorityColor(k.profile.priority));
  segClusters = clusters;
  let c = charts.segments;
  if (!c) {
    c = charts.segments = new window.Chart(canvas, {
      type: 'doughnut',
      data: { labels, datasets: [{ data: values, backgroundColor: colors, borderColor: '#fff', borderWidth: 2 }] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { position: 'right', labels: { boxWidth: 14 } },
          tooltip: {
            callbacks: {
              label: (ctx) => {
                const k = segClusters[ctx.dataIndex] || { profile: { priority: 0 } };
                return `${int(ctx.parsed)} customers · ${priorityWord(k.profile.priority)} priority`;
              },
            },
          },
        },
      },
    });
    return;
  }
  c.data.labels = labels;
  c.data.datasets[0].data = values;
  c.data.datasets[0].backgroundColor = colors;
  c.update();
}
