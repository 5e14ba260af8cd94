// balance: the balance page (#/balance): a period, granularity and payment method, the totals
// (with the returns where the server reports them), the chart and the table per period.
import { h, setView } from '../dom.js';
import { api, qs } from '../api.js';
import { field, input, select, formError, clearErrors, showError, busy } from '../forms.js';
import { table } from '../lists.js';
import { money, qty, day, isoDay } from '../format.js';
import { chart } from '../chart.js';

export async function balancePage() {
  const today = new Date();
  const from = input('from', { type: 'date', value: isoDay(new Date(today.getTime() - 29 * 86400000)) });
  const to = input('to', { type: 'date', value: isoDay(today) });
  const gran = select('granularity', [['daily', 'Daily'], ['weekly', 'Weekly'], ['monthly', 'Monthly']]);
  const method = select('method', [['all', 'All methods'], ['cash', 'Cash'], ['card', 'Card'], ['transfer', 'Transfer']]);
  const btn = h('button', { type: 'submit', class: 'primary' }, 'Show');
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'filters card', novalidate: true }, field('From', from), field('To', to), field('Granularity', gran), field('Payment method', method), h('div', { class: 'actions' }, btn), formError());
  const load = async () => {
    clearErrors(form);
    try {
      const r = await api('GET', '/balance/series' + qs({ from: from.value, to: to.value, granularity: gran.value, method: method.value }));
      const t = r.totals || {};
      // Returns (SPEC §10) where the server reports them.
      const ret = t.returns_total !== undefined;
      out.replaceChildren(
        h('dl', { class: 'totals' },
          h('div', {}, h('dt', {}, 'Sales'), h('dd', { id: 'total-sales-count' }, qty(t.sales_count))),
          h('div', {}, h('dt', {}, 'Sales total'), h('dd', { id: 'total-sales' }, money(t.sales_total))),
          ret ? h('div', {}, h('dt', {}, 'Returns total'), h('dd', { id: 'total-returns' }, money(t.returns_total))) : null,
          h('div', {}, h('dt', {}, 'Payments total'), h('dd', { id: 'total-payments' }, money(t.payments_total))),
          h('div', {}, h('dt', {}, 'Outstanding'), h('dd', { id: 'total-outstanding' }, money(t.outstanding)))),
        chart(r.points || []),
        table(['Period', 'Sales', 'Sales total', ret ? 'Returns' : null, 'Payments', 'Outstanding'].filter(Boolean), (r.points || []).map((p) => h('tr', {},
          h('td', { 'data-label': 'Period' }, day(p.period)), h('td', { 'data-label': 'Sales', class: 'num' }, qty(p.sales_count)),
          h('td', { 'data-label': 'Sales total', class: 'num' }, money(p.sales_total)),
          ret ? h('td', { 'data-label': 'Returns', class: 'num' }, money(p.returns_total)) : null,
          h('td', { 'data-label': 'Payments', class: 'num' }, money(p.payments_total)),
          h('td', { 'data-label': 'Outstanding', class: 'num' }, money(p.outstanding)))), 'Per period'));
    } catch (e) { if (e.status !== 401) showError(form, e); }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); busy(btn, load); });
  setView(h('h1', {}, 'Balance'), form, out);
  await busy(btn, load);
}
