"""What the customer is told when a person takes the conversation: who, and that they
need not repeat themselves.  Sent as the agent's first message (marked automatic),
so the web chat's header and the REST poll show the agent's name."""

from __future__ import annotations

CLAIMED = (
    "您好，我是客服{agent}，您前面说的情况我都看过了，接下来由我为您处理。",
    "您好，我是客服{agent}，这件事现在由我来跟进，您之前说的我都了解了。",
    "您好，我是客服{agent}，刚才的对话记录我已经看完，接下来我来帮您处理。",
)
TRANSFERRED = (
    "您好，我是客服{agent}，同事已经把您的情况完整转给我了，您不用再重复，接下来由我继续为您处理。",
    "您好，我是客服{agent}，您的问题已经交到我这里，前面的记录我都看过，接下来由我跟进。",
)


def greeting(agent: str, case_id: int, transferred: bool) -> str:
    """A greeting for the case; the variant follows the case id, so two people taking
    the same case one after another do not say the same sentence."""
    texts = TRANSFERRED if transferred else CLAIMED
    return texts[case_id % len(texts)].format(agent=agent)


def all_texts(agent: str = "小王") -> list:
    """Every greeting, for the guard's check in the tests."""
    return [text.format(agent=agent) for text in CLAIMED + TRANSFERRED]
