"""Money, dates, times and weekdays as the store's locale writes them (CLDR
through Babel), in the store's currency and time zone.

Amounts stay integer minor units until this edge: the currency's CLDR
precision says where the decimal point goes (JPY has none), so ``123456``
reads ``$1,234.56`` in New York, ``1.234,56 €`` in Berlin and ``¥1,234.56``
in Shanghai. Instants are shown on the store's wall clock, never in UTC.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import unicodedata
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from babel import Locale
from babel.dates import (
    format_date,
    format_skeleton,
    format_time,
    get_datetime_format,
    get_day_names,
)
from babel.numbers import format_currency, format_decimal, get_currency_precision

from pos_promo.i18n.catalog import parse_locale, translations
from pos_promo.model.base import TimeSlot
from pos_promo.model.cart import StoreContext

__all__ = ["Words", "display_width", "words_for"]


def display_width(text: str) -> int:
    """Columns ``text`` takes on a receipt printer: East Asian wide and
    full-width characters take two."""
    if text.isascii():
        return len(text)
    return sum(map(_char_width, text))


@functools.lru_cache(maxsize=4096)
def _char_width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


@functools.lru_cache(maxsize=4096)
def _money(minor: int, currency: str, locale: str) -> str:
    # amounts repeat on a receipt and from cart to cart (unit prices,
    # thresholds); CLDR formatting is the slow part of wording a sentence
    amount = Decimal(minor).scaleb(-get_currency_precision(currency))
    return format_currency(amount, currency, locale=locale)


@dataclass(frozen=True)
class Words:
    """Everything needed to word a sentence for one store: its locale's
    catalog and CLDR formats, its currency and its time zone."""

    locale: Locale
    currency: str
    zone: zoneinfo.ZoneInfo
    catalog: gettext.NullTranslations

    def _(self, message: str, /, **params: object) -> str:
        """The catalog's sentence for ``message``, its ``{fields}`` filled in."""
        return self.catalog.gettext(message).format(**params)

    def n_(self, singular: str, plural: str, n: int, /, **params: object) -> str:
        """Like :meth:`_`, in the plural form the locale uses for ``n``."""
        return self.catalog.ngettext(singular, plural, n).format(n=n, **params)

    def money(self, minor: int) -> str:
        """``minor`` units of the store's currency, as the locale writes money."""
        return _money(minor, self.currency, str(self.locale))

    def number(self, value: int) -> str:
        """A count in the locale's digits and grouping (CLDR through Babel)."""
        return format_decimal(value, locale=self.locale)

    def local(self, instant: dt.datetime) -> dt.datetime:
        """``instant`` on the store's wall clock (a naive one already is)."""
        return instant.astimezone(self.zone) if instant.tzinfo else instant

    def day(self, day: dt.date) -> str:
        """``Tue, Nov 24, 2026`` / ``Di., 24. Nov. 2026`` / ``2026年11月24日周二``."""
        return format_skeleton("yMMMEd", day, locale=self.locale)

    def date(self, day: dt.date) -> str:
        """``Nov 24, 2026`` without the weekday."""
        return format_date(day, "medium", locale=self.locale)

    def clock(self, moment: dt.datetime | dt.time) -> str:
        """A time of day as the locale reads it (``2:30 PM``, ``14:30``)."""
        return format_time(moment, "short", locale=self.locale)

    def when(self, instant: dt.datetime) -> str:
        """Date, weekday and time on the store's wall clock."""
        wall = self.local(instant)
        pattern = get_datetime_format("medium", locale=self.locale)
        return str(pattern).replace("{1}", self.day(wall)).replace("{0}", self.clock(wall))

    def weekday(self, iso: int) -> str:
        """The abbreviated name of ISO weekday ``iso`` (1 = Monday)."""
        return str(get_day_names("abbreviated", locale=self.locale)[iso - 1])

    def moment(self, wall: dt.datetime) -> str:
        """``Tue 2:30 PM``: a weekday and a time, what a time slot is about."""
        return self._(
            "{weekday} {time}", weekday=self.weekday(wall.isoweekday()), time=self.clock(wall)
        )

    def weekdays(self, days: Iterable[int]) -> str:
        """``Mon–Fri``, ``Sat, Sun``, ``Mon–Wed, Fri``: runs of three or more
        days read as a range."""
        ordered = sorted(set(days))
        runs: list[list[int]] = []
        for day in ordered:
            if runs and runs[-1][-1] == day - 1:
                runs[-1].append(day)
            else:
                runs.append([day])
        parts: list[str] = []
        for run in runs:
            if len(run) >= 3:
                parts.append(
                    self._("{first}–{last}", first=self.weekday(run[0]), last=self.weekday(run[-1]))
                )
            else:
                parts.extend(self.weekday(day) for day in run)
        return self._(", ").join(parts)

    def slot(self, slot: TimeSlot) -> str:
        """``Mon–Fri 11:00 AM–2:30 PM``; ``daily`` when every day."""
        start = self.clock(dt.time.fromisoformat(slot.start))
        end = self.clock(dt.time.fromisoformat(slot.end))
        hours = self._("{start}–{end}", start=start, end=end)
        if len(slot.weekdays) == 7:
            return self._("daily {hours}", hours=hours)
        return self._("{days} {hours}", days=self.weekdays(slot.weekdays), hours=hours)

    def slots(self, slots: Iterable[TimeSlot]) -> str:
        """Time slots joined the locale's way, for the 'only offered ...' sentence."""
        return self._("; ").join(self.slot(slot) for slot in slots)

    def quoted(self, name: str, ident: str, kind: str = "") -> str:
        """A campaign or coupon as a person knows it: its name, with the id
        beside it. A gift coupon's id is a UUID, so only its last six
        characters are shown, enough to tell two apart."""
        if kind == "coupon" and len(ident) >= 32:
            ident = "…" + ident[-6:]
        if not name or name == ident:
            return ident
        return self._("“{name}” ({id})", name=name, id=ident)


def words_for(store: StoreContext) -> Words:
    """The words of ``store``: its locale, currency and time zone."""
    return _words(store.locale, store.currency, store.timezone)


@functools.lru_cache(maxsize=64)
def _words(locale: str, currency: str, timezone: str) -> Words:
    return Words(parse_locale(locale), currency, zoneinfo.ZoneInfo(timezone), translations(locale))
