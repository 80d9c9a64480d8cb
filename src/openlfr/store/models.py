"""SQLAlchemy tables. Biometric columns (images, templates) hold sealed blobs only (see crypto).

Ids are UUID strings made by the application, so a blob's encryption context can name its
row before the row is written.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from openlfr.domain.clock import utcnow


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    pass


TS = DateTime(timezone=True)
ID = String(36)


class SubjectRow(Base):
    __tablename__ = "subjects"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    display_name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    offence: Mapped[str | None] = mapped_column(String(200))
    added_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(TS, index=True)
    images: Mapped[list[ReferenceImageRow]] = relationship(
        back_populates="subject",
        cascade="all, delete-orphan",
        order_by="ReferenceImageRow.added_at",
    )


class ReferenceImageRow(Base):
    __tablename__ = "reference_images"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    subject_id: Mapped[str] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), index=True
    )
    image: Mapped[bytes] = mapped_column(LargeBinary)  # sealed
    template: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed float32 vector
    model_id: Mapped[str | None] = mapped_column(String(100))
    image_source: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(String(200))
    added_by: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    subject: Mapped[SubjectRow] = relationship(back_populates="images")


class WatchlistRow(Base):
    __tablename__ = "watchlists"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)


class WatchlistMemberRow(Base):
    __tablename__ = "watchlist_members"
    watchlist_id: Mapped[str] = mapped_column(
        ForeignKey("watchlists.id", ondelete="CASCADE"), primary_key=True
    )
    subject_id: Mapped[str] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    )
    added_by: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[datetime] = mapped_column(TS, default=utcnow)


class DeploymentRow(Base):
    __tablename__ = "deployments"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str | None] = mapped_column(String(100), unique=True)  # 0003; optional
    location: Mapped[str] = mapped_column(String(200))
    borough: Mapped[str] = mapped_column(String(100))
    use_case: Mapped[str] = mapped_column(String(200))
    planned_start: Mapped[datetime] = mapped_column(TS)
    planned_end: Mapped[datetime] = mapped_column(TS)
    cameras: Mapped[list[str]] = mapped_column(JSON)
    threshold: Mapped[float] = mapped_column(Float)
    watchlist_id: Mapped[str | None] = mapped_column(
        ForeignKey("watchlists.id", ondelete="SET NULL")
    )
    state: Mapped[str] = mapped_column(String(20), index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    authorising_officer: Mapped[str | None] = mapped_column(String(100))
    authorised_at: Mapped[datetime | None] = mapped_column(TS)
    live_at: Mapped[datetime | None] = mapped_column(TS)
    closed_at: Mapped[datetime | None] = mapped_column(TS)
    cancelled_at: Mapped[datetime | None] = mapped_column(TS)
    cancel_reason: Mapped[str | None] = mapped_column(Text)


class CameraSourceRow(Base):
    """Where a deployment's camera is read from (0003). A URL can carry the camera's user
    name and password, so it is sealed; only its redacted form is kept in clear, for display."""

    __tablename__ = "deployment_cameras"
    __table_args__ = (UniqueConstraint("deployment_id", "camera"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    deployment_id: Mapped[str] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), index=True
    )
    camera: Mapped[str] = mapped_column(String(100))
    source: Mapped[bytes] = mapped_column(LargeBinary)  # sealed URL or path
    display: Mapped[str] = mapped_column(String(2000))  # redacted


class SnapshotRow(Base):
    """The frozen watchlist a deployment runs with: copies of templates, deleted after close."""

    __tablename__ = "watchlist_snapshots"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    deployment_id: Mapped[str] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), unique=True
    )
    built_at: Mapped[datetime] = mapped_column(TS)
    built_by: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)  # subjects; kept after deletion for the record
    delete_by: Mapped[datetime | None] = mapped_column(TS, index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(TS)


class SnapshotEntryRow(Base):
    __tablename__ = "watchlist_snapshot_entries"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    snapshot_id: Mapped[str] = mapped_column(
        ForeignKey("watchlist_snapshots.id", ondelete="CASCADE"), index=True
    )
    subject_id: Mapped[str | None] = mapped_column(ForeignKey("subjects.id", ondelete="SET NULL"))
    reference_image_id: Mapped[str | None] = mapped_column(ID)
    category: Mapped[str] = mapped_column(String(40))
    template: Mapped[bytes] = mapped_column(LargeBinary)  # sealed
    model_id: Mapped[str] = mapped_column(String(100))


class AlertRow(Base):
    __tablename__ = "alerts"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    deployment_id: Mapped[str] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), index=True
    )
    camera: Mapped[str] = mapped_column(String(100))
    track_id: Mapped[str | None] = mapped_column(String(100))
    subject_id: Mapped[str | None] = mapped_column(ForeignKey("subjects.id", ondelete="SET NULL"))
    reference_image_id: Mapped[str | None] = mapped_column(ID)
    score: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)  # the threshold in force when it fired
    at: Mapped[datetime] = mapped_column(TS, index=True)
    live_image: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed
    verdict: Mapped[str | None] = mapped_column(String(20))
    outcome: Mapped[str | None] = mapped_column(String(40))
    media_purged_at: Mapped[datetime | None] = mapped_column(TS)
    evidence_purged_at: Mapped[datetime | None] = mapped_column(TS)


class AlertDecisionRow(Base):
    """Every adjudication and outcome, overrides included, in order."""

    __tablename__ = "alert_decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "adjudication" | "outcome"
    value: Mapped[str] = mapped_column(String(40))
    by: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(TS)
    override_reason: Mapped[str | None] = mapped_column(Text)


class FaceCountRow(Base):
    """Faces seen, as counts only: the pipeline reports how many, never who."""

    __tablename__ = "face_counts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deployment_id: Mapped[str] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), index=True
    )
    camera: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(TS)
    faces_seen: Mapped[int] = mapped_column(Integer)


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(TS)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50), index=True)
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHeadRow(Base):
    """One row: the newest event's seq and hash. Appends lock it, so the chain cannot fork;
    verify compares with it, so deleting the newest events is caught."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


# Every sealed column, for key rotation: (model, column, nullable).
SEALED_COLUMNS: tuple[tuple[type[Base], str], ...] = (
    (ReferenceImageRow, "image"),
    (ReferenceImageRow, "template"),
    (SnapshotEntryRow, "template"),
    (AlertRow, "live_image"),
    (CameraSourceRow, "source"),
)


def seal_context(model: type[Base], column: str, row_id: str) -> str:
    """The associated data binding a blob to its table, column and row."""
    return f"{model.__tablename__}.{column}:{row_id}"
