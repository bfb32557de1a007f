"""The responsible-AI half of ``GannetClient``: a version's explanation and fairness
results, computed on held-out data and stored with it (``ResponsibleAIService``).

Each method is one service call of the same name; ``gannet models explain | fairness |
sensitive`` are the same calls on the command line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gannet.bootstrap import Services
    from gannet.registry.responsible import ResponsibleAIService
    from gannet.registry.types import VersionReport


class ResponsibleMethods:
    """Mixed into ``GannetClient``, which provides ``services``."""

    @property
    def services(self) -> Services:
        raise NotImplementedError

    @property
    def _rai(self) -> ResponsibleAIService:
        return self.services.rai  # a team server's client: NotSupported, naming it

    def explain_model_version(self, ref: str, data: str, target: str, *, n_repeats: int = 5,
                              max_rows: int | None = None) -> VersionReport:
        """Permutation importance and SHAP values of ``ref`` on held-out ``data`` (a
        Parquet/CSV path or a dataset version such as ``holdout@3``), stored with it."""
        return self._rai.explain_model_version(ref, data, target, n_repeats=n_repeats,
                                               max_rows=max_rows)

    def compute_fairness(self, ref: str, data: str, target: str,
                         sensitive: Sequence[str] = (), *, min_group_size: int | None = None,
                         positive: str | None = None) -> VersionReport:
        """Per-group metrics and disparities of ``ref`` over ``sensitive`` attributes (else
        the declared ones), stored with it."""
        return self._rai.compute_fairness(ref, data, target, sensitive,
                                          min_group_size=min_group_size, positive=positive)

    def set_sensitive_attributes(self, name: str, attributes: Sequence[str]) -> list[str]:
        return self._rai.set_sensitive_attributes(name, attributes)

    def sensitive_attributes(self, name: str) -> list[str]:
        return self._rai.sensitive_attributes(name)

    def get_version_reports(self, ref: str) -> dict[str, VersionReport]:
        """The stored reports of ``ref`` by kind (``explanation``, ``fairness``)."""
        return self._rai.get_version_reports(ref)

    def get_report_plot(self, ref: str, kind: str, fmt: str = "html") -> bytes:
        return self._rai.get_report_plot(ref, kind, fmt)
