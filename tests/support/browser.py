"""Headless Chromium for the pages' tests (the agent page, the operator page), driven by Debian's
chromedriver, given explicitly so that selenium never tries to download one.

Needs Debian's chromium and chromium-driver; tests/support/install_browser.sh installs them (the CI runs
it before `make test`). Without them the tests that use a browser skip, saying how to install them."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
HEADLESS_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-proxy-server",
)
# The pages poll every one or two seconds; this leaves room for a slow machine.
PAGE_WAIT_SECONDS = 10.0


@contextmanager
def headless_chromium() -> Iterator[WebDriver]:
    """Headless Chromium with a fresh profile, quit at the end; the test skips without Chromium."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if missing:
        pytest.skip(
            f"no {' and '.join(missing)}: install them with `sh tests/support/install_browser.sh` "
            "(as root: apt-get install -y chromium chromium-driver)"
        )
    with tempfile.TemporaryDirectory(prefix="page-test-profile-", ignore_cleanup_errors=True) as profile:
        options = Options()
        options.binary_location = str(CHROMIUM)
        for flag in HEADLESS_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def wait_for(browser: WebDriver, condition: Callable[[WebDriver], Any], what: str) -> Any:
    return WebDriverWait(browser, PAGE_WAIT_SECONDS).until(condition, f"the page never showed {what}")
