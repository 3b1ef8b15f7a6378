"""What the conversation decides: promises against the ticket, remedies against the Check
step, and the agent sentences issue 16 reported as wrongly flagged."""
import pytest

from kefu.guard import check


def ids(text, context=None):
    return {v.id for v in check(text, context)}


NORMAL_TICKET = {"complaint_step": "action", "ticket_id": "T20261205001", "ticket_tier": "normal"}


@pytest.mark.parametrize("text", [
    "麻烦您确认一下手机号对吗？",
    "您的情况完全符合退款条件。",
    "我一定会跟进您的问题。",
    "您自己不用操心，我来跟进。",
])
def test_what_a_good_agent_writes_is_not_flagged(text):
    assert ids(text) == set()


def test_a_deadline_is_allowed_when_it_is_the_tickets_tier():
    assert ids("我们会在24小时内给您答复。", NORMAL_TICKET) == set()
    assert "broken_promise" in ids("我们会在2小时内给您答复。", NORMAL_TICKET)  # not the ticket's tier
    assert "broken_promise" in ids("我们会在24小时内给您答复。", {"complaint_step": "action"})  # no ticket


def test_a_deadline_said_right_after_its_ticket_is_allowed():
    assert ids("工单已经为您创建，单号T20261205002，24小时内会有专人给您答复。") == set()
    assert ids("已经为您登记了维修单，师傅明天上午上门。") == set()
    assert "broken_promise" in ids("24小时内会有专人给您答复。")
    # in a known conversation the ticket must be in its context, not only claimed in words
    assert "broken_promise" in ids("工单已经为您创建，24小时内会有专人给您答复。", {"complaint_step": "action"})
    # a ticket in the context wins over one named in the text: its tier must match
    assert "broken_promise" in ids("工单已经建好，2小时内给您回电。", NORMAL_TICKET)


@pytest.mark.parametrize("text", [
    "我们会尽快给您处理。",
    "有结果我们第一时间给您回复。",
    "马上给您安排退款。",
    "请您放心，我们今天之内给您处理好。",
    "这种事以后再也不会发生了。",
])
def test_a_vague_time_word_is_never_backed_even_with_a_ticket(text):
    assert "broken_promise" in ids(text, NORMAL_TICKET)
    assert "broken_promise" in ids(text)


def test_a_guarantee_needs_a_ticket():
    assert "broken_promise" in ids("一定给您全额退款。")
    assert ids("一定给您全额退款。", NORMAL_TICKET) == set()


def test_the_customers_own_deadline_and_a_description_of_others_are_no_promise():
    assert ids("请您在7天内把商品寄回，运费我们承担。") == set()
    assert ids("退款已经提交，银行一般3个工作日内到账。") == set()


def test_a_remedy_is_premature_only_when_the_context_says_so():
    offer = "我们给您补发一个新的，您看可以吗？"
    assert "rush_conclusion" in ids(offer, {"complaint_step": "probe"})
    assert "rush_conclusion" not in ids(offer, {"complaint_step": "action"})
    assert "rush_conclusion" not in ids(offer)  # an isolated sentence: the step is unknown
    dismissive = "不就是晚到了一天嘛，问题不大。"
    assert "rush_conclusion" in ids(dismissive, {"complaint_step": "action"})  # never fine


def test_the_classifier_finds_what_no_rule_says_and_names_its_score():
    text = "是不是您楼下的保安替您拿了呀？"
    assert check(text, use_classifier=False) == []
    (finding,) = check(text)
    assert finding.id == "doubt" and finding.source == "classifier"
    assert 0 < finding.score <= 1 and finding.span == text.rstrip("？")
    assert finding.why and finding.suggest


def test_the_classifier_respects_the_context():
    rush = "您就别较真了，等两天就好。"
    assert "rush_conclusion" in ids(rush, {"complaint_step": "probe"})
    assert [v.source for v in check(rush, {"complaint_step": "probe"})] == ["classifier"]
    assert "rush_conclusion" not in ids(rush, {"complaint_step": "action"})
