"""Every Keras backend: the core suite again on JAX, and training without TensorFlow at all.

The GPU machines this project borrows carry JAX and PyTorch but no TensorFlow, so the
core (colour, models, losses, the train step, train/resume/fault handling, colorize,
evaluate) must pass on JAX as it does on TensorFlow. Each backend needs its own process
(Keras picks the backend at import), hence the subprocesses.
"""

import os
import subprocess
import sys
import textwrap

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow

# The core's tests whose code depends on the backend, again on JAX: colour, every model's
# build and forward pass, the hint map and the train step, colorize, training with its
# checkpoints, resume, NaN handling and precision, effunet's encoder modes and learning
# rate, the ageing. NumPy-only code (the loader, metrics, evaluate's tables, FID's
# statistics) and the slow end-to-end runs are left to the TensorFlow pass: a whole second
# pass over the core took over 25 minutes once effunet came (its XLA compiles on a CPU).
# TensorFlow-only tests (tf.data, tf.distribute) carry @pytest.mark.tensorflow and skip
# themselves in this pass. End to end on JAX with TensorFlow blocked: the test below, and
# gpu_quality's smoke run (tests/test_benchmarks.py), which trains effunet and effunet_cls.
CORE = [
    "tests/test_color.py",
    "tests/test_models.py",
    "tests/test_hints.py",
    "tests/test_ageing.py",
    "tests/test_colorize_metrics.py",
    "tests/models/test_colorful.py",
    "tests/models/test_seed16_cls.py",
    "tests/models/test_effunet.py::test_the_decoders_upsampling_is_bilinear_on_any_size",
    "tests/models/test_effunet.py::test_the_encoder_modes_freeze_what_they_say",
    "tests/models/test_effunet.py::test_the_encoders_learning_rate_is_its_own",
    "tests/test_train.py::test_run_folder_contents_and_resume",
    "tests/test_train.py::test_ctrl_c_checkpoint_is_the_one_the_resume_starts_from",
    "tests/test_train.py::test_corrupt_checkpoints_fall_back_and_all_corrupt_stops_with_nothing_touched",
    "tests/test_train.py::test_a_changed_precision_resumes_with_the_optimizer_state_converted",
    "tests/test_train.py::test_nan_loss_stops_and_keeps_last_good_checkpoint",
    "tests/test_train.py::test_mixed_precision_and_xla_paths_train_on_cpu",
    "tests/test_train_recipes.py::test_hints_ageing_and_the_schedule_resume_exactly",
    "tests/test_adversarial.py::test_training_adds_the_weighted_terms_and_validation_scores_the_colour_alone",
    "tests/test_adversarial.py::test_a_run_with_a_critic_trains_it_resumes_it_and_scores_without_it",
]

# Of the files above, tests that exercise data or Keras rather than the backend: the same
# conversion on 22 real photos of their own sizes, which JAX compiles one size at a time (48 s
# of a 426 s pass; the skimage photos above cover the conversion on JAX, size by size); and
# the dtypes Keras's mixed-precision policy gives Inception-ResNet-v2's layers (24 s on JAX
# to build it, for a policy that is Keras's own; the other four models check it on JAX).
CORE_ON_TENSORFLOW_ONLY = ["tests/test_color.py::test_real_photos_from_shared_data",
                           "tests/test_models.py::test_mixed_precision_computes_the_body_reduced_and_the_output_in_float32"
                           "[koalarization-kwargs3]"]

BLOCK_TENSORFLOW = """
import importlib.abc, sys

class _NoTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError(f"{name} is blocked: the GPU machine has no TensorFlow")

sys.meta_path.insert(0, _NoTensorFlow())
"""


def _env(**extra):
    env = {**os.environ, "KERAS_BACKEND": "jax", **extra}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def test_core_suite_passes_on_jax():
    deselect = [f"--deselect={t}" for t in CORE_ON_TENSORFLOW_ONLY]
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=5", *CORE, *deselect],
                       cwd=REPO, env=_env(), capture_output=True, text=True, timeout=1200)
    tail = r.stdout[-3000:]
    assert r.returncode == 0, tail
    assert " passed" in tail and " failed" not in tail


def test_train_resume_colorize_and_the_pretrained_encoder_on_jax_with_tensorflow_absent(tmp_path):
    script = BLOCK_TENSORFLOW + textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO / "tests")!r})
        from pathlib import Path
        import numpy as np
        from prepared_fixture import make_prepared
        from colorpast import colorize, train
        from colorpast.config import TrainConfig

        prepared, run = Path({str(tmp_path / "p")!r}), Path({str(tmp_path / "run")!r})
        make_prepared(prepared, {{"train": 8, "val": 2}}, size=32, per_shard=4)
        cfg = TrainConfig(data=str(prepared), batch_size=4, steps_per_epoch=2, epochs=1, val_batches=None)
        first = train.train(cfg, run, verbose=False)
        again = train.train(cfg.with_(epochs=2), run, verbose=False)
        print("EPOCHS", first.epochs_done, again.epochs_done, "RESUMED", again.resumed_from)
        from colorpast import models
        L = np.linspace(0, 100, 32 * 32, dtype=np.float32).reshape(1, 32, 32, 1)
        np.save(run / "ab_on_jax.npy", models.predict_ab(train.load(run), L))
        out = colorize(np.full((40, 24, 3), 128, np.uint8), str(run))
        print("COLORIZED", out.shape, float(out.min()) >= 0.0 and float(out.max()) <= 1.0)
        # The pretrained encoder's converted weights name the packaged photos here too.
        sys.path.insert(0, {str(REPO / "tests" / "models")!r})
        from test_effunet import check_classifier
        from colorpast.models import efficientnet_lite
        check_classifier(efficientnet_lite.build_classifier())
        print("NAMED")
        import keras
        print("BACKEND", keras.backend.backend(), "TF", "tensorflow" in sys.modules)
    """)
    r = subprocess.run([sys.executable, "-c", script], env=_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "EPOCHS 1 2 RESUMED 2" in r.stdout
    assert "COLORIZED (40, 24, 3) True" in r.stdout and "NAMED" in r.stdout
    assert "BACKEND jax TF False" in r.stdout
    # Weights saved on one backend load on another: this process runs the default backend.
    import keras
    import numpy as np

    from colorpast import models, train

    if keras.backend.backend() != "jax":
        L = np.linspace(0, 100, 32 * 32, dtype=np.float32).reshape(1, 32, 32, 1)
        for weights in ("final", "last"):  # model.keras, and the training checkpoint (network + optimizer)
            ab = models.predict_ab(train.load(tmp_path / "run", weights=weights), L)
            np.testing.assert_allclose(ab, np.load(tmp_path / "run" / "ab_on_jax.npy"), atol=1e-3)


TRAIN_AND_RESUME = """
import sys
sys.path.insert(0, {tests!r})
from pathlib import Path
import keras
from prepared_fixture import make_prepared
from colorpast import colorize, devices, train
from colorpast.config import TrainConfig

prepared, run = Path({prepared!r}), Path({run!r})
make_prepared(prepared, {{"train": 8, "val": 2}}, size=32, per_shard=4)
cfg = TrainConfig(data=str(prepared), batch_size=4, steps_per_epoch=2, epochs=1, val_batches=None)
first = train.train(cfg, run, verbose=False)
print("REPLICAS", devices.replicas(devices.make_strategy("auto")))
again = train.train(cfg.with_(epochs=2), run, verbose=False)
print("RESUMED", again.resumed_from, again.epochs_done, keras.backend.backend())
"""


@pytest.mark.parametrize("backend, env, replicas", [
    # keras.distribution.DataParallel over two virtual CPU devices: the way JAX uses several GPUs or a TPU.
    ("jax", {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}, 2),
    ("torch", {}, 1),
])
def test_train_and_resume_on_other_backends(tmp_path, backend, env, replicas):
    script = TRAIN_AND_RESUME.format(tests=str(REPO / "tests"), prepared=str(tmp_path / "p"), run=str(tmp_path / "run"))
    r = subprocess.run([sys.executable, "-c", script], env=_env(KERAS_BACKEND=backend, **env),
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"REPLICAS {replicas}" in r.stdout and f"RESUMED 2 2 {backend}" in r.stdout


def test_notebook_setup_on_jax_with_tensorflow_absent(tmp_path):
    """Every notebook's first cell, on a machine that has JAX and no TensorFlow."""
    script = BLOCK_TENSORFLOW + textwrap.dedent(f"""
        from colorpast import notebook
        env = notebook.setup(root={str(tmp_path)!r}, gpu=False)
        print("GPUS", env.gpus)
    """)
    r = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=_env(), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Keras 3." in r.stdout and "on jax" in r.stdout and "GPUS []" in r.stdout
    assert (tmp_path / "runs").is_dir()
