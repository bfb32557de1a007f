"""What the MLflow routes share: request parts, answers, and paging.

MLflow's requests are its protobuf messages as JSON (bodies of POST, PATCH and DELETE) or
as query parameters (GET; a repeated field is a repeated key). Each route declares its
message as a pydantic model, so FastAPI checks the types and the OpenAPI document shows
it; unknown fields are ignored, as MLflow's server ignores them. A missing required field
is MLflow's ``INVALID_PARAMETER_VALUE`` naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.responses import Response

from gannet.core.errors import InvalidArgument
from gannet.core.pagination import decode_token, encode_token, query_fingerprint
from gannet.server.deps import answer
from gannet.tracking.types import ViewType

__all__ = ["KeyValue", "Message", "RunMessage", "ok", "page", "required", "view_of"]

T = TypeVar("T")

VIEW_TYPES = {"ACTIVE_ONLY": ViewType.ACTIVE, "DELETED_ONLY": ViewType.DELETED,
              "ALL": ViewType.ALL, "1": ViewType.ACTIVE, "2": ViewType.DELETED, "3": ViewType.ALL}


class Message(BaseModel):
    """An MLflow request message: unknown fields are ignored."""

    model_config = {"extra": "ignore"}


class KeyValue(Message):
    key: str
    value: str = ""


class RunMessage(Message):
    """A message about one run: MLflow's clients send ``run_id`` and its old name
    ``run_uuid`` (either is enough)."""

    run_id: str | None = None
    run_uuid: str | None = None

    @property
    def run(self) -> str:
        return required(self.run_id or self.run_uuid, "run_id")


def required(value: T | None, name: str) -> T:
    if value is None or value == "":
        raise InvalidArgument(f"Missing value for required parameter '{name}'",
                              "see MLflow's REST API reference for the message's fields")
    return value


def ok(body: Any = None) -> Response:
    return answer({} if body is None else body)


def as_dict(items: Sequence[KeyValue] | None) -> dict[str, str]:
    """MLflow's ``[{key, value}]`` as a mapping (a key given twice: the last value)."""
    return {item.key: item.value for item in items or ()}


def view_of(value: str | int | None) -> ViewType:
    """MLflow's ``ViewType`` (by name, or number in a query) as ours."""
    if value is None or value == "":
        return ViewType.ACTIVE
    found = VIEW_TYPES.get(str(value).upper())
    if found is None:
        raise InvalidArgument(f"unknown view type {value!r}",
                              "use ACTIVE_ONLY, DELETED_ONLY or ALL")
    return found


def page(
    items: Sequence[T], max_results: int | None, page_token: str | None, *query: object,
    default: int, limit: int,
) -> tuple[list[T], str | None]:
    """One page of ``items`` (a whole, ordered answer) and the token of the next one, if
    any. ``query`` identifies the search, so a token of another search is refused."""
    size = default if max_results is None else int(max_results)
    if not 1 <= size <= limit:
        raise InvalidArgument(f"max_results must be between 1 and {limit}, got {size}",
                              "page through longer answers with page_token")
    fingerprint = query_fingerprint(*query)
    offset = decode_token(page_token, fingerprint)
    chunk = list(items[offset:offset + size])
    more = offset + size < len(items)
    return chunk, encode_token(offset + size, fingerprint) if more else None


def paged(key: str, items: list[Any], token: str | None) -> Response:
    body: dict[str, Any] = {key: items}
    if token:
        body["next_page_token"] = token
    return answer(body)
