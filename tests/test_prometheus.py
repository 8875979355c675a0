"""prometheus_client: a program exporting metrics reloads the module defining them, and
its metrics keep counting.

The program (``tests/projects/prometheus_shell``) runs under ``hotmod run`` and answers
one command per stdin line; the test saves edits as editors do and waits for the log.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from harness_shell import save, shell_in

pytest.importorskip("prometheus_client")

PROJECT = Path(__file__).parent / "projects" / "prometheus_shell"


def test_a_module_defining_metrics_reloads_and_they_keep_counting(tmp_path: Path) -> None:
    with shell_in(PROJECT, tmp_path) as shell:
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
        failures = sum("kept the previous code" in line for line in shell.err)
        save(metrics, metrics.read_text() + '\nraise RuntimeError("boom")\n', atomic=False)
        shell.wait(
            lambda: sum("kept the previous code" in line for line in shell.err) > failures,
            "the failure",
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
    import prometheus_client  # noqa: F401 (the adapter reads its metrics' base)

    from hotmod.integrations import NOT_HANDLED, Transaction
    from hotmod.integrations.prometheus import PrometheusIntegration

    class Meta(type):
        def __eq__(cls, other: object) -> bool:  # (and so no __hash__)
            return cls is other

    class Shape(metaclass=Meta):
        pass

    txn = cast(Transaction, None)  # (not read for an object it leaves alone)
    assert PrometheusIntegration().keep(txn, Shape(), Shape()) is NOT_HANDLED
