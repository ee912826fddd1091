"""What goes wrong when a tracer works the queue: each is a DomainError, so it rolls back and is shown."""
from tts.errors import DomainError


class ClaimConflict(DomainError):
    """The item is held by someone else, or is no longer in the queue."""


class WorkItemNotFound(DomainError):
    """No work item has this id."""

    http_status = 404


class NotClaimHolder(DomainError):
    """The caller does not hold the claim (never had it, or it was reassigned or taken after expiry)."""
