"""Libraries that register what a module makes at import: pluggy plugins, Prometheus
metrics, APScheduler jobs, loguru sinks. A long-running program holding them reloads the modules
making them, and each registration is there once.

Each program (``tests/projects/*_shell``, ``pluggy_host``) runs under ``hotmod run`` and
answers one command per stdin line; the tests save edits as editors do and wait for
the log.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from harness_shell import Shell, edit, save, shell_in

PROJECTS = Path(__file__).parent / "projects"


def test_plugins_registered_at_import_are_there_once_in_their_order(tmp_path: Path) -> None:
    pytest.importorskip("pluggy")
    with shell_in(PROJECTS / "pluggy_host", tmp_path) as shell:
        _edit_plugins(shell)


def _edit_plugins(shell: Shell) -> None:
    host = shell.root / "host"
    assert shell.run("greet") == "['module hello', 'hello']"
    assert shell.run("first") == "bye"  # (the latest registered answers first)
    assert shell.run("plugins") == "3"

    # An instance of the module's class and the module itself, registered again: once,
    # where they were (a plugin registered last would answer the firstresult hook).
    shell.reloaded(lambda: edit(host / "greeters.py", 'return "hello"', 'return "hello v2"'))
    assert shell.run("greet") == "['module hello', 'hello v2']"
    assert shell.run("first") == "bye"
    assert shell.run("plugins") == "3"

    # A module adding a hook specification and a named plugin (pluggy refuses both
    # a second time).
    shell.reloaded(
        lambda: edit(host / "more.py", '        return "bye"\n\n', '        return "bye v2"\n\n')
    )
    assert shell.run("farewell") == "['bye v2']"
    assert shell.run("first") == "bye"
    assert shell.run("plugins") == "3"

    # A failed run leaves the plugins as they were, in their order.
    greeters = host / "greeters.py"
    source = greeters.read_text()
    shell.failed(
        lambda: save(
            greeters, source.replace("v2", "v3") + '\nraise RuntimeError("boom")\n', atomic=True
        )
    )
    assert shell.run("greet") == "['module hello', 'hello v2']"
    assert shell.run("first") == "bye"
    assert shell.run("plugins") == "3"

    # A registration removed from the source: its plugin goes.
    shell.reloaded(
        lambda: save(
            greeters, source.replace("pm.register(sys.modules[__name__])\n", ""), atomic=True
        )
    )
    assert shell.run("greet") == "['hello v2']"
    assert shell.run("plugins") == "2"


def test_a_module_defining_metrics_reloads_and_they_keep_counting(tmp_path: Path) -> None:
    pytest.importorskip("prometheus_client")
    with shell_in(PROJECTS / "prometheus_shell", tmp_path) as shell:
        metrics = shell.root / "app" / "metrics.py"
        assert shell.run("serve /") == "page /"
        assert shell.run("serve /") == "page /"
        assert shell.run("metrics requests_total") == 'requests_total{path="/"} 2.0'

        # An edit of the module defining the metrics (a new one added): it reloads (before,
        # "Duplicated timeseries in CollectorRegistry"), and the metrics defined as they
        # were keep their values; the views importing them count into the same ones.
        shell.reloaded(
            lambda: save(
                metrics,
                metrics.read_text() + 'ERRORS = Counter("errors", "Errors")\n',
                atomic=True,
            )
        )
        assert shell.run("serve /") == "page /"
        assert shell.run("metrics requests_total") == 'requests_total{path="/"} 3.0'
        assert shell.run("metrics latency_seconds_count") == "latency_seconds_count 3.0"
        assert shell.run("metrics errors_total") == "errors_total 0.0"

        # A failed run leaves the metrics as they were.
        shell.failed(
            lambda: save(
                metrics, metrics.read_text() + '\nraise RuntimeError("boom")\n', atomic=False
            )
        )
        assert shell.run("serve /") == "page /"
        assert shell.run("metrics requests_total") == 'requests_total{path="/"} 4.0'

        # A metric whose definition changed starts anew, as after a restart; one removed
        # from the source is no longer exported.
        shell.reloaded(
            lambda: save(
                metrics,
                metrics.read_text()
                .replace('"Requests served"', '"Requests served, by path"')
                .replace('ERRORS = Counter("errors", "Errors")\n', "")
                .replace('\nraise RuntimeError("boom")\n', ""),
                atomic=True,
            )
        )
        assert shell.run("serve /about") == "page /about"
        assert shell.run("metrics requests_total") == 'requests_total{path="/about"} 1.0'
        assert shell.run("metrics errors_total") == ""
        assert shell.run("metrics latency_seconds_count") == "latency_seconds_count 5.0"


def test_other_objects_are_left_alone_whatever_their_class() -> None:
    # An object of a class whose metaclass cannot be hashed: the metrics' base is an
    # ABC, and ``isinstance`` against it hashes the object's class.
    pytest.importorskip("prometheus_client")  # (the adapter reads its metrics' base)

    from hotmod.integrations import NOT_HANDLED, Transaction
    from hotmod.integrations.prometheus import PrometheusIntegration

    class Meta(type):
        def __eq__(cls, other: object) -> bool:  # (and so no __hash__)
            return cls is other

    class Shape(metaclass=Meta):
        pass

    txn = cast(Transaction, None)  # (not read for an object it leaves alone)
    assert PrometheusIntegration().keep(txn, Shape(), Shape()) is NOT_HANDLED


def test_jobs_added_at_import_are_there_once(tmp_path: Path) -> None:
    pytest.importorskip("apscheduler.schedulers.background")
    with shell_in(PROJECTS / "apscheduler_shell", tmp_path) as shell:
        jobs = shell.root / "app" / "jobs.py"
        assert shell.run("jobs") == "report=report v1 tick=tick v1"

        # A job without an id: before, one more job per reload.
        shell.reloaded(lambda: edit(jobs, '"tick v1"', '"tick v2"'))
        assert shell.run("jobs") == "report=report v1 tick=tick v2"

        # A job under an id: before, the reload failed (ConflictingIdError).
        shell.reloaded(lambda: edit(jobs, '"report v1"', '"report v2"', atomic=True))
        assert shell.run("jobs") == "report=report v2 tick=tick v2"

        # A failed run leaves the jobs as they were.
        source = jobs.read_text()
        shell.failed(
            lambda: save(
                jobs, source.replace("v2", "v3") + '\nraise RuntimeError("boom")\n', atomic=True
            )
        )
        assert shell.run("jobs") == "report=report v2 tick=tick v2"

        # A job removed from the source is no longer scheduled.
        shell.reloaded(
            lambda: save(
                jobs,
                source.replace('scheduler.add_job(tick, "interval", hours=1)\n', ""),
                atomic=True,
            )
        )
        assert shell.run("jobs") == "report=report v2"


def test_a_sink_added_at_import_writes_each_message_once(tmp_path: Path) -> None:
    pytest.importorskip("loguru")
    with shell_in(PROJECTS / "loguru_shell", tmp_path) as shell:
        log = shell.root / "app" / "log.py"
        assert shell.run("work") == "app: working"

        # Before, one more sink per reload: each message written once more.
        shell.reloaded(lambda: edit(log, '"app: {message}"', '"app v2: {message}"'))
        assert shell.run("work") == "app v2: working"
        shell.reloaded(lambda: edit(log, '"app v2: {message}"', '"app v3: {message}"', atomic=True))
        assert shell.run("work") == "app v3: working"

        # A failed run leaves the sinks as they were; a sink removed from the source goes.
        source = log.read_text()
        shell.failed(lambda: save(log, source + 'raise RuntimeError("boom")\n', atomic=True))
        assert shell.run("work") == "app v3: working"
        added = 'logger.add(sys.stdout, format="app v3: {message}", level="INFO")\n'
        shell.reloaded(lambda: save(log, source.replace(added, ""), atomic=True))
        assert shell.run("work") == ""


def test_tasks_follow_their_source_options_included(tmp_path: Path) -> None:
    pytest.importorskip("celery")
    with shell_in(PROJECTS / "celery_shell", tmp_path) as shell:
        tasks = shell.root / "app" / "tasks.py"
        first = "app.tasks.add=add v1 5 app.tasks.ping=pong v1 reports.weekly=weekly v1"
        assert shell.run("tasks") == first
        assert shell.run("retries") == "3 3"

        # An option edited: before, Celery gave back the task it held, with max_retries=3.
        shell.reloaded(lambda: edit(tasks, "max_retries=3", "max_retries=5"))
        assert shell.run("retries") == "5 5"
        shell.reloaded(lambda: edit(tasks, '"pong v1"', '"pong v2"', atomic=True))
        second = "app.tasks.add=add v1 5 app.tasks.ping=pong v2 reports.weekly=weekly v1"
        assert shell.run("tasks") == second

        # A failed run leaves the tasks as they were.
        source = tasks.read_text()
        broken = source.replace("v1", "v3") + 'raise RuntimeError("boom")\n'
        shell.failed(lambda: save(tasks, broken, atomic=True))
        assert shell.run("tasks") == second
        assert shell.run("retries") == "5 5"

        # A task removed from the source, and one renamed, leave the app.
        weekly = '@celery_app.task(name="reports.weekly")\ndef weekly():\n    return "weekly v1"\n'
        renamed = source.replace(weekly, "").replace("@shared_task\n", '@shared_task(name="up")\n')
        shell.reloaded(lambda: save(tasks, renamed, atomic=True))
        assert shell.run("tasks") == "app.tasks.add=add v1 5 up=pong v2"
