"""A PyTorch reference of the official ECCV16 network (richzhang/colorization ``eccv16``),
written from its published description, with the official state_dict key names.

Only the tests import this (torch is a development dependency).
"""

import numpy as np
import torch
from torch import nn

from colorpast.models import bins


def _block(cin, cout, n, stride, dilation, bn=True):
    layers = []
    for i in range(n):
        s = stride if i == n - 1 else 1
        layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, stride=s, padding=dilation, dilation=dilation), nn.ReLU()]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    return nn.Sequential(*layers)


class ECCV16Reference(nn.Module):
    """``N x 1 x H x W`` L (Lab units) -> ``N x 2 x H x W`` ab (Lab units), eval mode."""

    def __init__(self):
        super().__init__()
        self.model1 = _block(1, 64, 2, 2, 1)
        self.model2 = _block(64, 128, 2, 2, 1)
        self.model3 = _block(128, 256, 3, 2, 1)
        self.model4 = _block(256, 512, 3, 1, 1)
        self.model5 = _block(512, 512, 3, 1, 2)
        self.model6 = _block(512, 512, 3, 1, 2)
        self.model7 = _block(512, 512, 3, 1, 1)
        self.model8 = nn.Sequential(
            nn.ConvTranspose2d(512, 256, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 313, 1),
        )
        self.softmax = nn.Softmax(dim=1)
        self.model_out = nn.Conv2d(313, 2, 1, bias=False)
        self.upsample4 = nn.Upsample(scale_factor=4, mode="bilinear")
        with torch.no_grad():  # as released: the bin centres / 110
            self.model_out.weight.copy_(torch.from_numpy(bins.ab_bins().T.reshape(2, 313, 1, 1) / 110.0))

    def forward(self, L):
        x = (L - 50.0) / 100.0
        for m in (self.model1, self.model2, self.model3, self.model4, self.model5, self.model6, self.model7):
            x = m(x)
        return self.upsample4(self.model_out(self.softmax(self.model8(x)))) * 110.0


def random_reference(seed=0):
    """The reference with random weights and non-trivial BatchNorm statistics, in eval mode."""
    torch.manual_seed(seed)
    net = ECCV16Reference()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.02, 0.2)  # small, so BatchNorm epsilon matters
        # Larger logits than the default init, so the softmax is far from uniform.
        net.model8[6].weight.mul_(20.0)
    return net.eval()


def to_numpy_ab(net, L_nhwc: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        out = net(torch.from_numpy(np.ascontiguousarray(L_nhwc.transpose(0, 3, 1, 2))))
    return out.numpy().transpose(0, 2, 3, 1)
