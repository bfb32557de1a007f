"""docs/features.md's examples run, in order, in a fresh home, and print what it says."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).parents[2] / "docs" / "features.md"


@pytest.mark.slow
def test_every_features_example_runs_in_order(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)
    script = tmp_path / "examples.py"
    script.write_text("\n\n".join(blocks))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANNET_")}
    env["GANNET_HOME"] = str(tmp_path / "home")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "entity customer 1 created",
        "feature_view churn_stats 1 created",
        "updated 2 ['feature spend_30d dropped']",
        "[10.0, 30.0, nan]",
        "churn_stats 2",
        "(2, 2)",
        "{'customer_id': [1, 7], 'orders_30d': [30, None]}",
        "True",
        "[30, 0]",
    ]
