"""Training options of the better recipe: the models, schedule, losses, rebalancing, ageing and hints."""

import json

import keras
import numpy as np
import pytest

from colorpast import colorizer, hints, models, runs, train
from colorpast.config import TrainConfig
from colorpast.errors import UserError
from prepared_fixture import make_prepared

pytestmark = pytest.mark.slow

TINY = dict(batch_size=4, steps_per_epoch=3, epochs=2, lr=1e-3, val_batches=None)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    d = tmp_path_factory.mktemp("prep")
    make_prepared(d, {"train": 12, "val": 4}, size=64, per_shard=4)
    return d


def _weights(model):
    return [np.asarray(w) for w in model.get_weights()]


def test_cosine_schedule_warms_up_then_decays_to_zero():
    cfg = TrainConfig(lr=0.01, schedule="cosine", epochs=4, steps_per_epoch=50)
    lr = train.learning_rate(cfg)
    assert float(lr(0)) == 0.0
    assert float(lr(10)) == pytest.approx(0.01, rel=1e-5)  # 5 % of 200 steps
    assert float(lr(105)) == pytest.approx(0.005, rel=1e-2)  # half-way through the decay
    assert float(lr(200)) == pytest.approx(0.0, abs=1e-9)
    assert train.learning_rate(TrainConfig(lr=0.01)) == 0.01


def test_regression_losses_and_rebalancing_are_what_they_say(tmp_path):
    y = np.zeros((1, 8, 8, 2), np.float32)
    p = np.full((1, 8, 8, 2), 10.0 / 128, np.float32)  # 10 Lab units off everywhere
    assert float(models.loss("seed16", kind="mse")(y, p)) == pytest.approx((10 / 128) ** 2, rel=1e-4)
    assert float(models.loss("seed16", kind="l1")(y, p)) == pytest.approx(10 / 128, rel=1e-4)
    # Huber, quadratic within one Lab unit: 9.5 units of linear error beyond it.
    assert float(models.loss("seed16", kind="huber")(y, p)) == pytest.approx((10 - 0.5) / 128 / 128, rel=1e-3)
    assert float(models.loss("seed16_fast", kind="huber")(y, p)) == pytest.approx((10 - 0.5) / 128 / 128, rel=1e-3)
    with pytest.raises(UserError, match="classifies it into 313 bins"):
        models.loss("seed16_cls", kind="l1")
    prior = np.linspace(1, 2, 313)
    np.save(tmp_path / "prior.npy", prior)
    w_half = np.array(models.loss("seed16_cls", tmp_path / "prior.npy", rebalance=0.5).class_weights)
    w_none = np.array(models.loss("seed16_cls", tmp_path / "prior.npy", rebalance=1.0).class_weights)
    assert np.ptp(w_none) < 1e-5 and np.ptp(w_half) > 0.1  # lambda 1 weighs every class alike
    with pytest.raises(UserError, match="between 0 and 1"):
        models.loss("seed16_cls", tmp_path / "prior.npy", rebalance=1.5)


def test_a_bad_pair_of_options_fails_before_the_run_folder_exists(prepared, tmp_path):
    run = tmp_path / "run"
    with pytest.raises(UserError, match="classifies"):
        train.train(TrainConfig(data=str(prepared), model="seed16_cls", loss="l1", **TINY), run, verbose=False)
    with pytest.raises(UserError, match="share of the training crops"):
        train.train(TrainConfig(data=str(prepared), model="seed16", age=2.0, **TINY), run, verbose=False)
    assert not run.exists()


@pytest.mark.parametrize("model, extra", [
    ("seed16_bn", dict(loss="huber", schedule="cosine")),
    ("seed16_fast", dict(loss="l1", age=0.5)),
])
def test_the_new_models_and_options_train_and_colorize(prepared, tmp_path, model, extra):
    cfg = TrainConfig(data=str(prepared), model=model, size=64 if model == "seed16_fast" else 32, **TINY, **extra)
    res = train.train(cfg, tmp_path / "run", verbose=False)
    assert res.epochs_done == 2
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert all(saved[k] == v for k, v in extra.items())
    out = colorizer.colorize(np.full((70, 90, 3), 120, np.uint8), runs.load(tmp_path / "run"), size=64)
    assert out.shape == (70, 90, 3)


def test_hints_ageing_and_the_schedule_resume_exactly(prepared, small_hint_model, tmp_path, monkeypatch):
    """The hint patches, the print parameters and the learning rate are functions of the
    seed and step: a run stopped by Ctrl-C mid-epoch and resumed ends with the weights of
    one that never stopped (a small model taking hints: the train step is what is tested)."""
    cfg = TrainConfig(data=str(prepared), model=small_hint_model, size=32, age=0.5, schedule="cosine", seed=3,
                      deterministic=True, **TINY)
    whole = train.train(cfg, tmp_path / "whole", verbose=False)
    monkeypatch.setenv("COLORPAST_FAULT", "sigint-at-step:4")
    with pytest.raises(KeyboardInterrupt):
        train.train(cfg, tmp_path / "split", verbose=False, log=lambda m: None)
    monkeypatch.delenv("COLORPAST_FAULT")
    resumed = train.train(cfg, tmp_path / "split", verbose=False, log=lambda m: None)
    assert resumed.resumed_from == 4
    for a, b in zip(_weights(whole.model), _weights(resumed.model)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_hint_model_uses_its_hints(prepared, small_hint_model, tmp_path):
    """Trained with simulated hints, a model's colours follow the hints colorize gives it
    (seed16_hints' own answer to hints: tests/test_evaluate_colorize.py, through the CLI)."""
    keras.utils.set_random_seed(0)
    cfg = TrainConfig(data=str(prepared), model=small_hint_model, size=32, **TINY)
    model = train.train(cfg, tmp_path / "run", verbose=False).model
    photo = np.asarray(np.random.default_rng(1).integers(0, 255, (48, 64, 3)), np.uint8)
    auto = colorizer.colorize(photo, model, size=48)
    same = colorizer.colorize(photo, model, size=48, hints=[])
    given = colorizer.colorize(photo, model, size=48, hints=[{"x": 30, "y": 20, "color": "#00ff00"}])
    assert np.array_equal(auto, same) and not np.allclose(auto, given)
    with pytest.raises(UserError, match="takes no colour hints"):
        colorizer.colorize(photo, models.build("seed16"), size=48, hints=[{"x": 3, "y": 2, "color": "#00ff00"}])
    with pytest.raises(UserError, match="outside"):
        colorizer.colorize(photo, model, size=48, hints=[{"x": 64, "y": 2, "color": "#00ff00"}])
    maps = hints.reveal(photo, 5, (48, 64)).to_map((48, 64))[None]
    assert models.predict_ab(model, np.full((1, 48, 64, 1), 50, np.float32), hints=maps).shape == (1, 48, 64, 2)
