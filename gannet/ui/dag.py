"""A DAG drawn as boxes in layers (a step one layer right of its deepest input), for an
SVG in a pipeline run's page: positions only, so the template stays markup."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Drawing", "layout"]

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 170, 44, 60, 18, 10


@dataclass(frozen=True)
class Box:
    name: str
    x: int
    y: int


@dataclass(frozen=True)
class Arrow:
    x1: int
    y1: int
    x2: int
    y2: int


@dataclass
class Drawing:
    width: int
    height: int
    boxes: list[Box] = field(default_factory=list)
    arrows: list[Arrow] = field(default_factory=list)
    box_w: int = BOX_W
    box_h: int = BOX_H


def layout(names: list[str], edges: list[tuple[str, str]]) -> Drawing:
    """``names`` in running order (inputs before the steps that read them)."""
    depth: dict[str, int] = {}
    inputs: dict[str, list[str]] = {n: [] for n in names}
    for a, b in edges:
        if a in inputs and b in inputs:
            inputs[b].append(a)
    for name in names:  # running order: a step's inputs have their depth already
        depth[name] = 1 + max((depth.get(a, 0) for a in inputs[name]), default=-1)
    rows: dict[int, int] = {}
    boxes: dict[str, Box] = {}
    for name in names:
        column = depth[name]
        row = rows.get(column, 0)
        rows[column] = row + 1
        boxes[name] = Box(name, PAD + column * (BOX_W + GAP_X), PAD + row * (BOX_H + GAP_Y))
    arrows = [Arrow(boxes[a].x + BOX_W, boxes[a].y + BOX_H // 2, boxes[b].x,
                    boxes[b].y + BOX_H // 2) for b in names for a in inputs[b]]
    columns = max(depth.values(), default=0) + 1
    height = max(rows.values(), default=1)
    return Drawing(2 * PAD + columns * BOX_W + (columns - 1) * GAP_X,
                   2 * PAD + height * BOX_H + (height - 1) * GAP_Y,
                   list(boxes.values()), arrows)
