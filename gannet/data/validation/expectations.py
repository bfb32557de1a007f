"""Great Expectations suites (JSON, 0.x or 1.x) translated into Gannet checks.

The common expectations map one to one; anything else is refused by name, as is a
``mostly`` below 1 (a Gannet check holds for every value or fails).
"""

from __future__ import annotations

from typing import Any

from gannet.core.errors import InvalidArgument
from gannet.data.validation.checks import Check, parse_check

IGNORED = {"result_format", "catch_exceptions", "include_config", "meta", "row_condition",
           "condition_parser", "mostly", "batch_id", "id", "notes", "description"}


def _between(kw: dict[str, Any], check: str) -> dict[str, Any]:
    spec = {"check": check, "min": kw.get("min_value"), "max": kw.get("max_value")}
    for key in ("strict_min", "strict_max"):
        if kw.get(key):
            spec[key] = True
    return {k: v for k, v in spec.items() if v is not None}


TRANSLATIONS = {
    "expect_column_values_to_not_be_null": lambda kw: {"check": "not_null"},
    "expect_column_values_to_be_unique": lambda kw: {"check": "unique"},
    "expect_column_values_to_be_between": lambda kw: _between(kw, "between"),
    "expect_column_values_to_be_in_set": lambda kw: {
        "check": "in_set", "values": list(kw.get("value_set") or [])},
    "expect_column_values_to_match_regex": lambda kw: {"check": "regex", "pattern": kw["regex"]},
    "expect_table_row_count_to_be_between": lambda kw: _between(kw, "row_count"),
    "expect_table_columns_to_match_set": lambda kw: {
        "check": "schema", "columns": list(kw["column_set"]),
        "exact": bool(kw.get("exact_match", True))},
    "expect_table_columns_to_match_ordered_list": lambda kw: {
        "check": "schema", "columns": list(kw["column_list"]), "ordered": True},
    "expect_column_to_exist": lambda kw: {"check": "schema", "required": [kw["column"]]},
}
TABLE_LEVEL = {"expect_table_row_count_to_be_between", "expect_table_columns_to_match_set",
               "expect_table_columns_to_match_ordered_list", "expect_column_to_exist"}


def from_great_expectations(document: dict[str, Any], where: str) -> list[Check]:
    expectations = document.get("expectations")
    if not isinstance(expectations, list) or not expectations:
        raise InvalidArgument(f"the Great Expectations suite {where} has no expectations",
                              "export a suite with at least one expectation")
    return [_translate(item, f"expectation {i + 1} of {where}")
            for i, item in enumerate(expectations)]


def _translate(item: Any, where: str) -> Check:
    if not isinstance(item, dict):
        raise InvalidArgument(f"{where} is not a mapping", "export the suite as JSON again")
    kind = item.get("expectation_type") or item.get("type")
    kwargs = dict(item.get("kwargs") or {})
    if kind not in TRANSLATIONS:
        raise InvalidArgument(
            f"{where}: {kind!r} has no Gannet equivalent",
            f"the expectations read are: {', '.join(TRANSLATIONS)}; write others as Gannet "
            "checks (a custom SQL check can express most)",
        )
    mostly = kwargs.get("mostly")
    if mostly is not None and float(mostly) < 1:
        raise InvalidArgument(f"{where}: mostly={mostly} is not supported",
                              "a Gannet check holds for every value; drop 'mostly'")
    try:
        spec = TRANSLATIONS[kind](kwargs)
    except KeyError as exc:
        raise InvalidArgument(f"{where}: {kind} needs {exc.args[0]!r}",
                              "export the suite as JSON again") from exc
    if kind not in TABLE_LEVEL:
        if "column" not in kwargs:
            raise InvalidArgument(f"{where}: {kind} needs 'column'", "name the column")
        spec["column"] = kwargs["column"]
    return parse_check(spec, where)
