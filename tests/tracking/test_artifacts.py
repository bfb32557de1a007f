"""Run artifacts: files, folders, text, dicts, figures; listing, downloading, de-duplication."""

import json
from pathlib import Path

import pytest
import yaml

from gannet.core.errors import InvalidArgument, NotFound


@pytest.fixture
def sdk(sdk_anywhere):
    """Every test here runs embedded and through a team server."""
    return sdk_anywhere


def test_files_and_folders_round_trip(sdk, tmp_path: Path):
    data = tmp_path / "data"
    (data / "nested").mkdir(parents=True)
    (data / "a.csv").write_text("x,y\n1,2\n")
    (data / "nested" / "b.txt").write_text("bee")
    single = tmp_path / "model.bin"
    single.write_bytes(b"\x00\x01" * 1000)
    with sdk.start_run(log_environment=False) as run:
        sdk.log_artifact(single)
        sdk.log_artifact(single, "models/v1")
        sdk.log_artifacts(data, "inputs")
        sdk.log_text("hello", "notes/hello.txt")
        sdk.log_dict({"a": 1, "b": [1, 2]}, "config.json")
        sdk.log_dict({"a": 1}, "config.yaml")
    listing = sdk.list_artifacts(run.run_id)
    assert [(f.path, f.is_dir) for f in listing] == [
        ("config.json", False),
        ("config.yaml", False),
        ("inputs", True),
        ("model.bin", False),
        ("models", True),
        ("notes", True),
    ]
    assert [f.path for f in sdk.list_artifacts(run.run_id, "inputs")] == [
        "inputs/a.csv",
        "inputs/nested",
    ]
    out = sdk.download_artifacts(run.run_id, dst_path=tmp_path / "out")
    assert (out / "inputs" / "nested" / "b.txt").read_text() == "bee"
    assert (out / "models" / "v1" / "model.bin").read_bytes() == single.read_bytes()
    assert json.loads((out / "config.json").read_text()) == {"a": 1, "b": [1, 2]}
    assert yaml.safe_load((out / "config.yaml").read_text()) == {"a": 1}
    sub = sdk.download_artifacts(run.run_id, "inputs/nested", tmp_path / "sub")
    assert sub == tmp_path / "sub" / "inputs" / "nested"
    assert (sub / "b.txt").read_text() == "bee"
    one = sdk.download_artifacts(run.run_id, "notes/hello.txt", tmp_path / "one")
    assert one.read_text() == "hello"


def test_the_same_bytes_are_stored_once(sdk, tmp_path: Path):
    big = tmp_path / "weights.bin"
    big.write_bytes(b"w" * 200_000)
    for _ in range(3):
        with sdk.start_run(log_environment=False):
            sdk.log_artifact(big)
    blobs = Path(sdk.get_client().settings.artifacts_url) / "blobs"
    stored = [p for p in blobs.rglob("*") if p.is_file() and p.stat().st_size == 200_000]
    assert len(stored) == 1


def test_figures_are_saved_in_the_format_of_their_name(sdk):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [3, 1, 2])
    with sdk.start_run(log_environment=False) as run:
        sdk.log_figure(fig, "plots/curve.png")
        sdk.log_figure(fig, "plots/curve.svg")
        with pytest.raises(InvalidArgument, match="matplotlib Figure"):
            sdk.log_figure("not a figure", "x.png")
    plt.close(fig)
    client = sdk.get_client()
    assert client.read_artifact(run.run_id, "plots/curve.png")[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in client.read_artifact(run.run_id, "plots/curve.svg")


def test_bad_artifact_paths_and_missing_files(sdk, tmp_path: Path):
    with sdk.start_run(log_environment=False) as run:
        with pytest.raises(InvalidArgument, match="outside the run"):
            sdk.log_text("x", "../escape.txt")
        with pytest.raises(InvalidArgument, match="outside the run"):
            sdk.log_text("x", "/etc/passwd")
        with pytest.raises(InvalidArgument, match="backslash"):
            sdk.log_text("x", "a\\b.txt")
        with pytest.raises(NotFound, match="no file"):
            sdk.log_artifact(tmp_path / "missing.txt")
    assert sdk.list_artifacts(run.run_id) == []
    with pytest.raises(NotFound, match="no artifact"):
        sdk.download_artifacts(run.run_id, "nothing", tmp_path / "x")
