"""The docs are tested like code: their examples run, and nothing public goes undocumented."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import gannet

ROOT = Path(__file__).resolve().parents[1]


def _python_blocks(markdown: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown.read_text(), flags=re.S)


def _run_examples(page: str, tmp_path: Path) -> str:
    """Run a page's python blocks in order, as one script in a fresh home; its stdout."""
    blocks = _python_blocks(ROOT / "docs" / page)
    assert blocks, f"docs/{page} has no python examples"
    script = tmp_path / "examples.py"
    script.write_text("\n\n".join(blocks))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANNET_")}
    env.update(GANNET_HOME=str(tmp_path / "home"), MPLBACKEND="Agg")
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_tracking_example_runs_in_order(tmp_path: Path):
    stdout = _run_examples("tracking.md", tmp_path)
    assert "FINISHED" in stdout
    assert "100 99 0.01" in stdout
    assert "LogisticRegression 500" in stdout.splitlines()
    assert "['environment', 'model', 'training_confusion_matrix.png']" in stdout


def test_every_monitoring_example_runs_in_order(tmp_path: Path):
    stdout = _run_examples("monitoring.md", tmp_path)
    assert "['age', 'plan']" in stdout.splitlines()


def test_every_sdk_function_is_documented_with_an_example():
    text = (ROOT / "docs" / "tracking.md").read_text()
    code = "\n".join(
        block
        for page in ("tracking.md", "models.md", "data-validation.md", "pipelines.md",
                     "data.md", "monitoring.md")
        for block in _python_blocks(ROOT / "docs" / page)
    )
    undocumented = [
        name
        for name in gannet.__all__
        if name[0].islower()
        and not name.startswith("_")
        and name not in ("configure", "get_client")
        and f"gannet.{name}(" not in code
        and f"gannet.{name}." not in code
    ]
    assert not undocumented, f"no runnable example in docs/*.md for: {undocumented}"
    for name in ("configure", "get_client"):
        assert name in text or name in (ROOT / "docs" / "settings.md").read_text()


def test_readme_quickstart_is_what_make_and_ci_run():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, flags=re.M)
    assert re.search(r"^test:", makefile, flags=re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_models_example_runs_in_order(tmp_path: Path):
    stdout = _run_examples("models.md", tmp_path)
    lines = stdout.splitlines()
    assert "sklearn skops" in lines
    assert "churn 1 True" in lines
    assert "True" in lines
    assert "False" in lines
    assert "input is missing column 'mean radius'" in stdout
    assert "PERMISSION_DENIED" in lines and "pickle" in lines  # a pickle folder needs trust
    assert "# Model card: churn version 1" in lines
    assert "mlflow agrees: True" in lines  # mlflow.pyfunc loads a Gannet package
    assert lines.count("sklearn skops") == 2  # and Gannet imports what MLflow 3 saves


@pytest.mark.slow
def test_the_quickstart_demo_runs_the_whole_loop(tmp_path: Path):
    """`make demo` end to end in a fresh home: data, experiments, a pipeline, a served
    champion, drift and an alert, a policy that promotes a retrained model and then rolls
    a bad one back. It takes well under two minutes on a quiet 2-core machine; on a busy
    one it may take longer, so the outcome is asserted, not the time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANNET_")}
    env.update(GANNET_HOME=str(tmp_path / "home"), COLUMNS="200")
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    took = time.monotonic() - began
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(f"the demo took {took:.1f} s")  # shown with -s; the lead compares it with 120 s
    assert "Best by AUC" in done.stdout
    assert "champion: True" in done.stdout
    assert "POST /predict ->" in done.stdout
    assert "/infer -> predict [" in done.stdout
    assert "alert breast-cancer-accuracy firing" in done.stdout

    def gannet_json(*args: str) -> object:
        found = subprocess.run([sys.executable, "-m", "gannet", *args, "--json"], cwd=tmp_path,
                               env=env, capture_output=True, text=True, timeout=120)
        assert found.returncode == 0, found.stderr
        return json.loads(found.stdout)

    history = gannet_json("policy", "history")
    actions = [d["action"] for d in history]
    assert "promote" in actions and "rollback" in actions, actions
    rollback, promote = history[actions.index("rollback")], history[actions.index("promote")]
    assert rollback["at"] > promote["at"]  # newest first: the bad model came last
    assert "live accuracy" in rollback["reason"]
    assert str(rollback["numbers"]["version"]) == "3"  # model versions print as text
    assert str(promote["numbers"]["version"]) == "2"
    assert str(promote["numbers"]["previous"]) == "1"
    first_trigger = history[len(history) - 1]
    assert first_trigger["action"] == "trigger"
    assert "breast-cancer-accuracy" in first_trigger["reason"]  # the alert started it
    model = gannet_json("models", "show", "breast-cancer")
    assert model["model"]["aliases"]["champion"] == "2"  # the bad version never took over


def test_every_serving_example_runs_in_order(tmp_path: Path):
    stdout = _run_examples("serving.md", tmp_path)
    assert "prediction" in stdout


@pytest.mark.slow
def test_every_responsible_ai_example_runs_in_order(tmp_path: Path):
    stdout = _run_examples("responsible-ai.md", tmp_path)
    lines = stdout.splitlines()
    assert "['zip_code', 'income', 'tenure']" in lines
    assert "tree raw margin (log-odds) of class 1" in lines
    assert "['90+']" in lines and "True True" in lines
    assert "['explanation', 'fairness']" in lines
    gates = [line for line in lines if line.startswith(("PASS", "FAIL"))]
    assert gates == ["FAIL fairness(equalized_odds_difference)", "PASS explanation",
                     "FAIL feature_importance(forbid zip_code)"]
    assert "tree ['income', 'tenure', 'zip_code']" in lines and "413" in lines


def test_every_setting_is_documented():
    from dataclasses import fields

    from gannet.core.settings import Settings

    page = (ROOT / "docs" / "settings.md").read_text()
    documented = set(re.findall(r"^\| `(\w+)` \|", page, flags=re.M))
    names = {f.name for f in fields(Settings)} - {"sources", "config_file"}
    assert names - documented == set(), "settings missing from docs/settings.md"
    assert documented - names == set(), "docs/settings.md lists settings that do not exist"


def test_the_gc_example_runs(tmp_path: Path):
    stdout = _run_examples("gc.md", tmp_path)
    assert stdout.split() == ["1", "1", "[]"]


def test_the_mlflow_migration_example_runs(tmp_path: Path):
    stdout = _run_examples("migrating-from-mlflow.md", tmp_path)
    lines = stdout.splitlines()
    assert "1 3 1 1" in lines
    assert "baseline [0.9, 0.4, 0.2]" in lines
    assert "True True" in lines
    assert "0 1 0" in lines


def test_every_data_validation_example_runs_in_order(tmp_path: Path):
    lines = _run_examples("data-validation.md", tmp_path).splitlines()
    assert lines[0] == "True 5000"
    assert lines[1:3] == ["not_null(age) False {'nulls': 1}",
                          "between(age) False {'outside': 1, 'min': 18.0, 'max': 130.0}"]
    assert lines[3] == "[4]"
    assert lines[4:6] == ["failed", "1 False"]
    assert lines[6] == "[True, False]"
    assert lines[7].startswith("5000 0 18.0 89.0 ")
    assert lines[8:] == ["21 5000", "['free', 'pro', 'team']", "True"]


@pytest.mark.slow
def test_every_data_example_runs_in_order(tmp_path: Path):
    lines = _run_examples("data.md", tmp_path).splitlines()
    assert lines[:3] == ["churn@1 True ('customer_id', 'tenure', 'left')", "churn@1 False",
                         "churn@2"]
    assert lines[3:] == ["['customers.csv'] 1 1 1", "3 ['customer_id', 'left', 'tenure']",
                         "['README.txt', 'customers.csv'] 2", "churn-table@1 file",
                         "['training'] ['churn-model/1']", "['churn@1']"]


@pytest.mark.slow
def test_every_features_example_runs_in_order(tmp_path: Path):
    stdout = _run_examples("features.md", tmp_path)
    assert stdout.splitlines() == [
        "entity customer 1 created",
        "feature_view churn_stats 1 created",
        "updated 2 ['feature spend_30d dropped'] []",  # no model uses it yet
        "[10.0, 30.0, nan]",
        "churn_stats 2",
        "(2, 2)",
        "{'customer_id': [1, 7], 'orders_30d': [30, None]}",
        "True",
        "[2.0, 6.0, nan]",
        "{'customer_id': [1], 'amount': [20.0], 'amount_ratio': [2.0]}",
        "True",
        "422",
        "True",
        "[30, 0]",
        "churn-train@1",
        "True",
    ]


def test_the_continuous_training_example_runs(tmp_path: Path):
    stdout = _run_examples("continuous-training.md", tmp_path)
    lines = stdout.splitlines()
    assert [line.split(" - ")[0] for line in lines[:-1]] == [
        "trigger", "retrain", "gate", "canary", "promote"]
    assert lines[-1] == "champion: 2"
