"""The credentials file: the API tokens ``gannet login`` saved, one per team server.

A JSON object keyed by the server's URI (``http://gannet.internal:5005``), each entry the
token's secret and what is known of it (its id, so ``gannet logout`` can revoke it; its
user; when it expires). It lives in the user's configuration folder
(``$XDG_CONFIG_HOME/gannet/credentials.json``, else ``~/.config/gannet/credentials.json``;
the ``credentials_file`` setting moves it), readable by its owner only (0600, its folder
0700): it holds secrets. The settings read it for the ``token`` when ``GANNET_TOKEN`` (or
``token`` in gannet.toml) is not set and ``uri`` names a server found in it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gannet.core.errors import SettingsError

__all__ = ["SavedLogin", "default_path", "forget", "normalized_uri", "save", "saved_login"]

FILE_NAME = "credentials.json"


@dataclass(frozen=True)
class SavedLogin:
    """A token saved for one server: ``token`` is the secret sent as ``Bearer``."""

    token: str
    user: str = ""
    token_id: str = ""
    expires: int | None = None  # ms since the epoch; None: never


def default_path(environ: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/gannet/credentials.json``, else ``~/.config/gannet/...``."""
    config = environ.get("XDG_CONFIG_HOME") or ""
    base = Path(config).expanduser() if config.strip() else Path.home() / ".config"
    return base / "gannet" / FILE_NAME


def normalized_uri(uri: str) -> str:
    """The key of a server: its URI without trailing slashes."""
    return uri.strip().rstrip("/")


def saved_login(path: Path, uri: str) -> SavedLogin | None:
    """The login saved for ``uri`` in ``path`` (None: the file or the entry is missing)."""
    entry = _read(path).get(normalized_uri(uri))
    if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
        return None
    expires = entry.get("expires")
    return SavedLogin(token=entry["token"], user=str(entry.get("user") or ""),
                      token_id=str(entry.get("token_id") or ""),
                      expires=expires if isinstance(expires, int) else None)


def save(path: Path, uri: str, login: SavedLogin) -> None:
    """Save ``login`` for ``uri`` (replacing an earlier one), the file kept at 0600."""
    entries = _read(path)
    entries[normalized_uri(uri)] = asdict(login)
    _write(path, entries)


def forget(path: Path, uri: str) -> SavedLogin | None:
    """Remove the login saved for ``uri``; the removed one (None: there was none)."""
    found = saved_login(path, uri)
    if found is not None:
        entries = _read(path)
        entries.pop(normalized_uri(uri), None)
        _write(path, entries)
    return found


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SettingsError(f"cannot read the credentials file {path}: {exc}",
                            "check its permissions, or remove it and log in again") from exc
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise SettingsError(f"the credentials file {path} is not valid JSON: {exc}",
                            "remove it and log in again: gannet login") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"the credentials file {path} does not hold a JSON object",
                            "remove it and log in again: gannet login")
    return data


def _write(path: Path, entries: Mapping[str, Any]) -> None:
    """Replace the file at once (a reader never sees half of it), owner-only from the
    start: ``mkstemp`` makes the temporary file 0600 before a secret is written to it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(prefix=".credentials-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(dict(entries), out, indent=2, sort_keys=True)
            out.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
