"""``Suite``: a list of checks, read from YAML, JSON, a Python list, or a Great
Expectations suite.

``load_suite`` takes a path (``suite.yaml``, ``ge_suite.json``), YAML text, a mapping
``{checks: [...]}``, a list of check mappings or ``Check`` objects, or a ``Suite``. A
document with ``expectations`` is a Great Expectations suite and is translated
(``gannet.data.validation.expectations``). A suite's ``digest`` names its checks (the
same checks, however written, have the same digest).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from gannet.core.errors import InvalidArgument, NotFound
from gannet.data.validation.checks import Check, parse_check

SUITE_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Suite:
    checks: tuple[Check, ...]
    name: str = ""

    @property
    def digest(self) -> str:
        """sha256 of the checks' canonical JSON."""
        body = orjson.dumps([c.to_dict() for c in self.checks], option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(body).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {**({"name": self.name} if self.name else {}),
                "checks": [c.to_dict() for c in self.checks]}


def load_suite(suite: Any) -> Suite:
    """A ``Suite`` from a path, YAML/JSON text, a mapping, a list of checks, or a Suite."""
    if isinstance(suite, Suite):
        return suite
    if isinstance(suite, os.PathLike) or (isinstance(suite, str) and _looks_like_path(suite)):
        return _from_document(_read_file(Path(suite)), str(suite))
    if isinstance(suite, str):
        return _from_document(_parse_text(suite, "the suite"), "the suite")
    return _from_document(suite, "the suite")


def _looks_like_path(text: str) -> bool:
    return "\n" not in text and (text.lower().endswith(SUITE_SUFFIXES) or Path(text).is_file())


def _read_file(path: Path) -> Any:
    if not path.is_file():
        raise NotFound(f"no suite file at {path}", "give the path of a YAML or JSON suite")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"cannot read the suite {path}: {exc}",
                              "give a readable UTF-8 YAML or JSON file") from exc
    return _parse_text(text, str(path))


def _parse_text(text: str, where: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidArgument(f"{where} is not valid YAML: {exc}",
                              "fix the YAML; each check is {check: NAME, ...}") from exc


def _from_document(data: Any, where: str) -> Suite:
    name = ""
    if isinstance(data, dict) and "expectations" in data:
        from gannet.data.validation.expectations import from_great_expectations

        return Suite(tuple(from_great_expectations(data, where)),
                     str(data.get("expectation_suite_name") or data.get("name") or ""))
    if isinstance(data, dict):
        unknown = set(data) - {"checks", "name"}
        if unknown or "checks" not in data:
            raise InvalidArgument(
                f"{where} has {', '.join(sorted(map(str, unknown))) or 'no checks'}: "
                "a suite is a mapping with 'checks' (and an optional 'name')",
                "write: checks: [{check: not_null, column: age}, ...]",
            )
        name, data = str(data.get("name") or ""), data["checks"]
    if not isinstance(data, list | tuple):
        raise InvalidArgument(f"{where} is not a list of checks: {data!r:.80}",
                              "write: checks: [{check: not_null, column: age}, ...]")
    if not data:
        raise InvalidArgument(f"{where} has no checks", "add at least one check")
    return Suite(tuple(parse_check(spec, f"check {i + 1} of {where}")
                       for i, spec in enumerate(data)), name)
