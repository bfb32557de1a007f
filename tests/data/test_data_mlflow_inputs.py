"""The real mlflow client's ``log_input`` through ``gannet server``: a dataset named as a
Gannet dataset version is linked in the lineage graph; MLflow's own datasets stay tags."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from gannet.cli.app import app
from gannet.testing.mlflow_folders import mlflow_quietly
from gannet.testing.server import running_server

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning",
                                        "ignore::DeprecationWarning")


@pytest.mark.slow
def test_mlflow_log_input_of_a_gannet_version_is_lineage(services, settings, monkeypatch):
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    services.data.add_table(frame, "churn")
    with running_server(services) as url:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
        monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        mlflow = mlflow_quietly()
        mlflow.set_tracking_uri(url)
        try:
            with mlflow.start_run() as run:
                mlflow.log_input(mlflow.data.from_pandas(frame, name="churn@1"),
                                 context="training")
                mlflow.log_input(mlflow.data.from_pandas(frame * 2, name="not-gannet"),
                                 context="eval")
        finally:
            mlflow.set_tracking_uri(None)
    stores = ["--home", str(settings.home), "--metadata-url", settings.metadata_url,
              "--artifacts-url", settings.artifacts_url]
    result = CliRunner().invoke(app, [*stores, "lineage", "churn@1", "--json"])
    assert result.exit_code == 0, result.output
    usage = json.loads(result.stdout)
    assert [(r["run_id"], r["context"]) for r in usage["runs"]] == [
        (run.info.run_id, "training")]
    tags = services.tracking.get_run(run.info.run_id).data.tags
    assert sum(key.startswith("mlflow.dataset.") for key in tags) == 2
