"""Monitors over a deployment's inference log, through the CLI, on SQLite and PostgreSQL:
hourly windows, incremental runs, late labels scored into past windows, unknown request
ids counted, reports as JSON, HTML and Prometheus text."""

import json

import numpy as np
import pandas as pd
import pytest
from logged_churn import HOUR, churn_rows, write_log
from scipy import stats

from gannet.core.clock import now_ms
from gannet.serving.log import InferenceLog
from gannet.serving.log.schema import default_root


@pytest.fixture
def logged(settings, tmp_path):
    """Two closed hours of churn's log (the second shifted) and a reference file."""
    root = default_root(settings)
    first = now_ms() // HOUR * HOUR - 5 * HOUR
    normal = write_log(root, "churn", first, 600, seed=1)
    shifted = write_log(root, "churn", first + HOUR, 600, shift=8.0, seed=2)
    inputs, predictions, _, _ = churn_rows(3000, seed=3)
    reference = tmp_path / "reference.parquet"
    pd.DataFrame({**inputs, "prediction": predictions}).to_parquet(reference)
    return root, first, normal, shifted, reference


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_monitor_reports_windows_incrementally_and_scores_late_labels(gannet, logged, tmp_path):
    root, first, (normal_ids, normal_truth), _, reference = logged
    created = _json(gannet("monitor", "create", "churn", "--reference", str(reference),
                           "--slices", "plan", "--json"))
    assert created["options"]["window"] == "hour" and created["watermark"] is None

    run = _json(gannet("monitor", "run", "churn", "--json"))
    assert run["rows_read"] == 1200
    reports = {r["window_start"]: r for r in run["reports"]}
    assert sorted(reports) == [first, first + HOUR]
    assert reports[first]["body"]["drift"]["drifted_columns"] == []
    assert reports[first + HOUR]["body"]["drift"]["drifted_columns"] == ["tenure", "plan"]
    assert reports[first + HOUR]["body"]["prediction_drift"]["drifted"] is True
    assert reports[first]["body"]["performance"] is None  # no label yet
    assert run["watermark"] == first + 2 * HOUR

    again = _json(gannet("monitor", "run", "churn", "--json"))
    assert again["rows_read"] == 0 and again["reports"] == []  # nothing new, nothing re-read

    log = InferenceLog(root)
    log.feedback_many("churn", [{"request_id": r, "label": int(t)}
                                for r, t in zip(normal_ids, normal_truth, strict=True)])
    log.feedback_many("churn", [{"request_id": f"nobody-{i}", "label": 1} for i in range(3)])
    late = _json(gannet("monitor", "run", "churn", "--json"))
    assert late["rows_read"] == 0
    scored = {r["window_start"]: r for r in late["reports"]}
    performance = scored[first]["body"]["performance"]
    rows = log.query("churn", "SELECT prediction, \"proba.1\" AS p, label FROM joined "
                     "WHERE label IS NOT NULL")
    expected_auc = _auc(rows["label"].to_numpy(), rows["p"].to_numpy())
    assert performance["labelled"] == 600 and performance["coverage"] == 1.0
    assert performance["overall"]["accuracy"] == pytest.approx(
        float(np.mean(rows["prediction"] == rows["label"])))
    assert performance["overall"]["roc_auc"] == pytest.approx(expected_auc)
    assert set(performance["slices"]["plan"]) == {"basic", "plus", "pro"}
    by_plan = log.query("churn", "SELECT \"input.plan\" AS plan, prediction, label FROM "
                        "joined WHERE label IS NOT NULL")  # live fairness, as Fairlearn says
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

    live = performance["fairness"]["plan"]
    assert live["equalized_odds_difference"] == pytest.approx(equalized_odds_difference(
        by_plan["label"], by_plan["prediction"], sensitive_features=by_plan["plan"]))
    assert live["demographic_parity_difference"] == pytest.approx(
        demographic_parity_difference(by_plan["label"], by_plan["prediction"],
                                      sensitive_features=by_plan["plan"]))
    assert scored[first]["body"]["metrics"]["fairness.plan.equalized_odds_difference"] == \
        pytest.approx(live["equalized_odds_difference"])
    assert performance["delay_seconds"]["p50"] > 3600  # labels came hours later
    assert scored[first + HOUR]["body"]["metrics"]["labels.unknown"] == 3

    shown = _json(gannet("monitor", "show", "churn", "--json", "--html",
                         str(tmp_path / "page.html")))
    assert [r["window_start"] for r in shown["reports"]] == [first + HOUR, first]
    page = (tmp_path / "page.html").read_text()
    assert "Plotly.newPlot" in page and len(page) > 1_000_000  # plotly.js inlined...
    assert "<script src" not in page and 'src="http' not in page  # ...nothing from a CDN
    assert [m["name"] for m in _json(gannet("monitor", "list", "--json"))] == ["churn"]
    metrics = gannet("monitor", "metrics").output
    assert 'gannet_monitor_drift_share{deployment="churn",monitor="churn"} 1.0' in metrics
    assert 'gannet_monitor_column_drifted{column="tenure",deployment="churn",monitor="churn"}' \
        in metrics


def _auc(labels, scores):
    ranks = stats.rankdata(scores)
    positive = labels == 1
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return (ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def test_bad_monitors_are_refused_with_what_to_do(gannet, logged, tmp_path):
    _, _, _, _, reference = logged
    missing = gannet("monitor", "create", "churn", "--reference", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 4 and "does not exist" in missing.output
    window = gannet("monitor", "create", "churn", "--reference", str(reference),
                    "--window", "week")
    assert window.exit_code == 3 and "rows:N" in window.output
    feature = gannet("monitor", "create", "churn", "--reference", str(reference),
                     "--features", "tenure,age")
    assert feature.exit_code == 3 and "age" in feature.output
    assert gannet("monitor", "create", "churn", "--reference", str(reference)).exit_code == 0
    twice = gannet("monitor", "create", "churn", "--reference", str(reference))
    assert twice.exit_code == 5 and "already exists" in twice.output
    assert gannet("monitor", "run", "nobody").exit_code == 4


def test_a_reference_from_the_log_and_last_n_rows(gannet, logged):
    _, first, _, _, _ = logged
    _json(gannet("monitor", "create", "churn", "--name", "recent", "--reference",
                 "log:first:200", "--window", "rows:100", "--json"))
    run = _json(gannet("monitor", "run", "recent", "--json"))
    (report,) = run["reports"]
    assert report["rows"] == 100 and report["window_end"] > first + HOUR
    assert report["body"]["drift"]["drifted_columns"] == ["tenure", "plan"]
    assert _json(gannet("monitor", "run", "recent", "--json"))["reports"] == []


def test_the_team_servers_metrics_export_the_monitors(services, logged):
    import httpx

    from gannet.testing.server import running_server

    _, _, _, _, reference = logged
    services.monitoring.create_monitor("churn", str(reference))
    services.monitoring.run_monitor("churn")
    with running_server(services) as url:
        scraped = httpx.get(f"{url}/metrics", timeout=30).text
    assert 'gannet_monitor_drift_share{deployment="churn",monitor="churn"} 1.0' in scraped
    assert "gannet_server_requests_total" in scraped


def test_big_windows_are_tested_on_a_sample_and_counted_exactly(gannet, logged):
    _, first, _, _, reference = logged
    _json(gannet("monitor", "create", "churn", "--reference", str(reference),
                 "--sample-rows", "200", "--json"))
    reports = {r["window_start"]: r for r in _json(gannet("monitor", "run", "churn",
                                                          "--json"))["reports"]}
    assert [reports[first]["rows"], reports[first]["body"]["sampled"]] == [600, 200]
    assert reports[first]["body"]["quality"]["rows"] == 200
    assert reports[first + HOUR]["body"]["drift"]["drifted_columns"] == ["tenure", "plan"]


def test_garbage_collection_keeps_a_monitors_reference_until_it_is_deleted(services, logged):
    _, _, _, _, reference = logged
    monitor = services.monitoring.create_monitor("churn", str(reference))
    services.gc.collect(0)
    assert services.blobs.exists(monitor.reference_digest)
    assert services.monitoring.run_monitor("churn").reports
    services.monitoring.delete_monitor("churn")
    services.gc.collect(0)
    assert not services.blobs.exists(monitor.reference_digest)


def test_a_feature_the_log_lacks_is_a_schema_violation_not_drift(services, logged):
    reference = logged[-1]
    frame = pd.read_parquet(reference).assign(age=40.0)
    services.monitoring.create_monitor("churn", frame)
    report = services.monitoring.run_monitor("churn").reports[0]
    assert report.body["quality"]["missing_columns"] == ["age"]
    assert "age" not in report.body["drift"]["columns"]
    assert report.metrics["quality.missing_columns"] == 1.0


def test_the_scheduler_runs_the_monitors_and_fires_their_alerts(gannet, logged, tmp_path):
    """``gannet scheduler`` runs every monitor over what the log gained (no cron needed):
    the shifted hour is reported and the drift rule fires; the next look finds nothing."""
    _, first, _, _, reference = logged
    assert gannet("monitor", "create", "churn", "--reference", str(reference)).exit_code == 0
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules: [{name: drift, when: drift.share > 0.3}]\n")
    assert gannet("alerts", "apply", str(rules)).exit_code == 0

    result = gannet("scheduler", "--once", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)  # one monitor made reports: one summary
    assert summary["monitor"] == "churn" and summary["rows_read"] == 1200
    assert sorted(r["window_start"] for r in summary["reports"]) == [first, first + HOUR]
    assert [(a["rule"], a["state"]) for a in summary["alerts"]] == [("drift", "firing")]
    history = json.loads(gannet("alerts", "history", "--json").output)
    assert [e["delivery"] for e in history] == [{"log": "sent"}]  # paged before it exited
    again = gannet("scheduler", "--once", "--json")
    assert again.exit_code == 0 and again.output.strip() == ""  # nothing new
    quiet = gannet("scheduler", "--once", "--no-monitors", "--json")
    assert quiet.exit_code == 0 and quiet.output.strip() == ""
