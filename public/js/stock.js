/*
 * static-checkout: how many are left, next to each buy button.
 *
 * <script src="/js/stock.js" defer></script> beside stripe-checkout.js. For every button naming a price
 * (data-price-id, or its form's priceId field) it asks GET /api/stock once: a limited price with few left
 * shows "Only 3 left" (at most data-stock-threshold on this script tag, default 5), one with none turns
 * into a disabled "Sold out", and a quantity field is capped at what is left. An out_of_stock answer to
 * a purchase updates the same way. Without this script, or when the API cannot answer, the buttons work
 * as before: the server is the authority and refuses what is gone.
 *
 * window.StaticCheckoutStock.limit(priceId): what is left (null: unlimited; undefined: not known yet).
 * Each change is announced as a `static-checkout:stock` event on document ({priceId, available}): a
 * cart caps its quantities with it.
 */
(function () {
  'use strict';

  const script = document.currentScript;
  const ENDPOINT = (script && script.getAttribute('data-stock-endpoint')) || '/api/stock';
  const THRESHOLD = parseInt((script && script.getAttribute('data-stock-threshold')) || '5', 10);
  const PER_REQUEST = 20; // the API's limit on prices per request
  const SOLD_OUT = 'Sold out';
  const known = new Map(); // priceId -> available (null: unlimited)
  const labels = new WeakMap(); // sold-out button -> its own label nodes
  const maxima = new WeakMap(); // quantity field -> its own max
  const notes = new WeakMap(); // button -> its "Only N left" note

  function formOf(btn) { return btn.form || btn.closest('form'); }

  function priceOf(btn) {
    const form = formOf(btn);
    const field = form && form.elements.namedItem('priceId');
    return btn.getAttribute('data-price-id') || (form && form.getAttribute('data-price-id')) ||
      (field && typeof field.value === 'string' ? field.value.trim() : '') ||
      (btn.name === 'priceId' ? btn.value : '');
  }

  function buttons() {
    return Array.from(document.querySelectorAll('[data-price-id], .stripe-checkout-btn')).flatMap(function (el) {
      return el.tagName === 'FORM' ? Array.from(el.querySelectorAll('button:not([type]), [type="submit"]')) : [el];
    }).filter(function (btn) { return priceOf(btn); });
  }

  function noteFor(btn) {
    if (!notes.has(btn)) {
      const note = document.createElement('p');
      note.className = 'stock-note';
      note.setAttribute('aria-live', 'polite'); // said when it changes, e.g. after someone else bought
      note.hidden = true;
      (formOf(btn) || btn.parentNode).appendChild(note);
      notes.set(btn, note);
    }
    return notes.get(btn);
  }

  function soldOut(btn, out) {
    const isInput = btn.tagName === 'INPUT';
    if (out && !labels.has(btn)) {
      labels.set(btn, isInput ? btn.value : Array.from(btn.childNodes));
      if (isInput) btn.value = SOLD_OUT; else btn.textContent = SOLD_OUT;
    } else if (!out && labels.has(btn)) {
      const label = labels.get(btn);
      if (isInput) btn.value = label;
      else { btn.textContent = ''; label.forEach(function (n) { btn.appendChild(n); }); }
      labels.delete(btn);
    }
    btn.disabled = out;
    btn.classList.toggle('is-sold-out', out);
  }

  function cap(btn, available) {
    const form = formOf(btn);
    const field = form && form.elements.namedItem('quantity');
    if (!field || field.type !== 'number') return;
    if (!maxima.has(field)) maxima.set(field, field.getAttribute('max'));
    const own = parseInt(maxima.get(field) || '99', 10);
    const most = available === null ? own : Math.max(1, Math.min(own, available));
    field.max = String(most);
    if (parseInt(field.value, 10) > most) field.value = String(most);
    field.disabled = available !== null && available <= 0;
  }

  function show(priceId, available) {
    known.set(priceId, available);
    buttons().forEach(function (btn) {
      if (priceOf(btn) !== priceId) return;
      const out = available !== null && available <= 0;
      soldOut(btn, out);
      cap(btn, available);
      const note = noteFor(btn);
      const few = available !== null && available > 0 && available <= THRESHOLD;
      note.textContent = few ? 'Only ' + available + ' left' : '';
      note.hidden = !few;
    });
    document.dispatchEvent(new CustomEvent('static-checkout:stock', {
      detail: { priceId: priceId, available: available }
    }));
  }

  async function refresh() {
    const ids = Array.from(new Set(buttons().map(priceOf)));
    for (let start = 0; start < ids.length; start += PER_REQUEST) {
      const query = ids.slice(start, start + PER_REQUEST).map(function (id) {
        return 'priceId=' + encodeURIComponent(id);
      }).join('&');
      try {
        const res = await fetch(ENDPOINT + '?' + query, { credentials: 'same-origin' });
        if (!res.ok) continue; // an unknown price, or the API down: the buttons stay as they are
        const data = await res.json();
        Object.keys(data.stock || {}).forEach(function (id) {
          const level = data.stock[id];
          if (level && (level.available === null || typeof level.available === 'number')) show(id, level.available);
        });
      } catch (e) { /* offline or not JSON: nothing to show */ }
    }
  }

  // The buy script reports a purchase refused for want of stock: what is left is in the answer.
  document.addEventListener('static-checkout:out-of-stock', function (event) {
    const detail = event.detail || {};
    if (detail.priceId && typeof detail.available === 'number') show(detail.priceId, detail.available);
  });

  // Back from Stripe with the Back button: the page comes from the cache, and the stock has moved on.
  window.addEventListener('pageshow', function (event) { if (event.persisted) refresh(); });

  window.StaticCheckoutStock = {
    limit: function (priceId) { return known.get(priceId); },
    refresh: refresh
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', refresh);
  else refresh();
})();
