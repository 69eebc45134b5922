/* static-checkout: "Only 3 left" and "Sold out" (README.md "Limited stock"); after stripe-checkout.js.
   The server stays the authority: it refuses what is gone. */
(function () {
  'use strict';
  const SC = StaticCheckout, script = document.currentScript, known = new Map(), labels = new WeakMap(), notes = new WeakMap();
  const set = (name, or) => script?.dataset['stock' + name] || or;
  const each = (run) => [...SC.buttons(), ...document.querySelectorAll('[data-add-to-cart]')]
    .forEach((b) => run(b, b.dataset.addToCart || SC.priceOf(b), SC.formOf(b)));

  function show(priceId, left) {
    known.set(priceId, left);
    const out = left === 0, few = left > 0 && left <= set('Threshold', 5);
    each((b, id, form) => {
      if (id !== priceId) return;
      const key = form || b, field = form?.elements.quantity;
      if (out || labels.has(b)) { // not a button busy for a purchase
        SC.relabel(b, out && 'Sold out', labels); // its own label comes back on a restock
        b.classList.toggle('is-sold-out', out);
      }
      if (field?.type === 'number') {
        const own = field.dataset.max ||= field.max || 99; // the page's own cap
        field.max = Math.max(1, Math.min(own, left ?? own));
        if (+field.value > field.max) field.value = field.max;
        field.disabled = out;
      }
      let note = notes.get(key); // live: someone else may buy
      if (!note) notes.set(key, note = (form || b.parentNode).appendChild(SC.el('p', { class: 'stock-note', role: 'status' })));
      note.textContent = few ? 'Only ' + left + ' left' : '';
      note.hidden = !few;
    });
    // The cart caps its lines with it.
    document.dispatchEvent(new CustomEvent('static-checkout:stock', { detail: { priceId, available: left } }));
  }

  async function refresh() {
    const ids = new Set();
    each((b, id) => id && ids.add(id));
    for (let all = [...ids]; all.length;) {
      try { // 20 prices a request, the API's limit
        const data = await SC.api(set('Endpoint', '/api/stock') + '?priceId=' + all.splice(0, 20).map(encodeURIComponent).join('&priceId='));
        for (const id in data.stock) if (data.stock[id].available >= 0) show(id, data.stock[id].available); // null too
      } catch (e) { /* an unknown price, the API down: as they were */ }
    }
  }

  // A purchase refused (stripe-checkout.js) told what is left.
  document.addEventListener('static-checkout:out-of-stock', (e) => {
    if (e.detail.available >= 0) show(e.detail.priceId, e.detail.available);
  });

  // null: unlimited, undefined: not known.
  window.StaticCheckoutStock = { limit: (priceId) => known.get(priceId) };
  // On load, and back from Stripe through the page cache, where the stock has moved on.
  addEventListener('pageshow', refresh);
})();
