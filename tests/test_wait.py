"""kefu.wait: what the tests and benchmarks use to start servers."""
import subprocess
import sys

import pytest

from kefu.wait import free_port, wait_until_up


def test_a_process_that_dies_is_reported_with_its_log(tmp_path):
    log = tmp_path / "server.log"
    log.write_text("boom: cannot load model\n")
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    with pytest.raises(RuntimeError, match="exited early:\nboom: cannot load model"):
        wait_until_up(f"http://127.0.0.1:{free_port()}/", process, log, timeout=5)


def test_a_server_that_answers_is_up(tmp_path):
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                                   cwd=tmp_path, stdout=out, stderr=out)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", process, log, timeout=20)
        assert process.poll() is None
    finally:
        process.terminate()
        process.wait()


def test_a_server_that_never_answers_times_out(tmp_path):
    log = tmp_path / "server.log"
    log.write_text("still loading\n")
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pytest.raises(RuntimeError, match="did not come up in 1 s"):
            wait_until_up(f"http://127.0.0.1:{free_port()}/", process, log, timeout=1)
    finally:
        process.kill()
        process.wait()
