"""Where an artifact path of MLflow's proxy, or a model source URI, points in Gannet.

The proxy's paths (``/api/2.0/mlflow-artifacts/artifacts/<path>``) are the tails of the
``mlflow-artifacts:/`` URIs this server hands out:

    <experiment id>/<run id>/artifacts/<file>           a run's artifacts
    <experiment id>/models/<model id>/artifacts/<file>  a logged model's files
    _registry/<model name>/<version>/<file>             a model version's package

(a Gannet experiment id never starts with ``_``, nor does a model name contain ``/``).
A source URI an MLflow client registers is one of those as ``mlflow-artifacts:/...``
(or ``mlflow-artifacts://host:port/...``), ``runs:/<run id>/<path>`` or
``models:/<model id>``.

Every path is checked before it means anything: no ``..`` part, not absolute, no
backslash, NUL or other control character, no ``#`` (MLflow's own rules, so a path its
client accepts is one this server accepts), and ``_registry`` paths are read-only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from gannet.core.errors import InvalidArgument, NotFound

__all__ = [
    "ARTIFACTS_SCHEME", "Place", "check_path", "locate", "locate_source", "logged_model_root",
    "model_id_of_source", "run_root", "version_root",
]

ARTIFACTS_SCHEME = "mlflow-artifacts:"
REGISTRY = "_registry"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\#]")


@dataclass(frozen=True)
class Place:
    """What a proxy path names: ``kind`` "run" (``owner`` a run id), "model" (a logged
    model id), "version" (``owner`` a model name, ``version`` its number), or "folder" (a
    level above those: an experiment, its runs or models, nothing to read); ``path`` is
    the file or folder below, '' for the root."""

    kind: str
    owner: str = ""
    path: str = ""
    version: int = 0


def run_root(experiment_id: str, run_id: str) -> str:
    return f"{ARTIFACTS_SCHEME}/{experiment_id}/{run_id}/artifacts"


def logged_model_root(experiment_id: str, model_id: str) -> str:
    return f"{ARTIFACTS_SCHEME}/{experiment_id}/models/{model_id}/artifacts"


def version_root(name: str, version: int) -> str:
    return f"{ARTIFACTS_SCHEME}/{REGISTRY}/{name}/{version}"


def check_path(path: str) -> str:
    """``path`` (relative, '/'-separated) if it is safe to read or write; else refused."""
    if (_CONTROL.search(path) or path.startswith("/") or ".." in path.split("/")
            or re.match(r"^[A-Za-z]:", path)):
        raise InvalidArgument(
            f"invalid artifact path {path[:200]!r}: it must be relative, without '..', "
            "backslashes, '#' or control characters",
            "name files inside the run's artifacts, e.g. 'plots/roc.png'",
        )
    return path.strip("/")


def locate(path: str) -> Place:
    """The place a proxy path names (checked first)."""
    parts = [p for p in check_path(path).split("/") if p]
    if not parts:
        return Place("folder")
    if parts[0] == REGISTRY:
        if len(parts) < 3 or not parts[2].isdigit():
            return Place("folder")
        return Place("version", parts[1], "/".join(parts[3:]), int(parts[2]))
    if len(parts) >= 4 and parts[1] == "models" and parts[3] == "artifacts":
        return Place("model", parts[2], "/".join(parts[4:]))
    if len(parts) >= 3 and parts[2] == "artifacts":
        return Place("run", parts[1], "/".join(parts[3:]))
    return Place("folder")


def locate_source(source: str) -> Place:
    """Where a model source URI points (``models:/<name>/<version>`` is not a source: it
    is a version already)."""
    parsed = urlparse(source)
    if parsed.scheme == "mlflow-artifacts":
        place = locate(unquote(parsed.path).lstrip("/"))  # the URI's path is absolute
        if place.kind in ("run", "model"):
            return place
    elif parsed.scheme == "runs":
        run_id, _, path = parsed.path.lstrip("/").partition("/")
        if run_id:
            return Place("run", run_id, check_path(path))
    elif parsed.scheme == "models":
        model_id = model_id_of_source(source)
        if model_id:
            return Place("model", model_id)
    raise NotFound(
        f"model source {source!r} is not something logged to this server",
        "register 'models:/<model id>' (what log_model made), 'runs:/<run id>/<path>' or "
        "an mlflow-artifacts:/ URI of this server",
    )


def model_id_of_source(source: str) -> str | None:
    """The logged model a ``models:/<model id>`` source names (None for anything else)."""
    if not source.startswith("models:/"):
        return None
    rest = source.removeprefix("models:/").strip("/")
    return rest if rest.startswith("m-") and "/" not in rest and "@" not in rest else None
