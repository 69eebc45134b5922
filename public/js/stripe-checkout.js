/* static-checkout: buy buttons that open Stripe Checkout (README.md has the markup).
   cart.js and success.js use its window.StaticCheckout, so they come after it. */
(function () {
  'use strict';

  const GENERIC = 'Could not start checkout. Please try again.';
  const script = document.currentScript; // only set while this file first runs
  const bound = new WeakSet();
  const labels = new WeakMap(); // label while busy: also the in-flight flag
  // {order, key}: a retry of the same order after a failure keeps its key, so it gets any session Stripe
  // made. Once Checkout opens, the next click is a new purchase: Stripe replays a key for 24 hours.
  const attempts = new WeakMap();
  let errors = 0, stripeReady = null, mounted = null;

  // The exponent comes with the amount: Stripe's minor units are not ISO 4217's (ISK, HUF), so Intl cannot scale.
  function money(amount, currency, exponent) {
    if (typeof amount !== 'number' || !currency || typeof exponent !== 'number') return '\u2014';
    const code = String(currency).toUpperCase(), value = amount / Math.pow(10, exponent);
    try {
      return new Intl.NumberFormat(document.documentElement.lang || undefined,
        { style: 'currency', currency: code }).format(value);
    } catch (e) { // a code Intl does not know
      return value.toFixed(exponent) + ' ' + code;
    }
  }

  // Throws the API's error (code, message, line); no message if offline or not JSON.
  async function api(url, init) {
    let res, data;
    try {
      res = await fetch(url, Object.assign({ credentials: 'same-origin', headers: { Accept: 'application/json' } }, init));
      data = await res.json();
    } catch (e) { /* thrown below */ }
    if (res && res.ok && data && typeof data === 'object') return data;
    throw Object.assign(new Error(), data && data.error);
  }

  function keyFor(btn, order) {
    const what = JSON.stringify(order), attempt = attempts.get(btn);
    if (attempt && attempt.order === what) return attempt.key;
    // 128 random bits; not randomUUID, which needs a secure context (plain-http previews are not).
    const key = crypto.getRandomValues(new Uint32Array(4)).join('-');
    attempts.set(btn, { order: what, key: key });
    return key;
  }

  // '' hides the message.
  function showError(btn, message) {
    let box = btn.nextElementSibling;
    if (!box || !box.classList.contains('stripe-checkout-error')) {
      if (!message) return;
      box = document.createElement('div');
      box.className = 'stripe-checkout-error';
      box.id = 'stripe-checkout-error-' + (++errors);
      box.setAttribute('role', 'alert');
      btn.after(box);
      btn.setAttribute('aria-describedby', ((btn.getAttribute('aria-describedby') || '') + ' ' + box.id).trim());
    }
    box.textContent = message; // server text is never markup
    box.hidden = !message;
  }

  // Its nodes are kept, so an icon in the button survives.
  function setBusy(btn, text) {
    const input = btn.tagName === 'INPUT';
    if (text) {
      labels.set(btn, input ? btn.value : Array.from(btn.childNodes));
      if (input) btn.value = text; else btn.textContent = text;
      btn.setAttribute('aria-busy', 'true');
    } else if (labels.has(btn)) {
      if (input) btn.value = labels.get(btn); else btn.replaceChildren(...labels.get(btn));
      labels.delete(btn);
      btn.removeAttribute('aria-busy');
    }
    btn.classList.toggle('is-busy', !!text);
    btn.disabled = !!text;
  }

  // `leaving(session)` runs before the redirect. Resolves with the error, if any.
  async function buy(btn, order, form, leaving) {
    if (labels.has(btn)) return; // a double click must not make two sessions
    const embedded = btn.getAttribute('data-ui-mode') === 'embedded';
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
      attempts.delete(btn); // back from Stripe, a click is a new purchase
      if (leaving) leaving(data);
      location.assign(url.href); // busy until the page unloads
    } catch (err) {
      setBusy(btn);
      // "Failed to fetch" means nothing to a buyer.
      showError(btn, (!(err instanceof TypeError) && err.message) || GENERIC);
      // Disabling it lost the focus: back where the buyer was, who hears the message.
      btn.focus();
      return err;
    }
  }

  function createSession(btn, order) {
    const endpoint = btn.getAttribute('data-endpoint') || (script && script.getAttribute('data-endpoint'));
    return api(endpoint || '/api/create-checkout-session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Idempotency-Key': keyFor(btn, order) },
      body: JSON.stringify(order)
    });
  }

  function setting(btn, form, attr, name) {
    const field = form && form.elements.namedItem(name);
    return btn.getAttribute(attr) || (form && form.getAttribute(attr)) ||
      (field && typeof field.value === 'string' ? field.value.trim() : '');
  }

  function checkout(btn) {
    const form = btn.form || btn.closest('form');
    // The native submit is cancelled: run its checks (quantity 1-99).
    if (form && !form.checkValidity()) return form.reportValidity();
    const priceId = setting(btn, form, 'data-price-id', 'priceId') || (btn.name === 'priceId' ? btn.value : '');
    const quantity = parseInt(setting(btn, form, 'data-quantity', 'quantity'), 10);
    if (!priceId) return showError(btn, 'This button has no price configured.');
    buy(btn, { priceId: priceId, quantity: quantity > 0 ? quantity : 1 }, form);
  }

  // Stripe.js is only loaded for embedded Checkout, when a buyer asks for it.
  function loadStripe() {
    stripeReady = stripeReady || api('/api/config').then((config) => new Promise((resolve, reject) => {
      const ready = () => resolve(window.Stripe(config.publishableKey));
      if (window.Stripe) return ready();
      const tag = document.createElement('script');
      tag.src = 'https://js.stripe.com/v3/';
      tag.onload = ready;
      tag.onerror = reject;
      document.head.append(tag);
    }), () => { throw new Error(); }); // the generic message, not the operator's
    stripeReady.catch(() => { stripeReady = null; }); // the next click retries
    return stripeReady;
  }

  async function embed(btn, form, order) {
    order.uiMode = 'embedded';
    // Both at once; a refused purchase is the error to show.
    const loading = loadStripe();
    loading.catch(() => {});
    const data = await createSession(btn, order);
    const stripe = await loading;
    // Older Stripe.js builds only know the first name.
    const create = stripe.createEmbeddedCheckoutPage || stripe.initEmbeddedCheckout;
    const checkout = await create.call(stripe, { fetchClientSecret: async () => data.clientSecret });
    if (mounted) mounted.destroy(); // Stripe.js allows one per page
    mounted = checkout;
    const named = btn.getAttribute('data-checkout-container');
    let box = named ? document.querySelector(named) : document.getElementById('stripe-embedded-checkout');
    if (!box) {
      box = document.createElement('div');
      box.id = box.className = 'stripe-embedded-checkout';
      box.setAttribute('role', 'region'); // named, so the focus moving here is announced
      box.setAttribute('aria-label', 'Checkout');
      (form || btn).after(box);
    }
    checkout.mount(box);
    // It appeared elsewhere: take keyboard and screen-reader users there.
    if (!box.hasAttribute('tabindex')) box.setAttribute('tabindex', '-1');
    box.focus();
  }

  function bind(root) {
    root = root || document;
    const selector = '[data-price-id], .stripe-checkout-btn';
    const found = Array.from(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) found.push(root);
    found.forEach((el) => {
      // A form with data-price-id: its submit buttons act for it.
      const buttons = el.tagName === 'FORM' ? el.querySelectorAll('button:not([type]), [type="submit"]') : [el];
      buttons.forEach((btn) => {
        if (bound.has(btn)) return;
        bound.add(btn);
        // Enter in the quantity field clicks the submit button too.
        btn.addEventListener('click', (e) => { e.preventDefault(); checkout(btn); });
      });
    });
  }

  // Back from Stripe, the back/forward cache may restore busy buttons.
  addEventListener('pageshow', (e) => {
    if (e.persisted) document.querySelectorAll('.is-busy').forEach((btn) => setBusy(btn));
  });

  window.StaticCheckout = { bind: bind, buy: buy, showError: showError, money: money, api: api };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => bind());
  else bind();
})();
