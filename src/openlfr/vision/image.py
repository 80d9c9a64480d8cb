"""Reading images from files or bytes into RGB uint8 arrays, safely.

Every way an image can be bad (missing, empty, not an image, truncated, corrupt, absurdly
large) becomes one `ImageError` naming the file and why. Large images are downscaled while
they are decoded (JPEG's DCT scaling via `draft`), so a 100-megapixel photo never needs
its full size in memory; formats without that trick are refused above `MAX_DECODE_PIXELS`.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from pathlib import Path

import numpy as np
from PIL import (  # noqa: F401 - importing a plugin registers its format
    BmpImagePlugin,
    Image,
    ImageOps,
    JpegImagePlugin,
    PngImagePlugin,
    UnidentifiedImageError,
    WebPImagePlugin,
)

from openlfr.errors import ImageError

# Formats we decode. An allow-list keeps Pillow's rarer (and less audited) decoders away
# from untrusted files. (Camera and phone JPEGs that Pillow calls MPO come in via "JPEG".)
SUPPORTED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP")

# The most pixels we decode at full size (RGB: 3 bytes each, so about 270 MB), equal to
# Pillow's own decompression-bomb warning limit. JPEGs shrink while decoding, so this only
# binds for PNG, WebP and BMP; above it a file is refused rather than risk running out of
# memory. Pillow itself refuses files of over twice its limit (a decompression bomb).
MAX_DECODE_PIXELS = 89_478_485

# Transparent pixels are laid on white: what an image viewer shows, and neutral for faces.
_BACKGROUND = (255, 255, 255)

PathOrBytes = str | os.PathLike | bytes | bytearray | memoryview


def load_image(source: PathOrBytes, max_side: int | None = 4096) -> np.ndarray:
    """Decode an image to an RGB uint8 array (H, W, 3), C-contiguous.

    EXIF orientation is applied. If the longer side exceeds `max_side` the image is scaled
    down to it (aspect kept); `None` keeps the full size. Raises `ImageError` for anything
    that cannot be read, with a one-line message naming the file.
    """
    if max_side is not None and max_side < 1:
        raise ValueError(f"max_side must be positive, got {max_side}")
    name, stream = _open_source(source)
    try:
        with warnings.catch_warnings():
            # We bound memory ourselves (draft + MAX_DECODE_PIXELS), so Pillow's warning
            # for big-but-legal images is noise. Its hard limit still raises below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(stream, formats=SUPPORTED_FORMATS)
        with im:
            return _decode(im, name, max_side)
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageError(f"cannot read image {name}: too large to decode safely ({exc})") from None
    except UnidentifiedImageError:
        kinds = ", ".join(SUPPORTED_FORMATS)
        raise ImageError(f"cannot read image {name}: not a supported image ({kinds})") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as exc:
        # Pillow's parsers raise any of these on malformed or cut-off data.
        raise ImageError(
            f"cannot read image {name}: corrupt or truncated ({_one_line(exc)})"
        ) from None
    except MemoryError:
        raise ImageError(f"cannot read image {name}: out of memory while decoding") from None


def _open_source(source: PathOrBytes) -> tuple[str, io.BytesIO | Path]:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if not data:
            raise ImageError("cannot read image <bytes>: empty (0 bytes)")
        return "<bytes>", io.BytesIO(data)
    path = Path(source)
    name = str(path)
    if not path.exists():
        raise ImageError(f"cannot read image {name}: no such file")
    if not path.is_file():
        raise ImageError(f"cannot read image {name}: not a regular file")
    try:
        # Read it whole: a file handle left to Pillow could change under us, and files
        # within our limits are small next to their decoded pixels.
        data = path.read_bytes()
    except PermissionError:
        raise ImageError(f"cannot read image {name}: permission denied") from None
    except OSError as exc:
        raise ImageError(f"cannot read image {name}: {_one_line(exc)}") from None
    if not data:
        raise ImageError(f"cannot read image {name}: empty file (0 bytes)")
    return name, io.BytesIO(data)


def _decode(im: Image.Image, name: str, max_side: int | None) -> np.ndarray:
    width, height = im.size
    if width < 1 or height < 1:
        raise ImageError(f"cannot read image {name}: has no pixels ({width}x{height})")
    if max_side is not None and max(width, height) > max_side:
        # JPEG decodes at 1/2, 1/4 or 1/8 scale for almost nothing; asks for no smaller
        # than the target, so quality is kept. A no-op for other formats.
        im.draft(None, _fit(width, height, max_side))
    if im.size[0] * im.size[1] > MAX_DECODE_PIXELS:
        raise ImageError(
            f"cannot read image {name}: too large to decode "
            f"({width}x{height} pixels; the limit is {MAX_DECODE_PIXELS:,} decoded pixels)"
        )
    im.load()
    im = _upright(im)
    im = _to_rgb(im)
    if max_side is not None and max(im.size) > max_side:
        # reducing_gap: a cheap integer box reduction first, then a proper resample.
        im = im.resize(_fit(*im.size, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    array = np.asarray(im, dtype=np.uint8)
    return np.ascontiguousarray(array)


def _fit(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _upright(im: Image.Image) -> Image.Image:
    # A broken EXIF block should not make a good picture unreadable: keep it as stored.
    try:
        return ImageOps.exif_transpose(im)
    except Exception:  # noqa: BLE001 - any EXIF parse failure means "orientation unknown"
        return im


def _to_rgb(im: Image.Image) -> Image.Image:
    mode = im.mode
    if mode == "RGB":
        return im
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return Image.fromarray(_deep_grey_to_uint8(np.asarray(im)), mode="L").convert("RGB")
    if mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*_BACKGROUND, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    # L, 1, P, CMYK (Pillow undoes Adobe's inverted CMYK), YCbCr, LAB, HSV.
    return im.convert("RGB")


def _deep_grey_to_uint8(values: np.ndarray) -> np.ndarray:
    # Pillow's own I;16 -> L conversion clips at 255 rather than scaling: scale instead.
    values = values.astype(np.float64)
    top = 65535.0 if values.max(initial=0) > 255 else 255.0
    return np.clip(np.rint(values * (255.0 / top)), 0, 255).astype(np.uint8)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
