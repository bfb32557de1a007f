"""Team mode: the same SDK calls with artifacts on S3 (a real S3 server on 127.0.0.1),
configured the way a team would — settings plus the standard AWS variables."""

from pathlib import Path

import pytest


@pytest.fixture
def s3_sdk(sdk, settings, s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    sdk.configure(settings.replace(artifacts_url=s3_endpoint.url()))
    return sdk


def test_artifacts_round_trip_through_s3(s3_sdk, tmp_path: Path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"\x01" * 300_000)
    (folder / "config.json").write_text('{"layers": 3}')
    with s3_sdk.start_run(log_environment=False) as run:
        s3_sdk.log_artifacts(folder, "model")
        s3_sdk.log_text("on s3", "notes.txt")
        s3_sdk.log_metric("loss", 0.1)
    assert s3_sdk.get_client().settings.artifacts_url.startswith("s3://")
    assert [f.path for f in s3_sdk.list_artifacts(run.run_id, "model")] == [
        "model/config.json",
        "model/weights.bin",
    ]
    out = s3_sdk.download_artifacts(run.run_id, "", tmp_path / "out")
    assert (out / "model" / "weights.bin").read_bytes() == b"\x01" * 300_000
    assert (out / "notes.txt").read_text() == "on s3"
