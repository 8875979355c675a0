"""MkDocs hook: ship the mermaid script with the site, so diagrams render offline.

Material for MkDocs renders ```` ```mermaid ```` blocks in the browser with mermaid,
which it loads from a CDN unless a global ``mermaid`` is already defined. This hook
puts a pinned mermaid release into the built site as
``assets/javascripts/mermaid.min.js`` (listed in ``extra_javascript`` in mkdocs.yml), so
no page needs the network when it is viewed.

The file is not committed: the first build fetches the release from the npm registry
with ``npm pack`` (Node.js's own client), checks it against the pinned hashes and keeps
it in ``$XDG_CACHE_HOME/hotmod-docs`` (``~/.cache/hotmod-docs``); later builds read
the cache. ``HOTMOD_DOCS_MERMAID_JS=/path/to/mermaid.min.js`` uses a copy you have
(it must be this release: the hash is checked). Run this file to fetch ahead of time:
``python docs/hooks/mermaid_offline.py``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

VERSION = "11.17.2"
# npm's dist.integrity of mermaid-VERSION.tgz, and the sha256 of its dist/mermaid.min.js.
TARBALL_SHA512 = (
    "V6K3C8EBdEsPFZXSKMJe6ppQOENxuHARr9GvHX4hh47lAbhMRD9qf4oEK7LoaRQxULMa80/qt5gHO73aCleBBg=="
)
SCRIPT_SHA256 = "581ed7d74bd9048d0e3a91363927d72ef22942d7722546b27f7cc29e35390eb8"
SITE_PATH = "assets/javascripts/mermaid.min.js"
MEMBER = "package/dist/mermaid.min.js"


class MermaidFetchError(RuntimeError):
    """The pinned mermaid release could not be fetched or did not match its hash."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hotmod-docs" / f"mermaid-{VERSION}"


def _fetch(dest: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise MermaidFetchError(
            f"the docs need mermaid {VERSION} from the npm registry and `npm` is not on "
            "PATH: install Node.js and npm (Debian: apt-get install -y npm), or set "
            "HOTMOD_DOCS_MERMAID_JS to a copy of mermaid.min.js"
        )
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [npm, "pack", f"mermaid@{VERSION}", "--pack-destination", tmp, "--silent"],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=600,
        )
        tarball = Path(tmp) / f"mermaid-{VERSION}.tgz"
        if proc.returncode != 0 or not tarball.is_file():
            raise MermaidFetchError(
                f"npm pack mermaid@{VERSION} failed (exit {proc.returncode}): "
                f"{proc.stderr.strip() or proc.stdout.strip()}"
            )
        digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
        if digest != TARBALL_SHA512:
            raise MermaidFetchError(f"{tarball.name}: sha512 {digest} is not the pinned one")
        with tarfile.open(tarball) as archive:
            source = archive.extractfile(MEMBER)
            if source is None:
                raise MermaidFetchError(f"{tarball.name} has no {MEMBER}")
            partial = dest.with_suffix(".part")
            partial.parent.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(source.read())
    if _sha256(partial) != SCRIPT_SHA256:
        partial.unlink()
        raise MermaidFetchError(f"{MEMBER} of mermaid {VERSION}: sha256 is not the pinned one")
    partial.replace(dest)


def mermaid_script() -> Path:
    """Return a local mermaid.min.js of the pinned release, fetching it on first use."""
    override = os.environ.get("HOTMOD_DOCS_MERMAID_JS")
    if override:
        path = Path(override)
        if not path.is_file() or _sha256(path) != SCRIPT_SHA256:
            raise MermaidFetchError(
                f"HOTMOD_DOCS_MERMAID_JS={override}: not mermaid {VERSION}'s mermaid.min.js"
            )
        return path
    path = _cache_dir() / "mermaid.min.js"
    if not path.is_file() or _sha256(path) != SCRIPT_SHA256:
        _fetch(path)
    return path


def on_files(files: Any, config: Any) -> Any:
    """Add the local mermaid script to the site's files."""
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File

    if SITE_PATH not in [str(getattr(s, "path", s)) for s in config["extra_javascript"]]:
        raise PluginError(f"mkdocs.yml: extra_javascript must list {SITE_PATH}")
    try:
        script = mermaid_script()
    except MermaidFetchError as exc:
        raise PluginError(str(exc)) from exc
    files.append(File.generated(config, SITE_PATH, abs_src_path=str(script)))
    return files


if __name__ == "__main__":
    try:
        print(mermaid_script())
    except MermaidFetchError as exc:
        sys.exit(f"error: {exc}")
