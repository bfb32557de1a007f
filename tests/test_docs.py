"""The docs are tested like code: their examples run, and nothing public goes undocumented."""

import os
import re
import subprocess
import sys
from pathlib import Path

import gannet

ROOT = Path(__file__).resolve().parents[1]


def _python_blocks(markdown: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown.read_text(), flags=re.S)


def test_every_tracking_example_runs_in_order(tmp_path: Path):
    blocks = _python_blocks(ROOT / "docs" / "tracking.md")
    assert len(blocks) >= 8
    script = tmp_path / "examples.py"
    script.write_text("\n\n".join(blocks))
    env = {**os.environ, "GANNET_HOME": str(tmp_path / "home"), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "FINISHED" in done.stdout
    assert "100 99 0.01" in done.stdout


def test_every_sdk_function_is_documented_with_an_example():
    text = (ROOT / "docs" / "tracking.md").read_text()
    code = "\n".join(_python_blocks(ROOT / "docs" / "tracking.md"))
    undocumented = [
        name
        for name in gannet.__all__
        if name[0].islower() and not name.startswith("_")
        and name not in ("configure", "get_client")
        and f"gannet.{name}(" not in code
    ]
    assert not undocumented, f"no runnable example in docs/tracking.md for: {undocumented}"
    for name in ("configure", "get_client"):
        assert name in text or name in (ROOT / "docs" / "settings.md").read_text()


def test_readme_quickstart_is_what_make_and_ci_run():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, flags=re.M)
    assert re.search(r"^test:", makefile, flags=re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
