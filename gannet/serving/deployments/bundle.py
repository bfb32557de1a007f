"""The deployable bundle: what it takes to run a deployment's inference server elsewhere.

``write_bundle`` writes, into one folder::

    Dockerfile          pinned requirements, a small gannet.toml, the signers' public keys,
                        a non-root user, CMD ``gannet serve <deployment>``
    requirements.txt    gannet-mlops pinned to this version, then what each served version needs
    wheels/             a wheel of this Gannet, when it runs from a source checkout (see
                        ``wheel``), so the image installs exactly the code that wrote it
    gannet.toml         the server's settings (the stores come from the environment)
    keys/trusted/*.pub  public keys that signed the served versions (so the image verifies)
    k8s/deployment.yaml a Deployment with readiness/liveness probes and resources
    k8s/service.yaml    a ClusterIP Service in front of it
    k8s/hpa.yaml        a HorizontalPodAutoscaler (autoscaling/v2) on CPU
    README.md           how to build, configure and apply it

The image does not contain the models: the server loads, from the team's stores, what
the deployment says at the moment (so traffic changes need no new image). It does pin
the libraries the versions served at bundle time need; rebuild when a new version needs
other ones. Manifests are written with ``yaml.safe_dump``, never by pasting strings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gannet.core.errors import InvalidArgument, InvalidState
from gannet.core.version import DISTRIBUTION
from gannet.registry.service import RegistryService
from gannet.registry.types import ModelVersion
from gannet.serving.deployments.types import DeploymentState
from gannet.serving.deployments.wheel import build_wheel, source_checkout

__all__ = [
    "GANNET_EXTRAS", "HEALTH_LIVE", "HEALTH_READY", "bundle_deployment", "k8s_name",
    "write_bundle",
]  # fmt: skip

HEALTH_READY = "/v2/health/ready"  # Open Inference Protocol V2 health endpoints
HEALTH_LIVE = "/v2/health/live"
GANNET_EXTRAS = ("postgres", "s3", "serving")  # the team stores, and the server itself
WORKDIR = "/srv/gannet"
UID = 10001
# keys: metadata-url, artifacts-url, inference-log-url (and features-online-url when the
# deployment looks features up)
STORES_SECRET = "gannet-stores"
RESOURCES = {
    "requests": {"cpu": "500m", "memory": "512Mi"},
    "limits": {"cpu": "2", "memory": "2Gi"},
}
CPU_TARGET = 70  # average CPU utilisation (% of the request) the autoscaler aims at
_DIST = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def bundle_deployment(
    registry: RegistryService,
    trusted_keys: str,
    state: DeploymentState,
    dest: Path,
    *,
    image: str | None = None,
    port: int = 8080,
    replicas: int = 2,
) -> list[Path]:
    """Gather what ``state`` serves now (its versions, their requirements from their
    packages, their signers' public keys from ``trusted_keys``) and write its bundle.

    ``image`` defaults to ``python:X.Y-slim`` of the newest Python the versions were
    saved with.
    """
    from gannet.models.package import read_meta

    found: dict[int, ModelVersion] = {}
    for ref in (*(r.ref for r in state.routes), *state.shadows):
        version = registry.resolve_model_version(ref)
        found.setdefault(version.version, version)
    versions = [found[v] for v in sorted(found)]
    requirements: list[str] = []
    pythons: set[tuple[int, ...]] = set()
    for version in versions:
        meta = read_meta(registry.local_path(version))
        requirements.extend(meta.requirements)
        pythons.add(tuple(int(p) for p in meta.python_version.split(".")[:2]))
    if image is None and pythons:
        image = "python:{}.{}-slim".format(*max(pythons))
    checkout = source_checkout()
    wheel = build_wheel(checkout, Path(dest) / "wheels") if checkout is not None else None
    return write_bundle(
        state,
        versions,
        requirements,
        dest,
        image=image or "python:3.11-slim",
        port=port,
        replicas=replicas,
        public_keys=_public_keys(versions, trusted_keys),
        wheel=wheel,
    )


def _public_keys(versions: Sequence[ModelVersion], trusted_keys: str) -> dict[str, bytes]:
    """PEM public keys of the versions' signers, so the image verifies what it loads."""
    from cryptography.hazmat.primitives import serialization

    from gannet.registry import signing

    trusted = signing.trusted_keys(trusted_keys)
    keys: dict[str, bytes] = {}
    for v in versions:
        key = trusted.get(v.signing_key_id or "")
        if key is None:
            raise InvalidState(
                f"{v.ref} is signed by {v.signing_key_id or 'no key'}, which is not a trusted "
                "key here: the image could not verify it",
                "add the signer's public key to the trusted keys (gannet keys list), "
                "or re-register the version",
            )
        keys[v.signing_key_id or ""] = key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    return keys


def write_bundle(
    state: DeploymentState,
    versions: list[ModelVersion],
    requirements: list[str],
    dest: Path,
    *,
    image: str = "python:3.11-slim",
    port: int = 8080,
    replicas: int = 2,
    workers: int = 2,
    max_replicas: int | None = None,
    public_keys: Mapping[str, bytes] | None = None,
    wheel: Path | None = None,
) -> list[Path]:
    """Write the bundle of ``state`` into ``dest`` and return the files written.

    ``requirements``: the pip lines the served ``versions`` need (from their packages);
    one distribution pinned two ways is refused. ``public_keys``: key id -> PEM of the
    keys that signed the versions. ``wheel``: Gannet's own wheel, already in
    ``dest/wheels`` (the image installs from there).
    """
    _check_numbers(port=port, replicas=replicas, workers=workers)
    max_replicas = max(replicas * 5, replicas + 1) if max_replicas is None else max_replicas
    if max_replicas < replicas:
        raise InvalidArgument(
            f"max_replicas ({max_replicas}) is below replicas ({replicas})",
            "give max_replicas >= replicas",
        )
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise InvalidArgument(f"{dest} exists and is not a folder", "give a folder to write to")
    keys = dict(sorted((public_keys or {}).items()))
    name = k8s_name(state.name)
    files: dict[str, str | bytes] = {
        "Dockerfile": _dockerfile(state, image, port, workers, bool(keys), wheel is not None),
        "requirements.txt": _requirements(state, requirements),
        "gannet.toml": _gannet_toml(state, bool(keys)),
        "k8s/deployment.yaml": _yaml(_deployment(state, name, port, replicas)),
        "k8s/service.yaml": _yaml(_service(state, name, port)),
        "k8s/hpa.yaml": _yaml(_hpa(state, name, replicas, max_replicas)),
        "README.md": _readme(state, versions, name, image, port, replicas, max_replicas),
    }
    files.update({f"keys/trusted/{key_id}.pub": pem for key_id, pem in keys.items()})
    written = []
    for rel, content in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        written.append(path)
    return [*written, *([wheel] if wheel is not None else [])]


def k8s_name(name: str) -> str:
    """``gannet-<name>`` as a Kubernetes object name and label value (DNS-1123, <= 63)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "deployment"
    return f"gannet-{slug}"[:63].rstrip("-")


def serve_command(state: DeploymentState, port: int, workers: int) -> list[str]:
    return [
        "gannet", "serve", state.name,
        "--host", "0.0.0.0", "--port", str(port), "--workers", str(workers),
    ]  # fmt: skip


# -- the image ------------------------------------------------------------------------------


def _dockerfile(
    state: DeploymentState, image: str, port: int, workers: int, keys: bool, wheel: bool
) -> str:
    probe = (
        "import urllib.request; "
        f"urllib.request.urlopen('http://127.0.0.1:{port}{HEALTH_LIVE}', timeout=2)"
    )
    lines = [
        f"# The inference server of deployment {state.name} (model {state.model}),",
        f"# written by `gannet deployments bundle` at revision {state.revision}.",
        f"FROM {image}",
        "",
        "ENV PYTHONDONTWRITEBYTECODE=1 \\",
        "    PYTHONUNBUFFERED=1 \\",
        "    PIP_NO_CACHE_DIR=1 \\",
        "    PIP_DISABLE_PIP_VERSION_CHECK=1",
        f"WORKDIR {WORKDIR}",
        "",
        "COPY requirements.txt ./",
        *(["COPY wheels/ ./wheels/",
           "RUN pip install --no-cache-dir --find-links ./wheels -r requirements.txt"]
          if wheel else ["RUN pip install --no-cache-dir -r requirements.txt"]),
        "COPY gannet.toml ./",
        *(["COPY keys/ ./keys/"] if keys else []),
        f"RUN useradd --system --uid {UID} --home-dir {WORKDIR} gannet \\",
        f"    && mkdir -p {WORKDIR}/.gannet && chown {UID} {WORKDIR}/.gannet",
        f"USER {UID}",
        "",
        f"EXPOSE {port}",
        f"HEALTHCHECK --interval=30s --timeout=3s CMD {json.dumps(['python', '-c', probe])}",
        f"CMD {json.dumps(serve_command(state, port, workers))}",
        "",
    ]
    return "\n".join(lines)


def _requirements(state: DeploymentState, requirements: Sequence[str]) -> str:
    from gannet.core.version import VERSION as __version__

    pins: dict[str, str] = {}
    for line in requirements:
        line = line.strip()
        match = _DIST.match(line)
        if not match or line.startswith("#"):
            continue
        dist = re.sub(r"[-_.]+", "-", match.group(1)).lower()
        if dist in ("gannet", DISTRIBUTION):
            continue  # pinned below, to the gannet writing the bundle
        if dist in pins and pins[dist] != line:
            raise InvalidState(
                f"the versions served by {state.name!r} need {pins[dist]!r} and {line!r}: "
                "one image cannot hold both",
                "serve versions saved with the same libraries, or give each its own deployment",
            )
        pins[dist] = line
    extras = ",".join([*GANNET_EXTRAS, *(["features"] if state.features else [])])
    return "\n".join(
        [
            f"# Pinned by `gannet deployments bundle` for {state.name} at revision "
            f"{state.revision}:",
            "# gannet itself, then what the served model versions need to load.",
            f"{DISTRIBUTION}[{extras}]=={__version__}",
            *sorted(pins.values(), key=str.lower),
            "",
        ]
    )


def _gannet_toml(state: DeploymentState, keys: bool) -> str:
    lines = [
        f"# Settings of the inference server of {state.name}. The stores come from the",
        "# environment (GANNET_METADATA_URL, GANNET_ARTIFACTS_URL): never bake them in.",
        "[gannet]",
        'home = ".gannet"  # the model cache, beside this file',
        f'trusted_keys = "{WORKDIR}/keys/trusted"' if keys else "# no trusted keys bundled",
        "allow_unsigned = false",
        "capture_environment = false",
        "progress = false",
        'user = "gannet-serve"',
        "",
    ]
    return "\n".join(lines)


# -- Kubernetes -----------------------------------------------------------------------------


def _labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "gannet"}


def _metadata(state: DeploymentState, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "labels": {**_labels(name), "app.kubernetes.io/component": "inference-server"},
        "annotations": {"gannet.dev/deployment": state.name, "gannet.dev/model": state.model},
    }


def _container(state: DeploymentState, name: str, port: int) -> dict[str, Any]:
    """The server's container: its image, port, stores from the Secret, probes, limits."""

    def probe(path: str, delay: int, period: int) -> dict[str, Any]:
        return {
            "httpGet": {"path": path, "port": port},
            "initialDelaySeconds": delay,
            "periodSeconds": period,
            "timeoutSeconds": 2,
            "failureThreshold": 3,
        }

    env = [
        {
            "name": variable,
            "valueFrom": {"secretKeyRef": {"name": STORES_SECRET, "key": key}},
        }
        for variable, key in _secret_keys(state)
    ]
    return {
        "name": "server",
        "image": f"{name}:r{state.revision}",
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "env": env,
        "readinessProbe": probe(HEALTH_READY, 5, 5),
        "livenessProbe": probe(HEALTH_LIVE, 10, 10),
        "resources": RESOURCES,
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True},
        "volumeMounts": [{"name": "model-cache", "mountPath": f"{WORKDIR}/.gannet"}],
    }


def _secret_keys(state: DeploymentState) -> list[tuple[str, str]]:
    """(environment variable, key of the stores secret) the server reads its stores from;
    a deployment that looks features up also needs the team's online store (Redis)."""
    keys = [
        ("GANNET_METADATA_URL", "metadata-url"),
        ("GANNET_ARTIFACTS_URL", "artifacts-url"),
        # shared by every replica and readable from a laptop; never the pod's disk
        ("GANNET_INFERENCE_LOG_URL", "inference-log-url"),
    ]
    if state.features:
        keys.append(("GANNET_FEATURES_ONLINE_URL", "features-online-url"))
    return keys


def _deployment(state: DeploymentState, name: str, port: int, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(state, name),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": _labels(name)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": {
                    "labels": _labels(name),
                    "annotations": {
                        "gannet.dev/deployment": state.name,
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(port),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    "terminationGracePeriodSeconds": 30,
                    "containers": [_container(state, name, port)],
                    "volumes": [{"name": "model-cache", "emptyDir": {}}],
                },
            },
        },
    }


def _service(state: DeploymentState, name: str, port: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(state, name),
        "spec": {
            "type": "ClusterIP",
            "selector": _labels(name),
            "ports": [{"name": "http", "port": 80, "targetPort": port, "protocol": "TCP"}],
        },
    }


def _hpa(state: DeploymentState, name: str, replicas: int, max_replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(state, name),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": replicas,
            "maxReplicas": max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": CPU_TARGET},
                    },
                }
            ],
        },
    }


def _yaml(doc: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


# -- README ---------------------------------------------------------------------------------


def _readme(
    state: DeploymentState,
    versions: Sequence[ModelVersion],
    name: str,
    image: str,
    port: int,
    replicas: int,
    max_replicas: int,
) -> str:
    online = (" \\\n    --from-literal=features-online-url=redis://HOST:6379/0"
              if state.features else "")
    total = sum(r.weight for r in state.routes) or 1.0
    routes = "\n".join(f"| `{r.ref}` | {100 * r.weight / total:.4g}% |" for r in state.routes)
    served = ", ".join(f"`{v.ref}` ({v.flavor})" for v in versions) or "none"
    shadows = ", ".join(f"`{s}`" for s in state.shadows) or "none"
    return f"""# Inference server of the deployment `{state.name}`

Written by `gannet deployments bundle` at revision {state.revision} of `{state.name}`
(model `{state.model}`). Versions served then: {served}; shadows: {shadows}.

| Route | Share |
|---|---|
{routes}

The image holds no model: `gannet serve {state.name}` loads, from the team's stores,
whatever the deployment says now, and follows traffic changes without a new image.
`requirements.txt` pins the libraries the versions above need: rebuild the bundle when
a version saved with other libraries joins the deployment.

## Files

- `Dockerfile`: `{image}`, the pinned requirements, `gannet.toml`, the signers' public
  keys (`keys/trusted/`: the server loads only packages they signed), a non-root user,
  port {port}.
- `k8s/deployment.yaml`: {replicas} replicas, readiness `{HEALTH_READY}` and liveness
  `{HEALTH_LIVE}` probes on port {port}, CPU/memory requests and limits.
- `k8s/service.yaml`: a ClusterIP Service, port 80 -> {port}.
- `k8s/hpa.yaml`: scales {replicas}..{max_replicas} replicas at {CPU_TARGET}% average CPU.

## Run it

The replicas need the team stores (PostgreSQL and an object store), not a local SQLite:

```console
$ docker build -t REGISTRY/{name}:r{state.revision} .
$ docker push REGISTRY/{name}:r{state.revision}
$ kubectl create secret generic {STORES_SECRET} \\
    --from-literal=metadata-url=postgresql://USER:PASSWORD@HOST/gannet \\
    --from-literal=artifacts-url=s3://BUCKET/gannet \\
    --from-literal=inference-log-url=s3://BUCKET/gannet/inference-log{online}
$ kubectl apply -f k8s/
```

Set `image:` in `k8s/deployment.yaml` to the pushed tag first. Every replica writes its
inference log to `inference-log-url`, where `gannet logs query` reads it from anywhere and
the servers merge it into hourly files (see docs/serving.md). Object-store credentials
come the usual way (e.g. `AWS_*` variables or a workload identity). Metrics are served
at `/metrics` on port {port} (the pod template carries Prometheus scrape annotations).
"""


def _check_numbers(**values: int) -> None:
    for what, value in values.items():
        high = 65535 if what == "port" else 10_000
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
            raise InvalidArgument(
                f"{what} must be a whole number from 1 to {high}, got {value!r}",
                f"e.g. {what}=8080" if what == "port" else f"e.g. {what}=2",
            )
