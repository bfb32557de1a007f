"""A JSON null or true/false where the signature wants a number is the client's mistake:
422 ``INVALID_INPUT`` naming the column, in every body shape and in V2 - never a 500 with
a traceback, never read as NaN or 1.0. The server logs a client error as one line."""

import logging

import httpx
import pytest
from server_fixtures import CliServer, LiveServer, register_breast_cancer, register_slow_model

pytestmark = pytest.mark.slow

COLUMN = "mean radius"


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    found = register_breast_cancer(tmp_path_factory.mktemp("bad-values"))
    register_slow_model(found.settings, "mixed", example={"x": [1.0, 2.0], "kind": ["a", "b"]})
    register_slow_model(found.settings, "slow")
    yield found
    found.services.close()


def _bodies(records: list[dict]) -> dict[str, tuple[str, object]]:
    """The same rows as each body shape: (path, JSON body)."""
    names = list(records[0])
    return {
        "records": ("/predict", records),
        "columns": ("/predict", {"columns": {n: [r[n] for r in records] for n in names}}),
        "split": ("/predict", {"dataframe_split": {
            "columns": names, "data": [[r[n] for n in names] for r in records]}}),
        "v2": ("/v2/models/{model}/infer", {"inputs": [
            {"name": n, "datatype": "FP64" if n != "kind" else "BYTES", "shape": [len(records)],
             "data": [r[n] for r in records]} for n in names]}),
    }


def _bad_requests(records: list[dict], column: str, model: str):
    """(what, path, body) for a null, a true and a false in ``column``'s second row."""
    for value in (None, True, False):
        rows = [dict(records[0]), {**records[-1], column: value}]
        for shape, (path, body) in _bodies(rows).items():
            yield f"{shape} {value}", path.format(model=model), body


def _check_refusals(url: str, records: list[dict], column: str, model: str) -> None:
    answers = {}
    with httpx.Client(base_url=url, timeout=30) as client:
        for what, path, body in _bad_requests(records, column, model):
            answers[what] = client.post(path, json=body)
        fine = client.post("/predict", json=records)
    got = {what: (a.status_code, a.json().get("code")) for what, a in answers.items()}
    assert got == dict.fromkeys(answers, (422, "INVALID_INPUT"))
    unnamed = {what: a.json()["error"] for what, a in answers.items()
               if f"'{column}'" not in a.json()["error"]}
    assert unnamed == {}, "every message names the column"
    assert fine.status_code == 200, fine.text


def test_nulls_and_booleans_in_a_number_column_are_422_and_logged_without_traceback(
        registered):
    """A real ``gannet serve`` (30 float64 columns: the all-numeric codec); its stderr,
    read after it stopped, holds no traceback."""
    with CliServer(registered.settings, "churn@champion", "--no-log") as server:
        _check_refusals(server.url, registered.records(0, 2), COLUMN, "churn")
    assert "Traceback" not in server.stderr, server.stderr[-3000:]


def test_a_mixed_signature_refuses_them_too_and_only_5xx_log_a_traceback(registered, caplog):
    """A signature of a number and a text column (the general codec), in process, with the
    ``gannet.serving`` log captured: one line per 4xx, a traceback only for a 5xx."""
    caplog.set_level(logging.INFO, logger="gannet.serving")
    records = [{"x": 1.0, "kind": "a"}, {"x": 2.0, "kind": "b"}]
    with LiveServer(registered.services, "mixed/1") as server:
        _check_refusals(server.url, records, "x", "mixed")
    with LiveServer(registered.services, "slow/1") as server:
        failed = httpx.post(f"{server.url}/predict", json=[{"x": -1.0}], timeout=30)
    assert failed.status_code == 500 and failed.json()["code"] == "MODEL_ERROR"
    served = [r for r in caplog.records if r.name == "gannet.serving"]
    client_errors = [r for r in served if " 422 " in r.getMessage()]
    assert len(client_errors) == 12, [r.getMessage() for r in served]
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in client_errors)
    server_errors = [r for r in served if r.levelno >= logging.ERROR]
    assert len(server_errors) == 1 and server_errors[0].exc_info is not None
    assert "MODEL_ERROR" in server_errors[0].getMessage()
