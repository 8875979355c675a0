"""An open streaming response holds neither reloads nor other requests (real servers)."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from webtools import copy_project, free_port, launch

pytest.importorskip("flask")
pytest.importorskip("uvicorn")


@pytest.mark.parametrize("script", ["serve_wsgi.py", "serve_asgi.py"])
def test_an_open_stream_does_not_hold_a_reload(tmp_path: Path, script: str) -> None:
    root = copy_project("streams", tmp_path)
    port = free_port()
    with launch(root, [script, str(port)], port) as server:
        # hold_timeout=None: if the open stream held the reload, it would wait forever.
        with urllib.request.urlopen(server.url + "/stream", timeout=30) as stream:
            assert stream.readline() == b"tick\n"
            server.edit(root / "handlers.py", "msg-v1", "msg-v2")
            assert server.request("/") == (200, "msg-v2")
            server.edit(root / "handlers.py", "msg-v2", "msg-v3")
            assert server.request("/") == (200, "msg-v3")
            assert stream.readline() == b"tick\n"  # the stream goes on meanwhile
        assert "reloading anyway" not in server.output()
