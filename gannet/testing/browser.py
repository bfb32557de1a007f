"""A browser for tests of sign-in flows: it follows redirects, and renders nothing.

Single sign-on sends a browser from the server to the identity provider and back (and,
for ``gannet login --sso``, on to the CLI's loopback URL). The test provider signs in
without a page, so following the redirects is all a browser has to do. Python's
``webbrowser`` runs the program named by ``BROWSER`` with the URL (a program, not a
command line), so a test of the real command sets ``BROWSER`` to ``executable(folder)``,
a script that runs this module; in-process tests call ``follow``.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import httpx

__all__ = ["executable", "follow"]


def follow(url: str, **headers: str) -> httpx.Response:
    """The response at the end of the redirects from ``url``."""
    return httpx.get(url, headers=headers, follow_redirects=True, timeout=30)


def executable(folder: Path) -> Path:
    """A program in ``folder`` that opens its argument with ``follow`` (for ``BROWSER``)."""
    path = folder / "test-browser"
    path.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m gannet.testing.browser "
                    '"$@"\n')
    path.chmod(0o755)
    return path


def main(argv: list[str]) -> int:
    """``python -m gannet.testing.browser URL``: 0 when the last page answered < 400."""
    response = follow(argv[0])
    return 0 if response.status_code < 400 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
