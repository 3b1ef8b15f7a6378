"""What each desk user may see of a case: phones masked, the customer named, no raw
conversation id in the queue, ratings as scores.  Every case the desk's API returns
goes through :func:`brief` or :func:`full`; nothing else masks."""

from __future__ import annotations

import re
from typing import Any, Dict, List

from kefu.desk.codes import ROOT_CAUSES, action_line, resolution_name
from kefu.handoff.agents import AgentInfo
from kefu.store.orders import mask_phone, normalize_phone

RATE_PAYLOAD = re.compile(r'^/rate\s*\{\s*"rating"\s*:\s*"?(\d)"?\s*\}\s*$')
PHONE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
CHANNEL_VISITOR = {"socketio": "网页访客", "rest": "接口访客", "wechat": "微信用户"}


def customer_label(case: Dict[str, Any]) -> str:
    """"张三 138****0001", "138****0001", or "网页访客" — never the conversation id."""
    phone = normalize_phone(case.get("customer"))
    masked = mask_phone(phone) if phone else ""
    name = case.get("customer_name") or ""
    if name or masked:
        return " ".join(part for part in (name, masked) if part)
    return CHANNEL_VISITOR.get(case.get("channel") or "", "访客") + "（未留手机号）"


def brief(case: Dict[str, Any]) -> Dict[str, Any]:
    """A case in a list: the customer as a label, no phone, no conversation id."""
    shown = {key: value for key, value in case.items() if key not in ("customer", "sender_id")}
    shown["customer"] = customer_label(case)
    shown["summary"] = mask_phones(case.get("summary") or "")
    shown["resolution_name"] = resolution_name(case.get("resolution_code")) or None
    shown["root_cause_name"] = ROOT_CAUSES.get(case.get("root_cause") or "") or None
    return shown


def full(case: Dict[str, Any], viewer: AgentInfo) -> Dict[str, Any]:
    """A case opened at the desk.  The whole phone number only for the agent working
    on it (to call back); everyone else, trainers always, sees it masked."""
    shown = brief(case)
    shown["sender_id"] = case["sender_id"]  # the page needs it; not shown in lists
    owner = viewer.role != "trainer" and case.get("agent_id") == viewer.id
    record = dict(case.get("record") or {})
    if not owner:
        record["facts"] = dict(record.get("facts") or {})
        if record["facts"].get("contact_phone"):
            record["facts"]["contact_phone"] = mask_phone(record["facts"]["contact_phone"])
        record["customer"] = {**(record.get("customer") or {}),
                              "phone": mask_phone((record.get("customer") or {}).get("phone"))}
    shown["record"] = record
    shown["phone_visible"] = owner
    for key in ("notes", "messages", "assignments", "labels"):
        if key in case:
            shown[key] = case[key]
    if owner:
        shown["summary"] = case.get("summary")
    else:
        shown = mask_phones(shown)
    shown["labels"] = [{"code": code, "name": ROOT_CAUSES.get(code, code)} for code in case.get("labels", [])]
    shown["history"] = [{"who": action["agent"] or ("顾客" if action["action"] == "rating" else "系统"),
                         "at": action["at"], "text": action_line(action)}
                        for action in case.get("actions", [])]
    return shown


def mask_phones(value: Any) -> Any:
    """Every mobile number in a string, list or dict (keys kept) masked."""
    if isinstance(value, str):
        return PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), value)
    if isinstance(value, list):
        return [mask_phones(item) for item in value]
    if isinstance(value, dict):
        return {key: mask_phones(item) for key, item in value.items()}
    return value


def transcript_lines(lines: List[Dict[str, Any]], phone_visible: bool) -> List[Dict[str, Any]]:
    """The conversation for the desk: a pressed rating button as its score, phone
    numbers masked unless the viewer works on the case."""
    shown = []
    for line in lines:
        line = dict(line)
        match = RATE_PAYLOAD.match(line.get("text") or "") if line.get("role") == "customer" else None
        if match:
            line["text"] = f"顾客评分：{match.group(1)} 分（满分 5 分）"
            line["rating"] = int(match.group(1))
        elif not phone_visible and line.get("text"):
            line = mask_phones(line)
        shown.append(line)
    return shown
