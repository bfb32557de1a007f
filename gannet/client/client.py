"""``GannetClient``: the explicit SDK object (the fluent ``gannet.*`` functions use one).

Its methods come by capability (``TrackingMethods``, ``RegistryMethods``,
``DeploymentMethods``, ``InteropMethods``, ``DataQualityMethods``, ``PipelineMethods``,
``TrainingMethods``, ``ResponsibleMethods``), each one service call of the same name;
the client itself owns the services (built lazily from its settings) and the log buffer.
"""

from __future__ import annotations

import threading
from typing import Any

from gannet.bootstrap import Services, build
from gannet.client.buffer import LogBuffer
from gannet.client.data_quality import DataQualityMethods
from gannet.client.deployments import DeploymentMethods
from gannet.client.interop import InteropMethods
from gannet.client.pipelines import PipelineMethods
from gannet.client.registry import RegistryMethods
from gannet.client.responsible import ResponsibleMethods
from gannet.client.tracking import RunPage, TrackingMethods
from gannet.client.training import TrainingMethods
from gannet.core.settings import Settings

__all__ = ["GannetClient", "RunPage"]


class GannetClient(
    TrackingMethods, RegistryMethods, DeploymentMethods, InteropMethods, DataQualityMethods,
    PipelineMethods, TrainingMethods, ResponsibleMethods,
):
    """Talks to the stores named by ``settings`` (default: ``Settings.load()``)."""

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        self._settings = settings
        self._overrides = overrides
        self._services: Services | None = None
        self._buffer: LogBuffer | None = None
        self._params: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    @property
    def services(self) -> Services:
        if self._services is None:
            with self._lock:
                if self._services is None:
                    self._services = build(self._settings, **self._overrides)
        return self._services

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def buffer(self) -> LogBuffer:
        if self._buffer is None:
            settings = self.settings
            self._buffer = LogBuffer(
                self.services.tracking.write_pending,
                capacity=settings.buffer_size,
                interval=settings.flush_interval,
            )
        return self._buffer

    def flush(self, *, wait_for_environment: bool = True) -> None:
        """Write every buffered metric point now (raises what a background write hit).

        ``wait_for_environment=False`` leaves an environment still being captured, and its
        run's tags, to be stored when the capture is done (by the writer thread, the next
        flush, or exit).
        """
        if self._buffer is not None:
            self._buffer.flush(wait_for_environment=wait_for_environment)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            if self._services is not None:
                self._services.close()
                self._services = None
