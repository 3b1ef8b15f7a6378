"""kefu.store — the project's database: customers, orders, complaint tickets.

SQLAlchemy 1.4 on ``KEFU_DB_URL`` (default ``sqlite:///<project>/.kefu/kefu.db``);
any SQLAlchemy URL works, PostgreSQL included.  Times are naive local time.
The assistant reads orders through :class:`OrderLookup` (plain dataclasses), so a
shop can replace :class:`SqlOrderLookup` with its own system.  CLI:
``python -m kefu.store {init,seed,orders,tickets}``.
"""

from kefu.store.db import StoreError, db_url, dispose_engines, get_engine, init_db, local_now, reset_db, session_scope
from kefu.store.models import CATEGORIES, ORDER_STATUSES, REMEDIES, TICKET_STATUSES, TIERS
from kefu.store.orders import (
                           OrderInfo,
                           OrderItemInfo,
                           OrderLookup,
                           SqlOrderLookup,
                           mask_phone,
                           normalize_order_id,
                           normalize_phone,
)
from kefu.store.tickets import (
                           DEFAULT_OWNER,
                           TIER_HOURS,
                           TIER_PROMISE,
                           TicketEventInfo,
                           TicketInfo,
                           TicketNotFound,
                           create_ticket,
                           deadline_for,
                           get_ticket,
                           owner_for,
                           promise_text,
                           tickets_for,
                           update_ticket,
)

__all__ = [
    "CATEGORIES", "DEFAULT_OWNER", "ORDER_STATUSES", "REMEDIES", "TICKET_STATUSES",
    "TIERS", "TIER_HOURS", "TIER_PROMISE",
    "OrderInfo", "OrderItemInfo", "OrderLookup", "SqlOrderLookup", "StoreError",
    "TicketEventInfo", "TicketInfo", "TicketNotFound",
    "create_ticket", "db_url", "deadline_for", "dispose_engines", "get_engine",
    "get_ticket", "init_db", "local_now", "mask_phone", "normalize_order_id",
    "normalize_phone", "owner_for", "promise_text", "reset_db", "session_scope",
    "tickets_for", "update_ticket",
]
