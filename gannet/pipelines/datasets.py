"""Dataset versions in a pipeline run, and the lineage edges they leave.

A step parameter annotated ``DatasetVersion`` that is given a reference (``"churn@3"``,
``"churn"`` for the latest, ``"churn@prod"`` for a tag) receives that version, resolved by
the coordinator when the step starts; a ``DatasetVersion`` a step returned reaches the
steps after it as that version (stored by reference, ``materializers``). Either way the
step's inputs record it by its manifest digest, and the cache key changes when the
reference names another version.

Each step run gets a lineage edge from every dataset version it used, directly (context
``pipeline step NAME``) or through the steps before it (``... (upstream)``): a model a
step made is traced back to its data, and so is a model version registered from that
step's run. The pipeline run gets an edge from each of them too.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from gannet.core.errors import InvalidState
from gannet.data.types import DatasetVersion
from gannet.lineage.types import DATASET_VERSION, RUN
from gannet.pipelines.materializers import DATASET_VERSION as STORED_VERSION
from gannet.pipelines.materializers import StoredValue

if TYPE_CHECKING:
    from gannet.lineage.service import LineageService
    from gannet.pipelines.graph import Node

CONTEXT_LIMIT = 100
_annotated: dict[Any, frozenset[str]] = {}


def dataset_parameters(fn: Callable[..., Any]) -> frozenset[str]:
    """The parameters of ``fn`` annotated ``DatasetVersion`` (or ``DatasetVersion | None``)."""
    found = _annotated.get(fn)
    if found is None:
        try:
            hints = typing.get_type_hints(fn)
        except Exception:  # an annotation not importable here: none is a dataset version
            hints = {}
        found = _annotated[fn] = frozenset(
            name for name, hint in hints.items()
            if name != "return" and (hint is DatasetVersion or DatasetVersion in (
                typing.get_args(hint) or ())))
    return found


def resolve_inputs(
    node: Node,
    inputs: dict[str, Any],
    resolve: Callable[[str], DatasetVersion] | None,
    load: Callable[[StoredValue], Any],
) -> dict[str, Any]:
    """``inputs`` with references resolved to dataset versions where the step asks for one,
    and stored dataset versions read back (small: a reference)."""
    wanted = dataset_parameters(node.step.fn)
    out: dict[str, Any] = {}
    for name, value in inputs.items():
        if name in wanted and isinstance(value, str):
            if resolve is None:
                raise InvalidState(
                    f"step {node.name!r} takes dataset version {value!r}, and this pipeline "
                    "service was built without the data capability",
                    "run pipelines through gannet (the SDK or the CLI), which provide it")
            value = replace(resolve(value), manifest=None)  # the reference, not its files
        out[name] = _read_stored(value, load)
    return out


def _read_stored(value: Any, load: Callable[[StoredValue], Any]) -> Any:
    if isinstance(value, StoredValue):
        return load(value) if value.materializer == STORED_VERSION else value
    if isinstance(value, list | tuple):
        return type(value)(_read_stored(v, load) for v in value)
    if isinstance(value, dict):
        return {k: _read_stored(v, load) for k, v in value.items()}
    return value


def versions_in(value: Any) -> list[str]:
    """The references (``name@version``) of the dataset versions in an input value."""
    if isinstance(value, DatasetVersion):
        return [value.ref]
    if isinstance(value, list | tuple):
        return [ref for v in value for ref in versions_in(v)]
    if isinstance(value, dict):
        return [ref for v in value.values() for ref in versions_in(v)]
    return []


@dataclass
class DatasetLineage:
    """The dataset versions each step of one pipeline run used, and their edges."""

    lineage: LineageService | None
    run_id: str
    pipeline: str
    used: dict[str, dict[str, bool]] = field(default_factory=dict)  # step -> ref -> direct
    linked: set[str] = field(default_factory=set)  # refs with an edge to the pipeline run

    def note(self, node: Node, inputs: dict[str, Any]) -> dict[str, bool]:
        """What ``node`` used: the versions in its inputs, then those of its upstream steps."""
        found = dict.fromkeys(versions_in(inputs), True)
        for upstream in dict.fromkeys(o.node for o in node.upstream):
            for ref in self.used.get(upstream, {}):
                found.setdefault(ref, False)
        self.used[node.name] = found
        return found

    def record(self, node: Node, step_run_id: str, inputs: dict[str, Any]) -> None:
        """Note what ``node`` used and leave its edges (to its run and the pipeline run)."""
        found = self.note(node, inputs)
        if self.lineage is None:
            return
        for ref, direct in found.items():
            context = f"pipeline step {node.name}" + ("" if direct else " (upstream)")
            self.lineage.record(DATASET_VERSION, ref, RUN, step_run_id,
                                _short(context))
            if ref not in self.linked:
                self.lineage.record(DATASET_VERSION, ref, RUN, self.run_id,
                                    _short(f"pipeline {self.pipeline}"))
                self.linked.add(ref)


def _short(text: str) -> str:
    return text if len(text) <= CONTEXT_LIMIT else text[: CONTEXT_LIMIT - 3] + "..."
