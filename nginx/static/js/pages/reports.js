// reports: the sales report page (#/reports, GET /reports/sales): a date range and a grouping
// (product, category, day, week, month), the totals, a chart of sales, cost and margin per row
// and the table of rows. Changing the grouping shows the report at once. Figures whose cost was
// estimated (sale lines older than the cost's recording) are marked.
import { h, pageView } from '../dom.js';
import { api, qs } from '../api.js';
import { t } from '../i18n.js';
import { field, input, select, formError, clearErrors, showError, busy } from '../forms.js';
import { money, qty, day, isoDay } from '../format.js';
import { barsChart } from '../chart.js';

const GROUPS = ['product', 'category', 'day', 'week', 'month'];
// One page of the API's largest size: a year by day (366 rows) fits in it.
const LIMIT = 1000;

// The text of a row's key.
function keyText(group, key) {
  if (group === 'product') return key.product ? `${key.product.sku} · ${key.product.name}` : '—';
  if (group === 'category') return key.category ? key.category.name : t('reports.no_category');
  return day(key.period);
}
const mark = (r) => (r.cost_estimated ? h('span', { class: 'report-estimated', title: t('reports.estimated') }, ' *') : null);

export async function reportsPage() {
  const setView = pageView();
  const today = new Date();
  const from = input('from', { type: 'date', value: isoDay(new Date(today.getTime() - 29 * 86400000)) });
  const to = input('to', { type: 'date', value: isoDay(today) });
  const group = select('group', GROUPS.map((g) => [g, t(`reports.group.${g}`)]));
  const btn = h('button', { type: 'submit', class: 'primary' }, t('reports.show'));
  const out = h('div', { 'aria-live': 'polite', id: 'report-out' });
  const form = h('form', { class: 'filters card', novalidate: true },
    field(t('reports.from'), from), field(t('reports.to'), to), field(t('reports.group'), group),
    h('div', { class: 'actions' }, btn), formError());
  const cols = ['quantity', 'sales_total', 'returns_total', 'cost_total', 'margin'];
  let seq = 0;
  const load = async () => {
    clearErrors(form);
    const g = group.value, my = ++seq;
    try {
      const r = await api('GET', '/reports/sales' + qs({ from: from.value, to: to.value, group: g, limit: LIMIT }));
      if (my !== seq) return; // a newer request (the grouping changed meanwhile) draws instead
      const items = r.items || [], tot = r.totals || {};
      const fmt = (c, v) => (c === 'quantity' ? qty(v) : money(v));
      const keyHead = t(`reports.key.${g}`);
      out.replaceChildren(...[
        h('dl', { class: 'totals' }, cols.map((c) => h('div', {}, h('dt', {}, t(`reports.col.${c}`)),
          h('dd', { id: `report-total-${c}` }, fmt(c, tot[c]), c === 'cost_total' || c === 'margin' ? mark(tot) : null)))),
        barsChart(items, {
          title: t('reports.chart_title'),
          series: [
            { name: t('reports.col.sales_total'), cls: 'bar-report-sales', value: (x) => x.sales_total },
            { name: t('reports.col.cost_total'), cls: 'bar-report-cost', value: (x) => x.cost_total },
            { name: t('reports.col.margin'), cls: 'bar-report-margin', value: (x) => x.margin }],
          label: (x) => (g === 'product' ? (x.key.product ? x.key.product.sku : '—') : keyText(g, x.key)),
          tip: (x) => `${keyText(g, x.key)}: ${cols.map((c) => `${t(`reports.col.${c}`)} ${fmt(c, x[c])}`).join(', ')}`,
        }),
        h('div', { class: 'table-wrap' }, h('table', { class: 'report-table' },
          h('caption', {}, t('reports.caption', { from: day(r.from), to: day(r.to) })),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, keyHead), cols.map((c) => h('th', { scope: 'col', class: 'num' }, t(`reports.col.${c}`))))),
          h('tbody', {}, items.length ? items.map((x) => h('tr', { class: 'report-row' },
            h('td', { 'data-label': keyHead }, keyText(g, x.key)),
            cols.map((c) => h('td', { 'data-label': t(`reports.col.${c}`), class: 'num' }, fmt(c, x[c]), c === 'cost_total' ? mark(x) : null))))
            : h('tr', {}, h('td', { colspan: cols.length + 1, class: 'empty' }, t('reports.empty')))),
          h('tfoot', {}, h('tr', { class: 'report-totals' }, h('th', { scope: 'row' }, t('reports.totals')),
            cols.map((c) => h('td', { class: 'num' }, fmt(c, tot[c]))))))),
        r.total > items.length ? h('p', { class: 'muted' }, t('reports.more', { shown: items.length, total: r.total })) : null,
        tot.cost_estimated ? h('p', { class: 'muted report-estimated-note' }, '* ', t('reports.estimated')) : null,
        h('p', { class: 'muted' }, t('reports.definition'))].filter(Boolean));
    } catch (e) { if (e.status !== 401) showError(form, e); }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); busy(btn, load); });
  group.addEventListener('change', () => busy(btn, load));
  setView(h('h1', {}, t('reports.title')), form, out);
  await busy(btn, load);
}
