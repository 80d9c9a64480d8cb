import base64
import os
import stat
import threading

import pytest

from openlfr.errors import ConfigError
from openlfr.store.crypto import (
    MAGIC,
    CryptoError,
    KeyRing,
    default_key_file,
    encode_key,
    load_keyring,
    new_key,
)


def test_seal_and_open_round_trip_with_a_fresh_nonce():
    ring = KeyRing(new_key())
    a, b = ring.seal(b"secret", "t.c:1"), ring.seal(b"secret", "t.c:1")
    assert a != b and a.startswith(MAGIC) and b"secret" not in a
    assert ring.open(a, "t.c:1") == b"secret"


def test_a_blob_opens_only_in_its_place_and_untampered():
    ring = KeyRing(new_key())
    blob = ring.seal(b"secret", "t.c:1")
    with pytest.raises(CryptoError, match="misplaced"):
        ring.open(blob, "t.c:2")
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(CryptoError, match="tampered"):
        ring.open(flipped, "t.c:1")
    with pytest.raises(CryptoError, match="not a sealed blob"):
        ring.open(b"\xff\xd8\xff plain", "t.c:1")
    with pytest.raises(CryptoError, match="no key"):
        KeyRing(new_key()).open(blob, "t.c:1")


def test_retired_keys_still_open():
    old = KeyRing(new_key())
    blob = old.seal(b"x", "c")
    assert KeyRing(new_key(), [old.active]).open(blob, "c") == b"x"


def test_key_file_is_created_once_with_mode_0600(monkeypatch):
    monkeypatch.delenv("OPENLFR_KEY", raising=False)
    ring = load_keyring()
    path = default_key_file()
    assert ring.path == path and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keyring().active == ring.active


def test_concurrent_first_runs_agree_on_one_key(monkeypatch):
    monkeypatch.delenv("OPENLFR_KEY", raising=False)
    keys, barrier = [], threading.Barrier(4)

    def first_run():
        barrier.wait()
        keys.append(load_keyring().active)

    threads = [threading.Thread(target=first_run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1


def test_a_key_file_others_can_read_is_refused(monkeypatch):
    monkeypatch.delenv("OPENLFR_KEY", raising=False)
    load_keyring()
    os.chmod(default_key_file(), 0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        load_keyring()


def test_key_from_the_environment():
    key, old = new_key(), new_key()
    ring = load_keyring({"OPENLFR_KEY": encode_key(key), "OPENLFR_OLD_KEYS": encode_key(old)})
    assert ring.active == key and ring.retired == [old] and ring.path is None
    with pytest.raises(ConfigError, match="32 bytes"):
        load_keyring({"OPENLFR_KEY": base64.b64encode(b"short").decode()})
    with pytest.raises(ConfigError, match="base64"):
        load_keyring({"OPENLFR_KEY": "not base64!"})
