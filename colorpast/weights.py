"""Published PyTorch weights as Keras files (``colorpast weights fetch colorful|fid-inception``).

``colorful``: downloads the PyTorch file released with richzhang/colorization
(``eccv16``), checks its sha256, converts it once to ``weights/colorful_eccv16.weights.h5``;
afterwards ``models.build("colorful", weights="official")`` loads that file.
``fid-inception``: pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth``, the FID
Inception of pytorch-fid, clean-fid and torch-fidelity, converted to
``weights/fid_inception.weights.h5`` for ``colorpast evaluate --fid`` (``colorpast.fid``).

The ``.pth`` is read **without PyTorch**: a PyTorch checkpoint is a zip of one pickle
(``data.pkl``, the state_dict's structure) and raw little-endian storages
(``data/0`` ...), or, before PyTorch 1.6, a stream of pickles followed by the storages.
A restricted unpickler that knows only ``OrderedDict``, the tensor-rebuild function and
the storage types turns it into NumPy arrays, and refuses anything else, so a file from
the internet cannot run code, and Colab users need no 800 MB torch install.

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

import pickle
import urllib.error
import urllib.request
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm  # widgets in notebooks, text elsewhere

from colorpast.errors import UserError
from colorpast.fsutil import atomic_path, commit, discard, sha256_file


@dataclass(frozen=True)
class Release:
    url: str
    sha256: str
    filename: str  # the downloaded file, kept beside the converted one
    converted: str  # the Keras weights file
    kind: str = "colorful"  # which converter: "colorful" or "fid-inception"


# The sha256 starts with the "9b330a0b" in the file name (torch.hub's check_hash
# convention); the full value is as pinned by two independent projects that use it.
RELEASES = {
    "colorful": Release(
        url="https://colorizers.s3.us-east-2.amazonaws.com/colorization_release_v2-9b330a0b.pth",
        sha256="9b330a0bae53f4ded77b1e23defbf78beaa09c10ebc4c4999e8e4f4a160b93f9",
        filename="colorization_release_v2-9b330a0b.pth",
        converted="colorful_eccv16.weights.h5",
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


# ------------------------------------------------------------------ .pth without torch

_MAGIC = 0x1950A86A20F9469CFC6C  # the legacy (pre-1.6) torch.save format starts with it
_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


class _StorageType:
    def __init__(self, name):
        self.dtype = np.dtype(_DTYPES[name]).newbyteorder("<")


class _Storage:
    def __init__(self, key, dtype):
        self.key, self.dtype, self.array = key, dtype, None


class _Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def numpy(self) -> np.ndarray:
        a = self.storage.array
        if int(np.prod(self.size)) and self.offset + sum((s - 1) * st for s, st in zip(self.size, self.stride)) >= len(a):
            raise ValueError("a tensor extends past its storage")
        view = np.lib.stride_tricks.as_strided(
            a[self.offset:], shape=self.size, strides=[st * a.itemsize for st in self.stride]
        )
        return np.array(view, dtype=a.dtype.newbyteorder("="))


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    return _Tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=True, backward_hooks=None):
    return data


class _Unpickler(pickle.Unpickler):
    """Knows OrderedDict, tensors and storages; any other global is refused."""

    def __init__(self, f, storages):
        super().__init__(f)
        self.storages = storages

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if (module, name) == ("torch._utils", "_rebuild_parameter"):
            return _rebuild_parameter
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a weights file")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        storage_type, key = pid[1], str(pid[2])
        if len(pid) > 5 and pid[5] is not None:
            raise pickle.UnpicklingError("storage views are not supported")
        if key not in self.storages:
            self.storages[key] = _Storage(key, storage_type.dtype)
        return self.storages[key]


def read_pth(path) -> dict[str, np.ndarray]:
    """A PyTorch ``state_dict`` file -> {key: NumPy array}, without importing torch."""
    path = Path(path)
    storages: dict[str, _Storage] = {}
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                pkl = next(n for n in z.namelist() if n.endswith("/data.pkl") or n == "data.pkl")
                prefix = pkl[: -len("data.pkl")]
                obj = _Unpickler(z.open(pkl), storages).load()
                for key, s in storages.items():
                    s.array = np.frombuffer(z.read(f"{prefix}data/{key}"), dtype=s.dtype)
        else:
            with open(path, "rb") as f:
                if pickle.load(f) != _MAGIC:
                    raise pickle.UnpicklingError("not a PyTorch file")
                pickle.load(f)  # protocol version
                pickle.load(f)  # sys info
                obj = _Unpickler(f, storages).load()
                for key in pickle.load(f):
                    s = storages[str(key)]
                    n = int.from_bytes(f.read(8), "little")
                    s.array = np.frombuffer(f.read(n * s.dtype.itemsize), dtype=s.dtype)
    except (pickle.UnpicklingError, zipfile.BadZipFile, StopIteration, KeyError, EOFError, ValueError) as e:
        raise UserError(f"cannot read {path} as a PyTorch state_dict: {e}") from None
    if not isinstance(obj, dict):
        raise UserError(f"{path} holds a {type(obj).__name__}, not a state_dict")
    return {k: v.numpy() for k, v in obj.items() if isinstance(v, _Tensor)}


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


def save_weights_atomic(model, out_path) -> Path:
    """``model``'s weights to ``out_path`` (a ``.weights.h5``): the old file or the whole new one."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        model.save_weights(str(tmp))
    return out


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
    return convert_colorful(src, out)
