"""dlib's serialization primitives, against bytes encoded here as dlib/serialize.h does."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest

from openlfr.convert.dlib_serial import AliasShape, DlibFormatError, Reader


def enc_int(value: int) -> bytes:
    # pack_int: control byte = byte count (| 0x80 when negative), then little-endian bytes
    magnitude = abs(value)
    body = magnitude.to_bytes(max(1, (magnitude.bit_length() + 7) // 8), "little")
    return bytes([len(body) | (0x80 if value < 0 else 0)]) + body


def enc_float(mantissa: int, exponent: int) -> bytes:
    return enc_int(mantissa) + enc_int(exponent)


def enc_str(text: str) -> bytes:
    return enc_int(len(text)) + text.encode()


def test_integers_of_every_width_and_sign() -> None:
    values = [0, 1, 255, 256, -1, -300, 2**40 + 7, -(2**62)]
    reader = Reader(b"".join(enc_int(v) for v in values))
    assert [reader.int() for _ in values] == values
    assert reader.at_end()


def test_floats_are_mantissa_times_two_to_the_exponent() -> None:
    data = enc_float(3, -2) + enc_float(-5, 4) + enc_float(0, 32000) + enc_float(0, 32002)
    reader = Reader(data)
    assert reader.float() == 0.75
    assert reader.float() == -80.0
    assert reader.float() == math.inf
    assert math.isnan(reader.float())


def test_bools_strings_and_expected_names() -> None:
    reader = Reader(b"10" + enc_str("con_4") + enc_str("relu_"))
    assert reader.bool() is True
    assert reader.bool() is False
    assert reader.expect("con_4") == "con_4"
    with pytest.raises(DlibFormatError, match="expected affine_"):
        reader.expect("affine_")


def test_tensors_in_both_encodings() -> None:
    values = np.arange(6, dtype=np.float32) / 4
    shape = b"".join(enc_int(v) for v in (1, 2, 3, 1))
    raw = enc_int(2) + shape + struct.pack("<6f", *values)
    dlib_floats = enc_int(1) + shape + b"".join(enc_float(int(v * 4), -2) for v in values)
    for data in (raw, dlib_floats):
        tensor = Reader(data).tensor()
        assert tensor.shape == (1, 2, 3, 1)
        np.testing.assert_array_equal(tensor.ravel(), values)


def test_alias_tensors_are_shapes() -> None:
    data = enc_int(1) + b"".join(enc_int(v) for v in (32, 3, 7, 7))
    assert Reader(data).alias() == AliasShape(32, 3, 7, 7)
    assert AliasShape(32, 3, 7, 7).size == 32 * 3 * 49


def test_truncated_and_malformed_input_raise_typed_errors() -> None:
    with pytest.raises(DlibFormatError, match="ends early"):
        Reader(bytes([4, 1, 2])).int()
    with pytest.raises(DlibFormatError, match="control byte"):
        Reader(bytes([0x00])).int()
    with pytest.raises(DlibFormatError, match="bool"):
        Reader(b"x").bool()
    with pytest.raises(DlibFormatError, match="version"):
        Reader(enc_int(7)).tensor()
