/* static-checkout cart: data-add-to-cart buttons, one Checkout for all. README.md "A cart" has the markup. */
(function () {
  'use strict';
  var KEY = 'static-checkout-cart', MAX = 99;
  var script = document.currentScript;
  var items = [], ui;

  function load() {
    try { items = JSON.parse(localStorage.getItem(KEY) || '{}').items.filter(function (i) { return i.quantity > 0; }); }
    catch (e) { items = []; }
  }
  function save(extra) {
    try { localStorage.setItem(KEY, JSON.stringify(Object.assign({ items: items }, extra))); } catch (e) { /* private mode */ }
  }
  function count() { return items.reduce(function (n, i) { return n + i.quantity; }, 0); }
  function many(n) { return n + (n === 1 ? ' item' : ' items'); }

  // Minor units to what a buyer reads, in the price's currency; the page says how many decimals Stripe uses.
  function money(amount, i) {
    var value = amount / Math.pow(10, i.exponent);
    try {
      return new Intl.NumberFormat(document.documentElement.lang || undefined, { style: 'currency',
        currency: i.currency, minimumFractionDigits: i.exponent, maximumFractionDigits: i.exponent }).format(value);
    } catch (e) { return value.toFixed(i.exponent) + ' ' + i.currency; }
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    if (text != null) node.textContent = text;
    return node;
  }

  function say(text) {
    ui.status.textContent = '';
    setTimeout(function () { ui.status.textContent = text; }, 50); // a new text, so screen readers speak it
  }

  function build() {
    var mount = document.querySelector('[data-cart]') || document.body.appendChild(el('div', { 'data-cart': '' }));
    mount.classList.add('cart');
    ui = {
      toggle: el('button', { type: 'button', 'class': 'cart-toggle', 'aria-expanded': 'false', 'aria-controls': 'cart-panel' }, 'Cart '),
      badge: el('span', { 'class': 'cart-count', 'aria-hidden': 'true' }),
      panel: el('section', { id: 'cart-panel', 'class': 'cart-panel', 'aria-labelledby': 'cart-title', hidden: '' }),
      title: el('h2', { id: 'cart-title', tabindex: '-1' }, 'Your cart'),
      list: el('ul', { 'class': 'cart-lines' }),
      total: el('p', { 'class': 'cart-subtotal' }),
      error: el('p', { 'class': 'stripe-checkout-error', role: 'alert', hidden: '' }),
      checkout: el('button', { type: 'button', 'class': 'button cart-checkout' }, 'Check out'),
      status: el('p', { 'class': 'visually-hidden', role: 'status' })
    };
    ui.toggle.append(ui.badge);
    ui.panel.append(ui.title, ui.list, ui.total, ui.error, ui.checkout);
    mount.append(ui.toggle, ui.panel, ui.status);
    ui.toggle.onclick = function () { open(ui.panel.hidden); };
    ui.panel.onkeydown = function (e) { if (e.key === 'Escape') { open(false); ui.toggle.focus(); } };
    ui.checkout.onclick = checkout;
  }

  function open(show) {
    ui.panel.hidden = !show;
    ui.toggle.setAttribute('aria-expanded', show);
    if (show) ui.title.focus();
  }

  // At most what stock.js says is left (when the page has it), else 99.
  function most(i) {
    var left = window.StaticCheckoutStock && window.StaticCheckoutStock.limit(i.priceId);
    return left == null ? MAX : Math.max(1, Math.min(MAX, left));
  }

  function render() {
    var n = count(), sum = 0;
    ui.badge.textContent = n;
    ui.toggle.setAttribute('aria-label', 'Cart, ' + many(n));
    ui.list.textContent = n ? '' : 'Your cart is empty.';
    items.forEach(function (i, at) {
      var qty = el('input', { type: 'number', min: 1, max: most(i), value: i.quantity, 'aria-label': 'Quantity of ' + i.name });
      var less = el('button', { type: 'button', 'data-step': -1, 'aria-label': 'One less ' + i.name }, '\u2212');
      var more = el('button', { type: 'button', 'data-step': 1, 'aria-label': 'One more ' + i.name }, '+');
      var drop = el('button', { type: 'button', 'class': 'cart-remove', 'aria-label': 'Remove ' + i.name }, 'Remove');
      less.disabled = i.quantity < 2;
      more.disabled = i.quantity >= most(i);
      less.onclick = more.onclick = function () { set(at, i.quantity + +this.dataset.step, this.dataset.step); };
      qty.onchange = function () { set(at, +qty.value); };
      drop.onclick = function () { remove(at); };
      sum += i.unitAmount * i.quantity;
      var line = el('li', { 'class': 'cart-line' });
      line.append(el('span', { 'class': 'cart-name' }, i.name), less, qty, more,
        el('span', { 'class': 'cart-amount' }, money(i.unitAmount * i.quantity, i)), drop);
      ui.list.append(line);
    });
    ui.total.textContent = n ? 'Subtotal ' + money(sum, items[0]) : '';
    ui.checkout.hidden = !n;
  }

  // Each change draws the list anew, then puts the focus back where the buyer was.
  function changed(message, focus) {
    ui.error.hidden = true;
    save();
    render();
    if (focus) focus();
    say(message + ' Cart: ' + many(count()) + '.');
  }

  function set(at, quantity, step) {
    var i = items[at];
    if (!(quantity >= 1 && quantity <= most(i) && quantity % 1 === 0)) return render();
    i.quantity = quantity;
    changed(i.name + ': ' + quantity + '.', function () {
      var line = ui.list.children[at], again = step && line.querySelector('[data-step="' + step + '"]');
      (again && !again.disabled ? again : line.querySelector('input')).focus();
    });
  }

  function remove(at) {
    var name = items.splice(at, 1)[0].name;
    changed('Removed ' + name + '.', function () {
      var next = ui.list.children[Math.min(at, items.length - 1)];
      (next ? next.querySelector('.cart-remove') : ui.title).focus();
    });
  }

  function add(b) {
    var form = b.form, field = form && form.elements.namedItem('quantity');
    if (field && !field.checkValidity()) return form.reportValidity();
    var quantity = +((field && field.value) || b.dataset.quantity || 1);
    var d = b.dataset, id = d.addToCart, found = items.filter(function (i) { return i.priceId === id; })[0];
    var currency = (d.currency || 'usd').toUpperCase();
    if (items.length && items[0].currency !== currency) {
      return say('Your cart is in ' + items[0].currency + ': check it out or empty it before adding ' + currency + '.');
    }
    if (!found && items.length >= 20) return say('A cart holds 20 different items at most.');
    if (!found) {
      items.push(found = { priceId: id, name: d.name || id, unitAmount: +d.unitAmount || 0, currency: currency,
        exponent: +(d.currencyExponent || 2), quantity: 0 });
    }
    found.quantity = Math.min(most(found), found.quantity + quantity);
    changed('Added ' + quantity + ' \u00d7 ' + found.name + '.');
  }

  async function checkout() {
    var busy = ui.checkout, answer = null;
    busy.disabled = true;
    try {
      var res = await fetch((script && script.dataset.endpoint) || '/api/create-checkout-session', {
        method: 'POST', credentials: 'same-origin',
        // A new key per attempt; the server mixes it with the whole cart.
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': Date.now() + '-' + Math.random() },
        body: JSON.stringify({ items: items.map(function (i) { return { priceId: i.priceId, quantity: i.quantity }; }) })
      });
      answer = await res.json();
      var url = res.ok && answer.url && new URL(answer.url, location.href);
      if (url && /^https?:$/.test(url.protocol)) {
        save({ pending: answer.id }); // emptied when this session's success page loads
        return location.assign(url.href);
      }
    } catch (e) { /* said below */ }
    var error = (answer && answer.error) || {}, line = error.line && ui.list.children[error.line - 1];
    ui.error.textContent = error.message || 'Could not start checkout. Please try again.';
    ui.error.hidden = busy.disabled = false;
    (line ? line.querySelector('input') : busy).focus();
  }

  document.addEventListener('static-checkout:stock', function () {
    if (ui && !ui.list.contains(document.activeElement)) render(); // not under the buyer's cursor
  });
  load();
  var paid = new URLSearchParams(location.search).get('session_id');
  try { if (paid && JSON.parse(localStorage.getItem(KEY)).pending === paid) { items = []; save(); } } catch (e) { /* none */ }
  var buttons = document.querySelectorAll('[data-add-to-cart]');
  if (!buttons.length && !document.querySelector('[data-cart]')) return;
  build();
  render();
  buttons.forEach(function (b) {
    b.hidden = false;
    b.onclick = function (e) { e.preventDefault(); add(b); };
  });
  addEventListener('storage', function (e) { if (e.key === KEY) { load(); render(); } });
  addEventListener('pageshow', function () { ui.checkout.disabled = false; }); // back from Checkout
})();
