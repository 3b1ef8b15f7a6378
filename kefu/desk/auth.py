"""Login for every page and API call, CSRF tokens on every change, security headers.

The session cookie is HttpOnly and SameSite=Strict (Secure when KEFU_DESK_SECURE_COOKIE
is set, behind HTTPS).  Changes need the session's CSRF token in the ``X-CSRF-Token``
header (JavaScript) or a ``csrf_token`` form field.  The login form itself is guarded
by a double-submit token, so nobody can log a browser into their own account.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from typing import Awaitable, Callable

from aiohttp import web

from kefu.handoff import agents
from kefu.settings import settings

SESSION_COOKIE = "kefu_desk"
LOGIN_COOKIE = "kefu_desk_login"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Reachable without logging in: the login page, assets, health, the customer's poll.
PUBLIC_PREFIXES = ("/static/", "/customer/")
PUBLIC_PATHS = ("/login", "/healthz", "/favicon.ico")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def secure_cookies() -> bool:
    return settings().desk_secure_cookie


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def is_api(path: str) -> bool:
    return path.startswith("/api/")


def json_error(status: int, error: str, detail: str = "") -> web.Response:
    return web.json_response({"error": error, "detail": detail}, status=status)


@web.middleware
async def require_login(request: web.Request, handler: Handler) -> web.StreamResponse:
    if is_public(request.path):
        return await handler(request)
    login = await asyncio.to_thread(agents.session_for, request.cookies.get(SESSION_COOKIE))
    if login is None:
        if is_api(request.path) or request.method not in SAFE_METHODS:
            return json_error(401, "login_required", "请先登录")
        raise web.HTTPFound("/login")
    if request.method not in SAFE_METHODS and not await _csrf_ok(request, login.csrf_token):
        return json_error(403, "csrf", "页面已过期，请刷新后再试")
    request["login"] = login
    return await handler(request)


async def _csrf_ok(request: web.Request, expected: str) -> bool:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type == "application/x-www-form-urlencoded":
        sent = (await request.post()).get("csrf_token")
    return bool(sent) and hmac.compare_digest(str(sent), expected)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    if isinstance(response, web.HTTPException):
        raise response
    return response


# --- the login form ------------------------------------------------------------------------

def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def current_login_token(request: web.Request) -> str:
    token = request.cookies.get(LOGIN_COOKIE, "")
    return token if 20 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum() else ""


def set_login_cookie(response: web.StreamResponse, token: str) -> None:
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="Strict", path="/login",
                        secure=secure_cookies(), max_age=3600)


def login_token_ok(request: web.Request, sent: str) -> bool:
    expected = request.cookies.get(LOGIN_COOKIE)
    return bool(expected and sent) and hmac.compare_digest(expected, sent)


def set_session_cookie(response: web.StreamResponse, token: str) -> None:
    # No max_age: the browser forgets it on close; the server expires it anyway.
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict", path="/",
                        secure=secure_cookies())
    response.del_cookie(LOGIN_COOKIE, path="/login")


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path="/")
