"""``gannet serve`` loads no package code that nobody vouches for, whatever the settings."""

import httpx
import pytest
from server_fixtures import CliServer, first_answer, make_settings

from gannet.testing.intruder import register_as_stranger

pytestmark = pytest.mark.slow


def test_an_unverifiable_python_class_version_is_not_served_even_with_allow_unsigned(tmp_path):
    """A version signed by a key this home does not trust, whose package imports its own
    class: with the setting allow_unsigned=true the server used to load (and so run) it."""
    settings = make_settings(tmp_path)
    mark = tmp_path / "mark"
    register_as_stranger(settings, "intruded", mark)
    with CliServer(settings, "intruded/1", "--no-log", env={"GANNET_ALLOW_UNSIGNED": "true"},
                   ready=False) as server:
        # it answers once its first load was tried (the lifespan loads before accepting)
        answer = first_answer(f"{server.url}/v2/health/ready", proc=server.proc)
        assert answer.status_code == 503
        body = answer.json()
        assert body["code"] == "NOT_READY" and body["ready"] is False
        assert ("PermissionDenied: intruded/1 runs code from its package when it loads (it "
                "imports gannet.testing.intruder:Intruder") in body["error"]
        assert "not a trusted key" in body["error"]
        assert "re-register intruded/1" in body["error"]
        refused = httpx.post(f"{server.url}/predict", json=[{"x": 1.0}], timeout=10)
        assert refused.status_code == 503
    assert not mark.exists()
