"""What the bot says that is built in code: one catalogue, so every line can be checked.

Each group has several lines; the picking functions take the lines already said in this
conversation and return one not said yet, so a customer never reads the same sentence
twice (issue 14, item 7). tests/test_wording.py runs every line through kefu.guard.
"""
import re
from typing import Dict, Iterable, List, Optional, Sequence

# --- 2 share: the feeling by emotion, the apology by category ----------------------------
SHARE_FEELING: Dict[str, Sequence[str]] = {
    "furious": (
        "让您气成这样，真的非常抱歉。换成是我遇到这种事，也一样会很恼火。",
        "您的火气我完全能理解，这件事确实是我们没做好。",
        "这口气憋着肯定难受，您骂得有道理，是我们让您失望了。",
    ),
    "angry": (
        "您生气是完全可以理解的，这事搁谁身上都不舒服。",
        "我能感觉到您很不满意，这份不满我们认，也会认真处理。",
        "碰上这种事确实窝火，您愿意跟我说清楚，我很感谢。",
    ),
    "anxious": (
        "我明白您现在很着急，别担心，我会一直跟着把这件事处理好。",
        "您先别慌，事情我已经清楚了，我们一步一步来。",
        "着急是肯定的，我陪您把这件事理清楚。",
    ),
    "disappointed": (
        "本来满怀期待，结果却是这样，您一定很失望，我特别理解这种心情。",
        "让您的期待落了空，真的很抱歉。",
        "花了时间和心思却是这个结果，换谁都会失落。",
    ),
    "neutral": (
        "您反映的情况我都清楚了，谢谢您耐心告诉我这么多细节。",
        "情况我了解了，谢谢您把经过讲得这么清楚。",
        "您说的我都记下了，这件事确实给您添了麻烦。",
    ),
}
SHARE_APOLOGY: Dict[str, Sequence[str]] = {
    "delivery": ("东西没按时送到，耽误了您的安排，给您添麻烦了，非常抱歉。",
                 "让您一直等、一直查物流，真的很抱歉。"),
    "quality": ("花了钱却收到有问题的东西，这种体验太糟糕了，真的很抱歉。",
                "东西用不了还得专门来反映，给您添麻烦了，很抱歉。"),
    "wrong_item": ("收到的东西和您买的不一致，还得为这事来回沟通，实在抱歉。",
                   "发错了东西是我们的失误，耽误了您的事，很抱歉。"),
    "service": ("让您受到这样的对待，是我们没有做好，我代表团队向您道歉。",
                "这样的服务不是您应该遇到的，真的很抱歉。"),
    "billing": ("钱的事情最让人闹心，这次给您带来困扰，非常抱歉。",
                "账目出了问题还要您来核对，实在抱歉。"),
    "other": ("这次给您带来的不便，我先向您说声抱歉。",
              "给您添了麻烦，真的很抱歉。"),
}
REPEAT_APOLOGY = (
    "同一件事让您反复来找我们，这是我们最不应该的，真的非常抱歉。",
    "上次没能给您解决好，这次又让您来反映，我很惭愧。",
)

# --- a form question asked again: never the same words ---------------------------------
REASK: Dict[str, Sequence[str]] = {
    "account_complete": ("您接着说，我听着呢。说完了回复“没了”就好。",
                         "还有要补充的地方吗？都说完了的话，回复“没了”。"),
    "order_id": ("订单号在“我的订单”里，KF开头加8位数字。找不到的话回复“没有”，我们照样往下处理。",
                 "订单号方便发一下吗？KF开头、8位数字。手头没有的话，也请告诉我一声。"),
    "contact_phone": ("麻烦发一下下单时留的11位手机号，只用来核对订单是不是您的。",
                      "核对订单需要下单手机号，11位数字就行；不方便提供的话回复“没有”。"),
    "problem": ("具体是哪里出了问题呢？您简单描述一下就行。",
                "您能描述一下发生了什么吗？比如东西怎么了、哪里不对。"),
    "incident_time": ("大概是哪天发现的？比如“上周”“前天”，说个大概的时间就可以。",
                      "发生的时间还记得吗？“前天”“上个月中旬”这样说就可以。"),
    "wished_remedy": ("您心里比较希望怎么处理？没有特别想法的话回复“都行”，我把能选的方案列给您。",
                      "说说您想要的处理方式吧；还没想好的话回复“都行”，我来给您列方案。"),
    "wrong_fact": ("是订单号、问题描述、时间，还是处理诉求需要改？点上面的选项也可以。",
                   "您指一下哪一项不对，我来改。"),
    "satisfaction": ("回复1到5分就行，或者直接说“满意”“一般”“不满意”。",
                     "这次处理您觉得怎么样？打个分，或者用一句话告诉我都可以。"),
}
# an order number was the first thing the customer sent: ask once what happened
ORDER_FIRST = "收到您的订单号了。这个订单遇到了什么问题？您跟我说说具体情况。"
CALLBACK_PHONE = "安排专人回电需要一个方便接听的手机号，麻烦发给我。"
# the customer sent the number a booked callback asked for (kefu.handoff.waiting)
CALLBACK_PHONE_NOTED = "好的，专员会打{phone}给您回电，号码已经写进工单 {ticket_id}。"
# a waiting customer's words made the case more urgent on the desk (kefu.handoff.waiting)
WAITING_RAISED = "让您久等了，实在抱歉。您这件事我已经标成加急，在客服那边会排到前面处理。"
# between two acknowledgements: a short receipt, so no message meets silence
WAITING_NOTED = ("收到，这条也记下了。", "好的，已经补充进去了。", "嗯，看到了，一并转给客服。")
CHECK_OPENERS = ("跟您确认一下：", "我再跟您核对一遍：", "换个说法跟您确认：")
REMEDY_PROMPTS = ("结合您的情况，我们可以这样为您处理，您看哪一种最合适：",
                  "这几种处理方式您看看，选一个最合适的就行：",
                  "下面这些都能为您办，点一个就可以：")

# --- 三换: two unproductive answers offer a person; a third hands over ---------------------
STALL_OFFERS = (
    "看来这一步我没能帮上您。需要的话，我请人工客服来跟您沟通，点“转人工”就行；也可以接着跟我说。",
    "这样来回问，耽误您的时间了。需要的话我请人工客服来处理，点“转人工”；想继续的话直接回复我。",
)
# an answer that did not help, said in anger ("说了半天还没人管"): the anger is answered
# first and a person offered, before the question comes again
ANGER_OFFERS = (
    "让您说了这么半天还没办成，是我们让您受气了，真的很抱歉。想直接找人工客服的话，点“转人工”就行；"
    "愿意继续的话，我接着帮您办。",
    "您有火气我完全理解，这么来回问确实耽误您的时间了，很抱歉。需要人工客服就点“转人工”，"
    "也可以接着跟我说。",
)
OFF_TOPIC = (
    "这个问题我暂时帮不上忙，我主要负责订单、配送、商品质量、服务和费用方面的问题。",
    "这个问题超出了我能处理的范围。如果您遇到了订单或售后的问题，跟我说说，我来处理。",
)
OFF_TOPIC_OFFER = "好像我一直没能帮上您。需要的话我请人工客服来跟您聊，点“转人工”就行。"

# --- why a person takes over: the first words of every hand-off text ------------------------
HANDOFF_WHY = {
    "risk": "这件事关系到您和家人的安全，需要人工客服亲自跟进，",
    "threat": "您的诉求我们非常重视，这件事交给人工客服专门处理，",
    "customer_request": "按您的意思，",
    "emotion": "这件事让您这么难受，换一位人工客服来陪您把它处理好，",
    "over_authority": "这个金额超出了我能直接处理的范围，需要人工客服来审批，",
    "unsatisfied": "方案还没能让您满意，我请人工客服来给您想办法，",
    "not_understood": "为了不耽误您，",
    "stalled": "这一步我一直没能帮上您，为了不耽误您，",
    "system_failure": "我这边系统出了点问题，为了不耽误您，",
}

# --- risks: an acknowledgement that names the risk, before anything else ------------------
RISK_ACK = {
    "fire": "您说东西冒烟、冒火花，这是安全隐患。请先断开电源、别再使用，人离远一些。",
    "shock": "漏电、被电到非常危险，请先拔掉电源，暂时不要再碰它。",
    "injury": "听到有人受伤，我很担心。请先处理伤口，需要的话及时去医院。",
    "food": "吃了之后身体不舒服，健康最要紧。请先去医院看看，剩下的食物和包装先留着。",
    "child": "孩子的安全最要紧。请先把东西从孩子身边拿开，如果有不适请及时就医。",
    "safety": "您说的情况关系到人身安全，请先停止使用，照顾好自己和家人。",
    "privacy": "个人信息被泄露是很严重的事，我们会认真查清楚。",
    "scam": "有人冒充我们联系您，请不要转账、不要点链接、不要说出验证码，我们的客服不会这样找您要钱。",
    "threat": "您提到要向外部反映，这是您的权利，我们会认真对待您的诉求。",
}
RISK_NAMES = {"fire": "冒烟起火", "shock": "漏电", "injury": "受伤", "food": "食品安全",
              "child": "儿童安全", "safety": "安全隐患", "privacy": "信息泄露", "scam": "冒充诈骗",
              "threat": "外部投诉"}

# --- praise that is sarcasm ---------------------------------------------------------------------
SARCASM_ACK = (
    "听您这么说，这次一定是让您失望了。具体是哪里没做好，您跟我说说，我来处理。",
    "您这话里有气，我听得出来，是我们没做好。出了什么问题，您直接跟我讲。",
)

# --- restatements quote the customer, without insults or emoji -------------------------------
INSULTS = ("傻逼", "傻B", "煞笔", "SB", "sb", "他妈的", "妈的", "他妈", "尼玛", "你妈", "狗屎", "狗东西",
           "垃圾", "废物", "脑残", "混蛋", "王八蛋", "滚", "去死", "坑爹", "黑店", "骗子")
EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F\u200D]")
SPACES = re.compile(r"[\s，,。！!？?~～]{2,}")


def pick(lines: Sequence[str], said: Iterable[str]) -> str:
    """The first line not said yet in this conversation (the last one if all were)."""
    said = set(said)
    return next((line for line in lines if line not in said), lines[-1])


def fresh(lines: Sequence[str], said: Iterable[str]) -> Optional[str]:
    """The first line not said yet, or None when every one was."""
    said = set(said)
    return next((line for line in lines if line not in said), None)


def share_lines(tone: Optional[str], category: Optional[str], repeat: bool,
                said: Iterable[str]) -> List[str]:
    """Share: one line for the feeling, one apology for the category (or the repeat).

    When this conversation has used up the fitting lines (a third complaint), the
    general ones follow; when all are used, the line is left out rather than repeated.
    """
    said = list(said)
    own = list(SHARE_FEELING.get(tone or "", SHARE_FEELING["neutral"]))
    others = [line for name, lines in SHARE_FEELING.items() if name not in (tone, "neutral") for line in lines]
    feeling = fresh(own + (others if own != list(SHARE_FEELING["neutral"]) else []), said)
    apologies = list(REPEAT_APOLOGY if repeat else SHARE_APOLOGY.get(category or "", SHARE_APOLOGY["other"]))
    apology = fresh(apologies + list(SHARE_APOLOGY["other"]), said)
    return [line for line in (feeling, apology) if line]


def reask(slot: str, times_asked: int) -> str:
    lines = REASK.get(slot) or REASK["problem"]
    return lines[(max(times_asked, 1) - 1) % len(lines)]


def nth(lines: Sequence[str], n: int) -> str:
    return lines[n % len(lines)]


def clean_quote(text: str) -> str:
    """The customer's words to quote back: no insults, no emoji, no doubled punctuation."""
    for word in INSULTS:
        text = text.replace(word, "")
    text = EMOJI.sub("", text)
    text = SPACES.sub("，", text)
    return text.strip("，,。 ")


def all_texts() -> List[str]:
    """Every line of this catalogue (for the guard test)."""
    texts: List[str] = []
    for group in (SHARE_FEELING, SHARE_APOLOGY, REASK):
        for lines in group.values():
            texts.extend(lines)
    for lines in (REPEAT_APOLOGY, STALL_OFFERS, ANGER_OFFERS, OFF_TOPIC, SARCASM_ACK, REMEDY_PROMPTS):
        texts.extend(lines)
    texts.extend((OFF_TOPIC_OFFER, ORDER_FIRST, CALLBACK_PHONE,
                  CALLBACK_PHONE_NOTED.format(phone="138****0001", ticket_id="T2026120600001"), WAITING_RAISED))
    texts.extend(WAITING_NOTED)
    texts.extend(CHECK_OPENERS[i] + "您反映的情况是「…」。我这样理解对吗？" for i in range(len(CHECK_OPENERS)))
    texts.extend(RISK_ACK.values())
    return texts
