"""Runs and their logging over ``/api/v1``: a retried request writes once, bad input is a
precise error in the one envelope and stores nothing."""

import uuid

import pytest

from gannet.core.ids import new_id


def make_run(http, **extra):
    made = http.post("/api/v1/runs", json={"experiment_id": "0", **extra})
    assert made.status_code == 201, made.text
    return made.json()["run"]["info"]["run_id"]


def history(http, run_id, key):
    found = http.get(f"/api/v1/runs/{run_id}/metric-history", params={"key": key})
    return found.json()["metrics"]


def test_a_run_created_twice_under_its_id_is_made_once(http):
    run_id = new_id()
    assert make_run(http, run_id=run_id, run_name="once") == run_id
    again = http.post("/api/v1/runs", json={"experiment_id": "0", "run_id": run_id})
    assert again.status_code == 409
    assert again.json()["code"] == "RESOURCE_ALREADY_EXISTS" and run_id in again.json()["error"]
    search = http.post("/api/v1/runs/search", json={"experiment_ids": ["0"]}).json()
    assert [r["info"]["run_id"] for r in search["runs"]] == [run_id]
    bad = http.post("/api/v1/runs", json={"experiment_id": "0", "run_id": "../../etc"})
    assert bad.status_code == 400 and "32 lowercase hex" in bad.json()["error"]


def test_a_log_batch_sent_twice_under_its_id_is_stored_once(http):
    run_id = make_run(http)
    batch = {"batch_id": uuid.uuid4().hex,
             "metrics": [{"key": "loss", "value": "NaN", "timestamp": 1, "step": 0},
                         {"key": "loss", "value": 0.5, "timestamp": 2, "step": 1}],
             "params": {"lr": "0.1"}, "tags": {"t": "1"}}
    for _ in range(3):
        assert http.post(f"/api/v1/runs/{run_id}/log-batch", json=batch).status_code == 200
    points = history(http, run_id, "loss")
    assert [(p["value"], p["step"]) for p in points] == [("NaN", 0), (0.5, 1)]
    assert http.get(f"/api/v1/runs/{run_id}/params").json() == {"params": {"lr": "0.1"}}


def test_a_buffer_batch_sent_twice_is_stored_once_and_answered_alike(http):
    first, gone = make_run(http), new_id()
    batch = {"batch_id": uuid.uuid4().hex,
             "points": [[first, "acc", 0.5, 10, 0], [first, "acc", "Infinity", 11, 1],
                        [gone, "acc", 1.0, 12, 0]],
             "params": [[first, "depth", "3"]], "tags": [[first, "stage", "dev"]]}
    answers = [http.post("/api/v1/runs/write-pending", json=batch) for _ in range(2)]
    assert answers[0].json() == answers[1].json() == {
        "report": {"refused_runs": [gone], "conflicts": []}}
    assert [(p["value"], p["step"]) for p in history(http, first, "acc")] == [
        (0.5, 0), ("Infinity", 1)]


@pytest.mark.parametrize(
    ("entry", "says"),
    [({"points": [["RUN", "bad key\n", 1.0, 1, 0]]}, "metric key"),
     ({"points": [["RUN", "m", 1.0, -5, 0]]}, "timestamp"),
     ({"points": [["RUN", "m", "often", 1, 0]]}, "points.0.2"),
     ({"params": [["RUN", "p", "a\u0000b"]]}, "param 'p' value contains"),
     ({"tags": [["", "t", "v"]]}, "not a run id"),
     ({"batch_id": "short"}, "batch_id")],
)
def test_a_buffer_batch_with_a_bad_entry_is_refused_whole(http, entry, says):
    run_id = make_run(http)
    batch = {"batch_id": uuid.uuid4().hex, "points": [[run_id, "ok", 1.0, 1, 0]]}
    for name, rows in entry.items():
        batch[name] = [[run_id if v == "RUN" else v for v in row] for row in rows] \
            if isinstance(rows, list) else rows
    refused = http.post("/api/v1/runs/write-pending", json=batch)
    assert refused.status_code == 400, refused.text
    assert says in refused.json()["error"]
    assert history(http, run_id, "ok") == []


def test_runs_update_delete_restore_tags_and_search_filters(http):
    run_id = make_run(http, run_name="a", tags={"team": "x"})
    assert http.patch(f"/api/v1/runs/{run_id}", json={"status": "finished"}).status_code == 200
    run = http.get(f"/api/v1/runs/{run_id}").json()["run"]
    assert run["info"]["status"] == "FINISHED" and run["info"]["end_time"] is not None
    wrong = http.patch(f"/api/v1/runs/{run_id}", json={"status": "DONE"})
    assert wrong.status_code == 400 and "unknown run status 'DONE'" in wrong.json()["error"]
    assert http.delete(f"/api/v1/runs/{run_id}/tags/team").status_code == 200
    assert http.delete(f"/api/v1/runs/{run_id}/tags/team").json()["code"] == \
        "RESOURCE_DOES_NOT_EXIST"
    injection = http.post("/api/v1/runs/search", json={
        "experiment_ids": ["0"], "filter_string": "tags.x = 'a'; DROP TABLE runs; --'"})
    assert injection.status_code == 400 and injection.json()["code"] == "INVALID_PARAMETER_VALUE"
    assert http.delete(f"/api/v1/runs/{run_id}").status_code == 200
    assert http.post("/api/v1/runs/search", json={"experiment_ids": ["0"]}).json()["runs"] == []
    assert http.post(f"/api/v1/runs/{run_id}/restore").status_code == 200
    found = http.post("/api/v1/runs/search", json={
        "experiment_ids": ["0"], "filter_string": "attributes.run_name = 'a'",
        "order_by": ["start_time DESC"], "max_results": 1}).json()
    assert [r["info"]["run_id"] for r in found["runs"]] == [run_id]
    too_many = http.post("/api/v1/runs/search", json={"experiment_ids": ["0"],
                                                      "max_results": 10**6})
    assert too_many.status_code == 400 and "max_results" in too_many.json()["error"]


def test_an_environment_whose_digest_lies_is_refused_and_no_run_is_made(http):
    environment = {"python": "3.11.7", "implementation": "CPython", "platform": "Linux",
                   "packages": "numpy==2.0\n", "packages_digest": "blake3:" + "0" * 64}
    refused = http.post("/api/v1/runs", json={"experiment_id": "0", "environment": environment})
    assert refused.status_code == 400 and "packages_digest" in refused.json()["error"]
    batch = {"batch_id": uuid.uuid4().hex, "environments": [[make_run(http), environment]]}
    assert http.post("/api/v1/runs/write-pending", json=batch).status_code == 400
    search = http.post("/api/v1/runs/search", json={"experiment_ids": ["0"]}).json()
    assert all("gannet.packages.digest" not in r["data"]["tags"] for r in search["runs"])
    assert len(search["runs"]) == 1
