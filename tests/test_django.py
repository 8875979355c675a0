"""Django under its real dev server: ``manage.py runserver`` with hotmod's app, and ``hotmod run``.

Each scenario copies ``tests/projects/django_polls`` (Django's polls tutorial) to
tmp_path, migrates its sqlite database, starts the server on 127.0.0.1 and drives it
with HTTP requests after editor-style saves, each request made after the log reported
the reload.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import SRC
from harness_shell import edit, save

pytest.importorskip("django")

PROJECT = Path(__file__).parent / "projects" / "django_polls"
DEADLINE = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def append(path: Path, text: str, *, atomic: bool = False) -> None:
    save(path, path.read_text() + text, atomic=atomic)


class Server:
    """A dev server in a child process, its output collected in a file."""

    def __init__(self, root: Path, argv: list[str], env: dict[str, str]) -> None:
        self.root = root
        self.port = free_port()
        self.log_path = root / "server.log"
        self.log_file = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [*argv, f"127.0.0.1:{self.port}"],
            cwd=root,
            env=env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.wait_until(lambda: self.up(), "the server to answer")

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def up(self) -> bool:
        try:
            self.get("/polls/process/")
        except (OSError, urllib.error.URLError):
            return False
        return True

    def get(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body)
        if data is not None:
            request.add_header("Referer", f"http://127.0.0.1:{self.port}{path}")
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def text(self, path: str) -> str:
        status, body = self.get(path)
        assert status == 200, f"GET {path}: {status}\n{body[:2000]}\n--- log ---\n{self.log}"
        return body

    def wait_until(self, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while not ready():
            if self.proc.poll() is not None and not self.log.count("Watching for file changes"):
                raise AssertionError(f"server exited with {self.proc.returncode}\n{self.log}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}\n--- log ---\n{self.log}")
            time.sleep(0.02)

    def reloaded(self, action: Callable[[], None], count: int = 1) -> None:
        """Run ``action`` (a save) and wait for ``count`` more successful reloads in the log."""
        before = self.log.count("hotmod: reloaded")
        action()
        self.wait_until(lambda: self.log.count("hotmod: reloaded") >= before + count, "a reload")

    def login(self) -> None:
        _, page = self.get("/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token is not None, page[:2000]
        status, page = self.get(
            "/admin/login/?next=/admin/",
            {"csrfmiddlewaretoken": token.group(1), "username": "admin", "password": "pw-1234"},
        )
        assert status == 200 and "Site administration" in page, page[:2000]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()


def project_env(*, app: bool | str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["POLLS_HOTMOD_APP"] = app if isinstance(app, str) else "1" if app else "0"
    env.pop("RUN_MAIN", None)
    return env


@pytest.fixture
def polls(tmp_path: Path) -> Path:
    """The polls project copied to tmp_path, migrated, with a superuser."""
    root = tmp_path / "polls_project"
    shutil.copytree(PROJECT, root)
    env = project_env(app=False)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=root, env=env, check=True, timeout=120)
    env.update(
        DJANGO_SUPERUSER_USERNAME="admin",
        DJANGO_SUPERUSER_PASSWORD="pw-1234",
        DJANGO_SUPERUSER_EMAIL="admin@example.com",
    )
    subprocess.run(
        [*manage, "createsuperuser", "--noinput"],
        cwd=root,
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
    )
    return root


@pytest.fixture
def runserver(polls: Path) -> Iterator[Server]:
    """``python manage.py runserver`` (Django's autoreloader on) with hotmod's app installed."""
    server = Server(polls, [sys.executable, "manage.py", "runserver"], project_env(app=True))
    try:
        yield server
    finally:
        server.stop()


def pid_of(server: Server) -> str:
    return server.text("/polls/process/").split()[0]


def test_runserver_reloads_views_urls_forms_tags_signals_and_models_in_place(
    runserver: Server,
) -> None:
    server, root = runserver, runserver.root
    polls = root / "polls"
    pid, visits = server.text("/polls/process/").split()

    # A new view and its path(): 404 before, served after (atomic saves, as editors do).
    assert server.get("/polls/hello/")[0] == 404
    server.reloaded(
        lambda: append(
            polls / "views.py",
            '\n\ndef hello(request):\n    return HttpResponse("hi")\n',
            atomic=True,
        )
    )
    server.reloaded(
        lambda: edit(
            polls / "urls.py",
            '    path("form/",',
            '    path("hello/", views.hello, name="hello"),\n    path("form/",',
            atomic=True,
        )
    )
    assert server.text("/polls/hello/") == "hi"
    # An edited view, saved in place.
    server.reloaded(lambda: edit(polls / "views.py", 'HttpResponse("hi")', 'HttpResponse("hello")'))
    assert server.text("/polls/hello/") == "hello"
    # A removed path 404s.
    server.reloaded(
        lambda: edit(polls / "urls.py", '    path("hello/", views.hello, name="hello"),\n', "")
    )
    assert server.get("/polls/hello/")[0] == 404

    # Forms: a field's label and a new field.
    assert 'for="id_choice">Choice' in server.text("/polls/form/")
    server.reloaded(
        lambda: edit(
            polls / "forms.py",
            'label="Choice")',
            'label="Your pick")\n    comment = forms.CharField(required=False)',
        )
    )
    form = server.text("/polls/form/")
    assert 'for="id_choice">Your pick' in form and 'name="comment"' in form

    # Signals: one receiver removed, another added; each save runs each receiver once.
    assert server.text("/polls/saved/?q=first") == "saved:first"
    server.reloaded(
        lambda: edit(polls / "signals.py", 'SAVED.append(f"saved:', 'SAVED.append(f"kept:')
    )
    assert server.text("/polls/saved/?q=second") == "kept:second"
    server.reloaded(
        lambda: save(
            polls / "signals.py",
            (polls / "signals.py").read_text().replace("def question_saved(", "def on_question(")
            + "\n\n@receiver(post_save, sender=Question)\ndef audit(sender, instance, **kwargs):\n"
            '    SAVED.append("audit")\n',
            atomic=True,
        )
    )
    assert server.text("/polls/saved/?q=third") == "kept:third audit"

    # Template tags: an edited filter, in templates Django compiled and cached already.
    assert "<li>THIRD</li>" in server.text("/polls/")
    server.reloaded(
        lambda: edit(
            polls / "templatetags" / "poll_extras.py",
            "return str(value).upper()",
            'return str(value).upper() + "!"',
        )
    )
    assert "<li>THIRD!</li>" in server.text("/polls/")

    # A model method, used by an edited view: in place, no restart.
    server.reloaded(
        lambda: edit(
            polls / "models.py",
            "    def was_published_recently",
            "    def shouted(self) -> str:\n        return self.question_text.upper()\n\n"
            "    def was_published_recently",
        )
    )
    server.reloaded(
        lambda: edit(
            polls / "views.py",
            'f"question {question.question_text}"',
            'f"question {question.shouted()} {question.choice_set.count()}"',
        )
    )
    assert server.text("/polls/1/") == "question FIRST 0"

    # The same process served it all, with the state of unedited modules kept.
    now_pid, now_visits = server.text("/polls/process/").split()
    assert now_pid == pid and int(now_visits) > int(visits)
    assert "Traceback" not in server.log and "changed, reloading" not in server.log
    assert "previous code still reachable" not in server.log


def test_runserver_admin_registrations_follow_the_source(polls: Path) -> None:
    # hotmod's app listed first in INSTALLED_APPS, before the admin it must follow.
    server = Server(polls, [sys.executable, "manage.py", "runserver"], project_env(app="first"))
    try:
        admin_registrations(server, polls / "polls" / "admin.py")
    finally:
        server.stop()


def test_hotmod_run_follows_admin_registrations(polls: Path) -> None:
    argv = [sys.executable, "-m", "hotmod", "run", "manage.py", "runserver", "--noreload"]
    server = Server(polls, argv, project_env(app=False))
    try:
        admin_registrations(server, polls / "polls" / "admin.py")
    finally:
        server.stop()


def admin_registrations(server: Server, admin_py: Path) -> None:
    server.text("/polls/saved/?q=one")  # a row, so that the change list shows its columns
    server.login()
    assert "Select question to change" in server.text("/admin/polls/question/")
    assert server.get("/admin/polls/choice/")[0] == 404
    # Re-registering what the module registered before: no AlreadyRegistered.
    server.reloaded(
        lambda: append(admin_py, "\n\nfrom .models import Choice\n\nadmin.site.register(Choice)\n")
    )
    assert "Select choice to change" in server.text("/admin/polls/choice/")
    assert "Select question to change" in server.text("/admin/polls/question/")
    # An edited ModelAdmin applies; a registration deleted from the source is gone.
    server.reloaded(
        lambda: save(
            admin_py,
            admin_py.read_text()
            .replace(
                'list_display = ["question_text", "pub_date"]',
                'list_display = ["question_text", "pub_date", "was_published_recently"]',
            )
            .replace("admin.site.register(Choice)\n", ""),
            atomic=True,
        )
    )
    assert "column-was_published_recently" in server.text("/admin/polls/question/")
    assert server.get("/admin/polls/choice/")[0] == 404
    # The registration made when the server started, deleted from the source.
    server.reloaded(lambda: edit(admin_py, "@admin.register(Question)\n", "", atomic=True))
    assert server.get("/admin/polls/question/")[0] == 404
    assert "AlreadyRegistered" not in server.log and "Traceback" not in server.log


@pytest.mark.parametrize(
    ("rel", "old", "new", "why"),
    [
        (
            "polls/models.py",
            "    votes = models.IntegerField(default=0)",
            "    votes = models.IntegerField(default=0)\n"
            '    note = models.CharField(max_length=9, default="")',
            "polls.models.Choice: fields changed (added note)",
        ),
        (
            "mysite/settings.py",
            'TIME_ZONE = "UTC"',
            'TIME_ZONE = "Europe/Paris"',
            "Django settings changed",
        ),
        (
            "polls/migrations/0001_initial.py",
            "initial = True",
            "initial = True  # edited",
            "a migration changed",
        ),
    ],
    ids=["model-field", "settings", "migration"],
)
def test_runserver_restarts_for_settings_model_fields_and_migrations(
    runserver: Server, rel: str, old: str, new: str, why: str
) -> None:
    server = runserver
    pid = pid_of(server)
    edit(server.root / rel, old, new)
    server.wait_until(lambda: server.log.count("Watching for file changes") == 2, "a restart")
    server.wait_until(lambda: server.up() and pid_of(server) != pid, "the new server process")
    lines = [line for line in server.log.splitlines() if why in line]
    assert len(lines) == 1, server.log
    assert "Traceback" not in server.log


def test_hotmod_run_manage_py_runserver_noreload(polls: Path) -> None:
    server = Server(
        polls,
        [sys.executable, "-m", "hotmod", "run", "manage.py", "runserver", "--noreload"],
        project_env(app=False),
    )
    try:
        views, urls = polls / "polls" / "views.py", polls / "polls" / "urls.py"
        pid = pid_of(server)
        assert server.get("/polls/hello/")[0] == 404
        server.reloaded(
            lambda: append(views, '\n\ndef hello(request):\n    return HttpResponse("hi")\n')
        )
        server.reloaded(
            lambda: edit(
                urls,
                '    path("form/",',
                '    path("hello/", views.hello),\n    path("form/",',
                atomic=True,
            )
        )
        assert server.text("/polls/hello/") == "hi"
        server.reloaded(
            lambda: edit(views, 'HttpResponse("hi")', 'HttpResponse("hey")', atomic=True)
        )
        assert server.text("/polls/hello/") == "hey"
        server.reloaded(lambda: edit(urls, '    path("hello/", views.hello),\n', ""))
        assert server.get("/polls/hello/")[0] == 404
        assert pid_of(server) == pid
        # A model field: not applied in place, one warning naming the model and why.
        edit(
            polls / "polls" / "models.py",
            "    votes = models.IntegerField(default=0)",
            "    votes = models.IntegerField(default=1)",
        )
        server.wait_until(lambda: "restart needed" in server.log, "the restart warning")
        assert "polls.models.Choice: fields changed (changed votes)" in server.log
        assert server.text("/polls/process/").split()[0] == pid
    finally:
        server.stop()


ROLLBACK = """
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "mysite.settings"
import hotmod
hotmod.watch(".", apply="manual")
import django
django.setup()
from django.apps import apps
from django.contrib import admin
from django.db.models.signals import post_save
from django.urls import resolve
import polls.models, polls.signals, polls.urls, polls.views
from polls.models import Question

meta, registered = Question._meta, dict(admin.site._registry)
receivers = list(post_save.receivers)

def write(path, old, new):
    text = open(path).read()
    assert old in text
    with open(path, "w") as f:
        f.write(text.replace(old, new))

# One save touches models, signals and urls; the views module then fails at import.
write("polls/models.py", "def __str__(self) -> str:\\n        return self.question_text",
      "def __str__(self) -> str:\\n        return 'Q: ' + self.question_text")
write("polls/signals.py", "def question_saved(", "def question_saved_renamed(")
write("polls/urls.py", 'path("form/",', 'path("extra/", views.form),\\n    path("form/",')
write("polls/views.py", "def index(request):",
      "raise RuntimeError('broken')\\n\\n\\ndef index(request):")
report = hotmod.reload("polls.models", "polls.signals", "polls.urls", "polls.views")
assert not report.ok and isinstance(report.error, RuntimeError), report

# Everything is as before the reload.
assert apps.get_model("polls", "Question") is Question and Question._meta is meta
assert dict(admin.site._registry) == registered
assert post_save.receivers == receivers
assert str(Question(question_text="x")) == "x"
assert resolve("/polls/form/").url_name == "form"
from django.urls import Resolver404
try:
    resolve("/polls/extra/")
except Resolver404:
    pass
else:
    raise AssertionError("/polls/extra/ resolves after the rollback")

# The fix applies everything together.
write("polls/views.py", "raise RuntimeError('broken')\\n", "")
report = hotmod.reload("polls.models", "polls.signals", "polls.urls", "polls.views")
assert report.ok, report
assert apps.get_model("polls", "Question") is Question and Question._meta is meta
assert str(Question(question_text="x")) == "Q: x"
assert resolve("/polls/extra/").func is polls.views.form
assert len(post_save.receivers) == len(receivers)
print("ok")
"""


def test_a_failed_reload_restores_djangos_registries(polls: Path) -> None:
    env = project_env(app=False)
    proc = subprocess.run(
        [sys.executable, "-c", ROLLBACK],
        cwd=polls,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr
