"""``import_mlflow``: an MLflow tracking store's history, copied into Gannet.

Everything is written through the tracking and registry services, so it is validated,
stored and audited as if it had been logged here: experiments (by name: MLflow's
``Default`` is Gannet's ``Default``), runs with their status, times, user, params, tags,
every point of every metric (step and timestamp) and their artifacts, registered models,
their versions (each MLflow model folder imported by ``import_mlflow_model``, registered
and so signed, linked to the copied run) and aliases.

It is idempotent: what it copies carries the MLflow ids in tags (``mlflow.source_run_id``
on runs, ``mlflow.source_experiment_id`` on experiments it creates,
``mlflow.source_version`` on versions), and a rerun skips what is there, so it copies
only new experiments, runs and versions, and sets aliases that are new or have moved.
A run already copied is not revisited (new metric points logged to it in MLflow later are
not copied). A run is tagged ``gannet.import.state=copying`` until all of it is written
(then ``done``): a run left half-copied by an import that stopped is deleted and copied
again by the next one.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from gannet.core.errors import InvalidArgument, NotFound
from gannet.interop.mlflow_source import (
    MlflowSource,
    SourceExperiment,
    SourceModel,
    SourceRun,
    SourceVersion,
)
from gannet.interop.registration import register_mlflow_model
from gannet.interop.types import ImportReport, Progress
from gannet.models.mlflow_import import import_mlflow_model
from gannet.registry.service import RegistryService
from gannet.registry.types import ModelVersion
from gannet.tracking.service import TrackingService
from gannet.tracking.types import Run, ViewType

__all__ = ["SOURCE_EXPERIMENT", "SOURCE_RUN", "SOURCE_VERSION", "STATE", "MlflowImportService"]

SOURCE_RUN = "mlflow.source_run_id"
SOURCE_EXPERIMENT = "mlflow.source_experiment_id"
SOURCE_VERSION = "mlflow.source_version"
STATE = "gannet.import.state"
METRIC_BATCH = 10_000


class MlflowImportService:
    """Copies MLflow history in through ``tracking`` and ``registry``."""

    def __init__(self, tracking: TrackingService, registry: RegistryService) -> None:
        self.tracking = tracking
        self.registry = registry

    def import_mlflow(
        self,
        tracking_uri: str,
        *,
        experiment_names: Sequence[str] | None = None,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Copy what the MLflow store at ``tracking_uri`` has and Gannet lacks.

        ``experiment_names`` limits it to those experiments, and to the model versions
        whose run is in them. ``dry_run`` reads both sides and counts what would be copied,
        writing nothing. ``progress(done, total)`` follows the runs and versions copied.
        """
        source = MlflowSource(tracking_uri).open()
        report = ImportReport(tracking_uri, dry_run)
        experiments = source.experiments(experiment_names)
        runs = {e.experiment_id: source.runs(e.experiment_id) for e in experiments}
        known = self._imported_runs()
        models = source.registered_models()
        if experiment_names:
            selected = {r.run_id for found in runs.values() for r in found}
            models = [_only_runs(m, selected) for m in models]
            models = [m for m in models if m.versions]
        existing = {m.name: self._imported_versions(m.name) for m in models}
        pending = [r for found in runs.values() for r in found if _state(known, r) != "done"]
        new_versions = [v for m in models for v in m.versions if v.version not in existing[m.name]]
        ticker = _Ticker(len(pending) + len(new_versions), progress)
        run_ids = {r: run.run_id for r, run in known.items()}
        for experiment in experiments:
            experiment_id = self._experiment(experiment, report)
            for run in runs[experiment.experiment_id]:
                if _state(known, run) == "done":
                    report.runs_existing += 1
                    continue
                if not dry_run:
                    run_ids[run.run_id] = self._copy_run(source, run, experiment_id, known,
                                                         run_ids, report)
                report.runs_copied += 1
                ticker.step()
        for model in models:
            self._copy_model(source, model, existing[model.name], run_ids, report, ticker)
        return report

    def register_mlflow_model(
        self,
        name: str,
        *,
        run_id: str | None = None,
        model_id: str | None = None,
        path: str = "",
        source_uri: str | None = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """A Gannet model version of an MLflow model an MLflow client logged here (a logged
        model, or a run's artifact folder): see ``gannet.interop.registration``."""
        return register_mlflow_model(
            self.tracking, self.registry, name, run_id=run_id, model_id=model_id, path=path,
            source_uri=source_uri, description=description, tags=tags)

    # -- experiments and runs ------------------------------------------------------------

    def _imported_runs(self) -> dict[str, Run]:
        """Gannet's runs copied from MLflow, by MLflow run id."""
        ids = [e.experiment_id for e in self.tracking.search_experiments(ViewType.ACTIVE)]
        found: dict[str, Run] = {}
        token = None
        while ids:
            page = self.tracking.search_runs(ids, f"tags.{SOURCE_RUN} IS NOT NULL",
                                             max_results=5000, page_token=token)
            found.update({run.data.tags[SOURCE_RUN]: run for run in page.items})
            token = page.next_page_token
            if token is None:
                break
        return found

    def _experiment(self, experiment: SourceExperiment, report: ImportReport) -> str:
        """The Gannet experiment of the same name, created (tagged) if there is none."""
        here = self.tracking.get_experiment_by_name(experiment.name)
        if here is not None:
            return here.experiment_id
        report.experiments_created += 1
        if report.dry_run:
            return ""
        tags = {**experiment.tags, SOURCE_EXPERIMENT: experiment.experiment_id}
        return self.tracking.create_experiment(experiment.name, tags)

    def _copy_run(
        self, source: MlflowSource, run: SourceRun, experiment_id: str, known: dict[str, Run],
        run_ids: dict[str, str], report: ImportReport,
    ) -> str:
        """Copy one run; its state tag says ``done`` only once all of it is written."""
        left = known.get(run.run_id)
        if left is not None:  # half-copied by an import that stopped: start again
            self.tracking.delete_run(left.run_id)
            report.runs_recopied += 1
        parent = run_ids.get(run.tags.get("mlflow.parentRunId", ""))
        created = self.tracking.create_run(
            experiment_id,
            run_name=run.run_name or None,
            tags={**run.tags, SOURCE_RUN: run.run_id, STATE: "copying"},
            parent_run_id=parent,
            start_time=run.start_time or None,
            user_id=run.user_id or None,
            source_name=run.tags.get("mlflow.source.name", ""),
            source_type=run.tags.get("mlflow.source.type", "LOCAL"),
        )
        run_id = created.run_id
        points = source.metric_history(run.run_id, run.metric_keys)
        for start in range(0, len(points), METRIC_BATCH):
            self.tracking.log_batch(run_id, metrics=points[start:start + METRIC_BATCH])
        self.tracking.log_batch(run_id, params=run.params)
        with tempfile.TemporaryDirectory(prefix="gannet-mlflow-") as tmp:
            files = source.download_artifacts(run.run_id, Path(tmp))
            if files:
                self.tracking.log_artifacts(run_id, tmp)
        self.tracking.update_run(run_id, status=run.status, end_time=run.end_time)
        self.tracking.log_batch(run_id, tags={STATE: "done"})
        report.metric_points += len(points)
        report.params += len(run.params)
        report.tags += len(run.tags)
        report.artifact_files += files
        return run_id

    # -- registered models, versions, aliases ---------------------------------------------

    def _imported_versions(self, name: str) -> dict[int, int]:
        """MLflow version -> Gannet version of the model ``name`` (empty when it is new)."""
        try:
            versions = self.registry.search_model_versions(name)
        except NotFound:
            return {}
        return {int(v.tags[SOURCE_VERSION]): v.version for v in versions
                if v.tags.get(SOURCE_VERSION, "").isdigit()}

    def _copy_model(
        self, source: MlflowSource, model: SourceModel, existing: dict[int, int],
        run_ids: dict[str, str], report: ImportReport, ticker: _Ticker,
    ) -> None:
        """Copy the model's new versions, then its aliases."""
        if not existing and not self._model_exists(model.name):
            report.registered_models_created += 1
            if not report.dry_run:
                self.registry.create_registered_model(model.name, model.description,
                                                      model.tags)
        mapped = dict(existing)
        for version in model.versions:
            if version.version in existing:
                report.versions_existing += 1
                continue
            copied = self._copy_version(source, version, run_ids, report)
            if copied is not None:
                mapped[version.version] = copied
            ticker.step()
        self._copy_aliases(model, mapped, report)

    def _model_exists(self, name: str) -> bool:
        try:
            self.registry.get_registered_model(name)
        except NotFound:
            return False
        return True

    def _copy_version(
        self, source: MlflowSource, version: SourceVersion, run_ids: dict[str, str],
        report: ImportReport,
    ) -> int | None:
        """Register the version's model folder (imported as a package); None if skipped."""
        where = f"{version.name} version {version.version}"
        if version.status != "READY":
            report.skipped.append(f"{where}: MLflow says it is {version.status}, not READY")
            return None
        report.versions_copied += 1
        if report.dry_run:
            return 0
        tags = {**version.tags, SOURCE_VERSION: str(version.version)}
        if version.run_id:
            tags[SOURCE_RUN] = version.run_id
        with tempfile.TemporaryDirectory(prefix="gannet-mlflow-") as tmp:
            folder = source.download_version(version, Path(tmp) / "mlflow")
            try:
                import_mlflow_model(folder, Path(tmp) / "package",
                                    run_id=run_ids.get(version.run_id or ""))
            except (InvalidArgument, NotFound) as exc:
                report.versions_copied -= 1
                report.skipped.append(f"{where}: {exc.message}")
                return None
            created = self.registry.register_model(
                Path(tmp) / "package", version.name, description=version.description,
                tags=tags)
        return created.version

    def _copy_aliases(
        self, model: SourceModel, mapped: dict[int, int], report: ImportReport
    ) -> None:
        current = {} if report.dry_run and not self._model_exists(model.name) else (
            self.registry.get_registered_model(model.name).aliases)
        for alias, version in sorted(model.aliases.items()):
            target = mapped.get(version)
            if target is None:
                report.skipped.append(f"{model.name}@{alias}: its version {version} was not "
                                      "imported")
            elif current.get(alias) != target:
                report.aliases_set += 1
                if not report.dry_run:
                    self.registry.set_registered_model_alias(model.name, alias, target)


class _Ticker:
    """Counts what was copied for ``progress(done, total)``."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.done, self.progress = total, 0, progress
        if progress is not None:
            progress(0, total)

    def step(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)


def _state(known: dict[str, Run], run: SourceRun) -> str | None:
    found = known.get(run.run_id)
    return None if found is None else found.data.tags.get(STATE, "done")


def _only_runs(model: SourceModel, run_ids: set[str]) -> SourceModel:
    """``model`` with only the versions whose run is among ``run_ids``."""
    versions = [v for v in model.versions if v.run_id in run_ids]
    return SourceModel(model.name, model.description, model.tags, model.aliases, versions)
