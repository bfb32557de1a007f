"""``POST /feedback`` is bounded (body and field sizes) and written in batches, not a
Parquet file per request."""

import httpx
import pytest
from server_fixtures import CliServer, LiveServer, register_breast_cancer

from gannet.serving.log import InferenceLog, InferenceLogWriter
from gannet.serving.log.schema import default_root


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    found = register_breast_cancer(tmp_path_factory.mktemp("feedback"))
    yield found
    found.services.close()


def _feedback_files(root):
    return sorted((root / "feedback").rglob("*.parquet"))


def test_gannet_serve_bounds_feedback_bodies_and_fields(registered):
    """The defaults of ``gannet serve``: a body over 64 KiB is 413, a label or request id
    over its size 422, all with the envelope; a good label still lands in the log."""
    root = default_root(registered.settings)
    with CliServer(registered.settings, "churn@champion") as server, \
            httpx.Client(base_url=server.url, timeout=30) as client:
        request_id = client.post("/predict", json=registered.records(0)).json()["request_id"]
        refused = {
            "body": client.post("/feedback", json={"request_id": request_id,
                                                   "label": "x" * 100_000}),
            "text label": client.post("/feedback", json={"request_id": request_id,
                                                         "label": "x" * 5_000}),
            "list label": client.post("/feedback", json={"request_id": request_id,
                                                         "label": list(range(2_000))}),
            "object label": client.post("/feedback", json={"request_id": request_id,
                                                           "label": {"a": 1}}),
            "request id": client.post("/feedback", json={"request_id": "r" * 1_000,
                                                         "label": 1}),
            "row": client.post("/feedback", json={"request_id": request_id, "label": 1,
                                                  "row": 2**40}),
        }
        accepted = client.post("/feedback", json={"request_id": request_id, "label": 1})
    statuses = {what: (a.status_code, a.json().get("code")) for what, a in refused.items()}
    assert statuses == {
        "body": (413, "REQUEST_TOO_LARGE"), "text label": (422, "INVALID_INPUT"),
        "list label": (422, "INVALID_INPUT"), "object label": (422, "INVALID_INPUT"),
        "request id": (422, "INVALID_INPUT"), "row": (422, "INVALID_INPUT"),
    }
    for what, answer in refused.items():
        assert set(answer.json()) == {"error", "code", "hint", "request_id"}, what
    assert "label" in refused["text label"].json()["error"]
    assert "request_id" in refused["request id"].json()["error"]
    assert accepted.status_code == 200, accepted.text
    labels = InferenceLog(root).query("churn", "SELECT request_id, label FROM feedback")
    assert labels.to_dict("records") == [{"request_id": request_id, "label": 1}]


def test_feedback_posts_are_written_in_batches(registered, tmp_path):
    """Labels posted between two flushes of the inference log land in one file."""
    root = tmp_path / "inference-log"
    posts = 40
    writer = InferenceLogWriter(root, flush_interval=3600)  # only flush() writes
    with LiveServer(registered.services, "churn@champion", log=writer) as server, \
            httpx.Client(base_url=server.url, timeout=30) as client:
        ids = [client.post("/predict", json=registered.records(i)).json()["request_id"]
               for i in range(posts)]
        for i, request_id in enumerate(ids):
            answer = client.post("/feedback", json={"request_id": request_id, "label": i % 2})
            assert answer.status_code == 200, answer.text
        assert _feedback_files(root) == []  # queued, not written on the request path
        assert writer.flush(timeout=60)
        files = _feedback_files(root)
    assert 1 <= len(files) <= 2  # one per date in the batch: two only across midnight UTC
    joined = InferenceLog(root).query(
        "churn", "SELECT request_id, label FROM joined ORDER BY request_id")
    assert dict(zip(joined["request_id"], joined["label"], strict=True)) == {
        request_id: i % 2 for i, request_id in enumerate(ids)}
