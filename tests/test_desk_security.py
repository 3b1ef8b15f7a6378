"""Security of the desk, against the real desk process (no Rasa needed here):
login on every page and API call, CSRF on changes, cookie flags, escaping, roles."""
import re

import pytest
import requests
from e2e.desk_server import DeskProcess

from kefu.handoff import escalations
from kefu.handoff.record import build_record
from kefu.store import dispose_engines

PASSWORD = "desk-pass-123"
API_ROUTES = [
    ("GET", "/api/me"), ("GET", "/api/agents"), ("GET", "/api/queue"), ("GET", "/api/cases/1"),
    ("POST", "/api/cases/1/claim"), ("POST", "/api/cases/1/transfer"), ("POST", "/api/cases/1/notes"),
    ("POST", "/api/cases/1/check"), ("POST", "/api/cases/1/reply"), ("POST", "/api/cases/1/resolve"),
]
EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">'


@pytest.fixture(scope="module")
def db_url(kefu_env):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KEFU_DB_URL", kefu_env["KEFU_DB_URL"])
        dispose_engines()
        yield kefu_env["KEFU_DB_URL"]
        dispose_engines()


@pytest.fixture(scope="module")
def desk(kefu_env, db_url, tmp_path_factory):
    # Rasa is not running here: the case view falls back to the hand-off snapshot.
    process = DeskProcess(kefu_env, "http://127.0.0.1:9", tmp_path_factory.mktemp("desk") / "desk.log")
    process.start()
    process.add_agent("sec_agent", PASSWORD)
    process.add_agent("sec_trainer", PASSWORD, role="trainer")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def evil_case(db_url):
    tracker = {"sender_id": "evil-customer", "latest_input_channel": "rest", "events": [
        {"event": "user", "text": EVIL, "timestamp": 1.0,
         "parse_data": {"intent": {"name": "complain_other"}, "entities": []}}]}
    record = build_record(tracker, {"problem": EVIL, "complaint_category": "other"}, "customer_request")
    return escalations.create_escalation(record)


@pytest.mark.parametrize("method, path", API_ROUTES)
def test_every_api_call_needs_a_login(desk, method, path):
    response = requests.request(method, desk.url + path, json={"text": "hi"})
    assert response.status_code == 401
    assert response.json()["error"] == "login_required"


@pytest.mark.parametrize("path", ["/", "/cases/1"])
def test_every_page_needs_a_login(desk, path):
    response = requests.get(desk.url + path, allow_redirects=False)
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_a_forged_session_cookie_is_refused(desk):
    response = requests.get(desk.url + "/api/queue", cookies={"kefu_desk": "forged"})
    assert response.status_code == 401


def test_login_sets_a_strict_http_only_cookie(desk):
    agent = desk.login("sec_agent", PASSWORD)
    cookie = next(c for c in agent.http.cookies if c.name == "kefu_desk")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert (cookie.get_nonstandard_attr("SameSite") or "").lower() == "strict"
    assert agent.get("/api/me").json()["name"] == "sec_agent"


def test_wrong_password_and_missing_login_token_are_refused(desk):
    session = requests.Session()
    page = session.get(desk.url + "/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    wrong = session.post(desk.url + "/login", data={"login_token": token, "name": "sec_agent",
                                                     "password": "not-the-password"})
    assert wrong.status_code == 401 and "kefu_desk" not in session.cookies
    forged = requests.post(desk.url + "/login", data={"name": "sec_agent", "password": PASSWORD},
                           allow_redirects=False)
    assert forged.status_code == 403


def test_a_post_without_the_csrf_token_is_refused(desk, evil_case):
    agent = desk.login("sec_agent", PASSWORD)
    path = f"/api/cases/{evil_case['id']}/notes"
    assert agent.post(path, {"text": "没有令牌"}, csrf=False).status_code == 403
    wrong = agent.http.post(desk.url + path, json={"text": "错的令牌"}, headers={"X-CSRF-Token": "x"})
    assert wrong.status_code == 403
    logout = agent.http.post(desk.url + "/logout", allow_redirects=False)
    assert logout.status_code == 403  # logging out is a change too
    assert agent.post(path, {"text": "有令牌"}).status_code == 201


def test_customer_html_shows_as_text(desk, evil_case):
    agent = desk.login("sec_agent", PASSWORD)
    page = agent.get(f"/cases/{evil_case['id']}").text
    assert "<script>window.__pwned" not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.__pwned" in page  # the summary, escaped by Jinja2
    case = agent.get(f"/api/cases/{evil_case['id']}").json()
    assert case["transcript"][0]["text"] == EVIL and case["live"] is False
    headers = agent.get("/").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]


def test_bad_input_gets_clear_json_errors(desk, evil_case):
    agent = desk.login("sec_agent", PASSWORD)
    base = f"/api/cases/{evil_case['id']}"
    bad_json = agent.http.post(desk.url + base + "/notes", data="{not json",
                               headers={"X-CSRF-Token": agent.csrf, "Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()["error"] == "bad_request"
    assert agent.post(base + "/notes", {"text": ""}).json()["error"] == "bad_request"
    assert agent.post(base + "/transfer", {"agent": "nobody"}).status_code in (400, 409)
    assert agent.get("/api/cases/99999").status_code == 404
    assert agent.get("/api/cases/99999").json()["error"] == "not_found"


def test_a_trainer_reads_but_does_not_act(desk, evil_case):
    trainer = desk.login("sec_trainer", PASSWORD)
    assert trainer.get("/api/queue").status_code == 200
    response = trainer.post(f"/api/cases/{evil_case['id']}/claim")
    assert response.status_code == 403 and response.json()["error"] == "forbidden"


def test_the_customer_poll_reveals_nothing_of_others(desk):
    assert requests.get(desk.url + "/customer/never-handed-over/messages").json() == {"messages": []}
    assert requests.get(desk.url + "/customer/x/messages?after=nan").status_code == 400
    assert requests.get(desk.url + "/customer/" + "x" * 200 + "/messages").status_code == 400
