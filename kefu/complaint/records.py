"""The complaint's link to the shop's systems: order lookup and tickets in kefu.store."""
from typing import Any, Dict, List, Optional

from kefu.complaint import policy
from kefu.handoff.triggers import exceeds_authority
from kefu.store import orders, tickets

DEADLINE_FORMAT = "%m月%d日 %H:%M"


class StoreRecords:
    """Orders through any `OrderLookup` (SQLite by default), tickets in the project database."""

    def __init__(self, lookup: Optional[orders.OrderLookup] = None, sender_id: Optional[str] = None,
                 channel: Optional[str] = None):
        self.lookup = lookup or orders.SqlOrderLookup()
        self.sender_id = sender_id
        self.channel = channel
        self._orders: Dict[str, Any] = {}  # this message's lookups: one query per order

    def find_order(self, order_id: str):
        if order_id not in self._orders:
            self._orders[order_id] = self.lookup.get(order_id)
        return self._orders[order_id]

    def beyond_authority(self, slots: Dict[str, Any], remedy: str) -> bool:
        """A refund or compensation paying more than the bot may grant goes to a person."""
        order = self.find_order(slots["order_id"]) if slots.get("order_verified") else None
        if order is None:
            return False
        payout = float(order.amount)
        if remedy == "compensate":
            payout = policy.compensation_amount(payout)
        return exceeds_authority({"chosen_remedy": remedy}, payout)

    def open_ticket(self, slots: Dict[str, Any], remedy: str) -> Dict[str, Any]:
        """Record the chosen remedy; a remedy chosen again replaces the earlier ticket."""
        category = slots.get("complaint_category") or "other"
        owner, tier = policy.ticket_plan(category, remedy, slots.get("emotion_intensity") or 0.0,
                                         bool(slots.get("order_verified")), bool(slots.get("repeat_complaint")))
        if slots.get("ticket_id"):
            tickets.update_ticket(slots["ticket_id"], status="cancelled", note=f"客户改选方案：{remedy}")
        ticket = tickets.create_ticket(
            category, problem_summary(slots), remedy=remedy, tier=tier, owner=owner,
            order_id=slots.get("order_id") if slots.get("order_verified") else None,
            phone=slots.get("contact_phone"), sender_id=self.sender_id, channel=self.channel)
        if slots.get("repeat_complaint"):
            earlier = slots.get("previous_ticket_id")
            ticket = tickets.update_ticket(ticket.id, note=f"重复投诉（上次工单 {earlier}）" if earlier else "重复投诉")
        return ticket_reply(ticket, remedy)

    def earlier_ticket(self, slots: Dict[str, Any]) -> Optional[str]:
        """The customer's latest earlier ticket, by phone or else by this conversation."""
        phone = slots.get("contact_phone")
        found = tickets.tickets_for(phone=phone) if phone else (
            tickets.tickets_for(sender_id=self.sender_id) if self.sender_id else [])
        earlier = [t for t in found if t.id != slots.get("ticket_id")]
        return earlier[0].id if earlier else None

    def callback_ticket(self, slots: Dict[str, Any], reason: str) -> Dict[str, Any]:
        """A person calls the customer back: the promise the bot can keep when it stops."""
        ticket = tickets.create_ticket(
            slots.get("complaint_category") or "other", f"{reason}：{problem_summary(slots)}",
            remedy="callback", tier="urgent", owner=policy.OWNER_BY_REMEDY["callback"],
            order_id=slots.get("order_id") if slots.get("order_verified") else None,
            phone=slots.get("contact_phone"), sender_id=self.sender_id, channel=self.channel)
        return ticket_reply(ticket, "callback")

    def close_ticket(self, ticket_id: str, satisfaction: Optional[float], category: str) -> tickets.TicketInfo:
        """Record the rating and root cause; returns the ticket as it is now."""
        return tickets.update_ticket(ticket_id, satisfaction=int(satisfaction) if satisfaction else None,
                              root_cause=policy.ROOT_CAUSE_BY_CATEGORY.get(category, "其他"))

    def record_give_up(self, slots: Dict[str, Any]) -> None:
        """The customer gave up: keep what they told us, so nobody asks again."""
        if slots.get("ticket_id"):
            tickets.update_ticket(slots["ticket_id"], status="cancelled", note="客户放弃")
            return
        ticket = tickets.create_ticket(
            slots.get("complaint_category") or "other", problem_summary(slots) or "客户未说明",
            order_id=slots.get("order_id") if slots.get("order_verified") else None,
            phone=slots.get("contact_phone"), sender_id=self.sender_id, channel=self.channel)
        tickets.update_ticket(ticket.id, status="cancelled", note="客户放弃")

    def progress(self, order_id: Optional[str], phone: Optional[str]) -> List[tickets.TicketInfo]:
        if order_id or phone:
            return tickets.tickets_for(order_id=order_id, phone=phone)
        return tickets.tickets_for(sender_id=self.sender_id) if self.sender_id else []


def problem_summary(slots: Dict[str, Any]) -> str:
    parts = [slots.get("problem") or "，".join(slots.get("complaint_account") or [])]
    if slots.get("incident_time"):
        parts.append(f"时间：{slots['incident_time']}")
    return "；".join(part for part in parts if part)


def ticket_reply(ticket: tickets.TicketInfo, remedy: str) -> Dict[str, Any]:
    """What the bot may say about a ticket: exactly its tier's deadline, nothing vaguer."""
    return {
        "ticket_id": ticket.id,
        "tier": ticket.tier,
        "deadline_iso": ticket.deadline.isoformat(timespec="minutes"),
        "deadline": ticket.deadline.strftime(DEADLINE_FORMAT),
        "promise": ticket.promise,
        "owner": ticket.owner,
        "remedy_name": policy.REMEDY_NAMES.get(remedy, remedy),
    }
