"""Gannet quickstart: track a few scikit-learn models, register the best, serve it.

Runs on the embedded default (SQLite + a local folder; with this repository's
gannet.toml they live in ./.gannet). Run it with `make demo` or `python examples/quickstart.py`.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import matplotlib.pyplot as plt
from rich.console import Console
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import gannet

console = Console()
CANDIDATES = {
    "logreg": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
    "forest": lambda: RandomForestClassifier(n_estimators=200, random_state=0),
    "boosting": lambda: GradientBoostingClassifier(n_estimators=100, random_state=0),
}


def train(name: str, X_train, X_test, y_train, y_test) -> str:  # noqa: ANN001
    with gannet.start_run(run_name=name, tags={"dataset": "breast_cancer"}) as run:
        model = CANDIDATES[name]()
        gannet.log_params({"model": name, "train_rows": len(X_train)})
        if name == "boosting":  # staged predictions give a learning curve per tree
            model.fit(X_train, y_train)
            for step, proba in enumerate(model.staged_predict_proba(X_test)):
                gannet.log_metric("test_auc", roc_auc_score(y_test, proba[:, 1]), step=step)
        else:
            model.fit(X_train, y_train)
        predicted = model.predict(X_test)
        gannet.log_metrics(
            {
                "accuracy": accuracy_score(y_test, predicted),
                "f1": f1_score(y_test, predicted),
                "auc": roc_auc_score(y_test, model.predict_proba(X_test)[:, 1]),
            }
        )
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.hist(model.predict_proba(X_test)[:, 1], bins=20)
        ax.set_title(f"{name}: predicted probabilities")
        gannet.log_figure(fig, "plots/probabilities.png")
        plt.close(fig)
        gannet.log_model(model, "model", input_example=X_train.head(5))
        return run.run_id


def wait_until_ready(url: str, seconds: float = 120) -> None:
    """Poll readiness (503 while the models load); a busy machine may answer slowly."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{url}/v2/health/ready", timeout=30).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not answering yet
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not get ready in {seconds:.0f} s")
        time.sleep(0.2)


def serve_and_ask(rows) -> None:  # noqa: ANN001 - a DataFrame of inputs
    """Serve the champion over HTTP, ask it (plain JSON and Open Inference Protocol V2)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "gannet", "serve", "breast-cancer@champion", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        line = server.stdout.readline()  # "serving ... on http://127.0.0.1:PORT (...)"
        url = line.split(" on ", 1)[1].split()[0]
        wait_until_ready(url)
        answer = httpx.post(f"{url}/predict", json=rows.to_dict(orient="records")).json()
        console.print(f"[bold]Served[/] at {url}: POST /predict -> {json.dumps(answer)}")
        columns = list(rows.columns)
        v2 = {
            "inputs": [
                {"name": c, "shape": [len(rows)], "datatype": "FP64", "data": rows[c].tolist()}
                for c in columns
            ]
        }
        infer = httpx.post(f"{url}/v2/models/breast-cancer/infer", json=v2).json()
        labels = next(o["data"] for o in infer["outputs"] if o["name"] == "predict")
        console.print(f"  POST /v2/models/breast-cancer/infer -> predict {labels}\n")
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


def main() -> None:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    experiment = gannet.set_experiment("quickstart")
    console.print(f"[bold]Experiment[/] quickstart ({experiment.experiment_id})")
    for name in CANDIDATES:
        run_id = train(name, X_train, X_test, y_train, y_test)
        console.print(f"  trained [cyan]{name}[/] -> run {run_id}")

    gannet.autolog()  # one more: logged without a single log_* call
    RandomForestClassifier(n_estimators=50, max_depth=4, random_state=1).fit(X_train, y_train)
    gannet.autolog(disable=True)

    best = gannet.search_runs("metrics.auc > 0.9", order_by=["metrics.auc DESC"], max_results=1)
    top = best[0]
    console.print(
        f"\n[bold green]Best by AUC:[/] {top.info.run_name} "
        f"(auc={top.data.metrics['auc']:.4f}, run {top.run_id})\n"
    )
    version = gannet.register_model(top.run_id, "breast-cancer", description=top.info.run_name)
    result = gannet.promote("breast-cancer", version.version, "champion", reason="best auc")
    champion = gannet.models.load_model("breast-cancer@champion")
    sample = X_test.head(3)
    console.print(
        f"Registered [bold]breast-cancer[/] version {version.version} (signed by key "
        f"{version.signing_key_id}); champion: {result.promoted}; "
        f"predictions for 3 rows: {champion.predict(sample).tolist()}\n"
    )
    serve_and_ask(X_test.head(2))
    console.print("Look at them:")
    for command in (
        "gannet runs list -e quickstart",
        'gannet runs search "metrics.auc > 0.95" -e quickstart --order-by "metrics.auc DESC"',
        f"gannet runs show {top.run_id}",
        f"gannet runs compare {' '.join(r.run_id for r in gannet.search_runs(max_results=3))}",
        f"gannet artifacts download {top.run_id} plots -o ./plots",
        "gannet models show breast-cancer",
        "gannet models card breast-cancer@champion -o card.html",
        "gannet serve breast-cancer@champion --port 8080 --workers 2",
    ):
        console.print(f"  [dim]$[/] {command}", soft_wrap=True)


if __name__ == "__main__":
    main()
