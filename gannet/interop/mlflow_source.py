"""An MLflow tracking store, read with the mlflow client and handed out as plain values.

The store is named by its tracking URI, as MLflow names it: ``sqlite:///path/mlflow.db``,
``file:/path/mlruns`` (or a bare folder), ``http(s)://server``. A local store that does
not exist is refused rather than created (the mlflow client would create an empty one).
The model registry is read from the same URI. Only active experiments and runs are read.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gannet.core.errors import GannetError, InvalidArgument, NotFound, Unavailable
from gannet.tracking.types import Metric

__all__ = [
    "MlflowSource", "SourceExperiment", "SourceModel", "SourceRun", "SourceVersion",
]

PAGE = 1000


@dataclass(frozen=True)
class SourceExperiment:
    experiment_id: str
    name: str
    tags: dict[str, str]


@dataclass(frozen=True)
class SourceRun:
    run_id: str
    experiment_id: str
    run_name: str
    status: str
    start_time: int
    end_time: int | None
    user_id: str
    params: dict[str, str]
    tags: dict[str, str]
    metric_keys: tuple[str, ...]


@dataclass(frozen=True)
class SourceVersion:
    name: str
    version: int
    run_id: str | None
    description: str
    status: str
    tags: dict[str, str]


@dataclass(frozen=True)
class SourceModel:
    name: str
    description: str
    tags: dict[str, str]
    aliases: dict[str, int]
    versions: list[SourceVersion] = field(default_factory=list)


class MlflowSource:
    """One MLflow store; every call goes through ``_calling``, which turns the mlflow
    client's errors into Gannet's, naming the store."""

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri
        self._client: Any = None

    def open(self) -> MlflowSource:
        _check_local_store(self.tracking_uri)
        try:
            with _quiet():
                from mlflow import MlflowClient
        except ImportError as exc:
            raise InvalidArgument(
                "importing from MLflow reads its store with the mlflow client, which is not "
                "installed",
                hint='pip install "gannet-mlops[mlflow]" (or pip install mlflow)',
            ) from exc
        with self._calling("open"):
            self._client = MlflowClient(self.tracking_uri, registry_uri=self.tracking_uri)
        return self

    def experiments(self, names: Sequence[str] | None = None) -> list[SourceExperiment]:
        """The active experiments, or those named (NotFound names any that is not there)."""
        with self._calling("list experiments"):
            found = list(_pages(lambda token: self._client.search_experiments(
                max_results=PAGE, page_token=token)))
        if names:
            by_name = {e.name: e for e in found}
            missing = [n for n in names if n not in by_name]
            if missing:
                raise NotFound(
                    f"the MLflow store {self.tracking_uri} has no active experiment named "
                    f"{', '.join(map(repr, missing))}",
                    hint=f"its experiments: {', '.join(sorted(by_name)) or 'none'}",
                )
            found = [by_name[n] for n in dict.fromkeys(names)]
        return [SourceExperiment(str(e.experiment_id), e.name, dict(e.tags)) for e in found]

    def runs(self, experiment_id: str) -> list[SourceRun]:
        """The experiment's active runs, oldest first (so a parent comes before its children)."""
        with self._calling(f"list the runs of experiment {experiment_id}"):
            found = list(_pages(lambda token: self._client.search_runs(
                [experiment_id], max_results=PAGE, page_token=token,
                order_by=["attributes.start_time ASC"])))
        return [
            SourceRun(
                run_id=r.info.run_id, experiment_id=str(r.info.experiment_id),
                run_name=r.info.run_name or "", status=str(r.info.status),
                start_time=int(r.info.start_time or 0),
                end_time=None if r.info.end_time is None else int(r.info.end_time),
                user_id=r.info.user_id or "", params=dict(r.data.params),
                tags=dict(r.data.tags), metric_keys=tuple(sorted(r.data.metrics)),
            )
            for r in found
        ]

    def metric_history(self, run_id: str, keys: Sequence[str]) -> list[Metric]:
        """Every point of every metric of the run, with its step and timestamp."""
        points: list[Metric] = []
        with self._calling(f"read the metrics of run {run_id}"):
            for key in keys:
                points += [Metric(m.key, float(m.value), int(m.timestamp), int(m.step or 0))
                           for m in self._client.get_metric_history(run_id, key)]
        return points

    def download_artifacts(self, run_id: str, dest: Path) -> int:
        """The run's artifacts into ``dest``; how many files there are."""
        with self._calling(f"list the artifacts of run {run_id}"):
            if not self._client.list_artifacts(run_id):
                return 0
        with self._calling(f"download the artifacts of run {run_id}"):
            self._client.download_artifacts(run_id, "", str(dest))
        return sum(1 for p in dest.rglob("*") if p.is_file())

    def registered_models(self) -> list[SourceModel]:
        """Registered models by name, each with its versions by number."""
        with self._calling("list registered models"):
            models = list(_pages(lambda token: self._client.search_registered_models(
                max_results=PAGE, page_token=token)))
        found = []
        for m in sorted(models, key=lambda m: m.name):
            with self._calling(f"list the versions of {m.name!r}"):
                versions = self._client.search_model_versions(f"name = '{_quoted(m.name)}'")
            found.append(SourceModel(
                m.name, m.description or "", dict(m.tags),
                {str(k): int(v) for k, v in (m.aliases or {}).items()},
                sorted((SourceVersion(v.name, int(v.version), v.run_id or None,
                                      v.description or "", str(v.status), dict(v.tags))
                        for v in versions), key=lambda v: v.version),
            ))
        return found

    def download_version(self, version: SourceVersion, dest: Path) -> Path:
        """The MLflow model folder of ``version``, downloaded under ``dest``."""
        with self._calling(f"download {version.name!r} version {version.version}"):
            import mlflow.artifacts

            uri = self._client.get_model_version_download_uri(version.name, str(version.version))
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=uri, dst_path=str(dest), tracking_uri=self.tracking_uri)
        return Path(local)

    @contextlib.contextmanager
    def _calling(self, what: str) -> Iterator[None]:
        try:
            with _quiet():
                yield
        except GannetError:
            raise
        except Exception as exc:
            raise Unavailable(
                f"could not {what} in the MLflow store {self.tracking_uri}: "
                f"{type(exc).__name__}: {_first_line(exc)}",
                hint="check the tracking URI (sqlite:///path/mlflow.db, file:/path/mlruns, "
                "http://server:5000) and that this mlflow can read that store",
            ) from exc


def _check_local_store(uri: str) -> None:
    """A local store must exist: the mlflow client would quietly create an empty one."""
    if uri.startswith("sqlite:///"):
        path = Path(uri.removeprefix("sqlite:///").split("?")[0])  # 4 slashes: absolute
    elif uri.startswith("file:"):
        path = Path(uri.removeprefix("file://").removeprefix("file:"))
    elif "://" in uri:
        return
    else:
        path = Path(uri)
    if not path.exists():
        raise NotFound(
            f"there is no MLflow store at {uri} ({path} does not exist)",
            hint="pass the tracking URI the MLflow runs were logged to, e.g. "
            "sqlite:///mlflow.db or file:./mlruns",
        )


def _pages(fetch: Any) -> Iterator[Any]:
    token = None
    while True:
        page = fetch(token)
        yield from page
        token = getattr(page, "token", None)
        if not token:
            return


def _quoted(name: str) -> str:
    return name.replace("'", "\\'")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no message"


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """mlflow's deprecation and advice warnings are about its own use, not ours."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
