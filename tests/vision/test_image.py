"""load_image: formats, modes, orientation, size limits and bad files, all built here with PIL."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from openlfr.errors import ImageError
from openlfr.vision.image import MAX_DECODE_PIXELS, load_image


def _encode(im: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _gradient(width: int = 64, height: int = 48) -> Image.Image:
    # Left half red, right half blue: colour and orientation both checkable.
    array = np.zeros((height, width, 3), np.uint8)
    array[:, : width // 2] = (220, 30, 30)
    array[:, width // 2 :] = (30, 30, 220)
    return Image.fromarray(array)


def _check(array: np.ndarray, shape: tuple[int, int]) -> None:
    assert array.dtype == np.uint8
    assert array.shape == (*shape, 3)
    assert array.flags["C_CONTIGUOUS"]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP"])
def test_formats_decode_to_rgb(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"face.{fmt.lower()}"
    options = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    path.write_bytes(_encode(_gradient(), fmt, **options))
    array = load_image(path)
    _check(array, (48, 64))
    assert array[10, 5, 0] > 180 and array[10, 5, 2] < 80  # red stays red (left)
    assert array[10, 60, 2] > 180 and array[10, 60, 0] < 80  # blue stays blue (right)


def test_bytes_and_path_give_the_same_pixels(tmp_path: Path) -> None:
    data = _encode(_gradient(), "PNG")
    (tmp_path / "a.png").write_bytes(data)
    assert np.array_equal(load_image(data), load_image(tmp_path / "a.png"))
    assert np.array_equal(load_image(bytearray(data)), load_image(str(tmp_path / "a.png")))


def test_grey_is_replicated_to_three_channels() -> None:
    grey = Image.fromarray(np.full((20, 30), 77, np.uint8), mode="L")
    array = load_image(_encode(grey, "PNG"))
    _check(array, (20, 30))
    assert (array == 77).all()


def test_rgba_is_composited_on_white() -> None:
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[..., 0] = 200  # red, but...
    rgba[:, :5, 3] = 255  # opaque on the left
    rgba[:, 5:, 3] = 0  # fully transparent on the right
    array = load_image(_encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    _check(array, (10, 10))
    assert tuple(array[5, 2]) == (200, 0, 0)
    assert tuple(array[5, 8]) == (255, 255, 255)


def test_cmyk_jpeg_is_converted_to_rgb() -> None:
    cmyk = _gradient().convert("CMYK")
    data = _encode(cmyk, "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    array = load_image(data)
    _check(array, (48, 64))
    assert array[10, 5, 0] > 170 and array[10, 5, 2] < 90
    assert array[10, 60, 2] > 170 and array[10, 60, 0] < 90


def test_16_bit_png_is_scaled_not_clipped() -> None:
    values = np.zeros((8, 8), np.uint16)
    values[:, :4] = 65535
    values[:, 4:] = 32768  # mid grey in 16 bits: Pillow's own convert would give 255
    im16 = Image.fromarray(values)
    data = _encode(im16, "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    array = load_image(data)
    _check(array, (8, 8))
    assert array[0, 0, 0] == 255
    assert 126 <= array[0, 6, 0] <= 130


def test_16_bit_rgb_png_decodes() -> None:
    # Pillow has no 48-bit mode: it reads these as 8-bit RGB. Build one by hand.
    height, width = 4, 6
    pixels = np.zeros((height, width, 3), ">u2")
    pixels[..., 1] = 0xFFFF
    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    array = load_image(data)
    _check(array, (height, width))
    assert (array[..., 1] == 255).all() and (array[..., 0] == 0).all()


def test_exif_orientation_is_honoured() -> None:
    # Stored 64 wide x 48 high with red on the left; EXIF 6 says "rotate 90 clockwise to
    # view", so the upright picture is 48 wide x 64 high with red on top.
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _encode(_gradient(), "JPEG", quality=95, exif=exif.tobytes())
    array = load_image(data)
    _check(array, (64, 48))
    assert array[5, 24, 0] > 180  # top is red
    assert array[60, 24, 2] > 180  # bottom is blue


def test_huge_jpeg_is_downscaled(tmp_path: Path) -> None:
    # 12000 x 8000 = 96 Mpx: over Pillow's warning limit and our full-size decode limit;
    # JPEG's draft decode brings it down without ever holding the full size.
    big = Image.new("L", (12000, 8000), 128)
    data = _encode(big, "JPEG", quality=50)
    del big
    assert MAX_DECODE_PIXELS < 12000 * 8000
    array = load_image(data, max_side=1000)
    _check(array, (667, 1000))
    assert abs(int(array[300, 500, 0]) - 128) <= 2
    assert max(load_image(data).shape[:2]) == 4096  # the default limit


def test_large_png_is_downscaled_to_max_side() -> None:
    data = _encode(_gradient(3000, 1000), "PNG")
    array = load_image(data, max_side=600)
    _check(array, (200, 600))
    assert load_image(data, max_side=None).shape == (1000, 3000, 3)


def _png_header_only(width: int, height: int) -> bytes:
    # A valid-looking PNG that claims a huge size: the classic decompression bomb shape.
    body = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    crc = zlib.crc32(b"IHDR" + body) & 0xFFFFFFFF
    ihdr = struct.pack(">I", len(body)) + b"IHDR" + body + struct.pack(">I", crc)
    idat = zlib.compress(b"\x00" * 100)
    idat_chunk = (
        struct.pack(">I", len(idat))
        + b"IDAT"
        + idat
        + struct.pack(">I", zlib.crc32(b"IDAT" + idat) & 0xFFFFFFFF)
    )
    return b"\x89PNG\r\n\x1a\n" + ihdr + idat_chunk


@pytest.mark.parametrize("side", [30_000, 12_000])  # past Pillow's hard limit; past ours
def test_decompression_bomb_is_a_clear_error(side: int) -> None:
    with pytest.raises(ImageError, match="too large") as info:
        load_image(_png_header_only(side, side))
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"nope\.jpg: no such file"):
        load_image(tmp_path / "nope.jpg")


def test_directory_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="not a regular file"):
        load_image(tmp_path)


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageError, match=r"empty\.jpg: empty file"):
        load_image(path)
    with pytest.raises(ImageError, match="empty"):
        load_image(b"")


def test_text_named_jpg(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a picture\n")
    with pytest.raises(ImageError, match=r"notes\.jpg: not a supported image") as info:
        load_image(path)
    assert "\n" not in str(info.value)


def test_truncated_jpeg(tmp_path: Path) -> None:
    data = _encode(_gradient(400, 300), "JPEG", quality=95)
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match=r"cut\.jpg: corrupt or truncated") as info:
        load_image(path)
    assert "\n" not in str(info.value)


def test_corrupt_png(tmp_path: Path) -> None:
    data = bytearray(_encode(_gradient(), "PNG"))
    data[60:80] = b"\xff" * 20  # inside the compressed pixel data
    path = tmp_path / "bad.png"
    path.write_bytes(bytes(data))
    with pytest.raises(ImageError, match=r"bad\.png: corrupt or truncated"):
        load_image(path)


def test_unsupported_format_is_refused() -> None:
    data = _encode(_gradient(), "TIFF")
    with pytest.raises(ImageError, match="not a supported image"):
        load_image(data)


def test_bad_max_side() -> None:
    with pytest.raises(ValueError):
        load_image(_encode(_gradient(), "PNG"), max_side=0)
