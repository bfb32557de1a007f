"""The DAG as data: ``Graph`` (nodes, edges, parameters), ``Node`` and ``Output``.

``Graph`` is the class twin of ``@pipeline``: a graph can be made by hand (``Graph`` then
``add``) as well as by building a pipeline; ``validate`` refuses a cycle or an input that
names an output no step of the graph has, naming the steps concerned.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gannet.core.errors import InvalidArgument

_graph_ids = itertools.count(1)


@dataclass(frozen=True)
class Output:
    """A step's output while the pipeline is built: which node, which of its outputs."""

    node: str
    name: str = "output"
    graph_id: int = 0

    def __bool__(self) -> bool:
        raise InvalidArgument(
            f"the output of step {self.node!r} has no value while the pipeline is built",
            "make steps depend on it with `with gannet.pipelines.when(output):`",
        )

    def __iter__(self) -> Iterator[Any]:
        raise InvalidArgument(
            f"step {self.node!r} has one output; it cannot be unpacked",
            "annotate the step's return as tuple[...] (or a dataclass) for several outputs",
        )

    def __repr__(self) -> str:
        return f"<output {self.name!r} of step {self.node!r}>"


@dataclass
class Node:
    """One call of a step in a graph: its inputs (outputs of other nodes or constants)."""

    name: str
    step: Any  # gannet.pipelines.dsl.Step (not imported: the DSL imports this module)
    inputs: dict[str, Any]
    graph_id: int = 0
    condition: Output | None = None

    @property
    def upstream(self) -> list[Output]:
        """Every output this node reads (its condition included)."""
        found = [o for value in self.inputs.values() for o in outputs_in(value)]
        return found + ([self.condition] if self.condition is not None else [])

    @property
    def constants(self) -> dict[str, Any]:
        """The inputs that are plain values (the step's parameters)."""
        return {k: v for k, v in self.inputs.items() if not list(outputs_in(v))}


@dataclass
class Graph:
    """Nodes in the order they were added, the parameters they were built with."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    module: str = ""
    nodes: list[Node] = field(default_factory=list)
    graph_id: int = field(default_factory=lambda: next(_graph_ids))
    conditions: list[Output] = field(default_factory=list, repr=False)

    def add(self, step: Any, inputs: dict[str, Any], name: str | None = None) -> Node:
        """Add a call of ``step``; a second call of one step is named ``step_2``, ..."""
        taken = {n.name for n in self.nodes}
        base = name or step.name
        unique = base
        for i in itertools.count(2):
            if unique not in taken:
                break
            unique = f"{base}_{i}"
        condition = self.conditions[-1] if self.conditions else None
        node = Node(unique, step, dict(inputs), self.graph_id, condition)
        self.nodes.append(node)
        return node

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise InvalidArgument(
            f"pipeline {self.name!r} has no step {name!r}",
            f"its steps are: {', '.join(n.name for n in self.nodes) or 'none'}",
        )

    @property
    def edges(self) -> list[tuple[str, str]]:
        """(from step, to step) pairs, each once."""
        seen: dict[tuple[str, str], None] = {}
        for node in self.nodes:
            for output in node.upstream:
                seen[(output.node, node.name)] = None
        return list(seen)

    def validate(self) -> None:
        """Refuse inputs that name no output of this graph, and cycles."""
        by_name = {n.name: n for n in self.nodes}
        for node in self.nodes:
            for output in node.upstream:
                self._check_connected(node, output, by_name)
        self.nodes = self.ordered()

    def _check_connected(self, node: Node, output: Output, by_name: dict[str, Node]) -> None:
        source = by_name.get(output.node)
        if (output.graph_id and output.graph_id != self.graph_id) or source is None:
            raise InvalidArgument(
                f"step {node.name!r} of pipeline {self.name!r} takes the output of step "
                f"{output.node!r}, which is not connected to this pipeline",
                "pass outputs of steps called in the same pipeline function",
            )
        if output.name not in source.step.output_names:
            raise InvalidArgument(
                f"step {node.name!r} takes output {output.name!r} of step {output.node!r}, "
                f"which has none by that name",
                f"its outputs are: {', '.join(source.step.output_names)}",
            )

    def ordered(self) -> list[Node]:
        """The nodes in an order that puts each after its inputs (Kahn), or the cycle."""
        needs = {n.name: {o.node for o in n.upstream} for n in self.nodes}
        order: list[Node] = []
        ready = [n for n in self.nodes if not needs[n.name]]
        done: set[str] = set()
        while ready:
            node = ready.pop(0)
            order.append(node)
            done.add(node.name)
            for other in self.nodes:
                if other.name not in done and other not in ready and needs[other.name] <= done:
                    ready.append(other)
        if len(order) < len(self.nodes):
            stuck = [n.name for n in self.nodes if n.name not in done]
            raise InvalidArgument(
                f"pipeline {self.name!r} has a cycle through steps {', '.join(stuck)}",
                "a step cannot take (directly or not) its own output",
            )
        return order

    def downstream(self, names: set[str]) -> set[str]:
        """``names`` and every node that reads from them, directly or not."""
        found = set(names)
        for node in self.ordered():
            if any(o.node in found for o in node.upstream):
                found.add(node.name)
        return found


def outputs_in(value: Any) -> Iterator[Output]:
    """The outputs an input value holds: itself, or inside a list, tuple or dict."""
    if isinstance(value, Output):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from outputs_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from outputs_in(item)
