"""The built docs site works without network: opened in a real headless Chromium.

The site is built with ``mkdocs build --strict`` into a temporary folder, served on
127.0.0.1, and opened in Debian's Chromium with every request to another host aborted.
Diagrams must be rendered SVG (Material renders mermaid into closed shadow roots, so an
init script keeps a reference to each root the page attaches), and the benchmark charts
must load as images.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from browser import Browser, chromium_page

ROOT = Path(__file__).resolve().parent.parent

# Keep every shadow root the page attaches (Material's are closed) where tests can see it.
RECORD_SHADOW_ROOTS = """
(() => {
  const attach = Element.prototype.attachShadow;
  window.__shadowRoots = [];
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    window.__shadowRoots.push(root);
    return root;
  };
})();
"""

RENDERED_DIAGRAMS = """
() => window.__shadowRoots
  .map((root) => root.querySelector("svg"))
  .filter((svg) => svg !== null)
  .map((svg) => ({
    text: svg.textContent,
    nodes: svg.querySelectorAll("g.node").length,
    width: svg.getBoundingClientRect().width,
    height: svg.getBoundingClientRect().height,
  }))
"""

_RESOURCE = re.compile(
    r"<(?:script|link|img|iframe|source)\b[^>]*?\b(?:src|href)=\"(?P<url>[^\"]+)\"", re.I
)
_MERMAID_BLOCK = re.compile(r"<pre class=\"mermaid\">")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Site:
    root: Path
    url: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The docs built with --strict into a temporary folder and served on 127.0.0.1."""
    try:
        import mkdocs  # noqa: F401
    except ImportError:
        pytest.fail("mkdocs is not installed: pip install -e '.[docs]'", pytrace=False)
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="docs-site", daemon=True)
    thread.start()
    try:
        yield Site(out, f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _wait_for(browser: Browser, condition: str) -> None:
    """Wait until the page's JavaScript ``condition`` holds; fail saying what it blocked."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        browser.page.wait_for_function(f"() => {condition}", timeout=20_000)
    except PlaywrightTimeout:
        pytest.fail(
            f"{browser.page.url}: diagrams not rendered within 20 s ({condition}); "
            f"requests blocked: {browser.blocked}; console errors: {browser.console_errors}",
            pytrace=False,
        )


def _pages(site: Site) -> list[Path]:
    return sorted(site.root.rglob("*.html"))


def test_no_page_loads_anything_from_another_host(site: Site) -> None:
    offenders = []
    for page in _pages(site):
        for m in _RESOURCE.finditer(page.read_text(encoding="utf-8")):
            tag = m.group(0)
            url = m["url"]
            # Plain links (<a>) may point anywhere; a <link> that only names a
            # canonical or alternate address loads nothing.
            if re.search(r"rel=\"(canonical|alternate|prev|next)\"", tag):
                continue
            if urlsplit(url).scheme in ("http", "https") or url.startswith("//"):
                offenders.append(f"{page.relative_to(site.root)}: {url}")
    assert offenders == []
    assert (site.root / "assets/javascripts/mermaid.min.js").is_file()


def test_how_it_works_pipeline_renders_as_svg_offline(site: Site, tmp_path: Path) -> None:
    page_html = (site.root / "how-it-works/index.html").read_text(encoding="utf-8")
    assert len(_MERMAID_BLOCK.findall(page_html)) >= 1, "the pipeline diagram is gone"
    with chromium_page(tmp_path / "profile") as browser:
        page = browser.page
        page.add_init_script(RECORD_SHADOW_ROOTS)
        page.goto(site.url + "how-it-works/", wait_until="load")
        _wait_for(browser, "window.__shadowRoots.some((r) => r.querySelector('svg g.node'))")
        diagrams = page.evaluate(RENDERED_DIAGRAMS)
        body_text = page.inner_text("body")
        raw_blocks = page.locator("pre.mermaid").count()
        assert browser.blocked == [], "the page asked for another host"
    assert raw_blocks == 0
    assert "flowchart LR" not in body_text
    pipeline = diagrams[0]
    for label in ["file events", "watcher", "module map", "import graph", "reloader"]:
        assert label in pipeline["text"]
    assert pipeline["nodes"] == _pipeline_nodes()
    assert pipeline["width"] > 200 and pipeline["height"] > 50


def _pipeline_nodes() -> int:
    """How many nodes the pipeline's mermaid source defines (ids followed by a label)."""
    import re

    text = (Path(__file__).parent.parent / "docs" / "how-it-works.md").read_text()
    block = text.split("```mermaid", 1)[1].split("```", 1)[0]
    return len(set(re.findall(r"\b([A-Z]+)\[", block)))


def test_every_diagram_on_every_page_renders_offline(site: Site, tmp_path: Path) -> None:
    expected = {}
    for page in _pages(site):
        count = len(_MERMAID_BLOCK.findall(page.read_text(encoding="utf-8")))
        if count:
            expected[page.relative_to(site.root).as_posix()] = count
    assert "how-it-works/index.html" in expected
    rendered = {}
    with chromium_page(tmp_path / "profile") as browser:
        browser.page.add_init_script(RECORD_SHADOW_ROOTS)
        for rel, count in expected.items():
            browser.page.goto(site.url + rel, wait_until="load")
            _wait_for(
                browser,
                f"window.__shadowRoots.filter((r) => r.querySelector('svg')).length >= {count}",
            )
            rendered[rel] = len(browser.page.evaluate(RENDERED_DIAGRAMS))
        assert browser.blocked == []
    assert rendered == expected


@pytest.mark.parametrize(
    ("page", "charts"),
    [
        ("benchmarks/", {"latency.svg", "plan.svg", "scale.svg", "server.svg", "compare.svg"}),
        ("comparison/", {"compare.svg"}),
    ],
)
def test_benchmark_charts_load_as_images(
    site: Site, tmp_path: Path, page: str, charts: set[str]
) -> None:
    with chromium_page(tmp_path / "profile") as browser:
        browser.page.goto(site.url + page, wait_until="load")
        images = browser.page.evaluate(
            "() => [...document.images].filter((i) => i.src.includes('/img/'))"
            ".map((i) => [i.src.split('/').pop(), i.complete, i.naturalWidth, i.alt])"
        )
        assert browser.blocked == []
    assert {name for name, *_ in images} == charts
    for name, complete, width, alt in images:
        assert complete and width > 100, f"{page}: {name} did not load"
        assert alt, f"{page}: {name} has no alt text"
        assert (ROOT / "docs/img" / name).stat().st_size > 1000
