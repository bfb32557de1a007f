"""On-demand features added to a training set or an online read: the stored features they
read are looked up first (hidden again unless asked for), then each view's function runs
once over all the rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gannet.core.errors import InvalidArgument
from gannet.features.on_demand import OnDemandFeatureView, asked_on_demand, compute_on_demand
from gannet.features.outputs import check_output


def _stored_columns(columns: Sequence[str], wanted: Mapping[str, list[str]]
                    ) -> dict[tuple[str, str], str]:
    """(view, feature) -> its column: the feature's name, or ``view__feature``."""
    out = {}
    for view, features in wanted.items():
        for feature in features:
            double = f"{view}__{feature}"
            out[(view, feature)] = double if double in columns else feature
    return out


def _inputs(columns: Mapping[str, Sequence[Any]], on_demand: Sequence[OnDemandFeatureView],
            stored: Mapping[tuple[str, str], str], what: str) -> dict[str, Sequence[Any]]:
    """What the functions read: request fields as given, stored features by bare names."""
    inputs: dict[str, Sequence[Any]] = {}
    for view in on_demand:
        for source in view.sources:
            name, sep, feature = source.partition(":")
            if sep:
                inputs[feature] = columns[stored[(name, feature)]]
            elif source in columns:
                inputs[source] = columns[source]
            else:
                raise InvalidArgument(
                    f"{what} lacks the request field {source!r} that on-demand feature view "
                    f"{view.name!r} reads", f"add a column {source!r}")
    return inputs


def _hidden(features: Sequence[str] | str, stored: Mapping[tuple[str, str], str]) -> list[str]:
    asked = {features} if isinstance(features, str) else set(features)
    return [column for (view, feature), column in stored.items()
            if f"{view}:{feature}" not in asked]


def with_on_demand(frame: Any, features: Sequence[str] | str, wanted: Mapping[str, list[str]],
                   on_demand: Sequence[OnDemandFeatureView], output: str) -> Any:
    """A training set (pandas) with the on-demand features, as ``output``."""
    check_output(output)
    stored = _stored_columns(list(frame.columns), wanted)
    columns = {str(c): frame[c].tolist() for c in frame.columns}
    computed = compute_on_demand(on_demand, _inputs(columns, on_demand, stored, "entity_df"),
                                 len(frame))
    result = frame.drop(columns=_hidden(features, stored))
    for name in asked_on_demand(features, on_demand):
        if name in result.columns:
            raise InvalidArgument(f"on-demand feature {name!r} has the name of a column of "
                                  "the training set", "rename the column or the feature")
        result[name] = computed[name]
    if output == "pandas":
        return result
    import pyarrow as pa

    table = pa.Table.from_pandas(result, preserve_index=False)
    if output == "arrow":
        return table
    from importlib import import_module

    return import_module("polars").from_arrow(table)


def online_on_demand(found: dict[str, list[Any]], features: Sequence[str] | str,
                     wanted: Mapping[str, list[str]], on_demand: Sequence[OnDemandFeatureView],
                     output: str) -> Any:
    """An online read (columns) with the on-demand features, as ``output`` (pandas, dict)."""
    stored = _stored_columns(list(found), wanted)
    n = len(next(iter(found.values()))) if found else 0
    computed = compute_on_demand(on_demand, _inputs(found, on_demand, stored, "entity_rows"), n)
    for column in _hidden(features, stored):
        found.pop(column, None)
    found.update({name: computed[name] for name in asked_on_demand(features, on_demand)})
    if output == "dict":
        return found
    import pandas as pd

    return pd.DataFrame(found, index=range(n))
