"""Storage: SQLAlchemy over SQLite (default, one file in the data directory) or PostgreSQL.

store = Store()                          # migrates on open; key from OPENLFR_KEY or key file
sid = store.subjects.add(subject, actor="pc123")
store.audit_verify()                     # None, or the first broken link
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from openlfr.domain.audit import AuditEvent, ChainBreak
from openlfr.domain.retention import RetentionPolicy
from openlfr.store import audit
from openlfr.store.alerts import AlertRepo
from openlfr.store.cameras import CameraRepo
from openlfr.store.crypto import KeyRing, load_keyring
from openlfr.store.db import Database, default_url
from openlfr.store.deployments import DeploymentRepo
from openlfr.store.keys import RotationReport, rotate_keys
from openlfr.store.retention import PurgeReport, purge
from openlfr.store.subjects import SubjectRepo
from openlfr.store.users import UserRepo
from openlfr.store.watchlists import SnapshotEntry, SnapshotInfo, WatchlistRepo

__all__ = [
    "Database",
    "KeyRing",
    "PurgeReport",
    "RotationReport",
    "SnapshotEntry",
    "SnapshotInfo",
    "Store",
    "default_url",
    "load_keyring",
]


class Store(Database):
    """The database with its repositories. Each repository call is one audited transaction."""

    def __init__(
        self, url: str | None = None, keyring: KeyRing | None = None, migrate_on_open: bool = True
    ) -> None:
        super().__init__(url, keyring, migrate_on_open)
        self.subjects = SubjectRepo(self)
        self.watchlists = WatchlistRepo(self)
        self.deployments = DeploymentRepo(self)
        self.alerts = AlertRepo(self)
        self.users = UserRepo(self)
        self.cameras = CameraRepo(self)

    def record_audit(
        self,
        actor: str,
        action: str,
        object_type: str,
        object_id: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> AuditEvent:
        """Audit something that changed nothing here (a login, a view made elsewhere)."""
        with self.transaction() as s:
            return audit.append(s, actor, action, object_type, object_id, details)

    def audit_events(self, since_seq: int = 0) -> list[AuditEvent]:
        with self.transaction() as s:
            return list(audit.iter_events(s, since_seq))

    def audit_verify(self) -> ChainBreak | None:
        with self.transaction() as s:
            return audit.verify(s)

    def purge(
        self, actor: str, policy: RetentionPolicy | None = None, now: datetime | None = None
    ) -> PurgeReport:
        return purge(self, actor, policy, now)

    def rotate_keys(self, actor: str, key: bytes | None = None) -> RotationReport:
        return rotate_keys(self, actor, key)
