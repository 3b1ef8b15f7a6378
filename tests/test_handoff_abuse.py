"""A hand-off needs a plausible customer: gibberish and floods do not make urgent cases."""
import random
import uuid

import pytest

from kefu.handoff import priority
from kefu.handoff.record import build_record

FURIOUS = {"emotion": "angry", "emotion_intensity": 0.95, "emotion_trend": "rising",
           "needs_human": True, "needs_human_reason": "rising_anger"}


def gibberish(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:  # keyboard mashing
        return "".join(rng.choice("qwertyuiopasdfghjklzxcvbnm!?") for _ in range(rng.randint(3, 40)))
    if kind == 1:  # random Chinese characters
        return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(2, 40)))
    if kind == 2:  # symbols and emoji
        return "".join(rng.choice("😡🔥!！？。…#@&*") for _ in range(rng.randint(1, 20)))
    return " ".join(str(rng.randint(0, 10**6)) for _ in range(rng.randint(1, 5)))


def test_gibberish_from_30_senders_makes_no_urgent_case():
    rng = random.Random(17)
    priorities = [priority.priority_for("emotion", FURIOUS, [gibberish(rng) for _ in range(3)],
                                        sender=f"flood-{i}-{uuid.uuid4().hex[:6]}", address="203.0.113.9")
                  for i in range(30)]
    assert "urgent" not in priorities and "high" not in priorities


@pytest.mark.parametrize("texts", [["气死了", "都坏了好几天了，你们到底管不管！"], ["我的iPhone 15 坏了三天了"],
                                   ["再不给我解决我就去12315投诉你们！！！"]])
def test_a_real_angry_customer_is_still_urgent(texts):
    assert priority.plausible(texts)
    assert priority.priority_for("emotion", FURIOUS, texts, sender=f"real-{uuid.uuid4().hex}") == "urgent"


def test_urgent_cases_are_capped_per_sender_and_address(monkeypatch):
    monkeypatch.setenv("KEFU_URGENT_PER_SENDER", "2/3600")
    monkeypatch.setenv("KEFU_URGENT_PER_ADDRESS", "3/3600")
    texts = ["你们到底管不管，气死我了！"]
    sender, address = f"angry-{uuid.uuid4().hex}", f"198.51.100.{random.randint(1, 250)}"
    same_sender = [priority.priority_for("emotion", FURIOUS, texts, sender=sender, address=address)
                   for _ in range(3)]
    assert same_sender == ["urgent", "urgent", "high"]
    # the address has one urgent case left, then its other senders get "high" too
    others = [priority.priority_for("emotion", FURIOUS, texts, sender=f"{sender}-{i}", address=address)
              for i in range(2)]
    assert others == ["urgent", "high"]


def test_the_record_passes_sender_and_address_to_the_cap(monkeypatch):
    monkeypatch.setenv("KEFU_URGENT_PER_ADDRESS", "1/3600")
    address = f"192.0.2.{random.randint(1, 250)}"

    def tracker(sender):
        return {"sender_id": sender, "events": [
            {"event": "user", "text": "再不解决我就找媒体曝光你们", "timestamp": 1.0,
             "parse_data": {"intent": {"name": "complain_service"}}, "metadata": {"kefu_address": address}}]}

    first = build_record(tracker(f"a-{uuid.uuid4().hex}"), FURIOUS, "emotion")
    second = build_record(tracker(f"b-{uuid.uuid4().hex}"), FURIOUS, "emotion")
    assert (first["priority"], second["priority"]) == ("urgent", "high")
