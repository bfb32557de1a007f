"""The pipeline language: graphs built and checked without running anything."""

import dataclasses

import pytest

import gannet
from gannet.core.errors import InvalidArgument
from gannet.pipelines import Graph, Output, when


@gannet.step
def load(n: int) -> list[int]:
    return list(range(n))


@gannet.step
def split(xs: list[int]) -> tuple[list[int], list[int]]:
    half = len(xs) // 2
    return xs[:half], xs[half:]


@dataclasses.dataclass
class Stats:
    total: int
    count: int


@gannet.step
def describe(xs: list[int]) -> Stats:
    return Stats(sum(xs), len(xs))


@gannet.step
def square(x: int) -> int:
    return x * x


@gannet.step
def add(values: list[int], offset: float = 0.0) -> float:
    return sum(values) + offset


@gannet.step
def is_big(total: int) -> bool:
    return total > 10


@gannet.pipeline
def flow(n: int = 6, lr: float = 0.1, deep: bool = False, tags: list[str] | None = None):
    xs = load(n)
    train, test = split(xs)
    stats = describe(train)
    squares = square.map([1, 2, 3])
    add([*squares, stats.total], offset=lr)
    with when(is_big(stats.total)):
        add([stats.count])
    if deep:  # a parameter is known while building: a plain `if` chooses steps
        describe(test)


def test_a_pipeline_is_data_you_can_inspect_without_running():
    assert [p.name for p in flow.parameters] == ["n", "lr", "deep", "tags"]
    assert flow.parameters[0].default == 6 and flow.parameters[1].annotation is float
    names = [n.name for n in flow.steps]
    assert names[:1] == ["load"] and set(names) == {
        "load", "split", "describe", "square[0]", "square[1]", "square[2]", "add", "is_big",
        "add_2"}
    assert ("split", "describe") in flow.edges and ("square[2]", "add") in flow.edges
    graph = flow.build(deep="true", n="3")
    assert graph.params == {"n": 3, "lr": 0.1, "deep": True, "tags": None}
    assert "describe_2" in [n.name for n in graph.nodes]
    conditional = graph.node("add_2")
    assert conditional.condition == Output("is_big", "output", graph.graph_id)
    assert graph.node("add").constants == {"offset": 0.1}
    assert graph.node("describe").step.output_names == ("total", "count")
    assert graph.node("split").step.output_names == ("output_0", "output_1")


def test_steps_are_plain_functions_outside_a_pipeline():
    assert split([1, 2, 3, 4]) == ([1, 2], [3, 4])
    assert square.map([2, 3]) == [4, 9]


def test_parameters_from_text_are_converted_by_declared_type_or_refused():
    assert flow.build(tags='["a", "b"]', lr="1e-3").params["lr"] == 0.001
    with pytest.raises(InvalidArgument, match="parameter 'lr' of pipeline 'flow' is float; "
                                              "'fast' is not one") as caught:
        flow.build(lr="fast")
    assert "--param lr=0.1" in caught.value.hint
    with pytest.raises(InvalidArgument, match="'n' of pipeline 'flow' is int"):
        flow.build(n="2.5")
    with pytest.raises(InvalidArgument, match="has no parameter 'epochs'") as caught:
        flow.build(epochs="3")
    assert "n, lr, deep, tags" in caught.value.hint


def test_a_cycle_is_refused_naming_its_steps():
    graph = Graph("loop")
    a = graph.add(square, {"x": Output("b", "output", graph.graph_id)}, "a")
    graph.add(square, {"x": Output(a.name, "output", graph.graph_id)}, "b")
    graph.add(square, {"x": 1}, "c")
    with pytest.raises(InvalidArgument, match="cycle through steps a, b"):
        graph.validate()


def test_an_output_not_connected_to_the_pipeline_is_refused_naming_the_steps():
    elsewhere = flow.build()  # an output of another build
    stray = Output("load", "output", elsewhere.graph_id)

    @gannet.pipeline
    def uses_stray():
        square(stray)

    with pytest.raises(InvalidArgument, match="step 'square' of pipeline 'uses_stray' takes "
                                              "the output of step 'load', which is not "
                                              "connected"):
        uses_stray.build()
    graph = Graph("by_hand")
    graph.add(load, {"n": 3}, "load")
    graph.add(square, {"x": Output("load", "rows", graph.graph_id)}, "square")
    with pytest.raises(InvalidArgument, match="takes output 'rows' of step 'load', which has "
                                              "none by that name"):
        graph.validate()


def test_an_output_has_no_value_while_building():
    @gannet.pipeline
    def branches():
        if load(3):
            square(2)

    with pytest.raises(InvalidArgument, match="has no value while the pipeline is built") as e:
        branches.build()
    assert "when(output)" in e.value.hint

    @gannet.pipeline
    def unpacks():
        _a, _b = load(3)

    with pytest.raises(InvalidArgument, match="step 'load' has one output"):
        unpacks.build()


def test_wrong_calls_and_declarations_are_refused():
    @gannet.pipeline
    def wrong():
        square(1, 2)

    with pytest.raises(InvalidArgument, match="step 'square' called wrongly"):
        wrong.build()
    @gannet.pipeline
    def whole():
        square(describe(load(3)))

    with pytest.raises(InvalidArgument, match="takes all the outputs of another step as 'x'"):
        whole.build()
    with pytest.raises(InvalidArgument, match="returns 2 values and names 3 outputs"):
        gannet.step(outputs=["a", "b", "c"])(split.fn)
    with pytest.raises(InvalidArgument, match="retries must be 0 or more"):
        gannet.step(retries=-1)(square.fn)
