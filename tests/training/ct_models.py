"""A python-flavor model for the training tests: a fixed rule that raises on a sentinel
input (a build that passes its held-out evaluation and breaks on live traffic)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SENTINEL = 999.0  # an x0 this large makes the model raise


class Rule:
    def predict(self, data: Any) -> Any:
        x0 = data["x0"].to_numpy()
        if (x0 >= SENTINEL).any():
            raise ValueError("this build cannot take x0 = 999")
        return ((x0 + data["x1"].to_numpy()) > 0).astype(int)

    def save(self, path: Path) -> None:
        (Path(path) / "rule.txt").write_text("x0 + x1 > 0")

    @classmethod
    def load(cls, path: Path) -> Rule:
        return cls()
