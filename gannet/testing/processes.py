"""Real processes started together, for tests of what happens when they race.

``run_together`` starts ``count`` Python processes on one script and releases them at the
same moment: each script does its slow setup first (imports, opening stores), then calls
``together()`` right before the racing call; once every process waits there, all of them
go at once. A script may call ``together()`` several times (rounds), each a new barrier.
What a process prints on stdout is its result.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

_FOLDER = "GANNET_TEST_TOGETHER"
_INDEX = "GANNET_TEST_TOGETHER_INDEX"
_round = 0


def together() -> None:
    """In a process started by ``run_together``: wait until every process is here."""
    global _round
    folder = Path(os.environ[_FOLDER])
    _round += 1
    (folder / f"ready-{_round}-{os.environ[_INDEX]}").touch()
    go = folder / f"go-{_round}"
    deadline = time.monotonic() + 300
    while not go.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the other processes never reached round {_round}")
        time.sleep(0.002)


def run_together(
    script: str,
    count: int,
    folder: Path,
    *,
    env: Mapping[str, str] | None = None,
    rounds: int = 1,
    timeout: float = 300,
) -> list[str]:
    """Run ``script`` (Python source) in ``count`` processes released together ``rounds``
    times; return each one's stdout, in start order. A process that fails or is still
    running at ``timeout`` fails the call, with its stderr."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "script.py"
    path.write_text(script)
    children = [
        subprocess.Popen(
            [sys.executable, str(path)],
            env={**(env or os.environ), _FOLDER: str(folder), _INDEX: str(index)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(count)
    ]
    try:
        for number in range(1, rounds + 1):
            _release(folder, number, count, children, time.monotonic() + timeout)
        results = [child.communicate(timeout=timeout) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.communicate()
    failed = [
        (child.returncode, err)
        for child, (_, err) in zip(children, results, strict=True)
        if child.returncode
    ]
    if failed:
        raise AssertionError(f"{len(failed)} of {count} processes failed; first: {failed[0]}")
    return [out for out, _ in results]


def _release(
    folder: Path, number: int, count: int, children: list[subprocess.Popen[str]], deadline: float
) -> None:
    """Wait until ``count`` processes are ready for round ``number``, then let them go."""
    while len(list(folder.glob(f"ready-{number}-*"))) < count:
        exited = [c for c in children if c.poll() not in (None, 0)]
        if exited:
            _, err = exited[0].communicate()
            raise AssertionError(f"a process failed before round {number}: {err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"the processes never all reached round {number}")
        time.sleep(0.01)
    (folder / f"go-{number}").touch()
