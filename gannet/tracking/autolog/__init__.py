"""Autologging: a library's training calls log their params, training metrics, model (with
signature and input example) and plots, without the user writing a line.

- ``patching``: the wrapper (outermost call only, MLflow's rule for starting a run, errors
  become warnings), the list of patches and their undoing, the post-import hook
- ``estimators``: what an estimator with scikit-learn's API logs
- ``sklearn``: which scikit-learn methods are wrapped (data-preparation steps are not)
- ``boosting``: XGBoost and LightGBM, wrappers and native ``train``
- ``lightning``: PyTorch Lightning's ``Trainer.fit``
- ``plots``: confusion matrix and feature-importance figures

The SDK hands in a ``Sink`` (how to find, start and end runs and log to them), so this
package stays below the SDK in the layering.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import ModuleType

from gannet.tracking.autolog import boosting, lightning, patching, sklearn
from gannet.tracking.autolog.patching import AutologWarning, Sink

__all__ = ["INTEGRATIONS", "AutologWarning", "Sink", "disable", "enable", "is_enabled"]

# module whose import brings the training calls -> how to patch them
INTEGRATIONS: dict[str, Callable[[ModuleType], None]] = {
    "sklearn": sklearn.patch,
    "xgboost": boosting.patch_xgboost,
    "lightgbm": boosting.patch_lightgbm,
    "lightning.pytorch": lightning.patch,
    "pytorch_lightning": lightning.patch,
}

_lock = threading.Lock()
_enabled = False


def enable(sink: Sink) -> None:
    """Log the training calls of every supported library, now or once it is imported.
    Calling it again only changes where they log to."""
    global _enabled
    with _lock:
        patching.set_sink(sink)
        if not _enabled:
            _enabled = True
            patching.when_imported(INTEGRATIONS)


def disable() -> None:
    """Put back every original method and function, and stop watching imports."""
    global _enabled
    with _lock:
        patching.stop_watching()
        patching.unpatch_all()
        patching.set_sink(None)
        _enabled = False


def is_enabled() -> bool:
    return _enabled
