"""The loader: uint8 crops and transforms, deterministic by (seed, step), O(batch) memory,
sharded for several workers; the device step applies the transforms; the shard reader."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from colorpast.data import shards
from colorpast.data.loader import IDENTITY, Loader, seed_transform
from colorpast.errors import UserError
from prepared_fixture import make_prepared


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    d = tmp_path_factory.mktemp("prep")
    make_prepared(d, {"train": 10, "val": 3}, size=32, per_shard=4)
    return d


def test_split_reads_every_image_in_order(prepared):
    split = shards.open_split(prepared, "train")
    assert len(split) == 10 and list(split.counts) == [4, 4, 2]
    for f in split.files:  # each image where np.load finds it
        whole = np.load(f)
        first = split.files.index(f)
        for j in range(len(whole)):
            np.testing.assert_array_equal(split[int(split.starts[first]) + j], whole[j])
    assert split.locate(5) == (1, 1)
    assert split.take([0, 9]).shape == (2, 32, 32, 3)
    with pytest.raises(UserError, match="no test images"):
        shards.open_split(prepared, "test")


def test_batches_are_a_function_of_seed_and_step(prepared):
    split = shards.open_split(prepared, "train")
    a, b = Loader(split, 4, 16, seed=3), Loader(split, 4, 16, seed=3)
    late = a.batch(7)  # asked for out of order: a resumed run starts anywhere
    for k in range(8):
        x = b.batch(k)
        assert x["rgb"].dtype == np.uint8 and x["rgb"].shape == (4, 16, 16, 3) and x["transform"].shape == (4, 8)
    np.testing.assert_array_equal(late["rgb"], x["rgb"])
    np.testing.assert_array_equal(late["transform"], x["transform"])
    assert not np.array_equal(Loader(split, 4, 16, seed=4).batch(7)["rgb"], late["rgb"])
    stream = Loader(split, 4, 16, seed=3).stream(start_step=7)
    np.testing.assert_array_equal(next(stream)["rgb"], late["rgb"])


def test_every_pass_visits_every_image_once(prepared):
    split = shards.open_split(prepared, "train")
    loader = Loader(split, 5, augment=False, seed=1)  # full-size "crops": the images themselves
    seen = np.concatenate([loader.batch(k)["rgb"] for k in range(2)])  # 10 images = one pass
    keys = {im.tobytes() for im in seen}
    assert keys == {split[i].tobytes() for i in range(10)}
    second = np.concatenate([loader.batch(k)["rgb"] for k in range(2, 4)])
    assert {im.tobytes() for im in second} == keys and not np.array_equal(second, seen)  # reshuffled


def test_workers_take_their_share_of_every_global_batch(prepared):
    split = shards.open_split(prepared, "train")
    whole = Loader(split, 4, 16, seed=2).batch(5)["rgb"]
    parts = [Loader(split, 4, 16, seed=2, worker=w, workers=2).batch(5)["rgb"] for w in (0, 1)]
    np.testing.assert_array_equal(parts[0], whole[0::2])
    np.testing.assert_array_equal(parts[1], whole[1::2])


def test_evaluation_loader_is_one_ordered_pass_of_centre_crops(prepared):
    split = shards.open_split(prepared, "val")
    loader = Loader(split, 2, 16, train=False)
    assert len(loader) == 2
    b0, b1 = loader.batch(0), loader.batch(1)
    assert len(b1["rgb"]) == 1  # the last batch is short
    np.testing.assert_array_equal(b0["rgb"][1], split[1][8:24, 8:24])
    assert (b0["transform"] == IDENTITY).all()
    cycled = loader.stream(steps=1)
    np.testing.assert_array_equal(next(cycled)["rgb"], next(cycled)["rgb"])  # the same batch each pass


def test_device_step_applies_the_transform_as_the_seed_defines_it():
    """A flip-only transform mirrors the image exactly; the seed's random ones keep the
    centre pixel in place (they turn about the centre) and stay inside [0, 1]."""
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (1, 9, 9, 3), dtype=np.uint8)
    while True:
        flip = seed_transform(rng, 9, 9, rotation=0.0, zoom=0.0, shear=0.0)
        if flip[0] < 0:
            break
    out = keras.ops.convert_to_numpy(
        keras.ops.image.affine_transform(img.astype(np.float32), flip[None], interpolation="bilinear", fill_mode="nearest")
    )
    np.testing.assert_allclose(out[0], img[0, :, ::-1].astype(np.float32), atol=1e-3)
    t = seed_transform(np.random.default_rng(1), 9, 9)
    centre = np.array([4.0, 4.0])
    m = t[:6].reshape(2, 3)
    np.testing.assert_allclose(m[:, :2] @ centre + m[:, 2], centre, atol=1e-5)


def test_old_tfrecord_sets_get_one_line_naming_the_command(tmp_path):
    (tmp_path / shards.SUMMARY).write_text(json.dumps({"version": 1, "size": 224, "source": "data/raw/x"}))
    (tmp_path / "train-00000.tfrecord").write_bytes(b"")
    with pytest.raises(UserError, match=r"format 1 \(TFRecord.*colorpast prepare data/raw/x --out .* --restart"):
        shards.open_split(tmp_path, "train")
    r = subprocess.run([sys.executable, "-m", "colorpast", "train", "--data", str(tmp_path), "--run", str(tmp_path / "r")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "colorpast prepare" in r.stderr


def test_reading_ahead_in_threads_keeps_the_order(prepared):
    loader = Loader(shards.open_split(prepared, "train"), 4, 16, seed=5)
    plain = [b["rgb"] for _, b in zip(range(6), loader.stream(3))]
    ahead = [b["rgb"] for _, b in zip(range(6), loader.stream(3, threads=2))]
    assert all(np.array_equal(a, b) for a, b in zip(plain, ahead))


def test_train_step_resampling_equals_keras_affine_transform():
    """colorpast's gather-based resampling (XLA-compilable on every backend) is the same
    maths as keras.ops.image.affine_transform(bilinear, fill_mode="nearest")."""
    from colorpast.train_step import affine_transform

    rng = np.random.default_rng(0)
    img = rng.random((3, 20, 24, 3)).astype(np.float32)
    t = np.stack([IDENTITY] + [seed_transform(rng, 20, 24) for _ in range(2)])
    ours = keras.ops.convert_to_numpy(affine_transform(img, t))
    ref = keras.ops.image.affine_transform(img, t, interpolation="bilinear", fill_mode="nearest")
    np.testing.assert_allclose(ours, keras.ops.convert_to_numpy(ref), atol=1e-5)
    np.testing.assert_array_equal(ours[0], img[0])


def test_uniforms_are_a_pure_function_of_seed_element_and_draw():
    from colorpast.data.loader import DRAWS, uniforms

    u = uniforms(0, range(20_000))
    assert u.shape == (20_000, DRAWS) and u.min() >= 0.0 and u.max() < 1.0
    np.testing.assert_array_equal(uniforms(0, [5, 19_999]), u[[5, 19_999]])  # alone or in a batch: the same
    assert not np.array_equal(uniforms(1, range(100)), u[:100])  # another seed, other draws
    # Uniform and independent enough for crops and augmentation: each draw's mean and
    # the correlation of neighbouring draws and elements, within 5 standard errors.
    se = 5 * (1 / 12 / len(u)) ** 0.5
    np.testing.assert_allclose(u.mean(axis=0), 0.5, atol=se)
    assert abs(np.corrcoef(u[:, 0], u[:, 1])[0, 1]) < 5 / len(u) ** 0.5
    assert abs(np.corrcoef(u[:-1, 0], u[1:, 0])[0, 1]) < 5 / len(u) ** 0.5


def test_an_element_alone_equals_its_row_of_the_batch(prepared):
    for augment in (True, "flip", False):
        loader = Loader(shards.open_split(prepared, "train"), 4, 24, seed=3, augment=augment)
        b = loader.batch(5)
        for j in range(4):
            rgb, t = loader.element(5 * 4 + j)
            np.testing.assert_array_equal(rgb, b["rgb"][j])
            np.testing.assert_array_equal(t, b["transform"][j])
        flips = np.array([loader.batch(k)["transform"][:, 0] < 0 for k in range(50)])
        if augment:
            assert 0.35 < flips.mean() < 0.65  # a flip for about half the crops
        else:
            assert not flips.any()


def test_an_element_is_the_same_whatever_the_batch_size_and_workers(prepared):
    """Element e is a function of (seed, e) alone: read in batches of 1, 3, 4 or 8, over
    one, two or four workers, it is the same crop with the same transform, simulated
    hints and ageing (so changing
    --batch-size on another machine, or the number of workers, never changes what an
    element is, only how elements are grouped)."""
    split = shards.open_split(prepared, "train")
    e = 13  # in pass 1 (10 images), at a different row of a different batch for each size
    keys = ("rgb", "transform", "hints", "age")  # the simulated hints and the ageing too
    want = Loader(split, 2, 16, seed=5, hints=True, age=0.5).element(e)

    def read(batch_size, workers):
        k, j = divmod(e, batch_size)
        b = Loader(split, batch_size, 16, seed=5, worker=j % workers, workers=workers, hints=True, age=0.5).batch(k)
        return [b[key][j // workers] for key in keys]

    for batch_size, workers in [(1, 1), (3, 1), (4, 2), (8, 1), (8, 4)]:
        for key, got, expected in zip(keys, read(batch_size, workers), want):
            np.testing.assert_array_equal(got, expected, err_msg=f"{key}: batch {batch_size}, {workers} workers")


def test_the_crops_of_one_batch_differ_in_position_and_augmentation():
    """Within one batch every element draws its own crop corner and transform: one image
    whose pixels encode their position shows where each of 8 crops was taken."""
    y, x = np.mgrid[0:64, 0:64]
    image = np.stack([y, x, np.zeros_like(y)], -1).astype(np.uint8)  # R = row, G = column
    for k in (0, 1):
        b = Loader([image], 8, 16, seed=5).batch(k)
        corners = [(int(c[0, 0, 0]), int(c[0, 0, 1])) for c in b["rgb"]]
        rows, cols = {y for y, _ in corners}, {x for _, x in corners}
        assert len(rows) >= 6 and len(cols) >= 6, corners  # 49 places each way: 8 draws rarely collide
        assert sum(y == x for y, x in corners) <= 1, corners  # row and column drawn apart, not one diagonal
        assert len({t.tobytes() for t in b["transform"]}) == 8  # rotation, shear, zoom: continuous draws
