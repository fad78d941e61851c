"""Import every model so Alembic and the app see the whole schema."""

from caseapp.accounts.models import ApiToken, LoginThrottle, Organization, User
from caseapp.audit.models import AuditEvent
from caseapp.core.idempotency import IdempotencyRecord
from caseapp.directory.models import CodeLabel, Region, Service
from caseapp.screening.models import Case, Person, Screening

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Case",
    "CodeLabel",
    "IdempotencyRecord",
    "LoginThrottle",
    "Organization",
    "Person",
    "Region",
    "Screening",
    "Service",
    "User",
]
