"""Developer sessions: ``nox -s tests`` runs the suite on every supported Python found."""

from __future__ import annotations

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite with the server, notebook and docs extras (docs site in Chromium)."""
    session.install("-e", ".[test,servers,ipython,docs]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff and mypy --strict."""
    session.install("-e", ".[dev]")
    session.run("ruff", "check", "src", "tests", "benchmarks")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks")
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site, warnings as errors."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", env={"NO_MKDOCS_2_WARNING": "1"})
