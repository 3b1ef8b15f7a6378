"""Password guessing on the desk login is slowed down (unit, then the real desk process)."""
import re

import pytest
import requests
from e2e.desk_server import DeskProcess

from kefu.desk.throttle import LoginThrottle
from kefu.store import dispose_engines


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_five_failures_for_a_name_make_it_wait_until_the_window_passes():
    clock = Clock()
    throttle = LoginThrottle(per_name=5, per_address=30, window=600, clock=clock)
    for _ in range(4):
        throttle.failed("Agent", "10.0.0.1")
    assert throttle.wait_seconds("agent", "10.0.0.1") == 0
    throttle.failed("agent ", "10.0.0.2")
    assert throttle.wait_seconds("AGENT", "10.0.0.9") == 600  # the name, from anywhere
    assert throttle.wait_seconds("someone_else", "10.0.0.1") == 0
    clock.now += 300
    assert throttle.wait_seconds("agent", "10.0.0.1") == 300
    clock.now += 300
    assert throttle.wait_seconds("agent", "10.0.0.1") == 0


def test_many_names_from_one_address_make_the_address_wait():
    throttle = LoginThrottle(per_name=5, per_address=3, window=600, clock=Clock())
    for name in ("a", "b", "c"):
        throttle.failed(name, "10.0.0.1")
    assert throttle.wait_seconds("d", "10.0.0.1") > 0
    assert throttle.wait_seconds("d", "10.0.0.2") == 0


def test_a_good_login_clears_the_names_failures():
    throttle = LoginThrottle(per_name=2, clock=Clock())
    throttle.failed("agent", "ip")
    throttle.succeeded("agent")
    throttle.failed("agent", "ip")
    assert throttle.wait_seconds("agent", "ip") == 0


@pytest.fixture
def desk(kefu_env, tmp_path):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KEFU_DB_URL", kefu_env["KEFU_DB_URL"])
        dispose_engines()
        process = DeskProcess(kefu_env, "http://127.0.0.1:9", tmp_path / "desk.log")
        process.start()
        process.add_agent("throttled_agent", "right-pass-1")
        yield process
        process.stop()
        dispose_engines()


def try_login(desk, password):
    session = requests.Session()
    page = session.get(desk.url + "/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    return session.post(desk.url + "/login", allow_redirects=False,
                        data={"login_token": token, "name": "throttled_agent", "password": password})


def test_the_desk_refuses_a_sixth_guess_even_with_the_right_password(desk):
    assert [try_login(desk, f"guess-{n}").status_code for n in range(5)] == [401] * 5
    refused = try_login(desk, "right-pass-1")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "分钟后再试" in refused.text
    assert "kefu_desk" not in refused.cookies
