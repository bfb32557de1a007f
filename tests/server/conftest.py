"""Fixtures of the team server's tests: a server over a fresh store, on a real socket."""

from collections.abc import Iterator

import httpx
import pytest

from gannet.bootstrap import build
from gannet.testing.server import running_server


@pytest.fixture
def services(settings):
    services = build(settings)
    yield services
    services.close()


@pytest.fixture
def open_server(services) -> Iterator[str]:
    """The URL of a server without auth (``--no-auth``) over ``services``."""
    with running_server(services, auth=False) as url:
        yield url


@pytest.fixture
def http(open_server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=open_server, timeout=30) as client:
        yield client


# -- single sign-on ----------------------------------------------------------------------------

GROUP_ROLES = "ml-team = vision:reader, default:reader; vision-editors = vision:editor; " \
              "platform = admin"


@pytest.fixture
def idp():
    """A small OpenID Connect provider on 127.0.0.1 (``gannet.testing.oidc``)."""
    from gannet.testing.oidc import running_provider

    with running_provider() as provider:
        yield provider


@pytest.fixture
def sso_settings(settings, idp):
    """``settings`` of a server whose single sign-on uses ``idp``, with ``GROUP_ROLES``."""
    return settings.replace(oidc_issuer=idp.issuer, oidc_client_id=idp.client_id,
                            oidc_client_secret=idp.client_secret, oidc_group_roles=GROUP_ROLES)


@pytest.fixture
def sso_services(sso_settings):
    """Services over a store with an administrator and the projects ``vision`` and ``nlp``
    (an experiment each)."""
    services = build(sso_settings)
    services.auth.bootstrap_admin()
    for project in ("vision", "nlp"):
        services.auth.create_project(project)
        services.tracking.create_experiment(f"{project}-exp", project=project)
    yield services
    services.close()


@pytest.fixture
def sso_server(sso_services) -> Iterator[str]:
    """The URL of a server with auth and single sign-on over ``sso_services``."""
    with running_server(sso_services, auth=True) as url:
        yield url
