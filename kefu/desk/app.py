"""The agent desk: an aiohttp web app over the project database and Rasa's HTTP API.

Pages (HTML, Jinja2 with autoescape): ``/login``, ``/`` (queue), ``/cases/{id}``.
JSON API (login and, for changes, CSRF token required): ``/api/queue``,
``/api/cases/{id}`` and its ``claim``, ``transfer``, ``notes``, ``check``, ``reply``,
``resolve``; ``/api/agents``.  Public: ``/customer/{sender}/messages`` (a REST
customer polls agent replies), ``/healthz``.
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

from kefu.desk import auth, delivery
from kefu.desk.rasa_api import RasaApi, RasaUnavailable
from kefu.desk.throttle import LoginThrottle
from kefu.handoff import agents, escalations
from kefu.handoff.priority import PRIORITY_NAMES, WAIT_TARGET_MINUTES
from kefu.handoff.transcript import pushed_messages, transcript
from kefu.replay import web as replay_web

logger = logging.getLogger(__name__)
HERE = Path(__file__).parent
RASA = web.AppKey("rasa", RasaApi)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
THROTTLE = web.AppKey("throttle", LoginThrottle)
MAX_BODY = 64 * 1024
MAX_SENDER = 128


def make_app(rasa: Optional[RasaApi] = None, retry: bool = True) -> web.Application:
    app = web.Application(middlewares=[auth.security_headers, json_errors, auth.require_login],
                          client_max_size=MAX_BODY)
    app[RASA] = rasa or RasaApi()
    app[THROTTLE] = LoginThrottle()
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined)
    app.router.add_get("/healthz", health)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout)
    app.router.add_get("/", queue_page)
    app.router.add_get("/cases/{id:\\d+}", case_page)
    app.router.add_get("/api/me", api_me)
    app.router.add_get("/api/agents", api_agents)
    app.router.add_get("/api/queue", api_queue)
    app.router.add_get("/api/cases/{id:\\d+}", api_case)
    app.router.add_post("/api/cases/{id:\\d+}/claim", api_claim)
    app.router.add_post("/api/cases/{id:\\d+}/transfer", api_transfer)
    app.router.add_post("/api/cases/{id:\\d+}/notes", api_note)
    app.router.add_post("/api/cases/{id:\\d+}/check", api_check)
    app.router.add_post("/api/cases/{id:\\d+}/reply", api_reply)
    app.router.add_post("/api/cases/{id:\\d+}/resolve", api_resolve)
    app.router.add_get("/customer/{sender}/messages", customer_messages)
    app.router.add_static("/static/", HERE / "static")
    replay_web.setup(app)  # the trainers' pages: /trainer/… (kefu.replay.web)
    app.on_startup.append(_warm_guard)
    if retry:
        app.cleanup_ctx.append(_retry_pending_replies)
    app.on_cleanup.append(_close_rasa)
    return app


async def _warm_guard(app: web.Application) -> None:
    # spaCy, jieba and the classifier load on the first check; do it before the first agent waits.
    asyncio.get_running_loop().run_in_executor(None, guard_findings, "您好，请问有什么可以帮您？", {})


async def _retry_pending_replies(app: web.Application):
    task = asyncio.create_task(delivery.retry_pending(app[RASA]))
    yield
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
    except (ValueError, agents.AccountError) as error:
        return auth.json_error(400, "bad_request", str(error))
    except RasaUnavailable as error:
        return auth.json_error(502, "rasa_unavailable", str(error))
    except web.HTTPException as error:
        if auth.is_api(request.path) and error.status >= 400:
            return auth.json_error(error.status, HTTP_ERRORS.get(error.status, "http_error"),
                                   error.reason)
        raise


HTTP_ERRORS = {403: "forbidden", 404: "not_found", 405: "method_not_allowed",
               413: "too_large"}


async def body_of(request: web.Request) -> Dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError("the body must be a JSON object")
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def case_id(request: web.Request) -> int:
    return int(request.match_info["id"])


def acting_agent(request: web.Request) -> agents.AgentInfo:
    agent = request["login"].agent
    if agent.role != "agent":
        raise web.HTTPForbidden(reason="Agents only")
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
    return {"me": login.agent, "csrf_token": login.csrf_token}


async def queue_page(request: web.Request) -> web.Response:
    return render(request, "queue.html", **page_context(request), targets=WAIT_TARGET_MINUTES,
                  priority_names=PRIORITY_NAMES)


async def case_page(request: web.Request) -> web.Response:
    case = await asyncio.to_thread(escalations.get_case, case_id(request))
    return render(request, "case.html", **page_context(request), case=case)


# --- API ----------------------------------------------------------------------------------------

async def api_me(request: web.Request) -> web.Response:
    return web.json_response(request["login"].agent.to_dict())


async def api_agents(request: web.Request) -> web.Response:
    found = await asyncio.to_thread(agents.list_agents, "agent")
    return web.json_response({"agents": [agent.to_dict() for agent in found]})


async def api_queue(request: web.Request) -> web.Response:
    cases = await asyncio.to_thread(escalations.queue)
    online = await asyncio.to_thread(agents.online_agent_count)
    return web.json_response({"cases": cases, "online_agents": online})


async def api_case(request: web.Request) -> web.Response:
    case = await asyncio.to_thread(escalations.get_case, case_id(request))
    case["transcript"], case["live"] = await live_transcript(request.app[RASA], case)
    case["record"].pop("transcript", None)  # the snapshot, already used when not live
    return web.json_response(case)


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
    case = await asyncio.to_thread(escalations.claim, case_id(request), acting_agent(request))
    return web.json_response(case)


async def api_transfer(request: web.Request) -> web.Response:
    body = await body_of(request)
    to_name = body.get("agent")
    if not isinstance(to_name, str) or not to_name.strip():
        raise ValueError("name the agent to transfer to: {\"agent\": NAME}")
    case = await asyncio.to_thread(escalations.transfer, case_id(request),
                                   acting_agent(request), to_name.strip())
    return web.json_response(case)


async def api_note(request: web.Request) -> web.Response:
    body = await body_of(request)
    note = await asyncio.to_thread(escalations.add_note, case_id(request),
                                   acting_agent(request), body.get("text"))
    return web.json_response(note, status=201)


async def api_check(request: web.Request) -> web.Response:
    """The forbidden-behaviour check of a draft, without sending it."""
    body = await body_of(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("the draft is empty")
    case = await asyncio.to_thread(escalations.get_case, case_id(request))
    findings = await asyncio.to_thread(guard_findings, text, guard_context(case))
    return web.json_response({"violations": findings})


async def api_reply(request: web.Request) -> web.Response:
    """Send a reply.  A draft the guard flags is refused (409, with the reasons)
    unless the agent, having seen them, sends it with ``"confirm": true``."""
    body = await body_of(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("the reply is empty")
    agent = acting_agent(request)
    case = await asyncio.to_thread(escalations.get_case, case_id(request))
    findings = await asyncio.to_thread(guard_findings, text, guard_context(case))
    if findings and body.get("confirm") is not True:
        return web.json_response({"error": "guard", "detail": "the draft may break a service rule",
                                  "violations": findings}, status=409)
    message = await asyncio.to_thread(escalations.add_agent_message, case["id"], agent, text, findings)
    message["delivered"] = await delivery.deliver(request.app[RASA], case["sender_id"])
    return web.json_response(message, status=201)


async def api_resolve(request: web.Request) -> web.Response:
    agent = acting_agent(request)
    case = await asyncio.to_thread(escalations.get_case, case_id(request))
    if case["status"] == "resolved":
        raise escalations.CaseConflict(f"case {case['id']} is resolved")
    if case["agent_id"] not in (None, agent.id):
        raise escalations.CaseConflict(f"case {case['id']} is assigned to {case['agent']}")
    rasa = request.app[RASA]
    await delivery.deliver(rasa, case["sender_id"])  # replies first, then the bot
    await delivery.resume_bot(rasa, case["sender_id"])
    resolved = await asyncio.to_thread(escalations.resolve, case["id"], agent)
    return web.json_response(resolved)


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
        return auth.json_error(400, "bad_request", "unknown conversation id format")
    try:
        after = float(request.query.get("after", "0"))
        if not math.isfinite(after):
            raise ValueError
    except ValueError:
        return auth.json_error(400, "bad_request", "after must be a Unix timestamp")
    if not await asyncio.to_thread(escalations.was_handed_over, sender):
        return web.json_response({"messages": []})
    tracker = await request.app[RASA].tracker(sender)
    return web.json_response({"messages": pushed_messages(tracker.get("events") or [], after)})
