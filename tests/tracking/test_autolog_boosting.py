"""Autologging XGBoost, LightGBM (wrappers and native train) and PyTorch Lightning."""

import pytest

xgboost = pytest.importorskip("xgboost")
lightgbm = pytest.importorskip("lightgbm")

pytestmark = pytest.mark.filterwarnings(
    "ignore:The argument 'eval_set' is deprecated"  # LightGBM >= 4.7 prefers eval_X/eval_y
)


@pytest.fixture
def autolog(sdk):
    sdk.autolog()
    yield sdk
    sdk.autolog(disable=True)


@pytest.fixture
def data():
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(return_X_y=True, as_frame=True)


def _history(sdk, run_id, key):
    return [(m.step, m.value) for m in sdk.get_metric_history(run_id, key)]


def _artifacts(sdk, run_id):
    return {f.path for f in sdk.list_artifacts(run_id)}


def test_lgbm_classifier_in_a_run_logs_the_classifier_not_its_label_encoder(autolog, data):
    X, y = data
    autolog.set_experiment("lgbm")
    with autolog.start_run(log_environment=False) as run:
        lightgbm.LGBMClassifier(n_estimators=4, verbose=-1).fit(X, y, eval_set=[(X[::2], y[::2])])
    (found,) = autolog.search_runs()
    assert found.info.run_id == run.run_id
    params, metrics = found.data.params, found.data.metrics
    assert params["n_estimators"] == "4"
    assert found.data.tags["estimator_name"] == "LGBMClassifier"
    assert metrics["training_accuracy_score"] > 0.9
    history = _history(autolog, run.run_id, "valid_0-binary_logloss")
    assert [step for step, _ in history] == [0, 1, 2, 3]
    assert history[-1][1] < history[0][1]
    assert {"model", "feature_importance.png", "training_confusion_matrix.png"} <= _artifacts(
        autolog, run.run_id
    )
    assert found.data.tags["gannet.model.model"] == "lightgbm"


def test_xgb_classifier_outside_a_run_gets_one(autolog, data):
    X, y = data
    autolog.set_experiment("xgb")
    xgboost.XGBClassifier(n_estimators=3, max_depth=2).fit(X, y, eval_set=[(X, y)], verbose=False)
    (run,) = autolog.search_runs()
    assert run.info.run_name == "XGBClassifier"
    assert run.info.status == "FINISHED"
    assert run.data.tags["gannet.autolog"] == "xgboost"
    assert run.data.params["max_depth"] == "2"
    assert run.data.metrics["training_roc_auc"] > 0.9
    assert [s for s, _ in _history(autolog, run.info.run_id, "validation_0-logloss")] == [0, 1, 2]
    assert run.data.tags["gannet.model.model"] == "xgboost"


def test_native_xgboost_train(autolog, data):
    X, y = data
    autolog.set_experiment("xgb-native")
    dtrain = xgboost.DMatrix(X, label=y)
    booster = xgboost.train(
        {"objective": "binary:logistic", "eta": 0.3}, dtrain, 5, evals=[(dtrain, "train")],
        verbose_eval=False,
    )
    (run,) = autolog.search_runs()
    assert run.data.params == {"objective": "binary:logistic", "eta": "0.3", "num_boost_round": "5"}
    assert len(_history(autolog, run.info.run_id, "train-logloss")) == 5
    folder = autolog.download_artifacts(run.info.run_id, "model")
    loaded = autolog.models.load_model(folder)
    assert loaded.meta.signature.inputs.names == list(X.columns)
    expected = booster.predict(xgboost.DMatrix(X.head(3)))
    assert loaded.predict(X.head(3)) == pytest.approx(expected, rel=1e-5)
    assert "feature_importance.png" in _artifacts(autolog, run.info.run_id)


def test_native_lightgbm_train_keeps_the_users_callbacks(autolog, data):
    X, y = data
    autolog.set_experiment("lgb-native")
    mine: dict = {}
    train = lightgbm.Dataset(X, label=y)
    lightgbm.train(
        {"objective": "binary", "verbose": -1}, train, 3, valid_sets=[train],
        valid_names=["train"], callbacks=[lightgbm.record_evaluation(mine)],
    )
    assert len(mine["train"]["binary_logloss"]) == 3  # the user's callback still ran
    (run,) = autolog.search_runs()
    assert run.data.params["num_boost_round"] == "3"
    assert len(_history(autolog, run.info.run_id, "train-binary_logloss")) == 3
    folder = autolog.download_artifacts(run.info.run_id, "model")
    assert autolog.models.load_model(folder).meta.signature.inputs.names == list(X.columns)


def test_disable_restores_the_boosting_originals(sdk):
    originals = {
        "xgboost.train": xgboost.train,
        "lightgbm.train": lightgbm.train,
        "XGBClassifier.fit": vars(xgboost.XGBClassifier)["fit"],
        "LGBMClassifier.fit": vars(lightgbm.LGBMClassifier)["fit"],
    }
    regressor_fit_inherited = "fit" not in vars(xgboost.XGBRegressor)
    sdk.autolog()
    assert xgboost.train is not originals["xgboost.train"]
    sdk.autolog(disable=True)
    assert xgboost.train is originals["xgboost.train"]
    assert lightgbm.train is originals["lightgbm.train"]
    assert vars(xgboost.XGBClassifier)["fit"] is originals["XGBClassifier.fit"]
    assert vars(lightgbm.LGBMClassifier)["fit"] is originals["LGBMClassifier.fit"]
    assert ("fit" not in vars(xgboost.XGBRegressor)) == regressor_fit_inherited


@pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::UserWarning:lightning"
)
def test_lightning_trainer_fit(autolog):
    torch = pytest.importorskip("torch")
    lightning = pytest.importorskip("lightning.pytorch")
    from torch.utils.data import DataLoader, TensorDataset

    class Net(lightning.LightningModule):
        def __init__(self, lr=0.05):
            super().__init__()
            self.save_hyperparameters()
            self.lin = torch.nn.Linear(4, 1)

        def forward(self, x):
            return self.lin(x)

        def training_step(self, batch, _):
            x, y = batch
            loss = torch.nn.functional.mse_loss(self(x), y)
            self.log("train_loss", loss, on_epoch=True, on_step=False)
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    X = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
    y = X.sum(1, keepdim=True)
    autolog.set_experiment("lightning")
    trainer = lightning.Trainer(
        max_epochs=3, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False,
    )
    net = Net()
    trainer.fit(net, DataLoader(TensorDataset(X, y), batch_size=16))
    (run,) = autolog.search_runs()
    assert run.info.run_name == "Net"
    assert run.data.params["lr"] == "0.05"
    assert run.data.params["max_epochs"] == "3"
    assert run.data.params["optimizer_name"] == "SGD"
    losses = _history(autolog, run.info.run_id, "train_loss")
    assert [s for s, _ in losses] == [0, 1, 2]
    assert losses[-1][1] < losses[0][1]
    assert net.training  # logging the model did not leave it in eval mode
    folder = autolog.download_artifacts(run.info.run_id, "model")
    loaded = autolog.models.load_model(folder, trust=True)
    with torch.no_grad():
        expected = net(X[:4]).numpy()
    assert loaded.predict(X[:4].numpy()) == pytest.approx(expected, rel=1e-5)
