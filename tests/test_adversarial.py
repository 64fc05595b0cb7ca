"""train --adversarial: a critic of (L, colour) learns to tell, the model learns to fool it,
in the one train step and checkpoint of every run (colorpast.adversarial)."""

import numpy as np
import pytest
import tensorflow as tf

from colorpast import adversarial, runs, train
from colorpast.config import TrainConfig
from colorpast.errors import UserError
from colorpast.models import build
from colorpast.train_step import Colorizer
from prepared_fixture import make_prepared


def _critic_weights(trainer):
    return [np.array(v) for v in trainer.critic.weights]


def test_the_critic_learns_only_to_tell_and_the_model_only_to_fool():
    """Gradients of each term: the critic's loss reaches the critic and not the model's
    colour; the model's term reaches the model's colour and not the critic."""
    critic = adversarial.PatchCritic()
    critic.build((None, None, None, 3))
    rng = np.random.default_rng(0)
    L = tf.constant(rng.uniform(0, 100, (2, 32, 32, 1)), tf.float32)
    real = tf.constant(rng.uniform(-0.5, 0.5, (2, 8, 8, 2)), tf.float32)  # a target at a quarter of the side
    fake = tf.Variable(rng.uniform(-0.1, 0.1, (2, 8, 8, 2)).astype("float32"))
    with tf.GradientTape(persistent=True) as tape:
        critic_loss, fool_loss = adversarial.terms(critic, L, real, fake)
    own = [v.value for v in critic.trainable_variables]
    assert len(own) == 8
    assert tape.gradient(critic_loss, fake) is None
    assert all(float(tf.reduce_sum(tf.abs(g))) > 0 for g in tape.gradient(critic_loss, own))
    assert float(tf.reduce_sum(tf.abs(tape.gradient(fool_loss, fake)))) > 0
    assert all(g is None for g in tape.gradient(fool_loss, own))
    # The critic sees L pooled to the target's grid: 8 x 8 patches of 3 channels, then 2 x 2 logits.
    assert tuple(adversarial.condition(L, real).shape) == (2, 8, 8, 3) and tuple(critic(adversarial.condition(L, real)).shape) == (2, 2, 2, 1)


def test_only_models_that_regress_ab_take_it():
    with pytest.raises(UserError, match="--adversarial is for models that regress ab"):
        Colorizer(build("seed16_cls", (None, None, 1)), prior=None, adversarial=0.01)
    assert Colorizer(build("seed16_fast", (None, None, 1))).critic is None


def test_training_adds_the_weighted_terms_and_validation_scores_the_colour_alone():
    trainer = Colorizer(build("seed16_fast", (None, None, 1)), loss="l1", adversarial=0.5)
    rng = np.random.default_rng(1)
    batch = {"rgb": rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8),
             "transform": np.tile(np.array([1, 0, 0, 0, 1, 0, 0, 0], np.float32), (2, 1))}
    y_pred = trainer(batch)
    target = trainer.spec.target_from_ab(y_pred["ab"])
    colour = float(trainer.loss_fn(target, y_pred["output"]))
    critic_loss, fool_loss = adversarial.terms(trainer.critic, y_pred["L"], target, y_pred["output"])
    assert float(trainer.compute_loss(y_pred=y_pred, training=False)) == pytest.approx(colour)
    assert float(trainer.compute_loss(y_pred=y_pred, training=True)) == pytest.approx(
        colour + 0.5 * (float(critic_loss) + float(fool_loss)), rel=1e-5)
    assert float(critic_loss) > 1.0  # an untrained critic: about 2 log 2


@pytest.mark.slow
def test_a_run_with_a_critic_trains_it_resumes_it_and_scores_without_it(tmp_path):
    """seed16_fast (its target a quarter of the crop's side) with --adversarial 0.01:
    the critic's weights move, its checkpoint holds them and a longer run resumes from
    it with them, and the run loads for colorizing."""
    data = tmp_path / "prep"
    make_prepared(data, {"train": 8, "val": 4}, size=32, per_shard=4)
    run = tmp_path / "run"
    cfg = TrainConfig(data=str(data), model="seed16_fast", batch_size=4, steps_per_epoch=2, epochs=1,
                      loss="l1", adversarial=0.01, val_batches=None, augment=False)
    first = train.train(cfg, run, verbose=False)
    trainer = first.trainer
    assert trainer.critic is not None
    fresh = Colorizer(build("seed16_fast", (None, None, 1)), adversarial=0.01)
    assert any(np.abs(a - b).max() > 1e-6 for a, b in zip(_critic_weights(trainer), _critic_weights(fresh)))
    # The checkpoint holds the critic: loaded into a fresh trainer, its weights are the trained ones.
    fresh.load_weights(str(runs.list_checkpoints(run)[-1] / runs.WEIGHTS))
    assert all(np.array_equal(a, b) for a, b in zip(_critic_weights(trainer), _critic_weights(fresh)))
    lines = []
    second = train.train(cfg.with_(epochs=2), run, verbose=False, log=lines.append)
    assert second.resumed_from == 2 and second.epochs_done == 2
    model = runs.load(run, weights="last")
    assert model.name.startswith("seed16_fast")
    with pytest.raises(UserError, match="regress ab"):
        train.train(TrainConfig(data=str(data), model="seed16_cls", batch_size=4, steps_per_epoch=1, epochs=1,
                                adversarial=0.01, val_batches=None), tmp_path / "cls", verbose=False)
    assert not (tmp_path / "cls" / "config.json").exists()  # refused before the folder: the corrected command runs
