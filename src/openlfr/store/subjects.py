"""Subjects and their reference images. Images and templates are sealed; every view is audited."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy import select

from openlfr.domain.audit import Action
from openlfr.domain.clock import as_utc, utcnow
from openlfr.domain.errors import SubjectError
from openlfr.domain.subjects import ReferenceImageInfo, Subject
from openlfr.errors import ImageError
from openlfr.store import audit
from openlfr.store.base import Repository, template_bytes
from openlfr.store.models import ReferenceImageRow, SubjectRow, new_id

_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def _to_subject(row: SubjectRow) -> Subject:
    return Subject(
        id=row.id,
        display_name=row.display_name,
        category=row.category,
        offence=row.offence,
        added_by=row.added_by,
        expires_at=as_utc(row.expires_at),
        created_at=as_utc(row.created_at),
        images=tuple(
            ReferenceImageInfo(i.image_source, i.legal_basis, i.added_by) for i in row.images
        ),
    )


class SubjectRepo(Repository):
    def add(self, subject: Subject, actor: str) -> str:
        """Store a new subject (validated by the domain type); returns its id."""
        now = utcnow()
        Subject(**{**subject.__dict__, "created_at": now})  # expiry must be in the future
        with self.db.transaction() as s:
            row = SubjectRow(
                id=subject.id or new_id(),
                display_name=subject.display_name,
                category=subject.category.value,
                offence=subject.offence,
                added_by=subject.added_by,
                created_at=now,
                expires_at=subject.expires_at,
            )
            s.add(row)
            s.flush()
            audit.append(
                s, actor, Action.CREATE, "subject", row.id,
                {"category": row.category, "expires_at": row.expires_at.isoformat()},
            )  # fmt: skip
            return row.id

    def add_image(
        self,
        subject_id: str,
        image: bytes,
        info: ReferenceImageInfo,
        actor: str,
        template: np.ndarray | None = None,
        model_id: str | None = None,
    ) -> str:
        """Attach an encoded JPEG/PNG reference image (and optionally its template)."""
        image = bytes(image)
        if not image.startswith(_IMAGE_MAGIC):
            raise ImageError("a reference image must be an encoded JPEG or PNG")
        if (template is None) != (model_id is None):
            raise SubjectError("a template needs its model id (and a model id its template)")
        try:
            tbytes = None if template is None else template_bytes(template)
        except ValueError as exc:
            raise SubjectError(str(exc)) from None
        with self.db.transaction() as s:
            self._get(s, SubjectRow, subject_id, "subject")
            image_id = new_id()
            s.add(
                ReferenceImageRow(
                    id=image_id,
                    subject_id=subject_id,
                    image=self._seal(ReferenceImageRow, "image", image_id, image),
                    template=None
                    if tbytes is None
                    else self._seal(ReferenceImageRow, "template", image_id, tbytes),
                    model_id=model_id,
                    image_source=info.image_source,
                    legal_basis=info.legal_basis,
                    added_by=info.added_by,
                )
            )
            s.flush()
            audit.append(
                s, actor, Action.CREATE, "reference_image", image_id,
                {"subject_id": subject_id, "image_source": info.image_source,
                 "legal_basis": info.legal_basis, "has_template": tbytes is not None},
            )  # fmt: skip
            return image_id

    def get(self, subject_id: str) -> Subject:
        with self.db.transaction() as s:
            return _to_subject(self._get(s, SubjectRow, subject_id, "subject"))

    def image_ids(self, subject_id: str) -> list[str]:
        with self.db.transaction() as s:
            self._get(s, SubjectRow, subject_id, "subject")
            return list(
                s.scalars(
                    select(ReferenceImageRow.id)
                    .where(ReferenceImageRow.subject_id == subject_id)
                    .order_by(ReferenceImageRow.added_at)
                )
            )

    def view_image(self, image_id: str, actor: str, purpose: str) -> bytes:
        """The decrypted reference image. Viewing biometric data is audited, with a purpose."""
        if not (purpose or "").strip():
            raise SubjectError("viewing a reference image needs a stated purpose")
        with self.db.transaction() as s:
            row = self._get(s, ReferenceImageRow, image_id, "reference image")
            data = self._open(ReferenceImageRow, "image", row.id, row.image)
            audit.append(
                s, actor, Action.VIEW_BIOMETRIC, "reference_image", image_id,
                {"subject_id": row.subject_id, "purpose": purpose.strip()},
            )  # fmt: skip
            return data

    def delete(self, subject_id: str, actor: str, reason: str) -> None:
        with self.db.transaction() as s:
            row = self._get(s, SubjectRow, subject_id, "subject")
            images = len(row.images)
            s.delete(row)
            audit.append(
                s, actor, Action.DELETE, "subject", subject_id,
                {"reason": reason, "images_deleted": images},
            )  # fmt: skip

    def expired(self, now: datetime | None = None) -> list[str]:
        now = as_utc(now or utcnow())
        with self.db.transaction() as s:
            return list(s.scalars(select(SubjectRow.id).where(SubjectRow.expires_at <= now)))
