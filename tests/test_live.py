"""Browser refresh in a real headless Chromium: pages reload after a reload, show a failed one."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotmod._live import EVENTS_PATH, inject
from webtools import copy_project, free_port, launch

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[Any]:
    """A page in a fresh headless Chromium profile (Debian's chromium, driven by Playwright)."""
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "the browser tests need Debian's chromium package"
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=ARGS
        )
        try:
            yield context.new_page()
        finally:
            context.close()


LAUNCHERS = {
    "hotmod-run-live-flask": [
        "-m",
        "hotmod",
        "run",
        "--live",
        "-m",
        "flask",
        "--app",
        "site_flask",
        "run",
        "--port",
    ],
    "serve-live": ["dev_wsgi.py"],
    "uvicorn-HotReload-live": ["-m", "uvicorn", "dev_asgi:app", "--port"],
    "hotmod-run-live-uvicorn": [
        "-m",
        "hotmod",
        "run",
        "--live",
        "-m",
        "uvicorn",
        "site_fastapi:app",
        "--port",
    ],
}


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_pages_refresh_after_a_reload_and_show_a_failed_one(
    tmp_path: Path, browser_page: Any, launcher: str
) -> None:
    root = copy_project("live_site", tmp_path)
    port = free_port()
    pages = root / "pages.py"
    page = browser_page
    with launch(root, [*LAUNCHERS[launcher], str(port)], port) as server:
        page.goto(server.url + "/")
        assert page.text_content("h1") == "page-v1"
        page.wait_for_function("window.__hotmod_seen = 1")
        page.evaluate("window.__kept = 'this page'")

        server.edit(pages, "page-v1", "page-v2")
        page.wait_for_function("document.querySelector('h1').textContent === 'page-v2'")
        assert page.evaluate("window.__kept") is None  # the page reloaded itself

        broken = pages.read_text().replace("def render(title):", "def render(title:")
        server.save(pages, broken, fails=True)
        box = page.wait_for_selector("#__hotmod_error__")
        text = box.text_content()
        assert "pages.py" in text and "line 1" in text and "SyntaxError" in text
        assert page.text_content("h1") == "page-v2"  # the page stays, under the error

        server.save(
            pages, broken.replace("def render(title:", "def render(title):").replace("v2", "v3")
        )
        page.wait_for_function("document.querySelector('h1').textContent === 'page-v3'")
        assert page.query_selector("#__hotmod_error__") is None
        # JSON and other types are left alone
        assert server.request("/data") == (200, '{"v":1}' if "uvicorn" in launcher else '{"v":1}\n')


def test_script_goes_before_the_closing_body_tag() -> None:
    page = inject(b"<html><body><p>x</p></body></html>")
    assert page.startswith(b"<html><body><p>x</p><script") and page.endswith(b"</body></html>")
    assert inject(b"plain").startswith(b"plain<script")
    assert EVENTS_PATH.encode() in inject(b"")
