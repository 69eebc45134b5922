"""The sales report as one self-contained HTML file, its charts drawn as inline SVG.

No charting library: three kinds of chart (bars over time, a line over time, horizontal bars) are a
hundred lines of SVG, which need nothing installed, load nothing, work offline and print as sharply
as the text. The page's own Content-Security-Policy forbids every request (scripts, fonts, images,
connections), so a copy mailed to an accountant cannot call anywhere when it is opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from ..money import format_amount
from .report_text import day, percent, product_tables

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 720, 220, 64, 28, 12
INK, PALE, ACCENT = "#1d3557", "#a8c5e2", "#2a9d8f"

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #111; margin: 2rem auto;
       max-width: 60rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.scope { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: .6rem 0 1rem; }
th, td { padding: .25rem .7rem; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { margin: .6rem 0 1.4rem; break-inside: avoid; }
figcaption { font-weight: 600; margin-bottom: .3rem; }
svg { width: 100%; height: auto; max-width: 720px; display: block; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
dl { font-size: .9rem; color: #333; } dt { font-weight: 600; margin-top: .5rem; } dd { margin-left: 1rem; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  section { break-inside: avoid-page; }
}
"""

# Nothing may load: not a script, a font, an image or a connection. Styles are inline.
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def render(report: dict[str, Any]) -> str:
    scope = f", {escape(report['currency'].upper())} only" if report["currency"] else ""
    body = [f"<h1>Sales report</h1><p class=\"scope\">Orders created {day(report['since'])} to "
            f"{day(report['until'])} (UTC), by {escape(report['bucket'])}{scope}.</p>",
            _revenue(report), _conversion(report), _subscriptions(report), _definitions(report)]
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Sales report {day(report['since'])} to {day(report['until'])}</title>"
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


# --- sections ---


def _revenue(report: dict[str, Any]) -> str:
    out = ["<section id=\"revenue\"><h2>Revenue</h2>"]
    rows = [[c.upper(), r["orders"], r["no_charge_orders"], *(format_amount(r[k], c) for k in
                                                              ("gross", "refunded", "disputed", "net")),
             format_amount(r["average_order_value"], c)] for c, r in report["orders"].items()]
    if not rows:
        return out[0] + "<p>No paid orders in this window.</p></section>"
    out.append(_table(["currency", "orders", "no-charge", "gross", "refunded", "disputed", "net", "average"], rows))
    for currency, r in report["orders"].items():
        bars = [(day(p["start"]), p["gross"], p["net"]) for p in r["series"]]
        out.append(_figure(f"Revenue by {report['bucket']}, {currency.upper()}: gross (pale) and net (dark)",
                           bar_chart(bars, currency, title=f"Revenue by {report['bucket']} in {currency.upper()}"),
                           "revenue-chart"))
        for key, title in product_tables(r):
            products = [[p["product"], format_amount(p["revenue"], currency), p["units"]] for p in r[key]]
            if products:
                out.append(f"<h3>Top products {title}, {escape(currency.upper())}</h3>"
                           + _table(["product", "revenue", "units"], products))
    return "\n".join(out) + "</section>"


def _conversion(report: dict[str, Any]) -> str:
    rows = report["conversion"]
    if not rows:
        return ("<section id=\"conversion\"><h2>Conversion</h2><p>No Checkout session ended in this window.</p>"
                "</section>")
    bars = [(r["product"], r["rate"] or 0.0, f"{percent(r['rate'])} of {r['ended']}") for r in rows]
    abandoned = report["abandoned"]
    value = ", ".join(format_amount(v, k) for k, v in abandoned["value"].items()) or "nothing"
    table = _table(["product", "paid", "expired", "failed", "rate", "abandoned value"],
                   [[r["product"], r["paid"], r["expired"], r["failed"], percent(r["rate"]),
                     ", ".join(format_amount(v, k) for k, v in r["abandoned_value"].items()) or "-"] for r in rows])
    return ("<section id=\"conversion\"><h2>Conversion per product</h2>"
            + _figure("Sessions paid of those that ended", rate_chart(bars, title="Conversion per product"),
                      "conversion-chart")
            + table + f"<p>Abandoned: {abandoned['sessions']} session(s) expired unpaid, worth {escape(value)}.</p>"
            "</section>")


def _subscriptions(report: dict[str, Any]) -> str:
    subs = report["subscriptions"]
    out = ["<section id=\"subscriptions\"><h2>Subscriptions</h2>"]
    counts, past_due = subs["counts"], subs["past_due"]
    due = ", ".join(format_amount(v, k) for k, v in past_due["amount_due"].items())
    out.append(_table(["", "now"], [
        *[[f"MRR {c.upper()}", format_amount(v, c)] for c, v in subs["mrr"].items()],
        ["active", counts.get("active", 0)], ["trialing", subs["trialing"]],
        ["past due", f"{past_due['subscriptions']}{f' (owing {due})' if due else ''}"],
        ["canceled", counts.get("canceled", 0)], ["churn, last 30 days", percent(subs["churn_rate_30d"])]]))
    for currency, series in subs["mrr_series"].items():
        points = [(day(p["at"]), p["mrr"]) for p in series]
        out.append(_figure(f"MRR by {report['bucket']}, {currency.upper()}",
                           line_chart(points, currency, title=f"MRR in {currency.upper()}"), "mrr-chart"))
    months = [[m["month"], m["new"], m["canceled"], m["active_at_start"], percent(m["churn_rate"])]
              for m in subs["months"]]
    if months:
        out.append(_table(["month", "new", "canceled", "live at start", "churn"], months))
    return "\n".join(out) + "</section>"


def _definitions(report: dict[str, Any]) -> str:
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in report["definitions"].items())
    return f"<section id=\"definitions\"><h2>Definitions</h2><dl>{items}</dl></section>"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th scope=\"col\">{escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(caption: str, svg: str, name: str) -> str:
    return f"<figure class=\"{name}\"><figcaption>{escape(caption)}</figcaption>{svg}</figure>"


# --- charts ---


def _svg(title: str, content: str, height: int = HEIGHT) -> str:
    return (f"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" "
            f"aria-label=\"{escape(title)}\"><title>{escape(title)}</title>{content}</svg>")


def _axis(top: float, currency: str, plot_height: int) -> str:
    """The value axis: zero and the largest value, with a grid line at each."""
    label = format_amount(round(top), currency) if currency else f"{top:g}"
    return (f"<line x1=\"{PAD_LEFT}\" y1=\"{PAD_TOP}\" x2=\"{WIDTH}\" y2=\"{PAD_TOP}\" stroke=\"#ddd\"/>"
            f"<line x1=\"{PAD_LEFT}\" y1=\"{PAD_TOP + plot_height}\" x2=\"{WIDTH}\" y2=\"{PAD_TOP + plot_height}\" "
            f"stroke=\"#999\"/>"
            f"<text x=\"{PAD_LEFT - 6}\" y=\"{PAD_TOP + 4}\" text-anchor=\"end\">{escape(label)}</text>"
            f"<text x=\"{PAD_LEFT - 6}\" y=\"{PAD_TOP + plot_height + 4}\" text-anchor=\"end\">0</text>")


def _x_labels(labels: list[str], xs: list[float]) -> str:
    """About six dates along the bottom, always the first and the last."""
    if not labels:
        return ""
    step = max(1, -(-len(labels) // 6))
    picks = sorted(set(range(0, len(labels), step)) | {len(labels) - 1})
    return "".join(f"<text x=\"{xs[i]:.1f}\" y=\"{HEIGHT - 8}\" text-anchor=\"middle\">{escape(labels[i][5:])}</text>"
                   for i in picks)


def bar_chart(bars: list[tuple[str, int, int]], currency: str, *, title: str) -> str:
    """(label, gross, net) per period: a pale gross bar with the net bar over it."""
    plot_h, plot_w = HEIGHT - PAD_TOP - PAD_BOTTOM, WIDTH - PAD_LEFT
    top = max([g for _, g, _ in bars] + [1])
    slot = plot_w / max(len(bars), 1)
    width = max(slot * 0.8, 1.0)
    shapes, xs = [], []
    for i, (label, gross, net) in enumerate(bars):
        x = PAD_LEFT + i * slot + (slot - width) / 2
        xs.append(x + width / 2)
        for value, colour in ((gross, PALE), (max(net, 0), INK)):
            h = value / top * plot_h
            if h > 0:
                shapes.append(f"<rect class=\"bar\" x=\"{x:.1f}\" y=\"{PAD_TOP + plot_h - h:.1f}\" "
                              f"width=\"{width:.1f}\" height=\"{h:.1f}\" fill=\"{colour}\"><title>{escape(label)}: "
                              f"{escape(format_amount(value, currency))}</title></rect>")
    return _svg(title, _axis(top, currency, plot_h) + "".join(shapes) + _x_labels([b[0] for b in bars], xs))


def line_chart(points: list[tuple[str, int]], currency: str, *, title: str) -> str:
    """(label, value) over time: a line with the area under it."""
    plot_h, plot_w = HEIGHT - PAD_TOP - PAD_BOTTOM, WIDTH - PAD_LEFT
    top = max([v for _, v in points] + [1])
    step = plot_w / max(len(points) - 1, 1)
    xs = [PAD_LEFT + i * step for i in range(len(points))]
    ys = [PAD_TOP + plot_h - v / top * plot_h for _, v in points]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    base = PAD_TOP + plot_h
    area = f"{xs[0]:.1f},{base} {path} {xs[-1]:.1f},{base}" if points else ""
    dots = "".join(f"<circle cx=\"{x:.1f}\" cy=\"{y:.1f}\" r=\"2\" fill=\"{ACCENT}\"><title>{escape(label)}: "
                   f"{escape(format_amount(v, currency))}</title></circle>"
                   for x, y, (label, v) in zip(xs, ys, points, strict=True))
    shapes = (f"<polygon points=\"{area}\" fill=\"{ACCENT}\" fill-opacity=\"0.15\"/>"
              f"<polyline class=\"line\" points=\"{path}\" fill=\"none\" stroke=\"{ACCENT}\" "
              f"stroke-width=\"2\"/>{dots}")
    return _svg(title, _axis(top, currency, plot_h) + shapes + _x_labels([p[0] for p in points], xs))


def rate_chart(rows: list[tuple[str, float, str]], *, title: str) -> str:
    """(label, rate from 0 to 1, caption) as horizontal bars, one row each."""
    row_h, label_w = 24, 200
    height = PAD_TOP + row_h * max(len(rows), 1) + 8
    plot_w = WIDTH - label_w - 110
    shapes = []
    for i, (label, rate, caption) in enumerate(rows):
        y = PAD_TOP + i * row_h
        name = label if len(label) <= 30 else label[:29] + "…"
        shapes.append(f"<text x=\"{label_w - 8}\" y=\"{y + 15}\" text-anchor=\"end\">{escape(name)}</text>"
                      f"<rect x=\"{label_w}\" y=\"{y + 3}\" width=\"{plot_w}\" height=\"{row_h - 8}\" fill=\"#eee\"/>"
                      f"<rect class=\"bar\" x=\"{label_w}\" y=\"{y + 3}\" width=\"{max(rate, 0.0) * plot_w:.1f}\" "
                      f"height=\"{row_h - 8}\" fill=\"{INK}\"><title>{escape(label)}: {escape(caption)}</title></rect>"
                      f"<text x=\"{label_w + plot_w + 8}\" y=\"{y + 15}\">{escape(caption)}</text>")
    return _svg(title, "".join(shapes), height)
