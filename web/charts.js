// charts.js: the two chart.js charts (loaded as vendor/chart.umd.js, window.Chart).
// Each chart is created once and updated in place.

import { clock, percent, int, priorityColor, priorityWord } from './format.js';

const charts = {};
let segClusters = []; // the clusters the segments chart shows now (for its tooltip)
const haveChart = () => typeof window.Chart === 'function';

/** Coherence samples (oldest first) as a line over the last hours. */
export function drawHistory(canvas, samples) {
  if (!haveChart()) return;
  const labels = samples.map((s) => clock(new Date(s.timestamp)));
  const values = samples.map((s) => s.coherence);
  let c = charts.history;
  if (!c) {
    c = charts.history = new window.Chart(canvas, {
      type: 'line',
      data: { labels, datasets: [{ label: 'Team coherence', data: values, borderColor: '#2563eb', backgroundColor: 'rgba(37, 99, 235, 0.12)', fill: true, pointRadius: 0, pointHitRadius: 6, borderWidth: 2, tension: 0.25 }] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          y: {
            min: 0,
            max: 1,
            ticks: { stepSize: 0.2, callback: (v) => percent(v) },
            grid: { color: (ctx) => (ctx.tick && [0.4, 0.6, 0.8].includes(Math.round(ctx.tick.value * 10) / 10) ? '#cbd5e1' : '#f1f5f9') },
          },
          x: { ticks: { maxTicksLimit: 8, autoSkip: true, maxRotation: 0 } },
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (ctx) => `Coherence ${percent(ctx.parsed.y)}` } },
        },
      },
    });
    return;
  }
  c.data.labels = labels;
  c.data.datasets[0].data = values;
  c.update();
}

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
