"""Schedules: a pipeline, parameters and a cron expression (UTC), fired once per window.

Any number of schedulers may run (``gannet scheduler`` on several machines, the team
server): each tick, a scheduler finds each schedule's latest window that has passed and
inserts the firing row of (schedule, window); the primary key lets exactly one insert
succeed, and only that scheduler runs the pipeline. A scheduler that was down for several
windows fires the latest one only: a missed window runs once, not N times.

A schedule may instead name a dataset: ``on_dataset_version(name, version)`` (the hook the
data capability calls when it stores a version) fires it with the version as its window,
so each version runs it once however many processes report it, with the parameter
``dataset`` set to ``name@version`` when the pipeline has one.

The target ``features.materialize`` is not a pipeline: each firing runs an incremental
materialization of the feature store (its ``views`` parameter: comma-separated feature
views, default all), through ``materialize_features`` (given by the composition root; the
feature store sits below this capability). Its firings have no run; their outcome is
FINISHED or FAILED.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gannet.core.clock import now_ms
from gannet.core.errors import Conflict, InvalidArgument, NotFound, Unavailable
from gannet.core.ids import new_id
from gannet.pipelines import repository
from gannet.pipelines.types import Firing, Schedule

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from gannet.pipelines.types import PipelineRun
    from gannet.store.metadata import MetadataStore


logger = logging.getLogger("gannet.pipelines")

MATERIALIZE = "features.materialize"  # the schedule target that materializes features
MATERIALIZE_PARAMS = frozenset({"views"})


def check_cron(cron: str) -> str:
    """``cron`` if it is a valid 5-field cron expression, else a clear error."""
    croniter = _croniter()
    if len(cron.split()) != 5 or not croniter.croniter.is_valid(cron):
        raise InvalidArgument(f"{cron!r} is not a cron expression",
                              'give five fields: minute hour day month weekday, e.g. "0 3 * * *"')
    return cron


def latest_window(cron: str, now: int) -> int:
    """The start (ms since the epoch, UTC) of the last window of ``cron`` at or before
    ``now``."""
    croniter = _croniter()
    moment = datetime.fromtimestamp(now / 1000, tz=UTC)
    if croniter.croniter.match(cron, moment.replace(second=0, microsecond=0)):
        moment = moment.replace(second=0, microsecond=0)
        return int(moment.timestamp() * 1000)
    previous = croniter.croniter(cron, moment).get_prev(datetime)
    return int(previous.timestamp() * 1000)


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


class Schedules:
    """The schedule use cases of ``PipelineService`` (mixed in, which provides these)."""

    metadata: MetadataStore
    run_pipeline: Callable[..., PipelineRun]
    # dataset name -> (its latest version, when it was made), or None: the composition
    # root gives the data capability's answer, so the scheduler fires dataset schedules
    latest_dataset_version: Callable[[str], tuple[int, int] | None] | None = None
    # feature views (None: all) -> materialized incrementally; given by the composition root
    materialize_features: Callable[[Sequence[str] | None], object] | None = None

    def create_schedule(self, target: str, cron: str | None = None,
                        params: dict[str, str] | None = None,
                        executor: str = "processes", *, dataset: str | None = None) -> Schedule:
        """Schedule the pipeline at ``target`` (FILE[:NAME]), or ``features.materialize``,
        on ``cron`` or on each new version of ``dataset``; its parameters are checked now."""
        if (cron is None) == (dataset is None):
            raise InvalidArgument("a schedule needs a cron expression or a dataset, not both",
                                  'e.g. --cron "0 3 * * *", or --on-dataset churn')
        _check_target(target, params or {})
        schedule = Schedule(new_id(), target, None if cron is None else check_cron(cron),
                            dict(params or {}), executor, now_ms(), dataset)
        with self.metadata.write() as conn:
            repository.insert_schedule(conn, schedule)
        return schedule

    def list_schedules(self) -> list[Schedule]:
        with self.metadata.read() as conn:
            return repository.list_schedules(conn)

    def delete_schedule(self, schedule_id: str) -> None:
        with self.metadata.write() as conn:
            if not repository.delete_schedule(conn, schedule_id):
                raise NotFound(f"no schedule {schedule_id!r}",
                               "list them with `gannet schedule list`")

    def list_schedule_runs(self,
                           schedule_id: str | None = None) -> list[Firing]:
        """Every fired window (newest first) with its run and the run's outcome."""
        with self.metadata.read() as conn:
            found = repository.firings(conn, schedule_id)
            outcomes = {f.schedule_id: repository.runs_of_schedule(conn, f.schedule_id)
                        for f in found}
        for f in found:
            f.status = outcomes[f.schedule_id].get(f.run_id or "", f.status)
        return found

    def run_due_schedules(self, now: int | None = None) -> list[Firing]:
        """Fire every schedule whose latest window has not fired yet; the firings this
        scheduler won (the pipelines run here, one after another)."""
        now = now_ms() if now is None else now
        won = []
        for schedule in self.list_schedules():
            if schedule.cron is None:
                won += self._fire_new_version(schedule)
                continue
            window = latest_window(schedule.cron, now)
            if window < schedule.created_time - 60_000:
                continue  # no window since it was made
            with self.metadata.read() as conn:
                last = repository.last_window(conn, schedule.schedule_id)
            if last is not None and last >= window:
                continue
            firing = self.fire(schedule, window)
            if firing is not None:
                won.append(firing)
        return won

    def _fire_new_version(self, schedule: Schedule) -> list[Firing]:
        """A dataset schedule's firing for the dataset's latest version, when that is new
        (made after the schedule, and not fired yet); versions made between two ticks run
        once, for the latest."""
        if schedule.dataset is None or self.latest_dataset_version is None:
            return []
        latest = self.latest_dataset_version(schedule.dataset)
        if latest is None or latest[1] < schedule.created_time:
            return []
        with self.metadata.read() as conn:
            last = repository.last_window(conn, schedule.schedule_id)
        if last is not None and last >= latest[0]:
            return []
        return self.on_dataset_version(schedule.dataset, latest[0])

    def on_dataset_version(self, dataset: str, version: int) -> list[Firing]:
        """Fire the schedules of ``dataset`` for its new ``version`` (once each, whoever
        calls): the data capability's hook."""
        return [f for s in self.list_schedules() if s.dataset == dataset
                if (f := self.fire(s, int(version), {"dataset": f"{dataset}@{version}"}))]

    def fire(self, schedule: Schedule, window: int,
             extra: dict[str, str] | None = None) -> Firing | None:
        """Run ``schedule`` for ``window`` if this caller wins the window (None if another
        one did). ``extra`` parameters are given when the pipeline has them."""
        firing = Firing(schedule.schedule_id, window, now_ms(), holder_name(), None, "RUNNING")
        try:
            with self.metadata.write() as conn:
                if not repository.claim_window(conn, firing):
                    return None
        except Conflict:  # another scheduler inserted the same window at the same moment
            return None
        firing.run_id, firing.status = self._run_for(schedule, extra or {})
        with self.metadata.write() as conn:
            repository.finish_firing(conn, schedule.schedule_id, window, firing.run_id,
                                     firing.status)
        return firing

    def _run_for(self, schedule: Schedule, extra: dict[str, str]) -> tuple[str | None, str]:
        from gannet.pipelines.loading import load_pipeline

        if schedule.target == MATERIALIZE:
            return None, self._materialize(schedule)
        try:
            pipeline = load_pipeline(schedule.target)
            takes = {p.name for p in pipeline.parameters}
            params = {**schedule.params, **{k: v for k, v in extra.items() if k in takes}}
            run = self.run_pipeline(pipeline, params,
                                    target=schedule.target, executor=schedule.executor,
                                    schedule_id=schedule.schedule_id)
        except Exception:  # the pipeline could not even start (its file is gone, say)
            return None, "FAILED"
        return run.run_id, run.status


    def _materialize(self, schedule: Schedule) -> str:
        """One incremental materialization of the schedule's views: its outcome."""
        if self.materialize_features is None:
            logger.error("schedule %s materializes features, but no feature store is wired",
                         schedule.schedule_id)
            return "FAILED"
        views = [v.strip() for v in schedule.params.get("views", "").split(",") if v.strip()]
        try:
            self.materialize_features(views or None)
        except Exception as exc:  # the source or the online store failed: the next window
            logger.error("schedule %s could not materialize features: %s",
                         schedule.schedule_id, exc)
            return "FAILED"
        return "FINISHED"


def _check_target(target: str, params: dict[str, str]) -> None:
    """A pipeline that builds with ``params``, or ``features.materialize`` with ``views``."""
    if target == MATERIALIZE:
        unknown = sorted(set(params) - MATERIALIZE_PARAMS)
        if unknown:
            raise InvalidArgument(f"{MATERIALIZE} takes no parameter {', '.join(unknown)}",
                                  "give views=VIEW[,VIEW...] or nothing (every view)")
        return
    from gannet.pipelines.loading import load_pipeline

    load_pipeline(target).build(**params)  # a wrong parameter fails here


def _croniter() -> Any:
    try:
        import croniter  # type: ignore[import-untyped]
    except ImportError:
        raise Unavailable("schedules need the croniter package",
                          "pip install 'gannet-mlops[pipelines]'") from None
    return croniter
