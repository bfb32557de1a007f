"""The model registry end to end through the SDK: register, aliases, references, loading."""

import threading

import numpy as np
import pytest

from gannet.core.errors import InvalidArgument, InvalidState, NotFound


@pytest.fixture
def sdk(sdk_anywhere):
    """Each test runs embedded and through a team server (``sdk_anywhere``)."""
    return sdk_anywhere


def test_log_register_alias_load_predicts_like_the_original(sdk, trained):
    version = sdk.register_model(trained.run_id, "churn", description="first")
    assert (version.name, version.version, version.status) == ("churn", 1, "READY")
    assert version.run_id == trained.run_id
    assert version.flavor == "sklearn"
    assert version.signing_key_id
    assert version.metrics["auc"] > 0.9
    sdk.set_registered_model_alias("churn", "champion", 1)
    model = sdk.models.load_model("churn@champion")
    np.testing.assert_array_equal(
        model.predict(trained.X_test), trained.model.predict(trained.X_test)
    )
    np.testing.assert_allclose(
        model.predict_proba(trained.X_test), trained.model.predict_proba(trained.X_test)
    )


def test_references_resolve_every_way(sdk, trained):
    sdk.register_model(trained.run_id, "churn")
    sdk.register_model(f"runs:/{trained.run_id}/model", "churn")
    client = sdk.get_client()
    client.set_registered_model_alias("churn", "champion", 1)
    assert client.get_model_version_by_alias("churn", "champion").version == 1
    for ref, expected in [
        ("churn/1", 1),
        ("churn/2", 2),
        ("churn@latest", 2),
        ("models:/churn@champion", 1),
    ]:
        assert client.resolve_model_version(ref).version == expected
    with pytest.raises(NotFound, match="'churn' is neither a model reference nor a model package"):
        sdk.load_model("churn")
    with pytest.raises(NotFound, match="no version at 'challenger'.*aliases: champion"):
        sdk.load_model("churn@challenger")
    with pytest.raises(NotFound, match="has no version 9"):
        sdk.load_model("churn/9")
    with pytest.raises(NotFound, match="no registered model named 'nope'"):
        sdk.load_model("nope@champion")


def test_aliases_move_atomically_and_only_within_their_model(sdk, trained):
    for _ in range(2):
        sdk.register_model(trained.run_id, "churn")
    sdk.register_model(trained.run_id, "other")
    sdk.set_registered_model_alias("churn", "champion", 1)
    sdk.set_registered_model_alias("churn", "champion", 2)
    assert sdk.get_client().get_registered_model("churn").aliases == {"champion": 2}
    with pytest.raises(InvalidArgument, match="version of model 'other', not of 'churn'"):
        sdk.set_registered_model_alias("churn", "champion", "other/1")
    with pytest.raises(NotFound, match="no version 5"):
        sdk.set_registered_model_alias("churn", "champion", 5)
    with pytest.raises(InvalidArgument, match="not a version like 'v3'"):
        sdk.set_registered_model_alias("churn", "v3", 1)
    with pytest.raises(InvalidArgument, match="reserved"):
        sdk.set_registered_model_alias("churn", "latest", 1)
    sdk.delete_registered_model_alias("churn", "champion")
    assert sdk.get_client().get_registered_model("churn").aliases == {}
    entries = sdk.get_client().services.auth.search_audit_log("model:churn@champion")
    assert [e.action for e in entries] == ["alias.delete", "alias.set", "alias.set"]
    detail = entries[1].detail  # through a server it also names the caller's address
    assert {key: detail[key] for key in ("from", "to")} == {"from": 1, "to": 2}


def test_registering_a_package_folder(sdk, tmp_path):
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    from gannet.models.package import save_model

    X, y = load_iris(return_X_y=True)
    tree = DecisionTreeClassifier(random_state=0).fit(X, y)
    save_model(tree, tmp_path / "pkg", input_example=X[:3])
    version = sdk.register_model(tmp_path / "pkg", "iris")
    assert version.run_id is None
    loaded = sdk.load_model("iris/1")
    np.testing.assert_array_equal(loaded.predict(X), tree.predict(X))


def test_bad_sources_are_refused_and_nothing_is_half_registered(sdk, tmp_path):
    with sdk.start_run(log_environment=False) as run:
        sdk.log_text("not a model", "notes.txt")
    with pytest.raises(NotFound, match="has no model at 'model'.*log_model"):
        sdk.register_model(run.run_id, "churn")
    with pytest.raises(NotFound, match="neither a run id"):
        sdk.register_model(tmp_path / "missing", "churn")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidArgument, match="not a model package"):
        sdk.register_model(tmp_path / "empty", "churn")
    with pytest.raises(InvalidArgument, match="invalid model name"):
        sdk.register_model(run.run_id, "bad name!")
    assert sdk.get_client().search_registered_models() == []


def test_archived_and_aliased_versions_are_protected(sdk, trained):
    sdk.register_model(trained.run_id, "churn")
    sdk.register_model(trained.run_id, "churn")
    registry = sdk.get_client()._registry
    sdk.set_registered_model_alias("churn", "champion", 1)
    with pytest.raises(InvalidState, match="churn@champion; cannot archive"):
        registry.archive_model_version("churn", 1)
    registry.archive_model_version("churn", 2)
    with pytest.raises(InvalidState, match="archived"):
        sdk.set_registered_model_alias("churn", "challenger", 2)
    assert registry.resolve_model_version("churn@latest").version == 1
    registry.delete_model_version("churn", 2)
    assert [v.version for v in registry.search_model_versions("churn")] == [1]


def test_concurrent_registrations_get_distinct_versions(sdk, trained):
    sdk.register_model(trained.run_id, "churn")  # the model exists; now race for versions
    client = sdk.get_client()
    errors = []

    def register():
        try:
            client.register_model(trained.run_id, "churn")
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=register) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    versions = client.search_model_versions("churn")
    assert sorted(v.version for v in versions) == [1, 2, 3, 4, 5]


def test_a_second_model_in_the_same_run(sdk, train_and_log):
    trained = train_and_log(sdk, name="scorer")
    version = sdk.register_model(f"runs:/{trained.run_id}/scorer", "scorer")
    assert version.source == f"runs:/{trained.run_id}/scorer"


def test_descriptions_and_tags_on_models_and_versions(sdk, trained):
    client = sdk.get_client()
    sdk.register_model(trained.run_id, "churn")
    model = client.update_registered_model("churn", "predicts churn", tags={"team": "growth"})
    assert (model.description, model.tags) == ("predicts churn", {"team": "growth"})
    version = client.update_model_version("churn", 1, "baseline", tags={"validated": "yes"})
    assert (version.description, version.tags) == ("baseline", {"validated": "yes"})
    assert [m.name for m in client.search_registered_models("ch%")] == ["churn"]
    assert client.search_registered_models("x%") == []
