"""The safetensors format, read and written through the safetensors package's NumPy API (the
``interop`` extra: pip install -e ".[interop]").

A .safetensors file is

    8 bytes     N, the size of the header (unsigned 64-bit little-endian)
    N bytes     a JSON header: {name: {"dtype": "F32", "shape": [...], "data_offsets":
                [begin, end]}, ..., "__metadata__": {str: str}}
    the rest    every tensor's raw bytes, row-major, at its offsets

so, unlike a pickle, reading one can only ever produce arrays; and unlike .npz it is what
Hugging Face and PyTorch exchange weights in. Arrays only: strings go into the metadata. The
format has no checksum: a flipped bit in the data is not detected (a damaged header, sizes
or offsets are).
"""

import json
import os
import struct

import numpy

from .errors import CheckpointError

INSTALL = 'pip install -e ".[interop]"'
_HEADER_SIZE = struct.Struct("<Q")


def _numpy_api(what):
    try:
        import safetensors.numpy
    except ImportError as err:
        raise CheckpointError(f"{what}: the safetensors format needs the safetensors package "
                              f"({INSTALL})") from err
    return safetensors.numpy


def looks_like_safetensors(path):
    """True when the file starts as a safetensors file does (a header size, then '{')."""
    try:
        with open(path, "rb") as file:
            head = file.read(_HEADER_SIZE.size + 1)
    except OSError:
        return False
    return (len(head) == _HEADER_SIZE.size + 1 and head[-1:] == b"{"
            and _HEADER_SIZE.unpack(head[:8])[0] <= os.path.getsize(path) - 8)


def encode(arrays, metadata, what):
    """The bytes of a .safetensors file holding ``arrays`` ({name: numeric host array}) and
    ``metadata`` ({str: str})."""
    api = _numpy_api(what)
    for name, array in arrays.items():
        if not isinstance(array, numpy.ndarray) or array.dtype.kind not in "biuf":
            raise CheckpointError(f"{what}: {name!r} is a {getattr(array, 'dtype', array)!s} "
                                  "value; the safetensors format holds numeric arrays only")
    try:
        return api.save({name: numpy.array(array, order="C", copy=not array.flags.c_contiguous)
                         for name, array in arrays.items()}, metadata=metadata)
    except Exception as err:  # the package's SafetensorError, and TypeError/ValueError
        raise CheckpointError(f"{what}: cannot encode as safetensors ({type(err).__name__}: "
                              f"{err})") from err


def read(path, what):
    """({name: NumPy array} in the file's order, metadata {str: str}) from a .safetensors
    file; CheckpointError naming the file when it cannot be one."""
    api, path = _numpy_api(what), os.fspath(path)
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as err:
        raise CheckpointError(f"{what}: cannot read {path!r} ({err})") from err
    try:
        if len(data) < _HEADER_SIZE.size:
            raise ValueError("shorter than the 8-byte header size")
        size = _HEADER_SIZE.unpack(data[:8])[0]
        if size > len(data) - 8:
            raise ValueError(f"the header size {size} runs past the end of the file")
        header = json.loads(data[8:8 + size])
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
        metadata = header.pop("__metadata__", None) or {}
        if not isinstance(metadata, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise ValueError("__metadata__ is not a {str: str} object")
        loaded = api.load(data)
        order = sorted(header, key=lambda name: header[name]["data_offsets"][0])
    except Exception as err:  # struct/JSON errors, and the package's SafetensorError
        raise CheckpointError(f"{what}: cannot read {path!r} as a safetensors file "
                              f"({type(err).__name__}: {err})") from err
    return {name: _writable(loaded[name]) for name in order}, metadata


def _writable(array):
    return array if array.flags.writeable else array.copy()
