"""Turning JSON into checked wire types, with errors that keep their path.

msgspec checks shapes and constraints; the checks no type can express (tiers
that rise, a side whose main exists, a time zone that exists) run right
after, so a document is either wholly valid or refused with one message of
the form ``$.lines[2].quantity: expected int >= 1, got 0``. Decoders are
built once per type, the first time one decodes: building one costs far more
than using it, and resolving the model's annotations for the first one
(campaigns: ~5 ms) belongs to the till that opens, not to every import.
"""

from __future__ import annotations

import datetime as dt
import itertools
import operator
import re
import zoneinfo
from collections.abc import Iterable
from typing import Any, TypeVar

import msgspec

from pos_promo.decoders import LazyDecoder
from pos_promo.errors import InvalidCampaign, InvalidCart, InvalidCoupon, InvalidInput, InvalidStore
from pos_promo.gift_codec import check_gift, check_window
from pos_promo.limits import (
    MAX_CART_UNITS,
    MAX_DOCUMENT_BYTES,
    MAX_JSON_DEPTH,
    MAX_ORDER_AMOUNT,
    MAX_YEAR,
    MIN_YEAR,
)
from pos_promo.model.campaign import Campaign, ItemsFree, ItemsSave, SpendAndSave, SpendSave
from pos_promo.model.cart import Cart, Line, MemberCounts, StoreContext
from pos_promo.model.catalog import Catalog
from pos_promo.model.common import ItemScope
from pos_promo.model.coupon import Coupon, FixedValidity
from pos_promo.model.gift import CumulativeGift

__all__ = [
    "campaign_from_obj",
    "cart_from_obj",
    "check_campaign",
    "check_cart",
    "check_catalog",
    "check_coupons",
    "check_instant",
    "check_size",
    "check_store",
    "check_unique_ids",
    "convert",
    "decode_campaigns",
    "decode_cart",
    "decode_catalog",
    "decode_coupons",
    "decode_member_counts",
    "decode_store",
    "load_zone",
    "nesting",
    "too_deep",
    "validation_error",
]

T = TypeVar("T")
ErrorType = type[InvalidInput]

_CAMPAIGNS = LazyDecoder[list[Campaign]](list[Campaign])
_CART = LazyDecoder[Cart](Cart)
_STORE = LazyDecoder[StoreContext](StoreContext)
_CATALOG = LazyDecoder[Catalog](Catalog)
_COUPONS = LazyDecoder[list[Coupon]](list[Coupon])
_COUNTS = LazyDecoder[MemberCounts](MemberCounts)

# Patterns of the error and deep-document paths: compiled (and cached by
# ``re``) the first time one is used, not by every start of a till.
_MSG = r"^(?P<rule>.*?)(?: - at `(?P<path>\$[^`]*)`)?$"
_STEP = r"\.([^.\[]+)|\[(\d+)\]"


def _tidy_rule(rule: str, path: str = "$") -> str:
    steps = re.findall(_STEP, path)
    field = steps[-1][0] if steps else "value"
    if rule.startswith("Invalid enum value"):
        return f"is not an allowed {field or 'value'}"
    if rule.startswith("Invalid value"):
        return f"is not a known {field or 'value'}"
    rule = rule.replace("`", "")
    if rule.startswith("Expected"):
        rule = "expected" + rule[len("Expected") :]
    rule = re.sub(r", got \w+$", "", rule)
    return rule[:1].lower() + rule[1:]


def _lookup(raw: Any, path: str) -> tuple[bool, Any]:
    node = raw
    for key, index in re.findall(_STEP, path[1:]):
        try:
            node = node[int(index)] if index else node[key]
        except (KeyError, IndexError, TypeError, ValueError):
            return False, None
    return True, node


def validation_error(
    exc: msgspec.MsgspecError, raw: bytes | str | Any, error: ErrorType, prefix: str = "$"
) -> InvalidInput:
    """Rewrite a msgspec error as ``path: rule, got value`` of the given class."""
    text = str(exc)
    if isinstance(exc, msgspec.DecodeError) and not isinstance(exc, msgspec.ValidationError):
        return error(prefix, _malformed(text, raw))
    match = re.match(_MSG, text, re.S)
    assert match is not None  # the pattern matches any text
    rule, path = match.group("rule"), match.group("path") or "$"
    missing = re.match(r"Object missing required field `([^`]+)`", rule)
    if missing:
        return error(prefix + path[1:] + "." + missing.group(1), "is required")
    doc = raw
    if isinstance(raw, bytes | str):
        import json  # an error's path only

        try:
            doc = json.loads(raw)
        except (ValueError, RecursionError):
            return error(prefix + path[1:], _tidy_rule(rule, path))
    found, value = _lookup(doc, path)
    if found:
        return error(prefix + path[1:], _tidy_rule(rule, path), value)
    return error(prefix + path[1:], _tidy_rule(rule, path))


def check_size(data: bytes | str, error: ErrorType, path: str = "$") -> None:
    """A document longer than :data:`~pos_promo.limits.MAX_DOCUMENT_BYTES` is refused unread."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise error(path, f"must be at most {MAX_DOCUMENT_BYTES} bytes long", len(data))


_AT_BYTE = r"^(?:JSON is malformed: )?(?P<why>.*?)(?: \(byte (?P<byte>\d+)\))?$"


def _malformed(text: str, raw: bytes | str | Any) -> str:
    """``is not valid JSON at line L, column C: why``, from msgspec's byte offset.

    An operator fixes a file in an editor, which counts lines and columns, not bytes.
    """
    match = re.match(_AT_BYTE, text, re.S)
    assert match is not None  # the pattern matches any text
    why, byte = match.group("why"), match.group("byte")
    data = raw.encode() if isinstance(raw, str) else raw
    if not isinstance(data, bytes):
        return f"is not valid JSON ({why})"
    if not data.strip():
        return "is empty: expected a JSON document"
    if why == "Input data was truncated":
        why, offset = "the document ends too early", len(data)
    elif byte is None:
        return f"is not valid JSON ({why})"
    else:
        offset = int(byte)
    head = data[:offset]
    line = head.count(b"\n") + 1
    column = len(head[head.rfind(b"\n") + 1 :].decode(errors="replace")) + 1
    return f"is not valid JSON at line {line}, column {column}: {why}"


_STRING = rb'"[^"\\]*(?:\\.[^"\\]*)*"'
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_ONE_KIND = bytes.maketrans(b"{}", b"[]")
_RUNS = rb"\[+|\]+"


def too_deep(data: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON ``data`` nests arrays and objects deeper than ``limit``.

    Only the brackets count, all of one kind (the decoder checks they
    match). A few passes remove the innermost pairs, each pass one level:
    that empties an ordinary document. What is left is read in runs of one
    bracket, its depth the highest running sum of the runs' lengths. Both
    steps run in C but for the loop over runs, which is short exactly when
    a document is deep (100,000 levels are two runs). Brackets inside
    strings are dropped (a slower regex) only to confirm a document that
    looks too deep; a document crafted so that brackets in strings hide its
    depth still meets the decoder's own recursion guard. A document with
    fewer opening brackets than the limit is not scanned further (they are
    counted among the brackets alone: one pass in C takes them out, where
    counting each kind in the whole document took two).
    """
    raw = data.encode() if isinstance(data, str) else data
    brackets = raw.translate(_ONE_KIND, _NOT_BRACKETS)
    if brackets.count(b"[") <= limit:
        return False
    return (
        _depth(brackets) > limit
        and _depth(re.sub(_STRING, b"", raw, flags=re.S).translate(_ONE_KIND, _NOT_BRACKETS))
        > limit
    )


def nesting(value: object) -> int:
    """How deep already-parsed JSON nests its lists and objects (``[]`` is 1, a
    scalar 0), walked with a stack of its own: a value nested far past the
    limit cannot make it recurse."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Iterable[object] = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend(
            (child, depth + 1) for child in children if isinstance(child, dict | list | tuple)
        )
    return deepest


def _depth(brackets: bytes, passes: int = 8) -> int:
    """The depth of a document's ``brackets`` (all of one kind, ``[`` and ``]``)."""
    level = 0
    while level < passes:
        fewer = brackets.replace(b"[]", b"")
        if len(fewer) == len(brackets):  # empty, or not JSON: the decoder says why
            return level
        level += 1
        slow = len(brackets) - len(fewer) < len(brackets) // 8  # few leaves: deep, not wide
        brackets = fewer
        if slow:
            break
    if not brackets or brackets[0] != ord("["):  # done, or not JSON
        return level
    # runs alternate, opening first: the depth peaks at the end of an opening run
    lengths: list[int] = list(map(len, re.findall(_RUNS, brackets)))
    opens, closes = lengths[0::2], lengths[1::2]
    before = itertools.chain((0,), itertools.accumulate(map(operator.sub, opens, closes)))
    peaks: map[int] = map(operator.add, before, opens)
    return level + max(peaks)


def _decode(decoder: msgspec.json.Decoder[T], data: bytes | str, error: ErrorType) -> T:
    check_size(data, error)
    if too_deep(data):
        raise error("$", f"must not nest deeper than {MAX_JSON_DEPTH} levels")
    try:
        return decoder.decode(data)
    except msgspec.MsgspecError as exc:
        raise validation_error(exc, data, error) from None
    except RecursionError:
        # msgspec skips an unknown field by recursing into it
        raise error("$", f"must not nest deeper than {MAX_JSON_DEPTH} levels") from None


def decode_campaigns(data: bytes | str) -> tuple[Campaign, ...]:
    """A JSON list of campaigns, the same payload HQ serves, all checked."""
    campaigns = _decode(_CAMPAIGNS.decoder, data, InvalidCampaign)
    for index, campaign in enumerate(campaigns):
        check_campaign(campaign, f"$[{index}]")
    check_unique_ids(campaigns)
    return tuple(campaigns)


def decode_catalog(data: bytes | str) -> Catalog:
    """A plain JSON list of campaigns, or a catalog object (:class:`Catalog`), all checked."""
    head = data.lstrip()[:1]
    if head in (b"[", "["):
        return Catalog(campaigns=decode_campaigns(data))
    catalog = _decode(_CATALOG.decoder, data, InvalidCampaign)
    check_catalog(catalog)
    return catalog


def decode_coupons(data: bytes | str) -> tuple[Coupon, ...]:
    """A JSON list of wallet coupons, all checked."""
    coupons = _decode(_COUPONS.decoder, data, InvalidCoupon)
    check_coupons(coupons)
    return tuple(coupons)


def campaign_from_obj(obj: Any, path: str = "$") -> Campaign:
    """One campaign from already-parsed JSON (a dict), checked."""
    campaign: Campaign = convert(obj, Campaign, InvalidCampaign, path)  # type: ignore[arg-type]
    check_campaign(campaign, path)
    return campaign


def decode_cart(data: bytes | str) -> Cart:
    """A cart from JSON, checked whole (lines, children, member); :class:`InvalidCart`."""
    cart = _decode(_CART.decoder, data, InvalidCart)
    check_cart(cart)
    return cart


def cart_from_obj(obj: Any) -> Cart:
    """A cart from already-parsed JSON (a dict), checked."""
    cart = convert(obj, Cart, InvalidCart)
    check_cart(cart)
    return cart


def decode_store(data: bytes | str) -> StoreContext:
    """A store context from JSON (id, time zone, currency, organisations); :class:`InvalidStore`."""
    store = _decode(_STORE.decoder, data, InvalidStore)
    check_store(store)
    return store


def decode_member_counts(data: bytes | str) -> MemberCounts:
    """A member's participation counts from JSON (what ``--counts FILE`` reads)."""
    return _decode(_COUNTS.decoder, data, InvalidCart)


def convert(obj: Any, kind: type[T], error: ErrorType, path: str = "$") -> T:
    """Convert parsed JSON to ``kind``; errors carry ``path`` as their root."""
    try:
        return msgspec.convert(obj, kind)
    except msgspec.MsgspecError as exc:
        raise validation_error(exc, obj, error, path) from None


# -- checks no type can express ------------------------------------------------


def load_zone(name: str, path: str = "$.timezone") -> zoneinfo.ZoneInfo:
    """The IANA zone ``name``; an unknown one is an :class:`InvalidStore`."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidStore(path, "must be an IANA time zone such as Europe/Paris", name) from None


def check_instant(value: dt.datetime | dt.date, path: str, error: ErrorType = InvalidCart) -> None:
    """Years outside :data:`~pos_promo.limits.MIN_YEAR`..``MAX_YEAR`` are refused:
    adding a validity or a delay to year 9999 overflows."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise error(path, f"must be in the years {MIN_YEAR} to {MAX_YEAR}", value.isoformat())


def check_store(store: StoreContext, path: str = "$") -> None:
    """Refuse a store whose time zone or locale is unknown, with its JSON path: every time and
    amount the till shows depends on them. (The locale check imports :mod:`pos_promo.i18n`
    here: a till opening on the store it recorded checks nothing and loads no wording.)"""
    from pos_promo.i18n.catalog import parse_locale

    load_zone(store.timezone, f"{path}.timezone")
    try:
        parse_locale(store.locale)
    except ValueError:
        raise InvalidStore(
            f"{path}.locale", "must be a CLDR locale such as en_US, de_DE or zh_CN", store.locale
        ) from None


def check_cart(cart: Cart, path: str = "$") -> None:
    """Line ids unique; children name an existing main and fit its quantity.

    One pass, building no path text until something is wrong: it runs on
    every commit.
    """
    if cart.at is not None:
        check_instant(cart.at, f"{path}.at")
    mains: dict[str, Line] = {}
    seen: set[str] = set()
    children = False
    units = subtotal = 0
    for index, line in enumerate(cart.lines):
        units += line.quantity
        subtotal += line.quantity * line.unit_price
        if units > MAX_CART_UNITS:
            raise InvalidCart(
                f"{path}.lines[{index}].quantity",
                f"takes the cart past {MAX_CART_UNITS} units in all",
                line.quantity,
            )
        if subtotal > MAX_ORDER_AMOUNT:
            raise InvalidCart(
                f"{path}.lines[{index}].unit_price",
                f"takes the cart's subtotal past {MAX_ORDER_AMOUNT}",
                line.unit_price,
            )
        if line.line_id in seen:
            raise InvalidCart(f"{path}.lines[{index}].line_id", "must be unique", line.line_id)
        seen.add(line.line_id)
        if line.member_unit_price is not None and line.member_unit_price > line.unit_price:
            raise InvalidCart(
                f"{path}.lines[{index}].member_unit_price",
                f"must be <= unit_price {line.unit_price}",
                line.member_unit_price,
            )
        if line.role == "main":
            if line.parent_line_id is not None:
                raise InvalidCart(
                    f"{path}.lines[{index}].parent_line_id",
                    "must be null on a main line",
                    line.parent_line_id,
                )
            mains[line.line_id] = line
        else:
            children = True
    if not children:
        return
    for index, line in enumerate(cart.lines):
        if line.role == "main":
            continue
        parent = mains.get(line.parent_line_id or "")
        if parent is None:
            raise InvalidCart(
                f"{path}.lines[{index}].parent_line_id",
                f"a {line.role} line must name a main line of this cart",
                line.parent_line_id,
            )
        if line.quantity % parent.quantity:
            raise InvalidCart(
                f"{path}.lines[{index}].quantity",
                f"must be a multiple of main line {parent.line_id!r}'s quantity {parent.quantity}",
                line.quantity,
            )


def _check_rising(
    values: Iterable[int], path: str, field: str, error: ErrorType = InvalidCampaign
) -> None:
    previous: int | None = None
    for index, value in enumerate(values):
        if previous is not None and value <= previous:
            raise error(
                f"{path}.tiers[{index}].{field}",
                f"must be greater than the tier before it ({previous})",
                value,
            )
        previous = value


def _check_rule(rule: SpendSave | ItemsSave | ItemsFree, path: str) -> None:
    if isinstance(rule, SpendSave):
        _check_rising((t.spend for t in rule.tiers), path, "spend")
    elif isinstance(rule, ItemsSave):
        _check_rising((t.items for t in rule.tiers), path, "items")
    else:
        _check_rising((t.buy + t.free for t in rule.tiers), path, "buy")


def _check_items(scope: ItemScope, path: str) -> None:
    if not scope.all_items and not scope.item_ids and not scope.category_ids:
        raise InvalidCampaign(
            path, "must set all_items or list at least one item_ids or category_ids entry"
        )


def check_campaign(campaign: Campaign, path: str = "$") -> None:
    """The rules of SPEC §3-4 that span several fields."""
    check_instant(campaign.period.start, f"{path}.period.start", InvalidCampaign)
    check_instant(campaign.period.end, f"{path}.period.end", InvalidCampaign)
    for day in campaign.dates:
        check_instant(day, f"{path}.dates", InvalidCampaign)
    if campaign.period.end <= campaign.period.start:
        raise InvalidCampaign(
            f"{path}.period.end",
            f"must be after period.start {campaign.period.start.isoformat()}",
            campaign.period.end.isoformat(),
        )
    for index, slot in enumerate(campaign.time_slots):
        if slot.start == slot.end:
            raise InvalidCampaign(
                f"{path}.time_slots[{index}].end", "must differ from start", slot.end
            )
        if not slot.weekdays:
            raise InvalidCampaign(f"{path}.time_slots[{index}].weekdays", "must not be empty", [])
    if campaign.stores != "all" and not (campaign.stores.store_ids or campaign.stores.org_ids):
        raise InvalidCampaign(
            f"{path}.stores", 'must be "all" or list at least one store_ids or org_ids entry'
        )
    for name in ("channels", "service_types"):
        if not getattr(campaign, name):
            raise InvalidCampaign(f"{path}.{name}", "must not be empty", [])
    if isinstance(campaign, SpendAndSave):
        _check_rule(campaign.rule, f"{path}.rule")
        _check_items(campaign.items, f"{path}.items")
        for index, store_rule in enumerate(campaign.store_rules):
            if store_rule.rule is not None:
                _check_rule(store_rule.rule, f"{path}.store_rules[{index}].rule")
    elif isinstance(campaign, CumulativeGift):
        check_gift(campaign, path)
    elif isinstance(campaign.validity, FixedValidity):
        check_window(campaign.validity, f"{path}.validity")


def check_catalog(catalog: Catalog) -> None:
    """Every campaign and template checked; ids unique across both (one cache), and per plan."""
    seen: set[str] = set()
    sections: list[tuple[str, Iterable[Campaign]]] = [
        ("campaigns", catalog.campaigns),
        ("coupon_templates", catalog.coupon_templates),
    ]
    for section, campaigns in sections:
        for index, campaign in enumerate(campaigns):
            check_campaign(campaign, f"$.{section}[{index}]")
            if campaign.id in seen:
                raise InvalidCampaign(
                    f"$.{section}[{index}].id", "must be unique in one payload", campaign.id
                )
            seen.add(campaign.id)
    plans: set[str] = set()
    for index, plan in enumerate(catalog.sharing_plans):
        if plan.id in plans:
            raise InvalidCampaign(
                f"$.sharing_plans[{index}].id", "must be unique in one payload", plan.id
            )
        plans.add(plan.id)


def check_coupons(coupons: Iterable[Coupon], path: str = "$") -> None:
    """Ids unique in one batch; a window that ends after it starts."""
    seen: set[str] = set()
    for index, coupon in enumerate(coupons):
        if coupon.id in seen:
            raise InvalidCoupon(f"{path}[{index}].id", "must be unique in one batch", coupon.id)
        seen.add(coupon.id)
        check_instant(coupon.valid_from, f"{path}[{index}].valid_from", InvalidCoupon)
        check_instant(coupon.valid_until, f"{path}[{index}].valid_until", InvalidCoupon)
        if coupon.valid_until <= coupon.valid_from:
            raise InvalidCoupon(
                f"{path}[{index}].valid_until",
                f"must be after valid_from {coupon.valid_from.isoformat()}",
                coupon.valid_until.isoformat(),
            )


def check_unique_ids(campaigns: Iterable[Campaign], path: str = "$") -> None:
    """Refuse a payload naming one campaign id twice: which of the two wins would otherwise
    depend on order."""
    seen: set[str] = set()
    for index, campaign in enumerate(campaigns):
        if campaign.id in seen:
            raise InvalidCampaign(
                f"{path}[{index}].id", "must be unique in one payload", campaign.id
            )
        seen.add(campaign.id)
