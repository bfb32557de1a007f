"""A training set saved as a dataset version: its lineage reaches the feature views (at
their versions) and their source dataset versions, the run that trains on it records it,
and the feature views appear in the data catalogue with the model versions that use them.
Validation suites and profiles run on a feature view's rows. Embedded and through a team
server (``sdk_anywhere``)."""

import json

import pandas as pd
import pytest

from gannet.core.errors import NotFound
from tests.features.feature_data import DAY, DEFINITIONS, T0, stats_frame

FEATURES = ["churn_stats:orders_30d", "churn_stats:spend_30d"]


@pytest.fixture
def sdk(sdk_anywhere):
    return sdk_anywhere


@pytest.fixture
def applied(sdk):
    import gannet.data
    import gannet.features

    gannet.data.add(stats_frame(), "churn-stats")
    gannet.features.apply(DEFINITIONS.format(source="churn-stats@1"))
    return sdk


def _services():
    from gannet.client import fluent

    return fluent.get_client().services


def _entity_rows() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [1, 1, 2],
                         "event_timestamp": [T0 + 2 * DAY, T0 + 4 * DAY, T0 + 2 * DAY],
                         "left": [0, 1, 0]})


def test_a_saved_training_set_is_a_dataset_version_with_lineage(applied):
    import gannet.data
    import gannet.features

    with applied.start_run(log_environment=False) as run:
        frame = gannet.features.training_set(_entity_rows(), FEATURES, save_as="churn-train",
                                             message="for the tree")
    assert frame["orders_30d"].tolist() == [10, 30, 5]
    assert frame.attrs["gannet.dataset_version"] == "churn-train@1"
    stored = gannet.data.open("churn-train@1", as_="pandas")
    assert stored["orders_30d"].tolist() == [10, 30, 5]
    assert stored["left"].tolist() == [0, 1, 0]
    assert gannet.data.resolve("churn-train@latest").message == "for the tree"

    usage = _services().data.usage("churn-train@1")
    made_from = {(m["kind"], m["id"], m["context"]) for m in usage.derived_from}
    assert made_from == {("feature_view", "churn_stats@1", "training set"),
                         ("dataset_version", "churn-stats@1", "source of churn_stats")}
    assert [(r["run_id"], r["context"]) for r in usage.runs] == [(run.info.run_id, "training")]
    inputs = _services().data.usage(f"runs:/{run.info.run_id}").datasets
    assert [i["dataset_version"] for i in inputs] == ["churn-train@1"]


def test_the_same_training_set_again_makes_no_new_version(applied):
    import gannet.features

    gannet.features.training_set(_entity_rows(), FEATURES, save_as="churn-train")
    again = gannet.features.training_set(_entity_rows(), FEATURES, save_as="churn-train",
                                         output="arrow")
    assert again.schema.metadata[b"gannet.dataset_version"] == b"churn-train@1"
    assert [v.version for v in _services().data.log("churn-train")] == [1]


def test_saving_needs_a_live_run_and_a_known_feature(applied):
    import gannet.features

    with pytest.raises(NotFound, match="orders_3d"):
        gannet.features.training_set(_entity_rows(), ["churn_stats:orders_3d"],
                                     save_as="churn-train")
    with pytest.raises(NotFound):
        _services().data.resolve("churn-train@latest")


def test_feature_views_in_the_catalogue_with_the_models_that_use_them(applied):
    import gannet.features

    with applied.start_run(log_environment=False) as run:
        frame = gannet.features.training_set(_entity_rows(), FEATURES, save_as="churn-train")
        from sklearn.tree import DecisionTreeClassifier

        X = frame[["orders_30d", "spend_30d"]]
        applied.log_model(DecisionTreeClassifier().fit(X, frame["left"]), "model",
                          input_example=X.head(1))
    applied.register_model(run.info.run_id, "churn")

    datasets, views = _services().data.catalogue("orders")  # a column, and a feature
    assert sorted(d.name for d in datasets) == ["churn-stats", "churn-train"]
    assert _services().data.catalogue("GROWTH") == ([], views)  # the view's owner and tag
    (entry,) = views
    assert (entry.name, entry.version, entry.owner) == ("churn_stats", 1, "growth")
    assert entry.tags == {"team": "growth"}
    assert entry.features == ["orders_30d", "spend_30d"]
    assert entry.training_sets == ["churn-train@1"] and entry.model_versions == ["churn/1"]
    assert entry.staleness_s is None  # never materialized
    assert _services().data.catalogue("no-such-thing") == ([], [])
    _services().deployments.create_deployment("churn-api", "churn", {"churn/1": 1},
                                              features=["churn_stats:orders_30d"])
    (entry,) = _services().data.feature_views("churn_stats")
    assert entry.deployments == ["churn-api"] and entry.model_versions == ["churn/1"]

    dropped = DEFINITIONS.format(source="churn-stats@1").replace(
        "features: [orders_30d, spend_30d]", "features: [orders_30d]")
    (_, change) = gannet.features.apply(dropped, dry_run=True)
    assert change.breaking == ["feature spend_30d dropped"]
    assert change.affects == ["churn/1", "deployment churn-api"]  # who it would break
    tagged = DEFINITIONS.format(source="churn-stats@1").replace("team: growth", "team: ops")
    (_, harmless) = gannet.features.apply(tagged, dry_run=True)
    assert (harmless.status, harmless.breaking, harmless.affects) == ("updated", [], [])


def test_validation_suites_and_profiles_run_on_a_feature_view(applied):
    import gannet.data

    profile = gannet.data.profile("feature_view:churn_stats")
    assert profile.rows == 4
    assert {c.name for c in profile.columns} >= {"customer_id", "orders_30d", "spend_30d"}
    suite = [{"check": "between", "column": "orders_30d", "min": 0, "max": 20}]
    report = _services().validation.validate_data("feature_view:churn_stats", suite)
    assert not report.passed
    assert report.source == "feature_view:churn_stats"
    with pytest.raises(NotFound, match="churn_stat"):
        gannet.data.validate("feature_view:churn_stat", suite)


def test_the_catalogue_and_a_view_check_from_the_cli(applied, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from gannet.cli.app import app

    settings = _services().settings
    if settings.uri:
        monkeypatch.setenv("GANNET_URI", settings.uri)
        stores = ["--home", str(tmp_path / "cli")]
    else:
        stores = ["--home", str(settings.home), "--metadata-url", settings.metadata_url,
                  "--artifacts-url", settings.artifacts_url]
    runner = CliRunner()
    shown = runner.invoke(app, [*stores, "data", "catalogue", "--json"])
    assert shown.exit_code == 0, shown.output
    found = json.loads(shown.output)
    assert [v["name"] for v in found["feature_views"]] == ["churn_stats"]
    assert [d["name"] for d in found["datasets"]] == ["churn-stats"]
    suite = tmp_path / "suite.yaml"
    suite.write_text("checks:\n  - {check: not_null, column: spend_30d}\n")
    checked = runner.invoke(app, [*stores, "data", "validate", "feature_view:churn_stats",
                                  "--suite", str(suite), "--json"])
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.output)["passed"] is True
