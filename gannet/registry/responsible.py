"""Responsible AI for a registered version: explanations and fairness, stored with it.

``ResponsibleAIService`` computes a version's explanation (permutation importance and a
SHAP summary on held-out data, a few rows explained locally, a background sample for the
inference server's ``/explain``) and its fairness results (per-group metrics and
disparities over declared sensitive attributes), and stores each with the version: the
numbers as JSON in ``model_version_reports``, the plot as an HTML blob (a PNG is drawn
from the numbers when asked). The promotion gates (``rai_gates``) and the model card read
them back.

Held-out data is a Parquet or CSV file, or a dataset version (``churn@3``, optionally
``dataset:churn@3``) read through the data capability: bootstrap hands ``read_dataset``
in, as the registry sits below data in the layers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.core.actor import EDITOR
from gannet.core.clock import now_ms
from gannet.core.errors import InvalidArgument, NotFound, NotSupported
from gannet.models import explainers
from gannet.registry import rai_plots, report_repository
from gannet.registry.types import ModelVersion, VersionReport

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from gannet.core.settings import Settings
    from gannet.registry.service import RegistryService

__all__ = ["SENSITIVE_TAG", "ResponsibleAIService"]

SENSITIVE_TAG = "gannet.sensitive_attributes"  # a registered model's tag: JSON list
EXPLANATION, FAIRNESS = "explanation", "fairness"
_BACKGROUND_ROWS = 100
_SAMPLED_ROWS = 200  # rows a sampled (model-agnostic) SHAP explainer summarises


class ResponsibleAIService:
    def __init__(self, registry: RegistryService, settings: Settings,
                 read_dataset: Callable[[str], pa.Table] | None = None) -> None:
        self.registry = registry
        self.settings = settings
        self.read_dataset = read_dataset

    # -- sensitive attributes ------------------------------------------------------------

    def set_sensitive_attributes(self, name: str, attributes: Sequence[str]) -> list[str]:
        """Declare the columns of ``name``'s evaluation data whose groups must be treated
        alike (they need not be model inputs)."""
        cleaned = [a.strip() for a in attributes if a.strip()]
        if not cleaned:
            raise InvalidArgument("no sensitive attribute given", "e.g. --set sex --set age")
        self.registry.update_registered_model(name, tags={SENSITIVE_TAG: json.dumps(cleaned)})
        return cleaned

    def sensitive_attributes(self, name: str) -> list[str]:
        text = self.registry.get_registered_model(name).tags.get(SENSITIVE_TAG)
        return list(json.loads(text)) if text else []

    # -- explanations --------------------------------------------------------------------

    def explain_model_version(self, ref: str, data: str, target: str, *, n_repeats: int = 5,
                              max_rows: int | None = None, local_rows: int = 5
                              ) -> VersionReport:
        """Explain ``ref`` on held-out ``data`` (labels in column ``target``) and store it."""
        version, loaded, frame = self._prepare(ref, data, target)
        rows = max_rows or self.settings.explain_max_rows
        if len(frame) > rows:
            frame = frame.sample(rows, random_state=0)
        declared = tuple(self.sensitive_attributes(version.name))  # not guessed as inputs
        features = explainers.feature_frame(loaded, frame, exclude=(target, *declared))
        report: dict[str, Any] = {"target": target, "rows": len(frame), "notes": []}
        report["permutation"] = explainers.permutation_summary(
            loaded, features, frame[target], n_repeats=n_repeats)
        background = features.sample(min(_BACKGROUND_ROWS, len(features)), random_state=0)
        report["shap"], report["local"] = None, None
        try:
            explainer = explainers.local_explainer(loaded, background)
            sample = features
            if explainer.method == explainers.SAMPLED and len(features) > _SAMPLED_ROWS:
                sample = features.sample(_SAMPLED_ROWS, random_state=0)  # costly per row
            report["shap"] = explainers.summarise(explainer.explain(sample))
            local = explainer.explain(features.iloc[:local_rows])
            report["local"] = {"base_value": local.base_value, "output": local.output,
                               "base_values": local.base_values.tolist(),
                               "rows": local.rows()}
        except NotSupported as exc:
            report["notes"].append(f"{exc.message}; {exc.hint}")
        report["background"] = json.loads(background.to_json(orient="split", index=False))
        title, bars = rai_plots.importance_bars(report)
        return self._store(version, EXPLANATION, report, data, title, bars)

    def explanation_background(self, name: str, version: int) -> pd.DataFrame | None:
        """The background sample stored with ``name/version``'s explanation, for the
        inference server's sampled explainer (None when it was never explained)."""
        import pandas as pd

        found = self.get_version_reports(f"{name}/{version}").get(EXPLANATION)
        if found is None or not found.report.get("background"):
            return None
        split = found.report["background"]
        return pd.DataFrame(split["data"], columns=split["columns"])

    # -- fairness ------------------------------------------------------------------------

    def compute_fairness(self, ref: str, data: str, target: str,
                         sensitive: Sequence[str] = (), *, min_group_size: int | None = None,
                         positive: str | None = None) -> VersionReport:
        """Per-group metrics and disparities of ``ref``'s predictions on ``data`` over the
        ``sensitive`` attributes (else the model's declared ones), stored with it."""
        from gannet.stats.fairness import fairness_report

        version, loaded, frame = self._prepare(ref, data, target)
        attributes = list(sensitive) or self.sensitive_attributes(version.name)
        if not attributes:
            raise InvalidArgument(
                f"model {version.name!r} declares no sensitive attribute and none was given",
                f"pass --sensitive COLUMN, or declare them: gannet models sensitive "
                f"{version.name} --set COLUMN")
        missing = [a for a in attributes if a not in frame.columns]
        if missing:
            raise InvalidArgument(
                f"sensitive attribute(s) {', '.join(map(repr, missing))} not in the data "
                f"{data!r}", f"its columns: {', '.join(map(str, frame.columns))}")
        features = explainers.feature_frame(loaded, frame, exclude=(target, *attributes))
        task, truth, pred, scores, label = _outcomes(loaded, features, frame[target], positive)
        size = self.settings.fairness_min_group_size if min_group_size is None \
            else min_group_size
        report = fairness_report(frame, y_true=truth, y_pred=pred, sensitive=attributes,
                                 task=task, min_group_size=size, scores=scores)
        report.update(target=target, positive_label=label)
        title, bars = rai_plots.group_bars(report)
        return self._store(version, FAIRNESS, report, data, title, bars)

    # -- reading back --------------------------------------------------------------------

    def get_version_reports(self, ref: str) -> dict[str, VersionReport]:
        version = self.registry.resolve_model_version(ref)
        with self.registry.metadata.read() as conn:
            return report_repository.version_reports(conn, version.name, version.version)

    def get_report_plot(self, ref: str, kind: str, fmt: str = "html") -> bytes:
        found = self.get_version_reports(ref).get(kind)
        if found is None:
            raise NotFound(f"{ref} has no {kind} report",
                           f"make it: gannet models {'explain' if kind == EXPLANATION else kind}"
                           f" {ref} --data ...")
        if fmt == "png":  # drawn when asked: matplotlib costs a second per explanation
            title, bars = _bars(found.report, kind)
            image = rai_plots.png(f"{found.name} v{found.version} - {kind}", title, bars)
            if image is None:
                raise NotSupported("a PNG plot needs matplotlib",
                                   "pip install 'gannet-mlops[plots]', or ask for html")
            return image
        if fmt not in found.plots:
            raise NotFound(f"the {kind} report of {ref} has no {fmt} plot",
                           f"available: png, {', '.join(found.plots) or 'none'}")
        return self.registry.blobs.get_bytes(found.plots[fmt])

    # -- parts ---------------------------------------------------------------------------

    def _prepare(self, ref: str, data: str, target: str) -> tuple[ModelVersion, Any, Any]:
        version = self.registry.resolve_model_version(ref)
        self.registry._may_model(version.name, EDITOR, "store a report on")
        frame = self.read_frame(data)
        if target not in frame.columns:
            raise InvalidArgument(f"target column {target!r} is not in the data {data!r}",
                                  f"its columns: {', '.join(map(str, frame.columns))}")
        if len(frame) == 0:
            raise InvalidArgument(f"the data {data!r} has no rows", "pass held-out rows")
        return version, self.registry.load_model(version.ref), frame

    def read_frame(self, data: str) -> pd.DataFrame:
        """A Parquet or CSV file, or a dataset version (``churn@3``, ``dataset:churn@3``)."""
        import pandas as pd

        path = Path(data).expanduser()
        if path.is_file():
            if path.suffix.lower() in (".csv", ".txt"):
                return pd.read_csv(path)
            if path.suffix.lower() in (".parquet", ".pq"):
                return pd.read_parquet(path)
            raise InvalidArgument(f"cannot read {data!r}: not .parquet or .csv",
                                  "pass a Parquet or CSV file, or a dataset version (name@3)")
        reference = data.removeprefix("dataset:")
        if "@" in reference and self.read_dataset is not None and not path.exists():
            return self.read_dataset(reference).to_pandas()
        raise NotFound(f"{data!r} is neither a file nor a dataset version",
                       "pass a Parquet/CSV path or a dataset reference such as churn@3")

    def _store(self, version: ModelVersion, kind: str, report: dict[str, Any], data: str,
               title: str, bars: list[tuple[str, float]]) -> VersionReport:
        report.update(model=version.name, version=version.version)
        heading = f"{version.name} v{version.version} - {kind}"
        plots = {"html": rai_plots.html_page(heading, title, bars)}
        registry = self.registry
        with registry.leases.hold():  # the plots are referenced before the lease ends
            digests = {fmt: registry.blobs.put_bytes(body).digest for fmt, body in plots.items()}
            row = {"name": version.name, "version": version.version, "kind": kind,
                   "report": json.dumps(report, allow_nan=False, default=_plain),
                   "plot_digests": json.dumps(digests), "data_source": data,
                   "user_id": registry.auth.current_user, "creation_time": now_ms()}
            with registry.metadata.write() as conn:
                report_repository.replace_report(conn, row)
                registry.auth.record(conn, f"version.{kind}", f"model:{version.ref}",
                                     {"data": data, "plots": digests})
        return self.get_version_reports(version.ref)[kind]


def _bars(report: dict[str, Any], kind: str) -> tuple[str, list[tuple[str, float]]]:
    if kind == EXPLANATION:
        return rai_plots.importance_bars(report)
    return rai_plots.group_bars(report)


def _outcomes(loaded: Any, features: Any, target: Any, positive: str | None
              ) -> tuple[str, Any, Any, Any, Any]:
    """(task, truth, prediction, scores or None, positive label): 0/1 outcomes for a
    classifier (1: ``positive``), the values themselves for a regressor."""
    import numpy as np

    raw = getattr(loaded, "raw", loaded)
    predicted = np.asarray(loaded.predict(features))
    classes = list(getattr(raw, "classes_", []))
    if not classes:
        return "regression", np.asarray(target, dtype=float), predicted, None, None
    if positive is None and len(classes) != 2:
        raise InvalidArgument(f"the model has {len(classes)} classes; fairness metrics "
                              "compare one favourable outcome", "name it: --positive LABEL")
    label = classes[-1] if positive is None else _label(classes, positive)
    scores = None
    if loaded.has_predict_proba:
        scores = np.asarray(loaded.predict_proba(features))[:, classes.index(label)]
    truth = (np.asarray(target) == label).astype(float)
    return "classification", truth, (predicted == label).astype(float), scores, _plain(label)


def _label(classes: list[Any], positive: str) -> Any:
    for c in classes:
        if str(c) == positive:
            return c
    raise InvalidArgument(f"--positive {positive!r} is not a class of the model",
                          f"its classes: {', '.join(map(str, classes))}")


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)
