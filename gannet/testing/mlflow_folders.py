"""MLflow model folders written by hand, exactly as mlflow lays them out (mlflow itself is
not needed): for testing imports of MLflow models."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

IRIS_COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
COLUMNS = IRIS_COLUMNS


def write_mlflow_folder(
    folder: Path, model: Any, *, flavors: dict | None = None, signature: bool = True
) -> Path:
    """An MLflow sklearn model folder (MLmodel, model.pkl, env files) for an iris model."""
    import sklearn
    import yaml

    folder.mkdir()
    with open(folder / "model.pkl", "wb") as stream:
        pickle.dump(model, stream)
    inputs = [{"type": "double", "name": c, "required": True} for c in COLUMNS]
    outputs = [{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]
    mlmodel = {
        "artifact_path": "model",
        "flavors": flavors
        or {
            "python_function": {
                "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
                "loader_module": "mlflow.sklearn",
                "model_path": "model.pkl",
                "predict_fn": "predict",
                "python_version": "3.11.7",
            },
            "sklearn": {
                "code": None,
                "pickled_model": "model.pkl",
                "serialization_format": "cloudpickle",
                "sklearn_version": sklearn.__version__,
            },
        },
        "mlflow_version": "2.14.1",
        "model_uuid": "2b5a0c1e9d2f4d3c8f6b7a1e0c9d8b7a",
        "run_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "utc_time_created": "2024-06-01 12:00:00.000000",
    }
    if signature:
        mlmodel["signature"] = {
            "inputs": json.dumps(inputs),
            "outputs": json.dumps(outputs),
            "params": None,
        }
    (folder / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    (folder / "conda.yaml").write_text("name: mlflow-env\ndependencies:\n- python=3.11.7\n")
    (folder / "python_env.yaml").write_text("python: 3.11.7\nbuild_dependencies:\n- pip\n")
    (folder / "requirements.txt").write_text(
        f"mlflow==2.14.1\n# a comment\ncloudpickle==3.0.0\nscikit-learn=={sklearn.__version__}\n"
    )
    return folder


def mlflow_quietly() -> Any:
    """mlflow imported with its import-time warnings silenced (pytest makes warnings errors)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import mlflow
        import mlflow.pyfunc
        import mlflow.sklearn
    return mlflow


def save_with_mlflow(folder: Path, model: Any, example: Any = None, **options: Any) -> Path:
    """``mlflow.sklearn.save_model`` as MLflow 3 does by default (skops), with the pip
    requirements given so mlflow does not spend seconds inferring them."""
    import warnings

    mlflow = mlflow_quietly()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.sklearn.save_model(model, str(folder), input_example=example,
                                  pip_requirements=["scikit-learn", "skops"], **options)
    return folder


def save_python_model_with_mlflow(folder: Path, python_model: Any, example: Any = None) -> Path:
    """``mlflow.pyfunc.save_model`` of a ``PythonModel`` (cloudpickled, MLflow's default)."""
    import warnings

    mlflow = mlflow_quietly()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.pyfunc.save_model(str(folder), python_model=python_model, input_example=example,
                                 pip_requirements=["pandas"])
    return folder
