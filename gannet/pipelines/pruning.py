"""Pruning of a sweep's bad trials: a step reports intermediate values, Optuna's pruner
says whether the trial goes on.

``report(step, value)`` inside a step records ``value`` at ``step`` on the step's run (the
metric ``intermediate_value``, one point per step) and, when the step runs in a trial of
a sweep with a pruner, hands it to Optuna; when the pruner (``median`` by default: worse
than the median of the finished trials at the same step) says stop, it raises
``TrialPruned``. Left to propagate, that ends the step, and its pipeline run, PRUNED.

Workers in other processes (and Dask workers on the same file system) reach the study
through an Optuna journal file under the home (``cache/sweeps``), named in the
``TrialRef`` each step of a trial receives.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gannet.core.errors import InvalidArgument, InvalidState

PRUNERS = ("median", "none")
INTERMEDIATE = "intermediate_value"

_studies: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


class TrialPruned(Exception):  # Optuna's name for the same signal
    """Raised by ``report`` when the sweep's pruner stops the trial."""


@dataclass(frozen=True)
class TrialRef:
    """Which trial of which study a step belongs to, and where the study is kept."""

    journal: str
    study: str
    trial_id: int
    number: int
    pruner: str = "median"


def pruner_named(optuna: Any, name: str) -> Any:
    """Optuna's pruner for ``--pruner NAME``."""
    if name == "median":
        return optuna.pruners.MedianPruner()
    if name == "none":
        return optuna.pruners.NopPruner()
    raise InvalidArgument(f"no pruner {name!r}", f"use one of: {', '.join(PRUNERS)}")


def journal_storage(optuna: Any, path: Path) -> Any:
    """An Optuna storage in the journal file ``path`` (shared by processes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    journal: Any = getattr(optuna.storages, "journal", None)
    backend = getattr(journal, "JournalFileBackend", None)
    if backend is None:  # Optuna 3.x
        return optuna.storages.JournalStorage(optuna.storages.JournalFileStorage(str(path)))
    return journal.JournalStorage(backend(str(path)))


def should_stop(ref: TrialRef, step: int, value: float) -> bool:
    """Report ``value`` at ``step`` to the trial ``ref``; whether its pruner stops it."""
    import optuna

    trial = optuna.trial.Trial(_study(optuna, ref), ref.trial_id)
    trial.report(value, step)
    return bool(trial.should_prune())


def _study(optuna: Any, ref: TrialRef) -> Any:
    key = (ref.journal, ref.study)
    with _lock:
        found = _studies.get(key)
        if found is None:
            if not Path(ref.journal).is_file():
                raise InvalidState(
                    f"trial {ref.number} reports to its sweep's journal {ref.journal}, which "
                    "this worker cannot see",
                    "run the sweep's workers on the file system of its home, or sweep with "
                    "--pruner none")
            optuna.logging.set_verbosity(optuna.logging.WARNING)
            storage = journal_storage(optuna, Path(ref.journal))
            found = _studies[key] = optuna.load_study(
                study_name=ref.study, storage=storage, pruner=pruner_named(optuna, ref.pruner))
    return found
