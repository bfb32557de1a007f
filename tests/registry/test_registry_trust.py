"""Code from a registered package (a Python class, a pickle) runs only when its signature
verifies or the caller trusts it; unsigned loading never relaxes that. A reference always
means the registry, and one that is also a folder here is refused as ambiguous."""

import shutil
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from gannet.core.errors import IntegrityError, InvalidArgument, PermissionDenied
from gannet.testing.intruder import Intruder

ROWS = pd.DataFrame({"x": [1.0, 2.0]})


def test_a_python_class_version_runs_only_signed_or_trusted(sdk, tmp_path):
    from gannet import GannetClient

    mark = tmp_path / "mark"
    with sdk.start_run(log_environment=False) as run:
        sdk.log_model(Intruder(mark), input_example=ROWS)
    mark.unlink()  # saving ran the model once, to predict its example
    sdk.register_model(run.run_id, "custom")
    sdk.set_registered_model_alias("custom", "champion", 1)
    assert sdk.load_model("custom/1").predict(ROWS).tolist() == [2.0, 4.0]  # signed: it runs
    assert mark.read_text() == "code ran"
    mark.unlink()

    settings = sdk.get_client().settings
    shutil.rmtree(settings.trusted_keys)  # its signature can no longer be verified
    unsigned = GannetClient(replace(settings, allow_unsigned=True))  # the setting, not the kw
    loads = [
        lambda: sdk.load_model("custom/1", allow_unsigned=True),
        lambda: sdk.models.load_model("custom@champion", allow_unsigned=True),
        lambda: sdk.get_client().load_model("models:/custom/1", allow_unsigned=True),
        lambda: unsigned.load_model("custom@champion"),
    ]
    try:
        for load in loads:
            with pytest.raises(PermissionDenied,
                               match=r"custom/1 runs code from its package when it loads \(it "
                                     r"imports gannet.testing.intruder:Intruder.*not a trusted"
                               ) as caught:
                load()
            assert "re-register custom/1" in caught.value.hint
            assert "trust=True" in caught.value.hint
            assert not mark.exists()
        with pytest.raises(IntegrityError, match="not a trusted key"):
            sdk.load_model("custom/1", trust=True)  # trust runs code; it does not skip checks
        loaded = unsigned.load_model("custom/1", trust=True)
    finally:
        unsigned.close()
    assert loaded.predict(ROWS).tolist() == [2.0, 4.0] and mark.read_text() == "code ran"


def test_a_reference_is_never_shadowed_by_a_folder(sdk, trained, tmp_path, monkeypatch):
    from sklearn.dummy import DummyClassifier

    from gannet.models import save_model

    sdk.register_model(trained.run_id, "churn")
    constant = DummyClassifier(strategy="constant", constant=7).fit(trained.X_test,
                                                                     [7] * len(trained.X_test))
    monkeypatch.chdir(tmp_path)
    save_model(constant, tmp_path / "churn" / "1")
    for load in (sdk.load_model, sdk.get_client().load_model, sdk.models.load_model):
        with pytest.raises(InvalidArgument, match="'churn/1' is ambiguous") as caught:
            load("churn/1")
        assert "models:/churn/1 for the registry" in caught.value.hint
    rows = trained.X_test.head(5)
    registered = sdk.load_model("models:/churn/1").predict(rows)
    np.testing.assert_array_equal(registered, trained.model.predict(rows))
    for folder in ("file:churn/1", "./churn/1", tmp_path / "churn" / "1"):
        assert sdk.get_client().load_model(folder).predict(rows).tolist() == [7] * 5
