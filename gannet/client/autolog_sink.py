"""Where autolog writes when it is used through the fluent API: the active run, or a run it
starts (tagged ``gannet.autolog``) and ends with the fit's outcome."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from gannet.client import fluent
from gannet.tracking.types import Metric


class FluentSink:
    """What autolog needs from the fluent API, without tracking importing the SDK."""

    def active_run_id(self) -> str | None:
        run = fluent.active_run()
        return run.run_id if run else None

    def start_run(self, run_name: str, flavor: str) -> str:
        return fluent.start_run(run_name=run_name, tags={"gannet.autolog": flavor}).run_id

    def end_run(self, run_id: str, error: BaseException | None) -> None:
        fluent.end_run(fluent.status_for(error), error=error, run_id=run_id)

    def log(
        self, run_id: str, params: dict[str, str], metrics: dict[str, float], tags: dict[str, str]
    ) -> None:
        c = fluent.get_client()
        c.log_batch(run_id, params=params, tags=tags)
        c.log_metrics(run_id, metrics)

    def log_history(self, run_id: str, history: Mapping[str, Sequence[float]]) -> None:
        now = int(time.time() * 1000)
        metrics = [
            Metric(key, float(value), now, step)
            for key, values in history.items()
            for step, value in enumerate(values)
        ]
        fluent.get_client().log_batch(run_id, metrics=metrics)

    def log_model(self, run_id: str, model: Any, input_example: Any) -> None:
        fluent.get_client().log_model(run_id, model, "model", input_example=input_example)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> None:
        fluent.get_client().log_figure(run_id, figure, artifact_file)
