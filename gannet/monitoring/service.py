"""``MonitorService``: monitors over deployments' inference logs, run incrementally.

``create_monitor`` keeps the reference as a Parquet blob (under a write lease, so garbage
collection never takes it) and the options in the ``monitors`` table. ``run_monitor``
reads only the log rows from the monitor's watermark on: a time window (hour, day; UTC)
gets one report, replaced while the window is still open; ``rows:N`` reports the last N
rows when new ones arrived. Each run also scores the windows within the label horizon
again with the labels that arrived since (feedback comes late), counts labels for
request ids the log never answered, and hands the reports to the alert rules.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from gannet.core.actor import EDITOR, READER, require_anywhere
from gannet.core.clock import now_ms
from gannet.core.digests import is_digest
from gannet.core.durations import parse_duration
from gannet.core.errors import AlreadyExists, GannetError, InvalidArgument, NotFound
from gannet.monitoring import log_repository, repository
from gannet.monitoring.evaluate import Reference, evaluate, flat_metrics, performance
from gannet.monitoring.reference import INPUT, load_reference, parquet_bytes
from gannet.monitoring.types import Monitor, MonitorOptions, MonitorReport, RunSummary
from gannet.monitoring.windows import Window, parse_window
from gannet.serving.log.schema import check_deployment_name
from gannet.store.gc.leases import BlobLeases

if TYPE_CHECKING:
    import pyarrow as pa

    from gannet.core.settings import Settings
    from gannet.monitoring.alerts.service import AlertService
    from gannet.serving.log.reader import InferenceLog
    from gannet.store.blobs import BlobStore
    from gannet.store.metadata import MetadataStore

__all__ = ["MonitorService"]


class MonitorService:
    def __init__(self, metadata: MetadataStore, blobs: BlobStore, log: InferenceLog,
                 settings: Settings, alerts: AlertService | None = None,
                 read_dataset: Callable[[str], pa.Table] | None = None) -> None:
        """``read_dataset``: a dataset version (``churn@3``) -> its table, for references
        named ``dataset:churn@3`` (the data capability's, from bootstrap)."""
        self.read_dataset = read_dataset
        self.metadata = metadata
        self.blobs = blobs
        self.log = log
        self.settings = settings
        self.alerts = alerts
        self._references: dict[str, Reference] = {}

    # -- definitions ---------------------------------------------------------------------

    def create_monitor(self, deployment: str, reference: Any, *, name: str | None = None,
                       window: str = "hour", label_horizon: str | float = "7d",
                       described_as: str | None = None, **options: Any) -> Monitor:
        """A monitor of ``deployment``'s log against ``reference`` (a DataFrame, a Parquet or
        CSV path, ``log:...``, ``dataset:NAME@V``, or ``blob:<digest>``: a Parquet table a
        remote client uploaded); ``options`` as ``MonitorOptions``' fields."""
        require_anywhere(EDITOR, "create monitors")
        check_deployment_name(deployment)
        name = check_deployment_name(name or deployment)
        parse_window(window)
        opts = MonitorOptions(window=window, label_horizon_s=parse_duration(label_horizon),
                              **{k: v for k, v in options.items() if v is not None})
        if isinstance(reference, str) and reference.startswith("blob:"):
            reference = self._uploaded(reference[len("blob:"):])
        table, source = load_reference(reference, log=self.log, deployment=deployment,
                                       read_dataset=self.read_dataset)
        source = described_as[:1000] if described_as else source
        Reference.of(table, opts)  # refuses features the reference lacks
        with BlobLeases(self.metadata).hold():
            digest = self.blobs.put_bytes(parquet_bytes(table)).digest
            monitor = Monitor(name, deployment, digest, source, opts, None, now_ms())
            with self.metadata.write() as conn:
                if repository.get_monitor(conn, name) is not None:
                    raise AlreadyExists(f"monitor {name!r} already exists",
                                        hint="choose another --name, or delete it first")
                repository.insert_monitor(conn, monitor)
        return monitor

    def _uploaded(self, digest: str) -> pa.Table:
        """The Parquet table stored as blob ``digest`` (verified as it is read)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not is_digest(digest) or not self.blobs.exists(digest):
            raise NotFound(f"no uploaded reference table {digest!r}",
                           hint="upload the table first (PUT /api/v1/blobs/<digest>)")
        try:
            return pq.read_table(pa.BufferReader(self.blobs.get_bytes(digest)))
        except (pa.ArrowInvalid, OSError) as exc:
            raise InvalidArgument(f"the uploaded reference {digest} is not a Parquet table: "
                                  f"{exc}", hint="upload the reference as Parquet") from None

    def get_monitor(self, name: str) -> Monitor:
        require_anywhere(READER, "read monitors")
        with self.metadata.read() as conn:
            found = repository.get_monitor(conn, name)
        if found is None:
            raise NotFound(f"no monitor named {name!r}",
                           hint="gannet monitor list shows the monitors")
        return found

    def list_monitors(self, deployment: str | None = None) -> list[Monitor]:
        require_anywhere(READER, "read monitors")
        with self.metadata.read() as conn:
            return repository.list_monitors(conn, deployment)

    def delete_monitor(self, name: str) -> None:
        require_anywhere(EDITOR, "delete monitors")
        self.get_monitor(name)
        with self.metadata.write() as conn:
            repository.delete_monitor(conn, name)

    def list_monitor_reports(self, name: str, limit: int | None = 24) -> list[MonitorReport]:
        """The monitor's reports, newest window first."""
        self.get_monitor(name)
        with self.metadata.read() as conn:
            return repository.list_reports(conn, name, limit)

    # -- runs ----------------------------------------------------------------------------

    def run_monitor(self, name: str, *, now: int | None = None) -> RunSummary:
        """Read the log from the watermark on, report the windows, score late labels."""
        require_anywhere(EDITOR, "run monitors")
        monitor = self.get_monitor(name)
        now = now_ms() if now is None else now
        try:
            conn = self.log.connect(monitor.deployment)
        except NotFound:
            return RunSummary(name, 0, [], monitor.watermark)
        try:
            return self._run(monitor, conn, now)
        finally:
            conn.close()

    def run_monitors(self, *, now: int | None = None) -> tuple[list[RunSummary], dict[str, str]]:
        """Run every monitor (what ``gannet scheduler`` does each time it looks): the
        summaries of those that read or reported something, and the errors of those that
        failed (one monitor's failure does not stop the others). Two schedulers running
        one monitor at once write the same reports: a window's report is keyed by it."""
        done, errors = [], {}
        for monitor in self.list_monitors():
            try:
                summary = self.run_monitor(monitor.name, now=now)
            except GannetError as exc:
                errors[monitor.name] = str(exc)
                continue
            if summary.rows_read or summary.reports or summary.alerts:
                done.append(summary)
        return done, errors

    def _run(self, monitor: Monitor, conn: Any, now: int) -> RunSummary:
        reference = self._reference(monitor)
        available = log_repository.columns(conn)
        wanted = [c for c in (*(INPUT + f for f in reference.features), "prediction")
                  if c in available]
        window = parse_window(monitor.options.window)
        fresh, watermark, read = self._windows(monitor, reference, window, conn, wanted,
                                               available, now)
        horizon = now - int(monitor.options.label_horizon_s * 1000)
        with self.metadata.read() as db:
            stored = {r.window_start: r for r in repository.reports_since(db, monitor.name,
                                                                          horizon)}
        reports = {**stored, **{r.window_start: r for r in fresh}}
        changed = self._score(monitor, reports, self._labelled(monitor, conn, wanted, available,
                                                               horizon), fresh, now)
        with self.metadata.write() as db:
            for report in changed:
                repository.put_report(db, report)
            repository.set_watermark(db, monitor.name, watermark, now)
        summary = RunSummary(monitor.name, read, sorted(changed, key=lambda r: r.window_start),
                             watermark)
        if self.alerts is not None:
            summary.alerts = self.alerts.evaluate_reports(monitor.name, changed, now=now)
        return summary

    def _windows(self, monitor: Monitor, reference: Reference, window: Window, conn: Any,
                 wanted: list[str], available: list[str], now: int
                 ) -> tuple[list[MonitorReport], int | None, int]:
        """(new reports, the next watermark, rows read) of the rows past the watermark."""
        if not window.timed:
            table = log_repository.last_rows(conn, wanted, available, window.size)
            if table.num_rows == 0 or (monitor.watermark is not None and
                                       _max_ts(table) < monitor.watermark):
                return [], monitor.watermark, table.num_rows
            start, end = _min_ts(table), _max_ts(table) + 1
            report = self._report(monitor, reference, table, start, end, False, now)
            return [report], end, table.num_rows
        span = log_repository.time_range(conn, available, monitor.watermark)
        if span is None:
            return [], monitor.watermark, 0
        reports, read = [], 0
        for start in range(window.start_of(span[0]), min(span[1], now) + 1, window.size):
            first, end = max(start, monitor.watermark or start), start + window.size
            part = log_repository.rows_between(conn, wanted, available, first, end)
            if not part.num_rows:
                continue
            read += part.num_rows  # one window at a time: memory stays one window's
            reports.append(self._report(monitor, reference, _sample(part, monitor, start),
                                        start, end, end > now, now, rows=part.num_rows))
        if not reports:
            return [], monitor.watermark, 0
        open_windows = [r.window_start for r in reports if r.partial]
        watermark = min(open_windows) if open_windows else reports[-1].window_end
        return reports, watermark, read

    def _report(self, monitor: Monitor, reference: Reference, table: pa.Table, start: int,
                end: int, partial: bool, now: int, rows: int | None = None) -> MonitorReport:
        body = evaluate(reference, table, monitor.options)
        rows = table.num_rows if rows is None else rows
        body.update({"rows": rows, "sampled": table.num_rows, "monitor": monitor.name,
                     "deployment": monitor.deployment,
                     "window": {"kind": monitor.options.window, "start": start, "end": end,
                                "partial": partial}})
        status = "insufficient" if rows < monitor.options.min_rows else (
            "drift" if body["drift"]["dataset_drift"] else body["quality"]["status"])
        return MonitorReport(monitor.name, start, end, rows, partial, status,
                             body["drift"]["share"], body, now)

    def _labelled(self, monitor: Monitor, conn: Any, wanted: list[str], available: list[str],
                  horizon: int) -> tuple[pa.Table | None, int]:
        """(the rows of the horizon whose labels arrived, labels for unknown request ids);
        (None, 0) when no label arrived in the horizon (the join is skipped)."""
        if not log_repository.labels_since(conn, horizon):
            return None, 0
        scored = [INPUT + f for f in monitor.options.slices if INPUT + f in available]
        labelled = log_repository.labelled_rows(
            conn, [*dict.fromkeys([*wanted, *scored, *_proba(available)])], available, horizon)
        return labelled, log_repository.unknown_labels(conn, horizon)

    def _score(self, monitor: Monitor, reports: dict[int, MonitorReport],
               found: tuple[pa.Table | None, int], fresh: list[MonitorReport], now: int
               ) -> list[MonitorReport]:
        """Performance of each report in the horizon with the labels known now; the ones
        that changed (and the fresh ones) to write."""
        import pyarrow.compute as pc

        labelled, unknown = found
        latest = max(reports) if reports else None
        changed = []
        for start, report in sorted(reports.items()):
            body = dict(report.body)
            body["performance"] = None if labelled is None else performance(
                labelled.filter(pc.and_(pc.greater_equal(labelled.column("ts"), start),
                                        pc.less(labelled.column("ts"), report.window_end))),
                report.rows, monitor.options)
            if start == latest:
                body["unknown_labels"] = unknown
            body["metrics"] = flat_metrics(body)
            if any(report is f for f in fresh) or json.dumps(body, sort_keys=True) != json.dumps(
                    report.body, sort_keys=True):
                report.body, report.updated_time = body, now
                changed.append(report)
        return changed

    def _reference(self, monitor: Monitor) -> Reference:
        import pyarrow as pa
        import pyarrow.parquet as pq

        key = monitor.reference_digest + json.dumps(monitor.options.to_dict(), sort_keys=True)
        found = self._references.get(key)
        if found is None:
            table = pq.read_table(pa.BufferReader(self.blobs.get_bytes(
                monitor.reference_digest)))
            found = self._references[key] = Reference.of(table, monitor.options)
        return found

    # -- garbage collection (BlobReferences) ---------------------------------------------

    def purge_deleted(self, before_ms: int, *, dry_run: bool) -> dict[str, int]:
        """Monitors are deleted at once: nothing waits to be purged."""
        return {}

    def referenced_blobs(self, deleted_since_ms: int) -> set[str]:
        with self.metadata.read() as conn:
            return repository.referenced_digests(conn)

    def recheck_blobs(self, digests: Collection[str], since_ms: int) -> set[str]:
        return set(digests) & self.referenced_blobs(since_ms)


def _sample(table: pa.Table, monitor: Monitor, seed: int) -> pa.Table:
    """A uniform sample of ``sample_rows`` rows of a bigger window (repeatable)."""
    size = monitor.options.sample_rows
    if not size or table.num_rows <= size:
        return table
    import numpy as np
    import pyarrow as pa

    keep = np.zeros(table.num_rows, dtype=bool)
    keep[np.random.default_rng(seed).choice(table.num_rows, size, replace=False)] = True
    return table.filter(pa.array(keep))


def _proba(available: list[str]) -> list[str]:
    return [c for c in available if c.startswith("proba.")]


def _min_ts(table: pa.Table) -> int:
    import pyarrow.compute as pc

    return int(pc.min(table.column("ts")).as_py())


def _max_ts(table: pa.Table) -> int:
    import pyarrow.compute as pc

    return int(pc.max(table.column("ts")).as_py())
