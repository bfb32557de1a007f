"""Artifacts never write outside where they are restored, and a missing one says why."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gannet.cli.app import app
from gannet.core.errors import InvalidArgument


@pytest.fixture
def sdk(sdk_anywhere):
    """Every test here runs embedded and through a team server."""
    return sdk_anywhere


def test_a_download_refuses_to_write_through_a_link_in_the_destination(sdk, tmp_path: Path):
    with sdk.start_run(log_environment=False) as run:
        sdk.log_text("inside", "a/b.txt")
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "a").symlink_to(outside)  # planted before the download
    with pytest.raises(InvalidArgument, match=r"would write outside .* \(through a link\)"):
        sdk.download_artifacts(run.info.run_id, "", dest)
    assert list(outside.iterdir()) == []


UPLOAD = """
import sys
import gannet

gannet.configure(home=sys.argv[1], metadata_url=sys.argv[2], progress=False)
with gannet.start_run(log_environment=False) as run:
    print(run.info.run_id, flush=True)
    gannet.log_artifact(sys.argv[3])
"""


@pytest.mark.slow
def test_an_upload_killed_half_way_leaves_no_artifact_and_says_why(settings, tmp_path):
    big = tmp_path / "weights.bin"
    with big.open("wb") as out:
        for _ in range(400):
            out.write(os.urandom(1 << 20))  # 400 MiB: long enough to be caught half-way
    script = tmp_path / "upload.py"
    script.write_text(UPLOAD)
    with subprocess.Popen(
        [sys.executable, str(script), str(settings.home), settings.metadata_url, str(big)],
        stdout=subprocess.PIPE, text=True, cwd=tmp_path,
    ) as child:
        run_id = child.stdout.readline().strip()
        uploads = settings.home / "artifacts" / "tmp"
        deadline = time.monotonic() + 120
        while not any(uploads.glob("*")) and child.poll() is None:
            assert time.monotonic() < deadline, "the upload never started"
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    stores = ["--home", str(settings.home), "--metadata-url", settings.metadata_url]
    result = CliRunner().invoke(app, [*stores, "artifacts", "download", run_id],
                                env={"NO_COLOR": "1", "COLUMNS": "200"})
    assert result.exit_code == 4
    assert f"run {run_id} has no artifacts: it was never logged, or its upload did not " \
           "complete" in result.stderr
