"""The error family.

Every error a user can cause is a ``GannetError``: its message says what is wrong and
which thing is concerned, its ``hint`` says what to do about it. ``code`` is stable
(faces map it: the REST API to an HTTP status and MLflow's ``error_code``, the CLI to
an exit status), so callers branch on the class or the code, never on the text.
"""

from __future__ import annotations


class GannetError(Exception):
    """Base of every error Gannet raises on purpose."""

    code = "INTERNAL_ERROR"
    http_status = 500

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InvalidArgument(GannetError):
    """The caller passed something that cannot be right (a bad key, value, filter...)."""

    code = "INVALID_PARAMETER_VALUE"
    http_status = 400


class NotFound(GannetError):
    """A named thing (experiment, run, artifact, ...) does not exist."""

    code = "RESOURCE_DOES_NOT_EXIST"
    http_status = 404


class AlreadyExists(GannetError):
    code = "RESOURCE_ALREADY_EXISTS"
    http_status = 400


class Conflict(GannetError):
    """The request contradicts stored state (e.g. a param logged twice with two values)."""

    code = "INVALID_PARAMETER_VALUE"
    http_status = 400


class InvalidState(GannetError):
    """The thing exists but is in a state that forbids this (e.g. logging to a deleted run)."""

    code = "INVALID_STATE"
    http_status = 400


class StoreError(GannetError):
    """Infrastructure trouble: the store cannot be reached, is locked, or is inconsistent."""

    code = "TEMPORARILY_UNAVAILABLE"
    http_status = 503


class StoreLocked(StoreError):
    """Another writer held the store for longer than we were willing to wait."""


class SchemaTooNew(StoreError):
    """The database was written by a newer Gannet; this one must not touch it."""

    code = "INVALID_STATE"
    http_status = 500


class IntegrityError(StoreError):
    """Stored bytes do not match their digest: corruption or tampering."""

    code = "DATA_LOSS"
    http_status = 500


class SettingsError(GannetError):
    """A setting (argument, GANNET_* variable or gannet.toml entry) is malformed."""

    code = "INVALID_PARAMETER_VALUE"
    http_status = 400
