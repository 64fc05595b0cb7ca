import numpy as np

from colorpast import color, metrics, models
from colorpast.colorizer import colorize, gray, working_size
from colorpast.data.sources import embedded_sample


def test_colorize_keeps_size_and_full_resolution_L():
    import keras

    rgb = embedded_sample(["coffee"])[0].rgb[:301, :457]  # odd size, not a multiple of 8
    keras.utils.set_random_seed(0)
    model = models.build("seed16")
    # Shrink the untrained head so its ab stays small and in gamut: then the output's L
    # must be the input's L exactly (up to float error), pixel for pixel.
    head = model.get_layer("ab")
    head.set_weights([w * 0.01 for w in head.get_weights()])
    out = colorize(rgb, model, size=64)
    assert out.shape == rgb.shape and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    L_in = color.rgb_to_lab(rgb)[..., 0]
    L_out = color.rgb_to_lab(out)[..., 0]
    assert np.abs(color.rgb_to_lab(out)[..., 1:]).max() > 0.01  # it did add colour
    assert np.percentile(np.abs(L_in - L_out), 99) < 0.05


def test_colorize_accepts_gray_2d_and_sepia():
    model = models.build("seed16")
    g = (np.linspace(0, 255, 50 * 70).reshape(50, 70)).astype(np.uint8)
    assert colorize(g, model, size=32).shape == (50, 70, 3)
    sepia = np.stack([g, (g * 0.8).astype(np.uint8), (g * 0.6).astype(np.uint8)], -1)
    a = colorize(sepia, model, size=32)
    b = colorize(gray(sepia), model, size=32)  # a neutral gray with the same L
    assert a.shape == sepia.shape and np.abs(a - b).max() < 1e-3  # only L matters


def test_gray_baseline_has_no_colour():
    rgb = embedded_sample(["astronaut"])[0].rgb
    lab = color.rgb_to_lab(gray(rgb))
    assert np.abs(lab[..., 1:]).max() < 0.05
    assert metrics.colorfulness(gray(rgb)) < 0.1


def test_working_size_rule():
    assert working_size(480, 640, 224, 8) == (224, 296)
    h, w = working_size(1000, 37, 64, 8)
    assert h % 8 == 0 and w % 8 == 0 and w >= 8
