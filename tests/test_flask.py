"""Flask under every launcher: the tutorial's factory and blueprints, edited in any order."""

from __future__ import annotations

from pathlib import Path

import pytest

from webtools import copy_project, free_port, launch

pytest.importorskip("flask")

LAUNCHERS = {
    "serve": ["serve_wsgi.py"],
    "serve-factory": ["serve_factory.py"],
    "HotReload": ["middleware_app.py"],
    "hotmod-run-flask": ["-m", "hotmod", "run", "-m", "flask", "--app", "flaskr", "run", "--port"],
    "hotmod-run-app.run": ["-m", "hotmod", "run", "run_app.py"],
    # --debug turns werkzeug's restarting reloader on: hotmod turns it off, one process
    "hotmod-run-flask-debug": [
        *["-m", "hotmod", "run", "-m", "flask", "--app", "flaskr", "--debug", "run", "--port"],
    ],
}


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_flask_tutorial_any_sequence_of_edits(tmp_path: Path, launcher: str) -> None:
    root = copy_project("flaskr", tmp_path)
    port = free_port()
    blog, factory, auth = (
        root / "flaskr/blog.py",
        root / "flaskr/__init__.py",
        root / "flaskr/auth.py",
    )
    with launch(root, [*LAUNCHERS[launcher], str(port)], port) as server:
        assert server.request("/") == (200, "index-v1")  # served: setup is "finished"
        assert server.request("/auth/login") == (200, "login-v1")
        assert server.request("/about")[0] == 404

        # a view module: an edited view and a new route
        server.edit(
            blog,
            '    return "index-v1"',
            '    return "index-v2"\n\n\n@bp.route("/about")\ndef about():\n    return "about"',
        )
        assert server.request("/") == (200, "index-v2")
        assert server.request("/about") == (200, "about")

        # the module holding create_app: an edited view and a route on the app
        server.edit(
            factory,
            '        return "hello-v1"',
            '        return "hello-v2"\n\n'
            '    @app.route("/extra")\n    def extra():\n        return "extra"',
        )
        assert server.request("/hello") == (200, "hello-v2")
        assert server.request("/extra") == (200, "extra")
        assert server.request("/") == (200, "index-v2")

        # the view module again: a removed route 404s, the edit is served
        text = blog.read_text()
        start = text.index('\n\n\n@bp.route("/about")')
        end = text.index('"about"') + len('"about"')
        server.save(blog, (text[:start] + text[end:]).replace("index-v2", "index-v3"))
        assert server.request("/") == (200, "index-v3")
        assert server.request("/about")[0] == 404
        assert server.request("/post/7") == (200, "post 7")

        # the other blueprint, then a broken save that keeps the previous code
        server.edit(auth, "login-v1", "login-v2")
        assert server.request("/auth/login") == (200, "login-v2")
        server.save(blog, blog.read_text().replace("def index", "def index(:"), fails=True)
        assert server.request("/") == (200, "index-v3")
        server.save(
            blog,
            blog.read_text().replace("def index(:", "def index").replace("index-v3", "index-v4"),
        )
        assert server.request("/") == (200, "index-v4")
        assert server.request("/extra") == (200, "extra")
        assert server.request("/hello") == (200, "hello-v2")
        assert "Traceback" not in server.output().split("reload failed")[0]
        assert "still running previous code" not in server.output(), server.output()
        if launcher == "hotmod-run-flask-debug":  # one process, reloaded in place
            assert "restarting reloader is off" in server.output()
            assert "Restarting with" not in server.output()


def test_flask_single_file_app_run(tmp_path: Path) -> None:
    """``hotmod run app.py`` where app.py calls ``app.run()``: the routes live in ``__main__``."""
    root = copy_project("flask_single", tmp_path)
    port = free_port()
    app = root / "app.py"
    with launch(root, ["-m", "hotmod", "run", "app.py", str(port)], port) as server:
        assert server.request("/") == (200, "index-v1")
        server.edit(
            app,
            '@app.route("/gone")\ndef gone():\n    return "gone"',
            '@app.route("/new")\ndef new():\n    return "new"',
        )
        assert server.request("/") == (200, "index-v1")
        assert server.request("/new") == (200, "new")
        assert server.request("/gone")[0] == 404
        server.edit(app, "index-v1", "index-v2")
        assert server.request("/") == (200, "index-v2")
        before = int(server.request("/hits")[1])
        assert server.request("/hits") == (200, str(before + 1))  # one before_request hook
        assert "still running previous code" not in server.output()


@pytest.mark.parametrize("launcher", ["serve", "hotmod-run-flask"])
def test_flask_routes_on_an_app_from_another_module(tmp_path: Path, launcher: str) -> None:
    root = copy_project("flask_split", tmp_path)
    port = free_port()
    argv = {
        "serve": ["serve_wsgi.py", str(port)],
        "hotmod-run-flask": [
            "-m",
            "hotmod",
            "run",
            "-m",
            "flask",
            "--app",
            "wsgi",
            "run",
            "--port",
            str(port),
        ],
    }[launcher]
    views = root / "views.py"
    with launch(root, argv, port) as server:
        assert server.request("/") == (200, "index-v1")
        server.edit(
            views,
            '@app.route("/gone")\ndef gone():\n    return "gone"',
            '@app.route("/new")\ndef new():\n    return "new"',
        )
        assert server.request("/new") == (200, "new")
        assert server.request("/gone")[0] == 404
        server.edit(views, "index-v1", "index-v2")
        assert server.request("/") == (200, "index-v2")
        assert "still running previous code" not in server.output()


def test_flask_views_a_function_registered_once_run_their_new_code(tmp_path: Path) -> None:
    """``views.register(app)``, called once by the script: the views it defined get
    their new bodies; when the function changed otherwise (a route), they stay as they
    were and the log says so, never "reloaded" alone."""
    root = copy_project("flask_init_app", tmp_path)
    port = free_port()
    views = root / "views.py"
    with launch(root, ["-m", "hotmod", "run", "app.py", str(port)], port) as server:
        assert server.request("/") == (200, "home-v1 /u/x")
        server.edit(views, "home-v1", "home-v2")
        assert server.request("/") == (200, "home-v2 /u/x")
        assert server.request("/u/bob") == (200, "profile bob")
        assert "still running previous code" not in server.output()
        server.edit(views, '"/u/<user>"', '"/user/<user>"')
        assert server.request("/") == (200, "home-v2 /u/x")  # as it was, whole
        assert server.request("/user/bob")[0] == 404
        output = server.output()
        assert "views.register.<locals>.home (previous code) held by" in output, output
        assert "views.register.<locals>.profile (previous code) held by" in output, output
