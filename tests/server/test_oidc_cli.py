"""``gannet login`` and ``gannet logout`` against a real server and the test provider.

``gannet login --sso`` runs as its own process, as a user runs it: Python's
``webbrowser`` runs the program in ``BROWSER``, here ``gannet.testing.browser``, which
follows the redirects (server, provider, server, the CLI's loopback URL) as a browser
would. The commands after it run with the CLI runner and no ``GANNET_TOKEN``: the token
comes from the credentials file.
"""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gannet.cli.app import app
from gannet.testing.browser import executable, follow
from gannet.testing.oidc import Person

runner = CliRunner()


@pytest.fixture
def env(sso_server, tmp_path) -> dict[str, str]:
    """A user's environment: the server, a credentials file of their own, a browser."""
    return {"GANNET_URI": sso_server, "GANNET_HOME": str(tmp_path / "home"),
            "GANNET_CREDENTIALS_FILE": str(tmp_path / "config" / "gannet" / "credentials.json"),
            "BROWSER": str(executable(tmp_path)),
            "NO_COLOR": "1", "COLUMNS": "200"}


def login_sso(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    outer = {k: v for k, v in os.environ.items() if not k.startswith("GANNET_")}
    return subprocess.run([sys.executable, "-m", "gannet", "login", "--sso", *args],
                          env={**outer, **env}, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, check=False)


def gannet(env: dict[str, str], *args: str, input: str | None = None):
    cleared = {k: None for k in os.environ if k.startswith("GANNET_")}
    return runner.invoke(app, list(args), env={**cleared, **env}, input=input)


def saved(env: dict[str, str]) -> dict:
    path = Path(env["GANNET_CREDENTIALS_FILE"])
    return json.loads(path.read_text()) if path.exists() else {}


def test_login_with_sso_keeps_a_token_the_cli_uses_until_logout(env, sso_server,
                                                                sso_services, idp):
    idp.person = Person("ana", ["ml-team"])
    done = login_sso(env, "--json", "--timeout", "60")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["uri"], answer["user"]) == (sso_server, "ana")
    assert "Opening the browser" in done.stderr and "/api/v1/oidc/login" in done.stderr
    path = env["GANNET_CREDENTIALS_FILE"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    entry = saved(env)[sso_server]
    assert entry["token"].startswith("gnt_") and entry["user"] == "ana"
    assert entry["token_id"] == answer["token_id"] and entry["expires"] > 0

    listed = gannet(env, "experiments", "list", "--json")  # no GANNET_TOKEN: the file's
    assert listed.exit_code == 0, listed.stderr
    names = {e["name"] for e in json.loads(listed.stdout)}
    assert "vision-exp" in names and "nlp-exp" not in names
    info = json.loads(gannet(env, "info", "--json").stdout)["settings"]["token"]
    assert info == {"value": "***", "source": "credentials file"}

    out = gannet(env, "logout")
    assert out.exit_code == 0 and "token revoked" in out.stdout, out.stderr
    assert sso_server not in saved(env)
    assert sso_services.auth.list_tokens("ana")[0].revoked is not None
    refused = gannet(env, "experiments", "list")
    assert refused.exit_code == 6 and "sent none" in refused.stderr
    again = gannet(env, "logout")
    assert again.exit_code == 0 and "no login" in again.stdout


def test_a_refused_sso_login_says_why_and_keeps_nothing(env, sso_services, idp):
    idp.refuse = "access_denied"
    done = login_sso(env, "--timeout", "60")
    assert done.returncode == 6, (done.stdout, done.stderr)
    assert "refused the login (access_denied" in done.stderr
    assert saved(env) == {}
    assert "ana" not in {u.name for u in sso_services.auth.list_users()}


def test_login_without_a_browser_prints_the_url_to_open(env, sso_server, idp):
    outer = {k: v for k, v in os.environ.items() if not k.startswith("GANNET_")}
    command = [sys.executable, "-m", "gannet", "login", "--sso", "--no-browser", "--timeout",
               "60"]
    with subprocess.Popen(command, env={**outer, **env, "BROWSER": "/bin/false"},
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as login:
        url = ""
        for line in login.stderr:
            if line.strip().startswith(f"{sso_server}/api/v1/oidc/login?"):
                url = line.strip()
                break
        assert url, "gannet login --no-browser printed no URL"
        assert follow(url).status_code == 200  # a person opening it
        out, _ = login.communicate(timeout=60)
    assert login.returncode == 0 and "logged in" in out and "as ana" in out
    assert saved(env)[sso_server]["user"] == "ana"


def test_login_with_a_token_checks_it_first(env, sso_server, sso_services):
    made = sso_services.auth.create_token("laptop", user="admin")
    wrong = gannet(env, "login", "--token-stdin", input="gnt_not-a-token\n")
    assert wrong.exit_code == 6 and "not valid" in wrong.stderr
    assert saved(env) == {}
    done = gannet(env, "login", "--token-stdin", input=made.secret + "\n")
    assert done.exit_code == 0, done.stderr
    assert f"logged in to {sso_server} as admin" in done.stdout
    assert saved(env)[sso_server]["token"] == made.secret
    overridden = gannet({**env, "GANNET_TOKEN": made.secret}, "login", "--token-stdin",
                        input=made.secret + "\n")
    assert "GANNET_TOKEN is set" in overridden.stderr


def test_login_needs_a_server(env):
    alone = gannet({k: v for k, v in env.items() if k != "GANNET_URI"}, "login", "--sso")
    assert alone.exit_code == 3 and "GANNET_URI" in alone.stderr
