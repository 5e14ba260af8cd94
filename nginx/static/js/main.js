// main: the entry point of the web UI (ES modules, no build step): the hash router, the session
// on load (GET /me), and sign-in / sign-out / session expiry wiring.
import { h, setView, focusView } from './dom.js';
import { ApiError, session, resumeSession, onSessionLost } from './api.js';
import { showShell, markCurrent, initShell } from './shell.js';
import { showSignIn } from './pages/signin.js';
import { productsPage } from './pages/products.js';
import { categoriesPage } from './pages/categories.js';
import { unitsPage } from './pages/units.js';
import { salesPage } from './pages/sales.js';
import { newSalePage } from './pages/sale-new.js';
import { saleDetailPage } from './pages/sale-detail.js';
import { receiptPage } from './pages/receipt.js';
import { paymentsPage } from './pages/payments.js';
import { balancePage } from './pages/balance.js';
import { productPage } from './pages/product.js';
import { usersPage, passwordPage } from './pages/users.js';
import { reportsPage } from './pages/reports.js';
import { settingsPage } from './pages/settings.js';
import { t, errorText } from './i18n.js';
import { applyLocale, onLocaleChange } from './locale.js';

// [hash pattern, page(...captures), title key]
const routes = [
  [/^#\/products$/, productsPage, 'nav.products'],
  [/^#\/products\/(\d+)$/, productPage, 'title.product'],
  [/^#\/categories$/, categoriesPage, 'nav.categories'],
  [/^#\/units$/, unitsPage, 'nav.units'],
  [/^#\/sales$/, salesPage, 'nav.sales'],
  [/^#\/sales\/new$/, newSalePage, 'title.new_sale'],
  [/^#\/sales\/(\d+)$/, saleDetailPage, 'title.sale'],
  [/^#\/sales\/(\d+)\/receipt$/, receiptPage, 'receipt.link'],
  [/^#\/payments$/, paymentsPage, 'nav.payments'],
  [/^#\/balance$/, balancePage, 'nav.balance'],
  [/^#\/users$/, usersPage, 'nav.users'],
  [/^#\/password$/, passwordPage, 'title.my_password'],
  [/^#\/settings$/, settingsPage, 'nav.settings'],
  [/^#\/reports$/, reportsPage, 'reports.title'],
];

async function route() {
  if (!session.csrf) return; // signed out: the sign-in form stays
  const hash = location.hash || '#/products';
  const hit = routes.find(([re]) => re.test(hash));
  if (!hit) { location.hash = '#/products'; return; }
  const [re, fn, titleKey] = hit;
  const title = t(titleKey);
  document.title = `${title} · ${session.tenant ? session.tenant.name : 'stock'}`;
  markCurrent(hash);
  setView(h('p', { class: 'muted' }, t('common.loading')));
  try {
    await fn(...hash.match(re).slice(1));
    focusView();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    setView(h('h1', {}, title), h('p', { class: 'form-error', role: 'alert' }, e.status === 404 ? t('error.not_found') : e instanceof ApiError ? errorText(e) : e.message));
  }
}

// Shows the sign-in page; messageKey, when given, is the catalog key of a notice above the form.
function signIn(messageKey) {
  applyLocale(true);
  showSignIn(messageKey, () => {
    applyLocale(true);
    showShell();
    if (!location.hash || location.hash === '#/' || location.hash === '#/signin') location.hash = '#/products';
    else route();
  });
}

onSessionLost(() => signIn('signin.expired'));
initShell(() => signIn('signin.signed_out'));
// A new language or currency (the settings page, the sign-in switch): the page is drawn again.
onLocaleChange(() => { if (session.csrf) { showShell(); route(); } });
window.addEventListener('hashchange', route);

(async function boot() {
  try {
    if (!(await resumeSession())) { signIn(); return; }
    applyLocale(true);
    showShell();
    route();
  } catch (e) { signIn(); }
})();
