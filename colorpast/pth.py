"""PyTorch ``.pth`` files read without PyTorch, and Keras weights written atomically.

A PyTorch checkpoint is a zip of one pickle (``data.pkl``, the state_dict's structure)
and raw little-endian storages (``data/0`` ...), or, before PyTorch 1.6, a stream of
pickles followed by the storages. A restricted unpickler that knows only
``OrderedDict``, the tensor-rebuild function and the storage types turns it into NumPy
arrays, and refuses anything else, so a file from the internet cannot run code, and
Colab users need no 800 MB torch install. ``colorpast.weights`` and
``colorpast.models.fid_inception`` convert what it reads and save it with
:func:`save_weights_atomic`. No Keras import: the model to save is passed in.
"""

from __future__ import annotations

import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

from colorpast.errors import UserError
from colorpast.fsutil import atomic_path

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


def save_weights_atomic(model, out_path) -> Path:
    """``model``'s weights to ``out_path`` (a ``.weights.h5``): the old file or the whole new one."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        model.save_weights(str(tmp))
    return out
