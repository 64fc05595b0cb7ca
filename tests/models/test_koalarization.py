import keras
import numpy as np
import pytest

from colorpast import models


@pytest.fixture(scope="module")
def koala():
    return models.build("koalarization", weights=None)  # tests never download ImageNet weights


def test_any_size_divisible_by_8_gives_ab_at_the_input_size(koala):
    L = np.random.default_rng(0).uniform(0, 100, (1, 64, 40, 1)).astype(np.float32)
    y = koala.predict(L, verbose=0)
    assert y.shape == (1, 64, 40, 2) and np.abs(y).max() <= 1.0
    np.testing.assert_allclose(models.predict_ab(koala, L), y * 110.0, rtol=1e-5, atol=1e-4)
    with pytest.raises(ValueError, match="divisible by 8"):
        models.build("koalarization", input_shape=(60, 64, 1), weights=None)


def test_fusion_of_the_frozen_inception_embedding(koala):
    inception = koala.get_layer("inception_resnet_v2")
    assert not inception.trainable and inception.output_shape == (None, 1000)
    assert inception.input_shape == (None, 299, 299, 3)
    assert koala.get_layer("resize_299").output.shape[1:] == (299, 299, 3)
    # 1x1 fusion over the 256 encoder channels and the 1000-d embedding.
    assert koala.get_layer("fusion").kernel.shape == (1, 1, 1256, 256)
    enc = [koala.get_layer(f"enc{i}") for i in range(1, 9)]
    assert [c.filters for c in enc] == [64, 128, 128, 256, 256, 512, 512, 256]
    assert [c.strides[0] for c in enc] == [2, 1, 2, 1, 2, 1, 1, 1]
    assert koala.get_layer("ab").activation is keras.activations.tanh


def test_the_embedding_is_repeated_over_the_bottleneck_grid(koala):
    L = np.random.default_rng(1).uniform(0, 100, (1, 32, 32, 1)).astype(np.float32)
    fused = keras.Model(koala.input, [koala.get_layer("repeat_embedding").output, koala.output])
    emb, _ = fused.predict(L, verbose=0)
    assert emb.shape == (1, 4, 4, 1000)
    np.testing.assert_allclose(emb.sum(-1), 1.0, atol=1e-4)  # the softmax of the top, at every cell
    assert np.all(emb == emb[:, :1, :1])
