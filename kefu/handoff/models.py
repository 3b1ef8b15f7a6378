"""Tables of the hand-off and the agent desk, on the store's declarative ``Base``.

One database holds tickets and escalations (``KEFU_DB_URL``; SQLite or PostgreSQL).
Datetimes are naive local time, like the rest of the store.  Everything an agent
does is a row here, so it survives a restart of every process.
"""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Column, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from kefu.store.models import Base

ROLES = ("agent", "trainer", "supervisor")
ACTING_ROLES = ("agent", "supervisor")  # take cases and reply; trainers only read
PRIORITIES = ("urgent", "high", "normal")
ESCALATION_STATUSES = ("waiting", "assigned", "resolved")
MESSAGE_STATUSES = ("pending", "delivered", "failed")
ASSIGNMENT_KINDS = ("claim", "transfer", "reassign")


def _one_of(table: str, column: str, values: tuple[str, ...]) -> CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"ck_{table}_{column}")


class DeskAgent(Base):
    """A person who logs in to the desk: an agent (takes cases), a supervisor (takes
    cases, reassigns anyone's, edits canned replies) or a trainer (reads)."""

    __tablename__ = "desk_agents"
    __table_args__ = (_one_of("desk_agents", "role", ROLES),)

    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False, unique=True)
    role = Column(String(16), nullable=False, default="agent")
    password_hash = Column(String(255), nullable=False)
    created_at = Column(DateTime, nullable=False)
    # Presence: the desk's pages poll, so "seen in the last minutes" means online.
    last_seen_at = Column(DateTime)


class DeskSession(Base):
    """A login.  Only a hash of the cookie's token is stored, so a copy of the
    database does not let anyone in."""

    __tablename__ = "desk_sessions"

    token_hash = Column(String(64), primary_key=True)
    agent_id = Column(Integer, ForeignKey("desk_agents.id", ondelete="CASCADE"),
                      nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False)
    last_used_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False)

    agent = relationship("DeskAgent")


class Escalation(Base):
    """A conversation the bot handed to a person, with everything the bot knew."""

    __tablename__ = "escalations"
    __table_args__ = (_one_of("escalations", "priority", PRIORITIES),
                      _one_of("escalations", "status", ESCALATION_STATUSES))

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(128), nullable=False, index=True)  # Rasa conversation id
    channel = Column(String(32))
    customer = Column(String(128))  # phone, or the conversation id when unknown
    category = Column(String(16))
    reason = Column(String(32), nullable=False)  # kefu.handoff.triggers.REASONS
    priority = Column(String(16), nullable=False)
    summary = Column(Text, nullable=False)
    record_json = Column(Text, nullable=False)  # kefu.handoff.record.build_record
    status = Column(String(16), nullable=False, default="waiting", index=True)
    agent_id = Column(Integer, ForeignKey("desk_agents.id"))
    callback_ticket_id = Column(String(16))
    customer_name = Column(String(64))  # from the customers table when the phone is known
    satisfaction = Column(Integer)
    resolution_code = Column(String(32))  # kefu.desk.codes.RESOLUTION_CODES
    root_cause = Column(String(32))  # kefu.desk.codes.ROOT_CAUSES
    created_at = Column(DateTime, nullable=False)
    target_at = Column(DateTime, nullable=False)  # a person should answer by then
    first_reply_at = Column(DateTime)
    resolved_at = Column(DateTime)
    updated_at = Column(DateTime, nullable=False)

    agent = relationship("DeskAgent")
    assignments = relationship("Assignment", order_by="Assignment.id",
                               cascade="all, delete-orphan")
    notes = relationship("CaseNote", order_by="CaseNote.id", cascade="all, delete-orphan")
    messages = relationship("AgentMessage", order_by="AgentMessage.id",
                            cascade="all, delete-orphan")
    actions = relationship("CaseAction", order_by="CaseAction.id", cascade="all, delete-orphan")
    labels = relationship("CaseLabel", order_by="CaseLabel.id", cascade="all, delete-orphan")


class Assignment(Base):
    """Who took a case, or who passed it to whom."""

    __tablename__ = "escalation_assignments"
    __table_args__ = (_one_of("escalation_assignments", "kind", ASSIGNMENT_KINDS),)

    id = Column(Integer, primary_key=True)
    escalation_id = Column(Integer, ForeignKey("escalations.id", ondelete="CASCADE"),
                           nullable=False, index=True)
    kind = Column(String(16), nullable=False)
    agent_id = Column(Integer, ForeignKey("desk_agents.id"), nullable=False)
    by_agent_id = Column(Integer, ForeignKey("desk_agents.id"), nullable=False)
    reason = Column(Text)  # why it was passed on (transfer, reassign)
    at = Column(DateTime, nullable=False)

    agent = relationship("DeskAgent", foreign_keys=[agent_id])
    by_agent = relationship("DeskAgent", foreign_keys=[by_agent_id])


class CaseNote(Base):
    """An internal note: agents only, never sent to the customer."""

    __tablename__ = "escalation_notes"

    id = Column(Integer, primary_key=True)
    escalation_id = Column(Integer, ForeignKey("escalations.id", ondelete="CASCADE"),
                           nullable=False, index=True)
    agent_id = Column(Integer, ForeignKey("desk_agents.id"), nullable=False)
    text = Column(Text, nullable=False)
    at = Column(DateTime, nullable=False)

    agent = relationship("DeskAgent")


class AgentMessage(Base):
    """An agent's reply.  ``pending`` until the relay action put it in the tracker
    (and the customer's channel); the desk retries pending ones."""

    __tablename__ = "agent_messages"
    __table_args__ = (_one_of("agent_messages", "status", MESSAGE_STATUSES),)

    id = Column(Integer, primary_key=True)
    escalation_id = Column(Integer, ForeignKey("escalations.id", ondelete="CASCADE"),
                           nullable=False, index=True)
    sender_id = Column(String(128), nullable=False, index=True)
    agent_id = Column(Integer, ForeignKey("desk_agents.id"), nullable=False)
    text = Column(Text, nullable=False)
    # Guard findings the agent saw and chose to send anyway (JSON list), or "[]".
    warnings_json = Column(Text, nullable=False, default="[]")
    status = Column(String(16), nullable=False, default="pending", index=True)
    # Written by the desk, not typed (the "an agent has your case" greeting): it does not
    # count as the first reply.
    automatic = Column(Boolean, nullable=False, default=False)
    attempts = Column(Integer, nullable=False, default=0)
    error = Column(Text)
    created_at = Column(DateTime, nullable=False)
    delivered_at = Column(DateTime)

    agent = relationship("DeskAgent")


class CaseAction(Base):
    """One line of a case's 处理记录: who did what, when (kefu.desk.history)."""

    __tablename__ = "escalation_actions"

    id = Column(Integer, primary_key=True)
    escalation_id = Column(Integer, ForeignKey("escalations.id", ondelete="CASCADE"),
                           nullable=False, index=True)
    agent_id = Column(Integer, ForeignKey("desk_agents.id"))  # None: the customer or the bot
    action = Column(String(32), nullable=False)  # kefu.desk.history.ACTION_NAMES
    detail = Column(Text)
    at = Column(DateTime, nullable=False)

    agent = relationship("DeskAgent")


class CaseLabel(Base):
    """A root-cause label on a case (kefu.desk.codes.ROOT_CAUSES)."""

    __tablename__ = "escalation_labels"
    __table_args__ = (UniqueConstraint("escalation_id", "label", name="uq_escalation_labels"),)

    id = Column(Integer, primary_key=True)
    escalation_id = Column(Integer, ForeignKey("escalations.id", ondelete="CASCADE"),
                           nullable=False, index=True)
    label = Column(String(32), nullable=False)
    agent_id = Column(Integer, ForeignKey("desk_agents.id"), nullable=False)
    at = Column(DateTime, nullable=False)


class CannedReply(Base):
    """A prepared reply supervisors keep; ``{order}``, ``{ticket}`` … filled in per case."""

    __tablename__ = "canned_replies"

    id = Column(Integer, primary_key=True)
    title = Column(String(64), nullable=False, unique=True)
    text = Column(Text, nullable=False)
    updated_by = Column(Integer, ForeignKey("desk_agents.id"), nullable=False)
    updated_at = Column(DateTime, nullable=False)


class DeskEvent(Base):
    """What the desk pushes to open pages (kefu.desk.events).  Kept for a day, so a
    page that lost its connection catches up from its last event id."""

    __tablename__ = "desk_events"

    id = Column(Integer, primary_key=True)
    kind = Column(String(32), nullable=False)
    escalation_id = Column(Integer, index=True)
    payload_json = Column(Text, nullable=False, default="{}")
    at = Column(DateTime, nullable=False, index=True)
