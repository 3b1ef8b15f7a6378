"""One spelling for the classifier: the convention of Chinese typing (and of our data).

Punctuation is full-width (，！？), letters and digits are ASCII; @mentions and links are
collapsed, as they name accounts and pages, not feelings; a #hashtag#'s words stay, its marks go.
Real posts mix both widths ("太慢了,等了3天!"), and a model trained on "，" does not know ",".
Applied to every text the model trains on or predicts.
"""
from __future__ import annotations

import re

# Full-width ASCII letters and digits (Ａ, １) -> ASCII; the full-width block is ASCII + 0xFEE0.
_WIDE_ALNUM = {code: code - 0xFEE0 for code in range(0xFF10, 0xFF5B) if chr(code - 0xFEE0).isalnum()}
_HALF_TO_FULL = {",": "，", "!": "！", "?": "？", ";": "；", ":": "：", "(": "（", ")": "）", "~": "～"}
# Between two ASCII letters or digits, punctuation belongs to a number, time or name (1,000 / 18:45 / v2.6).
_PUNCT = re.compile(r"(?<![0-9A-Za-z])[,!?;:()~]|[,!?;:()~](?![0-9A-Za-z])")
_DOTS = re.compile(r"\.{2,}|。{2,}")
_FULL_STOP = re.compile(r"(?<=[\u4e00-\u9fff])\.(?![0-9A-Za-z])")
URL = re.compile(r"https?://[^\s\u4e00-\u9fff，。！？]*|www\.[^\s\u4e00-\u9fff，。！？]*")
# Weibo names end at a space, punctuation or another @; 2-30 characters.
MENTION = re.compile(r"@[^\s@，。！？,.!?:：;；()（）\[\]]{1,30}")
HASHTAG = re.compile(r"#([^#\n]{1,40})#")


def normalise(text: str) -> str:
    text = URL.sub(" ", text.translate(_WIDE_ALNUM))
    text = re.sub(r"(?:\s*@\s*)+", "@", MENTION.sub("@", text)).strip()
    text = HASHTAG.sub(r"\1 ", text)
    text = _DOTS.sub("…", text)
    text = _FULL_STOP.sub("。", text)
    return _PUNCT.sub(lambda match: _HALF_TO_FULL[match.group()], text).strip()
