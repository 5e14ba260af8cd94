// chart: the SVG bar chart of the balance: sales and payments per period as bars, the
// outstanding receivables at the end of each period as a line, with a legend.
import { h, s } from './dom.js';
import { money, moneyShort, day, shortDay } from './format.js';
import { t } from './i18n.js';

// A <figure> of the chart of points ({period, sales_count, sales_total, payments_total,
// outstanding}, as GET /balance/series answers them). Geometry is in floats: only pixels.
export function chart(points) {
  const W = 800, H = 300, L = 64, R = 16, T = 16, B = 40;
  const iw = W - L - R, ih = H - T - B;
  const max = Math.max(1, ...points.flatMap((p) => [Number(p.sales_total), Number(p.payments_total), Number(p.outstanding)]));
  const y = (v) => T + ih - (Number(v) / max) * ih;
  const n = Math.max(points.length, 1), slot = iw / n, bw = Math.max(1, slot * 0.38);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': 'chart-title' },
    s('title', { id: 'chart-title' }, t('chart.title')));
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    svg.append(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid-line' }),
      s('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, moneyShort(v)));
  }
  const every = Math.ceil(n / 12);
  points.forEach((p, i) => {
    const x0 = L + i * slot + (slot - 2 * bw) / 2;
    const tip = t('chart.tip', { day: day(p.period), sales: money(p.sales_total), count: p.sales_count, payments: money(p.payments_total), outstanding: money(p.outstanding) });
    svg.append(s('rect', { x: x0, y: y(p.sales_total), width: bw, height: Math.max(0, T + ih - y(p.sales_total)), class: 'bar-sales' }, s('title', {}, tip)),
      s('rect', { x: x0 + bw, y: y(p.payments_total), width: bw, height: Math.max(0, T + ih - y(p.payments_total)), class: 'bar-payments' }, s('title', {}, tip)));
    if (i % every === 0) svg.append(s('text', { x: L + i * slot + slot / 2, y: H - B + 16, 'text-anchor': 'middle', class: 'axis' }, shortDay(p.period)));
  });
  if (points.length) {
    const pts = points.map((p, i) => `${L + i * slot + slot / 2},${y(p.outstanding)}`).join(' ');
    svg.append(s('polyline', { points: pts, class: 'line-outstanding' }));
    points.forEach((p, i) => svg.append(s('circle', { cx: L + i * slot + slot / 2, cy: y(p.outstanding), r: 3, class: 'dot-outstanding' })));
  }
  svg.append(s('line', { x1: L, x2: W - R, y1: T + ih, y2: T + ih, class: 'axis-line' }));
  const legend = h('ul', { class: 'legend' },
    h('li', {}, h('span', { class: 'key sales' }), t('chart.sales')), h('li', {}, h('span', { class: 'key payments' }), t('chart.payments')),
    h('li', {}, h('span', { class: 'key outstanding' }), t('chart.outstanding')));
  return h('figure', { class: 'card chart-card' }, svg, legend);
}

// A <figure> of grouped bars (the sales report's, pages/reports.js): one group per row, one bar
// per series ({name, cls, value(row)}; values may be negative, below a zero line), labelled by
// label(row) under the axis (at most about 12 labels), with a <title> tooltip tip(row) and a
// legend of the series' names. title is the chart's accessible name. Money on the axis.
export function barsChart(rows, { series, label, tip, title }) {
  const W = 800, H = 300, L = 64, R = 16, T = 16, B = 40;
  const iw = W - L - R, ih = H - T - B;
  const vals = rows.flatMap((r) => series.map((c) => Number(c.value(r)) || 0));
  const max = Math.max(0, ...vals), min = Math.min(0, ...vals);
  const span = max - min || 1;
  const y = (v) => T + ((max - (Number(v) || 0)) / span) * ih;
  const n = Math.max(rows.length, 1), slot = iw / n, bw = Math.max(1, (slot * 0.8) / series.length);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title }, s('title', {}, title));
  for (let i = 0; i <= 4; i++) {
    const v = min + (span / 4) * i;
    svg.append(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid-line' }),
      s('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, money(v.toFixed(2))));
  }
  const every = Math.ceil(n / 12);
  rows.forEach((r, i) => {
    const x0 = L + i * slot + (slot - bw * series.length) / 2;
    const g = s('g', { class: 'bar-group' }, s('title', {}, tip(r)));
    series.forEach((c, k) => {
      const v = Number(c.value(r)) || 0;
      g.append(s('rect', { x: x0 + k * bw, y: Math.min(y(v), y(0)), width: bw, height: Math.abs(y(0) - y(v)), class: c.cls }));
    });
    svg.append(g);
    if (i % every === 0) {
      const text = String(label(r));
      svg.append(s('text', { x: L + i * slot + slot / 2, y: H - B + 16, 'text-anchor': 'middle', class: 'axis' }, text.length > 14 ? `${text.slice(0, 13)}…` : text));
    }
  });
  svg.append(s('line', { x1: L, x2: W - R, y1: y(0), y2: y(0), class: 'axis-line' }));
  const legend = h('ul', { class: 'legend' }, series.map((c) => h('li', {}, h('span', { class: `key ${c.cls}` }), c.name)));
  return h('figure', { class: 'card chart-card' }, svg, legend);
}
