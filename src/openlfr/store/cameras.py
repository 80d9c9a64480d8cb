"""Camera sources of deployments: sealed at rest, shown only redacted.

The pipeline supervisor opens the sources (`sources`); everything else sees `displays`.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.domain.audit import Action
from openlfr.domain.cameras import check_sources, display
from openlfr.domain.deployments import DeploymentState
from openlfr.domain.errors import DeploymentStateError
from openlfr.store import audit
from openlfr.store.base import Repository
from openlfr.store.models import CameraSourceRow, DeploymentRow, new_id

_EDITABLE = {DeploymentState.PLANNED.value, DeploymentState.AUTHORISED.value}


def write_sources(
    repo: Repository, s: Session, row: DeploymentRow, sources: Mapping[str, str]
) -> dict[str, str]:
    """Add or replace sources of `row`'s cameras inside the caller's transaction; returns
    the redacted forms (for the audit event)."""
    checked = check_sources(tuple(row.cameras), dict(sources))
    existing = {
        r.camera: r
        for r in s.scalars(select(CameraSourceRow).where(CameraSourceRow.deployment_id == row.id))
    }
    shown = {}
    for camera, url in checked.items():
        found = existing.get(camera)
        if found is None:
            found = CameraSourceRow(id=new_id(), deployment_id=row.id, camera=camera)
            s.add(found)
        found.source = repo._seal(CameraSourceRow, "source", found.id, url.encode("utf-8"))
        found.display = display(url)[:2000]
        shown[camera] = found.display
    return shown


class CameraRepo(Repository):
    def set_sources(self, deployment_id: str, sources: Mapping[str, str], actor: str) -> None:
        """Set where cameras are read from, before the deployment goes live."""
        with self.db.transaction() as s:
            row = self._get(s, DeploymentRow, deployment_id, "deployment")
            if row.state not in _EDITABLE:
                raise DeploymentStateError(f"cannot change the cameras of a {row.state} deployment")
            shown = write_sources(self, s, row, sources)
            audit.append(s, actor, Action.UPDATE, "deployment", deployment_id, {"sources": shown})

    def displays(self, deployment_id: str) -> dict[str, str]:
        """camera -> its source, redacted (what the API and CLI show)."""
        with self.db.transaction() as s:
            return dict(
                s.execute(
                    select(CameraSourceRow.camera, CameraSourceRow.display).where(
                        CameraSourceRow.deployment_id == deployment_id
                    )
                ).all()
            )

    def sources(self, deployment_id: str) -> dict[str, str]:
        """camera -> its source in full (credentials included): for opening the stream only.
        Never log or return these; show `displays` instead."""
        with self.db.transaction() as s:
            rows = s.scalars(
                select(CameraSourceRow).where(CameraSourceRow.deployment_id == deployment_id)
            ).all()
            return {
                r.camera: self._open(CameraSourceRow, "source", r.id, r.source).decode("utf-8")
                for r in rows
            }
