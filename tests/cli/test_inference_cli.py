"""``gannet predict`` and ``gannet logs`` through the CLI, on real stores and real files."""

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest


@pytest.fixture
def iris_champion(settings):
    """iris@champion: a LogisticRegression on iris, logged, registered and aliased."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from gannet import GannetClient

    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    client = GannetClient(settings)
    run = client.create_run("0")
    client.log_model(run.run_id, model, input_example=X.head(3))
    client.set_terminated(run.run_id)
    client.register_model(run.run_id, "iris")
    client.set_registered_model_alias("iris", "champion", 1)
    client.close()
    return model, X


def test_predict_a_file_log_it_query_it_and_give_feedback(gannet, iris_champion, tmp_path):
    model, X = iris_champion
    source = tmp_path / "in.parquet"
    X.assign(customer=[f"c{i}" for i in range(len(X))]).to_parquet(source, index=False)
    dest = tmp_path / "scored.parquet"
    done = gannet("predict", "iris@champion", str(source), "-o", str(dest), "--chunk-rows", "50",
                  "--passthrough", "customer", "--log-deployment", "iris-batch")
    assert done.exit_code == 0, done.output
    assert f"predicted 150 rows of {source} with iris/1" in done.stdout
    assert "logged to deployment iris-batch as requests" in done.stderr
    scored = pq.read_table(dest).to_pandas()
    assert scored["prediction"].tolist() == model.predict(X).tolist()
    assert scored["customer"].iloc[0] == "c0"

    counted = gannet("logs", "query", "iris-batch",
                     "SELECT count(*) AS n, count(DISTINCT request_id) AS requests "
                     "FROM predictions", "--json")
    assert counted.exit_code == 0, counted.output
    assert json.loads(counted.stdout) == [{"n": 150, "requests": 3}]
    first = json.loads(gannet("logs", "query", "iris-batch",
                              "SELECT request_id, prediction FROM predictions "
                              "WHERE row = 0 ORDER BY request_id LIMIT 1", "--json").stdout)[0]

    truth = gannet("logs", "feedback", "iris-batch", first["request_id"],
                   str(first["prediction"]), "--row", "0")
    assert truth.exit_code == 0, truth.output
    assert f"for row 0 of request {first['request_id']} of iris-batch" in truth.stdout
    assert gannet("logs", "feedback", "iris-batch", first["request_id"], "setosa",
                  "--text").exit_code == 0
    labels = json.loads(gannet("logs", "query", "iris-batch",
                               "SELECT row, label FROM joined WHERE label IS NOT NULL "
                               "ORDER BY row LIMIT 2", "--json").stdout)
    assert labels == [{"row": 0, "label": str(first["prediction"])},
                      {"row": 1, "label": "setosa"}]

    table = gannet("logs", "query", "iris-batch",
                   "SELECT request_id, row, prediction FROM predictions", "--limit", "3")
    assert table.exit_code == 0
    assert "request_id" in table.stdout and "prediction" in table.stdout
    assert "showing the first 3 rows" in table.stderr

    shown = gannet("logs", "show", "iris-batch", "--limit", "4", columns=80)
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert len(lines) == 4  # one line per row, cut at the console's width
    assert all(len(line) <= 80 for line in lines)
    assert f"v1  {first['request_id'].rsplit('-', 1)[0]}-2/" in lines[0]
    wide = gannet("logs", "show", "iris-batch", "-n", "1", columns=300).stdout
    assert "sepal length (cm)=" in wide
    latest = json.loads(gannet("logs", "show", "iris-batch", "--last", "4", "--json").stdout)
    assert len(latest) == 4  # --last: the old name of --limit, still understood
    assert {"request_id", "row", "timestamp", "prediction", "proba.0", "version"} <= set(latest[0])


def test_predict_json_and_errors(gannet, iris_champion, tmp_path):
    _, X = iris_champion
    source = tmp_path / "in.csv"
    X.to_csv(source, index=False)
    dest = tmp_path / "out.parquet"
    done = gannet("predict", "iris/1", str(source), "-o", str(dest), "--json")
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert (summary["rows"], summary["version"], summary["batch_id"]) == (150, "1", None)

    bad = tmp_path / "bad.csv"
    X.rename(columns={"sepal length (cm)": "sepal_length"}).to_csv(bad, index=False)
    refused = gannet("predict", "iris@champion", str(bad), "-o", str(tmp_path / "no.parquet"))
    assert refused.exit_code == 3
    assert "Error: input is missing column 'sepal length (cm)'" in refused.stderr
    assert not (tmp_path / "no.parquet").exists()
    assert gannet("predict", "iris@champion", str(bad)).exit_code == 2  # -o is required


def test_logs_errors(gannet):
    missing = gannet("logs", "show", "nope")
    assert missing.exit_code == 4
    assert "Error: no predictions logged for deployment 'nope' yet" in missing.stderr
    assert "inference-log" in missing.stderr


def test_logs_query_reports_sql_errors(gannet, settings):
    from gannet.serving.log import InferenceLogWriter, LoggedPrediction

    with InferenceLogWriter(settings.home / "inference-log") as writer:
        writer.log(LoggedPrediction("churn", "churn", 1, "r1", 1_717_243_200_000,
                                    pd.DataFrame({"age": [30]}), [1], 1.0))
    failed = gannet("logs", "query", "churn", "SELECT nope FROM predictions")
    assert failed.exit_code == 3
    assert "Error: the query failed" in failed.stderr and "nope" in failed.stderr
    assert "hint: query the views predictions, feedback and joined" in failed.stderr
    shown = gannet("logs", "show", "churn")
    assert "2024-06-01 12:00:00.000" in shown.stdout
    assert "age=30" in shown.stdout


def test_predict_runs_no_unverifiable_package_code_even_with_allow_unsigned(gannet, settings,
                                                                            tmp_path):
    """A python-class version signed by a key this home does not trust: ``allow_unsigned``
    used to let ``gannet predict`` load it, running the class the package names."""
    from gannet.testing.intruder import register_as_stranger

    mark = tmp_path / "mark"
    register_as_stranger(settings, "intruded", mark)
    source = tmp_path / "in.parquet"
    pd.DataFrame({"x": [1.0, 2.0]}).to_parquet(source, index=False)
    dest = tmp_path / "scored.parquet"
    done = gannet("predict", "intruded@latest", str(source), "-o", str(dest),
                  env={"GANNET_ALLOW_UNSIGNED": "true"})
    assert done.exit_code == 6, done.output
    assert ("Error: intruded/1 runs code from its package when it loads (it imports "
            "gannet.testing.intruder:Intruder and calls its load)") in done.stderr
    assert "hint: re-register intruded/1" in done.stderr
    assert not mark.exists() and not dest.exists()


@pytest.mark.parametrize("name", ["scored.csv", "scored.jsonl", "scored.ndjson", "scored.pq"])
def test_predict_writes_the_format_its_output_name_says(gannet, iris_champion, tmp_path, name):
    model, X = iris_champion
    source = tmp_path / "in.parquet"
    X.assign(customer=[f"c{i}" for i in range(len(X))]).to_parquet(source, index=False)
    dest = tmp_path / name
    done = gannet("predict", "iris/1", str(source), "-o", str(dest), "--passthrough", "customer")
    assert done.exit_code == 0, done.output
    if name.endswith(".csv"):
        scored = pd.read_csv(dest)
    elif name.endswith((".jsonl", ".ndjson")):
        scored = pd.read_json(dest, lines=True)
        assert len(dest.read_text().splitlines()) == len(X)
    else:
        scored = pq.read_table(dest).to_pandas()
    assert scored["prediction"].tolist() == model.predict(X).tolist()
    assert scored["customer"].iloc[:2].tolist() == ["c0", "c1"]
    assert {"proba.0", "proba.2", "sepal length (cm)"} <= set(scored.columns)


def test_predict_refuses_an_unknown_output_format_before_any_work(gannet, iris_champion, tmp_path):
    _, X = iris_champion
    work = tmp_path / "work"
    work.mkdir()
    source = work / "in.parquet"
    X.to_parquet(source, index=False)
    for name in ("scored.xlsx", "scored"):
        refused = gannet("predict", "no-such-model@champion", str(source), "-o",
                         str(work / name))
        assert refused.exit_code == 3, refused.output  # not 4: the model was not looked up
        assert "is not an output format Gannet writes" in refused.stderr
        assert "hint: name the output *.parquet, *.csv or *.jsonl" in refused.stderr
    assert sorted(p.name for p in work.iterdir()) == ["in.parquet"]


def test_predict_names_extra_columns_and_points_at_passthrough(gannet, iris_champion, tmp_path):
    _, X = iris_champion
    source = tmp_path / "in.csv"
    X.assign(customer="c", region="eu").to_csv(source, index=False)
    refused = gannet("predict", "iris@champion", str(source), "-o", str(tmp_path / "out.csv"))
    assert refused.exit_code == 3, refused.output
    assert "has column(s) 'customer', 'region' that the model does not take" in refused.stderr
    assert "--passthrough customer --passthrough region" in refused.stderr
    assert not (tmp_path / "out.csv").exists()
