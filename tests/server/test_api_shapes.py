"""The OpenAPI document gives the shape of every JSON answer under /api/v1, and real answers
fit the shapes it gives (checked with a JSON Schema validator against the document)."""

import re

import httpx
import pytest
from jsonschema import Draft202012Validator

# Single sign-on's browser steps: a redirect, then a page (or JSON for a CLI's login)
REDIRECTS = {("get", "/api/v1/oidc/login"), ("get", "/api/v1/oidc/callback")}
# Routes whose answer is not JSON: files, bundles, Arrow streams, a card's text
NOT_JSON = {
    ("get", "/api/v1/runs/{run_id}/artifacts/content"),
    ("get", "/api/v1/deployments/{name}/bundle"),
    ("get", "/api/v1/registered-models/{name}/versions/{version}/package/{path}"),
    ("get", "/api/v1/registered-models/{name}/versions/{version}/card"),
    ("post", "/api/v1/logs/{deployment}/query"),
    ("get", "/api/v1/logs/{deployment}/latest"),
    ("get", "/api/v1/datasets/{name}/versions/{selector}/files/{path}"),
    ("get", "/api/v1/monitors/{name}/page"),
    ("post", "/api/v1/features/training-set"),
    ("get", "/api/v1/features/{name}/rows"),
}


def answer_schema(operation: dict) -> dict:
    ok = next(code for code in operation["responses"] if code.startswith("2"))
    return operation["responses"][ok].get("content", {}).get("application/json", {}).get(
        "schema", {})


def test_every_json_route_documents_its_answer(http):
    document = http.get("/openapi.json").json()
    undocumented = [
        (method, path)
        for path, operations in document["paths"].items() if path.startswith("/api/v1/")
        for method, operation in operations.items()
        if (method, path) not in NOT_JSON | REDIRECTS and not answer_schema(operation)
    ]
    assert undocumented == []
    for method, path in NOT_JSON:  # they name what they send instead
        ok = document["paths"][path][method]["responses"]["200"]
        assert "application/json" not in ok["content"] and ok["content"], (method, path)


class ShapeChecker:
    """Checks each JSON answer of /api/v1 against the schema its route documents."""

    def __init__(self, document: dict) -> None:
        self.document = document
        self.routes = [
            (method, re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path)
            for path, operations in document["paths"].items() if path.startswith("/api/v1/")
            for method in operations
        ]
        self.checked: set[tuple[str, str]] = set()

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        if not request.url.path.startswith("/api/v1/") or response.status_code >= 400:
            return
        method = request.method.lower()
        matches = [path for m, pattern, path in self.routes
                   if m == method and pattern.match(request.url.path)]
        assert matches, f"no documented route for {method} {request.url.path}"
        path = min(matches, key=lambda p: p.count("{"))  # /runs/search before /runs/{id}
        schema = answer_schema(self.document["paths"][path][method])
        validator = Draft202012Validator({**schema, "components": self.document["components"]})
        errors = [f"{list(e.absolute_path)}: {e.message}"
                  for e in validator.iter_errors(response.json())]
        assert errors == [], f"{method} {path}: {errors}"
        self.checked.add((method, path))


@pytest.fixture
def checked(open_server):
    document = httpx.get(open_server + "/openapi.json").json()
    checker = ShapeChecker(document)
    with httpx.Client(base_url=open_server, timeout=30,
                      event_hooks={"response": [checker]}) as client:
        yield client, checker


def test_real_answers_fit_their_documented_shapes(checked, services, tmp_path):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from gannet.models.package import save_model

    http, checker = checked
    experiment_id = http.post("/api/v1/experiments", json={"name": "shapes"}).json()[
        "experiment_id"]
    http.get("/api/v1/experiments")
    http.get(f"/api/v1/experiments/{experiment_id}")
    http.get("/api/v1/experiments/by-name", params={"name": "shapes"})
    http.get("/api/v1/experiments/by-name", params={"name": "none such"})
    run = http.post("/api/v1/runs", json={"experiment_id": experiment_id,
                                          "tags": {"t": "1"}}).json()["run"]
    run_id = run["info"]["run_id"]
    http.post(f"/api/v1/runs/{run_id}/log-batch", json={
        "metrics": [{"key": "loss", "value": 0.5, "timestamp": 1, "step": 0}],
        "params": {"lr": "0.1"}})
    http.get(f"/api/v1/runs/{run_id}")
    http.get(f"/api/v1/runs/{run_id}/params")
    http.get(f"/api/v1/runs/{run_id}/metric-history", params={"key": "loss"})
    http.get(f"/api/v1/runs/{run_id}/artifacts")
    http.post("/api/v1/runs/search", json={"experiment_ids": [experiment_id],
                                           "filter_string": "metrics.loss < 1"})
    http.patch(f"/api/v1/runs/{run_id}", json={"status": "FINISHED"})

    X, y = load_iris(return_X_y=True, as_frame=True)
    save_model(LogisticRegression(max_iter=500).fit(X, y), tmp_path / "iris",
               input_example=X.head(3))
    services.registry.register_model(tmp_path / "iris", "iris")
    http.get("/api/v1/registered-models")
    http.get("/api/v1/registered-models/iris")
    http.get("/api/v1/registered-models/iris/versions")
    http.get("/api/v1/registered-models/iris/versions/1")
    http.get("/api/v1/model-versions/resolve", params={"ref": "iris@1"})
    http.put("/api/v1/registered-models/iris/aliases/champion", json={"version": 1})
    http.get("/api/v1/registered-models/iris/aliases/champion")
    http.get("/api/v1/registered-models/iris/versions/1/gates", params={"alias": "prod"})
    http.get("/api/v1/signing-keys")
    http.get("/api/v1/registered-models/iris/versions/1/package")
    made = http.post("/api/v1/deployments", json={"name": "iris-live", "model": "iris"})
    assert made.status_code == 201, made.text
    http.get("/api/v1/deployments")
    http.get("/api/v1/deployments/iris-live")
    http.get("/api/v1/deployments/iris-live/history")
    http.get("/api/v1/me")
    http.get("/api/v1/users")
    http.get("/api/v1/audit")
    assert len(checker.checked) >= 25, sorted(checker.checked)
