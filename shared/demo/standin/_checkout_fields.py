"""The fields of the stand-in's Checkout page that the session asks for, and its totals' rows."""

from __future__ import annotations

from typing import Any

from ._sale import DEFAULT_ADDRESS, Totals

JSON = dict[str, Any]


def totals_rows(preview: Totals, money: Any) -> str:
    rows = [("Subtotal", "subtotal", preview.subtotal, True), ("Discount", "discount", -preview.discount,
                                                                bool(preview.discount)),
            ("Shipping", "shipping", preview.shipping, preview.rate is not None),
            ("Tax", "tax", preview.tax, bool(preview.tax))]
    return "".join(f'<tr><th colspan=2>{label}</th><td class=num id="standin-{key}">{money(amount)}</td></tr>'
                   for label, key, amount, shown in rows if shown)


def asks(session: JSON, form: dict[str, str], preview: Totals | None, rate_names: dict[str, str], text: Any,
          money: Any) -> str:
    """The fields the session asks for: shipping address and rate, phone, tax ID, custom fields, promotion
    code, consent. Prefilled where a quick test buyer would not care, as the email is."""
    parts = []
    collect = session.get("shipping_address_collection")
    if collect:
        countries = collect["allowed_countries"]
        chosen = form.get("country") or countries[0]
        options = "".join(f'<option{" selected" if c == chosen else ""}>{text(c)}</option>' for c in countries)
        value = {k: form.get(k) or v for k, v in (("name", "Demo Buyer"), ("line1", DEFAULT_ADDRESS["line1"]),
                                                  ("city", DEFAULT_ADDRESS["city"]),
                                                  ("postal_code", DEFAULT_ADDRESS["postal_code"]))}
        note = (session.get("custom_text") or {}).get("shipping_address")
        parts.append(f"""<fieldset id="standin-shipping-address"><legend>Shipping address</legend>
{f'<p class="note">{text(note["message"])}</p>' if note else ""}\
<label>Name <input name="name" value="{text(value['name'])}" required autocomplete="name"></label>
<label>Address <input name="line1" value="{text(value['line1'])}" required></label>
<label>City <input name="city" value="{text(value['city'])}" required></label>
<label>Postal code <input name="postal_code" value="{text(value['postal_code'])}" required></label>
<label>Country <select name="country" id="standin-country">{options}</select></label>
</fieldset>""")
    if session["shipping_options"]:
        chosen_rate = preview.rate["id"] if preview and preview.rate else ""
        rates = "".join(
            f'<label class="choice"><input type="radio" name="shipping_rate" value="{text(o["shipping_rate"])}"'
            f'{" checked" if o["shipping_rate"] == chosen_rate else ""}> '
            f'{text(rate_names.get(o["shipping_rate"], o["shipping_rate"]))} — {money(o["shipping_amount"])}</label>'
            for o in session["shipping_options"])
        parts.append(f'<fieldset id="standin-shipping-rates"><legend>Shipping</legend>{rates}</fieldset>')
    if (session.get("phone_number_collection") or {}).get("enabled"):
        phone = form.get("phone") or "+15555550100"
        parts.append(f'<label>Phone <input type="tel" name="phone" value="{text(phone)}" required></label>')
    if (session.get("tax_id_collection") or {}).get("enabled"):
        parts.append(f'<label>Tax ID (optional) <input name="tax_id" value="{text(form.get("tax_id", ""))}">'
                     "</label>")
    for custom in session["custom_fields"]:
        parts.append(_custom_field(custom, form, text))
    if session.get("allow_promotion_codes"):
        code = form.get("promotion_code", "")
        parts.append(f"""<div class="promo"><label>Promotion code <input name="promotion_code" \
id="standin-promotion-code" value="{text(code)}"></label>
<button type="submit" name="action" value="apply" class="secondary" id="standin-apply" formnovalidate>Apply</button>\
</div>""")
    consent = session.get("consent_collection") or {}
    if consent.get("terms_of_service") == "required":
        custom = (session.get("custom_text") or {}).get("terms_of_service_acceptance")
        words = custom["message"] if custom else "I agree to the terms of service."
        parts.append(f'<label class="choice"><input type="checkbox" name="accept_terms" value="yes" required '
                     f'id="standin-terms"> {text(words)}</label>')
    if consent.get("promotions") == "auto":
        parts.append('<label class="choice"><input type="checkbox" name="promotions" value="yes"> Send me news '
                     "and offers</label>")
    submit = (session.get("custom_text") or {}).get("submit")
    if submit:
        parts.append(f'<p class="note">{text(submit["message"])}</p>')
    return "\n".join(parts)


def _custom_field(custom: JSON, form: dict[str, str], text: Any) -> str:
    name = f"custom_{custom['key']}"
    label = text(custom["label"]["custom"]) + ("" if not custom["optional"] else " (optional)")
    required = "" if custom["optional"] else " required"
    if custom["type"] == "dropdown":
        chosen = form.get(name) or custom["dropdown"].get("default_value") or ""
        options = "".join(f'<option value="{text(o["value"])}"{" selected" if o["value"] == chosen else ""}>'
                          f'{text(o["label"])}</option>' for o in custom["dropdown"]["options"])
        return (f'<label>{label} <select name="{text(name)}"{required}><option value=""></option>{options}'
                "</select></label>")
    kind = ' inputmode="numeric" pattern="[0-9]*"' if custom["type"] == "numeric" else ""
    return f'<label>{label} <input name="{text(name)}" value="{text(form.get(name, ""))}"{kind}{required}></label>'
