"""The audit chain: each event holds the hash of the one before, so edits, deletions and
reorderings are detectable by re-computing it.

hash = sha256(canonical JSON of [seq, at, actor, action, object_type, object_id, details,
prev_hash]). The first event's prev_hash is GENESIS.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from openlfr.domain.clock import as_utc
from openlfr.domain.errors import DomainError

GENESIS = "0" * 64

# Keys that would put biometric data into the log; the log records that it was seen, not what.
_FORBIDDEN_KEYS = {"template", "embedding", "image", "image_bytes", "face", "vector", "landmarks"}
_MAX_NUMBER_LIST = 16


class Action:
    """Names of audited actions (free text is allowed; these are the ones the service uses)."""

    LOGIN = "login"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    VIEW_BIOMETRIC = "view_biometric"
    ADJUDICATE = "adjudicate"
    OUTCOME = "outcome"
    THRESHOLD_CHANGE = "threshold_change"
    TRANSITION = "transition"
    PURGE = "purge"
    KEY_ROTATION = "key_rotation"


def check_details(details: Mapping[str, object]) -> None:
    """Refuse details that look like biometric data (bytes, template-like number lists)."""

    def walk(value: object, path: str) -> None:
        if isinstance(value, bytes | bytearray | memoryview):
            raise DomainError(f"audit details may not hold binary data ({path})")
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise DomainError(f"audit detail keys must be strings ({path})")
                if key.lower() in _FORBIDDEN_KEYS:
                    raise DomainError(f"audit details may not hold biometric data ({key!r})")
                walk(item, f"{path}.{key}")
        elif isinstance(value, list | tuple):
            numbers = sum(isinstance(v, float) for v in value)
            if numbers > _MAX_NUMBER_LIST:
                raise DomainError(f"audit details may not hold vectors ({path})")
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]")
        elif not isinstance(value, str | int | float | bool | type(None)):
            raise DomainError(f"audit details must be JSON values ({path})")

    walk(dict(details), "details")


def canonical_time(at: datetime) -> str:
    return as_utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str | None
    details: Mapping[str, object]
    prev_hash: str
    hash: str = ""

    def canonical(self) -> bytes:
        body = [
            self.seq,
            canonical_time(self.at),
            self.actor,
            self.action,
            self.object_type,
            self.object_id,
            dict(self.details),
            self.prev_hash,
        ]
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first broken link: the seq where the chain stops verifying, and why."""

    seq: int
    reason: str

    def __str__(self) -> str:
        return f"audit chain broken at event {self.seq}: {self.reason}"


def verify_chain(
    events: Iterable[AuditEvent], head: tuple[int, str] | None = None
) -> ChainBreak | None:
    """None when intact. `events` in stored order (by seq); `head` is the last (seq, hash)
    recorded separately, which catches the deletion of the newest events."""
    expected_seq, prev = 1, GENESIS
    for event in events:
        if event.seq != expected_seq:
            if event.seq > expected_seq:
                return ChainBreak(expected_seq, f"event {expected_seq} is missing")
            return ChainBreak(event.seq, f"event {event.seq} is out of order or duplicated")
        if event.prev_hash != prev:
            return ChainBreak(event.seq, "does not link to the event before it")
        if event.compute_hash() != event.hash:
            return ChainBreak(event.seq, "its contents were changed (hash mismatch)")
        prev, expected_seq = event.hash, expected_seq + 1
    last_seq = expected_seq - 1
    if head is not None:
        head_seq, head_hash = head
        if head_seq > last_seq:
            return ChainBreak(last_seq + 1, f"events {last_seq + 1}..{head_seq} are missing")
        if head_seq < last_seq:
            return ChainBreak(head_seq + 1, "events after the recorded head were added")
        if head_seq and head_hash != prev:
            return ChainBreak(head_seq, "does not match the recorded head hash")
    return None
