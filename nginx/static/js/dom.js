// dom: building elements and showing them: h()/s() (HTML and SVG), the main view, toasts and the
// confirm dialog. Every value goes in as text (createElement, textContent), never as innerHTML.
import { t } from './i18n.js';

const view = document.getElementById('view');

// An HTML element. attrs: onX functions become listeners, class, dataset, DOM properties for
// non-string values, attributes otherwise (true as an empty attribute; null, undefined and false
// leave it out). children: nodes or text, nested arrays flattened, null/undefined/false skipped.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

// Appends children (as for h) to el; returns el.
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVGNS = 'http://www.w3.org/2000/svg';
// An SVG element: every attribute set as a string; children as for h (one level of arrays).
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

// Replaces what the main view shows.
export function setView(...children) {
  view.replaceChildren(...children.flat().filter(Boolean));
}

// setView for a page that is drawn after some requests: it draws only while the address is still
// the one it had when pageView() was called, so a page that finishes loading (or reloading itself
// after a write) once the user has moved on never replaces the page they went to.
export function pageView() {
  const at = location.hash;
  return (...children) => { if (location.hash === at) setView(...children); };
}

// Moves the focus to the main view (after a page has been drawn) without scrolling.
export function focusView() {
  view.focus({ preventScroll: true });
}

let uid = 0;
// A fresh element id with prefix p.
export const nextId = (p) => `${p}-${++uid}`;

// A short message at the corner for 4 s; bad marks it as an error.
export function toast(message, bad) {
  let box = document.getElementById('toasts');
  if (!box) { box = h('div', { id: 'toasts', 'aria-live': 'polite' }); document.body.append(box); }
  const t = h('div', { class: 'toast' + (bad ? ' bad' : ''), role: 'status' }, message);
  // At most three at a time: on a phone a pile of them would cover the page.
  while (box.children.length >= 3) box.firstChild.remove();
  box.append(t);
  setTimeout(() => t.remove(), 4000);
}

const dialog = document.getElementById('confirm-dialog');
// Asks text in the modal dialog of index.html; resolves true when okLabel is chosen.
export function confirmDialog(text, okLabel) {
  return new Promise((resolve) => {
    document.getElementById('confirm-text').textContent = text;
    document.getElementById('confirm-ok').textContent = okLabel || t('dialog.confirm');
    document.getElementById('confirm-cancel').textContent = t('dialog.keep');
    dialog.returnValue = '';
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
  });
}
