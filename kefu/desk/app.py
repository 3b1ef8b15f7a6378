"""The agent desk: an aiohttp web app over the project database and Rasa's HTTP API.

Pages (HTML, Jinja2 with autoescape): ``/login``, ``/`` (queue, search, history),
``/cases/{id}``, ``/canned`` (canned replies), ``/csat``.
JSON API (login and, for changes, CSRF token required): ``/api/events`` (server-sent
events, kefu.desk.events), ``/api/queue``, ``/api/cases`` (search, kefu.desk.search),
``/api/cases/{id}`` and its ``claim``, ``transfer``, ``notes``, ``labels``, ``check``,
``reply``, ``resolve``; ``/api/agents``, ``/api/codes``, ``/api/canned``, ``/api/csat``.
Public: ``/customer/{sender}/messages`` (a REST customer polls agent replies),
``/customer/{sender}/status`` and ``/customer/{sender}/typing``, ``/healthz``.

Roles: agents and supervisors act on cases; supervisors also reassign anyone's case and
edit canned replies; trainers only read.  What a role may see of a case: kefu.desk.view.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from pathlib import Path
from typing import Any, Dict, Optional

import jinja2
from aiohttp import web

from kefu.desk import auth, canned, codes, csat, delivery, events, greetings, search, view
from kefu.desk.rasa_api import RasaApi, RasaUnavailable
from kefu.desk.throttle import LoginThrottle
from kefu.handoff import agents, escalations
from kefu.handoff.models import ACTING_ROLES
from kefu.handoff.priority import PRIORITY_NAMES, WAIT_TARGET_MINUTES
from kefu.handoff.transcript import pushed_messages, transcript
from kefu.replay import web as replay_web

logger = logging.getLogger(__name__)
HERE = Path(__file__).parent
RASA = web.AppKey("rasa", RasaApi)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
THROTTLE = web.AppKey("throttle", LoginThrottle)
HUB = web.AppKey("hub", events.Hub)
LONG_TASKS = web.AppKey("long_tasks", set)  # background loops and open event streams
MAX_BODY = 64 * 1024
MAX_SENDER = 128


def make_app(rasa: Optional[RasaApi] = None, retry: bool = True) -> web.Application:
    app = web.Application(middlewares=[auth.security_headers, json_errors, auth.require_login],
                          client_max_size=MAX_BODY)
    app[RASA] = rasa or RasaApi()
    app[THROTTLE] = LoginThrottle()
    app[HUB] = events.Hub()
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined)
    app.router.add_get("/healthz", health)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout)
    app.router.add_get("/", queue_page)
    app.router.add_get("/cases/{id:\\d+}", case_page)
    app.router.add_get("/canned", canned_page)
    app.router.add_get("/csat", csat_page)
    app.router.add_get("/api/me", api_me)
    app.router.add_get("/api/events", api_events)
    app.router.add_get("/api/agents", api_agents)
    app.router.add_get("/api/codes", api_codes)
    app.router.add_get("/api/queue", api_queue)
    app.router.add_get("/api/cases", api_search)
    app.router.add_get("/api/cases/{id:\\d+}", api_case)
    app.router.add_post("/api/cases/{id:\\d+}/claim", api_claim)
    app.router.add_post("/api/cases/{id:\\d+}/transfer", api_transfer)
    app.router.add_post("/api/cases/{id:\\d+}/notes", api_note)
    app.router.add_post("/api/cases/{id:\\d+}/labels", api_labels)
    app.router.add_post("/api/cases/{id:\\d+}/check", api_check)
    app.router.add_post("/api/cases/{id:\\d+}/reply", api_reply)
    app.router.add_post("/api/cases/{id:\\d+}/resolve", api_resolve)
    app.router.add_get("/api/canned", api_canned_list)
    app.router.add_post("/api/canned", api_canned_save)
    app.router.add_put("/api/canned/{id:\\d+}", api_canned_save)
    app.router.add_delete("/api/canned/{id:\\d+}", api_canned_delete)
    app.router.add_get("/api/csat", api_csat)
    app.router.add_get("/customer/{sender}/messages", customer_messages)
    app.router.add_get("/customer/{sender}/status", customer_status)
    app.router.add_post("/customer/{sender}/typing", customer_typing)
    app.router.add_static("/static/", HERE / "static")
    replay_web.setup(app)  # the trainers' pages: /trainer/… (kefu.replay.web)
    app.on_startup.append(_warm_guard)
    app[LONG_TASKS] = set()
    app.on_startup.append(_run_hub)
    if retry:
        app.on_startup.append(_retry_pending_replies)
    app.on_shutdown.append(_end_long_tasks)
    app.on_cleanup.append(_close_rasa)
    return app


async def _warm_guard(app: web.Application) -> None:
    # spaCy, jieba and the classifier load on the first check; do it before the first agent waits.
    asyncio.get_running_loop().run_in_executor(None, guard_findings, "您好，请问有什么可以帮您？", {})


async def _retry_pending_replies(app: web.Application) -> None:
    app[LONG_TASKS].add(asyncio.create_task(delivery.retry_pending(app[RASA])))


async def _run_hub(app: web.Application) -> None:
    app[LONG_TASKS].add(asyncio.create_task(app[HUB].run()))


async def _end_long_tasks(app: web.Application) -> None:
    """On a stop aiohttp waits up to a minute for every task to finish before cleanup;
    loops and event streams never finish by themselves, so they end here. The pages'
    EventSource reconnects to whoever serves next."""
    for task in list(app[LONG_TASKS]):
        task.cancel()


async def _close_rasa(app: web.Application) -> None:
    await app[RASA].close()


# --- errors as JSON for the API ---------------------------------------------------------------

@web.middleware
async def json_errors(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except escalations.CaseNotFound as error:
        return auth.json_error(404, "not_found", str(error))
    except escalations.CaseConflict as error:
        return auth.json_error(409, "conflict", str(error))
    except canned.CannedRejected as error:
        return web.json_response({"error": "guard", "detail": str(error),
                                  "violations": error.findings}, status=409)
    except (ValueError, agents.AccountError) as error:
        return auth.json_error(400, "bad_request", str(error))
    except RasaUnavailable as error:
        logger.warning("%s", error)
        return auth.json_error(502, "rasa_unavailable", "暂时连不上机器人服务，请稍后再试")
    except web.HTTPException as error:
        if auth.is_api(request.path) and error.status >= 400:
            name, text = HTTP_ERRORS.get(error.status, ("http_error", "请求没有成功"))
            own = error.text and not error.text.startswith(f"{error.status}:")
            return auth.json_error(error.status, name, error.text if own else text)
        raise


HTTP_ERRORS = {403: ("forbidden", "没有权限"), 404: ("not_found", "找不到这个地址"),
               405: ("method_not_allowed", "不支持这种请求方式"),
               413: ("too_large", "内容太长了")}


async def body_of(request: web.Request) -> Dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError("请求内容不是有效的 JSON 对象") from None
    if not isinstance(body, dict):
        raise ValueError("请求内容不是有效的 JSON 对象") from None
    return body


def case_id(request: web.Request) -> int:
    return int(request.match_info["id"])


def acting_agent(request: web.Request) -> agents.AgentInfo:
    """The logged-in agent or supervisor; trainers only read."""
    agent = request["login"].agent
    if agent.role not in ACTING_ROLES:
        raise web.HTTPForbidden(text="训练师账号只能查看，不能处理案例")
    return agent


def supervisor(request: web.Request) -> agents.AgentInfo:
    agent = request["login"].agent
    if agent.role != "supervisor":
        raise web.HTTPForbidden(text="只有主管能做这项操作")
    return agent


def render(request: web.Request, name: str, status: int = 200, **context) -> web.Response:
    html = request.app[TEMPLATES].get_template(name).render(**context)
    return web.Response(text=html, content_type="text/html", status=status)


# --- pages ------------------------------------------------------------------------------------

async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def login_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    # Keep the browser's token: a second GET /login (another tab, a prefetch) must not
    # invalidate the form already shown.
    token = auth.current_login_token(request) or auth.new_login_token()
    response = render(request, "login.html", status=status, login_token=token, error=error)
    auth.set_login_cookie(response, token)
    return response


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    if not auth.login_token_ok(request, str(form.get("login_token", ""))):
        return await login_page(request, "页面已过期，请重新登录。", status=403)
    name, address, throttle = str(form.get("name", "")), request.remote or "", request.app[THROTTLE]
    wait = throttle.wait_seconds(name, address)
    if wait:
        response = await login_page(
            request, f"登录失败次数太多，为保护账号安全，请{-(-wait // 60)}分钟后再试。", status=429)
        response.headers["Retry-After"] = str(wait)
        return response
    agent = await asyncio.to_thread(agents.authenticate, name, str(form.get("password", "")))
    if agent is None:
        throttle.failed(name, address)
        return await login_page(request, "用户名或密码不正确。", status=401)
    throttle.succeeded(name)
    token, _ = await asyncio.to_thread(agents.start_session, agent)
    response = web.HTTPFound("/")
    auth.set_session_cookie(response, token)
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    await asyncio.to_thread(agents.end_session, request.cookies.get(auth.SESSION_COOKIE))
    response = web.HTTPFound("/login")
    auth.clear_session_cookie(response)
    raise response


def page_context(request: web.Request) -> Dict[str, Any]:
    login = request["login"]
    return {"me": login.agent, "csrf_token": login.csrf_token,
            "can_act": login.agent.role in ACTING_ROLES,
            "is_supervisor": login.agent.role == "supervisor"}


async def queue_page(request: web.Request) -> web.Response:
    return render(request, "queue.html", **page_context(request), targets=WAIT_TARGET_MINUTES,
                  priority_names=PRIORITY_NAMES)


async def case_page(request: web.Request) -> web.Response:
    case = await asyncio.to_thread(escalations.get_case, case_id(request))
    return render(request, "case.html", **page_context(request), case=case)


async def canned_page(request: web.Request) -> web.Response:
    return render(request, "canned.html", **page_context(request),
                  variables={name: what for name, (what, _) in canned.VARIABLES.items()})


async def csat_page(request: web.Request) -> web.Response:
    report = await asyncio.to_thread(csat.by_agent)
    return render(request, "csat.html", **page_context(request), report=report)


# --- API ----------------------------------------------------------------------------------------

async def api_me(request: web.Request) -> web.Response:
    return web.json_response(request["login"].agent.to_dict())


async def api_agents(request: web.Request) -> web.Response:
    """Whom a case can go to: agents and supervisors, online ones first."""
    found = await asyncio.to_thread(agents.team)
    return web.json_response({"agents": found})


async def api_codes(request: web.Request) -> web.Response:
    return web.json_response({"resolution_codes": codes.RESOLUTION_CODES,
                              "root_causes": codes.ROOT_CAUSES})


async def api_queue(request: web.Request) -> web.Response:
    event_id = request.app[HUB].newest  # read before the cases: nothing falls between
    cases = await asyncio.to_thread(escalations.queue)
    online = await asyncio.to_thread(agents.online_agent_count)
    return web.json_response({"cases": [view.brief(case) for case in cases],
                              "online_agents": online, "event_id": event_id})


async def api_search(request: web.Request) -> web.Response:
    event_id = request.app[HUB].newest
    cases = await asyncio.to_thread(search.search, request.query)
    return web.json_response({"cases": [view.brief(case) for case in cases], "event_id": event_id})


async def api_case(request: web.Request) -> web.Response:
    event_id = request.app[HUB].newest
    case = await asyncio.to_thread(escalations.get_case, case_id(request))
    lines, live = await live_transcript(request.app[RASA], case)
    case["record"].pop("transcript", None)  # the snapshot, already used when not live
    shown = view.full(case, request["login"].agent)
    shown["transcript"] = view.transcript_lines(lines, shown["phone_visible"])
    shown["live"], shown["event_id"] = live, event_id
    return web.json_response(shown)


async def live_transcript(rasa: RasaApi, case: Dict[str, Any]):
    """The conversation as Rasa has it now (messages sent while paused included); the
    snapshot taken at hand-off when Rasa cannot be reached."""
    try:
        tracker = await rasa.tracker(case["sender_id"])
        return transcript(tracker.get("events") or []), True
    except RasaUnavailable as error:
        logger.warning("showing the hand-off snapshot of case %s: %s", case["id"], error)
        return case["record"].get("transcript") or [], False


async def api_claim(request: web.Request) -> web.Response:
    agent = acting_agent(request)
    before = await asyncio.to_thread(escalations.get_case, case_id(request))
    case = await asyncio.to_thread(escalations.claim, before["id"], agent)
    if before["agent_id"] != agent.id:
        await greet(request.app[RASA], case, agent, transferred=False)
    return web.json_response(view.brief(case))


async def api_transfer(request: web.Request) -> web.Response:
    agent = acting_agent(request)
    body = await body_of(request)
    to_name, reason = body.get("agent"), body.get("reason")
    if not isinstance(to_name, str) or not to_name.strip():
        raise ValueError("请选择要转给哪位客服或主管")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("请写明转交原因，方便接手的同事了解情况")
    case = await asyncio.to_thread(escalations.transfer, case_id(request), agent,
                                   to_name.strip(), reason)
    target = await asyncio.to_thread(agents.get_agent, case["agent_id"])
    await greet(request.app[RASA], case, target, transferred=True)
    return web.json_response(view.brief(case))


async def greet(rasa: RasaApi, case: Dict[str, Any], agent: agents.AgentInfo,
                transferred: bool) -> None:
    """Tell the customer a person has the conversation now, and who."""
    text = greetings.greeting(agent.name, case["id"], transferred)
    await asyncio.to_thread(escalations.add_agent_message, case["id"], agent, text, [], True)
    await delivery.deliver(rasa, case["sender_id"])


async def api_labels(request: web.Request) -> web.Response:
    agent = acting_agent(request)
    body = await body_of(request)
    labels = body.get("labels")
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise ValueError("标签要以列表形式提交")
    unknown = [label for label in labels if label not in codes.ROOT_CAUSES]
    if unknown:
        raise ValueError("不认识的根因标签：" + "、".join(unknown))
    case = await asyncio.to_thread(escalations.set_labels, case_id(request), agent, labels)
    return web.json_response(view.brief(case))


async def api_note(request: web.Request) -> web.Response:
    body = await body_of(request)
    agent = acting_agent(request)
    note = await asyncio.to_thread(escalations.add_note, case_id(request), agent, body.get("text"))
    return web.json_response(note, status=201)


async def api_check(request: web.Request) -> web.Response:
    """The forbidden-behaviour check of a draft, without sending it."""
    body = await body_of(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("草稿是空的")
    case = await asyncio.to_thread(escalations.get_case, case_id(request))
    findings = await asyncio.to_thread(guard_findings, text, guard_context(case))
    return web.json_response({"violations": findings})


async def api_reply(request: web.Request) -> web.Response:
    """Send a reply.  A draft the guard flags is refused (409, with the reasons)
    unless the agent, having seen them, sends it with ``"confirm": true``."""
    body = await body_of(request)
    agent = acting_agent(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("回复不能为空")
    case = await asyncio.to_thread(escalations.get_case, case_id(request))
    findings = await asyncio.to_thread(guard_findings, text, guard_context(case))
    if findings and body.get("confirm") is not True:
        return web.json_response({"error": "guard", "detail": "这条回复可能违反服务规范",
                                  "violations": findings}, status=409)
    message = await asyncio.to_thread(escalations.add_agent_message, case["id"], agent, text, findings)
    message["delivered"] = await delivery.deliver(request.app[RASA], case["sender_id"])
    return web.json_response(message, status=201)


async def api_resolve(request: web.Request) -> web.Response:
    """Close the case with a resolution code (the page asks to confirm first)."""
    agent = acting_agent(request)
    body = await body_of(request)
    code, comment = body.get("code"), body.get("comment")
    if code not in codes.RESOLUTION_CODES:
        raise ValueError("请选择处理结果")
    if comment is not None and not isinstance(comment, str):
        raise ValueError("处理说明要是文字")
    case = await asyncio.to_thread(escalations.get_case, case_id(request))
    if case["status"] == "resolved":
        raise escalations.CaseConflict(f"案例 {case['id']} 已处理完毕")
    if case["agent_id"] not in (None, agent.id):
        raise escalations.CaseConflict(f"案例 {case['id']} 由 {case['agent']} 负责，只有负责人能结案")
    rasa = request.app[RASA]
    await delivery.deliver(rasa, case["sender_id"])  # replies first, then the bot
    await delivery.resume_bot(rasa, case["sender_id"])
    resolved = await asyncio.to_thread(escalations.resolve, case["id"], agent, code, comment)
    return web.json_response(view.brief(resolved))


# --- canned replies, CSAT --------------------------------------------------------------------

async def api_canned_list(request: web.Request) -> web.Response:
    """Every canned reply; with ``?case=ID`` each also filled in for that case."""
    replies = await asyncio.to_thread(canned.list_replies)
    if request.query.get("case", "").isdigit():
        case = await asyncio.to_thread(escalations.get_case, int(request.query["case"]))
        values = canned.case_values(case, request["login"].agent)
        for reply in replies:
            reply["filled"] = canned.fill(reply["text"], values)
    return web.json_response({"replies": replies, "variables": {
        name: what for name, (what, _) in canned.VARIABLES.items()}})


async def api_canned_save(request: web.Request) -> web.Response:
    agent = supervisor(request)
    body = await body_of(request)
    reply_id = int(request.match_info["id"]) if "id" in request.match_info else None
    saved = await asyncio.to_thread(canned.save, agent, body.get("title"), body.get("text"), reply_id)
    return web.json_response(saved, status=200 if reply_id else 201)


async def api_canned_delete(request: web.Request) -> web.Response:
    supervisor(request)
    await asyncio.to_thread(canned.delete, int(request.match_info["id"]))
    return web.json_response({"deleted": True})


async def api_csat(request: web.Request) -> web.Response:
    days = request.query.get("days", "30")
    if not days.isdigit() or not 1 <= int(days) <= 366:
        raise ValueError("天数要在 1 到 366 之间")
    return web.json_response(await asyncio.to_thread(csat.by_agent, int(days)))


# --- push: server-sent events --------------------------------------------------------------

SSE_PING_SECONDS = 15.0
TRACKER_LOOK_SECONDS = 2.0
PRESENCE_SECONDS = 60.0


async def api_events(request: web.Request) -> web.StreamResponse:
    """Every desk event after the page's last one, then each new one as it happens.

    The browser's ``EventSource`` reconnects by itself and sends ``Last-Event-ID``;
    a fresh page sends ``?after=`` the ``event_id`` its data was read at.  A case page
    (``?case=ID``) also hears ``message`` when the customer wrote while paused: the
    conversation lives in Rasa, so this stream looks at its tracker for the page.
    The stream keeps the agent online and logged in, as the old polling did.
    """
    hub = request.app[HUB]
    last = _event_id(request.headers.get("Last-Event-ID")) or _event_id(request.query.get("after"))
    if last is None:
        last = hub.newest
    watch = None
    if request.query.get("case", "").isdigit():
        case = await asyncio.to_thread(escalations.get_case, int(request.query["case"]))
        watch = TrackerWatch(request.app[RASA], case["sender_id"], case["id"])
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8",
                                           "Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    await response.prepare(request)
    await response.write(b"retry: 2000\n\n")
    token = request.cookies.get(auth.SESSION_COOKIE)
    kept_alive = asyncio.get_running_loop().time()
    long_tasks = request.app[LONG_TASKS]
    long_tasks.add(asyncio.current_task())
    try:
        while True:
            known = hub.newest
            found = await asyncio.to_thread(events.events_after, last)
            for item in found:
                await response.write(sse(item, item["kind"], item["id"]))
                last = item["id"]
            if not found:
                last = max(last, known)  # pruned meanwhile: nothing left to send
            if watch is not None and await watch.changed():
                await response.write(sse({"case_id": watch.case_id}, "message"))
            if asyncio.get_running_loop().time() - kept_alive > PRESENCE_SECONDS:
                kept_alive = asyncio.get_running_loop().time()
                if await asyncio.to_thread(agents.session_for, token) is None:
                    await response.write(sse({}, "logged_out"))
                    break
            timeout = TRACKER_LOOK_SECONDS if watch is not None else SSE_PING_SECONDS
            if not await hub.wait(last, timeout):
                await response.write(b": ping\n\n")
    except (ConnectionResetError, ConnectionError):
        pass
    finally:
        long_tasks.discard(asyncio.current_task())
    return response


def sse(data: Dict[str, Any], kind: str, event_id: Optional[int] = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return (head + f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n").encode("utf-8")


def _event_id(value: Optional[str]) -> Optional[int]:
    return int(value) if value and value.isdigit() else None


class TrackerWatch:
    """Whether a conversation has new events in Rasa since the last look."""

    def __init__(self, rasa: RasaApi, sender_id: str, case_id: int):
        self.rasa, self.sender_id, self.case_id = rasa, sender_id, case_id
        self.seen: Optional[float] = None
        self.looked = 0.0

    async def changed(self) -> bool:
        now = asyncio.get_running_loop().time()
        if now - self.looked < TRACKER_LOOK_SECONDS:
            return False
        self.looked = now
        try:
            latest = (await self.rasa.tracker_state(self.sender_id)).get("latest_event_time")
        except RasaUnavailable:
            return False
        changed = self.seen is not None and latest != self.seen
        self.seen = latest
        return changed


# --- the forbidden-behaviour check ------------------------------------------------------------------

def guard_context(case: Dict[str, Any]) -> Dict[str, Any]:
    """What the guard needs to judge a reply in this conversation (step, promises)."""
    record = case.get("record") or {}
    promises = record.get("promises") or []
    context: Dict[str, Any] = {"complaint_step": (record.get("steps") or {}).get("current")}
    if promises:
        context.update(ticket_id=promises[-1].get("ticket_id"), ticket_tier=promises[-1].get("tier"))
    if case.get("callback_ticket_id"):
        context.update(ticket_id=case["callback_ticket_id"], ticket_tier="urgent")
    return context


def guard_findings(text: str, context: Dict[str, Any]) -> list:
    """Each finding as the agent sees it: the behaviour, the words, why, how to say it instead."""
    from kefu.guard import check, load_rules  # loads spaCy: only when the desk checks a draft

    rules = load_rules()
    findings = []
    for v in check(text, context):
        finding = {"id": v.id, "name": rules[v.id].name, "span": v.span, "why": v.why,
                   "suggest": v.suggest, "source": v.source}
        if v.score is not None:
            finding["score"] = v.score
        findings.append(finding)
    return findings


# --- the customer's side -----------------------------------------------------------------------------

async def customer_messages(request: web.Request) -> web.Response:
    """Agent replies and the bot's follow-up for a REST customer, newer than ``after``.

    Public like the REST webhook, where the conversation id is the customer's only
    credential.  It answers only for conversations handed over to a person, and only
    with what was pushed to the customer — never the transcript, facts or notes.
    """
    sender = request.match_info["sender"]
    if not sender or len(sender) > MAX_SENDER:
        return auth.json_error(400, "bad_request", "会话编号格式不对")
    try:
        after = float(request.query.get("after", "0"))
        if not math.isfinite(after):
            raise ValueError
    except ValueError:
        return auth.json_error(400, "bad_request", "after 要是 Unix 时间戳")
    if not await asyncio.to_thread(escalations.was_handed_over, sender):
        return web.json_response({"messages": []})
    tracker = await request.app[RASA].tracker(sender)
    return web.json_response({"messages": pushed_messages(tracker.get("events") or [], after)})


async def customer_status(request: web.Request) -> web.Response:
    """What the customer's header should say: with the bot, waiting (queue position),
    served by a named agent, or a callback booked (kefu.handoff.escalations)."""
    sender = request.match_info["sender"]
    if not sender or len(sender) > MAX_SENDER:
        return auth.json_error(400, "bad_request", "会话编号格式不对")
    return web.json_response(await asyncio.to_thread(escalations.customer_status, sender))


async def customer_typing(request: web.Request) -> web.Response:
    """The customer is typing (a REST client or a chat page tells it); the case page shows it."""
    sender = request.match_info["sender"]
    if not sender or len(sender) > MAX_SENDER:
        return auth.json_error(400, "bad_request", "会话编号格式不对")
    announced = await asyncio.to_thread(events.customer_typing, sender)
    return web.json_response({"announced": announced})
