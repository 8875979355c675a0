"""The runnable code blocks of the documentation run, and print what the text says.

Convention, in ``docs/*.md`` and ``README.md``:

* A Python block opened right after the line ``<!-- runnable -->`` is runnable::

      <!-- runnable -->
      ```python
      import hotmod
      ...
      ```

  It runs in a fresh interpreter (the ``project`` fixture): cwd is an empty temporary
  folder, ``PYTHONPATH`` is ``src`` plus that folder. It fails the test if it exits
  with a non-zero code (an ``assert`` in the block, an exception).

* Every fenced block above it on the same page whose info string carries a file name,
  as in ```` ```python title="dogs.py" ````, is written to that path in the folder
  first (the last block of a given name wins). Pages show the files a reader would
  create; the runnable block then uses and edits them.

* A block opened right after ``<!-- output -->`` that directly follows a runnable
  block is the output the block must print: compared line by line (trailing spaces
  ignored), where ``...`` stands for any text (durations, paths).

Blocks marked neither way are never run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import Project

ROOT = Path(__file__).resolve().parent.parent
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)$")
_TITLE = re.compile(r"""title=["']([^"']+)["']""")


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    title: str | None
    marker: str | None  # "runnable", "output" or None
    code: str


@dataclass
class Example:
    page: Path
    line: int
    code: str
    files: dict[str, str] = field(default_factory=dict)
    output: str | None = None

    @property
    def id(self) -> str:
        return f"{self.page.name}:{self.line}"


def _blocks(page: Path) -> list[Block]:
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        indent, fence, info = m["indent"], m["fence"], m["info"].strip()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not (
            lines[i].strip().startswith(fence) and set(lines[i].strip()) == {fence[0]}
        ):
            line = lines[i]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            i += 1
        i += 1
        previous = lines[start - 1].strip() if start > 0 else ""
        marker = {"<!-- runnable -->": "runnable", "<!-- output -->": "output"}.get(previous)
        title = _TITLE.search(info)
        lang = info.split()[0] if info else ""
        code = "\n".join(body) + "\n"
        blocks.append(Block(page, start + 1, lang, title[1] if title else None, marker, code))
    return blocks


def _examples(page: Path) -> list[Example]:
    examples: list[Example] = []
    files: dict[str, str] = {}
    previous: Block | None = None
    for block in _blocks(page):
        if block.marker == "runnable":
            assert block.lang in ("python", "py"), f"{page.name}:{block.line}: not a Python block"
            examples.append(Example(page, block.line, block.code, dict(files)))
        elif block.marker == "output":
            assert previous is not None and previous.marker == "runnable", (
                f"{page.name}:{block.line}: an output block must follow a runnable block"
            )
            examples[-1].output = block.code
        if block.title is not None:
            files[block.title] = block.code
        previous = block
    return examples


EXAMPLES = [example for page in PAGES if page.exists() for example in _examples(page)]


def _matches(expected: str, actual: str) -> bool:
    want = [line.rstrip() for line in expected.strip("\n").splitlines()]
    got = [line.rstrip() for line in actual.strip("\n").splitlines()]
    if len(want) != len(got):
        return False
    for w, g in zip(want, got, strict=True):
        pattern = ".*".join(re.escape(part) for part in w.split("..."))
        if re.fullmatch(pattern, g) is None:
            return False
    return True


def test_the_docs_have_runnable_examples() -> None:
    assert len(EXAMPLES) >= 10, [e.id for e in EXAMPLES]


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_runnable_block(example: Example, project: Project) -> None:
    for path, text in example.files.items():
        target = project.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    out = project.run_script(example.code)
    if example.output is not None:
        assert _matches(example.output, out), (
            f"{example.id}: printed\n{out}\nexpected\n{example.output}"
        )


def test_marker_parsing(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        '```python title="m.py"\nX = 1\n```\n\n'
        "<!-- runnable -->\n```python\nimport m\nprint(m.X)\n```\n"
        "<!-- output -->\n```text\n1\n```\n\n"
        "```python\nnot run\n```\n"
    )
    (example,) = _examples(page)
    assert example.files == {"m.py": "X = 1\n"}
    assert example.code == "import m\nprint(m.X)\n" and example.output == "1\n"
    assert _matches("took ... ms\nok", "took 0.4 ms\nok\n")
    assert not _matches("a\nb", "a\n")
