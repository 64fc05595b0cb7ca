import numpy as np
import pytest
import skimage.color
import keras
from PIL import Image

from colorpast import color
from colorpast.data.sources import embedded_sample
from conftest import shared_folder

CORNERS = np.array([[(i >> 2) & 1, (i >> 1) & 1, i & 1] for i in range(8)], np.float64)


def _rgb_sets():
    rng = np.random.default_rng(1234)
    yield "random", rng.random((200_000, 3))
    yield "dark", rng.random((20_000, 3)) * 0.06  # the linear parts of both piecewise curves
    yield "corners", CORNERS
    yield "grays", np.repeat(np.linspace(0, 1, 256)[:, None], 3, axis=1)
    for p in embedded_sample():
        yield p.name, p.rgb / 255.0


@pytest.mark.parametrize("name,rgb", list(_rgb_sets()), ids=lambda v: v if isinstance(v, str) else "")
def test_rgb_to_lab_matches_skimage_and_round_trips(name, rgb):
    lab = color.rgb_to_lab(rgb.astype(np.float32))
    ref = skimage.color.rgb2lab(rgb)
    assert isinstance(lab, np.ndarray) and lab.dtype == np.float32 and lab.shape == rgb.shape
    err = np.abs(lab - ref).reshape(-1, 3).max(axis=0)
    assert (err <= 1e-3).all(), f"max |L|,|a|,|b| difference from skimage: {err}"
    back = color.lab_to_rgb(lab)
    assert np.abs(back - rgb).max() <= 1e-4


def test_real_photos_from_shared_data():
    files = sorted(shared_folder("imagenet1k-256").iterdir())[:12] + sorted(shared_folder("legacy-bw").iterdir())
    files = [f for f in files if f.suffix.lower() in (".jpg", ".jpeg", ".png")]
    assert files
    for f in files:
        rgb = np.asarray(Image.open(f).convert("RGB"), np.float64) / 255.0
        lab = color.rgb_to_lab(rgb.astype(np.float32))
        assert np.abs(lab - skimage.color.rgb2lab(rgb)).max() <= 1e-3, f.name
        assert np.abs(color.lab_to_rgb(lab) - rgb).max() <= 1e-4, f.name


def test_corners_have_known_lab_values():
    lab = color.rgb_to_lab(CORNERS.astype(np.float32))
    np.testing.assert_allclose(lab[0], [0, 0, 0], atol=1e-4)  # black
    # White: skimage's 6-digit sRGB matrix puts D65 white at a = -0.0024, b = 0.0047.
    np.testing.assert_allclose(lab[7], [100, 0, 0], atol=1e-2)
    np.testing.assert_allclose(lab[4], skimage.color.rgb2lab(CORNERS)[4], atol=1e-3)  # red


def test_uint8_input_is_scaled():
    rgb = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    np.testing.assert_allclose(color.rgb_to_lab(rgb), skimage.color.rgb2lab(rgb), atol=1e-3)


def test_out_of_gamut_lab_is_clipped_like_skimage():
    rng = np.random.default_rng(7)
    lab = np.stack([rng.uniform(0, 100, 50_000), rng.uniform(-128, 128, 50_000), rng.uniform(-128, 128, 50_000)], -1)
    rgb = color.lab_to_rgb(lab)
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0
    with pytest.warns(UserWarning):  # skimage warns about the negative Z values it clips
        ref = skimage.color.lab2rgb(lab)
    assert np.abs(rgb - ref).max() <= 1e-4


@pytest.mark.tensorflow
def test_tensor_in_tensor_out_batched_and_in_tf_data():
    import tensorflow as tf

    rng = np.random.default_rng(3)
    batch = rng.random((2, 8, 6, 3)).astype(np.float32)
    out = color.rgb_to_lab(tf.constant(batch))
    assert tf.is_tensor(out) and out.shape == (2, 8, 6, 3)
    ds = tf.data.Dataset.from_tensor_slices(batch).batch(2).map(color.rgb_to_lab)
    (got,) = list(ds.as_numpy_iterator())
    np.testing.assert_allclose(got, skimage.color.rgb2lab(batch.astype(np.float64)), atol=1e-3)
    back = tf.function(color.lab_to_rgb)(tf.constant(got))
    np.testing.assert_allclose(back.numpy(), batch, atol=1e-4)


def _grad_of_sum(fn, x: np.ndarray) -> np.ndarray:
    """d sum(fn(x)) / dx on the active Keras backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        t = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(t)
            y = tf.reduce_sum(fn(t))
        return tape.gradient(y, t).numpy()
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        return np.asarray(jax.grad(lambda t: jnp.sum(fn(t)))(jnp.asarray(x)))
    import torch

    t = torch.tensor(x, requires_grad=True)
    fn(t).sum().backward()
    return t.grad.numpy()


def test_backend_tensor_in_tensor_out():
    x = keras.ops.convert_to_tensor(np.random.default_rng(3).random((2, 8, 6, 3)).astype(np.float32))
    out = color.rgb_to_lab(x)
    assert keras.ops.is_tensor(out) and tuple(out.shape) == (2, 8, 6, 3)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(color.lab_to_rgb(out)), keras.ops.convert_to_numpy(x), atol=1e-4)


def test_inside_a_keras_model_and_differentiable():
    inp = keras.Input((4, 4, 3))
    model = keras.Model(inp, keras.layers.Lambda(color.rgb_to_lab)(inp))
    x = np.random.default_rng(5).random((1, 4, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), skimage.color.rgb2lab(x.astype(np.float64)), atol=1e-3)
    # Gradients must be finite everywhere, including black and the curves' break points.
    edge = np.array([[0.0, 0.04045, 1.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], np.float32)
    grad = _grad_of_sum(lambda t: color.lab_to_rgb(color.rgb_to_lab(t)), edge)
    assert grad.shape == edge.shape and np.isfinite(grad).all()


def test_wrong_channel_count_is_a_clear_error():
    with pytest.raises(ValueError, match="3 channels"):
        color.rgb_to_lab(np.zeros((4, 4, 2), np.float32))
