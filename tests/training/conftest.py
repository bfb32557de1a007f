"""A world for continuous training: generated data as dataset versions, a weak champion,
a deployment of it, and a policy file for the trivial pipeline ``ct_pipeline.py``. The
rollout tests take ``server_fixtures`` (live inference servers) from tests/serving/server."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

HERE = Path(__file__).resolve().parent
for folder in (HERE.parent / "serving", HERE.parent / "serving" / "server"):
    sys.path.insert(0, str(folder))


def frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    return pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "x2": x[:, 2],
                         "y": ((x[:, 0] + x[:, 1]) > 0).astype(int)})


@dataclass
class World:
    services: Any
    folder: Path
    holdout: pd.DataFrame

    @property
    def training(self) -> Any:
        return self.services.training

    def policy(self, quality: str = "good", stages: str = "- {weight: 100}",
               extra: str = "", name: str = "ct") -> Path:
        path = self.folder / f"{name}.yaml"
        lines = [
            f"name: {name}", "model: churn", "deployment: churn", "triggers:",
            "  - dataset: ct-train", "pipeline:",
            f"  file: {HERE / 'ct_pipeline.py'}:retrain",
            f'  params: {{data: "${{dataset}}", quality: {quality}}}',
            "evaluation:", "  dataset: ct-holdout", "  label: y", "  metric: accuracy",
            "  min_improvement: 0.05", "rollout:",
            *("  " + line for line in extra.splitlines()), "  stages:",
            *("    " + line for line in stages.splitlines()),
        ]
        path.write_text("\n".join(lines) + "\n")
        return path

    def new_data(self, seed: int = 2) -> int:
        return self.services.data.add_table(frame(400, seed), "ct-train").version.version

    def decisions(self, policy: str = "ct") -> list[Any]:
        return self.training.list_decisions(policy)


def register_champion(services: Any, holdout: pd.DataFrame) -> None:
    """A weak champion (always the most frequent class) as churn/1, @champion."""
    from sklearn.dummy import DummyClassifier

    run = services.tracking.create_run("0")
    X, y = holdout.drop(columns=["y"]), holdout["y"]
    model = DummyClassifier(strategy="most_frequent").fit(X, y)
    services.registry.log_model(run.info.run_id, model, "model", input_example=X.head(3))
    services.registry.register_model(run.info.run_id, "churn")
    services.registry.set_registered_model_alias("churn", "champion", 1)


@pytest.fixture
def world(settings, tmp_path):
    from gannet import bootstrap

    services = bootstrap.build(settings.replace(inference_log_url=str(tmp_path / "log")))
    bootstrap.use_default_services(lambda: services)  # what the pipeline's steps read
    try:
        services.data.add_table(frame(400, 1), "ct-train")
        holdout = frame(300, 99)
        services.data.add_table(holdout, "ct-holdout")
        register_champion(services, holdout)
        services.deployments.create_deployment("churn", "churn")
        yield World(services, tmp_path, holdout)
    finally:
        bootstrap.use_default_services(None)
        services.close()
