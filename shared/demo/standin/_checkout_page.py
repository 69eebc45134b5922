"""The Checkout page the stand-in serves at a session's `url` (and, for embedded sessions, inside the
seller's page): the lines and the total, and the buyer's choices, each ending as Stripe's would.

    Pay                   complete and paid: `checkout.session.completed` (after, for a subscription,
                          `customer.subscription.created`, `invoice.paid`, `invoice_payment.paid`)
    Pay by bank transfer  complete and unpaid: `checkout.session.completed`, then after
                          `async_payment_delay` seconds `checkout.session.async_payment_succeeded`
                          (after a subscription's events, as Pay sends them)
    Decline               the card is declined: the session stays open, the page says so
    Cancel                back to `cancel_url`; nothing happens to the session

Completing redirects to `success_url` (or an embedded session's `return_url`) with the session id in it.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from ...money import format_amount
from ._checkout_fields import asks, totals_rows
from ._sale import BuyerError, Totals

if TYPE_CHECKING:
    from .server import StripeStandIn

JSON = dict[str, Any]
HOSTED = "/c/pay/"
EMBEDDED = "/c/embedded/"  # by client secret, as Stripe.js mounts it
DECLINED = ("Your card was declined. Nothing was charged: this is the stand-in's test decline. "
            "Try again, or pay another way.")
DEFAULT_EMAIL = "buyer@example.com"


def find(standin: StripeStandIn, path: str) -> JSON | None:
    """The session a page path names, or None."""
    if path.startswith(HOSTED):
        return standin.sessions.get(path[len(HOSTED):])
    secret = path[len(EMBEDDED):]
    return next((s for s in list(standin.sessions.values()) if secret and s["client_secret"] == secret), None)


def respond(standin: StripeStandIn, session: JSON, method: str, body: str) -> tuple[int, str, str | None]:
    """Status, page and redirect location for a GET or a POST (a button) on the session's page."""
    message = None
    form: dict[str, str] = {}
    if method == "POST":
        form = {k: v[-1] for k, v in parse_qs(body).items()}
        action = form.get("action", "pay")  # a bare POST pays, as the simplest client expects
        session_id = session["id"]
        if session["status"] == "open" and action == "decline":
            message = DECLINED
        elif session["status"] == "open" and action in ("pay", "bank_transfer"):
            paid = action == "pay"
            try:
                session = standin.complete_session(session_id, payment_status="paid" if paid else "unpaid",
                                                   email=form.get("email", "").strip() or DEFAULT_EMAIL,
                                                   **_choices(session, form))
            except BuyerError as exc:
                message = str(exc)
            else:
                standin.send_completed(session_id)
                if not paid:
                    standin.later(standin.async_payment_delay, lambda: standin.settle_async_payment(session_id))
        if session["status"] == "complete":
            done = session["success_url"] or session["return_url"]
            if done:
                return 303, "", done.replace("{CHECKOUT_SESSION_ID}", session_id)
    lines = standin.line_items.get(session["id"], [])
    preview: Totals | None = None
    if session["status"] == "open":
        try:
            preview = standin.preview(session["id"], **_choices(session, form))
        except BuyerError as exc:
            message = message or str(exc)
            preview = standin.preview(session["id"], **{**_choices(session, form), "promotion_code": None})
    names = {o["shipping_rate"]: standin.shipping_rates[o["shipping_rate"]]["display_name"]
             for o in session["shipping_options"]}
    return 200, render(session, lines, message=message, form=form, preview=preview, rate_names=names), None


def _choices(session: JSON, form: dict[str, str]) -> dict[str, Any]:
    """The buyer's entries on the page, as `Buyer` fields; a bare POST (no page) keeps every default."""
    if set(form) <= {"action", "email"}:
        return {}
    choices: dict[str, Any] = {
        "promotion_code": form.get("promotion_code") or None,
        "shipping_rate": form.get("shipping_rate") or None,
        "tax_id": form.get("tax_id") or None,
        "custom_fields": {c["key"]: form.get(f"custom_{c['key']}", "") for c in session["custom_fields"]},
        "accept_terms": form.get("accept_terms") == "yes",
        "promotions_opt_in": form.get("promotions") == "yes",
    }
    for name in ("name", "phone"):
        if form.get(name, "").strip():
            choices[name] = form[name].strip()
    address = {k: form[k].strip() for k in ("line1", "city", "postal_code", "country") if form.get(k, "").strip()}
    if address:
        choices["address"] = address
    return choices


def render(session: JSON, lines: list[JSON], *, message: str | None = None, form: dict[str, str] | None = None,
           preview: Totals | None = None, rate_names: dict[str, str] | None = None) -> str:
    def text(value: object) -> str:
        return html.escape(str(value))

    form = form or {}
    currency = session["currency"]

    def money(amount: int) -> str:
        return text(format_amount(amount, currency))

    rows = "".join(
        f"<tr><td>{text(line['description'])}</td><td class=num>{text(line['quantity'])}</td>"
        f"<td class=num>{money(line['amount_subtotal'] if preview else line['amount_total'])}</td></tr>"
        for line in lines
    )
    if preview is not None:
        totals = totals_rows(preview, money)
        total = format_amount(preview.total, currency)
    else:
        details = session.get("total_details") or {}
        totals = "".join(
            f'<tr><th colspan=2>{label}</th><td class=num id="standin-{key}">{money(details[field])}</td></tr>'
            for label, key, field in (("Discount", "discount", "amount_discount"),
                                      ("Shipping", "shipping", "amount_shipping"), ("Tax", "tax", "amount_tax"))
            if details.get(field))
        total = format_amount(session["amount_total"], currency)
    embedded = session["ui_mode"] != "hosted_page"
    # Embedded, the page is in a frame on the seller's page: completing leaves the frame, as Stripe.js
    # takes the whole window to return_url; a decline stays inside.
    leave = ' formtarget="_top"' if embedded else ""
    alert = f'<p id="standin-message" class="alert" role="alert">{text(message)}</p>' if message else ""
    cancel = session["cancel_url"]
    cancel_link = (
        f'<a id="standin-cancel" class="cancel" href="{text(cancel)}">Cancel</a>' if cancel else ""
    )
    email = form.get("email") or session["customer_email"] or DEFAULT_EMAIL
    if session["status"] == "open":
        actions = f"""<form method="post">
<label>Email <input type="email" name="email" value="{text(email)}" required></label>
{asks(session, form, preview, rate_names or {}, text, money)}
<div class="buttons">
<button id="standin-pay" type="submit" name="action" value="pay"{leave}>Pay {text(total)}</button>
<button id="standin-bank-transfer" type="submit" name="action" value="bank_transfer"{leave}>Pay by bank \
transfer</button>
<button id="standin-decline" type="submit" name="action" value="decline" class="secondary" \
formnovalidate>Decline</button>
{cancel_link}
</div>
</form>"""
    elif session["status"] == "expired":
        actions = "<p>This checkout has expired. Nothing was charged.</p>"
    else:
        actions = f"<p>This checkout is complete ({text(session['payment_status'])}).</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Stripe Checkout stand-in</title>
<style>{_STYLE}</style></head>
<body>
<p class="banner" id="standin-banner"><strong>Demo — no real payments.</strong> This page stands in for \
Stripe Checkout; no card is asked for or charged.</p>
<main>
<h1 id="standin-checkout">Checkout for {text(session["id"])}</h1>
<p id="standin-status" class="status">{text(session["status"])}</p>
<table><thead><tr><th>Item</th><th class=num>Qty</th><th class=num>Amount</th></tr></thead>
<tbody id="standin-lines">{rows}</tbody>
<tfoot>{totals}<tr><th colspan=2>Total</th><td class=num id="standin-amount">{text(total)}</td></tr></tfoot></table>
{alert}
{actions}
</main>
</body></html>
"""


_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1a1f36;background:#f6f9fc}
main{max-width:32rem;margin:1.5rem auto;padding:1.5rem;background:#fff;border-radius:8px;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1rem;font-weight:600;word-break:break-all}
.banner{margin:0;padding:.5rem 1rem;background:#fff3cd;color:#5c4400;text-align:center}
.status{color:#697386;font-size:.875rem}
table{width:100%;border-collapse:collapse;margin:1rem 0}
th,td{text-align:left;padding:.35rem 0;border-bottom:1px solid #e3e8ee}.num{text-align:right}
tfoot th,tfoot td{font-weight:700;border:0}
label{display:block;margin:1rem 0}input{display:block;width:100%;padding:.5rem;box-sizing:border-box}
.buttons{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
button{padding:.6rem 1rem;border:0;border-radius:6px;background:#635bff;color:#fff;font:inherit;cursor:pointer}
button.secondary{background:#e3e8ee;color:#1a1f36}
.alert{padding:.75rem;border-radius:6px;background:#fde8e8;color:#8a1c1c}
fieldset{border:1px solid #e3e8ee;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
label.choice{display:flex;gap:.5rem;align-items:center;margin:.5rem 0}label.choice input{width:auto}
select{display:block;width:100%;padding:.5rem}.note{color:#697386;font-size:.875rem}
.promo{display:flex;gap:.5rem;align-items:end}.promo label{flex:1;margin:0 0 1rem}.promo button{margin-bottom:1rem}
.cancel{margin-left:auto}
"""
