import numpy as np

from colorpast import color
from colorpast.cli import main
from prepared_fixture import make_prepared
from colorpast.models import bins


def _bin_of(rgb):
    lab = color.rgb_to_lab(np.asarray(rgb, np.uint8).reshape(1, 1, 3))
    return int(bins.hard_encode_np(lab[..., 1:]).ravel()[0])


def test_prior_counts_pixels_per_bin():
    from colorpast.prior import prior_from_rgb_batches

    red = np.zeros((2, 8, 8, 3), np.uint8)
    red[..., 0] = 200
    half = np.zeros((1, 8, 8, 3), np.uint8)
    half[:, :, 4:] = (30, 90, 200)  # right half blue, left half black
    p = prior_from_rgb_batches([red, half])
    assert p.shape == (313,) and np.isclose(p.sum(), 1.0)
    # 2 x 4 red cells, 2 black cells, 2 blue cells (cells are 4x4).
    np.testing.assert_allclose(p[_bin_of((200, 0, 0))], 8 / 12)
    np.testing.assert_allclose(p[_bin_of((0, 0, 0))], 2 / 12)
    np.testing.assert_allclose(p[_bin_of((30, 90, 200))], 2 / 12)


def test_prior_command_on_a_prepared_set(tmp_path, capsys):
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for _ in range(3)]
    make_prepared(tmp_path, images={"train": imgs}, size=16)
    out = tmp_path / "w" / "prior_x.npy"
    assert main(["prior", "--data", str(tmp_path), "--out", str(out)]) == 0
    from colorpast.prior import prior_from_rgb_batches

    np.testing.assert_allclose(np.load(out), prior_from_rgb_batches([np.stack(imgs)]))
    assert main(["prior", "--data", str(tmp_path / "nope"), "--out", str(out)]) == 2
    assert "no prepared set folder" in capsys.readouterr().err
