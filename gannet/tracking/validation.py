"""What a key, value or artifact path may be, checked once before anything is stored.

Limits follow MLflow's (so runs move between the two without surprises): keys up to 250
characters of letters, digits, ``_ - . /`` and spaces; param values up to 6,000
characters, tag values up to 8,000.
"""

from __future__ import annotations

import math
import numbers
import posixpath
import re

from gannet.core.errors import Conflict, InvalidArgument

MAX_KEY = 250
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_EXPERIMENT_NAME = 500
_KEY = re.compile(r"^[\w\-. /]+$")
valid_keys: set[str] = set()  # keys already seen valid: log_metric in a loop checks once


def check_key(key: object, what: str) -> str:
    if key in valid_keys:
        return key  # type: ignore[return-value,unused-ignore]
    if not isinstance(key, str) or not key:
        raise InvalidArgument(
            f"{what} key must be a non-empty string, got {key!r}",
            f"name the {what} with letters, digits, '_', '-', '.', '/' or spaces",
        )
    if len(key) > MAX_KEY:
        raise InvalidArgument(
            f"{what} key {key[:40]!r}... is {len(key)} characters long (limit {MAX_KEY})",
            "use a shorter key",
        )
    if not _KEY.match(key):
        bad = sorted({c for c in key if not re.match(r"[\w\-. /]", c)})
        raise InvalidArgument(
            f"{what} key {key!r} contains {''.join(bad)!r}, which keys may not contain",
            "use letters, digits, '_', '-', '.', '/' and spaces only",
        )
    parts = key.split("/")
    if key.startswith("/") or ".." in parts or "." in parts or "" in parts:
        raise InvalidArgument(
            f"{what} key {key!r} is not a clean relative name "
            "(no leading '/', no empty, '.' or '..' parts)",
            "write it like 'train/loss'",
        )
    if len(valid_keys) < 100_000:
        valid_keys.add(key)
    return key


def check_metric_value(key: str, value: object) -> float:
    """A real number (NaN and infinities are stored faithfully); anything else is an error."""
    if type(value) is float:  # the common cases first: log_metric is a hot path
        return value
    if type(value) is int and -(2**1023) < value < 2**1023:
        return float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgument(
            f"metric {key!r} got {value!r} of type {type(value).__name__}, not a number",
            "log numbers as metrics; log text with set_tag or log_param",
        )
    try:
        result = float(value)
    except OverflowError as exc:
        raise InvalidArgument(
            f"metric {key!r} value {value} is too large for a 64-bit float",
            "log it scaled, or as a param",
        ) from exc
    return result


def check_step(step: object) -> int:
    if type(step) is int and -(2**63) <= step < 2**63:  # the common case, fast
        return step
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise InvalidArgument(f"step must be an integer, got {step!r}", "pass step=<int>")
    if not -(2**63) <= int(step) < 2**63:
        raise InvalidArgument(f"step {step} does not fit in 64 bits", "use a smaller step")
    return int(step)


def param_text(key: str, value: object) -> str:
    text = value if isinstance(value, str) else _stringify(value)
    if len(text) > MAX_PARAM_VALUE:
        raise InvalidArgument(
            f"param {key!r} value is {len(text)} characters long (limit {MAX_PARAM_VALUE})",
            "log long values as an artifact with log_text or log_dict",
        )
    return text


def tag_text(key: str, value: object) -> str:
    text = value if isinstance(value, str) else _stringify(value)
    if len(text) > MAX_TAG_VALUE:
        raise InvalidArgument(
            f"tag {key!r} value is {len(text)} characters long (limit {MAX_TAG_VALUE})",
            "log long values as an artifact with log_text",
        )
    return text


def _stringify(value: object) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return str(value)


def check_experiment_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgument(
            f"experiment name must be a non-empty string, got {name!r}",
            "give the experiment a name, e.g. gannet.set_experiment('churn')",
        )
    if len(name) > MAX_EXPERIMENT_NAME:
        raise InvalidArgument(
            f"experiment name is {len(name)} characters long (limit {MAX_EXPERIMENT_NAME})",
            "use a shorter name",
        )
    return name


def artifact_path(path: str | None) -> str:
    """A clean relative posix path inside a run's artifact tree ('' is the root)."""
    if path is None or path in ("", ".", "/"):
        return ""
    if not isinstance(path, str):
        raise InvalidArgument(f"artifact path must be a string, got {path!r}", "pass a str")
    if "\\" in path or "\x00" in path:
        raise InvalidArgument(
            f"artifact path {path!r} contains a backslash or NUL",
            "use forward slashes, e.g. 'plots/roc.png'",
        )
    clean = posixpath.normpath(path).strip("/") if not path.startswith("/") else None
    if clean is None or clean == ".." or clean.startswith("../"):
        raise InvalidArgument(
            f"artifact path {path!r} points outside the run's artifacts",
            "use a relative path without '..', e.g. 'plots/roc.png'",
        )
    return "" if clean == "." else clean


def param_conflict(run_id: str, key: str, stored: str, new: str) -> str:
    """What is wrong when a param that holds ``stored`` is logged again as ``new``."""
    return f"param {key!r} of run {run_id} is already {stored!r}; cannot change it to {new!r}"


def params_are_immutable(conflicts: list[str], scope: str) -> Conflict:
    """The error for refused params; ``scope`` says what was not stored ("batch", "call")."""
    return Conflict(
        f"{conflicts[0]} (params are immutable; nothing of this {scope} was stored)",
        "log the new value under another key, or start a new run",
    )
