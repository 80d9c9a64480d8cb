"""Photos that installed packages ship, and altered renderings of them, for the demo.

Nothing here is downloaded: each file is read from the installed package's own folder,
and a missing one is a clear error naming the package to reinstall.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from openlfr.errors import ConfigError

GRACE_HOPPER = "Grace Hopper"
EILEEN_COLLINS = "Eileen Collins"

# Head-and-shoulders crop of astronaut.png (x1, y1, x2, y2): her face is at about
# (175, 76)-(266, 167); the crop leaves out the mission patch on her suit, which dlib's
# HOG detector reports as a (low-confidence) second face.
_ASTRONAUT_CROP = (100, 0, 350, 270)


@dataclass(frozen=True)
class Asset:
    """One demo photo: what it shows, its pixels and which package file it came from."""

    name: str
    subject: str | None  # the person shown; None for an unlisted person or no person
    image: np.ndarray  # RGB uint8
    origin: str  # "package: path inside the package"
    path: Path  # the package file (for its SHA-256 in the enrolment record)


def package_file(package: str, *parts: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for base in locations:
        path = Path(base).joinpath(*parts)
        if path.is_file():
            return path
    raise ConfigError(
        f"the demo needs {'/'.join(parts)} from the {package} package, which is not installed "
        f"or does not ship it; reinstall with `pip install -e .`"
    )


def _load(path: Path) -> np.ndarray:
    from openlfr.vision.image import load_image

    return load_image(path)


def grace_hopper() -> Asset:
    path = package_file("matplotlib", "mpl-data", "sample_data", "grace_hopper.jpg")
    origin = "matplotlib: mpl-data/sample_data/grace_hopper.jpg"
    return Asset(GRACE_HOPPER, GRACE_HOPPER, _load(path), origin, path)


def eileen_collins() -> Asset:
    path = package_file("skimage", "data", "astronaut.png")
    x1, y1, x2, y2 = _ASTRONAUT_CROP
    image = np.ascontiguousarray(_load(path)[y1:y2, x1:x2])
    origin = "scikit-image: data/astronaut.png (head and shoulders)"
    return Asset(EILEEN_COLLINS, EILEEN_COLLINS, image, origin, path)


def unlisted_faces(indices: tuple[int, ...] = (0, 1, 2, 3)) -> list[Asset]:
    """People not on the list: scikit-image's 25x25 grey LFW crops (its `lfw_subset`,
    faces are rows 0-99), enlarged 6x and padded so that the detector sees a whole head.
    Their identities are not given; none is Grace Hopper or Eileen Collins."""
    path = package_file("skimage", "data", "lfw_subset.npy")
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    out = []
    for i in indices:
        grey = np.clip(np.asarray(data[i], dtype=np.float64) * 255.0, 0, 255).astype(np.uint8)
        big = cv2.resize(grey, (150, 150), interpolation=cv2.INTER_CUBIC)
        big = cv2.copyMakeBorder(big, 75, 75, 75, 75, cv2.BORDER_REPLICATE)
        rgb = np.ascontiguousarray(np.dstack([big] * 3))
        origin = f"scikit-image: data/lfw_subset.npy #{i} (25 px grey)"
        out.append(Asset(f"LFW crop #{i}", None, rgb, origin, path))
    return out


# ---- altered renderings ------------------------------------------------------------------


def _crop(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    return np.ascontiguousarray(img[h // 10 : h - h // 10, w // 10 : w - w // 10])


def _scale(img: np.ndarray, factor: float = 0.6) -> np.ndarray:
    h, w = img.shape[:2]
    return cv2.resize(img, (round(w * factor), round(h * factor)), interpolation=cv2.INTER_AREA)


def _brightness(img: np.ndarray, gain: float, offset: float = 0.0) -> np.ndarray:
    return np.clip(img.astype(np.float32) * gain + offset, 0, 255).astype(np.uint8)


def _rotate(img: np.ndarray, degrees: float = 8.0) -> np.ndarray:
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


def _mirror(img: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(img[:, ::-1])


def _jpeg(img: np.ndarray, quality: int = 30) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


RENDERINGS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "cropped 10% each side": _crop,
    "scaled to 60%": _scale,
    "darker (x0.6)": lambda img: _brightness(img, 0.6),
    "brighter (x1.25 +20)": lambda img: _brightness(img, 1.25, 20),
    "rotated 8 degrees": _rotate,
    "mirrored": _mirror,
    "JPEG quality 30": _jpeg,
}
