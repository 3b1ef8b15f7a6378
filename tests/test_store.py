"""Tests for kefu.store: models, seed, order lookup, tickets and the CLI.

Every test runs on its own SQLite file under pytest's tmp_path (KEFU_DB_URL is set
per test), with the clock fixed by passing ``now=`` where times matter.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import CreateTable

from kefu.store import (
    CATEGORIES,
    DEFAULT_OWNER,
    ORDER_STATUSES,
    TIER_HOURS,
    TIER_PROMISE,
    OrderInfo,
    OrderLookup,
    SqlOrderLookup,
    StoreError,
    TicketNotFound,
    create_ticket,
    db_url,
    dispose_engines,
    get_engine,
    get_ticket,
    mask_phone,
    normalize_order_id,
    normalize_phone,
    session_scope,
    tickets_for,
    update_ticket,
)
from kefu.store.models import Base, Customer, Order, Ticket
from kefu.store.seed import DEMO_ORDERS, seed

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 25, 10, 0)
MOBILE = re.compile(r"1[3-9]\d{9}")


# --- fixtures (kept here: tests/conftest.py belongs to another part) -----------------

@pytest.fixture
def url(tmp_path, monkeypatch):
    """A fresh SQLite database for this test, made the default via KEFU_DB_URL."""
    database_url = f"sqlite:///{tmp_path / 'kefu.db'}"
    monkeypatch.setenv("KEFU_DB_URL", database_url)
    yield database_url
    dispose_engines()


@pytest.fixture
def engine(url):
    return get_engine(url)


@pytest.fixture
def seeded(engine):
    return seed(engine=engine, now=NOW)


@pytest.fixture
def lookup(seeded, engine):
    return SqlOrderLookup(engine)


def all_orders(engine) -> list[OrderInfo]:
    return SqlOrderLookup(engine).list_orders()


# --- engine, URL and models -----------------------------------------------------------

def test_default_url_is_sqlite_in_project_kefu_folder(monkeypatch):
    monkeypatch.delenv("KEFU_DB_URL", raising=False)
    assert db_url() == f"sqlite:///{PROJECT_ROOT / '.kefu' / 'kefu.db'}"


def test_env_url_wins_and_missing_folders_are_created(tmp_path, monkeypatch):
    database = tmp_path / "a" / "b" / "kefu.db"
    monkeypatch.setenv("KEFU_DB_URL", f"sqlite:///{database}")
    try:
        with session_scope() as session:
            assert session.execute(select(Customer)).first() is None
    finally:
        dispose_engines()
    assert database.is_file()


def test_engines_are_cached_per_url(tmp_path):
    first, second = f"sqlite:///{tmp_path / 'one.db'}", f"sqlite:///{tmp_path / 'two.db'}"
    try:
        assert get_engine(first) is get_engine(first)
        assert get_engine(first) is not get_engine(second)
    finally:
        dispose_engines()


def test_unwritable_database_path_gives_clear_error(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(StoreError, match=r"cannot open database .*not_a_folder"):
        get_engine(f"sqlite:///{blocker / 'kefu.db'}")


def test_file_that_is_not_a_database_gives_clear_error(tmp_path):
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open database"):
        get_engine(f"sqlite:///{bogus}")


def test_invalid_url_gives_clear_error():
    with pytest.raises(StoreError, match="invalid database URL"):
        get_engine("not a url")


def test_check_constraint_rejects_unknown_order_status(engine):
    with pytest.raises(IntegrityError):
        with session_scope(engine) as session:
            customer = Customer(name="测试", phone="13911112222", address="某地")
            session.add(Order(order_id="KF00000001", customer=customer,
                              phone="13911112222", amount_fen=100, paid_at=NOW,
                              courier="顺丰", status="teleported",
                              shipping_address="某地", merchant="某店"))


def test_session_scope_rolls_back_on_error(engine):
    with pytest.raises(RuntimeError):
        with session_scope(engine) as session:
            session.add(Customer(name="回滚", phone="13911113333", address="某地"))
            session.flush()
            raise RuntimeError("boom")
    with session_scope(engine) as session:
        assert session.execute(select(Customer)).first() is None


def test_schema_compiles_for_postgresql():
    from sqlalchemy.dialects import postgresql
    ddl = [str(CreateTable(table).compile(dialect=postgresql.dialect()))
           for table in Base.metadata.sorted_tables]
    assert any("CREATE TABLE tickets" in statement for statement in ddl)
    assert all("AUTOINCREMENT" not in statement for statement in ddl)


# --- identifiers -----------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "KF20261107", "kf20261107", "KF 2026 1107", "#KF20261107", "# kf2026-1107",
    "ＫＦ２０２６１１０７", "订单号：KF20261107，快点处理", "KF20261107 和 kf20261107",
])
def test_normalize_order_id_accepts_typed_forms(text):
    assert normalize_order_id(text) == "KF20261107"


@pytest.mark.parametrize("text", [
    None, "", "   ", "KF2026110", "KF202611071", "20261107", "KF2026110A", "XKF20261107",
    "KF20261107 KF20261108", "我的快递还没到", 20261107,
])
def test_normalize_order_id_rejects_malformed(text):
    assert normalize_order_id(text) is None


@pytest.mark.parametrize("text, expected", [
    ("13812345678", "13812345678"), ("+86 138-1234-5678", "13812345678"),
    ("8613812345678", "13812345678"), ("１３８１２３４５６７８", "13812345678"),
    ("12812345678", None), ("1381234567", None), ("138123456789", None), ("", None),
    (None, None),
])
def test_normalize_phone(text, expected):
    assert normalize_phone(text) == expected


@pytest.mark.parametrize("phone, masked", [
    ("13812345678", "138****5678"), ("+86 138 1234 5678", "138****5678"),
    ("010-12345", "*****2345"), ("123", "***"), ("", ""), (None, ""),
])
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


# --- seed ------------------------------------------------------------------------------

def test_seed_counts(seeded):
    assert seeded.totals["customers"] >= 60
    assert seeded.totals["orders"] >= 240
    assert seeded.totals["tickets"] >= 3
    assert seeded.added == seeded.totals


def test_seed_is_idempotent_even_a_day_later(seeded, engine):
    again = seed(engine=engine, now=NOW + timedelta(days=1))
    assert again.added == {"customers": 0, "orders": 0, "tickets": 0}
    assert again.totals == seeded.totals


def test_seed_reset_rebuilds(seeded, engine):
    create_ticket("other", "临时工单", now=NOW, engine=engine)
    rebuilt = seed(engine=engine, now=NOW, reset=True)
    assert rebuilt.totals == seeded.totals
    assert all(t.problem != "临时工单" for t in tickets_for(engine=engine))


def test_seed_is_deterministic(tmp_path):
    dumps = []
    try:
        for name in ("one.db", "two.db"):
            engine = get_engine(f"sqlite:///{tmp_path / name}")
            seed(engine=engine, now=NOW)
            dumps.append([order.to_dict() for order in all_orders(engine)])
    finally:
        dispose_engines()
    assert dumps[0] == dumps[1]


def test_seeded_people_look_real(seeded, engine):
    with session_scope(engine) as session:
        customers = session.execute(select(Customer)).scalars().all()
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", c.name) for c in customers)
    assert all(MOBILE.fullmatch(c.phone) for c in customers)
    assert len({c.phone for c in customers}) == len(customers)
    assert all(len(c.address) > 10 for c in customers)


def test_seeded_orders_are_consistent(seeded, engine):
    orders = all_orders(engine)
    for order in orders:
        assert re.fullmatch(r"KF\d{8}", order.order_id)
        assert order.items and order.amount == sum(i.subtotal for i in order.items)
        assert order.paid_at <= NOW
        if order.shipped_at:
            assert order.paid_at <= order.shipped_at <= NOW
        if order.delivered_at:
            assert order.shipped_at <= order.delivered_at <= NOW
        if order.status in ("delivered", "returned"):
            assert order.delivered_at is not None
        if order.status in ("shipped", "in_transit", "lost"):
            assert order.shipped_at is not None and order.delivered_at is None
        if order.status == "paid":
            assert order.shipped_at is None
        if order.courier == "美团骑手":
            assert order.tracking_no is None


def test_seeded_orders_spread_over_statuses_couriers_and_shops(seeded, engine):
    orders = all_orders(engine)
    assert {o.status for o in orders} == set(ORDER_STATUSES)
    assert {o.courier for o in orders} == {"顺丰", "中通", "圆通", "韵达", "京东快递", "邮政",
                                           "极兔", "美团骑手"}
    late_in_transit = [o for o in orders if o.status == "in_transit" and o.is_late(NOW)]
    assert len(late_in_transit) >= 3
    products = " ".join(o.products for o in orders)
    for product in ("耳机", "羽绒服", "黄焖鸡", "保温杯", "面霜"):
        assert product in products


def test_demo_orders_are_documented_and_cover_every_category(lookup):
    assert len(DEMO_ORDERS) >= 8
    assert {demo.category for demo in DEMO_ORDERS} == set(CATEGORIES)
    import kefu.store.seed as seed_module
    for demo in DEMO_ORDERS:
        order = lookup.get(demo.order_id)
        assert order is not None and order.phone == demo.phone
        assert order.status == demo.status and order.customer_name == demo.customer
        assert demo.order_id in seed_module.__doc__ and demo.phone in seed_module.__doc__


def test_demo_order_situations(lookup):
    assert lookup.get("KF20261101").products == "保温杯 500ml ×1"
    assert lookup.get("KF20261101").phone == "13800000001"
    assert lookup.get("KF20261102").is_late(NOW)
    assert lookup.get("KF20261103").status == "lost"
    assert lookup.get("KF20261105").courier == "美团骑手"
    assert lookup.get("KF20261105").is_late()
    assert not lookup.get("KF20261112").is_late(NOW)


def test_seed_leaves_an_open_ticket_on_the_returned_demo_order(seeded, engine):
    [ticket] = tickets_for(order_id="KF20261110", engine=engine)
    assert ticket.status == "in_progress"
    assert [event.kind for event in ticket.history][:2] == ["created", "status"]


# --- order lookup ----------------------------------------------------------------------

def test_sql_lookup_implements_the_interface(lookup):
    assert isinstance(lookup, OrderLookup)


def test_a_shops_own_lookup_fits_the_interface():
    class ShopLookup:
        def get(self, order_id):
            return None

        def by_phone(self, phone):
            return []

    class Incomplete:
        def get(self, order_id):
            return None

    assert isinstance(ShopLookup(), OrderLookup)
    assert not isinstance(Incomplete(), OrderLookup)


def test_lookup_returns_frozen_plain_dataclasses(lookup):
    order = lookup.get("KF20261101")
    assert dataclasses.is_dataclass(order)
    with pytest.raises(dataclasses.FrozenInstanceError):
        order.status = "lost"
    json.dumps(order.to_dict(), ensure_ascii=False)


@pytest.mark.parametrize("typed", ["KF20261101", "kf20261101", "#KF 2026 1101"])
def test_lookup_by_id_accepts_typed_forms(lookup, typed):
    assert lookup.get(typed).order_id == "KF20261101"


@pytest.mark.parametrize("unknown", ["KF99999999", "KF123", "hello", "", None])
def test_lookup_unknown_or_malformed_id_is_none(lookup, unknown):
    assert lookup.get(unknown) is None


def test_lookup_by_phone_newest_first(lookup):
    orders = lookup.by_phone("138 0000 0001")
    assert [o.order_id for o in orders] == ["KF20261111", "KF20261101"]


@pytest.mark.parametrize("phone", ["13900000000", "not a phone", ""])
def test_lookup_by_unknown_phone_is_empty(lookup, phone):
    assert lookup.by_phone(phone) == []


# --- tickets ---------------------------------------------------------------------------

@pytest.mark.parametrize("tier, hours, promise", [
    ("urgent", 2, "2小时内"), ("normal", 24, "24小时内"), ("complex", 168, "7天内"),
])
def test_ticket_deadline_and_promise_follow_the_tier(engine, tier, hours, promise):
    ticket = create_ticket("delivery", "快递丢了", remedy="resend", tier=tier, now=NOW,
                           engine=engine)
    assert TIER_HOURS[tier] == hours and TIER_PROMISE[tier] == promise
    assert ticket.deadline == NOW + timedelta(hours=hours)
    assert ticket.promise == promise
    assert ticket.created_at == ticket.updated_at == NOW


def test_new_ticket_has_id_owner_status_and_created_event(engine):
    ticket = create_ticket("billing", "退款没到账", remedy="refund", sender_id="conv-1",
                           channel="web", now=NOW, engine=engine)
    assert ticket.id == "T2026112500001"
    assert ticket.owner == DEFAULT_OWNER["billing"] == "财务组"
    assert ticket.status == "open" and ticket.is_open
    assert [event.kind for event in ticket.history] == ["created"]
    assert get_ticket(ticket.id, engine=engine) == ticket


def test_ticket_ids_count_per_day(engine):
    ids = [create_ticket("other", now=when, engine=engine).id
           for when in (NOW, NOW + timedelta(minutes=5), NOW + timedelta(days=1))]
    assert ids == ["T2026112500001", "T2026112500002", "T2026112600001"]


def test_ticket_normalizes_order_and_copies_its_phone(lookup, engine):
    ticket = create_ticket("quality", "杯盖漏水", order_id="kf 2026 1101", now=NOW,
                           engine=engine)
    assert ticket.order_id == "KF20261101"
    assert ticket.phone == "13800000001"
    assert tickets_for(phone="13800000001", engine=engine)[0].id == ticket.id


def test_ticket_for_order_unknown_to_the_store_is_allowed(engine):
    ticket = create_ticket("delivery", order_id="KF12345678", now=NOW, engine=engine)
    assert ticket.order_id == "KF12345678" and ticket.phone is None


@pytest.mark.parametrize("bad", [
    {"category": "weather"}, {"category": "delivery", "tier": "soon"},
    {"category": "delivery", "remedy": "apology"},
    {"category": "delivery", "order_id": "KF123"},
    {"category": "delivery", "phone": "12345"},
])
def test_bad_ticket_values_raise_and_write_nothing(engine, bad):
    with pytest.raises(ValueError):
        create_ticket(now=NOW, engine=engine, **bad)
    assert tickets_for(engine=engine) == []


def test_tickets_for_filters_combine(engine):
    first = create_ticket("delivery", order_id="KF11111111", phone="13911112222",
                          sender_id="a", now=NOW, engine=engine)
    second = create_ticket("service", phone="13911112222", sender_id="b",
                           now=NOW + timedelta(hours=1), engine=engine)
    assert [t.id for t in tickets_for(engine=engine)] == [second.id, first.id]
    assert [t.id for t in tickets_for(phone="139-1111-2222", engine=engine)] == \
        [second.id, first.id]
    assert [t.id for t in tickets_for(order_id="kf11111111", engine=engine)] == [first.id]
    assert [t.id for t in tickets_for(sender_id="b", engine=engine)] == [second.id]
    assert tickets_for(order_id="KF11111111", sender_id="b", engine=engine) == []
    assert tickets_for(order_id="garbage", engine=engine) == []
    assert tickets_for(phone="garbage", engine=engine) == []
    assert len(tickets_for(limit=1, engine=engine)) == 1


def test_update_ticket_records_history(engine):
    ticket = create_ticket("quality", "耳机没声音", remedy="replace", now=NOW, engine=engine)
    later = NOW + timedelta(hours=3)
    updated = update_ticket(ticket.id, status="resolved", satisfaction="5",
                            root_cause="出厂质检漏检", note="已补发新耳机", now=later,
                            engine=engine)
    assert updated.status == "resolved" and not updated.is_open
    assert updated.satisfaction == 5 and updated.root_cause == "出厂质检漏检"
    assert updated.updated_at == later
    assert [(e.kind, e.detail) for e in updated.history[1:]] == [
        ("status", "open → resolved"), ("satisfaction", "5"),
        ("root_cause", "出厂质检漏检"), ("note", "已补发新耳机")]
    assert get_ticket(ticket.id.lower(), engine=engine).history == updated.history


def test_update_with_unchanged_status_adds_no_event(engine):
    ticket = create_ticket("other", now=NOW, engine=engine)
    assert update_ticket(ticket.id, status="open", engine=engine).history == ticket.history


@pytest.mark.parametrize("bad", [{"status": "done"}, {"satisfaction": 0},
                                 {"satisfaction": 6}, {"satisfaction": "好"},
                                 {"satisfaction": True}])
def test_update_rejects_bad_values(engine, bad):
    ticket = create_ticket("other", now=NOW, engine=engine)
    with pytest.raises(ValueError):
        update_ticket(ticket.id, engine=engine, **bad)
    assert get_ticket(ticket.id, engine=engine) == ticket


def test_unknown_ticket(engine):
    assert get_ticket("T2099010100001", engine=engine) is None
    assert get_ticket("", engine=engine) is None
    with pytest.raises(TicketNotFound):
        update_ticket("T2099010100001", status="closed", engine=engine)


def test_overdue_only_while_open(engine):
    ticket = create_ticket("delivery", tier="urgent", now=NOW, engine=engine)
    assert not ticket.is_overdue(NOW + timedelta(hours=1))
    assert ticket.is_overdue(NOW + timedelta(hours=3))
    closed = update_ticket(ticket.id, status="closed", engine=engine)
    assert not closed.is_overdue(NOW + timedelta(hours=3))


def test_concurrent_ticket_creation_gives_unique_ids(engine):
    created, errors = [], []

    def worker():
        try:
            for _ in range(5):
                created.append(create_ticket("other", now=NOW, engine=engine).id)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(created)) == 20
    with session_scope(engine) as session:
        assert len(session.execute(select(Ticket.id)).all()) == 20


# --- CLI -------------------------------------------------------------------------------

def run_cli(*args, url):
    env = {**os.environ, "KEFU_DB_URL": url, "PYTHONIOENCODING": "ascii"}
    return subprocess.run([sys.executable, "-m", "kefu.store", *args], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, encoding="utf-8",
                          timeout=120)


def test_cli_seed_then_orders_json(url):
    seeded = run_cli("seed", url=url)
    assert seeded.returncode == 0, seeded.stderr
    assert "orders: +" in seeded.stdout
    result = run_cli("orders", "--limit", "5", "--json", url=url)
    assert result.returncode == 0, result.stderr
    orders = json.loads(result.stdout)
    assert len(orders) == 5
    assert orders[0]["order_id"] == "KF20261101"
    assert orders[0]["phone"] == "13800000001"
    for order in orders:
        assert re.fullmatch(r"KF\d{8}", order["order_id"]) and MOBILE.fullmatch(order["phone"])
        assert {"status", "items", "courier", "amount", "paid_at", "merchant",
                "shipping_address", "promised_delivery_at"} <= set(order)
        assert order["items"][0]["product"]


def test_cli_second_seed_adds_nothing(url):
    run_cli("seed", url=url)
    again = run_cli("seed", url=url)
    assert again.returncode == 0 and "customers: +0" in again.stdout
    assert "orders: +0" in again.stdout and "tickets: +0" in again.stdout


def test_cli_readable_tables(seeded, url):
    orders = run_cli("orders", "--limit", "3", url=url)
    assert orders.returncode == 0 and "KF20261103" in orders.stdout
    assert "保温杯" in orders.stdout and "KF20261104" not in orders.stdout
    tickets = run_cli("tickets", "--order", "KF20261110", url=url)
    assert tickets.returncode == 0 and "售后组" in tickets.stdout


def test_cli_tickets_json_filters(seeded, url):
    result = run_cli("tickets", "--json", "--phone", "13800000010", url=url)
    [ticket] = json.loads(result.stdout)
    assert ticket["order_id"] == "KF20261110" and ticket["promise"] == "7天内"
    assert json.loads(run_cli("tickets", "--json", "--order", "KF99999999",
                              url=url).stdout) == []


def test_cli_init_creates_tables(tmp_path):
    database = tmp_path / "new" / "kefu.db"
    result = run_cli("init", url=f"sqlite:///{database}")
    assert result.returncode == 0 and database.is_file()


def test_cli_unwritable_database_fails_clearly(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    result = run_cli("orders", "--json", url=f"sqlite:///{blocker / 'kefu.db'}")
    assert result.returncode == 1
    assert "cannot open database" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_cli_rejects_bad_limit(url):
    assert run_cli("orders", "--limit", "0", url=url).returncode == 2


def test_one_order_is_read_with_one_query_and_matches_the_list(lookup, engine):
    from sqlalchemy import event

    statements = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    several = [order for order in lookup.list_orders() if len(order.items) > 1]
    assert several, "the demo data has orders of several items"
    statements.clear()
    order = lookup.get(several[0].order_id)
    assert len(statements) == 1
    assert order == several[0]


def test_a_message_looks_each_order_up_once():
    from kefu.complaint.records import StoreRecords

    class CountingLookup:
        calls = 0

        def get(self, order_id):
            self.calls += 1
            return None if order_id == "KF00000000" else order_id

        def by_phone(self, phone):
            return []

    lookup = CountingLookup()
    records = StoreRecords(lookup)
    assert [records.find_order("KF20261101") for _ in range(3)] == ["KF20261101"] * 3
    assert records.find_order("KF00000000") is None and records.find_order("KF00000000") is None
    assert lookup.calls == 2
