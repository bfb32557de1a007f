"""PyTorch modules, saved as TorchScript (``model.pt``) so loading needs no Python class.

PyTorch stays optional: nothing here imports torch unless a model's class comes from it.
A module that ``torch.jit.script`` cannot compile can be traced by the caller first
(``torch.jit.trace(model, example)``) and saved as the resulting ScriptModule.
Predictions run on the CPU under ``torch.no_grad()`` and come back as numpy arrays.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.core.errors import InvalidArgument
from gannet.models.flavors import defined_in, versions

if TYPE_CHECKING:
    from gannet.models.manifest import ModelMeta
    from gannet.models.signature import Signature

MODEL_FILE = "model.pt"


class PyTorchFlavor:
    name = "pytorch"
    loader = "gannet.models.flavors.pytorch:load"
    priority = 10

    def matches(self, model: Any) -> bool:
        if not defined_in(model, "torch"):
            return False
        import torch

        return isinstance(model, torch.nn.Module)

    def save(self, model: Any, folder: Path) -> tuple[str, list[str], dict]:
        import torch

        scripted = model
        if not isinstance(model, torch.jit.ScriptModule):
            try:
                scripted = torch.jit.script(model.eval())
            except Exception as exc:
                raise InvalidArgument(
                    f"torch.jit.script cannot compile this {type(model).__name__}: {exc}",
                    hint="trace it yourself (torch.jit.trace(model, example)) and save that",
                ) from exc
        torch.jit.save(scripted, str(folder / MODEL_FILE))
        return "torchscript", [MODEL_FILE], {"module": type(model).__qualname__}

    def load(self, folder: Path, meta: ModelMeta) -> Any:
        import torch

        return torch.jit.load(str(Path(folder) / MODEL_FILE), map_location="cpu").eval()

    def predict(self, raw: Any, data: Any) -> Any:
        import numpy as np
        import torch

        array = data.to_numpy() if hasattr(data, "to_numpy") else np.asarray(data)
        if array.dtype == np.float64:
            array = array.astype(np.float32)  # torch's default dtype
        with torch.no_grad():
            return raw(torch.from_numpy(array)).numpy()

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


FLAVOR = PyTorchFlavor()
load = FLAVOR.load
