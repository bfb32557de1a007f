"""The pipeline language: ``@step`` builds a ``Step``, ``@pipeline`` builds a ``Pipeline``.

A pipeline function wires steps by calling them. While a pipeline is built (``build``), a
step call does not run the step: it records a node of the graph and returns placeholders
(``Output``) for what the step will return; outside a build, a step is its plain function
(so it can be unit-tested). Parameters of the pipeline function are the pipeline's
parameters: their values are known while building, so a plain ``if`` on them chooses
steps; ``when(output)`` makes steps conditional on a value known only when running.
"""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import sys
import threading
import typing
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, ParamSpec, TypeVar, overload

from gannet.core.errors import InvalidArgument
from gannet.pipelines.graph import Graph, Node, Output
from gannet.pipelines.loading import find_step
from gannet.pipelines.materializers import stores_whole
from gannet.pipelines.parameters import Parameter, bind_parameters

P = ParamSpec("P")
R = TypeVar("R")

_building = threading.local()


class Step(Generic[P, R]):
    """One unit of work: a typed function plus how it runs (cache, retries, timeout)."""

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        cache: bool = True,
        retries: int = 0,
        backoff: float = 1.0,
        timeout: float | None = None,
        outputs: Sequence[str] | None = None,
        requirements: Sequence[str] = (),
    ) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        self.cache = cache
        self.retries = _non_negative(retries, "retries", self.name)
        self.backoff = float(backoff)
        self.timeout = timeout
        self.requirements = tuple(requirements)
        self.output_kind, self.output_names = _outputs_of(fn, outputs, self.name)
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def __repr__(self) -> str:
        return f"<Step {self.name}>"

    def __reduce__(self) -> tuple[Any, ...]:
        """A step travels to workers by reference (module, name), never as code."""
        module, qualname = self.fn.__module__, self.fn.__qualname__
        if "<locals>" in qualname or "<lambda>" in qualname:
            raise pickle.PicklingError(
                f"step {self.name!r} is defined inside a function ({qualname}): workers in "
                "other processes cannot find it; define it at the top level of its module"
            )
        file = getattr(sys.modules.get(module), "__file__", None)
        return (find_step, (module, qualname, file))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        builder = getattr(_building, "graph", None)
        if builder is None:  # outside a pipeline: the plain function
            return self.fn(*args, **kwargs)
        return node_result(builder.add(self, _bind(self, args, kwargs)), self)

    def map(self, items: Sequence[Any], **kwargs: Any) -> list[Any]:
        """Fan out: one node per item (given as the first parameter), the rest shared."""
        builder = getattr(_building, "graph", None)
        if builder is None:
            return [self.fn(item, **kwargs) for item in items]
        if isinstance(items, Output):
            raise InvalidArgument(
                f"step {self.name!r}: map() needs the list itself while the pipeline is built, "
                f"not the output of step {items.node!r}",
                "pass a pipeline parameter or a literal list (a step's output can be handed to "
                "one step that loops over it)",
            )
        return [
            node_result(builder.add(self, _bind(self, (item,), kwargs), f"{self.name}[{i}]"), self)
            for i, item in enumerate(items)
        ]

    def unpack(self, result: Any) -> list[tuple[str, Any]]:
        """The step function's return value as (output name, value) pairs."""
        if self.output_kind == "tuple":
            if not isinstance(result, tuple) or len(result) != len(self.output_names):
                raise InvalidArgument(
                    f"step {self.name!r} declares {len(self.output_names)} outputs and returned "
                    f"{type(result).__name__}",
                    "return a tuple of as many values as the annotation says",
                )
            return list(zip(self.output_names, result, strict=True))
        if self.output_kind == "dataclass":
            return [(n, getattr(result, n)) for n in self.output_names]
        return [(self.output_names[0], result)]


class Outputs:
    """The several outputs of one step call, by attribute (dataclass returns)."""

    def __init__(self, outputs: dict[str, Output]) -> None:
        self.__dict__.update(outputs)

    def __iter__(self) -> Iterator[Output]:
        return iter(self.__dict__.values())


class Pipeline:
    """A named DAG of steps, built by calling its function with parameter values."""

    def __init__(self, fn: Callable[..., Any], *, name: str | None = None) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        self.parameters: list[Parameter] = Parameter.of_function(fn)
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def __repr__(self) -> str:
        return f"<Pipeline {self.name}>"

    def build(self, **params: Any) -> Graph:
        """The graph for these parameter values (strings are converted by declared type)."""
        values = bind_parameters(self.name, self.parameters, params)
        graph = Graph(self.name, params=values, module=getattr(self.fn, "__module__", ""))
        if getattr(_building, "graph", None) is not None:
            raise InvalidArgument(
                f"pipeline {self.name!r} is built inside another pipeline's build",
                "call its steps from one pipeline function instead",
            )
        _building.graph = graph
        try:
            self.fn(**values)
        finally:
            _building.graph = None
        graph.validate()
        return graph

    @property
    def steps(self) -> list[Node]:
        """The nodes, in an order that runs every step after its inputs (default parameters)."""
        return self.build().nodes

    @property
    def edges(self) -> list[tuple[str, str]]:
        return self.build().edges


@contextmanager
def when(condition: Output) -> Iterator[None]:
    """Steps called inside run only if ``condition`` (a step's output) is truthy when the
    pipeline runs; otherwise they, and the steps that need their outputs, are skipped."""
    builder = getattr(_building, "graph", None)
    if builder is None:
        raise InvalidArgument("when() is used inside a pipeline function", "see docs/pipelines.md")
    if not isinstance(condition, Output):
        raise InvalidArgument(
            f"when() takes a step's output, not {type(condition).__name__}",
            "for a value known while building (a parameter), use a plain `if`",
        )
    builder.conditions.append(condition)
    try:
        yield
    finally:
        builder.conditions.pop()


@overload
def step(fn: Callable[P, R], /) -> Step[P, R]: ...
@overload
def step(
    *,
    name: str | None = None,
    cache: bool = True,
    retries: int = 0,
    backoff: float = 1.0,
    timeout: float | None = None,
    outputs: Sequence[str] | None = None,
    requirements: Sequence[str] = (),
) -> Callable[[Callable[P, R]], Step[P, R]]: ...
def step(fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Make a function a pipeline step: ``@step`` or ``@step(retries=2, timeout=60)``."""
    if fn is not None:
        return Step(fn)
    return lambda f: Step(f, **options)


@overload
def pipeline(fn: Callable[..., Any], /) -> Pipeline: ...
@overload
def pipeline(*, name: str | None = None) -> Callable[[Callable[..., Any]], Pipeline]: ...
def pipeline(fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Make a function that calls steps a pipeline: ``@pipeline`` or ``@pipeline(name=...)``."""
    if fn is not None:
        return Pipeline(fn)
    return lambda f: Pipeline(f, **options)


# -- helpers of the classes above -------------------------------------------------------------


def _non_negative(value: int, what: str, step_name: str) -> int:
    if int(value) < 0:
        raise InvalidArgument(f"step {step_name!r}: {what} must be 0 or more, not {value}")
    return int(value)


def _bind(step_: Step[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The call's arguments by parameter name (defaults applied), or a clear error."""
    try:
        bound = inspect.signature(step_.fn).bind(*args, **kwargs)
    except TypeError as exc:
        raise InvalidArgument(f"step {step_.name!r} called wrongly: {exc}") from None
    bound.apply_defaults()
    for name, value in bound.arguments.items():
        if isinstance(value, Outputs):
            raise InvalidArgument(
                f"step {step_.name!r} takes all the outputs of another step as {name!r}",
                f"pass one of them, e.g. {name}=stats.{next(iter(vars(value)), 'field')}",
            )
    return dict(bound.arguments)


def _outputs_of(
    fn: Callable[..., Any], names: Sequence[str] | None, step_name: str
) -> tuple[str, tuple[str, ...]]:
    """How the function returns its outputs ("single", "tuple" or "dataclass") and their names."""
    try:
        returned = typing.get_type_hints(fn).get("return")
    except Exception:  # an annotation naming something not importable here: one output
        returned = None
    if typing.get_origin(returned) is tuple:
        members = [a for a in typing.get_args(returned) if a is not Ellipsis]
        if names is not None and len(names) != len(members):
            raise InvalidArgument(
                f"step {step_name!r} returns {len(members)} values and names {len(names)} outputs",
                "give one name per value of the returned tuple",
            )
        return "tuple", tuple(names or (f"output_{i}" for i in range(len(members))))
    if isinstance(returned, type) and dataclasses.is_dataclass(returned) and not (
        stores_whole(returned)  # a DatasetVersion, say: one output, stored by reference
    ):
        return "dataclass", tuple(f.name for f in dataclasses.fields(returned))
    if names is not None and len(names) != 1:
        raise InvalidArgument(
            f"step {step_name!r} names {len(names)} outputs but returns one value",
            "annotate the return as tuple[...] (or a dataclass) for several outputs",
        )
    return "single", tuple(names or ("output",))


def node_result(node: Node, step_: Step[Any, Any]) -> Any:
    """What a step call returns while building: one Output, a tuple or an ``Outputs``."""
    outputs = {name: Output(node.name, name, node.graph_id) for name in step_.output_names}
    if step_.output_kind == "tuple":
        return tuple(outputs.values())
    if step_.output_kind == "dataclass":
        return Outputs(outputs)
    return outputs[step_.output_names[0]]


__all__ = ["Node", "Output", "Outputs", "Pipeline", "Step", "pipeline", "step", "when"]
