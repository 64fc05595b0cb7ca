"""EfficientNet-Lite2, the larger encoder, and the effunet_lite2 colorizers on it.

Lite2 is Lite0's network with B0's stage table scaled (``efficientnet_lite.Variant``): the
table is checked against the weights file's own keys and shapes, the conversion against
the shared ImageNet photos (floors that each conversion mistake breaks, measured with
benchmarks/encoder_accuracy.py; RESULTS.md, "EfficientNet-Lite2"), and each of the three
models trains a few steps through the command line. The NumPy reference of the first
blocks runs on both encoders in tests/models/test_effunet.py.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from colorpast import models, runs
from colorpast.errors import UserError
from colorpast.models import efficientnet_lite as lite
from colorpast.pth import read_pth
from conftest import cli, shared_folder
from prepared_fixture import make_prepared

ROOT = Path(__file__).resolve().parents[2]
LITE2 = ("effunet_lite2", "effunet_lite2_cls", "effunet_lite2_hints")


@pytest.mark.parametrize("variant", ["lite0", "lite2"])
def test_the_scaled_stage_table_is_the_weights_files_own(variant):
    """Every block's kernel, expansion and width, the stem and the head, as the file has them."""
    sd = read_pth(lite.pth_path(variant))
    blocks = [(k, e, c) for r, k, _, e, c in lite.variant_of(variant).stages() for _ in range(r)]
    assert len({k.split(".")[1] for k in sd if k.startswith("_blocks.")}) == len(blocks)
    assert sd["_conv_stem.weight"].shape == (lite.STEM, 3, 3, 3)
    c_in = lite.STEM
    for i, (k, e, c) in enumerate(blocks):
        assert (f"_blocks.{i}._expand_conv.weight" in sd) == (e != 1), i
        assert sd[f"_blocks.{i}._depthwise_conv.weight"].shape == (c_in * e, 1, k, k), i
        assert sd[f"_blocks.{i}._project_conv.weight"].shape == (c, c_in * e, 1, 1), i
        c_in = c
    assert sd["_conv_head.weight"].shape == (lite.HEAD, c_in, 1, 1)


def test_lite2_is_b0_scaled_as_the_lite_builder_does():
    """Width 1.1 and depth 1.2 with the stem, the head and the end stages' repeats kept."""
    stages = lite.variant_of("lite2").stages()
    assert [s[0] for s in stages] == [1, 3, 3, 4, 4, 5, 1]
    assert [s[4] for s in stages] == [16, 24, 48, 88, 120, 208, 352]
    assert lite.variant_of("lite0").stages() == lite.STAGES
    with pytest.raises(ValueError, match="lite0, lite2"):
        lite.variant_of("lite4")


def test_another_variants_file_is_one_line():
    model = lite.build_classifier((64, 64, 3), weights=None, variant="lite2")
    with pytest.raises(UserError, match="holds 16 MBConv blocks .* 21: another EfficientNet-Lite variant's file"):
        lite.load_imagenet(model)  # Lite0's file


def _encoder_accuracy():
    spec = importlib.util.spec_from_file_location("encoder_accuracy", ROOT / "benchmarks" / "encoder_accuracy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_converted_lite2_classifies_the_shared_imagenet_photos():
    """Every fifth photo of the shared sample (200 classes), whole at a shorter side of
    224 px, as effunet_lite2 sees a photo. Measured (2026-12-06; the whole sample in
    RESULTS.md): as converted, top-1 86.5 %, top-5 100 %, cross-entropy 0.411; with
    PyTorch's symmetric padding 83.0 %, 100 %, 0.480; with batch-norm epsilon 1e-5 86.0 %,
    99.0 %, 0.485; with ImageNet's mean and standard deviation 80.0 %, 94.5 %, 0.733. The
    top-1 of 200 photos hardly sees the epsilon; the cross-entropy sees each detail."""
    ea = _encoder_accuracy()
    x, y = ea.load(shared_folder("imagenet1k-256"), short=224, crop=224, every=5)
    assert len(set(y.tolist())) == 200
    r = ea.accuracy("exact", x, y, "lite2")
    assert r["top1"] >= 0.84 and r["top5"] >= 0.98 and r["xent"] < 0.45, r


def _skip_source(model, stride: int) -> str:
    """The encoder layer whose output the decoder's skip at ``stride`` takes."""
    return model.get_layer(f"skip{stride}").input[1]._keras_history.operation.name


@pytest.mark.parametrize("name, channels", [("effunet_lite2", 2), ("effunet_lite2_cls", 313),
                                            ("effunet_lite2_hints", 2)])
def test_the_lite2_family_takes_its_skips_from_the_stage_ends(name, channels):
    """Skips at 16, 8 and 4 from the last block of the last stage at each stride (14, 6
    and 3: 120, 48 and 24 channels), the bottleneck from the 1,280-channel head."""
    s = models.spec(name)
    assert s.encoder and s.multiple == 32 and s.default_size == 224 and s.hints == name.endswith("_hints")
    m = models.build(name, (None, None, 1), weights=None)
    assert {stride: _skip_source(m, stride) for stride in (16, 8, 4)} == {16: "enc_block14", 8: "enc_block6",
                                                                          4: "enc_block3"}
    assert [m.get_layer(f"enc_block{i}").output.shape[-1] for i in (14, 6, 3)] == [120, 48, 24]
    assert m.get_layer("dec32").input.shape[-1] == lite.HEAD and "enc_block20_project" in {x.name for x in m.layers}
    assert m.output.shape[-1] == channels
    ab = models.predict_ab(m, np.random.default_rng(0).uniform(0, 100, (2, 64, 96, 1)).astype(np.float32))
    assert ab.shape == (2, 64, 96, 2) and np.isfinite(ab).all()


@pytest.mark.slow
@pytest.mark.parametrize("name", LITE2)
def test_each_lite2_model_trains_through_the_command_line_on_the_frozen_imagenet_encoder(name, tmp_path):
    """Two steps at 64 px, batch 2, with the encoder's default (frozen): the run's encoder
    is Lite2's ImageNet file, untouched, and its model colours a photo."""
    make_prepared(tmp_path / "p", {"train": 4, "val": 2}, size=64, per_shard=4)
    extra = []
    if name.endswith("_cls"):
        np.save(tmp_path / "prior.npy", np.full(313, 1 / 313, np.float32))
        extra = ["--prior", tmp_path / "prior.npy"]
    r = cli("train", "--data", tmp_path / "p", "--run", tmp_path / "r", "--model", name, "--size", "64",
            "--batch-size", "2", "--epochs", "1", "--steps-per-epoch", "2", "--val-batches", "1", "--lr", "1e-3",
            *extra)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    model = runs.load(tmp_path / "r")
    assert model.name == name
    sd = read_pth(lite.pth_path("lite2"))
    np.testing.assert_array_equal(model.get_layer("enc_block20_project").get_weights()[0],
                                  np.transpose(sd["_blocks.20._project_conv.weight"], (2, 3, 1, 0)))
    ab = models.predict_ab(model, np.linspace(0, 100, 2 * 64 * 96, dtype=np.float32).reshape(2, 64, 96, 1))
    assert ab.shape == (2, 64, 96, 2) and np.isfinite(ab).all()


def test_the_lite2_recipes_are_lite0s_on_the_larger_encoder_and_start(tmp_path):
    """quality_curve's Lite2 recipes: each is its Lite0 twin's options with the Lite2 model,
    and its `colorpast train` command parses and passes the checks made before a run starts."""
    from colorpast import train
    from colorpast.cli import make_parser
    from colorpast.commands.train import config_from_args

    spec = importlib.util.spec_from_file_location("quality_curve", ROOT / "benchmarks" / "quality_curve.py")
    qc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(qc)
    names = sorted(n for n in qc.RECIPES if "lite2" in n)
    assert names == ["effunet_lite2", "effunet_lite2_cls", "effunet_lite2_cls+mixed", "effunet_lite2_cls+rebalance1",
                     "effunet_lite2_hints"]
    np.save(tmp_path / "prior.npy", np.full(313, 1 / 313, np.float32))
    for name in names:
        twin = qc.RECIPES[name.replace("effunet_lite2", "effunet")]
        assert qc.RECIPES[name] == [o.replace("effunet", "effunet_lite2") for o in twin], name
        cmd = qc.train_command(name, 16000, tmp_path / "data", tmp_path / name, tmp_path / "prior.npy")
        cfg = config_from_args(make_parser().parse_args([str(a) for a in cmd[cmd.index("train"):]]))
        assert cfg.model == qc.RECIPES[name][1] and cfg.size == 224 and cfg.steps_per_epoch == 250
        train.check_options(cfg)
