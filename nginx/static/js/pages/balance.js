// balance: the balance page (#/balance): a period, granularity and payment method, the totals
// (with the returns where the server reports them), the chart and the table per period.
import { h, setView } from '../dom.js';
import { api, qs } from '../api.js';
import { field, input, select, formError, clearErrors, showError, busy } from '../forms.js';
import { table } from '../lists.js';
import { moneyEl, qty, day, isoDay } from '../format.js';
import { chart } from '../chart.js';
import { t } from '../i18n.js';

export async function balancePage() {
  const today = new Date();
  const from = input('from', { type: 'date', value: isoDay(new Date(today.getTime() - 29 * 86400000)) });
  const to = input('to', { type: 'date', value: isoDay(today) });
  const gran = select('granularity', [['daily', t('balance.daily')], ['weekly', t('balance.weekly')], ['monthly', t('balance.monthly')]]);
  const method = select('method', [['all', t('method.all')], ['cash', t('method.cash')], ['card', t('method.card')], ['transfer', t('method.transfer')]]);
  const btn = h('button', { type: 'submit', class: 'primary' }, t('balance.show'));
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'filters card', novalidate: true }, field(t('balance.from'), from), field(t('balance.to'), to), field(t('balance.granularity'), gran), field(t('balance.method'), method), h('div', { class: 'actions' }, btn), formError());
  const load = async () => {
    clearErrors(form);
    try {
      const r = await api('GET', '/balance/series' + qs({ from: from.value, to: to.value, granularity: gran.value, method: method.value }));
      const tt = r.totals || {};
      // Returns (SPEC §10) where the server reports them.
      const ret = tt.returns_total !== undefined;
      const L = {
        period: t('balance.col.period'), sales: t('balance.col.sales'), salesTotal: t('balance.col.sales_total'),
        returns: t('balance.col.returns'), payments: t('balance.col.payments'), outstanding: t('balance.col.outstanding'),
      };
      out.replaceChildren(
        h('dl', { class: 'totals' },
          h('div', {}, h('dt', {}, t('balance.total.sales')), h('dd', { id: 'total-sales-count' }, qty(tt.sales_count))),
          h('div', {}, h('dt', {}, t('balance.total.sales_total')), h('dd', { id: 'total-sales' }, moneyEl(tt.sales_total))),
          ret ? h('div', {}, h('dt', {}, t('balance.total.returns_total')), h('dd', { id: 'total-returns' }, moneyEl(tt.returns_total))) : null,
          h('div', {}, h('dt', {}, t('balance.total.payments_total')), h('dd', { id: 'total-payments' }, moneyEl(tt.payments_total))),
          h('div', {}, h('dt', {}, t('balance.total.outstanding')), h('dd', { id: 'total-outstanding' }, moneyEl(tt.outstanding)))),
        chart(r.points || []),
        table([L.period, L.sales, L.salesTotal, ret ? L.returns : null, L.payments, L.outstanding].filter(Boolean), (r.points || []).map((p) => h('tr', {},
          h('td', { 'data-label': L.period }, day(p.period)), h('td', { 'data-label': L.sales, class: 'num' }, qty(p.sales_count)),
          h('td', { 'data-label': L.salesTotal, class: 'num' }, moneyEl(p.sales_total)),
          ret ? h('td', { 'data-label': L.returns, class: 'num' }, moneyEl(p.returns_total)) : null,
          h('td', { 'data-label': L.payments, class: 'num' }, moneyEl(p.payments_total)),
          h('td', { 'data-label': L.outstanding, class: 'num' }, moneyEl(p.outstanding)))), t('balance.per_period')));
    } catch (e) { if (e.status !== 401) showError(form, e); }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); busy(btn, load); });
  setView(h('h1', {}, t('nav.balance')), form, out);
  await busy(btn, load);
}
