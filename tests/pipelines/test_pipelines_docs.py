"""docs/pipelines.md's examples run, in order, as one script."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "pipelines.md"


@pytest.mark.slow  # imports pandas, scikit-learn and skops in a fresh interpreter
def test_every_pipelines_example_runs_in_order(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)
    script = tmp_path / "examples.py"
    script.write_text("\n\n".join(blocks))
    env = {**os.environ, "GANNET_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == ["[2, 3]", "['rows', 'c', 'test_share', 'bar']"]
    assert "FINISHED ['load', 'split', 'train', 'evaluate', 'good_enough', 'announce']" in lines
    assert "[True, True, True, True, True, True]" in lines and "False" in lines
    assert lines[-1] == "FINISHED"  # a run on an executor of the reader's own
