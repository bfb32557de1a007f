"""Promotion gates: declared in YAML, checked by promote, a failure changes nothing."""

import pytest

from gannet.core.errors import InvalidArgument


@pytest.fixture
def sdk(sdk_anywhere):
    """Each test runs embedded and through a team server (``sdk_anywhere``)."""
    return sdk_anywhere


POLICY = """
aliases:
  champion:
    - metric: auc
      min: 0.9
    - better_than_current:
        metric: auc
        by: 0.01
    - slices:
        metric: auc
        names: [young, old]
        max_drop: 0.02
    - data_validation: passed
    - approval:
        role: ml-lead
"""


def _version_with(sdk, train_and_log, *, auc, young, old, validated=True):
    trained = train_and_log(sdk, auc=auc)
    client = sdk.get_client()
    client.log_batch(trained.run_id, tags={"gannet.validation": "passed"} if validated else {})
    client.log_metric(trained.run_id, "slice/young/auc", young)
    client.log_metric(trained.run_id, "slice/old/auc", old)
    return sdk.register_model(trained.run_id, "churn")


def test_gates_block_then_allow_and_the_audit_log_says_why(sdk, train_and_log):
    client = sdk.get_client()
    if not hasattr(client.services.auth, "grant_role"):
        pytest.skip("roles over the team server come with its auth")
    v1 = _version_with(sdk, train_and_log, auc=0.92, young=0.91, old=0.93)
    client.set_model_policy("churn", POLICY)
    client.services.auth.grant_role("lead", "ml-lead")

    refused = sdk.promote("churn", v1.version, "champion", reason="first model")
    assert not refused.promoted
    failed = {r.gate for r in refused.results if not r.passed}
    assert failed == {"approval(ml-lead)"}  # everything else passes: nothing to beat yet
    assert client.get_registered_model("churn").aliases == {}  # a failure changes nothing

    client.services.auth.grant_role(client.settings.user, "ml-lead")
    client.approve_model_version("churn", v1.version, "looks good")
    assert sdk.promote("churn", v1.version, "champion", reason="first model").promoted

    v2 = _version_with(sdk, train_and_log, auc=0.925, young=0.85, old=0.95, validated=False)
    client.approve_model_version("churn", v2.version)
    second = sdk.promote("churn", v2.version, "champion", reason="better?")
    by_gate = {r.gate: r for r in second.results}
    assert not second.promoted
    assert not by_gate["better_than_current(auc)"].passed
    assert "gain +0.005" in by_gate["better_than_current(auc)"].detail
    assert not by_gate["slices(auc)"].passed
    assert "young" in by_gate["slices(auc)"].detail
    assert not by_gate["data_validation"].passed
    assert by_gate["approval(ml-lead)"].passed
    assert client.get_registered_model("churn").aliases == {"champion": v1.version}

    promotions = [
        e
        for e in client.services.auth.search_audit_log("model:churn@champion")
        if e.action == "alias.promote"
    ]
    assert len(promotions) == 1
    assert promotions[0].detail["reason"] == "first model"
    assert promotions[0].detail["to"] == v1.version
    assert all(g["passed"] for g in promotions[0].detail["gates"])


def test_without_a_policy_promote_just_moves_the_alias(sdk, trained):
    sdk.register_model(trained.run_id, "churn")
    result = sdk.promote("churn", 1, "champion")
    assert result.promoted
    assert result.results == []


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("aliases: [1, 2]", "a policy is a mapping"),
        ("aliases:\n  champion:\n    - foo: 1", "unknown gate"),
        ("aliases:\n  champion:\n    - metric: auc", "needs min or max"),
        ("aliases:\n  champion:\n    - approval: {}", "needs a role"),
        ("aliases: {champion: [", "not valid YAML"),
    ],
)
def test_bad_policies_are_refused(sdk, trained, policy, message):
    sdk.register_model(trained.run_id, "churn")
    with pytest.raises(InvalidArgument, match=message):
        sdk.get_client().set_model_policy("churn", policy)


def test_model_card_tells_what_how_and_how_well(sdk, trained, tmp_path):
    import gannet.data

    registry = sdk.get_client().services.registry
    assert "No dataset version recorded" in _card_of_new_version(sdk, trained, registry)
    table = tmp_path / "customers.csv"
    table.write_text("id,left\n1,0\n2,1\n")
    gannet.data.add(table, name="customers")
    sdk.log_input("customers@1", context="training", run_id=trained.run_id)
    sdk.register_model(trained.run_id, "churn", description="predicts churn")
    assert "| customers@1 | training |" in registry.get_model_card("churn", 1)
    registry.update_model_version("churn", 1, card={"intended_use": "monthly retention campaigns"})
    sdk.promote("churn", 1, "champion", reason="launch")
    markdown = registry.get_model_card("churn", 1)
    assert "# Model card: churn version 1" in markdown
    assert "monthly retention campaigns" in markdown
    assert "| auc |" in markdown
    assert "| C | 1.0 |" in markdown
    assert "mean radius" in markdown  # an input column of the signature
    assert "moved `churn@champion` to version 1 (launch)" in markdown
    html = registry.get_model_card("churn", 1, "html")
    assert html.startswith("<!doctype html>")
    assert "<table>" in html
    assert "<h2>Signature</h2>" in html
    registry.update_model_version("churn", 1, card={
        "limitations": "**not** for <script>alert(1)</script> or `loans`"})
    html = registry.get_model_card("churn", 1, "html")
    assert "<strong>not</strong>" in html and "<code>loans</code>" in html  # Markdown rendered
    assert "<script>" not in html and "&lt;script&gt;" in html  # text, never markup
    with pytest.raises(InvalidArgument, match="editable fields"):
        registry.update_model_version("churn", 1, card={"colour": "blue"})


def _card_of_new_version(sdk, trained, registry) -> str:
    sdk.register_model(trained.run_id, "plain")
    return registry.get_model_card("plain", 1)
