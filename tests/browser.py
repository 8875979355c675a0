"""A real headless Chromium for tests: Debian's ``chromium`` driven by Playwright.

Use :func:`chromium_page` as a context manager (or wrap it in a fixture)::

    with chromium_page(tmp_path / "profile") as browser:
        browser.page.goto(f"http://127.0.0.1:{port}/")
        assert browser.blocked == []

The browser gets a fresh profile and, by default, no network but 127.0.0.1: every
request to another host is aborted and listed in ``browser.blocked``. A missing
Chromium or Playwright fails the test with what to install; it never skips.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Route

CHROMIUM = os.environ.get("HOTMOD_TEST_CHROMIUM", "/usr/bin/chromium")

# As root, in a sandbox with a closed network: no sandbox, no GPU, and none of the
# background connections Chromium makes at start (each would be refused, or hang).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

LOCAL_HOSTS = frozenset({"127.0.0.1"})


@dataclass
class Browser:
    """One open headless Chromium: its context, a page, and the requests it blocked."""

    context: BrowserContext
    page: Page
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


def require_chromium() -> str:
    """Return the Chromium executable, or fail the test saying how to install it."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's chromium "
            "(apt-get install -y chromium, as .ci/run does), or set HOTMOD_TEST_CHROMIUM",
            pytrace=False,
        )
    return CHROMIUM


@contextmanager
def chromium_page(
    user_data_dir: Path,
    *,
    allowed_hosts: frozenset[str] = LOCAL_HOSTS,
    timeout_s: float = 30,
) -> Iterator[Browser]:
    """Launch headless Chromium with a fresh profile in ``user_data_dir``; yield a page.

    Requests to hosts outside ``allowed_hosts`` are aborted and recorded (pass
    ``allowed_hosts=frozenset()`` plus your own routes for other policies).
    ``timeout_s`` is the default timeout of every page action and wait.
    """
    executable = require_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "Python playwright is not installed: pip install -e '.[test]' "
            "(it drives Debian's chromium; never run `playwright install`)",
            pytrace=False,
        )
    user_data_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(user_data_dir),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            context.set_default_timeout(timeout_s * 1000)
            page = context.pages[0] if context.pages else context.new_page()
            browser = Browser(context=context, page=page)

            def route(route: Route) -> None:
                url = route.request.url
                if urlsplit(url).hostname in allowed_hosts:
                    route.continue_()
                else:
                    browser.blocked.append(url)
                    route.abort("internetdisconnected")

            context.route("**/*", route)
            page.on(
                "console",
                lambda msg: (
                    browser.console_errors.append(msg.text) if msg.type == "error" else None
                ),
            )
            yield browser
        finally:
            context.close()
