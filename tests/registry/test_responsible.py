"""ResponsibleAIService on a regressor, and the responsible-AI gates' policy checks and
options (include_small, source, min), on SQLite and PostgreSQL."""

import numpy as np
import pandas as pd
import pytest

from gannet.bootstrap import build
from gannet.core.errors import InvalidArgument, NotFound

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def services(settings):
    found = build(settings)
    yield found
    found.close()


def _regressor(services, tmp_path):
    """Prices whose errors are ten times larger for one region (a model blind to it)."""
    from sklearn.linear_model import LinearRegression

    from gannet.models.package import save_model

    rng = np.random.default_rng(0)
    n = 2000
    region = rng.choice(["north", "south", "island"], n, p=[0.495, 0.495, 0.01])
    size = rng.uniform(20, 200, n)
    noise = np.where(region == "south", 30.0, 3.0) * rng.normal(size=n)
    frame = pd.DataFrame({"size": size, "region": region, "price": 5 * size + noise})
    model = LinearRegression().fit(frame[["size"]], frame["price"])
    save_model(model, tmp_path / "model", input_example=frame[["size"]].head(3))
    frame.to_csv(tmp_path / "prices.csv", index=False)
    services.registry.register_model(tmp_path / "model", "prices")
    return str(tmp_path / "prices.csv")


@pytest.mark.slow
def test_a_regressor_gets_errors_per_group_and_linear_contributions(services, tmp_path):
    data = _regressor(services, tmp_path)
    explained = services.rai.explain_model_version("prices/1", data, "price", n_repeats=2)
    assert explained.report["shap"]["method"] == "linear"
    assert explained.report["permutation"]["scoring"] == "r2"
    fair = services.rai.compute_fairness("prices/1", data, "price", ["region"])
    region = fair.report["attributes"]["region"]
    groups = {g["group"]: g for g in region["groups"]}
    assert fair.report["task"] == "regression"
    assert groups["south"]["rmse"] > 5 * groups["north"]["rmse"]
    assert region["small_groups"] == ["island"]
    assert region["disparities"]["rmse_difference"] > 20
    card = services.registry.get_model_card("prices", 1)
    assert "| Group | Rows | rmse | mae |" in card and "island (small)" in card


def test_policies_with_malformed_responsible_ai_gates_are_refused(services, tmp_path):
    _regressor(services, tmp_path)
    for gate, words in (
        ("fairness: {metric: equalized_odds_difference}", "needs a metric and max or min"),
        ("fairness: {max: 0.1}", "needs a metric"),
        ("fairness: {metric: x, max: 1, groups: sex}", "must be a list"),
        ("feature_importance: {forbid: []}", "needs forbid"),
        ("explanation: {required: maybe}", "required: true"),
    ):
        with pytest.raises(InvalidArgument, match=words):
            services.registry.set_model_policy("prices", f"aliases:\n  champion:\n    - {gate}\n")


def test_gate_options_small_groups_sources_and_bounds(services, tmp_path):
    data = _regressor(services, tmp_path)
    registry = services.registry

    def gates(*specs):
        policy = "aliases:\n  champion:\n" + "".join(f"    - {s}\n" for s in specs)
        registry.set_model_policy("prices", policy)
        return {r.gate: r for r in registry.check_promotion_gates("prices", 1, "champion")}

    missing = gates("fairness: {metric: rmse_difference, max: 100}")
    assert not missing["fairness(rmse_difference)"].passed
    assert "gannet models fairness prices/1" in missing["fairness(rmse_difference)"].detail
    services.rai.compute_fairness("prices/1", data, "price", ["region"], min_group_size=100)
    services.rai.explain_model_version("prices/1", data, "price", n_repeats=1)

    found = gates("fairness: {metric: rmse_difference, max: 100, groups: [region]}",
                  "fairness: {metric: mae_difference, max: 1000, groups: [region], "
                  "include_small: true}",
                  "fairness: {metric: rmse_difference, max: 1, groups: [age]}",
                  "feature_importance: {forbid: [size], source: permutation}",
                  "feature_importance: {forbid: [region], top_k: 1}")
    assert found["fairness(rmse_difference)"].passed is False  # the last one: no 'age'
    assert "age: not in the fairness report (computed for region)" in \
        found["fairness(rmse_difference)"].detail
    assert found["fairness(mae_difference)"].passed
    assert "feature_importance(forbid size)" in found
    assert not found["feature_importance(forbid size)"].passed  # the only input: rank 1
    assert "rank 1 of 1" in found["feature_importance(forbid size)"].detail
    assert found["feature_importance(forbid region)"].passed  # not a model input
    assert "region: not a model input" in found["feature_importance(forbid region)"].detail

    small = gates("fairness: {metric: rmse_difference, max: 40, groups: [region]}")
    assert small["fairness(rmse_difference)"].passed  # island (small) is not gated on
    assert "small groups not gated: island" in small["fairness(rmse_difference)"].detail


def test_reports_and_plots_of_an_unknown_kind_or_version_are_not_found(services, tmp_path):
    _regressor(services, tmp_path)
    with pytest.raises(NotFound, match="no fairness report"):
        services.rai.get_report_plot("prices/1", "fairness")
    with pytest.raises(NotFound):
        services.rai.get_version_reports("prices/9")
    with pytest.raises(NotFound, match="neither a file nor a dataset version"):
        services.rai.explain_model_version("prices/1", "missing.parquet", "price")


def test_a_team_server_client_is_told_where_explanations_are_computed(services, settings):
    from gannet.client.client import GannetClient
    from gannet.core.errors import NotSupported
    from gannet.testing.server import running_server

    with running_server(services) as url:
        client = GannetClient(settings.replace(uri=url))
        try:
            with pytest.raises(NotSupported, match="computing explanations and fairness results "
                                                   "belongs to the server at"):
                client.explain_model_version("prices/1", "prices.csv", "price")
        finally:
            client.close()
