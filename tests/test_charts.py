"""The benchmarks' chart helper (benchmarks/_chart.py) draws what it is given."""

from __future__ import annotations

import argparse
import importlib.util
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", autouse=True)
def _matplotlib() -> None:
    """Import matplotlib once, before the per-test sys.modules snapshot."""
    # numpy warns (an error here) when it is imported a second time.
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot
    except ImportError:
        pytest.fail("matplotlib is not installed: pip install -e '.[docs]'", pytrace=False)


@pytest.fixture
def chart() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_chart", ROOT / "benchmarks/_chart.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["_chart"] = module  # dataclasses look their module up (removed after the test)
    spec.loader.exec_module(module)
    return module


def _svg_paths(path: Path) -> int:
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return sum(1 for el in root.iter() if el.tag.endswith("path"))


def test_options_name_the_chart_files(chart: ModuleType, tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    chart.add_options(parser, "scale")
    assert chart.chart_paths(parser.parse_args([])) == []
    args = parser.parse_args(["--chart", str(tmp_path / "c.png"), "--write-docs"])
    assert chart.chart_paths(args) == [tmp_path / "c.png", ROOT / "docs/img/scale.svg"]


def test_bar_and_line_charts_are_drawn_from_the_values(chart: ModuleType, tmp_path: Path) -> None:
    bars = [
        chart.Bar("hotmod", 13.5, "hotmod", "small"),
        chart.Bar("restart", 104.2, "restart", "small"),
        chart.Bar("hotmod", 13.6, "hotmod", "large"),
        chart.Bar("restart", 365.2, "restart", "large"),
    ]
    chart.bar_chart([tmp_path / "bars.svg", tmp_path / "bars.png"], bars, title="t", unit="ms")
    series = [chart.Series("plan", [(1000, 0.5), (10000, 7.2)])]
    chart.line_chart(
        [tmp_path / "line.svg"],
        series,
        title="t",
        x_label="modules",
        y_label="ms",
        references=[chart.Reference("target", 10)],
        log_y=True,
    )
    assert (tmp_path / "bars.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    drawn = _svg_paths(tmp_path / "bars.svg")
    # Two more bars: more shapes (bars, value labels drawn as outlines).
    chart.bar_chart(
        [tmp_path / "more.svg"],
        [*bars, chart.Bar("x", 50.0, "hotmod", "large"), chart.Bar("y", 60.0, "restart", "large")],
        title="t",
        unit="ms",
    )
    assert _svg_paths(tmp_path / "more.svg") > drawn
    assert _svg_paths(tmp_path / "line.svg") > 0
    # The same input draws the same file: stable diffs for docs/img/.
    chart.bar_chart([tmp_path / "again.svg"], bars, title="t", unit="ms")
    assert (tmp_path / "again.svg").read_bytes() == (tmp_path / "bars.svg").read_bytes()


def test_nothing_to_draw_needs_no_matplotlib(
    chart: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    chart.bar_chart([], [chart.Bar("a", 1.0)], title="t", unit="ms")
    with pytest.raises(SystemExit, match=r"charts need matplotlib: pip install -e '\.\[bench\]'"):
        chart.bar_chart([tmp_path / "a.svg"], [chart.Bar("a", 1.0)], title="t", unit="ms")
