"""The deployable bundle: Dockerfile, requirements and Kubernetes manifests that agree.

Docker and Kubernetes cannot run here, so the files are parsed and checked against each
other: kinds and API versions, selectors and labels, probes, ports and the command.
"""

import json
import platform
import re
import tomllib
from importlib.metadata import version as installed
from pathlib import Path

import pytest
import yaml
from iris_models import register_iris

import gannet
from gannet.core.errors import InvalidArgument, InvalidState
from gannet.core.settings import Settings
from gannet.serving.deployments.bundle import HEALTH_LIVE, HEALTH_READY, k8s_name, write_bundle
from gannet.serving.deployments.types import DeploymentState, Route


@pytest.fixture
def sdk(sdk_anywhere):
    """Each test runs embedded and through a team server (``sdk_anywhere``)."""
    return sdk_anywhere


@pytest.fixture
def services(sdk):
    register_iris(sdk, "iris", versions=2)
    services = sdk.get_client().services
    services.registry.set_registered_model_alias("iris", "champion", 1)
    services.deployments.create_deployment("iris-api", "iris", {"@champion": 90, "2": 10})
    return services


def load(path: Path) -> list[dict]:
    return list(yaml.safe_load_all(path.read_text()))


def dockerfile(path: Path) -> dict[str, list[str]]:
    """Instruction -> its arguments, one entry per line (continuations joined)."""
    found: dict[str, list[str]] = {}
    text = path.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            word, _, rest = line.strip().partition(" ")
            found.setdefault(word, []).append(rest.strip())
    return found


def test_bundle_files_agree_with_each_other_and_the_deployment(services, tmp_path):
    dest = tmp_path / "bundle"
    files = services.deployments.bundle_deployment("iris-api", dest)
    names = {p.relative_to(dest).as_posix() for p in files}
    assert {
        "Dockerfile", "requirements.txt", "gannet.toml", "README.md",
        "k8s/deployment.yaml", "k8s/service.yaml", "k8s/hpa.yaml",
    } <= names  # fmt: skip
    assert all(p.is_file() for p in files)

    [deployment] = load(dest / "k8s" / "deployment.yaml")
    [service] = load(dest / "k8s" / "service.yaml")
    [hpa] = load(dest / "k8s" / "hpa.yaml")
    assert (deployment["apiVersion"], deployment["kind"]) == ("apps/v1", "Deployment")
    assert (service["apiVersion"], service["kind"]) == ("v1", "Service")
    assert (hpa["apiVersion"], hpa["kind"]) == ("autoscaling/v2", "HorizontalPodAutoscaler")
    name = deployment["metadata"]["name"]
    assert name == k8s_name("iris-api") == "gannet-iris-api"
    assert deployment["metadata"]["annotations"]["gannet.dev/deployment"] == "iris-api"

    spec = deployment["spec"]
    pod_labels = spec["template"]["metadata"]["labels"]
    assert spec["replicas"] == 2
    assert spec["selector"]["matchLabels"].items() <= pod_labels.items()
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": name,
    }  # fmt: skip
    assert hpa["spec"]["minReplicas"] == 2 <= hpa["spec"]["maxReplicas"]
    [metric] = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["type"] == "Utilization"

    [container] = spec["template"]["spec"]["containers"]
    [port] = container["ports"]
    container_port = port["containerPort"]
    assert container_port == 8080
    assert container["readinessProbe"]["httpGet"] == {"path": HEALTH_READY, "port": 8080}
    assert container["livenessProbe"]["httpGet"] == {"path": HEALTH_LIVE, "port": 8080}
    assert (HEALTH_READY, HEALTH_LIVE) == ("/v2/health/ready", "/v2/health/live")
    assert service["spec"]["ports"][0]["targetPort"] == container_port
    resources = container["resources"]
    assert set(resources) == {"requests", "limits"}
    assert {"cpu", "memory"} <= set(resources["requests"]) & set(resources["limits"])
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]}
    assert set(env) == {"GANNET_METADATA_URL", "GANNET_ARTIFACTS_URL", "GANNET_INFERENCE_LOG_URL"}
    assert env["GANNET_INFERENCE_LOG_URL"]["key"] == "inference-log-url"  # shared, not the pod's
    assert not any(m["mountPath"].endswith("inference-log") for m in container["volumeMounts"])

    docker = dockerfile(dest / "Dockerfile")
    python = ".".join(platform.python_version_tuple()[:2])  # the Python the models were saved on
    assert docker["FROM"] == [f"python:{python}-slim"]
    assert docker["EXPOSE"] == [str(container_port)]
    assert docker["USER"] == ["10001"]
    assert json.loads(docker["CMD"][0]) == [
        "gannet", "serve", "iris-api", "--host", "0.0.0.0",
        "--port", str(container_port), "--workers", "2",
    ]  # fmt: skip
    assert any("-r requirements.txt" in run for run in docker["RUN"])
    copied = " ".join(docker["COPY"])
    assert "requirements.txt" in copied and "gannet.toml" in copied and "keys/" in copied

    lines = [
        line
        for line in (dest / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == f"gannet-mlops[postgres,s3,serving]=={gannet.__version__}"
    assert f"scikit-learn=={installed('scikit-learn')}" in lines
    assert f"skops=={installed('skops')}" in lines
    assert len(lines) == len({re.split(r"[=<>\[]", line)[0] for line in lines})

    v1 = services.registry.get_model_version("iris", 1)
    assert (dest / "keys" / "trusted" / f"{v1.signing_key_id}.pub").is_file()
    toml = tomllib.loads((dest / "gannet.toml").read_text())["gannet"]
    assert toml["allow_unsigned"] is False
    assert "metadata_url" not in toml and "artifacts_url" not in toml  # from the environment
    loaded = Settings.load(environ={}, cwd=dest)  # the server's settings in the image
    assert loaded.home == (dest / ".gannet").resolve()
    readme = (dest / "README.md").read_text()
    assert "| `iris@champion` | 90% |" in readme and "| `iris/2` | 10% |" in readme
    assert "kubectl apply -f k8s/" in readme


def test_bundle_options_and_name_rules(tmp_path):
    state = DeploymentState("Churn_API.v2", "churn", (Route("churn/3", 1.0),), revision=7)
    dest = tmp_path / "out"
    write_bundle(
        state, [], ["scikit-learn==1.5.2", "gannet==0.0.1", "scikit-learn==1.5.2"], dest,
        image="registry.local/python:3.12", port=9000, replicas=3,
    )  # fmt: skip
    [deployment] = load(dest / "k8s" / "deployment.yaml")
    [hpa] = load(dest / "k8s" / "hpa.yaml")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert deployment["metadata"]["name"] == "gannet-churn-api-v2"
    assert container["ports"][0]["containerPort"] == 9000
    assert container["readinessProbe"]["httpGet"]["port"] == 9000
    assert container["image"] == "gannet-churn-api-v2:r7"
    assert deployment["spec"]["replicas"] == hpa["spec"]["minReplicas"] == 3
    docker = dockerfile(dest / "Dockerfile")
    assert docker["FROM"] == ["registry.local/python:3.12"]
    assert docker["EXPOSE"] == ["9000"]
    assert "COPY" in docker and not any("keys" in c for c in docker["COPY"])  # none given
    assert json.loads(docker["CMD"][0])[2:3] == ["Churn_API.v2"]
    pins = (dest / "requirements.txt").read_text()
    assert pins.count("scikit-learn==1.5.2") == 1
    assert "gannet==0.0.1" not in pins  # gannet is pinned to the version writing the bundle
    assert len(k8s_name("x" * 300)) <= 63


def test_a_bundle_that_looks_features_up_reads_the_online_store_from_the_secret(tmp_path):
    state = DeploymentState("churn-api", "churn", (Route("churn/3", 1.0),),
                            features=("churn_stats:orders_30d",))
    write_bundle(state, [], [], tmp_path / "out")
    [deployment] = load(tmp_path / "out" / "k8s" / "deployment.yaml")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["valueFrom"]["secretKeyRef"]["key"] for e in container["env"]}
    assert env["GANNET_FEATURES_ONLINE_URL"] == "features-online-url"
    assert "features" in (tmp_path / "out" / "requirements.txt").read_text().split("[")[1]
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "inference-log \\\n    --from-literal=features-online-url=redis://" in readme


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"port": 0}, InvalidArgument, "port must be a whole number from 1 to 65535"),
        ({"replicas": 0}, InvalidArgument, "replicas must be a whole number"),
        ({"requirements": ["numpy==1.26.4", "NumPy==2.0.0"]}, InvalidState, "one image cannot"),
    ],
)
def test_bundle_refuses_what_cannot_work(tmp_path, kwargs, error, message):
    state = DeploymentState("api", "churn", (Route("churn/3", 1.0),))
    requirements = kwargs.pop("requirements", [])
    with pytest.raises(error, match=message):
        write_bundle(state, [], requirements, tmp_path / "b", **kwargs)


def test_the_bundle_installs_exactly_the_gannet_that_wrote_it(services, tmp_path):
    """From a checkout, Gannet is on no index under this version: the bundle carries its
    wheel, and its requirement line resolves against that wheel alone, offline."""
    import subprocess
    import sys
    import zipfile

    dest = tmp_path / "bundle"
    services.deployments.bundle_deployment("iris-api", dest)
    [wheel] = sorted((dest / "wheels").glob("*.whl"))
    assert wheel.name.startswith(f"gannet_mlops-{gannet.__version__}-")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        assert "Name: gannet-mlops" in archive.read(metadata).decode()
    assert "gannet/bootstrap.py" in names and "gannet/serving/server/app.py" in names
    docker = dockerfile(dest / "Dockerfile")
    assert "wheels/ ./wheels/" in docker["COPY"]
    assert any("--find-links ./wheels -r requirements.txt" in run for run in docker["RUN"])

    [pinned] = [line for line in (dest / "requirements.txt").read_text().splitlines()
                if line.startswith("gannet")]
    resolved = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--no-deps",
         "--ignore-installed", "--find-links", str(dest / "wheels"), pinned],
        capture_output=True, text=True, timeout=300,
    )
    assert resolved.returncode == 0, resolved.stderr
    assert f"Would install gannet-mlops-{gannet.__version__}" in resolved.stdout
