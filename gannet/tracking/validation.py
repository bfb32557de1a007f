"""What a key, value or artifact path may be, checked once before anything is stored.

Limits follow MLflow's (so runs move between the two without surprises): keys up to 250
characters of letters, digits, ``_ - . /`` and spaces (not only spaces); param values up
to 6,000 characters, tag values up to 8,000.

The rules are the same on every backend and cover everything a backend would refuse, so
a value accepted by a call is a value the store takes (the SDK writes it later, in bulk,
where a refusal could no longer be told to the caller): text holds no NUL character
(PostgreSQL refuses it) and no unpaired surrogate (not UTF-8); timestamps are
milliseconds since the epoch from 1970 to 9999 and steps fit in 64 bits.
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
MAX_RUN_NAME = 250
MAX_ARTIFACT_PATH = 1000
MAX_TIMESTAMP = 253_402_300_799_999  # 9999-12-31 23:59:59.999 UTC, in ms since the epoch
_KEY = re.compile(r"[\w\-. /]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
valid_keys: set[str] = set()  # keys already seen valid: log_metric in a loop checks once


def check_key(key: object, what: str) -> str:
    if key in valid_keys:
        return key  # type: ignore[return-value,unused-ignore]
    if not isinstance(key, str) or not key.strip(" "):
        raise InvalidArgument(
            f"{what} key must be a non-empty string, not only spaces; got {key!r}",
            f"name the {what} with letters, digits, '_', '-', '.', '/' or spaces",
        )
    if len(key) > MAX_KEY:
        raise InvalidArgument(
            f"{what} key {key[:40]!r}... is {len(key)} characters long (limit {MAX_KEY})",
            "use a shorter key",
        )
    if not _KEY.fullmatch(key):  # fullmatch: '$' would let a trailing newline through
        bad = sorted({c for c in key if not _KEY.fullmatch(c)})
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


def check_step(step: object, key: str = "") -> int:
    where = f"metric {key!r} " if key else ""
    if type(step) is int and -(2**63) <= step < 2**63:  # the common case, fast
        return step
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise InvalidArgument(f"{where}step must be an integer, got {step!r}", "pass step=<int>")
    if not -(2**63) <= int(step) < 2**63:
        raise InvalidArgument(
            f"{where}step {step} does not fit in 64 bits (-2**63 to 2**63 - 1)",
            "use a smaller step",
        )
    return int(step)


def check_timestamp(timestamp: object, what: str) -> int:
    """Milliseconds since the epoch, from 1970 to the end of 9999 (``what`` names the value:
    "metric 'loss'", "run start"). A finite float is truncated, as ``int()`` does."""
    if type(timestamp) is int and 0 <= timestamp <= MAX_TIMESTAMP:
        return timestamp
    if isinstance(timestamp, bool) or not isinstance(timestamp, numbers.Real):
        raise InvalidArgument(
            f"{what} timestamp must be an integer (milliseconds since the epoch), "
            f"got {timestamp!r}",
            "pass int(time.time() * 1000), or leave the timestamp out to mean now",
        )
    number = float(timestamp) if not isinstance(timestamp, numbers.Integral) else timestamp
    if not isinstance(number, float) or math.isfinite(number):
        value = int(number)
        if 0 <= value <= MAX_TIMESTAMP:
            return value
    raise InvalidArgument(
        f"{what} timestamp {timestamp!r} is not milliseconds since the epoch between 1970 "
        f"and 9999 (0 to {MAX_TIMESTAMP})",
        "pass milliseconds (not seconds or nanoseconds), e.g. int(time.time() * 1000), "
        "or leave the timestamp out to mean now",
    )


def check_text(text: str, what: str) -> str:
    """Text every backend stores as given: no NUL character (PostgreSQL refuses it) and no
    unpaired surrogate (it has no UTF-8 form). ``what`` names the text in the error."""
    if "\x00" in text:
        problem = "a NUL character ('\\x00')"
    elif text.isascii() or not (found := _SURROGATE.search(text)):
        return text
    else:
        problem = f"an unpaired surrogate ({found.group()!r}, not UTF-8)"
    raise InvalidArgument(
        f"{what} contains {problem}, which the metadata store cannot hold",
        "remove that character; keep binary data in an artifact (log_artifact)",
    )


def param_text(key: str, value: object) -> str:
    text = value if isinstance(value, str) else _stringify(value)
    if len(text) > MAX_PARAM_VALUE:
        raise InvalidArgument(
            f"param {key!r} value is {len(text)} characters long (limit {MAX_PARAM_VALUE})",
            "log long values as an artifact with log_text or log_dict",
        )
    return check_text(text, f"param {key!r} value")


def tag_text(key: str, value: object) -> str:
    text = value if isinstance(value, str) else _stringify(value)
    if len(text) > MAX_TAG_VALUE:
        raise InvalidArgument(
            f"tag {key!r} value is {len(text)} characters long (limit {MAX_TAG_VALUE})",
            "log long values as an artifact with log_text",
        )
    return check_text(text, f"tag {key!r} value")


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
    return check_text(name, f"experiment name {name!r}")


def check_run_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgument(
            f"run name must be a non-empty string, got {name!r}",
            "name the run, e.g. start_run(run_name='baseline'), or leave it out",
        )
    if len(name) > MAX_RUN_NAME:
        raise InvalidArgument(
            f"run name {name[:40]!r}... is {len(name)} characters long (limit {MAX_RUN_NAME})",
            "use a shorter name; keep longer text in a tag",
        )
    return check_text(name, f"run name {name!r}")


def artifact_path(path: str | None) -> str:
    """A clean relative posix path inside a run's artifact tree ('' is the root)."""
    if path is None or path in ("", ".", "/"):
        return ""
    if not isinstance(path, str):
        raise InvalidArgument(f"artifact path must be a string, got {path!r}", "pass a str")
    if "\\" in path:
        raise InvalidArgument(
            f"artifact path {path!r} contains a backslash",
            "use forward slashes, e.g. 'plots/roc.png'",
        )
    clean = posixpath.normpath(path).strip("/") if not path.startswith("/") else None
    if clean is None or clean == ".." or clean.startswith("../"):
        raise InvalidArgument(
            f"artifact path {path!r} points outside the run's artifacts",
            "use a relative path without '..', e.g. 'plots/roc.png'",
        )
    return "" if clean == "." else check_artifact_file(clean)


def check_artifact_file(path: str) -> str:
    """The path an artifact file is indexed under: short enough and storable text."""
    if len(path) > MAX_ARTIFACT_PATH:
        raise InvalidArgument(
            f"artifact path {path[:60]!r}... is {len(path)} characters long "
            f"(limit {MAX_ARTIFACT_PATH})",
            "use shorter folder and file names",
        )
    return check_text(path, f"artifact path {path!r}")


def param_conflict(run_id: str, key: str, stored: str, new: str) -> str:
    """What is wrong when a param that holds ``stored`` is logged again as ``new``."""
    return f"param {key!r} of run {run_id} is already {stored!r}; cannot change it to {new!r}"


def params_are_immutable(conflicts: list[str], scope: str) -> Conflict:
    """The error for refused params; ``scope`` says what was not stored ("batch", "call")."""
    return Conflict(
        f"{conflicts[0]} (params are immutable; nothing of this {scope} was stored)",
        "log the new value under another key, or start a new run",
    )
