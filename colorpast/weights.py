"""Published PyTorch weights as Keras files (``colorpast weights fetch colorful|fid-inception``).

``colorful``: downloads the PyTorch file released with richzhang/colorization
(``eccv16``), checks its sha256, converts it once to ``weights/colorful_eccv16.weights.h5``;
afterwards ``models.build("colorful", weights="official")`` loads that file.
``fid-inception``: pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth``, the FID
Inception of pytorch-fid, clean-fid and torch-fidelity, converted to
``weights/fid_inception.weights.h5`` for ``colorpast evaluate --fid`` (``colorpast.fid``).

The ``.pth`` is read **without PyTorch** (``colorpast.pth``), so a file from the internet
cannot run code, and Colab users need no 800 MB torch install.

Layout conversion (PyTorch NCHW -> Keras NHWC): conv kernels ``(out, in, kh, kw)`` ->
``(kh, kw, in, out)``; transposed-conv kernels ``(in, out, kh, kw)`` -> ``(kh, kw, out,
in)``; BatchNorm weight, bias, running mean, running var -> gamma, beta, moving mean,
moving variance. The last 313-way convolution is divided by the 2.606 the release folds
into it (see ``colorpast.models.colorful``), and the release's ``model_out`` (1x1 conv
313 -> 2, the bin centres / 110) is checked against ``colorpast.models.bins``.

Keras (with ``colorpast.models``) is imported inside the functions
that build models: ``colorpast weights --help`` reads ``RELEASES`` from here and stays fast.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm  # widgets in notebooks, text elsewhere

from colorpast.errors import UserError
from colorpast.fsutil import commit, discard, sha256_file
from colorpast.pth import read_pth, save_weights_atomic


def bundled(name: str) -> Path | None:
    """The weights file this project ships for the registered model ``name`` (``NAME:bundled``,
    ``colorpast.bundled``), or None when none ships."""
    from colorpast import bundled as shipped

    return shipped.path(name)


@dataclass(frozen=True)
class Release:
    url: str
    sha256: str
    filename: str  # the downloaded file, kept beside the converted one
    converted: str  # the Keras weights file
    kind: str = "colorful"  # which converter: "colorful", "siggraph17" or "fid-inception"


# The sha256 starts with the "9b330a0b" in the file name (torch.hub's check_hash
# convention); the full value is as pinned by two independent projects that use it.
RELEASES = {
    "colorful": Release(
        url="https://colorizers.s3.us-east-2.amazonaws.com/colorization_release_v2-9b330a0b.pth",
        sha256="9b330a0bae53f4ded77b1e23defbf78beaa09c10ebc4c4999e8e4f4a160b93f9",
        filename="colorization_release_v2-9b330a0b.pth",
        converted="colorful_eccv16.weights.h5",
    ),
    # Zhang et al. 2017's user-guided network, beside Colorful's in the same release. The
    # sha256 starts with the "df00044c" of its name; the full value and the size (136,787,426
    # bytes) are as two independent projects record them. Not downloadable where this was
    # written (only the package registry is reachable): the value is not verified here. The
    # size fits the architecture: its 34,192,787 float32 values are 136,771,148 bytes.
    "siggraph17": Release(
        url="https://colorizers.s3.us-east-2.amazonaws.com/siggraph17-df00044c.pth",
        sha256="df00044c0a4d7c3edcecf6f75437ce346a66e7a42612d9b968e1a7e17dbc6f66",
        filename="siggraph17-df00044c.pth",
        converted="siggraph17.weights.h5",
        kind="siggraph17",
    ),
    # pytorch-fid's release, the file that clean-fid and torch-fidelity use too. The
    # "6726825d" in its name is the start of its sha256 (torch.hub's convention); the full
    # value is as one other project records it for the same file name. The file could not
    # be downloaded where this was written, so this value is not verified here.
    "fid-inception": Release(
        url="https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth",
        sha256="6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2",
        filename="pt_inception-2015-12-05-6726825d.pth",
        converted="fid_inception.weights.h5",
        kind="fid-inception",
    ),
}


# ----------------------------------------------------------------------------- download


def download(url: str, dest, sha256: str, progress: bool = True, timeout: float = 60) -> Path:
    """Download ``url`` to ``dest`` and check its sha256; return ``dest``.

    Writes ``dest.partial`` first (a fixed name, not ``fsutil``'s per-process one, so that
    a later run can resume it with an HTTP Range request when this one was interrupted);
    ``fsutil.commit`` renames it, durably, only after the checksum matches. On a
    mismatch the partial file is removed and a UserError says so. A ``dest`` that
    already exists with the right checksum is kept as it is.
    """
    dest = Path(dest)
    if dest.is_file() and sha256_file(dest) == sha256:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".partial")
    have = part.stat().st_size if part.is_file() else 0
    req = urllib.request.Request(url, headers={"User-Agent": "colorpast"})
    if have:
        req.add_header("Range", f"bytes={have}-")
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # the partial file is already complete
            resp = None
        else:
            raise UserError(f"could not download {url}: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError) as e:
        raise UserError(f"could not download {url}: {getattr(e, 'reason', e)}") from None
    if resp is not None:
        with resp:
            mode = "ab" if have and resp.status == 206 else "wb"
            done = have if mode == "ab" else 0
            total = resp.headers.get("Content-Length")
            total = int(total) + done if total is not None else None
            bar = None
            if progress:
                bar = tqdm(total=total, initial=done, unit="B", unit_scale=True, desc=dest.name)
            try:
                with open(part, mode) as f:
                    for block in iter(lambda: resp.read(1 << 20), b""):
                        f.write(block)
                        if bar is not None:
                            bar.update(len(block))
            except OSError as e:
                raise UserError(f"download of {url} interrupted ({e}); run the command again to resume") from None
            finally:
                if bar is not None:
                    bar.close()
    got = sha256_file(part)
    if got != sha256:
        discard(part)  # on Drive (weights/ lives there on Colab): empty, not 129 MB, in the Trash
        raise UserError(f"checksum mismatch for {url}: expected sha256 {sha256}, got {got}; the download was removed")
    return commit(part, dest)


# -------------------------------------------------------------------------- convert


def colorful_from_state_dict(sd: dict[str, np.ndarray]):
    """Build the Keras Colorful model with the official PyTorch ``state_dict``'s weights."""
    from colorpast.color import AB_NORM
    from colorpast.models import bins, colorful

    model = colorful.build_colorful((None, None, 1))
    missing = []
    for layer_name, prefix in colorful.official_key_map().items():
        layer = model.get_layer(layer_name)
        try:
            if layer_name.endswith("_bn"):
                vals = [sd[f"{prefix}.{k}"] for k in ("weight", "bias", "running_mean", "running_var")]
            else:
                w, b = sd[f"{prefix}.weight"], sd[f"{prefix}.bias"]
                # Conv2d (out, in, kh, kw) and ConvTranspose2d (in, out, kh, kw) both become
                # Keras (kh, kw, in-of-Conv2D / out-of-transposed, ...): the same permutation.
                w = np.transpose(w, (2, 3, 1, 0))
                if layer_name == "conv8_313":
                    w, b = w / colorful.OFFICIAL_SCALE, b / colorful.OFFICIAL_SCALE
                vals = [w, b]
        except KeyError as e:
            missing.append(str(e.args[0]))
            continue
        want = [tuple(v.shape) for v in layer.get_weights()]
        if [tuple(v.shape) for v in vals] != want:
            raise UserError(f"{prefix}: shapes {[v.shape for v in vals]} do not fit {layer_name} {want}")
        layer.set_weights([np.asarray(v, np.float32) for v in vals])
    if missing:
        raise UserError(f"the state_dict lacks {len(missing)} official keys, e.g. {missing[0]}")
    if "model_out.weight" in sd:
        centres = sd["model_out.weight"].reshape(2, bins.Q).T * AB_NORM
        err = float(np.abs(centres - bins.ab_bins()).max())
        if err > 1e-2:
            raise UserError(f"model_out does not hold the 313 official bin centres (max difference {err:.3g})")
    return model


def siggraph17_from_state_dict(sd: dict[str, np.ndarray]):
    """Build the Keras SIGGRAPH 2017 network with the release's ``state_dict``'s weights.

    Every key is used except ``model_class`` (the colour-suggestion classifier this
    package does not use) and BatchNorm's ``num_batches_tracked``; a key missing, left
    over or of another shape is a one-line error, so a file of another layout never
    loads half-converted."""
    from colorpast.models import siggraph17

    model = siggraph17.build_siggraph17((None, None, 1))
    bn, used, missing = siggraph17.batchnorm_layers(), set(), []
    for layer_name, prefix in siggraph17.key_map().items():
        layer = model.get_layer(layer_name)
        names = [f"{prefix}.{k}" for k in (("weight", "bias", "running_mean", "running_var") if layer_name in bn
                                             else ("weight", "bias"))]
        if any(n not in sd for n in names):
            missing += [n for n in names if n not in sd]
            continue
        vals = [sd[n] for n in names]
        if layer_name not in bn:  # Conv2d (out, in, kh, kw) / ConvTranspose2d (in, out, kh, kw) -> (kh, kw, ., .)
            vals[0] = np.transpose(vals[0], (2, 3, 1, 0))
        want = [tuple(v.shape) for v in layer.get_weights()]
        if [tuple(v.shape) for v in vals] != want:
            raise UserError(f"{prefix}: shapes {[v.shape for v in vals]} do not fit {layer_name} {want}")
        layer.set_weights([np.asarray(v, np.float32) for v in vals])
        used.update(names)
    if missing:
        raise UserError(f"the state_dict lacks {len(missing)} of the release's keys, e.g. {missing[0]}")
    left = sorted(k for k in sd if k not in used and not k.startswith("model_class.") and not k.endswith("num_batches_tracked"))
    if left:
        raise UserError(f"the state_dict has {len(left)} keys this network does not have, e.g. {left[0]}")
    return model


def convert_colorful(pth_path, out_path) -> Path:
    """Convert an official ECCV16 ``.pth`` to a Keras ``.weights.h5`` (written atomically)."""
    return save_weights_atomic(colorful_from_state_dict(read_pth(pth_path)), out_path)


def fetch(name: str, out=None, url=None, force: bool = False, progress: bool = True) -> Path:
    """Download, check and convert the official weights of ``name``; return the Keras file."""
    from colorpast.models import colorful

    rel = RELEASES[name]
    out = Path(out) if out is not None else colorful.weights_dir() / rel.converted
    if out.is_file() and not force:
        return out
    src = download(url or rel.url, out.parent / rel.filename, rel.sha256, progress=progress)
    if rel.kind == "fid-inception":
        from colorpast.models import fid_inception

        return fid_inception.convert(src, out)
    if rel.kind == "siggraph17":
        return save_weights_atomic(siggraph17_from_state_dict(read_pth(src)), out)
    return convert_colorful(src, out)
