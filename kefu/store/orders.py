"""Order lookup: the interface the assistant uses, and its database implementation.

The assistant only sees :class:`OrderInfo` dataclasses through the
:class:`OrderLookup` protocol, so a shop can plug in its own order system by
writing a class with the same two methods.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Optional, Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import joinedload, selectinload

from kefu.store.db import local_now, session_scope
from kefu.store.models import Order

ORDER_ID_RE = re.compile(r"KF\d{8}")
# An id inside a sentence: "KF", then 8 digits that may be split by spaces or dashes,
# not glued to other letters or digits ("KF202611071" is not an id).
_ORDER_ID_IN_TEXT_RE = re.compile(r"(?<![A-Z0-9])KF[\s#\-_]*((?:\d[\s\-_]*){7}\d)(?!\d)")
_PHONE_RE = re.compile(r"1[3-9]\d{9}")
_PHONE_SEPARATORS_RE = re.compile(r"[\s\-()（）]")

FINISHED_STATUSES = ("delivered", "lost", "returned", "refunded")


@dataclass(frozen=True)
class OrderItemInfo:
    product: str
    quantity: int
    unit_price: Decimal  # yuan, two decimals

    @property
    def subtotal(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class OrderInfo:
    """An order as the assistant needs it; times are naive local time."""

    order_id: str
    customer_name: str
    phone: str
    items: tuple[OrderItemInfo, ...]
    amount: Decimal  # yuan, two decimals
    paid_at: datetime
    courier: str
    status: str
    shipping_address: str
    merchant: str
    tracking_no: Optional[str] = None
    shipped_at: Optional[datetime] = None
    promised_delivery_at: Optional[datetime] = None
    delivered_at: Optional[datetime] = None

    @property
    def products(self) -> str:
        """A short product summary such as "保温杯 ×1、吸管 ×2"."""
        return "、".join(f"{item.product} ×{item.quantity}" for item in self.items)

    def is_late(self, now: Optional[datetime] = None) -> bool:
        """True when the promise has passed and the parcel has not arrived."""
        if self.promised_delivery_at is None:
            return False
        if self.delivered_at is not None:
            return self.delivered_at > self.promised_delivery_at
        if self.status in ("lost", "refunded"):
            return False
        return (now or local_now()) > self.promised_delivery_at

    def to_dict(self) -> dict:
        """JSON-ready: ISO 8601 times, money as numbers in yuan."""
        data = asdict(self)
        data["amount"] = float(self.amount)
        data["items"] = [{**item, "unit_price": float(item["unit_price"])}
                         for item in data["items"]]
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        data["phone_masked"] = mask_phone(self.phone)
        data["late"] = self.is_late()
        return data


@runtime_checkable
class OrderLookup(Protocol):
    """What the assistant needs from an order system."""

    def get(self, order_id: str) -> Optional[OrderInfo]:
        """The order, or None when the id is malformed or unknown."""

    def by_phone(self, phone: str) -> list[OrderInfo]:
        """Orders whose contact phone is ``phone``, newest first; [] when none."""


class SqlOrderLookup:
    """:class:`OrderLookup` on the project's database."""

    def __init__(self, engine: Optional[Engine] = None):
        self._engine = engine

    def get(self, order_id: str) -> Optional[OrderInfo]:
        canonical = normalize_order_id(order_id)
        if canonical is None:
            return None
        # One order: one joined query instead of three (order, then its items and customer).
        found = self._query(select(Order).where(Order.order_id == canonical),
                            joinedload(Order.items), joinedload(Order.customer))
        return found[0] if found else None

    def by_phone(self, phone: str) -> list[OrderInfo]:
        canonical = normalize_phone(phone)
        if canonical is None:
            return []
        return self._query(select(Order).where(Order.phone == canonical)
                           .order_by(Order.paid_at.desc(), Order.order_id))

    def list_orders(self, limit: Optional[int] = None,
                    status: Optional[str] = None) -> list[OrderInfo]:
        """Orders by id (the documented demo orders come first)."""
        query = select(Order).order_by(Order.order_id)
        if status:
            query = query.where(Order.status == status)
        if limit is not None:
            query = query.limit(limit)
        return self._query(query)

    def _query(self, query, *loading) -> list[OrderInfo]:
        query = query.options(*(loading or (selectinload(Order.items), selectinload(Order.customer))))
        with session_scope(self._engine) as session:
            return [order_info(order) for order in session.execute(query).unique().scalars()]


def order_info(order: Order) -> OrderInfo:
    """Copy an ORM order (items and customer loaded) into a frozen dataclass."""
    return OrderInfo(
        order_id=order.order_id,
        customer_name=order.customer.name,
        phone=order.phone,
        items=tuple(OrderItemInfo(item.product, item.quantity, fen_to_yuan(item.unit_price_fen))
                    for item in order.items),
        amount=fen_to_yuan(order.amount_fen),
        paid_at=order.paid_at,
        courier=order.courier,
        status=order.status,
        shipping_address=order.shipping_address,
        merchant=order.merchant,
        tracking_no=order.tracking_no,
        shipped_at=order.shipped_at,
        promised_delivery_at=order.promised_delivery_at,
        delivered_at=order.delivered_at,
    )


def fen_to_yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def normalize_order_id(text: Optional[str]) -> Optional[str]:
    """The canonical order id ("KF" + 8 digits) found in ``text``, or None.

    Accepts lower case, full-width characters, spaces, dashes and a leading "#"
    ("kf20261107", "KF 2026 1107", "#KF20261107", "订单号：KF20261107").  Returns
    None when there is no id, or when the text holds two different ids.
    Bare digits are not accepted: without "KF" they may be a phone or a date.
    """
    if not text or not isinstance(text, str):
        return None
    upper = unicodedata.normalize("NFKC", text).upper()
    found = {"KF" + re.sub(r"\D", "", match.group(1))
             for match in _ORDER_ID_IN_TEXT_RE.finditer(upper)}
    return found.pop() if len(found) == 1 else None


def normalize_phone(text: Optional[str]) -> Optional[str]:
    """An 11-digit mainland mobile number from ``text`` ("+86 138-1234-5678"), or None."""
    if not text or not isinstance(text, str):
        return None
    digits = _PHONE_SEPARATORS_RE.sub("", unicodedata.normalize("NFKC", text))
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix):]
            break
    return digits if _PHONE_RE.fullmatch(digits) else None


def mask_phone(phone: Optional[str]) -> str:
    """"13812345678" -> "138****5678", for showing a phone to anyone but its owner.

    Anything that is not a mobile number keeps only its last 4 characters visible
    (or is fully masked when shorter), so no full number ever leaks by mistake.
    """
    if not phone:
        return ""
    mobile = normalize_phone(phone)
    if mobile:
        return f"{mobile[:3]}****{mobile[-4:]}"
    text = str(phone).strip()
    if len(text) <= 4:
        return "*" * len(text)
    return "*" * (len(text) - 4) + text[-4:]
