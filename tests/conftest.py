"""Test-wide fixtures come from Gannet's own testing plugin (also usable by plugin authors)."""

import os
from collections.abc import Iterator
from types import ModuleType

import pytest

pytest_plugins = ["gannet.testing.fixtures", "gannet.testing.s3"]

# mlflow (a test dependency) would otherwise report its use over the network
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


@pytest.fixture
def sdk(settings) -> Iterator[ModuleType]:
    """The fluent ``gannet`` module, pointed at a fresh store on each metadata backend."""
    yield from _fluent(settings)


@pytest.fixture(params=["embedded", "remote"])
def backend(request) -> str:
    """Where the SDK's calls go: to the stores in-process, or to a team server over HTTP."""
    return request.param


@pytest.fixture
def sdk_anywhere(settings, backend) -> Iterator[ModuleType]:
    """``sdk``, once embedded and once through a team server on a real socket (over the
    same fresh store); a test module runs its tests both ways by declaring
    ``@pytest.fixture def sdk(sdk_anywhere): return sdk_anywhere``."""
    if backend == "embedded":
        yield from _fluent(settings)
        return
    from gannet.bootstrap import build
    from gannet.testing.server import running_server

    services = build(settings)
    try:
        with running_server(services) as url:
            yield from _fluent(settings.replace(uri=url))
    finally:
        services.close()


def _fluent(settings) -> Iterator[ModuleType]:
    import gannet
    from gannet.client import fluent

    gannet.configure(settings)
    yield gannet
    while fluent.active_run() is not None:
        fluent.end_run()
    fluent.get_client().close()
    fluent._client = None
    fluent._experiment_id = None
