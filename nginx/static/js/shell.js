// shell: the header around every page while signed in: tenant name, user and role, the page links
// (which one is current; Users for admins only), Change password and Sign out.
import { api, session, clearSession, isAdmin } from './api.js';
import { busy } from './forms.js';
import { t } from './i18n.js';

const top = document.getElementById('top');

// A role as text ('staff', 'admin').
export const roleText = (r) => (r === 'admin' || r === 'staff' ? t(`role.${r}`) : r || '');

// Shows the header with the session's tenant and user.
export function showShell() {
  top.hidden = false;
  document.getElementById('tenant-name').textContent = session.tenant ? session.tenant.name : '';
  document.getElementById('user-email').textContent = session.user ? session.user.email : '';
  document.getElementById('user-role').textContent = session.user && session.user.role ? roleText(session.user.role) : '';
  // Staff see no page they may not use (SPEC §10).
  document.getElementById('nav-users').hidden = !isAdmin();
  // the sales report (pages/reports.js), in the UI's language
  document.getElementById('nav-reports').textContent = t('reports.nav');
}
export function hideShell() {
  top.hidden = true;
}

// Marks the page link that hash starts with as current (aria-current) and keeps it in sight.
export function markCurrent(hash) {
  top.querySelectorAll('nav a, #my-password').forEach((a) => {
    if (hash.startsWith(a.getAttribute('href'))) {
      a.setAttribute('aria-current', 'page');
      // At phone width the pages are a strip that scrolls sideways: keep this one in sight.
      const nav = a.parentElement;
      if (nav.scrollWidth > nav.clientWidth) nav.scrollLeft = Math.max(0, a.offsetLeft - nav.offsetLeft - 8);
    } else a.removeAttribute('aria-current');
  });
}

// Wires Sign out: it ends the session on the server (signed out anyway if that fails), clears it
// here and calls onSignedOut().
export function initShell(onSignedOut) {
  document.getElementById('sign-out').addEventListener('click', async (ev) => {
    await busy(ev.currentTarget, async () => {
      try { await api('POST', '/auth/logout'); } catch (e) { /* signed out anyway */ }
    });
    clearSession();
    onSignedOut();
  });
}
