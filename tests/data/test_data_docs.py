"""docs/data.md's Python examples run, in order, in a fresh home, and print what it says."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "data.md"


@pytest.mark.slow
def test_every_data_example_runs_in_order(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), flags=re.S)
    script = tmp_path / "examples.py"
    script.write_text("\n\n".join(blocks))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANNET_")}
    env["GANNET_HOME"] = str(tmp_path / "home")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == ["churn@1 True ('customer_id', 'tenure', 'left')", "churn@1 False",
                         "churn@2"]
    assert lines[3:] == ["['customers.csv'] 1 1 1", "3 ['customer_id', 'left', 'tenure']",
                         "['README.txt', 'customers.csv'] 2", "churn-table@1 file",
                         "['training'] ['churn-model/1']", "['churn@1']"]
