// The booth's form controls of text and rank questions: a text area with a
// live character count (in Unicode characters, as SPEC §16.2 counts them)
// and a select per rank position.
import { charCount } from './mixed.js';

/** Keeps every text question's character count up to date. */
export function wireTextCounters(root) {
  for (const ta of root.querySelectorAll('fieldset[data-kind="text"] textarea')) {
    const fs = ta.closest('fieldset');
    const out = fs.querySelector('.bq-count');
    const max = Number(ta.dataset.maxLength);
    const update = () => {
      const n = charCount(ta.value);
      out.querySelector('.n').textContent = String(n);
      out.classList.toggle('over', n > max);
      ta.setAttribute('aria-invalid', n > max ? 'true' : 'false');
    };
    ta.addEventListener('input', update);
    update();
  }
}

/**
 * The answer a text or rank fieldset holds, or undefined for none: the
 * text (an empty one is left out, SPEC §8.1); the ranked option ids in
 * position order (positions left at "none" are skipped).
 */
export function readMixed(fs) {
  if (fs.dataset.kind === 'text') {
    const v = fs.querySelector('textarea').value;
    return v === '' ? undefined : v;
  }
  const selects = [...fs.querySelectorAll('select[data-position]')]
    .sort((a, b) => Number(a.dataset.position) - Number(b.dataset.position));
  const ids = selects.map((s) => s.value).filter((v) => v !== '');
  return ids.length ? ids : undefined;
}

/** Sets a text or rank fieldset to an answer readMixed gave (a saved draft). */
export function writeMixed(fs, v) {
  if (fs.dataset.kind === 'text') {
    const ta = fs.querySelector('textarea');
    ta.value = typeof v === 'string' ? v : '';
    ta.dispatchEvent(new Event('input'));
    return;
  }
  const selects = [...fs.querySelectorAll('select[data-position]')]
    .sort((a, b) => Number(a.dataset.position) - Number(b.dataset.position));
  selects.forEach((s, i) => { s.value = Array.isArray(v) && v[i] !== undefined ? v[i] : ''; });
}

/** Fills a review entry dd with a text or rank answer. */
export function describeMixed(dd, q, v, label, blank) {
  if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) {
    dd.textContent = blank;
    return;
  }
  if (q.kind === 'text') {
    const p = document.createElement('p');
    p.className = 'bq-text-review';
    p.textContent = v;
    dd.append(p);
    return;
  }
  const ol = document.createElement('ol');
  for (const id of v) {
    const li = document.createElement('li');
    li.textContent = label(q.options.find((o) => o.id === id).label);
    ol.append(li);
  }
  dd.append(ol);
}
