"""A real MLflow tracking store (SQLite), filled by the real mlflow client: for tests of
``gannet import mlflow``."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gannet.testing.mlflow_folders import mlflow_quietly


@dataclass
class FilledStore:
    """What ``fill_mlflow_store`` logged, to compare the import with."""

    uri: str
    root: Path
    client: Any
    experiments: dict[str, str] = field(default_factory=dict)  # name -> MLflow id
    runs: dict[str, str] = field(default_factory=dict)  # run name -> MLflow run id
    model: Any = None  # the scikit-learn model of both versions


def fill_mlflow_store(root: Path) -> FilledStore:
    """Two experiments with three runs (metric histories, params, tags, artifacts, one run
    FAILED), and a registered model ``iris`` with two versions and the alias ``champion``
    on version 2. The store is ``sqlite:///<root>/mlflow.db``, its artifacts under root."""
    mlflow = mlflow_quietly()
    root.mkdir(parents=True, exist_ok=True)
    store = FilledStore(f"sqlite:///{root / 'mlflow.db'}", root, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.client = client = mlflow.MlflowClient(store.uri)
        for name in ("churn", "fraud"):
            store.experiments[name] = client.create_experiment(
                name, artifact_location=str(root / "artifacts" / name), tags={"team": name})
        add_run(store, "churn", "rf-100", {"n_estimators": "100"}, losses=[0.9, 0.5, 0.3])
        add_run(store, "churn", "rf-200", {"n_estimators": "200"}, losses=[0.8, 0.4],
                status="FAILED")
        add_run(store, "fraud", "gbm", {"depth": "3"}, losses=[0.7, 0.6, 0.2, 0.1])
        _register_iris(store)
    return store


def add_run(
    store: FilledStore, experiment: str, name: str, params: dict[str, str], *,
    losses: list[float], status: str = "FINISHED",
) -> str:
    """One run: params, a tag, the ``loss`` history (step i at 1_700_000_000_000 + i ms),
    a ``report.txt`` and ``plots/curve.csv`` artifact."""
    client = store.client
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = client.create_run(store.experiments[experiment], run_name=name,
                                tags={"owner": "ana"}, start_time=1_700_000_000_000)
        run_id = run.info.run_id
        for key, value in params.items():
            client.log_param(run_id, key, value)
        for step, loss in enumerate(losses):
            client.log_metric(run_id, "loss", loss, timestamp=1_700_000_000_000 + step, step=step)
        folder = store.root / "files" / name
        (folder / "plots").mkdir(parents=True)
        (folder / "report.txt").write_text(f"report of {name}\n")
        (folder / "plots" / "curve.csv").write_text("step,loss\n0,1\n")
        client.log_artifacts(run_id, str(folder))
        client.set_terminated(run_id, status, end_time=1_700_000_100_000)
    store.runs[name] = run_id
    return run_id


def _register_iris(store: FilledStore) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    mlflow = mlflow_quietly()
    X, y = load_iris(return_X_y=True, as_frame=True)
    store.model = LogisticRegression(max_iter=500).fit(X, y)
    mlflow.set_tracking_uri(store.uri)
    try:
        for run_name in ("rf-100", "gbm"):
            run_id = store.runs[run_name]
            with mlflow.start_run(run_id=run_id):
                mlflow.sklearn.log_model(store.model, name="model",
                                         registered_model_name="iris",
                                         pip_requirements=["scikit-learn", "skops"],
                                         signature=mlflow.models.infer_signature(
                                             X.head(3), store.model.predict(X.head(3))))
            store.client.set_terminated(run_id, "FINISHED", end_time=1_700_000_100_000)
        store.client.set_registered_model_alias("iris", "champion", "2")
        store.client.update_registered_model("iris", description="iris classifier")
    finally:
        mlflow.set_tracking_uri(None)
