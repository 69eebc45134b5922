/* static-checkout: buy buttons that open Stripe Checkout (markup: README.md). The other scripts
   use its window.StaticCheckout, so come after it. */
(function () {
  'use strict';

  const GENERIC = 'Could not start checkout. Please try again.';
  const script = document.currentScript; // only set while this file first runs
  const bound = new WeakSet();
  const labels = new WeakMap(); // label while busy: also the in-flight flag
  // {order, key}: a retry after a failure keeps the key, to get any session Stripe made.
  const attempts = new WeakMap();
  let errors = 0, stripeReady = null, mounted = null;

  // Stripe's minor units are not ISO 4217's (ISK, HUF): the exponent is given.
  function money(amount, currency, exponent) {
    if (typeof amount !== 'number' || !currency || typeof exponent !== 'number') return '\u2014';
    const code = String(currency).toUpperCase(), value = amount / 10 ** exponent;
    try {
      return new Intl.NumberFormat(document.documentElement.lang || undefined,
        { style: 'currency', currency: code }).format(value);
    } catch (e) { // a code Intl does not know
      return value.toFixed(exponent) + ' ' + code;
    }
  }

  // Throws the API's error (code, message, line, available), else one without a message.
  async function api(url, init) {
    let res, data;
    try {
      res = await fetch(url, { credentials: 'same-origin', ...init, headers: { Accept: 'application/json', ...init?.headers } });
      data = await res.json();
    } catch (e) { /* thrown below */ }
    if (res?.ok && data && typeof data === 'object') return data;
    throw Object.assign(new Error(), data?.error);
  }

  function keyFor(btn, order) {
    const what = JSON.stringify(order), attempt = attempts.get(btn);
    if (attempt && attempt.order === what) return attempt.key;
    // randomUUID needs a secure context, and plain-http previews are not.
    const key = crypto.getRandomValues(new Uint32Array(4)).join('-');
    attempts.set(btn, { order: what, key });
    return key;
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const k in attrs) node.setAttribute(k, attrs[k]);
    if (text != null) node.textContent = text;
    return node;
  }

  // '' hides the message.
  function showError(btn, message) {
    let box = btn.nextElementSibling;
    if (!box || !box.classList.contains('stripe-checkout-error')) {
      if (!message) return;
      btn.after(box = el('div', { class: 'stripe-checkout-error', id: 'stripe-checkout-error-' + (++errors), role: 'alert' }));
      btn.setAttribute('aria-describedby', ((btn.getAttribute('aria-describedby') || '') + ' ' + box.id).trim());
    }
    box.textContent = message; // server text is never markup
    box.hidden = !message;
  }

  // Disabled while `text` shows; `held` keeps the label (icon too).
  function relabel(btn, text, held) {
    const label = btn.tagName === 'INPUT' ? 'value' : 'innerHTML';
    if (!held.has(btn)) held.set(btn, btn[label]);
    btn[label] = text || held.get(btn);
    if (!text) held.delete(btn);
    btn.disabled = !!text;
  }

  function setBusy(btn, text) {
    relabel(btn, text, labels);
    if (text) btn.setAttribute('aria-busy', 'true'); else btn.removeAttribute('aria-busy');
    btn.classList.toggle('is-busy', !!text);
  }

  // `leaving(session)` runs before the redirect. Resolves with any error.
  async function buy(btn, order, form, leaving) {
    if (labels.has(btn)) return; // a double click must not make two sessions
    const embedded = btn.dataset.uiMode === 'embedded';
    showError(btn, '');
    setBusy(btn, embedded ? 'Loading checkout\u2026' : 'Redirecting\u2026');
    try {
      if (embedded) {
        await embed(btn, form, order);
        attempts.delete(btn);
        setBusy(btn);
        return;
      }
      const data = await createSession(btn, order);
      // A javascript: URL from a broken backend must not run.
      const url = new URL(data.url);
      if (!/^https?:$/.test(url.protocol)) throw new Error();
      attempts.delete(btn); // back from Stripe, a click is a new purchase (a key replays for 24 h)
      if (leaving) leaving(data);
      location.assign(url.href); // busy until the page unloads
    } catch (err) {
      setBusy(btn);
      // "Failed to fetch" means nothing to a buyer.
      showError(btn, (!(err instanceof TypeError) && err.message) || GENERIC);
      // stock.js, if on the page, shows what is left.
      const line = err.code === 'out_of_stock' && (order.items ? order.items[err.line - 1] : order);
      if (line) document.dispatchEvent(new CustomEvent('static-checkout:out-of-stock', { detail: { priceId: line.priceId, available: err.available, button: btn } }));
      // Disabled, it lost the focus: back to it, to hear the message.
      btn.focus();
      return err;
    }
  }

  function createSession(btn, order) {
    const endpoint = btn.dataset.endpoint || script?.dataset.endpoint;
    return api(endpoint || '/api/create-checkout-session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': keyFor(btn, order) },
      body: JSON.stringify(order)
    });
  }

  function setting(btn, form, attr, name) {
    const field = form?.elements[name];
    return btn.getAttribute(attr) || form?.getAttribute(attr) ||
      (field?.value || '').trim();
  }

  const formOf = (btn) => btn.form || btn.closest('form');
  const priceOf = (btn) => setting(btn, formOf(btn), 'data-price-id', 'priceId') || (btn.name === 'priceId' ? btn.value : '');

  function checkout(btn) {
    const form = formOf(btn), priceId = priceOf(btn);
    // The native submit is cancelled: its checks (quantity 1-99) are not.
    if (form && !form.checkValidity()) return form.reportValidity();
    const quantity = parseInt(setting(btn, form, 'data-quantity', 'quantity'), 10);
    if (!priceId) return showError(btn, 'This button has no price configured.');
    buy(btn, { priceId, quantity: quantity > 0 ? quantity : 1 }, form);
  }

  // Stripe.js: only for embedded Checkout, once a buyer asks for it.
  function loadStripe() {
    stripeReady = stripeReady || api('/api/config').then((config) => new Promise((resolve, reject) => {
      const ready = () => resolve(window.Stripe(config.publishableKey));
      if (window.Stripe) return ready();
      document.head.append(Object.assign(el('script', { src: 'https://js.stripe.com/v3/' }), { onload: ready, onerror: reject }));
    }), () => { throw new Error(); }); // the generic message, not the operator's
    stripeReady.catch(() => { stripeReady = null; }); // the next click retries
    return stripeReady;
  }

  async function embed(btn, form, order) {
    order.uiMode = 'embedded';
    // Both at once; a refused purchase is the error shown.
    const loading = loadStripe();
    loading.catch(() => {});
    const data = await createSession(btn, order);
    const stripe = await loading;
    // Older Stripe.js builds only know the first name.
    const create = stripe.createEmbeddedCheckoutPage || stripe.initEmbeddedCheckout;
    const checkout = await create.call(stripe, { fetchClientSecret: async () => data.clientSecret });
    if (mounted) mounted.destroy(); // Stripe.js allows one per page
    mounted = checkout;
    let box = document.querySelector(btn.dataset.checkoutContainer || '#stripe-embedded-checkout');
    if (!box) {
      // Named, so the focus moving here is announced.
      box = el('div', { id: 'stripe-embedded-checkout', class: 'stripe-embedded-checkout', role: 'region', 'aria-label': 'Checkout' });
      (form || btn).after(box);
    }
    checkout.mount(box);
    // Keyboard and screen-reader users go where it is.
    if (!box.hasAttribute('tabindex')) box.setAttribute('tabindex', '-1');
    box.focus();
  }

  function buttons(root) {
    root ||= document;
    const selector = '[data-price-id], .stripe-checkout-btn';
    const found = [...root.querySelectorAll(selector)];
    if (root.matches?.(selector)) found.push(root);
    // A form with data-price-id: its submit buttons act for it.
    return found.flatMap((el) => el.tagName === 'FORM' ? [...el.querySelectorAll('button:not([type]), [type="submit"]')] : el);
  }

  function bind(root) {
    buttons(root).forEach((btn) => {
      if (bound.has(btn)) return;
      bound.add(btn);
      // Enter in the quantity field clicks the submit button too.
      btn.addEventListener('click', (e) => { e.preventDefault(); checkout(btn); });
    });
  }

  // Back from Stripe, the page cache may restore busy buttons.
  addEventListener('pageshow', (e) => {
    if (e.persisted) document.querySelectorAll('.is-busy').forEach((btn) => setBusy(btn));
  });

  const ready = (run) => document.readyState === 'loading' ? document.addEventListener('DOMContentLoaded', () => run()) : run();
  window.StaticCheckout = { bind, buy, showError, money, api, buttons, priceOf, formOf, el, relabel, ready };
  ready(bind);
})();
