/*
 * static-checkout: the page Stripe sends the buyer back to (success_url ?session_id=…).
 * It shows what the server knows about the order, never what the URL claims:
 * anyone can type ?session_id= into the address bar.
 */
(function () {
  'use strict';

  const ENDPOINT = '/api/checkout-session';
  const POLL_EVERY_MS = 2000;
  const POLL_MAX = 5;

  const HEADINGS = {
    paid: 'Thank you!',
    processing: 'Payment processing',
    payment_failed: 'Payment failed',
    expired: 'Checkout expired',
    refunded: 'Order refunded',
    partially_refunded: 'Order partially refunded',
    disputed: 'Payment disputed',
    dispute_lost: 'Payment reversed'
  };
  const MESSAGES = {
    paid: 'Your payment went through.',
    processing: 'Your payment is being confirmed. This page checks again by itself.',
    payment_failed: 'The payment did not go through, so you have not been charged.',
    expired: 'This checkout expired before it was paid, so you have not been charged.'
  };

  const $ = function (id) { return document.getElementById(id); };
  let polls = 0;

  // Amounts come in the currency's minor unit, with the number of its decimals beside the currency
  // (currency_exponent): Stripe's minor units differ from ISO 4217 in places (ISK, HUF are sent with
  // two decimals), so Intl's digit count cannot scale them, and the server keeps Stripe's list.
  function money(amount, currency, exponent) {
    if (typeof amount !== 'number' || !currency || typeof exponent !== 'number') return '\u2014';
    const code = String(currency).toUpperCase();
    const value = amount / Math.pow(10, exponent);
    try {
      // The page's language, not the browser's, so the amount reads like the text around it.
      return new Intl.NumberFormat(document.documentElement.lang || undefined,
        { style: 'currency', currency: code }).format(value);
    } catch (e) { // an unknown currency code makes Intl throw
      return value.toFixed(exponent) + ' ' + code;
    }
  }

  function humanize(status) {
    const text = String(status || 'unknown').replace(/_/g, ' ');
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  // The order store (fed by webhooks) knows about refunds and failures the session does not;
  // the session knows about a payment before its webhook has arrived.
  function stateOf(s) {
    const order = s.order_status;
    if (order === 'paid') return 'paid';
    if (order && order !== 'awaiting_payment' && order !== 'open') return order;
    if (s.payment_status === 'paid') return 'paid';
    if (s.payment_status === 'no_payment_required' && s.status === 'complete') return 'paid';
    if (s.status === 'expired') return 'expired';
    return 'processing';
  }

  function finish() {
    $('order').setAttribute('aria-busy', 'false');
  }

  function showError(heading, message) {
    $('order-heading').textContent = heading;
    $('order-message').hidden = true;
    $('order-error').textContent = message;
    $('order-error').hidden = false;
    finish();
  }

  function cell(text, className) {
    const td = document.createElement('td');
    td.textContent = text; // server data: text only, never markup
    if (className) td.className = className;
    return td;
  }

  function render(s) {
    const state = stateOf(s);
    const raw = state === 'paid' && s.order_status !== 'paid' ? s.payment_status : (s.order_status || s.payment_status);
    $('order-heading').textContent = HEADINGS[state] || 'Order ' + humanize(state).toLowerCase();
    let message = MESSAGES[state] || 'Contact the seller if you have questions about this order.';
    if (state === 'paid' && s.mode === 'subscription') message = 'Your subscription is active.';
    $('order-message').textContent = message;
    $('order-message').hidden = false;
    $('order-error').hidden = true;

    const status = $('order-status');
    status.textContent = humanize(raw);
    status.setAttribute('data-status', String(raw || ''));
    status.setAttribute('data-state', state);
    status.setAttribute('data-fulfilled', s.fulfilled ? 'true' : 'false');
    $('order-email').textContent = s.customer_email || '\u2014';
    // What the buyer paid, in the currency they paid in (Adaptive Pricing), with the seller's price after it.
    const total = money(s.amount_total, s.currency, s.currency_exponent);
    $('order-total').textContent = typeof s.presentment_amount === 'number' && s.presentment_currency
      ? money(s.presentment_amount, s.presentment_currency, s.presentment_currency_exponent) + ' (' + total + ')'
      : total;

    const rows = document.createDocumentFragment();
    (Array.isArray(s.line_items) ? s.line_items : []).forEach(function (item) {
      const tr = document.createElement('tr');
      tr.appendChild(cell(item.description || 'Item'));
      tr.appendChild(cell(String(item.quantity == null ? 1 : item.quantity), 'num'));
      const priced = item.currency ? item : s; // a currency and its exponent go together
      // Each line at its price; discounts, shipping and tax follow as rows of their own.
      const amount = typeof item.amount_subtotal === 'number' ? item.amount_subtotal : item.amount_total;
      tr.appendChild(cell(money(amount, priced.currency, priced.currency_exponent), 'num'));
      rows.appendChild(tr);
    });
    $('order-items').textContent = '';
    $('order-items').appendChild(rows);
    renderBreakdown(s.breakdown || {}, s.shipping);
    $('order-details').hidden = false;
    // Subscribers manage their card, invoices and cancellation in Stripe's customer portal.
    if (s.mode === 'subscription' && s.status === 'complete') {
      $('manage-session-id').value = s.id;
      $('manage-subscription').hidden = false;
    }
    return state;
  }

  // Subtotal, discount (with the codes entered), shipping (with the rate's name) and tax, in the sale's
  // own currency; none of them when the total is simply the lines'.
  function renderBreakdown(b, shipping) {
    const some = function (n) { return typeof n === 'number' && n !== 0; };
    const show = function (name, visible, amount, label) {
      $('order-' + name + '-row').hidden = !visible;
      $('order-' + name).textContent = visible ? money(amount, b.currency, b.currency_exponent) : '';
      if (label) $('order-' + name + '-label').textContent = label;
    };
    const codes = Array.isArray(b.promotion_codes) ? b.promotion_codes : [];
    const rate = shipping && shipping.rate;
    show('subtotal', some(b.amount_discount) || some(b.amount_shipping) || some(b.amount_tax) || !!shipping,
      b.amount_subtotal);
    show('discount', some(b.amount_discount), -b.amount_discount,
      'Discount' + (codes.length ? ' (' + codes.join(', ') + ')' : ''));
    show('shipping', some(b.amount_shipping) || !!shipping, b.amount_shipping || 0,
      'Shipping' + (rate ? ' (' + rate + ')' : ''));
    show('tax', some(b.amount_tax), b.amount_tax, b.amount_tax_included === b.amount_tax ? 'Tax included' : 'Tax');

    const where = (shipping && shipping.address) || {};
    let country = where.country;
    try { // the country's name in the page's language ("IE" reads "Ireland")
      country = country && new Intl.DisplayNames([document.documentElement.lang || 'en'], { type: 'region' }).of(country);
    } catch (e) { /* an older browser, or a code Intl does not know: the code itself */ }
    const lines = [shipping && shipping.name, where.line1, where.line2,
      [where.postal_code, where.city, where.state].filter(Boolean).join(' '), country].filter(Boolean);
    const address = $('order-address');
    address.textContent = '';
    lines.forEach(function (line) {
      const span = document.createElement('span');
      span.textContent = line; // what the buyer typed: text only, never markup
      address.appendChild(span);
    });
    $('order-ship-to').hidden = lines.length === 0;
  }

  async function load(sessionId) {
    let res;
    let data = null;
    try {
      res = await fetch(ENDPOINT + '?session_id=' + encodeURIComponent(sessionId),
        { headers: { Accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' });
      data = await res.json();
    } catch (e) {
      data = null;
    }
    if (!res || !res.ok || !data || typeof data !== 'object') {
      // A failed re-check keeps the order already on screen; the buyer has seen real data.
      if (polls > 0 && !$('order-details').hidden) return schedule(sessionId);
      const message = data && data.error && data.error.message;
      showError('We could not load your order',
        message || 'Could not load your order right now. Please refresh this page in a moment.');
      return;
    }
    const state = render(data);
    if (state === 'processing' && !data.fulfilled) return schedule(sessionId);
    finish();
  }

  function schedule(sessionId) {
    if (polls >= POLL_MAX) {
      $('order-message').textContent = 'Your payment is still being confirmed. Some payment ' +
        'methods take longer; refresh this page later to see the latest status.';
      finish();
      return;
    }
    polls += 1;
    setTimeout(function () { load(sessionId); }, POLL_EVERY_MS);
  }

  function start() {
    const sessionId = (new URLSearchParams(window.location.search).get('session_id') || '').trim();
    if (!sessionId) {
      showError('No order to show',
        'This page shows an order after checkout, but the link you followed has no ' +
        'checkout session id (session_id) in it.');
      return;
    }
    $('order-heading').textContent = 'Checking your order\u2026';
    $('order-message').textContent = 'Looking up your payment with Stripe.';
    $('order-message').hidden = false;
    load(sessionId);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
