"""The demo's world: scikit-learn's breast cancer table (bundled, nothing downloaded) as a
screening service would see it, and the change the demo injects.

- `cases()`: 569 cases, ten measurements of a cell nucleus, the label `malignant`, and
  `biopsy` - the biopsy's result, in the archive for every case, unknown (0) when a
  screening request comes in.
- `split(...)`: the cases for training, held-out evaluation and live traffic (disjoint).
- `scanner_b(...)`: the same kind of cases measured by a new scanner that reads sizes and
  texture larger - the drift; a model trained on the old scanner's numbers calls many
  benign cases malignant - the label decay its feedback shows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MEASURES = ["radius", "texture", "perimeter", "area", "smoothness", "compactness",
            "concavity", "concave_points", "symmetry", "fractal_dimension"]
LABEL = "malignant"
SCANNER_B = {"radius": 1.25, "perimeter": 1.25, "area": 1.56, "texture": 1.2,
             "smoothness": 1.15}


def cases() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    frame = X[[f"mean {m.replace('_', ' ')}" for m in MEASURES]].set_axis(MEASURES, axis=1)
    malignant = (1 - y).astype("int64")  # scikit-learn's target is 1 for benign
    return frame.assign(biopsy=malignant, malignant=malignant)


def split(frame: pd.DataFrame, seed: int = 0) -> dict[str, pd.DataFrame]:
    order = np.random.default_rng(seed).permutation(len(frame))
    parts = {"train": order[:250], "holdout": order[250:370], "live": order[370:]}
    return {name: frame.iloc[rows].reset_index(drop=True) for name, rows in parts.items()}


def scanner_b(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The cases as the new scanner measures them (a few percent of noise on each)."""
    rng = np.random.default_rng(seed)
    changed = frame.copy()
    for column, factor in SCANNER_B.items():
        changed[column] = changed[column] * factor * rng.normal(1.0, 0.03, len(frame))
    return changed


def at_screening(frame: pd.DataFrame) -> pd.DataFrame:
    """What a screening request carries: the measurements, no biopsy result yet."""
    return frame.drop(columns=[LABEL]).assign(biopsy=0)
