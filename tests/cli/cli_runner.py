"""Running ``gannet`` in tests: one CliRunner and a clean environment."""

import os

from typer.testing import CliRunner

runner = CliRunner()


def clean_env(columns: int = 200) -> dict[str, str | None]:
    """No GANNET_* from the outer environment, no colours, a known console width."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("GANNET_")}
    env.update({"COLUMNS": str(columns), "NO_COLOR": "1", "FORCE_COLOR": None})
    return env
