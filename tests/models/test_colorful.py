"""Colorful: structure, decoding, loss and a few real training steps."""

import keras
import numpy as np
import pytest
from keras import ops

from colorpast import models
from colorpast.models import bins, colorful


def test_structure_is_the_eccv16_network():
    m = models.build("colorful", input_shape=(64, 64, 1))
    convs = [layer for layer in m.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
    assert [c.filters for c in convs] == [64] * 2 + [128] * 2 + [256] * 3 + [512] * 12 + [256] * 3 + [313]
    assert [c.dilation_rate[0] for c in convs] == [1] * 10 + [2] * 6 + [1] * 7
    strided = [c.name for c in convs if c.strides == (2, 2)]
    assert strided == ["conv1_2", "conv2_2", "conv3_3", "conv8_1"]
    assert isinstance(m.get_layer("conv8_1"), keras.layers.Conv2DTranspose) and m.get_layer("conv8_1").kernel_size == (4, 4)
    bns = [layer for layer in m.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert [b.name for b in bns] == [f"conv{i}_bn" for i in range(1, 8)] and all(b.epsilon == 1e-5 for b in bns)
    assert m.output_shape == (None, 16, 16, 313)
    assert m.get_layer("conv8_313").kernel_size == (1, 1)
    with pytest.raises(ValueError, match="divisible by 8"):
        models.build("colorful", input_shape=(60, 64, 1))


def test_to_ab_decodes_at_the_input_resolution_with_a_temperature():
    logits = np.random.default_rng(0).normal(0, 2, (2, 5, 3, 313)).astype(np.float32)
    ab = colorful.colorful_to_ab(logits)
    assert ab.shape == (2, 20, 12, 2)
    cold = colorful.colorful_to_ab(logits, temperature=1e-3)
    warm = colorful.colorful_to_ab(logits, temperature=1.0)
    mode = bins.ab_bins()[logits.argmax(-1)]
    # Each 4x4 block's centre pixels (offsets 1..2) interpolate neighbours; the corner
    # pixel of the image equals its cell exactly.
    np.testing.assert_allclose(cold[:, 0, 0], mode[:, 0, 0], atol=1e-2)
    # Lower temperature means more saturated colour on average (the paper's motivation).
    assert np.abs(cold).mean() > np.abs(ab).mean() > np.abs(warm).mean()


def test_target_is_the_mean_ab_of_each_4x4_cell():
    ab = np.random.default_rng(0).uniform(-80, 80, (1, 8, 12, 2)).astype(np.float32)
    t = ops.convert_to_numpy(colorful.target_from_ab(ab))
    assert t.shape == (1, 2, 3, 2)
    np.testing.assert_allclose(t[0, 1, 2], ab[0, 4:8, 8:12].mean((0, 1)), rtol=1e-5)


def test_loss_is_rebalanced_soft_cross_entropy(tmp_path):
    rng = np.random.default_rng(0)
    ab = rng.uniform(-60, 60, (2, 3, 3, 2)).astype(np.float32)
    logits = rng.normal(0, 1, (2, 3, 3, 313)).astype(np.float32)
    prior = rng.uniform(0, 1, 313) ** 4
    np.save(tmp_path / "prior.npy", prior)
    loss = models.loss("colorful", tmp_path / "prior.npy")
    z = ops.convert_to_numpy(bins.soft_encode(ab))
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    w = bins.rebalance_weights(prior)[z.argmax(-1)]
    want = (-(z * logp).sum(-1) * w).mean()
    np.testing.assert_allclose(float(loss(ab, logits)), want, rtol=1e-4)
    plain = models.loss("colorful", None)
    np.testing.assert_allclose(float(plain(ab, logits)), (-(z * logp).sum(-1)).mean(), rtol=1e-4)
    # Perfect logits (log of the soft target) beat random ones.
    assert float(plain(ab, np.log(z + 1e-12))) < float(plain(ab, logits))
    assert isinstance(models.loss("seed16"), keras.losses.MeanSquaredError)


def test_a_few_training_steps_lower_the_loss_and_the_model_reloads(tmp_path):
    """What the training harness does: compile with the spec's loss, fit (L, target), save, load."""
    from colorpast import color

    keras.utils.set_random_seed(0)
    spec = models.spec("colorful")
    rng = np.random.default_rng(0)
    rgb = np.repeat(np.repeat(rng.uniform(0, 1, (2, 4, 4, 3)), 8, 1), 8, 2).astype(np.float32)  # 32x32 blocks
    lab = color.rgb_to_lab(rgb)
    L, target = lab[..., :1], ops.convert_to_numpy(spec.target_from_ab(lab[..., 1:]))
    np.save(tmp_path / "prior.npy", np.full(313, 1 / 313))
    m = models.build("colorful")
    m.compile(keras.optimizers.Adam(1e-4), loss=spec.make_loss(tmp_path / "prior.npy"))
    hist = m.fit(L, target, epochs=6, batch_size=2, verbose=0).history["loss"]
    assert np.all(np.isfinite(hist)) and hist[-1] < hist[0]
    m.save(tmp_path / "model.keras")
    again = keras.models.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(models.predict_ab(again, L), models.predict_ab(m, L), atol=1e-4)
