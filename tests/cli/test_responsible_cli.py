"""``gannet models explain | fairness | sensitive`` and the responsible-AI gates, end to end
on real scikit-learn models trained on generated data with a built-in bias
(``tests/biased_credit.py``), on SQLite and PostgreSQL."""

import json

import pytest
from biased_credit import save_credit_model

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::FutureWarning")]

POLICY = """
aliases:
  champion:
    - fairness: {metric: equalized_odds_difference, max: 0.1, groups: [sex, age_band]}
    - explanation: {required: true}
    - feature_importance: {forbid: [zip_code], top_k: 2, max_share: 0.05}
"""


def _json(done):
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


def _set_policy(gannet, tmp_path):
    (tmp_path / "policy.yaml").write_text(POLICY)
    done = gannet("models", "set-policy", "credit", str(tmp_path / "policy.yaml"))
    assert done.exit_code == 0, done.output


def _register(gannet, folder, name="credit"):
    done = gannet("models", "register", str(folder), name)
    assert done.exit_code == 0, done.output


def test_a_biased_model_is_caught_by_every_gate(gannet, tmp_path):
    model = save_credit_model(tmp_path / "biased", biased=True)
    holdout = tmp_path / "biased" / "holdout.parquet"
    _register(gannet, model)
    plot = tmp_path / "importance.html"
    explained = _json(gannet("models", "explain", "credit/1", "--data", str(holdout),
                             "--target", "approved", "--plot", str(plot), "--json"))
    report = explained["report"]
    assert report["shap"]["method"] == "tree"
    ranked = [f["feature"] for f in report["permutation"]["features"]]
    assert ranked[0] == "zip_code"  # the proxy of sex drives the decisions
    assert len(report["local"]["rows"]) == 5 and set(report["local"]["rows"][0]) == {
        "income", "tenure", "zip_code"}
    assert plot.read_text().startswith("<!doctype html>") and "zip_code" in plot.read_text()
    png = tmp_path / "importance.png"
    assert gannet("models", "explain", "credit/1", "--data", str(holdout), "--target",
                  "approved", "--plot", str(png)).exit_code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    fair = _json(gannet("models", "fairness", "credit/1", "--data", str(holdout), "--target",
                        "approved", "--sensitive", "sex", "--sensitive", "age_band", "--json"))
    attributes = fair["report"]["attributes"]
    assert set(attributes) == {"sex", "age_band", "sex+age_band"}
    assert attributes["sex"]["disparities"]["equalized_odds_difference"] > 0.15
    assert attributes["sex"]["disparities"]["demographic_parity_ratio"] < 0.8
    assert attributes["age_band"]["small_groups"] == ["90+"]  # 1% of rows: reported apart

    card = gannet("models", "card", "credit/1")
    assert "## Explanations" in card.stdout and "| zip_code |" in card.stdout
    assert "### sex+age_band" in card.stdout and "90+ (small)" in card.stdout

    _set_policy(gannet, tmp_path)
    refused = gannet("models", "promote", "credit", "1", "champion")
    assert refused.exit_code == 1
    assert "FAIL fairness(equalized_odds_difference): sex: equalized_odds_difference" in \
        " ".join(refused.stdout.split())
    assert "FAIL feature_importance(forbid zip_code): zip_code: rank 1" in \
        " ".join(refused.stdout.split())
    assert "PASS explanation" in " ".join(refused.stdout.split())


def test_a_fair_model_passes_and_the_audit_log_keeps_each_gate(gannet, settings, tmp_path):
    model = save_credit_model(tmp_path / "fair", biased=False)
    holdout = str(tmp_path / "fair" / "holdout.csv")
    _register(gannet, model)
    _set_policy(gannet, tmp_path)
    before = gannet("models", "promote", "credit", "1", "champion")
    assert before.exit_code == 1 and "no explanation stored" in before.stdout

    declared = _json(gannet("models", "sensitive", "credit", "--set", "sex", "--set",
                            "age_band", "--json"))
    assert declared["sensitive_attributes"] == ["sex", "age_band"]
    assert gannet("models", "explain", "credit/1", "--data", holdout, "--target",
                  "approved").exit_code == 0
    done = gannet("models", "fairness", "credit/1", "--data", holdout, "--target", "approved")
    assert done.exit_code == 0, done.output
    assert "small groups (not in the disparities): 90+" in " ".join(done.output.split())

    collected = gannet("gc", "--older-than", "0s", "--json")  # the plots are kept
    assert collected.exit_code == 0, collected.output
    from gannet.bootstrap import build

    services = build(settings)
    try:
        assert services.rai.get_report_plot("credit/1", "fairness", "png")[:4] == b"\x89PNG"
        assert b"<svg" in services.rai.get_report_plot("credit/1", "explanation", "html")
    finally:
        services.close()

    promoted = gannet("models", "promote", "credit", "1", "champion", "-r", "fair enough")
    assert promoted.exit_code == 0, promoted.output
    entries = _json(gannet("audit", "model:credit", "--json"))
    gates = next(e for e in entries if e["action"] == "alias.promote")["detail"]["gates"]
    assert {g["gate"] for g in gates} == {"fairness(equalized_odds_difference)", "explanation",
                                          "feature_importance(forbid zip_code)"}
    assert all(g["passed"] for g in gates)
    assert {e["action"] for e in entries} >= {"version.explanation", "version.fairness"}
    card = gannet("models", "card", "credit@champion").stdout
    assert "passed fairness(equalized_odds_difference): sex: equalized_odds_difference" in card


def test_bad_input_is_named(gannet, tmp_path):
    model = save_credit_model(tmp_path / "m", biased=True, kind="svc")
    holdout = tmp_path / "m" / "holdout.parquet"
    _register(gannet, model)
    missing = gannet("models", "fairness", "credit/1", "--data", str(holdout), "--target",
                     "approved", "--sensitive", "sex", "--sensitive", "race")
    assert missing.exit_code == 3
    assert "sensitive attribute(s) 'race' not in the data" in " ".join(missing.output.split())
    undeclared = gannet("models", "fairness", "credit/1", "--data", str(holdout), "--target",
                        "approved")
    assert undeclared.exit_code == 3 and "declares no sensitive attribute" in undeclared.output
    no_target = gannet("models", "explain", "credit/1", "--data", str(holdout), "--target",
                       "label")
    assert no_target.exit_code == 3 and "'label'" in no_target.output
    nowhere = gannet("models", "explain", "credit/1", "--data", "nothing@1", "--target", "y")
    assert nowhere.exit_code == 4

    # a model SHAP cannot explain: permutation importance, and a note naming the fallback
    explained = _json(gannet("models", "explain", "credit/1", "--data", str(holdout),
                             "--target", "approved", "--json"))
    assert explained["report"]["shap"] is None
    assert "falls back to permutation importance" in explained["report"]["notes"][0]
    assert explained["report"]["permutation"]["features"][0]["feature"] == "zip_code"
    fair = _json(gannet("models", "fairness", "credit/1", "--data", str(holdout), "--target",
                        "approved", "--sensitive", "sex", "--positive", "approve", "--json"))
    assert fair["report"]["positive_label"] == "approve"
    assert fair["report"]["attributes"]["sex"]["disparities"]["demographic_parity_ratio"] < 0.8


def test_held_out_data_may_be_a_dataset_version(gannet, tmp_path):
    model = save_credit_model(tmp_path / "d", biased=True, kind="logistic")
    _register(gannet, model)
    added = gannet("data", "add", str(tmp_path / "d" / "holdout.parquet"), "--name", "holdout")
    assert added.exit_code == 0, added.output
    explained = _json(gannet("models", "explain", "credit/1", "--data", "holdout@1",
                             "--target", "approved", "--json"))
    assert explained["data"] == "holdout@1"
    assert explained["report"]["shap"]["method"] == "linear"
    fair = _json(gannet("models", "fairness", "credit/1", "--data", "dataset:holdout@1",
                        "--target", "approved", "--sensitive", "sex", "--json"))
    assert fair["report"]["rows"] == 4000
