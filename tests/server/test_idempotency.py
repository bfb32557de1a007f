"""``Idempotency-Key``: a POST retried after its answer was lost acts once and gets the
first answer; a key is the caller's own and belongs to one request."""

from pathlib import Path

import httpx
import pytest

from gannet.bootstrap import build
from gannet.testing.server import ServerProcess, running_server
from tests.server.test_remote_under_load import CuttingProxy, port_of


@pytest.fixture
def package(tmp_path) -> Path:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from gannet.models.package import save_model

    X, y = load_iris(return_X_y=True, as_frame=True)
    save_model(LogisticRegression(max_iter=300).fit(X, y), tmp_path / "pkg",
               input_example=X.head(2))
    return tmp_path / "pkg"


def test_a_registration_whose_answer_is_lost_makes_one_version(settings, services, package):
    services.auth.create_user("bot")
    with ServerProcess(settings, "--no-auth") as server:
        proxy = CuttingProxy(port_of(server), [
            "POST /api/v1/registered-models/iris/versions ", "POST /api/v1/tokens "])
        try:
            remote = build(settings.replace(uri=proxy.url, home=settings.home / "client"))
            version = remote.registry.register_model(package, "iris")
            token = remote.auth.create_token("ci", user="bot")
            remote.close()
        finally:
            proxy.close()
    assert proxy.cuts == 2 and proxy.cut == []
    versions = services.registry.search_model_versions("iris")
    assert [v.version for v in versions] == [version.version] == [1]
    assert [t.name for t in services.auth.list_tokens("bot")] == ["ci"]
    assert services.auth.authenticate(f"Bearer {token.secret}", None).user == "bot"


def test_a_repeated_key_replays_the_first_answer_and_a_new_key_acts_again(services, http):
    first = http.post("/api/v1/registered-models", json={"name": "churn"},
                      headers={"idempotency-key": "k-1"})
    again = http.post("/api/v1/registered-models", json={"name": "churn"},
                      headers={"idempotency-key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    fresh = http.post("/api/v1/registered-models", json={"name": "churn"},
                      headers={"idempotency-key": "k-2"})
    assert fresh.status_code == 409 and fresh.json()["code"] == "RESOURCE_ALREADY_EXISTS"
    # an error answer is an answer: kept and given again
    replayed = http.post("/api/v1/registered-models", json={"name": "churn"},
                         headers={"idempotency-key": "k-2"})
    assert replayed.status_code == 409 and replayed.headers["idempotent-replayed"] == "true"


def test_a_key_sent_with_another_request_is_refused_and_nothing_is_made(services, http):
    made = http.post("/api/v1/registered-models", json={"name": "a"},
                     headers={"idempotency-key": "same"})
    assert made.status_code == 201
    other = http.post("/api/v1/registered-models", json={"name": "b"},
                      headers={"idempotency-key": "same"})
    assert other.status_code == 400
    body = other.json()
    assert body["code"] == "INVALID_PARAMETER_VALUE" and "different request" in body["error"]
    assert [m.name for m in services.registry.search_registered_models()] == ["a"]
    too_long = http.post("/api/v1/registered-models", json={"name": "c"},
                         headers={"idempotency-key": "x" * 201})
    assert too_long.status_code == 400 and "Idempotency-Key" in too_long.json()["error"]


def test_keys_belong_to_their_caller(services):
    services.auth.bootstrap_admin()
    for name in ("ann", "bob"):
        services.auth.create_user(name, admin=True)
    ann = services.auth.create_token("t", user="ann").secret
    bob = services.auth.create_token("t", user="bob").secret
    with running_server(services, auth=True) as url:
        def post(secret: str, name: str) -> httpx.Response:
            return httpx.post(f"{url}/api/v1/registered-models", json={"name": name},
                              headers={"authorization": f"Bearer {secret}",
                                       "idempotency-key": "shared"})

        assert post(ann, "anns").status_code == 201
        # bob's request with ann's key is bob's own: it acts, and sees nothing of ann's
        second = post(bob, "bobs")
        assert second.status_code == 201 and second.json()["registered_model"]["name"] == "bobs"
        assert "idempotent-replayed" not in second.headers
    names = sorted(m.name for m in services.registry.search_registered_models())
    assert names == ["anns", "bobs"]
