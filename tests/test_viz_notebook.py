"""viz.training_curves / gallery / before_after and colorpast.notebook.setup (no notebook kernel)."""

import sys
import types

import numpy as np
import pytest

from colorpast import notebook, viz


def test_training_curves_plots_loss_and_val_loss(tmp_path):
    (tmp_path / "history.csv").write_text("epoch,step,loss,val_loss\n0,3,0.5,0.6\n1,6,0.4,\n")
    fig = viz.training_curves(tmp_path, path=tmp_path / "curves.png")
    (ax,) = fig.axes
    lines = {ln.get_label(): ln.get_ydata() for ln in ax.get_lines()}
    assert list(lines["training"]) == [0.5, 0.4]
    assert lines["validation"][0] == 0.6 and np.isnan(lines["validation"][1])
    assert list(ax.get_lines()[0].get_xdata()) == [1, 2]  # epochs counted from 1
    assert (tmp_path / "curves.png").stat().st_size > 0


def test_training_curves_without_history_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        viz.training_curves(tmp_path)


def test_before_after_keeps_full_resolution(tmp_path):
    before = np.zeros((30, 50, 3), np.uint8)
    after = np.ones((30, 50, 3), np.float32)
    fig = viz.before_after(before, after, dpi=100)
    fig.savefig(tmp_path / "ba.png", dpi=100)
    from PIL import Image

    assert Image.open(tmp_path / "ba.png").size == (100, 30)  # two 50 x 30 images, one pixel each
    with pytest.raises(ValueError):
        viz.before_after(before, after[:10])


def test_gallery_one_axis_per_image():
    fig = viz.gallery([np.zeros((8, 8, 3), np.uint8)] * 5, titles=list("abcde"), cols=4)
    assert len(fig.axes) == 8 and [a.get_title() for a in fig.axes[:5]] == list("abcde")


def test_colab_badge_links_the_notebook():
    badge = notebook.colab_badge("04_train.ipynb")
    assert "colab.research.google.com/github/colorpast/colorpast/blob/main/notebooks/04_train.ipynb" in badge


def test_setup_locally_uses_the_repository_root(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("COLORPAST_ROOT", raising=False)
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    env = notebook.setup()
    out = capsys.readouterr().out
    assert not env.is_colab and env.root == tmp_path.resolve() and env.raw == tmp_path.resolve() / "data/raw"
    assert all((tmp_path / d).is_dir() for d in notebook.FOLDERS)
    assert notebook.Path.cwd() == tmp_path.resolve()
    assert env.gpus == [] and "Runtime > Change runtime type" in out and "Continuing on the CPU" in out
    assert env.kaggle is None and "Kaggle credentials: none" in out


def test_setup_on_colab_mounts_drive_and_reads_secrets(tmp_path, monkeypatch, capsys):
    mounted = []
    colab = types.ModuleType("google.colab")
    colab.drive = types.SimpleNamespace(mount=lambda p: (mounted.append(p), (tmp_path / "drive/MyDrive").mkdir(parents=True)))
    secrets = {"KAGGLE_USERNAME": "someone", "KAGGLE_KEY": "not-printed"}
    colab.userdata = types.SimpleNamespace(get=secrets.__getitem__)  # KeyError stands in for SecretNotFoundError
    google = types.ModuleType("google")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setattr(notebook, "COLAB_DRIVE", tmp_path / "drive")
    monkeypatch.delenv("COLORPAST_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    for var in ("KAGGLE_USERNAME", "KAGGLE_KEY"):  # setup copies the secrets into the environment
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    env = notebook.setup()
    out = capsys.readouterr().out
    assert env.is_colab and mounted == [str(tmp_path / "drive")]
    assert env.root == (tmp_path / "drive/MyDrive/colorpast").resolve() and env.raw == notebook.COLAB_RAW
    assert env.kaggle == "Colab secrets" and "not-printed" not in out
    assert notebook.os.environ["KAGGLE_USERNAME"] == "someone"  # for the kaggle client in 01
    assert "Google Colab" in out and "Runtime > Change runtime type" in out
