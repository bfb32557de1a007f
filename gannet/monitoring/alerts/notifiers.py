"""Notifiers: where an alert goes. An extension point: Gannet's own three (``webhook``,
``email``, ``log``) are registered the way a plugin registers one - a class in
``NOTIFIERS``, or an entry point in the group ``gannet.notifiers`` naming a class.

A notifier class takes its settings (the mapping under its name in the rules file) as
keyword arguments and has ``send(notice)``, which raises on failure. ``deliver`` retries
a failed send with exponential backoff; the alert service runs deliveries in background
threads, so a slow or dead endpoint never holds a monitor run up.

- ``webhook``: POST of JSON with Slack's shape (``text``, plus ``blocks``) and the alert's
  fields under ``gannet``; settings ``url``, ``timeout`` (5 s), ``retries`` (3),
  ``headers``.
- ``email``: a plain-text mail over SMTP; settings ``to`` (list), ``host`` (localhost),
  ``port`` (25), ``sender`` (gannet@localhost), ``starttls`` (false), ``username`` and
  ``password_env`` (the name of the environment variable holding the password).
- ``log``: a line on the ``gannet.alerts`` logger (warning, or error when critical).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from gannet.core.errors import InvalidArgument

__all__ = ["NOTIFIERS", "AlertNotice", "Notifier", "check_notifier", "deliver", "make_notifier"]

LOG = logging.getLogger("gannet.alerts")


@dataclass(frozen=True)
class AlertNotice:
    rule: str
    monitor: str
    state: str  # "firing" or "resolved"
    severity: str
    condition: str
    value: float | None
    message: str
    time: int  # ms

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Notifier(Protocol):
    def send(self, notice: AlertNotice) -> None:
        """Deliver ``notice`` once; raise on failure (``deliver`` retries)."""
        ...


class WebhookNotifier:
    def __init__(self, url: str, timeout: float = 5.0, retries: int = 3,
                 headers: Mapping[str, str] | None = None, **_: Any) -> None:
        self.url, self.timeout, self.retries = url, float(timeout), int(retries)
        self.headers = dict(headers or {})

    def send(self, notice: AlertNotice) -> None:
        import httpx

        icon = ":rotating_light:" if notice.state == "firing" else ":white_check_mark:"
        payload = {
            "text": f"{icon} [{notice.severity}] {notice.message}",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": (
                f"*{notice.rule}* on monitor `{notice.monitor}` is *{notice.state}*\n"
                f"{notice.condition} (value {notice.value})")}}],
            "gannet": notice.to_dict(),
        }
        answer = httpx.post(self.url, json=payload, timeout=self.timeout, headers=self.headers)
        answer.raise_for_status()


class EmailNotifier:
    def __init__(self, to: list[str] | str, host: str = "localhost", port: int = 25,
                 sender: str = "gannet@localhost", starttls: bool = False,
                 username: str | None = None, password_env: str | None = None,
                 timeout: float = 10.0, retries: int = 3, **_: Any) -> None:
        self.to = [to] if isinstance(to, str) else list(to)
        self.host, self.port, self.sender = host, int(port), sender
        self.starttls, self.username, self.password_env = starttls, username, password_env
        self.timeout, self.retries = float(timeout), int(retries)

    def send(self, notice: AlertNotice) -> None:
        import smtplib
        from email.message import EmailMessage

        mail = EmailMessage()
        mail["Subject"] = f"[gannet {notice.severity}] {notice.rule} {notice.state}"
        mail["From"], mail["To"] = self.sender, ", ".join(self.to)
        mail.set_content(f"{notice.message}\n\ncondition: {notice.condition}\n"
                         f"value: {notice.value}\nmonitor: {notice.monitor}\n")
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, os.environ.get(self.password_env or "", ""))
            smtp.send_message(mail)


class LogNotifier:
    retries = 0

    def __init__(self, **_: Any) -> None:
        pass

    def send(self, notice: AlertNotice) -> None:
        level = logging.ERROR if notice.severity == "critical" else logging.WARNING
        LOG.log(level, "alert %s %s: %s", notice.rule, notice.state, notice.message)


NOTIFIERS: dict[str, type] = {"webhook": WebhookNotifier, "email": EmailNotifier,
                              "log": LogNotifier}
_REQUIRED = {"webhook": ("url",), "email": ("to",)}


def _classes() -> dict[str, type]:
    from importlib.metadata import entry_points

    found = dict(NOTIFIERS)
    for entry in entry_points(group="gannet.notifiers"):
        found.setdefault(entry.name, entry.load())
    return found


def check_notifier(name: str, settings: Any) -> None:
    """InvalidArgument when ``settings`` cannot make a notifier."""
    if not isinstance(settings, dict) or "type" not in settings:
        raise InvalidArgument(f"notifier {name!r} needs a 'type' (webhook, email, log, or a "
                              "plugin's)")
    kind = settings["type"]
    if kind not in _classes():
        raise InvalidArgument(f"notifier {name!r} has an unknown type {kind!r}",
                              hint=f"use one of {', '.join(sorted(_classes()))}")
    missing = [key for key in _REQUIRED.get(kind, ()) if not settings.get(key)]
    if missing:
        raise InvalidArgument(f"notifier {name!r} ({kind}) needs {', '.join(missing)}")


def make_notifier(settings: Mapping[str, Any]) -> Notifier:
    options = {k: v for k, v in settings.items() if k != "type"}
    return _classes()[settings.get("type", "log")](**options)


def deliver(notifier: Notifier, notice: AlertNotice, *, backoff: float = 0.5) -> str:
    """Send, retrying with exponential backoff; "sent" or why it failed at last."""
    retries = int(getattr(notifier, "retries", 3))
    for attempt in range(retries + 1):
        try:
            notifier.send(notice)
            return "sent"
        except Exception as exc:  # any failure of a notifier is reported, never raised
            problem = f"{type(exc).__name__}: {exc}"
            if attempt < retries:
                time.sleep(backoff * 2 ** attempt)
    return f"failed after {retries + 1} attempts: {problem}"
