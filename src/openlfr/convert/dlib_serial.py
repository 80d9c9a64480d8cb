"""A reader for dlib's binary serialization (dlib/serialize.h, dlib/dnn/tensor.h).

Integers: one control byte (low nibble = byte count, 0x80 = negative) then that many
little-endian bytes. Floats: an int64 mantissa and an int16 exponent, value = m * 2**e
(special exponents mark inf/nan). Bools: the ASCII characters '0' / '1'. Strings: an
unsigned length then the bytes. Tensors: a version (1 = dlib floats, 2 = raw float32 LE),
then num_samples, k, nr, nc, then the values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from openlfr.errors import ModelNotFoundError

# float_details special exponents (dlib/float_details.h)
_IS_INF, _IS_NINF, _IS_NAN = 32000, 32001, 32002


class DlibFormatError(ModelNotFoundError):
    """The file is not the dlib network it was expected to be (corrupt or another model)."""


@dataclass(frozen=True)
class AliasShape:
    """An alias_tensor: only a shape (the data lives in the layer's params tensor)."""

    num_samples: int
    k: int
    nr: int
    nc: int

    @property
    def size(self) -> int:
        return self.num_samples * self.k * self.nr * self.nc


class Reader:
    """Sequential reader over the bytes of a dlib-serialized object."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise DlibFormatError(f"dlib file ends early (wanted {n} bytes at {self.pos})")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def int(self) -> int:
        control = self._take(1)[0]
        size = control & 0x0F
        if size == 0 or size > 8 or control & 0x70:
            raise DlibFormatError(f"bad integer control byte {control:#x} at {self.pos - 1}")
        value = int.from_bytes(self._take(size), "little")
        return -value if control & 0x80 else value

    def float(self) -> float:
        if self.data[self.pos] & 0x70:
            raise DlibFormatError(f"old ASCII float encoding at {self.pos} is not supported")
        mantissa = self.int()
        exponent = self.int()
        if exponent == _IS_INF:
            return math.inf
        if exponent == _IS_NINF:
            return -math.inf
        if exponent == _IS_NAN:
            return math.nan
        return math.ldexp(float(mantissa), exponent)

    def bool(self) -> bool:
        ch = self._take(1)
        if ch not in (b"0", b"1"):
            raise DlibFormatError(f"bad bool byte {ch!r} at {self.pos - 1}")
        return ch == b"1"

    def string(self) -> str:
        length = self.int()
        if length < 0 or length > 1_000_000:
            raise DlibFormatError(f"implausible string length {length} at {self.pos}")
        return self._take(length).decode("latin-1")

    def expect(self, *names: str) -> str:
        """Read a layer's version string and check it is one of `names`."""
        at = self.pos
        name = self.string()
        if name not in names:
            raise DlibFormatError(f"expected {' or '.join(names)} at byte {at}, found {name!r}")
        return name

    def version(self, *allowed: int) -> int:
        at = self.pos
        value = self.int()
        if value not in allowed:
            raise DlibFormatError(f"unsupported version {value} at byte {at} (know {allowed})")
        return value

    def tensor(self) -> np.ndarray:
        """A resizable_tensor as float32 array of shape (num_samples, k, nr, nc)."""
        version = self.version(1, 2)
        shape = tuple(self.int() for _ in range(4))
        if min(shape) < 0:
            raise DlibFormatError(f"negative tensor shape {shape}")
        count = int(np.prod(shape))
        if version == 2:
            raw = self._take(4 * count)
            return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)
        values = np.array([self.float() for _ in range(count)], dtype=np.float32)
        return values.reshape(shape)

    def alias(self) -> AliasShape:
        self.version(1)
        return AliasShape(*(self.int() for _ in range(4)))

    def at_end(self) -> bool:
        return self.pos == len(self.data)
