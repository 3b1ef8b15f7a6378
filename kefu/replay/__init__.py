"""kefu.replay — trainers replay stored conversations, see where the bot misunderstood,
sounded wrong or escalated late, re-run them on the current model, and turn them into
Rasa test stories.

    python -m kefu.replay list [--handed-off yes] [--category delivery] [--q 退款] …
    python -m kefu.replay show CONVERSATION_ID [--page N] [--json]
    python -m kefu.replay rerun CONVERSATION_ID
    python -m kefu.replay export ID… [--out tests/test_replay_stories.yml] [--intent ID:TURN=INTENT]
    python -m kefu.replay review [--status pending] [--export review.yml]
    python -m kefu.replay report [--day 2026-11-25]

Reading goes through Rasa's SQL tracker store (endpoints.yml); a stored conversation that
cannot be read is listed as broken and skipped, never breaking a list or a report.  The
web pages live in :mod:`kefu.replay.web`, mounted by the desk for the ``trainer`` role;
corrected turns wait in the review queue (:mod:`kefu.replay.review`) until approved and
exported as Rasa NLU YAML.
"""
