"""``TrainingService``: policies applied from YAML, checked against what they name, and
the controller's ``tick``, which advances every active policy's loop once.

Exactly one controller acts at a time: ``tick`` first takes (or renews) the lease
``training-controller`` in the metadata store, and renews it from a background thread
while it works (a retrain may take longer than the lease). A controller that dies holds
the lease until it expires; the next one then resumes each loop from its persisted state.
Each state write is conditional on the revision it read, so even a controller that lost
its lease without knowing cannot overwrite a newer state. The loop itself is
``controller.Loop``'s.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.core.actor import EDITOR, OWNER, READER, restricted
from gannet.core.clock import now_ms
from gannet.core.errors import Conflict, GannetError, InvalidState, NotFound
from gannet.core.ids import new_id
from gannet.training import access, repository, triggers
from gannet.training.policy import parse_policy, substitute
from gannet.training.types import Decision, Phase, Policy, PolicyStatus, TickReport

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from gannet.auth.service import AuthService
    from gannet.core.settings import Settings
    from gannet.data.service import DataService
    from gannet.lineage.service import LineageService
    from gannet.monitoring.alerts.service import AlertService
    from gannet.monitoring.service import MonitorService
    from gannet.pipelines.service import PipelineService
    from gannet.registry.service import RegistryService
    from gannet.serving.deployments.service import DeploymentService
    from gannet.serving.log.reader import InferenceLog
    from gannet.store.metadata import MetadataStore

__all__ = ["LEASE", "Parts", "TrainingService"]

LEASE = "training-controller"


@dataclass(frozen=True)
class Parts:
    """The services the loop calls (it never reads their tables)."""

    auth: AuthService
    registry: RegistryService
    deployments: DeploymentService
    pipelines: PipelineService
    data: DataService
    lineage: LineageService
    monitoring: MonitorService
    alerts: AlertService
    inference_log: InferenceLog


class TrainingService:
    def __init__(self, metadata: MetadataStore, settings: Settings, parts: Parts, *,
                 lease_s: float = 30.0) -> None:
        self.metadata = metadata
        self.settings = settings
        self.parts = parts
        self.lease_s = lease_s
        self._holder: str | None = None

    @property
    def holder(self) -> str:
        """This service's name in the lease (one per service: its ticks renew its lease)."""
        if self._holder is None:
            self._holder = default_holder()
        return self._holder

    # -- policies ------------------------------------------------------------------------

    def apply_policy(self, text: str, *, folder: str | Path | None = None,
                     where: str = "the policy") -> PolicyStatus:
        """Store a policy (replacing the YAML of one of the same name; its loop's state
        stays), after checking everything it names exists."""
        base = Path(folder or Path.cwd()).resolve()
        policy = parse_policy(text, where, base)
        self._may(policy.model, EDITOR, f"apply the policy {policy.name!r}", policy.name)
        self.check_policy(policy)
        now = now_ms()
        seen = triggers.starting_watermarks(policy.triggers, self.sources(), now)
        with self.metadata.write() as conn:
            old = repository.get_policy(conn, policy.name)
            repository.put_policy(conn, policy.name, policy.model, text, str(base), now,
                                  {"seen": seen})
            if old is not None:  # new triggers start at what exists now, old ones keep theirs
                marks = {**seen, **old.data.get("seen", {})}
                data = {**old.data, "seen": {k: marks[k] for k in seen}}
                repository.save_state(conn, policy.name, old.revision + 1, old.phase,
                                      old.stage, data, now)
            self.parts.auth.record(conn, "training.apply", f"policy:{policy.name}",
                                   {"model": policy.model, "deployment": policy.deployment})
        return self.get_policy_status(policy.name)

    def check_policy(self, policy: Policy) -> None:
        """Refuse a policy that names a model, deployment, pipeline, dataset, alert rule,
        monitor or gate that does not exist (NotFound naming it and the policy)."""
        from gannet.training.checks import check_policy

        check_policy(policy, self.parts)

    def get_policy(self, name: str) -> Policy:
        with self.metadata.read() as conn:
            found = repository.policy_source(conn, name)
        if found is None:
            raise _not_found(name)
        return parse_policy(found[0], f"policy {name!r}", Path(found[1]))

    def get_policy_status(self, name: str) -> PolicyStatus:
        with self.metadata.read() as conn:
            status = repository.get_policy(conn, name)
            found = repository.policy_source(conn, name)
        if status is None or found is None:
            raise _not_found(name)
        self._may(status.model, READER, f"read the policy {name!r}", name)
        status.policy = parse_policy(found[0], f"policy {name!r}", Path(found[1]))
        return status

    def list_policies(self) -> list[PolicyStatus]:
        """The policies of the models the caller may read."""
        with self.metadata.read() as conn:
            rows = repository.list_policies(conn)
        for status, source, folder in rows:
            status.policy = parse_policy(source, f"policy {status.name!r}", Path(folder))
        registry = self.parts.registry
        return [status for status, _, _ in rows if access.visible(registry, status.model)]

    def delete_policy(self, name: str) -> None:
        self._may_named(name, OWNER, "delete")
        with self.metadata.write() as conn:
            if not repository.delete_policy(conn, name):
                raise _not_found(name)
            self.parts.auth.record(conn, "training.delete", f"policy:{name}", {})

    def pause_policy(self, name: str) -> PolicyStatus:
        """The controller leaves a paused policy where it is (a rollout stays at its stage)."""
        return self._pause(name, True)

    def resume_policy(self, name: str) -> PolicyStatus:
        return self._pause(name, False)

    def _pause(self, name: str, paused: bool) -> PolicyStatus:
        self._may_named(name, EDITOR, "pause or resume")
        with self.metadata.write() as conn:
            if not repository.set_paused(conn, name, paused, now_ms()):
                raise _not_found(name)
            self.parts.auth.record(conn, f"training.{'pause' if paused else 'resume'}",
                                   f"policy:{name}", {})
        return self.get_policy_status(name)

    def approve_policy(self, name: str, comment: str = "") -> Decision:
        """Let a policy that waits for approval move its next stage's traffic."""
        status = self.get_policy_status(name)
        self._may(status.model, EDITOR, f"approve a stage of the policy {name!r}", name)
        if status.phase != Phase.AWAITING_APPROVAL:
            raise InvalidState(f"policy {name!r} is {status.phase}, not awaiting approval",
                               f"see where it is: gannet policy status {name}")
        user = self.parts.auth.current_user
        decision = self.decision(status, "approve", f"stage {status.stage + 1} approved by "
                                 f"{user}" + (f": {comment}" if comment else ""),
                                 {"stage": status.stage, "user": user})
        data = {**status.data, "approved_stage": status.stage}
        self.save(status, Phase.CANARY, status.stage, data, decision)
        return decision

    def list_decisions(self, policy: str | None = None, limit: int = 100) -> list[Decision]:
        """Newest first (a deleted policy's too; NotFound for a name never applied). On a
        team server, only those of policies whose model the caller may read (a deleted
        policy's: administrators only)."""
        if policy is not None and restricted() is not None:
            self.get_policy_status(policy)  # NotFound unless the caller may read it
        with self.metadata.read() as conn:
            found = repository.decisions(conn, policy, limit)
        if policy is not None and not found:
            self.get_policy_status(policy)
        if policy is None and restricted() is not None:
            shown = {status.name for status in self.list_policies()}
            found = [d for d in found if d.policy in shown]
        return found

    def dry_run_policy(self, text: str, *, folder: str | Path | None = None) -> dict[str, Any]:
        """What applying the policy would lead to now, and why - nothing is changed."""
        from gannet.training.checks import dry_run

        base = Path(folder or Path.cwd()).resolve()
        policy = parse_policy(text, "the policy", base)
        self._may(policy.model, READER, f"try the policy {policy.name!r}", policy.name)
        self.check_policy(policy)
        try:
            seen = self.get_policy_status(policy.name).data.get("seen", {})
        except NotFound:
            seen = None
        return dry_run(policy, self.parts, self.sources(), seen, now_ms())

    # -- who may ------------------------------------------------------------------------

    def _may(self, model: str, role: str, what: str, policy: str) -> None:
        access.may_model(self.parts.registry, model, role, what, _not_found(policy))

    def _may_named(self, name: str, role: str, what: str) -> None:
        if restricted() is None:
            return
        status = self.get_policy_status(name)
        self._may(status.model, role, f"{what} the policy {name!r}", name)

    # -- the controller ------------------------------------------------------------------

    def tick(self, holder: str | None = None) -> TickReport:
        """Advance every active policy's loop once (as far as it can go now), if this
        controller holds the lease; a report of what it decided."""
        from gannet.training.controller import Loop

        holder = holder or self.holder
        report = TickReport(holder, self.acquire_lease(holder))
        if not report.leader:
            return report
        with self._renewing(holder):
            for status in self.list_policies():
                if status.paused:
                    continue
                try:
                    report.decisions += Loop(self, status).advance()
                except GannetError as exc:  # tried again at the next tick
                    report.errors[status.name] = str(exc)
                except Exception as exc:  # a bug, or a library's: the others go on
                    report.errors[status.name] = f"{type(exc).__name__}: {exc}"
        return report

    def run_controller(self, interval: float, stop: threading.Event,
                       on_report: Callable[[TickReport], None] | None = None) -> None:
        """``tick`` every ``interval`` seconds until ``stop`` is set (at least once). The
        lease is let go at the end: stopping on purpose, another controller need not wait
        for it to expire."""
        try:
            while True:
                report = self.tick()
                if on_report is not None:
                    on_report(report)
                if stop.wait(interval):
                    return
        finally:
            self.release_lease(self.holder)

    def acquire_lease(self, holder: str) -> bool:
        """Take or renew the controller's lease; False when another controller holds it."""
        now = now_ms()
        try:
            with self.metadata.write() as conn:
                found = repository.acquire_lease(conn, LEASE, holder, now,
                                                 now + int(self.lease_s * 1000))
        except Conflict:  # another controller inserted it at the same moment
            return False
        return found == holder

    def release_lease(self, holder: str) -> None:
        """Give the lease up (a controller that stops on purpose)."""
        with self.metadata.write() as conn:
            repository.release_lease(conn, LEASE, holder)

    @contextlib.contextmanager
    def _renewing(self, holder: str) -> Iterator[None]:
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(self.lease_s / 3):
                with contextlib.suppress(GannetError):
                    self.acquire_lease(holder)

        thread = threading.Thread(target=renew, daemon=True, name="gannet-training-lease")
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    # -- what the loop writes ------------------------------------------------------------

    def decision(self, status: PolicyStatus, action: str, reason: str,
                 numbers: dict[str, Any]) -> Decision:
        return Decision(new_id(), status.name, action, reason, numbers, now_ms(),
                        status.data.get("cycle"))

    def save(self, status: PolicyStatus, phase: Phase, stage: int, data: dict[str, Any],
             decision: Decision | None = None) -> None:
        """Write the loop's next state, with its decision and audit entry, in one
        transaction; Conflict when someone wrote the policy since ``status`` was read."""
        now = now_ms()

        def work(conn: Connection) -> None:
            if not repository.save_state(conn, status.name, status.revision, phase, stage,
                                         data, now):
                raise Conflict(f"policy {status.name!r} was changed by another writer",
                               "the controller reads it again on its next tick")
            if decision is not None:
                repository.insert_decision(conn, decision)
                self.parts.auth.record(conn, f"training.{decision.action}",
                                       f"policy:{status.name}",
                                       {"reason": decision.reason, "numbers": decision.numbers,
                                        "decision": decision.id})

        self.metadata.transaction(work)
        status.revision += 1
        status.phase, status.stage, status.data, status.updated_time = phase, stage, data, now

    def sources(self) -> triggers.Sources:
        parts = self.parts

        def latest_report(monitor: str) -> tuple[int, dict[str, float]] | None:
            reports = parts.monitoring.list_monitor_reports(monitor, limit=1)
            return (reports[0].updated_time, reports[0].metrics) if reports else None

        def latest_dataset(name: str) -> tuple[int, int] | None:
            version = parts.data.resolve(name)
            return version.version, version.creation_time

        return triggers.Sources(
            alert_events=lambda rule: parts.alerts.get_alert_history(rule, limit=20),
            latest_dataset=latest_dataset, latest_report=latest_report)

    def params_for(self, policy: Policy, data: dict[str, Any]) -> dict[str, Any]:
        return substitute(policy.pipeline.params, data.get("dataset"),
                          data.get("dataset_version"))


def default_holder() -> str:
    """This controller's name in the lease: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{new_id()[-6:]}"[:200]


def _not_found(name: str) -> NotFound:
    return NotFound(f"no training policy named {name!r}",
                    "list them: gannet policy list; apply one: gannet policy apply FILE")
