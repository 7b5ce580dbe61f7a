"""Torch-free reader for PyTorch's legacy (pre-1.6, non-zip) serialization format.

The MobileFaceNet weights shipped in ``facesdk/model.pt`` were written by ``torch.save`` in the
legacy layout, which is a run of pickles followed by raw storage bytes:

1. magic number, 2. protocol version (1001), 3. ``sys_info`` dict,
4. the object itself, where every tensor storage is a *persistent id*
   ``("storage", storage_type, key, location, numel, view_metadata)`` and tensors are rebuilt by
   ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)``,
5. the list of storage keys in the order their bytes follow,
6. for each key: a little-endian int64 element count and then the raw little-endian elements.

Reading it needs no PyTorch: the unpickler below resolves only an allow-list of globals (storage
types, the tensor rebuild functions, ``OrderedDict``) and refuses everything else, so a tampered
file cannot run code. Tensors come back as numpy arrays.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
from typing import Any, BinaryIO

import numpy as np

__all__ = ["TorchFormatError", "load_legacy_state_dict"]

_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
_PROTOCOL_VERSION = 1001

_STORAGE_DTYPES = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class TorchFormatError(ValueError):
    """The file is not a legacy PyTorch pickle this reader understands."""


class _StorageType:
    def __init__(self, name: str) -> None:
        self.dtype = _STORAGE_DTYPES[name]


class _Storage:
    """A storage whose bytes are filled in after the main pickle has been read."""

    def __init__(self, dtype: np.dtype, numel: int) -> None:
        self.dtype = dtype
        self.numel = numel
        self.data: np.ndarray | None = None


class _PendingTensor:
    def __init__(self, storage: _Storage, offset: int, size: tuple, stride: tuple) -> None:
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def materialise(self) -> np.ndarray:
        data = self.storage.data
        if data is None:
            raise TorchFormatError("tensor refers to a storage whose bytes are missing")
        if not self.size:
            return data[self.offset : self.offset + 1].reshape(()).copy()
        item = data.dtype.itemsize
        last = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride)) if all(self.size) else self.offset
        if self.offset < 0 or last >= max(len(data), 1) and all(self.size):
            raise TorchFormatError("tensor view lies outside its storage")
        view = np.lib.stride_tricks.as_strided(
            data[self.offset :], shape=self.size, strides=[s * item for s in self.stride], writeable=False
        )
        return np.array(view, copy=True)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    return _PendingTensor(storage, storage_offset, size, stride)


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _PendingTensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    return data


class _LegacyUnpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO, storages: dict[str, _Storage]) -> None:
        super().__init__(file, encoding="latin1")
        self._storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch._utils" and name == "_rebuild_tensor":
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        raise TorchFormatError(f"refusing to load global {module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise TorchFormatError(f"unsupported persistent id {pid!r:.80}")
        _, storage_type, key, _location, numel = pid[:5]
        view_metadata = pid[5] if len(pid) > 5 else None
        if not isinstance(storage_type, _StorageType):
            raise TorchFormatError("persistent id without a known storage type")
        if key not in self._storages:
            self._storages[key] = _Storage(storage_type.dtype, int(numel))
        if view_metadata is not None:
            raise TorchFormatError("storage views are not supported")
        return self._storages[key]


def _restricted_load(file: BinaryIO) -> Any:
    return _LegacyUnpickler(file, {}).load()


def load_legacy_state_dict(data: bytes | BinaryIO) -> "collections.OrderedDict[str, np.ndarray]":
    """Read a legacy-format ``torch.save`` state dict into numpy arrays, without PyTorch.

    Args:
        data: the file's bytes, or a binary file object positioned at its start.

    Returns:
        An ordered mapping from parameter name to a C-contiguous numpy array with the tensor's
        shape and dtype (float32 for ordinary weights, int64 for ``num_batches_tracked``).

    Raises:
        TorchFormatError: not a legacy torch file, a global outside the allow-list, or a storage
            whose bytes are missing or short.
    """
    file = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    try:
        if _restricted_load(file) != _MAGIC_NUMBER:
            raise TorchFormatError("not a legacy torch file (bad magic number)")
        if _restricted_load(file) != _PROTOCOL_VERSION:
            raise TorchFormatError("unsupported legacy protocol version")
        _restricted_load(file)  # sys_info: endianness and type sizes, little-endian assumed below
        storages: dict[str, _Storage] = {}
        result = _LegacyUnpickler(file, storages).load()
        keys = _restricted_load(file)
    except (pickle.UnpicklingError, EOFError, AttributeError, TypeError, IndexError) as exc:
        raise TorchFormatError(f"cannot unpickle: {exc}") from exc
    for key in keys:
        storage = storages.get(key)
        header = file.read(8)
        if storage is None or len(header) != 8:
            raise TorchFormatError(f"storage {key!r} missing")
        (numel,) = struct.unpack("<q", header)
        if numel != storage.numel:
            raise TorchFormatError(f"storage {key!r} has {numel} elements, expected {storage.numel}")
        raw = file.read(numel * storage.dtype.itemsize)
        if len(raw) != numel * storage.dtype.itemsize:
            raise TorchFormatError(f"storage {key!r} is truncated")
        storage.data = np.frombuffer(raw, dtype=storage.dtype)
    if not isinstance(result, dict):
        raise TorchFormatError("the file does not hold a state dict")
    out: collections.OrderedDict[str, np.ndarray] = collections.OrderedDict()
    for name, value in result.items():
        if not isinstance(value, _PendingTensor):
            raise TorchFormatError(f"entry {name!r} is not a tensor")
        out[name] = np.ascontiguousarray(value.materialise())
    return out
