"""A 2 GiB artifact through the team server never sits in memory, on either side: uploaded
as a stream, stored as a stream, downloaded as a stream (and resumable by range)."""

import os
import resource
from pathlib import Path

import pytest

from gannet.client.client import GannetClient
from gannet.core.digests import digest_file
from gannet.testing.server import ServerProcess

SIZE = 2 << 30


def peak_rss_mb(pid: int) -> float:
    """The highest resident memory a process has had (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.mark.slow
def test_a_2_gib_artifact_goes_up_and_down_in_constant_memory(settings, tmp_path: Path):
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to read peak memory")
    big = tmp_path / "weights.bin"
    with big.open("wb") as out:
        out.write(os.urandom(4 << 20))
        out.truncate(SIZE)  # sparse: a 2 GiB file that costs no disk to make
        out.seek(SIZE - (4 << 20))
        out.write(os.urandom(4 << 20))
    with ServerProcess(settings, "--no-auth") as server:
        client = GannetClient(settings.replace(uri=server.url))
        run_id = client.create_run("0").run_id
        client_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        client.log_artifact(run_id, big, "model")
        local = client.download_artifacts(run_id, "model/weights.bin", tmp_path / "out")
        client_grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - client_before
        server_peak = peak_rss_mb(server.proc.pid)
        client.close()
    assert local.stat().st_size == SIZE
    assert digest_file(local) == digest_file(big)
    assert client_grew < 200, f"the client grew by {client_grew:.0f} MiB"
    assert server_peak < 400, f"the server peaked at {server_peak:.0f} MiB"
