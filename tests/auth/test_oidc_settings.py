"""The single sign-on settings: the ``oidc_group_roles`` syntax, and the checks a server
makes of its SSO settings as it starts (each error names the setting and the entry)."""

import re
import tomllib
from pathlib import Path

import pytest

from gannet.auth.oidc.groups import Grant, parse_group_roles
from gannet.bootstrap import build
from gannet.core.errors import SettingsError


def test_the_documented_examples_parse():
    roles = parse_group_roles("ml-team=vision:editor,default:reader;platform=admin")
    assert roles.groups == {
        "ml-team": Grant(False, {"vision": "editor", "default": "reader"}),
        "platform": Grant(True, {}),
    }
    spaced = parse_group_roles("""
        /gannet/ml-team = vision:editor, default:reader
        "CN=ML,OU=Groups,DC=example,DC=com" = vision:reader; 0b5a-44c1 = nlp:owner, admin
    """)
    assert set(spaced.groups) == {"/gannet/ml-team", "CN=ML,OU=Groups,DC=example,DC=com",
                                  "0b5a-44c1"}
    assert spaced.groups["0b5a-44c1"] == Grant(True, {"nlp": "owner"})
    assert parse_group_roles("").groups == {} and parse_group_roles(" ; \n").groups == {}


def test_every_mapping_in_the_docs_parses():
    page = (Path(__file__).resolve().parents[2] / "docs" / "auth.md").read_text()
    blocks = [tomllib.loads(b) for b in re.findall(r"```toml\n(.*?)```", page, flags=re.S)]
    mappings = [b["oidc_group_roles"] for b in blocks if "oidc_group_roles" in b]
    assert len(mappings) == 4
    for text in mappings:
        assert parse_group_roles(text).groups
    azure = parse_group_roles(mappings[-1])
    assert azure.groups["7d3e9a12-55c4-4b8f-a0e6-1f2b3c4d5e6f"].admin


def test_groups_together_give_every_grant_and_the_highest_role():
    roles = parse_group_roles("a = vision:reader, nlp:owner; b = vision:editor; c = admin")
    assert roles.grant_for(["a", "b", "unknown"]) == Grant(
        False, {"nlp": "owner", "vision": "editor"})
    assert roles.grant_for(["c"]).admin and roles.grant_for([]) == Grant()
    assert roles.grant_for(["A"]) == Grant()  # names match exactly, case and all


@pytest.mark.parametrize(("text", "words"), [
    ("ml-team vision:editor", "entry 1 ('ml-team vision:editor') has no '='"),
    ("a=vision:editor; b=admn", "entry 2: 'admn' is neither 'admin' nor PROJECT:ROLE"),
    ("a=vision:boss", "names the role 'boss', which is not one of reader, editor, owner"),
    ("a=vision:reader,vision:editor", "gives the project 'vision' twice"),
    ("a=vision:reader; a=nlp:reader", "maps the group 'a' again (entry 1 did already)"),
    ("=vision:reader", "names no group"),
    ("a=", "grants nothing"),
    ("a=vision:reader,,admin", "has an empty grant"),
    ("a=x/y:reader", "cannot be a project name"),
    ('"cn=ml=vision:reader', "a quote that is never closed"),
    ('"cn=ml" vision:reader', "the quoted group must be followed by '='"),
])
def test_a_malformed_mapping_names_the_entry_and_the_syntax(text, words):
    with pytest.raises(SettingsError) as raised:
        parse_group_roles(text)
    assert raised.value.message.startswith("oidc_group_roles: ")
    assert words in raised.value.message
    assert "GROUP=PROJECT:ROLE" in raised.value.hint or "one" in raised.value.hint


@pytest.mark.parametrize(("changes", "words"), [
    ({"oidc_issuer": "http://idp.example.com"}, "must be an https:// URL"),
    ({"oidc_client_id": ""}, "oidc_client_id is empty"),
    ({"oidc_scopes": "profile email"}, "lacks 'openid'"),
    ({"oidc_group_roles": "team=vision:boss"}, "oidc_group_roles: "),
    ({"oidc_token_ttl": "soon"}, "oidc_token_ttl: cannot read 'soon'"),
    ({"oidc_token_ttl": "0s"}, "oidc_token_ttl must be positive"),
    ({"oidc_groups_claim": " "}, "oidc_groups_claim is empty"),
    ({"oidc_redirect_uri": "ftp://x"}, "oidc_redirect_uri 'ftp://x' is not an http(s) URL"),
])
def test_a_server_refuses_sso_settings_that_cannot_work(settings, changes, words):
    good = {"oidc_issuer": "https://idp.example.com/realms/ml", "oidc_client_id": "gannet"}
    services = build(settings.replace(**{**good, **changes}))
    try:
        with pytest.raises(SettingsError) as raised:
            services.oidc.check_settings()
        assert words in raised.value.message
    finally:
        services.close()
    for fine in (good, {"oidc_issuer": "http://127.0.0.1:9", "oidc_client_id": "g"}):
        services = build(settings.replace(**fine))  # plain http on loopback: a test's
        try:
            services.oidc.check_settings()
        finally:
            services.close()
