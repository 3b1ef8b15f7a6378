"""Deterministic demo data: customers, orders across five kinds of shop, a few tickets.

Run ``python -m kefu.store seed`` (add ``--reset`` to rebuild).  Seeding is
idempotent: rows are keyed by phone, order id and a fixed ``seed-…`` sender id, so a
second run adds nothing.  All randomness comes from a fixed seed; times are
relative to the moment of seeding (naive local time), so the demo always has
"yesterday" and "three days late" orders.

Demo orders with fixed ids, for demos, tests and benchmarks
(see :data:`DEMO_ORDERS`; times relative to seeding):

=========== =========== ====== ========== ==========================================
order       phone       name   status     situation (complaint category)
=========== =========== ====== ========== ==========================================
KF20261101  13800000001 张伟   delivered  保温杯 delivered 3 days ago, lid leaks (quality)
KF20261102  13800000002 李娜   in_transit 蓝牙耳机 via 中通, 4 days past its promise (delivery)
KF20261103  13800000003 王芳   lost       羽绒服 via 圆通, tracking stuck 8 days (delivery)
KF20261104  13800000004 刘洋   delivered  ordered 连衣裙 红色 M, received blue L (wrong_item)
KF20261105  13800000005 陈静   delivered  外卖 麻辣香锅 via 美团骑手, ~1 h late, rude rider (service)
KF20261106  13800000006 杨磊   refunded   扫地机器人 returned, refund 8 days ago not received (billing)
KF20261107  13800000007 赵敏   delivered  精华液 charged 499 although the promotion said 399 (billing)
KF20261108  13800000008 黄强   delivered  平板电脑, electronic invoice never issued (other)
KF20261109  13800000009 周婷   delivered  车厘子 via 邮政, arrived late and half spoiled (quality)
KF20261110  13800000010 吴昊   returned   跑步鞋 sole came off; has open ticket in progress (quality)
KF20261111  13800000001 张伟   paid       T恤 paid 30 h ago, not shipped yet (delivery)
KF20261112  13800000002 李娜   shipped    智能手表 via 顺丰, on time (promise tomorrow) (delivery)
=========== =========== ====== ========== ==========================================

13800000001 and 13800000002 have two orders each (ask which one).  In all the seed
writes 72 customers (10 above), 272 orders (260 generated, with ids from KF3…) and
5 tickets (one on KF20261110, the others on generated orders).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from kefu.store.db import get_engine, local_now, reset_db, session_scope
from kefu.store.models import Customer, Order, OrderItem, Ticket, TicketEvent
from kefu.store.tickets import DEFAULT_OWNER, insert_ticket

RANDOM_SEED = 20261101
CUSTOMER_COUNT = 72
GENERATED_ORDER_COUNT = 260

PARCEL_PROMISE_DAYS = {"顺丰": 2, "京东快递": 2, "中通": 3, "圆通": 3, "韵达": 3,
                       "极兔": 4, "邮政": 5}
RIDER = "美团骑手"
FOOD_PROMISE = timedelta(minutes=45)


@dataclass(frozen=True)
class Merchant:
    name: str
    kind: str  # "parcel" (shipped by courier) or "food" (delivered by a rider)
    products: tuple[tuple[str, int], ...]  # (product, unit price in yuan)


MERCHANTS = (
    Merchant("声悦数码旗舰店", "parcel", (("蓝牙耳机", 299), ("充电宝 20000mAh", 129),
                                         ("智能手表", 899), ("机械键盘", 349), ("电动牙刷", 199))),
    Merchant("极客电子专营店", "parcel", (("平板电脑", 2499), ("扫地机器人", 1599),
                                         ("手机壳", 39), ("无线鼠标", 89), ("USB-C 数据线", 29))),
    Merchant("北纬服饰旗舰店", "parcel", (("羽绒服", 699), ("连衣裙", 259), ("牛仔裤", 199),
                                         ("纯棉T恤", 79), ("羊毛围巾", 159))),
    Merchant("轻跑运动官方店", "parcel", (("跑步鞋", 459), ("运动袜 5双装", 49),
                                         ("速干运动裤", 149))),
    Merchant("简居家居旗舰店", "parcel", (("保温杯 500ml", 129), ("四件套床品", 329),
                                         ("乳胶枕", 259), ("收纳箱", 59), ("护眼台灯", 149))),
    Merchant("厨乐厨具专营店", "parcel", (("不粘锅", 189), ("空气炸锅", 399),
                                         ("陶瓷碗 6只装", 69))),
    Merchant("花颜美妆旗舰店", "parcel", (("面霜 50g", 368), ("精华液 30ml", 499),
                                         ("口红", 249), ("面膜 10片", 129))),
    Merchant("清研护肤官方店", "parcel", (("防晒霜", 159), ("洗面奶", 89), ("爽肤水", 139))),
    Merchant("田园生鲜馆", "parcel", (("五常大米 10kg", 89), ("坚果礼盒", 128),
                                      ("车厘子 2斤装", 119), ("土鸡蛋 30枚", 59))),
    Merchant("老街黄焖鸡米饭(人民路店)", "food", (("黄焖鸡米饭", 26), ("卤蛋", 3), ("可乐", 5))),
    Merchant("蜀香麻辣香锅", "food", (("麻辣香锅(中份)", 48), ("米饭", 2), ("珍珠奶茶", 18))),
    Merchant("兰州牛肉拉面馆", "food", (("牛肉拉面", 22), ("凉拌黄瓜", 8))),
    Merchant("意式披萨坊", "food", (("至尊披萨 9寸", 89), ("鸡翅 6只", 32))),
    Merchant("炸鸡研究所", "food", (("炸鸡套餐", 56), ("薯条", 12))),
    Merchant("一点茶饮", "food", (("珍珠奶茶", 18), ("杨枝甘露", 22), ("柠檬茶", 15))),
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾田董潘袁蔡蒋余"
GIVEN_NAMES = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇",
               "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "子涵",
               "雨萱", "浩然", "梓轩", "欣怡", "宇航", "思彤", "俊杰", "佳怡", "晨", "博文",
               "诗雨", "一鸣", "嘉怡", "志强", "建国", "海燕")
PLACES = (("北京市", "朝阳区", "建国路"), ("北京市", "海淀区", "中关村大街"),
          ("上海市", "浦东新区", "张杨路"), ("上海市", "徐汇区", "漕溪北路"),
          ("广州市", "天河区", "体育西路"), ("深圳市", "南山区", "科技园南路"),
          ("杭州市", "西湖区", "文三路"), ("南京市", "鼓楼区", "中山北路"),
          ("成都市", "武侯区", "人民南路"), ("武汉市", "洪山区", "珞喻路"),
          ("西安市", "雁塔区", "长安南路"), ("重庆市", "渝中区", "解放碑步行街"),
          ("苏州市", "姑苏区", "干将西路"), ("天津市", "和平区", "南京路"),
          ("长沙市", "岳麓区", "麓山南路"), ("郑州市", "金水区", "花园路"))
ESTATES = ("阳光花园", "锦绣家园", "翠湖苑", "金色港湾", "幸福里", "绿地公寓", "和平小区",
           "东方名苑")
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "139", "150", "151",
                   "152", "153", "155", "156", "158", "159", "166", "177", "180", "182",
                   "185", "186", "187", "188", "189", "199")

PARCEL_STATUS_WEIGHTS = {"delivered": 46, "in_transit": 15, "shipped": 6, "paid": 5,
                         "lost": 4, "returned": 9, "refunded": 15}
FOOD_STATUS_WEIGHTS = {"delivered": 86, "refunded": 8, "in_transit": 6}


@dataclass(frozen=True)
class DemoOrder:
    """A well-known order for demos and tests; times are offsets from seeding."""

    order_id: str
    phone: str
    customer: str
    address: str
    merchant: str
    items: tuple[tuple[str, int, int], ...]  # (product, quantity, unit price in yuan)
    courier: str
    status: str
    paid_ago: timedelta
    category: str  # the complaint this order is for
    situation: str
    ship_after: Optional[timedelta] = None  # from payment
    promise: timedelta = timedelta(days=3)  # from payment
    deliver_after: Optional[timedelta] = None  # from shipping


def _days(value: float) -> timedelta:
    return timedelta(days=value)


def _hours(value: float) -> timedelta:
    return timedelta(hours=value)


DEMO_ORDERS = (
    DemoOrder("KF20261101", "13800000001", "张伟", "北京市朝阳区建国路88号阳光花园3栋1201室",
              "简居家居旗舰店", (("保温杯 500ml", 1, 129),), "顺丰", "delivered", _days(4),
              "quality", "保温杯收到后杯盖漏水", _hours(5), _days(2), _days(1)),
    DemoOrder("KF20261102", "13800000002", "李娜", "上海市浦东新区张杨路1288弄5号602室",
              "声悦数码旗舰店", (("蓝牙耳机", 1, 299),), "中通", "in_transit", _days(7),
              "delivery", "蓝牙耳机已超过承诺送达时间4天仍在运输中", _hours(10), _days(3)),
    DemoOrder("KF20261103", "13800000003", "王芳", "广州市天河区体育西路101号翠湖苑2栋803室",
              "北纬服饰旗舰店", (("羽绒服", 1, 699),), "圆通", "lost", _days(12),
              "delivery", "羽绒服物流停在中转站8天没有更新，已确认丢件", _hours(8), _days(3)),
    DemoOrder("KF20261104", "13800000004", "刘洋", "深圳市南山区科技园南路15号幸福里6栋1502室",
              "北纬服饰旗舰店", (("连衣裙 红色 M码", 1, 259),), "韵达", "delivered", _days(4),
              "wrong_item", "订的红色M码连衣裙，收到的是蓝色L码", _hours(6), _days(3), _days(2)),
    DemoOrder("KF20261105", "13800000005", "陈静", "杭州市西湖区文三路478号华星大厦12楼",
              "蜀香麻辣香锅",
              (("麻辣香锅(中份)", 1, 48), ("珍珠奶茶", 1, 18)), RIDER, "delivered", _hours(3),
              "service", "外卖晚到近1小时，骑手态度恶劣，汤洒了一半",
              timedelta(minutes=12), FOOD_PROMISE, timedelta(minutes=90)),
    DemoOrder("KF20261106", "13800000006", "杨磊", "成都市武侯区人民南路四段27号锦绣家园1栋302室",
              "极客电子专营店", (("扫地机器人", 1, 1599),), "京东快递", "refunded", _days(20),
              "billing", "扫地机器人已退货，显示8天前退款但一直没到账", _hours(20), _days(2), _days(1)),
    DemoOrder("KF20261107", "13800000007", "赵敏", "南京市鼓楼区中山北路30号金色港湾4栋701室",
              "花颜美妆旗舰店", (("精华液 30ml", 1, 499),), "顺丰", "delivered", _days(6),
              "billing", "精华液活动价399元，实际扣了499元", _hours(4), _days(2), _days(1)),
    DemoOrder("KF20261108", "13800000008", "黄强", "武汉市洪山区珞喻路1037号东方名苑9栋1101室",
              "极客电子专营店", (("平板电脑", 1, 2499),), "京东快递", "delivered", _days(10),
              "other", "平板电脑申请的电子发票一直没开", _hours(3), _days(2), _days(1)),
    DemoOrder("KF20261109", "13800000009", "周婷", "西安市雁塔区长安南路86号绿地公寓5栋402室",
              "田园生鲜馆", (("车厘子 2斤装", 1, 119),), "邮政", "delivered", _days(5),
              "quality", "车厘子晚到两天，一半已经烂了", _days(1), _days(2), _days(3)),
    DemoOrder("KF20261110", "13800000010", "吴昊", "重庆市渝中区解放碑步行街8号和平小区3栋905室",
              "轻跑运动官方店", (("跑步鞋", 1, 459),), "极兔", "returned", _days(15),
              "quality", "跑步鞋穿一周鞋底开胶，已寄回，工单处理中", _hours(12), _days(4), _days(3)),
    DemoOrder("KF20261111", "13800000001", "张伟", "北京市朝阳区建国路88号阳光花园3栋1201室",
              "北纬服饰旗舰店", (("纯棉T恤", 2, 79),), "圆通", "paid", _hours(30),
              "delivery", "T恤付款30小时了还没发货"),
    DemoOrder("KF20261112", "13800000002", "李娜", "上海市浦东新区张杨路1288弄5号602室",
              "声悦数码旗舰店", (("智能手表", 1, 899),), "顺丰", "shipped", _hours(20),
              "delivery", "智能手表已发货，承诺明天送达，并未超时", _hours(6), _days(2)),
)


@dataclass(frozen=True)
class DemoTicket:
    sender_id: str  # fixed, so seeding twice does not duplicate
    channel: str
    order_pick: str  # a demo order id, or "<kind>:<status>" for a generated order
    category: str
    remedy: str
    tier: str
    created_ago: timedelta
    problem: str
    status: str = "open"
    satisfaction: Optional[int] = None
    root_cause: Optional[str] = None
    note: Optional[str] = None


DEMO_TICKETS = (
    DemoTicket("seed-ticket-1", "web", "KF20261110", "quality", "refund", "complex", _days(2),
               "跑步鞋穿了一周鞋底开胶，客户已寄回，要求退款", status="in_progress",
               note="已收到退货，等待质检"),
    DemoTicket("seed-ticket-2", "wechat", "parcel:delivered", "quality", "replace", "normal",
               _days(6), "收到时外包装破损，商品有磕碰", status="resolved", satisfaction=4,
               root_cause="包装缓冲材料不足"),
    DemoTicket("seed-ticket-3", "web", "food:delivered", "service", "compensate", "urgent",
               _days(9), "骑手超时40分钟，电话里语气很冲", status="closed", satisfaction=2,
               root_cause="高峰期骑手超时未及时报备"),
    DemoTicket("seed-ticket-4", "wechat", "parcel:refunded", "billing", "refund", "normal",
               _days(12), "退款金额少了运费", status="cancelled", note="客户来电说已到账，撤销"),
    DemoTicket("seed-ticket-5", "web", "parcel:lost", "delivery", "resend", "urgent",
               _hours(1), "快递显示丢件，希望尽快补发"),
)


@dataclass(frozen=True)
class SeedSummary:
    added: dict  # table -> rows added by this run
    totals: dict  # table -> rows in the database afterwards

    def __str__(self) -> str:
        return ", ".join(f"{name}: +{self.added[name]} (total {self.totals[name]})"
                         for name in self.added)


def seed(*, reset: bool = False, now: Optional[datetime] = None,
         engine: Optional[Engine] = None) -> SeedSummary:
    """Write the demo data; adds only what is missing unless ``reset`` rebuilds all."""
    engine = engine or get_engine()
    if reset:
        reset_db(engine)
    now = (now or local_now()).replace(second=0, microsecond=0)
    customers, orders = generate(now)
    with session_scope(engine) as session:
        added = {
            "customers": _add_customers(session, customers),
            "orders": _add_orders(session, orders),
        }
        session.flush()
        added["tickets"] = _add_tickets(session, orders, now)
    return SeedSummary(added, count_rows(engine))


def count_rows(engine: Optional[Engine] = None) -> dict:
    with session_scope(engine) as session:
        return {name: session.execute(select(func.count()).select_from(model)).scalar()
                for name, model in (("customers", Customer), ("orders", Order),
                                    ("tickets", Ticket))}


# --- generation (pure: same input, same rows) -------------------------------------

def generate(now: datetime) -> tuple[list[Customer], list[Order]]:
    """The demo customers and orders as unsaved ORM objects.

    Every random draw is made in the same order whatever ``now`` is, so ids, names
    and products never change; only the timestamps follow ``now``.
    Orders name their customer by phone only; the writer links them to stored rows.
    """
    rng = random.Random(RANDOM_SEED)
    demo_customers = list({demo.phone: Customer(name=demo.customer, phone=demo.phone,
                                                address=demo.address)
                           for demo in DEMO_ORDERS}.values())
    # Generated orders go to generated customers only, so the demo phones have
    # exactly the orders documented above.
    other_customers = _random_customers(rng, CUSTOMER_COUNT - len(demo_customers))
    orders = [_demo_order(demo, now) for demo in DEMO_ORDERS]
    orders += _random_orders(rng, now, other_customers, GENERATED_ORDER_COUNT)
    return demo_customers + other_customers, orders


def _demo_order(demo: DemoOrder, now: datetime) -> Order:
    paid_at = now - demo.paid_ago
    shipped_at = paid_at + demo.ship_after if demo.ship_after else None
    delivered_at = shipped_at + demo.deliver_after if shipped_at and demo.deliver_after else None
    items = [OrderItem(product=name, quantity=qty, unit_price_fen=price * 100)
             for name, qty, price in demo.items]
    return Order(order_id=demo.order_id, phone=demo.phone,
                 amount_fen=sum(item.quantity * item.unit_price_fen for item in items),
                 paid_at=paid_at, courier=demo.courier,
                 tracking_no=_tracking_no(random.Random(demo.order_id), demo.courier)
                 if shipped_at else None,
                 status=demo.status, shipped_at=shipped_at,
                 promised_delivery_at=paid_at + demo.promise, delivered_at=delivered_at,
                 shipping_address=demo.address, merchant=demo.merchant, items=items)


def _random_customers(rng: random.Random, count: int) -> list[Customer]:
    used_phones = {demo.phone for demo in DEMO_ORDERS}
    customers = []
    while len(customers) < count:
        phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10 ** 8):08d}"
        name = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
        address = _random_address(rng)
        if phone not in used_phones:
            used_phones.add(phone)
            customers.append(Customer(name=name, phone=phone, address=address))
    return customers


def _random_address(rng: random.Random) -> str:
    city, district, road = rng.choice(PLACES)
    return (f"{city}{district}{road}{rng.randint(1, 999)}号{rng.choice(ESTATES)}"
            f"{rng.randint(1, 20)}栋{rng.randint(1, 30)}{rng.randint(1, 4):02d}室")


def _random_orders(rng: random.Random, now: datetime, customers: list[Customer],
                   count: int) -> list[Order]:
    used_ids = {demo.order_id for demo in DEMO_ORDERS}
    orders = []
    while len(orders) < count:
        # Ids above KF3… keep generated orders after the demo ones in id order.
        order_id = f"KF{rng.randrange(30_000_000, 100_000_000):08d}"
        customer = rng.choice(customers)
        # About one order in four is a takeaway meal, as on a mixed platform.
        kind = "food" if rng.random() < 0.25 else "parcel"
        merchant = rng.choice([m for m in MERCHANTS if m.kind == kind])
        items = _random_items(rng, merchant)
        if kind == "food":
            courier = RIDER
            status, times = _food_timeline(rng, now)
        else:
            courier = rng.choice(list(PARCEL_PROMISE_DAYS))
            status, times = _parcel_timeline(rng, now, PARCEL_PROMISE_DAYS[courier])
        tracking_no = _tracking_no(rng, courier)
        if order_id in used_ids:
            continue
        used_ids.add(order_id)
        paid_at, shipped_at, promised_at, delivered_at = (
            moment.replace(microsecond=0) if moment else None for moment in times)
        orders.append(Order(
            order_id=order_id, phone=customer.phone,
            amount_fen=sum(item.quantity * item.unit_price_fen for item in items),
            paid_at=paid_at, courier=courier,
            tracking_no=tracking_no if shipped_at else None, status=status,
            shipped_at=shipped_at, promised_delivery_at=promised_at,
            delivered_at=delivered_at, shipping_address=customer.address,
            merchant=merchant.name, items=items))
    return orders


def _random_items(rng: random.Random, merchant: Merchant) -> list[OrderItem]:
    count = min(len(merchant.products), rng.choice((1, 1, 1, 2, 3)))
    picks = rng.sample(merchant.products, k=count)
    return [OrderItem(product=name, quantity=rng.choice((1, 1, 1, 2)) if price >= 20
                      else rng.randint(1, 3), unit_price_fen=price * 100)
            for name, price in picks]


def _weighted(rng: random.Random, weights: dict) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _parcel_timeline(rng: random.Random, now: datetime, promise_days: int):
    """(status, (paid, shipped, promised, delivered)) consistent with the status."""
    status = _weighted(rng, PARCEL_STATUS_WEIGHTS)
    promise = _days(promise_days)
    ship_delay = _hours(rng.uniform(2, 30))
    transit = _days(rng.uniform(0.6, promise_days + 1.5))  # some arrive late
    # Draw every number up front so the sequence of draws never depends on status.
    recent, spread, refund_early = rng.uniform(0.05, 1), rng.random(), rng.random() < 0.4
    if status == "paid":
        paid = now - _hours(1 + 20 * recent)
        return status, (paid, None, paid + promise, None)
    if status == "refunded" and refund_early:  # cancelled before shipping
        paid = now - _days(1 + 29 * spread)
        return status, (paid, None, paid + promise, None)
    if status == "shipped":
        paid = now - ship_delay - _hours(1 + 20 * recent)
        return status, (paid, paid + ship_delay, paid + promise, None)
    if status == "in_transit":  # up to six days past the promise: the late parcels
        paid = now - _days(1.5 + (promise_days + 4.5) * spread)
        return status, (paid, paid + ship_delay, paid + promise, None)
    if status == "lost":
        paid = now - _days(promise_days + 5 + 30 * spread)
        return status, (paid, paid + ship_delay, paid + promise, None)
    # delivered, returned, or refunded after a return: it arrived first
    paid = now - _days(promise_days + 3 + 55 * spread)
    delivered = min(paid + ship_delay + transit, now - _hours(1))
    return status, (paid, paid + ship_delay, paid + promise, delivered)


def _food_timeline(rng: random.Random, now: datetime):
    status = _weighted(rng, FOOD_STATUS_WEIGHTS)
    pickup = timedelta(minutes=rng.uniform(8, 25))
    ride = timedelta(minutes=rng.uniform(12, 55))  # some meals arrive late
    days_ago, minutes_ago = rng.uniform(0.1, 20), rng.uniform(15, 40)
    if status == "in_transit":  # a rider is on the way right now
        paid = now - timedelta(minutes=minutes_ago)
        pickup = min(pickup, timedelta(minutes=minutes_ago - 5))
        return status, (paid, paid + pickup, paid + FOOD_PROMISE, None)
    paid = now - _days(days_ago)
    return status, (paid, paid + pickup, paid + FOOD_PROMISE, paid + pickup + ride)


_TRACKING_FORMATS = {"顺丰": ("SF", 13), "京东快递": ("JDX", 12), "中通": ("75", 12),
                     "圆通": ("YT", 13), "韵达": ("43", 13), "邮政": ("98", 11),
                     "极兔": ("JT", 13)}


def _tracking_no(rng: random.Random, courier: str) -> Optional[str]:
    prefix, digits = _TRACKING_FORMATS.get(courier, ("", 0))
    number = "".join(str(rng.randrange(10)) for _ in range(digits))
    return prefix + number if digits else None


# --- writing (only what is missing) ------------------------------------------------

def _add_customers(session: Session, customers: list[Customer]) -> int:
    existing = set(session.execute(select(Customer.phone)).scalars())
    new = [c for c in customers if c.phone not in existing]
    session.add_all(new)
    session.flush()
    return len(new)


def _add_orders(session: Session, orders: list[Order]) -> int:
    existing = set(session.execute(select(Order.order_id)).scalars())
    customers_by_phone = {c.phone: c for c in session.execute(select(Customer)).scalars()}
    added = 0
    for order in orders:
        if order.order_id in existing:
            continue
        # Attach to the stored customer (it may come from an earlier run).
        order.customer = customers_by_phone[order.phone]
        session.add(order)
        added += 1
    return added


def _add_tickets(session: Session, orders: list[Order], now: datetime) -> int:
    seeded = set(session.execute(select(Ticket.sender_id)
                                 .where(Ticket.sender_id.like("seed-%"))).scalars())
    added = 0
    for spec in DEMO_TICKETS:
        if spec.sender_id in seeded:
            continue
        order = _pick_order(orders, spec.order_pick)
        created_at = now - spec.created_ago
        ticket = insert_ticket(
            session, created_at=created_at, status="open", category=spec.category,
            problem=spec.problem, remedy=spec.remedy, tier=spec.tier,
            owner=DEFAULT_OWNER[spec.category], order_id=order.order_id,
            phone=order.phone, sender_id=spec.sender_id, channel=spec.channel)
        _replay_history(ticket, spec, created_at)
        session.flush()
        added += 1
    return added


def _pick_order(orders: list[Order], pick: str) -> Order:
    if pick.startswith("KF"):
        return next(order for order in orders if order.order_id == pick)
    kind, status = pick.split(":")
    demo_ids = {demo.order_id for demo in DEMO_ORDERS}
    return next(order for order in orders
                if order.order_id not in demo_ids and order.status == status
                and (order.courier == RIDER) == (kind == "food"))


def _replay_history(ticket: Ticket, spec: DemoTicket, created_at: datetime) -> None:
    """Give a backdated ticket the events an agent would have left on it."""
    step = min(spec.created_ago / 4, _hours(2))
    at = created_at
    changes = []
    if spec.status != "open":
        if spec.status != "cancelled":
            changes.append(("status", "open → in_progress", "in_progress"))
        if spec.note:
            changes.append(("note", spec.note, None))
        if spec.status in ("resolved", "closed", "cancelled"):
            previous = "open" if spec.status == "cancelled" else "in_progress"
            changes.append(("status", f"{previous} → {spec.status}", spec.status))
    for kind, detail, new_status in changes:
        at += step
        ticket.events.append(TicketEvent(at=at, kind=kind, detail=detail))
        if new_status:
            ticket.status = new_status
    if spec.root_cause:
        at += step
        ticket.root_cause = spec.root_cause
        ticket.events.append(TicketEvent(at=at, kind="root_cause", detail=spec.root_cause))
    if spec.satisfaction:
        at += step
        ticket.satisfaction = spec.satisfaction
        ticket.events.append(TicketEvent(at=at, kind="satisfaction",
                                         detail=str(spec.satisfaction)))
    ticket.updated_at = at
