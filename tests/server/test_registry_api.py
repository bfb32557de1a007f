"""The registry over the team server: a package folder registered from a client with its
own home, loaded there verified against the server's published key, and what the server
refuses (wrong digests, missing files, tampered bytes), over real HTTP."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from gannet.bootstrap import build
from gannet.core.digests import digest_bytes, hex_part
from gannet.core.errors import IntegrityError, InvalidArgument, NotFound, PermissionDenied
from gannet.core.settings import Settings


@pytest.fixture
def iris():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    return LogisticRegression(max_iter=500).fit(X, y), X


@pytest.fixture
def package(iris, tmp_path) -> Path:
    from gannet.models.package import save_model

    model, X = iris
    save_model(model, tmp_path / "iris-package", input_example=X.head(3))
    return tmp_path / "iris-package"


@pytest.fixture
def client_settings(open_server, tmp_path) -> Settings:
    """A client on another 'machine': its own home (no keys, no cache), the server's URL."""
    (tmp_path / "client").mkdir()
    return Settings.load(environ={}, cwd=tmp_path / "client", home=tmp_path / "client-home",
                         uri=open_server, progress=False)


@pytest.fixture
def remote(client_settings):
    services = build(client_settings)
    yield services
    services.close()


def test_a_folder_registered_from_a_client_loads_there_verified(remote, services, package, iris):
    model, X = iris
    version = remote.registry.register_model(package, "iris", description="from a laptop")
    assert (version.name, version.version, version.run_id) == ("iris", 1, None)
    assert version.source == str(package.resolve())
    assert version.signing_key_id  # signed by the server's key, made at the first sign
    assert version == services.registry.get_model_version("iris", 1)  # the server's record
    again = remote.registry.register_model(package, "iris")  # nothing left to upload
    assert again.package_digest == version.package_digest

    client_home = remote.settings.home
    assert not (client_home / "keys").exists()  # the client trusts no key of its own
    loaded = remote.registry.load_model("iris/1")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    cached = client_home / "cache" / "models" / hex_part(version.package_digest)
    assert (cached / "gannet-model.yaml").is_file()

    [key] = remote.registry.list_signing_keys()
    assert (key.key_id, key.is_signing_key, key.path) == (version.signing_key_id, True, None)
    assert "PUBLIC KEY" in key.public_key and "PRIVATE" not in key.public_key


def test_the_signing_keys_route_shows_public_halves_only(http, services, package):
    services.registry.register_model(package, "iris")
    [key] = http.get("/api/v1/signing-keys").json()["signing_keys"]
    assert set(key) == {"key_id", "is_signing_key", "public_key"}
    assert key["public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    private = Path(services.settings.signing_key).read_text()
    assert private not in http.get("/api/v1/signing-keys").text


def test_a_tampered_cache_or_an_untrusted_signer_is_refused_remotely(
    remote, services, package
):
    remote.registry.register_model(package, "iris")
    folder = remote.registry.local_path(remote.registry.get_model_version("iris", 1))
    victim = next(p for p in folder.iterdir() if p.suffix == ".skops")
    victim.write_bytes(victim.read_bytes() + b"\0")
    with pytest.raises(IntegrityError, match=victim.name):
        remote.registry.load_model("iris/1")
    shutil.rmtree(folder)  # fetched again, whole

    shutil.rmtree(services.settings.trusted_keys)  # the server no longer vouches for its key
    with pytest.raises(IntegrityError, match="not a trusted key"):
        remote.registry.load_model("iris/1")
    assert remote.registry.load_model("iris/1", allow_unsigned=True)  # skops runs no code


def test_a_pickled_model_loads_remotely_only_signed_or_trusted(remote, services, tmp_path):
    from server_test_code import double
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from gannet.models.package import save_model

    X, y = load_iris(return_X_y=True)
    model = make_pipeline(FunctionTransformer(double), LogisticRegression(max_iter=500))
    meta = save_model(model.fit(X, y), tmp_path / "custom", input_example=X[:2])
    assert meta.serialization == "pickle"  # code of the tests' own: not safe for skops
    remote.registry.register_model(tmp_path / "custom", "custom")
    assert remote.registry.load_model("custom/1").predict(X[:3]).shape == (3,)
    shutil.rmtree(services.settings.trusted_keys)
    with pytest.raises(PermissionDenied, match="pickle"):
        remote.registry.load_model("custom/1", allow_unsigned=True)


def test_bytes_that_change_in_the_servers_store_never_load(remote, services, package):
    version = remote.registry.register_model(package, "iris")
    manifest = services.blobs.read_manifest(version.package_digest)
    entry = next(e for p, e in manifest.entries.items() if p.endswith(".skops"))
    blob = Path(services.blobs.blob_path(entry.digest))
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.chmod(0o644)
    blob.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="does not match its digest"):
        remote.registry.load_model("iris/1")
    cache = remote.settings.home / "cache" / "models"
    assert not (cache / hex_part(version.package_digest)).exists()  # nothing half cached


def test_uploads_are_checked_and_a_package_needs_all_its_files(http, package):
    data = (package / "gannet-model.yaml").read_bytes()
    digest, wrong = digest_bytes(data), digest_bytes(b"something else")
    asked = http.post("/api/v1/model-packages/missing", json={"digests": [digest, wrong]})
    assert asked.json()["missing"] == [digest, wrong]
    refused = http.put(f"/api/v1/blobs/{wrong}", content=data)  # uploaded as any blob is
    assert (refused.status_code, refused.json()["code"]) == (400, InvalidArgument.code)
    assert "nothing was stored" in refused.json()["error"]
    bad = http.put("/api/v1/blobs/not-a-digest", content=data)
    assert bad.json()["code"] == InvalidArgument.code
    assert http.put(f"/api/v1/blobs/{digest}", content=data).json() == {
        "digest": digest, "size": len(data)}
    assert http.post("/api/v1/model-packages/missing",
                     json={"digests": [digest, wrong]}).json()["missing"] == [wrong]

    files = [{"path": "gannet-model.yaml", "digest": digest, "size": len(data)}]
    incomplete = http.post("/api/v1/registered-models/iris/versions", json={"files": files})
    assert incomplete.json()["code"] == IntegrityError.code  # the yaml lists more files
    other = digest_bytes(b"never uploaded")
    files.append({"path": "model.skops", "digest": other, "size": 14})
    missing = http.post("/api/v1/registered-models/iris/versions", json={"files": files})
    assert missing.json()["code"] == NotFound.code and "model.skops" in missing.json()["error"]
    files[1]["path"] = "../escape"
    escaping = http.post("/api/v1/registered-models/iris/versions", json={"files": files})
    assert escaping.json()["code"] == InvalidArgument.code
    neither = http.post("/api/v1/registered-models/iris/versions", json={})
    assert "exactly one of source" in neither.json()["error"]
    assert http.get("/api/v1/registered-models").json()["registered_models"] == []


def test_registry_routes_answer_as_the_service(remote, services, package):
    registry = remote.registry
    registry.register_model(package, "iris")
    registry.register_model(package, "iris")
    model = registry.update_registered_model("iris", description="flowers", tags={"t": "1"})
    assert (model.description, model.tags) == ("flowers", {"t": "1"})
    assert registry.set_registered_model_alias("iris", "champion", "iris/1").version == 1
    assert registry.resolve_model_version("models:/iris@champion").version == 1
    assert registry.get_model_version_by_alias("iris", "champion").aliases == ("champion",)
    assert [v.version for v in registry.search_model_versions("iris")] == [2, 1]
    with pytest.raises(NotFound, match="no version at 'canary'.*aliases: champion"):
        registry.resolve_model_version("iris@canary")
    registry.set_model_policy("iris", "aliases:\n  champion:\n    - metric: auc\n      min: 0.9")
    assert not registry.promote("iris", 2, "champion").promoted  # no auc: the gate fails
    [result] = registry.check_promotion_gates("iris", 2, "champion")
    assert (result.gate, result.passed, result.detail) == (
        "metric(auc)", False, "version has no metric 'auc'")
    registry.set_model_policy("iris", None)
    promotion = registry.promote("iris", 2, "champion", reason="better")
    assert (promotion.promoted, promotion.previous_version) == (True, 1)
    registry.approve_model_version("iris", 2, "fine")
    registry.update_model_version("iris", 2, card={"intended_use": "teaching"})
    assert "teaching" in registry.get_model_card("iris", 2)
    assert registry.get_model_card("iris", 2, "html").startswith("<!doctype html>")
    registry.archive_model_version("iris", 1)
    registry.delete_model_version("iris", 1)
    registry.delete_registered_model_alias("iris", "champion")
    entries = remote.auth.search_audit_log("model:iris")
    assert entries[0].action == "alias.delete"
    assert {"alias.promote", "version.approve", "version.archive"} <= {e.action for e in entries}
    assert all(e.user_id == remote.auth.current_user for e in entries)
    registry.delete_registered_model("iris")
    assert registry.search_registered_models() == []


def test_searches_in_mlflow_languages_and_a_recorded_source_go_through(remote, services,
                                                                         package):
    registry = remote.registry
    first = registry.register_model(package, "iris-a", source_uri="s3://elsewhere/iris")
    assert first.source == "s3://elsewhere/iris"
    registry.register_model(package, "iris-b")
    registry.register_model(package, "iris-b")
    found = registry.search_registered_models(filter_string="name LIKE 'iris-%'",
                                              order_by=["name DESC"])
    assert [m.name for m in found] == ["iris-b", "iris-a"]
    assert found == services.registry.search_registered_models(
        filter_string="name LIKE 'iris-%'", order_by=["name DESC"])
    across = registry.search_model_versions(filter_string="name = 'iris-b'")
    assert [(v.name, v.version) for v in across] == [("iris-b", 2), ("iris-b", 1)]
    assert [v.version for v in registry.search_model_versions(
        "iris-b", filter_string="version_number = 1")] == [1]
    registry.update_model_version("iris-b", 1, tags={"keep": "1", "drop": "1"})
    changed = registry.update_model_version("iris-b", 1, delete_tags=["drop"])
    assert changed.tags == {"keep": "1"}
    registry.update_registered_model("iris-b", tags={"keep": "1", "drop": "1"})
    assert registry.update_registered_model("iris-b", delete_tags=["drop"]).tags == {"keep": "1"}
