"""``gannet users``, ``gannet tokens`` and ``gannet projects`` through the CLI runner,
embedded (as on the server's machine), on both metadata backends."""

import json

from gannet.bootstrap import build


def ok(result):
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def test_users_tokens_and_projects_from_bootstrap_to_a_working_token(gannet, settings):
    made = json.loads(ok(gannet("users", "create", "ops", "--admin", "--json")))
    assert (made["name"], made["admin"], made["has_password"]) == ("ops", True, False)
    ok(gannet("users", "create", "ana", "--password-stdin", input="correct horse battery\n"))
    again = gannet("users", "create", "ana")
    assert again.exit_code == 5 and "already exists" in again.stderr
    short = gannet("users", "set-password", "ana", "--password-stdin", input="short\n")
    assert short.exit_code == 3 and "8 to 1024 characters" in short.stderr

    token = json.loads(ok(gannet("tokens", "create", "ci", "--user", "ana", "--expires", "30d",
                                 "--json")))
    assert token["secret"].startswith("gnt_") and token["token"]["expires"]
    listed = json.loads(ok(gannet("tokens", "list", "--user", "ana", "--json")))
    assert [t["name"] for t in listed] == ["ci"] and "secret" not in listed[0]
    bad = gannet("tokens", "create", "ci", "--user", "nobody")
    assert bad.exit_code == 4 and "gannet users create nobody" in bad.stderr

    ok(gannet("projects", "create", "vision", "-d", "image models"))
    project = json.loads(ok(gannet("projects", "add-member", "vision", "ana", "--role",
                                   "editor", "--json")))
    assert project["members"] == {"ana": "editor"}
    wrong = gannet("projects", "add-member", "vision", "ana", "--role", "boss")
    assert wrong.exit_code == 3 and "reader, editor, owner" in wrong.stderr
    users = json.loads(ok(gannet("users", "list", "--json")))
    assert {u["name"]: u["projects"] for u in users} == {"ana": {"vision": "editor"}, "ops": {}}
    assert "vision" in ok(gannet("projects", "list"))

    services = build(settings)
    try:
        services.tracking.create_experiment("cats", project="vision")
        actor = services.auth.authenticate(f"Bearer {token['secret']}", None)
        assert (actor.user, dict(actor.roles)) == ("ana", {"vision": "editor"})
    finally:
        services.close()
    held = gannet("projects", "delete", "vision")
    assert held.exit_code == 5 and "still owns experiments: 1" in held.stderr
    assert gannet("projects", "delete", "default").exit_code == 3

    ok(gannet("users", "disable", "ana"))
    revoked = json.loads(ok(gannet("tokens", "revoke", token["token"]["id"], "--json")))
    assert revoked["revoked"] is not None
    ok(gannet("projects", "remove-member", "vision", "ana"))
    entries = json.loads(ok(gannet("audit", "user:ana", "--json")))
    assert {e["action"] for e in entries} >= {"user.create", "token.create", "token.revoke",
                                              "user.disable"}
