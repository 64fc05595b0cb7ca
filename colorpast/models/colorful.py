"""colorful: "Colorful Image Colorization" (Zhang, Isola, Efros, ECCV 2016) in Keras.

The network of the official release (colorization_deploy_v2 / the PyTorch ``eccv16``),
layer for layer:

    conv1  2 x conv 64   (the 2nd stride 2), BatchNorm      -> H/2
    conv2  2 x conv 128  (the 2nd stride 2), BatchNorm      -> H/4
    conv3  3 x conv 256  (the 3rd stride 2), BatchNorm      -> H/8
    conv4  3 x conv 512, BatchNorm
    conv5  3 x conv 512 dilated 2, BatchNorm
    conv6  3 x conv 512 dilated 2, BatchNorm
    conv7  3 x conv 512, BatchNorm
    conv8  transposed conv 256 (4x4, stride 2), 2 x conv 256 -> H/4
    conv8_313  1x1 conv to the 313 ab classes (logits)

All convolutions are 3x3 with ReLU; strided ones pad one pixel on every side, as
PyTorch and Caffe do (Keras "same" would pad only bottom/right and shift the grid).
BatchNorm epsilon is 1e-5, PyTorch's.

Input: L in Lab units (0..100), ``N x H x W x 1``, H and W divisible by 8; the model
normalises it itself to (L - 50) / 100, as the official PyTorch release does.
Output: **logits** ``N x H/4 x W/4 x 313`` at temperature 1, unnormalised: training
needs logits (a stable cross-entropy) and decoding picks its own temperature.

Decoding (``colorful_to_ab``): annealed mean, softmax(logits / T) times the bin centres,
then bilinear x4 upsampling (half-pixel centres, as PyTorch's ``Upsample``) to the
input size. The default T = 1 / 2.606 = 0.3837, the factor the official Caffe release
applies in its ``conv8_313_rh`` Scale layer and the "T = 0.38" of the paper. The
official PyTorch release has no such layer: its ``model8.6`` convolution has the
factor 2.606 folded in, so the converter (``colorpast.weights``) divides that layer by
2.606 and the temperature means the same for official and self-trained weights.

Training: ``target_from_ab`` turns ab (Lab units, ``N x H x W x 2``) into ab averaged
over 4x4 cells (``N x H/4 x W/4 x 2``, Lab units); :func:`make_loss` soft-encodes it
over the 313 bins and weights each pixel by the class-rebalancing weight of its
nearest bin, in-graph.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops

from colorpast.color import L_CENT, L_NORM
from colorpast.errors import UserError
# Named as modules, not `from colorpast.models import ...`: the package imports this module.
import colorpast.models.bins as bins
from colorpast.models.registry import ModelSpec, register

OFFICIAL_SCALE = 2.606  # Caffe conv8_313_rh: logits are multiplied by this before the softmax
DEFAULT_TEMPERATURE = 1.0 / OFFICIAL_SCALE  # 0.3837, "0.38" in the paper
BN_EPSILON = 1e-5
OFFICIAL_WEIGHTS = "colorful_eccv16.weights.h5"

# Block: (filters, number of convs, stride of the last conv, dilation); blocks 1 to 7.
_BLOCKS = [(64, 2, 2, 1), (128, 2, 2, 1), (256, 3, 2, 1), (512, 3, 1, 1), (512, 3, 1, 2), (512, 3, 1, 2), (512, 3, 1, 1)]


def official_key_map() -> dict[str, str]:
    """Keras layer name -> key prefix of the official PyTorch state_dict (``model1.0`` ...).

    In the PyTorch ``nn.Sequential`` blocks every conv is followed by a ReLU, so convs
    sit at even indices and the BatchNorm after the last ReLU.
    """
    m = {}
    for b, (_, n, _, _) in enumerate(_BLOCKS, start=1):
        for i in range(n):
            m[f"conv{b}_{i + 1}"] = f"model{b}.{2 * i}"
        m[f"conv{b}_bn"] = f"model{b}.{2 * n}"
    m.update({"conv8_1": "model8.0", "conv8_2": "model8.2", "conv8_3": "model8.4", "conv8_313": "model8.6"})
    return m


def weights_dir() -> Path:
    """Where official weights live: ``$COLORPAST_WEIGHTS`` or ``./weights``."""
    return Path(os.environ.get("COLORPAST_WEIGHTS", "weights"))


def build_colorful(input_shape=(None, None, 1), weights=None, name: str = "colorful") -> keras.Model:
    """The ECCV16 network, ``N x H x W x 1`` L (Lab units) -> ``N x H/4 x W/4 x 313`` logits.

    weights: None (random init), "official" (``weights/colorful_eccv16.weights.h5``,
    made by ``colorpast weights fetch colorful``) or the path of a ``.weights.h5`` file.
    """
    inputs = keras.Input(shape=input_shape, name="L")
    x = layers.Rescaling(1.0 / L_NORM, offset=-L_CENT / L_NORM, name="normalize_l")(inputs)
    for b, (filters, n, stride, dil) in enumerate(_BLOCKS, start=1):
        for i in range(n):
            s = stride if i == n - 1 else 1
            if s > 1:
                x = layers.ZeroPadding2D(1, name=f"pad{b}_{i + 1}")(x)
            x = layers.Conv2D(
                filters, 3, strides=s, dilation_rate=dil, padding="valid" if s > 1 else "same",
                activation="relu", name=f"conv{b}_{i + 1}",
            )(x)
        x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"conv{b}_bn")(x)
    x = layers.Conv2DTranspose(256, 4, strides=2, padding="same", activation="relu", name="conv8_1")(x)
    x = layers.Conv2D(256, 3, padding="same", activation="relu", name="conv8_2")(x)
    x = layers.Conv2D(256, 3, padding="same", activation="relu", name="conv8_3")(x)
    outputs = layers.Conv2D(bins.Q, 1, name="conv8_313", dtype="float32")(x)  # float32 logits under mixed precision
    return load_weights(keras.Model(inputs, outputs, name=name), weights, OFFICIAL_WEIGHTS, "colorful")


def load_weights(model: keras.Model, weights, official_file: str, release: str) -> keras.Model:
    """``model`` with ``weights``: None (as built), "official" (``weights_dir()/official_file``,
    made by ``colorpast weights fetch RELEASE``) or the path of a ``.weights.h5`` file; a
    missing file is one line naming the fetch. Shared by the models with published weights."""
    if weights is None:
        return model
    path = weights_dir() / official_file if weights == "official" else Path(weights)
    if not path.is_file():
        hint = f"; run: colorpast weights fetch {release}" if weights == "official" else ""
        raise UserError(f"no weights file {path}{hint}")
    model.load_weights(str(path))
    return model


def colorful_to_ab(logits, temperature: float | None = None) -> np.ndarray:
    """``N x h x w x 313`` logits -> ``N x 4h x 4w x 2`` ab in Lab units (annealed mean).

    temperature: None for :data:`DEFAULT_TEMPERATURE`; 1 gives the mean of the
    predicted distribution, values towards 0 its mode.
    """
    t = DEFAULT_TEMPERATURE if temperature is None else float(temperature)
    ab = bins.annealed_mean(logits, t)  # N x h x w x 2
    h, w = ab.shape[1], ab.shape[2]
    # Decoding is linear in the distribution, so upsampling ab equals upsampling it.
    return ops.convert_to_numpy(ops.image.resize(ab, (4 * h, 4 * w), interpolation="bilinear"))


def target_from_ab(ab):
    """``N x H x W x 2`` ab (Lab units) -> ``N x H/4 x W/4 x 2``: the mean of each 4x4 cell."""
    return ops.average_pool(ops.cast(ops.convert_to_tensor(ab), "float32"), 4, 4, padding="valid")


@keras.saving.register_keras_serializable(package="colorpast")
class ColorfulLoss(keras.losses.Loss):
    """Class-rebalanced multinomial cross-entropy of Zhang et al. 2016 (eq. 2).

    y_true: ``N x h x w x 2`` ab in Lab units (``target_from_ab``); y_pred: ``N x h x w x
    313`` logits. Per pixel: ``-w[q*] * sum_q Z_q log softmax(y_pred)_q`` with Z the soft
    encoding (5 nearest bins, sigma 5) and q* its nearest bin. ``weights``: 313
    rebalancing weights (``bins.rebalance_weights``), or None for no rebalancing.
    """

    def __init__(self, weights=None, name="colorful_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.class_weights = None if weights is None else [float(v) for v in np.reshape(weights, -1)]
        if self.class_weights is not None and len(self.class_weights) != bins.Q:
            raise ValueError(f"expected {bins.Q} class weights, got {len(self.class_weights)}")

    def call(self, y_true, y_pred):
        z = bins.soft_encode(y_true)
        ce = -ops.sum(z * ops.log_softmax(ops.cast(y_pred, "float32"), axis=-1), axis=-1)
        if self.class_weights is None:
            return ce
        w = ops.take(ops.convert_to_tensor(np.asarray(self.class_weights, np.float32)), ops.argmax(z, axis=-1))
        return w * ce

    def get_config(self):
        return {**super().get_config(), "weights": self.class_weights}


# The mixed loss's weight on its L1 term (ab / 128 units) against the cross-entropy
# (nats). Chosen, not tuned: a decoder at L1 0.08 (about 10 Lab units off) then adds 0.8,
# about what the cross-entropy has left to learn above its floor (the soft targets'
# entropy, about 1.2 nats) after a few thousand images.
MIXED_L1 = 10.0


@keras.saving.register_keras_serializable(package="colorpast")
class MixedLoss(ColorfulLoss):
    """The rebalanced cross-entropy plus ``l1`` times the L1 distance (ab / 128) between
    the truth and the annealed mean at ``temperature`` (what colorize shows).

    The cross-entropy keeps a distribution over colours (a red dress stays possibly red,
    not averaged into brown); the L1 term asks the decoded colour itself to be right,
    which the cross-entropy never sees. Same inputs as :class:`ColorfulLoss`.
    """

    def __init__(self, weights=None, l1: float = MIXED_L1, temperature: float = DEFAULT_TEMPERATURE,
                 name="mixed_loss", **kwargs):
        super().__init__(weights, name=name, **kwargs)
        self.l1, self.temperature = float(l1), float(temperature)

    def call(self, y_true, y_pred):
        ab = bins.annealed_mean(y_pred, self.temperature)  # N x h x w x 2, Lab units
        l1 = ops.mean(ops.abs(ab - ops.cast(y_true, "float32")), axis=-1) / 128.0
        return super().call(y_true, y_pred) + self.l1 * l1

    def get_config(self):
        return {**super().get_config(), "l1": self.l1, "temperature": self.temperature}


def make_loss(prior_path=None, mix: float = bins.MIX, mixed: bool = False) -> ColorfulLoss:
    """The training loss; ``prior_path``: a 313-bin ab prior ``.npy`` from ``colorpast prior``
    (rebalancing with sigma 5 and lambda ``mix``, the paper's 0.5 by default; 1 weighs
    every class alike), or None for the plain cross-entropy. ``mixed``: plus L1 on the
    decoded colour (:class:`MixedLoss`)."""
    if not 0.0 <= mix <= 1.0:
        raise UserError(f"the rebalancing lambda is between 0 and 1; got {mix}")
    kind = MixedLoss if mixed else ColorfulLoss
    if prior_path is None:
        return kind(None)
    p = Path(prior_path)
    if not p.is_file():
        raise UserError(f"no prior file {p}; make one with: colorpast prior --data PREPARED --out {p}")
    return kind(bins.rebalance_weights(np.load(p), mix=mix))


register(
    ModelSpec(
        name="colorful",
        builder=build_colorful,
        to_ab=colorful_to_ab,
        target_from_ab=target_from_ab,
        multiple=8,
        default_size=224,
        description="Zhang et al. 2016: 313 ab classes, rebalanced cross-entropy, annealed mean",
        make_loss=make_loss,
    )
)
