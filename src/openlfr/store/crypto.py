"""Encryption at rest: AES-256-GCM sealed blobs.

A sealed blob is  b"OLS1" | key id (8 bytes) | nonce (12 bytes) | ciphertext+tag.
The key id says which key opens it, so a key ring can hold old keys during rotation.
Associated data binds a blob to its place (e.g. "reference_images.image:<id>"): a blob
copied into another row or column does not open.

Keys come from OPENLFR_KEY (base64 of 32 bytes; OPENLFR_OLD_KEYS may list retired keys,
comma-separated, to open blobs not yet rotated) or else from a key-ring file
(OPENLFR_KEY_FILE, default <data dir>/keys/openlfr.keys) created with mode 0600 on first use.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from openlfr import paths
from openlfr.errors import ConfigError, OpenLFRError

MAGIC = b"OLS1"
KEY_ID_LEN = 8
NONCE_LEN = 12
HEADER_LEN = len(MAGIC) + KEY_ID_LEN + NONCE_LEN


class CryptoError(OpenLFRError):
    """A blob that cannot be opened: unknown key, tampered data, or wrong place."""


def key_id(key: bytes) -> bytes:
    """A short public name for a key (not secret: a hash of it)."""
    return hashlib.sha256(b"openlfr-key-id" + key).digest()[:KEY_ID_LEN]


def new_key() -> bytes:
    return secrets.token_bytes(32)


def decode_key(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{source} is not valid base64") from None
    if len(key) != 32:
        raise ConfigError(f"{source} must decode to 32 bytes (AES-256), got {len(key)}")
    return key


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode()


@dataclass
class KeyRing:
    """The active key seals; every key in the ring can open."""

    active: bytes
    retired: list[bytes] = field(default_factory=list)
    path: Path | None = None  # the file it came from, if any (None: from the environment)

    def __post_init__(self) -> None:
        self._by_id: dict[bytes, AESGCM] = {}
        for key in [self.active, *self.retired]:
            if len(key) != 32:
                raise ConfigError("encryption keys must be 32 bytes")
            self._by_id[key_id(key)] = AESGCM(key)

    @property
    def active_id(self) -> bytes:
        return key_id(self.active)

    def seal(self, plaintext: bytes, context: str) -> bytes:
        nonce = secrets.token_bytes(NONCE_LEN)
        ct = AESGCM(self.active).encrypt(nonce, bytes(plaintext), context.encode())
        return MAGIC + self.active_id + nonce + ct

    def open(self, blob: bytes, context: str) -> bytes:
        blob = bytes(blob)
        if len(blob) < HEADER_LEN + 16 or not blob.startswith(MAGIC):
            raise CryptoError(f"not a sealed blob ({context})")
        kid = blob[len(MAGIC) : len(MAGIC) + KEY_ID_LEN]
        nonce = blob[len(MAGIC) + KEY_ID_LEN : HEADER_LEN]
        aead = self._by_id.get(kid)
        if aead is None:
            raise CryptoError(f"no key for this blob (key id {kid.hex()}) ({context})")
        try:
            return aead.decrypt(nonce, blob[HEADER_LEN:], context.encode())
        except InvalidTag:
            raise CryptoError(
                f"blob failed authentication: tampered or misplaced ({context})"
            ) from None

    @staticmethod
    def blob_key_id(blob: bytes) -> bytes:
        return bytes(blob)[len(MAGIC) : len(MAGIC) + KEY_ID_LEN]

    # -- persistence -------------------------------------------------------------------------
    def save(self, path: Path | None = None, exclusive: bool = False) -> None:
        """Write the ring atomically with mode 0600 (never readable by others, even briefly).

        exclusive: fail with FileExistsError rather than replace an existing ring."""
        path = path or self.path
        if path is None:
            raise ConfigError("this key ring came from the environment and has no file")
        path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps(
            {"active": encode_key(self.active), "retired": [encode_key(k) for k in self.retired]}
        ).encode()
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, body)
            os.fsync(fd)
        finally:
            os.close(fd)
        if exclusive:
            try:
                os.link(tmp, path)  # atomic create-if-absent
            finally:
                tmp.unlink()
        else:
            os.replace(tmp, path)
        self.path = path


def default_key_file() -> Path:
    env = os.environ.get("OPENLFR_KEY_FILE")
    return Path(env).expanduser() if env else paths.data_dir() / "keys" / "openlfr.keys"


def load_key_file(path: Path) -> KeyRing:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigError(f"key file {path} is readable by others (mode {mode:o}); chmod 600 it")
    try:
        data = json.loads(path.read_text())
        active = decode_key(data["active"], f"key file {path}")
        retired = [decode_key(k, f"key file {path}") for k in data.get("retired", [])]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"key file {path} is unreadable: {exc}") from None
    return KeyRing(active, retired, path)


def load_keyring(environ: Mapping[str, str] | None = None, create: bool = True) -> KeyRing:
    """The installation's key ring: OPENLFR_KEY if set, else the key file (created if absent)."""
    environ = os.environ if environ is None else environ
    if environ.get("OPENLFR_KEY"):
        active = decode_key(environ["OPENLFR_KEY"], "OPENLFR_KEY")
        old = [
            decode_key(k, "OPENLFR_OLD_KEYS")
            for k in environ.get("OPENLFR_OLD_KEYS", "").split(",")
            if k.strip()
        ]
        return KeyRing(active, old)
    path = default_key_file()
    if path.exists():
        return load_key_file(path)
    if not create:
        raise ConfigError(f"no encryption key: set OPENLFR_KEY or create {path}")
    ring = KeyRing(new_key(), [], path)
    try:
        ring.save(exclusive=True)
    except FileExistsError:  # another process created it first: use theirs
        return load_key_file(path)
    return ring
