"""A model whose loading leaves a mark: for tests that a package's own code never runs
unless a verified signature or the caller vouches for it.

``Intruder`` is a ``python``-flavor model (``predict``, ``save``, classmethod ``load``).
Its ``load`` writes ``"code ran"`` to the file named at save time, so a test can tell,
even across processes (``gannet serve``), whether loading ran the package's code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["Intruder"]

MARK_FILE = "mark.txt"


class Intruder:
    def __init__(self, mark: str | Path) -> None:
        self.mark = Path(mark)

    def predict(self, data: Any) -> Any:
        return data["x"].to_numpy() * 2

    def save(self, path: Path) -> None:
        (Path(path) / MARK_FILE).write_text(str(self.mark))

    @classmethod
    def load(cls, path: Path) -> Intruder:
        mark = Path((Path(path) / MARK_FILE).read_text())
        mark.write_text("code ran")
        return cls(mark)
