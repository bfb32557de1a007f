"""A canary rollout, one stage at a time, through the deployments service.

A stage starts by routing its weight of the deployment's traffic to the challenger
(``model/N``) and the rest to ``model@champion`` - a new deployment revision. It passes
once it lasted its ``duration`` and the challenger answered ``min_requests`` requests,
with every guard holding; a guard that fails rolls the deployment back to the revision it
had before the rollout, at once. A stage short of traffic waits (one ``wait`` decision)
until its ``timeout``, then does its ``on_timeout``: ``rollback`` (the default),
``promote`` (go on as if it passed) or ``wait`` (keep waiting). After the last stage the
challenger is promoted through the registry's gates (``model@champion`` moves) and the
deployment routes all traffic to ``model@champion``.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from gannet.core.clock import now_ms
from gannet.lineage.types import MODEL_VERSION
from gannet.training.signals import LiveTraffic, judge, scrape_counts
from gannet.training.types import Phase, Stage

if TYPE_CHECKING:
    from gannet.training.controller import Loop

__all__ = ["Rollout"]


class Rollout:
    def __init__(self, loop: Loop) -> None:
        self.loop = loop
        self.parts = loop.parts
        self.policy = loop.policy
        self.status = loop.status
        self.version = int(self.status.data["challenger"])
        self.ref = f"{self.policy.model}/{self.version}"

    def step(self) -> bool:
        data = self.status.data
        if data.get("champion") is None:
            return self._promote({}, "there is no champion to compare with on live traffic")
        index = min(self.status.stage, len(self.policy.stages) - 1)  # the policy changed
        stage = self.policy.stages[index]
        if data.get("stage_started") is None:
            return self._start(index, stage)
        return self._judge(index, stage)

    def _revision_edge(self, revision: int, context: str) -> None:
        from gannet.training.controller import DEPLOYMENT_REVISION

        self.loop._edge(MODEL_VERSION, self.ref, DEPLOYMENT_REVISION,
                        f"{self.policy.deployment}/{revision}", context)

    def _start(self, index: int, stage: Stage) -> bool:
        data, name = self.status.data, self.policy.name
        where = f"stage {index + 1} of {len(self.policy.stages)} ({stage.weight:g}%)"
        if stage.approval and data.get("approved_stage") != index:
            self.loop._save(Phase.AWAITING_APPROVAL, index, dict(data), "wait",
                            f"{where} needs approval: gannet policy approve {name}",
                            {"stage": index, "weight": stage.weight})
            return False
        champion = f"{self.policy.model}@champion"
        routes: dict[str | int, float] = {self.ref: 100.0} if stage.weight >= 100 else {
            champion: 100.0 - stage.weight, self.ref: stage.weight}
        state = self.parts.deployments.set_deployment_traffic(
            self.policy.deployment, routes, reason=f"policy {name}: canary {where}")
        data = {**data, "stage_started": now_ms(), "counters": self._counters(),
                "waiting": None}
        self.loop._save(Phase.CANARY, index, data, "canary",
                        f"{where}: {stage.weight:g}% of {self.policy.deployment}'s traffic "
                        f"to {self.ref}", {"stage": index, "weight": stage.weight,
                                          "revision": state.revision, "routes": routes})
        self._revision_edge(state.revision, "canary")
        return True

    def _counters(self) -> dict[str, float] | None:
        """The challenger's request and error counters on the servers now."""
        if not self.policy.metrics_urls:
            return None
        found = scrape_counts(self.policy.metrics_urls, self.policy.model)
        if found is None:
            return None
        return found.get(str(self.version), {"requests": 0.0, "errors": 0.0})

    def _counted(self) -> dict[str, float] | None:
        """What the counters added since the stage began (a restarted server: from 0)."""
        now, then = self._counters(), self.status.data.get("counters")
        if now is None:
            return None
        if then is None or any(now[k] < then.get(k, 0.0) for k in now):
            return now
        return {k: now[k] - then.get(k, 0.0) for k in now}

    def _judge(self, index: int, stage: Stage) -> bool:
        data = self.status.data
        started = int(data["stage_started"])
        elapsed = (now_ms() - started) / 1000
        traffic = LiveTraffic(self.parts.inference_log, self.policy.deployment, started)
        counted = self._counted()
        requests = int(counted["requests"]) if counted is not None else \
            traffic.requests_and_p99(self.version)[0]
        failed, numbers = judge(stage.guards, traffic, self.version, data.get("champion"),
                                counted)
        numbers.update(stage=index, weight=stage.weight, requests=requests,
                       elapsed_s=round(elapsed, 3))
        if failed:
            return self._rollback(numbers, f"stage {index + 1}: " + "; ".join(failed))
        if elapsed >= stage.duration_s and requests >= stage.min_requests:
            return self._next(index, numbers)
        if elapsed >= stage.timeout_s and stage.on_timeout != "wait":
            short = (f"stage {index + 1} timed out after {stage.timeout_s:g} s with "
                     f"{requests} of {stage.min_requests} requests")
            if stage.on_timeout == "rollback":
                return self._rollback(numbers, short)
            return self._next(index, numbers, f"{short}; on_timeout is promote")
        if data.get("waiting") != index:
            self.loop._save(Phase.CANARY, index, {**data, "waiting": index}, "wait",
                            f"stage {index + 1}: {requests} of {stage.min_requests} requests, "
                            f"{elapsed:.0f} of {stage.duration_s:g} s (timeout "
                            f"{stage.timeout_s:g} s, then {stage.on_timeout})", numbers)
        return False

    def _next(self, index: int, numbers: dict[str, Any], note: str = "") -> bool:
        if index + 1 < len(self.policy.stages):
            data = {**self.status.data, "stage_started": None, "counters": None,
                    "waiting": None, "passed": {**self.status.data.get("passed", {}),
                                                str(index): numbers}}
            self.loop._save(Phase.CANARY, index + 1, data)
            return True
        return self._promote(numbers, note or f"all {len(self.policy.stages)} stages passed")

    def _promote(self, numbers: dict[str, Any], why: str) -> bool:
        model, name = self.policy.model, self.policy.name
        reason = f"policy {name}: {why}"
        previous = self.parts.registry.get_registered_model(model).aliases.get("champion")
        if previous == self.version:  # promoted before a crash: its gates passed then
            previous = self.status.data.get("champion")
        elif self.policy.evaluation.gates == "none":
            self.parts.registry.set_registered_model_alias(model, "champion", self.version)
        else:
            promotion = self.parts.registry.promote(model, self.version, "champion", reason)
            if not promotion.promoted:
                bad = "; ".join(f"{r.gate}: {r.detail}" for r in promotion.results
                                if not r.passed)
                return self._rollback(numbers, f"the promotion gates failed: {bad}")
        state = self.parts.deployments.set_deployment_traffic(
            self.policy.deployment, {f"{model}@champion": 100.0}, reason=reason)
        self.loop._save(Phase.PROMOTED, self.status.stage,
                        {**self.status.data, "outcome": "promoted"}, "promote",
                        f"{self.ref} is now {model}@champion (was version {previous}): {why}",
                        {**numbers, "version": self.version, "previous": previous,
                         "revision": state.revision})
        self._revision_edge(state.revision, "promote")
        return False

    def _rollback(self, numbers: dict[str, Any], why: str) -> bool:
        deployment = self.policy.deployment
        base = int(self.status.data["base_revision"])
        state = self.parts.deployments.get_deployment_state(deployment)
        if state.revision != base:
            state = self.parts.deployments.rollback_deployment(
                deployment, reason=f"policy {self.policy.name}: {why}", to=base)
        self._drop_challenger_alias()
        self.loop._save(Phase.ROLLED_BACK, self.status.stage,
                        {**self.status.data, "outcome": "rolled back"}, "rollback",
                        f"rolled {deployment} back to revision {base}'s traffic: {why}",
                        {**numbers, "version": self.version, "revision": state.revision,
                         "restored_revision": base})
        self._revision_edge(state.revision, "rollback")
        return False

    def _drop_challenger_alias(self) -> None:
        """A rolled-back version keeps no ``@challenger``: nobody should serve or load it
        by that name (done again after a crash, it finds the alias gone or moved)."""
        from gannet.core.errors import NotFound

        model = self.policy.model
        if self.parts.registry.get_registered_model(model).aliases.get("challenger") == \
                self.version:
            with contextlib.suppress(NotFound):  # another writer removed it first
                self.parts.registry.delete_registered_model_alias(model, "challenger")
