"""A model whose loading leaves a mark: for tests that a package's own code never runs
unless a verified signature or the caller vouches for it.

``Intruder`` is a ``python``-flavor model (``predict``, ``save``, classmethod ``load``).
Its ``load`` writes ``"code ran"`` to the file named at save time, so a test can tell,
even across processes (``gannet serve``), whether loading ran the package's code.
``register_as_stranger`` registers one whose signature the home cannot verify.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gannet.core.settings import Settings
    from gannet.registry.types import ModelVersion

__all__ = ["Intruder", "register_as_stranger"]

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


def register_as_stranger(settings: Settings, name: str, mark: str | Path) -> ModelVersion:
    """Register an ``Intruder`` (leaving ``mark`` when loaded) as a new version of ``name`` in
    the stores of ``settings``, signed by a stranger: a key made beside the home
    (``<home>/stranger``) that the home does not trust, so there its signature cannot be
    verified - as when someone with write access to the stores slips a package in."""
    import pandas as pd

    from gannet import GannetClient

    stranger = dataclasses.replace(
        settings, signing_key=str(settings.home / "stranger" / "signing.key"),
        trusted_keys=str(settings.home / "stranger" / "trusted"),
    )
    client = GannetClient(stranger)
    try:
        run = client.create_run("0")
        client.log_model(run.run_id, Intruder(mark), input_example=pd.DataFrame({"x": [1.0]}))
        client.set_terminated(run.run_id)
        version = client.register_model(run.run_id, name)
    finally:
        client.close()
    Path(mark).unlink(missing_ok=True)  # saving ran it once, to predict its input example
    return version
