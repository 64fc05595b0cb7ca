import keras
import numpy as np
import pytest

from colorpast import models


def test_seed16_structure_is_exactly_the_seed_paper():
    m = models.build("seed16", input_shape=(224, 224, 1))
    assert m.count_params() == 3_892_194
    assert len(m.layers) == 16  # counting the input layer
    kinds = [type(layer).__name__ for layer in m.layers]
    assert kinds[0] == "InputLayer"
    assert kinds.count("Conv2D") == 12 and kinds.count("UpSampling2D") == 3
    convs = [layer for layer in m.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [64, 64, 128, 128, 256, 256, 512, 256, 128, 64, 32, 2]
    assert [c.strides for c in convs] == [(1, 1), (2, 2), (1, 1), (2, 2), (1, 1), (2, 2)] + [(1, 1)] * 6
    assert all(c.kernel_size == (3, 3) and c.padding == "same" for c in convs)
    assert [c.activation.__name__ for c in convs] == ["relu"] * 11 + ["tanh"]
    # Layer order: the first upsampling follows the 128-filter conv, the second the 64,
    # the last one comes after the 2-filter tanh head.
    order = ["I"] + ["C" if k == "Conv2D" else "U" for k in kinds[1:]]
    assert "".join(order) == "I" + "C" * 9 + "UCUCCU"
    assert all(layer.size == (2, 2) for layer in m.layers if isinstance(layer, keras.layers.UpSampling2D))
    assert m.output_shape == (None, 224, 224, 2)


def test_seed16_any_size_divisible_by_8_and_output_range():
    m = models.build("seed16")  # (None, None, 1)
    x = np.random.default_rng(0).uniform(0, 100, (2, 40, 64, 1)).astype(np.float32)
    y = m.predict(x, verbose=0)
    assert y.shape == (2, 40, 64, 2)
    assert np.abs(y).max() <= 1.0
    ab = models.predict_ab(m, x)
    np.testing.assert_allclose(ab, y * 128.0, rtol=1e-6, atol=1e-5)
    assert models.spec("seed16").target_from_ab(ab).max() <= 1.0


@pytest.mark.parametrize("shape", [(100, 64, 1), (64, 36, 1)])
def test_seed16_rejects_sizes_not_divisible_by_8(shape):
    with pytest.raises(ValueError, match="divisible by 8"):
        models.build("seed16", input_shape=shape)


def test_seed16_takes_one_channel_and_unknown_names_are_listed():
    with pytest.raises(ValueError, match=r"\(H, W, 1\)"):
        models.build("seed16", input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="seed16"):
        models.build("nope")


@pytest.mark.parametrize(
    "name, kwargs", [("seed16", {}), ("seed16_cls", {}), ("colorful", {}), ("koalarization", {"weights": None}),
                     ("effunet", {"weights": None})]
)
def test_mixed_precision_computes_the_body_reduced_and_the_output_in_float32(name, kwargs):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        m = models.build(name, (None, None, 1), **kwargs)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert m.layers[2].compute_dtype == "bfloat16"
    assert m.output.dtype == "float32"
    assert all(v.dtype == "float32" for v in m.trainable_variables)  # master weights


def test_hint_spread_on_a_map_smaller_than_its_kernels():
    """A 16 x 16 photo pools to 2 x 2 at the widest scale, under a 25-tap Gaussian (on
    TensorFlow 2.16 a "same" depthwise convolution that wide segfaulted). A lone hint:
    at its own pixel the finest scale holds its ab with confidence 1/2."""
    from colorpast.models.seed16_hints import SCALES, HintSpread

    h = np.zeros((1, 16, 16, 3), np.float32)
    h[0, 8, 8] = [55.0, -22.0, 1.0]
    out = keras.ops.convert_to_numpy(HintSpread()(h))
    assert out.shape == (1, 16, 16, 3 * len(SCALES)) and np.isfinite(out).all()
    np.testing.assert_allclose(out[0, 8, 8, :3], [55 * 0.5 / 110, -22 * 0.5 / 110, 0.5], atol=1e-5)
    assert (out[0, 0, 0, 2::3] < out[0, 8, 8, 2::3]).all()  # confidence falls away from the hint
