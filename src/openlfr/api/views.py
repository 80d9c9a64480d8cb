"""Domain objects as JSON for responses (never an image or a template)."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from openlfr.domain.audit import AuditEvent
from openlfr.domain.deployments import Deployment
from openlfr.domain.records import DeploymentRecord
from openlfr.domain.subjects import Subject
from openlfr.store.listing import AlertView, WatchlistInfo


def _t(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def subject_json(s: Subject, image_ids: list[str] | None = None) -> dict:
    out = {
        "id": s.id,
        "display_name": s.display_name,
        "category": s.category.value,
        "offence": s.offence,
        "added_by": s.added_by,
        "created_at": _t(s.created_at),
        "expires_at": _t(s.expires_at),
        "images": [
            {"image_source": i.image_source, "legal_basis": i.legal_basis, "added_by": i.added_by}
            for i in s.images
        ],
    }
    if image_ids is not None:
        for info, image_id in zip(out["images"], image_ids, strict=False):
            info["id"] = image_id
    return out


def watchlist_json(w: WatchlistInfo, members: list[str] | None = None) -> dict:
    out = {
        "id": w.id,
        "name": w.name,
        "created_by": w.created_by,
        "created_at": _t(w.created_at),
        "members": w.members,
    }
    if members is not None:
        out["subject_ids"] = members
    return out


def deployment_json(d: Deployment, sources: dict[str, str] | None = None) -> dict:
    """`sources`: camera -> its source, already redacted (never the sealed URL)."""
    out = {
        "id": d.id,
        "name": d.name,
        "state": d.state.value,
        "location": d.location,
        "borough": d.borough,
        "use_case": d.use_case,
        "start": _t(d.planned_start),
        "end": _t(d.planned_end),
        "cameras": list(d.cameras),
        "threshold": d.threshold,
        "watchlist_id": d.watchlist_id,
        "created_by": d.created_by,
        "created_at": _t(d.created_at),
        "authorising_officer": d.authorising_officer,
        "authorised_at": _t(d.authorised_at),
        "live_at": _t(d.live_at),
        "closed_at": _t(d.closed_at),
        "cancelled_at": _t(d.cancelled_at),
        "cancel_reason": d.cancel_reason,
        "snapshot_built_at": _t(d.snapshot_built_at),
        "snapshot_delete_by": _t(d.snapshot_delete_by),
    }
    if sources is not None:
        out["sources"] = {c: sources[c] for c in d.cameras if c in sources}
    return out


def alert_json(v: AlertView) -> dict:
    a = v.alert
    return {
        "id": a.id,
        "deployment_id": a.deployment_id,
        "camera": a.camera,
        "track_id": a.track_id,
        "subject_id": a.subject_id,
        "subject_name": v.subject_name,
        "subject_category": v.subject_category,
        "score": round(float(a.score), 4),
        "threshold": v.threshold,
        "at": _t(a.at),
        "has_image": v.has_image,
        "verdict": None if a.verdict is None else a.verdict.value,
        "outcome": None if a.outcome is None else a.outcome.value,
        "adjudications": [
            {"verdict": x.verdict.value, "by": x.by, "at": _t(x.at),
             "override_reason": x.override_reason}
            for x in a.adjudications
        ],
        "outcomes": [
            {"outcome": x.outcome.value, "by": x.by, "at": _t(x.at),
             "override_reason": x.override_reason}
            for x in a.outcomes
        ],
    }  # fmt: skip


def audit_json(e: AuditEvent) -> dict:
    return {
        "seq": e.seq,
        "at": _t(e.at),
        "actor": e.actor,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "details": dict(e.details),
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def record_csv(record: DeploymentRecord) -> str:
    row = record.as_dict()
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(row), lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    return buf.getvalue()
