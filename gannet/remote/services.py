"""``RemoteServices``: what ``bootstrap.build`` returns when the ``uri`` setting names a
team server. It has the services a face uses, each speaking REST; the stores themselves
(``metadata``, ``blobs``) are the server's, and asking for them says so."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from gannet.core.errors import NotSupported
from gannet.core.settings import Settings
from gannet.remote.transport import Transport

__all__ = ["RemoteServices"]

T = TypeVar("T")


class RemoteServices:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.transport = Transport(settings.uri, settings.token)
        self._built: dict[str, Any] = {}
        self._lock = threading.RLock()  # a part may ask for another while made

    def _part(self, name: str, make: Callable[[], T]) -> T:
        with self._lock:
            if name not in self._built:
                self._built[name] = make()
            return self._built[name]

    @property
    def tracking(self) -> Any:
        from gannet.remote.tracking import RemoteTracking

        return self._part("tracking", lambda: RemoteTracking(self.transport, self.settings))

    @property
    def auth(self) -> Any:
        from gannet.remote.auth import RemoteAuth

        return self._part("auth", lambda: RemoteAuth(self.transport, self.settings))

    @property
    def registry(self) -> Any:
        from gannet.remote.registry import RemoteRegistry

        return self._part(
            "registry", lambda: RemoteRegistry(self.transport, self.settings, self.tracking))

    @property
    def deployments(self) -> Any:
        from gannet.remote.deployments import RemoteDeployments

        return self._part("deployments",
                          lambda: RemoteDeployments(self.transport, self.settings))

    @property
    def inference_log(self) -> Any:
        from gannet.remote.logs import RemoteInferenceLog

        return self._part("inference_log",
                          lambda: RemoteInferenceLog(self.transport, self.settings))

    @property
    def validation(self) -> Any:
        from gannet.remote.validation import RemoteValidation

        return self._part("validation", lambda: RemoteValidation(
            self.transport, self.settings, read_feature_view=self.features.view_table))

    @property
    def training(self) -> Any:
        from gannet.remote.training import RemoteTraining

        return self._part("training", lambda: RemoteTraining(self.transport, self.settings))

    @property
    def features(self) -> Any:
        from gannet.remote.features import RemoteFeatures

        return self._part("features", lambda: RemoteFeatures(self.transport, self.settings))

    @property
    def data(self) -> Any:
        from gannet.remote.data import RemoteData

        return self._part("data", lambda: RemoteData(self.transport, self.settings))

    @property
    def metadata(self) -> Any:
        raise self._server_side("the metadata store")

    @property
    def blobs(self) -> Any:
        raise self._server_side("the artifact store")

    @property
    def pipelines(self) -> Any:  # steps read and write the stores themselves
        raise self._server_side("running pipelines")

    @property
    def monitoring(self) -> Any:
        from gannet.remote.monitoring import RemoteMonitors

        return self._part("monitoring", lambda: RemoteMonitors(self.transport, self.settings))

    @property
    def rai(self) -> Any:  # explanations read held-out data and the stores themselves
        raise self._server_side("computing explanations and fairness results")

    @property
    def alerts(self) -> Any:
        from gannet.remote.monitoring import RemoteAlerts

        return self._part("alerts", lambda: RemoteAlerts(self.transport, self.settings))

    def _server_side(self, what: str) -> NotSupported:
        return NotSupported(
            f"{what} belongs to the server at {self.settings.uri}: this command works on the "
            "stores directly",
            "run it on the server's machine (unset GANNET_URI there), or with the server's "
            "metadata_url and artifacts_url",
        )

    def close(self) -> None:
        tracking = self._built.get("tracking")
        if tracking is not None:
            tracking.close()
        self.transport.close()
