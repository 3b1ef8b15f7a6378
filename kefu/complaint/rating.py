"""The one reader of a satisfaction rating (1 to 5), for the form and after a hand-off.

A rating comes as a digit ("4", "3分"), a Chinese numeral with 分 or 星 ("五星",
"给个三分"), words with negation and degree ("不满意" 2, "很不满意" 1, "不太满意" 2,
"一般" 3, "挺好" 4, "太差了" 1) or an emoji. Negative words win over positive ones in
the same message ("还行吧，但我不满意" is 2): the bot must never thank a customer for a
good rating they did not give. None means the message holds no rating.
"""
import re
from typing import Iterable, Optional

NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "零": 1, "0": 1}
# A number followed by 分 or 星 (not 分钟, not part of a longer number).
SCORED = re.compile(r"(?<![\d.])([0-5零一二两三四五])\s*(?:分(?!钟)|星|颗星|颗)")
# A message that is just a number ("4", "5！", "3吧").
BARE = re.compile(r"^\s*([1-5])\s*[分星!！。.~～吧啊呀]*\s*$")

# Words and their rating; the longest match is read first, so "不满意" is not "满意".
WORDS = {
    # satisfied, with degree
    "非常满意": 5, "很满意": 5, "特别满意": 5, "十分满意": 5, "超满意": 5, "太满意": 5,
    "满意": 4, "挺满意": 4, "比较满意": 4, "还算满意": 4, "基本满意": 3,
    # not satisfied, with degree and softening
    "不满意": 2, "不太满意": 2, "不大满意": 2, "不是很满意": 2, "不怎么满意": 2, "不算满意": 2,
    "很不满意": 1, "非常不满意": 1, "特别不满意": 1, "太不满意": 1, "极不满意": 1, "十分不满意": 1,
    "一点都不满意": 1, "一点也不满意": 1, "完全不满意": 1,
    # in between
    "一般": 3, "一般般": 3, "还行": 3, "还可以": 3, "凑合": 3, "马马虎虎": 3, "过得去": 3,
    "就那样": 3, "还好": 3, "中规中矩": 3, "将就": 3,
    # good
    "挺好": 4, "不错": 4, "还不错": 4, "可以的": 4, "蛮好": 4, "好评": 5, "很好": 5,
    "非常好": 5, "太好了": 5, "很棒": 5, "完美": 5, "满分": 5, "点赞": 5, "给力": 5,
    # bad
    "不好": 2, "不太好": 2, "不怎么样": 2, "不行": 2, "没解决": 2, "失望": 2, "不是很好": 2, "不太行": 2, "不怎么好": 2,
    "很失望": 1, "太失望": 1, "很差": 1, "太差": 1, "非常差": 1, "差劲": 1, "差评": 1,
    "垃圾": 1, "糟糕": 1, "太烂": 1, "很烂": 1, "零分": 1, "负分": 1, "不及格": 2,
    "不算差": 3, "不差": 4,
}
EMOJI = {"😡": 1, "🤬": 1, "👎": 1, "💢": 1, "😤": 1, "😞": 2, "😒": 2, "🙄": 2, "😔": 2,
         "😐": 3, "😑": 3, "🙂": 4, "😊": 4, "👌": 4, "👍": 5, "😄": 5, "😁": 5, "❤️": 5, "🥰": 5}
_BY_LENGTH = sorted(WORDS, key=len, reverse=True)


def parse_rating(text: str, entities: Iterable[dict] = ()) -> Optional[int]:
    """The rating in a customer message, 1 (worst) to 5 (best), or None."""
    entity = next((str(e.get("value")) for e in entities or () if e.get("entity") == "rating"), None)
    for source in (entity, text):
        number = _number(source or "")
        if number is not None:
            return number
    scores = _word_scores(text or "") + [score for mark, score in EMOJI.items() if mark in (text or "")]
    return min(scores) if scores else None


def is_low(rating: Optional[float]) -> bool:
    """3 or less: the customer is not satisfied (kefu.handoff.triggers reads the same)."""
    return rating is not None and float(rating) <= 3


def _number(text: str) -> Optional[int]:
    match = SCORED.search(text) or BARE.match(text)
    if not match:
        return None
    digit = match.group(1)
    value = NUMERALS.get(digit) or int(digit)
    return max(1, min(5, value))


def _word_scores(text: str) -> list:
    """Every rating word in the text, longest first, each character read once."""
    scores, taken = [], [False] * len(text)
    for word in _BY_LENGTH:
        start = text.find(word)
        while start >= 0:
            span = range(start, start + len(word))
            if not any(taken[i] for i in span):
                scores.append(WORDS[word])
                for i in span:
                    taken[i] = True
            start = text.find(word, start + 1)
    return scores
