"""Loading a folder runs no code the package brings unless the caller trusts it, never loads
with a loader the manifest names, and never takes a reference for a folder (or back)."""

import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
from custom_models import ThresholdModel
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier

import gannet.models
from gannet.core.digests import digest_bytes
from gannet.core.errors import IntegrityError, InvalidArgument, PermissionDenied
from gannet.models import MANIFEST, ModelMeta, flavors, load_model, read_meta, save_model


class _Mark:
    """Unpickling this writes a file: the proof that the pickle's code ran."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.write_text, (self.path, "code ran"))


def _forge(folder: Path, files: dict, **fields) -> Path:
    """A package as an attacker writes one: any files, and a manifest that digests them."""
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    meta = ModelMeta(
        signature=None, python_version="3.11.0", libraries={}, requirements=(),
        files={name: digest_bytes(data) for name, data in files.items()}, **fields,
    )
    (folder / MANIFEST).write_text(meta.to_yaml())
    return folder


@pytest.fixture(scope="module")
def tree():
    X, y = load_iris(return_X_y=True, as_frame=True)
    return DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y), X.head(3)


def test_a_class_that_unpickles_named_by_an_unsigned_folder_never_runs(tmp_path):
    """The review's case: ``joblib:numpy_pickle`` as the python flavor's class, a pickle as
    its artifact; loading the folder used to unpickle it."""
    mark = tmp_path / "mark"
    python = flavors.get("python")
    package = _forge(
        tmp_path / "m", {"artifacts": pickle.dumps(_Mark(mark))}, flavor="python",
        loader=python.loader, serialization="python-class",
        extra={"class": "joblib:numpy_pickle"},
    )
    for ref in (package, str(package), f"file:{package}"):
        with pytest.raises(PermissionDenied, match="imports joblib:numpy_pickle") as caught:
            gannet.models.load_model(ref)
        assert "trust=True" in caught.value.hint
    assert not mark.exists()


@pytest.mark.parametrize("trust", [False, True])
def test_a_loader_the_manifest_names_is_never_imported(tmp_path, monkeypatch, tree, trust):
    """Only installed flavors load, each with its own loader; a manifest naming another
    loader is refused before anything is imported, trusted or not."""
    module = tmp_path / "intruding_loader.py"
    module.write_text("from pathlib import Path\n"
                      "Path(__file__).with_name('mark').write_text('imported')\n"
                      "def load(folder, meta):\n    return None\n"
                      "class Model:\n    load = staticmethod(load)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    save_model(ThresholdModel("x", 1.0), tmp_path / "python")
    save_model(tree[0], tmp_path / "sklearn")
    for name in ("python", "sklearn"):
        manifest = tmp_path / name / MANIFEST
        text = manifest.read_text().replace(f"gannet.models.flavors.{name}:load",
                                            "intruding_loader:load")
        manifest.write_text(text.replace("custom_models:ThresholdModel", "intruding_loader:Model"))
        with pytest.raises(IntegrityError, match="names the loader 'intruding_loader:load'"):
            load_model(tmp_path / name, trust=trust)
    assert not (tmp_path / "mark").exists() and "intruding_loader" not in sys.modules


def test_a_reference_that_is_also_a_folder_here_is_ambiguous(tmp_path, monkeypatch, tree):
    model, rows = tree
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GANNET_HOME", str(tmp_path / "home"))
    save_model(model, tmp_path / "churn" / "3")
    save_model(model, tmp_path / "churn@champion")
    for ref in ("churn/3", "churn@champion"):
        with pytest.raises(InvalidArgument, match=f"'{ref}' is ambiguous") as caught:
            gannet.models.load_model(ref)
        assert caught.value.hint == (f"write ./{ref} or file:{ref} for the folder, or "
                                     f"models:/{ref} for the registry")
    expected = model.predict(rows)
    named = ["file:churn/3", "./churn/3", Path("churn/3"), f"file:{tmp_path}/churn/3",
             f"file://{tmp_path}/churn/3", "file:churn@champion"]
    for ref in named:
        np.testing.assert_array_equal(gannet.models.load_model(ref).predict(rows), expected)
    assert read_meta(gannet.models.locate("file:churn/3")).flavor == "sklearn"
    with pytest.raises(InvalidArgument, match="names a host"):
        gannet.models.load_model("file://server/churn")
