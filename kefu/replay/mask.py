"""Personal data masked for trainers: phone numbers (mobile, with +86, landline), ID
numbers, street addresses, and the names and addresses of the order records.

Trainers judge how the bot talked, not who the customer is, so everything they see
(customer text, bot text, slots, entities) goes through :func:`mask_text` or
:func:`mask_value`.  Names from the orders database are masked wherever they appear,
also where no pattern would recognise them.
"""
from __future__ import annotations

import re
import time
from typing import Any, Iterable, List, Tuple

from kefu.store import mask_phone

# 18-digit resident ID: 6-digit region, birth date, 3 digits, check digit (0-9 or X).
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])"
                       r"(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])")
# Mainland mobile numbers, also typed with spaces or dashes (138 1234 5678) or with the
# country code (+86 138…, 0086138…).
PHONE = re.compile(r"(?<![\d+])(?:(?:\+|00)?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)")
# Landlines with their area code: 010-12345678, 0755 8888 6666, (021)12345678.
LANDLINE = re.compile(r"(?<!\d)[(（]?0\d{2,3}[)）]?[ -]?\d{3,4}[ -]?\d{4}(?!\d)")
# The street part of an address: a road, lane or estate followed by a house number,
# building, unit or room.  The region before it (省/市/区) stays: it says little.
_NUMBER = r"(?:\d+|[一二两三四五六七八九十百]+)"
ADDRESS = re.compile(
    r"[\u4e00-\u9fffA-Za-z0-9]{0,12}?(?:路|街|大道|巷|弄|胡同|村|小区|花园|公寓|大厦|苑|里)"
    rf"[\u4e00-\u9fffA-Za-z0-9#\-]{{0,12}}?{_NUMBER}(?:号楼|号院|号|栋|幢|单元|室|楼|层)"
    rf"(?:[\u4e00-\u9fffA-Za-z0-9#\-]{{0,10}}?{_NUMBER}(?:号楼|号|栋|幢|单元|室|楼|层))*")
REGION = re.compile(r"^(?:[\u4e00-\u9fff]{2,8}?(?:省|自治区|市|区|县|旗|镇))+")
REGION_END = re.compile(r".*(?:省|自治区|市|区|县|旗|镇)(?=[^省市区县旗镇]*?(?:路|街|大道|巷|弄|胡同|村|小区|花园|公寓|大厦|苑|里))")

ADDRESS_MASK = "＊＊＊"
_RECORDS_TTL = 60.0  # seconds: new orders show up within a minute
_records: Tuple[float, List[Tuple[str, str]]] = (0.0, [])


def mask_id_number(number: str) -> str:
    return number[:6] + "*" * 8 + number[-4:]


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1)


def mask_address(address: str) -> str:
    region = REGION.match(address)
    return (region.group(0) if region else "") + ADDRESS_MASK


def record_replacements() -> List[Tuple[str, str]]:
    """(text, masked) for every customer name and address in the order records,
    longest first so a full address is replaced before a part of it."""
    global _records
    loaded_at, pairs = _records
    if time.monotonic() - loaded_at < _RECORDS_TTL:
        return pairs
    pairs = _load_records()
    _records = (time.monotonic(), pairs)
    return pairs


def _load_records() -> List[Tuple[str, str]]:
    from sqlalchemy.exc import SQLAlchemyError

    from kefu.store import StoreError, session_scope
    from kefu.store.models import Customer, Order

    found = {}
    try:
        with session_scope() as session:
            for name, address in session.query(Customer.name, Customer.address):
                found[name] = mask_name(name)
                found[address] = mask_address(address)
            for (address,) in session.query(Order.shipping_address):
                found[address] = mask_address(address)
    except (StoreError, SQLAlchemyError, OSError):
        return []  # the patterns still mask phones, IDs and street addresses
    return sorted(((k, v) for k, v in found.items() if len(k) >= 2), key=lambda kv: -len(kv[0]))


def mask_text(text: str, replacements: Iterable[Tuple[str, str]] = None) -> str:
    if not text:
        return text
    for original, masked in (record_replacements() if replacements is None else replacements):
        if original in text:
            text = text.replace(original, masked)
    text = ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)
    text = PHONE.sub(lambda m: mask_phone(re.sub(r"[ -]", "", m.group(0))), text)
    text = LANDLINE.sub(lambda m: mask_landline(m.group(0)), text)
    return ADDRESS.sub(_mask_street, text)


def mask_landline(number: str) -> str:
    """The area code and the last 2 digits stay: 010-****5678 would still say too much."""
    digits = re.sub(r"\D", "", number)
    area = 3 if digits[:2] in ("01", "02") else 4
    return digits[:area] + "-" + "*" * (len(digits) - area - 2) + digits[-2:]


def _mask_street(match: "re.Match") -> str:
    # The match may start before the street (地址是上海市徐汇区…): keep up to the region.
    region = REGION_END.match(match.group(0))
    return (region.group(0) if region else "") + ADDRESS_MASK


def mask_value(value: Any, replacements=None) -> Any:
    """Any JSON-like value with every string in it masked."""
    if replacements is None:
        replacements = record_replacements()
    if isinstance(value, str):
        return mask_text(value, replacements)
    if isinstance(value, list):
        return [mask_value(item, replacements) for item in value]
    if isinstance(value, dict):
        return {key: mask_value(item, replacements) for key, item in value.items()}
    return value
