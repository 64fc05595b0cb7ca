"""seed16_cls: seed16's backbone, Colorful's head, loss and decoding (by import, not copies)."""

import keras
import numpy as np
import pytest

from colorpast import models
from colorpast.models import bins, colorful, seed16_cls


def test_same_backbone_as_seed16_with_a_313_bin_head():
    cls, seed = models.build("seed16_cls", (64, 48, 1)), models.build("seed16", (64, 48, 1))
    convs = [layer for layer in cls.layers if isinstance(layer, keras.layers.Conv2D)]
    seed_convs = [layer for layer in seed.layers if isinstance(layer, keras.layers.Conv2D)]
    # The 11 backbone convolutions are seed16's, layer for layer; only the head differs.
    assert [(c.name, c.filters, c.strides) for c in convs[:-1]] == [(c.name, c.filters, c.strides) for c in seed_convs[:-1]]
    assert convs[-1].filters == bins.Q and convs[-1].kernel_size == (1, 1)
    assert cls.output_shape == (None, 32, 24, bins.Q)
    # seed16's 3,892,194 less its 2-filter 3x3 tanh head (578), plus a 1x1 conv 32 -> 313.
    assert cls.count_params() == 3_892_194 - (9 * 32 * 2 + 2) + (32 * bins.Q + bins.Q)
    assert seed.count_params() == 3_892_194  # seed16 itself is untouched


def test_trains_with_colorfuls_loss_and_decodes_with_its_annealed_mean(tmp_path):
    prior = np.random.default_rng(0).uniform(0.1, 1.0, bins.Q)
    np.save(tmp_path / "prior.npy", prior)
    loss = models.loss("seed16_cls", tmp_path / "prior.npy")
    assert type(loss) is colorful.ColorfulLoss  # the same loss class, rebalanced from the prior
    np.testing.assert_allclose(loss.class_weights, bins.rebalance_weights(prior), rtol=1e-6)
    with pytest.raises(Exception, match="colorpast prior"):
        models.loss("seed16_cls", tmp_path / "missing.npy")

    keras.utils.set_random_seed(0)
    m = models.build("seed16_cls")
    m.compile(keras.optimizers.Adam(1e-3), loss=loss)
    rng = np.random.default_rng(1)
    L = rng.uniform(0, 100, (4, 32, 32, 1)).astype(np.float32)
    ab = rng.uniform(-60, 60, (4, 32, 32, 2)).astype(np.float32)
    target = models.spec("seed16_cls").target_from_ab(ab)
    assert tuple(target.shape) == (4, 16, 16, 2)
    np.testing.assert_allclose(np.asarray(target)[0, 0, 0], ab[0, :2, :2].mean(axis=(0, 1)), rtol=1e-5)
    losses = [m.train_on_batch(L, target) for _ in range(3)]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]

    logits = m.predict(L, verbose=0)
    out = models.predict_ab(m, L)
    assert out.shape == (4, 32, 32, 2)
    # Decoding is colorful's annealed mean (T = 0.38 by default) at half resolution,
    # upsampled x2: a 1 x 1 cell becomes a 2 x 2 block of its annealed mean.
    cell = np.asarray(bins.annealed_mean(logits[:, :1, :1], colorful.DEFAULT_TEMPERATURE))
    np.testing.assert_allclose(seed16_cls.seed16_cls_to_ab(logits[:, :1, :1]), np.repeat(np.repeat(cell, 2, 1), 2, 2), atol=1e-4)
    t1 = models.predict_ab(m, L, temperature=1.0)
    assert not np.allclose(t1, out, atol=1e-3)  # the temperature is passed through to the decoding
