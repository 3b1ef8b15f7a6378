"""The trainers' pages, mounted by the desk app (aiohttp):

    /trainer/                      conversations with filters, select and export
    /trainer/conversation?id=…     one conversation turn by turn (50 turns a page)
    /trainer/rerun        (POST)   re-run on the current model, differences per turn
    /trainer/export       (POST)   selected conversations → Rasa test stories (+ NLU)
    /trainer/report?day=…          the daily summary with charts
    /trainer/review/add   (POST)   a replayed turn corrected (intent, entities) → review queue
    /trainer/review                the review queue: approve or reject
    /trainer/review/decide (POST)  one example approved, rejected or sent back
    /trainer/review/export[.yml]   approved examples as Rasa NLU YAML (page, or download)

The desk's middlewares do login and CSRF; every page here also requires the
``trainer`` role (agents get 403), and every text shown is masked.
"""
from __future__ import annotations

import asyncio
import math
import time
from datetime import date
from pathlib import Path
from typing import Any, Dict, List, Optional

import jinja2
from aiohttp import web
from markupsafe import Markup

from kefu.complaint.steps import STEP_NAMES
from kefu.replay import export as exporting
from kefu.replay import review
from kefu.replay.conversations import Replay, masked_turns
from kefu.replay.filters import BEHAVIOURS, EMOTIONS, FilterError, apply, broken, parse_filters
from kefu.replay.report import (
    SQI_DAYS,
    SQI_NAMES,
    SQI_WEIGHTS,
    DailyReport,
    bar_chart,
    daily_report,
    funnel_chart,
    line_chart,
    paired_chart,
)
from kefu.replay.rerun import RasaClient, RerunError, rerun
from kefu.replay.source import BrokenConversation, ConversationNotFound, TrackerStoreUnavailable

HERE = Path(__file__).parent
DESK_TEMPLATES = HERE.parent / "desk" / "templates"
PAGE_TURNS = 50
PAGE_CONVERSATIONS = 50
REPLAY = web.AppKey("replay", Replay)
PAGES = web.AppKey("replay_templates", jinja2.Environment)
EMOTION_NAMES = {"angry": "愤怒", "anxious": "焦虑", "disappointed": "失望", "neutral": "平静",
                 "satisfied": "满意"}
NOTE_NAMES = {"low_confidence": "低置信度", "emotion_rose": "情绪上升", "skipped": "跳过步骤",
              "stalled": "步骤停滞", "late_handoff": "转人工过晚", "no_handoff": "该转人工未转"}


def setup(app: web.Application, replay: Optional[Replay] = None) -> None:
    """Adds the trainer pages to the desk ``app``; the tracker store is opened lazily,
    so the desk starts even while it is down."""
    app[PAGES] = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(HERE / "templates"),
                                    jinja2.FileSystemLoader(DESK_TEMPLATES)]),
        autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined)
    app[PAGES].filters.update(clock=_clock, pct=_pct, note_name=_note_name, mask=_mask)
    app[PAGES].globals.update(STEP_NAMES=STEP_NAMES, NOTE_NAMES=NOTE_NAMES, EMOTION_NAMES=EMOTION_NAMES)
    if replay is not None:
        app[REPLAY] = replay
    app.router.add_get("/trainer/", list_page)
    app.router.add_get("/trainer", lambda request: _redirect("/trainer/"))
    app.router.add_get("/trainer/conversation", conversation_page)
    app.router.add_post("/trainer/rerun", rerun_page)
    app.router.add_post("/trainer/export", export_page)
    app.router.add_get("/trainer/report", report_page)
    app.router.add_post("/trainer/review/add", review_add)
    app.router.add_get("/trainer/review", review_page)
    app.router.add_post("/trainer/review/decide", review_decide)
    app.router.add_get("/trainer/review/export", review_export_page)
    app.router.add_get("/trainer/review/export.yml", review_export_file)
    app.router.add_static("/trainer/static/", HERE / "static")


async def _redirect(location: str):
    raise web.HTTPFound(location)


# --- plumbing --------------------------------------------------------------------------------

def _replay(request: web.Request) -> Replay:
    if REPLAY not in request.app:
        request.app[REPLAY] = Replay()  # reads endpoints.yml; raises when it is unusable
    return request.app[REPLAY]


def _trainer(request: web.Request):
    login = request["login"]
    if login.agent.role != "trainer":
        raise web.HTTPForbidden(reason="Trainers only")
    return login


def render(request: web.Request, name: str, status: int = 200, **context) -> web.Response:
    login = request["login"]
    html = request.app[PAGES].get_template(name).render(me=login.agent, csrf_token=login.csrf_token,
                                                        **context)
    return web.Response(text=html, content_type="text/html", status=status)


def problem(request: web.Request, status: int, message: str) -> web.Response:
    return render(request, "replay_error.html", status=status, message=message)


async def _run(request: web.Request, work, *args):
    """Blocking work in a thread; known failures become a clear page, never a crash."""
    try:
        replay = await asyncio.to_thread(_replay, request)
        return await asyncio.to_thread(work, replay, *args)
    except ConversationNotFound as error:
        return problem(request, 404, f"找不到这个会话：{error}")
    except BrokenConversation as error:
        return problem(request, 422, f"这个会话已损坏，无法回放：{error}")
    except FilterError as error:
        return problem(request, 400, f"筛选条件有误：{error}")
    except exporting.ExportError as error:
        return problem(request, 400, f"无法导出：{error}")
    except TrackerStoreUnavailable as error:
        return problem(request, 503, f"会话存储暂时无法读取，请稍后再试。（{error}）")
    except RerunError as error:
        return problem(request, 502, f"重新运行失败：{error}")
    except review.ReviewError as error:
        return problem(request, 400, f"无法加入审核队列：{error}")


# --- pages -------------------------------------------------------------------------------------

async def list_page(request: web.Request) -> web.Response:
    _trainer(request)
    query = dict(request.query)
    try:
        filters = parse_filters(query)
        page = _page_number(query.get("page"))
    except FilterError as error:
        return render(request, "replay_list.html", status=400, error=str(error), query=query,
                      rows=[], total=0, page=1, pages=1, broken=[], **_choices())

    def work(replay: Replay):
        summaries = replay.summaries()
        return apply(summaries, filters), broken(summaries)

    result = await _run(request, work)
    if isinstance(result, web.Response):
        return result
    found, unreadable = result
    pages = max(1, math.ceil(len(found) / PAGE_CONVERSATIONS))
    rows = found[(page - 1) * PAGE_CONVERSATIONS: page * PAGE_CONVERSATIONS]
    return render(request, "replay_list.html", error="", query=query, rows=rows, total=len(found),
                  page=min(page, pages), pages=pages, broken=unreadable, **_choices())


def _choices() -> Dict[str, Any]:
    from kefu.complaint import CATEGORIES

    return {"categories": CATEGORIES, "emotions": EMOTIONS, "behaviours": BEHAVIOURS}


def _page_number(value: Optional[str]) -> int:
    if not value:
        return 1
    if not value.isdigit() or not 1 <= int(value) <= 100000:
        raise FilterError("page must be a whole number from 1")
    return int(value)


async def conversation_page(request: web.Request) -> web.Response:
    _trainer(request)
    sender_id = request.query.get("id", "")
    try:
        page = _page_number(request.query.get("page"))
    except FilterError as error:
        return problem(request, 400, str(error))
    started = time.perf_counter()
    result = await _run(request, _conversation_view, sender_id, page)
    if isinstance(result, web.Response):
        return result
    response = render(request, "replay_conversation.html", **result)
    response.headers["Server-Timing"] = f"build;dur={(time.perf_counter() - started) * 1000:.0f}"
    return response


def _conversation_view(replay: Replay, sender_id: str, page: int) -> Dict[str, Any]:
    conversation = replay.conversation(sender_id)
    turns = conversation.turns  # turns[0]: before the first customer message
    pages = max(1, math.ceil((len(turns) - 1) / PAGE_TURNS))
    page = min(page, pages)
    first = (page - 1) * PAGE_TURNS + 1
    shown = masked_turns(([turns[0]] if page == 1 else []) + turns[first:first + PAGE_TURNS])
    glance = [{"index": t.index, "page": (t.index - 1) // PAGE_TURNS + 1, "notes": t.notes,
               "findings": len(t.findings), "handoff": bool(t.handoff), "step": t.step}
              for t in turns]
    return {"summary": conversation.summary, "turns": shown, "glance": glance, "page": page,
            "pages": pages, "intents": sorted(exporting.load_domain().intents)}


async def rerun_page(request: web.Request) -> web.Response:
    _trainer(request)
    form = await request.post()
    sender_id = str(form.get("id", ""))

    def work(replay: Replay):
        return rerun(replay.conversation(sender_id), RasaClient())

    result = await _run(request, work)
    if isinstance(result, web.Response):
        return result
    from kefu.replay.mask import mask_value

    return render(request, "replay_rerun.html", result=mask_value(result.to_dict()))


async def export_page(request: web.Request) -> web.Response:
    _trainer(request)
    form = await request.post()
    ids = [str(v) for v in form.getall("id", []) if str(v)]
    if not ids:
        return problem(request, 400, "请先勾选要导出的会话。")
    fixes = _form_corrections(form, ids)

    def work(replay: Replay):
        conversations = [replay.conversation(i) for i in ids]
        stories, skipped = exporting.write_stories(conversations, corrections=fixes)
        nlu = exporting.write_nlu(conversations, corrections=fixes) if form.get("nlu") else None
        return stories, skipped, nlu, exporting.stories_yaml(conversations, fixes)[0]

    result = await _run(request, work)
    if isinstance(result, web.Response):
        return result
    stories, skipped, nlu, yaml_text = result
    return render(request, "replay_export.html", ids=ids, skipped=skipped, stories=_shown_path(stories),
                  nlu=_shown_path(nlu) if nlu else None, yaml_text=yaml_text)


def _form_corrections(form, ids: List[str]) -> Dict[str, exporting.Corrections]:
    """``intent_<turn>`` fields (one conversation exported from its page) and
    ``action_<turn>`` fields written ``old>new``."""
    fix = exporting.Corrections()
    for key, value in form.items():
        value = str(value).strip()
        kind, _, turn = key.partition("_")
        if not value or not turn.isdigit():
            continue
        if kind == "intent":
            fix.intents[int(turn)] = value
        elif kind == "action" and ">" in value:
            old, new = value.split(">", 1)
            fix.actions.setdefault(int(turn), {})[old.strip()] = new.strip()
    return {ids[0]: fix} if len(ids) == 1 else {}


def _shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(HERE.parents[1]))
    except ValueError:
        return str(path)


async def report_page(request: web.Request) -> web.Response:
    _trainer(request)
    raw = request.query.get("day", "").strip()
    try:
        day = date.fromisoformat(raw) if raw else date.today()
    except ValueError:
        return problem(request, 400, f"日期格式应为 2026-11-25，而不是 {raw[:30]!r}")
    result = await _run(request, lambda replay: daily_report(replay.summaries(), day))
    if isinstance(result, web.Response):
        return result
    return render(request, "replay_report.html", report=result, charts=report_charts(result),
                  weights=SQI_WEIGHTS, sqi_names=SQI_NAMES, sqi_days=SQI_DAYS)


def report_charts(report: DailyReport) -> Dict[str, Markup]:
    """The report's charts as inline SVG (labels escaped by the chart functions)."""
    from kefu.handoff.summary import CATEGORY_NAMES
    from kefu.handoff.triggers import REASONS

    named = lambda names, counts: [(names.get(k, k), n) for k, n in counts.items()]  # noqa: E731
    emotions = [k for k in EMOTION_NAMES if k in report.emotion_start or k in report.emotion_end]
    charts = {
        "category": bar_chart(named(CATEGORY_NAMES, report.by_category), title="投诉类别"),
        "funnel": funnel_chart([(STEP_NAMES[k], report.funnel_reached.get(k, 0), report.funnel_stopped.get(k, 0))
                                for k in STEP_NAMES]),
        "reasons": bar_chart(named(REASONS, report.handoff_reasons), title="转人工原因"),
        "csat": bar_chart([(f"{k} 分", n) for k, n in sorted(report.ratings_by_score.items(), reverse=True)]
                          if report.ratings else [], title="顾客评分分布"),
        "emotion": paired_chart([(EMOTION_NAMES[k], report.emotion_start.get(k, 0), report.emotion_end.get(k, 0))
                                 for k in emotions], ("开始时", "结束时"), title="开始与结束时的情绪"),
        "findings": bar_chart(list(report.findings_by_behaviour.items()), title="服务禁忌"),
        "sqi": bar_chart([(SQI_NAMES[k], SQI_WEIGHTS[k] * n) for k, n in report.sqi_counts.items() if n],
                         title="SQI 构成"),
        "sqi_trend": line_chart(report.sqi_trend, title=f"最近 {SQI_DAYS} 天的 SQI"),
    }
    return {name: Markup(svg) for name, svg in charts.items()}


# --- the review queue ------------------------------------------------------------------------

REVIEW_STATUS_NAMES = {"pending": "待审核", "approved": "已通过", "rejected": "未通过"}


async def review_add(request: web.Request) -> web.Response:
    login = _trainer(request)
    form = await request.post()
    sender_id, turn = str(form.get("id", "")), str(form.get("turn", ""))
    if not turn.isdigit():
        return problem(request, 400, "请在某一轮上点“加入审核队列”。")
    intent = str(form.get(f"intent_{turn}", ""))
    entities = str(form.get(f"entities_{turn}", ""))[:1000]

    def work(replay: Replay):
        return review.add_correction(replay.conversation(sender_id), int(turn), intent, entities,
                                     login.agent.name)

    result = await _run(request, work)
    if isinstance(result, web.Response):
        return result
    raise web.HTTPSeeOther(f"/trainer/review?added={result['id']}")


async def review_page(request: web.Request) -> web.Response:
    _trainer(request)
    status = request.query.get("status", "")
    if status and status not in review.STATUSES:
        return problem(request, 400, "状态只能是 pending、approved 或 rejected")
    rows = await asyncio.to_thread(review.examples, status or None)
    added = request.query.get("added", "")
    return render(request, "replay_review.html", rows=_masked_examples(rows), tab=status,
                  added=int(added) if added.isdigit() else None, status_names=REVIEW_STATUS_NAMES)


def _masked_examples(rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The stored text is pseudonymized already; masking it again shows 138****0003
    where the text has 13800000003, as everywhere else trainers look."""
    from kefu.replay.mask import mask_value

    return [dict(row, text=mask_value(row["text"]), sender_id=mask_value(row["sender_id"]),
                 entities=mask_value(row["entities"])) for row in rows]


async def review_decide(request: web.Request) -> web.Response:
    login = _trainer(request)
    form = await request.post()
    example = str(form.get("example", ""))
    decision = str(form.get("decision", ""))
    if not example.isdigit():
        return problem(request, 400, "缺少要审核的样例。")
    try:
        await asyncio.to_thread(review.decide, int(example), decision, login.agent.name)
    except review.ReviewError as error:
        return problem(request, 400, str(error))
    back = str(form.get("status", ""))
    raise web.HTTPSeeOther("/trainer/review" + (f"?status={back}" if back in review.STATUSES else ""))


async def review_export_page(request: web.Request) -> web.Response:
    _trainer(request)
    try:
        text = await asyncio.to_thread(review.export_yaml)
    except review.ReviewError as error:
        return problem(request, 400, str(error))
    count = len(await asyncio.to_thread(review.examples, "approved"))
    return render(request, "replay_review_export.html", yaml_text=text, count=count)


async def review_export_file(request: web.Request) -> web.Response:
    _trainer(request)
    try:
        text = await asyncio.to_thread(review.export_yaml)
    except review.ReviewError as error:
        return problem(request, 400, str(error))
    name = f"review_nlu_{date.today().isoformat()}.yml"
    return web.Response(text=text, content_type="application/x-yaml", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- template filters -----------------------------------------------------------------------------

def _clock(timestamp) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(float(timestamp)).strftime("%Y-%m-%d %H:%M:%S") if timestamp else ""


def _mask(value) -> str:
    from kefu.replay.mask import mask_text

    return mask_text(str(value))


def _pct(value) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _note_name(note: str) -> str:
    kind, _, detail = note.partition(":")
    name = NOTE_NAMES.get(kind, kind)
    if kind == "skipped":
        detail = "、".join(STEP_NAMES.get(s, s) for s in detail.split(","))
    elif kind == "stalled":
        step, _, slot = detail.partition(":")
        detail = f"{STEP_NAMES.get(step, step)}（{slot}）"
    elif kind == "late_handoff":
        detail = f"晚了 {detail} 轮"
    return f"{name} {detail}".strip()
