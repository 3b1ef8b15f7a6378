"""Text shaping for WeChat: size limits, numbered button options, canned replies.

Pure functions without Rasa or network, so they are cheap to test and reuse.
"""
import re
import unicodedata
from typing import Any, Dict, Iterable, List, Optional

# WeChat rejects text messages (passive replies and customer-service messages) over
# 2048 bytes of UTF-8; a small margin keeps us clear of it.
MAX_TEXT_BYTES = 2000

# Separator between several bot messages of one turn joined into one WeChat message.
MESSAGE_SEPARATOR = "\n\n"

# A sentence runs up to end punctuation (with any closing quotes or brackets after it),
# a line break, or the end of the text.
_SENTENCE = re.compile(r".*?(?:[。！？!?；;…\n]+[”’」』）)\]】]*|$)", re.DOTALL)

WELCOME_TEXT = (
    "您好，欢迎关注！我是在线客服助手🙂\n"
    "订单迟迟没到、商品有质量问题、发错货或少件、服务态度不好、扣款或退款不对……"
    "都可以直接发文字告诉我，我会帮您登记问题、给出处理方案并跟进进度。\n"
    "如果您想和真人沟通，随时回复“转人工”，客服同事会接手为您处理。"
)

SORRY_TEXT = (
    "抱歉，系统刚才开了个小差，您的消息没能处理好。"
    "请稍后再发一次，或回复“转人工”，由客服同事为您处理。"
)

_MEDIA_NAMES = {
    "image": "图片",
    "video": "视频",
    "shortvideo": "小视频",
    "voice": "语音",
    "location": "位置",
    "link": "链接",
}


def ask_for_text(msg_type: str) -> str:
    """Polite answer to a message the bot cannot read (image, video, location …)."""
    what = _MEDIA_NAMES.get(msg_type, "消息")
    return (
        f"收到您发来的{what}了，谢谢！不过我目前只能看懂文字，"
        "麻烦您用文字简单描述一下遇到的问题（比如订单号和发生了什么），我来帮您处理。"
    )


def utf8_size(text: str) -> int:
    return len(text.encode("utf-8"))


def split_sentences(text: str) -> List[str]:
    """Splits after sentence ends, keeping the punctuation with its sentence."""
    return [part for part in _SENTENCE.findall(text) if part]


def _hard_split(text: str, max_bytes: int) -> List[str]:
    """Cuts a text without sentence ends into pieces that fit, never inside a character."""
    pieces, current = [], ""
    for char in text:
        if utf8_size(current + char) > max_bytes:
            pieces.append(current)
            current = ""
        current += char
    return pieces + [current] if current else pieces


def split_text(text: str, max_bytes: int = MAX_TEXT_BYTES) -> List[str]:
    """Splits a text into messages of at most `max_bytes`, on sentence boundaries."""
    text = text.strip()
    if utf8_size(text) <= max_bytes:
        return [text] if text else []
    chunks, current = [], ""
    for sentence in split_sentences(text):
        if utf8_size(current + sentence) <= max_bytes:
            current += sentence
            continue
        if current.strip():
            chunks.append(current.strip())
        current = ""
        if utf8_size(sentence) <= max_bytes:
            current = sentence
        else:
            *full_pieces, current = _hard_split(sentence, max_bytes)
            chunks.extend(piece.strip() for piece in full_pieces if piece.strip())
    if current.strip():
        chunks.append(current.strip())
    return chunks


def pack_messages(texts: Iterable[str], max_bytes: int = MAX_TEXT_BYTES) -> List[str]:
    """Joins the bot messages of one turn into as few WeChat messages as fit.

    Whole messages are kept together; only a message that is too long on its own is
    split (on sentence boundaries).
    """
    packed: List[str] = []
    for text in texts:
        for part in split_text(text, max_bytes):
            joined = packed[-1] + MESSAGE_SEPARATOR + part if packed else part
            if packed and utf8_size(joined) <= max_bytes:
                packed[-1] = joined
            else:
                packed.append(part)
    return packed


def render_buttons(
    text: Optional[str], buttons: List[Dict[str, Any]], first_number: int = 1
) -> str:
    """Renders Rasa buttons as numbered options: "回复 1 退款 / 2 换货"."""
    options = " / ".join(
        f"{number} {button.get('title') or button.get('payload')}"
        for number, button in enumerate(buttons, start=first_number)
    )
    choice_line = f"回复 {options}"
    return f"{text.strip()}\n{choice_line}" if text and text.strip() else choice_line


def render_bot_message(message: Dict[str, Any], first_number: int = 1) -> str:
    """Turns one Rasa bot message (as collected by an output channel) into text.

    Buttons are numbered from `first_number` (several messages may carry buttons).
    """
    parts = []
    if message.get("buttons"):
        parts.append(render_buttons(message.get("text"), message["buttons"], first_number))
    elif message.get("text"):
        parts.append(message["text"])
    for link_key in ("image", "attachment"):
        if message.get(link_key):
            parts.append(str(message[link_key]))
    custom = message.get("custom")
    if isinstance(custom, dict) and isinstance(custom.get("text"), str):
        parts.append(custom["text"])
    return "\n".join(part.strip() for part in parts if part and part.strip())


def parse_choice(text: str) -> Optional[int]:
    """The option number a customer typed ("2", "２", " 2 "), or None."""
    normalized = unicodedata.normalize("NFKC", text or "").strip().rstrip("。.")
    if re.fullmatch(r"\d{1,2}", normalized):
        return int(normalized)
    return None
