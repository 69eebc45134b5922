/* static-checkout: the success page (?session_id=…), after stripe-checkout.js. It shows what the
   server knows, not what the URL claims: anyone can type a session_id. */
(function () {
  'use strict';

  const HEADINGS = {
    paid: 'Thank you!',
    processing: 'Payment processing',
    payment_failed: 'Payment failed',
    expired: 'Checkout expired',
    disputed: 'Payment disputed',
    dispute_lost: 'Payment reversed'
  };
  const MESSAGES = {
    paid: 'Your payment went through.',
    processing: 'Your payment is being confirmed. This page checks again by itself.',
    payment_failed: 'The payment did not go through, so you have not been charged.',
    expired: 'This checkout expired before it was paid, so you have not been charged.'
  };
  const POLLS = 5, EVERY_MS = 2000; // 1 + POLLS look-ups a visit: shared/settings.py counts on it
  const money = StaticCheckout.money;
  const $ = (id) => document.getElementById(id);
  const text = (id, value) => { $(id).textContent = value; }; // server data: text, never markup
  let polls = 0;

  const humanize = (status) => String(status || 'unknown').replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());

  // The order (webhooks) knows refunds and failures; the session, a payment before its webhook.
  function stateOf(s) {
    const order = s.order_status, paid = s.payment_status;
    if (order && order !== 'awaiting_payment' && order !== 'open') return order;
    if (paid === 'paid' || (paid === 'no_payment_required' && s.status === 'complete')) return 'paid';
    return s.status === 'expired' ? 'expired' : 'processing';
  }

  function say(heading, message, error) {
    text('order-heading', heading);
    text(error ? 'order-error' : 'order-message', message);
    $('order-message').hidden = !!error;
    $('order-error').hidden = !error;
  }

  function finish() { $('order').setAttribute('aria-busy', 'false'); }

  function render(s) {
    const state = stateOf(s);
    const raw = state === 'paid' && s.order_status !== 'paid' ? s.payment_status : (s.order_status || s.payment_status);
    say(HEADINGS[state] || 'Order ' + humanize(state).toLowerCase(),
      state === 'paid' && s.mode === 'subscription' ? 'Your subscription is active.'
        : MESSAGES[state] || 'Contact the seller if you have questions about this order.');
    const status = $('order-status');
    status.textContent = humanize(raw);
    status.dataset.status = raw || '';
    status.dataset.state = state;
    status.dataset.fulfilled = !!s.fulfilled;
    text('order-email', s.customer_email || '\u2014');
    // Adaptive Pricing: the buyer's currency, then the seller's.
    const total = money(s.amount_total, s.currency, s.currency_exponent);
    text('order-total', typeof s.presentment_amount === 'number' && s.presentment_currency
      ? money(s.presentment_amount, s.presentment_currency, s.presentment_currency_exponent) + ' (' + total + ')'
      : total);

    const rows = $('order-items');
    rows.textContent = '';
    (s.line_items || []).forEach((item) => {
      const priced = item.currency ? item : s; // a currency and its exponent go together
      // Before discount, shipping and tax: rows of their own.
      const amount = item.amount_subtotal ?? item.amount_total;
      const tr = rows.insertRow();
      [item.description || 'Item', String(item.quantity ?? 1),
        money(amount, priced.currency, priced.currency_exponent)].forEach((value, at) => {
        const td = tr.insertCell();
        td.textContent = value;
        if (at) td.className = 'num';
      });
    });
    breakdown(s.breakdown || {}, s.shipping);
    $('order-details').hidden = false;
    if (s.mode === 'subscription' && s.status === 'complete') {
      $('manage-session-id').value = s.id;
      $('manage-subscription').hidden = false;
    }
    return state;
  }

  // No rows when the total is the lines'.
  function breakdown(b, shipping) {
    const some = (n) => n > 0, also = (what) => what ? ' (' + what + ')' : '';
    const show = (name, visible, amount, label) => {
      $('order-' + name + '-row').hidden = !visible;
      text('order-' + name, visible ? money(amount, b.currency, b.currency_exponent) : '');
      if (label) text('order-' + name + '-label', label);
    };
    show('subtotal', some(b.amount_discount) || some(b.amount_shipping) || some(b.amount_tax) || !!shipping,
      b.amount_subtotal);
    show('discount', some(b.amount_discount), -b.amount_discount,
      'Discount' + also((b.promotion_codes || []).join(', ')));
    show('shipping', some(b.amount_shipping) || !!shipping, b.amount_shipping || 0,
      'Shipping' + also(shipping?.rate));
    show('tax', some(b.amount_tax), b.amount_tax, b.amount_tax_included === b.amount_tax ? 'Tax included' : 'Tax');

    const where = shipping?.address || {};
    let country = where.country;
    try { // "IE" reads "Ireland"
      country = country && new Intl.DisplayNames([document.documentElement.lang || 'en'], { type: 'region' }).of(country);
    } catch (e) { /* an unknown code, an old browser: the code */ }
    const lines = [shipping?.name, where.line1, where.line2,
      [where.postal_code, where.city, where.state].filter(Boolean).join(' '), country].filter(Boolean);
    const address = $('order-address');
    address.textContent = '';
    lines.forEach((line) => address.append(StaticCheckout.el('span', {}, line)));
    $('order-ship-to').hidden = !lines.length;
  }

  async function load(id) {
    let data;
    try {
      data = await StaticCheckout.api('/api/checkout-session?session_id=' + encodeURIComponent(id), { cache: 'no-store' });
    } catch (err) {
      // A failed re-check keeps the order the buyer has seen.
      if (polls && !$('order-details').hidden) return schedule(id);
      say('We could not load your order',
        err.message || 'Please refresh this page in a moment.', true);
      return finish();
    }
    if (render(data) === 'processing' && !data.fulfilled) return schedule(id);
    finish();
  }

  function schedule(id) {
    if (polls++ < POLLS) return setTimeout(() => load(id), EVERY_MS);
    text('order-message', 'Your payment is still being confirmed; some payment methods take longer. Refresh this page later.');
    finish();
  }

  function start() {
    const id = (new URLSearchParams(location.search).get('session_id') || '').trim();
    if (!id) {
      say('No order to show', 'The link you followed has no checkout session id (session_id).', true);
      return finish();
    }
    say('Checking your order\u2026', 'Looking up your payment with Stripe.');
    load(id);
  }

  StaticCheckout.ready(start);
})();
