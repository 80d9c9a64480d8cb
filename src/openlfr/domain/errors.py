"""Typed errors for the service's rules; each is a user error the CLI/API reports in one line."""

from openlfr.errors import OpenLFRError


class DomainError(OpenLFRError):
    """A request that breaks one of the service's rules."""


class NotFoundError(DomainError):
    """An unknown subject, watchlist, deployment or alert."""


class SubjectError(DomainError):
    """A subject or reference image that lacks what the law requires (category, source, basis)."""


class DeploymentStateError(DomainError):
    """An illegal deployment transition (e.g. going live unauthorised or outside its window)."""


class AdjudicationError(DomainError):
    """An alert adjudicated twice without an override, or an outcome before adjudication."""


class RetentionError(DomainError):
    """A bad retention period."""
