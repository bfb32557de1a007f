"""The error tree: one code per class, and docs/errors.md is the same table."""

import re
from pathlib import Path

import pytest

from gannet.core import errors
from gannet.core.errors import ERRORS, ExitCode, GannetError, from_code

DOCS = Path(__file__).parents[2] / "docs" / "errors.md"

# The pinned table: changing a code, status or exit code breaks clients; do it on purpose.
PINNED = {
    "GannetError": ("INTERNAL_ERROR", 500, 1),
    "InvalidArgument": ("INVALID_PARAMETER_VALUE", 400, 3),
    "InvalidInput": ("INVALID_INPUT", 422, 3),
    "BadRequest": ("BAD_REQUEST", 400, 3),
    "RequestTooLarge": ("REQUEST_TOO_LARGE", 413, 3),
    "MethodNotAllowed": ("METHOD_NOT_ALLOWED", 405, 3),
    "UnsupportedMediaType": ("UNSUPPORTED_MEDIA_TYPE", 415, 3),
    "RangeNotSatisfiable": ("RANGE_NOT_SATISFIABLE", 416, 3),
    "SettingsError": ("INVALID_SETTING", 400, 3),
    "NotFound": ("RESOURCE_DOES_NOT_EXIST", 404, 4),
    "EndpointNotFound": ("ENDPOINT_NOT_FOUND", 404, 4),
    "AlreadyExists": ("RESOURCE_ALREADY_EXISTS", 409, 5),
    "Conflict": ("RESOURCE_CONFLICT", 409, 5),
    "InvalidState": ("INVALID_STATE", 409, 5),
    "SchemaTooNew": ("SCHEMA_TOO_NEW", 500, 5),
    "Unauthenticated": ("UNAUTHENTICATED", 401, 6),
    "PermissionDenied": ("PERMISSION_DENIED", 403, 6),
    "RateLimited": ("REQUEST_LIMIT_EXCEEDED", 429, 8),
    "IntegrityError": ("DATA_LOSS", 500, 7),
    "Unavailable": ("TEMPORARILY_UNAVAILABLE", 503, 8),
    "StoreError": ("STORE_UNAVAILABLE", 503, 8),
    "StoreLocked": ("STORE_LOCKED", 503, 8),
    "NotReady": ("NOT_READY", 503, 8),
    "ModelFailed": ("MODEL_ERROR", 500, 1),
    "NotSupported": ("NOT_IMPLEMENTED", 501, 1),
    "ClientClosedRequest": ("CLIENT_CLOSED_REQUEST", 499, 1),
    "RequestTimeout": ("REQUEST_TIMEOUT", 408, 1),
}


def test_every_error_class_is_listed_with_its_own_code():
    defined = {
        obj for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, GannetError)
    }
    assert defined == set(ERRORS)
    codes = [error.code for error in ERRORS]
    assert len(codes) == len(set(codes)), "two error classes share a code"


def test_the_table_is_pinned():
    actual = {e.__name__: (e.code, e.http_status, int(e.exit_code)) for e in ERRORS}
    assert actual == PINNED


def test_docs_errors_md_is_the_same_table():
    row = r"^\| `(\w+)` \| `(\w+)` \|\s*`?(\w*)`?\s*\| (\d+) \| (\d+) \|"
    rows = re.findall(row, DOCS.read_text(), flags=re.M)
    documented = {name: (code, int(status), int(exit_code))
                  for code, name, _parent, status, exit_code in rows}
    assert documented == PINNED
    parents = {name: parent for _code, name, parent, _s, _e in rows}
    for error in ERRORS:
        base = error.__mro__[1]
        assert parents[error.__name__] == ("" if base is Exception else base.__name__)


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: e.__name__)
def test_a_code_turns_back_into_its_error(error):
    again = from_code(error.code, "what", "how")
    assert type(again) is error
    assert again.to_dict() == {"code": error.code, "message": "what", "hint": "how"}


def test_exit_codes_are_distinct_per_kind():
    kinds = {ExitCode.INVALID, ExitCode.NOT_FOUND, ExitCode.CONFLICT, ExitCode.PERMISSION,
             ExitCode.INTEGRITY, ExitCode.UNAVAILABLE}
    assert len({int(k) for k in kinds}) == 6
    assert ExitCode.USAGE == 2 and 0 not in {int(k) for k in kinds} | {1, 2}
