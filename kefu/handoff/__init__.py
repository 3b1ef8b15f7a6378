"""kefu.handoff — when the bot stops and a person takes over, with the whole story.

- :mod:`triggers`: ``handoff_reason(slots, intent=…, …)`` decides whether to hand over;
- :mod:`record`: the escalation record built from a Rasa tracker (facts, six steps,
  emotion trajectory, offers and promises, transcript), with :mod:`priority` and a
  one-sentence Chinese :mod:`summary`;
- :mod:`escalations`, :mod:`agents`: escalations, assignments, notes, agent messages,
  desk accounts and logins, in the project database (``kefu.store``'s engine);
- :mod:`transcript`: tracker events as lines for the desk and the customer's poll.

The actions live in ``actions/handoff.py``; the web desk in ``kefu.desk``.
"""
from kefu.handoff.triggers import REASONS, handoff_reason, reason_text

__all__ = ["REASONS", "handoff_reason", "reason_text"]
