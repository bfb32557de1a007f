"""The remote services have the calls of the services they stand for: same names, same
parameters (names, kinds, defaults), so the SDK and the CLI work unchanged on either."""

import inspect

import pytest

from gannet.data.validation.service import ValidationService
from gannet.registry.service import RegistryService
from gannet.remote.deployments import RemoteDeployments
from gannet.remote.logs import RemoteInferenceLog
from gannet.remote.registry import RemoteRegistry
from gannet.remote.tracking import RemoteTracking
from gannet.remote.validation import RemoteValidation
from gannet.serving.deployments.service import DeploymentService
from gannet.serving.log.reader import InferenceLog
from gannet.tracking.service import TrackingService

SERVER_SIDE = {  # what only the server's own services do: collection, package transfer
    "purge_deleted", "referenced_blobs", "recheck_blobs", "missing_blobs",
    "register_package", "package_manifest", "open_package_file",
    "count_in_project", "ensure_default_experiment", "plan_upload", "put_staged",
    "artifact_url", "open_artifact",
    # the MLflow-compatible API's (server-side routes only): a version's files one by one,
    # MLflow 3's logged models, files streamed in and deleted through MLflow's proxy
    "version_files", "open_version_file", "create_logged_model", "delete_logged_model",
    "delete_logged_model_artifacts", "delete_logged_model_tag", "download_logged_model",
    "finalize_logged_model", "get_logged_model", "list_logged_model_artifacts",
    "log_logged_model_params", "log_logged_model_stream", "logged_model_files",
    "open_logged_model_artifact", "search_logged_models", "set_logged_model_tags",
    "log_artifact_stream", "delete_artifacts",
    # the web UI's: the inference servers the server's own settings list
    "get_deployment_errors",
}
LOG_CALLS = ("deployments", "query", "show", "feedback", "feedback_many")


def _public(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_")}


def _parameters(function) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default)
            for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize(("service", "remote", "names"), [
    (TrackingService, RemoteTracking, None),
    (RegistryService, RemoteRegistry, None),
    (DeploymentService, RemoteDeployments, None),
    (InferenceLog, RemoteInferenceLog, LOG_CALLS),
    (ValidationService, RemoteValidation, None),
])
def test_remote_services_have_the_services_calls(service, remote, names):
    wanted = set(names) if names else _public(service) - SERVER_SIDE
    assert wanted - _public(remote) == set()
    for name in sorted(wanted):
        assert _parameters(getattr(remote, name)) == _parameters(getattr(service, name)), name
