"""The team set-up files (deploy/): parsed and checked against each other and the code, so
a port, a probe path, a secret key or a setting's name cannot drift apart unnoticed."""

import dataclasses
import re
from pathlib import Path

import yaml

from gannet.core.settings import ENV_PREFIX, Settings
from gannet.server.app import PUBLIC_PATHS

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SETTINGS = {ENV_PREFIX + f.name.upper() for f in dataclasses.fields(Settings)}


def _kubernetes() -> dict[str, dict]:
    docs = yaml.safe_load_all((DEPLOY / "kubernetes" / "gannet-server.yaml").read_text())
    return {doc["kind"]: doc for doc in docs}


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def _dockerfile_port() -> int:
    return int(re.search(r"^EXPOSE (\d+)$", (DEPLOY / "Dockerfile").read_text(), re.M)[1])


def _server_port(command: list[str]) -> int:
    assert command[:2] == ["gannet", "server"], command
    return int(command[command.index("--port") + 1])


def test_kubernetes_deployment_probes_ports_and_service_agree():
    k8s = _kubernetes()
    pod = k8s["Deployment"]["spec"]["template"]
    container = pod["spec"]["containers"][0]
    port = _server_port(container["command"])
    assert port == _dockerfile_port()
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"http": port}
    assert container["command"][container["command"].index("--host") + 1] == "0.0.0.0"
    for probe, path in (("readinessProbe", "/ready"), ("livenessProbe", "/health")):
        assert container[probe]["httpGet"] == {"path": path, "port": "http"}
        assert path in PUBLIC_PATHS  # probes carry no token
    selector = k8s["Deployment"]["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod["metadata"]["labels"].items()
    service = k8s["Service"]["spec"]
    assert service["selector"] == selector
    assert service["ports"][0]["targetPort"] == "http"


def test_the_migration_job_runs_the_same_image_with_the_same_stores():
    k8s = _kubernetes()
    job = k8s["Job"]["spec"]["template"]["spec"]["containers"][0]
    server = k8s["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert job["command"] == ["gannet", "db", "upgrade"]
    assert job["image"] == server["image"]
    assert job["env"] == server["env"]
    secret = k8s["Secret"]
    for variable in server["env"]:
        if variable["name"].startswith(ENV_PREFIX):
            assert variable["name"] in SETTINGS
        ref = variable.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            assert ref["name"] == secret["metadata"]["name"]
            assert ref["key"] in secret["stringData"]


def test_compose_migrates_before_serving_on_postgres_and_minio():
    services = _compose()["services"]
    server, migrate = services["server"], services["migrate"]
    assert migrate["command"] == ["gannet", "db", "upgrade"]
    assert server["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert server["image"] == migrate["image"]
    assert server["environment"] == migrate["environment"]
    port = _server_port(server["command"])
    assert server["ports"] == [f"{port}:{port}"] and port == _dockerfile_port()
    environment = server["environment"]
    for name in environment:
        if name.startswith(ENV_PREFIX):
            assert name in SETTINGS
    assert environment["GANNET_METADATA_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in environment["GANNET_METADATA_URL"]
    bucket = environment["GANNET_ARTIFACTS_URL"].removeprefix("s3://").split("/")[0]
    assert f"store/{bucket}" in services["bucket"]["command"][0]
    assert environment["AWS_ENDPOINT_URL"] == "http://minio:9000"
    postgres = services["postgres"]["environment"]
    assert f"{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}@" in environment[
        "GANNET_METADATA_URL"]


def test_the_image_installs_extras_the_package_has_with_the_server_in_them():
    import tomllib

    project = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text())["project"]
    extras = re.search(r'pip install --no-cache-dir "\.\[([a-z0-9,]+)\]"',
                       (DEPLOY / "Dockerfile").read_text())[1].split(",")
    assert set(extras) <= set(project["optional-dependencies"]), extras
    assert {"server", "postgres", "s3"} <= set(extras)
