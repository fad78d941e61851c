"""Import every model so Alembic and the app see the whole schema."""

from caseapp.accounts.models import ApiToken, LoginThrottle, Organization, RecoveryCode, User
from caseapp.audit.models import AuditEvent
from caseapp.audit.notes import AuditNote
from caseapp.core.idempotency import IdempotencyRecord
from caseapp.directory.models import CodeLabel, Region, Service
from caseapp.exchange.models import ExchangeRecord
from caseapp.facts.models import (
    LinkageBlock,
    LinkageFrequency,
    LinkageModel,
    LinkageRecord,
    ScreeningFact,
    ScreeningFactPurpose,
)
from caseapp.imports.models import ImportBatch, ImportRecord
from caseapp.referrals.models import Consent, GapRecord, Referral, ReferralEvent
from caseapp.screening.models import Case, Person, Screening
from caseapp.shelters.models import Admission

__all__ = [
    "Admission",
    "ApiToken",
    "AuditEvent",
    "AuditNote",
    "Case",
    "CodeLabel",
    "Consent",
    "ExchangeRecord",
    "GapRecord",
    "IdempotencyRecord",
    "ImportBatch",
    "ImportRecord",
    "LinkageBlock",
    "LinkageFrequency",
    "LinkageModel",
    "LinkageRecord",
    "LoginThrottle",
    "Organization",
    "Person",
    "RecoveryCode",
    "Referral",
    "ReferralEvent",
    "Region",
    "Screening",
    "ScreeningFact",
    "ScreeningFactPurpose",
    "Service",
    "User",
]
