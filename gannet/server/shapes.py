"""The shapes of the API's JSON answers, for the OpenAPI document.

Routes answer with ``deps.answer`` (the capability's own dataclasses in the one wire
encoding), not through FastAPI's response models: encoding is done once, by orjson. A
route still names its answer's shape here (``response_model=shapes.RUN``): FastAPI writes
it into ``/openapi.json`` and hands a returned ``Response`` back untouched, so clients
generated from the document know every field, and nothing is validated twice.

A shape is the answer's keys and their types, made with pydantic from the very
dataclasses the services return (``Run``, ``ModelVersion``...), so a field added to a
type is documented without a change here. A test checks real answers against them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, create_model
from starlette.responses import Response

from gannet.auth.types import ApiToken, AuditEntry, Project, User
from gannet.registry.types import GateResult, ModelVersion, Promotion, RegisteredModel
from gannet.serving.deployments.types import DeploymentInfo, DeploymentState
from gannet.tracking.types import Experiment, FileInfo, Metric, Run, WriteReport
from gannet.training.types import Decision, PolicyStatus

__all__ = ["not_json", "shaped"]


def not_json(*media_types: str, description: str) -> dict[str, Any]:
    """The decorator arguments of a route that answers bytes (a file, a bundle, an Arrow
    stream), so the document names what comes back instead of an empty JSON schema."""
    return {"response_class": Response,
            "responses": {200: {"description": description,
                                "content": {media: {} for media in media_types}}}}


def shaped(name: str, **fields: Any) -> type[BaseModel]:
    """An answer's shape: ``{key: type}`` (every key present; ``None`` only where the type
    allows it)."""
    definitions: dict[str, Any] = {key: (kind, ...) for key, kind in fields.items()}
    return create_model(name, **definitions)


class SigningKeyAnswer(BaseModel):
    key_id: str
    is_signing_key: bool
    public_key: str


class PackageFile(BaseModel):
    path: str
    digest: str
    size: int
    mode: int | None = None


class Upload(BaseModel):
    url: str
    staged: str


DONE = shaped("Done")  # {}: the change is made
STATUS = shaped("Status", status=str)

EXPERIMENT_ID = shaped("ExperimentId", experiment_id=str)
EXPERIMENTS = shaped("Experiments", experiments=list[Experiment])
EXPERIMENT = shaped("ExperimentAnswer", experiment=Experiment)
MAYBE_EXPERIMENT = shaped("MaybeExperiment", experiment=Experiment | None)

RUN = shaped("RunAnswer", run=Run)
RUNS_PAGE = shaped("RunsPage", runs=list[Run], next_page_token=str | None)
WRITE_REPORT = shaped("WriteReportAnswer", report=WriteReport)
PARAMS = shaped("Params", params=dict[str, str])
METRIC_HISTORY = shaped("MetricHistory", metrics=list[Metric])
FILES = shaped("FileInfos", files=list[FileInfo])
ARTIFACT_FILES = shaped("ArtifactFileTriples", files=list[tuple[str, str, int]])
MISSING_UPLOADS = shaped("MissingBlobs", missing=list[str], uploads=dict[str, Upload])
BLOB = shaped("StoredBlob", digest=str, size=int)

REGISTERED_MODEL = shaped("RegisteredModelAnswer", registered_model=RegisteredModel)
REGISTERED_MODELS = shaped("RegisteredModels", registered_models=list[RegisteredModel])
MODEL_VERSION = shaped("ModelVersionAnswer", model_version=ModelVersion)
MODEL_VERSIONS = shaped("ModelVersions", model_versions=list[ModelVersion])
APPROVED = shaped("Approved", user=str | None)
GATES = shaped("GateResults", results=list[GateResult])
PROMOTION = shaped("PromotionAnswer", promotion=Promotion)
SIGNING_KEYS = shaped("SigningKeys", signing_keys=list[SigningKeyAnswer])
MISSING = shaped("Missing", missing=list[str])
PACKAGE_FILES = shaped("PackageFiles", files=list[PackageFile])

STATE = shaped("DeploymentStateAnswer", state=DeploymentState)
STATES = shaped("DeploymentStates", deployments=list[DeploymentState])
DEPLOYMENT = shaped("DeploymentAnswer", deployment=DeploymentInfo)
HISTORY = shaped("DeploymentHistory", history=list[DeploymentState])

VALIDATION_ID = shaped("ValidationId", id=int)
VALIDATIONS = shaped("Validations", validations=list[dict[str, Any]])

LOGGED_DEPLOYMENTS = shaped("LoggedDeployments", deployments=list[str])
WRITTEN = shaped("Written", written=int)

ME = shaped("Me", user=str | None, admin=bool, via=str | None, projects=dict[str, str])
USER = shaped("UserAnswer", user=User)
USERS = shaped("Users", users=list[User])
NEW_TOKEN = shaped("NewTokenAnswer", token=ApiToken, secret=str)
TOKEN = shaped("TokenAnswer", token=ApiToken)
TOKENS = shaped("Tokens", tokens=list[ApiToken])
PROJECT = shaped("ProjectAnswer", project=Project)
PROJECTS = shaped("Projects", projects=list[Project])
ROLES = shaped("Roles", roles=dict[str, list[str]])
AUDIT = shaped("AuditEntries", entries=list[AuditEntry])

POLICY = shaped("PolicyAnswer", policy=PolicyStatus)
POLICIES = shaped("Policies", policies=list[PolicyStatus])
DRY_RUN = shaped("DryRun", dry_run=dict[str, Any])
DECISION = shaped("DecisionAnswer", decision=Decision)
DECISIONS = shaped("Decisions", decisions=list[Decision])

# Datasets, monitors and features answer their objects' ``to_dict()``: documented by keys
OBJECT = dict[str, Any]
DATASETS = shaped("Datasets", datasets=list[OBJECT])
DATASET = shaped("DatasetAnswer", dataset=OBJECT)
DATASET_VERSION = shaped("DatasetVersionAnswer", version=OBJECT)
DATASET_VERSIONS = shaped("DatasetVersions", versions=list[OBJECT])
COMMITTED_VERSION = shaped("CommittedVersion", version=OBJECT, created=bool)
DATASET_DIFF = shaped("DatasetDiff", diff=OBJECT)
DATASET_USAGE = shaped("DatasetUsage", usage=OBJECT)
CATALOGUE = shaped("Catalogue", datasets=list[OBJECT], feature_views=list[OBJECT])

MONITOR = shaped("MonitorAnswer", monitor=OBJECT)
MONITORS = shaped("Monitors", monitors=list[OBJECT])
MONITOR_RUN = shaped("MonitorRun", run=OBJECT)
MONITOR_REPORTS = shaped("MonitorReports", reports=list[OBJECT])
ALERT_RULES = shaped("AlertRules", rules=list[OBJECT])
ALERT_EVENTS = shaped("AlertEvents", events=list[OBJECT])
SILENCED = shaped("Silenced", rule=str, monitor=str | None, silenced_until=int | None)

DEFINITIONS = shaped("FeatureDefinitions", definitions=list[OBJECT])
DEFINITION = shaped("FeatureDefinition", definition=OBJECT)
DEFINITION_CHANGES = shaped("FeatureChanges", changes=list[OBJECT])
MATERIALIZATIONS = shaped("Materializations", materializations=list[OBJECT])
ONLINE_COLUMNS = shaped("OnlineFeatures", columns=dict[str, list[Any]])
