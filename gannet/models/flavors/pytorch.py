"""PyTorch modules, saved so that loading needs no Python class of the user's.

A ``torch.nn.Module`` is exported with ``torch.export`` (``model.pt2``: the graph and the
weights, the batch dimension left free), which needs an example input: pass
``input_example=`` to ``save_model`` / ``log_model``. A ``torch.export.ExportedProgram`` is
saved as it is; a TorchScript module (``torch.jit.ScriptModule``, deprecated by PyTorch)
is still saved and loaded as TorchScript (``model.pt``).

PyTorch stays optional: nothing here imports torch unless a model's class comes from it.
Predictions run on the CPU under ``torch.no_grad()`` and come back as numpy arrays.

Loading runs code from the package (``runs_code``): ``torch.export.load`` unpickles with
``weights_only=False`` what it cannot read with ``weights_only=True``, and TorchScript is a
program. So a PyTorch package loads only when its signature verifies or it is trusted.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.core.errors import InvalidArgument
from gannet.models.flavors import defined_in, versions

if TYPE_CHECKING:
    from gannet.models.manifest import ModelMeta
    from gannet.models.signature import Signature

EXPORTED_FILE = "model.pt2"
SCRIPTED_FILE = "model.pt"


class PyTorchFlavor:
    name = "pytorch"
    loader = "gannet.models.flavors.pytorch:load"
    priority = 10

    def matches(self, model: Any) -> bool:
        if not defined_in(model, "torch"):
            return False
        import torch

        return isinstance(model, torch.nn.Module | torch.export.ExportedProgram)

    def save(
        self, model: Any, folder: Path, *, example: Any = None
    ) -> tuple[str, list[str], dict[str, Any]]:
        import torch

        if isinstance(model, torch.jit.ScriptModule):
            torch.jit.save(model, str(folder / SCRIPTED_FILE))
            return "torchscript", [SCRIPTED_FILE], {"module": type(model).__qualname__}
        program = model if isinstance(model, torch.export.ExportedProgram) else (
            _export(model, example))
        torch.export.save(program, str(folder / EXPORTED_FILE))
        return "torch-export", [EXPORTED_FILE], {"module": type(model).__qualname__}

    def runs_code(self, meta: ModelMeta) -> str:
        if meta.serialization == "torchscript":
            return "it is a TorchScript program"
        return "torch.export.load unpickles what it cannot read safely (weights_only=False)"

    def load(self, folder: Path, meta: ModelMeta) -> Any:
        import torch

        if meta.serialization == "torchscript":
            return torch.jit.load(str(Path(folder) / SCRIPTED_FILE), map_location="cpu").eval()
        return torch.export.load(str(Path(folder) / EXPORTED_FILE)).module()

    def predict(self, raw: Any, data: Any) -> Any:
        import torch

        with torch.no_grad():
            return raw(_tensor(data)).numpy()

    def predict_proba(self, raw: Any, data: Any) -> Any:
        raise InvalidArgument("the pytorch flavor has no predict_proba: apply softmax yourself")

    def has_predict_proba(self, raw: Any) -> bool:
        return False

    def signature(self, model: Any) -> Signature | None:
        return None

    def libraries(self) -> dict[str, str]:
        return versions("torch", "numpy")

    def requirements(self) -> list[str]:
        return [f"torch>={v.split('+')[0]}" for v in versions("torch").values()]


def _export(module: Any, example: Any) -> Any:
    """The module's graph for inputs shaped like ``example``, any number of rows."""
    import torch

    if example is None:
        raise InvalidArgument(
            f"a torch {type(module).__name__} is saved with torch.export, which needs an "
            "example input",
            hint="pass input_example= (a few rows of what the model takes) to log_model",
        )
    try:
        return torch.export.export(
            module.eval(), (_tensor(example),), dynamic_shapes=({0: torch.export.Dim.AUTO},)
        )
    except Exception as exc:
        raise InvalidArgument(
            f"torch.export cannot export this {type(module).__name__}: "
            f"{type(exc).__name__}: {exc}",
            hint="export it yourself (torch.export.export(model, args)) and save the program",
        ) from exc


def _tensor(data: Any) -> Any:
    import numpy as np
    import torch

    array = data.to_numpy() if hasattr(data, "to_numpy") else np.asarray(data)
    if array.dtype == np.float64:
        array = array.astype(np.float32)  # torch's default dtype
    return torch.from_numpy(np.ascontiguousarray(array))


FLAVOR = PyTorchFlavor()
load = FLAVOR.load
