"""A worker remembers a valid token for ``auth_cache_seconds``: a change made through the
same process takes effect at once, one made elsewhere within those seconds."""

import time

import httpx

from gannet.bootstrap import build
from gannet.testing.server import running_server


def _team(services) -> dict[str, str]:
    auth = services.auth
    auth.bootstrap_admin()
    auth.create_user("ann")
    auth.create_project("p")
    auth.add_member("p", "ann", "editor")
    services.tracking.create_experiment("exp", project="p")
    first, second = (auth.create_token(name, user="ann") for name in ("one", "two"))
    return {"one": first.secret, "one_id": first.token.id, "two": second.secret}


def _me(url: str, secret: str) -> httpx.Response:
    return httpx.get(f"{url}/api/v1/me", headers={"authorization": f"Bearer {secret}"})


def test_changes_through_the_server_process_take_effect_at_once(settings):
    services = build(settings.replace(auth_cache_seconds=60))
    team = _team(services)
    with running_server(services, auth=True) as url:
        assert _me(url, team["one"]).json()["projects"] == {"p": "editor"}  # remembered now
        services.auth.add_member("p", "ann", "reader")
        assert _me(url, team["one"]).json()["projects"] == {"p": "reader"}
        services.auth.revoke_token(team["one_id"])
        refused = _me(url, team["one"])
        assert refused.status_code == 401 and "revoked" in refused.json()["error"]
        services.auth.disable_user("ann")
        assert _me(url, team["two"]).status_code == 401
    services.close()


def test_changes_made_elsewhere_take_effect_within_the_cache_seconds(settings):
    server_side = build(settings.replace(auth_cache_seconds=0.5))
    team = _team(server_side)
    elsewhere = build(settings)  # another worker, replica or admin's machine: its own memory
    with running_server(server_side, auth=True) as url:
        assert _me(url, team["one"]).status_code == 200
        elsewhere.auth.revoke_token(team["one_id"])
        time.sleep(0.6)
        refused = _me(url, team["one"])
        assert refused.status_code == 401 and "revoked" in refused.json()["error"]
    elsewhere.close()
    server_side.close()


def test_with_no_cache_every_request_reads_the_store(settings):
    server_side = build(settings.replace(auth_cache_seconds=0))
    team = _team(server_side)
    elsewhere = build(settings)
    with running_server(server_side, auth=True) as url:
        assert _me(url, team["one"]).status_code == 200
        elsewhere.auth.revoke_token(team["one_id"])
        assert _me(url, team["one"]).status_code == 401
    elsewhere.close()
    server_side.close()
