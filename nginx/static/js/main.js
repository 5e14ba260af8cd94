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
import { productImportPage } from './pages/product-import.js';
import { usersPage, passwordPage } from './pages/users.js';

// [hash pattern, page(...captures), title]
const routes = [
  [/^#\/products$/, productsPage, 'Products'],
  [/^#\/products\/(\d+)$/, productPage, 'Product'],
  [/^#\/products\/import$/, productImportPage, 'Import products'],
  [/^#\/categories$/, categoriesPage, 'Categories'],
  [/^#\/units$/, unitsPage, 'Units'],
  [/^#\/sales$/, salesPage, 'Sales'],
  [/^#\/sales\/new$/, newSalePage, 'New sale'],
  [/^#\/sales\/(\d+)$/, saleDetailPage, 'Sale'],
  [/^#\/sales\/(\d+)\/receipt$/, receiptPage, 'Receipt'],
  [/^#\/payments$/, paymentsPage, 'Payments'],
  [/^#\/balance$/, balancePage, 'Balance'],
  [/^#\/users$/, usersPage, 'Users'],
  [/^#\/password$/, passwordPage, 'Change my password'],
];

async function route() {
  if (!session.csrf) return; // signed out: the sign-in form stays
  const hash = location.hash || '#/products';
  const hit = routes.find(([re]) => re.test(hash));
  if (!hit) { location.hash = '#/products'; return; }
  const [re, fn, title] = hit;
  document.title = `${title} · ${session.tenant ? session.tenant.name : 'stock'}`;
  markCurrent(hash);
  setView(h('p', { class: 'muted' }, 'Loading…'));
  try {
    await fn(...hash.match(re).slice(1));
    focusView();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    setView(h('h1', {}, title), h('p', { class: 'form-error', role: 'alert' }, e.status === 404 ? 'Not found.' : e.message));
  }
}

function signIn(message) {
  showSignIn(message, () => {
    showShell();
    if (!location.hash || location.hash === '#/' || location.hash === '#/signin') location.hash = '#/products';
    else route();
  });
}

onSessionLost(() => signIn('Your session has expired. Please sign in again.'));
initShell(() => signIn('You have signed out.'));
window.addEventListener('hashchange', route);

(async function boot() {
  try {
    if (!(await resumeSession())) { signIn(); return; }
    showShell();
    route();
  } catch (e) { signIn(); }
})();
