"""Signed by default; loading verifies the signature and every byte, and names what changed."""

import shutil
from pathlib import Path

import pytest

from gannet.core.errors import GannetError, IntegrityError


@pytest.fixture
def sdk(sdk_anywhere):
    """Each test runs embedded and through a team server (``sdk_anywhere``)."""
    return sdk_anywhere


def _cached_package(sdk, ref: str) -> Path:
    registry = sdk.get_client()._registry
    return registry.local_path(registry.resolve_model_version(ref))


def test_first_registration_creates_a_trusted_key(sdk, trained):
    settings = sdk.get_client().settings
    assert not Path(settings.signing_key).exists()
    version = sdk.register_model(trained.run_id, "churn")
    assert Path(settings.signing_key).stat().st_mode & 0o777 == 0o600
    assert (Path(settings.trusted_keys) / f"{version.signing_key_id}.pub").is_file()


def test_a_changed_file_is_named_and_refused(sdk, trained):
    sdk.register_model(trained.run_id, "churn")
    sdk.load_model("churn/1")  # fills the cache
    package = _cached_package(sdk, "churn/1")
    victim = next(p for p in package.iterdir() if p.name != "gannet-model.yaml" and p.is_file())
    victim.write_bytes(victim.read_bytes() + b"\0")
    with pytest.raises(IntegrityError, match=victim.name):
        sdk.load_model("churn/1")


def test_a_changed_manifest_is_refused(sdk, trained):
    sdk.register_model(trained.run_id, "churn")
    sdk.load_model("churn/1")
    manifest = _cached_package(sdk, "churn/1") / "gannet-model.yaml"
    manifest.write_text(manifest.read_text() + "\n# edited\n")
    with pytest.raises(IntegrityError, match="gannet-model.yaml.*changed since"):
        sdk.load_model("churn/1")


def test_a_missing_public_key_is_refused_unless_unsigned_is_allowed(sdk, trained):
    version = sdk.register_model(trained.run_id, "churn")
    shutil.rmtree(sdk.get_client().settings.trusted_keys)
    with pytest.raises(IntegrityError, match=f"key {version.signing_key_id}.*not a trusted key"):
        sdk.load_model("churn/1")
    model = sdk.load_model("churn/1", allow_unsigned=True)  # skops: safe without a signature
    assert model.predict(trained.X_test).shape == (len(trained.X_test),)


def test_pickled_models_load_only_with_a_verified_signature(sdk, tmp_path):
    from registry_test_code import double
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, y = load_iris(return_X_y=True)
    model = make_pipeline(FunctionTransformer(double), LogisticRegression(max_iter=500)).fit(X, y)
    with sdk.start_run(log_environment=False) as run:
        meta = sdk.log_model(model, input_example=X[:2])
    assert meta.serialization == "pickle"  # user code inside: not safe for skops
    sdk.register_model(run.run_id, "custom")
    assert sdk.load_model("custom/1").predict(X[:5]).tolist() == model.predict(X[:5]).tolist()
    shutil.rmtree(sdk.get_client().settings.trusted_keys)
    with pytest.raises(GannetError, match="pickle"):
        sdk.load_model("custom/1", allow_unsigned=True)
    trusted = sdk.load_model("custom/1", allow_unsigned=True, trust=True)  # the caller vouches
    assert trusted.predict(X[:5]).tolist() == model.predict(X[:5]).tolist()
