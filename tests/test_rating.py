"""The one rating parser (kefu.complaint.rating), used by the form and after a hand-off."""
import pytest

from kefu.complaint.rating import is_low, parse_rating

PHRASINGS = [
    # digits and numerals with 分 / 星
    ("5", 5), ("1", 1), ("3分", 3), ("4星", 4), ("给5分吧", 5), ("打个2分", 2),
    ("五星好评", 5), ("一星", 1), ("三分吧，一般般", 3), ("两星都不想给", 2), ("零分", 1),
    ("满分！", 5), ("给你们打四颗星", 4), ("1分，等了一上午", 1), ("4！", 4),
    # words, with negation and degree
    ("满意", 4), ("很满意", 5), ("非常满意，谢谢", 5), ("挺满意的", 4),
    ("不满意", 2), ("很不满意", 1), ("不太满意", 2), ("非常不满意！", 1), ("一点都不满意", 1),
    ("不满意，问题根本没解决", 2), ("不是很满意", 2), ("不怎么满意吧", 2),
    ("一般", 3), ("还行", 3), ("凑合吧", 3), ("马马虎虎", 3), ("还可以", 3), ("就那样吧", 3),
    ("挺好", 4), ("挺好的", 4), ("不错", 4), ("还不错哦", 4), ("很好", 5), ("好评", 5),
    ("太差了", 1), ("很差", 1), ("差评", 1), ("垃圾", 1), ("太失望了", 1), ("不好", 2),
    ("不是很好", 2),
    # mixed: the negative part wins, a good word never hides a bad one
    ("还行吧，但我不满意", 2), ("态度挺好，就是不满意结果", 2),
    # emoji
    ("👍", 5), ("👎", 1), ("😡😡", 1), ("😐", 3),
    # no rating
    ("好的", None), ("等了15分钟", None), ("订单KF20261101", None),
    ("你好", None),
]


@pytest.mark.parametrize("text, expected", PHRASINGS)
def test_rating_phrasings(text, expected):
    assert parse_rating(text) == expected


def test_at_least_forty_phrasings():
    assert len(PHRASINGS) >= 40


def test_the_rating_entity_comes_first():
    assert parse_rating('/rate{"rating":"2"}', [{"entity": "rating", "value": "2"}]) == 2


def test_low_means_three_or_less():
    assert is_low(3) and is_low(1.0) and not is_low(4) and not is_low(None)
