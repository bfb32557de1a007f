"""What a feature read can be returned as, checked in one place for every face (the
embedded store, the remote client) before any work is done."""

from __future__ import annotations

from collections.abc import Sequence

from gannet.core.errors import InvalidArgument

TABLES = ("pandas", "polars", "arrow")  # training sets and a view's rows
ROWS = ("pandas", "dict")  # online reads


def check_output(output: str, known: Sequence[str] = TABLES) -> None:
    if output not in known:
        raise InvalidArgument(f"output {output!r} is not known", f"use one of {', '.join(known)}")
