"""A fresh embedded store for a module of browser tests: SQLite in a temporary folder,
the environment not captured, an admin made (the team server's first user)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gannet.bootstrap import build
from gannet.core.settings import Settings


def fresh_services(root: Path) -> Any:
    """The services of a new store under ``root``, its admin made."""
    settings = Settings.load(environ={}, cwd=root, home=root / ".gannet", progress=False,
                             metadata_url=f"sqlite:///{root / 'gannet.db'}",
                             capture_environment=False)
    services = build(settings)
    services.auth.bootstrap_admin()
    return services
