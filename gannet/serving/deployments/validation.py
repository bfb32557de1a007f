"""What a deployment's parts may be: names, refs, weights, sticky keys, log columns.

Pure checks that need no store: each returns the value as stored (a ref normalised to
``churn/3`` or ``churn@champion``) or raises ``InvalidArgument`` saying what and how to fix.
Whether a ref resolves to a READY version is the service's to ask the registry.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping
from typing import Any

from gannet.core.errors import InvalidArgument
from gannet.models.reference import parse_ref

__all__ = ["check_columns", "check_features", "check_name", "check_sticky_key", "check_weight",
           "normalise_ref"]

ON_UNAVAILABLE = ("error", "defaults")  # what the server does when the online store is down

_NAME = re.compile(r"^[A-Za-z0-9][\w\-.]{0,255}$")  # as model names
_STICKY = re.compile(r"^[A-Za-z0-9_][\w.\-]{0,99}$")  # a header name or a JSON field
_VERSION = re.compile(r"^[vV]?(\d+)$")
_REF_HINT = "write a version (3), a reference (churn/3, churn@champion) or an alias (@champion)"


def check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgument(
            f"invalid deployment name {name!r}",
            "start with a letter or digit; use letters, digits, '_', '-', '.' (up to 256)",
        )
    return name


def normalise_ref(model: str, key: object) -> str:
    """``3``, ``"v3"``, ``"churn/3"``, ``"@champion"`` or ``"churn@champion"`` of ``model``
    as the ref stored (``churn/3``, ``churn@champion``)."""
    if isinstance(key, bool) or not isinstance(key, str | int):
        raise InvalidArgument(f"cannot read {key!r} as a reference of {model!r}", _REF_HINT)
    text = str(key).strip()
    number = _VERSION.match(text)
    if number:
        if int(number.group(1)) < 1:
            raise InvalidArgument(f"versions start at 1, got {key!r}", _REF_HINT)
        return f"{model}/{int(number.group(1))}"
    if text.startswith("@"):
        text = model + text
    if "/" not in text and "@" not in text:
        raise InvalidArgument(f"cannot read {key!r} as a reference of {model!r}", _REF_HINT)
    ref = parse_ref(text)
    if ref.name != model:
        raise InvalidArgument(
            f"{key!r} refers to model {ref.name!r}, but the deployment serves {model!r}",
            f"a deployment routes versions of its own model only, e.g. {model}/3 or @champion",
        )
    return str(ref)


def check_weight(ref: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgument(f"the weight of {ref} must be a number, got {value!r}", "e.g. 90")
    weight = float(value)
    if not math.isfinite(weight) or weight <= 0:
        raise InvalidArgument(
            f"the weight of {ref} must be a finite number > 0, got {value!r}",
            "weights are relative shares (90 and 10 make 90% and 10%); "
            "leave a ref out instead of giving it 0",
        )
    return weight


def check_sticky_key(key: str | None) -> str | None:
    if key is None or key == "":
        return None
    if not isinstance(key, str) or not _STICKY.match(key):
        raise InvalidArgument(
            f"invalid sticky key {key!r}",
            "name a request header or JSON field, e.g. user_id or X-User-Id",
        )
    return key


def check_columns(values: Iterable[str], what: str) -> tuple[str, ...]:
    """Input column names for the log's ``what`` (masked or hashed) list, each once."""
    if isinstance(values, str):
        values = (values,)
    found: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value.strip() or len(value) > 250:
            raise InvalidArgument(
                f"{what} log fields must be column names, got {value!r}", "e.g. email"
            )
        if value not in found:
            found.append(value)
    return tuple(found)


def check_features(
    features: Iterable[str] | None, on_unavailable: str, defaults: Mapping[str, Any] | None
) -> tuple[tuple[str, ...], str, tuple[tuple[str, Any], ...]]:
    """A deployment's features (``view:feature``, each once), what to do when the online
    store is down, and defaults keyed by feature name (only features it names)."""
    from gannet.features.refs import parse_refs

    refs = tuple(dict.fromkeys(features or ()))
    if refs:
        parse_refs(list(refs))  # each is view:feature, or a clear error
    if on_unavailable not in ON_UNAVAILABLE:
        raise InvalidArgument(
            f"on_unavailable {on_unavailable!r} is not known",
            "use error (answer 503) or defaults (answer with the features' defaults)",
        )
    names = {ref.partition(":")[2] for ref in refs}
    unknown = sorted(set(defaults or {}) - names)
    if unknown:
        raise InvalidArgument(
            f"default(s) for {', '.join(unknown)}, which the deployment does not use",
            f"give defaults for its features only ({', '.join(sorted(names)) or 'none'})",
        )
    for name, value in (defaults or {}).items():
        if value is not None and not isinstance(value, str | int | float | bool):
            raise InvalidArgument(f"the default of {name} is {value!r}",
                                  "give a number, a string or a boolean")
    return refs, on_unavailable, tuple(sorted((defaults or {}).items()))
