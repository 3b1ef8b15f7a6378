"""The trainers' pages, mounted by the desk app (aiohttp):

    /trainer/                      conversations with filters, select and export
    /trainer/conversation?id=…     one conversation turn by turn (50 turns a page)
    /trainer/rerun        (POST)   re-run on the current model, differences per turn
    /trainer/export       (POST)   selected conversations → Rasa test stories (+ NLU)
    /trainer/report?day=…          the daily summary with charts

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
from kefu.replay.conversations import Replay, masked_turns
from kefu.replay.filters import BEHAVIOURS, EMOTIONS, FilterError, apply, parse_filters
from kefu.replay.report import SQI_NAMES, SQI_WEIGHTS, bar_chart, daily_report
from kefu.replay.rerun import RasaClient, RerunError, rerun
from kefu.replay.source import ConversationNotFound, TrackerStoreUnavailable

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
    app[PAGES].filters.update(clock=_clock, pct=_pct, note_name=_note_name)
    app[PAGES].globals.update(STEP_NAMES=STEP_NAMES, NOTE_NAMES=NOTE_NAMES, EMOTION_NAMES=EMOTION_NAMES)
    if replay is not None:
        app[REPLAY] = replay
    app.router.add_get("/trainer/", list_page)
    app.router.add_get("/trainer", lambda request: _redirect("/trainer/"))
    app.router.add_get("/trainer/conversation", conversation_page)
    app.router.add_post("/trainer/rerun", rerun_page)
    app.router.add_post("/trainer/export", export_page)
    app.router.add_get("/trainer/report", report_page)
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
    except FilterError as error:
        return problem(request, 400, f"筛选条件有误：{error}")
    except exporting.ExportError as error:
        return problem(request, 400, f"无法导出：{error}")
    except TrackerStoreUnavailable as error:
        return problem(request, 503, f"会话存储暂时无法读取，请稍后再试。（{error}）")
    except RerunError as error:
        return problem(request, 502, f"重新运行失败：{error}")


# --- pages -------------------------------------------------------------------------------------

async def list_page(request: web.Request) -> web.Response:
    _trainer(request)
    query = dict(request.query)
    try:
        filters = parse_filters(query)
        page = _page_number(query.get("page"))
    except FilterError as error:
        return render(request, "replay_list.html", status=400, error=str(error), query=query,
                      rows=[], total=0, page=1, pages=1, **_choices())
    result = await _run(request, lambda replay: apply(replay.summaries(), filters))
    if isinstance(result, web.Response):
        return result
    pages = max(1, math.ceil(len(result) / PAGE_CONVERSATIONS))
    rows = result[(page - 1) * PAGE_CONVERSATIONS: page * PAGE_CONVERSATIONS]
    return render(request, "replay_list.html", error="", query=query, rows=rows, total=len(result),
                  page=min(page, pages), pages=pages, **_choices())


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
    charts = {
        "category": Markup(bar_chart(list(result.by_category.items()))),
        "reasons": Markup(bar_chart(list(result.handoff_reasons.items()))),
        "findings": Markup(bar_chart(list(result.findings_by_behaviour.items()))),
        "sqi": Markup(bar_chart([(SQI_NAMES[k], SQI_WEIGHTS[k] * n) for k, n in result.sqi_counts.items() if n])),
    }
    return render(request, "replay_report.html", report=result, charts=charts, weights=SQI_WEIGHTS,
                  sqi_names=SQI_NAMES)


# --- template filters -----------------------------------------------------------------------------

def _clock(timestamp) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(float(timestamp)).strftime("%Y-%m-%d %H:%M:%S") if timestamp else ""


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
