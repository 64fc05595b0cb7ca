import numpy as np
import pytest
import tensorflow as tf

from colorpast import color
from colorpast.data.pipeline import augment_batch, dataset
from colorpast.errors import UserError
from prepared_fixture import make_prepared


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    d = tmp_path_factory.mktemp("prepared")
    imgs = make_prepared(d, {"train": 10, "val": 5, "test": 3}, size=32, per_shard=4)
    return d, imgs


def _take(ds, n):
    return [tuple(x.numpy() for x in b) for b in ds.take(n)]


def test_train_batches_shapes_ranges_and_determinism(prepared):
    d, _ = prepared
    a = _take(dataset(d, "train", batch_size=4, seed=3), 4)  # 16 images: crosses a pass boundary
    for L, t in a:
        assert L.shape == (4, 32, 32, 1) and t.shape == (4, 32, 32, 2) and L.dtype == np.float32
        assert 0 <= L.min() and L.max() <= 100 and np.abs(t).max() <= 1.0
    b = _take(dataset(d, "train", batch_size=4, seed=3), 4)
    c = _take(dataset(d, "train", batch_size=4, seed=4), 4)
    assert all(np.array_equal(x[0], y[0]) for x, y in zip(a, b))
    assert not all(np.array_equal(x[0], y[0]) for x, y in zip(a, c))


@pytest.mark.parametrize("start", [1, 3, 6])
def test_start_step_resumes_the_same_stream(prepared, start):
    d, _ = prepared
    full = _take(dataset(d, "train", batch_size=4, seed=1), start + 2)
    resumed = _take(dataset(d, "train", batch_size=4, seed=1, start_step=start), 2)
    for x, y in zip(full[start:], resumed):
        np.testing.assert_array_equal(x[0], y[0])
        np.testing.assert_array_equal(x[1], y[1])


def test_each_pass_is_a_permutation_of_the_split(prepared):
    d, imgs = prepared
    ds = dataset(d, "train", batch_size=5, seed=2, augment=False)
    L = np.concatenate([b[0] for b in _take(ds, 4)])  # 20 images = 2 passes of 10
    want = sorted(np.round(color.rgb_to_lab(im)[..., 0].sum(), 1) for im in imgs["train"])
    for p in range(2):
        got = sorted(np.round(x[..., 0].sum(), 1) for x in L[p * 10 : (p + 1) * 10])
        np.testing.assert_allclose(got, want, atol=0.5)


def test_eval_split_is_one_ordered_pass_without_augmentation(prepared):
    d, imgs = prepared
    batches = _take(dataset(d, "val", batch_size=2), 10)
    assert [b[0].shape[0] for b in batches] == [2, 2, 1]
    L = np.concatenate([b[0] for b in batches])[..., 0]
    t = np.concatenate([b[1] for b in batches])
    lab = color.rgb_to_lab(np.stack(imgs["val"]))
    np.testing.assert_allclose(L, lab[..., 0], atol=1e-4)
    np.testing.assert_allclose(t * 128.0, lab[..., 1:], atol=1e-3)


def test_crop(prepared):
    d, _ = prepared
    (L, _), = _take(dataset(d, "train", batch_size=2, crop=16), 1)
    assert L.shape == (2, 16, 16, 1)
    (L, _), = _take(dataset(d, "test", batch_size=3, crop=24), 1)
    assert L.shape == (3, 24, 24, 1)


def test_augment_identity_flip_and_centre():
    rng = np.random.default_rng(0)
    x = rng.random((6, 33, 33, 3)).astype(np.float32)
    same = augment_batch(tf.constant(x), tf.constant([1, 2], tf.int64), rotation=0, zoom=0, shear=0, flip=False)
    np.testing.assert_allclose(same.numpy(), x, atol=1e-5)
    flipped = augment_batch(tf.constant(x), tf.constant([1, 2], tf.int64), rotation=0, zoom=0, shear=0).numpy()
    for a, b in zip(flipped, x):
        assert np.allclose(a, b, atol=1e-5) or np.allclose(a, b[:, ::-1], atol=1e-5)
    assert any(not np.allclose(a, b, atol=1e-5) for a, b in zip(flipped, x))  # some were flipped
    full = augment_batch(tf.constant(x), tf.constant([5, 6], tf.int64)).numpy()
    np.testing.assert_allclose(full[:, 16, 16], x[:, 16, 16], atol=1e-5)  # the centre stays put
    assert not np.allclose(full, x, atol=0.05)


def test_missing_or_empty_prepared_set_is_a_user_error(tmp_path, prepared):
    with pytest.raises(UserError, match="not a prepared set"):
        dataset(tmp_path, "train")
    d, _ = prepared
    with pytest.raises(UserError, match="larger than the prepared size"):
        dataset(d, "train", crop=64)
