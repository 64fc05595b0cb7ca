"""The FID Inception network in Keras, and its weights converted from pytorch-fid's ``.pth``.

The network every colorization paper's FID tool uses (pytorch-fid, clean-fid and
torch-fidelity): Inception v3 with the TensorFlow 2015-12-05 weights the original FID code
used, as pytorch-fid releases them (``pt_inception-2015-12-05-6726825d.pth``). Its
structure differs from torchvision's Inception v3 in three places, kept here: the average
pools of the A, C and E blocks do not count padding (TensorFlow's rule), and the last E
block pools with a max instead of an average. ``colorpast weights fetch fid-inception``
downloads and converts the weights; ``colorpast.fid`` computes features and FID with it.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
from keras import layers

from colorpast.errors import UserError
from colorpast.models.colorful import weights_dir
from colorpast.pth import read_pth, save_weights_atomic

SIZE = 299  # the network's input side
BN_EPSILON = 1e-3  # torchvision's BasicConv2d
CONVERTED = "fid_inception.weights.h5"


def weights_path() -> Path:
    return weights_dir() / CONVERTED


class _Builder:
    """Builds the network and remembers each Keras layer's PyTorch key prefix."""

    def __init__(self):
        self.layers = layers
        self.key_map: dict[str, str] = {}  # keras layer name -> (conv name, bn name, prefix)

    def conv(self, x, prefix: str, filters: int, kernel, stride: int = 1, padding: str = "same"):
        """torchvision's BasicConv2d: conv without bias, BatchNorm (eps 1e-3), ReLU."""
        L = self.layers
        name = prefix.replace(".", "_")
        x = L.Conv2D(filters, kernel, strides=stride, padding=padding, use_bias=False, name=name + "_conv")(x)
        x = L.BatchNormalization(epsilon=BN_EPSILON, name=name + "_bn")(x)
        self.key_map[name] = prefix
        return L.ReLU(name=name + "_relu")(x)

    def avg_pool_same(self, x, name):
        # Keras "same" average pooling divides by the number of real pixels in the
        # window, as TensorFlow does and pytorch-fid's count_include_pad=False.
        return self.layers.AveragePooling2D(3, 1, padding="same", name=name)(x)

    def block_a(self, x, p, pool_features):
        b1 = self.conv(x, f"{p}.branch1x1", 64, 1)
        b5 = self.conv(self.conv(x, f"{p}.branch5x5_1", 48, 1), f"{p}.branch5x5_2", 64, 5)
        b3 = self.conv(x, f"{p}.branch3x3dbl_1", 64, 1)
        b3 = self.conv(self.conv(b3, f"{p}.branch3x3dbl_2", 96, 3), f"{p}.branch3x3dbl_3", 96, 3)
        bp = self.conv(self.avg_pool_same(x, f"{p}_pool"), f"{p}.branch_pool", pool_features, 1)
        return self.layers.Concatenate(name=f"{p}_cat")([b1, b5, b3, bp])

    def block_b(self, x, p):
        b3 = self.conv(x, f"{p}.branch3x3", 384, 3, 2, "valid")
        bd = self.conv(x, f"{p}.branch3x3dbl_1", 64, 1)
        bd = self.conv(self.conv(bd, f"{p}.branch3x3dbl_2", 96, 3), f"{p}.branch3x3dbl_3", 96, 3, 2, "valid")
        bp = self.layers.MaxPooling2D(3, 2, name=f"{p}_pool")(x)
        return self.layers.Concatenate(name=f"{p}_cat")([b3, bd, bp])

    def block_c(self, x, p, c7):
        b1 = self.conv(x, f"{p}.branch1x1", 192, 1)
        b7 = self.conv(x, f"{p}.branch7x7_1", c7, 1)
        b7 = self.conv(self.conv(b7, f"{p}.branch7x7_2", c7, (1, 7)), f"{p}.branch7x7_3", 192, (7, 1))
        bd = self.conv(x, f"{p}.branch7x7dbl_1", c7, 1)
        bd = self.conv(bd, f"{p}.branch7x7dbl_2", c7, (7, 1))
        bd = self.conv(bd, f"{p}.branch7x7dbl_3", c7, (1, 7))
        bd = self.conv(bd, f"{p}.branch7x7dbl_4", c7, (7, 1))
        bd = self.conv(bd, f"{p}.branch7x7dbl_5", 192, (1, 7))
        bp = self.conv(self.avg_pool_same(x, f"{p}_pool"), f"{p}.branch_pool", 192, 1)
        return self.layers.Concatenate(name=f"{p}_cat")([b1, b7, bd, bp])

    def block_d(self, x, p):
        b3 = self.conv(self.conv(x, f"{p}.branch3x3_1", 192, 1), f"{p}.branch3x3_2", 320, 3, 2, "valid")
        b7 = self.conv(x, f"{p}.branch7x7x3_1", 192, 1)
        b7 = self.conv(b7, f"{p}.branch7x7x3_2", 192, (1, 7))
        b7 = self.conv(b7, f"{p}.branch7x7x3_3", 192, (7, 1))
        b7 = self.conv(b7, f"{p}.branch7x7x3_4", 192, 3, 2, "valid")
        bp = self.layers.MaxPooling2D(3, 2, name=f"{p}_pool")(x)
        return self.layers.Concatenate(name=f"{p}_cat")([b3, b7, bp])

    def block_e(self, x, p, max_pool: bool):
        L = self.layers
        b1 = self.conv(x, f"{p}.branch1x1", 320, 1)
        b3 = self.conv(x, f"{p}.branch3x3_1", 384, 1)
        b3 = L.Concatenate(name=f"{p}_cat3")(
            [self.conv(b3, f"{p}.branch3x3_2a", 384, (1, 3)), self.conv(b3, f"{p}.branch3x3_2b", 384, (3, 1))]
        )
        bd = self.conv(self.conv(x, f"{p}.branch3x3dbl_1", 448, 1), f"{p}.branch3x3dbl_2", 384, 3)
        bd = L.Concatenate(name=f"{p}_catd")(
            [self.conv(bd, f"{p}.branch3x3dbl_3a", 384, (1, 3)), self.conv(bd, f"{p}.branch3x3dbl_3b", 384, (3, 1))]
        )
        # The FID network's last block max-pools here (pytorch-fid's FIDInceptionE_2).
        pool = L.MaxPooling2D(3, 1, padding="same", name=f"{p}_pool") if max_pool else None
        bp = pool(x) if max_pool else self.avg_pool_same(x, f"{p}_pool")
        bp = self.conv(bp, f"{p}.branch_pool", 192, 1)
        return L.Concatenate(name=f"{p}_cat")([b1, b3, bd, bp])


def build_inception(weights=None):
    """The FID Inception as a Keras model: ``N x 299 x 299 x 3`` RGB in [0, 1] -> ``N x 2048``.

    weights: None (random init), "fid" (``weights/fid_inception.weights.h5``, made by
    ``colorpast weights fetch fid-inception``) or the path of a ``.weights.h5`` file.
    Returns the model; ``model.torch_keys`` maps its BasicConv2d names to the PyTorch
    state_dict prefixes (``Mixed_5b.branch1x1``).
    """
    b = _Builder()
    inputs = keras.Input((SIZE, SIZE, 3), name="rgb")
    x = layers.Rescaling(2.0, offset=-1.0, name="normalize")(inputs)  # [0, 1] -> [-1, 1]
    x = b.conv(x, "Conv2d_1a_3x3", 32, 3, 2, "valid")
    x = b.conv(x, "Conv2d_2a_3x3", 32, 3, 1, "valid")
    x = b.conv(x, "Conv2d_2b_3x3", 64, 3)
    x = layers.MaxPooling2D(3, 2, name="maxpool1")(x)
    x = b.conv(x, "Conv2d_3b_1x1", 80, 1)
    x = b.conv(x, "Conv2d_4a_3x3", 192, 3, 1, "valid")
    x = layers.MaxPooling2D(3, 2, name="maxpool2")(x)
    x = b.block_a(x, "Mixed_5b", 32)
    x = b.block_a(x, "Mixed_5c", 64)
    x = b.block_a(x, "Mixed_5d", 64)
    x = b.block_b(x, "Mixed_6a")
    for p, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
        x = b.block_c(x, p, c7)
    x = b.block_d(x, "Mixed_7a")
    x = b.block_e(x, "Mixed_7b", max_pool=False)
    x = b.block_e(x, "Mixed_7c", max_pool=True)
    outputs = layers.GlobalAveragePooling2D(name="pool3")(x)  # N x 2048
    model = keras.Model(inputs, outputs, name="fid_inception")
    model.torch_keys = dict(b.key_map)
    if weights is not None:
        path = weights_path() if weights == "fid" else Path(weights)
        if not path.is_file():
            hint = "; run: colorpast weights fetch fid-inception" if weights == "fid" else ""
            raise UserError(f"no FID Inception weights {path}{hint}")
        model.load_weights(str(path))
    return model


def inception_from_state_dict(sd: dict[str, np.ndarray]):
    """The Keras FID Inception with a pytorch-fid ``state_dict``'s weights (fc and any
    other keys it does not use are ignored; a missing or misshapen one is a UserError)."""
    model = build_inception()
    missing = []
    for name, prefix in model.torch_keys.items():
        conv, bn = model.get_layer(name + "_conv"), model.get_layer(name + "_bn")
        try:
            w = sd[f"{prefix}.conv.weight"]
            stats = [sd[f"{prefix}.bn.{k}"] for k in ("weight", "bias", "running_mean", "running_var")]
        except KeyError as e:
            missing.append(str(e.args[0]))
            continue
        w = np.transpose(w, (2, 3, 1, 0))  # PyTorch (out, in, kh, kw) -> Keras (kh, kw, in, out)
        if w.shape != tuple(conv.kernel.shape):
            raise UserError(f"{prefix}.conv.weight: shape {w.shape} does not fit {tuple(conv.kernel.shape)}")
        conv.set_weights([w.astype(np.float32)])
        bn.set_weights([np.asarray(s, np.float32) for s in stats])
    if missing:
        raise UserError(
            f"the state_dict lacks weights of {len(missing)} of the FID Inception's {len(model.torch_keys)} "
            f"convolutions, e.g. {missing[0]}"
        )
    return model


def convert(pth_path, out_path) -> Path:
    """Convert pytorch-fid's ``.pth`` to a Keras ``.weights.h5`` (written atomically)."""
    return save_weights_atomic(inception_from_state_dict(read_pth(pth_path)), out_path)


def load_inception(path=None):
    """The FID Inception with its real weights, or a one-line UserError that says how to get them."""
    path = Path(path) if path is not None else weights_path()
    if not path.is_file():
        raise UserError(
            f"FID needs the FID Inception weights ({path} is missing): run `colorpast weights fetch "
            "fid-inception` once (downloads pytorch-fid's 91 MB pt_inception-2015-12-05 file), or drop --fid"
        )
    return build_inception(weights=path)
