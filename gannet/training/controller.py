"""One policy's loop: idle -> retraining -> gating -> canary (stage by stage, maybe
awaiting approval) -> promoted | rolled_back; a failed retrain or gate ends in ``failed``.

``Loop.advance`` moves the loop as far as it can go now (a zero-length stage with enough
traffic passes in the same tick) and persists each step before the next: a controller
that dies anywhere leaves a state the next one resumes from. Each step is safe to run
again: traffic changes that change nothing write nothing, a retrain whose version was
registered is found by its tag and not run twice, a rollback goes to the same revision.

Every step that decides something records a ``Decision`` (and its audit entry) in the
transaction that moves the state, and the lineage edges trigger -> pipeline run -> model
version -> deployment revision.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from gannet.core.clock import now_ms
from gannet.core.errors import GannetError, InvalidArgument
from gannet.lineage.types import DATASET_VERSION, MODEL_VERSION, RUN
from gannet.training import triggers
from gannet.training.evaluation import compare
from gannet.training.types import Decision, Phase, PolicyStatus

if TYPE_CHECKING:
    from gannet.training.service import TrainingService

__all__ = ["DEPLOYMENT_REVISION", "TRIGGER", "Loop"]

TRIGGER = "training_trigger"  # lineage node: a trigger decision, by its id
DEPLOYMENT_REVISION = "deployment_revision"  # lineage node: "<deployment>/<revision>"
CYCLE_TAG = "gannet.training.cycle"
MAX_STEPS = 50


class Loop:
    def __init__(self, service: TrainingService, status: PolicyStatus) -> None:
        self.service = service
        self.parts = service.parts
        self.status = status
        assert status.policy is not None
        self.policy = status.policy
        self.made: list[Decision] = []

    def advance(self) -> list[Decision]:
        """Step until the loop has to wait; the decisions it made."""
        for _ in range(MAX_STEPS):
            phase = self.status.phase
            step = {Phase.RETRAINING: self._retrain, Phase.GATING: self._gate,
                    Phase.CANARY: self._canary,
                    Phase.AWAITING_APPROVAL: self._awaiting}.get(phase, self._idle)
            if not step():
                break
        return self.made

    # -- recording -------------------------------------------------------------------

    def _save(self, phase: Phase, stage: int, data: dict[str, Any], action: str | None = None,
              reason: str = "", numbers: dict[str, Any] | None = None,
              decision_id: str | None = None) -> None:
        """Persist the next state with its decision (``decision_id``: a trigger's, which
        names the cycle it starts)."""
        decision = None
        if action is not None:
            decision = self.service.decision(self.status, action, reason, numbers or {})
            if decision_id is not None:
                decision = replace(decision, id=decision_id, cycle=decision_id)
            self.made.append(decision)
        self.service.save(self.status, phase, stage, data, decision)

    def _edge(self, from_kind: str, from_id: str, to_kind: str, to_id: str, context: str
              ) -> None:
        self.parts.lineage.record(from_kind, from_id, to_kind, to_id, context)

    @property
    def _data(self) -> dict[str, Any]:
        return dict(self.status.data)

    @property
    def _challenger(self) -> str:
        return f"{self.policy.model}/{self.status.data['challenger']}"

    # -- idle: do triggers fire? -----------------------------------------------------

    def _idle(self) -> bool:
        from gannet.core.ids import new_id

        now = now_ms()
        seen = self.status.data.get("seen", {})
        fired, marks = triggers.check(self.policy.triggers, seen, self.service.sources(), now)
        if not fired:
            if marks != seen:
                self._save(self.status.phase, 0, {**self._data, "seen": marks})
            return False
        dataset, version = _dataset_of(fired, self.policy.datasets(), self.parts)
        models = self.parts.registry.search_model_versions(self.policy.model)
        cycle = new_id()
        data: dict[str, Any] = {"seen": marks, "cycle": cycle, "dataset": dataset,
                "dataset_version": version,
                "baseline": max((v.version for v in models), default=0)}
        reason = "; ".join(f.reason for f in fired)
        self._save(Phase.RETRAINING, 0, data, "trigger", reason,
                   {"triggers": [f.trigger for f in fired], **{
                       k: v for f in fired for k, v in f.numbers.items()}},
                   decision_id=cycle)
        if dataset is not None:
            self._edge(DATASET_VERSION, f"{dataset}@{version}", TRIGGER, cycle, "trigger")
        return True

    # -- retraining ------------------------------------------------------------------

    def _retrain(self) -> bool:
        from gannet.pipelines.loading import load_pipeline
        from gannet.pipelines.types import StepStatus

        data = self._data
        done = self._registered_in_cycle()
        if done is not None:  # registered before a crash: not run twice
            return self._retrained(done, data.get("run_id", ""), 0.0, {})
        params = self.service.params_for(self.policy, data)
        started = time.monotonic()
        try:
            pipeline = load_pipeline(self.policy.pipeline.target)
            run = self.parts.pipelines.run_pipeline(
                pipeline, params, target=self.policy.pipeline.target,
                executor=self.policy.pipeline.executor)
        except Exception as exc:  # the pipeline could not even start
            return self._retrain_failed(f"the pipeline could not run: {exc}", params)
        self._edge(TRIGGER, data["cycle"], RUN, run.run_id, "retrain")
        if run.status != StepStatus.FINISHED:
            failed = next((s for s in run.steps if s.status == StepStatus.FAILED), None)
            why = f"step {failed.name} failed: {failed.error}" if failed else run.status
            return self._retrain_failed(f"pipeline run {run.run_id} {why}", params,
                                        run.run_id)
        try:
            version = self._register(run.run_id)
        except GannetError as exc:
            return self._retrain_failed(f"pipeline run {run.run_id} gave no model: {exc}",
                                        params, run.run_id)
        return self._retrained(version, run.run_id, time.monotonic() - started, params)

    def _retrain_failed(self, why: str, params: dict[str, Any], run_id: str | None = None
                        ) -> bool:
        self._save(Phase.FAILED, 0, {**self._data, "outcome": "retrain failed"}, "retrain",
                   f"retrain failed: {why}; the champion is untouched",
                   {"run_id": run_id, "params": params, "passed": False})
        return False

    def _retrained(self, version: int, run_id: str, seconds: float,
                   params: dict[str, Any]) -> bool:
        ref = f"{self.policy.model}/{version}"
        if run_id:
            self._edge(RUN, run_id, MODEL_VERSION, ref, "training")
        self._save(Phase.GATING, 0, {**self._data, "challenger": version, "run_id": run_id},
                   "retrain", f"pipeline run {run_id} registered {ref}",
                   {"run_id": run_id, "version": version, "seconds": round(seconds, 3),
                    "params": params})
        return True

    def _registered_in_cycle(self) -> int | None:
        cycle = self.status.data.get("cycle")
        for version in self.parts.registry.search_model_versions(self.policy.model):
            if version.tags.get(CYCLE_TAG) == cycle:
                return version.version
        return None

    def _register(self, run_id: str) -> int:
        """Register the model the pipeline's model step returned, logged to that step's run
        (so the version's run, metrics and lineage are the step's)."""
        run = self.parts.pipelines.get_pipeline_run(run_id)
        wanted = self.policy.pipeline.model_step
        steps = [s for s in run.steps if (s.name == wanted if wanted else any(
            v.materializer == "model" for v in s.outputs.values()))]
        if len(steps) != 1 or steps[0].step_run_id is None:
            raise InvalidArgument(
                f"{len(steps) or 'no'} steps of pipeline run {run_id} returned a model",
                "name the step that returns it: pipeline.model_step")
        step, step_run = steps[0], str(steps[0].step_run_id)
        model = self.parts.pipelines.load_output(run_id, step.name)
        example = self._example()
        self.parts.registry.log_model(step_run, model, "model", input_example=example)
        version = self.parts.registry.register_model(
            f"runs:/{step_run}/model", self.policy.model,
            tags={CYCLE_TAG: str(self.status.data.get("cycle")),
                  "gannet.training.policy": self.policy.name,
                  "gannet.pipeline.run": run_id})
        return version.version

    def _example(self) -> Any:
        """A few held-out rows without their label: the version's input example."""
        evaluation = self.policy.evaluation
        if evaluation.dataset is None:
            return None
        frame = self.parts.data.open(evaluation.dataset, as_="pandas")
        return frame.drop(columns=[evaluation.label], errors="ignore").head(3)

    # -- gating ----------------------------------------------------------------------

    def _gate(self) -> bool:
        model = self.parts.registry.get_registered_model(self.policy.model)
        champion = model.aliases.get("champion")
        challenger = int(self.status.data["challenger"])
        evaluation = self.policy.evaluation
        numbers: dict[str, Any] = {"challenger": challenger, "champion": champion}
        reasons = []
        passed = True
        if evaluation.dataset is not None:
            try:
                numbers.update(compare(evaluation, self.parts.data, self.parts.registry,
                                       self.policy.model, challenger, champion))
            except Exception as exc:  # the challenger cannot even score the rows
                numbers.update(passed=False, error=f"{type(exc).__name__}: {exc}")
                reasons.append(f"the evaluation failed: {numbers['error']}")
            else:
                reasons.append(_comparison(numbers, evaluation.metric))
            passed = bool(numbers["passed"])
        if evaluation.gates != "none":
            results = self.parts.registry.check_promotion_gates(self.policy.model, challenger,
                                                                "champion")
            numbers["gates"] = [{"gate": r.gate, "passed": r.passed, "detail": r.detail}
                                for r in results]
            bad = [f"{r.gate}: {r.detail}" for r in results if not r.passed]
            passed = passed and not bad
            reasons.append("gates failed: " + "; ".join(bad) if bad else
                           f"{len(results)} promotion gate(s) passed")
        numbers["passed"] = passed
        reason = f"{self._challenger} {'passed' if passed else 'failed'}: " + \
            ("; ".join(reasons) or "nothing to compare")
        if not passed:
            self._save(Phase.FAILED, 0, {**self._data, "outcome": "gate failed"}, "gate",
                       reason + "; the champion is untouched", numbers)
            return False
        self.parts.registry.set_registered_model_alias(self.policy.model, "challenger",
                                                       challenger)
        base = self.parts.deployments.get_deployment_state(self.policy.deployment).revision
        data = {**self._data, "champion": champion, "base_revision": base,
                "stage_started": None}
        self._save(Phase.CANARY, 0, data, "gate", reason, numbers)
        return True

    def _awaiting(self) -> bool:
        if self.status.data.get("approved_stage") == self.status.stage:
            self._save(Phase.CANARY, self.status.stage, self._data)
            return True
        return False

    # -- canary ----------------------------------------------------------------------

    def _canary(self) -> bool:
        from gannet.training.rollout import Rollout

        return Rollout(self).step()


def _comparison(numbers: dict[str, Any], metric: str) -> str:
    mine = numbers["challenger_value"]
    if numbers.get("champion_value") is None:
        return f"{metric} {mine:.4g} on {numbers['rows']} held-out rows (no champion to beat)"
    return (f"{metric} {mine:.4g} vs champion {numbers['champion_value']:.4g} on "
            f"{numbers['rows']} held-out rows (gain {numbers['gain']:+.4g}, needs "
            f">= {numbers['min_improvement']:g})")


def _dataset_of(fired: list[triggers.Fired], names: list[str], parts: Any
                ) -> tuple[str | None, int | None]:
    """The dataset version a cycle trains on: the one whose new version fired, else the
    latest version of the policy's (first) dataset trigger."""
    for f in fired:
        if "dataset" in f.numbers and "version" in f.numbers:
            return str(f.numbers["dataset"]), int(f.numbers["version"])
    if not names:
        return None, None
    return names[0], parts.data.resolve(names[0]).version
