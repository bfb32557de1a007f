"""Traffic between versions: canary weights, sticky A/B, shadows, switching under load."""

import threading
import time
from collections import Counter

import httpx
import pytest
from server_fixtures import LiveServer, register_breast_cancer
from waiting import wait_until

from gannet.serving.log import InferenceLog, InferenceLogWriter


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    found = register_breast_cancer(tmp_path_factory.mktemp("switching"))
    yield found
    found.services.close()


def _versions(url, n, body, headers=None):
    with httpx.Client(base_url=url, timeout=30) as client:
        return Counter(client.post("/predict", json=body, headers=headers).json()["version"]
                       for _ in range(n))


def test_canary_weights_are_respected(registered):
    registered.services.deployments.create_deployment(
        "churn-live", "churn", {"churn/1": 75, "churn/2": 25})
    with LiveServer(registered.services, "churn-live") as server:
        seen = _versions(server.url, 400, registered.records(0))
    # binomial(400, 0.25): mean 100, sd 8.7; 4 sd either side
    assert 65 <= seen["2"] <= 135, seen
    assert seen["1"] + seen["2"] == 400


def test_a_sticky_key_keeps_a_caller_on_one_version(registered):
    deployments = registered.services.deployments
    deployments.create_deployment("churn-ab", "churn", {"churn/1": 50, "churn/2": 50},
                                  sticky_key="user")
    with LiveServer(registered.services, "churn-ab") as server:
        by_user = {}
        for user in (f"user-{i}" for i in range(40)):
            seen = _versions(server.url, 5, registered.records(0), headers={"user": user})
            assert len(seen) == 1, (user, seen)  # always the same version
            by_user[user] = next(iter(seen))
        assert set(by_user.values()) == {"1", "2"}  # and callers are spread over both
        in_body = _versions(server.url, 5, {"records": registered.records(0), "user": "user-7"})
        assert in_body == Counter({by_user["user-7"]: 5})  # a JSON field works the same


def test_a_shadow_gets_a_copy_logged_but_never_returned(registered, tmp_path):
    deployments = registered.services.deployments
    deployments.create_deployment("churn-shadow", "churn", {"churn/1": 1})
    deployments.set_deployment_shadows("churn-shadow", ["churn/2"])
    root = tmp_path / "inference-log"
    rows = registered.X.iloc[:8]
    log = InferenceLogWriter(root)
    with LiveServer(registered.services, "churn-shadow", log=log) as server, \
            httpx.Client(base_url=server.url) as client:
        answers = [client.post("/predict", json=registered.records(i)) for i in range(8)]
    assert {a.json()["version"] for a in answers} == {"1"}
    ids = [a.json()["request_id"] for a in answers]
    logged = InferenceLog(root).query(
        "churn-shadow", "SELECT request_id, version, shadow, prediction FROM predictions")
    main = logged[~logged["shadow"]].set_index("request_id")
    shadow = logged[logged["shadow"]].set_index("request_id")
    assert sorted(main.index) == sorted(ids) and sorted(shadow.index) == sorted(ids)
    assert set(main["version"]) == {1} and set(shadow["version"]) == {2}
    assert [shadow.loc[i, "prediction"] for i in ids] == registered.expected(2, rows)


def test_feedback_reaches_the_inference_log(registered, tmp_path):
    root = tmp_path / "inference-log"
    with LiveServer(registered.services, "churn@champion", log=InferenceLogWriter(root),
                    feedback_factory=lambda: InferenceLog(root).feedback) as server, \
            httpx.Client(base_url=server.url) as client:
        request_id = client.post("/predict", json=registered.records(0, 2)).json()["request_id"]
        answer = client.post("/feedback", json={"request_id": request_id, "label": 1, "row": 1})
        assert answer.status_code == 200
        bad = client.post("/feedback", json={"request_id": request_id})
        assert bad.status_code == 400 and bad.json()["code"] == "BAD_REQUEST"
    joined = InferenceLog(root).query("churn", "SELECT row, label FROM feedback")
    assert joined.to_dict("records") == [{"row": 1, "label": 1}]


class Traffic:
    """Clients sending requests without pause until stopped; they note every answer as
    (sent, answered, status, version), times from time.monotonic()."""

    def __init__(self, url, body, clients=4):
        self.url, self.body = url, body
        self.answers: list[tuple[float, float, int, str]] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self.threads = [threading.Thread(target=self._send) for _ in range(clients)]

    def _send(self):
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self._stop.is_set():
                sent = time.monotonic()
                try:
                    answer = client.post("/predict", json=self.body)
                except httpx.HTTPError as exc:
                    self.errors.append(repr(exc))
                    continue
                self.answers.append((sent, time.monotonic(), answer.status_code,
                                     answer.headers.get("x-model-version", "")))

    def count(self, sent_after=float("-inf")):
        return sum(1 for sent, *_ in self.answers if sent > sent_after)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self.threads:
            thread.join(30)


def _switch_under_traffic(registered, server, switch):
    """Traffic before, during and after ``switch()``: every request answered 200; version
    1 answers what was answered before the switch, version 2 what was sent once the new
    routing table is in place (a request reads the table after it is sent)."""
    with Traffic(server.url, registered.records(0)) as traffic:
        wait_until(lambda: traffic.count() >= 50, what="traffic before the switch")
        switched = time.monotonic()
        switch()
        wait_until(lambda: ("churn", 2) in server.host.table.served, what="the switch")
        swapped = time.monotonic()
        wait_until(lambda: traffic.count(sent_after=swapped) >= 50,
                   what="traffic after the switch")
    statuses = Counter(status for *_, status, _ in traffic.answers)
    assert not traffic.errors and statuses == Counter({200: len(traffic.answers)}), statuses
    before = {v for _, answered, _, v in traffic.answers if answered < switched}
    last = {v for sent, _, _, v in traffic.answers if sent > swapped}
    assert before == {"1"} and last == {"2"}, (before, last)
    assert len(traffic.answers) > 100
    wait_until(lambda: set(server.host.table.served) == {("churn", 2)}, timeout=5,
               what="version 1 unloaded once its requests are answered")


def test_moving_an_alias_switches_with_no_failed_request(registered):
    registry = registered.services.registry
    registry.set_registered_model_alias("churn", "champion", 1)
    with LiveServer(registered.services, "churn@champion", poll_interval=0.1) as server:
        _switch_under_traffic(registered, server,
                              lambda: registry.set_registered_model_alias("churn", "champion", 2))
        assert server.host.switches == 2


def test_changing_traffic_switches_with_no_failed_request(registered):
    deployments = registered.services.deployments
    deployments.create_deployment("churn-bg", "churn", {"churn/1": 1})
    with LiveServer(registered.services, "churn-bg", poll_interval=0.1) as server:
        _switch_under_traffic(registered, server, lambda: deployments.set_deployment_traffic(
            "churn-bg", {"churn/2": 1}))
