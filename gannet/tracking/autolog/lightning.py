"""PyTorch Lightning: ``Trainer.fit`` logs the trainer's settings, the module's
hyperparameters and optimizer, every epoch's metrics (``callback_metrics``, step = epoch)
and the module as a model (exported with ``torch.export``, whose example input is the
module's ``example_input_array`` or else the first batch of the training data).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from gannet.tracking.autolog.estimators import EXAMPLE_ROWS, flatten
from gannet.tracking.autolog.patching import Call, RunLogger, patch_all

FLAVOR = "pytorch"
TRAINER_SETTINGS = (
    "max_epochs", "min_epochs", "max_steps", "accumulate_grad_batches", "gradient_clip_val",
    "precision", "check_val_every_n_epoch",
)


def patch(module: ModuleType) -> None:
    trainer = module.Trainer
    patch_all([(trainer, "fit", trainer.fit)], _prepare(module))


def _prepare(module: ModuleType) -> Any:
    class EpochMetrics(module.Callback):  # type: ignore[name-defined]
        """Keeps ``callback_metrics`` at the end of every training epoch."""

        def __init__(self) -> None:
            self.history: dict[str, list[float]] = {}

        def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            for key, value in trainer.callback_metrics.items():
                self.history.setdefault(key, []).append(float(value))

    def prepare(args: tuple, kwargs: dict[str, Any]) -> Call:
        trainer = args[0]
        model = args[1] if len(args) > 1 else kwargs.get("model")
        recorder = EpochMetrics()
        trainer.callbacks.append(recorder)

        def after(logger: RunLogger, _: Any) -> None:
            trainer.callbacks.remove(recorder)
            _log_fit(logger, trainer, model, recorder.history)

        return Call(args, kwargs, FLAVOR, type(model).__name__, True, after)

    return prepare


def _log_fit(
    logger: RunLogger, trainer: Any, model: Any, history: dict[str, list[float]]
) -> None:
    settings = {name: getattr(trainer, name, None) for name in TRAINER_SETTINGS}
    logger.params.update(flatten({k: v for k, v in settings.items() if v is not None}))
    logger.params.update(flatten(dict(getattr(model, "hparams", {}) or {})))
    logger.attempt("the optimizer", lambda: logger.params.update(_optimizer(trainer)))
    logger.tags["estimator_name"] = type(model).__name__
    if history:
        logger.attempt("epoch metrics", lambda: logger.sink.log_history(logger.run_id, history))
    logger.attempt("the model", lambda: _log_module(logger, trainer, model))


def _optimizer(trainer: Any) -> dict[str, str]:
    if not trainer.optimizers:
        return {}
    optimizer = trainer.optimizers[0]
    found = {"optimizer_name": type(optimizer).__name__}
    groups = getattr(optimizer, "param_groups", None) or [{}]
    if "lr" in groups[0]:
        found["learning_rate"] = str(groups[0]["lr"])
    return found


def _log_module(logger: RunLogger, trainer: Any, model: Any) -> None:
    example = _example(trainer, model)
    training = model.training
    try:
        logger.sink.log_model(logger.run_id, model, example)
    finally:
        model.train(training)  # exporting put it in eval mode: give it back as it was


def _example(trainer: Any, model: Any) -> Any:
    """A few rows of what the module takes, as a numpy array."""
    example = getattr(model, "example_input_array", None)
    if example is None:
        loader = trainer.train_dataloader
        batch = next(iter(loader)) if loader is not None else None
        example = batch[0] if isinstance(batch, (list, tuple)) else batch
    if example is None:
        return None
    if hasattr(example, "detach"):
        example = example.detach().cpu().numpy()
    return example[:EXAMPLE_ROWS]
