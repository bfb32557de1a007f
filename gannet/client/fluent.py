"""The fluent API: ``gannet.start_run()``, ``gannet.log_metric(...)`` and friends.

Module state is the current client, the current experiment and the stack of active
runs. A run started here ends however the program ends: FINISHED on a normal exit,
FAILED (with the error kept as tags) on an exception, KILLED on Ctrl-C — and its
buffered metrics are written first in every case.
"""

from __future__ import annotations

import atexit
import dataclasses
import os
import sys
import threading
import traceback
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any

from gannet import bootstrap
from gannet.bootstrap import Services
from gannet.client.client import GannetClient, RunPage
from gannet.core.errors import AlreadyExists, InvalidArgument, InvalidState, NotFound
from gannet.core.settings import Settings
from gannet.tracking import environment
from gannet.tracking.service import DEFAULT_EXPERIMENT_ID
from gannet.tracking.types import Experiment, FileInfo, Metric, Run, RunStatus, ViewType

_lock = threading.RLock()
_client: GannetClient | None = None
_experiment_id: str | None = None
_active: list[ActiveRun] = []
_hooks_installed = False
_uncaught: BaseException | None = None


class ActiveRun:
    """The run being logged to; a context manager that ends it with the right status."""

    def __init__(self, run: Run, capture: Future[environment.Environment] | None = None) -> None:
        self._run = run
        self._capture = capture  # the environment, when it was still being captured
        self.run_id: str = run.info.run_id  # a plain attribute: read on every log_metric

    @property
    def info(self):  # noqa: ANN201 - RunInfo
        if self._capture is not None:  # the git commit the environment gives the run
            capture, self._capture = self._capture, None
            git = None if capture.exception() else capture.result().git
            if git is not None:
                info = dataclasses.replace(self._run.info, git_commit=git.commit)
                self._run = dataclasses.replace(self._run, info=info)
        return self._run.info

    @property
    def data(self):  # noqa: ANN201 - RunData, fresh from the store
        return get_client().get_run(self.run_id).data

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        end_run(status_for(exc), error=exc, run_id=self.run_id)

    def __repr__(self) -> str:
        return f"<ActiveRun {self.run_id} {self._run.info.run_name!r}>"


# -- configuration -------------------------------------------------------------------------


def configure(settings: Settings | None = None, **overrides: Any) -> GannetClient:
    """Point the fluent API at other stores (ends nothing; flushes the old client)."""
    global _client, _experiment_id
    with _lock:
        if _client is not None:
            _client.close()
        _client = GannetClient(settings, **overrides)
        _experiment_id = None
        bootstrap.use_default_services(_client_services)
        return _client


def get_client() -> GannetClient:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                _client = GannetClient()
                bootstrap.use_default_services(_client_services)
    return _client


def _client_services() -> Services:
    """The fluent client's services: the process default (see ``gannet.bootstrap``)."""
    return get_client().services


def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment current (created when the name is new)."""
    global _experiment_id
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidArgument(
            "set_experiment needs exactly one of experiment_name or experiment_id",
            "e.g. gannet.set_experiment('churn')",
        )
    c = get_client()
    if experiment_id is not None:
        experiment = c.get_experiment(experiment_id)
    else:
        assert experiment_name is not None
        found = c.get_experiment_by_name(experiment_name)
        experiment = found or _create_or_read(c, experiment_name)
    if experiment.lifecycle_stage != "active":
        raise InvalidState(
            f"experiment {experiment.name!r} is deleted",
            f"restore it with `gannet experiments restore {experiment.experiment_id}`",
        )
    _experiment_id = experiment.experiment_id
    return experiment


def _create_or_read(c: GannetClient, name: str) -> Experiment:
    """The new experiment ``name``, or the one another process created at the same moment
    (creating is atomic: exactly one creator inserts it, the others read what won)."""
    try:
        return c.get_experiment(c.create_experiment(name))
    except AlreadyExists:
        found = c.get_experiment_by_name(name)
        if found is None:  # renamed since: nothing to agree on
            raise
        return found


# -- runs ----------------------------------------------------------------------------------


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
    parent_run_id: str | None = None,
    log_environment: bool | None = None,
) -> ActiveRun:
    """Start a run (or resume ``run_id``) and make it active; use it as a context manager."""
    c = get_client()
    with _lock:
        if _active and not nested and parent_run_id is None:
            raise InvalidState(
                f"run {_active[-1].run_id} is already active",
                "end it with gannet.end_run(), or pass nested=True to start a child run",
            )
        if run_id is not None:
            run = c.update_run(run_id, status=RunStatus.RUNNING)
        else:
            capture = c.settings.capture_environment if log_environment is None else log_environment
            env = environment.capture_soon(environment.source_of_main()[1]) if capture else None
            run = _new_run(
                c, experiment_id, run_name, tags, description, parent_run_id, nested, env
            )
        active = ActiveRun(run, env if run.info.git_commit is None else None)
        _active.append(active)
        _install_exit_hooks()
    return active


def _new_run(
    c: GannetClient,
    experiment_id: str | None,
    run_name: str | None,
    tags: Mapping[str, Any] | None,
    description: str | None,
    parent_run_id: str | None,
    nested: bool,
    env: Future[environment.Environment] | None,
) -> Run:
    experiment_id = experiment_id or _experiment_id or _experiment_from_settings(c)
    parent = parent_run_id or (_active[-1].run_id if nested and _active else None)
    all_tags = dict(tags or {})
    if description:
        all_tags["gannet.note"] = description
    source_name, _ = environment.source_of_main()
    return c.create_run(
        experiment_id,
        run_name=run_name,
        tags=all_tags,
        parent_run_id=parent,
        source_name=source_name,
        source_type="NOTEBOOK" if source_name == "<interactive>" else "LOCAL",
        environment=env,
    )


def _experiment_from_settings(c: GannetClient) -> str:
    """The ``experiment_name`` / ``experiment_id`` settings (e.g. GANNET_EXPERIMENT_NAME),
    else the Default experiment."""
    if name := c.settings.experiment_name:
        return set_experiment(name).experiment_id
    if eid := c.settings.experiment_id:
        return c.get_experiment(eid).experiment_id
    return DEFAULT_EXPERIMENT_ID


def end_run(
    status: RunStatus | str = RunStatus.FINISHED,
    *,
    error: BaseException | None = None,
    run_id: str | None = None,
) -> None:
    """End the active run (or ``run_id``): flush its metrics, set status and end time."""
    with _lock:
        if not _active:
            return
        target = (
            _active[-1]
            if run_id is None
            else next((r for r in _active if r.run_id == run_id), None)
        )
        if target is None:
            return
        _active.remove(target)
    c = get_client()
    try:
        c.flush(wait_for_environment=False)  # exit and every read still wait for it
    except BaseException as exc:  # e.g. values the store refused: the run failed, says why
        if isinstance(exc, Exception) and error is None and str(status).upper() == "FINISHED":
            error, status = exc, RunStatus.FAILED
        _terminate(c, target.run_id, status, error)
        raise
    _terminate(c, target.run_id, status, error)


def _terminate(
    c: GannetClient, run_id: str, status: RunStatus | str, error: BaseException | None
) -> None:
    """Set the run's end status, keeping ``error`` (if any) as its tags."""
    if error is not None:
        c.log_batch(run_id, tags=_error_tags(error))
    c.set_terminated(run_id, status)


def active_run() -> ActiveRun | None:
    return _active[-1] if _active else None


def _current_run_id() -> str:
    return _active[-1].run_id if _active else start_run().run_id


def get_run(run_id: str) -> Run:
    return get_client().get_run(run_id)


# -- logging -------------------------------------------------------------------------------


def log_metric(
    key: str, value: float, step: int | None = None, timestamp: int | None = None
) -> None:
    run_id = _active[-1].run_id if _active else start_run().run_id  # _current_run_id, inlined
    (_client or get_client()).log_metric(run_id, key, value, timestamp, step)


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    get_client().log_metrics(_current_run_id(), metrics, step)


def log_param(key: str, value: Any) -> Any:
    return get_client().log_param(_current_run_id(), key, value)


def log_params(params: Mapping[str, Any]) -> None:
    get_client().log_params(_current_run_id(), params)


def set_tag(key: str, value: Any) -> None:
    get_client().set_tag(_current_run_id(), key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    get_client().set_tags(_current_run_id(), tags)


def validate_data(
    table_or_path: Any, suite: Any, *, dataset: str | None = None, run_id: str | None = None
) -> Any:
    """Run ``suite`` over a table and store the report; the run (``run_id``, else the
    active run if there is one) gets the tag ``gannet.validation`` = passed|failed."""
    if run_id is None and _active:
        run_id = _active[-1].run_id
    return get_client().validate_data(table_or_path, suite, dataset=dataset, run_id=run_id)


def log_artifact(local_path: str | os.PathLike, artifact_path: str | None = None) -> None:
    get_client().log_artifact(_current_run_id(), local_path, artifact_path)


def log_artifacts(local_dir: str | os.PathLike, artifact_path: str | None = None) -> None:
    get_client().log_artifacts(_current_run_id(), local_dir, artifact_path)


def log_text(text: str, artifact_file: str) -> None:
    get_client().log_text(_current_run_id(), text, artifact_file)


def log_dict(dictionary: Mapping[str, Any], artifact_file: str) -> None:
    get_client().log_dict(_current_run_id(), dictionary, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> None:
    get_client().log_figure(_current_run_id(), figure, artifact_file)


def log_model(
    model: Any,
    name: str = "model",
    signature: Any = None,
    input_example: Any = None,
    requirements: Sequence[str] | None = None,
) -> Any:
    """Save ``model`` as a Gannet model package in the active run (flavor detected)."""
    return get_client().log_model(
        _current_run_id(),
        model,
        name,
        signature=signature,
        input_example=input_example,
        requirements=requirements,
    )


def log_input(ref: str, context: str = "", *, run_id: str | None = None) -> Any:
    """Record that the active run (or ``run_id``) used the dataset version ``ref``
    (``churn@3``, ``churn@latest``): ``gannet lineage churn@3`` then names the run."""
    return get_client().services.data.log_input(run_id or _current_run_id(), ref, context)


def register_model(source: str | os.PathLike, name: str, description: str = "") -> Any:
    """A new, signed version of ``name`` from a run's model or a package folder."""
    return get_client().register_model(source, name, description)


def set_registered_model_alias(name: str, alias: str, version: int | str) -> Any:
    """Point ``name@alias`` at ``version`` now (no gates: ``promote`` is the gated way)."""
    return get_client().set_registered_model_alias(name, alias, version)


def delete_registered_model_alias(name: str, alias: str) -> None:
    get_client().delete_registered_model_alias(name, alias)


def promote(name: str, version: int | str, alias: str, reason: str = "") -> Any:
    """Move ``name@alias`` to ``version`` if the model's promotion gates all pass."""
    return get_client().promote(name, version, alias, reason)


def load_model(
    ref: str | os.PathLike[str], *, allow_unsigned: bool | None = None, trust: bool = False
) -> Any:
    """A registered model by reference (``churn@champion``), verified before it loads, or a
    package folder (``gannet.models.load_model`` does the same with the default settings).
    ``trust=True`` runs code from the package (a Python class, a pickle) that no verified
    signature vouches for."""
    return get_client().load_model(ref, allow_unsigned=allow_unsigned, trust=trust)


def run_pipeline(pipeline: Any, *, executor: Any = "processes", address: str | None = None,
                 no_cache: bool = False, **params: Any) -> Any:
    """Run a ``@gannet.pipeline`` with ``params``: a ``PipelineRun`` (``run_id``, ``status``,
    ``steps``; ``to_dict()`` is what ``gannet pipeline run --json`` prints)."""
    return get_client().run_pipeline(
        pipeline, params, executor=executor, address=address, no_cache=no_cache
    )


def load_output(run_id: str, step: str, name: str | None = None) -> Any:
    """The value a step of a pipeline run returned (``name``: which, when it has several)."""
    return get_client().load_output(run_id, step, name)


def flush() -> None:
    get_client().flush()


# -- reading -------------------------------------------------------------------------------


def search_runs(
    filter_string: str = "",
    order_by: Sequence[str] | None = None,
    max_results: int = 1000,
    page_token: str | None = None,
    experiment_ids: Sequence[str] | None = None,
    experiment_names: Sequence[str] | None = None,
    run_view_type: ViewType | str = ViewType.ACTIVE,
) -> RunPage:
    """Runs of the given experiments (default: the current one) matching ``filter_string``."""
    c = get_client()
    ids = list(experiment_ids or [])
    for name in experiment_names or []:
        found = c.get_experiment_by_name(name)
        if found is None:
            raise NotFound(f"no experiment named {name!r}", "list them: gannet experiments list")
        ids.append(found.experiment_id)
    if not ids:
        ids = [_experiment_id or DEFAULT_EXPERIMENT_ID]
    return c.search_runs(ids, filter_string, run_view_type, max_results, order_by, page_token)


def get_metric_history(run_id: str, key: str) -> list[Metric]:
    return get_client().get_metric_history(run_id, key)


def list_artifacts(run_id: str, path: str | None = None) -> list[FileInfo]:
    return get_client().list_artifacts(run_id, path)


def download_artifacts(
    run_id: str, artifact_path: str = "", dst_path: str | os.PathLike | None = None
) -> Path:
    return get_client().download_artifacts(run_id, artifact_path, dst_path)


def autolog(disable: bool = False) -> None:
    """Log training without writing a line: scikit-learn, XGBoost, LightGBM and PyTorch
    Lightning fits log params, training metrics, the model (with signature and input
    example) and plots. ``disable=True`` puts every original method back."""
    from gannet.client.autolog_sink import FluentSink
    from gannet.tracking import autolog as autologging

    if disable:
        autologging.disable()
    else:
        autologging.enable(FluentSink())


# -- ending however the program ends -------------------------------------------------------


def status_for(error: BaseException | None) -> RunStatus:
    if error is None:
        return RunStatus.FINISHED
    if isinstance(error, KeyboardInterrupt):
        return RunStatus.KILLED
    return RunStatus.FAILED


def _error_tags(error: BaseException) -> dict[str, str]:
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return {
        "gannet.error": f"{type(error).__name__}: {error}"[:8000],
        "gannet.error.traceback": text[-8000:],
    }


def _install_exit_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    previous = sys.excepthook

    def remember_uncaught(
        kind: type[BaseException], value: BaseException, tb: TracebackType | None
    ) -> None:
        global _uncaught
        _uncaught = value
        previous(kind, value, tb)

    sys.excepthook = remember_uncaught
    atexit.register(_end_all_at_exit)
    _hooks_installed = True


def _end_all_at_exit() -> None:
    """At interpreter exit: end open runs with the status the exit deserves, then flush."""
    while _active:
        try:
            end_run(status_for(_uncaught), error=_uncaught)
        except Exception as exc:  # keep ending the others (end_run took it off); say what failed
            print(f"gannet: could not end run cleanly: {exc}", file=sys.stderr)
    if _client is not None:
        try:
            _client.close()
        except Exception as exc:
            print(f"gannet: could not write buffered metrics at exit: {exc}", file=sys.stderr)
