"""Command line: ``python -m kefu.store {init,seed,orders,tickets}``.

    python -m kefu.store init                      create missing tables
    python -m kefu.store seed [--reset]            write the demo data (idempotent)
    python -m kefu.store orders [--limit N] [--status S] [--phone P] [--json]
    python -m kefu.store tickets [--order ID] [--phone P] [--sender S] [--limit N] [--json]

``--db URL`` (before the command) overrides ``KEFU_DB_URL``.  Exit status 1 when
the database cannot be opened, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from typing import Optional, Sequence

from kefu.store.db import StoreError, db_url, get_engine, init_db, safe_url
from kefu.store.models import ORDER_STATUSES
from kefu.store.orders import SqlOrderLookup, normalize_phone
from kefu.store.seed import seed
from kefu.store.tickets import tickets_for


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    _use_utf8_output()
    try:
        engine = get_engine(args.db or db_url())
        return args.run(args, engine)
    except StoreError as exc:
        print(f"kefu.store: error: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kefu.store",
                                     description="kefu's database: demo orders and tickets")
    parser.add_argument("--db", metavar="URL", help="database URL (default: $KEFU_DB_URL "
                        "or sqlite:///<project>/.kefu/kefu.db)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser("init", help="create missing tables")
    init.set_defaults(run=_init)

    seeding = commands.add_parser("seed", help="write the demo data (idempotent)")
    seeding.add_argument("--reset", action="store_true",
                         help="drop every table first (all data is lost)")
    seeding.set_defaults(run=_seed)

    orders = commands.add_parser("orders", help="list orders (demo orders first)")
    orders.add_argument("--limit", type=_positive_int, default=20, metavar="N")
    orders.add_argument("--status", choices=ORDER_STATUSES)
    orders.add_argument("--phone", help="only this customer's orders")
    orders.add_argument("--json", action="store_true", help="print a JSON list")
    orders.set_defaults(run=_orders)

    tickets = commands.add_parser("tickets", help="list tickets, newest first")
    tickets.add_argument("--order", metavar="ID")
    tickets.add_argument("--phone", metavar="P")
    tickets.add_argument("--sender", metavar="ID", help="conversation (sender) id")
    tickets.add_argument("--limit", type=_positive_int, default=50, metavar="N")
    tickets.add_argument("--json", action="store_true", help="print a JSON list")
    tickets.set_defaults(run=_tickets)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _use_utf8_output() -> None:
    # Chinese text must not crash on a terminal or pipe set to ASCII.
    for stream in (sys.stdout, sys.stderr):
        if (stream.encoding or "").lower().replace("-", "") != "utf8":
            stream.reconfigure(encoding="utf-8")


def _init(args, engine) -> int:
    init_db(engine)
    print(f"tables ready in {safe_url(str(engine.url))}")
    return 0


def _seed(args, engine) -> int:
    summary = seed(reset=args.reset, engine=engine)
    print(f"{'reset and seeded' if args.reset else 'seeded'} "
          f"{safe_url(str(engine.url))}: {summary}")
    return 0


def _orders(args, engine) -> int:
    lookup = SqlOrderLookup(engine)
    if args.phone:
        if normalize_phone(args.phone) is None:
            print(f"kefu.store: error: not a mobile number: {args.phone}", file=sys.stderr)
            return 2
        orders = [o for o in lookup.by_phone(args.phone)
                  if not args.status or o.status == args.status][:args.limit]
    else:
        orders = lookup.list_orders(limit=args.limit, status=args.status)
    if args.json:
        print(json.dumps([order.to_dict() for order in orders], ensure_ascii=False, indent=2))
    else:
        _print_table(("订单号", "客户", "手机", "状态", "快递", "金额", "商品"),
                     [(o.order_id, o.customer_name, o.phone,
                       o.status + (" (late)" if o.is_late() else ""), o.courier,
                       f"¥{o.amount}", o.products) for o in orders])
    if not orders and not args.phone and not args.status:
        print("no orders yet; run: python -m kefu.store seed", file=sys.stderr)
    return 0


def _tickets(args, engine) -> int:
    tickets = tickets_for(order_id=args.order, phone=args.phone, sender_id=args.sender,
                          limit=args.limit, engine=engine)
    if args.json:
        print(json.dumps([t.to_dict() for t in tickets], ensure_ascii=False, indent=2))
        return 0
    _print_table(("工单号", "状态", "类别", "方案", "负责", "时限", "截止", "订单", "手机", "问题"),
                 [(t.id, t.status, t.category, t.remedy or "-", t.owner, t.promise,
                   f"{t.deadline:%m-%d %H:%M}", t.order_id or "-",
                   t.phone or "-", _shorten(t.problem, 24)) for t in tickets])
    return 0


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _display_width(text: str) -> int:
    # Chinese characters take two terminal columns.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _print_table(headers: Sequence[str], rows: list[Sequence[str]]) -> None:
    columns = list(zip(headers, *rows))
    widths = [max(_display_width(str(cell)) for cell in column) for column in columns]
    for row in (headers, *rows):
        cells = [str(cell) + " " * (width - _display_width(str(cell)))
                 for cell, width in zip(row, widths)]
        print("  ".join(cells).rstrip())
    print(f"({len(rows)} rows)")


if __name__ == "__main__":
    sys.exit(main())
