/*
 * static-checkout: turns buy buttons into Stripe Checkout redirects.
 *
 * Markup: <button class="stripe-checkout-btn" data-price-id="price_…">Buy</button>,
 * ideally inside <form method="post" action="/api/create-checkout-session"> so it
 * still works without JavaScript. Optional: data-quantity, data-endpoint (on the
 * button or on this script tag; the full URL of the create-session endpoint),
 * data-ui-mode="embedded" (Checkout inside the page; data-checkout-container names where).
 */
(function () {
  'use strict';

  const DEFAULT_ENDPOINT = '/api/create-checkout-session';
  const CONFIG_ENDPOINT = '/api/config';
  const STRIPE_JS = 'https://js.stripe.com/v3/';
  const GENERIC_ERROR = 'Could not start checkout. Please try again.';
  const REDIRECTING_LABEL = 'Redirecting\u2026'; // hosted Checkout: the page is about to leave for Stripe
  const LOADING_LABEL = 'Loading checkout\u2026'; // embedded: Stripe's form is coming into this page
  // currentScript is only set while this file first runs, so capture it now.
  const script = document.currentScript;
  const bound = new WeakSet();
  const labels = new WeakMap(); // button -> original label while busy; also the in-flight flag
  // button -> {order, key}: the idempotency key of the purchase attempt under way. A click after a
  // failure (a timeout, a 5xx, a 429) for the same order is a retry of that attempt and sends the same
  // key, so it gets the session Stripe may have made already; once a session is handed over (the
  // redirect, or the embedded form), the attempt is over and the next click is a new purchase with a
  // new key: Stripe replays a key's first answer for 24 hours, which would be the old session.
  const attempts = new WeakMap();
  let errorCount = 0;

  function idempotencyKey() {
    const c = window.crypto;
    if (c && typeof c.randomUUID === 'function') return c.randomUUID();
    // randomUUID needs a secure context; plain-http previews still deserve a random key.
    if (c && c.getRandomValues) {
      return Array.from(c.getRandomValues(new Uint8Array(16)), function (b) {
        return (b + 256).toString(16).slice(1);
      }).join('');
    }
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function keyFor(btn, order) {
    const what = JSON.stringify(order);
    const attempt = attempts.get(btn);
    if (attempt && attempt.order === what) return attempt.key;
    const key = idempotencyKey();
    attempts.set(btn, { order: what, key: key });
    return key;
  }

  function endpointFor(btn) {
    return btn.getAttribute('data-endpoint') ||
      (script && script.getAttribute('data-endpoint')) || DEFAULT_ENDPOINT;
  }

  // A setting comes from the button, else its form's data-* attribute, else the form field.
  function setting(btn, form, attr, name) {
    const el = form && form.elements.namedItem(name);
    return btn.getAttribute(attr) || (form && form.getAttribute(attr)) ||
      (el && typeof el.value === 'string' ? el.value.trim() : '');
  }

  function errorBox(btn) {
    const next = btn.nextElementSibling;
    if (next && next.classList.contains('stripe-checkout-error')) return next;
    const box = document.createElement('div');
    box.className = 'stripe-checkout-error';
    box.id = 'stripe-checkout-error-' + (++errorCount);
    box.setAttribute('role', 'alert');
    box.hidden = true;
    btn.insertAdjacentElement('afterend', box);
    const described = btn.getAttribute('aria-describedby');
    btn.setAttribute('aria-describedby', (described ? described + ' ' : '') + box.id);
    return box;
  }

  function showError(btn, message) {
    const box = errorBox(btn);
    box.textContent = message || GENERIC_ERROR; // textContent: server text is never markup
    box.hidden = false;
  }

  function setBusy(btn, busy, text) {
    const isInput = btn.tagName === 'INPUT';
    if (busy) {
      // Keep the original nodes, not text, so an icon inside the button survives.
      labels.set(btn, isInput ? btn.value : Array.from(btn.childNodes));
      if (isInput) btn.value = text; else btn.textContent = text;
      btn.setAttribute('aria-busy', 'true');
      btn.classList.add('is-busy');
    } else if (labels.has(btn)) {
      const label = labels.get(btn);
      if (isInput) btn.value = label;
      else { btn.textContent = ''; label.forEach(function (n) { btn.appendChild(n); }); }
      labels.delete(btn);
      btn.removeAttribute('aria-busy');
      btn.classList.remove('is-busy');
    }
    btn.disabled = busy;
  }

  async function checkout(btn) {
    if (labels.has(btn)) return; // in flight: a double click must not start a second session
    const form = btn.form || btn.closest('form');
    // We cancel the native submit, so run the form's own checks (e.g. quantity 1-99) ourselves.
    if (form && !form.checkValidity()) { form.reportValidity(); return; }
    const priceId = setting(btn, form, 'data-price-id', 'priceId') ||
      (btn.name === 'priceId' ? btn.value : '');
    const quantity = parseInt(setting(btn, form, 'data-quantity', 'quantity') || '1', 10);
    if (!priceId) { showError(btn, 'This button has no price configured.'); return; }

    const box = btn.nextElementSibling;
    if (box && box.classList.contains('stripe-checkout-error')) { box.hidden = true; box.textContent = ''; }
    const embedded = btn.getAttribute('data-ui-mode') === 'embedded';
    setBusy(btn, true, embedded ? LOADING_LABEL : REDIRECTING_LABEL);
    const order = { priceId: priceId, quantity: quantity > 0 ? quantity : 1 };
    try {
      if (embedded) {
        await embed(btn, form, order);
        attempts.delete(btn);
        setBusy(btn, false);
        return;
      }
      const data = await createSession(btn, order);
      // Only follow http(s) URLs: a javascript: URL from a broken backend must not run.
      const url = typeof data.url === 'string' ? new URL(data.url, location.href) : null;
      if (url && (url.protocol === 'https:' || url.protocol === 'http:')) {
        attempts.delete(btn); // coming back (Back button, bfcache) and buying again is a new purchase
        window.location.assign(url.href);
        return; // stay busy until the page unloads
      }
      throw new Error(GENERIC_ERROR);
    } catch (err) {
      // fetch() rejects with a TypeError whose text ("Failed to fetch") means nothing to a buyer.
      setBusy(btn, false);
      showError(btn, err instanceof TypeError ? GENERIC_ERROR : err.message);
      if (err.code === 'out_of_stock') {
        // What is left is in the answer: the stock script (stock.js), if on the page, shows it.
        document.dispatchEvent(new CustomEvent('static-checkout:out-of-stock', {
          detail: { priceId: priceId, available: err.available, button: btn }
        }));
      }
      // Disabling the button while busy dropped its focus on the page's body; give it back, so a
      // keyboard user is where they were, and hears the message the button is described by.
      btn.focus();
    }
  }

  async function createSession(btn, order) {
    const res = await fetch(endpointFor(btn), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json',
        'Idempotency-Key': keyFor(btn, order) },
      body: JSON.stringify(order)
    });
    let data = null;
    try { data = await res.json(); } catch (e) { /* a proxy error page is not JSON */ }
    if (!res.ok || !data) {
      const failure = new Error((data && data.error && data.error.message) || GENERIC_ERROR);
      if (data && data.error) { failure.code = data.error.code; failure.available = data.error.available; }
      throw failure;
    }
    return data;
  }

  // Embedded Checkout: Stripe's form inside this page, loaded only when a buyer asks for it.
  let stripeReady = null;
  let mounted = null;

  function loadStripe() {
    if (!stripeReady) {
      stripeReady = fetch(CONFIG_ENDPOINT, { credentials: 'same-origin' })
        .then(function (res) { return res.ok ? res.json() : Promise.reject(new Error(GENERIC_ERROR)); })
        .then(function (config) {
          return new Promise(function (resolve, reject) {
            const ready = function () { resolve(window.Stripe(config.publishableKey)); };
            if (window.Stripe) { ready(); return; }
            const tag = document.createElement('script');
            tag.src = STRIPE_JS;
            tag.onload = ready;
            tag.onerror = function () { reject(new Error(GENERIC_ERROR)); };
            document.head.appendChild(tag);
          });
        });
      stripeReady.catch(function () { stripeReady = null; }); // let the next click try again
    }
    return stripeReady;
  }

  async function embed(btn, form, order) {
    order.uiMode = 'embedded';
    // Both at once; but a refused purchase is the error to show, whatever else went wrong.
    const stripeLoading = loadStripe();
    stripeLoading.catch(function () { /* reported below, if the session was made */ });
    const data = await createSession(btn, order);
    const stripe = await stripeLoading;
    const options = { fetchClientSecret: function () { return Promise.resolve(data.clientSecret); } };
    // Stripe.js renamed the call with the embedded_page mode; older builds only know the first name.
    const create = stripe.createEmbeddedCheckoutPage || stripe.initEmbeddedCheckout;
    const checkout = await create.call(stripe, options);
    if (mounted) mounted.destroy(); // Stripe.js allows one embedded Checkout per page
    mounted = checkout;
    const box = containerFor(btn, form);
    checkout.mount(box);
    // The form appeared somewhere else on the page: take keyboard and screen-reader users there,
    // rather than leave them on a button that has done its work.
    if (!box.hasAttribute('tabindex')) box.setAttribute('tabindex', '-1');
    box.focus();
  }

  function containerFor(btn, form) {
    const named = btn.getAttribute('data-checkout-container');
    const existing = named ? document.querySelector(named) : document.getElementById('stripe-embedded-checkout');
    if (existing) return existing;
    const box = document.createElement('div');
    box.id = 'stripe-embedded-checkout';
    box.className = 'stripe-embedded-checkout';
    box.setAttribute('role', 'region'); // named, so focus moving here says what it is
    box.setAttribute('aria-label', 'Checkout');
    (form || btn).insertAdjacentElement('afterend', box);
    return box;
  }

  function bindButton(btn) {
    if (bound.has(btn)) return;
    bound.add(btn);
    // Implicit submission (Enter in the quantity field) also fires click on the submit button.
    btn.addEventListener('click', function (event) {
      event.preventDefault();
      checkout(btn);
    });
  }

  function bind(root) {
    root = root || document;
    const selector = '[data-price-id], .stripe-checkout-btn';
    const found = Array.from(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) found.unshift(root);
    found.forEach(function (el) {
      if (el.tagName === 'FORM') {
        // A form carrying data-price-id: its submit buttons act for it.
        el.querySelectorAll('button:not([type]), [type="submit"]').forEach(bindButton);
      } else {
        bindButton(el);
      }
    });
  }

  // Coming back from Stripe with the Back button restores this page from the
  // back/forward cache, buttons still saying "Redirecting…".
  window.addEventListener('pageshow', function (event) {
    if (!event.persisted) return;
    document.querySelectorAll('.is-busy').forEach(function (btn) { setBusy(btn, false); });
  });

  window.StaticCheckout = { bind: bind };
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { bind(document); });
  } else {
    bind(document);
  }
})();
