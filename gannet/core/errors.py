"""The error tree: every error Gannet raises on purpose, with a stable code.

Every error a user can cause is a ``GannetError``: its message says what is wrong and
which thing is concerned, its ``hint`` says what to do about it. Each class has its own
``code`` (stable: callers branch on the class or the code, never on the text), the HTTP
status every REST face answers with, and the exit status of the ``gannet`` command.
``ERRORS`` lists them all; ``docs/errors.md`` is the same table for people (a test keeps
the two equal). Where MLflow has the concept, the code is MLflow's ``error_code`` name.

    GannetError                      INTERNAL_ERROR
    ├── InvalidArgument              INVALID_PARAMETER_VALUE
    │   ├── InvalidInput             INVALID_INPUT        (data a model's signature refuses)
    │   ├── BadRequest               BAD_REQUEST          (a malformed HTTP request)
    │   ├── RequestTooLarge          REQUEST_TOO_LARGE
    │   ├── MethodNotAllowed         METHOD_NOT_ALLOWED
    │   ├── UnsupportedMediaType     UNSUPPORTED_MEDIA_TYPE
    │   ├── RangeNotSatisfiable      RANGE_NOT_SATISFIABLE
    │   └── SettingsError            INVALID_SETTING
    ├── NotFound                     RESOURCE_DOES_NOT_EXIST
    │   └── EndpointNotFound         ENDPOINT_NOT_FOUND
    ├── AlreadyExists                RESOURCE_ALREADY_EXISTS
    ├── Conflict                     RESOURCE_CONFLICT
    ├── InvalidState                 INVALID_STATE
    │   └── SchemaTooNew             SCHEMA_TOO_NEW
    ├── Unauthenticated              UNAUTHENTICATED
    ├── PermissionDenied             PERMISSION_DENIED
    ├── RateLimited                  REQUEST_LIMIT_EXCEEDED
    ├── IntegrityError               DATA_LOSS
    ├── Unavailable                  TEMPORARILY_UNAVAILABLE
    │   ├── StoreError               STORE_UNAVAILABLE
    │   │   └── StoreLocked          STORE_LOCKED
    │   └── NotReady                 NOT_READY
    ├── ModelFailed                  MODEL_ERROR
    ├── NotSupported                 NOT_IMPLEMENTED
    └── ClientClosedRequest          CLIENT_CLOSED_REQUEST
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Exit statuses of the ``gannet`` command, one per kind of failure."""

    OK = 0
    ERROR = 1  # an internal error, a model that failed, anything else
    USAGE = 2  # a malformed command line (click's own status)
    INVALID = 3  # an argument, setting or input that cannot be right
    NOT_FOUND = 4
    CONFLICT = 5  # exists already, changed concurrently, or in the wrong state
    PERMISSION = 6  # not logged in, or not allowed
    INTEGRITY = 7  # stored bytes do not match their digest or signature
    UNAVAILABLE = 8  # a store or server cannot be reached, or is busy


class GannetError(Exception):
    """Base of every error Gannet raises on purpose."""

    code = "INTERNAL_ERROR"
    http_status = 500
    exit_code = ExitCode.ERROR

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def to_dict(self) -> dict[str, Any]:
        """``{"code", "message", "hint"}``: what every face shows of an error."""
        return {"code": self.code, "message": self.message, "hint": self.hint}


class InvalidArgument(GannetError):
    """The caller passed something that cannot be right (a bad key, value, filter...)."""

    code = "INVALID_PARAMETER_VALUE"
    http_status = 400
    exit_code = ExitCode.INVALID


class InvalidInput(InvalidArgument):
    """Data that does not fit a model's signature (a missing column, a wrong type)."""

    code = "INVALID_INPUT"
    http_status = 422


class BadRequest(InvalidArgument):
    """An HTTP request that cannot be read (its body is not JSON, a field has no meaning)."""

    code = "BAD_REQUEST"
    http_status = 400


class RequestTooLarge(InvalidArgument):
    code = "REQUEST_TOO_LARGE"
    http_status = 413


class MethodNotAllowed(InvalidArgument):
    code = "METHOD_NOT_ALLOWED"
    http_status = 405


class UnsupportedMediaType(InvalidArgument):
    """An HTTP body in a content type or encoding the route does not read."""

    code = "UNSUPPORTED_MEDIA_TYPE"
    http_status = 415


class RangeNotSatisfiable(InvalidArgument):
    """A byte range (HTTP ``Range``) that lies outside the file asked for."""

    code = "RANGE_NOT_SATISFIABLE"
    http_status = 416


class SettingsError(InvalidArgument):
    """A setting (argument, GANNET_* variable or gannet.toml entry) is malformed."""

    code = "INVALID_SETTING"
    http_status = 400


class NotFound(GannetError):
    """A named thing (experiment, run, artifact, ...) does not exist."""

    code = "RESOURCE_DOES_NOT_EXIST"
    http_status = 404
    exit_code = ExitCode.NOT_FOUND


class EndpointNotFound(NotFound):
    """No HTTP route at that path."""

    code = "ENDPOINT_NOT_FOUND"


class AlreadyExists(GannetError):
    code = "RESOURCE_ALREADY_EXISTS"
    http_status = 409
    exit_code = ExitCode.CONFLICT


class Conflict(GannetError):
    """The request contradicts stored state (a param logged twice with two values, a
    deployment changed by someone else at the same moment)."""

    code = "RESOURCE_CONFLICT"
    http_status = 409
    exit_code = ExitCode.CONFLICT


class InvalidState(GannetError):
    """The thing exists but is in a state that forbids this (e.g. logging to a deleted run)."""

    code = "INVALID_STATE"
    http_status = 409
    exit_code = ExitCode.CONFLICT


class SchemaTooNew(InvalidState):
    """The database was written by a newer Gannet; this one must not touch it."""

    code = "SCHEMA_TOO_NEW"
    http_status = 500


class Unauthenticated(GannetError):
    code = "UNAUTHENTICATED"
    http_status = 401
    exit_code = ExitCode.PERMISSION


class PermissionDenied(GannetError):
    code = "PERMISSION_DENIED"
    http_status = 403
    exit_code = ExitCode.PERMISSION


class RateLimited(GannetError):
    """Too many attempts in too short a time (failed logins): wait, then try again."""

    code = "REQUEST_LIMIT_EXCEEDED"
    http_status = 429
    exit_code = ExitCode.UNAVAILABLE


class IntegrityError(GannetError):
    """Stored bytes do not match their digest or signature: corruption or tampering."""

    code = "DATA_LOSS"
    http_status = 500
    exit_code = ExitCode.INTEGRITY


class Unavailable(GannetError):
    """Something needed cannot be used right now; trying again later may work."""

    code = "TEMPORARILY_UNAVAILABLE"
    http_status = 503
    exit_code = ExitCode.UNAVAILABLE


class StoreError(Unavailable):
    """Infrastructure trouble: the metadata or artifact store cannot be reached or failed."""

    code = "STORE_UNAVAILABLE"


class StoreLocked(StoreError):
    """Another writer held the store for longer than we were willing to wait."""

    code = "STORE_LOCKED"


class NotReady(Unavailable):
    """A server that is still loading (or unloading) what it serves."""

    code = "NOT_READY"


class ModelFailed(GannetError):
    """The model itself raised while predicting (the server keeps serving)."""

    code = "MODEL_ERROR"
    http_status = 500


class NotSupported(GannetError):
    """A feature this server or store was not set up for (e.g. feedback without a log)."""

    code = "NOT_IMPLEMENTED"
    http_status = 501


class ClientClosedRequest(GannetError):
    """The HTTP client went away before its request was read."""

    code = "CLIENT_CLOSED_REQUEST"
    http_status = 499


class RequestTimeout(GannetError):
    """The HTTP client sent its request too slowly (over the server's read timeout)."""

    code = "REQUEST_TIMEOUT"
    http_status = 408


ERRORS: tuple[type[GannetError], ...] = (
    GannetError,
    InvalidArgument,
    InvalidInput,
    BadRequest,
    RequestTooLarge,
    MethodNotAllowed,
    UnsupportedMediaType,
    RangeNotSatisfiable,
    SettingsError,
    NotFound,
    EndpointNotFound,
    AlreadyExists,
    Conflict,
    InvalidState,
    SchemaTooNew,
    Unauthenticated,
    PermissionDenied,
    RateLimited,
    IntegrityError,
    Unavailable,
    StoreError,
    StoreLocked,
    NotReady,
    ModelFailed,
    NotSupported,
    ClientClosedRequest,
    RequestTimeout,
)
BY_CODE: dict[str, type[GannetError]] = {error.code: error for error in ERRORS}


def from_code(code: str, message: str, hint: str | None = None) -> GannetError:
    """The error a code stands for (a remote client turns an error envelope back into one)."""
    return BY_CODE.get(code, GannetError)(message, hint)
