"""A policy's YAML, checked before any store is asked: each mistake named, with the fix."""

import pytest

from gannet.core.errors import InvalidArgument
from gannet.training.policy import parse_policy, substitute

GOOD = """
model: churn
deployment: churn
triggers: [{dataset: churn-train}, {schedule: "0 3 * * *"}]
pipeline: {file: "train.py:retrain", params: {data: "${dataset}", v: "${dataset.version}"}}
rollout:
  metrics: [http://127.0.0.1:8080/]
  stages:
    - {weight: 10, duration: 5m, min_requests: 100, timeout: 1h, approval: required,
       guards: {error_rate: 0.01, performance: {metric: accuracy, min: 0.8}}}
    - {weight: 100, on_timeout: wait}
"""


def test_a_policy_reads_with_its_defaults(tmp_path):
    policy = parse_policy(GOOD, folder=tmp_path)
    assert policy.name == "churn" and policy.pipeline.target == f"{tmp_path}/train.py:retrain"
    assert [t.kind for t in policy.triggers] == ["dataset", "schedule"]
    first, last = policy.stages
    assert (first.duration_s, first.timeout_s, first.approval) == (300.0, 3600.0, True)
    assert first.guards.performance_min == 0.8 and last.on_timeout == "wait"
    assert policy.metrics_urls == ("http://127.0.0.1:8080",)
    assert policy.evaluation.gates == "model" and policy.pipeline.executor == "local"
    assert substitute(policy.pipeline.params, "churn-train", 4) == {
        "data": "churn-train@4", "v": "4"}


@pytest.mark.parametrize(("change", "named"), [
    (("model: churn", "model: 'no way'"), "model must be a name"),
    (("{weight: 100, on_timeout: wait}", "{weight: 50}"), "must rise to 100"),
    (("{weight: 100, on_timeout: wait}", "{weight: 100, on_timeout: pray}"), "on_timeout"),
    (("  metrics: [http://127.0.0.1:8080/]\n", ""), "error_rate guard needs"),
    (("{dataset: churn-train}, ", ""), "no dataset trigger"),
    (("{schedule: \"0 3 * * *\"}", "{schedule: \"every day\"}"), "not a cron expression"),
    (("error_rate: 0.01", "error_rate: 0.01, latency: 3"), "unknown guard"),
    (("deployment: churn", "deployment: churn\nrollouts: {}"), "unknown key"),
    (("triggers: [", "triggers: [{weather: rain}, "), "cannot read trigger"),
])
def test_a_mistake_is_named(change, named):
    with pytest.raises(InvalidArgument, match=named):
        parse_policy(GOOD.replace(*change))
