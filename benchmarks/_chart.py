"""Charts for the benchmark pages, drawn from the figures a benchmark script just measured.

Two kinds, from plain lists of labelled values:

* :func:`bar_chart`: horizontal bars (``Bar(label, value, kind)``), coloured by kind
  (hotmod, restart, another reloader...), each bar labelled with its value;
* :func:`line_chart`: one line per :class:`Series` of ``(x, y)`` points, for a cost
  against a size, with optional reference lines (a target).

Each script adds the options with :func:`add_options`: ``--chart PATH`` writes the chart
there (``.svg`` or ``.png``), ``--write-docs`` writes ``docs/img/<name>.svg``, the image
the docs pages embed. matplotlib (the ``bench`` extra) is imported only when a chart is
drawn, with the Agg backend, so the scripts run without it otherwise.

A script wires it in three lines::

    parser = argparse.ArgumentParser()
    _chart.add_options(parser, "scale")  # --chart PATH, --write-docs: docs/img/scale.svg
    args = parser.parse_args()
    ...
    _chart.line_chart(
        _chart.chart_paths(args),
        [_chart.Series("reload", [(modules, ms) for modules, ms in measured])],
        title="Reload cost against project size", x_label="modules", y_label="ms",
    )
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DOCS_IMG = Path(__file__).resolve().parent.parent / "docs" / "img"

# Colours by kind, in order of first use; hotmod is always the first colour.
PALETTE = ["#3f51b5", "#e65100", "#7b8794", "#2e7d32", "#8e24aa", "#00838f"]


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value, its kind (colour and legend entry) and section.

    Consecutive bars of one non-empty ``section`` are drawn under its name in bold.
    """

    label: str
    value: float
    kind: str = ""
    section: str = ""


@dataclass(frozen=True)
class Series:
    """One line: a label and its ``(x, y)`` points."""

    label: str
    points: Sequence[tuple[float, float]]
    style: str = "-o"


@dataclass(frozen=True)
class Reference:
    """A horizontal reference line (a target, a budget) on a line chart."""

    label: str
    y: float


def add_options(parser: argparse.ArgumentParser, name: str) -> None:
    """Add ``--chart PATH`` and ``--write-docs`` (``docs/img/NAME.svg``) to ``parser``."""
    group = parser.add_argument_group("chart")
    group.add_argument(
        "--chart", type=Path, metavar="PATH", help="also draw a chart of the results (.svg, .png)"
    )
    group.add_argument(
        "--write-docs",
        action="store_const",
        const=DOCS_IMG / f"{name}.svg",
        dest="docs_chart",
        help=f"also draw the docs' chart, docs/img/{name}.svg",
    )


def chart_paths(args: argparse.Namespace) -> list[Path]:
    """The chart files the command line asked for (none, one or two)."""
    return [p for p in (getattr(args, "chart", None), getattr(args, "docs_chart", None)) if p]


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as exc:
        raise SystemExit(
            "error: charts need matplotlib: pip install -e '.[bench]' (or leave out --chart "
            "and --write-docs)"
        ) from exc
    matplotlib.use("Agg")
    matplotlib.rcParams.update(
        {
            "svg.hashsalt": "hotmod",  # the same ids in every run: stable diffs
            "svg.fonttype": "path",  # text as outlines: the same look without the font
            "font.size": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    import matplotlib.pyplot as plt

    return plt


def _note(ax: Any, note: str) -> None:
    """A small line under the x axis label: where the figures come from."""
    if note:
        ax.annotate(
            note, (0, 0), xycoords="axes fraction", xytext=(0, -42), textcoords="offset points",
            fontsize=8, color="#555", va="top",
        )  # fmt: skip


def _save(fig: Any, paths: Sequence[Path]) -> None:
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        metadata = {"Date": None} if path.suffix == ".svg" else {}
        fig.savefig(path, bbox_inches="tight", metadata=metadata, dpi=150)
        print(f"chart written: {path}")


def _number(value: float) -> str:
    """0.72, 13.0, 398, 1,660: a tenth below 100, two figures below 1."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 1 else f"{value:.2g}"


def bar_chart(
    paths: Sequence[Path],
    bars: Sequence[Bar],
    *,
    title: str,
    unit: str,
    note: str = "",
) -> None:
    """Horizontal bars top to bottom in the given order, each labelled ``value unit``."""
    if not paths or not bars:
        return
    plt = _pyplot()
    kinds = list(dict.fromkeys(b.kind for b in bars))
    colour = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(kinds)}
    rows: list[Bar | str] = []  # a bar, or a section heading
    for b in bars:
        if b.section and (not rows or getattr(rows[-1], "section", None) != b.section):
            rows.append(b.section)
        rows.append(b)
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.38 * len(rows)))
    ys = list(range(len(rows)))[::-1]
    placed = [(y, r) for y, r in zip(ys, rows, strict=True) if isinstance(r, Bar)]
    ax.barh(
        [y for y, _ in placed],
        [b.value for _, b in placed],
        color=[colour[b.kind] for _, b in placed],
        height=0.7,
    )
    ax.set_yticks(ys, [r if isinstance(r, str) else r.label for r in rows])
    for tick, row in zip(ax.get_yticklabels(), rows, strict=True):
        if isinstance(row, str):
            tick.set_fontweight("bold")
    top = max(b.value for b in bars)
    for y, b in placed:
        ax.text(b.value + top * 0.01, y, f"{_number(b.value)} {unit}", va="center")
    ax.set_xlim(0, top * 1.18)
    ax.set_xlabel(unit)
    legend = len(kinds) > 1 and all(kinds)
    ax.set_title(title, loc="left", fontweight="bold", pad=22 if legend else 6)
    if legend:
        handles = [plt.Rectangle((0, 0), 1, 1, color=colour[k]) for k in kinds]
        # Between the title and the bars: never over a bar or its value.
        ax.legend(
            handles, kinds, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=len(kinds),
            frameon=False, borderaxespad=0.2, handlelength=1.0, columnspacing=1.2,
        )  # fmt: skip
    _note(ax, note)
    _save(fig, paths)
    plt.close(fig)


def line_chart(
    paths: Sequence[Path],
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    references: Sequence[Reference] = (),
    log_x: bool = False,
    log_y: bool = False,
    note: str = "",
) -> None:
    """One line per series against a shared x axis (a size), with reference lines."""
    if not paths or not series:
        return
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, s in enumerate(series):
        xs, ys = zip(*s.points, strict=True)
        ax.plot(xs, ys, s.style, label=s.label, color=PALETTE[i % len(PALETTE)])
    for r in references:
        ax.axhline(r.y, color="#b71c1c", linestyle="--", linewidth=1)
        ax.annotate(
            r.label, (0, r.y), xycoords=("axes fraction", "data"), xytext=(4, 3),
            textcoords="offset points", color="#b71c1c", fontsize=9,
        )  # fmt: skip
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    plain = plt.FuncFormatter(lambda v, _: f"{v:,g}")
    ax.xaxis.set_major_formatter(plain)
    ax.yaxis.set_major_formatter(plain)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(title, loc="left", fontweight="bold")
    ax.grid(True, which="major", color="#ddd", linewidth=0.6)
    ax.legend(frameon=False)
    _note(ax, note)
    _save(fig, paths)
    plt.close(fig)
