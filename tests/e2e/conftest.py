"""The browser for the end-to-end tests: Debian's chromium driven by Playwright.

Never a downloaded browser: `make setup` installs Debian's chromium, so a missing
one fails these tests instead of skipping them.
"""
import os

import pytest

CHROMIUM = os.environ.get("KEFU_CHROMIUM", "/usr/bin/chromium")
# Headless, and no background connections: this machine's network is closed.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()
