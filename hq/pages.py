"""The performance pages: JSON under ``/v1/reports/…``, HTML under ``/admin/…``.

The figures come from :mod:`hq.reports` alone, so a page and its JSON twin
always agree with each other and with the database. HTML is rendered by
Jinja2 templates (autoescaped: ids and names are merchants' text) with
charts drawn by pygal as inline SVG, without its tooltip script (HQ's
pages load nothing from elsewhere). Each figure carries its exact integer
in ``data-value`` beside the text a person reads, which is how the browser
tests check a page against the database.

Routes (``<id>`` URL-quoted):

* ``/v1/reports/promotions``, ``/v1/reports/promotions/<id>``
* ``/v1/reports/gift-activities``, ``/v1/reports/gift-activities/<id>``
* ``/v1/reports/stores``, ``/v1/reports/stores/<id>``
* ``/admin/`` (all three lists), ``/admin/promotions/<id>``,
  ``/admin/gift-activities/<id>``, ``/admin/stores/<id>``
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import jinja2
import pygal
from pos_promo_hq import reports
from pos_promo_hq.db import Connection
from pygal.style import Style

__all__ = [
    "ADMIN_COOKIE",
    "PageNotFound",
    "login_page",
    "serve_page",
    "serve_report",
]

ADMIN_COOKIE = "pos_promo_hq_admin"
_TEMPLATES = Path(__file__).parent / "templates"
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_TEMPLATES),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)
_STYLE = Style(
    background="white",
    plot_background="white",
    colors=("#2b6cb0", "#c05621", "#2f855a", "#6b46c1"),
    font_family="sans-serif",
)


class PageNotFound(LookupError):
    """No page or report at that path (or no such promotion, activity or store)."""


def _money(value: int | None) -> str:
    """Minor units as a person reads them: 123456 -> 1,234.56."""
    if value is None:
        return "-"
    sign = "-" if value < 0 else ""
    whole, cents = divmod(abs(value), 100)
    return f"{sign}{whole:,}.{cents:02d}"


_ENV.filters["money"] = _money
_ENV.filters["q"] = lambda text: quote(str(text), safe="")


def _split(path: str, prefix: str) -> list[str]:
    rest = path[len(prefix) :].strip("/")
    return [unquote(part) for part in rest.split("/")] if rest else []


_LISTS: dict[str, Callable[[Connection], list[dict[str, Any]]]] = {
    "promotions": reports.promotions,
    "gift-activities": reports.gift_activities,
    "stores": reports.stores,
}
_ONES: dict[str, Callable[[Connection, str], dict[str, Any]]] = {
    "promotions": reports.promotion,
    "gift-activities": reports.gift_activity,
    "stores": reports.store,
}


def serve_report(conn: Connection, path: str, query: dict[str, list[str]]) -> bytes:
    """The JSON of ``/v1/reports/<kind>[/<id>]``."""
    parts = _split(path, "/v1/reports")
    try:
        if len(parts) == 1 and parts[0] in _LISTS:
            return json.dumps({parts[0]: _LISTS[parts[0]](conn)}, sort_keys=True).encode()
        if len(parts) == 2 and parts[0] in _ONES:
            return json.dumps(_ONES[parts[0]](conn, parts[1]), sort_keys=True).encode()
    except reports.ReportNotFound as exc:
        raise PageNotFound(str(exc)) from None
    raise PageNotFound(f"no report at {path}")


def serve_page(conn: Connection, path: str, query: dict[str, list[str]]) -> bytes:
    """The HTML of ``/admin/`` and ``/admin/<kind>/<id>``."""
    parts = _split(path, "/admin")
    try:
        if not parts:
            return _render(
                "index.html",
                title="Performance",
                promotions=reports.promotions(conn),
                activities=reports.gift_activities(conn),
                stores=reports.stores(conn),
            )
        if len(parts) == 2 and parts[0] == "promotions":
            found = reports.promotion(conn, parts[1])
            return _render(
                "promotion.html",
                title=f"Promotion {found['name']}",
                p=found,
                discount_chart=_bars(
                    "Discount by day",
                    [d["day"] for d in found["by_day"]],
                    {
                        "Given": [d["given"] / 100 for d in found["by_day"]],
                        "Refunded": [d["refunded"] / 100 for d in found["by_day"]],
                        "Net": [d["net"] / 100 for d in found["by_day"]],
                    },
                ),
                orders_chart=_bars(
                    "Orders by store",
                    [s["store_id"] for s in found["by_store"]],
                    {"Orders": [s["orders"] for s in found["by_store"]]},
                ),
            )
        if len(parts) == 2 and parts[0] == "gift-activities":
            found = reports.gift_activity(conn, parts[1])
            return _render(
                "gift_activity.html",
                title=f"Gift activity {found['name']}",
                a=found,
                chart=_bars(
                    "Orders, members and grants by day",
                    [d["day"] for d in found["by_day"]],
                    {
                        "Orders": [d["orders"] for d in found["by_day"]],
                        "Members": [d["members"] for d in found["by_day"]],
                        "Grants": [d["grants"] for d in found["by_day"]],
                    },
                ),
            )
        if len(parts) == 2 and parts[0] == "stores":
            found = reports.store(conn, parts[1])
            return _render(
                "store.html",
                title=f"Store {found['store_id']}",
                s=found,
                chart=_bars(
                    "Discount given by promotion",
                    [c["code"] for c in found["by_campaign"]],
                    {"Net discount": [c["net"] / 100 for c in found["by_campaign"]]},
                ),
            )
    except reports.ReportNotFound as exc:
        raise PageNotFound(str(exc)) from None
    raise PageNotFound(f"no page at {path}")


def login_page(message: str) -> bytes:
    """The form that keeps the admin token in a cookie for the pages."""
    return _render("login.html", title="Sign in", message=message)


def _render(template: str, **context: Any) -> bytes:
    return _ENV.get_template(template).render(**context).encode()


def _bars(title: str, labels: Sequence[str], series: dict[str, list[float]]) -> str:
    """A pygal bar chart as inline SVG markup (no script, no XML declaration)."""
    chart = pygal.Bar(
        title=title,
        style=_STYLE,
        js=(),
        width=720,
        height=300,
        legend_at_bottom=True,
        x_label_rotation=20 if len(labels) > 6 else 0,
        print_values=False,
        disable_xml_declaration=True,
    )
    chart.x_labels = list(labels)  # pygal escapes text itself
    for name, values in series.items():
        chart.add(name, values)
    svg = chart.render(is_unicode=True)
    return str(svg)
