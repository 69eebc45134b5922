/* static-checkout cart: data-add-to-cart buttons, one Checkout for all (README.md "A cart");
   after stripe-checkout.js, which it checks out with. */
(function () {
  'use strict';
  const KEY = 'static-checkout-cart', MAX = 99, SC = window.StaticCheckout;
  let items = [], ui;

  function load() {
    try { items = JSON.parse(localStorage.getItem(KEY) || '{}').items.filter((i) => i.quantity > 0); }
    catch (e) { items = []; }
  }
  function save(extra) {
    try { localStorage.setItem(KEY, JSON.stringify({ items, ...extra })); } catch (e) { /* private mode */ }
  }
  const count = () => items.reduce((n, i) => n + i.quantity, 0);
  const many = (n) => n + (n === 1 ? ' item' : ' items');
  const money = (amount, i) => SC.money(amount, i.currency, i.exponent), el = SC.el;
  // No more than stock.js (if there) says is left.
  const most = (i) => Math.max(1, Math.min(MAX, window.StaticCheckoutStock?.limit(i.priceId) ?? MAX));

  function say(text) {
    ui.status.textContent = '';
    setTimeout(() => { ui.status.textContent = text; }, 50); // a new text, so screen readers speak it
  }

  function build() {
    const mount = document.querySelector('[data-cart]') || document.body.appendChild(el('div', { 'data-cart': '' }));
    mount.classList.add('cart');
    ui = {
      toggle: el('button', { type: 'button', class: 'cart-toggle', 'aria-expanded': 'false', 'aria-controls': 'cart-panel' }, 'Cart '),
      badge: el('span', { class: 'cart-count', 'aria-hidden': 'true' }),
      panel: el('section', { id: 'cart-panel', class: 'cart-panel', 'aria-labelledby': 'cart-title', hidden: '' }),
      title: el('h2', { id: 'cart-title', tabindex: '-1' }, 'Your cart'),
      list: el('ul', { class: 'cart-lines' }),
      total: el('p', { class: 'cart-subtotal' }),
      checkout: el('button', { type: 'button', class: 'button cart-checkout' }, 'Check out'),
      status: el('p', { class: 'visually-hidden', role: 'status' })
    };
    ui.toggle.append(ui.badge);
    ui.panel.append(ui.title, ui.list, ui.total, ui.checkout);
    mount.append(ui.toggle, ui.panel, ui.status);
    ui.toggle.onclick = () => open(ui.panel.hidden);
    ui.panel.onkeydown = (e) => { if (e.key === 'Escape') { open(false); ui.toggle.focus(); } };
    ui.checkout.onclick = checkout;
  }

  function open(show) {
    ui.panel.hidden = !show;
    ui.toggle.setAttribute('aria-expanded', show);
    if (show) ui.title.focus();
  }

  function render() {
    const n = count();
    let sum = 0;
    ui.badge.textContent = n;
    ui.toggle.setAttribute('aria-label', 'Cart, ' + many(n));
    ui.list.textContent = n ? '' : 'Your cart is empty.';
    items.forEach((i, at) => {
      const qty = el('input', { type: 'number', min: 1, max: most(i), value: i.quantity, 'aria-label': 'Quantity of ' + i.name });
      const less = el('button', { type: 'button', 'data-step': -1, 'aria-label': 'One less ' + i.name }, '\u2212');
      const more = el('button', { type: 'button', 'data-step': 1, 'aria-label': 'One more ' + i.name }, '+');
      const drop = el('button', { type: 'button', class: 'cart-remove', 'aria-label': 'Remove ' + i.name }, 'Remove');
      less.disabled = i.quantity < 2;
      more.disabled = i.quantity >= most(i);
      less.onclick = () => set(at, i.quantity - 1, -1);
      more.onclick = () => set(at, i.quantity + 1, 1);
      qty.onchange = () => set(at, +qty.value);
      drop.onclick = () => remove(at);
      sum += i.unitAmount * i.quantity;
      const line = el('li', { class: 'cart-line' });
      line.append(el('span', { class: 'cart-name' }, i.name), less, qty, more,
        el('span', { class: 'cart-amount' }, money(i.unitAmount * i.quantity, i)), drop);
      ui.list.append(line);
    });
    ui.total.textContent = n ? 'Subtotal ' + money(sum, items[0]) : '';
    ui.checkout.hidden = !n;
  }

  // Each change draws the list anew; the focus goes back where the buyer was.
  function changed(message, focus) {
    SC.showError(ui.checkout, ''); // it was about the cart as it was
    save();
    render();
    if (focus) focus();
    say(message + ' Cart: ' + many(count()) + '.');
  }

  function set(at, quantity, step) {
    const i = items[at];
    if (!(quantity >= 1 && quantity <= most(i) && quantity % 1 === 0)) return render();
    i.quantity = quantity;
    changed(i.name + ': ' + quantity + '.', () => {
      const line = ui.list.children[at], again = step && line.querySelector('[data-step="' + step + '"]');
      (again && !again.disabled ? again : line.querySelector('input')).focus();
    });
  }

  function remove(at) {
    const name = items.splice(at, 1)[0].name;
    changed('Removed ' + name + '.', () => {
      const next = ui.list.children[Math.min(at, items.length - 1)];
      (next ? next.querySelector('.cart-remove') : ui.title).focus();
    });
  }

  function add(b) {
    const form = b.form, field = form?.elements.quantity;
    if (field && !field.checkValidity()) return form.reportValidity();
    const quantity = +(field?.value || b.dataset.quantity || 1);
    const d = b.dataset, currency = (d.currency || 'usd').toUpperCase();
    let found = items.find((i) => i.priceId === d.addToCart);
    if (items.length && items[0].currency !== currency) {
      return say('Your cart is in ' + items[0].currency + ': check out or empty it to add ' + currency + '.');
    }
    if (!found && items.length >= 20) return say('A cart holds 20 different items at most.');
    if (!found) {
      items.push(found = { priceId: d.addToCart, name: d.name || d.addToCart, unitAmount: +d.unitAmount || 0,
        currency, exponent: +(d.currencyExponent || 2), quantity: 0 });
    }
    found.quantity = Math.min(most(found), found.quantity + quantity);
    changed('Added ' + quantity + ' \u00d7 ' + found.name + '.');
  }

  async function checkout() {
    const order = { items: items.map((i) => ({ priceId: i.priceId, quantity: i.quantity })) };
    // Emptied when this session's success page loads.
    const error = await SC.buy(ui.checkout, order, null, (session) => save({ pending: session.id }));
    const line = error?.line && ui.list.children[error.line - 1];
    if (line) line.querySelector('input').focus(); // the line the API refused
  }

  load();
  const paid = new URLSearchParams(location.search).get('session_id');
  try { if (paid && JSON.parse(localStorage.getItem(KEY)).pending === paid) { items = []; save(); } } catch (e) { /* none */ }
  const buttons = document.querySelectorAll('[data-add-to-cart]');
  if (!buttons.length && !document.querySelector('[data-cart]')) return;
  build();
  render();
  buttons.forEach((b) => {
    b.hidden = false;
    b.onclick = (e) => { e.preventDefault(); add(b); };
  });
  // Not under the buyer's focus, which a line drawn anew loses.
  document.addEventListener('static-checkout:stock', () => ui.list.contains(document.activeElement) || render());
  addEventListener('storage', (e) => { if (e.key === KEY) { load(); render(); } });
})();
