// csv: the "Export CSV" link of a list (GET <list>?format=csv, SPEC §12). The link's address is
// taken from the list's current filters when it is followed, so the file holds what the list
// shows (every row, not just the page). The session cookie authenticates the download.
import { h } from './dom.js';
import { qs } from './api.js';
import { t } from './i18n.js';

// An <a> that downloads path with the query params() gives (limit and offset left out).
export function exportLink(path, params = () => ({})) {
  const a = h('a', { class: 'button csv-export', download: '' }, t('csv.export'));
  const refresh = () => {
    const p = { ...params() };
    delete p.limit; delete p.offset;
    a.href = '/api/v1' + path + qs({ ...p, format: 'csv' });
  };
  refresh();
  a.addEventListener('click', refresh);
  return a;
}
