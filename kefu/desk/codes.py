"""The desk's fixed vocabularies, in one place: resolution codes, root-cause labels,
the names of the actions in 处理记录, and why a case is passed on."""

from __future__ import annotations

RESOLUTION_CODES = {
    "solved": "问题已解决",
    "refunded": "已退款",
    "replaced": "已换货或补发",
    "compensated": "已补偿",
    "explained": "已解释说明，顾客接受",
    "callback": "转专人回电跟进",
    "no_response": "顾客未再回复",
    "duplicate": "重复案例",
    "other": "其他",
}

ROOT_CAUSES = {
    "logistics": "物流延误",
    "product_defect": "商品质量",
    "wrong_item": "错发漏发",
    "staff_attitude": "服务态度",
    "billing": "计费与退款",
    "system": "系统故障",
    "policy": "规则不清楚",
    "expectation": "期望落差",
    "other": "其他",
}

ACTION_NAMES = {
    "created": "转入人工",
    "callback": "登记回电",
    "claim": "接手",
    "transfer": "转交",
    "reassign": "主管改派",
    "note": "添加备注",
    "greeting": "接手问候",
    "reply": "回复顾客",
    "labels": "标记根因",
    "resolve": "处理完毕",
    "rating": "顾客评分",
    "escalated": "等待中升级",
}


def resolution_name(code: str | None) -> str:
    return RESOLUTION_CODES.get(code or "", code or "")


def action_line(action: dict) -> str:
    """A 处理记录 entry as the desk shows it (who and when are shown beside it)."""
    name = ACTION_NAMES.get(action["action"], action["action"])
    detail = action.get("detail") or ""
    if action["action"] == "resolve" and detail:
        code, _, comment = detail.partition("：")
        detail = resolution_name(code) + (f"：{comment}" if comment else "")
    elif action["action"] == "rating" and detail:
        detail = f"{detail} 分（满分 5 分）"
    elif action["action"] == "labels":
        detail = "、".join(ROOT_CAUSES.get(label, label) for label in detail.split("、"))
    return f"{name}：{detail}" if detail else name
