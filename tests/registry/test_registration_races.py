"""Registering a new model from many processes at the same moment: every registration
succeeds with its own version, and the first registration in a fresh home makes exactly
one signing key, private to its owner whatever the umask (real processes, released
together, on SQLite and PostgreSQL)."""

import json
import os
import stat
from pathlib import Path

from gannet.testing.processes import run_together

PROCESSES = 8


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_model_registered_from_many_processes_at_once(sdk, settings, tmp_path):
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    from gannet.models.package import save_model

    X, y = load_iris(return_X_y=True)
    save_model(DecisionTreeClassifier(random_state=0).fit(X, y), tmp_path / "pkg")
    script = f"""
import json, os
os.umask(0)  # the key must still be private
import gannet
from gannet.testing.processes import together

client = gannet.get_client()
client.search_registered_models()  # the store is open before the race
together()
version = gannet.register_model({str(tmp_path / "pkg")!r}, "racer")
print(json.dumps([version.version, version.signing_key_id]))
"""
    env = {
        **os.environ,
        "GANNET_HOME": str(settings.home),
        "GANNET_METADATA_URL": settings.metadata_url,
    }
    results = [json.loads(o) for o in run_together(script, PROCESSES, tmp_path / "race", env=env)]
    assert sorted(version for version, _ in results) == list(range(1, PROCESSES + 1))
    assert len({key_id for _, key_id in results}) == 1
    keys = Path(settings.signing_key).parent
    trusted = Path(settings.trusted_keys)
    assert sorted(p.name for p in keys.iterdir()) == ["signing.key", "trusted"]  # no leftovers
    assert [p.name for p in trusted.iterdir()] == [f"{results[0][1]}.pub"]
    assert _mode(Path(settings.signing_key)) == 0o600
    assert (_mode(keys), _mode(trusted)) == (0o700, 0o700)
    assert _mode(trusted / f"{results[0][1]}.pub") == 0o644
    versions = sdk.get_client().search_model_versions("racer")
    assert sorted(v.version for v in versions) == list(range(1, PROCESSES + 1))
