"""docs/vocabulary.md is true: every operation has one name from the service to the faces."""

import inspect
import re
from pathlib import Path

import pytest
import typer

import gannet
from gannet.auth.service import AuthService
from gannet.cli.app import app
from gannet.client.client import GannetClient
from gannet.data.service import DataService
from gannet.data.validation.service import ValidationService
from gannet.features.service import FeatureStore
from gannet.interop.service import MlflowImportService
from gannet.monitoring.alerts.service import AlertService
from gannet.monitoring.service import MonitorService
from gannet.pipelines.service import PipelineService
from gannet.registry.responsible import ResponsibleAIService
from gannet.registry.service import RegistryService
from gannet.serving.deployments.service import DeploymentService
from gannet.store.gc.service import GarbageCollector
from gannet.tracking.service import TrackingService
from gannet.training.service import TrainingService

PAGE = Path(__file__).parents[1] / "docs" / "vocabulary.md"
SERVICES = {
    "TrackingService": TrackingService,
    "RegistryService": RegistryService,
    "AuthService": AuthService,
    "DeploymentService": DeploymentService,
    "GarbageCollector": GarbageCollector,
    "MlflowImportService": MlflowImportService,
    "ValidationService": ValidationService,
    "PipelineService": PipelineService,
    "FeatureStore": FeatureStore,
    "DataService": DataService,
    "MonitorService": MonitorService,
    "AlertService": AlertService,
    "TrainingService": TrainingService,
    "ResponsibleAIService": ResponsibleAIService,
}
CLIENT_ONLY = {"close", "flush"}  # the client's own lifecycle, no service operation


def _rows() -> list[tuple[str, str, list[str], list[str], list[str]]]:
    """(service, operation, client names, fluent names, CLI commands) per table row."""
    rows = []
    service = None
    for line in PAGE.read_text().splitlines():
        heading = re.match(r"^## .*\(`(\w+)`\)", line)
        if heading:
            service = heading.group(1)
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if service is None or len(cells) != 4 or not cells[0].startswith("`"):
            continue
        names = [re.findall(r"`([\w -]+)`", c) for c in cells]
        rows.append((service, names[0][0], names[1], names[2], names[3]))
    return rows


ROWS = _rows()


def _cli_commands() -> set[str]:
    root = typer.main.get_command(app)
    found = set()

    def walk(group, prefix):
        for name, command in group.commands.items():
            path = f"{prefix} {name}".strip()
            found.add(path)
            if hasattr(command, "commands"):
                walk(command, path)

    walk(root, "")
    return found


def test_the_page_lists_every_service():
    assert {row[0] for row in ROWS} == set(SERVICES)
    assert len(ROWS) > 40


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r[1])
def test_each_operation_exists_under_its_name_in_every_face(row):
    service, operation, client_names, fluent_names, commands = row
    assert callable(getattr(SERVICES[service], operation, None)), f"{service}.{operation}"
    for name in client_names:
        assert callable(getattr(GannetClient, name, None)), f"GannetClient.{name}"
    for name in fluent_names:
        assert name in gannet.__all__, f"gannet.{name}"
    known = _cli_commands()
    for command in commands:
        assert command in known, f"gannet {command}"


def test_every_public_client_method_is_on_the_page():
    listed = {name for row in ROWS for name in row[2]}
    public = {
        name for name, member in inspect.getmembers(GannetClient)
        if not name.startswith("_") and callable(member)
    }
    assert public - CLIENT_ONLY - listed == set()


@pytest.mark.parametrize("row", [r for r in ROWS if r[1] in r[2]], ids=lambda r: r[1])
def test_a_client_method_named_like_its_operation_calls_that_operation(row):
    """The face translates nothing: GannetClient.x calls the service's x."""
    _service, operation, *_ = row
    source = inspect.getsource(getattr(GannetClient, operation))
    assert re.search(rf"\._\w+\.{operation}\(", source), source
