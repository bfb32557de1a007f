"""Gannet quickstart: a model's whole life on the embedded default, in about two minutes.

1. version a bundled dataset (scikit-learn's breast cancer cases) and validate it;
2. track three candidate models (and one autologged), pick the best recipe;
3. train it with a pipeline, register the model (signed), promote it through its gates;
4. serve it - a real inference server process on 127.0.0.1 - and ask it;
5.-8. watch it with a monitor and alerts, inject drift and label decay, and let a
   continuous-training policy retrain, gate, canary and promote a better model, then roll
   a bad one back on its own (examples/demo_loop.py).

Runs on the embedded default (SQLite + a local folder; with this repository's gannet.toml
they live in ./.gannet). Run it with `make demo` or `python examples/quickstart.py`.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import json
import sys
import time

import demo_loop
import httpx
import matplotlib.pyplot as plt
import pandas as pd
from demo_data import LABEL, at_screening, cases, split
from demo_loop import heading, look
from demo_pipeline import train_pipeline
from demo_serving import Server, Traffic
from rich.console import Console
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import gannet
import gannet.data

console = Console()
MODEL = "breast-cancer"
CANDIDATES = {
    "logreg": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
    "forest": lambda: RandomForestClassifier(n_estimators=200, random_state=0),
    "boosting": lambda: GradientBoostingClassifier(n_estimators=100, random_state=0),
}
GATES = """
aliases:
  champion:
    - metric: train_accuracy   # logged by the pipeline's train step
      min: 0.9
"""


def version_data(parts: dict[str, pd.DataFrame]) -> None:
    heading(console, "1. Data: versioned and validated")
    for name, frame in (("breast-cancer-train", parts["train"]),
                        ("breast-cancer-holdout", parts["holdout"])):
        ref = demo_loop.add_version(frame, name, "scikit-learn's breast cancer cases")
        console.print(f"  [bold]{ref}[/]: {len(frame)} cases, {frame.shape[1]} columns, "
                      "validation passed")
    look(console, "gannet data list", "gannet data show breast-cancer-train@1",
         "gannet data profile breast-cancer-train@1")


def train(name: str, X_train, X_test, y_train, y_test) -> str:  # noqa: ANN001
    with gannet.start_run(run_name=name, tags={"dataset": "breast-cancer-train@1"}) as run:
        gannet.log_input("breast-cancer-train@1", "training")
        model = CANDIDATES[name]()
        gannet.log_params({"model": name, "train_rows": len(X_train)})
        model.fit(X_train, y_train)
        if name == "boosting":  # staged predictions give a learning curve per tree
            for step, proba in enumerate(model.staged_predict_proba(X_test)):
                gannet.log_metric("test_auc", roc_auc_score(y_test, proba[:, 1]), step=step)
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


def experiments() -> tuple[str, str]:
    """Three candidates on the training version, scored on the held-out one: the best
    recipe's name and its run."""
    heading(console, "2. Experiments: three candidates, tracked")
    frames = {n: gannet.data.open(f"breast-cancer-{n}@1", as_="pandas")
              for n in ("train", "holdout")}
    X_train, X_test = (frames[n].drop(columns=[LABEL, "biopsy"]) for n in ("train", "holdout"))
    y_train, y_test = frames["train"][LABEL], frames["holdout"][LABEL]
    experiment = gannet.set_experiment("quickstart")
    console.print(f"  [bold]Experiment[/] quickstart ({experiment.experiment_id})")
    for name in CANDIDATES:
        run_id = train(name, X_train, X_test, y_train, y_test)
        console.print(f"  trained [cyan]{name}[/] -> run {run_id}")

    gannet.autolog()  # one more: logged without a single log_* call
    RandomForestClassifier(n_estimators=50, max_depth=4, random_state=1).fit(X_train, y_train)
    gannet.autolog(disable=True)

    best = gannet.search_runs("metrics.auc > 0.9", order_by=["metrics.auc DESC"], max_results=1)
    top = best[0]
    console.print(
        f"  [bold green]Best by AUC:[/] {top.info.run_name} "
        f"(auc={top.data.metrics['auc']:.4f}, run {top.run_id})"
    )
    look(console, "gannet runs list -e quickstart",
         'gannet runs search "metrics.auc > 0.95" -e quickstart --order-by "metrics.auc DESC"',
         f"gannet runs compare {' '.join(r.run_id for r in gannet.search_runs(max_results=3))}",
         f"gannet artifacts download {top.run_id} plots -o ./plots",
         "gannet lineage breast-cancer-train@1")
    return top.data.params["model"], top.run_id


def champion(recipe: str, holdout: pd.DataFrame) -> int:
    """The chosen recipe, trained by the pipeline on breast-cancer-train@1, registered
    (signed) and promoted through the model's gates."""
    heading(console, "3. Pipeline: train, register, promote")
    run = gannet.run_pipeline(train_pipeline, executor="local",
                              data="breast-cancer-train@1", model=recipe)
    step = next(s for s in run.steps if s.name == "train")
    model = gannet.load_output(run.run_id, "train")
    gannet.get_client().log_model(step.step_run_id, model, "model",
                                  input_example=at_screening(holdout).head(3))
    version = gannet.register_model(f"runs:/{step.step_run_id}/model", MODEL,
                                    description=f"{recipe}, by pipeline run {run.run_id}")
    gannet.get_client().set_model_policy(MODEL, GATES)
    result = gannet.promote(MODEL, version.version, "champion", reason="best recipe")
    loaded = gannet.models.load_model(f"{MODEL}@champion")
    console.print(
        f"  pipeline run {run.run_id} ({', '.join(s.name for s in run.steps)}) -> "
        f"registered [bold]{MODEL}[/] version {version.version} (signed by key "
        f"{version.signing_key_id}); champion: {result.promoted}; predictions for 3 rows: "
        f"{loaded.predict(at_screening(holdout).head(3)).tolist()}", soft_wrap=True)
    look(console, f"gannet pipeline inspect {run.run_id}", f"gannet models show {MODEL}",
         f"gannet models card {MODEL}@champion -o card.html")
    return version.version


def ask(url: str, rows: pd.DataFrame) -> None:
    """Ask the server (plain JSON and Open Inference Protocol V2)."""
    heading(console, "4. Serving: a deployment, a real server")
    answer = httpx.post(f"{url}/predict", json=rows.to_dict(orient="records")).json()
    console.print(f"  [bold]Served[/] at {url}: POST /predict -> {json.dumps(answer)}",
                  soft_wrap=True)
    types = {"int64": "INT64", "float64": "FP64"}
    v2 = {"inputs": [{"name": c, "shape": [len(rows)], "datatype": types[str(rows[c].dtype)],
                      "data": rows[c].tolist()} for c in rows.columns]}
    infer = httpx.post(f"{url}/v2/models/{MODEL}/infer", json=v2).json()
    labels = next(o["data"] for o in infer["outputs"] if o["name"] == "predict")
    console.print(f"  POST /v2/models/{MODEL}/infer -> predict {labels}")
    look(console, f"gannet deployments show {MODEL}",
         f"gannet serve {MODEL} --port 8080 --workers 2")


def fresh_home() -> None:
    """The demo tells a story from an empty home; a second run in the same one stops here."""
    from gannet.core.errors import NotFound

    try:
        gannet.get_client().get_registered_model(MODEL)
    except NotFound:
        return
    home = gannet.get_client().settings.home
    console.print(f"[red]{home} already holds the demo's model {MODEL}.[/] Run the demo in "
                  f"an empty home: remove that folder, or set GANNET_HOME to a new one.")
    sys.exit(2)


def main() -> None:
    fresh_home()
    parts = split(cases())
    version_data(parts)
    recipe, _ = experiments()
    champion(recipe, parts["holdout"])
    gannet.get_client().create_deployment(MODEL, MODEL, reason="the champion, served")
    folder = gannet.get_client().settings.home / "demo"  # the policy's YAML goes here
    folder.mkdir(parents=True, exist_ok=True)
    with Server(MODEL, "--poll-interval", "0.2") as server:
        ask(server.url, at_screening(parts["holdout"].head(2)))
        traffic = Traffic(server.url, parts["live"])
        controller = None
        try:
            demo_loop.watch(console, traffic, folder, recipe, server.url)
            demo_loop.decay(console, traffic, parts)
            controller, first = demo_loop.retrain(console, traffic)
            second = demo_loop.bad_model(console, controller, folder, recipe, parts)
        finally:
            traffic.stop()
            if controller is not None:
                controller.stop()
    finish(first, second)


def finish(first, second) -> None:  # noqa: ANN001 - two Decisions
    heading(console, "Where to look")
    console.print(demo_loop.history_table(gannet.get_client().list_decisions(
        demo_loop.POLICY)))
    for command in (
        f"gannet policy history {demo_loop.POLICY} --json",
        f"gannet policy status {demo_loop.POLICY}",
        f"gannet monitor show {MODEL} --html monitor.html",
        f"gannet deployments history {MODEL}",
        f"gannet models show {MODEL}",
        "gannet runs list -e quickstart",
        f"gannet audit policy:{demo_loop.POLICY}",
        "gannet ui   # then /ui/experiments, /ui/models/breast-cancer, "
        "/ui/deployments/breast-cancer, /ui/admin/audit",
    ):
        console.print(f"  [dim]$[/] {command}", soft_wrap=True)
    took = time.monotonic() - demo_loop.STARTED
    ok = first.action == "promote" and second.action == "rollback"
    console.print(f"\n[bold {'green' if ok else 'red'}]Done in {took:.0f} s.[/] The loop: "
                  f"{first.action} ({first.reason}); then {second.action} "
                  f"({second.reason})", soft_wrap=True)
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
