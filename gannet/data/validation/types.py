"""Plain types of validation: a check's verdict, a stored validation, and how a suite's
type names (``int``, ``string``, ``timestamp``, or an Arrow name such as ``int32``) match
a column's Arrow type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from gannet.data.validation.report import ValidationReport


@dataclass(frozen=True)
class Verdict:
    passed: bool
    observed: dict[str, Any]
    detail: str  # one sentence for people: "3 of 1000 values are null"


@dataclass(frozen=True)
class ValidationRecord:
    """One stored validation: what was validated, against which suite, with what result."""

    id: int
    dataset: str  # a dataset reference (churn@3) or the path that was validated
    suite_digest: str
    passed: bool
    report: ValidationReport
    created_time: int  # ms since the epoch
    run_id: str | None = None


def _families() -> dict[str, Callable[[pa.DataType], bool]]:
    import pyarrow.types as t

    def string(x: pa.DataType) -> bool:
        if t.is_dictionary(x):
            return string(x.value_type)
        return bool(t.is_string(x) or t.is_large_string(x) or t.is_string_view(x))

    def integer(x: pa.DataType) -> bool:
        return bool(t.is_integer(x))

    def floating(x: pa.DataType) -> bool:
        return bool(t.is_floating(x))

    def number(x: pa.DataType) -> bool:
        return bool(t.is_integer(x) or t.is_floating(x) or t.is_decimal(x))

    return {
        "int": integer, "integer": integer,
        "float": floating, "double": floating,
        "number": number, "numeric": number,
        "str": string, "string": string, "text": string,
        "bool": t.is_boolean, "boolean": t.is_boolean,
        "timestamp": t.is_timestamp, "datetime": t.is_timestamp,
        "date": t.is_date, "decimal": t.is_decimal,
    }


TYPE_NAMES = ("int", "float", "number", "string", "bool", "timestamp", "date", "decimal")


def type_matches(expected: str, actual: pa.DataType) -> bool:
    """Whether a column of Arrow type ``actual`` is of the type a suite calls ``expected``:
    a family (``int`` is any integer width) or an exact Arrow name (``int32``)."""
    family = _families().get(expected.lower())
    if family is not None:
        return bool(family(actual))
    return str(actual) == expected
