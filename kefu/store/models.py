"""ORM tables of the store.

Plain SQLAlchemy 1.4 declarative models, portable SQL only (SQLite and PostgreSQL).
Allowed values are listed once here and enforced by CHECK constraints.  Datetimes
are naive local time (see :mod:`kefu.store.db`).  Money is stored in integer fen
(cents) so no backend has to round decimals; the dataclasses expose yuan.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import declarative_base, relationship

ORDER_STATUSES = ("paid", "shipped", "in_transit", "delivered", "lost", "returned",
                  "refunded")
CATEGORIES = ("delivery", "quality", "wrong_item", "service", "billing", "other")
REMEDIES = ("refund", "replace", "resend", "compensate", "repair", "callback")
TIERS = ("urgent", "normal", "complex")
TICKET_STATUSES = ("open", "in_progress", "resolved", "closed", "cancelled")

Base = declarative_base()


def _one_of(table: str, column: str, values: tuple[str, ...],
            nullable: bool = False) -> CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    condition = f"{column} IN ({allowed})"
    if nullable:
        condition = f"{column} IS NULL OR {condition}"
    return CheckConstraint(condition, name=f"ck_{table}_{column}")


class Customer(Base):
    __tablename__ = "customers"

    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False)
    phone = Column(String(20), nullable=False, unique=True)
    address = Column(String(255), nullable=False)

    orders = relationship("Order", back_populates="customer")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (_one_of("orders", "status", ORDER_STATUSES),)

    order_id = Column(String(16), primary_key=True)  # "KF" + 8 digits
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    # The order's contact phone; usually the customer's, kept per order as shops do.
    phone = Column(String(20), nullable=False, index=True)
    amount_fen = Column(Integer, nullable=False)
    paid_at = Column(DateTime, nullable=False)
    courier = Column(String(32), nullable=False)
    tracking_no = Column(String(32))
    status = Column(String(16), nullable=False)
    shipped_at = Column(DateTime)
    promised_delivery_at = Column(DateTime)
    delivered_at = Column(DateTime)
    shipping_address = Column(String(255), nullable=False)
    merchant = Column(String(64), nullable=False)

    customer = relationship("Customer", back_populates="orders")
    items = relationship("OrderItem", back_populates="order", order_by="OrderItem.id",
                         cascade="all, delete-orphan")


class OrderItem(Base):
    __tablename__ = "order_items"

    id = Column(Integer, primary_key=True)
    order_id = Column(String(16), ForeignKey("orders.order_id", ondelete="CASCADE"),
                      nullable=False, index=True)
    product = Column(String(128), nullable=False)
    quantity = Column(Integer, nullable=False)
    unit_price_fen = Column(Integer, nullable=False)

    order = relationship("Order", back_populates="items")


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        _one_of("tickets", "category", CATEGORIES),
        _one_of("tickets", "remedy", REMEDIES, nullable=True),
        _one_of("tickets", "tier", TIERS),
        _one_of("tickets", "status", TICKET_STATUSES),
        CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5",
                        name="ck_tickets_satisfaction"),
    )

    id = Column(String(16), primary_key=True)  # "T" + YYYYMMDD + 5-digit sequence
    sender_id = Column(String(128), index=True)  # Rasa conversation id
    channel = Column(String(32))
    # No foreign key: orders may live in the shop's own system (see OrderLookup).
    order_id = Column(String(16), index=True)
    phone = Column(String(20), index=True)
    category = Column(String(16), nullable=False)
    problem = Column(Text, nullable=False, default="")
    remedy = Column(String(16))
    owner = Column(String(64), nullable=False)
    tier = Column(String(16), nullable=False)
    deadline = Column(DateTime, nullable=False)
    status = Column(String(16), nullable=False, default="open")
    root_cause = Column(Text)
    satisfaction = Column(Integer)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)

    events = relationship("TicketEvent", back_populates="ticket",
                          order_by="TicketEvent.id", cascade="all, delete-orphan")


class TicketEvent(Base):
    """One line of a ticket's history: created, status, note, satisfaction…"""

    __tablename__ = "ticket_events"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(String(16), ForeignKey("tickets.id", ondelete="CASCADE"),
                       nullable=False, index=True)
    at = Column(DateTime, nullable=False)
    kind = Column(String(32), nullable=False)
    detail = Column(Text, nullable=False, default="")

    ticket = relationship("Ticket", back_populates="events")
