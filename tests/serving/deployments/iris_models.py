"""A small real model in the registry for serving tests: iris, logged once, registered N times."""

from types import ModuleType


def register_iris(sdk: ModuleType, name: str = "iris", versions: int = 2) -> str:
    """Log a LogisticRegression on iris in a run and register it ``versions`` times (1..N)."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    with sdk.start_run(log_environment=False) as run:
        sdk.log_model(model, "model", input_example=X.head(3))
    for _ in range(versions):
        sdk.register_model(run.info.run_id, name)
    return run.info.run_id
