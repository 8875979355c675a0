"""The adapter interface: a third-party adapter found through the entry-point group."""

from __future__ import annotations

import logging

import pytest

from conftest import Project

# hotmod, the shared LOG and ``w(path, text)`` (tests/projects/_support/scenario.py).
EDIT_PRELUDE = "import hotmod\nfrom scenario import LOG, write as w\n"

ADAPTER = {
    # a tiny framework with an import-time registry
    "fakefw/__init__.py": """
        routes = {}

        def route(path):
            def decorate(func):
                routes[path] = func
                return func
            return decorate
    """,
    # its hotmod adapter, installed as a distribution with an entry point
    "hotmod_fakefw/__init__.py": """
        import builtins
        from hotmod.integrations import Integration, record

        class FakeIntegration(Integration):
            framework = "fakefw"

            def activate(self):
                import fakefw
                builtins.LOG.append("activated")
                original = fakefw.route

                def route(path):
                    decorate = original(path)

                    def recorded(func):
                        result = decorate(func)
                        record(lambda: fakefw.routes.pop(path, None),
                               lambda: fakefw.routes.__setitem__(path, func))
                        return result
                    return recorded

                fakefw.route = route

            def committed(self, report):
                builtins.LOG.append("committed")

            def rolled_back(self, report):
                builtins.LOG.append("rolled back")
    """,
    "hotmod_fakefw-0.1.dist-info/METADATA": """
        Metadata-Version: 2.1
        Name: hotmod-fakefw
        Version: 0.1
    """,
    "hotmod_fakefw-0.1.dist-info/entry_points.txt": """
        [hotmod.integrations]
        fakefw = hotmod_fakefw:FakeIntegration
    """,
    "views.py": """
        import fakefw

        @fakefw.route("/a")
        def a():
            return "a"
    """,
}


def test_an_entry_point_adapter_starts_when_its_framework_is_imported(project: Project) -> None:
    project.write(ADAPTER)
    out = project.run_script(
        """
        from hotmod.integrations import active
        watcher = hotmod.watch(apply="manual")  # hotmod first, the framework later
        assert LOG == []
        import views, fakefw
        print(LOG, [type(a).__name__ for a in active()][-1])
        w("views.py", '''
            import fakefw

            @fakefw.route("/b")
            def b():
                return "b"
        ''')
        report = hotmod.reload("views")
        print(report.ok, sorted(fakefw.routes), LOG[-1])
        w("views.py", '''
            import fakefw

            @fakefw.route("/c")
            def c():
                return "c"
            raise RuntimeError("broken")
        ''')
        report = hotmod.reload("views")
        print(report.ok, sorted(fakefw.routes), LOG[-1])
        watcher.stop()
        """,
        prelude=EDIT_PRELUDE,
    )
    assert out.splitlines() == [
        "['activated'] FakeIntegration",
        "True ['/b'] committed",
        "False ['/b'] rolled back",
    ]


def test_a_framework_imported_after_hotmod_starts_its_adapter_on_import(project: Project) -> None:
    # `import hotmod` loads none of the engine, yet the adapter starts as flask finishes
    # importing, before any watch or reload: an app made now is seen as it is made.
    out = project.run_script(
        """
        import sys
        import hotmod
        assert "hotmod.integrations" not in sys.modules
        import flask
        from hotmod.integrations import active
        print(sorted(type(a).__name__ for a in active()))
        """
    )
    assert out.strip() == "['ClickIntegration', 'FlaskIntegration']"  # flask imports click


def test_dev_servers_log_reloads_without_logging_configured(project: Project) -> None:
    project.write({"mod.py": "X = 1\n"})
    out = project.run_script(
        """
        import logging
        import hotmod
        from hotmod.wsgi import HotReload

        logger = logging.getLogger("hotmod")
        watcher = hotmod.watch(apply="manual")
        print(len(logger.handlers))  # library use: hotmod leaves logging alone
        HotReload(lambda environ, start_response: [], watcher=watcher)
        print(len(logger.handlers), logger.level == logging.INFO)
        import mod
        w("mod.py", "X = 2\\n")
        hotmod.reload("mod")
        watcher.stop()
        """,
        prelude=EDIT_PRELUDE,
    )
    assert out.splitlines() == ["0", "1 True"]


def test_a_configured_root_logger_is_left_alone(project: Project) -> None:
    out = project.run_script(
        """
        import logging
        logging.basicConfig(level=logging.WARNING)
        import hotmod
        from hotmod.wsgi import HotReload

        watcher = hotmod.watch(apply="manual")
        HotReload(lambda environ, start_response: [], watcher=watcher)
        print(len(logging.getLogger("hotmod").handlers))
        watcher.stop()
        """
    )
    assert out.splitlines() == ["0"]


def test_factory_true_makes_a_plain_app_again_after_each_reload(project: Project) -> None:
    project.write(
        {
            "words.py": "WORD = 'one'\n",
            "mk.py": """
                import words

                def create_app():
                    word = words.WORD  # read once, when the app is made

                    def app(environ, start_response):
                        start_response("200 OK", [("Content-Type", "text/plain")])
                        return [word.encode()]

                    return app
            """,
        }
    )
    out = project.run_script(
        """
        from wsgiref.util import setup_testing_defaults
        from hotmod.wsgi import HotReload

        watcher = hotmod.watch(apply="manual")
        app = HotReload("mk:create_app", factory=True, watcher=watcher)

        def get():
            environ = {}
            setup_testing_defaults(environ)
            return b"".join(app(environ, lambda status, headers: None)).decode()

        print(get())
        w("words.py", "WORD = 'two'\\n")
        print(hotmod.reload("words").ok, get())
        watcher.stop()
        """,
        prelude=EDIT_PRELUDE,
    )
    assert out.splitlines() == ["one", "True two"]


def test_a_failing_adapter_start_never_breaks_the_programs_import(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The import clock calls this inside the program's `import flask`: it logs, never raises.
    from hotmod import _runtime, integrations

    def broken(name: str) -> None:
        raise RuntimeError(f"cannot start {name}")

    monkeypatch.setattr(integrations, "activate", broken)
    with caplog.at_level(logging.ERROR, logger="hotmod"):
        _runtime.framework_imported("flask")
    assert "could not start hotmod's adapters for flask" in caplog.text
    assert "cannot start flask" in caplog.text
