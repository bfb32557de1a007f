"""Requests that carry entity keys, enriched with a deployment's features before predict.

A deployment that names features (``churn_stats:orders_30d``) is served through a
``FeatureCodec``: a request sends the entities' join keys (``customer_id``) and whatever
other columns the model takes; the features come from the online store.

- ``decode`` (per request, on the event loop): the request's columns as lists, checked:
  the join keys present, every model column the features do not give present, no column
  the model does not know.
- ``prepare`` (once per micro-batch, in the worker thread, before the merge): ONE lookup of
  the online store for all the batch's entity keys (``FeatureLookup``: one read per
  feature view), whose values are split back into each request's rows. The store being
  down fails the whole batch with ``Unavailable`` (503), or, where the deployment allows,
  gives the features' defaults; either way ``on_failure(outcome, rows)`` counts it.
- ``merge``: the model's columns of the batch, in signature order, through the signature.
- ``logged``: a request's rows WITH the features it was given, so the inference log and
  the monitors reading it see the columns the model saw.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gannet.core.errors import InvalidArgument, InvalidInput, Unavailable
from gannet.features.lookup import FeatureLookup
from gannet.models.signature import Signature, numpy_dtype, refuse_nulls_and_booleans
from gannet.serving.server.codecs import (
    Codec,
    Payload,
    _column_lists,
    _is_number,
    _record_columns,
    _zero,
    v2_columns,
)

__all__ = ["FeatureCodec", "Rows"]

OnFailure = Callable[[str, int], None]  # (outcome: "unavailable" | "defaults", rows)


@dataclass(slots=True)
class Rows:
    """One request's columns (name -> values); ``enriched`` once its features are in."""

    columns: dict[str, list[Any]]
    enriched: bool = False


class FeatureCodec(Codec):
    """A dataframe signature (or none) whose feature columns come from the online store."""

    def __init__(self, signature: Signature | None, lookup: FeatureLookup,
                 on_failure: OnFailure | None = None) -> None:
        if signature is not None and signature.inputs.kind != "dataframe":
            raise InvalidArgument("a model that takes tensors cannot be served with features",
                                  "serve a model whose signature is a dataframe")
        self.signature = signature
        self.lookup = lookup
        self.on_failure = on_failure
        self.features = list(lookup.columns)
        self.keys = list(lookup.inputs)  # join keys, then request fields
        names = [str(n) for n in signature.inputs.names] if signature is not None else None
        self.model_columns = names
        given = set(self.features)
        asked = [n for n in (names or []) if n not in given and n not in self.keys]
        self.request_columns = [*self.keys, *asked]  # what a request sends, in row order
        dtypes = {str(c.name): c.dtype for c in signature.inputs.columns} if signature else {}
        self.dtypes = dtypes
        self.numbers = {n: d for n, d in dtypes.items() if n in asked and _is_number(d)}
        self.matrix = _float_matrix(signature)  # every column one float dtype: one 2-D array

    # -- one request -----------------------------------------------------------------------

    def _payload(self, columns: dict[str, list[Any]], rows: int) -> Payload:
        missing = [c for c in self.request_columns if c not in columns]
        if missing:
            keys = [c for c in missing if c in self.keys]
            what = "entity key" if keys else "column"
            raise InvalidInput(
                f"the request lacks the {what} {', '.join(keys or missing)}",
                f"send {', '.join(self.request_columns)} with each row; the features "
                f"({', '.join(self.features)}) are looked up")
        if self.model_columns is not None:
            known = {*self.request_columns, *self.features}
            extra = [c for c in columns if c not in known]
            if extra:
                raise InvalidInput(
                    f"the request has unexpected column {', '.join(extra)}",
                    f"send {', '.join(self.request_columns)} (the model takes "
                    f"{', '.join(self.model_columns)})")
        for name, dtype in self.numbers.items():  # pandas would read null as NaN, true as 1
            refuse_nulls_and_booleans(f"column '{name}'", set(map(type, columns[name])), dtype)
        # a feature column sent by the caller is not trusted: the lookup replaces it
        return Payload(rows, Rows({k: v for k, v in columns.items() if k not in self.features}))

    def from_records(self, records: list[dict]) -> Payload:
        return self._payload(_record_columns(records), len(records))

    def from_rows(self, rows: list) -> Payload:
        width = len(self.request_columns)
        if not all(isinstance(r, list) and len(r) == width for r in rows):
            raise InvalidInput(f"each row needs {width} values, in this order: "
                               f"{', '.join(self.request_columns)}")
        return self._payload({n: [r[i] for r in rows]
                              for i, n in enumerate(self.request_columns)}, len(rows))

    def from_mapping(self, columns: Any, what: str) -> Payload:
        values, rows = _column_lists(columns, what)
        return self._payload(values, rows)

    def from_v2(self, inputs: list[Mapping[str, Any]]) -> Payload:
        return self._payload(*v2_columns(inputs))

    # -- a micro-batch ---------------------------------------------------------------------

    def prepare(self, payloads: Sequence[Payload]) -> None:
        """The features of every request not yet enriched, from ONE lookup."""
        todo = [p for p in payloads if not p.data.enriched]
        if not todo:
            return
        keys = {k: [v for p in todo for v in p.data.columns[k]] for k in self.keys}
        try:
            values = self.lookup.values(keys)
        except Unavailable:
            if self.on_failure is not None:
                self.on_failure("unavailable", sum(p.rows for p in todo))
            raise
        start = 0
        for payload in todo:
            stop = start + payload.rows
            payload.data.columns.update({f: v[start:stop] for f, v in values.items()})
            payload.data.enriched = True
            start = stop

    def merge(self, payloads: Sequence[Payload]) -> Any:
        import pandas as pd

        self.prepare(payloads)  # (a no-op when the batch runner prepared them)
        names = self.model_columns or list(payloads[0].data.columns)
        if len(payloads) == 1:
            columns = {n: payloads[0].data.columns[n] for n in names}
        else:
            columns = {n: [v for p in payloads for v in p.data.columns[n]] for n in names}
        if self.matrix is not None:  # one block, no Series per column (None reads as NaN)
            try:
                array = np.array([columns[n] for n in names], dtype=self.matrix[0]).T
            except (TypeError, ValueError):
                pass  # not numbers: the signature names the column below
            else:
                return pd.DataFrame(array, columns=self.matrix[1], copy=False)
        frame = pd.DataFrame(columns)
        return frame if self.signature is None else self.signature.check_input(frame)

    def logged(self, payload: Payload) -> Any:
        return payload.data.columns  # with the features it was given

    @property
    def request_signature(self) -> Signature | None:
        """The columns a request sends: entity keys (any type), request fields and the
        model inputs no feature gives."""
        if self.signature is None:
            return None
        from gannet.models.signature import ColumnSpec, Schema

        columns = [ColumnSpec(n, self.dtypes.get(n, "any")) for n in self.request_columns]
        return Signature(Schema(tuple(columns), "dataframe"), self.signature.outputs)

    def metadata_inputs(self) -> list[dict[str, Any]]:
        inputs = [{"name": k, "datatype": "BYTES", "shape": [-1]} for k in self.keys
                  if k not in self.dtypes]
        return inputs + [i for i in super().metadata_inputs()
                         if i["name"] in self.request_columns]

    def example(self) -> Payload:
        """A synthetic request, its features already given (zeros, or the defaults): a
        warm-up never waits on the online store."""
        columns: dict[str, list[Any]] = {k: [0] for k in self.keys}
        for name in [*self.request_columns, *self.features]:
            if name not in columns:
                default = self.lookup.defaults.get(name)
                dtype = self.dtypes.get(name)
                columns[name] = [default if default is not None else
                                 _zero(dtype) if dtype is not None else 0.0]
        return Payload(1, Rows(columns, enriched=True))



def _float_matrix(signature: Signature | None) -> tuple[Any, Any] | None:
    """(dtype, column index) when every input column has one float dtype, else None."""
    if signature is None:
        return None
    dtypes = {c.dtype for c in signature.inputs.columns}
    if len(dtypes) != 1 or not _is_number(next(iter(dtypes))):
        return None
    dtype = numpy_dtype(dtypes.pop())
    if dtype.kind != "f":
        return None
    import pandas as pd

    return dtype, pd.Index([str(n) for n in signature.inputs.names])
