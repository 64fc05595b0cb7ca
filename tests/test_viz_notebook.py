"""viz figures, colorpast.notebook (Setup and the steps notebooks share) and colorpast.photos
(06's steps), with no notebook kernel."""

import sys
import types

import numpy as np
import pytest

from colorpast import notebook, photos, viz
from colorpast.errors import UserError


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


def test_grid_column_titles_of_long_run_names_stay_over_their_own_column(tmp_path):
    """A run's name with its hints (evaluate --hints) is wider than a column: its title is
    wrapped so it neither runs into its neighbour's nor out of the figure."""
    columns = ["gray input", "runs/quality/effunet_hints+frozen_first-16000 (0 hints)",
               "runs/quality/effunet_hints+frozen_first-16000:best (10 hints)", "ground truth"]
    image = np.full((40, 30, 3), 0.5)
    fig = viz.result_grid([("p.png", [(image, "")] * 4)] * 2, columns, path=tmp_path / "g.png", title="t")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [ax.title.get_window_extent(renderer) for ax in fig.axes[:4]]
    pitch = fig.get_figwidth() * fig.dpi / 4
    for i, box in enumerate(boxes):
        assert box.width <= pitch, columns[i]
        assert box.x0 >= 0 and box.x1 <= fig.get_figwidth() * fig.dpi
    for left, right in zip(boxes, boxes[1:]):
        assert left.x1 < right.x0, "column titles overlap"
    assert fig.axes[2].title.get_text().replace("\n", "") == columns[2].replace(" (", "(")
    assert viz._wrap_title("gray input", 24) == "gray input" and viz._wrap_title("seed16 (5 hints)", 24) == "seed16 (5 hints)"


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
    assert env.kaggle is None and "Kaggle" not in out  # only notebooks that download ask
    notebook.setup(kaggle=True, gpu=False)
    out = capsys.readouterr().out
    assert "Kaggle credentials: none" in out
    assert "Runtime > Change runtime type" not in out and notebook.NO_GPU_NEEDED in out


@pytest.fixture
def fake_colab(tmp_path, monkeypatch):
    """google.colab with Drive, secrets (reads recorded), uploads and downloads, in tmp_path."""
    calls = {"mount": [], "secrets": [], "download": []}
    colab = types.ModuleType("google.colab")
    calls["flushed"] = 0

    mounted, unmounted = tmp_path / "drive/MyDrive", tmp_path / "drive-unmounted"

    def flush_and_unmount():
        calls["flushed"] += 1
        mounted.rename(unmounted)  # what was written is kept, out of sight

    def mount(p):
        calls["mount"].append(p)
        if unmounted.exists():
            unmounted.rename(mounted)
        else:
            mounted.mkdir(parents=True)

    colab.drive = types.SimpleNamespace(mount=mount, flush_and_unmount=flush_and_unmount)
    secrets = {"KAGGLE_USERNAME": "someone", "KAGGLE_KEY": "not-printed"}

    def get(key):
        calls["secrets"].append(key)
        return secrets[key]  # KeyError stands in for SecretNotFoundError

    def upload():
        notebook.Path("old-print.jpg").write_bytes(b"jpeg")  # Colab saves into the current folder
        return {"old-print.jpg": b"jpeg"}

    colab.userdata = types.SimpleNamespace(get=get)
    colab.files = types.SimpleNamespace(upload=upload, download=calls["download"].append)
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
    return calls


def test_setup_on_colab_mounts_drive_and_reads_secrets_only_when_asked(tmp_path, fake_colab, capsys):
    env = notebook.setup()
    out = capsys.readouterr().out
    assert env.is_colab and fake_colab["mount"] == [str(tmp_path / "drive")]
    assert env.root == (tmp_path / "drive/MyDrive/colorpast").resolve() and env.raw == notebook.COLAB_RAW
    assert fake_colab["secrets"] == [] and env.kaggle is None  # no "grant access" dialog
    assert "Google Colab" in out and "Runtime > Change runtime type" in out and "wipes /content" in out
    env = notebook.setup(kaggle=True)
    out = capsys.readouterr().out
    assert env.kaggle == "Colab secrets" and "not-printed" not in out and fake_colab["secrets"]
    assert notebook.os.environ["KAGGLE_USERNAME"] == "someone"  # for the kaggle client in 01


def test_user_error_prints_one_line_in_a_kernel(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        assert notebook.register_error_handler()
        result = shell.run_cell("from colorpast.errors import UserError\nraise UserError('no such file: x.jpg')")
        err = capsys.readouterr().err
        assert isinstance(result.error_in_exec, UserError)  # the cell still fails: Run all stops
        assert err == "UserError: no such file: x.jpg\n" and "Traceback" not in err
        result = shell.run_cell("1 / 0")  # other errors keep their traceback
        assert "ZeroDivisionError" in capsys.readouterr().out
    finally:
        InteractiveShell.clear_instance()


def test_fit_width_scales_only_wide_images():
    small = np.zeros((30, 50, 3), np.uint8)
    assert photos.fit_width(small, 100) is small
    wide = np.zeros((1000, 4000, 3), np.float32)
    out = photos.fit_width(wide, 1600)
    assert out.shape == (400, 1600, 3) and out.dtype == np.uint8


def test_show_before_after_fits_the_page_and_adds_a_full_resolution_detail(capsys):
    before = np.zeros((2000, 3000, 3), np.uint8)
    figs = photos.show_before_after(before, before, name="big.jpg")
    sizes = [tuple(round(v) for v in f.get_size_inches() * f.dpi) for f in figs]
    assert sizes == [(1600, 533), (768, 384)]
    assert "big.jpg: 3000 x 2000 px (shown at 800 px wide)" in capsys.readouterr().out
    assert len(photos.show_before_after(before[:300, :400], before[:300, :400])) == 1  # small: no detail


def test_photos_folder_locally_says_where_to_put_photos(tmp_path, capsys):
    env = notebook.Environment(is_colab=False, root=tmp_path)
    folder = photos.photos_folder(tmp_path / "photos", env)
    assert folder.is_dir() and str(folder.resolve()) in capsys.readouterr().out
    photos.photos_folder(folder, env, smoke=True)
    assert sorted(p.name for p in folder.iterdir()) == ["chelsea.png", "grace_hopper.png"]
    photos.photos_folder(folder, env, smoke=True)  # photos present: left as they are
    assert len(list(folder.iterdir())) == 2 and "has no photos" not in capsys.readouterr().out


def test_a_file_that_is_no_photo_in_an_uploads_folder_is_named(tmp_path, capsys):
    """On Colab each session's upload lands in photos/upload-*/: a PDF there, with no photo
    beside it, is named with why it is left out, not passed over in silence."""
    from colorpast.photofiles import not_photos

    env = notebook.Environment(is_colab=False, root=tmp_path)
    session = tmp_path / "photos/upload-20270101-090000"
    session.mkdir(parents=True)
    (session / "letter.pdf").write_bytes(b"%PDF-1.4")
    (session / ".DS_Store").write_bytes(b"")
    assert not_photos([tmp_path / "photos"]) == [(session / "letter.pdf", "a PDF: save its pages as JPEG or PNG images first")]
    photos.photos_folder(tmp_path / "photos", env)
    assert "letter.pdf: a PDF: save its pages as JPEG or PNG images first" in capsys.readouterr().out


def test_photos_folder_on_colab_offers_an_upload_every_session(tmp_path, fake_colab, monkeypatch):
    """The second day's photos get in: the button opens whether or not the folder has
    photos, each session's files go to a folder of their own, a cancelled upload leaves none."""
    env = notebook.Environment(is_colab=True, root=tmp_path)
    folder = photos.photos_folder("photos", env)
    (session,) = folder.iterdir()
    assert session.name.startswith("upload-") and (session / "old-print.jpg").read_bytes() == b"jpeg"
    assert notebook.Path.cwd() == tmp_path and not (tmp_path / "old-print.jpg").exists()
    monkeypatch.setattr(photos.time, "strftime", lambda fmt: "upload-20270102-090000")
    photos.photos_folder("photos", env)  # the next day: asked again
    assert sorted(p.name for p in folder.iterdir()) == [session.name, "upload-20270102-090000"]
    monkeypatch.setattr(sys.modules["google.colab"].files, "upload", lambda: {})  # cancelled
    monkeypatch.setattr(photos.time, "strftime", lambda fmt: "upload-20270103-090000")
    photos.photos_folder("photos", env)
    assert len(list(folder.iterdir())) == 2
    photos.photos_folder("photos", env, upload=False)  # UPLOAD = False: no button
    assert len(list(folder.iterdir())) == 2


def test_offer_download_zips_the_new_files_and_offers_a_button_on_colab(tmp_path, fake_colab, monkeypatch):
    import zipfile

    monkeypatch.setattr(photos, "COLAB_LOCAL", tmp_path / "content")
    lines = []
    assert photos.offer_download(tmp_path / "colorized", notebook.Environment(True, tmp_path), log=lines.append) is None
    assert "nothing colorized yet" in lines[0] and fake_colab["download"] == []  # a first local run, no photos yet
    (tmp_path / "colorized/sub").mkdir(parents=True)
    (tmp_path / "colorized/sub/a.png").write_bytes(b"png")
    (tmp_path / "colorized/b.png").write_bytes(b"png")
    local = photos.offer_download(tmp_path / "colorized", notebook.Environment(False, tmp_path), log=lambda *_: None)
    assert local == tmp_path / "colorized.zip" and sorted(zipfile.ZipFile(local).namelist()) == ["b.png", "sub/a.png"]
    assert fake_colab["download"] == []
    # A second session: only what it colorized, zipped on the runtime's disk, not on Drive.
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # no widgets: the download starts at once
    new = photos.offer_download(tmp_path / "colorized", notebook.Environment(True, tmp_path),
                                files=[tmp_path / "colorized/sub/a.png"], log=lambda *_: None)
    assert new == tmp_path / "content/colorized.zip" and zipfile.ZipFile(new).namelist() == ["sub/a.png"]
    assert fake_colab["download"] == [str(new)]
    lines = []
    assert photos.offer_download(tmp_path / "colorized", notebook.Environment(True, tmp_path), files=[],
                                 log=lines.append) is None
    # Day two with nothing new: where the earlier results are, and how to download them all.
    assert lines == [f"nothing new colorized; the 2 colorized earlier are in {(tmp_path / 'colorized').resolve()}: "
                     f"photos.offer_download({str(tmp_path / 'colorized')!r}, env) in a new cell zips them all"]
    drive_out = tmp_path / "drive/MyDrive/colorpast/colorized"
    drive_out.mkdir(parents=True)
    (drive_out / "c.png").write_bytes(b"png")
    lines = []
    photos.offer_download(drive_out, notebook.Environment(True, tmp_path), files=[], log=lines.append)
    assert "the 1 colorized earlier are in" in lines[0] and "(in Google Drive: colorpast/colorized)" in lines[0]

    class Button:  # as ipywidgets.Button: on_click handlers run on click()
        def __init__(self, **kw):
            self.kw, self.handlers = kw, []
            shown.append(self)

        def on_click(self, fn):
            self.handlers.append(fn)

        def click(self):
            for fn in self.handlers:
                fn(self)

    shown = []
    monkeypatch.setitem(sys.modules, "ipywidgets", types.SimpleNamespace(Button=Button, Layout=dict))
    photos.offer_download(tmp_path / "colorized", notebook.Environment(True, tmp_path), log=lambda *_: None)
    (button,) = shown
    assert button.kw["description"].startswith("Download colorized.zip (") and len(fake_colab["download"]) == 1
    button.click()  # the user asks for it
    assert fake_colab["download"] == [str(new)] * 2


def test_setup_without_drive_and_finish_flushes_drive(tmp_path, fake_colab, monkeypatch, capsys):
    """01 and 03 never open Drive's permission dialog; what wrote to Drive flushes it at the end."""
    monkeypatch.setattr(notebook, "COLAB_LOCAL", tmp_path / "content")
    env = notebook.setup(drive=False, gpu=False)
    assert fake_colab["mount"] == [] and env.root == (tmp_path / "content").resolve()
    notebook.finish(env)  # nothing on Drive: nothing to flush
    assert fake_colab["flushed"] == 0
    env = notebook.setup(gpu=False)
    assert fake_colab["mount"] and notebook.Path.cwd() == env.root
    capsys.readouterr()
    notebook.finish(env)
    # Written out, and mounted again: a cell run after the last one still works on Drive.
    assert fake_colab["flushed"] == 1 and len(fake_colab["mount"]) == 2 and notebook.Path.cwd() == env.root
    assert env.root.is_relative_to(tmp_path / "drive/MyDrive") and (env.root / "runs").is_dir()
    assert "closing this tab now loses nothing" in capsys.readouterr().out
    # Drive refuses to come back: one line says to run Setup, and nothing lands on Drive's empty mount point.
    def refuse(p):
        raise RuntimeError("credential propagation was unsuccessful")
    monkeypatch.setattr(sys.modules["google.colab"].drive, "mount", refuse)
    notebook.finish(env)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "run Setup again before any other cell" in out and "RuntimeError" in out
    assert notebook.Path.cwd() == (tmp_path / "content").resolve()


def test_declining_drive_works_on_the_runtimes_disk_and_says_so(tmp_path, fake_colab, monkeypatch, capsys):
    """06 with Drive's dialog declined: Colab's raw "credential propagation" error becomes
    one line, and the notebook works in /content/colorpast."""
    monkeypatch.setattr(notebook, "COLAB_LOCAL", tmp_path / "content")

    def decline(p):
        raise RuntimeError("Error: credential propagation was unsuccessful")

    monkeypatch.setattr(sys.modules["google.colab"].drive, "mount", decline)
    env = notebook.setup(gpu=False)
    assert env.root == (tmp_path / "content").resolve() and notebook.Path.cwd() == env.root
    assert (env.root / "runs").is_dir()
    out = capsys.readouterr().out
    (line,) = [ln for ln in out.splitlines() if "Drive is not mounted" in ln]
    assert "credential propagation was unsuccessful" in line and "vanish when the runtime disconnects" in line
    notebook.finish(env)  # nothing on Drive: nothing to flush
    assert fake_colab["flushed"] == 0


def test_local_copy_moves_a_prepared_set_to_the_runtime_disk_once(tmp_path, monkeypatch):
    monkeypatch.setattr(notebook, "COLAB_LOCAL", tmp_path / "content")
    src = tmp_path / "drive/data/prepared/set"
    (src / ".parts").mkdir(parents=True)
    (src / "train-00000.tfrecord").write_bytes(b"x" * 1000)
    (src / ".parts/train-00000.csv").write_text("file\n")
    (src / "prepared.json").write_text('{"complete": true}')
    assert notebook.local_copy(src, notebook.Environment(False, tmp_path)) == str(src)  # locally: as it is
    lines = []
    got = notebook.local_copy(src, notebook.Environment(True, tmp_path), log=lines.append)
    assert got == str(tmp_path / "content/data/prepared/set") and len(lines) == 1
    assert (tmp_path / "content/data/prepared/set/train-00000.tfrecord").read_bytes() == b"x" * 1000
    assert notebook.local_copy(src, notebook.Environment(True, tmp_path), log=lines.append) == got and len(lines) == 1
    (src / "prepared.json").write_text('{"complete": true, "more": 1}')  # the set changed on Drive
    notebook.local_copy(src, notebook.Environment(True, tmp_path), log=lines.append)
    assert len(lines) == 2 and "more" in (tmp_path / "content/data/prepared/set/prepared.json").read_text()


def test_curves_from_rows_as_the_live_plot_draws_them():
    fig = viz.curves([{"epoch": 0, "loss": 0.5}, {"epoch": 1, "loss": 0.4}], title="epoch 2/10")
    (ax,) = fig.axes
    assert [ln.get_label() for ln in ax.get_lines()] == ["training"]


def test_setup_prints_no_tensorflow_cpp_log_lines(tmp_path):
    """Checked at the file descriptor, where TensorFlow's C++ writes (and Colab shows it)."""
    import os
    import subprocess

    from conftest import REPO

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(REPO)
    code = f"from colorpast import notebook; notebook.setup(root={str(tmp_path)!r}, gpu=False)"
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "", r.stderr
    assert "This notebook needs no GPU" in r.stdout


def test_gpus_let_memory_grow_so_two_notebooks_share_a_local_gpu(monkeypatch):
    import tensorflow as tf

    grown = []
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind: ["GPU:0", "GPU:1"])
    monkeypatch.setattr(tf.config.experimental, "set_memory_growth", lambda g, on: grown.append((g, on)))
    assert notebook.gpus() == ["GPU:0", "GPU:1"] and grown == [("GPU:0", True), ("GPU:1", True)]


def test_after_setup_errors_name_notebooks_and_their_parameters(tmp_path, monkeypatch):
    """The command line says `colorpast prepare ... --out X`; a notebook says which
    notebook to run and which parameter to set."""
    from colorpast import runs
    from colorpast.config import TrainConfig
    from colorpast.data import shards

    with pytest.raises(notebook.UserError, match="run: colorpast prepare SOURCE --out"):
        shards.read_summary(tmp_path / "none")
    monkeypatch.setenv("COLORPAST_ROOT", str(tmp_path / "root"))
    notebook.setup(gpu=False)
    with pytest.raises(notebook.UserError, match="run 02_preprocess first") as e:
        shards.read_summary(tmp_path / "none")
    assert "colorpast prepare" not in str(e.value)
    (tmp_path / "run").mkdir()
    TrainConfig(lr=0.1).to_json(tmp_path / "run/config.json")
    with pytest.raises(notebook.UserError, match="set RESTART = True to start over, or choose another RUN") as e:
        runs.check_run_folder(tmp_path / "run", TrainConfig(lr=0.2), restart=False)
    assert "--" not in str(e.value)
    with pytest.raises(notebook.UserError, match=r"^batch_size must be at least 1; got 0$"):
        notebook.preset("default", batch_size=0)
