"""The Gannet a bundle installs: exactly the code that wrote the bundle.

A release installed from the package index is pinned by name and version
(``gannet-mlops==<version>``). Gannet running from a source checkout (an editable
install, a clone) is not on any index under that version, so the bundle carries a wheel
built from the checkout, and the image installs it from the build context.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from gannet.core.errors import InvalidState
from gannet.core.version import DISTRIBUTION

_NAME = re.compile(r'^name\s*=\s*"([^"]+)"', flags=re.M)
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "setup.cfg")  # beside the package


def source_checkout() -> Path | None:
    """The checkout Gannet runs from, when it does (its ``pyproject.toml`` names us)."""
    root = Path(__file__).resolve().parents[3]
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return None
    found = _NAME.search(pyproject.read_text(encoding="utf-8"))
    return root if found and found.group(1) == DISTRIBUTION else None


def build_wheel(checkout: Path, dest: Path) -> Path:
    """A wheel of ``checkout`` in ``dest`` (built without the network when the build
    backend is installed, as it is wherever Gannet was installed from source). It is built
    from a copy of the sources, so the checkout gets no build/ folder and two bundles can
    be built at once."""
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gannet-wheel-") as tmp:
        source = Path(tmp) / "source"
        source.mkdir()
        for name in SOURCES:
            if (checkout / name).is_file():
                shutil.copy2(checkout / name, source / name)
        shutil.copytree(checkout / "gannet", source / "gannet",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        return _pip_wheel(source, dest, checkout)


def _pip_wheel(source: Path, dest: Path, checkout: Path) -> Path:
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dest)]
    if importlib.util.find_spec("setuptools") is not None:  # the build backend is here
        command.append("--no-build-isolation")
    done = subprocess.run([*command, str(source)], capture_output=True, text=True)
    wheels = sorted(dest.glob(f"{DISTRIBUTION.replace('-', '_')}-*.whl"))
    if done.returncode != 0 or not wheels:
        raise InvalidState(
            f"could not build a wheel of Gannet from {checkout}: "
            f"{(done.stderr or done.stdout).strip()[-500:]}",
            "install Gannet from the package index (pip install gannet-mlops), or fix the "
            "checkout so that `pip wheel` builds it",
        )
    return wheels[-1]
