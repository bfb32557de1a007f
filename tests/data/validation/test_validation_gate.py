"""A failed validation of a run's data blocks its model's promotion (the registry's
``data_validation`` gate reads the tag ``validate_data`` sets on the active run)."""

import pytest
from validation_tables import SUITE, people

POLICY = """
aliases:
  champion:
    - data_validation: passed
"""


def _train(sdk, frame):
    from sklearn.dummy import DummyClassifier

    features = frame[["age"]].fillna(0)
    with sdk.start_run(log_environment=False) as run:
        report = sdk.validate_data(frame, SUITE, dataset="people")
        model = DummyClassifier().fit(features, features["age"] > 50)
        sdk.log_model(model, "model", input_example=features.head(3))
    return run.run_id, report


@pytest.mark.slow
def test_a_failed_validation_blocks_promotion_and_a_passed_one_allows_it(sdk):
    bad_run, bad = _train(sdk, people(1200, bad=True))
    assert not bad.passed
    assert sdk.get_run(bad_run).data.tags["gannet.validation"] == "failed"
    client = sdk.get_client()
    v1 = sdk.register_model(bad_run, "churn")
    client.set_model_policy("churn", POLICY)
    refused = sdk.promote("churn", v1.version, "champion")
    assert not refused.promoted
    assert [(r.gate, r.passed, r.detail) for r in refused.results] == [
        ("data_validation", False, "validation: failed")]

    good_run, good = _train(sdk, people(1200))
    assert good.passed
    v2 = sdk.register_model(good_run, "churn")
    assert sdk.promote("churn", v2.version, "champion").promoted
    stored = client.search_data_validations(dataset="people")
    assert [(r.run_id, r.passed) for r in stored] == [(good_run, True), (bad_run, False)]


def test_without_a_run_nothing_is_tagged_and_the_report_is_still_stored(sdk):
    report = sdk.validate_data(people(1000), SUITE)
    assert report.passed and sdk.active_run() is None
    stored = sdk.get_client().search_data_validations(dataset="<pandas.DataFrame>")
    assert [(r.run_id, r.passed) for r in stored] == [(None, True)]
