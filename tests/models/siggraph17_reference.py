"""A PyTorch reference of the published SIGGRAPH 2017 network (richzhang/colorization
``siggraph17``), written from its published description, with the release's state_dict
key names (``model1.0``, ``model8up.0``, ``model3short8.0``, ``model_class.0`` ...).

Only the tests import this (torch is a development dependency).
"""

import numpy as np
import torch
from torch import nn


def _block(cin, cout, n, dilation=1):
    layers = []
    for i in range(n):
        layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, padding=dilation, dilation=dilation), nn.ReLU()]
    return nn.Sequential(*layers, nn.BatchNorm2d(cout))


class SIGGRAPH17Reference(nn.Module):
    """(L ``N x 1 x H x W``, ab ``N x 2 x H x W``, mask ``N x 1 x H x W``), Lab units ->
    ab ``N x 2 x H x W`` (Lab units), eval mode."""

    def __init__(self):
        super().__init__()
        self.model1 = _block(4, 64, 2)
        self.model2 = _block(64, 128, 2)
        self.model3 = _block(128, 256, 3)
        self.model4 = _block(256, 512, 3)
        self.model5 = _block(512, 512, 3, dilation=2)
        self.model6 = _block(512, 512, 3, dilation=2)
        self.model7 = _block(512, 512, 3)
        self.model8up = nn.Sequential(nn.ConvTranspose2d(512, 256, 4, stride=2, padding=1))
        self.model3short8 = nn.Sequential(nn.Conv2d(256, 256, 3, padding=1))
        self.model8 = nn.Sequential(nn.ReLU(), nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(),
                                    nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(256))
        self.model9up = nn.Sequential(nn.ConvTranspose2d(256, 128, 4, stride=2, padding=1))
        self.model2short9 = nn.Sequential(nn.Conv2d(128, 128, 3, padding=1))
        self.model9 = nn.Sequential(nn.ReLU(), nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(128))
        self.model10up = nn.Sequential(nn.ConvTranspose2d(128, 128, 4, stride=2, padding=1))
        self.model1short10 = nn.Sequential(nn.Conv2d(64, 128, 3, padding=1))
        self.model10 = nn.Sequential(nn.ReLU(), nn.Conv2d(128, 128, 3, padding=1), nn.LeakyReLU(0.2))
        self.model_class = nn.Sequential(nn.Conv2d(256, 529, 1))  # colour suggestions: in the file, unused
        self.model_out = nn.Sequential(nn.Conv2d(128, 2, 1), nn.Tanh())

    def forward(self, L, ab, mask):
        x = torch.cat(((L - 50.0) / 100.0, ab / 110.0, mask), dim=1)
        c1 = self.model1(x)
        c2 = self.model2(c1[:, :, ::2, ::2])
        c3 = self.model3(c2[:, :, ::2, ::2])
        x = self.model4(c3[:, :, ::2, ::2])
        x = self.model7(self.model6(self.model5(x)))
        x = self.model8(self.model8up(x) + self.model3short8(c3))
        x = self.model9(self.model9up(x) + self.model2short9(c2))
        x = self.model10(self.model10up(x) + self.model1short10(c1))
        return self.model_out(x) * 110.0


def random_reference(seed=0):
    """The reference with random weights and non-trivial BatchNorm statistics, in eval mode."""
    torch.manual_seed(seed)
    net = SIGGRAPH17Reference()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.02, 0.2)  # small, so BatchNorm epsilon matters
    return net.eval()


def to_numpy_ab(net, L, hint_map):
    """The reference on NumPy NHWC: ``L`` ``N x H x W x 1`` and the hint map ``N x H x W x 3``
    (a, b, mask) -> ``N x H x W x 2`` ab in Lab units."""
    t = torch.from_numpy(np.ascontiguousarray(np.concatenate([L, hint_map], -1).transpose(0, 3, 1, 2)))
    with torch.no_grad():
        return net(t[:, :1], t[:, 1:3], t[:, 3:4]).numpy().transpose(0, 2, 3, 1)
