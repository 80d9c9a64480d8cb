"""The accountable service's rules as plain Python: no SQL, no HTTP.

Subjects and watchlists, deployments and their states, alerts and adjudication,
retention, the audit chain and deployment records. `openlfr.store` persists them.
"""

from openlfr.domain.alerts import Adjudication, Alert, AlertEvent, Outcome, Verdict
from openlfr.domain.audit import AuditEvent, ChainBreak, verify_chain
from openlfr.domain.deployments import Deployment, DeploymentState
from openlfr.domain.errors import (
    AdjudicationError,
    DeploymentStateError,
    DomainError,
    NotFoundError,
    SubjectError,
)
from openlfr.domain.records import DeploymentRecord, compute_record
from openlfr.domain.retention import RetentionPolicy
from openlfr.domain.subjects import Category, ReferenceImageInfo, Subject

__all__ = [
    "Adjudication",
    "AdjudicationError",
    "Alert",
    "AlertEvent",
    "AuditEvent",
    "Category",
    "ChainBreak",
    "Deployment",
    "DeploymentRecord",
    "DeploymentState",
    "DeploymentStateError",
    "DomainError",
    "NotFoundError",
    "Outcome",
    "ReferenceImageInfo",
    "RetentionPolicy",
    "Subject",
    "SubjectError",
    "Verdict",
    "compute_record",
    "verify_chain",
]
