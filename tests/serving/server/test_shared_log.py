"""Replicas of a deployment write one inference log on an object store; it is read from
anywhere, and compacted by a housekeeper process beside the workers."""

import httpx
import psutil
import pytest
from server_fixtures import CliServer, register_breast_cancer
from waiting import wait_until

from gannet.serving.log import InferenceLog


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    found = register_breast_cancer(tmp_path_factory.mktemp("shared-log"))
    yield found
    found.services.close()


@pytest.mark.slow
def test_two_replicas_log_to_one_s3_log_that_a_laptop_reads(registered, s3_endpoint, tmp_path):
    url = s3_endpoint.url()  # a prefix of its own
    env = {"GANNET_INFERENCE_LOG_URL": url, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT_URL": s3_endpoint.endpoint_url,
           "AWS_DEFAULT_REGION": "us-east-1"}
    sent: list[str] = []
    with CliServer(registered.settings, "churn@champion", "--workers", "2", env=env) as one, \
            CliServer(registered.settings, "churn@champion", env=env) as two:
        # a server of several workers keeps house (compaction, retention) in a child of its own
        children = wait_until(lambda: len(psutil.Process(one.proc.pid).children()) == 3 or None,
                              what="two workers and a housekeeper")
        assert children
        for server in (one, two):
            with httpx.Client(base_url=server.url, timeout=30) as client:
                for i in range(10):
                    answer = client.post("/predict", json=registered.records(i))
                    assert answer.status_code == 200, answer.text
                    sent.append(answer.json()["request_id"])
    laptop = InferenceLog(url, storage_options=s3_endpoint.storage_options,
                          cache=tmp_path / "cache")
    assert len(laptop.deployments()) == 1  # what `gannet serve REF` logs under
    logged = laptop.query(laptop.deployments()[0], "SELECT request_id FROM predictions")
    assert sorted(logged["request_id"]) == sorted(sent)
    assert not (registered.settings.home / "inference-log").exists()  # nothing on local disk
